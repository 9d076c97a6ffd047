/*
 * cpu_trap: trap entry and return — ECALL causes, delegation to S,
 * vectored mtvec for interrupts, the interrupt priority order, global and
 * individual enables, MRET/SRET rules (TSR, MPRV, the PMP check), WFI (TW,
 * U-mode, wake on pending-and-enabled), and the fatal-loop detection.
 */
#include "tests/unit/cpu_harness.h"

Test(cpu_trap, ecall_causes_and_mret)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    tm_put32(&t, RAM_BASE, ECALL);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ECALL_M);
    cr_assert_eq(t.h->mepc, RAM_BASE);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);

    /* MRET to U at RAM_BASE, then ECALL from U. */
    t.h->mepc = RAM_BASE;
    t.h->mstatus = (t.h->mstatus & ~MSTATUS_MPP) | MSTATUS_MPIE;
    tm_put32(&t, TRAP_VEC + 0x10, MRET);
    t.h->pc = TRAP_VEC + 0x10;
    tm_step(&t);
    cr_assert_eq(hart_get_priv(t.h), PRV_U);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE);
    cr_assert(t.h->mstatus & MSTATUS_MIE);          /* MIE = MPIE */
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ECALL_U);
    cr_assert_eq(hart_get_priv(t.h), PRV_M);
    cr_assert_eq((t.h->mstatus & MSTATUS_MPP) >> 11, PRV_U);
    cr_assert(!(t.h->mstatus & MSTATUS_MIE));
    tm_free(&t);
}

Test(cpu_trap, delegation_to_s)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    t.h->medeleg = 1u << EXC_ECALL_U | 1u << EXC_ILLEGAL;
    tm_put32(&t, RAM_BASE, ECALL);
    tm_set_priv(&t, PRV_U);
    t.h->mstatus |= MSTATUS_SIE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), STRAP_VEC);
    cr_assert_eq(hart_get_priv(t.h), PRV_S);
    cr_assert_eq(t.h->scause, EXC_ECALL_U);
    cr_assert_eq(t.h->sepc, RAM_BASE);
    cr_assert(!(t.h->mstatus & MSTATUS_SPP));       /* came from U */
    cr_assert(t.h->mstatus & MSTATUS_SPIE);
    cr_assert(!(t.h->mstatus & MSTATUS_SIE));
    /* Illegal in S: delegated, SPP = S. */
    tm_put32(&t, RAM_BASE, 0);
    dcache_flush(t.h);          /* the test wrote code behind the hart's back */
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->scause, EXC_ILLEGAL);
    cr_assert(t.h->mstatus & MSTATUS_SPP);
    /* Exceptions in M are never delegated. */
    tm_set_priv(&t, PRV_M);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    /* SRET back to U with SPP = 0. */
    tm_set_priv(&t, PRV_S);
    t.h->mstatus &= ~MSTATUS_SPP;
    t.h->sepc = RAM_BASE + 0x20;
    tm_put32(&t, RAM_BASE + 0x10, SRET);
    t.h->pc = RAM_BASE + 0x10;
    tm_step(&t);
    cr_assert_eq(hart_get_priv(t.h), PRV_U);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 0x20);
    tm_free(&t);
}

Test(cpu_trap, vectored_interrupts_and_priority)
{
    struct cpt t = tm_new();
    tm_put32(&t, RAM_BASE, JSELF);
    tm_put32(&t, TRAP_VEC + 4 * IRQ_MEI, JSELF);
    t.h->mtvec = TRAP_VEC | 1;
    t.h->mie = MIP_MSIP | MIP_MTIP | MIP_MEIP;
    t.h->mstatus |= MSTATUS_MIE;
    hart_set_mtimecmp(t.h, ~0ull);
    hart_set_irq(t.h, IRQ_MSI, true);
    hart_set_irq(t.h, IRQ_MEI, true);
    tm_step(&t);
    /* MEI beats MSI; vectored: base + 4 * 11. */
    cr_assert_eq(t.h->mcause, CAUSE_INTERRUPT | IRQ_MEI, "mcause %llx",
                 (unsigned long long)t.h->mcause);
    cr_assert_eq(t.h->mepc, RAM_BASE);
    cr_assert_eq(t.h->mtval, 0);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC + 4 * IRQ_MEI);
    /* Exceptions still go to the base. */
    hart_set_irq(t.h, IRQ_MEI, false);
    hart_set_irq(t.h, IRQ_MSI, false);
    tm_put32(&t, RAM_BASE, ECALL);
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);
    tm_free(&t);
}

Test(cpu_trap, interrupt_enables)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    tm_put32(&t, RAM_BASE, ADDI(0, 0, 0));
    tm_put32(&t, RAM_BASE + 4, ADDI(0, 0, 0));
    hart_set_mtimecmp(t.h, ~0ull);
    hart_set_irq(t.h, IRQ_MSI, true);
    /* Pending but mie = 0: nothing. */
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    /* mie set but MIE = 0 in M: nothing. */
    t.h->mie = MIP_MSIP;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 8);
    /* Below M, M interrupts are taken whatever MIE says. */
    t.h->pc = RAM_BASE;
    tm_set_priv(&t, PRV_S);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, CAUSE_INTERRUPT | IRQ_MSI);
    cr_assert_eq(hart_get_priv(t.h), PRV_M);
    /* A delegated interrupt is not taken in M, is taken in S with SIE. */
    hart_set_irq(t.h, IRQ_MSI, false);
    t.h->mideleg = MIP_SSIP;
    t.h->mie = MIP_SSIP;
    cr_assert(csr_write(t.h, 0x344, MIP_SSIP));
    t.h->pc = RAM_BASE;
    t.h->mstatus |= MSTATUS_MIE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    t.h->pc = RAM_BASE;
    tm_set_priv(&t, PRV_S);
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);   /* SIE = 0 */
    t.h->pc = RAM_BASE;
    t.h->mstatus |= MSTATUS_SIE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), STRAP_VEC);
    cr_assert_eq(t.h->scause, CAUSE_INTERRUPT | IRQ_SSI);
    tm_free(&t);
}

Test(cpu_trap, timer_interrupt_from_mtimecmp)
{
    struct cpt t = tm_new();
    tm_put32(&t, RAM_BASE, JSELF);
    t.h->mie = MIP_MTIP;
    t.h->mstatus |= MSTATUS_MIE;
    hart_set_mtimecmp(t.h, ~0ull);
    hart_step(t.h, 10);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE);
    hart_set_mtimecmp(t.h, 0);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, CAUSE_INTERRUPT | IRQ_MTI);
    tm_free(&t);
}

Test(cpu_trap, sret_tsr_and_mprv)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    tm_put32(&t, RAM_BASE, SRET);
    tm_set_priv(&t, PRV_S);
    t.h->mstatus |= MSTATUS_TSR;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    cr_assert_eq(t.h->mtval, SRET);
    /* SRET in U is illegal too; MRET in S is. */
    t.h->mstatus &= ~MSTATUS_TSR;
    tm_set_priv(&t, PRV_U);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    tm_put32(&t, RAM_BASE, MRET);
    dcache_flush(t.h);
    tm_set_priv(&t, PRV_S);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    /* MRET to S clears MPRV. */
    tm_set_priv(&t, PRV_M);
    t.h->pc = RAM_BASE;
    t.h->mepc = RAM_BASE + 0x40;
    t.h->mstatus = (t.h->mstatus & ~MSTATUS_MPP) | (1ull << 11) | MSTATUS_MPRV;
    tm_step(&t);
    cr_assert_eq(hart_get_priv(t.h), PRV_S);
    cr_assert(!(t.h->mstatus & MSTATUS_MPRV));
    tm_free(&t);
}

Test(cpu_trap, mret_below_m_without_pmp_entry_faults_on_fetch)
{
    /* With PMP present but no entry active, MRET to U succeeds and U's
     * first fetch fails (priv §3.7.1; QEMU 7.2 makes the mret illegal). */
    struct cpt t = tm_new();
    tm_put32(&t, RAM_BASE, MRET);
    t.h->mstatus &= ~MSTATUS_MPP;
    t.h->mepc = RAM_BASE + 0x100;
    tm_step(&t);
    cr_assert_eq(hart_get_priv(t.h), PRV_U);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 0x100);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_INSN_ACCESS);
    cr_assert_eq(t.h->mtval, RAM_BASE + 0x100);
    cr_assert_eq(t.h->mepc, RAM_BASE + 0x100);
    cr_assert_eq(hart_get_priv(t.h), PRV_M);
    tm_free(&t);
}

Test(cpu_trap, wfi_rules)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    tm_put32(&t, RAM_BASE, WFI);
    /* U-mode: illegal (S exists). S with TW: illegal. */
    tm_set_priv(&t, PRV_U);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    tm_set_priv(&t, PRV_S);
    t.h->pc = RAM_BASE;
    t.h->mstatus |= MSTATUS_TW;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    /* M-mode with nothing pending: hart_step returns early, past WFI. */
    tm_set_priv(&t, PRV_M);
    t.h->pc = RAM_BASE;
    hart_set_mtimecmp(t.h, ~0ull);
    cr_assert_eq(hart_step(t.h, 100), 1);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    /* Pending and enabled in mie, globally disabled: WFI does not wait. */
    t.h->mie = MIP_MSIP;
    hart_set_irq(t.h, IRQ_MSI, true);
    tm_put32(&t, RAM_BASE + 4, ADDI(5, 0, 9));
    t.h->pc = RAM_BASE;
    cr_assert_eq(hart_step(t.h, 2), 2);
    cr_assert_eq(hart_get_x(t.h, 5), 9);
    tm_free(&t);
}

Test(cpu_trap, fatal_loop_at_m_vector)
{
    struct cpt t = tm_new();
    t.h->mtvec = 0x1000;        /* nothing there: fetch faults forever */
    tm_put32(&t, RAM_BASE, ECALL);
    hart_step(t.h, 10);
    cr_assert_eq(t.m->exit_reason, MACHINE_FATAL);
    cr_assert_eq(hart_step(t.h, 10), 0);
    tm_free(&t);
}

Test(cpu_trap, wfi_thread_wakes_on_irq)
{
    struct cpt t = tm_new();
    uint32_t prog[] = { WFI, JSELF };
    tm_prog(&t, RAM_BASE, prog, 2);
    hart_set_mtimecmp(t.h, ~0ull);
    t.h->mie = MIP_MEIP;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, hart_thread, t.h), 0);
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    hart_set_irq(t.h, IRQ_MEI, true);   /* MIE = 0: wakes, no trap */
    nanosleep(&ts, NULL);
    hart_stop(t.h);
    pthread_join(th, NULL);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    tm_free(&t);
}
