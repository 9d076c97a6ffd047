/*
 * cpu/fpu.c — decode and execute the RV64 F and D instructions of major
 * opcodes OP-FP (0x53) and MADD/MSUB/NMSUB/NMADD (0x43/0x47/0x4b/0x4f),
 * unpriv spec chapters 11 and 12. The arithmetic itself is in
 * cpu/fpu_arith.c, cpu/fpu_soft.c and cpu/fpu_misc.c.
 *
 * Every handler first checks mstatus.FS (off: illegal instruction) and, for
 * instructions with a rounding mode, resolves DYN from frm (5, 6, 7 there:
 * illegal instruction, §11.2). Singles are read through NaN-unboxing and
 * written boxed (§12.2). mstatus.FS becomes Dirty when an f register is
 * written (as QEMU) and also when an instruction that writes only an x
 * register accrues a new fflags bit: fcsr is FP state too (priv §3.1.6.6).
 */
#include "cpu/fpu.h"
#include "cpu/fpu_int.h"

/* Checks shared by all handlers; on failure they trap and return false. */
static inline bool fpu_on(struct hart *h, const struct dinsn *d)
{
    if (!fp_enabled(h)) {
        hart_illegal(h, d);
        return false;
    }
    return true;
}

static inline bool fpu_rm(struct hart *h, const struct dinsn *d,
                          unsigned *rm)
{
    unsigned r = d->rm == FPU_DYN ? h->frm : d->rm;

    if (!fp_enabled(h) || r > FPU_RMM) {
        hart_illegal(h, d);
        return false;
    }
    *rm = r;
    return true;
}

/* Retire with an f-register result. */
static inline void wr_f(struct hart *h, const struct dinsn *d, uint64_t v,
                        uint32_t fl)
{
    h->f[d->rd] = v;
    fp_raise(h, fl);
    fp_set_dirty(h);
    h->pc += d->len;
}

/* Retire with an x-register result (x0 stays zero). */
static inline void wr_x(struct hart *h, const struct dinsn *d, uint64_t v,
                        uint32_t fl)
{
    if (d->rd)
        h->x[d->rd] = v;
    if (fl & ~h->fflags) {
        fp_raise(h, fl);
        fp_set_dirty(h);
    }
    h->pc += d->len;
}

/* Operand access by width: singles unbox, doubles are raw. */
#define ARG32(v) fpu_unbox(v)
#define ARG64(v) (v)
#define RES32(v) fpu_box(v)
#define RES64(v) (v)
#define SIGN32 F32_SIGN
#define SIGN64 F64_SIGN

#define FPU_BINOP(name, W, op)                                            \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        unsigned rm;                                                      \
        uint##W##_t r;                                                    \
                                                                          \
        if (!fpu_rm(h, d, &rm))                                           \
            return;                                                       \
        r = fpu_f##W##_##op(ARG##W(h->f[d->rs1]), ARG##W(h->f[d->rs2]),   \
                            rm, &fl);                                     \
        wr_f(h, d, RES##W(r), fl);                                        \
    }

FPU_BINOP(fadd_s, 32, add)
FPU_BINOP(fsub_s, 32, sub)
FPU_BINOP(fmul_s, 32, mul)
FPU_BINOP(fdiv_s, 32, div)
FPU_BINOP(fadd_d, 64, add)
FPU_BINOP(fsub_d, 64, sub)
FPU_BINOP(fmul_d, 64, mul)
FPU_BINOP(fdiv_d, 64, div)

#define FPU_SQRT(name, W)                                                 \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        unsigned rm;                                                      \
        uint##W##_t r;                                                    \
                                                                          \
        if (!fpu_rm(h, d, &rm))                                           \
            return;                                                       \
        r = fpu_f##W##_sqrt(ARG##W(h->f[d->rs1]), rm, &fl);               \
        wr_f(h, d, RES##W(r), fl);                                        \
    }

FPU_SQRT(fsqrt_s, 32)
FPU_SQRT(fsqrt_d, 64)

/* Fused multiply-adds (§11.6): FMADD a*b+c, FMSUB a*b-c, FNMSUB -(a*b)+c,
 * FNMADD -(a*b)-c, each computed as fma(+-a, b, +-c) with one rounding.
 * Flipping the sign of a NaN operand is harmless: the result is canonical. */
#define FPU_FMA(name, W, nega, negc)                                      \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        unsigned rm;                                                      \
        uint##W##_t r;                                                    \
                                                                          \
        if (!fpu_rm(h, d, &rm))                                           \
            return;                                                       \
        r = fpu_f##W##_fma(ARG##W(h->f[d->rs1]) ^ ((nega) ? SIGN##W : 0), \
                           ARG##W(h->f[d->rs2]),                          \
                           ARG##W(h->f[d->rs3]) ^ ((negc) ? SIGN##W : 0), \
                           rm, &fl);                                      \
        wr_f(h, d, RES##W(r), fl);                                        \
    }

FPU_FMA(fmadd_s, 32, 0, 0)
FPU_FMA(fmsub_s, 32, 0, 1)
FPU_FMA(fnmsub_s, 32, 1, 0)
FPU_FMA(fnmadd_s, 32, 1, 1)
FPU_FMA(fmadd_d, 64, 0, 0)
FPU_FMA(fmsub_d, 64, 0, 1)
FPU_FMA(fnmsub_d, 64, 1, 0)
FPU_FMA(fnmadd_d, 64, 1, 1)

/* FSGNJ/FSGNJN/FSGNJX (funct3 0/1/2, §11.6): bit operations, no flags; an
 * unboxed single reads as the canonical NaN like any operand. */
#define FPU_SGNJ(name, W)                                                 \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint##W##_t a = ARG##W(h->f[d->rs1]), b = ARG##W(h->f[d->rs2]);   \
        uint##W##_t s;                                                    \
                                                                          \
        if (!fpu_on(h, d))                                                \
            return;                                                       \
        switch (d->rm) {                                                  \
        case 0:  s = b & SIGN##W; break;                                  \
        case 1:  s = ~b & SIGN##W; break;                                 \
        default: s = (a ^ b) & SIGN##W; break;                            \
        }                                                                 \
        wr_f(h, d, RES##W((a & ~SIGN##W) | s), 0);                        \
    }

FPU_SGNJ(fsgnj_s, 32)
FPU_SGNJ(fsgnj_d, 64)

/* FMIN (funct3 0) / FMAX (funct3 1). */
#define FPU_MINMAX(name, W)                                               \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        uint##W##_t r;                                                    \
                                                                          \
        if (!fpu_on(h, d))                                                \
            return;                                                       \
        r = fpu_f##W##_minmax(ARG##W(h->f[d->rs1]), ARG##W(h->f[d->rs2]), \
                              d->rm == 1, &fl);                           \
        wr_f(h, d, RES##W(r), fl);                                        \
    }

FPU_MINMAX(fminmax_s, 32)
FPU_MINMAX(fminmax_d, 64)

/* FLE/FLT/FEQ (funct3 0/1/2). */
#define FPU_CMP(name, W)                                                  \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        uint64_t r;                                                       \
                                                                          \
        if (!fpu_on(h, d))                                                \
            return;                                                       \
        r = fpu_f##W##_cmp(ARG##W(h->f[d->rs1]), ARG##W(h->f[d->rs2]),    \
                           d->rm, &fl);                                   \
        wr_x(h, d, r, fl);                                                \
    }

FPU_CMP(fcmp_s, 32)
FPU_CMP(fcmp_d, 64)

static void fclass_s(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_x(h, d, fpu_f32_class(fpu_unbox(h->f[d->rs1])), 0);
}

static void fclass_d(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_x(h, d, fpu_f64_class(h->f[d->rs1]), 0);
}

/* FMV.X.W copies the low 32 bits as they are, boxed or not, sign-extended;
 * FMV.W.X boxes them (§11.7). */
static void fmv_x_w(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_x(h, d, (uint64_t)(int64_t)(int32_t)(uint32_t)h->f[d->rs1], 0);
}

static void fmv_w_x(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_f(h, d, fpu_box((uint32_t)h->x[d->rs1]), 0);
}

static void fmv_x_d(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_x(h, d, h->f[d->rs1], 0);
}

static void fmv_d_x(struct hart *h, const struct dinsn *d)
{
    if (fpu_on(h, d))
        wr_f(h, d, h->x[d->rs1], 0);
}

/* FCVT.{W,WU,L,LU}.fmt: the integer kind is the rs2 field. */
#define FPU_CVT_TO_INT(name, W)                                           \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        unsigned rm;                                                      \
        uint64_t r;                                                       \
                                                                          \
        if (!fpu_rm(h, d, &rm))                                           \
            return;                                                       \
        r = fpu_f##W##_to_int(ARG##W(h->f[d->rs1]), d->rs2, rm, &fl);     \
        wr_x(h, d, r, fl);                                                \
    }

FPU_CVT_TO_INT(fcvt_int_s, 32)
FPU_CVT_TO_INT(fcvt_int_d, 64)

/* FCVT.fmt.{W,WU,L,LU}. */
#define FPU_CVT_FROM_INT(name, W)                                         \
    static void name(struct hart *h, const struct dinsn *d)               \
    {                                                                     \
        uint32_t fl = 0;                                                  \
        unsigned rm;                                                      \
        uint##W##_t r;                                                    \
                                                                          \
        if (!fpu_rm(h, d, &rm))                                           \
            return;                                                       \
        r = fpu_int_to_f##W(h->x[d->rs1], d->rs2, rm, &fl);               \
        wr_f(h, d, RES##W(r), fl);                                        \
    }

FPU_CVT_FROM_INT(fcvt_s_int, 32)
FPU_CVT_FROM_INT(fcvt_d_int, 64)

static void fcvt_s_d(struct hart *h, const struct dinsn *d)
{
    uint32_t fl = 0;
    unsigned rm;
    uint32_t r;

    if (!fpu_rm(h, d, &rm))
        return;
    r = fpu_f64_to_f32(h->f[d->rs1], rm, &fl);
    wr_f(h, d, fpu_box(r), fl);
}

/* Exact, but it has an rm field and, like QEMU, rejects a reserved one. */
static void fcvt_d_s(struct hart *h, const struct dinsn *d)
{
    uint32_t fl = 0;
    unsigned rm;
    uint64_t r;

    if (!fpu_rm(h, d, &rm))
        return;
    r = fpu_f32_to_f64(fpu_unbox(h->f[d->rs1]), &fl);
    wr_f(h, d, r, fl);
}

/* OP-FP by funct5 (§11.6-§11.9, §12.3-§12.5, table 24.2). Sets *rm_used
 * when funct3 is a rounding mode; NULL for reserved encodings. */
static insn_fn decode_opfp(unsigned funct5, bool dbl, unsigned f3,
                           unsigned rs2, bool *rm_used)
{
    *rm_used = true;
    switch (funct5) {
    case 0x00: return dbl ? fadd_d : fadd_s;
    case 0x01: return dbl ? fsub_d : fsub_s;
    case 0x02: return dbl ? fmul_d : fmul_s;
    case 0x03: return dbl ? fdiv_d : fdiv_s;
    case 0x0b:
        if (rs2 != 0)
            return NULL;
        return dbl ? fsqrt_d : fsqrt_s;
    case 0x08:                          /* FCVT.S.D (rs2 = D), FCVT.D.S */
        if (rs2 != (dbl ? 0u : 1u))
            return NULL;
        return dbl ? fcvt_d_s : fcvt_s_d;
    case 0x18:
        if (rs2 > FPU_LU)
            return NULL;
        return dbl ? fcvt_int_d : fcvt_int_s;
    case 0x1a:
        if (rs2 > FPU_LU)
            return NULL;
        return dbl ? fcvt_d_int : fcvt_s_int;
    }

    *rm_used = false;
    switch (funct5) {
    case 0x04:
        if (f3 > 2)
            return NULL;
        return dbl ? fsgnj_d : fsgnj_s;
    case 0x05:
        if (f3 > 1)
            return NULL;
        return dbl ? fminmax_d : fminmax_s;
    case 0x14:
        if (f3 > FPU_FEQ)
            return NULL;
        return dbl ? fcmp_d : fcmp_s;
    case 0x1c:
        if (rs2 != 0 || f3 > 1)
            return NULL;
        if (f3 == 1)
            return dbl ? fclass_d : fclass_s;
        return dbl ? fmv_x_d : fmv_x_w;
    case 0x1e:
        if (rs2 != 0 || f3 != 0)
            return NULL;
        return dbl ? fmv_d_x : fmv_w_x;
    default:
        return NULL;
    }
}

bool fpu_decode(uint32_t raw, struct dinsn *d)
{
    static const insn_fn r4[4][2] = {
        { fmadd_s, fmadd_d }, { fmsub_s, fmsub_d },
        { fnmsub_s, fnmsub_d }, { fnmadd_s, fnmadd_d },
    };
    unsigned opc = raw & 0x7f, f3 = (raw >> 12) & 7, fmt = (raw >> 25) & 3;
    unsigned rs2 = (raw >> 20) & 31;
    bool rm_used = true;
    insn_fn fn;

    if (fmt > 1)                        /* H and Q are not implemented */
        return false;
    switch (opc) {
    case 0x43: case 0x47: case 0x4b: case 0x4f:
        fn = r4[(opc >> 2) & 3][fmt];
        break;
    case 0x53:
        fn = decode_opfp(raw >> 27, fmt, f3, rs2, &rm_used);
        break;
    default:
        return false;
    }
    if (!fn || (rm_used && (f3 == 5 || f3 == 6)))
        return false;
    d->fn = fn;
    d->imm = 0;
    d->raw = raw;
    d->rd = (raw >> 7) & 31;
    d->rs1 = (raw >> 15) & 31;
    d->rs2 = (uint8_t)rs2;
    d->rs3 = opc == 0x53 ? 0 : raw >> 27;
    d->rm = (uint8_t)f3;
    d->len = 4;
    return true;
}
