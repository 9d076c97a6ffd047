/*
 * tests/unit/cpustress_amo.c — the A extension, black box (unpriv 20191213
 * §8): LR/SC success and failure, every AMO in W (sign-extended result,
 * 32-bit memory effect) and D form, misaligned LR and AMO.
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define ALL1 0xffffffffffffffffull

/* Run `code` (n words) at CT_CODE's cursor with s0 = CT_DATA. */
static struct ct *amo_run(const uint32_t *code, size_t n)
{
    struct ct *t = ct_new();
    cr_assert_not_null(t);
    ct_li(t, S0, CT_DATA);
    for (size_t i = 0; i < n; i++)
        ct_emit(t, code[i]);
    ct_halt(t);
    hart_set_x(t->h, CT_REPC, 0);
    return t;
}
#define AMO_RUN(...)                                                         \
    ({ const uint32_t c_[] = { __VA_ARGS__ };                                \
       amo_run(c_, sizeof c_ / sizeof c_[0]); })

Test(amo, lr_sc_success)
{
    struct ct *t = AMO_RUN(rv_lr_d(A0, S0), rv_addi(A2, A0, 1),
                           rv_sc_d(A1, A2, S0));
    ct_w64(t, CT_DATA, 41);
    hart_set_x(t->h, A1, 77);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A0), 41);
    cr_expect_eq(ct_x(t, A1), 0, "sc.d must succeed (rd = 0)");
    cr_expect_eq(ct_r64(t, CT_DATA), 42);
    ct_free(t);
}

Test(amo, lr_w_sign_extends_and_sc_w_writes_32_bits)
{
    struct ct *t = AMO_RUN(rv_lr_w(A0, S0), rv_sc_w(A1, A2, S0));
    ct_w64(t, CT_DATA, 0x1111111180000000ull);
    hart_set_x(t->h, A2, 0xaaaaaaaa12345678ull);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A0), 0xffffffff80000000ull);
    cr_expect_eq(ct_x(t, A1), 0);
    cr_expect_eq(ct_r64(t, CT_DATA), 0x1111111112345678ull);
    ct_free(t);
}

Test(amo, sc_without_reservation_fails)
{
    struct ct *t = AMO_RUN(rv_sc_d(A1, A2, S0));
    ct_w64(t, CT_DATA, 5);
    hart_set_x(t->h, A2, 9);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A1), 1, "failed sc writes 1 (QEMU)");
    cr_expect_eq(ct_r64(t, CT_DATA), 5, "failed sc must not store");
    ct_free(t);
}

Test(amo, second_sc_fails)
{
    struct ct *t = AMO_RUN(rv_lr_d(A0, S0), rv_sc_d(A1, A2, S0),
                           rv_sc_d(A3, A4, S0));
    ct_w64(t, CT_DATA, 5);
    hart_set_x(t->h, A2, 9);
    hart_set_x(t->h, A4, 13);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A1), 0);
    cr_expect_eq(ct_x(t, A3), 1, "an SC consumes the reservation");
    cr_expect_eq(ct_r64(t, CT_DATA), 9);
    ct_free(t);
}

Test(amo, sc_to_other_address_fails)
{
    struct ct *t = AMO_RUN(rv_lr_d(A0, S0), rv_addi(S1, S0, 2047),
                           rv_addi(S1, S1, 2047), rv_addi(S1, S1, 2),
                           rv_sc_d(A1, A2, S1));
    hart_set_x(t->h, A2, 9);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A1), 1, "sc outside the reservation set fails");
    cr_expect_eq(ct_r64(t, CT_DATA + 4096), 0);
    ct_free(t);
}

/* One AMO on a word at CT_DATA holding `old` (the next word is a guard):
 * returns rd, *mem = the doubleword at CT_DATA afterwards. */
static uint64_t amo_one(unsigned f5, unsigned width, uint64_t old,
                        uint64_t src, uint64_t *mem, uint64_t *guard)
{
    struct ct *t = AMO_RUN(rv_amo(f5, width, A0, A1, S0));
    ct_w64(t, CT_DATA, old);
    ct_w64(t, CT_DATA + 8, 0x5a5a5a5a5a5a5a5aull);
    hart_set_x(t->h, A1, src);
    cr_assert(ct_run(t, 100));
    cr_assert_eq(ct_x(t, CT_REPC), 0, "AMO trapped, mcause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    uint64_t rd = ct_x(t, A0);
    *mem = ct_r64(t, CT_DATA);
    *guard = ct_r64(t, CT_DATA + 8);
    ct_free(t);
    return rd;
}

Test(amo, word_forms)
{
    /* Memory word 0x80000001 (negative) above a junk upper word; rs2 has
     * junk in its upper half so 64-bit compares would choose wrongly. */
    const uint64_t old = 0xcccccccc80000001ull, src = 0xffffffff00000005ull;
    static const struct { unsigned f5; const char *name; uint32_t word; } c[] = {
        { AMO_SWAP, "amoswap.w", 0x00000005 },
        { AMO_ADD, "amoadd.w", 0x80000006 },
        { AMO_XOR, "amoxor.w", 0x80000004 },
        { AMO_AND, "amoand.w", 0x00000001 },
        { AMO_OR, "amoor.w", 0x80000005 },
        { AMO_MIN, "amomin.w", 0x80000001 },
        { AMO_MAX, "amomax.w", 0x00000005 },
        { AMO_MINU, "amominu.w", 0x00000005 },
        { AMO_MAXU, "amomaxu.w", 0x80000001 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint64_t mem, guard, rd = amo_one(c[i].f5, 2, old, src, &mem, &guard);
        cr_expect_eq(rd, 0xffffffff80000001ull, "%s: rd 0x%llx (sign-extended old word)",
                     c[i].name, (unsigned long long)rd);
        cr_expect_eq(mem, 0xcccccccc00000000ull | c[i].word,
                     "%s: memory 0x%llx", c[i].name, (unsigned long long)mem);
        cr_expect_eq(guard, 0x5a5a5a5a5a5a5a5aull, "%s: guard", c[i].name);
    }
}

Test(amo, doubleword_forms)
{
    const uint64_t old = 0x8000000000000001ull, src = 5;
    static const struct { unsigned f5; const char *name; uint64_t want; } c[] = {
        { AMO_SWAP, "amoswap.d", 5 },
        { AMO_ADD, "amoadd.d", 0x8000000000000006ull },
        { AMO_XOR, "amoxor.d", 0x8000000000000004ull },
        { AMO_AND, "amoand.d", 1 },
        { AMO_OR, "amoor.d", 0x8000000000000005ull },
        { AMO_MIN, "amomin.d", 0x8000000000000001ull },
        { AMO_MAX, "amomax.d", 5 },
        { AMO_MINU, "amominu.d", 5 },
        { AMO_MAXU, "amomaxu.d", 0x8000000000000001ull },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint64_t mem, guard, rd = amo_one(c[i].f5, 3, old, src, &mem, &guard);
        cr_expect_eq(rd, old, "%s: rd", c[i].name);
        cr_expect_eq(mem, c[i].want, "%s: memory 0x%llx", c[i].name,
                     (unsigned long long)mem);
        cr_expect_eq(guard, 0x5a5a5a5a5a5a5a5aull, "%s: guard", c[i].name);
    }
}

Test(amo, add_wraps_and_rd_x0_still_writes_memory)
{
    uint64_t mem, guard;
    amo_one(AMO_ADD, 3, ALL1, 2, &mem, &guard);
    cr_expect_eq(mem, 1);
    struct ct *t = AMO_RUN(rv_amo(AMO_ADD, 3, ZERO, A1, S0));
    ct_w64(t, CT_DATA, 10);
    hart_set_x(t->h, A1, 5);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_r64(t, CT_DATA), 15);
    ct_free(t);
}

/* Misaligned AMOs raise store/AMO address misaligned (cause 6, priv 1.12
 * table 3.6); QEMU 7.2 reports cause 4 here, the spec names 6. */
Test(amo, misaligned_amo_is_store_misaligned)
{
    uint32_t ops[] = { rv_amo(AMO_ADD, 2, A0, A1, S1), rv_amo(AMO_SWAP, 3, A0, A1, S1),
                       rv_amo(AMO_MAXU, 3, A0, A1, S1) };
    uint64_t addrs[] = { CT_DATA + 2, CT_DATA + 4, CT_DATA + 1 };
    for (int i = 0; i < 3; i++) {
        struct ct *t = AMO_RUN(rv_addi(S1, S0, (int32_t)(addrs[i] - CT_DATA)), ops[i]);
        ct_w64(t, CT_DATA, 0x1234);
        cr_assert(ct_run(t, 100));
        cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_STORE_MISALIGNED, "op %d: mcause %llu",
                     i, (unsigned long long)ct_x(t, CT_RCAUSE));
        cr_expect_eq(ct_x(t, CT_RTVAL), addrs[i]);
        cr_expect_eq(ct_r64(t, CT_DATA), 0x1234, "memory unchanged");
        cr_expect_eq(ct_x(t, A0), 0, "rd unchanged");
        ct_free(t);
    }
}

Test(amo, misaligned_lr_is_load_misaligned)
{
    struct ct *t = AMO_RUN(rv_addi(S1, S0, 4), rv_lr_d(A0, S1));
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_LOAD_MISALIGNED);
    cr_expect_eq(ct_x(t, CT_RTVAL), CT_DATA + 4);
    ct_free(t);
    t = AMO_RUN(rv_addi(S1, S0, 2), rv_lr_w(A0, S1));
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_LOAD_MISALIGNED);
    cr_expect_eq(ct_x(t, CT_RTVAL), CT_DATA + 2);
    ct_free(t);
}

/* An AMO outside RAM is a store/AMO access fault (cause 7, priv 1.12
 * table 3.6). QEMU 7.2 reports a load access fault (5): the spec wins. */
Test(amo, amo_outside_ram_is_store_access_fault)
{
    struct ct *t = AMO_RUN(rv_lui(S1, 0x40000), rv_amo(AMO_ADD, 3, A0, A1, S1));
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_STORE_ACCESS);
    cr_expect_eq(ct_x(t, CT_RTVAL), 0x40000000ull);
    ct_free(t);
}
