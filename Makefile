# blkemu — non-recursive Makefile.
#
#   make              build build/blkemu (runs ./configure first if needed)
#   make check        install test dependencies (as root), build, run every test
#   make check-sanitizers   the unit and CLI tests in an ASan/UBSan build
#   make diff         the CPU against QEMU 7.2; make fuzz-cpu DURATION=1h
#   make run          build blkemu and the guest kit, boot Linux
#   make install PREFIX=/usr/local
#
# BUILD=dir selects the build directory (default build/).

BUILD ?= build

ifeq ($(wildcard config.mk),)
$(info config.mk missing: running ./configure)
$(shell ./configure >&2)
endif
-include config.mk

# A configure newer than config.mk (an update added a dependency) runs
# again, with the arguments config.mk's first line recorded; make then
# restarts with the new config.mk.
.DEFAULT_GOAL := all
config.mk: configure
	@echo "configure changed since config.mk: running ./configure again" >&2
	@./configure $(shell sed -n '1s/^\# Written by \.\/configure//p' config.mk)

CFLAGS_ALL = -std=gnu11 $(OPT) $(SAN) -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -pthread -I. -MMD -MP $(FDT_CFLAGS) $(URING_CFLAGS) $(JSON_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SAN) -pthread $(LDFLAGS)
LIBS_ALL = $(FDT_LIBS) $(URING_LIBS) $(AIO_LIBS) $(JSON_LIBS) -lm

LIB_SRCS := $(sort $(wildcard util/*.c block/*.c cpu/*.c hw/*.c boards/*.c firmware/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

.PHONY: all check check-sanitizers diff fuzz-cpu unit run install clean guest-kit deps
all: $(BUILD)/blkemu

$(BUILD)/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libblkemu.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/blkemu: $(MAIN_OBJ) $(BUILD)/libblkemu.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libblkemu.a config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CRITERION_CFLAGS) -MF $@.d $< -o $@ \
		$(LDFLAGS_ALL) $(BUILD)/libblkemu.a $(CRITERION_LIBS) $(LIBS_ALL)

unit: $(UNIT_BINS)

deps:
	@scripts/deps.sh --install build test guest ref bench

check: deps
	@$(MAKE) --no-print-directory all unit
	@BUILD=$(BUILD) scripts/check.sh

# The CPU against QEMU 7.2 (tests/diff); fuzz-cpu runs fresh random seeds
# for DURATION (default 10m), stopping at the first divergence.
diff: all
	@BUILD=$(BUILD) tests/diff/run.sh
fuzz-cpu: all
	@BUILD=$(BUILD) tests/diff/run.sh --fuzz $(or $(DURATION),10m)

# The ASan/UBSan build in build-asan/, running the unit and CLI tiers.
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
check-sanitizers:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN="$(SAN_FLAGS)" all unit
	@BUILD=build-asan TIERS="unit cli" scripts/check.sh

run: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/run.sh $(ARGS)

guest-kit:
	@scripts/guest-kit.sh

# ---- bench (issue 6) -------------------------------------------------------
# make bench: blkemu, QEMU 7.2 and the host on the same backing file; writes
# build/bench/results.json and docs/performance.md. make bench-quick: a
# reduced matrix in under 5 minutes (build/bench/quick/). More options:
# make bench BENCH_ARGS="--device virtio --reps 5" (scripts/bench.py --help).
.PHONY: bench bench-quick
bench:
	@BUILD=$(BUILD) BENCH_MAKE_TARGET=bench scripts/bench.py $(BENCH_ARGS)
bench-quick:
	@BUILD=$(BUILD) BENCH_MAKE_TARGET=bench-quick scripts/bench.py --quick $(BENCH_ARGS)
# ---- end bench ---------------------------------------------------------------

install: $(BUILD)/blkemu
	install -D -m 755 $(BUILD)/blkemu $(DESTDIR)$(PREFIX)/bin/blkemu

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
