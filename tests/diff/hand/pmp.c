/* pmp — physical memory protection for S/U: NAPOT, TOR and NA4 regions with
 * R/W/X subsets, priority of lower-numbered entries, M-mode unaffected
 * unless locked, and a locked entry (last: it stays until reset) that binds
 * M-mode and ignores further writes. */
#include "common.h"

static unsigned char pages[3][4096] __attribute__((aligned(4096)));

long p_ld(long a);
long p_sd(long a);
long p_ex(long a);
__asm__(".text\n .option push\n .option norvc\n"
        "p_ld: lw a0, 0(a0)\n ret\n"
        "p_sd: sw a0, 0(a0)\n li a0, 0x5d\n ret\n"
        "p_ex: mv t1, ra\n jalr a0\n mv ra, t1\n ret\n"
        " .option pop\n");

static int faulted;
static u64 fcause, ftval;

static int record(struct rt_frame *f)
{
    faulted = 1;
    fcause = f->cause;
    ftval = f->tval;
    if (f->cause == 1)
        f->epc = f->x[1];
    else
        f->epc += rt_insn_len(f, 0);
    return 1;
}

static void probe(const char *tag, int mode, long (*fn)(long), u64 pa)
{
    faulted = 0;
    long r = mode == RT_M ? fn((long)pa) : rt_enter(mode, fn, (long)pa, rt_lower_stack());
    if (faulted)
        rt_printf(" %s=!%lx@%lx", tag, fcause, ftval - (u64)pages);
    else
        rt_printf(" %s=%lx", tag, (u64)r);
}

static void fill(void);

static void all(const char *what)
{
    rt_printf("%s:\n", what);
    for (int m = 0; m < 3; m++) {
        int mode = m == 0 ? RT_U : m == 1 ? RT_S : RT_M;
        rt_printf(" %c", "USM"[m]);
        static const u64 offs[] = { 0, 0x1000, 0x2100, 0x2200 };
        fill();
        for (unsigned i = 0; i < 4; i++) {
            u64 pa = (u64)pages + offs[i];
            probe("lw", mode, p_ld, pa);
            probe("ex", mode, p_ex, pa);
            probe("sw", mode, p_sd, pa);    /* last: it overwrites the code */
        }
        rt_printf("\n");
    }
}

/* `li a0, 0x5a + k; ret` at every 256-byte boundary of the pages. */
static void fill(void)
{
    for (int k = 0; k < 3 * 16; k++) {
        u32 *w = (u32 *)(pages[0] + 256 * k);
        w[0] = 0x05a00513 + ((u32)k << 20);
        w[1] = 0x00008067;
    }
    __asm__ volatile("fence.i");
}

int main(void)
{
    u64 p0 = (u64)pages[0], p1 = (u64)pages[1], p2 = (u64)pages[2];
    rt_mhook = record;
    fill();
    /* 0: NAPOT 4K R; 1: TOR [p0, p1) (empty window behind 0's priority)
     * 2: TOR [p1, p2) X; 3: NA4 at p2+0x100 RW; 4: NAPOT everything RWX */
    CSR_WRITE(pmpaddr0, (p0 >> 2) | 0x1ff);
    CSR_WRITE(pmpaddr1, p1 >> 2);
    CSR_WRITE(pmpaddr2, p2 >> 2);
    CSR_WRITE(pmpaddr3, (p2 + 0x100) >> 2);
    CSR_WRITE(pmpaddr4, ~0ull);
    u64 cfg = 0x19ull | (0x0full << 8) | (0x0cull << 16) | (0x13ull << 24) | (0x1full << 32);
    CSR_WRITE(pmpcfg0, cfg);
    rt_printf("pmpcfg0=%lx\n", CSR_READ(pmpcfg0));
    all("NAPOT R / TOR X / NA4 RW / rest RWX");
    /* without the catch-all entry, S/U accesses matching nothing fail */
    CSR_WRITE(pmpcfg0, cfg & 0xffffffffull);
    CSR_WRITE(pmpaddr5, ~0ull);
    rt_printf("entry 4 off, code still reachable through entry 5 = NAPOT all RX:\n");
    CSR_WRITE(pmpcfg0, (cfg & 0xffffffffull) | (0x1dull << 40));
    all("no RW catch-all");
    CSR_WRITE(pmpcfg0, cfg);
    /* lock entry 0 (R only): M stores to it fault from now on, and entry
     * 0's cfg and address ignore writes */
    CSR_WRITE(pmpcfg0, cfg | 0x80);
    CSR_WRITE(pmpcfg0, cfg | 0x80 | 0x7);
    CSR_WRITE(pmpaddr0, 0);
    rt_printf("locked: pmpcfg0=%lx pmpaddr0-p0=%lx\n", CSR_READ(pmpcfg0),
              CSR_READ(pmpaddr0) - (p0 >> 2));
    all("entry 0 locked");
    return 0;
}
