/*
 * hw/sifive_test.c — the SiFive test finisher (see sifive_test.h).
 */
#include "hw/sifive_test.h"

#include <stdlib.h>

#include "hw/machine.h"
#include "util/log.h"

struct sifive_test {
    struct machine *m;
};

struct sifive_test *sifive_test_new(struct machine *m)
{
    struct sifive_test *t = calloc(1, sizeof(*t));
    if (t)
        t->m = m;
    return t;
}

void sifive_test_free(struct sifive_test *t)
{
    free(t);
}

static bool sifive_test_read(void *opaque, uint64_t off, unsigned size,
                             uint64_t *val)
{
    *val = 0;
    return true;
}

static bool sifive_test_write(void *opaque, uint64_t off, unsigned size,
                              uint64_t val)
{
    struct sifive_test *t = opaque;
    /* 16-bit writes are accepted too (QEMU does): the command is in the
     * low half, a failure code then reads as 0. */
    if (off != 0 || size < 2) {
        log_guest_error("sifive_test: %u-byte write at +0x%llx ignored", size,
                        (unsigned long long)off);
        return true;
    }
    uint32_t v = (uint32_t)val;
    unsigned code = size == 2 ? 0 : v >> 16;
    switch (v & 0xffff) {
    case SIFIVE_TEST_PASS:
        machine_request_exit(t->m, MACHINE_POWEROFF, 0);
        break;
    case SIFIVE_TEST_RESET:
        machine_request_exit(t->m, MACHINE_RESET, 0);
        break;
    case SIFIVE_TEST_FAIL:
        machine_request_exit(t->m, MACHINE_FAIL, (int)code);
        break;
    default:
        log_guest_error("sifive_test: unknown command 0x%x ignored", v);
        break;
    }
    return true;
}

const struct mmio_ops sifive_test_mmio_ops = {
    .read = sifive_test_read,
    .write = sifive_test_write,
};
