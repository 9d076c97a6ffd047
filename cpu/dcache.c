/*
 * cpu/dcache.c — the per-hart cache of pre-decoded guest pages, keyed by
 * physical page (direct-mapped, DCACHE_SLOTS slots, allocated on first
 * use). A page's slots start as insn_decode_stub and decode themselves on
 * first execution, so data mixed with code costs nothing.
 *
 * Each page keeps a snapshot of its 4 KiB, taken when the page enters the
 * cache; a slot decoding itself copies its bytes from RAM into the
 * snapshot, so the snapshot always holds what the decoded slots were
 * decoded from (except after code bytes shared by two overlapping decoded
 * instructions were changed by another hart — jumping into the middle of
 * an instruction while another hart rewrites it without FENCE.I). Each slot
 * knows its offset in the page (`off`); sentinel slots past the end stop
 * straight-line execution (cpu/exec.h).
 *
 * Coherence. code_map has one byte per RAM page: "this hart holds decoded
 * instructions of it". The TLB never gives such a page a fast write tag, so
 * every store to it by this hart takes the slow path, which updates the
 * snapshot and resets exactly the slots the store may have changed
 * (immediately, even for the running page). Stores by other harts and by
 * devices (DMA) are not seen until this hart executes FENCE.I, as Zifencei
 * allows — Linux issues it (flush_icache_all, SBI remote FENCE.I) before
 * running modified code. FENCE.I marks every page stale; on its next entry
 * a stale page's snapshot is compared with RAM: unchanged pages (nearly
 * all: Linux issues FENCE.I for every new executable user page) keep their
 * decoded instructions, changed ones start over.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/exec.h"

/* Guest RAM may be written by other harts while we read it: read it with
 * relaxed atomics (plain moves on x86), never memcpy/memcmp, so that the
 * race is defined (and quiet under ThreadSanitizer). */
static void snap_copy(uint8_t *snap, const uint8_t *ram, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        snap[i] = __atomic_load_n(&ram[i], __ATOMIC_RELAXED);
}

static void snap_take_page(uint8_t *snap, const uint8_t *ram)
{
    uint64_t *d = (uint64_t *)(void *)snap;
    const uint64_t *s = (const uint64_t *)(const void *)ram;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static bool snap_matches_page(const uint8_t *snap, const uint8_t *ram)
{
    const uint64_t *d = (const uint64_t *)(const void *)snap;
    const uint64_t *s = (const uint64_t *)(const void *)ram;
    uint64_t diff = 0;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        diff |= d[i] ^ __atomic_load_n(&s[i], __ATOMIC_RELAXED);
    return diff == 0;
}

/* Take a new snapshot of the page at pa and forget every decoded slot. */
static void dpage_reset(struct hart *h, struct dpage *p, uint64_t pa)
{
    snap_take_page(p->snap, h->m->ram + (pa - h->m->ram_base));
    for (unsigned i = 0; i < DPAGE_SLOTS; i++)
        p->insn[i] = (struct dinsn){
            .run = i < DPAGE_INSNS ? insn_decode_stub : ex_stop,
            .off = (uint16_t)(2 * i),
        };
}

struct dpage *dcache_page(struct hart *h, uint64_t pa)
{
    unsigned slot = (unsigned)((pa >> 12) % DCACHE_SLOTS);
    uint64_t tag = h->dcache_tag[slot];
    struct dpage *p = h->dcache[slot];
    if (likely(tag == pa))
        return p;
    if (tag == (pa | DCACHE_STALE)) {
        const uint8_t *ram = h->m->ram + (pa - h->m->ram_base);
        if (!snap_matches_page(p->snap, ram))
            dpage_reset(h, p, pa);
        h->dcache_tag[slot] = pa;
        return p;
    }
    if (!p) {
        p = malloc(sizeof *p);
        if (!p)
            return NULL;
        h->dcache[slot] = p;
    } else if (tag != TLB_INVALID) {
        h->code_map[((tag & PAGE_MASK) - h->m->ram_base) >> 12] = 0;
        /* Recently entered pages may point at this one. */
        for (unsigned i = 0; i < FPC_SIZE; i++)
            if (h->fpc[i].page == p->insn)
                h->fpc[i].va = TLB_INVALID;
    }
    dpage_reset(h, p, pa);
    h->dcache_tag[slot] = pa;
    uint64_t idx = (pa - h->m->ram_base) >> 12;
    if (idx < h->code_pages) {
        h->code_map[idx] = 1;
        mmu_protect_code(h, h->m->ram + (pa - h->m->ram_base));
    }
    return p;
}

void dcache_flush(struct hart *h)
{
    for (unsigned i = 0; i < DCACHE_SLOTS; i++)
        if (h->dcache_tag[i] != TLB_INVALID)
            h->dcache_tag[i] |= DCACHE_STALE;
    hart_fetch_flush(h);
}

void dcache_store(struct hart *h, uint64_t pa, unsigned size)
{
    uint64_t page = pa & PAGE_MASK;
    unsigned slot = (unsigned)((page >> 12) % DCACHE_SLOTS);
    if ((h->dcache_tag[slot] & PAGE_MASK) != page || h->dcache_tag[slot] == TLB_INVALID)
        return;
    struct dpage *p = h->dcache[slot];
    /* Keep the snapshot equal to RAM for the bytes this hart wrote, and
     * reset the slots whose instruction overlaps [pa, pa+size): a 4-byte
     * one may start 2 bytes before, and a fused pair (cpu/exec_fuse.c) of
     * up to 8 bytes 6 bytes before. Only `run` is reset, so a handler still
     * running from one of these slots keeps reading valid fields. */
    unsigned off = (unsigned)(pa & 0xfff);
    if (size > PAGE_SIZE - off)
        size = (unsigned)(PAGE_SIZE - off);
    snap_copy(p->snap + off, h->m->ram + (pa - h->m->ram_base), size);
    unsigned first = off >= 6 ? (off - 6) >> 1 : 0;
    unsigned last = (off + size - 1) >> 1;
    if (last >= DPAGE_INSNS)
        last = DPAGE_INSNS - 1;
    for (unsigned i = first; i <= last; i++)
        p->insn[i].run = insn_decode_stub;
}

void dcache_free(struct hart *h)
{
    for (unsigned i = 0; i < DCACHE_SLOTS; i++) {
        free(h->dcache[i]);
        h->dcache[i] = NULL;
        h->dcache_tag[i] = TLB_INVALID;
    }
}
