/* a-faults — atomics that must trap: misaligned AMO/LR/SC, atomics outside
 * RAM, and (from S mode, Sv39) atomics on read-only, invalid, user and
 * outside-RAM pages; and atomics on devices and the boot ROM, which QEMU
 * 7.2 performs as a read and a write.
 *
 * Every case prints "<case> <word>: trap cause=C tval=T epc=+0" or
 * "<case> <word>: x10=V" (V = a0 after it), the line format run.py's
 * known-deviation filter reads: QEMU 7.2 reports AMO faults as *load*
 * faults and lets a misaligned SC without a reservation fail silently,
 * where the spec asks for store/AMO faults (docs/testing-cpu.md). */
#include "common.h"

#define V 0x1ull
#define R 0x2ull
#define W 0x4ull
#define X 0x8ull
#define U 0x10ull
#define A 0x40ull
#define D 0x80ull
#define PTE(pa, fl) ((((u64)(pa)) >> 12 << 10) | (fl))
#define TVA 0xc0000000ull

static u64 cell[2] __attribute__((aligned(16)));
static u64 pt[3][512] __attribute__((aligned(4096)));
static u64 pages[2][512] __attribute__((aligned(4096)));

/* Each fn takes the address in a0 and returns a0; fn_i labels the atomic
 * whose word is printed. a1 = 1 is the AMO/SC source. */
#define AFN(name, pre, insn)                                                 \
    "    .globl " #name "\n" #name ":\n    li a1, 1\n" pre                   \
    "    .globl " #name "_i\n" #name "_i: " insn "\n    ret\n"
__asm__(".text\n .option push\n .option norvc\n"
        AFN(f_amoadd_w, "", "amoadd.w a0, a1, (a0)")
        AFN(f_amoadd_d, "", "amoadd.d a0, a1, (a0)")
        AFN(f_amoswap_d, "", "amoswap.d.aqrl a0, a1, (a0)")
        AFN(f_amomaxu_w, "", "amomaxu.w a0, a1, (a0)")
        AFN(f_amomin_d, "", "amomin.d a0, a1, (a0)")
        AFN(f_lr_w, "", "lr.w a0, (a0)")
        AFN(f_lr_d, "", "lr.d a0, (a0)")
        AFN(f_sc_w, "", "sc.w a0, a1, (a0)")
        AFN(f_sc_d, "", "sc.d a0, a1, (a0)")
        /* a reservation on the aligned word below, then a misaligned SC */
        AFN(f_lr_sc_w, "    andi t0, a0, -8\n    lr.w t0, (t0)\n",
            "sc.w a0, a1, (a0)")
        /* a reservation on the same word, then SC: succeeds */
        AFN(f_lr_sc_ok, "    lr.w t0, (a0)\n", "sc.w a0, a1, (a0)")
        " .option pop\n");

typedef long (*afn)(long);
#define DECL(n) long n(long); extern const u32 n##_i[];
DECL(f_amoadd_w) DECL(f_amoadd_d) DECL(f_amoswap_d) DECL(f_amomaxu_w)
DECL(f_amomin_d) DECL(f_lr_w) DECL(f_lr_d) DECL(f_sc_w) DECL(f_sc_d)
DECL(f_lr_sc_w) DECL(f_lr_sc_ok)

static int trapped;
static u64 tcause, ttval;

static int record(struct rt_frame *f)
{
    if ((i64)f->cause < 0)
        return 0;
    trapped = 1;
    tcause = f->cause;
    ttval = f->tval;
    f->epc += 4;
    return 1;
}

static void run(const char *what, int mode, afn fn, const u32 *insn, u64 addr)
{
    trapped = 0;
    long r = mode == RT_M ? fn((long)addr)
                          : rt_enter(mode, fn, (long)addr, rt_lower_stack());
    rt_printf("%s %08x:", what, *insn);
    if (trapped)
        rt_printf(" trap cause=%lx tval=%lx epc=+0\n", tcause, ttval);
    else
        rt_printf(" x10=%lx\n", (u64)r);
}
#define RUN(what, mode, f, addr) run(what, mode, f, f##_i, addr)

static void machine_mode(void)
{
    u64 p = (u64)cell;
    RUN("misaligned", RT_M, f_amoadd_w, p + 2);
    RUN("misaligned", RT_M, f_amoadd_d, p + 4);
    RUN("misaligned", RT_M, f_amoswap_d, p + 1);
    RUN("misaligned", RT_M, f_amomaxu_w, p + 1);
    RUN("misaligned", RT_M, f_amomin_d, p + 6);
    RUN("misaligned", RT_M, f_lr_w, p + 1);
    RUN("misaligned", RT_M, f_lr_d, p + 4);
    RUN("misaligned", RT_M, f_sc_w, p + 2);
    RUN("misaligned", RT_M, f_sc_d, p + 4);
    RUN("misaligned after lr", RT_M, f_lr_sc_w, p + 1);
    RUN("outside RAM", RT_M, f_amoadd_w, 0);
    RUN("outside RAM", RT_M, f_amoswap_d, 0x88000000ull);
    RUN("outside RAM", RT_M, f_lr_d, 0x88000000ull);
    RUN("outside RAM", RT_M, f_sc_d, 0x88000000ull);
    RUN("misaligned outside RAM", RT_M, f_amoadd_w, 2);
    rt_printf("mem=%lx %lx\n", cell[0], cell[1]);
}

/* PLIC source 1 priority (32-bit, 3 bits wide), CLINT mtimecmp (64-bit),
 * the boot ROM (stores ignored). */
#define PLIC_PRIO1 0x0c000004ull
#define MTIMECMP 0x02004000ull
static void devices(void)
{
    *(volatile u32 *)PLIC_PRIO1 = 5;
    RUN("device", RT_M, f_amoadd_w, PLIC_PRIO1);
    RUN("device", RT_M, f_amoswap_d, MTIMECMP);
    RUN("device", RT_M, f_amoswap_d, MTIMECMP);
    RUN("device", RT_M, f_amomaxu_w, PLIC_PRIO1);
    RUN("device", RT_M, f_amomin_d, MTIMECMP);
    RUN("device", RT_M, f_lr_w, PLIC_PRIO1);
    RUN("device", RT_M, f_lr_sc_ok, PLIC_PRIO1);
    RUN("device", RT_M, f_sc_w, PLIC_PRIO1);
    rt_printf("prio1=%x\n", *(volatile u32 *)PLIC_PRIO1);
    *(volatile u32 *)PLIC_PRIO1 = 0;
    *(volatile u64 *)MTIMECMP = ~0ull;
    RUN("rom", RT_M, f_amoadd_w, 0x1000);
    RUN("rom", RT_M, f_lr_d, 0x1000);
    RUN("rom", RT_M, f_lr_w, 0x1000);
    RUN("rom", RT_M, f_amoadd_w, 0x1000);
}

/* Sv39: VA 0x8000_0000 +1G identity (S code, data, stacks); TVA: the L0
 * table below. */
static void supervisor_mode(void)
{
    pt[0][2] = PTE(0x80000000ull, V | R | W | X | A | D);
    pt[0][3] = PTE(pt[1], V);
    pt[1][0] = PTE(pt[2], V);
    pt[2][0] = PTE(pages[0], V | R | W);                /* A/D clear */
    pt[2][1] = PTE(pages[1], V | R | A | D);            /* read-only */
    pt[2][2] = 0;                                       /* invalid */
    pt[2][3] = PTE(pages[1], V | R | W | U | A | D);    /* user */
    pt[2][4] = PTE(0x88000000ull, V | R | W | A | D);   /* outside RAM */
    pages[0][0] = 40;
    pages[1][0] = 41;
    CSR_WRITE(satp, 8ull << 60 | (u64)pt[0] >> 12);
    __asm__ volatile("sfence.vma" ::: "memory");
    RUN("S rw", RT_S, f_amoadd_d, TVA);
    rt_printf("pte A/D=%lx mem=%lx\n", pt[2][0] & (A | D), pages[0][0]);
    RUN("S misaligned", RT_S, f_amoadd_d, TVA + 4);
    RUN("S read-only", RT_S, f_amoadd_d, TVA + 0x1000);
    RUN("S read-only", RT_S, f_amoswap_d, TVA + 0x1000);
    RUN("S read-only", RT_S, f_lr_d, TVA + 0x1000);
    RUN("S read-only", RT_S, f_sc_d, TVA + 0x1000);
    RUN("S invalid", RT_S, f_amoadd_w, TVA + 0x2000);
    RUN("S invalid", RT_S, f_lr_w, TVA + 0x2000);
    RUN("S invalid", RT_S, f_sc_w, TVA + 0x2000);
    RUN("S invalid misaligned", RT_S, f_amoadd_w, TVA + 0x2001);
    RUN("S user", RT_S, f_amomaxu_w, TVA + 0x3000);
    RUN("S outside RAM", RT_S, f_amoadd_d, TVA + 0x4000);
    RUN("S outside RAM", RT_S, f_lr_d, TVA + 0x4000);
    rt_printf("mem=%lx\n", pages[1][0]);
    CSR_WRITE(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
}

int main(void)
{
    rt_mhook = record;
    machine_mode();
    devices();
    supervisor_mode();
    rt_mhook = 0;
    return 0;
}
