/* rv64i — every RV64I computational instruction over interesting operands,
 * loads with sign/zero extension at every offset (misaligned included),
 * stores of every width, branches, jumps and their link values, x0. */
#include "common.h"

BINOP(add) BINOP(sub) BINOP(sll) BINOP(slt) BINOP(sltu) BINOP(xor) BINOP(srl)
BINOP(sra) BINOP(or) BINOP(and) BINOP(addw) BINOP(subw) BINOP(sllw)
BINOP(srlw) BINOP(sraw)

static const struct binop rr[] = {
    BINOP_ENT(add), BINOP_ENT(sub), BINOP_ENT(sll), BINOP_ENT(slt),
    BINOP_ENT(sltu), BINOP_ENT(xor), BINOP_ENT(srl), BINOP_ENT(sra),
    BINOP_ENT(or), BINOP_ENT(and), BINOP_ENT(addw), BINOP_ENT(subw),
    BINOP_ENT(sllw), BINOP_ENT(srlw), BINOP_ENT(sraw),
};

#define IMM(op, imm) \
    do { u64 r_; __asm__ volatile(#op " %0, %1, " #imm : "=r"(r_) : "r"(a)); \
         rt_printf(" %lx", r_); } while (0)

static void immediates(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(ivals); i++) {
        u64 a = ivals[i];
        rt_printf("imm %lx:", a);
        IMM(addi, 0); IMM(addi, -1); IMM(addi, 2047); IMM(addi, -2048);
        IMM(slti, 0); IMM(slti, -1); IMM(slti, 2047); IMM(slti, -2048);
        IMM(sltiu, 0); IMM(sltiu, -1); IMM(sltiu, 1); IMM(sltiu, 2047);
        IMM(xori, -1); IMM(xori, 0x555); IMM(ori, -2048); IMM(ori, 0x7f0);
        IMM(andi, -1); IMM(andi, 0x7ff); IMM(andi, -2048);
        IMM(addiw, 0); IMM(addiw, 1); IMM(addiw, -1); IMM(addiw, 2047);
        rt_printf("\nshift %lx:", a);
        IMM(slli, 0); IMM(slli, 1); IMM(slli, 31); IMM(slli, 32); IMM(slli, 63);
        IMM(srli, 0); IMM(srli, 1); IMM(srli, 31); IMM(srli, 32); IMM(srli, 63);
        IMM(srai, 0); IMM(srai, 1); IMM(srai, 31); IMM(srai, 32); IMM(srai, 63);
        IMM(slliw, 0); IMM(slliw, 1); IMM(slliw, 31);
        IMM(srliw, 0); IMM(srliw, 1); IMM(srliw, 31);
        IMM(sraiw, 0); IMM(sraiw, 1); IMM(sraiw, 31);
        rt_putc('\n');
    }
}

static u64 mem[4] __attribute__((aligned(16)));

#define LOAD(op, off) \
    do { u64 r_; __asm__ volatile(#op " %0, " #off "(%1)" : "=r"(r_) : "r"(mem) : "memory"); \
         rt_printf(" %lx", r_); } while (0)
#define LOADS_AT(off) do { rt_printf("load +%d:", off); LOAD(lb, off); LOAD(lbu, off); \
    LOAD(lh, off); LOAD(lhu, off); LOAD(lw, off); LOAD(lwu, off); LOAD(ld, off); \
    rt_putc('\n'); } while (0)

static void loads_stores(void)
{
    mem[0] = 0x8182838485868788ull;
    mem[1] = 0xf1f2f3f4f5f6f7f8ull;
    mem[2] = 0x0102030405060708ull;
    LOADS_AT(0); LOADS_AT(1); LOADS_AT(2); LOADS_AT(3); LOADS_AT(4);
    LOADS_AT(5); LOADS_AT(6); LOADS_AT(7); LOADS_AT(8); LOADS_AT(12);
    for (int off = 0; off < 8; off++) {
        mem[0] = mem[1] = 0;
        u64 v = 0xa1b2c3d4e5f60718ull;
        __asm__ volatile("add t0, %0, %1\n sb %2, 0(t0)" :: "r"(mem), "r"((u64)off), "r"(v) : "t0", "memory");
        __asm__ volatile("add t0, %0, %1\n sh %2, 1(t0)" :: "r"(mem), "r"((u64)off), "r"(v >> 8) : "t0", "memory");
        rt_printf("store b/h +%d: %lx %lx\n", off, mem[0], mem[1]);
        mem[0] = mem[1] = 0;
        __asm__ volatile("add t0, %0, %1\n sw %2, 0(t0)" :: "r"(mem), "r"((u64)off), "r"(v) : "t0", "memory");
        rt_printf("store w +%d: %lx %lx\n", off, mem[0], mem[1]);
        mem[0] = mem[1] = 0;
        __asm__ volatile("add t0, %0, %1\n sd %2, 0(t0)" :: "r"(mem), "r"((u64)off), "r"(v) : "t0", "memory");
        rt_printf("store d +%d: %lx %lx\n", off, mem[0], mem[1]);
    }
}

#define BR(op) \
    do { u64 t_; __asm__ volatile("li %0, 1\n " #op " %1, %2, 1f\n li %0, 0\n1:" \
        : "=&r"(t_) : "r"(a), "r"(b)); rt_printf("%d", (int)t_); } while (0)

static void branches(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(ivals); i++) {
        rt_printf("br %lx:", ivals[i]);
        for (unsigned j = 0; j < ARRAY_SIZE(ivals); j++) {
            u64 a = ivals[i], b = ivals[j];
            rt_putc(' ');
            BR(beq); BR(bne); BR(blt); BR(bge); BR(bltu); BR(bgeu);
        }
        rt_putc('\n');
    }
}

static void jumps(void)
{
    u64 link, here, r;
    __asm__ volatile("auipc %1, 0\n jal %0, 1f\n nop\n1:" : "=r"(link), "=r"(here));
    rt_printf("jal link-pc %lx\n", link - here);
    __asm__ volatile("lla %1, 1f\n jalr %0, 0(%1)\n1:" : "=&r"(link), "=&r"(here));
    rt_printf("jalr link-target %lx\n", here - link);
    /* jalr clears bit 0 of the target; rd == rs1 uses the old rs1 */
    __asm__ volatile("lla %0, 1f + 1\n jalr %0, 0(%0)\n nop\n nop\n1: lla %1, 1b"
                     : "=&r"(link), "=&r"(here));
    rt_printf("jalr odd target, rd=rs1: label-link %lx\n", here - link);
    __asm__ volatile(".option push\n .option norvc\n lla t0, 3f\n jalr x0, -8(t0)\n"
                     " li %0, 5\n j 4f\n li %0, 6\n j 4f\n3: li %0, 7\n4:\n .option pop"
                     : "=&r"(r) :: "t0");
    rt_printf("jalr negative offset -> %lx\n", r);
    __asm__ volatile("lui %0, 0x80000" : "=r"(r));
    rt_printf("lui 0x80000 -> %lx\n", r);
    __asm__ volatile("lui %0, 0xfffff" : "=r"(r));
    rt_printf("lui 0xfffff -> %lx\n", r);
    __asm__ volatile("auipc %0, 0x80000\n auipc %1, 0\n" : "=r"(r), "=r"(here));
    rt_printf("auipc 0x80000 - pc %lx\n", r - here + 4);
    __asm__ volatile("li t0, 5\n add x0, t0, t0\n addi x0, x0, 1\n mv %0, x0" : "=r"(r) :: "t0");
    rt_printf("x0 after writes %lx\n", r);
    __asm__ volatile("fence\n fence rw, rw\n fence.i\n fence.tso\n .word 0x0100000f\n li %0, 1" : "=r"(r));
    rt_printf("fences ok %lx\n", r);
}

int main(void)
{
    run_binops(rr, ARRAY_SIZE(rr));
    immediates();
    loads_stores();
    branches();
    jumps();
    return 0;
}
