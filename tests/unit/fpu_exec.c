/*
 * tests/unit/fpu_exec.c — proves fpu_decode and the instruction handlers:
 * which encodings are illegal (fmt H/Q, reserved static rm 5/6, nonzero
 * rs2, bad funct3/funct5), the run-time checks (mstatus.FS off, dynamic
 * frm 5/6/7), NaN-boxing of single operands and results, FMV bit copies,
 * x0, pc, fflags accrual and mstatus.FS dirtying.
 *
 * hart_illegal is replaced by a recorder here: the handlers call only it,
 * so the archive's trap code is not linked in.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "cpu/fpu.h"
#include "cpu/fpu_int.h"

static int illegal_count;
static uint32_t illegal_raw;

void hart_illegal(struct hart *h, const struct dinsn *d)
{
    (void)h;
    illegal_count++;
    illegal_raw = d->raw;
}

/* Instruction encoders (unpriv spec chapter 24, R and R4 types). */
static uint32_t op_fp(unsigned funct5, unsigned fmt, unsigned rs2,
                      unsigned rs1, unsigned f3, unsigned rd)
{
    return (funct5 << 2 | fmt) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           rd << 7 | 0x53;
}

static uint32_t r4(unsigned opc, unsigned fmt, unsigned rs3, unsigned rs2,
                   unsigned rs1, unsigned rm, unsigned rd)
{
    return rs3 << 27 | fmt << 25 | rs2 << 20 | rs1 << 15 | rm << 12 |
           rd << 7 | opc;
}

enum { FMT_S = 0, FMT_D = 1, DYN = 7 };
enum {
    F5_ADD = 0x00, F5_SUB = 0x01, F5_MUL = 0x02, F5_DIV = 0x03,
    F5_SGNJ = 0x04, F5_MINMAX = 0x05, F5_CVTFF = 0x08, F5_SQRT = 0x0b,
    F5_CMP = 0x14, F5_CVTIF = 0x18, F5_CVTFI = 0x1a, F5_MVXF = 0x1c,
    F5_MVFX = 0x1e,
};

static struct hart *h;

static void setup(void)
{
    h = calloc(1, sizeof *h);
    cr_assert_not_null(h);
    h->mstatus = MSTATUS_FS_INITIAL;
    h->pc = 0x80000000;
    illegal_count = 0;
}

static void teardown(void)
{
    free(h);
}

/* Decode and execute; asserts the encoding decodes. */
static void run(uint32_t raw)
{
    struct dinsn d;

    cr_assert(fpu_decode(raw, &d), "%08x should decode", raw);
    d.fn(h, &d);
}

static bool decodes(uint32_t raw)
{
    struct dinsn d;

    return fpu_decode(raw, &d);
}

TestSuite(fpu_exec, .init = setup, .fini = teardown);

Test(fpu_exec, decode_fills_the_fields)
{
    struct dinsn d;

    cr_assert(fpu_decode(r4(0x43, FMT_D, 9, 8, 7, DYN, 6), &d));
    cr_expect(d.fn != NULL);
    cr_expect_eq(d.rd, 6);
    cr_expect_eq(d.rs1, 7);
    cr_expect_eq(d.rs2, 8);
    cr_expect_eq(d.rs3, 9);
    cr_expect_eq(d.rm, DYN);
    cr_expect_eq(d.len, 4);
    cr_expect_eq(d.raw, r4(0x43, FMT_D, 9, 8, 7, DYN, 6));
    cr_assert(fpu_decode(op_fp(F5_ADD, FMT_S, 31, 30, 4, 29), &d));
    cr_expect_eq(d.rd, 29);
    cr_expect_eq(d.rs1, 30);
    cr_expect_eq(d.rs2, 31);
    cr_expect_eq(d.rm, 4);
}

Test(fpu_exec, decode_rejects_reserved_encodings)
{
    /* H (fmt 2) and Q (fmt 3) are not implemented. */
    cr_expect(!decodes(op_fp(F5_ADD, 2, 1, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_ADD, 3, 1, 2, 0, 3)));
    cr_expect(!decodes(r4(0x43, 2, 1, 2, 3, 0, 4)));
    cr_expect(!decodes(r4(0x4f, 3, 1, 2, 3, 0, 4)));
    /* Reserved static rounding modes 5 and 6 (§11.2). */
    for (unsigned rm = 5; rm <= 6; rm++) {
        cr_expect(!decodes(op_fp(F5_ADD, FMT_S, 1, 2, rm, 3)));
        cr_expect(!decodes(op_fp(F5_DIV, FMT_D, 1, 2, rm, 3)));
        cr_expect(!decodes(op_fp(F5_SQRT, FMT_D, 0, 2, rm, 3)));
        cr_expect(!decodes(op_fp(F5_CVTIF, FMT_S, FPU_L, 2, rm, 3)));
        cr_expect(!decodes(op_fp(F5_CVTFI, FMT_D, FPU_WU, 2, rm, 3)));
        cr_expect(!decodes(op_fp(F5_CVTFF, FMT_D, 0, 2, rm, 3)));
        cr_expect(!decodes(r4(0x47, FMT_D, 1, 2, 3, rm, 4)));
    }
    for (unsigned rm = 0; rm <= 7; rm++) {
        bool ok = rm != 5 && rm != 6;
        cr_expect_eq(decodes(op_fp(F5_MUL, FMT_S, 1, 2, rm, 3)), ok);
        cr_expect_eq(decodes(r4(0x4b, FMT_S, 1, 2, 3, rm, 4)), ok);
    }
    /* rs2 must be zero / a valid selector. */
    cr_expect(!decodes(op_fp(F5_SQRT, FMT_S, 1, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_MVXF, FMT_S, 1, 2, 0, 3)));   /* fmv */
    cr_expect(!decodes(op_fp(F5_MVXF, FMT_D, 1, 2, 1, 3)));   /* fclass */
    cr_expect(!decodes(op_fp(F5_MVFX, FMT_D, 1, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_CVTIF, FMT_S, 4, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_CVTFI, FMT_D, 5, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_CVTFF, FMT_S, 0, 2, 0, 3)));  /* S.S */
    cr_expect(!decodes(op_fp(F5_CVTFF, FMT_D, 1, 2, 0, 3)));  /* D.D */
    cr_expect(!decodes(op_fp(F5_CVTFF, FMT_S, 2, 2, 0, 3)));  /* S.H */
    /* funct3 selects an operation, not a rounding mode. */
    cr_expect(!decodes(op_fp(F5_SGNJ, FMT_S, 1, 2, 3, 3)));
    cr_expect(!decodes(op_fp(F5_MINMAX, FMT_D, 1, 2, 2, 3)));
    cr_expect(!decodes(op_fp(F5_CMP, FMT_D, 1, 2, 3, 3)));
    cr_expect(!decodes(op_fp(F5_MVXF, FMT_S, 0, 2, 2, 3)));
    cr_expect(!decodes(op_fp(F5_MVFX, FMT_S, 0, 2, 1, 3)));
    /* Unknown funct5 and foreign opcodes. */
    cr_expect(!decodes(op_fp(0x06, FMT_S, 1, 2, 0, 3)));
    cr_expect(!decodes(op_fp(0x1f, FMT_D, 0, 2, 0, 3)));
    cr_expect(!decodes(op_fp(F5_ADD, FMT_S, 1, 2, 0, 3) ^ 0x53 ^ 0x33));
    /* The non-rm forms accept every legal funct3. */
    cr_expect(decodes(op_fp(F5_SGNJ, FMT_S, 1, 2, 2, 3)));
    cr_expect(decodes(op_fp(F5_CMP, FMT_D, 1, 2, 2, 3)));
    cr_expect(decodes(op_fp(F5_MVXF, FMT_D, 0, 2, 1, 3)));
}

Test(fpu_exec, fs_off_is_illegal)
{
    uint32_t raw = op_fp(F5_ADD, FMT_D, 2, 1, 0, 3);

    h->mstatus = MSTATUS_FS_OFF;
    h->f[1] = f64_bits(1.0);
    h->f[2] = f64_bits(2.0);
    run(raw);
    cr_expect_eq(illegal_count, 1);
    cr_expect_eq(illegal_raw, raw);
    cr_expect_eq(h->f[3], 0);
    cr_expect_eq(h->pc, 0x80000000);
    cr_expect_eq(h->mstatus, MSTATUS_FS_OFF);
    /* Instructions without rm too. */
    run(op_fp(F5_MVXF, FMT_D, 0, 1, 0, 5));
    run(op_fp(F5_SGNJ, FMT_S, 1, 1, 0, 3));
    cr_expect_eq(illegal_count, 3);
    cr_expect_eq(h->x[5], 0);
}

Test(fpu_exec, dynamic_rm_5_6_7_is_illegal)
{
    for (unsigned frm = 0; frm <= 7; frm++) {
        illegal_count = 0;
        h->frm = frm;
        h->pc = 0x1000;
        h->f[3] = 0;
        run(op_fp(F5_ADD, FMT_D, 2, 1, DYN, 3));
        run(op_fp(F5_CVTIF, FMT_S, FPU_W, 1, DYN, 5));
        run(r4(0x43, FMT_S, 1, 2, 3, DYN, 4));
        if (frm >= 5) {
            cr_expect_eq(illegal_count, 3, "frm %u", frm);
            cr_expect_eq(h->pc, 0x1000);
        } else {
            cr_expect_eq(illegal_count, 0, "frm %u", frm);
            cr_expect_eq(h->pc, 0x1000 + 12);
        }
    }
    /* A static rm ignores frm; non-rm instructions never look at it. */
    illegal_count = 0;
    h->frm = 6;
    run(op_fp(F5_ADD, FMT_D, 2, 1, FPU_RTZ, 3));
    run(op_fp(F5_SGNJ, FMT_D, 2, 1, 1, 3));
    run(op_fp(F5_CMP, FMT_D, 2, 1, FPU_FEQ, 5));
    cr_expect_eq(illegal_count, 0);
}

Test(fpu_exec, dynamic_rm_is_used)
{
    /* 1 + 2^-53 in double: RNE -> 1, RUP -> 1 + 2^-52, RMM -> 1 + 2^-52. */
    h->f[1] = f64_bits(1.0);
    h->f[2] = f64_bits(0x1p-53);
    h->frm = FPU_RUP;
    run(op_fp(F5_ADD, FMT_D, 2, 1, DYN, 3));
    cr_expect_eq(h->f[3], 0x3ff0000000000001ull);
    h->frm = FPU_RNE;
    run(op_fp(F5_ADD, FMT_D, 2, 1, DYN, 3));
    cr_expect_eq(h->f[3], 0x3ff0000000000000ull);
    h->frm = FPU_RMM;
    run(op_fp(F5_ADD, FMT_D, 2, 1, DYN, 3));
    cr_expect_eq(h->f[3], 0x3ff0000000000001ull);
    h->frm = FPU_RUP;
    run(op_fp(F5_ADD, FMT_D, 2, 1, FPU_RNE, 3));      /* static wins */
    cr_expect_eq(h->f[3], 0x3ff0000000000000ull);
    cr_expect_eq(h->fflags, FFLAG_NX);
}

Test(fpu_exec, single_results_are_boxed_and_inputs_unboxed)
{
    h->f[1] = fpu_box(f32_bits(1.5f));
    h->f[2] = fpu_box(f32_bits(2.0f));
    run(op_fp(F5_MUL, FMT_S, 2, 1, FPU_RNE, 3));
    cr_expect_eq(h->f[3], 0xffffffff40400000ull);          /* 3.0f boxed */
    /* An operand with its upper half not all ones is the canonical NaN:
     * a quiet NaN, so no NV, and the result is the boxed canonical NaN. */
    h->f[2] = 0x0000000040000000ull;
    run(op_fp(F5_ADD, FMT_S, 2, 1, FPU_RNE, 3));
    cr_expect_eq(h->f[3], 0xffffffff7fc00000ull);
    cr_expect_eq(h->fflags, 0);
    h->f[2] = 0xfffffffe40000000ull;
    run(op_fp(F5_SQRT, FMT_S, 0, 2, FPU_RNE, 3));
    cr_expect_eq(h->f[3], 0xffffffff7fc00000ull);
    run(r4(0x43, FMT_S, 1, 1, 2, FPU_RNE, 4));
    cr_expect_eq(h->f[4], 0xffffffff7fc00000ull);
    /* FCLASS.S of an unboxed value: quiet NaN. */
    run(op_fp(F5_MVXF, FMT_S, 0, 2, 1, 5));
    cr_expect_eq(h->x[5], 1u << 9);
    /* FCVT.D.S of an unboxed value: canonical double NaN. */
    run(op_fp(F5_CVTFF, FMT_D, 0, 2, FPU_RNE, 6));
    cr_expect_eq(h->f[6], F64_CANON);
    /* FCVT.W.S of an unboxed value: NaN -> 2^31 - 1 with NV. */
    run(op_fp(F5_CVTIF, FMT_S, FPU_W, 2, FPU_RTZ, 7));
    cr_expect_eq(h->x[7], 0x7fffffff);
    cr_expect_eq(h->fflags, FFLAG_NV);
    cr_expect_eq(illegal_count, 0);
}

Test(fpu_exec, sign_injection)
{
    h->f[1] = fpu_box(f32_bits(1.0f));
    h->f[2] = fpu_box(f32_bits(-2.0f));
    run(op_fp(F5_SGNJ, FMT_S, 2, 1, 0, 3));                 /* fsgnj */
    cr_expect_eq(h->f[3], 0xffffffffbf800000ull);
    run(op_fp(F5_SGNJ, FMT_S, 2, 1, 1, 3));                 /* fsgnjn */
    cr_expect_eq(h->f[3], 0xffffffff3f800000ull);
    run(op_fp(F5_SGNJ, FMT_S, 1, 2, 2, 3));                 /* fsgnjx */
    cr_expect_eq(h->f[3], 0xffffffffc0000000ull);
    run(op_fp(F5_SGNJ, FMT_S, 1, 1, 1, 3));                 /* fneg */
    cr_expect_eq(h->f[3], 0xffffffffbf800000ull);
    /* Unboxed rs1 reads as the canonical NaN; only the sign changes, no
     * flags even for signalling NaNs. */
    h->f[4] = 0x12345678u;
    run(op_fp(F5_SGNJ, FMT_S, 2, 4, 0, 3));
    cr_expect_eq(h->f[3], 0xffffffffffc00000ull);
    run(op_fp(F5_SGNJ, FMT_S, 4, 4, 0, 3));                 /* fmv.s */
    cr_expect_eq(h->f[3], 0xffffffff7fc00000ull);
    h->f[5] = 0x7ff0000000000001ull;                        /* sNaN */
    h->f[6] = f64_bits(-1.0);
    run(op_fp(F5_SGNJ, FMT_D, 6, 5, 0, 3));
    cr_expect_eq(h->f[3], 0xfff0000000000001ull);
    run(op_fp(F5_SGNJ, FMT_D, 6, 6, 2, 3));                 /* fabs */
    cr_expect_eq(h->f[3], f64_bits(1.0));
    cr_expect_eq(h->fflags, 0);
}

Test(fpu_exec, fmv_copies_bits)
{
    /* FMV.X.W: the low 32 bits, sign-extended, boxed or not. */
    h->f[1] = 0x123456789abcdef0ull;
    run(op_fp(F5_MVXF, FMT_S, 0, 1, 0, 5));
    cr_expect_eq(h->x[5], 0xffffffff9abcdef0ull);
    h->f[1] = 0xffffffff7ff00001ull;
    run(op_fp(F5_MVXF, FMT_S, 0, 1, 0, 5));
    cr_expect_eq(h->x[5], 0x7ff00001ull);
    /* FMV.W.X boxes. */
    h->x[6] = 0x1234567887654321ull;
    run(op_fp(F5_MVFX, FMT_S, 0, 6, 0, 2));
    cr_expect_eq(h->f[2], 0xffffffff87654321ull);
    /* FMV.X.D / FMV.D.X: all 64 bits, signalling NaNs untouched. */
    h->x[7] = 0x7ff0000000000001ull;
    run(op_fp(F5_MVFX, FMT_D, 0, 7, 0, 3));
    cr_expect_eq(h->f[3], 0x7ff0000000000001ull);
    run(op_fp(F5_MVXF, FMT_D, 0, 3, 0, 8));
    cr_expect_eq(h->x[8], 0x7ff0000000000001ull);
    cr_expect_eq(h->fflags, 0);
}

Test(fpu_exec, fused_forms_and_signs)
{
    /* 2 * 3 with addend 1: FMADD 7, FMSUB 5, FNMSUB -5, FNMADD -7. */
    h->f[1] = f64_bits(2.0);
    h->f[2] = f64_bits(3.0);
    h->f[3] = f64_bits(1.0);
    run(r4(0x43, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], f64_bits(7.0));
    run(r4(0x47, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], f64_bits(5.0));
    run(r4(0x4b, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], f64_bits(-5.0));
    run(r4(0x4f, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], f64_bits(-7.0));
    h->f[1] = fpu_box(f32_bits(2.0f));
    h->f[2] = fpu_box(f32_bits(3.0f));
    h->f[3] = fpu_box(f32_bits(1.0f));
    run(r4(0x43, FMT_S, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], fpu_box(f32_bits(7.0f)));
    run(r4(0x47, FMT_S, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], fpu_box(f32_bits(5.0f)));
    run(r4(0x4b, FMT_S, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], fpu_box(f32_bits(-5.0f)));
    run(r4(0x4f, FMT_S, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], fpu_box(f32_bits(-7.0f)));
    /* FNMADD of zeros: -(+0 * 1) - (+0) = -0; FNMSUB: -0 + +0 = +0. */
    h->f[1] = 0;
    h->f[2] = f64_bits(1.0);
    h->f[3] = 0;
    run(r4(0x4f, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], F64_SIGN);
    run(r4(0x4b, FMT_D, 3, 2, 1, FPU_RNE, 4));
    cr_expect_eq(h->f[4], 0);
    run(r4(0x4b, FMT_D, 3, 2, 1, FPU_RDN, 4));
    cr_expect_eq(h->f[4], F64_SIGN);
    cr_expect_eq(h->fflags, 0);
}

Test(fpu_exec, x0_is_never_written)
{
    h->f[1] = f64_bits(1.0);
    run(op_fp(F5_CMP, FMT_D, 1, 1, FPU_FEQ, 0));
    run(op_fp(F5_MVXF, FMT_D, 0, 1, 0, 0));
    run(op_fp(F5_MVXF, FMT_D, 0, 1, 1, 0));
    run(op_fp(F5_CVTIF, FMT_D, FPU_L, 1, FPU_RNE, 0));
    cr_expect_eq(h->x[0], 0);
    cr_expect_eq(h->pc, 0x80000000 + 16);
}

/* mstatus.FS: Dirty after an f-register write (also with no flags raised)
 * and after a new fflags bit; unchanged by an x-register-only result that
 * raises nothing new. */
Test(fpu_exec, fs_dirty_rules)
{
    h->mstatus = MSTATUS_FS_CLEAN;
    h->f[1] = f64_bits(1.0);
    run(op_fp(F5_MVXF, FMT_D, 0, 1, 0, 5));                 /* fmv.x.d */
    run(op_fp(F5_CMP, FMT_D, 1, 1, FPU_FLE, 5));
    run(op_fp(F5_MVXF, FMT_D, 0, 1, 1, 5));                 /* fclass */
    cr_expect_eq(h->mstatus & MSTATUS_FS, MSTATUS_FS_CLEAN);
    run(op_fp(F5_SGNJ, FMT_D, 1, 1, 0, 2));                 /* fmv.d */
    cr_expect_eq(h->mstatus & MSTATUS_FS, MSTATUS_FS_DIRTY);

    /* FCVT.W.D of a NaN: NV is new, so fcsr changed: Dirty. */
    h->mstatus = MSTATUS_FS_CLEAN;
    h->f[2] = F64_CANON;
    run(op_fp(F5_CVTIF, FMT_D, FPU_W, 2, FPU_RNE, 5));
    cr_expect_eq(h->x[5], 0x7fffffff);
    cr_expect_eq(h->fflags, FFLAG_NV);
    cr_expect_eq(h->mstatus & MSTATUS_FS, MSTATUS_FS_DIRTY);
    /* Again: nothing new, stays Clean. */
    h->mstatus = MSTATUS_FS_CLEAN;
    run(op_fp(F5_CVTIF, FMT_D, FPU_W, 2, FPU_RNE, 5));
    cr_expect_eq(h->mstatus & MSTATUS_FS, MSTATUS_FS_CLEAN);
}

Test(fpu_exec, flags_accrue)
{
    h->fflags = FFLAG_DZ;
    h->f[1] = f64_bits(1.0);
    h->f[2] = f64_bits(3.0);
    run(op_fp(F5_DIV, FMT_D, 2, 1, FPU_RNE, 3));
    cr_expect_eq(h->fflags, FFLAG_DZ | FFLAG_NX);
    h->f[4] = 0x7ff0000000000001ull;
    run(op_fp(F5_CMP, FMT_D, 4, 1, FPU_FEQ, 5));
    cr_expect_eq(h->x[5], 0);
    cr_expect_eq(h->fflags, FFLAG_DZ | FFLAG_NX | FFLAG_NV);
}

Test(fpu_exec, conversions_through_handlers)
{
    h->x[1] = 0xfffffffffffffffdull;                        /* -3 */
    run(op_fp(F5_CVTFI, FMT_D, FPU_L, 1, FPU_RNE, 2));
    cr_expect_eq(h->f[2], f64_bits(-3.0));
    run(op_fp(F5_CVTFI, FMT_S, FPU_W, 1, FPU_RNE, 3));
    cr_expect_eq(h->f[3], fpu_box(f32_bits(-3.0f)));
    run(op_fp(F5_CVTFI, FMT_S, FPU_WU, 1, FPU_RTZ, 3));     /* 2^32 - 3 */
    cr_expect_eq(h->f[3], fpu_box(0x4f7fffffu));
    cr_expect_eq(h->fflags, FFLAG_NX);
    h->f[4] = f64_bits(-2.5);
    run(op_fp(F5_CVTIF, FMT_D, FPU_W, 4, FPU_RMM, 5));
    cr_expect_eq(h->x[5], (uint64_t)-3);
    run(op_fp(F5_CVTIF, FMT_D, FPU_WU, 4, FPU_RNE, 5));
    cr_expect_eq(h->x[5], 0);
    cr_expect_eq(h->fflags, FFLAG_NX | FFLAG_NV);
    h->f[6] = f64_bits(1.0 + 0x1p-24);
    run(op_fp(F5_CVTFF, FMT_S, 1, 6, FPU_RMM, 7));          /* fcvt.s.d */
    cr_expect_eq(h->f[7], fpu_box(0x3f800001u));
    run(op_fp(F5_CVTFF, FMT_D, 0, 7, FPU_RNE, 8));          /* fcvt.d.s */
    cr_expect_eq(h->f[8], f64_bits(1.0 + 0x1p-23));
}
