/* unmapped — loads and stores of every width and alignment to addresses
 * with nothing behind them (low memory and just past the end of RAM):
 * each must raise an access fault with the right tval, never crash the
 * emulator. (Found by garbage32: a misaligned sd to 0x681 crashed blkemu.) */
#include "common.h"

#define LD(op, a) __asm__ volatile(op " %0, 0(%1)" : "=r"(v) : "r"(a) : "memory")
#define ST(op, a) __asm__ volatile(op " %0, 0(%1)" :: "r"(v), "r"(a) : "memory")

int main(void)
{
    static const u64 bases[] = { 0x680, 0x88000000ull - 8, 0xfffffffffffff800ull };
    u64 v = 0;
    for (unsigned b = 0; b < ARRAY_SIZE(bases); b++)
        for (u64 off = 0; off < 8; off++) {
            u64 a = bases[b] + off;
            rt_printf("addr %lx:\n", a);
            LD("lb", a); LD("lh", a); LD("lw", a); LD("ld", a);
            ST("sb", a); ST("sh", a); ST("sw", a); ST("sd", a);
        }
    return 0;
}
