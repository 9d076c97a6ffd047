/*
 * cpu/trap.c — trap entry and return (priv spec 1.12 §3.1.6-3.1.9, §3.3,
 * §4.1.1): exception and interrupt delegation, vectored mtvec/stvec, the
 * interrupt priority order, MRET/SRET, ECALL/EBREAK and WFI.
 */
#include "cpu/exec.h"

#define SET_FIELD(reg, mask, val) \
    ((reg) = ((reg) & ~(mask)) | (((uint64_t)(val) * ((mask) & -(mask))) & (mask)))
#define GET_FIELD(reg, mask) (((reg) & (mask)) / ((mask) & -(mask)))

static uint64_t trap_vector(uint64_t tvec, uint64_t cause)
{
    uint64_t base = tvec & ~3ull;
    if ((tvec & 3) == 1 && (cause & CAUSE_INTERRUPT))
        return base + 4 * (cause & 63);
    return base;
}

void hart_trap(struct hart *h, uint64_t cause, uint64_t tval)
{
    bool irq = cause & CAUSE_INTERRUPT;
    uint64_t code = cause & ~CAUSE_INTERRUPT;
    uint64_t deleg = irq ? h->mideleg : h->medeleg;
    unsigned from = h->priv;

    h->res_valid = false;
    if (from <= PRV_S && code < 64 && ((deleg >> code) & 1)) {
        h->scause = cause;
        h->sepc = h->pc;
        h->stval = tval;
        uint64_t s = h->mstatus;
        SET_FIELD(s, MSTATUS_SPIE, GET_FIELD(s, MSTATUS_SIE));
        s &= ~MSTATUS_SIE;
        SET_FIELD(s, MSTATUS_SPP, from);
        h->mstatus = s;
        h->priv = PRV_S;
        h->pc = trap_vector(h->stvec, cause);
    } else {
        uint64_t target = trap_vector(h->mtvec, cause);
        /* An exception in M-mode at the very address its handler starts
         * at would re-enter itself forever (e.g. mtvec points at memory
         * that cannot be fetched): nothing the guest can recover from. */
        if (from == PRV_M && !irq && target == h->pc) {
            hart_fatal(h, "exception at the M-mode trap vector", cause);
            return;
        }
        h->mcause = cause;
        h->mepc = h->pc;
        h->mtval = tval;
        uint64_t s = h->mstatus;
        SET_FIELD(s, MSTATUS_MPIE, GET_FIELD(s, MSTATUS_MIE));
        s &= ~MSTATUS_MIE;
        SET_FIELD(s, MSTATUS_MPP, from);
        h->mstatus = s;
        h->priv = PRV_M;
        h->pc = target;
    }
    hart_mode_changed(h);
}

void hart_illegal(struct hart *h, const struct dinsn *d)
{
    hart_trap(h, EXC_ILLEGAL, d->raw);
}

/* Priority among pending-and-enabled interrupts (priv spec §3.1.9). */
static const uint8_t irq_priority[] = {
    IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI,
};

bool trap_take_interrupt(struct hart *h)
{
    uint64_t pend = hart_pending(h);
    if (likely(!pend))
        return false;
    /* M-level interrupts are enabled below M, or in M with MIE; S-level
     * (delegated) ones below S, or in S with SIE, and never in M. */
    bool m_on = h->priv < PRV_M || (h->mstatus & MSTATUS_MIE);
    bool s_on = h->priv < PRV_S ||
                (h->priv == PRV_S && (h->mstatus & MSTATUS_SIE));
    uint64_t take = m_on ? pend & ~h->mideleg : 0;
    if (!take && s_on)
        take = pend & h->mideleg;
    if (!take)
        return false;
    for (unsigned i = 0; i < sizeof irq_priority; i++) {
        if (take & (1ull << irq_priority[i])) {
            h->wfi = false;
            hart_trap(h, CAUSE_INTERRUPT | irq_priority[i], 0);
            return true;
        }
    }
    return false;
}

void ex_ecall(struct hart *h, const struct dinsn *d)
{
    static const uint8_t cause[4] = {
        EXC_ECALL_U, EXC_ECALL_S, EXC_ILLEGAL, EXC_ECALL_M,
    };
    hart_trap(h, cause[h->priv & 3], 0);
}

void ex_ebreak(struct hart *h, const struct dinsn *d)
{
    /* tval = 0, as QEMU 7.2 (the spec also allows the pc). */
    hart_trap(h, EXC_BREAKPOINT, 0);
}

/* MRET (priv spec §3.3.2): MIE = MPIE, MPIE = 1, MPP = U, and MPRV = 0 when
 * returning below M. With no PMP entry active the mret itself succeeds and
 * the first S/U fetch fails (§3.7.1: "If no PMP entry matches an S-mode or
 * U-mode access, but at least one PMP entry is implemented, the access
 * fails"); QEMU 7.2 raises illegal-instruction on the mret instead. */
void ex_mret(struct hart *h, const struct dinsn *d)
{
    if (h->priv != PRV_M) {
        hart_illegal(h, d);
        return;
    }
    uint64_t s = h->mstatus;
    unsigned to = (unsigned)GET_FIELD(s, MSTATUS_MPP);
    if (to == 2)
        to = PRV_U;         /* unreachable: MPP is legalized on write */
    SET_FIELD(s, MSTATUS_MIE, GET_FIELD(s, MSTATUS_MPIE));
    s |= MSTATUS_MPIE;
    SET_FIELD(s, MSTATUS_MPP, PRV_U);
    if (to != PRV_M)
        s &= ~MSTATUS_MPRV;
    h->mstatus = s;
    h->priv = to;
    h->pc = h->mepc & ~1ull;
    h->res_valid = false;
    hart_mode_changed(h);
    hart_break(h);
}

/* SRET (priv spec §3.3.2, §3.1.6.5): illegal in U, and in S with TSR. */
void ex_sret(struct hart *h, const struct dinsn *d)
{
    if (h->priv == PRV_U ||
        (h->priv == PRV_S && (h->mstatus & MSTATUS_TSR))) {
        hart_illegal(h, d);
        return;
    }
    uint64_t s = h->mstatus;
    unsigned to = (unsigned)GET_FIELD(s, MSTATUS_SPP);
    SET_FIELD(s, MSTATUS_SIE, GET_FIELD(s, MSTATUS_SPIE));
    s |= MSTATUS_SPIE;
    s &= ~MSTATUS_SPP;
    s &= ~MSTATUS_MPRV;     /* SPP is never M */
    h->mstatus = s;
    h->priv = to;
    h->pc = h->sepc & ~1ull;
    h->res_valid = false;
    hart_mode_changed(h);
    hart_break(h);
}

/* WFI (priv spec §3.3.3). As in QEMU 7.2: illegal in U-mode (S exists), and
 * in S-mode when mstatus.TW = 1. Otherwise the hart sleeps (hart.c) until an
 * interrupt is pending and enabled in mie, whatever the global enables. */
void ex_wfi(struct hart *h, const struct dinsn *d)
{
    if (h->priv == PRV_U ||
        (h->priv == PRV_S && (h->mstatus & MSTATUS_TW))) {
        hart_illegal(h, d);
        return;
    }
    h->pc += d->len;
    if (!hart_pending(h)) {
        h->wfi = true;
        hart_break(h);
    }
}
