/*
 * cpu_alu: RV64I/M arithmetic edge cases with hand-derived results —
 * division by zero and overflow, shifts by 31/32/63, W-form sign
 * extension — and an illegal instruction inside a stream.
 */
#include "tests/unit/cpu_harness.h"

/* Execute `insn` with x1 = a, x2 = b; return x3. */
static uint64_t run_op(uint32_t insn, uint64_t a, uint64_t b)
{
    struct cpt t = tm_new();
    tm_put32(&t, RAM_BASE, insn);
    hart_set_x(t.h, 1, a);
    hart_set_x(t.h, 2, b);
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4, "insn %08x trapped", insn);
    uint64_t r = hart_get_x(t.h, 3);
    tm_free(&t);
    return r;
}

#define OP(f7, f3)   enc_r(f7, 2, 1, f3, 3, 0x33)
#define OP32(f7, f3) enc_r(f7, 2, 1, f3, 3, 0x3b)
#define MIN64 0x8000000000000000ull

Test(cpu_alu, div_by_zero)
{
    cr_assert_eq(run_op(OP(1, 4), 7, 0), ~0ull);                /* DIV */
    cr_assert_eq(run_op(OP(1, 5), 7, 0), ~0ull);                /* DIVU */
    cr_assert_eq(run_op(OP(1, 6), 7, 0), 7);                    /* REM */
    cr_assert_eq(run_op(OP(1, 7), 7, 0), 7);                    /* REMU */
    cr_assert_eq(run_op(OP(1, 6), (uint64_t)-7, 0), (uint64_t)-7);
    cr_assert_eq(run_op(OP32(1, 4), 7, 0), ~0ull);              /* DIVW */
    cr_assert_eq(run_op(OP32(1, 5), 7, 0), ~0ull);              /* DIVUW */
    /* REMW/REMUW of x by 0 is x's low word, sign-extended. */
    cr_assert_eq(run_op(OP32(1, 6), 0x1234567880000001ull, 0),
                 0xffffffff80000001ull);
    cr_assert_eq(run_op(OP32(1, 7), 0x1234567880000001ull, 0),
                 0xffffffff80000001ull);
    /* The divisor's upper bits are ignored by the W forms. */
    cr_assert_eq(run_op(OP32(1, 4), 7, 0x100000000ull), ~0ull);
}

Test(cpu_alu, div_overflow)
{
    cr_assert_eq(run_op(OP(1, 4), MIN64, ~0ull), MIN64);        /* DIV */
    cr_assert_eq(run_op(OP(1, 6), MIN64, ~0ull), 0);            /* REM */
    cr_assert_eq(run_op(OP32(1, 4), 0x80000000, ~0ull), 0xffffffff80000000ull);
    cr_assert_eq(run_op(OP32(1, 6), 0x80000000, ~0ull), 0);
    /* Signed rounding toward zero. */
    cr_assert_eq(run_op(OP(1, 4), (uint64_t)-7, 2), (uint64_t)-3);
    cr_assert_eq(run_op(OP(1, 6), (uint64_t)-7, 2), (uint64_t)-1);
    cr_assert_eq(run_op(OP(1, 5), (uint64_t)-7, 2), 0x7ffffffffffffffcull);
    cr_assert_eq(run_op(OP32(1, 5), 0xfffffff9, 2), 0x7ffffffcull);
    cr_assert_eq(run_op(OP32(1, 7), 0xfffffff9, 2), 1);
}

Test(cpu_alu, mul_high)
{
    cr_assert_eq(run_op(OP(1, 1), ~0ull, ~0ull), 0);            /* MULH -1*-1 */
    cr_assert_eq(run_op(OP(1, 3), ~0ull, ~0ull), ~0ull - 1);    /* MULHU */
    cr_assert_eq(run_op(OP(1, 2), ~0ull, ~0ull), ~0ull);        /* MULHSU -1*(2^64-1) */
    cr_assert_eq(run_op(OP(1, 1), MIN64, MIN64), 0x4000000000000000ull);
    cr_assert_eq(run_op(OP32(1, 0), 0x10000, 0x8000), 0xffffffff80000000ull);
}

Test(cpu_alu, shifts)
{
    cr_assert_eq(run_op(OP(0, 1), 1, 63), MIN64);                    /* SLL */
    cr_assert_eq(run_op(OP(0, 1), 1, 64), 1);                        /* only 6 bits */
    cr_assert_eq(run_op(OP(0, 5), MIN64, 63), 1);                    /* SRL */
    cr_assert_eq(run_op(OP(0x20, 5), MIN64, 63), ~0ull);             /* SRA */
    cr_assert_eq(run_op(OP(0, 1), 1, 32), 0x100000000ull);
    cr_assert_eq(run_op(OP(0, 1), 1, 31), 0x80000000ull);
    /* W forms: 5-bit amounts, results sign-extended from bit 31. */
    cr_assert_eq(run_op(OP32(0, 1), 1, 31), 0xffffffff80000000ull);  /* SLLW */
    cr_assert_eq(run_op(OP32(0, 1), 1, 32), 1);                      /* 32 & 31 = 0 */
    cr_assert_eq(run_op(OP32(0, 5), 0x80000000, 31), 1);             /* SRLW */
    cr_assert_eq(run_op(OP32(0, 5), 0x80000000, 0), 0xffffffff80000000ull);
    cr_assert_eq(run_op(OP32(0x20, 5), 0x80000000, 31), ~0ull);      /* SRAW */
    cr_assert_eq(run_op(OP32(0x20, 5), 0xffffffff7fffffffull, 31), 0);
    /* Immediate forms: SLLI 63, SRAI 63, SLLIW 31, SRAIW 31. */
    cr_assert_eq(run_op(enc_i(63, 1, 1, 3, 0x13), 1, 0), MIN64);
    cr_assert_eq(run_op(enc_i(0x400 | 63, 1, 5, 3, 0x13), MIN64, 0), ~0ull);
    cr_assert_eq(run_op(enc_i(31, 1, 1, 3, 0x1b), 1, 0), 0xffffffff80000000ull);
    cr_assert_eq(run_op(enc_i(0x400 | 31, 1, 5, 3, 0x1b), 0x80000000, 0), ~0ull);
    cr_assert_eq(run_op(enc_i(31, 1, 5, 3, 0x1b), 0x80000000, 0), 1);
}

Test(cpu_alu, w_sign_extension)
{
    cr_assert_eq(run_op(OP32(0, 0), 0x7fffffff, 1), 0xffffffff80000000ull);  /* ADDW */
    cr_assert_eq(run_op(OP32(0x20, 0), 0, 1), ~0ull);                        /* SUBW */
    cr_assert_eq(run_op(OP32(0, 0), 0xffffffff00000001ull, 0x100000000ull), 1);
    cr_assert_eq(run_op(enc_i(1, 1, 0, 3, 0x1b), 0x7fffffff, 0),
                 0xffffffff80000000ull);                                      /* ADDIW */
    cr_assert_eq(run_op(enc_i(0, 1, 0, 3, 0x1b), 0x12345678ffffffffull, 0),
                 ~0ull);                                                      /* sext.w */
}

Test(cpu_alu, compare_and_lui)
{
    cr_assert_eq(run_op(OP(0, 2), ~0ull, 0), 1);        /* SLT -1 < 0 */
    cr_assert_eq(run_op(OP(0, 3), ~0ull, 0), 0);        /* SLTU */
    cr_assert_eq(run_op(enc_i(-1, 1, 3, 3, 0x13), 5, 0), 1);  /* SLTIU x < 2^64-1 */
    cr_assert_eq(run_op(LUI(3, 0x80000), 0, 0), 0xffffffff80000000ull);
}

Test(cpu_alu, illegal_in_stream)
{
    struct cpt t = tm_new();
    uint32_t prog[] = {
        ADDI(5, 0, 1),
        0xffffffffu,            /* not an instruction */
        ADDI(5, 0, 2),
    };
    tm_prog(&t, RAM_BASE, prog, 3);
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 5), 1);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    cr_assert_eq(t.h->mepc, RAM_BASE + 4);
    cr_assert_eq(t.h->mtval, 0xffffffffu);
    tm_free(&t);
}

Test(cpu_alu, x0_stays_zero)
{
    cr_assert_eq(run_op(ADDI(0, 0, 5), 0, 0), 0);
    struct cpt t = tm_new();
    tm_put32(&t, RAM_BASE, ADDI(0, 0, 5));
    tm_put32(&t, RAM_BASE + 4, ADD(3, 0, 0));
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 0), 0);
    cr_assert_eq(hart_get_x(t.h, 3), 0);
    tm_free(&t);
}

Test(cpu_alu, bad_encodings_trap)
{
    const uint32_t bad[] = {
        enc_r(0x40, 2, 1, 0, 3, 0x33),      /* OP with funct7 = 0x40 */
        enc_r(0x20, 2, 1, 1, 3, 0x33),      /* SUB-alike with funct3 = 1 */
        enc_i(0x800 | 1, 1, 1, 3, 0x13),    /* SLLI with funct6 != 0 */
        enc_i(0x20, 1, 1, 3, 0x1b),         /* SLLIW with shamt[5] set */
        enc_r(1, 2, 1, 1, 3, 0x3b),         /* OP-32 M funct3 = 1 */
        enc_i(0, 1, 7, 3, 0x03),            /* load funct3 = 7 */
        enc_s(0, 2, 1, 4, 0x23),            /* store funct3 = 4 */
        enc_i(0, 1, 1, 3, 0x67),            /* JALR funct3 != 0 */
        0x00200073u,                        /* SYSTEM imm=2 (not ebreak) */
        0x0000000bu,                        /* custom-0 */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cpt t = tm_new();
        tm_put32(&t, RAM_BASE, bad[i]);
        tm_step(&t);
        cr_assert_eq(t.h->mcause, EXC_ILLEGAL, "insn %08x", bad[i]);
        cr_assert_eq(t.h->mtval, bad[i]);
        tm_free(&t);
    }
}
