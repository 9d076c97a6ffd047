/*
 * cpu/fpu_soft.c — exact software floating point: one rounding routine
 * (fpu_round_pack) fed by integer arithmetic that keeps every bit it shifts
 * out as a sticky bit. Used for RMM (round to nearest, ties to max
 * magnitude, which host FPUs lack) and for every conversion.
 *
 * Sticky-bit rule: a significand may carry in bit 0 the OR of all bits that
 * were shifted out below it. Rounding such a value to p bits is exact as long
 * as it keeps at least p+2 significant bits (the round bit and the sticky
 * bit stay distinct), which every producer below guarantees.
 */
#include "cpu/fpu_int.h"
#include "cpu/hart.h"

/* Classes of an unpacked operand. */
enum { FV_ZERO, FV_FIN, FV_INF, FV_QNAN, FV_SNAN };

/* An operand: for FV_FIN, its value is (-1)^sign * sig * 2^e, sig != 0. */
struct fpu_val {
    int cls;
    bool sign;
    int e;
    uint64_t sig;
};

typedef unsigned __int128 u128;

static struct fpu_val soft_unpack(bool dbl, uint64_t a)
{
    const unsigned fbits = dbl ? 52 : 23;
    const unsigned emask = dbl ? 0x7ff : 0xff;
    const int bias = dbl ? 1023 : 127;
    uint64_t frac = a & ((1ull << fbits) - 1);
    unsigned ex = (unsigned)(a >> fbits) & emask;
    struct fpu_val v = { .sign = (a >> (dbl ? 63 : 31)) & 1 };

    if (ex == emask) {
        if (frac == 0)
            v.cls = FV_INF;
        else
            v.cls = (frac >> (fbits - 1)) ? FV_QNAN : FV_SNAN;
    } else if (ex == 0) {
        v.cls = frac ? FV_FIN : FV_ZERO;
        v.sig = frac;
        v.e = 1 - bias - (int)fbits;
    } else {
        v.cls = FV_FIN;
        v.sig = frac | (1ull << fbits);
        v.e = (int)ex - bias - (int)fbits;
    }
    return v;
}

static bool is_nan(const struct fpu_val *v)
{
    return v->cls == FV_QNAN || v->cls == FV_SNAN;
}

static uint64_t sign_bit(bool dbl, bool sign)
{
    return (uint64_t)sign << (dbl ? 63 : 31);
}

static uint64_t soft_zero(bool dbl, bool sign)
{
    return sign_bit(dbl, sign);
}

static uint64_t soft_inf(bool dbl, bool sign)
{
    return sign_bit(dbl, sign) | (dbl ? 0x7ff0000000000000ull : 0x7f800000u);
}

static uint64_t soft_canon(bool dbl)
{
    return dbl ? F64_CANON : F32_CANON;
}

/* The sign of an exact zero sum of operands of opposite signs (IEEE 754
 * §6.3): -0 when rounding down, +0 otherwise. */
static uint64_t soft_cancel_zero(bool dbl, unsigned rm)
{
    return soft_zero(dbl, rm == FPU_RDN);
}

/* A NaN result: NV when an operand is signalling; always canonical (§11.3). */
static uint64_t soft_nan(bool dbl, const struct fpu_val *x,
                         const struct fpu_val *y, uint32_t *fl)
{
    if (x->cls == FV_SNAN || (y && y->cls == FV_SNAN))
        *fl |= FFLAG_NV;
    return soft_canon(dbl);
}

static uint64_t shr_jam64(uint64_t x, unsigned n)
{
    if (n == 0)
        return x;
    if (n < 64)
        return (x >> n) | ((x << (64 - n)) != 0);
    return x != 0;
}

static u128 shr_jam128(u128 x, unsigned n)
{
    if (n == 0)
        return x;
    if (n < 128)
        return (x >> n) | ((x << (128 - n)) != 0);
    return x != 0;
}

static unsigned clz128(u128 x)
{
    uint64_t hi = (uint64_t)(x >> 64);
    return hi ? (unsigned)__builtin_clzll(hi)
              : 64 + (unsigned)__builtin_clzll((uint64_t)x);
}

/* Narrow a nonzero 128-bit significand to 64 bits with a sticky bit; the
 * exponent grows by the shift. A value wider than 64 bits keeps 64 bits. */
static uint64_t narrow_jam(u128 x, int *e)
{
    uint64_t hi = (uint64_t)(x >> 64);
    unsigned s;

    if (!hi)
        return (uint64_t)x;
    s = 64 - (unsigned)__builtin_clzll(hi);
    *e += (int)s;
    return (uint64_t)(x >> s) | ((x << (128 - s)) != 0);
}

/* Whether rounding increments the magnitude, given the kept significand's
 * low bit `odd`, the dropped bits `rb` and the weight `half` of the first
 * dropped bit (§11.2 table 11.1). */
static bool round_inc(unsigned rm, bool sign, bool odd, uint64_t rb,
                      uint64_t half)
{
    switch (rm) {
    case FPU_RNE: return rb > half || (rb == half && odd);
    case FPU_RTZ: return false;
    case FPU_RDN: return sign && rb;
    case FPU_RUP: return !sign && rb;
    default:      return rb >= half;             /* RMM: ties away */
    }
}

/* Overflow result (IEEE 754 §7.4): infinity, or the largest finite number
 * when the mode rounds toward zero for this sign. */
static uint64_t overflow_result(bool dbl, bool sign, unsigned rm)
{
    bool inf = rm == FPU_RNE || rm == FPU_RMM ||
               (rm == FPU_RUP && !sign) || (rm == FPU_RDN && sign);
    return inf ? soft_inf(dbl, sign) : soft_inf(dbl, sign) - 1;
}

uint64_t fpu_round_pack(bool dbl, bool sign, int e, uint64_t sig,
                        unsigned rm, uint32_t *fl)
{
    const int p = dbl ? 53 : 24, emax = dbl ? 1023 : 127, emin = 1 - emax;
    const unsigned sh = 64 - (unsigned)p;       /* bits below the result */
    const uint64_t rmask = (1ull << sh) - 1, half = 1ull << (sh - 1);
    unsigned lz = (unsigned)__builtin_clzll(sig);
    bool tiny = false;
    uint64_t rb, m, field;
    int E;

    sig <<= lz;
    E = e + 63 - (int)lz;               /* exponent of the leading bit */
    if (E < emin) {
        /* Tininess after rounding (as RISC-V and x86 SSE): the value is tiny
         * unless rounding it to p bits with an unbounded exponent carries
         * it up to 2^emin. */
        bool carry = (sig >> sh) == (1ull << p) - 1 &&
                     round_inc(rm, sign, true, sig & rmask, half);
        tiny = E < emin - 1 || !carry;
        sig = shr_jam64(sig, (unsigned)(emin - E));
        E = emin;
    }
    rb = sig & rmask;
    m = sig >> sh;
    if (round_inc(rm, sign, m & 1, rb, half))
        m++;
    if (rb) {
        *fl |= FFLAG_NX;
        if (tiny)
            *fl |= FFLAG_UF;
    }
    if (m >> p) {                        /* carried out: 1.11..1 -> 10.0 */
        m >>= 1;
        E++;
    }
    if (E > emax) {
        *fl |= FFLAG_OF | FFLAG_NX;
        return overflow_result(dbl, sign, rm);
    }
    /* A subnormal (or zero) has no leading bit; one that rounded up into
     * bit p-1 is the smallest normal and gets exponent field 1 = emin. */
    field = (m >> (p - 1)) ? (uint64_t)(E + emax) : 0;
    return sign_bit(dbl, sign) | field << (p - 1) |
           (m & ((1ull << (p - 1)) - 1));
}

/* Both operands finite and nonzero: x + y, rounded once. */
static uint64_t add_fin(bool dbl, struct fpu_val x, struct fpu_val y,
                        unsigned rm, uint32_t *fl)
{
    /* Leading bits at 62: the sum cannot carry out, and the larger operand
     * has >= 9 zero low bits, so subtracting a sticky-shifted smaller one
     * still rounds correctly. */
    unsigned lx = (unsigned)__builtin_clzll(x.sig) - 1;
    unsigned ly = (unsigned)__builtin_clzll(y.sig) - 1;
    uint64_t sig;

    x.sig <<= lx;
    x.e -= (int)lx;
    y.sig <<= ly;
    y.e -= (int)ly;
    if (x.e < y.e || (x.e == y.e && x.sig < y.sig)) {
        struct fpu_val t = x;
        x = y;
        y = t;
    }
    y.sig = shr_jam64(y.sig, (unsigned)(x.e - y.e));
    sig = x.sign == y.sign ? x.sig + y.sig : x.sig - y.sig;
    if (sig == 0)
        return soft_cancel_zero(dbl, rm);
    return fpu_round_pack(dbl, x.sign, x.e, sig, rm, fl);
}

uint64_t fpu_soft_add(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl)
{
    struct fpu_val x = soft_unpack(dbl, a), y = soft_unpack(dbl, b);

    if (is_nan(&x) || is_nan(&y))
        return soft_nan(dbl, &x, &y, fl);
    if (x.cls == FV_INF && y.cls == FV_INF && x.sign != y.sign) {
        *fl |= FFLAG_NV;                        /* inf - inf */
        return soft_canon(dbl);
    }
    if (x.cls == FV_INF)
        return soft_inf(dbl, x.sign);
    if (y.cls == FV_INF)
        return soft_inf(dbl, y.sign);
    if (x.cls == FV_ZERO && y.cls == FV_ZERO)
        return x.sign == y.sign ? soft_zero(dbl, x.sign)
                                : soft_cancel_zero(dbl, rm);
    if (x.cls == FV_ZERO)
        return b;
    if (y.cls == FV_ZERO)
        return a;
    return add_fin(dbl, x, y, rm, fl);
}

uint64_t fpu_soft_mul(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl)
{
    struct fpu_val x = soft_unpack(dbl, a), y = soft_unpack(dbl, b);
    bool sign = x.sign ^ y.sign;
    u128 prod;
    int e;

    if (is_nan(&x) || is_nan(&y))
        return soft_nan(dbl, &x, &y, fl);
    if ((x.cls == FV_INF && y.cls == FV_ZERO) ||
        (x.cls == FV_ZERO && y.cls == FV_INF)) {
        *fl |= FFLAG_NV;
        return soft_canon(dbl);
    }
    if (x.cls == FV_INF || y.cls == FV_INF)
        return soft_inf(dbl, sign);
    if (x.cls == FV_ZERO || y.cls == FV_ZERO)
        return soft_zero(dbl, sign);
    prod = (u128)x.sig * y.sig;                 /* exact, <= 106 bits */
    e = x.e + y.e;
    return fpu_round_pack(dbl, sign, e, narrow_jam(prod, &e), rm, fl);
}

uint64_t fpu_soft_div(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl)
{
    struct fpu_val x = soft_unpack(dbl, a), y = soft_unpack(dbl, b);
    bool sign = x.sign ^ y.sign;
    unsigned lx, ly;
    u128 num;
    uint64_t q;

    if (is_nan(&x) || is_nan(&y))
        return soft_nan(dbl, &x, &y, fl);
    if ((x.cls == FV_INF && y.cls == FV_INF) ||
        (x.cls == FV_ZERO && y.cls == FV_ZERO)) {
        *fl |= FFLAG_NV;
        return soft_canon(dbl);
    }
    if (x.cls == FV_INF)
        return soft_inf(dbl, sign);
    if (y.cls == FV_INF || x.cls == FV_ZERO)
        return soft_zero(dbl, sign);
    if (y.cls == FV_ZERO) {
        *fl |= FFLAG_DZ;                        /* finite / 0 */
        return soft_inf(dbl, sign);
    }
    /* Dividend's leading bit at 126, divisor's at 63: the quotient lies in
     * (2^62, 2^64), so it has at least 63 bits and the remainder is the
     * sticky bit. */
    lx = (unsigned)__builtin_clzll(x.sig) - 1;
    ly = (unsigned)__builtin_clzll(y.sig);
    num = (u128)(x.sig << lx) << 64;
    q = (uint64_t)(num / (y.sig << ly));
    q |= (num % (y.sig << ly)) != 0;
    return fpu_round_pack(dbl, sign, (x.e - (int)lx - 64) - (y.e - (int)ly),
                          q, rm, fl);
}

/* x*y + z with x, y, z finite and nonzero. */
static uint64_t fma_fin(bool dbl, struct fpu_val x, struct fpu_val y,
                        struct fpu_val z, unsigned rm, uint32_t *fl)
{
    /* Product and addend as 128-bit significands with leading bits at 125:
     * the larger has >= 19 zero low bits (a product has <= 106 bits), so a
     * sticky-shifted smaller one subtracts correctly. */
    u128 p = (u128)x.sig * y.sig, c = z.sig, s;
    int ep = x.e + y.e, ec = z.e;
    bool sp = x.sign ^ y.sign, sc = z.sign;
    unsigned lp = clz128(p) - 2, lc = clz128(c) - 2;

    p <<= lp;
    ep -= (int)lp;
    c <<= lc;
    ec -= (int)lc;
    if (ep < ec || (ep == ec && p < c)) {
        u128 t = p;
        int te = ep;
        bool ts = sp;
        p = c, ep = ec, sp = sc;
        c = t, ec = te, sc = ts;
    }
    c = shr_jam128(c, (unsigned)(ep - ec));
    s = sp == sc ? p + c : p - c;
    if (s == 0)
        return soft_cancel_zero(dbl, rm);
    return fpu_round_pack(dbl, sp, ep, narrow_jam(s, &ep), rm, fl);
}

uint64_t fpu_soft_fma(bool dbl, uint64_t a, uint64_t b, uint64_t c,
                      unsigned rm, uint32_t *fl)
{
    struct fpu_val x = soft_unpack(dbl, a), y = soft_unpack(dbl, b);
    struct fpu_val z = soft_unpack(dbl, c);
    bool inf_zero = (x.cls == FV_INF && y.cls == FV_ZERO) ||
                    (x.cls == FV_ZERO && y.cls == FV_INF);
    bool sp = x.sign ^ y.sign;

    /* §11.6: inf * 0 raises NV even when the addend is a quiet NaN. */
    if (is_nan(&x) || is_nan(&y) || is_nan(&z)) {
        if (inf_zero || z.cls == FV_SNAN)
            *fl |= FFLAG_NV;
        return soft_nan(dbl, &x, &y, fl);
    }
    if (inf_zero) {
        *fl |= FFLAG_NV;
        return soft_canon(dbl);
    }
    if (x.cls == FV_INF || y.cls == FV_INF) {
        if (z.cls == FV_INF && z.sign != sp) {
            *fl |= FFLAG_NV;                    /* inf - inf */
            return soft_canon(dbl);
        }
        return soft_inf(dbl, sp);
    }
    if (z.cls == FV_INF)
        return soft_inf(dbl, z.sign);
    if (x.cls == FV_ZERO || y.cls == FV_ZERO) {
        if (z.cls != FV_ZERO)
            return c;                           /* exact */
        return sp == z.sign ? soft_zero(dbl, sp) : soft_cancel_zero(dbl, rm);
    }
    if (z.cls == FV_ZERO) {
        /* a*b alone, rounded once (a nonzero product keeps its sign even
         * when it rounds to zero). */
        int e = x.e + y.e;
        uint64_t sig = narrow_jam((u128)x.sig * y.sig, &e);
        return fpu_round_pack(dbl, sp, e, sig, rm, fl);
    }
    return fma_fin(dbl, x, y, z, rm, fl);
}

uint32_t fpu_f64_to_f32(uint64_t a, unsigned rm, uint32_t *fl)
{
    struct fpu_val x = soft_unpack(true, a);

    switch (x.cls) {
    case FV_QNAN:
    case FV_SNAN:
        return (uint32_t)soft_nan(false, &x, NULL, fl);
    case FV_INF:
        return (uint32_t)soft_inf(false, x.sign);
    case FV_ZERO:
        return (uint32_t)soft_zero(false, x.sign);
    default:
        return (uint32_t)fpu_round_pack(false, x.sign, x.e, x.sig, rm, fl);
    }
}

uint64_t fpu_f32_to_f64(uint32_t a, uint32_t *fl)
{
    struct fpu_val x = soft_unpack(false, a);

    switch (x.cls) {
    case FV_QNAN:
    case FV_SNAN:
        return soft_nan(true, &x, NULL, fl);
    case FV_INF:
        return soft_inf(true, x.sign);
    case FV_ZERO:
        return soft_zero(true, x.sign);
    default:                                    /* exact */
        return fpu_round_pack(true, x.sign, x.e, x.sig, FPU_RNE, fl);
    }
}

/* Saturated results of FCVT to integer for NaN and +-overflow (table 11.4):
 * 32-bit values are already sign-extended to 64 bits. */
static uint64_t int_max(unsigned kind)
{
    static const uint64_t max[4] = {
        [FPU_W] = 0x7fffffffull, [FPU_WU] = ~0ull,
        [FPU_L] = 0x7fffffffffffffffull, [FPU_LU] = ~0ull,
    };
    return max[kind & 3];
}

static uint64_t int_min(unsigned kind)
{
    static const uint64_t min[4] = {
        [FPU_W] = 0xffffffff80000000ull, [FPU_WU] = 0,
        [FPU_L] = 0x8000000000000000ull, [FPU_LU] = 0,
    };
    return min[kind & 3];
}

/* Round |x| (finite, nonzero) to an integer in mode rm. Sets *inexact;
 * returns false when the magnitude does not fit in 64 bits. */
static bool round_to_int(const struct fpu_val *x, unsigned rm, uint64_t *mag,
                         bool *inexact)
{
    uint64_t ip, rb, half;
    unsigned n;

    *inexact = false;
    if (x->e >= 0) {
        if (x->e + 64 - __builtin_clzll(x->sig) > 64)
            return false;
        *mag = x->sig << x->e;
        return true;
    }
    n = (unsigned)-x->e;
    if (n > 60) {
        /* |x| < 2^53 * 2^-61: below one half, but not zero. */
        ip = 0;
        rb = 1;
        half = 2;
    } else {
        ip = x->sig >> n;
        rb = x->sig & ((1ull << n) - 1);
        half = 1ull << (n - 1);
    }
    *inexact = rb != 0;
    *mag = ip + round_inc(rm, x->sign, ip & 1, rb, half);
    return true;
}

static uint64_t soft_to_int(bool dbl, uint64_t a, unsigned kind, unsigned rm,
                            uint32_t *fl)
{
    struct fpu_val x = soft_unpack(dbl, a);
    const bool uns = kind == FPU_WU || kind == FPU_LU;
    const unsigned w = (kind == FPU_W || kind == FPU_WU) ? 32 : 64;
    uint64_t mag, lim;
    bool inexact;

    if (is_nan(&x)) {
        *fl |= FFLAG_NV;
        return int_max(kind);
    }
    if (x.cls == FV_ZERO)
        return 0;
    if (x.cls == FV_INF || !round_to_int(&x, rm, &mag, &inexact))
        goto saturate;
    if (x.sign) {
        if (uns) {
            if (mag != 0)
                goto saturate;
        } else {
            lim = 1ull << (w - 1);              /* |INT_MIN| */
            if (mag > lim)
                goto saturate;
        }
        mag = -mag;
    } else {
        lim = uns ? (w == 64 ? ~0ull : (1ull << w) - 1)
                  : (1ull << (w - 1)) - 1;
        if (mag > lim)
            goto saturate;
    }
    if (inexact)
        *fl |= FFLAG_NX;
    /* Every 32-bit result, WU included, is sign-extended (§12.5). */
    return w == 32 ? (uint64_t)(int64_t)(int32_t)mag : mag;

saturate:
    /* Out of range: NV only, no NX (as softfloat). */
    *fl |= FFLAG_NV;
    return x.sign ? int_min(kind) : int_max(kind);
}

uint64_t fpu_f32_to_int(uint32_t a, unsigned kind, unsigned rm, uint32_t *fl)
{
    return soft_to_int(false, a, kind, rm, fl);
}

uint64_t fpu_f64_to_int(uint64_t a, unsigned kind, unsigned rm, uint32_t *fl)
{
    return soft_to_int(true, a, kind, rm, fl);
}

static uint64_t soft_from_int(bool dbl, uint64_t x, unsigned kind,
                              unsigned rm, uint32_t *fl)
{
    bool sign = false;

    switch (kind & 3) {
    case FPU_W:
        x = (uint64_t)(int64_t)(int32_t)x;
        /* fall through */
    case FPU_L:
        sign = (int64_t)x < 0;
        if (sign)
            x = -x;                     /* |INT64_MIN| = 2^63 as unsigned */
        break;
    case FPU_WU:
        x = (uint32_t)x;
        break;
    default:
        break;
    }
    if (x == 0)
        return 0;                                /* +0 in every mode */
    return fpu_round_pack(dbl, sign, 0, x, rm, fl);
}

uint32_t fpu_int_to_f32(uint64_t x, unsigned kind, unsigned rm, uint32_t *fl)
{
    return (uint32_t)soft_from_int(false, x, kind, rm, fl);
}

uint64_t fpu_int_to_f64(uint64_t x, unsigned kind, unsigned rm, uint32_t *fl)
{
    return soft_from_int(true, x, kind, rm, fl);
}
