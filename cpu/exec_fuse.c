/*
 * cpu/exec_fuse.c — fused pairs: two adjacent instructions run by one
 * handler, one dispatch instead of two. The decode stub (decode.c) asks
 * fuse_pair() when it decodes a slot whose successor in the page is one of
 * the listed pairs (the hot ones of compiled loops: shift+add address
 * arithmetic, add+load, load+compare-branch, counter+branch, ld/sd runs).
 *
 * The first instruction keeps the slot's ordinary fields and length; the
 * second's operands are in d->b and it lives at slot d + LA/2, which keeps
 * its own (lazily decoded) handler. Whenever the fused handler cannot finish
 * the second instruction on its fast path (TLB miss, misaligned access) or
 * the batch budget ends after the first, it goes on at that slot instead, so
 * traps, instret and pc are exactly those of unfused execution. A store to
 * either instruction's bytes resets the first slot too (dcache_store).
 */
#include "cpu/exec.h"

#define SEXT32(v) ((uint64_t)(int64_t)(int32_t)(uint32_t)(v))
#define SIMM(i) ((uint64_t)(int64_t)(i))

/* ALU operations: a = x[rs1], b = x[rs2], i = imm. */
#define ALU_add(a, b, i)   ((a) + (b))
#define ALU_sub(a, b, i)   ((a) - (b))
#define ALU_and(a, b, i)   ((a) & (b))
#define ALU_or(a, b, i)    ((a) | (b))
#define ALU_xor(a, b, i)   ((a) ^ (b))
#define ALU_addw(a, b, i)  SEXT32((a) + (b))
#define ALU_addi(a, b, i)  ((a) + SIMM(i))
#define ALU_addiw(a, b, i) SEXT32((a) + SIMM(i))
#define ALU_andi(a, b, i)  ((a) & SIMM(i))
#define ALU_slli(a, b, i)  ((a) << (i))
#define ALU_srli(a, b, i)  ((a) >> (i))
#define ALU_slliw(a, b, i) SEXT32((uint32_t)(a) << (i))
#define ALU_srliw(a, b, i) SEXT32((uint32_t)(a) >> (i))
#define ALU_li(a, b, i)    SIMM(i)
#define ALU_mv(a, b, i)    (a)

/* Loads: size, signed. */
#define LD_lbu 1, false
#define LD_lhu 2, false
#define LD_lw  4, true
#define LD_ld  8, true
/* Stores: size. */
#define ST_sw 4
#define ST_sd 8
/* Branch conditions. */
#define BR_beq(a, b)  ((a) == (b))
#define BR_bne(a, b)  ((a) != (b))
#define BR_bltu(a, b) ((a) < (b))
#define BR_bgeu(a, b) ((a) >= (b))

/* The 2-byte twins (NULL: no compressed form). */
#define C_add   ex_add_c
#define C_sub   ex_sub_c
#define C_and   ex_and_c
#define C_or    ex_or_c
#define C_xor   ex_xor_c
#define C_addw  ex_addw_c
#define C_addi  ex_addi_c
#define C_addiw ex_addiw_c
#define C_andi  ex_andi_c
#define C_slli  ex_slli_c
#define C_srli  ex_srli_c
#define C_slliw NULL
#define C_srliw NULL
#define C_li    ex_li_c
#define C_mv    ex_mv_c
#define C_lbu   NULL
#define C_lhu   NULL
#define C_lw    ex_lw_c
#define C_ld    ex_ld_c
#define C_sw    ex_sw_c
#define C_sd    ex_sd_c
#define C_beq   ex_beq_c
#define C_bne   ex_bne_c
#define C_bltu  NULL
#define C_bgeu  NULL

static inline __attribute__((always_inline)) bool
fast_load(struct hart *h, unsigned rd, uint64_t va, unsigned size, bool sign)
{
    const struct tlb_entry *e =
        TLB_FIND(TLB_SET(h->dtlb, va), tag_r, va & (PAGE_MASK | (size - 1)));
    if (unlikely(e == NULL))
        return false;
    uint64_t v = mem_host_load((const void *)(uintptr_t)(va + e->addend), size);
    if (sign && size < 8)
        v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
    h->x[rd] = v;
    return true;
}

static inline __attribute__((always_inline)) bool
fast_store(struct hart *h, uint64_t va, unsigned size, uint64_t v)
{
    const struct tlb_entry *e =
        TLB_FIND(TLB_SET(h->dtlb, va), tag_w, va & (PAGE_MASK | (size - 1)));
    if (unlikely(e == NULL))
        return false;
    mem_host_store((void *)(uintptr_t)(va + e->addend), size, v);
    return true;
}

/* The first instruction; returns from the handler when that is all
 * (slow path taken: it chains on by itself; branch taken). */
#define FIRST_A(op, LA) \
    h->x[d->rd] = ALU_##op(h->x[d->rs1], h->x[d->rs2], d->imm);
#define FIRST_L(op, LA)                                                      \
    {                                                                        \
        uint64_t va_ = h->x[d->rs1] + SIMM(d->imm);                          \
        if (unlikely(!fast_load(h, d->rd, va_, LD_##op))) {                  \
            exec_load_slow(h, d, budget, va_, LD_##op);                      \
            return;                                                          \
        }                                                                    \
    }
#define FIRST_S(op, LA)                                                      \
    {                                                                        \
        uint64_t va_ = h->x[d->rs1] + SIMM(d->imm);                          \
        if (unlikely(!fast_store(h, va_, ST_##op, h->x[d->rs2]))) {          \
            exec_store_slow(h, d, budget, va_, ST_##op);                     \
            return;                                                          \
        }                                                                    \
    }
#define FIRST_B(op, LA)                                                      \
    if (BR_##op(h->x[d->rs1], h->x[d->rs2])) {                               \
        exec_jump_rel(h, d, budget, d->imm);                                 \
        return;                                                              \
    }

/* The second instruction, with the budget already checked (> 0). */
#define SECOND_A(op, LA, LB)                                                 \
    h->x[d->b.rd] = ALU_##op(h->x[d->b.rs1], h->x[d->b.rs2], d->b.imm);      \
    exec_goto(h, d + (LA + LB) / 2, budget - 1);
#define SECOND_L(op, LA, LB)                                                 \
    if (likely(fast_load(h, d->b.rd, h->x[d->b.rs1] + SIMM(d->b.imm), LD_##op))) \
        exec_goto(h, d + (LA + LB) / 2, budget - 1);                         \
    else                                                                     \
        exec_goto(h, d + LA / 2, budget);
#define SECOND_S(op, LA, LB)                                                 \
    if (likely(fast_store(h, h->x[d->b.rs1] + SIMM(d->b.imm), ST_##op,       \
                          h->x[d->b.rs2])))                                  \
        exec_goto(h, d + (LA + LB) / 2, budget - 1);                         \
    else                                                                     \
        exec_goto(h, d + LA / 2, budget);
#define SECOND_B(op, LA, LB)                                                 \
    if (BR_##op(h->x[d->b.rs1], h->x[d->b.rs2]))                             \
        exec_jump_rel_at(h, d, LA, budget - 1, d->b.imm);                    \
    else                                                                     \
        exec_goto(h, d + (LA + LB) / 2, budget - 1);

#define FUSED1(ka, a, kb, b, LA, LB)                                         \
    static void ex_f_##a##_##b##_##LA##LB(EXEC_ARGS)                         \
    {                                                                        \
        FIRST_##ka(a, LA)                                                    \
        if (unlikely(budget <= 0)) {                                         \
            exec_goto(h, d + LA / 2, budget);                                \
            return;                                                          \
        }                                                                    \
        SECOND_##kb(b, LA, LB)                                               \
    }
#define FUSED(ka, a, kb, b)                                                  \
    FUSED1(ka, a, kb, b, 4, 4) FUSED1(ka, a, kb, b, 4, 2)                    \
    FUSED1(ka, a, kb, b, 2, 4) FUSED1(ka, a, kb, b, 2, 2)

/* The pairs: kind (A = ALU, L = load, S = store, B = branch) and name. */
#define FUSED_PAIRS(X)                                                       \
    X(A, slli, A, add)  X(A, and, A, slli)  X(A, add, A, add)                \
    X(A, srli, A, add)  X(A, slli, A, srli) X(A, slliw, A, srliw)            \
    X(A, srliw, A, or)  X(A, xor, A, addw)  X(A, addw, A, addw)              \
    X(A, addi, A, addi) X(A, mv, A, mv)     X(A, li, A, mv)                  \
    X(A, add, L, lhu)   X(A, add, L, lbu)   X(A, add, L, lw)                 \
    X(A, add, L, ld)    X(A, addw, L, lw)   X(A, addi, L, ld)                \
    X(L, lbu, B, bne)   X(L, lhu, B, bgeu)  X(L, lbu, B, beq)                \
    X(A, addiw, B, bne) X(A, addi, B, bne)  X(A, li, B, bgeu)                \
    X(A, mv, B, bgeu)   X(A, andi, B, bne)  X(A, addi, B, bltu)              \
    X(B, bgeu, A, addiw) X(B, bne, L, lbu)                                   \
    X(L, ld, L, ld)     X(L, lbu, L, lbu)   X(L, lw, L, lw)                  \
    X(L, lbu, L, lw)    X(L, ld, A, addi)   X(L, lw, A, addw)                \
    X(S, sd, S, sd)     X(S, sw, S, sw)     X(A, addi, S, sd)                \
    X(A, addiw, S, sw)

FUSED_PAIRS(FUSED)

struct fuse_entry {
    exec_fn a4, a2, b4, b2;
    exec_fn f[4];           /* [LA == 2][LB == 2] */
};

#define FUSE_ENTRY(ka, a, kb, b)                                             \
    { ex_##a, C_##a, ex_##b, C_##b,                                          \
      { ex_f_##a##_##b##_44, ex_f_##a##_##b##_42,                            \
        ex_f_##a##_##b##_24, ex_f_##a##_##b##_22 } },
static const struct fuse_entry fuse_table[] = { FUSED_PAIRS(FUSE_ENTRY) };

exec_fn fuse_pair(const struct dinsn *a, const struct dinsn *b)
{
    for (unsigned i = 0; i < sizeof fuse_table / sizeof fuse_table[0]; i++) {
        const struct fuse_entry *e = &fuse_table[i];
        if ((a->run == e->a4 || (e->a2 && a->run == e->a2)) &&
            (b->run == e->b4 || (e->b2 && b->run == e->b2)))
            return e->f[(a->len == 2) * 2 + (b->len == 2)];
    }
    return NULL;
}
