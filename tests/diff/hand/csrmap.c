/* csrmap — reads all 4096 CSR numbers in M-mode and prints which exist
 * (and their reset/current value) and which raise illegal-instruction.
 * Firmware probes CSRs this way (PLATFORM.md), so the map must match QEMU.
 * Skipped: cycle/time/instret and mcycle/minstret (nondeterministic) and
 * seed (random). */
#include "common.h"

extern const u32 csrmap_table[];

__asm__(
    "    .text\n"
    "    .balign 8\n"
    "    .globl csrmap_table\n"
    "csrmap_table:\n"
    "    .option push\n"
    "    .option norvc\n"
    "    .set csrmap_n, 0\n"
    "    .rept 4096\n"
    "    csrrs a0, csrmap_n, x0\n"
    "    ret\n"
    "    .set csrmap_n, csrmap_n + 1\n"
    "    .endr\n"
    "    .option pop\n");

static int csrmap_trapped;

static int hook(struct rt_frame *f)
{
    u64 base = (u64)csrmap_table;
    if (f->epc < base || f->epc >= base + 4096 * 8)
        return 0;
    csrmap_trapped = 1;
    rt_printf(" %03lx:c=%lx,tv=%lx\n", (f->epc - base) / 8, f->cause, f->tval);
    f->epc += 4;
    return 1;
}

static int skip(unsigned n)
{
    return n == 0xc00 || n == 0xc01 || n == 0xc02 || n == 0xb00 || n == 0xb02 ||
           n == 0x015;
}

int main(void)
{
    rt_mhook = hook;
    rt_printf("existing CSRs (number=value), traps listed as they happen:\n");
    for (unsigned n = 0; n < 4096; n++) {
        if (skip(n))
            continue;
        u64 (*fn)(void) = (u64 (*)(void))((u64)csrmap_table + 8 * n);
        csrmap_trapped = 0;
        u64 v = fn();
        if (!csrmap_trapped)
            rt_printf("%03x=%lx\n", n, v);
    }
    return 0;
}
