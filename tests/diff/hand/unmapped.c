/* unmapped — loads and stores of every width and alignment to addresses
 * with nothing behind them (low memory and just past the end of RAM):
 * each must raise an access fault with the right tval, never crash the
 * emulator. (Found by garbage32: a misaligned sd to 0x681 crashed blkemu.)
 * A trap prints as "WORD: trap cause=C tval=T epc=E", the format run.py's
 * known-deviation filter reads: for a misaligned load whose first aligned
 * half faults QEMU 7.2 reports the aligned address below the access. */
#include "common.h"

#define LD(op, a) __asm__ volatile(op " %0, 0(%1)" : "=r"(v) : "r"(a) : "memory")
#define ST(op, a) __asm__ volatile(op " %0, 0(%1)" :: "r"(v), "r"(a) : "memory")

static int trap(struct rt_frame *f)
{
    if ((i64)f->cause < 0)
        return 0;
    u32 w = *(const volatile unsigned short *)f->epc;
    int len = (w & 3) == 3 ? 4 : 2;
    if (len == 4) {
        w |= (u32)*(const volatile unsigned short *)(f->epc + 2) << 16;
        rt_printf("  %08x: trap cause=%lx tval=%lx epc=%lx\n", w, f->cause,
                  f->tval, f->epc);
    } else {
        rt_printf("  %04x: trap cause=%lx tval=%lx epc=%lx\n", w, f->cause,
                  f->tval, f->epc);
    }
    f->epc += len;
    return 1;
}

int main(void)
{
    static const u64 bases[] = { 0x680, 0x88000000ull - 8, 0xfffffffffffff800ull };
    u64 v = 0;
    rt_mhook = trap;
    for (unsigned b = 0; b < ARRAY_SIZE(bases); b++)
        for (u64 off = 0; off < 8; off++) {
            u64 a = bases[b] + off;
            rt_printf("addr %lx:\n", a);
            LD("lb", a); LD("lh", a); LD("lw", a); LD("ld", a);
            ST("sb", a); ST("sh", a); ST("sw", a); ST("sd", a);
        }
    rt_mhook = 0;
    return 0;
}
