/*
 * cpu/csr.c — the CSR file (priv spec 1.12 ch. 2-4; unpriv Zicsr, Zicntr)
 * and the CSR instructions. A CSR number not listed here does not exist:
 * accessing it raises illegal-instruction, which is how OpenSBI and Linux
 * probe for extensions (a silent 0 would claim AIA, Smstateen...). The set
 * follows QEMU 7.2's "rv64" CPU with priv 1.12 and Sstc, minus H.
 */
#include "cpu/exec.h"
#include "util/clock.h"

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03, CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143, CSR_SIP = 0x144,
    CSR_STIMECMP = 0x14d, CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303, CSR_MIE = 0x304, CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a, CSR_MCOUNTINHIBIT = 0x320,
    CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343, CSR_MIP = 0x344,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02,
    CSR_MHPMCOUNTER3 = 0xb03, CSR_MHPMCOUNTER31 = 0xb1f,
};

/* misa: RV64 (MXL = 2) IMAFDC + S + U. */
#define MISA_VALUE ((2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) | \
                    (1u << 5) | (1u << 8) | (1u << 12) | (1u << 18) | (1u << 20))

#define SSTATUS_READ (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | \
                      MSTATUS_VS | MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM |     \
                      MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
/* VS is writable although there is no V: priv 1.12 §3.1.6.6 lets it be
 * read-only zero or not when S-mode exists; QEMU 7.2 keeps it writable
 * (and counts VS = Dirty in SD), so we do too. */
#define SSTATUS_WRITE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | \
                       MSTATUS_VS | MSTATUS_SUM | MSTATUS_MXR)
#define MSTATUS_WRITE (SSTATUS_WRITE | MSTATUS_MIE | MSTATUS_MPIE |           \
                       MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW |  \
                       MSTATUS_TSR)
/* Exceptions that can be delegated to S: causes 0-9, 12, 13 and 15.
 * medeleg[11] (ECALL from M) is read-only 0 (priv 1.12 §3.1.8) although
 * QEMU 7.2 lets it be set; 10 and 14 are reserved without H. */
#define MEDELEG_WRITE 0xb3ffull
/* menvcfg/senvcfg: FIOM, CBIE, CBCFE, CBZE; menvcfg also PBMTE and STCE
 * (writable as on QEMU 7.2). */
#define SENVCFG_WRITE 0xf1ull
#define MENVCFG_WRITE (SENVCFG_WRITE | MENVCFG_PBMTE | MENVCFG_STCE)

uint64_t csr_mstatus_read(const struct hart *h)
{
    uint64_t s = h->mstatus;
    if ((s & MSTATUS_FS) == MSTATUS_FS || (s & MSTATUS_XS) == MSTATUS_XS ||
        (s & MSTATUS_VS) == MSTATUS_VS)
        s |= MSTATUS_SD;
    return s;
}

/* Zicntr/Zihpm gating: S needs mcounteren bit n, U needs it in both. */
static bool counter_ok(const struct hart *h, unsigned csr)
{
    unsigned bit = csr & 31;
    if (h->priv == PRV_M)
        return true;
    if (!((h->mcounteren >> bit) & 1))
        return false;
    return h->priv == PRV_S || ((h->scounteren >> bit) & 1);
}

/* Sstc (stimecmp) is visible below M only with mcounteren.TM and
 * menvcfg.STCE, as in QEMU 7.2. */
static bool sstc_ok(const struct hart *h)
{
    return h->priv == PRV_M ||
           ((h->mcounteren & 2) && (h->menvcfg & MENVCFG_STCE));
}

static uint64_t mip_read(const struct hart *h)
{
    uint64_t v = atomic_load_explicit(&h->mip, memory_order_relaxed);
    return h->seip_sw ? v | MIP_SEIP : v;
}

/* Set the software-writable mip bits in `mask` to `val`. */
static void mip_write(struct hart *h, uint64_t mask, uint64_t val)
{
    if (mask & MIP_SEIP)
        h->seip_sw = val & MIP_SEIP;
    mask &= ~MIP_SEIP;
    atomic_fetch_or(&h->mip, val & mask);
    atomic_fetch_and(&h->mip, ~(~val & mask));
}

static bool csr_read_fp(struct hart *h, unsigned csr, uint64_t *val)
{
    if (!fp_enabled(h))
        return false;
    switch (csr) {
    case CSR_FFLAGS: *val = h->fflags & 0x1f; return true;
    case CSR_FRM: *val = h->frm & 7; return true;
    default: *val = (h->frm & 7) << 5 | (h->fflags & 0x1f); return true;
    }
}

static bool csr_read_counter(struct hart *h, unsigned csr, uint64_t *val)
{
    if (!counter_ok(h, csr))
        return false;
    switch (csr) {
    case CSR_CYCLE: *val = hart_instret_now(h) + h->mcycle_off; break;
    case CSR_TIME: *val = clock_mtime(); break;
    case CSR_INSTRET: *val = hart_instret_now(h) + h->minstret_off; break;
    default: *val = 0; break;          /* hpmcounter3..31: no events */
    }
    return true;
}

bool csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr <= CSR_FCSR && csr >= CSR_FFLAGS)
        return csr_read_fp(h, csr, val);
    if (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31)
        return csr_read_counter(h, csr, val);
    if ((csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) ||
        (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31)) {
        *val = 0;
        return true;
    }
    switch (csr) {
    case CSR_SSTATUS: *val = csr_mstatus_read(h) & SSTATUS_READ; break;
    case CSR_SIE: *val = h->mie & h->mideleg & MIP_S_MASK; break;
    case CSR_STVEC: *val = h->stvec; break;
    case CSR_SCOUNTEREN: *val = h->scounteren; break;
    case CSR_SENVCFG: *val = h->senvcfg; break;
    case CSR_SSCRATCH: *val = h->sscratch; break;
    case CSR_SEPC: *val = h->sepc; break;
    case CSR_SCAUSE: *val = h->scause; break;
    case CSR_STVAL: *val = h->stval; break;
    case CSR_SIP: *val = mip_read(h) & h->mideleg & MIP_S_MASK; break;
    case CSR_STIMECMP:
        if (!sstc_ok(h))
            return false;
        *val = h->stimecmp;
        break;
    case CSR_SATP:
        if (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))
            return false;
        *val = h->satp;
        break;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID:
    case CSR_MCONFIGPTR:
        *val = 0;
        break;
    case CSR_MHARTID: *val = h->hartid; break;
    case CSR_MSTATUS: *val = csr_mstatus_read(h); break;
    case CSR_MISA: *val = MISA_VALUE; break;
    case CSR_MEDELEG: *val = h->medeleg; break;
    case CSR_MIDELEG: *val = h->mideleg; break;
    case CSR_MIE: *val = h->mie; break;
    case CSR_MTVEC: *val = h->mtvec; break;
    case CSR_MCOUNTEREN: *val = h->mcounteren; break;
    case CSR_MENVCFG: *val = h->menvcfg; break;
    case CSR_MCOUNTINHIBIT: *val = h->mcountinhibit; break;
    case CSR_MSCRATCH: *val = h->mscratch; break;
    case CSR_MEPC: *val = h->mepc; break;
    case CSR_MCAUSE: *val = h->mcause; break;
    case CSR_MTVAL: *val = h->mtval; break;
    case CSR_MIP: *val = mip_read(h); break;
    case CSR_MCYCLE: *val = hart_instret_now(h) + h->mcycle_off; break;
    case CSR_MINSTRET: *val = hart_instret_now(h) + h->minstret_off; break;
    default:
        return pmp_csr_read(h, csr, val);
    }
    return true;
}

static void mstatus_write(struct hart *h, uint64_t mask, uint64_t val)
{
    uint64_t old = h->mstatus;
    /* MPP is WARL: the reserved 2 keeps the old value (QEMU 7.2 would
     * store it; the spec says MPP never holds an unsupported mode). */
    uint64_t s = (old & ~mask) | (val & mask);
    if ((s & MSTATUS_MPP) == (2ull << 11))
        s = (s & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
    h->mstatus = s;
    if ((old ^ s) & MSTATUS_MXR)
        mmu_flush_all(h);       /* TLB read permissions depend on MXR */
    hart_mode_changed(h);
}

static bool csr_write_fp(struct hart *h, unsigned csr, uint64_t val)
{
    if (!fp_enabled(h))
        return false;
    switch (csr) {
    case CSR_FFLAGS: h->fflags = val & 0x1f; break;
    case CSR_FRM: h->frm = val & 7; break;
    default: h->frm = (val >> 5) & 7; h->fflags = val & 0x1f; break;
    }
    fp_set_dirty(h);
    return true;
}

static void satp_write(struct hart *h, uint64_t val)
{
    unsigned mode = (unsigned)(val >> 60);
    /* WARL: an unsupported mode (Sv57...) leaves satp unchanged. */
    if (mode == 0 || mode == 8 || mode == 9)
        mmu_set_satp(h, val);
}

static bool csr_write_m(struct hart *h, unsigned csr, uint64_t val)
{
    switch (csr) {
    case CSR_MSTATUS: mstatus_write(h, MSTATUS_WRITE, val); break;
    case CSR_MISA: break;                       /* read-only WARL */
    case CSR_MEDELEG: h->medeleg = val & MEDELEG_WRITE; break;
    case CSR_MIDELEG: h->mideleg = val & MIP_S_MASK; break;
    case CSR_MIE: h->mie = val & MIP_ALL; break;
    case CSR_MTVEC: if ((val & 3) < 2) h->mtvec = val; break;
    case CSR_MCOUNTEREN: h->mcounteren = (uint32_t)val; break;  /* 32-bit CSR */
    case CSR_MENVCFG:
        if ((h->menvcfg ^ val) & MENVCFG_PBMTE)
            mmu_flush_all(h);       /* PTE validity depends on PBMTE */
        h->menvcfg = val & MENVCFG_WRITE;
        hart_update_timers(h);
        break;
    case CSR_MCOUNTINHIBIT: h->mcountinhibit = (uint32_t)val & ~2u; break;
    case CSR_MSCRATCH: h->mscratch = val; break;
    case CSR_MEPC: h->mepc = val & ~1ull; break;   /* IALIGN = 16 */
    case CSR_MCAUSE: h->mcause = val; break;
    case CSR_MTVAL: h->mtval = val; break;
    case CSR_MIP: {
        uint64_t mask = MIP_S_MASK;
        if (h->menvcfg & MENVCFG_STCE)
            mask &= ~MIP_STIP;                  /* driven by stimecmp */
        mip_write(h, mask, val);
        break;
    }
    case CSR_MCYCLE: h->mcycle_off = val - hart_instret_now(h); break;
    case CSR_MINSTRET: h->minstret_off = val - hart_instret_now(h); break;
    default:
        if ((csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) ||
            (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31))
            return true;                        /* read-only zero */
        return pmp_csr_write(h, csr, val);
    }
    return true;
}

bool csr_write(struct hart *h, unsigned csr, uint64_t val)
{
    if (csr <= CSR_FCSR && csr >= CSR_FFLAGS)
        return csr_write_fp(h, csr, val);
    switch (csr) {
    case CSR_SSTATUS: mstatus_write(h, SSTATUS_WRITE, val); break;
    case CSR_SIE: {
        uint64_t mask = h->mideleg & MIP_S_MASK;
        h->mie = (h->mie & ~mask) | (val & mask);
        break;
    }
    case CSR_STVEC: if ((val & 3) < 2) h->stvec = val; break;
    case CSR_SCOUNTEREN: h->scounteren = (uint32_t)val; break;
    case CSR_SENVCFG: h->senvcfg = val & SENVCFG_WRITE; break;
    case CSR_SSCRATCH: h->sscratch = val; break;
    case CSR_SEPC: h->sepc = val & ~1ull; break;
    case CSR_SCAUSE: h->scause = val; break;
    case CSR_STVAL: h->stval = val; break;
    case CSR_SIP: mip_write(h, h->mideleg & MIP_SSIP, val); break;
    case CSR_STIMECMP:
        h->stimecmp = val;
        h->stimecmp_armed = true;
        hart_update_timers(h);
        break;
    case CSR_SATP: satp_write(h, val); break;
    default:
        return csr_write_m(h, csr, val);
    }
    return true;
}

/* The CSR instructions (Zicsr): check existence and privilege (csr[9:8]
 * is the lowest privilege; csr[11:10] = 3 means read-only), read, write. */
static void csr_op(struct hart *h, const struct dinsn *d, unsigned op,
                   uint64_t src, bool write)
{
    unsigned csr = (unsigned)d->imm & 0xfff;
    uint64_t old;
    if ((write && (csr >> 10) == 3) || ((csr >> 8) & 3) > h->priv ||
        !csr_read(h, csr, &old)) {
        hart_illegal(h, d);
        return;
    }
    if (write) {
        /* In a CSRRS/CSRRC on mip, SEIP takes part only as its software-
         * written bit, not ORed with the interrupt line (§3.1.9). */
        uint64_t base = old;
        if (csr == 0x344)
            base = (old & ~MIP_SEIP) | (h->seip_sw ? MIP_SEIP : 0);
        uint64_t v = op == 1 ? src : op == 2 ? base | src : base & ~src;
        if (!csr_write(h, csr, v)) {
            hart_illegal(h, d);
            return;
        }
        /* Interrupt enables, pending bits or translation may have changed:
         * end the batch so the loop re-checks interrupts. */
        hart_break(h);
    }
    h->x[d->rd] = old;
    h->pc += d->len;
}

void ex_csrrw(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 1, h->x[d->rs1], true);
}

void ex_csrrs(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 2, h->x[d->rs1], d->rs1 != 0);
}

void ex_csrrc(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 3, h->x[d->rs1], d->rs1 != 0);
}

void ex_csrrwi(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 1, d->rs1, true);
}

void ex_csrrsi(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 2, d->rs1, d->rs1 != 0);
}

void ex_csrrci(struct hart *h, const struct dinsn *d)
{
    csr_op(h, d, 3, d->rs1, d->rs1 != 0);
}
