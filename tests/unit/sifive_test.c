/*
 * tests/unit/sifive_test.c — the test finisher's three commands reach
 * machine_request_exit with the right reason and code; anything else is
 * ignored; reads return 0.
 */
#include <criterion/criterion.h>

#include "hw/machine.h"
#include "hw/sifive_test.h"

/* machine.c stops harts; there are none here. */
void hart_stop(struct hart *h) {}
void hart_set_irq(struct hart *h, unsigned irq, bool level) {}
void hart_set_mtimecmp(struct hart *h, uint64_t val) {}
uint64_t hart_get_mtimecmp(const struct hart *h) { return 0; }
void hart_kick(struct hart *h) {}

static int notified;

static void notify(struct machine *m)
{
    notified++;
}

static struct machine mach = { .exit_notify = notify };
static struct sifive_test *dev;

static void setup(void)
{
    dev = sifive_test_new(&mach);
    cr_assert(dev);
}

static void teardown(void)
{
    sifive_test_free(dev);
}

TestSuite(sifive_test, .init = setup, .fini = teardown);

static void wr(uint64_t off, unsigned size, uint64_t v)
{
    cr_assert(sifive_test_mmio_ops.write(dev, off, size, v));
}

Test(sifive_test, pass_powers_off)
{
    wr(0, 4, 0x5555);
    cr_assert_eq(mach.exit_reason, MACHINE_POWEROFF);
    cr_assert_eq(mach.exit_code, 0);
    cr_assert_eq(notified, 1);
}

Test(sifive_test, reset)
{
    wr(0, 4, 0x7777);
    cr_assert_eq(mach.exit_reason, MACHINE_RESET);
    cr_assert_eq(notified, 1);
}

Test(sifive_test, fail_carries_code)
{
    wr(0, 4, (42u << 16) | 0x3333);
    cr_assert_eq(mach.exit_reason, MACHINE_FAIL);
    cr_assert_eq(mach.exit_code, 42);
    cr_assert_eq(notified, 1);
}

Test(sifive_test, fail_with_largest_code)
{
    wr(0, 4, 0xffff3333);
    cr_assert_eq(mach.exit_reason, MACHINE_FAIL);
    cr_assert_eq(mach.exit_code, 0xffff);
}

Test(sifive_test, other_values_offsets_and_widths_are_ignored)
{
    wr(0, 4, 0x1234);
    wr(0, 4, 0x5556);
    wr(4, 4, 0x5555);
    wr(0, 1, 0x55);
    cr_assert_eq(mach.exit_reason, MACHINE_RUNNING);
    cr_assert_eq(notified, 0);
    uint64_t v = 1;
    cr_assert(sifive_test_mmio_ops.read(dev, 0, 4, &v));
    cr_assert_eq(v, 0);
}

Test(sifive_test, first_request_wins)
{
    wr(0, 4, (3u << 16) | 0x3333);
    wr(0, 4, 0x5555);
    cr_assert_eq(mach.exit_reason, MACHINE_FAIL);
    cr_assert_eq(mach.exit_code, 3);
}
