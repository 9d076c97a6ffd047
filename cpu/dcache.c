/*
 * cpu/dcache.c — the per-hart cache of pre-decoded guest pages, keyed by
 * physical page (direct-mapped, DCACHE_SLOTS slots, allocated on first
 * use). A page's slots start as insn_decode_stub and decode themselves on
 * first execution, so data mixed with code costs nothing.
 *
 * Coherence. code_map has one byte per RAM page: "this hart holds decoded
 * instructions of it". The TLB never gives such a page a fast write tag, so
 * every store to it by this hart takes the slow path, which resets exactly
 * the slots the store may have changed (immediately, even for the running
 * page). Stores by other harts and by devices (DMA) are not seen: as the
 * ISA requires (Zifencei), the guest must execute FENCE.I on this hart
 * before running modified code — Linux does so (flush_icache_all and the
 * SBI remote FENCE.I), and FENCE.I empties the whole cache.
 */
#include <stdlib.h>

#include "cpu/exec.h"

static void dpage_reset(struct dpage *p)
{
    for (unsigned i = 0; i < DPAGE_INSNS; i++)
        p->insn[i].fn = insn_decode_stub;
}

struct dpage *dcache_page(struct hart *h, uint64_t pa)
{
    unsigned slot = (unsigned)((pa >> 12) % DCACHE_SLOTS);
    struct dpage *p = h->dcache[slot];
    if (likely(p && p->pa == pa))
        return p;
    if (!p) {
        p = malloc(sizeof *p);
        if (!p)
            return NULL;
        h->dcache[slot] = p;
    } else if (p->pa != TLB_INVALID) {
        h->code_map[(p->pa - h->m->ram_base) >> 12] = 0;
    }
    dpage_reset(p);
    p->pa = pa;
    uint64_t idx = (pa - h->m->ram_base) >> 12;
    if (idx < h->code_pages) {
        h->code_map[idx] = 1;
        mmu_protect_code(h, h->m->ram + (pa - h->m->ram_base));
    }
    return p;
}

void dcache_flush(struct hart *h)
{
    for (unsigned i = 0; i < DCACHE_SLOTS; i++) {
        struct dpage *p = h->dcache[i];
        if (p && p->pa != TLB_INVALID) {
            h->code_map[(p->pa - h->m->ram_base) >> 12] = 0;
            p->pa = TLB_INVALID;
        }
    }
    mmu_unprotect_code(h);
    h->fetch_va = TLB_INVALID;
}

void dcache_store(struct hart *h, uint64_t pa, unsigned size)
{
    uint64_t page = pa & PAGE_MASK;
    struct dpage *p = h->dcache[(page >> 12) % DCACHE_SLOTS];
    if (!p || p->pa != page)
        return;
    /* Slots whose instruction overlaps [pa, pa+size): a 4-byte one may
     * start 2 bytes before. Only fn is reset, so a handler still running
     * from one of these slots keeps reading valid fields. */
    unsigned off = (unsigned)(pa & 0xfff);
    unsigned first = off >= 2 ? (off - 2) >> 1 : 0;
    unsigned last = (off + size - 1) >> 1;
    if (last >= DPAGE_INSNS)
        last = DPAGE_INSNS - 1;
    for (unsigned i = first; i <= last; i++)
        p->insn[i].fn = insn_decode_stub;
}

void dcache_free(struct hart *h)
{
    for (unsigned i = 0; i < DCACHE_SLOTS; i++) {
        free(h->dcache[i]);
        h->dcache[i] = NULL;
    }
}
