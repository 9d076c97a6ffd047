#!/bin/sh
# scripts/check.sh — run every test tier and end with one summary line.
#
# Tiers: unit (Criterion binaries), cli (bad command lines), diff (the CPU
# against QEMU), guest (boot Linux). Each tier prints its own results; this
# script adds them up. Set TIERS="unit cli" to run a subset.
BUILD=${BUILD:-build}
export BUILD
# For sanitizer builds: Criterion's runner leaks a little on its own.
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}
export LSAN_OPTIONS
TIERS=${TIERS:-unit cli diff guest}
pass=0 fail=0 skip=0
failed_tiers=""

# Add a tier's "N passed, N failed" (plain) line to the totals.
tally() {
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        fail=$((fail + 1))
        return
    fi
    p=${line%% passed*}
    f=${line#*passed, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
}

log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

for tier in $TIERS; do
    echo "=== $tier tests"
    case $tier in
    unit)
        # No binaries means nobody built them (make unit): a tier that ran
        # nothing must not read as passed.
        if ! ls "$BUILD"/tests/unit/* 2>/dev/null | grep -qv '\.d$'; then
            echo "FAIL: no unit test binaries under $BUILD/tests/unit (run make unit)"
            failed_tiers="$failed_tiers unit"
            fail=$((fail + 1))
        fi
        for t in "$BUILD"/tests/unit/*; do
            case "$t" in *.d) continue ;; esac
            [ -x "$t" ] || continue
            "$t" --jobs=2 >"$log" 2>&1
            rc=$?
            cat "$log"
            line=$(grep 'Synthesis: Tested' "$log" | tail -n 1)
            if [ -z "$line" ] || [ $rc -ne 0 ]; then
                echo "FAIL: $t (exit $rc)"
                failed_tiers="$failed_tiers unit"
            fi
            if [ -n "$line" ]; then
                p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
                f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
                c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
                pass=$((pass + p)); fail=$((fail + f + c))
            else
                fail=$((fail + 1))
            fi
        done
        ;;
    cli)
        python3 tests/cli/run.py >"$log" 2>&1 || failed_tiers="$failed_tiers cli"
        cat "$log"; tally "$log"
        ;;
    diff)
        if [ -x tests/diff/run.sh ]; then
            tests/diff/run.sh >"$log" 2>&1 || failed_tiers="$failed_tiers diff"
            tail -n 40 "$log"; tally "$log"
        fi
        ;;
    guest)
        # The guest kit (kernel, busybox, fio) is cached under ~/.cache/blkemu
        # keyed by its inputs: the first run builds the kernel (~12 min).
        if ! scripts/guest-kit.sh >"$log" 2>&1; then
            tail -n 40 "$log"
            echo "FAIL: scripts/guest-kit.sh could not build the guest kit"
            failed_tiers="$failed_tiers guest"; fail=$((fail + 1))
            continue
        fi
        tests/guest/run.sh >"$log" 2>&1 || failed_tiers="$failed_tiers guest"
        cat "$log"; tally "$log"
        # The control socket driven by a real client (issue 7).
        tests/qmp/run.sh >"$log" 2>&1 || failed_tiers="$failed_tiers guest"
        cat "$log"; tally "$log"
        # make bench's bad-input paths: no QEMU, a dying emulator (issue 6).
        tests/bench/benchtest.py >"$log" 2>&1 || failed_tiers="$failed_tiers guest"
        cat "$log"; tally "$log"
        ;;
    esac
done
[ -n "$failed_tiers" ] && echo "failing tiers:$failed_tiers"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ -z "$failed_tiers" ]
