/*
 * tests/unit/plic.c — PLIC register semantics through its mmio_ops:
 * priorities (3 bits, source 0 hardwired), read-only pending bits,
 * per-context enables and thresholds, claim order (priority, then lowest
 * id), completion, level-triggered re-pending, and routing of context 2h to
 * hart h's IRQ_MEI and 2h+1 to its IRQ_SEI.
 */
#include <criterion/criterion.h>

#include "hw/machine.h"
#include "hw/plic.h"

struct hart {
    uint64_t mip;
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

void hart_set_mtimecmp(struct hart *h, uint64_t val) {}
uint64_t hart_get_mtimecmp(const struct hart *h) { return 0; }
void hart_kick(struct hart *h) {}
void hart_stop(struct hart *h) {}

static struct hart harts[2];
static struct machine mach;
static struct plic *plic;

#define MEIP (1ull << IRQ_MEI)
#define SEIP (1ull << IRQ_SEI)

static void setup(void)
{
    mach.nharts = 2;
    mach.harts[0] = &harts[0];
    mach.harts[1] = &harts[1];
    plic = plic_new(&mach, PLIC_VIRT_SOURCES);
    cr_assert(plic);
}

static void teardown(void)
{
    plic_free(plic);
}

TestSuite(plic, .init = setup, .fini = teardown);

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    cr_assert(plic_mmio_ops.read(plic, off, 4, &v), "read +0x%llx",
              (unsigned long long)off);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    cr_assert(plic_mmio_ops.write(plic, off, 4, v), "write +0x%llx",
              (unsigned long long)off);
}

static void set_prio(unsigned src, uint32_t prio)
{
    wr(PLIC_PRIORITY + 4 * src, prio);
}

static void enable(unsigned ctx, unsigned src)
{
    uint64_t off = PLIC_ENABLE + PLIC_ENABLE_STRIDE * ctx + 4 * (src / 32);
    wr(off, rd(off) | 1u << (src % 32));
}

static void threshold(unsigned ctx, uint32_t t)
{
    wr(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx, t);
}

static uint32_t claim(unsigned ctx)
{
    return rd(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx + 4);
}

static void complete(unsigned ctx, uint32_t src)
{
    wr(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx + 4, src);
}

Test(plic, priority_is_three_bits_and_source0_is_hardwired)
{
    set_prio(5, 0xffffffff);
    cr_assert_eq(rd(PLIC_PRIORITY + 4 * 5), 7);
    set_prio(5, 3);
    cr_assert_eq(rd(PLIC_PRIORITY + 4 * 5), 3);
    set_prio(0, 7);
    cr_assert_eq(rd(PLIC_PRIORITY), 0);
    /* Past the last source (95): reads 0. */
    set_prio(96, 7);
    cr_assert_eq(rd(PLIC_PRIORITY + 4 * 96), 0);
    cr_assert_eq(rd(PLIC_PRIORITY + 4 * 1023), 0);
}

Test(plic, enable_bits_mask_nonexistent_sources)
{
    wr(PLIC_ENABLE, 0xffffffff);
    cr_assert_eq(rd(PLIC_ENABLE), 0xfffffffe);      /* source 0 */
    wr(PLIC_ENABLE + 8, 0xffffffff);
    cr_assert_eq(rd(PLIC_ENABLE + 8), 0xffffffff);  /* 64..95 */
    wr(PLIC_ENABLE + 12, 0xffffffff);
    cr_assert_eq(rd(PLIC_ENABLE + 12), 0);          /* 96.. */
    /* Contexts are independent; a context that does not exist reads 0. */
    cr_assert_eq(rd(PLIC_ENABLE + PLIC_ENABLE_STRIDE), 0);
    wr(PLIC_ENABLE + PLIC_ENABLE_STRIDE * 4, 0xffffffff);
    cr_assert_eq(rd(PLIC_ENABLE + PLIC_ENABLE_STRIDE * 4), 0);
}

Test(plic, pending_follows_level_and_is_read_only)
{
    plic_set_irq(plic, 10, true);
    plic_set_irq(plic, 40, true);
    cr_assert_eq(rd(PLIC_PENDING), 1u << 10);
    cr_assert_eq(rd(PLIC_PENDING + 4), 1u << 8);
    wr(PLIC_PENDING, 0);
    cr_assert_eq(rd(PLIC_PENDING), 1u << 10);
    plic_set_irq(plic, 10, false);      /* dropped before any claim */
    cr_assert_eq(rd(PLIC_PENDING), 0);
}

Test(plic, no_interrupt_until_priority_enable_and_threshold_allow)
{
    plic_set_irq(plic, 10, true);
    cr_assert_eq(harts[0].mip, 0);      /* priority 0: never */
    set_prio(10, 2);
    cr_assert_eq(harts[0].mip, 0);      /* not enabled */
    threshold(0, 2);
    enable(0, 10);
    cr_assert_eq(harts[0].mip, 0);      /* priority not above threshold */
    cr_assert_eq(claim(0), 0);
    threshold(0, 1);
    cr_assert_eq(harts[0].mip, MEIP);
    cr_assert_eq(rd(PLIC_CONTEXT), 1);
    threshold(0, 10);                   /* WARL: 3 bits, so 2 */
    cr_assert_eq(rd(PLIC_CONTEXT), 2);
    cr_assert_eq(harts[0].mip, 0);
}

Test(plic, contexts_route_to_mei_and_sei_of_the_right_hart)
{
    for (unsigned src = 1; src <= 4; src++) {
        set_prio(src, 1);
        enable(src - 1, src);
    }
    plic_set_irq(plic, 1, true);
    cr_assert_eq(harts[0].mip, MEIP);
    cr_assert_eq(harts[1].mip, 0);
    plic_set_irq(plic, 2, true);
    cr_assert_eq(harts[0].mip, MEIP | SEIP);
    plic_set_irq(plic, 1, false);
    plic_set_irq(plic, 2, false);
    plic_set_irq(plic, 3, true);
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(harts[1].mip, MEIP);
    plic_set_irq(plic, 4, true);
    cr_assert_eq(harts[1].mip, MEIP | SEIP);
    cr_assert_eq(claim(3), 4);
    cr_assert_eq(harts[1].mip, MEIP);
}

Test(plic, claim_order_is_priority_then_lowest_id)
{
    unsigned srcs[] = { 7, 3, 50, 9 };
    unsigned prios[] = { 5, 5, 6, 1 };
    for (unsigned i = 0; i < 4; i++) {
        set_prio(srcs[i], prios[i]);
        enable(1, srcs[i]);
        plic_set_irq(plic, srcs[i], true);
    }
    cr_assert_eq(harts[0].mip, SEIP);
    cr_assert_eq(claim(1), 50);
    cr_assert_eq(claim(1), 3);
    cr_assert_eq(claim(1), 7);
    cr_assert_eq(claim(1), 9);
    /* Everything claimed: the line drops and claims return 0. */
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(claim(1), 0);
    cr_assert_eq(rd(PLIC_PENDING) | rd(PLIC_PENDING + 4), 0);
    struct plic_stats st = plic_get_stats(plic);
    cr_assert_eq(st.claims, 4);
    cr_assert_eq(st.empty_claims, 1);
}

Test(plic, level_source_still_asserted_pends_again_after_complete)
{
    set_prio(10, 1);
    enable(1, 10);
    plic_set_irq(plic, 10, true);
    cr_assert_eq(claim(1), 10);
    cr_assert_eq(harts[0].mip, 0);
    /* While claimed, the line toggling does not pend it. */
    plic_set_irq(plic, 10, false);
    plic_set_irq(plic, 10, true);
    cr_assert_eq(rd(PLIC_PENDING), 0);
    cr_assert_eq(claim(1), 0);
    complete(1, 10);
    cr_assert_eq(rd(PLIC_PENDING), 1u << 10);
    cr_assert_eq(harts[0].mip, SEIP);
    cr_assert_eq(claim(1), 10);
    /* Deasserted by the driver before completion: done for good. */
    plic_set_irq(plic, 10, false);
    complete(1, 10);
    cr_assert_eq(rd(PLIC_PENDING), 0);
    cr_assert_eq(harts[0].mip, 0);
}

Test(plic, complete_of_source_not_enabled_is_ignored)
{
    set_prio(10, 1);
    enable(1, 10);
    plic_set_irq(plic, 10, true);
    cr_assert_eq(claim(1), 10);
    complete(0, 10);            /* context 0 does not have 10 enabled */
    complete(1, 0);
    complete(1, 999);
    cr_assert_eq(rd(PLIC_PENDING), 0);
    complete(1, 10);
    cr_assert_eq(rd(PLIC_PENDING), 1u << 10);
}

Test(plic, claimed_source_is_not_offered_to_another_context)
{
    set_prio(10, 1);
    enable(0, 10);
    enable(1, 10);
    plic_set_irq(plic, 10, true);
    cr_assert_eq(harts[0].mip, MEIP | SEIP);
    cr_assert_eq(claim(0), 10);
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(claim(1), 0);
}

Test(plic, output_driven_only_on_change)
{
    set_prio(10, 1);
    enable(0, 10);
    plic_set_irq(plic, 10, true);
    unsigned calls = harts[0].irq_calls;
    plic_set_irq(plic, 10, true);
    set_prio(10, 2);
    cr_assert_eq(harts[0].irq_calls, calls);
}

Test(plic, bad_widths_fault_and_bad_inputs_are_ignored)
{
    uint64_t v;
    cr_assert(!plic_mmio_ops.read(plic, PLIC_PRIORITY + 4, 8, &v));
    cr_assert(!plic_mmio_ops.write(plic, PLIC_PRIORITY + 4, 1, 1));
    cr_assert(!plic_mmio_ops.read(plic, PLIC_PRIORITY + 2, 4, &v));
    plic_set_irq(plic, 0, true);
    plic_set_irq(plic, 96, true);
    cr_assert_eq(rd(PLIC_PENDING) | rd(PLIC_PENDING + 12), 0);
    /* Contexts that do not exist: threshold and claim read 0. */
    cr_assert_eq(rd(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * 4 + 4), 0);
    cr_assert_eq(rd(PLIC_SIZE - 4), 0);
    cr_assert(!plic_new(&mach, 0));
    cr_assert(!plic_new(&mach, PLIC_MAX_SOURCES + 1));
}

Test(plic, reset_clears_configuration)
{
    set_prio(10, 1);
    enable(0, 10);
    plic_set_irq(plic, 10, true);
    cr_assert_eq(harts[0].mip, MEIP);
    plic_reset(plic);
    cr_assert_eq(harts[0].mip, 0);
    cr_assert_eq(rd(PLIC_PRIORITY + 40), 0);
    cr_assert_eq(rd(PLIC_ENABLE), 0);
}
