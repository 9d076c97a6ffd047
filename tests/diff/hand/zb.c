/* zb — the bit-manipulation extensions Zba, Zbb, Zbc and Zbs (bitmanip
 * 1.0.0) over interesting operands: every register-register op over 400
 * pairs, the immediate forms at the edges of their ranges, and every unary
 * op over the operand table.
 *
 * Unary results print as "unary WORD rs1=A: rd=R", the line format
 * run.py's known-deviation filter reads: QEMU 7.2's ctzw counts into the
 * upper word when the lower one is zero (the spec: 32). */
#include "common.h"

#define ZB ".option push\n.option arch, +zba, +zbb, +zbc, +zbs\n"
#define ZB_END "\n.option pop"

#define ZBOP(op, name) \
    static u64 op_##name(u64 a, u64 b) \
    { u64 r; __asm__ volatile(ZB #op " %0, %1, %2" ZB_END : "=r"(r) : "r"(a), "r"(b)); \
      return r; }
ZBOP(add.uw, add_uw) ZBOP(sh1add, sh1add) ZBOP(sh2add, sh2add)
ZBOP(sh3add, sh3add) ZBOP(sh1add.uw, sh1add_uw) ZBOP(sh2add.uw, sh2add_uw)
ZBOP(sh3add.uw, sh3add_uw) ZBOP(andn, andn) ZBOP(orn, orn) ZBOP(xnor, xnor)
ZBOP(max, max) ZBOP(maxu, maxu) ZBOP(min, min) ZBOP(minu, minu)
ZBOP(rol, rol) ZBOP(rolw, rolw) ZBOP(ror, ror) ZBOP(rorw, rorw)
ZBOP(clmul, clmul) ZBOP(clmulh, clmulh) ZBOP(clmulr, clmulr)
ZBOP(bclr, bclr) ZBOP(bext, bext) ZBOP(binv, binv) ZBOP(bset, bset)

#define ENT(name) { #name, op_##name }
static const struct binop rr[] = {
    ENT(add_uw), ENT(sh1add), ENT(sh2add), ENT(sh3add), ENT(sh1add_uw),
    ENT(sh2add_uw), ENT(sh3add_uw), ENT(andn), ENT(orn), ENT(xnor), ENT(max),
    ENT(maxu), ENT(min), ENT(minu), ENT(rol), ENT(rolw), ENT(ror), ENT(rorw),
    ENT(clmul), ENT(clmulh), ENT(clmulr), ENT(bclr), ENT(bext), ENT(binv),
    ENT(bset),
};

#define IMM(op, imm) \
    do { u64 r_; __asm__ volatile(ZB #op " %0, %1, " #imm ZB_END : "=r"(r_) : "r"(a)); \
         rt_printf(" %lx", r_); } while (0)

static void immediates(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(ivals); i++) {
        u64 a = ivals[i];
        rt_printf("imm %lx:", a);
        IMM(slli.uw, 0); IMM(slli.uw, 1); IMM(slli.uw, 31); IMM(slli.uw, 32);
        IMM(slli.uw, 63);
        IMM(rori, 0); IMM(rori, 1); IMM(rori, 31); IMM(rori, 32); IMM(rori, 63);
        IMM(roriw, 0); IMM(roriw, 1); IMM(roriw, 16); IMM(roriw, 31);
        IMM(bclri, 0); IMM(bclri, 31); IMM(bclri, 32); IMM(bclri, 63);
        IMM(bexti, 0); IMM(bexti, 31); IMM(bexti, 32); IMM(bexti, 63);
        IMM(binvi, 0); IMM(binvi, 31); IMM(binvi, 32); IMM(binvi, 63);
        IMM(bseti, 0); IMM(bseti, 31); IMM(bseti, 32); IMM(bseti, 63);
        rt_putc('\n');
    }
}

/* Unary ops as functions a0 -> a0, each labelled so its word can be printed. */
#define UFN(name, insn) "    .globl u_" #name "\nu_" #name ": " insn "\n    ret\n"
__asm__(".text\n .option push\n .option norvc\n"
        " .option arch, +zba, +zbb, +zbc, +zbs\n"
        UFN(clz, "clz a0, a0") UFN(clzw, "clzw a0, a0")
        UFN(ctz, "ctz a0, a0") UFN(ctzw, "ctzw a0, a0")
        UFN(cpop, "cpop a0, a0") UFN(cpopw, "cpopw a0, a0")
        UFN(sext_b, "sext.b a0, a0") UFN(sext_h, "sext.h a0, a0")
        UFN(zext_h, "zext.h a0, a0") UFN(orc_b, "orc.b a0, a0")
        UFN(rev8, "rev8 a0, a0")
        " .option pop\n");
typedef u64 (*ufn)(u64);
#define UDECL(n) u64 u_##n(u64);
UDECL(clz) UDECL(clzw) UDECL(ctz) UDECL(ctzw) UDECL(cpop) UDECL(cpopw)
UDECL(sext_b) UDECL(sext_h) UDECL(zext_h) UDECL(orc_b) UDECL(rev8)
static const ufn unary[] = {
    u_clz, u_clzw, u_ctz, u_ctzw, u_cpop, u_cpopw, u_sext_b, u_sext_h,
    u_zext_h, u_orc_b, u_rev8,
};
static const u64 uvals[] = {
    0x00ff00ff00000000ull, 0xcc1bf8c800000000ull, 0x8000000000000000ull,
    0x0000000100000000ull, 0x00000000ffff8080ull, 0x0102030405060708ull,
};

static void unaries(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(unary); k++) {
        u32 w = *(const u32 *)unary[k];
        for (unsigned i = 0; i < ARRAY_SIZE(ivals) + ARRAY_SIZE(uvals); i++) {
            u64 a = i < ARRAY_SIZE(ivals) ? ivals[i] : uvals[i - ARRAY_SIZE(ivals)];
            rt_printf("unary %08x rs1=%lx: rd=%lx\n", w, a, unary[k](a));
        }
    }
}

int main(void)
{
    run_binops(rr, ARRAY_SIZE(rr));
    immediates();
    unaries();
    return 0;
}
