/*
 * tests/unit/cpustress_irq.c — the hart's interrupt inputs seen through
 * mip (priv 1.12 §3.1.9): lines raised and lowered by hart_set_irq, MTIP
 * following hart_set_mtimecmp, Sstc's stimecmp driving STIP (Sstc spec
 * 1.0 §2), the reset state from hart_reset, and trap-and-return through a
 * handler that skips the trapping instruction.
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define CSR_STIMECMP 0x14d
#define STCE (1ull << 63)

/* Step to the halt (no trap expected). */
static void run_clean(struct ct *t)
{
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000), "did not halt");
    cr_expect_eq(ct_x(t, CT_REPC), 0, "trapped: mcause 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
}

Test(irq, lines_show_in_mip_and_drop)
{
    struct ct *t = ct_new();
    const uint64_t read1 = t->at;
    ct_emit(t, rv_csrr(A0, CSR_MIP));
    const uint64_t read2 = t->at;
    ct_emit(t, rv_csrr(A1, CSR_MIP));
    ct_halt(t);
    hart_set_mtimecmp(t->h, UINT64_MAX);
    hart_set_irq(t->h, IRQ_MEI, true);
    hart_set_irq(t->h, IRQ_MSI, true);
    hart_set_irq(t->h, IRQ_SEI, true);
    cr_assert(ct_run_to(t, read1, 100));
    hart_step(t->h, 1);
    hart_set_irq(t->h, IRQ_MEI, false);
    hart_set_irq(t->h, IRQ_MSI, false);
    hart_set_irq(t->h, IRQ_SEI, false);
    cr_assert_eq(hart_get_pc(t->h), read2);
    run_clean(t);
    cr_expect_eq(ct_x(t, A0) & 0xaaa, 0xa08, "mip 0x%llx with MEI/MSI/SEI high",
                 (unsigned long long)ct_x(t, A0));
    cr_expect_eq(ct_x(t, A1) & 0xaaa, 0, "mip 0x%llx after lowering",
                 (unsigned long long)ct_x(t, A1));
    ct_free(t);
}

/* SEIP read by csrr is the OR of the line and the software-written bit;
 * clearing the software bit does not hide the line (§3.1.9). */
Test(irq, seip_is_line_or_software_bit)
{
    struct ct *t = ct_new();
    ct_li(t, T1, 1u << IRQ_SEI);
    ct_asm(t, rv_csrs(CSR_MIP, T1), rv_csrr(A0, CSR_MIP),
           rv_csrc(CSR_MIP, T1), rv_csrr(A1, CSR_MIP));
    ct_halt(t);
    hart_set_irq(t->h, IRQ_SEI, true);
    run_clean(t);
    cr_expect(ct_x(t, A0) & (1u << IRQ_SEI));
    cr_expect(ct_x(t, A1) & (1u << IRQ_SEI), "line still high, SEIP must read 1");
    ct_free(t);
}

Test(irq, mtip_follows_mtimecmp)
{
    struct ct *t = ct_new();
    const uint64_t r1 = t->at;
    ct_emit(t, rv_csrr(A0, CSR_MIP));
    const uint64_t r2 = t->at;
    ct_emit(t, rv_csrr(A1, CSR_MIP));
    ct_halt(t);
    hart_set_mtimecmp(t->h, 0);
    cr_assert(ct_run_to(t, r1, 100));
    hart_step(t->h, 1);
    hart_set_mtimecmp(t->h, UINT64_MAX);
    cr_assert_eq(hart_get_pc(t->h), r2);
    run_clean(t);
    cr_expect(ct_x(t, A0) & (1u << IRQ_MTI), "MTIP clear with mtimecmp = 0");
    cr_expect_not(ct_x(t, A1) & (1u << IRQ_MTI), "MTIP set with mtimecmp = max");
    cr_expect_eq(hart_get_mtimecmp(t->h), UINT64_MAX);
    ct_free(t);
}

/* Sstc: with menvcfg.STCE, STIP = (time >= stimecmp) and is no longer
 * writable through mip. */
Test(irq, sstc_stimecmp_drives_stip)
{
    struct ct *t = ct_new();
    ct_li(t, T1, STCE);
    ct_li(t, T2, 1u << IRQ_STI);
    ct_li(t, A7, UINT64_MAX);
    ct_asm(t, rv_csrs(CSR_MENVCFG, T1), rv_csrw(CSR_STIMECMP, ZERO),
           rv_csrr(A0, CSR_MIP), rv_csrw(CSR_STIMECMP, A7),
           rv_csrr(A1, CSR_MIP), rv_csrs(CSR_MIP, T2), rv_csrr(A2, CSR_MIP),
           rv_csrr(A3, CSR_STIMECMP));
    ct_halt(t);
    run_clean(t);
    cr_expect(ct_x(t, A0) & (1u << IRQ_STI), "STIP clear with stimecmp = 0");
    cr_expect_not(ct_x(t, A1) & (1u << IRQ_STI), "STIP set with stimecmp = max");
    cr_expect_not(ct_x(t, A2) & (1u << IRQ_STI), "STIP writable with STCE = 1");
    cr_expect_eq(ct_x(t, A3), UINT64_MAX);
    ct_free(t);
}

/* From S, stimecmp needs mcounteren.TM and menvcfg.STCE. */
Test(irq, stimecmp_from_s_gated)
{
    struct ct *t = ct_new();
    ct_enter(t, PRV_S, CT_CODE + 0x1000);
    ct_org(t, CT_CODE + 0x1000);
    ct_emit(t, rv_csrr(A0, CSR_STIMECMP));
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL);
    ct_free(t);

    t = ct_new();
    ct_csrw_imm(t, CSR_MENVCFG, STCE);
    ct_csrw_imm(t, CSR_MCOUNTEREN, 2);
    ct_enter(t, PRV_S, CT_CODE + 0x1000);
    ct_org(t, CT_CODE + 0x1000);
    ct_asm(t, rv_csrw(CSR_STIMECMP, ZERO), rv_csrr(A0, CSR_STIMECMP), rv_ecall());
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S, "mcause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    ct_free(t);
}

/* Reset state (priv §3.4): M-mode, pc and a0..a2 as given, MIE = MPRV = 0,
 * satp = 0 (bare), mhartid = the id. */
Test(irq, hart_reset_state)
{
    struct ct *t = ct_new();
    ct_emit(t, rv_csrr(S2, CSR_MSTATUS));
    ct_emit(t, rv_csrr(S3, CSR_MHARTID));
    ct_emit(t, rv_csrr(S4, CSR_SATP));
    ct_halt(t);
    hart_reset(t->h, CT_CODE, 11, 22, 33);
    cr_expect_eq(hart_get_pc(t->h), CT_CODE);
    cr_expect_eq(hart_get_priv(t->h), PRV_M);
    cr_expect_eq(hart_get_x(t->h, A0), 11);
    cr_expect_eq(hart_get_x(t->h, A1), 22);
    cr_expect_eq(hart_get_x(t->h, A2), 33);
    run_clean(t);
    cr_expect_eq(ct_x(t, S2) & (CT_MIE | CT_MPRV), 0);
    cr_expect_eq(ct_x(t, S3), 0);
    cr_expect_eq(ct_x(t, S4), 0);
    ct_free(t);
}

Test(irq, x0_is_hardwired_zero_through_the_api)
{
    struct ct *t = ct_new();
    hart_set_x(t->h, ZERO, 1234);
    cr_expect_eq(hart_get_x(t->h, ZERO), 0);
    ct_free(t);
}

/* Trap and return: the skip handler advances mepc by the trapping
 * instruction's length and mrets; execution continues after it with
 * the other registers intact. */
Test(irq, trap_and_return_for_16_and_32_bit_instructions)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MTVEC, CT_MSKIP);
    ct_asm(t, rv_addi(A0, ZERO, 5), rv_ebreak(), rv_addi(A0, A0, 1),
           rv_c_ebreak(), rv_c_addi(A0, 1), rv_ecall(), rv_addi(A0, A0, 1),
           0xffffffff, rv_addi(A0, A0, 1));
    ct_halt(t);
    cr_assert(ct_run(t, 500));
    cr_expect_eq(ct_x(t, A0), 9);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL, "last trap recorded");
    cr_expect_eq(hart_get_priv(t->h), PRV_M);
    ct_free(t);
}
