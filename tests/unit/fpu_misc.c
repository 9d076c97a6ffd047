/*
 * tests/unit/fpu_misc.c — proves FMIN/FMAX (2.2 semantics: -0 < +0, one
 * NaN gives the other operand, two give the canonical NaN, sNaN raises NV),
 * FEQ quiet vs FLT/FLE signalling, and FCLASS on each of its ten classes
 * for binary32 and binary64 (unpriv spec §11.6, §11.8, §11.9).
 */
#include <criterion/criterion.h>

#include "cpu/fpu_int.h"
#include "cpu/hart.h"

#define NV FFLAG_NV
#define D(x) f64_bits(x)
#define S(x) f32_bits(x)

#define QNAN64 0x7ff8000000000123ull
#define SNAN64 0x7ff0000000000001ull
#define QNAN32 0x7fc00123u
#define SNAN32 0x7f800001u

static void mm64(uint64_t a, uint64_t b, bool max, uint64_t want,
                 uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = fpu_f64_minmax(a, b, max, &fl);

    cr_expect(got == want && fl == wfl,
              "line %d: %s(%llx, %llx) = %llx fl %02x", line,
              max ? "max" : "min", (unsigned long long)a,
              (unsigned long long)b, (unsigned long long)got, fl);
}

static void mm32(uint32_t a, uint32_t b, bool max, uint32_t want,
                 uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint32_t got = fpu_f32_minmax(a, b, max, &fl);

    cr_expect(got == want && fl == wfl, "line %d: %s(%x, %x) = %x fl %02x",
              line, max ? "max" : "min", a, b, got, fl);
}

#define MM64(a, b, max, w, f) mm64(a, b, max, w, f, __LINE__)
#define MM32(a, b, max, w, f) mm32(a, b, max, w, f, __LINE__)

Test(fpu_misc, minmax_signed_zeros)
{
    MM64(0, F64_SIGN, false, F64_SIGN, 0);
    MM64(F64_SIGN, 0, false, F64_SIGN, 0);
    MM64(0, F64_SIGN, true, 0, 0);
    MM64(F64_SIGN, 0, true, 0, 0);
    MM32(0, F32_SIGN, false, F32_SIGN, 0);
    MM32(F32_SIGN, 0, true, 0, 0);
}

Test(fpu_misc, minmax_nans)
{
    MM64(QNAN64, D(1.0), false, D(1.0), 0);
    MM64(D(1.0), QNAN64, true, D(1.0), 0);
    MM64(SNAN64, D(1.0), false, D(1.0), NV);
    MM64(D(-2.0), SNAN64, true, D(-2.0), NV);
    MM64(QNAN64, QNAN64, false, F64_CANON, 0);
    MM64(QNAN64, SNAN64, true, F64_CANON, NV);
    MM32(QNAN32, S(1.0f), false, S(1.0f), 0);
    MM32(SNAN32, S(1.0f), true, S(1.0f), NV);
    MM32(QNAN32, 0xffc00000u, true, F32_CANON, 0);
}

Test(fpu_misc, minmax_ordering)
{
    MM64(D(1.0), D(2.0), false, D(1.0), 0);
    MM64(D(1.0), D(2.0), true, D(2.0), 0);
    MM64(D(-1.0), D(-2.0), false, D(-2.0), 0);
    MM64(D(-1.0), D(-2.0), true, D(-1.0), 0);
    MM64(0xfff0000000000000ull, D(-1e308), false, 0xfff0000000000000ull, 0);
    MM64(0x7ff0000000000000ull, D(1e308), true, 0x7ff0000000000000ull, 0);
    MM64(1, F64_SIGN | 1, false, F64_SIGN | 1, 0);     /* subnormals */
    MM64(D(3.0), D(3.0), true, D(3.0), 0);
    MM32(S(-1.5f), S(2.5f), false, S(-1.5f), 0);
    MM32(S(-1.5f), S(2.5f), true, S(2.5f), 0);
}

static void cmp64(uint64_t a, uint64_t b, unsigned op, uint64_t want,
                  uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = fpu_f64_cmp(a, b, op, &fl);

    cr_expect(got == want && fl == wfl, "line %d: op %u = %llu fl %02x",
              line, op, (unsigned long long)got, fl);
}

static void cmp32(uint32_t a, uint32_t b, unsigned op, uint64_t want,
                  uint32_t wfl, int line)
{
    uint32_t fl = 0;
    uint64_t got = fpu_f32_cmp(a, b, op, &fl);

    cr_expect(got == want && fl == wfl, "line %d: op %u = %llu fl %02x",
              line, op, (unsigned long long)got, fl);
}

#define C64(a, b, op, w, f) cmp64(a, b, op, w, f, __LINE__)
#define C32(a, b, op, w, f) cmp32(a, b, op, w, f, __LINE__)

Test(fpu_misc, compare_values)
{
    C64(D(1.0), D(2.0), FPU_FLT, 1, 0);
    C64(D(2.0), D(1.0), FPU_FLT, 0, 0);
    C64(D(2.0), D(2.0), FPU_FLT, 0, 0);
    C64(D(2.0), D(2.0), FPU_FLE, 1, 0);
    C64(D(2.0), D(2.0), FPU_FEQ, 1, 0);
    C64(D(-2.0), D(-1.0), FPU_FLT, 1, 0);
    C64(D(-2.0), D(-1.0), FPU_FLE, 1, 0);
    C64(0, F64_SIGN, FPU_FEQ, 1, 0);                 /* +0 == -0 */
    C64(F64_SIGN, 0, FPU_FLT, 0, 0);
    C64(F64_SIGN, 0, FPU_FLE, 1, 0);
    C64(0, F64_SIGN, FPU_FLE, 1, 0);
    C64(0xfff0000000000000ull, D(-1e308), FPU_FLT, 1, 0);
    C32(S(1.0f), S(2.0f), FPU_FLT, 1, 0);
    C32(F32_SIGN, 0, FPU_FEQ, 1, 0);
    C32(S(-3.0f), S(-3.0f), FPU_FLE, 1, 0);
}

/* FEQ is quiet: NV only for a signalling NaN. FLT and FLE signal on any
 * NaN. All give 0 when an operand is NaN. */
Test(fpu_misc, compare_nans)
{
    C64(QNAN64, D(1.0), FPU_FEQ, 0, 0);
    C64(QNAN64, QNAN64, FPU_FEQ, 0, 0);
    C64(SNAN64, D(1.0), FPU_FEQ, 0, NV);
    C64(D(1.0), QNAN64, FPU_FLT, 0, NV);
    C64(QNAN64, D(1.0), FPU_FLE, 0, NV);
    C64(SNAN64, D(1.0), FPU_FLE, 0, NV);
    C32(QNAN32, S(1.0f), FPU_FEQ, 0, 0);
    C32(S(1.0f), SNAN32, FPU_FEQ, 0, NV);
    C32(QNAN32, S(1.0f), FPU_FLT, 0, NV);
    C32(S(1.0f), QNAN32, FPU_FLE, 0, NV);
}

Test(fpu_misc, fclass_double)
{
    cr_expect_eq(fpu_f64_class(0xfff0000000000000ull), 1u << 0);
    cr_expect_eq(fpu_f64_class(D(-1.5)), 1u << 1);
    cr_expect_eq(fpu_f64_class(0x800fffffffffffffull), 1u << 2);
    cr_expect_eq(fpu_f64_class(F64_SIGN | 1), 1u << 2);
    cr_expect_eq(fpu_f64_class(F64_SIGN), 1u << 3);
    cr_expect_eq(fpu_f64_class(0), 1u << 4);
    cr_expect_eq(fpu_f64_class(1), 1u << 5);
    cr_expect_eq(fpu_f64_class(0x0010000000000000ull), 1u << 6);
    cr_expect_eq(fpu_f64_class(0x7fefffffffffffffull), 1u << 6);
    cr_expect_eq(fpu_f64_class(0x7ff0000000000000ull), 1u << 7);
    cr_expect_eq(fpu_f64_class(SNAN64), 1u << 8);
    cr_expect_eq(fpu_f64_class(0xfff4000000000000ull), 1u << 8);
    cr_expect_eq(fpu_f64_class(F64_CANON), 1u << 9);
    cr_expect_eq(fpu_f64_class(0xfff8000000000001ull), 1u << 9);
}

Test(fpu_misc, fclass_single)
{
    cr_expect_eq(fpu_f32_class(0xff800000u), 1u << 0);
    cr_expect_eq(fpu_f32_class(S(-1.5f)), 1u << 1);
    cr_expect_eq(fpu_f32_class(0x807fffffu), 1u << 2);
    cr_expect_eq(fpu_f32_class(F32_SIGN), 1u << 3);
    cr_expect_eq(fpu_f32_class(0), 1u << 4);
    cr_expect_eq(fpu_f32_class(1), 1u << 5);
    cr_expect_eq(fpu_f32_class(0x00800000u), 1u << 6);
    cr_expect_eq(fpu_f32_class(0x7f800000u), 1u << 7);
    cr_expect_eq(fpu_f32_class(SNAN32), 1u << 8);
    cr_expect_eq(fpu_f32_class(F32_CANON), 1u << 9);
}
