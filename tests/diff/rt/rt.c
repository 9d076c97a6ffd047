/* tests/diff/rt/rt.c — UART output, exit, default trap handlers. */
#include <stdarg.h>
#include "rt.h"

#define UART ((volatile unsigned char *)0x10000000ul)
#define TESTDEV ((volatile u32 *)0x100000ul)

int (*rt_mhook)(struct rt_frame *f);
int (*rt_shook)(struct rt_frame *f);
int rt_quiet;
u64 rt_ntraps, rt_last_cause, rt_last_tval, rt_last_epc;
static int rt_in_mtrap;

void *rt_lower_stack(void)
{
    return (void *)((uintptr_t)_stack_top - 0x2000);
}

void rt_putc(int c)
{
    while (!(UART[5] & 0x20))   /* LSR.THRE */
        ;
    UART[0] = (unsigned char)c;
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

static void rt_putnum(u64 v, int base, int width, int neg)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (n < width)
        buf[n++] = '0';
    while (n)
        rt_putc(buf[--n]);
}

void rt_puthex(u64 v)
{
    rt_putnum(v, 16, 16, 0);
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        int width = 0, lng = 0;
        fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng = 1, fmt++;
        switch (*fmt) {
        case 's': rt_puts(va_arg(ap, const char *)); break;
        case 'c': rt_putc(va_arg(ap, int)); break;
        case 'x': rt_putnum(lng ? va_arg(ap, u64) : va_arg(ap, u32), 16, width, 0); break;
        case 'u': rt_putnum(lng ? va_arg(ap, u64) : va_arg(ap, u32), 10, width, 0); break;
        case 'd': {
            i64 v = lng ? va_arg(ap, i64) : va_arg(ap, i32);
            rt_putnum(v < 0 ? -(u64)v : (u64)v, 10, width, v < 0);
            break;
        }
        case '%': rt_putc('%'); break;
        default: rt_putc('?'); break;
        }
    }
    va_end(ap);
}

void rt_exit(int code)
{
    rt_printf("END %d\n", code);
    *TESTDEV = code ? ((u32)code << 16) | 0x3333 : 0x5555;
    for (;;)
        ;
}

void rt_fail(const char *why)
{
    rt_printf("FATAL: %s\n", why);
    rt_exit(1);
}

/* Reads a halfword at a virtual address of the trapped context: MPRV makes
 * the load use the trapped privilege (MPP) and translation; MXR and SUM let
 * it read execute-only and user pages. Only called for traps whose
 * instruction was fetched, so the load cannot fault. */
static u32 rt_read_insn_half(u64 va)
{
    u64 mst = CSR_READ(mstatus);
    u32 v;
    if (((mst >> 11) & 3) == 3)
        return *(volatile uint16_t *)va;
    CSR_SET(mstatus, MSTATUS_MPRV | MSTATUS_MXR | MSTATUS_SUM);
    v = *(volatile uint16_t *)va;
    CSR_WRITE(mstatus, mst);
    return v;
}

int rt_insn_len(struct rt_frame *f, int from_s)
{
    u32 lo;
    if (from_s) {
        u64 sst = CSR_READ(sstatus);
        CSR_SET(sstatus, MSTATUS_SUM | MSTATUS_MXR);
        lo = *(volatile uint16_t *)f->epc;
        CSR_WRITE(sstatus, sst);
    } else {
        lo = rt_read_insn_half(f->epc);
    }
    return (lo & 3) == 3 ? 4 : 2;
}

static int rt_is_fetch_fault(u64 cause)
{
    return cause == 0 || cause == 1 || cause == 12;
}

void rt_mtrap(struct rt_frame *f)
{
    if (rt_in_mtrap)
        rt_fail("trap inside the M-mode trap handler");
    rt_in_mtrap = 1;
    u64 mpp = (f->status >> 11) & 3;
    if ((f->cause == 8 || f->cause == 9) && f->x[17] == RT_ECALL_RETURN) {
        /* Lower-mode code finished: back to rt_enter's caller, in M. */
        f->epc = (u64)rt_resume_m;
        f->status |= MSTATUS_MPP;
        f->status &= ~MSTATUS_MPRV;
        rt_in_mtrap = 0;
        return;
    }
    rt_ntraps++;
    rt_last_cause = f->cause;
    rt_last_tval = f->tval;
    rt_last_epc = f->epc;
    if (rt_mhook && rt_mhook(f)) {
        rt_in_mtrap = 0;
        return;
    }
    if (!rt_quiet)
        rt_printf("  mtrap: from=%d cause=%lx epc=%lx tval=%lx\n", (int)mpp,
                  f->cause, f->epc, f->tval);
    if ((i64)f->cause < 0)
        rt_fail("unexpected interrupt");
    if (rt_is_fetch_fault(f->cause))
        f->epc = f->x[1];       /* the faulting target was called via ra */
    else
        f->epc += rt_insn_len(f, 0);
    rt_in_mtrap = 0;
}

void rt_strap(struct rt_frame *f)
{
    if ((f->cause == 8 || f->cause == 9) && f->x[17] == RT_ECALL_RETURN) {
        /* rt_lower_ret's ecall was delegated to S: pass it on to M (with
         * ecall from S, which tests never delegate). Does not return;
         * rt_enter resets sscratch next time. */
        register u64 a0 __asm__("a0") = f->x[10];
        register u64 a7 __asm__("a7") = RT_ECALL_RETURN;
        __asm__ volatile("ecall" :: "r"(a0), "r"(a7));
        rt_fail("RT_ECALL_RETURN came back");
    }
    rt_ntraps++;
    rt_last_cause = f->cause;
    rt_last_tval = f->tval;
    rt_last_epc = f->epc;
    if (rt_shook && rt_shook(f))
        return;
    if (!rt_quiet)
        rt_printf("  strap: from=%d cause=%lx epc=%lx tval=%lx\n",
                  (int)((f->status >> 8) & 1), f->cause, f->epc, f->tval);
    if ((i64)f->cause < 0)
        rt_fail("unexpected S interrupt");
    if (rt_is_fetch_fault(f->cause))
        f->epc = f->x[1];
    else
        f->epc += rt_insn_len(f, 1);
}
