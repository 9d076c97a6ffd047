/*
 * cpu_fuse: fused instruction pairs (cpu/exec_fuse.c) behave exactly as
 * the two instructions do: a batch may end between them, either may trap
 * with its own pc, a taken branch in either position, and a store that
 * rewrites the second instruction is seen.
 */
#include "tests/unit/cpu_harness.h"

#define SLLI(rd, rs1, sh) enc_i(sh, rs1, 1, rd, 0x13)
#define LBU(rd, rs1, imm) enc_i(imm, rs1, 4, rd, 0x03)
#define BNE(rs1, rs2, off) enc_b(off, rs2, rs1, 1)

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 |
           rs1 << 15 | f3 << 12 | ((u >> 1) & 0xf) << 8 |
           ((u >> 11) & 1) << 7 | 0x63;
}

Test(cpu_fuse, batch_ends_between_the_two)
{
    struct cpt t = tm_new();
    const uint32_t p[] = { SLLI(5, 1, 2), ADD(6, 5, 2), JSELF };
    tm_prog(&t, RAM_BASE, p, 3);
    hart_set_x(t.h, 1, 3);
    hart_set_x(t.h, 2, 100);
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    cr_assert_eq(hart_get_x(t.h, 5), 12);
    cr_assert_eq(hart_get_x(t.h, 6), 0);
    cr_assert(t.h->fetch_page[0].run != ex_slli, "the pair was not fused");
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 8);
    cr_assert_eq(hart_get_x(t.h, 6), 112);
    cr_assert_eq(hart_instret(t.h), 2);
    tm_free(&t);
}

Test(cpu_fuse, second_faults_with_its_own_pc)
{
    struct cpt t = tm_new();
    /* add x5, x1, x2; lbu x6, 0(x5) with x5 outside RAM. */
    const uint32_t p[] = { ADD(5, 1, 2), LBU(6, 5, 0), JSELF };
    tm_prog(&t, RAM_BASE, p, 3);
    hart_set_x(t.h, 1, 0x40000000);
    hart_set_x(t.h, 2, 8);
    hart_set_x(t.h, 6, 77);
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 5), 0x40000008);
    cr_assert_eq(hart_get_x(t.h, 6), 77);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);
    cr_assert_eq(t.h->mepc, RAM_BASE + 4);
    cr_assert_eq(t.h->mcause, EXC_LOAD_ACCESS);
    tm_free(&t);
}

Test(cpu_fuse, first_faults_with_its_own_pc)
{
    struct cpt t = tm_new();
    const uint32_t p[] = { LBU(6, 7, 0), BNE(6, 0, 8), JSELF, JSELF };
    tm_prog(&t, RAM_BASE, p, 4);
    hart_set_x(t.h, 7, 0x40000000);
    hart_step(t.h, 1);
    cr_assert_eq(hart_get_pc(t.h), TRAP_VEC);
    cr_assert_eq(t.h->mepc, RAM_BASE);
    tm_free(&t);
}

Test(cpu_fuse, load_then_taken_branch)
{
    struct cpt t = tm_new();
    /* lbu x6, 0(x7); bne x6, x0, +8; addi x5, x0, 1; addi x5, x0, 2; j . */
    const uint32_t p[] = {
        LBU(6, 7, 0), BNE(6, 0, 8), ADDI(5, 0, 1), ADDI(5, 0, 2), JSELF,
    };
    tm_prog(&t, RAM_BASE, p, 5);
    tm_put32(&t, RAM_BASE + 0x1000, 0x9a);
    hart_set_x(t.h, 7, RAM_BASE + 0x1000);
    hart_step(t.h, 3);
    cr_assert_eq(hart_get_x(t.h, 6), 0x9a);
    cr_assert_eq(hart_get_x(t.h, 5), 2);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 16);
    tm_free(&t);
}

Test(cpu_fuse, store_rewriting_the_second_is_seen)
{
    struct cpt t = tm_new();
    /* 0: addi x5,x5,1; 4: addi x5,x5,1; 8: sw x3, 4(x4); 12: j 0 */
    const uint32_t p[] = {
        ADDI(5, 5, 1), ADDI(5, 5, 1), SW(3, 4, 4), 0xff5ff06fu,
    };
    tm_prog(&t, RAM_BASE, p, 4);
    hart_set_x(t.h, 3, ADDI(5, 5, 100));
    hart_set_x(t.h, 4, RAM_BASE);
    hart_step(t.h, 6);
    cr_assert_eq(hart_get_x(t.h, 5), 103);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 8);
    tm_free(&t);
}
