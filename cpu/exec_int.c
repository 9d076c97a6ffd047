/*
 * cpu/exec_int.c — handlers for RV64I computation, control transfer and
 * the M extension (unpriv spec ch. 2, 5 and 7), plus the fences.
 * Every handler either advances pc by d->len or jumps; x[0] may be written
 * here: the run loop re-zeroes it after each instruction.
 */
#include "cpu/exec.h"

#define X(r) h->x[d->r]
#define NEXT() (h->pc += d->len)

void ex_illegal(struct hart *h, const struct dinsn *d)
{
    hart_illegal(h, d);
}

void ex_nop(struct hart *h, const struct dinsn *d)
{
    NEXT();
}

void ex_lui(struct hart *h, const struct dinsn *d)
{
    X(rd) = (uint64_t)(int64_t)d->imm;
    NEXT();
}

void ex_auipc(struct hart *h, const struct dinsn *d)
{
    X(rd) = h->pc + (uint64_t)(int64_t)d->imm;
    NEXT();
}

void ex_jal(struct hart *h, const struct dinsn *d)
{
    uint64_t link = h->pc + d->len;
    h->pc += (uint64_t)(int64_t)d->imm;
    X(rd) = link;
}

void ex_jalr(struct hart *h, const struct dinsn *d)
{
    uint64_t target = (X(rs1) + (uint64_t)(int64_t)d->imm) & ~1ull;
    X(rd) = h->pc + d->len;
    h->pc = target;
}

#define BRANCH(name, cond)                                                   \
    void ex_##name(struct hart *h, const struct dinsn *d)                    \
    {                                                                        \
        uint64_t a = X(rs1), b = X(rs2);                                     \
        (void)a; (void)b;                                                    \
        h->pc += (cond) ? (uint64_t)(int64_t)d->imm : d->len;                \
    }
BRANCH(beq, a == b)
BRANCH(bne, a != b)
BRANCH(blt, (int64_t)a < (int64_t)b)
BRANCH(bge, (int64_t)a >= (int64_t)b)
BRANCH(bltu, a < b)
BRANCH(bgeu, a >= b)

/* Register-immediate and register-register ALU operations: `a` is rs1,
 * `b` the immediate or rs2. */
#define ALU_IMM(name, expr)                                                  \
    void ex_##name(struct hart *h, const struct dinsn *d)                    \
    {                                                                        \
        uint64_t a = X(rs1), b = (uint64_t)(int64_t)d->imm;                  \
        (void)b;                                                             \
        X(rd) = (expr);                                                      \
        NEXT();                                                              \
    }
#define ALU_REG(name, expr)                                                  \
    void ex_##name(struct hart *h, const struct dinsn *d)                    \
    {                                                                        \
        uint64_t a = X(rs1), b = X(rs2);                                     \
        X(rd) = (expr);                                                      \
        NEXT();                                                              \
    }
#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))

ALU_IMM(addi, a + b)
ALU_IMM(slti, (int64_t)a < (int64_t)b)
ALU_IMM(sltiu, a < b)
ALU_IMM(xori, a ^ b)
ALU_IMM(ori, a | b)
ALU_IMM(andi, a & b)
ALU_IMM(slli, a << b)
ALU_IMM(srli, a >> b)
ALU_IMM(srai, (uint64_t)((int64_t)a >> b))
ALU_IMM(addiw, SEXT32(a + b))
ALU_IMM(slliw, SEXT32((uint32_t)a << b))
ALU_IMM(srliw, SEXT32((uint32_t)a >> b))
ALU_IMM(sraiw, SEXT32((int32_t)a >> b))

ALU_REG(add, a + b)
ALU_REG(sub, a - b)
ALU_REG(sll, a << (b & 63))
ALU_REG(slt, (int64_t)a < (int64_t)b)
ALU_REG(sltu, a < b)
ALU_REG(xor, a ^ b)
ALU_REG(srl, a >> (b & 63))
ALU_REG(sra, (uint64_t)((int64_t)a >> (b & 63)))
ALU_REG(or, a | b)
ALU_REG(and, a & b)
ALU_REG(addw, SEXT32(a + b))
ALU_REG(subw, SEXT32(a - b))
ALU_REG(sllw, SEXT32((uint32_t)a << (b & 31)))
ALU_REG(srlw, SEXT32((uint32_t)a >> (b & 31)))
ALU_REG(sraw, SEXT32((int32_t)a >> (b & 31)))

/* M extension (unpriv spec §7.2): division by zero gives all ones (DIV[U])
 * or the dividend (REM[U]); the signed overflow MIN / -1 gives MIN and 0. */
static uint64_t div64(int64_t a, int64_t b)
{
    if (b == 0)
        return ~0ull;
    if (a == INT64_MIN && b == -1)
        return (uint64_t)a;
    return (uint64_t)(a / b);
}

static uint64_t rem64(int64_t a, int64_t b)
{
    if (b == 0)
        return (uint64_t)a;
    if (a == INT64_MIN && b == -1)
        return 0;
    return (uint64_t)(a % b);
}

static uint64_t div32(int32_t a, int32_t b)
{
    if (b == 0)
        return ~0ull;
    if (a == INT32_MIN && b == -1)
        return SEXT32(a);
    return SEXT32(a / b);
}

static uint64_t rem32(int32_t a, int32_t b)
{
    if (b == 0)
        return SEXT32(a);
    if (a == INT32_MIN && b == -1)
        return 0;
    return SEXT32(a % b);
}

ALU_REG(mul, a * b)
ALU_REG(mulh, (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64))
ALU_REG(mulhsu, (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64))
ALU_REG(mulhu, (uint64_t)(((unsigned __int128)a * b) >> 64))
ALU_REG(div, div64((int64_t)a, (int64_t)b))
ALU_REG(divu, b ? a / b : ~0ull)
ALU_REG(rem, rem64((int64_t)a, (int64_t)b))
ALU_REG(remu, b ? a % b : a)
ALU_REG(mulw, SEXT32((uint32_t)a * (uint32_t)b))
ALU_REG(divw, div32((int32_t)a, (int32_t)b))
ALU_REG(divuw, (uint32_t)b ? SEXT32((uint32_t)a / (uint32_t)b) : ~0ull)
ALU_REG(remw, rem32((int32_t)a, (int32_t)b))
ALU_REG(remuw, (uint32_t)b ? SEXT32((uint32_t)a % (uint32_t)b) : SEXT32(a))

/* FENCE: the host (x86, TSO) only reorders a later load before an earlier
 * store, so only a fence ordering prior writes before later reads needs a
 * host fence. PAUSE (pred=W, succ=0) and other hints are no-ops. */
void ex_fence(struct hart *h, const struct dinsn *d)
{
    unsigned pred = ((unsigned)d->imm >> 4) & 0xf, succ = (unsigned)d->imm & 0xf;
    /* bit 0 = W, bit 1 = R, bit 2 = O, bit 3 = I */
    if ((pred & 0x5) && (succ & 0xa))
        atomic_thread_fence(memory_order_seq_cst);
    NEXT();
}

void ex_fence_i(struct hart *h, const struct dinsn *d)
{
    dcache_flush(h);
    NEXT();
}

/* SFENCE.VMA (priv spec §4.2.1): illegal in U-mode and, with mstatus.TVM,
 * in S-mode. We flush by address when rs1 != x0 (any ASID), else all. */
void ex_sfence_vma(struct hart *h, const struct dinsn *d)
{
    if (h->priv == PRV_U ||
        (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))) {
        hart_illegal(h, d);
        return;
    }
    if (d->rs1)
        mmu_flush_va(h, X(rs1));
    else
        mmu_flush_all(h);
    NEXT();
}
