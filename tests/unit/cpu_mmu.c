/*
 * cpu_mmu: Sv39/Sv48 translation built in guest RAM, run in S and U mode —
 * each permission rule of priv spec §4.3.1, A/D updates, superpage
 * alignment, reserved bits, canonical addresses, page vs access faults,
 * SFENCE.VMA, MPRV, PMP, and misaligned accesses across pages.
 */
#include "tests/unit/cpu_harness.h"

#define V (1u << 0)
#define R (1u << 1)
#define W (1u << 2)
#define XP (1u << 3)
#define U (1u << 4)
#define A (1u << 6)
#define D (1u << 7)

#define PT_ROOT (RAM_BASE + 0x200000)
#define DATA_PA (RAM_BASE + 0x300000)
#define DATA_VA 0x40000000ull

struct vm {
    struct cpt t;
    uint64_t next;      /* next free page-table page */
    unsigned levels;
    unsigned priv;      /* the mode run1() runs in */
};

static uint64_t pt_alloc(struct vm *v)
{
    uint64_t p = v->next;
    v->next += 4096;
    memset(v->t.m->ram + (p - RAM_BASE), 0, 4096);
    return p;
}

/* Map va → pa with a leaf at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB). */
static void map(struct vm *v, uint64_t va, uint64_t pa, uint64_t flags,
                int level)
{
    uint64_t table = PT_ROOT;
    for (int l = (int)v->levels - 1; l > level; l--) {
        uint64_t pte_pa = table + ((va >> (12 + 9 * l)) & 511) * 8;
        uint64_t pte = tm_get64(&v->t, pte_pa);
        if (!(pte & V)) {
            pte = (pt_alloc(v) >> 12) << 10 | V;
            tm_put64(&v->t, pte_pa, pte);
        }
        table = (pte >> 10) << 12;
    }
    tm_put64(&v->t, table + ((va >> (12 + 9 * level)) & 511) * 8,
             (pa >> 12) << 10 | flags);
}

static uint64_t leaf_pte_addr(struct vm *v, uint64_t va)
{
    uint64_t table = PT_ROOT;
    for (int l = (int)v->levels - 1; l > 0; l--) {
        uint64_t pte = tm_get64(&v->t, table + ((va >> (12 + 9 * l)) & 511) * 8);
        table = (pte >> 10) << 12;
    }
    return table + ((va >> 12) & 511) * 8;
}

/* A hart in `priv` with paging on, code at RAM_BASE mapped at the same va
 * (executable, and user if priv is U). */
static struct vm vm_new(unsigned priv, unsigned levels)
{
    struct vm v = { .t = tm_new(), .next = PT_ROOT + 4096, .levels = levels,
                    .priv = priv };
    memset(v.t.m->ram + (PT_ROOT - RAM_BASE), 0, 4096);
    map(&v, RAM_BASE, RAM_BASE, V | R | XP | A | D | (priv == PRV_U ? U : 0), 0);
    tm_pmp_all(&v.t);
    uint64_t mode = levels == 3 ? 8 : 9;
    cr_assert(csr_write(v.t.h, 0x180, mode << 60 | PT_ROOT >> 12));
    tm_set_priv(&v.t, priv);
    return v;
}

/* Run one instruction at RAM_BASE with x11 = addr, x12 = 0x55; returns
 * the M-mode trap cause, or -1 when it completed. */
static int64_t run1(struct vm *v, uint32_t insn, uint64_t addr)
{
    tm_put32(&v->t, RAM_BASE, insn);
    dcache_flush(v->t.h);
    v->t.h->pc = RAM_BASE;
    v->t.h->mcause = 0xdead;
    tm_set_priv(&v->t, v->priv);
    hart_set_x(v->t.h, 11, addr);
    hart_set_x(v->t.h, 12, 0x55);
    tm_step(&v->t);
    if (hart_get_pc(v->t.h) == RAM_BASE + 4)
        return -1;
    cr_assert_eq(hart_get_pc(v->t.h), TRAP_VEC);
    return (int64_t)v->t.h->mcause;
}

/* Fetch at va: the M-mode trap cause, or -1 if it executed. */
static int64_t fetch1(struct vm *v, uint64_t va)
{
    tm_set_priv(&v->t, v->priv);
    v->t.h->pc = va;
    tm_step(&v->t);
    return hart_get_pc(v->t.h) == TRAP_VEC ? (int64_t)v->t.h->mcause : -1;
}

#define LOAD  LD(10, 11, 0)
#define STORE SD(12, 11, 0)

Test(cpu_mmu, s_load_store_through_4k_page)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W | A | D, 0);
    tm_put64(&v.t, DATA_PA + 8, 0x1122334455667788ull);
    cr_assert_eq(run1(&v, LD(10, 11, 8), DATA_VA), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 0x1122334455667788ull);
    cr_assert_eq(run1(&v, STORE, DATA_VA + 16), -1);
    cr_assert_eq(tm_get64(&v.t, DATA_PA + 16), 0x55);
    tm_free(&v.t);
}

Test(cpu_mmu, user_bit_rules)
{
    /* U-mode cannot touch a supervisor page. */
    struct vm v = vm_new(PRV_U, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W | A | D, 0);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    cr_assert_eq(v.t.h->mtval, DATA_VA);
    cr_assert_eq(run1(&v, STORE, DATA_VA), EXC_STORE_PAGE);
    map(&v, DATA_VA, DATA_PA, V | R | W | U | A | D, 0);
    cr_assert(csr_write(v.t.h, 0x180, 8ull << 60 | PT_ROOT >> 12));  /* flush */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    tm_free(&v.t);

    /* S-mode: user pages need SUM for data, and are never executable. */
    v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W | XP | U | A | D, 0);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    cr_assert_eq(run1(&v, STORE, DATA_VA), EXC_STORE_PAGE);
    cr_assert(csr_write(v.t.h, 0x100, MSTATUS_SUM));
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    cr_assert_eq(run1(&v, STORE, DATA_VA), -1);
    cr_assert_eq(fetch1(&v, DATA_VA), EXC_INSN_PAGE);
    cr_assert_eq(v.t.h->mtval, DATA_VA);
    /* Clearing SUM again takes effect without any flush. */
    cr_assert(csr_write(v.t.h, 0x100, 0));
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    tm_free(&v.t);
}

Test(cpu_mmu, u_cannot_execute_s_page)
{
    struct vm v = vm_new(PRV_U, 3);
    map(&v, DATA_VA, DATA_PA, V | R | XP | A | D, 0);
    cr_assert_eq(fetch1(&v, DATA_VA), EXC_INSN_PAGE);
    tm_free(&v.t);
}

Test(cpu_mmu, rwx_and_mxr)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | XP | A | D, 0);                 /* execute-only */
    map(&v, DATA_VA + 0x1000, DATA_PA, V | R | A | D, 0);         /* read-only */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    cr_assert(csr_write(v.t.h, 0x100, MSTATUS_MXR));
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);                    /* MXR */
    cr_assert_eq(run1(&v, STORE, DATA_VA + 0x1000), EXC_STORE_PAGE);
    cr_assert_eq(v.t.h->mtval, DATA_VA + 0x1000);
    cr_assert_eq(fetch1(&v, DATA_VA + 0x1000), EXC_INSN_PAGE);    /* no X */
    tm_free(&v.t);
}

Test(cpu_mmu, malformed_ptes_fault)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | W | A | D, 0);                  /* W without R */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    map(&v, DATA_VA, DATA_PA, V | R | A | D | (1ull << 61), 0);   /* PBMT */
    cr_assert(csr_write(v.t.h, 0x180, 8ull << 60 | PT_ROOT >> 12));
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    map(&v, DATA_VA, DATA_PA, V | R | A | D | (1ull << 63), 0);   /* N */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    map(&v, DATA_VA, DATA_PA, V | R | A | D | (1ull << 54), 0);   /* reserved */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    map(&v, DATA_VA, DATA_PA, R | A | D, 0);                      /* not valid */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    map(&v, DATA_VA, DATA_PA, V | R | A | D, 0);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    tm_free(&v.t);
}

/* D, A and U are reserved in non-leaf PTEs (§4.3.1), PBMT too (Svpbmt):
 * the spec leaves the effect open; like QEMU 7.2 the walk page-faults. */
Test(cpu_mmu, non_leaf_reserved_bits_fault)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W | A | D, 0);
    uint64_t root_pte = PT_ROOT + 8 * ((DATA_VA >> 30) & 511);
    uint64_t ptr = tm_get64(&v.t, root_pte);
    static const uint64_t bits[] = { A, D, U, 1ull << 61 };
    cr_assert(csr_write(v.t.h, 0x30a, 1ull << 62));     /* menvcfg.PBMTE */
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        tm_put64(&v.t, root_pte, ptr | bits[i]);
        cr_assert(csr_write(v.t.h, 0x180, 8ull << 60 | PT_ROOT >> 12));
        cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE, "bit %#llx",
                     (unsigned long long)bits[i]);
        cr_assert_eq(v.t.h->mtval, DATA_VA);
        cr_assert_eq(run1(&v, STORE, DATA_VA), EXC_STORE_PAGE);
    }
    tm_put64(&v.t, root_pte, ptr);
    cr_assert(csr_write(v.t.h, 0x180, 8ull << 60 | PT_ROOT >> 12));
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    tm_free(&v.t);
}

Test(cpu_mmu, superpages)
{
    struct vm v = vm_new(PRV_S, 3);
    /* A 2 MiB page must be 2 MiB aligned physically. */
    map(&v, 0x40200000, RAM_BASE + 0x200000, V | R | A | D, 1);
    cr_assert_eq(run1(&v, LOAD, 0x40200000 + 0x3008), -1);
    map(&v, 0x40400000, RAM_BASE + 0x201000, V | R | A | D, 1);
    cr_assert_eq(run1(&v, LOAD, 0x40400000), EXC_LOAD_PAGE);
    /* A 1 GiB page at 0xc0000000 → RAM_BASE. */
    map(&v, 0xc0000000, RAM_BASE, V | R | A | D, 2);
    tm_put64(&v.t, RAM_BASE + 0x123450, 42);
    cr_assert_eq(run1(&v, LOAD, 0xc0123450), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 42);
    tm_free(&v.t);
}

Test(cpu_mmu, non_canonical_va)
{
    struct vm v = vm_new(PRV_S, 3);
    cr_assert_eq(run1(&v, LOAD, 0x0000008000000000ull), EXC_LOAD_PAGE);
    cr_assert_eq(v.t.h->mtval, 0x0000008000000000ull);
    cr_assert_eq(run1(&v, STORE, 0x8000000000000000ull), EXC_STORE_PAGE);
    tm_free(&v.t);
}

Test(cpu_mmu, access_faults)
{
    struct vm v = vm_new(PRV_S, 3);
    /* A leaf mapping a physical address with no RAM or device. */
    map(&v, DATA_VA, 0x1000, V | R | W | A | D, 0);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_ACCESS);
    cr_assert_eq(v.t.h->mtval, DATA_VA);
    cr_assert_eq(run1(&v, STORE, DATA_VA), EXC_STORE_ACCESS);
    /* A non-leaf PTE pointing outside RAM: the walk's own read faults
     * (root entry 3 covers va 0xc0000000). */
    tm_put64(&v.t, PT_ROOT + 8 * 3, (0x1000ull >> 12) << 10 | V);
    cr_assert_eq(run1(&v, LOAD, 0xc0000000), EXC_LOAD_ACCESS);
    cr_assert_eq(run1(&v, STORE, 0xc0000000), EXC_STORE_ACCESS);
    tm_free(&v.t);
}

Test(cpu_mmu, accessed_and_dirty_bits)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W, 0);
    uint64_t pte = leaf_pte_addr(&v, DATA_VA);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    cr_assert_eq(tm_get64(&v.t, pte) & (A | D), A);
    cr_assert_eq(run1(&v, STORE, DATA_VA), -1);
    cr_assert_eq(tm_get64(&v.t, pte) & (A | D), A | D);
    /* A denied store sets neither bit. */
    map(&v, DATA_VA + 0x1000, DATA_PA, V | R, 0);
    pte = leaf_pte_addr(&v, DATA_VA + 0x1000);
    cr_assert_eq(run1(&v, STORE, DATA_VA + 0x1000), EXC_STORE_PAGE);
    cr_assert_eq(tm_get64(&v.t, pte) & (A | D), 0);
    tm_free(&v.t);
}

Test(cpu_mmu, sfence_vma_sees_new_mapping)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | A | D, 0);
    tm_put64(&v.t, DATA_PA, 1);
    tm_put64(&v.t, DATA_PA + 0x1000, 2);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 1);
    map(&v, DATA_VA, DATA_PA + 0x1000, V | R | A | D, 0);
    cr_assert_eq(run1(&v, SFENCE_VMA(11, 0), DATA_VA), -1);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 2);
    /* Unmap, flush everything: page fault. */
    map(&v, DATA_VA, 0, 0, 0);
    cr_assert_eq(run1(&v, SFENCE_VMA(0, 0), 0), -1);
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_PAGE);
    /* U-mode may not execute SFENCE.VMA; S with TVM may not either. */
    v.t.h->mstatus |= MSTATUS_TVM;
    cr_assert_eq(run1(&v, SFENCE_VMA(0, 0), 0), EXC_ILLEGAL);
    tm_free(&v.t);
}

Test(cpu_mmu, sfence_flushes_superpage_entries)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, 0x40200000, RAM_BASE + 0x200000, V | R | A | D, 1);
    cr_assert_eq(run1(&v, LOAD, 0x40200000 + 0x5000), -1);
    map(&v, 0x40200000, 0, 0, 1);
    /* Flush by an address in the same superpage, another 4 KiB page. */
    cr_assert_eq(run1(&v, SFENCE_VMA(11, 0), 0x40200000), -1);
    cr_assert_eq(run1(&v, LOAD, 0x40200000 + 0x5000), EXC_LOAD_PAGE);
    tm_free(&v.t);
}

Test(cpu_mmu, misaligned_across_pages)
{
    struct vm v = vm_new(PRV_S, 3);
    /* Two virtually adjacent pages on physically distant frames. */
    map(&v, DATA_VA, DATA_PA + 0x5000, V | R | W | A | D, 0);
    map(&v, DATA_VA + 0x1000, DATA_PA, V | R | W | A | D, 0);
    tm_put32(&v.t, DATA_PA + 0x5ffc, 0x44332211);
    tm_put32(&v.t, DATA_PA, 0x88776655);
    cr_assert_eq(run1(&v, LOAD, DATA_VA + 0xffc), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 0x8877665544332211ull);
    cr_assert_eq(run1(&v, LD(10, 11, 0), DATA_VA + 0xffd), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 0x0088776655443322ull);
    hart_set_x(v.t.h, 12, 0);
    tm_put32(&v.t, RAM_BASE, SD(0, 11, 0));
    /* Second page unmapped: fault names its first byte; nothing written. */
    map(&v, DATA_VA + 0x1000, 0, 0, 0);
    cr_assert(csr_write(v.t.h, 0x180, 8ull << 60 | PT_ROOT >> 12));
    cr_assert_eq(run1(&v, SD(0, 11, 0), DATA_VA + 0xffc), EXC_STORE_PAGE);
    cr_assert_eq(v.t.h->mtval, DATA_VA + 0x1000);
    cr_assert_eq(tm_get32(&v.t, DATA_PA + 0x5ffc), 0x44332211);
    cr_assert_eq(run1(&v, LOAD, DATA_VA + 0xffc), EXC_LOAD_PAGE);
    cr_assert_eq(v.t.h->mtval, DATA_VA + 0x1000);
    tm_free(&v.t);
}

Test(cpu_mmu, sv48)
{
    struct vm v = vm_new(PRV_S, 4);
    map(&v, 0x0000400000000000ull, DATA_PA, V | R | A | D, 0);
    tm_put64(&v.t, DATA_PA, 99);
    cr_assert_eq(run1(&v, LOAD, 0x0000400000000000ull), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 99);
    cr_assert_eq(run1(&v, LOAD, 0x0000800000000000ull), EXC_LOAD_PAGE);
    tm_free(&v.t);
}

Test(cpu_mmu, mprv_translates_m_mode_data)
{
    struct vm v = vm_new(PRV_S, 3);
    map(&v, DATA_VA, DATA_PA, V | R | W | A | D, 0);
    tm_put64(&v.t, DATA_PA, 7);
    v.priv = PRV_M;
    /* Plain M-mode: DATA_VA is a physical address with nothing there. */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), EXC_LOAD_ACCESS);
    cr_assert(csr_write(v.t.h, 0x300, MSTATUS_MPRV | (1ull << 11)));  /* MPP=S */
    cr_assert_eq(run1(&v, LOAD, DATA_VA), -1);
    cr_assert_eq(hart_get_x(v.t.h, 10), 7);
    tm_free(&v.t);
}

Test(cpu_mmu, pmp_denies_s_without_entries)
{
    struct cpt t = tm_new();
    tm_set_priv(&t, PRV_S);
    tm_put32(&t, RAM_BASE, LOAD);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_INSN_ACCESS);     /* even the fetch */
    tm_free(&t);
}

Test(cpu_mmu, pmp_tor_and_lock)
{
    struct cpt t = tm_new();
    /* Entry 0: TOR [0, RAM_BASE + 0x100000) RX; entry 1 NAPOT all, RW. */
    cr_assert(csr_write(t.h, 0x3b0, (RAM_BASE + 0x100000) >> 2));
    cr_assert(csr_write(t.h, 0x3b1, ~0ull));
    cr_assert(csr_write(t.h, 0x3a0, 0x0d | 0x1b << 8));
    tm_set_priv(&t, PRV_S);
    tm_put32(&t, RAM_BASE, SD(12, 11, 0));
    hart_set_x(t.h, 11, RAM_BASE + 0x800);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_ACCESS);    /* entry 0: no W */
    /* Not locked: M-mode ignores it. */
    tm_set_priv(&t, PRV_M);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    /* Locked: applies to M too, and the entry can no longer change. */
    cr_assert(csr_write(t.h, 0x3a0, 0x8d | 0x1b << 8));
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_ACCESS);
    cr_assert(csr_write(t.h, 0x3b0, 0));
    uint64_t a;
    cr_assert(csr_read(t.h, 0x3b0, &a));
    cr_assert_eq(a, (RAM_BASE + 0x100000) >> 2);
    tm_free(&t);
}
