/*
 * cpu_csr: CSR read/write masks (mstatus, the sstatus view, mie/sie,
 * mip/sip, medeleg/mideleg, satp WARL), access rules (privilege,
 * read-only numbers, unimplemented numbers, counter enables, FS-gated
 * fcsr, TVM), with values derived from priv spec 1.12 ch. 3-4.
 */
#include "tests/unit/cpu_harness.h"

/* Execute one CSR instruction at privilege `priv`; returns true when it
 * did not trap. x5 holds the source, x6 receives the old value. */
static bool csr_insn(struct cpt *t, unsigned priv, uint32_t insn, uint64_t src)
{
    tm_put32(t, RAM_BASE, insn);
    dcache_flush(t->h);
    t->h->pc = RAM_BASE;
    tm_set_priv(t, priv);
    hart_set_x(t->h, 5, src);
    tm_step(t);
    return hart_get_pc(t->h) == RAM_BASE + 4;
}

static uint64_t rd(struct cpt *t, unsigned csr)
{
    uint64_t v = 0;
    cr_assert(csr_read(t->h, csr, &v), "csr %#x", csr);
    return v;
}

Test(cpu_csr, mstatus_mask_and_sd)
{
    struct cpt t = tm_new();
    cr_assert(csr_insn(&t, PRV_M, CSRRW(6, 0x300, 5), ~0ull));
    /* SIE MIE SPIE MPIE SPP MPP VS FS MPRV SUM MXR TVM TW TSR, UXL=SXL=2,
     * and SD because FS = Dirty. No UBE/XS. VS is writable without V, as
     * on QEMU 7.2 (the spec allows either). */
    cr_assert_eq(rd(&t, 0x300), 0x8000000a007e7faaull);
    /* The sstatus view of it. */
    cr_assert_eq(rd(&t, 0x100), 0x80000002000c6722ull);
    cr_assert(csr_write(t.h, 0x300, 0));
    cr_assert_eq(rd(&t, 0x300), 0x0000000a00000000ull);
    /* VS = Dirty alone sets SD too. */
    cr_assert(csr_write(t.h, 0x300, MSTATUS_VS));
    cr_assert_eq(rd(&t, 0x300), 0x8000000a00000600ull);
    cr_assert_eq(rd(&t, 0x100), 0x8000000200000600ull);
    tm_free(&t);
}

Test(cpu_csr, sstatus_writes_only_s_fields)
{
    struct cpt t = tm_new();
    cr_assert(csr_insn(&t, PRV_M, CSRRW(6, 0x100, 5), ~0ull));
    cr_assert_eq(rd(&t, 0x300), 0x8000000a000c6722ull);
    tm_free(&t);
}

Test(cpu_csr, interrupt_enable_and_pending_views)
{
    struct cpt t = tm_new();
    cr_assert(csr_write(t.h, 0x304, ~0ull));
    cr_assert_eq(rd(&t, 0x304), 0xaaa);             /* mie */
    cr_assert_eq(rd(&t, 0x104), 0);                 /* sie: nothing delegated */
    cr_assert(csr_write(t.h, 0x303, ~0ull));
    cr_assert_eq(rd(&t, 0x303), 0x222);             /* mideleg */
    cr_assert_eq(rd(&t, 0x104), 0x222);
    cr_assert(csr_write(t.h, 0x104, 0));
    cr_assert_eq(rd(&t, 0x304), 0x888);             /* M bits untouched */
    /* mip: M may write SSIP, STIP, SEIP; sip only SSIP (if delegated). */
    cr_assert(csr_write(t.h, 0x344, ~0ull));
    cr_assert_eq(rd(&t, 0x344) & 0x2a2, 0x222 & ~0ull);
    cr_assert(csr_write(t.h, 0x344, 0));
    cr_assert_eq(rd(&t, 0x344) & 0x222, 0);
    cr_assert(csr_write(t.h, 0x144, ~0ull));
    cr_assert_eq(rd(&t, 0x144), 0x2);
    tm_free(&t);
}

Test(cpu_csr, medeleg_mask)
{
    struct cpt t = tm_new();
    cr_assert(csr_write(t.h, 0x302, ~0ull));
    cr_assert_eq(rd(&t, 0x302), 0xb3ff);
    tm_free(&t);
}

Test(cpu_csr, unimplemented_numbers_trap)
{
    /* Smstateen, AIA, H, debug, Zkr seed, pmpcfg1, pmpaddr16, mseccfg,
     * cycleh (RV32 only), and plain gaps. */
    const unsigned bad[] = {
        0x30c, 0x35c, 0x15c, 0x600, 0x7a0, 0x015, 0x3a1, 0x3a3, 0x3c0,
        0x747, 0xc80, 0x3a4, 0x800, 0xfff,
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cpt t = tm_new();
        cr_assert(!csr_insn(&t, PRV_M, CSRRS(6, bad[i], 0), 0), "csr %#x", bad[i]);
        cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
        cr_assert_eq(t.h->mtval, CSRRS(6, bad[i], 0));
        tm_free(&t);
    }
}

Test(cpu_csr, privilege_and_read_only)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    /* S cannot touch M CSRs; U cannot touch S CSRs. */
    cr_assert(!csr_insn(&t, PRV_S, CSRRS(6, 0x300, 0), 0));
    cr_assert(!csr_insn(&t, PRV_U, CSRRS(6, 0x100, 0), 0));
    cr_assert(csr_insn(&t, PRV_S, CSRRS(6, 0x100, 0), 0));
    /* Writes to read-only numbers trap, reads do not. */
    cr_assert(csr_insn(&t, PRV_M, CSRRS(6, 0xf14, 0), 0));
    cr_assert(!csr_insn(&t, PRV_M, CSRRW(0, 0xf14, 5), 0));
    cr_assert(!csr_insn(&t, PRV_M, CSRRS(6, 0xf14, 5), 1));
    /* csrrs with rs1 = x0 does not write, so it is fine on read-only. */
    cr_assert(csr_insn(&t, PRV_M, CSRRS(6, 0xc01, 0), 0));
    tm_free(&t);
}

Test(cpu_csr, counters_gated_by_counteren)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    cr_assert(!csr_insn(&t, PRV_S, CSRRS(6, 0xc01, 0), 0));     /* time */
    cr_assert(csr_write(t.h, 0x306, 2));                         /* mcounteren.TM */
    cr_assert(csr_insn(&t, PRV_S, CSRRS(6, 0xc01, 0), 0));
    cr_assert(!csr_insn(&t, PRV_U, CSRRS(6, 0xc01, 0), 0));
    cr_assert(csr_write(t.h, 0x106, 2));                         /* scounteren.TM */
    cr_assert(csr_insn(&t, PRV_U, CSRRS(6, 0xc01, 0), 0));
    cr_assert(!csr_insn(&t, PRV_U, CSRRS(6, 0xc00, 0), 0));     /* cycle: CY=0 */
    /* instret counts: two reads 3 instructions apart. */
    tm_set_priv(&t, PRV_M);
    uint32_t prog[] = { CSRRS(6, 0xb02, 0), ADDI(0, 0, 0), CSRRS(7, 0xb02, 0) };
    tm_prog(&t, RAM_BASE + 0x40, prog, 3);
    t.h->pc = RAM_BASE + 0x40;
    hart_step(t.h, 3);
    cr_assert_eq(hart_get_x(t.h, 7) - hart_get_x(t.h, 6), 2);
    tm_free(&t);
}

Test(cpu_csr, fcsr_needs_fs)
{
    struct cpt t = tm_new();
    cr_assert(!csr_insn(&t, PRV_M, CSRRS(6, 0x003, 0), 0));
    cr_assert(csr_write(t.h, 0x300, MSTATUS_FS_INITIAL));
    cr_assert(csr_insn(&t, PRV_M, CSRRW(6, 0x003, 5), 0xff));
    cr_assert_eq(rd(&t, 0x001), 0x1f);
    cr_assert_eq(rd(&t, 0x002), 0x7);
    cr_assert_eq(t.h->mstatus & MSTATUS_FS, MSTATUS_FS_DIRTY);
    cr_assert_eq(rd(&t, 0x300) >> 63, 1);           /* SD */
    tm_free(&t);
}

Test(cpu_csr, satp_warl_and_tvm)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    uint64_t sv39 = 8ull << 60 | 0x80400;
    cr_assert(csr_write(t.h, 0x180, sv39));
    cr_assert_eq(rd(&t, 0x180), sv39);
    cr_assert(csr_write(t.h, 0x180, 10ull << 60 | 0x1234));    /* Sv57: ignored */
    cr_assert_eq(rd(&t, 0x180), sv39);
    cr_assert(csr_write(t.h, 0x180, 0));
    cr_assert(csr_insn(&t, PRV_S, CSRRS(6, 0x180, 0), 0));
    t.h->mstatus |= MSTATUS_TVM;
    cr_assert(!csr_insn(&t, PRV_S, CSRRS(6, 0x180, 0), 0));
    cr_assert(csr_insn(&t, PRV_M, CSRRS(6, 0x180, 0), 0));
    tm_free(&t);
}

Test(cpu_csr, stimecmp_visibility)
{
    struct cpt t = tm_new();
    tm_pmp_all(&t);
    cr_assert(csr_insn(&t, PRV_M, CSRRS(6, 0x14d, 0), 0));
    cr_assert(!csr_insn(&t, PRV_S, CSRRS(6, 0x14d, 0), 0));
    cr_assert(csr_write(t.h, 0x306, 2));
    cr_assert(csr_write(t.h, 0x30a, MENVCFG_STCE));
    cr_assert(csr_insn(&t, PRV_S, CSRRS(6, 0x14d, 0), 0));
    /* With STCE, STIP follows stimecmp and mip.STIP is not writable. */
    cr_assert(csr_write(t.h, 0x14d, ~0ull));
    cr_assert(csr_write(t.h, 0x344, MIP_STIP));
    cr_assert_eq(rd(&t, 0x344) & MIP_STIP, 0);
    cr_assert(csr_write(t.h, 0x14d, 0));
    cr_assert_eq(rd(&t, 0x344) & MIP_STIP, MIP_STIP);
    tm_free(&t);
}

Test(cpu_csr, misa_and_ids)
{
    struct cpt t = tm_new();
    cr_assert_eq(rd(&t, 0x301), 0x800000000014112dull);
    cr_assert(csr_write(t.h, 0x301, 0));
    cr_assert_eq(rd(&t, 0x301), 0x800000000014112dull);
    cr_assert_eq(rd(&t, 0xf14), 0);
    cr_assert_eq(rd(&t, 0xf11), 0);
    cr_assert_eq(rd(&t, 0xb03), 0);                 /* mhpmcounter3 */
    cr_assert_eq(rd(&t, 0x323), 0);                 /* mhpmevent3 */
    tm_free(&t);
}
