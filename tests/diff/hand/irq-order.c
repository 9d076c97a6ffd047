/* irq-order — four M-handled interrupts pending at once (MSI, MTI, SSI,
 * STI; mideleg = 0) are taken one after the other when mstatus.MIE is set:
 * the order shows the priority. The privileged spec says MEI > MSI > MTI >
 * SEI > SSI > STI; QEMU 7.2 takes the lowest-numbered first. Isolated
 * here so that a deliberate divergence is one test. */
#include "common.h"

#define CLINT_MSIP ((volatile u32 *)0x2000000ul)
#define CLINT_MTIMECMP ((volatile u64 *)0x2004000ul)

static int hook(struct rt_frame *f)
{
    u64 c = f->cause;
    rt_printf("  irq cause=%lx\n", c);
    switch ((i64)c < 0 ? c & 0xff : 99) {
    case 3: *CLINT_MSIP = 0; break;
    case 7: *CLINT_MTIMECMP = ~0ull; break;
    case 1: CSR_CLEAR(mip, 2); break;
    case 5: CSR_CLEAR(mip, 32); break;
    default: rt_fail("unexpected trap");
    }
    return 1;
}

int main(void)
{
    rt_mhook = hook;
    *CLINT_MSIP = 1;
    *CLINT_MTIMECMP = 0;
    CSR_SET(mip, 2 | 32);
    CSR_WRITE(mie, 0x8 | 0x80 | 0x2 | 0x20);
    rt_printf("pending mip=%lx; enabling MIE:\n", CSR_READ(mip));
    CSR_SET(mstatus, MSTATUS_MIE);
    CSR_CLEAR(mstatus, MSTATUS_MIE);
    CSR_WRITE(mie, 0);
    rt_printf("mip=%lx\n", CSR_READ(mip));
    return 0;
}
