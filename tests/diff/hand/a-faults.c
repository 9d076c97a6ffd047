/* a-faults — atomics that must trap: misaligned AMO/LR/SC and atomics
 * outside RAM. QEMU 7.2 reports the AMO and LR cases as *load* faults
 * (cause 4/5, where the spec says store/AMO 6/7 for AMOs) and lets an SC
 * without a reservation fail silently without checking its address; this
 * test records what QEMU does, isolated here so that a deliberate
 * divergence shows up as one test. */
#include "common.h"

static u64 cell[2] __attribute__((aligned(16)));

int main(void)
{
    char *p = (char *)cell;
    u64 r = 0;
    rt_printf("misaligned atomics:\n");
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "+r"(r) : "r"(p + 2), "r"(1ull) : "memory");
    __asm__ volatile("amoadd.d %0, %2, (%1)" : "+r"(r) : "r"(p + 4), "r"(1ull) : "memory");
    __asm__ volatile("amoswap.d %0, %2, (%1)" : "+r"(r) : "r"(p + 1), "r"(1ull) : "memory");
    __asm__ volatile("lr.w %0, (%1)" : "+r"(r) : "r"(p + 1) : "memory");
    __asm__ volatile("lr.d %0, (%1)" : "+r"(r) : "r"(p + 4) : "memory");
    __asm__ volatile("sc.w %0, %2, (%1)" : "+r"(r) : "r"(p + 2), "r"(1ull) : "memory");
    __asm__ volatile("sc.d %0, %2, (%1)" : "+r"(r) : "r"(p + 4), "r"(1ull) : "memory");
    rt_printf("atomics outside RAM:\n");
    __asm__ volatile("amoadd.w %0, %2, (%1)" : "+r"(r) : "r"(0ull), "r"(1ull) : "memory");
    __asm__ volatile("lr.d %0, (%1)" : "+r"(r) : "r"(0x88000000ull) : "memory");
    __asm__ volatile("sc.d %0, %2, (%1)" : "+r"(r) : "r"(0x88000000ull), "r"(1ull) : "memory");
    rt_printf("r=%lx mem=%lx %lx\n", r, cell[0], cell[1]);
    return 0;
}
