/*
 * tests/unit/cpustress_xpage.c — accesses and instructions that straddle
 * a page boundary under Sv39 (pages mapped to non-adjacent physical pages,
 * so an emulator reading 8 contiguous host bytes gets it wrong), fetch
 * faults on the second half of an instruction (priv 1.12 §3.1.16: tval =
 * the portion that faulted, epc = the instruction), and code modified by
 * stores (FENCE.I, unpriv §3.2).
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define CODE2 (CT_CODE + 0x1000)
#define VA    0x40000000ull             /* two pages: VA, VA + 4 KiB */
#define PA0   (CT_DATA + 0x3000)        /* backs VA */
#define PA1   (CT_DATA + 0x1000)        /* backs VA + 4 KiB: not adjacent */
#define AD    (PTE_V | PTE_A | PTE_D)

/* Sv39 with the identity code gigapage, VA → PA0 and VA+4K → PA1 (when
 * map1), then S-mode at CODE2. */
static struct ct *xp_new(uint64_t flags0, uint64_t flags1, bool map1)
{
    struct ct *t = ct_new();
    cr_assert_not_null(t);
    uint64_t root = ct_page(t);
    ct_map(t, root, 3, CT_RAM_BASE, CT_RAM_BASE, 2,
           AD | PTE_R | PTE_W | PTE_X);
    ct_map(t, root, 3, VA, PA0, 0, flags0);
    if (map1)
        ct_map(t, root, 3, VA + 0x1000, PA1, 0, flags1);
    ct_csrw_imm(t, CSR_SATP, SATP_SV39 | root >> 12);
    ct_emit(t, rv_sfence_vma(0, 0));
    ct_enter(t, PRV_S, CODE2);
    ct_org(t, CODE2);
    return t;
}

static void xp_run(struct ct *t)
{
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000), "did not halt; pc 0x%llx",
              (unsigned long long)hart_get_pc(t->h));
}

Test(xpage, misaligned_load_store_across_noncontiguous_pages)
{
    struct ct *t = xp_new(AD | PTE_R | PTE_W, AD | PTE_R | PTE_W, true);
    uint8_t *p0 = ct_ptr(t, PA0), *p1 = ct_ptr(t, PA1);
    for (int i = 0; i < 8; i++) {
        p0[0xff8 + i] = (uint8_t)(0xa0 + i);
        p1[i] = (uint8_t)(0xb0 + i);
    }
    ct_li(t, S0, VA + 0x1000);
    ct_li(t, A7, 0x0102030405060708ull);
    ct_asm(t, rv_ld(A0, S0, -3), rv_lw(A1, S0, -1), rv_lhu(A2, S0, -1),
           rv_sd(A7, S0, -6), rv_ecall());
    xp_run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S, "cause %llu tval 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE),
                 (unsigned long long)ct_x(t, CT_RTVAL));
    cr_expect_eq(ct_x(t, A0), 0xb4b3b2b1b0a7a6a5ull, "ld 0x%llx",
                 (unsigned long long)ct_x(t, A0));
    cr_expect_eq(ct_x(t, A1), 0xffffffffb2b1b0a7ull, "lw 0x%llx",
                 (unsigned long long)ct_x(t, A1));
    cr_expect_eq(ct_x(t, A2), 0xb0a7, "lhu 0x%llx", (unsigned long long)ct_x(t, A2));
    /* sd at VA+0xffa: 6 bytes in PA0's tail, 2 in PA1's head. */
    static const uint8_t want0[6] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03 };
    cr_expect_eq(memcmp(p0 + 0xffa, want0, 6), 0, "first page bytes");
    cr_expect_eq(p1[0], 0x02);
    cr_expect_eq(p1[1], 0x01);
    cr_expect_eq(p1[2], 0xb2, "byte after the store untouched");
    ct_free(t);
}

/* A misaligned load whose second page is unmapped: load page fault. */
Test(xpage, misaligned_load_into_unmapped_page_faults)
{
    struct ct *t = xp_new(AD | PTE_R | PTE_W, 0, false);
    ct_li(t, S0, VA + 0x1000);
    uint64_t at = t->at;
    ct_asm(t, rv_ld(A0, S0, -4), rv_ecall());
    xp_run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_LOAD_PAGE, "cause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, CT_REPC), at);
    uint64_t tv = ct_x(t, CT_RTVAL);
    cr_expect(tv >= VA + 0x1000 - 8 && tv < VA + 0x1000 + 4,
              "tval 0x%llx not within the access", (unsigned long long)tv);
    cr_expect_eq(ct_x(t, A0), 0, "rd written by a faulting load");
    ct_free(t);
}

/* A 32-bit instruction split across two pages backed by non-adjacent
 * physical pages executes as one instruction. */
Test(xpage, instruction_straddling_pages_executes)
{
    struct ct *t = xp_new(AD | PTE_X, AD | PTE_X, true);
    uint32_t insn = rv_addi(A0, ZERO, 0x123);
    uint8_t *p0 = ct_ptr(t, PA0 + 0xff8), *p1 = ct_ptr(t, PA1);
    memcpy(p0 + 6, &insn, 2);
    memcpy(p1, (uint8_t *)&insn + 2, 2);
    uint32_t ecall = rv_ecall();
    memcpy(p1 + 2, &ecall, 4);
    ct_li(t, S0, VA + 0xffe);
    ct_emit(t, rv_jalr(ZERO, S0, 0));
    xp_run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_S, "cause %llu tval 0x%llx",
                 (unsigned long long)ct_x(t, CT_RCAUSE),
                 (unsigned long long)ct_x(t, CT_RTVAL));
    cr_expect_eq(ct_x(t, CT_REPC), VA + 0x1002);
    cr_expect_eq(ct_x(t, A0), 0x123);
    ct_free(t);
}

/* Its second half unmapped: instruction page fault, epc = the instruction,
 * tval = the address of the part that faulted (the next page). */
Test(xpage, instruction_straddling_into_unmapped_page_faults)
{
    struct ct *t = xp_new(AD | PTE_X, 0, false);
    uint32_t insn = rv_addi(A0, ZERO, 0x123);
    memcpy(ct_ptr(t, PA0 + 0xff8) + 6, &insn, 2);
    ct_li(t, S0, VA + 0xffe);
    ct_emit(t, rv_jalr(ZERO, S0, 0));
    xp_run(t);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_INSN_PAGE, "cause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, CT_REPC), VA + 0xffe, "epc 0x%llx",
                 (unsigned long long)ct_x(t, CT_REPC));
    cr_expect_eq(ct_x(t, CT_RTVAL), VA + 0x1000, "tval 0x%llx",
                 (unsigned long long)ct_x(t, CT_RTVAL));
    cr_expect_eq(ct_x(t, A0), 0);
    ct_free(t);
}

/* A compressed instruction in the last halfword of a page, next page
 * unmapped: it executes (only 2 bytes are fetched), then the fall-through
 * into the next page faults with tval = epc = the page start. */
Test(xpage, compressed_at_page_end_does_not_fetch_next_page)
{
    struct ct *t = xp_new(AD | PTE_X, 0, false);
    uint32_t c = rv_c_li(A0, 9);
    memcpy(ct_ptr(t, PA0 + 0xff8) + 6, &c, 2);
    ct_li(t, S0, VA + 0xffe);
    ct_emit(t, rv_jalr(ZERO, S0, 0));
    xp_run(t);
    cr_expect_eq(ct_x(t, A0), 9, "c.li did not run");
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_INSN_PAGE);
    cr_expect_eq(ct_x(t, CT_REPC), VA + 0x1000);
    cr_expect_eq(ct_x(t, CT_RTVAL), VA + 0x1000);
    ct_free(t);
}

/* ----------------------------------------------- code written by stores */

/* Run `addi a0, zero, 1` once, overwrite it with `addi a0, zero, 2` by a
 * guest store (optionally followed by fence.i), run it again. */
static uint64_t smc(bool fence_i)
{
    struct ct *t = ct_new();
    const uint64_t f = CT_CODE + 0x800;
    ct_li(t, S0, f);
    ct_li(t, S1, rv_addi(A0, ZERO, 2));
    ct_emit(t, rv_jalr(RA, S0, 0));         /* a0 = 1 */
    ct_emit(t, rv_addi(S2, A0, 0));
    ct_emit(t, rv_sw(S1, S0, 0));
    if (fence_i)
        ct_emit(t, rv_fence_i());
    ct_emit(t, rv_jalr(RA, S0, 0));         /* a0 = 2 if the store is seen */
    ct_halt(t);
    ct_org(t, f);
    ct_asm(t, rv_addi(A0, ZERO, 1), rv_jalr(ZERO, RA, 0));
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, S2), 1);
    cr_expect_eq(ct_x(t, CT_REPC), 0, "trapped");
    uint64_t r = ct_x(t, A0);
    ct_free(t);
    return r;
}

Test(xpage, store_then_fence_i_runs_new_code)
{
    cr_expect_eq(smc(true), 2, "stale decoded instruction after fence.i");
}

/* QEMU (and the issue: "invalidated on stores to cached code") sees the
 * new code even without fence.i on the same hart. */
Test(xpage, store_to_code_without_fence_i_like_qemu)
{
    cr_expect_eq(smc(false), 2, "stale decoded instruction after a store");
}
