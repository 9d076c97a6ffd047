/*
 * tests/unit/clint.c — CLINT register semantics through its mmio_ops: MSIP
 * drives IRQ_MSI of the right hart, mtimecmp in 4- and 8-byte accesses,
 * mtime follows the 10 MHz timebase and ignores writes, bad widths fault,
 * harts past nharts read 0.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "hw/clint.h"
#include "hw/machine.h"
#include "util/clock.h"

/* Fake harts: the real ones live in cpu/. */
struct hart {
    unsigned id;
    uint64_t mip;
    uint64_t mtimecmp;
    unsigned irq_calls;
};

void hart_set_irq(struct hart *h, unsigned irq, bool level)
{
    h->irq_calls++;
    if (level)
        h->mip |= 1ull << irq;
    else
        h->mip &= ~(1ull << irq);
}

void hart_set_mtimecmp(struct hart *h, uint64_t val)
{
    h->mtimecmp = val;
}

uint64_t hart_get_mtimecmp(const struct hart *h)
{
    return h->mtimecmp;
}

void hart_kick(struct hart *h) {}
void hart_stop(struct hart *h) {}

static struct hart harts[2] = { { .id = 0 }, { .id = 1 } };
static struct machine mach;
static struct clint *clint;

static void setup(void)
{
    clock_timebase_init();
    mach.nharts = 2;
    mach.harts[0] = &harts[0];
    mach.harts[1] = &harts[1];
    clint = clint_new(&mach);
    cr_assert(clint);
}

static void teardown(void)
{
    clint_free(clint);
}

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeef;
    cr_assert(clint_mmio_ops.read(clint, off, size, &v), "read +0x%llx/%u",
              (unsigned long long)off, size);
    return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
    cr_assert(clint_mmio_ops.write(clint, off, size, v), "write +0x%llx/%u",
              (unsigned long long)off, size);
}

TestSuite(clint, .init = setup, .fini = teardown);

Test(clint, msip_drives_msi_of_its_hart)
{
    wr(CLINT_MSIP + 4, 4, 1);
    cr_assert_eq(harts[1].mip, 1ull << IRQ_MSI);
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(rd(CLINT_MSIP + 4, 4), 1);
    cr_assert_eq(rd(CLINT_MSIP, 4), 0);
    /* Only bit 0 exists. */
    wr(CLINT_MSIP + 4, 4, 0xfffffffe);
    cr_assert_eq(harts[1].mip, 0);
    cr_assert_eq(rd(CLINT_MSIP + 4, 4), 0);
    wr(CLINT_MSIP, 4, 3);
    cr_assert_eq(harts[0].mip, 1ull << IRQ_MSI);
    cr_assert_eq(rd(CLINT_MSIP, 4), 1);
    clint_reset(clint);
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(rd(CLINT_MSIP, 4), 0);
}

Test(clint, msip_of_missing_hart_reads_zero_ignores_writes)
{
    wr(CLINT_MSIP + 4 * 2, 4, 1);
    cr_assert_eq(rd(CLINT_MSIP + 4 * 2, 4), 0);
    wr(CLINT_MSIP + 4 * 4094, 4, 1);
    cr_assert_eq(rd(CLINT_MSIP + 4 * 4094, 4), 0);
    cr_assert_eq(harts[0].irq_calls + harts[1].irq_calls, 0);
}

Test(clint, msip_refuses_other_widths_and_misalignment)
{
    uint64_t v;
    cr_assert(!clint_mmio_ops.read(clint, CLINT_MSIP, 8, &v));
    cr_assert(!clint_mmio_ops.write(clint, CLINT_MSIP, 1, 1));
    cr_assert(!clint_mmio_ops.write(clint, CLINT_MSIP + 2, 4, 1));
    cr_assert_eq(harts[0].irq_calls, 0);
}

Test(clint, mtimecmp_8_byte)
{
    wr(CLINT_MTIMECMP + 8, 8, 0x1122334455667788ull);
    cr_assert_eq(harts[1].mtimecmp, 0x1122334455667788ull);
    cr_assert_eq(harts[0].mtimecmp, 0);
    cr_assert_eq(rd(CLINT_MTIMECMP + 8, 8), 0x1122334455667788ull);
}

Test(clint, mtimecmp_4_byte_halves)
{
    harts[0].mtimecmp = ~0ull;
    wr(CLINT_MTIMECMP + 0, 4, 0xaabbccdd);
    cr_assert_eq(harts[0].mtimecmp, 0xffffffffaabbccddull);
    wr(CLINT_MTIMECMP + 4, 4, 0x00000012);
    cr_assert_eq(harts[0].mtimecmp, 0x00000012aabbccddull);
    cr_assert_eq(rd(CLINT_MTIMECMP + 0, 4), 0xaabbccdd);
    cr_assert_eq(rd(CLINT_MTIMECMP + 4, 4), 0x12);
    /* The value written is zero-extended from 32 bits. */
    wr(CLINT_MTIMECMP + 0, 4, 0xffffffff00000001ull);
    cr_assert_eq(harts[0].mtimecmp, 0x0000001200000001ull);
}

Test(clint, mtimecmp_of_missing_hart)
{
    wr(CLINT_MTIMECMP + 8 * 2, 8, 5);
    cr_assert_eq(rd(CLINT_MTIMECMP + 8 * 2, 8), 0);
    cr_assert_eq(harts[0].mtimecmp + harts[1].mtimecmp, 0);
}

Test(clint, mtime_counts_at_timebase_and_ignores_writes)
{
    uint64_t a = rd(CLINT_MTIME, 8);
    usleep(20000);
    uint64_t b = rd(CLINT_MTIME, 8);
    /* 20 ms at 10 MHz is 200000 ticks; allow a slow machine. */
    cr_assert_geq(b - a, 200000);
    cr_assert_lt(b - a, 200000 * 50);
    uint64_t lo = rd(CLINT_MTIME, 4), hi = rd(CLINT_MTIME + 4, 4);
    cr_assert_leq(lo | hi << 32, clock_mtime());
    cr_assert_geq((hi << 32) | lo, b);
    wr(CLINT_MTIME, 8, 0);
    cr_assert_geq(rd(CLINT_MTIME, 8), b);
}

Test(clint, reserved_space_reads_zero)
{
    cr_assert_eq(rd(0xc000, 8), 0);
    cr_assert_eq(rd(0xfff8, 4), 0);
    wr(0xc000, 8, 1);
}

Test(clint, mtimecmp_refuses_small_and_misaligned)
{
    uint64_t v;
    cr_assert(!clint_mmio_ops.read(clint, CLINT_MTIMECMP, 2, &v));
    cr_assert(!clint_mmio_ops.write(clint, CLINT_MTIMECMP + 4, 8, 1));
    cr_assert(!clint_mmio_ops.read(clint, CLINT_MTIME + 1, 1, &v));
    cr_assert_eq(harts[0].mtimecmp, 0);
}
