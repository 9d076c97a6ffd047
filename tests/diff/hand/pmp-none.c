/* pmp-none — S/U with no PMP entry configured. The spec says every S/U
 * access then fails (the first fetch: an instruction access fault); QEMU
 * 7.2 instead raises illegal-instruction on the mret itself. Kept apart so
 * that a deliberate divergence is one test. */
#include "common.h"

static long nop(long a)
{
    return a + 1;
}

/* Whatever the first trap is, it ends the test (a fetch fault in U would
 * repeat forever). */
static int hook(struct rt_frame *f)
{
    rt_printf("trap cause=%lx tval=%lx epc-nop=%lx from=%lx\n", f->cause,
              f->tval, f->epc - (u64)nop, f->status >> 11 & 3);
    rt_exit(0);
}

int main(void)
{
    CSR_WRITE(pmpcfg0, 0);
    rt_printf("pmpcfg0=%lx\n", CSR_READ(pmpcfg0));
    rt_mhook = hook;
    rt_enter(RT_U, nop, 1, rt_lower_stack());
    rt_printf("no trap\n");
    return 0;
}
