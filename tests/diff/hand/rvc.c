/* rvc — every RV64C encoding with edge immediates, the branch and jump
 * forms' link values and directions, and the reserved/HINT encodings
 * (raw halfwords: reserved ones must raise illegal-instruction with the
 * 16-bit word in tval, HINTs must do nothing). */
#include "common.h"

static u64 buf[64] __attribute__((aligned(16)));

static void fill(void)
{
    for (int i = 0; i < 64; i++)
        buf[i] = 0x8070605040302010ull ^ ((u64)i * 0x0101010101010101ull);
}

/* Runs `insn` with x5, x6, x8..x15 preset (x12 = buf) and prints them. */
#define CT(name, insn) do { \
    register u64 r5 __asm__("t0") = 0x123456789abcdef0ull; \
    register u64 r6 __asm__("t1") = (u64)-5; \
    register u64 r8 __asm__("s0") = 0x7fffffff; \
    register u64 r9 __asm__("s1") = 0xffffffff80000000ull; \
    register u64 r10 __asm__("a0") = (u64)-1; \
    register u64 r11 __asm__("a1") = 0x8000000000000000ull; \
    register u64 r12 __asm__("a2") = (u64)buf; \
    register u64 r13 __asm__("a3") = 3; \
    register u64 r14 __asm__("a4") = 0x100; \
    register u64 r15 __asm__("a5") = 0x80000000ull; \
    fill(); \
    __asm__ volatile(insn : "+r"(r5), "+r"(r6), "+r"(r8), "+r"(r9), "+r"(r10), \
        "+r"(r11), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15) :: "memory", "t2", "fa0", "fs0", "ra"); \
    rt_printf("%s: t0=%lx t1=%lx s0=%lx s1=%lx a0=%lx a1=%lx a2-buf=%lx a3=%lx a4=%lx a5=%lx" \
        " buf=%lx,%lx,%lx\n", name, r5, r6, r8, r9, r10, r11, r12 - (u64)buf, r13, r14, r15, \
        buf[0], buf[1], buf[31]); \
} while (0)

/* sp-relative forms: sp points at buf for the instruction. */
#define SP(insn) "mv t2, sp\n mv sp, a2\n " insn "\n mv a2, sp\n mv sp, t2"

static void q0(void)
{
    CT("c.addi4spn 4", SP("c.addi4spn s0, sp, 4"));
    CT("c.addi4spn 1020", SP("c.addi4spn a5, sp, 1020"));
    CT("c.lw 0", "c.lw s0, 0(a2)");
    CT("c.lw 124", "c.lw a0, 124(a2)");
    CT("c.ld 248", "c.ld s1, 248(a2)");
    CT("c.ld 8", "c.ld a2, 8(a2)");
    CT("c.sw", "c.sw s1, 4(a2)");
    CT("c.sd", "c.sd a1, 248(a2)");
    CT("c.fld/c.fsd", "c.fld fa0, 16(a2)\n c.fsd fa0, 0(a2)\n c.fld fs0, 248(a2)\n c.fsd fs0, 8(a2)");
}

static void q1(void)
{
    CT("c.nop", "c.nop");
    CT("c.addi -32", "c.addi t0, -32");
    CT("c.addi 31", "c.addi a0, 31");
    CT("c.addiw 0", "c.addiw s0, 0");
    CT("c.addiw 1", "c.addiw s0, 1");
    CT("c.addiw -1", "c.addiw s1, -1");
    CT("c.li -32", "c.li t1, -32");
    CT("c.li 31", "c.li a5, 31");
    CT("c.addi16sp -512", SP("c.addi16sp sp, -512"));
    CT("c.addi16sp 496", SP("c.addi16sp sp, 496"));
    CT("c.lui 1", "c.lui t0, 1");
    CT("c.lui 0x1f", "c.lui s0, 0x1f");
    CT("c.lui 0xfffe0", "c.lui a3, 0xfffe0");
    CT("c.srli 1", "c.srli s1, 1");
    CT("c.srli 63", "c.srli a0, 63");
    CT("c.srli 32", "c.srli a1, 32");
    CT("c.srai 1", "c.srai a1, 1");
    CT("c.srai 63", "c.srai s1, 63");
    CT("c.andi -32", "c.andi a0, -32");
    CT("c.andi 0", "c.andi s0, 0");
    CT("c.sub", "c.sub s0, s1");
    CT("c.xor", "c.xor a0, a1");
    CT("c.or", "c.or s1, a5");
    CT("c.and", "c.and a0, s1");
    CT("c.subw", "c.subw s0, s1");
    CT("c.subw 2", "c.subw s1, a0");
    CT("c.addw", "c.addw s0, s0");
    CT("c.addw 2", "c.addw a1, a5");
    CT("c.j", "c.li t0, 1\n c.j 1f\n c.li t0, 2\n1:");
    CT("c.j back", "c.li t0, 0\n c.j 2f\n1: c.addi t0, 4\n c.j 3f\n2: c.addi t0, 1\n c.j 1b\n3:");
    CT("c.beqz taken", "c.li s0, 0\n c.li t0, 1\n c.beqz s0, 1f\n c.li t0, 2\n1:");
    CT("c.beqz not taken", "c.li t0, 1\n c.beqz s1, 1f\n c.li t0, 2\n1:");
    CT("c.bnez taken", "c.li t0, 1\n c.bnez a0, 1f\n c.li t0, 2\n1:");
    CT("c.bnez not taken", "c.li a0, 0\n c.li t0, 1\n c.bnez a0, 1f\n c.li t0, 2\n1:");
}

static void q2(void)
{
    CT("c.slli 1", "c.slli t0, 1");
    CT("c.slli 63", "c.slli a3, 63");
    CT("c.slli 32", "c.slli s0, 32");
    CT("c.lwsp", SP("c.lwsp t1, 252(sp)"));
    CT("c.lwsp 0", SP("c.lwsp a0, 0(sp)"));
    CT("c.ldsp", SP("c.ldsp t0, 504(sp)"));
    CT("c.ldsp 8", SP("c.ldsp s1, 8(sp)"));
    CT("c.swsp", SP("c.swsp t0, 252(sp)"));
    CT("c.sdsp", SP("c.sdsp t1, 8(sp)"));
    CT("c.fldsp/c.fsdsp", SP("c.fldsp fa0, 504(sp)\n c.fsdsp fa0, 0(sp)"));
    CT("c.mv", "c.mv t0, a1");
    CT("c.add", "c.add t1, a0");
    CT("c.add self", "c.add s1, s1");
    CT("c.jr", "lla t0, 1f\n c.li t1, 1\n c.jr t0\n c.li t1, 2\n1:");
    CT("c.jalr", "lla t0, 1f\n c.jalr t0\n1: auipc t1, 0\n sub t1, t1, ra");
    CT("c.jalr ra", "lla ra, 1f\n c.jalr ra\n1: auipc t1, 0\n sub t1, t1, ra");
}

/* Reserved encodings trap (default handler prints mcause/mtval); HINTs
 * (rd = x0 forms, c.nop with an immediate, c.slli64...) change nothing. */
static void reserved(void)
{
    CT("0x0000 illegal", ".2byte 0x0000");
    CT("c.addi4spn nzuimm=0", ".2byte 0x0004");
    CT("q0 funct3=4 reserved", ".2byte 0x8000");
    CT("c.lwsp rd=0", ".2byte 0x4002");
    CT("c.ldsp rd=0", ".2byte 0x6002");
    CT("c.lui imm=0", ".2byte 0x6281");
    CT("c.addi16sp imm=0", ".2byte 0x6101");
    CT("c.jr rs1=0", ".2byte 0x8002");
    CT("c.addiw rd=0", ".2byte 0x2005");
    CT("q1 100 111 (c.subw-like, funct2=10)", ".2byte 0x9c41");
    CT("q1 100 111 funct2=11", ".2byte 0x9c61");
    CT("hint c.nop imm", ".2byte 0x0005");
    CT("hint c.addi imm=0", ".2byte 0x0281");
    CT("hint c.li rd=0", ".2byte 0x4015");
    CT("hint c.lui rd=0", ".2byte 0x6005");
    CT("hint c.mv rd=0", ".2byte 0x802a");
    CT("hint c.add rd=0", ".2byte 0x902a");
    CT("hint c.slli rd=0", ".2byte 0x0006");
    CT("c.slli shamt=0 (hint)", ".2byte 0x0286");
    CT("c.srli shamt=0", ".2byte 0x8001");
    CT("c.srai shamt=0", ".2byte 0x8401");
    CT("c.ebreak", "c.ebreak");
}

int main(void)
{
    q0();
    q1();
    q2();
    reserved();
    return 0;
}
