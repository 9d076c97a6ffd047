/*
 * tests/unit/cpustress_muldiv.c — the M extension, black box: division by
 * zero and signed overflow (unpriv 20191213 §7.2, table 7.1), the high
 * multiplies' sign handling (§7.1) and the W forms' sign extension.
 * Expectations are worked out by hand; a random sweep then checks against
 * the host's 128-bit arithmetic.
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define I64_MIN 0x8000000000000000ull
#define ALL1    0xffffffffffffffffull

Test(muldiv, division_by_zero)
{
    struct ct_case t[] = {
        /* Quotient all ones, remainder = dividend (table 7.1). */
        { "div 5/0", rv_div(A0, A1, A2), 5, 0, ALL1 },
        { "div -5/0", rv_div(A0, A1, A2), (uint64_t)-5, 0, ALL1 },
        { "divu 5/0", rv_divu(A0, A1, A2), 5, 0, ALL1 },
        { "rem 5/0", rv_rem(A0, A1, A2), 5, 0, 5 },
        { "rem -5/0", rv_rem(A0, A1, A2), (uint64_t)-5, 0, (uint64_t)-5 },
        { "remu -5/0", rv_remu(A0, A1, A2), (uint64_t)-5, 0, (uint64_t)-5 },
        /* W forms look at the low 32 bits only; results are sign-extended. */
        { "divw 7/0 (upper bits of rs2 set)", rv_divw(A0, A1, A2), 7, 0xffffffff00000000ull, ALL1 },
        { "divuw 7/0", rv_divuw(A0, A1, A2), 7, 0, ALL1 },
        { "remw x/0 sext", rv_remw(A0, A1, A2), 0x1234567880000001ull, 0, 0xffffffff80000001ull },
        { "remuw x/0 sext", rv_remuw(A0, A1, A2), 0x1234567880000001ull, 0, 0xffffffff80000001ull },
        { "remuw small/0", rv_remuw(A0, A1, A2), 0xabcd00000000007full, 0, 0x7f },
    };
    CT_RUN(t);
}

Test(muldiv, signed_overflow)
{
    struct ct_case t[] = {
        { "div min/-1", rv_div(A0, A1, A2), I64_MIN, ALL1, I64_MIN },
        { "rem min/-1", rv_rem(A0, A1, A2), I64_MIN, ALL1, 0 },
        { "divw min/-1", rv_divw(A0, A1, A2), 0x80000000, 0xffffffff, 0xffffffff80000000ull },
        { "remw min/-1", rv_remw(A0, A1, A2), 0x80000000, 0xffffffff, 0 },
        /* Unsigned forms see no overflow: 2^63 / (2^64-1) = 0 rem 2^63. */
        { "divu min/-1", rv_divu(A0, A1, A2), I64_MIN, ALL1, 0 },
        { "remu min/-1", rv_remu(A0, A1, A2), I64_MIN, ALL1, I64_MIN },
        { "divuw 0x80000000/0xffffffff", rv_divuw(A0, A1, A2), 0x80000000, 0xffffffff, 0 },
        { "remuw 0x80000000/0xffffffff", rv_remuw(A0, A1, A2), 0x80000000, 0xffffffff, 0xffffffff80000000ull },
    };
    CT_RUN(t);
}

Test(muldiv, rounding_toward_zero)
{
    struct ct_case t[] = {
        { "div -7/2", rv_div(A0, A1, A2), (uint64_t)-7, 2, (uint64_t)-3 },
        { "rem -7/2", rv_rem(A0, A1, A2), (uint64_t)-7, 2, (uint64_t)-1 },
        { "div 7/-2", rv_div(A0, A1, A2), 7, (uint64_t)-2, (uint64_t)-3 },
        { "rem 7/-2", rv_rem(A0, A1, A2), 7, (uint64_t)-2, 1 },
        { "divu -7/2", rv_divu(A0, A1, A2), (uint64_t)-7, 2, 0x7ffffffffffffffcull },
        { "divw -7/2 (upper junk)", rv_divw(A0, A1, A2), 0x55555555fffffff9ull, 0xaaaaaaaa00000002ull, (uint64_t)-3 },
        { "remw -7/2", rv_remw(A0, A1, A2), 0xfffffff9, 2, (uint64_t)-1 },
        { "divuw 0xfffffff9/2", rv_divuw(A0, A1, A2), 0xfffffff9, 2, 0x7ffffffc },
        { "divuw sext of bit31", rv_divuw(A0, A1, A2), 0xffffffff, 1, ALL1 },
    };
    CT_RUN(t);
}

Test(muldiv, high_multiplies_sign_cases)
{
    struct ct_case t[] = {
        { "mul low", rv_mul(A0, A1, A2), 0x100000001ull, 0x100000001ull, 0x200000001ull },
        { "mulh -1*-1", rv_mulh(A0, A1, A2), ALL1, ALL1, 0 },
        { "mulh min*min", rv_mulh(A0, A1, A2), I64_MIN, I64_MIN, 0x4000000000000000ull },
        { "mulh min*-1", rv_mulh(A0, A1, A2), I64_MIN, ALL1, 0 },
        { "mulh -2*3", rv_mulh(A0, A1, A2), (uint64_t)-2, 3, ALL1 },
        { "mulh max*max", rv_mulh(A0, A1, A2), 0x7fffffffffffffffull, 0x7fffffffffffffffull, 0x3fffffffffffffffull },
        { "mulhu -1*-1", rv_mulhu(A0, A1, A2), ALL1, ALL1, 0xfffffffffffffffeull },
        { "mulhu min*2", rv_mulhu(A0, A1, A2), I64_MIN, 2, 1 },
        /* MULHSU: rs1 signed, rs2 unsigned. */
        { "mulhsu -1*(2^64-1)", rv_mulhsu(A0, A1, A2), ALL1, ALL1, ALL1 },
        { "mulhsu min*(2^64-1)", rv_mulhsu(A0, A1, A2), I64_MIN, ALL1, I64_MIN },
        { "mulhsu 2*(2^64-1)", rv_mulhsu(A0, A1, A2), 2, ALL1, 1 },
        { "mulhsu -1*1", rv_mulhsu(A0, A1, A2), ALL1, 1, ALL1 },
        { "mulhsu 1*-1 (rs2 unsigned)", rv_mulhsu(A0, A1, A2), 1, ALL1, 0 },
        { "mulw sext", rv_mulw(A0, A1, A2), 0x7fffffff, 2, 0xfffffffffffffffeull },
        { "mulw ignores upper", rv_mulw(A0, A1, A2), 0xffffffff00000003ull, 0x1234567800000005ull, 15 },
        { "mulw wraps to positive", rv_mulw(A0, A1, A2), 0x80000000, 2, 0 },
    };
    CT_RUN(t);
}

/* A looping program `op a0,a1,a2; j .-4` runs many operand pairs on one
 * machine: set a1/a2 through the API, step the op, read a0, step the j. */
static struct ct *loop_new(uint32_t insn)
{
    struct ct *t = ct_new();
    cr_assert_not_null(t);
    uint64_t op = t->at;
    ct_emit(t, insn);
    ct_emit(t, rv_jal(ZERO, -4));
    cr_assert(ct_run_to(t, op, 100));
    return t;
}

static uint64_t loop_op(struct ct *t, uint64_t a, uint64_t b)
{
    hart_set_x(t->h, A1, a);
    hart_set_x(t->h, A2, b);
    hart_step(t->h, 1);
    uint64_t r = hart_get_x(t->h, A0);
    hart_step(t->h, 1);
    return r;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    /* Mix in small and extreme values: they are where bugs live. */
    switch (*s & 7) {
    case 0: return *s & 0xff;
    case 1: return (uint64_t)-(int64_t)(*s & 0xff);
    case 2: return (*s & 1) ? I64_MIN : 0x7fffffffffffffffull;
    case 3: return (uint64_t)(int64_t)(int32_t)*s;
    default: return *s >> 1 ^ *s << 7;
    }
}

static uint64_t ref(unsigned f3, uint64_t a, uint64_t b)
{
    __int128 sa = (int64_t)a, sb = (int64_t)b;
    unsigned __int128 ua = a, ub = b;
    switch (f3) {
    case 0: return a * b;
    case 1: return (uint64_t)((sa * sb) >> 64);
    case 2: return (uint64_t)((unsigned __int128)(sa * (__int128)ub) >> 64);
    case 3: return (uint64_t)((ua * ub) >> 64);
    case 4: return b == 0 ? ALL1 : (a == I64_MIN && b == ALL1) ? a
                                  : (uint64_t)((int64_t)a / (int64_t)b);
    case 5: return b == 0 ? ALL1 : a / b;
    case 6: return b == 0 ? a : (a == I64_MIN && b == ALL1) ? 0
                              : (uint64_t)((int64_t)a % (int64_t)b);
    default: return b == 0 ? a : a % b;
    }
}

static uint64_t ref_w(unsigned f3, uint64_t a, uint64_t b)
{
    int32_t sa = (int32_t)a, sb = (int32_t)b;
    uint32_t ua = (uint32_t)a, ub = (uint32_t)b, r;
    switch (f3) {
    case 0: r = ua * ub; break;
    case 4: r = sb == 0 ? ~0u : (sa == INT32_MIN && sb == -1) ? ua
                              : (uint32_t)(sa / sb); break;
    case 5: r = ub == 0 ? ~0u : ua / ub; break;
    case 6: r = sb == 0 ? ua : (sa == INT32_MIN && sb == -1) ? 0
                             : (uint32_t)(sa % sb); break;
    default: r = ub == 0 ? ua : ua % ub; break;
    }
    return (uint64_t)(int64_t)(int32_t)r;
}

Test(muldiv, random_operands_match_host_arithmetic, .timeout = 60)
{
    static const char *names[] = { "mul", "mulh", "mulhsu", "mulhu", "div",
                                   "divu", "rem", "remu" };
    for (unsigned w = 0; w < 2; w++) {
        for (unsigned f3 = 0; f3 < 8; f3++) {
            if (w && f3 >= 1 && f3 <= 3)
                continue;   /* no MULH*W */
            struct ct *t = loop_new(rv_r(w ? 0x3b : 0x33, f3, 1, A0, A1, A2));
            uint64_t s = 0x1234567 + f3 * 77 + w;
            unsigned bad = 0;
            for (int i = 0; i < 3000; i++) {
                uint64_t a = rnd(&s), b = rnd(&s);
                uint64_t want = w ? ref_w(f3, a, b) : ref(f3, a, b);
                uint64_t got = loop_op(t, a, b);
                if (got != want && bad++ < 5)
                    cr_log_error("%s%s a=0x%llx b=0x%llx got 0x%llx want 0x%llx",
                                 names[f3], w ? "w" : "", (unsigned long long)a,
                                 (unsigned long long)b, (unsigned long long)got,
                                 (unsigned long long)want);
            }
            cr_expect_eq(bad, 0, "%s%s: %u mismatches", names[f3], w ? "w" : "", bad);
            ct_free(t);
        }
    }
}
