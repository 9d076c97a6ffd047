/*
 * cpu_rvc: the C extension — every compressed encoding class expands to the
 * 32-bit instruction it stands for (pairs checked against GNU as: the c.*
 * form and the uncompressed form assembled with .option norvc), reserved
 * encodings are illegal with the 16 bits as tval, and HINTs execute as
 * no-ops.
 */
#include "tests/unit/cpu_harness.h"

static const struct { uint16_t c; uint32_t full; } pairs[] = {
    { 0x0040, 0x00410413 },  /* c.addi4spn s0, sp, 4 */
    { 0x1ffc, 0x3fc10793 },  /* c.addi4spn a5, sp, 1020 */
    { 0x2588, 0x0085b507 },  /* c.fld fa0, 8(a1) */
    { 0x3fe4, 0x0f87b487 },  /* c.fld fs1, 248(a5) */
    { 0x41c8, 0x0045a503 },  /* c.lw a0, 4(a1) */
    { 0x5fe4, 0x07c7a483 },  /* c.lw s1, 124(a5) */
    { 0x7ef0, 0x0f86b603 },  /* c.ld a2, 248(a3) */
    { 0xa80c, 0x00b43827 },  /* c.fsd fa1, 16(s0) */
    { 0xc0b8, 0x04e4a023 },  /* c.sw a4, 64(s1) */
    { 0xe55c, 0x08f53423 },  /* c.sd a5, 136(a0) */
    { 0x0001, 0x00000013 },  /* c.nop */
    { 0x1501, 0xfe050513 },  /* c.addi a0, -32 */
    { 0x0ffd, 0x01ff8f93 },  /* c.addi t6, 31 */
    { 0x35fd, 0xfff5859b },  /* c.addiw a1, -1 */
    { 0x52bd, 0xfef00293 },  /* c.li t0, -17 */
    { 0x7101, 0xe0010113 },  /* c.addi16sp sp, -512 */
    { 0x617d, 0x1f010113 },  /* c.addi16sp sp, 496 */
    { 0x7501, 0xfffe0537 },  /* c.lui a0, 0xfffe0 */
    { 0x6d85, 0x00001db7 },  /* c.lui s11, 1 */
    { 0x637d, 0x0001f337 },  /* c.lui t1, 31 */
    { 0x8105, 0x00155513 },  /* c.srli a0, 1 */
    { 0x90fd, 0x03f4d493 },  /* c.srli s1, 63 */
    { 0x9781, 0x4207d793 },  /* c.srai a5, 32 */
    { 0x9afd, 0xfff6f693 },  /* c.andi a3, -1 */
    { 0x8c1d, 0x40f40433 },  /* c.sub s0, a5 */
    { 0x8db1, 0x00c5c5b3 },  /* c.xor a1, a2 */
    { 0x8f45, 0x00976733 },  /* c.or a4, s1 */
    { 0x8d69, 0x00a57533 },  /* c.and a0, a0 */
    { 0x9e15, 0x40d6063b },  /* c.subw a2, a3 */
    { 0x9ca9, 0x00a484bb },  /* c.addw s1, a0 */
    { 0x10fe, 0x03f09093 },  /* c.slli ra, 63 */
    { 0x0386, 0x00139393 },  /* c.slli t2, 1 */
    { 0x347e, 0x1f813407 },  /* c.fldsp fs0, 504(sp) */
    { 0x557e, 0x0fc12503 },  /* c.lwsp a0, 252(sp) */
    { 0x60a2, 0x00813083 },  /* c.ldsp ra, 8(sp) */
    { 0x8082, 0x00008067 },  /* c.jr ra */
    { 0x852e, 0x00b00533 },  /* c.mv a0, a1 */
    { 0x9002, 0x00100073 },  /* c.ebreak */
    { 0x9282, 0x000280e7 },  /* c.jalr t0 */
    { 0x994e, 0x01390933 },  /* c.add s2, s3 */
    { 0xa24a, 0x11213027 },  /* c.fsdsp fs2, 256(sp) */
    { 0xdfae, 0x0eb12e23 },  /* c.swsp a1, 252(sp) */
    { 0xffa2, 0x1e813c23 },  /* c.sdsp s0, 504(sp) */
    { 0xb001, 0x801ff06f },  /* c.j -2048 */
    { 0xaffd, 0x7fe0006f },  /* c.j 2046 */
    { 0xa081, 0x0400006f },  /* c.j 64 */
    { 0xbff5, 0xffdff06f },  /* c.j -4 */
    { 0xd101, 0xf00500e3 },  /* c.beqz a0 -256 */
    { 0xf081, 0xf00490e3 },  /* c.bnez s1 -256 */
    { 0xcd7d, 0x0e050f63 },  /* c.beqz a0 254 */
    { 0xecfd, 0x0e049f63 },  /* c.bnez s1 254 */
    { 0xc901, 0x00050863 },  /* c.beqz a0 16 */
    { 0xe881, 0x00049863 },  /* c.bnez s1 16 */
    { 0xc109, 0x00050163 },  /* c.beqz a0 2 */
    { 0xe089, 0x00049163 },  /* c.bnez s1 2 */
    /* HINTs: rd = x0 or a zero immediate; base-instruction semantics. */
    { 0x6005, 0x00001037 },  /* c.lui x0, 1 */
    { 0x4005, 0x00100013 },  /* c.li x0, 1 */
    { 0x802a, 0x00a00033 },  /* c.mv x0, a0 */
    { 0x0006, 0x00101013 },  /* c.slli x0, 1 */
    { 0x0501, 0x00050513 },  /* c.addi a0, 0 */
};

Test(cpu_rvc, expansions)
{
    for (unsigned i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        cr_expect_eq(rvc_expand(pairs[i].c), pairs[i].full,
                     "%04x: got %08x want %08x", pairs[i].c,
                     rvc_expand(pairs[i].c), pairs[i].full);
}

/* Reserved encodings (unpriv spec §16.8 tables). */
static const uint16_t reserved[] = {
    0x0000,     /* all zeros: c.addi4spn nzuimm = 0 */
    0x0004,     /* c.addi4spn a1, nzuimm = 0 */
    0x8000,     /* quadrant 0, funct3 100 */
    0x9c00,     /* ditto, other bits set */
    0x2005,     /* c.addiw x0, 1 */
    0x6101,     /* c.addi16sp nzimm = 0 */
    0x6501,     /* c.lui a0, nzimm = 0 */
    0x6001,     /* c.lui x0, nzimm = 0 */
    0x9c41,     /* quadrant 1 misc-alu, bit12 = 1, funct2 = 10 */
    0x9c61,     /* ditto, funct2 = 11 */
    0x4002,     /* c.lwsp x0 */
    0x6002,     /* c.ldsp x0 */
    0x8002,     /* c.jr x0 */
};

Test(cpu_rvc, reserved_are_illegal)
{
    for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        cr_expect_eq(rvc_expand(reserved[i]), 0, "%04x", reserved[i]);
        struct cpt t = tm_new();
        tm_put16(&t, RAM_BASE, reserved[i]);
        tm_step(&t);
        cr_expect_eq(t.h->mcause, EXC_ILLEGAL, "%04x", reserved[i]);
        cr_expect_eq(t.h->mtval, reserved[i], "%04x: tval", reserved[i]);
        cr_expect_eq(t.h->mepc, RAM_BASE);
        tm_free(&t);
    }
}

Test(cpu_rvc, execute_mixed_stream)
{
    struct cpt t = tm_new();
    uint64_t a = RAM_BASE;
    tm_put16(&t, a, 0x4515);            /* c.li a0, 5 */
    tm_put16(&t, a + 2, 0x050d);        /* c.addi a0, 3 */
    tm_put32(&t, a + 4, ADDI(11, 10, 1));   /* addi a1, a0, 1 (at +4) */
    tm_put16(&t, a + 8, 0x050a);        /* c.slli a0, 2 */
    tm_put16(&t, a + 10, 0x862e);       /* c.mv a2, a1 */
    tm_put16(&t, a + 12, 0xa009);       /* c.j +2 */
    tm_put16(&t, a + 14, 0x0000);       /* (skipped) illegal */
    tm_put16(&t, a + 14, 0x0001);       /* c.nop */
    hart_step(t.h, 7);
    cr_assert_eq(hart_get_x(t.h, 10), 32);
    cr_assert_eq(hart_get_x(t.h, 11), 9);
    cr_assert_eq(hart_get_x(t.h, 12), 9);
    cr_assert_eq(hart_get_pc(t.h), a + 16);
    tm_free(&t);
}

Test(cpu_rvc, jalr_links_pc_plus_2)
{
    struct cpt t = tm_new();
    hart_set_x(t.h, 5, RAM_BASE + 0x40);
    tm_put16(&t, RAM_BASE, 0x9282);     /* c.jalr t0 */
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 0x40);
    cr_assert_eq(hart_get_x(t.h, 1), RAM_BASE + 2);
    tm_free(&t);
}

Test(cpu_rvc, ebreak)
{
    struct cpt t = tm_new();
    tm_put16(&t, RAM_BASE, 0x9002);     /* c.ebreak */
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_BREAKPOINT);
    cr_assert_eq(t.h->mepc, RAM_BASE);
    tm_free(&t);
}

Test(cpu_rvc, fp_loads_need_fs)
{
    struct cpt t = tm_new();
    tm_put16(&t, RAM_BASE, 0x2588);     /* c.fld fa0, 8(a1) */
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_ILLEGAL);
    cr_assert_eq(t.h->mtval, 0x2588);
    tm_free(&t);
}

Test(cpu_rvc, straddling_32bit_insn)
{
    /* A 32-bit instruction at the last halfword of a page. */
    struct cpt t = tm_new();
    uint64_t pc = RAM_BASE + 0xffe;
    uint32_t insn = ADDI(10, 0, 77);
    tm_put16(&t, pc, (uint16_t)insn);
    tm_put16(&t, pc + 2, (uint16_t)(insn >> 16));
    t.h->pc = pc;
    tm_step(&t);
    cr_assert_eq(hart_get_x(t.h, 10), 77);
    cr_assert_eq(hart_get_pc(t.h), pc + 4);
    tm_free(&t);
}
