/* fp — F and D: every arithmetic op under every rounding mode (static and
 * dynamic) with exact fflags, fused multiply-add, sqrt, conversions with
 * saturation, fmin/fmax on signed zeros and NaNs, comparisons, fclass,
 * NaN-boxing of singles. Operands go in and results come out as raw 64-bit
 * patterns (fmv.d.x / fmv.x.d), so boxing is visible. */
#include "common.h"

static const u64 dv[] = {
    0x0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x3fd5555555555555ull, 0x0000000000000001ull, 0x000fffffffffffffull,
    0x0010000000000000ull, 0x7fefffffffffffffull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
    0x3ff0000000000001ull, 0xc008000000000000ull, 0x4340000000000001ull,
};
#define B(x) (0xffffffff00000000ull | (x))
static const u64 sv[] = {
    B(0x0), B(0x80000000), B(0x3f800000), B(0xbf800000), B(0x3eaaaaab),
    B(0x00000001), B(0x007fffff), B(0x00800000), B(0x7f7fffff), B(0x7f800000),
    B(0xff800000), B(0x7fc00000), B(0x7fa00000), B(0x3f800001), B(0xc0400000),
    0x000000003f800000ull,      /* 1.0f, not NaN-boxed: reads as canonical NaN */
};
/* Conversion inputs: halves (ties), integer range limits. */
static const u64 dcv[] = {
    0x3fe0000000000000ull, 0x3ff8000000000000ull, 0x4004000000000000ull,
    0xc004000000000000ull, 0xbfe0000000000000ull, 0x41dfffffffc00000ull,
    0x41e0000000000000ull, 0xc1e0000000000000ull, 0xc1e0000000200000ull,
    0x41efffffffe00000ull, 0x41efffffffe80000ull, 0x41f0000000000000ull,
    0x43dfffffffffffffull, 0x43e0000000000000ull, 0xc3e0000000000000ull,
    0xc3e0000000000001ull, 0x43efffffffffffffull, 0x43f0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0x8000000000000000ull, 0xbff0000000000000ull, 0x0000000000000001ull,
};
static const u64 scv[] = {
    B(0x3f000000), B(0x3fc00000), B(0x40200000), B(0xc0200000), B(0xbf000000),
    B(0x4effffff), B(0x4f000000), B(0xcf000000), B(0xcf000001), B(0x4f7fffff),
    B(0x4f800000), B(0x5effffff), B(0x5f000000), B(0xdf000000), B(0xdf000001),
    B(0x5f7fffff), B(0x5f800000), B(0x7f800000), B(0xff800000), B(0x7fc00000),
    B(0x80000000), B(0xbf800000), B(0x00000001), 0x1234567840000000ull,
};

typedef u64 (*fn2)(u64, u64, u64 *);
typedef u64 (*fn3)(u64, u64, u64, u64 *);
struct op2 { const char *name; fn2 f; };
struct op3 { const char *name; fn3 f; };

/* fd = op(fa, fb), fflags cleared first and read after. */
#define F2(id, insn) \
    static u64 id(u64 a, u64 b, u64 *fl) { u64 r, f; __asm__ volatile( \
        "fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n csrw fflags, x0\n " insn "\n" \
        " fmv.x.d %0, ft2\n frflags %1" : "=r"(r), "=r"(f) : "r"(a), "r"(b) \
        : "ft0", "ft1", "ft2"); *fl = f; return r; }
/* x = op(fa, fb): comparisons, fclass, fcvt to integer, fmv.x.* */
#define FX(id, insn) \
    static u64 id(u64 a, u64 b, u64 *fl) { u64 r, f; (void)b; __asm__ volatile( \
        "fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n csrw fflags, x0\n " insn "\n" \
        " frflags %1" : "=&r"(r), "=r"(f) : "r"(a), "r"(b) \
        : "ft0", "ft1"); *fl = f; return r; }
/* fd = op(x): fcvt from integer, fmv.*.x */
#define XF(id, insn) \
    static u64 id(u64 a, u64 b, u64 *fl) { u64 r, f; (void)b; __asm__ volatile( \
        "csrw fflags, x0\n " insn "\n fmv.x.d %0, ft2\n frflags %1" \
        : "=r"(r), "=r"(f) : "r"(a) : "ft2"); *fl = f; return r; }
#define F3(id, insn) \
    static u64 id(u64 a, u64 b, u64 c, u64 *fl) { u64 r, f; __asm__ volatile( \
        "fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n fmv.d.x ft3, %4\n csrw fflags, x0\n " \
        insn "\n fmv.x.d %0, ft2\n frflags %1" : "=r"(r), "=r"(f) \
        : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); *fl = f; return r; }

#define RM6(M, id, op, args) \
    M(id##_rne, op " " args ", rne") M(id##_rtz, op " " args ", rtz") \
    M(id##_rdn, op " " args ", rdn") M(id##_rup, op " " args ", rup") \
    M(id##_rmm, op " " args ", rmm") M(id##_dyn, op " " args ", dyn")
#define ENT6(id, name) { name ".rne", id##_rne }, { name ".rtz", id##_rtz }, \
    { name ".rdn", id##_rdn }, { name ".rup", id##_rup }, \
    { name ".rmm", id##_rmm }, { name ".dyn", id##_dyn }

RM6(F2, fadd_s, "fadd.s", "ft2, ft0, ft1") RM6(F2, fsub_s, "fsub.s", "ft2, ft0, ft1")
RM6(F2, fmul_s, "fmul.s", "ft2, ft0, ft1") RM6(F2, fdiv_s, "fdiv.s", "ft2, ft0, ft1")
RM6(F2, fadd_d, "fadd.d", "ft2, ft0, ft1") RM6(F2, fsub_d, "fsub.d", "ft2, ft0, ft1")
RM6(F2, fmul_d, "fmul.d", "ft2, ft0, ft1") RM6(F2, fdiv_d, "fdiv.d", "ft2, ft0, ft1")
RM6(F2, fsqrt_s, "fsqrt.s", "ft2, ft0") RM6(F2, fsqrt_d, "fsqrt.d", "ft2, ft0")
RM6(F2, fcvt_s_d, "fcvt.s.d", "ft2, ft0")
F2(fcvt_d_s, "fcvt.d.s ft2, ft0")
F2(fmin_s, "fmin.s ft2, ft0, ft1") F2(fmax_s, "fmax.s ft2, ft0, ft1")
F2(fmin_d, "fmin.d ft2, ft0, ft1") F2(fmax_d, "fmax.d ft2, ft0, ft1")
F2(fsgnj_s, "fsgnj.s ft2, ft0, ft1") F2(fsgnjn_s, "fsgnjn.s ft2, ft0, ft1")
F2(fsgnjx_s, "fsgnjx.s ft2, ft0, ft1") F2(fsgnj_d, "fsgnj.d ft2, ft0, ft1")
F2(fsgnjn_d, "fsgnjn.d ft2, ft0, ft1") F2(fsgnjx_d, "fsgnjx.d ft2, ft0, ft1")
FX(feq_s, "feq.s %0, ft0, ft1") FX(flt_s, "flt.s %0, ft0, ft1") FX(fle_s, "fle.s %0, ft0, ft1")
FX(feq_d, "feq.d %0, ft0, ft1") FX(flt_d, "flt.d %0, ft0, ft1") FX(fle_d, "fle.d %0, ft0, ft1")
FX(fclass_s, "fclass.s %0, ft0") FX(fclass_d, "fclass.d %0, ft0")
FX(fmv_x_w, "fmv.x.w %0, ft0") FX(fmv_x_d, "fmv.x.d %0, ft0")
RM6(FX, fcvt_w_s, "fcvt.w.s", "%0, ft0") RM6(FX, fcvt_wu_s, "fcvt.wu.s", "%0, ft0")
RM6(FX, fcvt_l_s, "fcvt.l.s", "%0, ft0") RM6(FX, fcvt_lu_s, "fcvt.lu.s", "%0, ft0")
RM6(FX, fcvt_w_d, "fcvt.w.d", "%0, ft0") RM6(FX, fcvt_wu_d, "fcvt.wu.d", "%0, ft0")
RM6(FX, fcvt_l_d, "fcvt.l.d", "%0, ft0") RM6(FX, fcvt_lu_d, "fcvt.lu.d", "%0, ft0")
RM6(XF, fcvt_s_w, "fcvt.s.w", "ft2, %2") RM6(XF, fcvt_s_wu, "fcvt.s.wu", "ft2, %2")
RM6(XF, fcvt_s_l, "fcvt.s.l", "ft2, %2") RM6(XF, fcvt_s_lu, "fcvt.s.lu", "ft2, %2")
RM6(XF, fcvt_d_l, "fcvt.d.l", "ft2, %2") RM6(XF, fcvt_d_lu, "fcvt.d.lu", "ft2, %2")
XF(fcvt_d_w, "fcvt.d.w ft2, %2") XF(fcvt_d_wu, "fcvt.d.wu ft2, %2")
XF(fmv_w_x, "fmv.w.x ft2, %2") XF(fmv_d_x, "fmv.d.x ft2, %2")
#define RM3(M, id, op, args) \
    M(id##_rne, op " " args ", rne") M(id##_rdn, op " " args ", rdn") \
    M(id##_rmm, op " " args ", rmm")
RM3(F3, fmadd_s, "fmadd.s", "ft2, ft0, ft1, ft3") RM3(F3, fmadd_d, "fmadd.d", "ft2, ft0, ft1, ft3")
F3(fmsub_s_rne, "fmsub.s ft2, ft0, ft1, ft3, rne") F3(fnmadd_s_rne, "fnmadd.s ft2, ft0, ft1, ft3, rne")
F3(fnmsub_s_rne, "fnmsub.s ft2, ft0, ft1, ft3, rne") F3(fmsub_d_rne, "fmsub.d ft2, ft0, ft1, ft3, rne")
F3(fnmadd_d_rne, "fnmadd.d ft2, ft0, ft1, ft3, rne") F3(fnmsub_d_rne, "fnmsub.d ft2, ft0, ft1, ft3, rne")

static const struct op2 bin_s[] = {
    ENT6(fadd_s, "fadd.s"), ENT6(fsub_s, "fsub.s"), ENT6(fmul_s, "fmul.s"),
    ENT6(fdiv_s, "fdiv.s"), { "fmin.s", fmin_s }, { "fmax.s", fmax_s },
    { "fsgnj.s", fsgnj_s }, { "fsgnjn.s", fsgnjn_s }, { "fsgnjx.s", fsgnjx_s },
    { "feq.s", feq_s }, { "flt.s", flt_s }, { "fle.s", fle_s },
};
static const struct op2 bin_d[] = {
    ENT6(fadd_d, "fadd.d"), ENT6(fsub_d, "fsub.d"), ENT6(fmul_d, "fmul.d"),
    ENT6(fdiv_d, "fdiv.d"), { "fmin.d", fmin_d }, { "fmax.d", fmax_d },
    { "fsgnj.d", fsgnj_d }, { "fsgnjn.d", fsgnjn_d }, { "fsgnjx.d", fsgnjx_d },
    { "feq.d", feq_d }, { "flt.d", flt_d }, { "fle.d", fle_d },
};
static const struct op2 un_s[] = {
    ENT6(fsqrt_s, "fsqrt.s"), { "fcvt.d.s", fcvt_d_s }, { "fclass.s", fclass_s },
    { "fmv.x.w", fmv_x_w },
    ENT6(fcvt_w_s, "fcvt.w.s"), ENT6(fcvt_wu_s, "fcvt.wu.s"),
    ENT6(fcvt_l_s, "fcvt.l.s"), ENT6(fcvt_lu_s, "fcvt.lu.s"),
};
static const struct op2 un_d[] = {
    ENT6(fsqrt_d, "fsqrt.d"), ENT6(fcvt_s_d, "fcvt.s.d"), { "fclass.d", fclass_d },
    { "fmv.x.d", fmv_x_d },
    ENT6(fcvt_w_d, "fcvt.w.d"), ENT6(fcvt_wu_d, "fcvt.wu.d"),
    ENT6(fcvt_l_d, "fcvt.l.d"), ENT6(fcvt_lu_d, "fcvt.lu.d"),
};
static const struct op2 from_x[] = {
    ENT6(fcvt_s_w, "fcvt.s.w"), ENT6(fcvt_s_wu, "fcvt.s.wu"),
    ENT6(fcvt_s_l, "fcvt.s.l"), ENT6(fcvt_s_lu, "fcvt.s.lu"),
    ENT6(fcvt_d_l, "fcvt.d.l"), ENT6(fcvt_d_lu, "fcvt.d.lu"),
    { "fcvt.d.w", fcvt_d_w }, { "fcvt.d.wu", fcvt_d_wu },
    { "fmv.w.x", fmv_w_x }, { "fmv.d.x", fmv_d_x },
};
/* FMA: three rounding modes for fmadd, the sign variants in RNE only,
 * which keeps the output reasonable. */
#define ENT3(id, name) { name ".rne", id##_rne }, { name ".rdn", id##_rdn }, \
    { name ".rmm", id##_rmm }
static const struct op3 fma_s[] = {
    ENT3(fmadd_s, "fmadd.s"), { "fmsub.s.rne", fmsub_s_rne },
    { "fnmadd.s.rne", fnmadd_s_rne }, { "fnmsub.s.rne", fnmsub_s_rne },
};
static const struct op3 fma_d[] = {
    ENT3(fmadd_d, "fmadd.d"), { "fmsub.d.rne", fmsub_d_rne },
    { "fnmadd.d.rne", fnmadd_d_rne }, { "fnmsub.d.rne", fnmsub_d_rne },
};

static void table2(const struct op2 *ops, unsigned n, const u64 *v, unsigned nv)
{
    for (unsigned k = 0; k < n; k++)
        for (unsigned i = 0; i < nv; i++) {
            rt_printf("%s %lx:", ops[k].name, v[i]);
            for (unsigned j = 0; j < nv; j++) {
                u64 fl, r = ops[k].f(v[i], v[j], &fl);
                rt_printf(" %lx/%lx", r, fl);
            }
            rt_putc('\n');
        }
}

static void table1(const struct op2 *ops, unsigned n, const u64 *v, unsigned nv)
{
    for (unsigned k = 0; k < n; k++) {
        rt_printf("%s:", ops[k].name);
        for (unsigned i = 0; i < nv; i++) {
            u64 fl, r = ops[k].f(v[i], 0, &fl);
            rt_printf(" %lx/%lx", r, fl);
        }
        rt_putc('\n');
    }
}

/* FMA over a smaller operand set: a*b+c for all triples. */
static void table3(const struct op3 *ops, unsigned n, const u64 *v)
{
    static const unsigned pick[] = { 0, 1, 2, 4, 5, 8, 9, 11, 12 };
    for (unsigned k = 0; k < n; k++)
        for (unsigned i = 0; i < ARRAY_SIZE(pick); i++)
            for (unsigned j = 0; j < ARRAY_SIZE(pick); j++) {
                rt_printf("%s %lx %lx:", ops[k].name, v[pick[i]], v[pick[j]]);
                for (unsigned c = 0; c < ARRAY_SIZE(pick); c++) {
                    u64 fl, r = ops[k].f(v[pick[i]], v[pick[j]], v[pick[c]], &fl);
                    rt_printf(" %lx/%lx", r, fl);
                }
                rt_putc('\n');
            }
}

static void csrs(void)
{
    u64 a, b, c;
    __asm__ volatile("csrrw %0, fcsr, %3\n csrr %1, fflags\n csrr %2, frm"
                     : "=r"(a), "=r"(b), "=r"(c) : "r"(~0ull));
    rt_printf("fcsr<-~0: old=%lx fflags=%lx frm=%lx", a, b, c);
    __asm__ volatile("csrrwi %0, frm, 3\n csrrsi %1, fflags, 0\n csrr %2, fcsr"
                     : "=r"(a), "=r"(b), "=r"(c));
    rt_printf(" frm<-3: old=%lx fflags=%lx fcsr=%lx", a, b, c);
    __asm__ volatile("csrrci %0, fflags, 0x15\n csrr %1, fcsr\n csrw fcsr, x0\n csrr %2, fcsr"
                     : "=r"(a), "=r"(b), "=r"(c));
    rt_printf(" fflags&=~15: old=%lx fcsr=%lx cleared=%lx\n", a, b, c);
    /* flags accumulate across instructions */
    __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, x0\n fdiv.d ft2, ft0, ft1\n"
                     " fsqrt.d ft2, ft1\n fadd.d ft2, ft0, ft0\n fmv.d.x ft1, %3\n"
                     " fmul.d ft2, ft1, ft1\n frflags %0\n csrw fflags, x0\n"
                     " fmv.d.x ft1, %4\n feq.d %1, ft1, ft1\n frflags %1"
                     : "=&r"(a), "=&r"(b) : "r"(0x3ff0000000000000ull),
                       "r"(0x7fefffffffffffffull), "r"(0x7ff4000000000000ull)
                     : "ft0", "ft1", "ft2");
    rt_printf("accumulated flags %lx, feq on sNaN flags %lx\n", a, b);
}

static void boxing(void)
{
    u64 r, s;
    /* flw/fsw and fld NaN-boxing; fsw of a non-boxed value stores its low
     * half; fmv.x.w sign-extends bit 31 whatever the upper half holds */
    static u64 m[2] = { 0x1122334455667788ull, 0 };
    __asm__ volatile("flw ft0, 0(%2)\n fmv.x.d %0, ft0\n fmv.d.x ft1, %3\n"
                     " fsw ft1, 8(%2)\n fmv.x.w %1, ft1"
                     : "=&r"(r), "=&r"(s) : "r"(m), "r"(0x12345678c0000000ull)
                     : "ft0", "ft1", "memory");
    rt_printf("flw boxes %lx; fsw unboxed stores %lx; fmv.x.w %lx\n", r, m[1], s);
    __asm__ volatile("fmv.d.x ft0, %2\n fsgnj.s ft1, ft0, ft0\n fmv.x.d %0, ft1\n"
                     " fsgnjn.d ft1, ft0, ft0\n fmv.x.d %1, ft1"
                     : "=&r"(r), "=&r"(s) : "r"(0x000000003f800000ull) : "ft0", "ft1");
    rt_printf("fsgnj.s of unboxed %lx, fsgnjn.d of it %lx\n", r, s);
}

static void frm_invalid(void)
{
    rt_printf("invalid frm (5, 6, 7) with dynamic rounding:\n");
    for (u64 rm = 5; rm < 8; rm++) {
        u64 r = 0;
        __asm__ volatile("fsrm %1\n fmv.d.x ft0, %2\n fadd.d ft1, ft0, ft0, dyn\n"
                         " fsgnj.d ft1, ft0, ft0\n fmv.x.d %0, ft1\n fsrmi 0"
                         : "+r"(r) : "r"(rm), "r"(0x3ff0000000000000ull) : "ft0", "ft1");
        rt_printf(" frm=%lx -> %lx\n", rm, r);
    }
    rt_printf("static rm 5 and 6 (reserved):\n");
    __asm__ volatile(".word 0x0200d0d3\n .word 0x0200e0d3" ::: "ft1");  /* fadd.s ft1,ft1,ft0,rm=5/6 */
}

static void fs_state(void)
{
    u64 st;
    rt_printf("mstatus.FS/SD:");
    CSR_CLEAR(mstatus, MSTATUS_FS);
    CSR_SET(mstatus, 1ull << 13);   /* Initial */
    st = CSR_READ(mstatus);
    rt_printf(" initial %lx", (st >> 13 & 3) | (st >> 62 & 2));
    __asm__ volatile("fmv.d.x ft0, x0" ::: "ft0");
    st = CSR_READ(mstatus);
    rt_printf(" after fmv %lx", (st >> 13 & 3) | (st >> 62 & 2));
    CSR_CLEAR(mstatus, MSTATUS_FS);
    CSR_SET(mstatus, 2ull << 13);   /* Clean */
    __asm__ volatile("csrr x0, fflags");
    st = CSR_READ(mstatus);
    rt_printf(" clean+frflags %lx", (st >> 13 & 3) | (st >> 62 & 2));
    __asm__ volatile("csrw fflags, x0");
    st = CSR_READ(mstatus);
    rt_printf(" clean+fsflags %lx\n", (st >> 13 & 3) | (st >> 62 & 2));
    CSR_CLEAR(mstatus, MSTATUS_FS);         /* Off: every FP access traps */
    __asm__ volatile("fmv.d.x ft0, x0" ::: "ft0");
    __asm__ volatile("csrr x0, fcsr");
    __asm__ volatile("fld ft0, 0(sp)" ::: "ft0");
    CSR_SET(mstatus, MSTATUS_FS);
}

int main(void)
{
    __asm__ volatile("fsrmi 4");    /* the .dyn variants round to max magnitude */
    table2(bin_s, ARRAY_SIZE(bin_s), sv, ARRAY_SIZE(sv));
    table2(bin_d, ARRAY_SIZE(bin_d), dv, ARRAY_SIZE(dv));
    table1(un_s, ARRAY_SIZE(un_s), sv, ARRAY_SIZE(sv));
    table1(un_s, ARRAY_SIZE(un_s), scv, ARRAY_SIZE(scv));
    table1(un_d, ARRAY_SIZE(un_d), dv, ARRAY_SIZE(dv));
    table1(un_d, ARRAY_SIZE(un_d), dcv, ARRAY_SIZE(dcv));
    table1(from_x, ARRAY_SIZE(from_x), ivals, ARRAY_SIZE(ivals));
    table3(fma_s, ARRAY_SIZE(fma_s), sv);
    table3(fma_d, ARRAY_SIZE(fma_d), dv);
    csrs();
    boxing();
    frm_invalid();
    fs_state();
    return 0;
}
