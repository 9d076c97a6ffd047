/*
 * tests/unit/cpustress_trap.c — traps and interrupts, black box (priv spec
 * 1.12 §3.1.6–3.1.9, §3.3, §4.1): ecall causes per mode, ebreak, medeleg
 * delegation to S, mret/sret state transitions, TW/TSR/TVM, vectored mtvec,
 * interrupt priority, WFI, and interrupts raised through hart_set_irq and
 * hart_set_mtimecmp.
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define CODE2 (CT_CODE + 0x1000)    /* where lower-privilege code goes */
#define INTR(n) (CT_INTR | (n))

/* Run to CT_HALT; the canned handlers leave cause/epc/tval/status in
 * T3..T6 (CT_R*). */
static void run(struct ct *t)
{
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000), "did not halt; pc 0x%llx",
              (unsigned long long)hart_get_pc(t->h));
}

static void ecall_from(unsigned prv, uint64_t want_cause)
{
    struct ct *t = ct_new();
    uint64_t at;
    if (prv == PRV_M) {
        at = t->at;
    } else {
        ct_enter(t, prv, CODE2);
        ct_org(t, CODE2);
        at = CODE2;
    }
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), want_cause);
    cr_expect_eq(ct_x(t, CT_REPC), at);
    cr_expect_eq(ct_x(t, CT_RTVAL), 0);
    cr_expect_eq((ct_x(t, CT_RSTAT) & CT_MPP) >> 11, prv, "MPP");
    cr_expect_eq(hart_get_priv(t->h), PRV_M);
    ct_free(t);
}

Test(trap, ecall_causes_per_mode)
{
    ecall_from(PRV_M, EXC_ECALL_M);
    ecall_from(PRV_S, EXC_ECALL_S);
    ecall_from(PRV_U, EXC_ECALL_U);
}

Test(trap, trap_entry_moves_mie_to_mpie)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MIE, 0);
    ct_emit(t, rv_csrrsi(ZERO, CSR_MSTATUS, 8));
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RSTAT) & (CT_MIE | CT_MPIE), CT_MPIE);
    ct_free(t);
}

/* ebreak: cause 3, mepc = its pc. tval: QEMU 7.2 writes 0 (checked on
 * qemu-system-riscv64 7.2 for ebreak and c.ebreak); the spec allows 0. */
Test(trap, ebreak_cause_and_tval_like_qemu)
{
    for (int c = 0; c < 2; c++) {
        struct ct *t = ct_new();
        uint64_t at = t->at;
        ct_emit(t, c ? rv_c_ebreak() : rv_ebreak());
        run(t);
        cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_BREAKPOINT);
        cr_expect_eq(ct_x(t, CT_REPC), at);
        cr_expect_eq(ct_x(t, CT_RTVAL), 0, "%s: mtval 0x%llx, QEMU 7.2 gives 0",
                     c ? "c.ebreak" : "ebreak",
                     (unsigned long long)ct_x(t, CT_RTVAL));
        ct_free(t);
    }
}

Test(trap, illegal_instruction_tval_is_the_instruction)
{
    struct ct *t = ct_new();
    uint64_t at = t->at;
    ct_emit(t, 0xffffffff);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL);
    cr_expect_eq(ct_x(t, CT_REPC), at);
    cr_expect_eq(ct_x(t, CT_RTVAL), 0xffffffffull);
    ct_free(t);
}

Test(trap, fetch_outside_ram_is_access_fault)
{
    struct ct *t = ct_new();
    ct_li(t, A0, 0x40000000ull);
    ct_emit(t, rv_jalr(ZERO, A0, 0));
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_INSN_ACCESS);
    cr_expect_eq(ct_x(t, CT_REPC), 0x40000000ull);
    cr_expect_eq(ct_x(t, CT_RTVAL), 0x40000000ull);
    ct_free(t);
}

/* ecall from U delegated with medeleg[8]: S handler, SPP = U, SPIE = SIE. */
Test(trap, ecall_from_u_delegated_to_s)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MEDELEG, 1u << EXC_ECALL_U);
    ct_emit(t, rv_csrrsi(ZERO, CSR_SSTATUS, 2));    /* SIE = 1 */
    ct_enter(t, PRV_U, CODE2);
    ct_org(t, CODE2);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_S, "handled in S");
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_U);
    cr_expect_eq(ct_x(t, CT_REPC), CODE2);
    uint64_t ss = ct_x(t, CT_RSTAT);
    cr_expect_eq(ss & CT_SPP, 0, "SPP = U");
    cr_expect_eq(ss & (CT_SIE | CT_SPIE), CT_SPIE, "SPIE = old SIE, SIE = 0");
    ct_free(t);
}

Test(trap, ecall_from_s_delegated_to_s)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MEDELEG, 1u << EXC_ECALL_S);
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_S);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S);
    cr_expect_eq(ct_x(t, CT_RSTAT) & CT_SPP, CT_SPP, "SPP = S");
    ct_free(t);
}

/* Traps never go to a lower privilege (§3.1.8). */
Test(trap, ecall_from_m_never_delegated)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MEDELEG, 0xffff);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_M);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_M);
    ct_free(t);
}

Test(trap, illegal_in_s_delegated)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MEDELEG, 1u << EXC_ILLEGAL);
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    ct_emit(t, rv_csrr(A0, CSR_MSTATUS));
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_S);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL);
    cr_expect_eq(ct_x(t, CT_REPC), CODE2);
    cr_expect_eq(ct_x(t, CT_RTVAL), rv_csrr(A0, CSR_MSTATUS));
    ct_free(t);
}

/* mret (§3.3.2): MIE = MPIE, MPIE = 1, MPP = U (least privileged). */
Test(trap, mret_to_m_updates_mstatus)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MIE, 0);
    ct_csrw_imm(t, CSR_MSTATUS, CT_MPP | CT_MPIE);
    /* auipc; addi; csrw; mret; then the target */
    ct_asm(t, rv_auipc(T0, 0), rv_addi(T0, T0, 16), rv_csrw(CSR_MEPC, T0),
           rv_mret(), rv_csrr(A0, CSR_MSTATUS));
    ct_halt(t);
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_M);
    cr_expect_eq(ct_x(t, A0) & (CT_MIE | CT_MPIE | CT_MPP), CT_MIE | CT_MPIE,
                 "mstatus 0x%llx", (unsigned long long)ct_x(t, A0));
    ct_free(t);
}

/* mret to S clears MPRV (priv 1.12 §3.1.6.3). */
Test(trap, mret_below_m_clears_mprv)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MSTATUS, CT_MPRV);
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S);
    cr_expect_eq(ct_x(t, CT_RSTAT) & CT_MPRV, 0);
    ct_free(t);
}

/* sret from S to U: SIE = SPIE, SPIE = 1, SPP = U; then ecall to M. */
Test(trap, sret_to_u_updates_sstatus)
{
    struct ct *t = ct_new();
    const uint64_t ucode = CODE2 + 0x100;
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    ct_li(t, A0, CT_SPIE);
    ct_li(t, A1, CT_SPP | CT_SIE);
    ct_li(t, A2, ucode);
    ct_asm(t, rv_csrs(CSR_SSTATUS, A0), rv_csrc(CSR_SSTATUS, A1),
           rv_csrw(CSR_SEPC, A2), rv_sret());
    ct_org(t, ucode);
    ct_emit(t, rv_ecall());
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run_to(t, ucode, 200));
    cr_expect_eq(hart_get_priv(t->h), PRV_U);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_U);
    uint64_t ms = ct_x(t, CT_RSTAT);
    cr_expect_eq(ms & (CT_SIE | CT_SPIE | CT_SPP), CT_SIE | CT_SPIE,
                 "mstatus 0x%llx", (unsigned long long)ms);
    ct_free(t);
}

/* M may execute sret: it returns to SPP. */
Test(trap, sret_from_m_returns_to_spp)
{
    struct ct *t = ct_new();
    ct_li(t, A0, CT_SPP);
    ct_li(t, A2, CODE2);
    ct_asm(t, rv_csrs(CSR_MSTATUS, A0), rv_csrw(CSR_SEPC, A2), rv_sret());
    ct_org(t, CODE2);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S);
    ct_free(t);
}

static void illegal_in_s_with(uint64_t mstatus_bits, unsigned prv, uint32_t insn)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MIE, 0);
    ct_li(t, T0, mstatus_bits);
    ct_emit(t, rv_csrs(CSR_MSTATUS, T0));
    ct_enter(t, prv, CODE2);
    ct_org(t, CODE2);
    ct_emit(t, insn);
    ct_emit(t, rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL, "insn 0x%08x mstatus 0x%llx prv %u: mcause %llu",
                 insn, (unsigned long long)mstatus_bits, prv,
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, CT_REPC), CODE2);
    cr_expect_eq(ct_x(t, CT_RTVAL), insn);
    ct_free(t);
}

Test(trap, tw_tsr_tvm_trap_in_s)
{
    illegal_in_s_with(CT_TW, PRV_S, rv_wfi());
    illegal_in_s_with(CT_TSR, PRV_S, rv_sret());
    illegal_in_s_with(CT_TVM, PRV_S, rv_csrr(A0, CSR_SATP));
    illegal_in_s_with(CT_TVM, PRV_S, rv_csrw(CSR_SATP, ZERO));
    illegal_in_s_with(CT_TVM, PRV_S, rv_sfence_vma(0, 0));
    /* U-mode WFI is illegal when S exists, even with TW = 0 (QEMU 7.2). */
    illegal_in_s_with(0, PRV_U, rv_wfi());
    illegal_in_s_with(0, PRV_U, rv_sfence_vma(0, 0));
}

Test(trap, satp_and_sfence_allowed_in_s_without_tvm)
{
    struct ct *t = ct_new();
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    ct_asm(t, rv_csrr(A0, CSR_SATP), rv_sfence_vma(0, 0), rv_ecall());
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S);
    ct_free(t);
}

/* ---------------------------------------------------------- interrupts */

/* Program: mie = `mie`, mideleg = `mideleg`, optional mip bits, enter
 * `prv` (MIE=1 if prv is M) and spin. */
static struct ct *irq_prog(uint64_t mie, uint64_t mideleg, uint64_t mip,
                           unsigned prv, uint64_t extra_mstatus)
{
    struct ct *t = ct_new();
    hart_set_mtimecmp(t->h, UINT64_MAX);
    ct_csrw_imm(t, CSR_MIDELEG, mideleg);
    ct_csrw_imm(t, CSR_MIP, mip);
    ct_li(t, T0, extra_mstatus);
    ct_emit(t, rv_csrs(CSR_MSTATUS, T0));
    ct_csrw_imm(t, CSR_MIE, mie);
    if (prv == PRV_M) {
        ct_emit(t, rv_csrrsi(ZERO, CSR_MSTATUS, 8));
        ct_emit(t, rv_jal(ZERO, 0));
    } else {
        ct_enter(t, prv, CODE2);
        ct_org(t, CODE2);
        ct_emit(t, rv_jal(ZERO, 0));
    }
    return t;
}

Test(trap, mei_via_hart_set_irq)
{
    struct ct *t = irq_prog(1u << IRQ_MEI, 0, 0, PRV_M, 0);
    hart_set_irq(t->h, IRQ_MEI, true);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), 0x800000000000000bull, "mcause 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, CT_RSTAT) & (CT_MIE | CT_MPIE), CT_MPIE);
    uint64_t epc = ct_x(t, CT_REPC);
    cr_expect(epc >= CT_CODE && epc < CODE2, "mepc 0x%llx: the interrupted insn",
              (unsigned long long)epc);
    ct_free(t);
}

Test(trap, mti_via_mtimecmp_zero)
{
    struct ct *t = irq_prog(1u << IRQ_MTI, 0, 0, PRV_M, 0);
    hart_set_mtimecmp(t->h, 0);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), 0x8000000000000007ull, "mcause 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    ct_free(t);
}

Test(trap, no_interrupt_in_m_with_mie_clear)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MIE, 1u << IRQ_MEI);
    ct_emit(t, rv_jal(ZERO, 0));
    hart_set_irq(t->h, IRQ_MEI, true);
    cr_expect_not(ct_run(t, 200), "interrupt taken with mstatus.MIE = 0");
    ct_free(t);
}

/* Priority MEI > MSI > MTI > SEI > SSI > STI (priv §3.1.9). */
static uint64_t first_irq(unsigned lines, uint64_t mip)
{
    struct ct *t = irq_prog(0xaaa, 0, mip, PRV_M, 0);
    for (unsigned i = 0; i < 12; i++)
        if ((lines >> i & 1) && (i == IRQ_MEI || i == IRQ_MSI || i == IRQ_SEI))
            hart_set_irq(t->h, i, true);
    if (lines >> IRQ_MTI & 1)
        hart_set_mtimecmp(t->h, 0);
    run(t);
    uint64_t c = ct_x(t, CT_RCAUSE);
    ct_free(t);
    return c;
}

Test(trap, interrupt_priority)
{
    unsigned all = 1u << IRQ_MEI | 1u << IRQ_MSI | 1u << IRQ_MTI | 1u << IRQ_SEI;
    cr_expect_eq(first_irq(all, 0x22), INTR(IRQ_MEI));
    cr_expect_eq(first_irq(all & ~(1u << IRQ_MEI), 0x22), INTR(IRQ_MSI));
    cr_expect_eq(first_irq(1u << IRQ_MTI | 1u << IRQ_SEI, 0x22), INTR(IRQ_MTI));
    cr_expect_eq(first_irq(1u << IRQ_SEI, 0x22), INTR(IRQ_SEI));
    cr_expect_eq(first_irq(0, 0x22), INTR(IRQ_SSI));
    cr_expect_eq(first_irq(0, 0x20), INTR(IRQ_STI));
}

/* In S, M-level interrupts are taken whatever mstatus.MIE (§3.1.6.1). */
Test(trap, m_interrupt_taken_in_s_with_mie_clear)
{
    struct ct *t = irq_prog(1u << IRQ_MEI, 0, 0, PRV_S, 0);
    hart_set_irq(t->h, IRQ_MEI, true);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), INTR(IRQ_MEI));
    cr_expect_eq((ct_x(t, CT_RSTAT) & CT_MPP) >> 11, PRV_S);
    cr_expect_eq(ct_x(t, CT_REPC), CODE2);
    ct_free(t);
}

Test(trap, delegated_sei_goes_to_s)
{
    struct ct *t = irq_prog(1u << IRQ_SEI, 1u << IRQ_SEI, 0, PRV_S, CT_SIE);
    hart_set_irq(t->h, IRQ_SEI, true);
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_S);
    cr_expect_eq(ct_x(t, CT_RCAUSE), INTR(IRQ_SEI), "scause 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, CT_RSTAT) & (CT_SPP | CT_SPIE | CT_SIE), CT_SPP | CT_SPIE);
    ct_free(t);
}

Test(trap, delegated_s_interrupt_taken_in_u_with_sie_clear)
{
    struct ct *t = irq_prog(1u << IRQ_SSI, 1u << IRQ_SSI, 1u << IRQ_SSI, PRV_U, 0);
    run(t);
    cr_expect_eq(hart_get_priv(t->h), PRV_S);
    cr_expect_eq(ct_x(t, CT_RCAUSE), INTR(IRQ_SSI));
    cr_expect_eq(ct_x(t, CT_REPC), CODE2);
    ct_free(t);
}

Test(trap, delegated_s_interrupt_not_taken_in_m)
{
    struct ct *t = irq_prog(1u << IRQ_SSI, 1u << IRQ_SSI, 1u << IRQ_SSI, PRV_M, CT_SIE);
    cr_expect_not(ct_run(t, 300), "S interrupt taken in M");
    ct_free(t);
}

/* A vector table at `vec`: entry i jumps to a stub that sets a1 = i and
 * halts. */
static void emit_vector_table(struct ct *t, uint64_t vec)
{
    const uint64_t stubs = vec + 0x100;
    for (unsigned i = 0; i < 16; i++) {
        ct_org(t, vec + 4 * i);
        ct_jal_to(t, ZERO, stubs + 8 * i);
        ct_org(t, stubs + 8 * i);
        ct_emit(t, rv_addi(A1, ZERO, (int32_t)i));
        ct_halt(t);
    }
}

/* Vectored mtvec: interrupts go to base + 4*cause, exceptions to base. */
Test(trap, vectored_mtvec)
{
    const uint64_t vec = CT_CODE + 0x2000;
    struct ct *t = ct_new();
    hart_set_mtimecmp(t->h, UINT64_MAX);
    ct_csrw_imm(t, CSR_MTVEC, vec | 1);
    ct_csrw_imm(t, CSR_MIE, 1u << IRQ_MSI);
    ct_emit(t, rv_csrrsi(ZERO, CSR_MSTATUS, 8));
    ct_emit(t, rv_jal(ZERO, 0));
    emit_vector_table(t, vec);
    hart_set_x(t->h, A1, 99);
    hart_set_irq(t->h, IRQ_MSI, true);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, A1), IRQ_MSI, "interrupt went to entry %llu",
                 (unsigned long long)ct_x(t, A1));
    ct_free(t);

    t = ct_new();
    ct_csrw_imm(t, CSR_MTVEC, vec | 1);
    ct_emit(t, rv_ecall());
    emit_vector_table(t, vec);
    hart_set_x(t->h, A1, 99);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, A1), 0, "exception went to entry %llu",
                 (unsigned long long)ct_x(t, A1));
    ct_free(t);
}

/* WFI completes when an interrupt is pending in mie, even with MIE = 0
 * (§3.3.3): execution continues after it, no trap. */
Test(trap, wfi_returns_with_pending_enabled_interrupt_and_mie_clear)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MIE, 1u << IRQ_MSI);
    ct_asm(t, rv_wfi(), rv_addi(A0, ZERO, 7));
    ct_halt(t);
    hart_set_irq(t->h, IRQ_MSI, true);
    run(t);
    cr_expect_eq(ct_x(t, A0), 7);
    cr_expect_eq(ct_x(t, CT_REPC), 0, "trapped");
    ct_free(t);
}

/* WFI with nothing pending: hart_step returns early; an interrupt then
 * wakes it and is taken with mepc after the wfi. */
Test(trap, wfi_sleeps_until_interrupt)
{
    struct ct *t = ct_new();
    hart_set_mtimecmp(t->h, UINT64_MAX);
    ct_csrw_imm(t, CSR_MIE, 1u << IRQ_MSI);
    ct_emit(t, rv_csrrsi(ZERO, CSR_MSTATUS, 8));
    uint64_t w = t->at;
    ct_asm(t, rv_wfi(), rv_addi(A0, ZERO, 7));
    ct_halt(t);
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run_to(t, w, 100));
    uint64_t n = hart_step(t->h, 50);
    cr_expect_lt(n, 50, "hart_step did not stop at the sleeping wfi");
    cr_expect_eq(ct_x(t, A0), 0, "ran past the wfi without an interrupt");
    hart_set_irq(t->h, IRQ_MSI, true);
    run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), INTR(IRQ_MSI));
    cr_expect_eq(ct_x(t, CT_REPC), w + 4);
    ct_free(t);
}
