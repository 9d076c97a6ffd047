/*
 * cpu/exec_bit.c — the bit-manipulation extensions Zba, Zbb, Zbc and Zbs
 * (RISC-V Bit-Manipulation ISA-extensions 1.0.0), decoded and executed.
 * QEMU 7.2's "rv64" CPU enables all four by default, so guest code (and
 * the differential tests) can rely on them. Decoding is by the encoding
 * tables of that document's chapter 2: the base decoder hands over any
 * OP, OP-32, OP-IMM or OP-IMM-32 encoding it does not know.
 */
#include "cpu/exec.h"

#define X(r) h->x[d->r]
#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))

/* Threaded-dispatch handlers (cpu/exec.h); only 4-byte encodings. */
#define BIT_REG(name, expr)                                                  \
    static void ex_##name(EXEC_ARGS)                                         \
    {                                                                        \
        uint64_t a = X(rs1), b = X(rs2);                                     \
        (void)b;                                                             \
        X(rd) = (expr);                                                      \
        exec_goto(h, d + 2, budget);                                         \
    }
#define BIT_IMM(name, expr)                                                  \
    static void ex_##name(EXEC_ARGS)                                         \
    {                                                                        \
        uint64_t a = X(rs1), b = (uint64_t)d->imm;                           \
        (void)b;                                                             \
        X(rd) = (expr);                                                      \
        exec_goto(h, d + 2, budget);                                         \
    }

static uint64_t rol64(uint64_t a, unsigned n)
{
    n &= 63;
    return n ? a << n | a >> (64 - n) : a;
}

static uint64_t ror64(uint64_t a, unsigned n)
{
    n &= 63;
    return n ? a >> n | a << (64 - n) : a;
}

static uint32_t ror32(uint32_t a, unsigned n)
{
    n &= 31;
    return n ? a >> n | a << (32 - n) : a;
}

static uint64_t orc_b(uint64_t a)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 64; i += 8)
        if ((a >> i) & 0xff)
            r |= 0xffull << i;
    return r;
}

/* Carry-less multiply: the low (hi = false) or high 64 bits of a ⊗ b. */
static uint64_t clmul(uint64_t a, uint64_t b, int shift)
{
    unsigned __int128 r = 0;
    for (unsigned i = 0; i < 64; i++)
        if ((b >> i) & 1)
            r ^= (unsigned __int128)a << i;
    return (uint64_t)(r >> shift);
}

/* Zba */
BIT_REG(sh1add, (a << 1) + b)
BIT_REG(sh2add, (a << 2) + b)
BIT_REG(sh3add, (a << 3) + b)
BIT_REG(add_uw, (uint32_t)a + b)
BIT_REG(sh1add_uw, ((uint64_t)(uint32_t)a << 1) + b)
BIT_REG(sh2add_uw, ((uint64_t)(uint32_t)a << 2) + b)
BIT_REG(sh3add_uw, ((uint64_t)(uint32_t)a << 3) + b)
BIT_IMM(slli_uw, (uint64_t)(uint32_t)a << b)
/* Zbb */
BIT_REG(andn, a & ~b)
BIT_REG(orn, a | ~b)
BIT_REG(xnor, ~(a ^ b))
BIT_IMM(clz, a ? (uint64_t)__builtin_clzll(a) : 64)
BIT_IMM(ctz, a ? (uint64_t)__builtin_ctzll(a) : 64)
BIT_IMM(cpop, (uint64_t)__builtin_popcountll(a))
BIT_IMM(clzw, (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32)
BIT_IMM(ctzw, (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32)
BIT_IMM(cpopw, (uint64_t)__builtin_popcount((uint32_t)a))
BIT_REG(max, (int64_t)a > (int64_t)b ? a : b)
BIT_REG(maxu, a > b ? a : b)
BIT_REG(min, (int64_t)a < (int64_t)b ? a : b)
BIT_REG(minu, a < b ? a : b)
BIT_IMM(sext_b, (uint64_t)(int64_t)(int8_t)a)
BIT_IMM(sext_h, (uint64_t)(int64_t)(int16_t)a)
BIT_IMM(zext_h, (uint16_t)a)
BIT_REG(rol, rol64(a, (unsigned)b))
BIT_REG(ror, ror64(a, (unsigned)b))
BIT_REG(rolw, SEXT32(ror32((uint32_t)a, 32 - ((unsigned)b & 31))))
BIT_REG(rorw, SEXT32(ror32((uint32_t)a, (unsigned)b)))
BIT_IMM(rori, ror64(a, (unsigned)b))
BIT_IMM(roriw, SEXT32(ror32((uint32_t)a, (unsigned)b)))
BIT_IMM(orc_b, orc_b(a))
BIT_IMM(rev8, __builtin_bswap64(a))
/* Zbc */
BIT_REG(clmul, clmul(a, b, 0))
BIT_REG(clmulh, clmul(a, b, 64))
BIT_REG(clmulr, clmul(a, b, 63))
/* Zbs */
BIT_REG(bclr, a & ~(1ull << (b & 63)))
BIT_REG(bext, (a >> (b & 63)) & 1)
BIT_REG(binv, a ^ (1ull << (b & 63)))
BIT_REG(bset, a | (1ull << (b & 63)))
BIT_IMM(bclri, a & ~(1ull << b))
BIT_IMM(bexti, (a >> b) & 1)
BIT_IMM(binvi, a ^ (1ull << b))
BIT_IMM(bseti, a | (1ull << b))

#define FUNCT3(r) (((r) >> 12) & 7)
#define FUNCT7(r) ((r) >> 25)
#define RS2(r)    (((r) >> 20) & 31)

/* OP (0x33), funct7 → funct3 table. */
static exec_fn dec_op(uint32_t r)
{
    unsigned f3 = FUNCT3(r);
    switch (FUNCT7(r)) {
    case 0x10: {
        static const exec_fn t[8] = { [2] = ex_sh1add, [4] = ex_sh2add, [6] = ex_sh3add };
        return t[f3];
    }
    case 0x20: {
        static const exec_fn t[8] = { [4] = ex_xnor, [6] = ex_orn, [7] = ex_andn };
        return t[f3];
    }
    case 0x05: {
        static const exec_fn t[8] = {
            [1] = ex_clmul, [2] = ex_clmulr, [3] = ex_clmulh, [4] = ex_min,
            [5] = ex_minu, [6] = ex_max, [7] = ex_maxu,
        };
        return t[f3];
    }
    case 0x30: return f3 == 1 ? ex_rol : f3 == 5 ? ex_ror : NULL;
    case 0x24: return f3 == 1 ? ex_bclr : f3 == 5 ? ex_bext : NULL;
    case 0x34: return f3 == 1 ? ex_binv : NULL;
    case 0x14: return f3 == 1 ? ex_bset : NULL;
    default: return NULL;
    }
}

/* OP-32 (0x3b). */
static exec_fn dec_op32(uint32_t r)
{
    unsigned f3 = FUNCT3(r);
    switch (FUNCT7(r)) {
    case 0x04:
        if (f3 == 0)
            return ex_add_uw;
        return f3 == 4 && RS2(r) == 0 ? ex_zext_h : NULL;
    case 0x10: {
        static const exec_fn t[8] = {
            [2] = ex_sh1add_uw, [4] = ex_sh2add_uw, [6] = ex_sh3add_uw,
        };
        return t[f3];
    }
    case 0x30: return f3 == 1 ? ex_rolw : f3 == 5 ? ex_rorw : NULL;
    default: return NULL;
    }
}

/* OP-IMM (0x13), funct3 1 and 5 beyond the base shifts. */
static exec_fn dec_op_imm(uint32_t r, struct dinsn *d)
{
    unsigned f6 = r >> 26, f12 = r >> 20;
    d->imm = (int32_t)((r >> 20) & 63);
    if (FUNCT3(r) == 1) {
        switch (f12) {
        case 0x600: return ex_clz;
        case 0x601: return ex_ctz;
        case 0x602: return ex_cpop;
        case 0x604: return ex_sext_b;
        case 0x605: return ex_sext_h;
        }
        return f6 == 0x12 ? ex_bclri : f6 == 0x1a ? ex_binvi :
               f6 == 0x0a ? ex_bseti : NULL;
    }
    if (FUNCT3(r) == 5) {
        if (f12 == 0x287)
            return ex_orc_b;
        if (f12 == 0x6b8)
            return ex_rev8;
        return f6 == 0x12 ? ex_bexti : f6 == 0x18 ? ex_rori : NULL;
    }
    return NULL;
}

/* OP-IMM-32 (0x1b). */
static exec_fn dec_op_imm32(uint32_t r, struct dinsn *d)
{
    unsigned f12 = r >> 20;
    if (FUNCT3(r) == 1) {
        switch (f12) {
        case 0x600: return ex_clzw;
        case 0x601: return ex_ctzw;
        case 0x602: return ex_cpopw;
        }
        d->imm = (int32_t)((r >> 20) & 63);
        return (r >> 26) == 0x02 ? ex_slli_uw : NULL;
    }
    if (FUNCT3(r) == 5 && FUNCT7(r) == 0x30) {
        d->imm = (int32_t)((r >> 20) & 31);
        return ex_roriw;
    }
    return NULL;
}

exec_fn decode_bitmanip(uint32_t r, struct dinsn *d)
{
    switch (r & 0x7f) {
    case 0x33: return dec_op(r);
    case 0x3b: return dec_op32(r);
    case 0x13: return dec_op_imm(r, d);
    case 0x1b: return dec_op_imm32(r, d);
    default: return NULL;
    }
}
