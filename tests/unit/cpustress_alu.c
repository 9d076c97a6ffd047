/*
 * tests/unit/cpustress_alu.c — RV64I, black box: shifts by 31/32/63 and
 * the W forms' sign extension (unpriv 20191213 §5.2), LUI/AUIPC, JAL/JALR,
 * branches both ways, loads' sign/zero extension at every width, and
 * misaligned loads/stores (which succeed, as on QEMU), also across a page.
 */
#include <criterion/criterion.h>

#include "tests/unit/cputest.h"

#define ALL1 0xffffffffffffffffull

Test(alu, shifts_64)
{
    struct ct_case t[] = {
        { "slli 63", rv_slli(A0, A1, 63), 3, 0, 0x8000000000000000ull },
        { "slli 32", rv_slli(A0, A1, 32), 0x1ffffffffull, 0, 0xffffffff00000000ull },
        { "slli 31", rv_slli(A0, A1, 31), 3, 0, 0x180000000ull },
        { "srli 63", rv_srli(A0, A1, 63), 0x8000000000000000ull, 0, 1 },
        { "srli 32", rv_srli(A0, A1, 32), 0x8000000100000000ull, 0, 0x80000001ull },
        { "srai 63", rv_srai(A0, A1, 63), 0x8000000000000000ull, 0, ALL1 },
        { "srai 32", rv_srai(A0, A1, 32), 0x8000000100000000ull, 0, 0xffffffff80000001ull },
        { "srai 31", rv_srai(A0, A1, 31), 0x4000000000000000ull, 0, 0x80000000ull },
        /* Register shifts use rs2[5:0] only. */
        { "sll by 64 = by 0", rv_sll(A0, A1, A2), 5, 64, 5 },
        { "sll by 63", rv_sll(A0, A1, A2), 1, 63, 0x8000000000000000ull },
        { "srl by 0x7f = 63", rv_srl(A0, A1, A2), ALL1, 0x7f, 1 },
        { "sra by -1 = 63", rv_sra(A0, A1, A2), 0x8000000000000000ull, ALL1, ALL1 },
        { "sra by 32", rv_sra(A0, A1, A2), 0x8000000000000000ull, 32, 0xffffffff80000000ull },
    };
    CT_RUN(t);
}

Test(alu, shifts_w_sign_extend)
{
    struct ct_case t[] = {
        { "slliw 31", rv_slliw(A0, A1, 31), 1, 0, 0xffffffff80000000ull },
        { "slliw 0 = sext", rv_slliw(A0, A1, 0), 0x00000000ffffffffull, 0, ALL1 },
        { "slliw drops upper", rv_slliw(A0, A1, 4), 0x123456780fffffffull, 0, 0xfffffffffffffff0ull },
        { "srliw 31", rv_srliw(A0, A1, 31), 0xffffffff80000000ull, 0, 1 },
        { "srliw 0 = sext", rv_srliw(A0, A1, 0), 0x80000000ull, 0, 0xffffffff80000000ull },
        { "srliw 1 ignores upper", rv_srliw(A0, A1, 1), ALL1, 0, 0x7fffffffull },
        { "sraiw 31", rv_sraiw(A0, A1, 31), 0x80000000ull, 0, ALL1 },
        { "sraiw 31 positive", rv_sraiw(A0, A1, 31), 0xffffffff7fffffffull, 0, 0 },
        { "sraiw 4", rv_sraiw(A0, A1, 4), 0x1234567880000000ull, 0, 0xfffffffff8000000ull },
        { "sraiw 0 upper junk", rv_sraiw(A0, A1, 0), 0xffffffff00000001ull, 0, 1 },
        { "sllw by 31", rv_sllw(A0, A1, A2), 1, 31, 0xffffffff80000000ull },
        { "sllw by 32 = by 0", rv_sllw(A0, A1, A2), 0x80000001ull, 32, 0xffffffff80000001ull },
        { "srlw by 31", rv_srlw(A0, A1, A2), 0xffffffff80000000ull, 31, 1 },
        { "srlw by 32 = by 0", rv_srlw(A0, A1, A2), 0x80000000ull, 32, 0xffffffff80000000ull },
        { "srlw by 63 = 31", rv_srlw(A0, A1, A2), 0x80000000ull, 63, 1 },
        { "sraw by 31", rv_sraw(A0, A1, A2), 0x80000000ull, 31, ALL1 },
        { "sraw by 32 = by 0", rv_sraw(A0, A1, A2), 0x7fffffff80000000ull, 32, 0xffffffff80000000ull },
        { "sraw upper junk", rv_sraw(A0, A1, A2), 0x1234567880000000ull, 4, 0xfffffffff8000000ull },
    };
    CT_RUN(t);
}

Test(alu, add_sub_w_wrap_and_sign_extend)
{
    struct ct_case t[] = {
        { "addiw max+1", rv_addiw(A0, A1, 1), 0x7fffffff, 0, 0xffffffff80000000ull },
        { "addiw 0 = sext.w", rv_addiw(A0, A1, 0), 0x00000000ffffffffull, 0, ALL1 },
        { "addiw -1 of 0", rv_addiw(A0, A1, -1), 0xffffffff00000000ull, 0, ALL1 },
        { "addiw -2048", rv_addiw(A0, A1, -2048), 0x80000000ull, 0, 0x7ffff800ull },
        { "addw wrap to 0", rv_addw(A0, A1, A2), 0x80000000, 0x80000000, 0 },
        { "addw ignores upper", rv_addw(A0, A1, A2), 0x1111111100000001ull, 0x222222227fffffffull, 0xffffffff80000000ull },
        { "subw min-1", rv_subw(A0, A1, A2), 0x80000000, 1, 0x7fffffff },
        { "subw 0-min", rv_subw(A0, A1, A2), 0, 0x80000000, 0xffffffff80000000ull },
        { "add wraps 64", rv_add(A0, A1, A2), 0x7fffffffffffffffull, 1, 0x8000000000000000ull },
        { "sub", rv_sub(A0, A1, A2), 0, 1, ALL1 },
        { "slt signed", rv_slt(A0, A1, A2), ALL1, 1, 1 },
        { "sltu unsigned", rv_sltu(A0, A1, A2), ALL1, 1, 0 },
        { "sltiu -1 is max", rv_sltiu(A0, A1, -1), 0xfffffffffffffffeull, 0, 1 },
        { "slti", rv_slti(A0, A1, -1), 0x8000000000000000ull, 0, 1 },
        { "xori -1 = not", rv_xori(A0, A1, -1), 0x0f0f, 0, 0xfffffffffffff0f0ull },
        { "andi sext imm", rv_andi(A0, A1, -16), ALL1, 0, 0xfffffffffffffff0ull },
        { "ori", rv_ori(A0, A1, 0x7ff), 0x1000, 0, 0x17ff },
    };
    CT_RUN(t);
}

/* SLLIW/SRLIW/SRAIW with imm[5] set are reserved (§5.2): illegal on QEMU. */
Test(alu, w_shift_with_shamt5_is_illegal)
{
    uint32_t bad[] = {
        rv_i(0x1b, 1, A0, A1, 32), rv_i(0x1b, 5, A0, A1, 33),
        rv_i(0x1b, 5, A0, A1, 0x400 | 63),
    };
    for (size_t i = 0; i < 3; i++) {
        struct ct *t = ct_new();
        ct_emit(t, bad[i]);
        ct_halt(t);
        cr_assert(ct_run(t, 100));
        cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL, "insn 0x%08x", bad[i]);
        cr_expect_eq(ct_x(t, CT_RTVAL), bad[i]);
        ct_free(t);
    }
}

Test(alu, lui_auipc_sign_extend)
{
    struct ct *t = ct_new();
    ct_emit(t, rv_lui(A0, 0x80000));
    ct_emit(t, rv_lui(A1, 0x7ffff));
    uint64_t at = t->at;
    ct_emit(t, rv_auipc(A2, 0xfffff));      /* pc - 4096 */
    ct_emit(t, rv_auipc(A3, 0x80000));      /* pc - 2 GiB */
    ct_emit(t, rv_auipc(A4, 0));
    ct_emit(t, rv_addi(ZERO, ZERO, 5));     /* x0 stays 0 */
    ct_emit(t, rv_lui(ZERO, 1));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A0), 0xffffffff80000000ull);
    cr_expect_eq(ct_x(t, A1), 0x7ffff000ull);
    cr_expect_eq(ct_x(t, A2), at - 4096);
    cr_expect_eq(ct_x(t, A3), at + 4 - 0x80000000ull);
    cr_expect_eq(ct_x(t, A4), at + 8);
    cr_expect_eq(ct_x(t, ZERO), 0);
    ct_free(t);
}

Test(alu, jal_jalr)
{
    struct ct *t = ct_new();
    uint64_t f = CT_CODE + 0x800, g = CT_CODE + 0x900;
    ct_li(t, A0, g + 1);            /* jalr clears bit 0 of the target */
    uint64_t j1 = t->at;
    ct_emit(t, rv_jal(RA, (int32_t)(f - j1)));
    ct_halt(t);
    ct_org(t, f);
    ct_emit(t, rv_addi(S1, RA, 0));
    uint64_t j2 = t->at;
    ct_emit(t, rv_jalr(A0, A0, 0)); /* rd == rs1: target uses the old value */
    ct_org(t, g);
    ct_emit(t, rv_addi(S2, A0, 0));
    ct_li(t, A1, g + 0x100 - 3);
    ct_emit(t, rv_jalr(ZERO, A1, 3));
    ct_org(t, g + 0x100);
    ct_emit(t, rv_addi(S3, ZERO, 42));
    ct_emit(t, rv_jalr(ZERO, RA, 0));  /* back to the halt after j1 */
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, S1), j1 + 4);
    cr_expect_eq(ct_x(t, S2), j2 + 4);
    cr_expect_eq(ct_x(t, S3), 42);
    ct_free(t);
}

/* Each branch once taken, once not, with operands where signed and
 * unsigned order disagree (-1 vs 1). s1 counts taken branches bitwise. */
Test(alu, branches_both_ways)
{
    static const struct {
        uint32_t (*br)(unsigned, unsigned, int32_t);
        const char *name;
        unsigned taken_mask;    /* bit i: taken for pair i */
    } b[] = {
        { rv_beq, "beq", 0x4 }, { rv_bne, "bne", 0x3 },
        { rv_blt, "blt", 0x1 }, { rv_bge, "bge", 0x6 },
        { rv_bltu, "bltu", 0x2 }, { rv_bgeu, "bgeu", 0x5 },
    };
    /* pairs: (-1, 1), (1, -1), (5, 5) */
    static const uint64_t pa[] = { ALL1, 1, 5 }, pb[] = { 1, ALL1, 5 };
    for (size_t i = 0; i < 6; i++) {
        for (unsigned p = 0; p < 3; p++) {
            struct ct *t = ct_new();
            ct_emit(t, b[i].br(A1, A2, 12));    /* skip two insns */
            ct_emit(t, rv_addi(A0, ZERO, 1));   /* fallthrough: a0 = 1 */
            ct_halt(t);
            ct_emit(t, rv_addi(A0, ZERO, 2));   /* taken: a0 = 2 */
            ct_halt(t);
            hart_set_x(t->h, A1, pa[p]);
            hart_set_x(t->h, A2, pb[p]);
            cr_assert(ct_run(t, 100));
            uint64_t want = (b[i].taken_mask >> p & 1) ? 2 : 1;
            cr_expect_eq(ct_x(t, A0), want, "%s pair %u: %s", b[i].name, p,
                         want == 2 ? "should be taken" : "should fall through");
            ct_free(t);
        }
    }
}

Test(alu, backward_branch_loop)
{
    struct ct *t = ct_new();
    ct_asm(t, rv_addi(A0, ZERO, 10), rv_addi(A1, ZERO, 0),
           rv_add(A1, A1, A0), rv_addi(A0, A0, -1), rv_bne(A0, ZERO, -8));
    ct_halt(t);
    cr_assert(ct_run(t, 200));
    cr_expect_eq(ct_x(t, A1), 55);
    ct_free(t);
}

Test(alu, loads_extend_every_width)
{
    struct ct *t = ct_new();
    ct_w64(t, CT_DATA, 0x8000000080008080ull);
    ct_w64(t, CT_DATA + 8, 0x7f7f7f7f7f7f7f7full);
    ct_li(t, S0, CT_DATA);
    ct_asm(t, rv_lb(A0, S0, 0), rv_lbu(A1, S0, 0), rv_lh(A2, S0, 0),
           rv_lhu(A3, S0, 0), rv_lw(A4, S0, 4), rv_lwu(A5, S0, 4),
           rv_ld(A6, S0, 0), rv_lb(A7, S0, 8), rv_lh(S2, S0, 8),
           rv_lw(S3, S0, 8), rv_lw(S4, S0, 0), rv_lb(S5, S0, 1));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, A0), 0xffffffffffffff80ull);
    cr_expect_eq(ct_x(t, A1), 0x80);
    cr_expect_eq(ct_x(t, A2), 0xffffffffffff8080ull);
    cr_expect_eq(ct_x(t, A3), 0x8080);
    cr_expect_eq(ct_x(t, A4), 0xffffffff80000000ull);
    cr_expect_eq(ct_x(t, A5), 0x80000000ull);
    cr_expect_eq(ct_x(t, A6), 0x8000000080008080ull);
    cr_expect_eq(ct_x(t, A7), 0x7f);
    cr_expect_eq(ct_x(t, S2), 0x7f7f);
    cr_expect_eq(ct_x(t, S3), 0x7f7f7f7f);
    cr_expect_eq(ct_x(t, S4), 0xffffffff80008080ull);
    cr_expect_eq(ct_x(t, S5), 0xffffffffffffff80ull);
    ct_free(t);
}

Test(alu, stores_write_only_their_bytes)
{
    struct ct *t = ct_new();
    for (int i = 0; i < 4; i++)
        ct_w64(t, CT_DATA + 8 * i, ALL1);
    ct_li(t, S0, CT_DATA);
    ct_li(t, A0, 0x0123456789abcdefull);
    ct_asm(t, rv_sb(A0, S0, 0), rv_sh(A0, S0, 8), rv_sw(A0, S0, 16),
           rv_sd(A0, S0, 24));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_r64(t, CT_DATA), 0xffffffffffffffefull);
    cr_expect_eq(ct_r64(t, CT_DATA + 8), 0xffffffffffffcdefull);
    cr_expect_eq(ct_r64(t, CT_DATA + 16), 0xffffffff89abcdefull);
    cr_expect_eq(ct_r64(t, CT_DATA + 24), 0x0123456789abcdefull);
    ct_free(t);
}

/* Misaligned accesses complete in M-mode (QEMU 7.2 behaviour); no trap. */
Test(alu, misaligned_loads_and_stores_succeed)
{
    struct ct *t = ct_new();
    uint8_t *d = ct_ptr(t, CT_DATA);
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(0x80 + i);
    ct_li(t, S0, CT_DATA);
    ct_li(t, A7, 0x1122334455667788ull);
    ct_asm(t, rv_lh(A0, S0, 1), rv_lw(A1, S0, 3), rv_ld(A2, S0, 5),
           rv_lhu(A3, S0, 7), rv_lwu(A4, S0, 9), rv_sd(A7, S0, 17),
           rv_sw(A7, S0, 26), rv_sh(A7, S0, 31));
    ct_halt(t);
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_REPC), 0, "trapped: mcause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, A0), 0xffffffffffff8281ull);
    cr_expect_eq(ct_x(t, A1), 0xffffffff86858483ull);
    cr_expect_eq(ct_x(t, A2), 0x8c8b8a8988878685ull);
    cr_expect_eq(ct_x(t, A3), 0x8887);
    cr_expect_eq(ct_x(t, A4), 0x8c8b8a89ull);
    uint64_t v;
    memcpy(&v, d + 17, 8);
    cr_expect_eq(v, 0x1122334455667788ull);
    uint32_t w;
    memcpy(&w, d + 26, 4);
    cr_expect_eq(w, 0x55667788u);
    cr_expect_eq(d[31], 0x88);
    cr_expect_eq(d[32], 0x77);
    cr_expect_eq(d[16], 0x90, "byte before the sd untouched");
    ct_free(t);
}

Test(alu, misaligned_across_page_boundary_bare)
{
    struct ct *t = ct_new();
    uint64_t edge = CT_DATA + 0x1000;
    ct_w64(t, edge - 8, 0x0706050403020100ull);
    ct_w64(t, edge, 0x0f0e0d0c0b0a0908ull);
    ct_li(t, S0, edge);
    ct_li(t, A7, 0xa1a2a3a4a5a6a7a8ull);
    ct_asm(t, rv_ld(A0, S0, -3), rv_lw(A1, S0, -1), rv_sd(A7, S0, -5),
           rv_ld(A2, S0, -8), rv_ld(A3, S0, 0));
    ct_halt(t);
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_REPC), 0, "trapped");
    cr_expect_eq(ct_x(t, A0), 0x0c0b0a0908070605ull);
    cr_expect_eq(ct_x(t, A1), 0x0a090807ull);
    cr_expect_eq(ct_x(t, A2), 0xa4a5a6a7a8020100ull);
    cr_expect_eq(ct_x(t, A3), 0x0f0e0d0c0ba1a2a3ull);
    ct_free(t);
}

/* A load from outside RAM and the bus: load access fault, tval = address. */
Test(alu, load_outside_ram_is_access_fault)
{
    struct ct *t = ct_new();
    ct_li(t, S0, 0x40000000ull);
    uint64_t at = t->at;
    ct_emit(t, rv_ld(A0, S0, 8));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_LOAD_ACCESS);
    cr_expect_eq(ct_x(t, CT_REPC), at);
    cr_expect_eq(ct_x(t, CT_RTVAL), 0x40000008ull);
    ct_free(t);
}

/* A store straddling the end of RAM must fault, not touch host memory. */
Test(alu, store_straddling_ram_end_is_access_fault)
{
    struct ct *t = ct_new();
    ct_li(t, S1, CT_RAM_BASE + CT_RAM_SIZE - 4);
    ct_li(t, A0, -1);
    uint64_t at = t->at;
    ct_emit(t, rv_sd(A0, S1, 0));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_STORE_ACCESS);
    cr_expect_eq(ct_x(t, CT_REPC), at);
    ct_free(t);
}
