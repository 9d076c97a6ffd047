/* traps — ecall/ebreak from M, S and U; privileged instructions in the
 * wrong mode and with TSR/TW/TVM; delegation of exceptions and interrupts
 * to S; the mstatus stack (MPP/MPIE/SPP/SPIE); vectored mtvec and the
 * interrupt priority order; access faults; misaligned plain accesses
 * (which QEMU 7.2 performs without trapping). */
#include "common.h"

#define CLINT_MSIP ((volatile u32 *)0x2000000ul)
#define CLINT_MTIMECMP ((volatile u64 *)0x2004000ul)

/* Lower-mode probes: each is a few instructions with no stack use. */
#define PROBE(name, body) \
    long name(long a); \
    __asm__(".text\n .globl " #name "\n" #name ":\n" body "\n ret\n")

PROBE(p_ecall, "li a7, 0\n ecall\n li a0, 1");
PROBE(p_ebreak, "ebreak\n c.ebreak\n li a0, 2");
PROBE(p_mret, "mret\n li a0, 3");
PROBE(p_sret, "sret\n li a0, 4");
PROBE(p_wfi, "wfi\n li a0, 5");
PROBE(p_sfence, "sfence.vma\n sfence.vma a0, a0\n li a0, 6");
PROBE(p_mcsr, "csrr a0, mstatus\n csrw mscratch, a0\n csrr a0, mhartid\n li a0, 7");
PROBE(p_scsr, "csrr a0, sstatus\n csrr a0, satp\n csrw satp, x0\n li a0, 8");
PROBE(p_counters, "csrr a0, cycle\n csrr a0, time\n csrr a0, instret\n li a0, 9");
PROBE(p_illegal, ".word 0\n .word 0xffffffff\n .2byte 0\n li a0, 10");
PROBE(p_status, "csrr a0, sstatus");
PROBE(p_nop, "li a0, 11");
PROBE(p_setssip, "csrsi sip, 2\n li a0, 12");

static int print_status_hook(struct rt_frame *f)
{
    u64 s = f->status;
    rt_printf("  mtrap cause=%lx tval=%lx MPP=%lx MPIE=%lx MIE=%lx SPP=%lx SPIE=%lx SIE=%lx\n",
              f->cause, f->tval, s >> 11 & 3, s >> 7 & 1, s >> 3 & 1, s >> 8 & 1,
              s >> 5 & 1, s >> 1 & 1);
    f->epc += rt_insn_len(f, 0);
    return 1;
}

static void run(const char *what, int mode, long (*fn)(long))
{
    rt_printf("%s in %s:\n", what, mode == RT_U ? "U" : mode == RT_S ? "S" : "M");
    long r = mode == RT_M ? fn(0) : rt_enter(mode, fn, 0, rt_lower_stack());
    rt_printf(" -> %lx\n", (u64)r);
}

static void modes(void)
{
    static const int ms[] = { RT_M, RT_S, RT_U };
    for (int i = 0; i < 3; i++) {
        run("ecall", ms[i], p_ecall);
        run("ebreak", ms[i], p_ebreak);
        run("illegal words", ms[i], p_illegal);
        if (ms[i] != RT_M) {
            run("mret", ms[i], p_mret);
            run("sfence.vma", ms[i], p_sfence);
            run("M CSRs", ms[i], p_mcsr);
            run("S CSRs", ms[i], p_scsr);
            run("counters (mcounteren=0)", ms[i], p_counters);
        }
    }
    run("sret", RT_U, p_sret);
    run("wfi", RT_U, p_wfi);
    /* TSR, TW, TVM make sret, wfi, sfence.vma and satp illegal in S */
    CSR_SET(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    run("sret with TSR", RT_S, p_sret);
    run("wfi with TW", RT_S, p_wfi);
    run("sfence.vma with TVM", RT_S, p_sfence);
    run("satp with TVM", RT_S, p_scsr);
    CSR_CLEAR(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    /* counters with mcounteren/scounteren: cycle/time/instret reads trap or
     * not (values are not printed: only the traps matter) */
    CSR_WRITE(mcounteren, 7);
    run("counters (mcounteren=7)", RT_S, p_counters);
    run("counters (mcounteren=7, scounteren=0)", RT_U, p_counters);
    CSR_WRITE(scounteren, 5);
    run("counters (mcounteren=7, scounteren=5)", RT_U, p_counters);
    CSR_WRITE(mcounteren, 0);
    CSR_WRITE(scounteren, 0);
}

static void status_stack(void)
{
    rt_printf("mstatus stack on traps from each mode:\n");
    rt_mhook = print_status_hook;
    CSR_SET(mstatus, MSTATUS_MIE);      /* no interrupt is enabled in mie */
    __asm__ volatile(".option push\n .option norvc\n ebreak\n .option pop");
    CSR_CLEAR(mstatus, MSTATUS_MIE);
    CSR_SET(mstatus, MSTATUS_SIE | MSTATUS_SPIE);
    rt_enter(RT_S, p_ebreak, 0, rt_lower_stack());
    rt_enter(RT_U, p_ebreak, 0, rt_lower_stack());
    rt_mhook = 0;
    CSR_CLEAR(mstatus, MSTATUS_SIE | MSTATUS_SPIE);
    rt_printf("mstatus after mret to S, read there: %lx\n",
              (u64)rt_enter(RT_S, p_status, 0, rt_lower_stack()) & 0x1aa);
}

static void delegation(void)
{
    rt_printf("medeleg = illegal, breakpoint, ecall-U, faults:\n");
    CSR_WRITE(medeleg, (1 << 2) | (1 << 3) | (1 << 8) | (1 << 5) | (1 << 7));
    run("ecall", RT_U, p_ecall);
    run("ebreak", RT_U, p_ebreak);
    run("ebreak", RT_S, p_ebreak);
    run("illegal words", RT_S, p_illegal);
    run("ecall (not delegated from S)", RT_S, p_ecall);
    run("ebreak (never delegated from M)", RT_M, p_ebreak);
    rt_printf("mcause/scause after: %lx %lx\n", CSR_READ(mcause), CSR_READ(scause));
    CSR_WRITE(medeleg, 0);
}

/* Interrupts: which vector slot took them, in which order. */
extern char vec_table[];
__asm__(".text\n .balign 256\n .globl vec_table\nvec_table:\n"
        ".option push\n .option norvc\n"
        ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n j vec_\\n\n .endr\n"
        ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "vec_\\n: csrwi sscratch, \\n\n j rt_mtrap_entry\n .endr\n"
        ".option pop\n");

static u64 irq_label;

static int irq_hook(struct rt_frame *f)
{
    u64 c = f->cause;
    rt_printf("  irq cause=%lx slot=%lx epc-label=%lx MPP=%lx\n", c, CSR_READ(sscratch),
              f->epc - irq_label, f->status >> 11 & 3);
    if ((i64)c >= 0) {
        f->epc += rt_insn_len(f, 0);
        return 1;
    }
    switch (c & 0xff) {
    case 3: *CLINT_MSIP = 0; break;
    case 7: *CLINT_MTIMECMP = ~0ull; break;
    case 1: CSR_CLEAR(mip, 2); break;
    case 5: CSR_CLEAR(mip, 32); break;
    default: rt_fail("unexpected interrupt");
    }
    return 1;
}

static int sirq_hook(struct rt_frame *f)
{
    rt_printf("  S irq cause=%lx from=%lx\n", f->cause, f->status >> 8 & 1);
    if ((i64)f->cause >= 0)
        return 0;
    CSR_CLEAR(sip, 2);
    return 1;
}

static void interrupts(void)
{
    u64 l;
    rt_printf("mip at start: %lx\n", CSR_READ(mip));
    CSR_WRITE(mtvec, (u64)vec_table | 1);
    rt_mhook = irq_hook;
    CSR_WRITE(mie, 0x8 | 0x80 | 0x2 | 0x20);
    *CLINT_MTIMECMP = ~0ull;
    /* one source at a time (the order of simultaneous ones: irq-order.c) */
    for (int src = 0; src < 4; src++) {
        switch (src) {
        case 0: *CLINT_MSIP = 1; break;
        case 1: *CLINT_MTIMECMP = 0; break;
        case 2: CSR_SET(mip, 2); break;
        case 3: CSR_SET(mip, 32); break;
        }
        rt_printf("pending mip=%lx; enabling MIE:\n", CSR_READ(mip));
        __asm__ volatile("lla %0, 1f\n sd %0, 0(%1)\n csrsi mstatus, 8\n1: csrci mstatus, 8"
                         : "=&r"(l) : "r"(&irq_label) : "memory");
    }
    rt_printf("exception with vectored mtvec:\n");
    __asm__ volatile("ebreak");
    rt_printf("M interrupt while in S (mstatus.MIE=0):\n");
    *CLINT_MSIP = 1;
    irq_label = (u64)p_nop;
    rt_enter(RT_S, p_nop, 0, rt_lower_stack());
    CSR_SET(mip, 2);
    rt_printf("S interrupt while in M is not taken; mip=%lx\n", CSR_READ(mip));
    CSR_CLEAR(mip, 2);
    /* delegated to S */
    CSR_WRITE(mideleg, 0x222);
    rt_shook = sirq_hook;
    CSR_SET(mip, 2);
    rt_printf("SSIP pending, delegated, entering U (SIE=0):\n");
    rt_enter(RT_U, p_nop, 0, rt_lower_stack());
    rt_printf("S sets SSIP itself with SIE=1:\n");
    CSR_SET(mstatus, MSTATUS_SIE);
    rt_enter(RT_S, p_setssip, 0, rt_lower_stack());
    rt_printf("S sets SSIP with SIE=0, then wfi returns:\n");
    CSR_CLEAR(mstatus, MSTATUS_SIE);
    rt_enter(RT_S, p_setssip, 0, rt_lower_stack());
    rt_enter(RT_S, p_wfi, 0, rt_lower_stack());
    rt_printf("mip=%lx\n", CSR_READ(mip));
    CSR_CLEAR(mip, 2);
    CSR_WRITE(mideleg, 0);
    CSR_WRITE(mie, 0);
    CSR_WRITE(mtvec, (u64)rt_mtrap_entry);
    rt_mhook = 0;
    rt_shook = 0;
}

static void faults(void)
{
    u64 v = 0;
    rt_printf("access faults:\n");
    __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(0ull));
    __asm__ volatile("sw %0, 0(%1)" :: "r"(v), "r"(0x88000000ull));
    __asm__ volatile("lb %0, -1(%1)" : "+r"(v) : "r"(0x88000000ull));
    __asm__ volatile("ld %0, -4(%1)" : "+r"(v) : "r"(0x88000000ull));
    __asm__ volatile("sd %0, 0(%1)" :: "r"(v), "r"(0x1000ull));
    __asm__ volatile("jalr %1" : "+r"(v) : "r"(0x88000000ull) : "ra");
    __asm__ volatile("jalr %1" : "+r"(v) : "r"(0ull) : "ra");
    rt_printf("misaligned plain accesses in M (no trap in QEMU 7.2):\n");
    static u64 m[3] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, 0 };
    char *p = (char *)m;
    __asm__ volatile("ld %0, 3(%1)" : "=r"(v) : "r"(p) : "memory");
    rt_printf(" ld +3 %lx", v);
    __asm__ volatile("lw %0, 7(%1)" : "=r"(v) : "r"(p) : "memory");
    rt_printf(" lw +7 %lx", v);
    __asm__ volatile("lhu %0, 15(%1)" : "=r"(v) : "r"(p) : "memory");
    rt_printf(" lhu +15 %lx", v);
    __asm__ volatile("sd %0, 5(%1)" :: "r"(0xa1a2a3a4a5a6a7a8ull), "r"(p) : "memory");
    __asm__ volatile("fld ft0, 1(%1)\n fmv.x.d %0, ft0" : "=r"(v) : "r"(p) : "memory", "ft0");
    rt_printf(" sd +5, fld +1 %lx mem %lx %lx\n", v, m[0], m[1]);
}

int main(void)
{
    modes();
    status_stack();
    delegation();
    interrupts();
    faults();
    return 0;
}
