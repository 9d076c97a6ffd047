/*
 * tests/unit/fpu_cvt.c — proves the FCVT conversions: float to integer
 * saturates with NV (NaN, infinities, out of range, for W/WU/L/LU) and
 * sign-extends 32-bit results; every rounding mode on halfway cases; integer
 * to float rounding (ties, RMM) with NX; binary64 <-> binary32 with
 * overflow, underflow and canonical NaNs. Expectations derived by hand
 * from the unpriv spec §11.7 table 11.4 and §12.5.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "cpu/fpu_int.h"
#include "cpu/hart.h"

#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define NV FFLAG_NV

#define D(x) f64_bits(x)
#define S(x) f32_bits(x)

static const char *const kname[] = { "W", "WU", "L", "LU" };

static void to_int(uint64_t a, bool dbl, unsigned kind, unsigned rm,
                   uint64_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = dbl ? fpu_f64_to_int(a, kind, rm, &fl)
                       : fpu_f32_to_int((uint32_t)a, kind, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d: fcvt.%s.%c(%llx) rm %u = %llx fl %02x, "
              "want %llx fl %02x", line, kname[kind], dbl ? 'd' : 's',
              (unsigned long long)a, rm, (unsigned long long)got, fl,
              (unsigned long long)want, wfl);
}

/* Same expectation from the binary64 and binary32 forms of x. */
#define TI(x, kind, rm, want, wfl) do {                                   \
        to_int(D(x), true, kind, rm, want, wfl, __LINE__);                \
        to_int(S((float)(x)), false, kind, rm, want, wfl, __LINE__);      \
    } while (0)
#define TID(bits, kind, rm, want, wfl)                                    \
    to_int(bits, true, kind, rm, want, wfl, __LINE__)
#define TIS(bits, kind, rm, want, wfl)                                    \
    to_int(bits, false, kind, rm, want, wfl, __LINE__)

#define W  FPU_W
#define WU FPU_WU
#define L  FPU_L
#define LU FPU_LU

#define I32MIN 0xffffffff80000000ull
#define I32MAX 0x000000007fffffffull
#define I64MIN 0x8000000000000000ull
#define I64MAX 0x7fffffffffffffffull
#define ALL1   0xffffffffffffffffull

Test(fpu_cvt, nan_saturates_to_max_positive)
{
    static const uint64_t nans64[] = {
        0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull,
        0x7ff8000000000123ull,
    };
    static const uint32_t nans32[] = {
        0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800123u,
    };

    for (unsigned i = 0; i < 4; i++) {
        for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
            TID(nans64[i], W, rm, I32MAX, NV);
            TID(nans64[i], WU, rm, ALL1, NV);   /* 0xffffffff, extended */
            TID(nans64[i], L, rm, I64MAX, NV);
            TID(nans64[i], LU, rm, ALL1, NV);
            TIS(nans32[i], W, rm, I32MAX, NV);
            TIS(nans32[i], WU, rm, ALL1, NV);
            TIS(nans32[i], L, rm, I64MAX, NV);
            TIS(nans32[i], LU, rm, ALL1, NV);
        }
    }
}

Test(fpu_cvt, infinities_saturate)
{
    TI(INFINITY, W, FPU_RNE, I32MAX, NV);
    TI(INFINITY, WU, FPU_RNE, ALL1, NV);
    TI(INFINITY, L, FPU_RNE, I64MAX, NV);
    TI(INFINITY, LU, FPU_RNE, ALL1, NV);
    TI(-INFINITY, W, FPU_RNE, I32MIN, NV);
    TI(-INFINITY, WU, FPU_RNE, 0, NV);
    TI(-INFINITY, L, FPU_RNE, I64MIN, NV);
    TI(-INFINITY, LU, FPU_RNE, 0, NV);
}

Test(fpu_cvt, range_limits_per_width)
{
    /* W: [-2^31, 2^31 - 1]. */
    TI(0x1p31, W, FPU_RNE, I32MAX, NV);
    TI(-0x1p31, W, FPU_RNE, I32MIN, 0);
    TID(D(2147483647.0), W, FPU_RNE, I32MAX, 0);
    TID(D(-2147483649.0), W, FPU_RNE, I32MIN, NV);
    TI(1e20, W, FPU_RTZ, I32MAX, NV);
    TI(-1e20, W, FPU_RTZ, I32MIN, NV);
    /* WU: [0, 2^32 - 1], results sign-extended from bit 31. */
    TI(0x1p31, WU, FPU_RNE, 0xffffffff80000000ull, 0);
    TID(D(4294967295.0), WU, FPU_RNE, ALL1, 0);
    TI(0x1p32, WU, FPU_RNE, ALL1, NV);
    TI(3e9, WU, FPU_RNE, 0xffffffffb2d05e00ull, 0);
    TI(-1.0, WU, FPU_RNE, 0, NV);
    /* L: [-2^63, 2^63 - 1]. */
    TI(0x1p63, L, FPU_RNE, I64MAX, NV);
    TI(-0x1p63, L, FPU_RNE, I64MIN, 0);
    TID(0xc3e0000000000001ull, L, FPU_RNE, I64MIN, NV); /* -2^63 - 2048 */
    TID(0x43dfffffffffffffull, L, FPU_RNE, 0x7ffffffffffffc00ull, 0);
    /* LU: [0, 2^64 - 1]. */
    TI(0x1p63, LU, FPU_RNE, I64MIN, 0);
    TI(0x1p64, LU, FPU_RNE, ALL1, NV);
    TID(0x43efffffffffffffull, LU, FPU_RNE, 0xfffffffffffff800ull, 0);
    TI(-1.0, LU, FPU_RNE, 0, NV);
    TI(-1.0, W, FPU_RNE, ALL1, 0);                  /* -1 sign-extended */
    TI(-1.0, L, FPU_RNE, ALL1, 0);
}

Test(fpu_cvt, zeros_are_exact)
{
    for (unsigned k = 0; k < 4; k++) {
        TI(0.0, k, FPU_RDN, 0, 0);
        TI(-0.0, k, FPU_RDN, 0, 0);
        TI(-0.0, k, FPU_RUP, 0, 0);
    }
}

/* Halfway cases in every mode (§11.2 table 11.1). */
Test(fpu_cvt, halfway_cases_every_mode)
{
    TI(2.5, W, FPU_RNE, 2, NX);
    TI(2.5, W, FPU_RTZ, 2, NX);
    TI(2.5, W, FPU_RDN, 2, NX);
    TI(2.5, W, FPU_RUP, 3, NX);
    TI(2.5, W, FPU_RMM, 3, NX);
    TI(3.5, L, FPU_RNE, 4, NX);
    TI(3.5, L, FPU_RMM, 4, NX);
    TI(-2.5, L, FPU_RNE, (uint64_t)-2, NX);
    TI(-2.5, L, FPU_RTZ, (uint64_t)-2, NX);
    TI(-2.5, L, FPU_RDN, (uint64_t)-3, NX);
    TI(-2.5, L, FPU_RUP, (uint64_t)-2, NX);
    TI(-2.5, L, FPU_RMM, (uint64_t)-3, NX);
    TI(0.5, LU, FPU_RNE, 0, NX);
    TI(0.5, LU, FPU_RMM, 1, NX);
    TI(0.5, WU, FPU_RUP, 1, NX);
    TI(1.5, WU, FPU_RNE, 2, NX);
    TI(1.5, WU, FPU_RTZ, 1, NX);
    /* Not halfway: 2.3 and -2.7. */
    TI(2.3, W, FPU_RNE, 2, NX);
    TI(2.3, W, FPU_RMM, 2, NX);
    TI(2.3, W, FPU_RUP, 3, NX);
    TI(-2.7, W, FPU_RNE, 0xfffffffffffffffdull, NX);
    TI(-2.7, W, FPU_RTZ, 0xfffffffffffffffeull, NX);
    TI(-2.7, W, FPU_RUP, 0xfffffffffffffffeull, NX);
}

/* A negative input to an unsigned conversion is out of range only when it
 * rounds to a nonzero integer: -0.5 to WU is 0 with NX in RNE/RTZ/RUP, but
 * -1 (NV, saturate to 0) in RDN and RMM. */
Test(fpu_cvt, negative_fraction_to_unsigned)
{
    TI(-0.5, WU, FPU_RNE, 0, NX);
    TI(-0.5, WU, FPU_RTZ, 0, NX);
    TI(-0.5, WU, FPU_RUP, 0, NX);
    TI(-0.5, WU, FPU_RDN, 0, NV);
    TI(-0.5, WU, FPU_RMM, 0, NV);
    TI(-0.3, WU, FPU_RTZ, 0, NX);
    TI(-0.3, LU, FPU_RTZ, 0, NX);
    TI(-0.3, LU, FPU_RMM, 0, NX);
    TI(-0.7, LU, FPU_RNE, 0, NV);
    TID(0x8000000000000001ull, LU, FPU_RDN, 0, NV);   /* -2^-1074 */
    TID(0x8000000000000001ull, LU, FPU_RNE, 0, NX);
    TID(0x8000000000000001ull, L, FPU_RDN, ALL1, NX);
    TID(0x0000000000000001ull, L, FPU_RUP, 1, NX);
    TIS(0x00000001u, W, FPU_RUP, 1, NX);
}

/* Rounding decides the range check: 2147483647.5 rounds to 2^31 in RNE
 * (out of range, NV alone) but fits in RTZ (NX). */
Test(fpu_cvt, rounding_at_the_range_edge)
{
    TID(D(2147483647.5), W, FPU_RNE, I32MAX, NV);
    TID(D(2147483647.5), W, FPU_RTZ, I32MAX, NX);
    TID(D(2147483647.5), W, FPU_RDN, I32MAX, NX);
    TID(D(-2147483648.5), W, FPU_RNE, I32MIN, NX);   /* tie to even */
    TID(D(-2147483648.5), W, FPU_RTZ, I32MIN, NX);
    TID(D(-2147483648.5), W, FPU_RDN, I32MIN, NV);
    TID(D(-2147483648.5), W, FPU_RMM, I32MIN, NV);
    TID(D(4294967295.5), WU, FPU_RTZ, ALL1, NX);
    TID(D(4294967295.5), WU, FPU_RNE, ALL1, NV);
}

static void from_int(uint64_t x, bool dbl, unsigned kind, unsigned rm,
                     uint64_t want, uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = dbl ? fpu_int_to_f64(x, kind, rm, &fl)
                       : fpu_int_to_f32(x, kind, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d: fcvt.%c.%s(%llx) rm %u = %llx fl %02x, "
              "want %llx fl %02x", line, dbl ? 'd' : 's', kname[kind],
              (unsigned long long)x, rm, (unsigned long long)got, fl,
              (unsigned long long)want, wfl);
}

#define FD(x, kind, rm, want, wfl) from_int(x, true, kind, rm, want, wfl, __LINE__)
#define FS(x, kind, rm, want, wfl) from_int(x, false, kind, rm, want, wfl, __LINE__)

Test(fpu_cvt, from_int_exact)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        FD(0, L, rm, 0, 0);                          /* +0 even in RDN */
        FD(0xffffffff, W, rm, D(-1.0), 0);
        FD(0x12345678ffffffffull, W, rm, D(-1.0), 0);   /* low 32 bits */
        FD(0x12345678ffffffffull, WU, rm, D(4294967295.0), 0);
        FD(0x80000000, W, rm, D(-2147483648.0), 0);
        FD(I64MIN, L, rm, D(-0x1p63), 0);
        FD(I64MIN, LU, rm, D(0x1p63), 0);
        FD(1ull << 53, L, rm, D(0x1p53), 0);
        FS(0xffffffff, W, rm, S(-1.0f), 0);
        FS(1u << 24, WU, rm, S(0x1p24f), 0);
    }
}

/* 2^53 + 1 lies halfway between 2^53 (even) and 2^53 + 2; 2^53 + 3
 * halfway between 2^53 + 2 (odd) and 2^53 + 4 (even). */
Test(fpu_cvt, from_int_ties)
{
    const uint64_t t1 = (1ull << 53) + 1, t3 = (1ull << 53) + 3;
    const uint64_t p53 = 0x4340000000000000ull;

    FD(t1, L, FPU_RNE, p53, NX);
    FD(t1, L, FPU_RTZ, p53, NX);
    FD(t1, L, FPU_RDN, p53, NX);
    FD(t1, L, FPU_RUP, p53 + 1, NX);
    FD(t1, L, FPU_RMM, p53 + 1, NX);
    FD(-t1, L, FPU_RDN, (p53 + 1) | F64_SIGN, NX);
    FD(-t1, L, FPU_RUP, p53 | F64_SIGN, NX);
    FD(-t1, L, FPU_RMM, (p53 + 1) | F64_SIGN, NX);
    FD(t3, LU, FPU_RNE, p53 + 2, NX);
    FD(t3, LU, FPU_RMM, p53 + 2, NX);
    FD(t3, LU, FPU_RTZ, p53 + 1, NX);
    /* Single: 2^24 + 1. */
    FS((1u << 24) + 1, W, FPU_RNE, 0x4b800000u, NX);
    FS((1u << 24) + 1, W, FPU_RMM, 0x4b800001u, NX);
    FS((uint32_t)-((1 << 24) + 1), W, FPU_RMM, 0xcb800001u, NX);
    FS((uint32_t)-((1 << 24) + 1), W, FPU_RUP, 0xcb800000u, NX);
    /* Large values: 2^64 - 1 and 2^32 - 1. */
    FD(ALL1, LU, FPU_RNE, D(0x1p64), NX);
    FD(ALL1, LU, FPU_RTZ, 0x43efffffffffffffull, NX);
    FS(0xffffffff, WU, FPU_RNE, S(0x1p32f), NX);
    FS(0xffffffff, WU, FPU_RTZ, 0x4f7fffffu, NX);
    FS(ALL1, LU, FPU_RMM, S(0x1p64f), NX);
    FS(I64MAX, L, FPU_RDN, 0x5effffffu, NX);
}

static void narrow(uint64_t a, unsigned rm, uint32_t want, uint32_t wfl,
                   int line)
{
    uint32_t fl = 0;
    uint32_t got = fpu_f64_to_f32(a, rm, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d: fcvt.s.d(%llx) rm %u = %08x fl %02x, want %08x %02x",
              line, (unsigned long long)a, rm, got, fl, want, wfl);
}

#define N(a, rm, want, wfl) narrow(a, rm, want, wfl, __LINE__)

Test(fpu_cvt, double_to_single)
{
    for (unsigned rm = 0; rm <= FPU_RMM; rm++) {
        N(D(0.5), rm, 0x3f000000u, 0);
        N(0x7ff8000000000123ull, rm, F32_CANON, 0);
        N(0x7ff0000000000001ull, rm, F32_CANON, NV);
        N(0xfff0000000000000ull, rm, 0xff800000u, 0);
        N(F64_SIGN, rm, F32_SIGN, 0);
    }
    /* 1 + 2^-24: halfway between 1 and 1 + 2^-23. */
    N(D(1.0 + 0x1p-24), FPU_RNE, 0x3f800000u, NX);
    N(D(1.0 + 0x1p-24), FPU_RMM, 0x3f800001u, NX);
    N(D(1.0 + 0x1p-24), FPU_RUP, 0x3f800001u, NX);
    N(D(-1.0 - 0x1p-24), FPU_RDN, 0xbf800001u, NX);
    N(D(-1.0 - 0x1p-24), FPU_RTZ, 0xbf800000u, NX);
    /* Overflow. */
    N(D(1e300), FPU_RNE, 0x7f800000u, OF | NX);
    N(D(1e300), FPU_RTZ, 0x7f7fffffu, OF | NX);
    N(D(-1e300), FPU_RUP, 0xff7fffffu, OF | NX);
    N(D(-1e300), FPU_RMM, 0xff800000u, OF | NX);
    /* Underflow: 2^-150 is halfway between 0 and 2^-149. */
    N(D(0x1p-150), FPU_RNE, 0, UF | NX);
    N(D(0x1p-150), FPU_RMM, 1, UF | NX);
    N(D(-0x1p-150), FPU_RDN, 0x80000001u, UF | NX);
    N(D(0x1p-149), FPU_RNE, 1, 0);                   /* exact subnormal */
    N(D(0x1p-200), FPU_RUP, 1, UF | NX);
    /* Just below 2^-126: rounds to it (not tiny after rounding). */
    N(D(0x1p-126 * (1.0 - 0x1p-30)), FPU_RNE, 0x00800000u, NX);
    N(D(0x1p-126 * (1.0 - 0x1p-30)), FPU_RTZ, 0x007fffffu, UF | NX);
}

Test(fpu_cvt, single_to_double)
{
    uint32_t fl = 0;

    cr_expect_eq(fpu_f32_to_f64(0x7f800001u, &fl), F64_CANON);
    cr_expect_eq(fl, NV);
    fl = 0;
    cr_expect_eq(fpu_f32_to_f64(0xffc00123u, &fl), F64_CANON);
    cr_expect_eq(fpu_f32_to_f64(1, &fl), D(0x1p-149));
    cr_expect_eq(fpu_f32_to_f64(0xff800000u, &fl), 0xfff0000000000000ull);
    cr_expect_eq(fpu_f32_to_f64(F32_SIGN, &fl), F64_SIGN);
    cr_expect_eq(fpu_f32_to_f64(S(0.1f), &fl), D((double)0.1f));
    cr_expect_eq(fl, 0);
}
