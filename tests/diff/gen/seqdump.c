/* tests/diff/gen/seqdump.c — prints the state after each random sequence
 * (randprog.py): x1..x31, f0..f31, fcsr and a hash of the scratch buffer.
 * Random sequences never trap; a trap means a generator bug (or an emulator
 * trapping where QEMU does not), so it is printed and ends the program. */
#include "rt.h"

u64 seq_dump[65];
extern u64 seq_scratch[512];

static int seq_trap(struct rt_frame *f)
{
    rt_printf("unexpected trap cause=%lx epc=%lx tval=%lx\n", f->cause, f->epc, f->tval);
    rt_exit(3);
}

void seq_setup(void)
{
    rt_mhook = seq_trap;
}

void seq_print(long k)
{
    u64 h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 512; i++) {
        h ^= seq_scratch[i];
        h = (h << 13 | h >> 51) * 0xff51afd7ed558ccdull;
    }
    rt_printf("seq %ld fcsr=%02lx mem=%016lx\n", k, seq_dump[64], h);
    for (int i = 1; i < 32; i += 4) {
        for (int j = i; j < i + 4 && j < 32; j++)
            rt_printf("%sx%d=%016lx", j == i ? "" : " ", j, seq_dump[j]);
        rt_putc('\n');
    }
    for (int i = 0; i < 32; i += 4) {
        for (int j = i; j < i + 4; j++)
            rt_printf("%sf%d=%016lx", j == i ? "" : " ", j, seq_dump[32 + j]);
        rt_putc('\n');
    }
}
