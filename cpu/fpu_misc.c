/*
 * cpu/fpu_misc.c — the F/D operations that never round: FMIN/FMAX, FEQ,
 * FLT, FLE and FCLASS, done on the bit patterns (unpriv spec §11.6-§11.9).
 * One generic body serves both widths: `dbl` picks the format and the bit
 * pattern sits in the low bits of a uint64_t.
 */
#include "cpu/fpu_int.h"
#include "cpu/hart.h"

struct misc_fmt {
    uint64_t sign;      /* sign bit */
    uint64_t inf;       /* +infinity */
    uint64_t quiet;     /* the quiet bit of a NaN */
    uint64_t canon;     /* canonical NaN */
};

static const struct misc_fmt fmt32 = {
    F32_SIGN, 0x7f800000u, 0x00400000u, F32_CANON,
};
static const struct misc_fmt fmt64 = {
    F64_SIGN, 0x7ff0000000000000ull, 0x0008000000000000ull, F64_CANON,
};

static bool m_isnan(const struct misc_fmt *f, uint64_t a)
{
    return (a & ~f->sign) > f->inf;
}

static bool m_issnan(const struct misc_fmt *f, uint64_t a)
{
    return m_isnan(f, a) && !(a & f->quiet);
}

static bool m_iszero(const struct misc_fmt *f, uint64_t a)
{
    return (a & ~f->sign) == 0;
}

/* A key whose unsigned order is the numeric order of non-NaN values, with
 * -0 just below +0 (the order FMIN/FMAX need). */
static uint64_t order_key(const struct misc_fmt *f, uint64_t a)
{
    return (a & f->sign) ? ~a & (f->sign | (f->sign - 1)) : a | f->sign;
}

static uint64_t minmax(const struct misc_fmt *f, uint64_t a, uint64_t b,
                       bool max, uint32_t *fl)
{
    bool an = m_isnan(f, a), bn = m_isnan(f, b);
    bool a_first;

    if (m_issnan(f, a) || m_issnan(f, b))
        *fl |= FFLAG_NV;
    /* §11.6 (version 2.2): a single NaN operand yields the other operand;
     * two NaNs yield the canonical NaN. */
    if (an && bn)
        return f->canon;
    if (an)
        return b;
    if (bn)
        return a;
    a_first = order_key(f, a) < order_key(f, b);
    return a_first != max ? a : b;
}

/* Quiet (FEQ) or signalling (FLT, FLE) comparison (§11.8): 0 on NaN. */
static uint64_t compare(const struct misc_fmt *f, uint64_t a, uint64_t b,
                        unsigned op, uint32_t *fl)
{
    uint64_t ka, kb;

    if (m_isnan(f, a) || m_isnan(f, b)) {
        if (op != FPU_FEQ || m_issnan(f, a) || m_issnan(f, b))
            *fl |= FFLAG_NV;
        return 0;
    }
    if (m_iszero(f, a) && m_iszero(f, b))
        return op != FPU_FLT;           /* +0 == -0 */
    ka = order_key(f, a);
    kb = order_key(f, b);
    switch (op) {
    case FPU_FEQ: return ka == kb;
    case FPU_FLT: return ka < kb;
    default:      return ka <= kb;
    }
}

/* FCLASS (table 11.5): bit 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0,
 * 5 +subnormal, 6 +normal, 7 +inf, 8 signalling NaN, 9 quiet NaN. */
static uint64_t classify(const struct misc_fmt *f, uint64_t a)
{
    bool neg = (a & f->sign) != 0;
    uint64_t mag = a & ~f->sign;
    unsigned bit;

    if (m_isnan(f, a))
        return (a & f->quiet) ? 1u << 9 : 1u << 8;
    if (mag == f->inf)
        bit = 7;
    else if (mag == 0)
        bit = 4;
    else if (mag < (f->inf & -f->inf))  /* exponent field zero */
        bit = 5;
    else
        bit = 6;
    return 1u << (neg ? 7 - bit : bit);
}

uint32_t fpu_f32_minmax(uint32_t a, uint32_t b, bool max, uint32_t *fl)
{
    return (uint32_t)minmax(&fmt32, a, b, max, fl);
}

uint64_t fpu_f64_minmax(uint64_t a, uint64_t b, bool max, uint32_t *fl)
{
    return minmax(&fmt64, a, b, max, fl);
}

uint64_t fpu_f32_cmp(uint32_t a, uint32_t b, unsigned op, uint32_t *fl)
{
    return compare(&fmt32, a, b, op, fl);
}

uint64_t fpu_f64_cmp(uint64_t a, uint64_t b, unsigned op, uint32_t *fl)
{
    return compare(&fmt64, a, b, op, fl);
}

uint64_t fpu_f32_class(uint32_t a)
{
    return classify(&fmt32, a);
}

uint64_t fpu_f64_class(uint64_t a)
{
    return classify(&fmt64, a);
}
