/* m — the M extension over interesting operands: division by zero,
 * INT_MIN / -1 overflow, high halves, the W forms' sign extension. */
#include "common.h"

BINOP(mul) BINOP(mulh) BINOP(mulhsu) BINOP(mulhu) BINOP(div) BINOP(divu)
BINOP(rem) BINOP(remu) BINOP(mulw) BINOP(divw) BINOP(divuw) BINOP(remw)
BINOP(remuw)

static const struct binop ops[] = {
    BINOP_ENT(mul), BINOP_ENT(mulh), BINOP_ENT(mulhsu), BINOP_ENT(mulhu),
    BINOP_ENT(div), BINOP_ENT(divu), BINOP_ENT(rem), BINOP_ENT(remu),
    BINOP_ENT(mulw), BINOP_ENT(divw), BINOP_ENT(divuw), BINOP_ENT(remw),
    BINOP_ENT(remuw),
};

int main(void)
{
    run_binops(ops, ARRAY_SIZE(ops));
    /* rd aliasing a source */
    u64 a = 7;
    __asm__ volatile("mul %0, %0, %0\n div %0, %0, %1" : "+r"(a) : "r"(3ull));
    rt_printf("alias %lx\n", a);
    return 0;
}
