/*
 * cpu/mmu.c — address translation (priv spec 1.12 §4.3-4.5: Bare, Sv39,
 * Sv48), the per-hart soft TLB, and the PMP check on the fill path.
 *
 * A/D bits: we update them in hardware, atomically: the walker sets A (and
 * D for a store) with a compare-and-swap on the PTE in guest RAM; if the PTE
 * changed under us (another hart), the walk restarts from the root — this
 * is the "atomic update" option of §4.3.1 step 7. A store through a TLB
 * entry filled by a load finds tag_w invalid unless D was already set, so
 * the first store walks again and sets D.
 *
 * The TLB holds 4 KiB entries only: a superpage fills one entry per page
 * touched, and remembers its span so SFENCE.VMA by address flushes every
 * entry the superpage produced.
 */
#include <string.h>

#include "cpu/exec.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_MASK ((1ull << 44) - 1)
#define PTE_RESERVED (~0ull << 54)   /* reserved, PBMT (Svpbmt), N (Svnapot) */
#define PTE_PBMT (3ull << 61)

static const int fault_page[3] = { EXC_LOAD_PAGE, EXC_STORE_PAGE, EXC_INSN_PAGE };
static const int fault_access[3] = { EXC_LOAD_ACCESS, EXC_STORE_ACCESS, EXC_INSN_ACCESS };
static const unsigned midx_priv[TLB_MODES] = { PRV_M, PRV_S, PRV_S, PRV_U };

unsigned mmu_midx(const struct hart *h, unsigned priv)
{
    if (priv == PRV_M)
        return TLB_MODE_M;
    if (priv == PRV_U)
        return TLB_MODE_U;
    return (h->mstatus & MSTATUS_SUM) ? TLB_MODE_SUM : TLB_MODE_S;
}

/* Every TLB entry, all modes and ways, as one array. */
#define TLB_ALL(h) (&(h)->tlb[0][0][0])
#define TLB_ENTRIES (TLB_MODES * TLB_SETS * TLB_WAYS)

static const struct tlb_entry tlb_empty = {
    TLB_INVALID, TLB_INVALID, TLB_INVALID, TLB_INVALID, 0, TLB_INVALID, 0, 0,
};

void mmu_flush_all(struct hart *h)
{
    for (unsigned i = 0; i < TLB_ENTRIES; i++)
        TLB_ALL(h)[i] = tlb_empty;
    hart_fetch_flush(h);
}

void mmu_flush_va(struct hart *h, uint64_t va)
{
    for (unsigned i = 0; i < TLB_ENTRIES; i++) {
        struct tlb_entry *e = &TLB_ALL(h)[i];
        if (e->va != TLB_INVALID && ((e->va ^ va) & ~e->span) == 0)
            *e = tlb_empty;
    }
    hart_fetch_flush(h);
}

void mmu_protect_code(struct hart *h, const uint8_t *page)
{
    for (unsigned i = 0; i < TLB_ENTRIES; i++) {
        struct tlb_entry *e = &TLB_ALL(h)[i];
        if (e->tag_w != TLB_INVALID &&
            (uintptr_t)(e->tag_w + e->addend) == (uintptr_t)page) {
            e->tag_wc = e->tag_w;
            e->tag_w = TLB_INVALID;
        }
    }
}

void mmu_set_satp(struct hart *h, uint64_t satp)
{
    unsigned mode = (unsigned)(satp >> 60);
    h->satp = satp;
    h->satp_levels = mode == 8 ? 3 : mode == 9 ? 4 : 0;
    h->satp_root = (satp & PTE_PPN_MASK) << 12;
    mmu_flush_all(h);
}

/* The result of a walk: physical address, the leaf's permissions for the
 * TLB mode (ACC_BIT mask), and the leaf mapping's span. */
struct walk {
    uint64_t pa;
    unsigned perm;
    uint64_t span;
};

/* Which accesses the leaf PTE allows in TLB mode `midx` (§4.3.1 step 5),
 * given that A is set. W additionally needs D (else walk again to set it). */
static unsigned pte_perm(const struct hart *h, uint64_t pte, unsigned midx)
{
    bool user_page = pte & PTE_U;
    bool mxr = h->mstatus & MSTATUS_MXR;
    unsigned p = 0;
    /* U-mode: U pages only. S-mode: non-U pages, plus U pages for data
     * when SUM=1; S never executes U pages. */
    bool data_ok = midx == TLB_MODE_U ? user_page :
                   midx == TLB_MODE_SUM ? true : !user_page;
    bool exec_ok = midx == TLB_MODE_U ? user_page : !user_page;
    if (data_ok && ((pte & PTE_R) || (mxr && (pte & PTE_X))))
        p |= ACC_BIT(ACC_R);
    if (data_ok && (pte & PTE_W) && (pte & PTE_D))
        p |= ACC_BIT(ACC_W);
    if (exec_ok && (pte & PTE_X))
        p |= ACC_BIT(ACC_X);
    return p;
}

/* Walk the page table for va (§4.3.2). Returns MMU_OK or a cause. */
static int mmu_walk(struct hart *h, uint64_t va, enum mmu_acc acc,
                    unsigned midx, struct walk *w)
{
    unsigned levels = h->satp_levels;
    unsigned vabits = 12 + 9 * levels;
    /* Bits above the VA width must equal its top bit (§4.4.1, §4.5.1). */
    if ((uint64_t)((int64_t)(va << (64 - vabits)) >> (64 - vabits)) != va)
        return fault_page[acc];

    /* With menvcfg.PBMTE (writable, as on QEMU 7.2) the PBMT field is
     * accepted and ignored: all memory here is coherent. */
    uint64_t reserved = PTE_RESERVED;
    if (h->menvcfg & MENVCFG_PBMTE)
        reserved &= ~PTE_PBMT;
    for (unsigned tries = 0; tries < 64; tries++) {
        uint64_t table = h->satp_root, pte = 0;
        uint64_t *ptep = NULL;
        int level;
        for (level = (int)levels - 1; level >= 0; level--) {
            uint64_t idx = (va >> (12 + 9 * level)) & 511;
            uint64_t pte_pa = table + idx * 8;
            ptep = machine_ram_ptr(h->m, pte_pa, 8);
            /* Implicit page-table reads are S-level accesses for PMP. */
            if (!ptep || !pmp_check(h, pte_pa, 8, ACC_R, PRV_S))
                return fault_access[acc];
            pte = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
            if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) ||
                (pte & reserved))
                return fault_page[acc];
            if (pte & (PTE_R | PTE_X))
                break;
            /* Non-leaf: D, A, U (§4.3.1) and PBMT (Svpbmt) are reserved
             * there; the spec leaves their effect open, QEMU 7.2 faults. */
            if (pte & (PTE_D | PTE_A | PTE_U | PTE_PBMT))
                return fault_page[acc];
            table = ((pte >> 10) & PTE_PPN_MASK) << 12;
        }
        if (level < 0)
            return fault_page[acc];     /* no leaf at level 0 */

        uint64_t ppn = (pte >> 10) & PTE_PPN_MASK;
        uint64_t span = (1ull << (12 + 9 * level)) - 1;
        if (ppn & (span >> 12))
            return fault_page[acc];     /* misaligned superpage */

        /* Permission check with A/D considered present, then set them. */
        unsigned perm = pte_perm(h, pte | PTE_A | PTE_D, midx);
        if (!(perm & ACC_BIT(acc)))
            return fault_page[acc];
        uint64_t want = pte | PTE_A | (acc == ACC_W ? PTE_D : 0);
        if (want != pte) {
            uint64_t pte_pa = (uint64_t)((uint8_t *)ptep - h->m->ram) + h->m->ram_base;
            if (!pmp_check(h, pte_pa, 8, ACC_W, PRV_S))
                return fault_access[acc];
            if (!__atomic_compare_exchange_n(ptep, &pte, want, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;       /* changed under us: walk again */
            if (dcache_has_code(h, pte_pa))
                dcache_store(h, pte_pa, 8);
        }
        w->pa = (ppn << 12 & ~span) | (va & span);
        w->perm = pte_perm(h, want, midx);
        w->span = span;
        return MMU_OK;
    }
    return fault_page[acc];     /* PTE kept changing: give up */
}

static void tlb_fill(struct hart *h, unsigned midx, uint64_t va, uint8_t *page,
                     uint64_t pa, unsigned perm, uint64_t span)
{
    struct tlb_entry *set = TLB_SET(h->tlb[midx], va), *e = &set[0];
    uint64_t vpage = va & PAGE_MASK;
    /* The new entry goes to way 0; a different page there moves to way 1
     * (replacing whatever was there, possibly an older entry of vpage:
     * a page never has two entries). */
    if (e->va != vpage && e->va != TLB_INVALID)
        set[1] = set[0];
    bool code = dcache_has_code(h, pa);
    e->addend = (uintptr_t)page - (uintptr_t)vpage;
    e->tag_r = (perm & ACC_BIT(ACC_R)) ? vpage : TLB_INVALID;
    e->tag_x = (perm & ACC_BIT(ACC_X)) ? vpage : TLB_INVALID;
    e->tag_w = TLB_INVALID;
    e->tag_wc = TLB_INVALID;
    if (perm & ACC_BIT(ACC_W)) {
        if (code)
            e->tag_wc = vpage;
        else
            e->tag_w = vpage;
    }
    e->va = vpage;
    e->span = span | 0xfff;
}

int mmu_access(struct hart *h, uint64_t va, unsigned size, enum mmu_acc acc,
               unsigned midx, uint8_t **host, uint64_t *pa_out)
{
    struct walk w = { .pa = va, .perm = ACC_ALL, .span = 0 };
    unsigned priv = midx_priv[midx];
    if (midx != TLB_MODE_M && h->satp_levels) {
        int r = mmu_walk(h, va, acc, midx, &w);
        if (r != MMU_OK)
            return r;
    }
    uint64_t pa = w.pa, pa_page = pa & PAGE_MASK;

    /* PMP: applies to S/U always, to M only through locked entries. */
    unsigned pmp_perm = ACC_ALL;
    if (priv != PRV_M || h->pmp_locked) {
        pmp_perm = pmp_page_perm(h, pa_page, priv);
        if (!(pmp_perm & ACC_BIT(acc)) && !pmp_check(h, pa, size, acc, priv))
            return fault_access[acc];
    }

    uint8_t *page = machine_ram_ptr(h->m, pa_page, PAGE_SIZE);
    if (page) {
        tlb_fill(h, midx, va, page, pa_page, w.perm & pmp_perm, w.span);
        *host = page + (pa & 0xfff);
    } else {
        *host = machine_ram_ptr(h->m, pa, size);    /* RAM's last partial page */
    }
    *pa_out = pa;
    return MMU_OK;
}
