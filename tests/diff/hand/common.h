/* tests/diff/hand/common.h — helpers shared by the hand-written tests. */
#ifndef HAND_COMMON_H
#define HAND_COMMON_H
#include "../rt/rt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Interesting 64-bit integer operands. */
static const u64 ivals[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0xffffffffffffffffull, 0xfffffffffffffffeull, 0xffffffff80000000ull,
    0x123456789abcdef0ull, 31, 32, 63, 64,
};

typedef u64 (*binop_fn)(u64, u64);
struct binop { const char *name; binop_fn fn; };

#define BINOP(op) \
    static u64 op_##op(u64 a, u64 b) \
    { u64 r; __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
#define BINOP_ENT(op) { #op, op_##op }

static inline void run_binops(const struct binop *ops, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        for (unsigned i = 0; i < ARRAY_SIZE(ivals); i++) {
            rt_printf("%s %lx:", ops[k].name, ivals[i]);
            for (unsigned j = 0; j < ARRAY_SIZE(ivals); j++)
                rt_printf(" %lx", ops[k].fn(ivals[i], ivals[j]));
            rt_putc('\n');
        }
}

#endif
