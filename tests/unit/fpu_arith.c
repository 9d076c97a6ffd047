/*
 * tests/unit/fpu_arith.c — proves add/sub/mul/div/sqrt/fma give the RISC-V
 * result and fflags in every rounding mode: ties (RMM included), signed
 * zeros, canonical NaNs, NV/DZ/OF/UF/NX, tininess after rounding, and the
 * single rounding of fused multiply-add. Expectations are derived by hand
 * (the derivation is in each comment); the last tests check the exact
 * software path against the host FPU path on random operands.
 */
#include <criterion/criterion.h>

#include "cpu/fpu_int.h"
#include "cpu/hart.h"

#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

#define D(x) f64_bits(x)
#define S(x) f32_bits(x)

/* Common binary64 values. */
#define ONE     0x3ff0000000000000ull
#define TWO     0x4000000000000000ull
#define PINF    0x7ff0000000000000ull
#define NINF    0xfff0000000000000ull
#define DMAX    0x7fefffffffffffffull
#define DMINN   0x0010000000000000ull   /* 2^-1022 */
#define DMAXSUB 0x000fffffffffffffull
#define QNANP   0x7ff8000000000123ull   /* quiet NaN with a payload */
#define SNAN    0x7ff0000000000001ull
#define SQNANP  0x7fc00123u
#define SSNAN   0x7f800001u

typedef uint64_t (*bin64)(uint64_t, uint64_t, unsigned, uint32_t *);
typedef uint32_t (*bin32)(uint32_t, uint32_t, unsigned, uint32_t *);

static void expect64(bin64 f, uint64_t a, uint64_t b, unsigned rm,
                     uint64_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = f(a, b, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d rm %u: %016llx op %016llx = %016llx fl %02x, "
              "want %016llx fl %02x", line, rm, (unsigned long long)a,
              (unsigned long long)b, (unsigned long long)got, fl,
              (unsigned long long)want, wfl);
}

static void expect32(bin32 f, uint32_t a, uint32_t b, unsigned rm,
                     uint32_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint32_t got = f(a, b, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d rm %u: %08x op %08x = %08x fl %02x, want %08x fl %02x",
              line, rm, a, b, got, fl, want, wfl);
}

#define E64(f, a, b, rm, want, wfl) expect64(f, a, b, rm, want, wfl, __LINE__)
#define E32(f, a, b, rm, want, wfl) expect32(f, a, b, rm, want, wfl, __LINE__)

static uint64_t sqrt64(uint64_t a, uint64_t b, unsigned rm, uint32_t *fl)
{
    (void)b;
    return fpu_f64_sqrt(a, rm, fl);
}

static uint32_t sqrt32(uint32_t a, uint32_t b, unsigned rm, uint32_t *fl)
{
    (void)b;
    return fpu_f32_sqrt(a, rm, fl);
}

Test(fpu_arith, exact_results_raise_nothing)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        E64(fpu_f64_add, ONE, TWO, rm, D(3.0), 0);
        E64(fpu_f64_sub, ONE, TWO, rm, D(-1.0), 0);
        E64(fpu_f64_mul, D(1.5), D(-4.0), rm, D(-6.0), 0);
        E64(fpu_f64_div, D(1.0), D(4.0), rm, D(0.25), 0);
        E64(sqrt64, D(4.0), 0, rm, TWO, 0);
        E32(fpu_f32_add, S(1.0f), S(2.0f), rm, S(3.0f), 0);
        E32(fpu_f32_mul, S(1.5f), S(-4.0f), rm, S(-6.0f), 0);
        E32(fpu_f32_div, S(1.0f), S(4.0f), rm, S(0.25f), 0);
        E32(sqrt32, S(4.0f), 0, rm, S(2.0f), 0);
    }
}

/* 1 + 2^-53 lies halfway between 1 (even) and 1 + 2^-52 (odd): RNE goes to
 * the even one, RMM away from zero. */
Test(fpu_arith, add_tie_below_is_even)
{
    const uint64_t h = D(0x1p-53), up = 0x3ff0000000000001ull;

    E64(fpu_f64_add, ONE, h, FPU_RNE, ONE, NX);
    E64(fpu_f64_add, ONE, h, FPU_RTZ, ONE, NX);
    E64(fpu_f64_add, ONE, h, FPU_RDN, ONE, NX);
    E64(fpu_f64_add, ONE, h, FPU_RUP, up, NX);
    E64(fpu_f64_add, ONE, h, FPU_RMM, up, NX);
    /* Mirrored: -1 - 2^-53. */
    E64(fpu_f64_sub, ONE | F64_SIGN, h, FPU_RNE, ONE | F64_SIGN, NX);
    E64(fpu_f64_sub, ONE | F64_SIGN, h, FPU_RTZ, ONE | F64_SIGN, NX);
    E64(fpu_f64_sub, ONE | F64_SIGN, h, FPU_RDN, up | F64_SIGN, NX);
    E64(fpu_f64_sub, ONE | F64_SIGN, h, FPU_RUP, ONE | F64_SIGN, NX);
    E64(fpu_f64_sub, ONE | F64_SIGN, h, FPU_RMM, up | F64_SIGN, NX);
}

/* (1 + 2^-52) + 2^-53 is halfway between 1 + 2^-52 (odd) and 1 + 2^-51
 * (even): RNE and RMM both go up. */
Test(fpu_arith, add_tie_below_is_odd)
{
    const uint64_t a = 0x3ff0000000000001ull, h = D(0x1p-53);
    const uint64_t up = 0x3ff0000000000002ull;

    E64(fpu_f64_add, a, h, FPU_RNE, up, NX);
    E64(fpu_f64_add, a, h, FPU_RTZ, a, NX);
    E64(fpu_f64_add, a, h, FPU_RDN, a, NX);
    E64(fpu_f64_add, a, h, FPU_RUP, up, NX);
    E64(fpu_f64_add, a, h, FPU_RMM, up, NX);
}

/* Single: 1 + 2^-24 is halfway between 1 and 1 + 2^-23. */
Test(fpu_arith, add_tie_single)
{
    const uint32_t h = S(0x1p-24f);

    E32(fpu_f32_add, S(1.0f), h, FPU_RNE, 0x3f800000u, NX);
    E32(fpu_f32_add, S(1.0f), h, FPU_RTZ, 0x3f800000u, NX);
    E32(fpu_f32_add, S(1.0f), h, FPU_RDN, 0x3f800000u, NX);
    E32(fpu_f32_add, S(1.0f), h, FPU_RUP, 0x3f800001u, NX);
    E32(fpu_f32_add, S(1.0f), h, FPU_RMM, 0x3f800001u, NX);
    E32(fpu_f32_sub, S(-1.0f), h, FPU_RMM, 0xbf800001u, NX);
    E32(fpu_f32_sub, S(-1.0f), h, FPU_RNE, 0xbf800000u, NX);
}

/* (1 + 3*2^-52) * 1.5 = 1.5 + 4.5*2^-52: halfway between mantissas ...4
 * (even) and ...5. */
Test(fpu_arith, mul_tie_all_modes)
{
    const uint64_t a = 0x3ff0000000000003ull, b = D(1.5);
    const uint64_t lo = 0x3ff8000000000004ull, hi = 0x3ff8000000000005ull;

    E64(fpu_f64_mul, a, b, FPU_RNE, lo, NX);
    E64(fpu_f64_mul, a, b, FPU_RTZ, lo, NX);
    E64(fpu_f64_mul, a, b, FPU_RDN, lo, NX);
    E64(fpu_f64_mul, a, b, FPU_RUP, hi, NX);
    E64(fpu_f64_mul, a, b, FPU_RMM, hi, NX);
    E64(fpu_f64_mul, a | F64_SIGN, b, FPU_RMM, hi | F64_SIGN, NX);
    E64(fpu_f64_mul, a | F64_SIGN, b, FPU_RDN, hi | F64_SIGN, NX);
    E64(fpu_f64_mul, a | F64_SIGN, b, FPU_RUP, lo | F64_SIGN, NX);
    /* Single: (1 + 3*2^-23) * 1.5, same shape. */
    E32(fpu_f32_mul, 0x3f800003u, S(1.5f), FPU_RNE, 0x3fc00004u, NX);
    E32(fpu_f32_mul, 0x3f800003u, S(1.5f), FPU_RMM, 0x3fc00005u, NX);
}

/* Non-tie rounding: 1/3 and 2/3 in each mode. */
Test(fpu_arith, div_rounding_modes)
{
    const uint64_t third_lo = 0x3fd5555555555555ull;   /* below 1/3 */

    E64(fpu_f64_div, ONE, D(3.0), FPU_RNE, third_lo, NX);
    E64(fpu_f64_div, ONE, D(3.0), FPU_RTZ, third_lo, NX);
    E64(fpu_f64_div, ONE, D(3.0), FPU_RDN, third_lo, NX);
    E64(fpu_f64_div, ONE, D(3.0), FPU_RUP, third_lo + 1, NX);
    E64(fpu_f64_div, ONE, D(3.0), FPU_RMM, third_lo, NX);
    /* 1/10 = 0x3fb9999999999999 + 0.6 ulp: nearest is up. */
    E64(fpu_f64_div, ONE, D(10.0), FPU_RNE, 0x3fb999999999999aull, NX);
    E64(fpu_f64_div, ONE, D(10.0), FPU_RMM, 0x3fb999999999999aull, NX);
    E64(fpu_f64_div, ONE, D(10.0), FPU_RUP, 0x3fb999999999999aull, NX);
    E64(fpu_f64_div, ONE, D(10.0), FPU_RTZ, 0x3fb9999999999999ull, NX);
    E64(fpu_f64_div, ONE, D(-10.0), FPU_RUP, 0xbfb9999999999999ull, NX);
    E32(fpu_f32_div, S(1.0f), S(3.0f), FPU_RNE, 0x3eaaaaabu, NX);
    E32(fpu_f32_div, S(1.0f), S(3.0f), FPU_RTZ, 0x3eaaaaaau, NX);
    E32(fpu_f32_div, S(1.0f), S(3.0f), FPU_RMM, 0x3eaaaaabu, NX);
}

Test(fpu_arith, divide_by_zero)
{
    E64(fpu_f64_div, ONE, 0, FPU_RNE, PINF, DZ);
    E64(fpu_f64_div, ONE, F64_SIGN, FPU_RNE, NINF, DZ);
    E64(fpu_f64_div, ONE | F64_SIGN, 0, FPU_RMM, NINF, DZ);
    E64(fpu_f64_div, 0, 0, FPU_RNE, F64_CANON, NV);
    E64(fpu_f64_div, PINF, 0, FPU_RNE, PINF, 0);        /* not DZ */
    E64(fpu_f64_div, PINF, PINF, FPU_RNE, F64_CANON, NV);
    E64(fpu_f64_div, PINF, PINF, FPU_RMM, F64_CANON, NV);
    E64(fpu_f64_div, ONE, PINF, FPU_RNE, 0, 0);
    E32(fpu_f32_div, S(1.0f), 0, FPU_RNE, 0x7f800000u, DZ);
    E32(fpu_f32_div, S(-1.0f), 0, FPU_RMM, 0xff800000u, DZ);
    E32(fpu_f32_div, 0, F32_SIGN, FPU_RNE, F32_CANON, NV);
}

Test(fpu_arith, sqrt_special_cases)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        E64(sqrt64, D(-1.0), 0, rm, F64_CANON, NV);
        E64(sqrt64, F64_SIGN, 0, rm, F64_SIGN, 0);      /* sqrt(-0) = -0 */
        E64(sqrt64, PINF, 0, rm, PINF, 0);
        E64(sqrt64, NINF, 0, rm, F64_CANON, NV);
        E64(sqrt64, QNANP, 0, rm, F64_CANON, 0);
        E64(sqrt64, SNAN, 0, rm, F64_CANON, NV);
        E32(sqrt32, S(-1.0f), 0, rm, F32_CANON, NV);
        E32(sqrt32, SQNANP, 0, rm, F32_CANON, 0);
    }
    /* sqrt(2) = 0x3ff6a09e667f3bcc + 0.56 ulp: nearest is ...bcd. */
    E64(sqrt64, TWO, 0, FPU_RNE, 0x3ff6a09e667f3bcdull, NX);
    E64(sqrt64, TWO, 0, FPU_RMM, 0x3ff6a09e667f3bcdull, NX);
    E64(sqrt64, TWO, 0, FPU_RTZ, 0x3ff6a09e667f3bccull, NX);
    E64(sqrt64, TWO, 0, FPU_RUP, 0x3ff6a09e667f3bcdull, NX);
    E32(sqrt32, S(2.0f), 0, FPU_RNE, 0x3fb504f3u, NX);
    E32(sqrt32, S(2.0f), 0, FPU_RTZ, 0x3fb504f3u, NX);
    E32(sqrt32, S(2.0f), 0, FPU_RUP, 0x3fb504f4u, NX);
}

/* Overflow: OF|NX, and infinity or the largest finite number depending on
 * the mode and the sign (IEEE 754 §7.4). */
Test(fpu_arith, overflow_by_mode)
{
    const uint64_t nmax = DMAX | F64_SIGN;

    E64(fpu_f64_mul, DMAX, TWO, FPU_RNE, PINF, OF | NX);
    E64(fpu_f64_mul, DMAX, TWO, FPU_RTZ, DMAX, OF | NX);
    E64(fpu_f64_mul, DMAX, TWO, FPU_RDN, DMAX, OF | NX);
    E64(fpu_f64_mul, DMAX, TWO, FPU_RUP, PINF, OF | NX);
    E64(fpu_f64_mul, DMAX, TWO, FPU_RMM, PINF, OF | NX);
    E64(fpu_f64_mul, nmax, TWO, FPU_RNE, NINF, OF | NX);
    E64(fpu_f64_mul, nmax, TWO, FPU_RTZ, nmax, OF | NX);
    E64(fpu_f64_mul, nmax, TWO, FPU_RDN, NINF, OF | NX);
    E64(fpu_f64_mul, nmax, TWO, FPU_RUP, nmax, OF | NX);
    E64(fpu_f64_mul, nmax, TWO, FPU_RMM, NINF, OF | NX);
    E64(fpu_f64_add, DMAX, DMAX, FPU_RMM, PINF, OF | NX);
    E64(fpu_f64_div, DMAX, D(0.5), FPU_RTZ, DMAX, OF | NX);
    /* max + half an ulp: a tie between max (odd) and 2^1024: overflows in
     * RNE and RMM, not in RTZ. */
    E64(fpu_f64_add, DMAX, D(0x1p970), FPU_RNE, PINF, OF | NX);
    E64(fpu_f64_add, DMAX, D(0x1p970), FPU_RMM, PINF, OF | NX);
    E64(fpu_f64_add, DMAX, D(0x1p970), FPU_RTZ, DMAX, NX);
    E32(fpu_f32_mul, 0x7f7fffffu, S(2.0f), FPU_RNE, 0x7f800000u, OF | NX);
    E32(fpu_f32_mul, 0x7f7fffffu, S(2.0f), FPU_RTZ, 0x7f7fffffu, OF | NX);
    E32(fpu_f32_mul, 0xff7fffffu, S(2.0f), FPU_RUP, 0xff7fffffu, OF | NX);
    E32(fpu_f32_mul, 0xff7fffffu, S(2.0f), FPU_RMM, 0xff800000u, OF | NX);
}

Test(fpu_arith, underflow)
{
    /* Exact subnormal result: tiny but exact, so no UF (IEEE default). */
    E64(fpu_f64_mul, DMINN, D(0.5), FPU_RNE, 0x0008000000000000ull, 0);
    /* 2^-1074 / 2 = 2^-1075, halfway between 0 (even) and 2^-1074. */
    E64(fpu_f64_mul, 1, D(0.5), FPU_RNE, 0, UF | NX);
    E64(fpu_f64_mul, 1, D(0.5), FPU_RTZ, 0, UF | NX);
    E64(fpu_f64_mul, 1, D(0.5), FPU_RDN, 0, UF | NX);
    E64(fpu_f64_mul, 1, D(0.5), FPU_RUP, 1, UF | NX);
    E64(fpu_f64_mul, 1, D(0.5), FPU_RMM, 1, UF | NX);
    E64(fpu_f64_div, 1 | F64_SIGN, TWO, FPU_RMM, 1 | F64_SIGN, UF | NX);
    E64(fpu_f64_div, 1 | F64_SIGN, TWO, FPU_RNE, F64_SIGN, UF | NX);
    E64(fpu_f64_div, 1 | F64_SIGN, TWO, FPU_RDN, 1 | F64_SIGN, UF | NX);
    /* 3 * 2^-1075: halfway between 2^-1074 (odd) and 2^-1073 (even). */
    E64(fpu_f64_mul, 3, D(0.5), FPU_RNE, 2, UF | NX);
    E64(fpu_f64_mul, 3, D(0.5), FPU_RMM, 2, UF | NX);
    E64(fpu_f64_mul, 3, D(0.5), FPU_RTZ, 1, UF | NX);
    E32(fpu_f32_mul, 1, S(0.5f), FPU_RNE, 0, UF | NX);
    E32(fpu_f32_mul, 1, S(0.5f), FPU_RMM, 1, UF | NX);
    E32(fpu_f32_mul, 1, S(0.25f), FPU_RMM, 0, UF | NX);
}

/* Tininess is detected after rounding (§11.2 via IEEE 754 §7.5): the exact
 * (1 + 2^-52) * (2^-1022 - 2^-1074) = 2^-1022 * (1 - 2^-104) rounds, with
 * an unbounded exponent, to 2^-1022 in RNE: not tiny, so NX alone. In RTZ
 * it stays below 2^-1022: tiny, so UF|NX. */
Test(fpu_arith, tininess_after_rounding)
{
    const uint64_t a = 0x3ff0000000000001ull;

    E64(fpu_f64_mul, a, DMAXSUB, FPU_RNE, DMINN, NX);
    E64(fpu_f64_mul, a, DMAXSUB, FPU_RMM, DMINN, NX);
    E64(fpu_f64_mul, a, DMAXSUB, FPU_RUP, DMINN, NX);
    E64(fpu_f64_mul, a, DMAXSUB, FPU_RTZ, DMAXSUB, UF | NX);
    E64(fpu_f64_mul, a, DMAXSUB, FPU_RDN, DMAXSUB, UF | NX);
    E32(fpu_f32_mul, 0x3f800001u, 0x007fffffu, FPU_RNE, 0x00800000u, NX);
    E32(fpu_f32_mul, 0x3f800001u, 0x007fffffu, FPU_RMM, 0x00800000u, NX);
    E32(fpu_f32_mul, 0x3f800001u, 0x007fffffu, FPU_RTZ, 0x007fffffu, UF | NX);
    /* (1 - 2^-53) * 2^-1022 is exact in 53 bits, so tiny, and rounds (in
     * the subnormal grid) up to 2^-1022: UF|NX although the result is
     * normal. */
    E64(fpu_f64_mul, 0x3fefffffffffffffull, DMINN, FPU_RNE, DMINN, UF | NX);
    E64(fpu_f64_mul, 0x3fefffffffffffffull, DMINN, FPU_RMM, DMINN, UF | NX);
}

Test(fpu_arith, nan_results_are_canonical)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        E64(fpu_f64_add, QNANP, ONE, rm, F64_CANON, 0);
        E64(fpu_f64_add, ONE, QNANP | F64_SIGN, rm, F64_CANON, 0);
        E64(fpu_f64_mul, SNAN, ONE, rm, F64_CANON, NV);
        E64(fpu_f64_sub, ONE, SNAN, rm, F64_CANON, NV);
        E64(fpu_f64_div, QNANP, SNAN, rm, F64_CANON, NV);
        E64(fpu_f64_add, PINF, NINF, rm, F64_CANON, NV);
        E64(fpu_f64_sub, PINF, PINF, rm, F64_CANON, NV);
        E64(fpu_f64_mul, PINF, 0, rm, F64_CANON, NV);
        E32(fpu_f32_add, SQNANP, S(1.0f), rm, F32_CANON, 0);
        E32(fpu_f32_mul, SSNAN, S(1.0f), rm, F32_CANON, NV);
        E32(fpu_f32_sub, 0x7f800000u, 0x7f800000u, rm, F32_CANON, NV);
    }
}

Test(fpu_arith, signed_zeros)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        uint64_t z = rm == FPU_RDN ? F64_SIGN : 0;
        uint32_t z32 = rm == FPU_RDN ? F32_SIGN : 0;

        E64(fpu_f64_add, ONE, ONE | F64_SIGN, rm, z, 0);   /* x + -x */
        E64(fpu_f64_sub, ONE, ONE, rm, z, 0);
        E64(fpu_f64_add, 0, F64_SIGN, rm, z, 0);           /* +0 + -0 */
        E64(fpu_f64_add, F64_SIGN, F64_SIGN, rm, F64_SIGN, 0);
        E64(fpu_f64_mul, F64_SIGN, ONE, rm, F64_SIGN, 0);
        E32(fpu_f32_add, S(1.0f), S(-1.0f), rm, z32, 0);
        E32(fpu_f32_sub, F32_SIGN, 0, rm, F32_SIGN, 0);
    }
}

typedef uint64_t (*tri64)(uint64_t, uint64_t, uint64_t, unsigned, uint32_t *);

static void expect_fma64(uint64_t a, uint64_t b, uint64_t c, unsigned rm,
                         uint64_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = fpu_f64_fma(a, b, c, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d rm %u: fma = %016llx fl %02x, want %016llx fl %02x",
              line, rm, (unsigned long long)got, fl,
              (unsigned long long)want, wfl);
}

static void expect_fma32(uint32_t a, uint32_t b, uint32_t c, unsigned rm,
                         uint32_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint32_t got = fpu_f32_fma(a, b, c, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d rm %u: fma = %08x fl %02x, want %08x fl %02x",
              line, rm, got, fl, want, wfl);
}

#define F64(a, b, c, rm, w, f) expect_fma64(a, b, c, rm, w, f, __LINE__)
#define F32(a, b, c, rm, w, f) expect_fma32(a, b, c, rm, w, f, __LINE__)

/* a = 1 + 2^-30: a*a = 1 + 2^-29 + 2^-60 exactly. Rounded separately the
 * product loses 2^-60 and a*a - (1 + 2^-29) would be 0; fused, it is
 * exactly 2^-60. */
Test(fpu_arith, fma_rounds_once)
{
    const uint64_t a = D(1.0 + 0x1p-30), c = D(1.0 + 0x1p-29);
    const uint32_t a32 = S(1.0f + 0x1p-12f), c32 = S(1.0f + 0x1p-11f);
    uint32_t fl = 0;

    cr_assert_eq(fpu_f64_sub(fpu_f64_mul(a, a, FPU_RNE, &fl), c, FPU_RNE,
                             &fl), 0);
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        F64(a, a, c ^ F64_SIGN, rm, D(0x1p-60), 0);
        F32(a32, a32, c32 ^ F32_SIGN, rm, S(0x1p-24f), 0);
    }
    /* Fused and inexact: a*a + 1 = 2 + 2^-29 + 2^-60, the 2^-60 below half
     * an ulp (2^-52 at 2): RNE and RMM drop it, RUP rounds up. */
    F64(a, a, ONE, FPU_RNE, D(2.0 + 0x1p-29), NX);
    F64(a, a, ONE, FPU_RMM, D(2.0 + 0x1p-29), NX);
    F64(a, a, ONE, FPU_RUP, D(2.0 + 0x1p-29) + 1, NX);
}

/* A tie only the fused operation sees: with a = 1 + 2^-52,
 * a*a + (2^-53 - 2^-104) = 1 + 2^-51 + 2^-53 exactly, halfway between
 * 1 + 2^-51 (even) and 1 + 3*2^-52. Unfused, a*a loses its 2^-104 and the
 * sum falls below the midpoint. */
Test(fpu_arith, fma_tie_rmm)
{
    const uint64_t a = 0x3ff0000000000001ull, c = D(0x1.ffffffffffffcp-54);
    const uint64_t lo = 0x3ff0000000000002ull, hi = lo + 1;
    const uint32_t a32 = 0x3f800001u, c32 = S(0x1.fffff8p-25f);
    uint32_t fl = 0;

    cr_assert_eq(fpu_f64_add(fpu_f64_mul(a, a, FPU_RMM, &fl), c, FPU_RMM,
                             &fl), lo);
    F64(a, a, c, FPU_RNE, lo, NX);
    F64(a, a, c, FPU_RMM, hi, NX);
    F64(a, a, c, FPU_RTZ, lo, NX);
    F64(a, a, c, FPU_RDN, lo, NX);
    F64(a, a, c, FPU_RUP, hi, NX);
    F64(a ^ F64_SIGN, a, c ^ F64_SIGN, FPU_RMM, hi | F64_SIGN, NX);
    F64(a ^ F64_SIGN, a, c ^ F64_SIGN, FPU_RNE, lo | F64_SIGN, NX);
    F64(a ^ F64_SIGN, a, c ^ F64_SIGN, FPU_RDN, hi | F64_SIGN, NX);
    F32(a32, a32, c32, FPU_RNE, 0x3f800002u, NX);
    F32(a32, a32, c32, FPU_RMM, 0x3f800003u, NX);
    F32(a32, a32, c32, FPU_RTZ, 0x3f800002u, NX);
}

/* §11.6: "If the multiplicand operands are infinity and zero, the invalid
 * operation exception is raised, even when the addend is a quiet NaN." */
Test(fpu_arith, fma_invalid_cases)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        F64(PINF, 0, QNANP, rm, F64_CANON, NV);
        F64(0, NINF, F64_CANON, rm, F64_CANON, NV);
        F64(PINF, 0, ONE, rm, F64_CANON, NV);
        F64(ONE, ONE, QNANP, rm, F64_CANON, 0);
        F64(ONE, ONE, SNAN, rm, F64_CANON, NV);
        F64(QNANP, ONE, ONE, rm, F64_CANON, 0);
        F64(PINF, ONE, NINF, rm, F64_CANON, NV);     /* inf - inf */
        F64(PINF, ONE, PINF, rm, PINF, 0);
        F64(ONE, ONE, NINF, rm, NINF, 0);
        F32(0x7f800000u, 0, SQNANP, rm, F32_CANON, NV);
        F32(S(1.0f), S(1.0f), SQNANP, rm, F32_CANON, 0);
        F32(S(1.0f), SSNAN, S(1.0f), rm, F32_CANON, NV);
        F32(0x7f800000u, S(-1.0f), 0x7f800000u, rm, F32_CANON, NV);
    }
}

Test(fpu_arith, fma_zero_signs)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        uint64_t z = rm == FPU_RDN ? F64_SIGN : 0;

        F64(0, ONE, F64_SIGN, rm, z, 0);               /* +0 + -0 */
        F64(F64_SIGN, ONE, F64_SIGN, rm, F64_SIGN, 0); /* -0 + -0 */
        F64(ONE, ONE, ONE | F64_SIGN, rm, z, 0);       /* 1 - 1 */
        F64(0, ONE, D(5.0), rm, D(5.0), 0);
    }
    /* A nonzero product that rounds to zero keeps its sign:
     * 2^-1074 * 2^-1 + (-0) in RTZ is +0 with UF|NX. */
    F64(1, D(0.5), F64_SIGN, FPU_RTZ, 0, UF | NX);
    F64(1, D(-0.5), 0, FPU_RTZ, F64_SIGN, UF | NX);
    F64(1, D(0.5), F64_SIGN, FPU_RMM, 1, UF | NX);
}

Test(fpu_arith, fma_overflow_underflow)
{
    F64(DMAX, TWO, DMAX | F64_SIGN, FPU_RNE, DMAX, 0);  /* 2M - M exact */
    F64(DMAX, TWO, ONE, FPU_RNE, PINF, OF | NX);
    F64(DMAX, TWO, ONE, FPU_RTZ, DMAX, OF | NX);
    F64(DMAX, TWO, ONE, FPU_RMM, PINF, OF | NX);
    F64(1, D(0.5), 0, FPU_RNE, 0, UF | NX);
    F64(1, D(0.5), 0, FPU_RMM, 1, UF | NX);
    F64(DMINN, D(0.5), 0, FPU_RMM, 0x0008000000000000ull, 0);
}

/* --- The exact software path against the host FPU in RNE/RTZ/RDN/RUP. */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* An operand: specials, few-bit significands (they make ties), exponents
 * near the ends of the range, or random bits. */
static uint64_t rand_operand(bool dbl)
{
    static const uint64_t sp64[] = {
        0, F64_SIGN, PINF, NINF, F64_CANON, QNANP, SNAN, 1, DMAXSUB, DMINN,
        DMAX, ONE,
    };
    static const uint32_t sp32[] = {
        0, F32_SIGN, 0x7f800000u, 0xff800000u, F32_CANON, SQNANP, SSNAN, 1,
        0x007fffffu, 0x00800000u, 0x7f7fffffu, 0x3f800000u,
    };
    const unsigned fb = dbl ? 52 : 23, emax = dbl ? 2046 : 254;
    const unsigned bias = dbl ? 1023 : 127;
    uint64_t r = rng(), sign = r & 1, e, frac;
    unsigned k;

    switch ((r >> 1) % 10) {
    case 0:
        return dbl ? sp64[(r >> 8) % 12] : sp32[(r >> 8) % 12];
    case 1:
        return dbl ? rng() : (uint32_t)rng();
    case 2:
        e = (r >> 8) % 8;                               /* subnormal end */
        break;
    case 3:
        e = emax - (r >> 8) % 8;                        /* overflow end */
        break;
    case 4:
        e = bias / 2 + (r >> 8) % 16;                   /* products near */
        break;                                          /* the bottom */
    case 5:
        /* Around the limits of the RNE fast path in cpu/fpu_arith.c. */
        e = dbl ? 0x21a - 12 + (r >> 8) % 24 : (r >> 8) % 6;
        break;
    case 6:
        e = dbl ? 0x40 - 12 + (r >> 8) % 24 : emax - (r >> 8) % 3;
        break;
    default:
        e = bias - 30 + (r >> 8) % 60;
        break;
    }
    k = 1 + (unsigned)((r >> 20) % fb);
    if ((r >> 30) & 1)
        k = fb;
    frac = (rng() & ((1ull << k) - 1)) << (fb - k);
    return sign << (dbl ? 63 : 31) | e << fb | frac;
}

static void cross_check(bool dbl, unsigned op, uint64_t a, uint64_t b,
                        uint64_t c, unsigned rm)
{
    uint32_t hf = 0, sf = 0;
    uint64_t h, s;

    switch (op) {
    case 0:
        h = dbl ? fpu_f64_add(a, b, rm, &hf)
                : fpu_f32_add((uint32_t)a, (uint32_t)b, rm, &hf);
        s = fpu_soft_add(dbl, a, b, rm, &sf);
        break;
    case 1:
        h = dbl ? fpu_f64_mul(a, b, rm, &hf)
                : fpu_f32_mul((uint32_t)a, (uint32_t)b, rm, &hf);
        s = fpu_soft_mul(dbl, a, b, rm, &sf);
        break;
    case 2:
        h = dbl ? fpu_f64_div(a, b, rm, &hf)
                : fpu_f32_div((uint32_t)a, (uint32_t)b, rm, &hf);
        s = fpu_soft_div(dbl, a, b, rm, &sf);
        break;
    default:
        h = dbl ? fpu_f64_fma(a, b, c, rm, &hf)
                : fpu_f32_fma((uint32_t)a, (uint32_t)b, (uint32_t)c, rm,
                              &hf);
        s = fpu_soft_fma(dbl, a, b, c, rm, &sf);
        break;
    }
    cr_assert(h == s && hf == sf,
              "%s op %u rm %u: %llx %llx %llx: host %llx/%02x soft %llx/%02x",
              dbl ? "f64" : "f32", op, rm, (unsigned long long)a,
              (unsigned long long)b, (unsigned long long)c,
              (unsigned long long)h, hf, (unsigned long long)s, sf);
}

Test(fpu_arith, soft_path_matches_host)
{
    for (unsigned i = 0; i < 400000; i++) {
        bool dbl = i & 1;
        uint64_t a = rand_operand(dbl), b = rand_operand(dbl);
        uint64_t c = rand_operand(dbl);
        unsigned op = (i >> 1) % 4, rm = (i >> 3) % 4;

        /* Close operands exercise cancellation in add and fma. */
        if ((i >> 5) % 4 == 0)
            b = (a ^ (rng() & 0x3f)) ^ (dbl ? F64_SIGN : F32_SIGN);
        if (op == 3 && (i >> 7) % 4 == 0) {
            uint32_t fl = 0;
            c = dbl ? fpu_f64_mul(a, b, FPU_RNE, &fl)
                    : fpu_f32_mul((uint32_t)a, (uint32_t)b, FPU_RNE, &fl);
            c ^= dbl ? F64_SIGN : F32_SIGN;
        }
        cross_check(dbl, op, a, b, c, rm);
    }
}
