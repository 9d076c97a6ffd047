/* hello — the runtime itself: output, an M-mode ecall, a U-mode call. */
#include "../rt/rt.h"

static long ufn(long a)
{
    return a * 3 + 1;
}

int main(void)
{
    rt_printf("hello %d %x %lx %016lx %s\n", -5, 0xabcu, 0x123456789abcdefull, 7ull, "ok");
    __asm__ volatile("ecall");
    long r = rt_enter(RT_U, ufn, 14, rt_lower_stack());
    rt_printf("U returned %ld\n", r);
    r = rt_enter(RT_S, ufn, 5, rt_lower_stack());
    rt_printf("S returned %ld\n", r);
    return 0;
}
