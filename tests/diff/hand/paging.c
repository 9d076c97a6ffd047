/* paging — Sv39 and Sv48 from S and U: every R/W/X/U combination of a 4 KiB
 * leaf under SUM and MXR, A/D updates, reserved encodings and bits, 2 MiB,
 * 1 GiB and 512 GiB superpages (aligned and misaligned), non-canonical
 * addresses, page-table walks and leaves that leave RAM (access faults),
 * a misaligned access across into an unmapped page, MPRV from M, and page
 * faults delegated to S.
 *
 * Layout (Sv39 root; Sv48's root points at it for VA < 512 GiB):
 *   VA 0x0000_0000 +1G  -> PA 0          devices, RW (S only)
 *   VA 0x4000_0000 +1G  -> PA 0x8000_0000 RWX U  (U code runs at this alias)
 *   VA 0x8000_0000 +1G  -> PA 0x8000_0000 RWX    (identity, S)
 *   VA 0xc000_0000      -> L1 table: [0] L0 table of test pages,
 *                          [1] 2 MiB leaf, [2] pointer outside RAM */
#include "common.h"

#define V 0x1ull
#define R 0x2ull
#define W 0x4ull
#define X 0x8ull
#define U 0x10ull
#define G 0x20ull
#define A 0x40ull
#define D 0x80ull
#define PTE(pa, fl) ((((u64)(pa)) >> 12 << 10) | (fl))

#define ALIAS 0x40000000ull
#define TVA 0xc0000000ull           /* test pages */
#define SVA 0xc0200000ull           /* 2 MiB superpage */
#define BADVA 0xc0400000ull         /* walk leaves RAM */

static u64 pt[12][512] __attribute__((aligned(4096)));
static unsigned char pages[4][4096] __attribute__((aligned(4096)));

long p_ld(long a);
long p_sd(long a);
long p_ex(long a);
long p_ldmis(long a);
__asm__(".text\n .option push\n .option norvc\n"
        "p_ld: ld a0, 0(a0)\n ret\n"
        "p_sd: sd a0, 8(a0)\n li a0, 0x5d\n ret\n"
        "p_ex: mv t1, ra\n jalr a0\n mv ra, t1\n ret\n"
        "p_ldmis: ld a0, -4(a0)\n ret\n .option pop\n");

static int faulted;
static u64 fcause, ftval;

static int record(struct rt_frame *f)
{
    if ((i64)f->cause < 0)
        return 0;
    faulted = 1;
    fcause = f->cause;
    ftval = f->tval;
    if (f->cause == 1 || f->cause == 12)
        f->epc = f->x[1];
    else
        f->epc += 4;    /* the probes are not compressed */
    return 1;
}

/* Runs probe fn(va) in `mode`; prints its result or the fault. */
static void probe(const char *tag, int mode, long (*fn)(long), u64 va)
{
    u64 f = (u64)fn;
    if (mode == RT_U) {
        rt_alias_delta = ALIAS;
        f -= ALIAS;
    } else {
        rt_alias_delta = 0;
    }
    faulted = 0;
    long r = rt_enter(mode, (long (*)(long))f, (long)va, rt_lower_stack());
    if (faulted)
        rt_printf(" %s=!%lx@%lx", tag, fcause, ftval);
    else
        rt_printf(" %s=%lx", tag, (u64)r);
}

static void sfence(void)
{
    __asm__ volatile("sfence.vma" ::: "memory");
}

/* Each test page starts with `li a0, 0x5a; ret`; stores go to +8. */
static void fill_pages(void)
{
    for (int i = 0; i < 4; i++) {
        u32 *w = (u32 *)pages[i];
        w[0] = 0x05a00513;  /* li a0, 0x5a */
        w[1] = 0x00008067;  /* ret */
        w[2] = 0x1000 + i;
        w[3] = 0;
        w[4] = 0x2000 + i;
        w[5] = 0;
    }
    __asm__ volatile("fence.i");
}

static void setup_pages(void)
{
    fill_pages();
    pt[0][0] = PTE(0, V | R | W | A | D);
    pt[0][1] = PTE(0x80000000, V | R | W | X | U | A | D);
    pt[0][2] = PTE(0x80000000, V | R | W | X | A | D);
    pt[0][3] = PTE(pt[1], V);
    pt[1][0] = PTE(pt[2], V);
    pt[1][2] = PTE(0x88000000, V);
}

static void mode_matrix(u64 va)
{
    probe("Sld", RT_S, p_ld, va);
    probe("Sex", RT_S, p_ex, va);
    probe("Ssd", RT_S, p_sd, va);
    CSR_SET(mstatus, MSTATUS_SUM);
    probe("SUMld", RT_S, p_ld, va);
    probe("SUMsd", RT_S, p_sd, va);
    probe("SUMex", RT_S, p_ex, va);
    CSR_CLEAR(mstatus, MSTATUS_SUM);
    CSR_SET(mstatus, MSTATUS_MXR);
    probe("MXRld", RT_S, p_ld, va);
    probe("MXRUld", RT_U, p_ld, va);
    CSR_CLEAR(mstatus, MSTATUS_MXR);
    probe("Uld", RT_U, p_ld, va);
    probe("Uex", RT_U, p_ex, va);
    probe("Usd", RT_U, p_sd, va);
}

static void permissions(void)
{
    static const u64 combos[] = { R, R | W, X, R | X, R | W | X, W, W | X, 0 };
    for (unsigned u = 0; u < 2; u++)
        for (unsigned i = 0; i < ARRAY_SIZE(combos); i++) {
            u64 fl = V | combos[i] | (u ? U : 0) | A | D;
            pt[2][0] = PTE(pages[0], fl);
            fill_pages();
            sfence();
            rt_printf("pte flags %02lx:", fl);
            mode_matrix(TVA);
            rt_printf("\n");
        }
}

static void accessed_dirty(void)
{
    static const u64 fls[] = { V | R | W | X | U, V | R | W | X | U | A, V | R | W | U | D };
    for (unsigned i = 0; i < ARRAY_SIZE(fls); i++) {
        pt[2][1] = PTE(pages[1], fls[i]);
        sfence();
        rt_printf("A/D from %02lx:", fls[i]);
        probe("Uld", RT_U, p_ld, TVA + 0x1000);
        rt_printf(" pte=%02lx", pt[2][1] & 0xff);
        probe("Usd", RT_U, p_sd, TVA + 0x1008);
        rt_printf(" pte=%02lx", pt[2][1] & 0xff);
        pt[2][1] = PTE(pages[1], fls[i]);
        sfence();
        probe("Uex", RT_U, p_ex, TVA + 0x1000);
        rt_printf(" pte=%02lx\n", pt[2][1] & 0xff);
    }
}

static void odd_ptes(void)
{
    static const struct { const char *what; u64 pte; } t[] = {
        { "V=0", R | W | X | A | D },
        { "bit 63 (N)", (1ull << 63) | V | R | W | A | D },
        { "bits 62:61 (PBMT)", (1ull << 61) | V | R | W | A | D },
        { "bit 54 (reserved)", (1ull << 54) | V | R | W | A | D },
        { "G bit", V | R | W | G | A | D },
        { "leaf to PA outside RAM", V | R | W | X | A | D },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
        u64 pa = i == ARRAY_SIZE(t) - 1 ? 0x88000000ull : (u64)pages[2];
        pt[2][2] = PTE(pa, t[i].pte);
        sfence();
        rt_printf("%s:", t[i].what);
        probe("Sld", RT_S, p_ld, TVA + 0x2000);
        probe("Ssd", RT_S, p_sd, TVA + 0x2000);
        probe("Sex", RT_S, p_ex, TVA + 0x2000);
        rt_printf("\n");
    }
    /* a pointer PTE at the last level, a non-leaf with A/D/U set */
    pt[2][3] = PTE(pages[3], V);
    pt[1][3] = PTE(pt[3], V | A | D | U);
    pt[3][0] = PTE(pages[3], V | R | W | X | A | D);
    sfence();
    rt_printf("non-leaf at level 0:");
    probe("Sld", RT_S, p_ld, TVA + 0x3000);
    rt_printf("\nnon-leaf with A/D/U:");
    probe("Sld", RT_S, p_ld, 0xc0600000ull);
    /* misaligned load whose second half is on an unmapped page */
    pt[2][4] = PTE(pages[3], V | R | W | A | D);
    pt[2][5] = 0;
    sfence();
    rt_printf("\nmisaligned across pages:");
    probe("ok", RT_S, p_ldmis, TVA + 0x4008);
    probe("cross", RT_S, p_ldmis, TVA + 0x5002);
    rt_printf("\n");
}

static void superpages(void)
{
    unsigned char *big = (unsigned char *)0x80400000ull;
    ((u64 *)big)[0] = 0x2222;
    ((u64 *)big)[0x1000 / 8] = 0x3333;
    pt[1][1] = PTE(0x80400000ull, V | R | W | X | A | D);
    sfence();
    rt_printf("2M:");
    probe("Sld", RT_S, p_ld, SVA);
    probe("Sld+4K", RT_S, p_ld, SVA + 0x1000);
    pt[1][1] = PTE(0x80401000ull, V | R | W | X | A | D);
    sfence();
    rt_printf("\nmisaligned 2M:");
    probe("Sld", RT_S, p_ld, SVA);
    rt_printf("\n1G at 0x1_0000_0000:");
    pt[0][4] = PTE(0x80000000ull, V | R | W | A | D);
    sfence();
    probe("Sld", RT_S, p_ld, 0x100000000ull + ((u64)pages[0] - 0x80000000ull) + 8);
    pt[0][4] = PTE(0x80200000ull, V | R | W | A | D);
    sfence();
    rt_printf("\nmisaligned 1G:");
    probe("Sld", RT_S, p_ld, 0x100000000ull);
    pt[0][4] = 0;
    rt_printf("\nnon-canonical Sv39:");
    probe("Sld", RT_S, p_ld, 0x0000004000000000ull);
    probe("Sld", RT_S, p_ld, 0xffffff8000000000ull);
    probe("Sex", RT_S, p_ex, 0x8000000000000000ull);
    rt_printf("\n");
}

/* M-mode loads with MPRV: translated and checked as MPP's privilege. */
static u64 mprv_load(u64 mst, u64 va)
{
    u64 v = 0x77, old;
    __asm__ volatile(".option push\n .option norvc\n csrrw %1, mstatus, %2\n"
                     " ld %0, 0(%3)\n csrw mstatus, %1\n .option pop"
                     : "+&r"(v), "=&r"(old) : "r"(mst), "r"(va) : "memory");
    return v;
}

static void mprv(void)
{
    pt[2][0] = PTE(pages[0], V | R | U | A | D);
    sfence();
    u64 base = CSR_READ(mstatus) & ~MSTATUS_MPP;
    faulted = 0;
    rt_printf("MPRV ld: MPP=S+SUM %lx", mprv_load(base | (1ull << 11) | MSTATUS_MPRV | MSTATUS_SUM, TVA));
    rt_printf(" MPP=S %lx", mprv_load(base | (1ull << 11) | MSTATUS_MPRV, TVA));
    rt_printf(" MPP=U %lx", mprv_load(base | MSTATUS_MPRV, TVA + 16));
    rt_printf(" MPP=M %lx", mprv_load(base | MSTATUS_MPP | MSTATUS_MPRV, (u64)pages[0] + 16));
    rt_printf(" faulted=%d cause=%lx tval=%lx\n", faulted, fcause, ftval);
}

static void delegated(void)
{
    CSR_WRITE(medeleg, (1 << 12) | (1 << 13) | (1 << 15));
    rt_mhook = 0;
    rt_shook = record;
    pt[2][0] = PTE(pages[0], V | R | A | D);
    sfence();
    rt_printf("page faults delegated to S:");
    probe("Uld", RT_U, p_ld, TVA);
    probe("Sex", RT_S, p_ex, TVA);
    probe("Ssd", RT_S, p_sd, TVA);
    rt_printf(" stval=%lx scause=%lx\n", CSR_READ(stval), CSR_READ(scause));
    CSR_WRITE(medeleg, 0);
    rt_shook = 0;
    rt_mhook = record;
}

/* QEMU 7.2 reports a page fault where the spec wants an access fault;
 * run alone by paging-walkfault.c so that the difference is one test. */
static __attribute__((unused)) void walk_outside_ram(void)
{
    rt_printf("walk outside RAM:");
    probe("Sld", RT_S, p_ld, BADVA);
    probe("Ssd", RT_S, p_sd, BADVA);
    probe("Sex", RT_S, p_ex, BADVA);
    rt_printf("\n");
}

static void run(const char *name)
{
    rt_printf("== %s\n", name);
#ifdef PAGING_WALKFAULT_ONLY
    walk_outside_ram();
    return;
#endif
    permissions();
    accessed_dirty();
    odd_ptes();
    superpages();
    mprv();
    delegated();
}

int main(void)
{
    rt_mhook = record;
    setup_pages();
    CSR_WRITE(satp, (8ull << 60) | ((u64)pt[0] >> 12));
    sfence();
    run("Sv39");
    /* Sv48: the Sv39 root serves as the level-2 table of VA 0..512G */
    pt[8][0] = PTE(pt[0], V);
    pt[8][1] = PTE(0, V | R | W | A | D);                       /* 512G leaf */
    pt[8][2] = PTE(0x40000000ull, V | R | W | A | D);           /* misaligned */
    CSR_WRITE(satp, (9ull << 60) | ((u64)pt[8] >> 12));
    sfence();
    run("Sv48");
#ifndef PAGING_WALKFAULT_ONLY
    rt_printf("512G leaf:");
    probe("Sld", RT_S, p_ld, 0x8000000000ull + (u64)pages[0] + 16);
    rt_printf("\nmisaligned 512G leaf:");
    probe("Sld", RT_S, p_ld, 0x10000000000ull + (u64)pages[0]);
    rt_printf("\nnon-canonical Sv48:");
    probe("Sld", RT_S, p_ld, 0x0000800000000000ull);
    probe("Sld", RT_S, p_ld, 0xffff000000000000ull);
    rt_printf("\n");
#endif
    CSR_WRITE(satp, 0);
    sfence();
    return 0;
}
