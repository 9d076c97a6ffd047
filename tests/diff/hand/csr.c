/* csr — read/write masks of the machine and supervisor CSRs (write all
 * ones, read, write zero, read, restore, all in one asm block so nothing
 * traps in between), the sstatus/sie/sip views of their M counterparts,
 * satp's WARL modes, read-only CSRs, and csrrs/csrrc with x0. */
#include "common.h"

/* old = csr; csr = ~0 (minus `keep` bits); ones = csr; csr = 0;
 * zero = csr; csr = old. */
#define MASK(csr, keep) do { u64 o_, a_, z_; __asm__ volatile( \
    "csrrw %0, " #csr ", %3\n csrr %1, " #csr "\n csrw " #csr ", x0\n" \
    " csrr %2, " #csr "\n csrw " #csr ", %0" \
    : "=&r"(o_), "=&r"(a_), "=&r"(z_) : "r"(~0ull & ~(u64)(keep)) : "memory"); \
    rt_printf("%s: ones=%lx zero=%lx\n", #csr, a_, z_); (void)o_; } while (0)

/* Writes `v`, reads back, restores. */
#define WR(csr, v) do { u64 o_, a_; __asm__ volatile( \
    "csrrw %0, " #csr ", %2\n csrr %1, " #csr "\n csrw " #csr ", %0" \
    : "=&r"(o_), "=&r"(a_) : "r"((u64)(v)) : "memory"); \
    rt_printf("%s <- %lx: %lx\n", #csr, (u64)(v), a_); } while (0)

static void machine(void)
{
    /* mstatus: keep MPRV (bit 17) clear so our own loads stay physical and
     * MIE clear; MPP=3 is harmless. The SD/FS views are printed too. */
    MASK(mstatus, MSTATUS_MPRV | MSTATUS_MIE);
    WR(mstatus, 0x0000000a00001800ull | MSTATUS_FS);
    WR(mstatus, (1ull << 11) | MSTATUS_FS);     /* MPP = 2 (reserved) is WARL */
    WR(mstatus, 0xf00000000ull | MSTATUS_FS);  /* SXL/UXL */
    MASK(medeleg, 0);
    MASK(mideleg, 0);
    MASK(mie, 0);
    MASK(mtvec, 0);
    WR(mtvec, 0x80000003ull);
    WR(mtvec, 0x80000002ull);
    MASK(mscratch, 0);
    MASK(mepc, 0);
    MASK(mcause, 0);
    MASK(mtval, 0);
    MASK(mip, 0);
    MASK(mcounteren, 0);
    MASK(menvcfg, 1ull << 63);      /* STCE would make STIP follow the timer */
    rt_printf("misa=%lx\n", CSR_READ(misa));
    rt_printf("mhartid=%lx\n", CSR_READ(mhartid));
}

static void supervisor(void)
{
    MASK(sstatus, 0);
    MASK(sie, 0);
    MASK(sip, 0);
    MASK(stvec, 0);
    MASK(sscratch, 0);
    MASK(sepc, 0);
    MASK(scause, 0);
    MASK(stval, 0);
    MASK(scounteren, 0);
    MASK(senvcfg, 0);
    /* sie/sip are views of mie/mip through mideleg */
    u64 a, b;
    __asm__ volatile("csrw mideleg, %2\n csrw mie, %3\n csrr %0, sie\n"
                     " csrw sie, x0\n csrr %1, mie\n csrw mie, x0\n csrw mideleg, x0"
                     : "=&r"(a), "=&r"(b) : "r"(0x222ull), "r"(0xaaaull));
    rt_printf("mideleg=222 mie=aaa: sie=%lx; sie<-0: mie=%lx\n", a, b);
    __asm__ volatile("csrw mideleg, %2\n csrw mip, %3\n csrr %0, sip\n"
                     " csrw sip, x0\n csrr %1, mip\n csrw mip, x0\n csrw mideleg, x0"
                     : "=&r"(a), "=&r"(b) : "r"(0x2ull), "r"(0x222ull));
    rt_printf("mideleg=2 mip=222: sip=%lx; sip<-0: mip=%lx\n", a, b);
    __asm__ volatile("csrw mstatus, %2\n csrr %0, sstatus\n csrw sstatus, x0\n"
                     " csrr %1, mstatus"
                     : "=&r"(a), "=&r"(b) : "r"(0x7e1aaull | MSTATUS_FS));
    CSR_WRITE(mstatus, MSTATUS_FS);
    rt_printf("sstatus view %lx; sstatus<-0 leaves mstatus %lx\n", a, b);
    /* satp: Bare, Sv39, Sv48 accepted; other modes leave it unchanged */
    WR(satp, 0);
    WR(satp, 0x8000000000000000ull | 0xffffffffffffull);
    WR(satp, 0x9000000000000000ull | 0x0000123400000567ull);
    u64 r;
    __asm__ volatile("csrw satp, %1\n csrw satp, %2\n csrr %0, satp\n csrw satp, x0"
                     : "=&r"(r) : "r"(0x8000000000000123ull), "r"(0xa000000000000456ull));
    rt_printf("satp Sv39 then mode 10: %lx\n", r);
    __asm__ volatile("csrw satp, %1\n csrw satp, %2\n csrr %0, satp\n csrw satp, x0"
                     : "=&r"(r) : "r"(0x8000000000000123ull), "r"(0x1000000000000456ull));
    rt_printf("satp Sv39 then mode 1: %lx\n", r);
    __asm__ volatile("csrw satp, %1\n csrw satp, %2\n csrr %0, satp\n csrw satp, x0"
                     : "=&r"(r) : "r"(0x8000000000000123ull), "r"(0xf000000000000456ull));
    rt_printf("satp Sv39 then mode 15: %lx\n", r);
}

static void pmp(void)
{
    /* entry 0 stays NAPOT-everything; exercise entries 1-15 without L */
    u64 a, b, c;
    __asm__ volatile("csrr %0, pmpcfg0\n csrw pmpcfg0, %3\n csrr %1, pmpcfg0\n"
                     " csrw pmpcfg2, %4\n csrr %2, pmpcfg2\n csrw pmpcfg2, x0\n csrw pmpcfg0, %0"
                     : "=&r"(a), "=&r"(b), "=&r"(c)
                     : "r"(0x0f0e0d0c0b0a091full), "r"(0x7f6e5d4c3b2a1908ull));
    rt_printf("pmpcfg0 old=%lx <-0f0e0d0c0b0a091f: %lx; pmpcfg2 <-7f6e5d4c3b2a1908: %lx\n", a, b, c);
    WR(pmpaddr1, ~0ull);
    WR(pmpaddr15, ~0ull);
    WR(pmpaddr3, 0x123456789abcdefull);
}

static void readonly(void)
{
    rt_printf("writes to read-only CSRs trap; csrrs/csrrc with x0 and csrrsi 0 don't:\n");
    u64 r;
    __asm__ volatile("csrrs %0, mhartid, x0" : "=r"(r));
    __asm__ volatile("csrrc %0, mvendorid, x0" : "=r"(r));
    __asm__ volatile("csrrsi %0, marchid, 0" : "=r"(r));
    __asm__ volatile("csrrci %0, mimpid, 0" : "=r"(r));
    rt_printf(" (no traps so far)\n");
    __asm__ volatile("csrw mhartid, x0");
    __asm__ volatile("csrrs %0, mvendorid, %0" : "+r"(r));
    __asm__ volatile("csrrwi x0, marchid, 0");
    __asm__ volatile("csrrw %0, cycle, x0" : "=r"(r));
    __asm__ volatile("csrs time, %0" :: "r"(1ull));
}

int main(void)
{
    machine();
    supervisor();
    pmp();
    readonly();
    return 0;
}
