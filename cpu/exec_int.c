/*
 * cpu/exec_int.c — handlers for RV64I computation, control transfer and
 * the M extension (unpriv spec ch. 2, 5 and 7), plus the fences.
 * Threaded-dispatch handlers (cpu/exec.h): rd is never x0 here (the
 * decoder turns it into the sink x[32]).
 */
#include <sched.h>
#include "cpu/exec.h"

#define X(r) h->x[d->r]

void ex_illegal(EXEC_ARGS)
{
    exec_sync(h, d, budget);
    hart_illegal(h, d);
}

void ex_plain(EXEC_ARGS)
{
    exec_sync(h, d, budget);
    d->fn(h, d);
}

void ex_stop(EXEC_ARGS)
{
    exec_leave(h, insn_pc(h, d), budget + 1);   /* it ran nothing */
}

EXEC_DEF2(nop)
{
    NEXT();
}

EXEC_DEF2(lui)
{
    X(rd) = (uint64_t)(int64_t)d->imm;
    NEXT();
}

/* ADDI rd, x0, imm */
EXEC_DEF2(li)
{
    X(rd) = (uint64_t)(int64_t)d->imm;
    NEXT();
}

/* ADDI rd, rs1, 0 and ADD rd, x0, rs1 (decoded with the source in rs1) */
EXEC_DEF2(mv)
{
    X(rd) = X(rs1);
    NEXT();
}

EXEC_DEF4(auipc)
{
    X(rd) = insn_pc(h, d) + (uint64_t)(int64_t)d->imm;
    NEXT();
}

#define jump_rel exec_jump_rel

EXEC_DEF2(jal)
{
    X(rd) = insn_pc(h, d) + L;
    jump_rel(h, d, budget, d->imm);
}

EXEC_DEF2(jalr)
{
    uint64_t target = (X(rs1) + (uint64_t)(int64_t)d->imm) & ~1ull;
    uint64_t page = h->fetch_va;
    X(rd) = page + d->off + L;
    if (likely((target & PAGE_MASK) == page)) {
        exec_goto(h, h->fetch_page + ((target & 0xfff) >> 1), budget);
        return;
    }
    exec_jump_far(h, target, budget);
}

#define BRANCH(def, name, cond)                                                  def(name)                                                                    {                                                                                uint64_t a = X(rs1), b = X(rs2);                                             if (cond)                                                                        jump_rel(h, d, budget, d->imm);                                          else                                                                             NEXT();                                                              }
BRANCH(EXEC_DEF2, beq, a == b)
BRANCH(EXEC_DEF2, bne, a != b)
BRANCH(EXEC_DEF4, blt, (int64_t)a < (int64_t)b)
BRANCH(EXEC_DEF4, bge, (int64_t)a >= (int64_t)b)
BRANCH(EXEC_DEF4, bltu, a < b)
BRANCH(EXEC_DEF4, bgeu, a >= b)

/* Register-immediate and register-register ALU operations: `a` is rs1,
 * `b` the immediate or rs2. */
#define ALU_IMM(def, name, expr)                                             \
    def(name)                                                                \
    {                                                                        \
        uint64_t a = X(rs1), b = (uint64_t)(int64_t)d->imm;                  \
        (void)b;                                                             \
        X(rd) = (expr);                                                      \
        NEXT();                                                              \
    }
#define ALU_REG(def, name, expr)                                             \
    def(name)                                                                \
    {                                                                        \
        uint64_t a = X(rs1), b = X(rs2);                                     \
        X(rd) = (expr);                                                      \
        NEXT();                                                              \
    }
#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))

ALU_IMM(EXEC_DEF2, addi, a + b)
ALU_IMM(EXEC_DEF4, slti, (int64_t)a < (int64_t)b)
ALU_IMM(EXEC_DEF4, sltiu, a < b)
ALU_IMM(EXEC_DEF4, xori, a ^ b)
ALU_IMM(EXEC_DEF4, ori, a | b)
ALU_IMM(EXEC_DEF2, andi, a & b)
ALU_IMM(EXEC_DEF2, slli, a << b)
ALU_IMM(EXEC_DEF2, srli, a >> b)
ALU_IMM(EXEC_DEF2, srai, (uint64_t)((int64_t)a >> b))
ALU_IMM(EXEC_DEF2, addiw, SEXT32(a + b))
ALU_IMM(EXEC_DEF4, slliw, SEXT32((uint32_t)a << b))
ALU_IMM(EXEC_DEF4, srliw, SEXT32((uint32_t)a >> b))
ALU_IMM(EXEC_DEF4, sraiw, SEXT32((int32_t)a >> b))

ALU_REG(EXEC_DEF2, add, a + b)
ALU_REG(EXEC_DEF2, sub, a - b)
ALU_REG(EXEC_DEF4, sll, a << (b & 63))
ALU_REG(EXEC_DEF4, slt, (int64_t)a < (int64_t)b)
ALU_REG(EXEC_DEF4, sltu, a < b)
ALU_REG(EXEC_DEF2, xor, a ^ b)
ALU_REG(EXEC_DEF4, srl, a >> (b & 63))
ALU_REG(EXEC_DEF4, sra, (uint64_t)((int64_t)a >> (b & 63)))
ALU_REG(EXEC_DEF2, or, a | b)
ALU_REG(EXEC_DEF2, and, a & b)
ALU_REG(EXEC_DEF2, addw, SEXT32(a + b))
ALU_REG(EXEC_DEF2, subw, SEXT32(a - b))
ALU_REG(EXEC_DEF4, sllw, SEXT32((uint32_t)a << (b & 31)))
ALU_REG(EXEC_DEF4, srlw, SEXT32((uint32_t)a >> (b & 31)))
ALU_REG(EXEC_DEF4, sraw, SEXT32((int32_t)a >> (b & 31)))

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

ALU_REG(EXEC_DEF4, mul, a * b)
ALU_REG(EXEC_DEF4, mulh, (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64))
ALU_REG(EXEC_DEF4, mulhsu, (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64))
ALU_REG(EXEC_DEF4, mulhu, (uint64_t)(((unsigned __int128)a * b) >> 64))
ALU_REG(EXEC_DEF4, div, div64((int64_t)a, (int64_t)b))
ALU_REG(EXEC_DEF4, divu, b ? a / b : ~0ull)
ALU_REG(EXEC_DEF4, rem, rem64((int64_t)a, (int64_t)b))
ALU_REG(EXEC_DEF4, remu, b ? a % b : a)
ALU_REG(EXEC_DEF4, mulw, SEXT32((uint32_t)a * (uint32_t)b))
ALU_REG(EXEC_DEF4, divw, div32((int32_t)a, (int32_t)b))
ALU_REG(EXEC_DEF4, divuw, (uint32_t)b ? SEXT32((uint32_t)a / (uint32_t)b) : ~0ull)
ALU_REG(EXEC_DEF4, remw, rem32((int32_t)a, (int32_t)b))
ALU_REG(EXEC_DEF4, remuw, (uint32_t)b ? SEXT32((uint32_t)a % (uint32_t)b) : SEXT32(a))

/* FENCE: the host (x86, TSO) only reorders a later load before an earlier
 * store, so only a fence ordering prior writes before later reads needs a
 * host fence. Other hints are no-ops, except PAUSE (Zihintpause: pred=W,
 * succ=0, rd=rs1=x0), which Linux's cpu_relax() runs in spin loops: it
 * yields the host thread, so a hart spinning on a lock lets the hart that
 * holds it run when harts outnumber host cores (-smp 4 on 2 cores). */
EXEC_DEF4(fence)
{
    unsigned pred = ((unsigned)d->imm >> 4) & 0xf, succ = (unsigned)d->imm & 0xf;
    /* bit 0 = W, bit 1 = R, bit 2 = O, bit 3 = I */
    if ((pred & 0x5) && (succ & 0xa))
        atomic_thread_fence(memory_order_seq_cst);
    if (unlikely(d->raw == 0x0100000f))      /* pause */
        sched_yield();
    NEXT();
}

/* FENCE.I and SFENCE.VMA invalidate the fetch page: plain handlers, which
 * return to the run loop. */
void ex_fence_i(struct hart *h, const struct dinsn *d)
{
    dcache_flush(h);
    h->pc += d->len;
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
    h->pc += d->len;
}
