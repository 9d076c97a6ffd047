/*
 * hw/plic.c — the SiFive PLIC (see plic.h).
 */
#include "hw/plic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/machine.h"
#include "util/log.h"

#define PLIC_WORDS (PLIC_MAX_SOURCES / 32)
#define PLIC_MAX_CTX (2 * HART_MAX)

struct plic {
    struct machine *m;
    unsigned nsources, nwords, nctx;
    pthread_mutex_t lock;           /* everything below */
    uint8_t prio[PLIC_MAX_SOURCES];
    uint32_t level[PLIC_WORDS];     /* input lines as the devices drive them */
    uint32_t pending[PLIC_WORDS];
    uint32_t claimed[PLIC_WORDS];   /* claimed, not yet completed */
    uint32_t enable[PLIC_MAX_CTX][PLIC_WORDS];
    uint8_t threshold[PLIC_MAX_CTX];
    bool out[PLIC_MAX_CTX];         /* the level last driven on each context */
    struct plic_stats stats;
};

static bool bit_get(const uint32_t *w, unsigned i)
{
    return (w[i / 32] >> (i % 32)) & 1;
}

static void bit_put(uint32_t *w, unsigned i, bool v)
{
    if (v)
        w[i / 32] |= 1u << (i % 32);
    else
        w[i / 32] &= ~(1u << (i % 32));
}

/* Bits of word `w` that name real sources (source 0 and ids past nsources
 * are hardwired to zero). */
static uint32_t plic_valid_mask(const struct plic *p, unsigned w)
{
    uint32_t m = ~0u;
    if (w == 0)
        m &= ~1u;
    unsigned first = 32 * w;
    if (first >= p->nsources)
        return 0;
    if (p->nsources - first < 32)
        m &= (1u << (p->nsources - first)) - 1;
    return m;
}

/* The source context `ctx` should be handed: the highest priority pending
 * enabled source whose priority exceeds the threshold, lowest id on ties;
 * 0 if none. Priority 0 and priorities at or below the threshold are masked
 * (PLIC spec, "Interrupt Priority Thresholds"); we apply the mask to claims
 * too, so a claim never returns a source that could not have interrupted.
 * Caller holds the lock. */
static unsigned plic_best(const struct plic *p, unsigned ctx)
{
    unsigned best = 0, best_prio = p->threshold[ctx];
    for (unsigned w = 0; w < p->nwords; w++) {
        uint32_t cand = p->pending[w] & p->enable[ctx][w];
        while (cand) {
            unsigned b = (unsigned)__builtin_ctz(cand);
            cand &= cand - 1;
            unsigned src = 32 * w + b;
            if (p->prio[src] > best_prio) {
                best = src;
                best_prio = p->prio[src];
            }
        }
    }
    return best;
}

/* Re-evaluate every context's output and drive the harts' lines that
 * changed. Caller holds the lock (so line changes reach harts in order). */
static void plic_update(struct plic *p)
{
    for (unsigned ctx = 0; ctx < p->nctx; ctx++) {
        bool lvl = plic_best(p, ctx) != 0;
        if (lvl == p->out[ctx])
            continue;
        p->out[ctx] = lvl;
        struct hart *h = p->m->harts[ctx / 2];
        if (h)
            hart_set_irq(h, ctx & 1 ? IRQ_SEI : IRQ_MEI, lvl);
    }
}

struct plic *plic_new(struct machine *m, unsigned nsources)
{
    if (nsources < 1 || nsources > PLIC_MAX_SOURCES) {
        log_error("plic: %u sources is not in 1..%u", nsources,
                  PLIC_MAX_SOURCES);
        return NULL;
    }
    struct plic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->m = m;
    p->nsources = nsources;
    p->nwords = (nsources + 31) / 32;
    p->nctx = 2 * (m->nharts < HART_MAX ? m->nharts : HART_MAX);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void plic_free(struct plic *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void plic_reset(struct plic *p)
{
    pthread_mutex_lock(&p->lock);
    memset(p->prio, 0, sizeof(p->prio));
    memset(p->claimed, 0, sizeof(p->claimed));
    memset(p->enable, 0, sizeof(p->enable));
    memset(p->threshold, 0, sizeof(p->threshold));
    /* With every priority 0 nothing can interrupt, but keep the gateway
     * state honest: an asserted line stays a pending request. */
    memcpy(p->pending, p->level, sizeof(p->pending));
    plic_update(p);
    pthread_mutex_unlock(&p->lock);
}

void plic_set_irq(void *opaque, unsigned src, bool level)
{
    struct plic *p = opaque;
    if (src == 0 || src >= p->nsources) {
        log_error("plic: input %u does not exist", src);
        return;
    }
    pthread_mutex_lock(&p->lock);
    bit_put(p->level, src, level);
    /* The gateway (PLIC spec, "Interrupt Gateways"): while claimed, the
     * source waits for its completion; otherwise pending follows the line. */
    if (!bit_get(p->claimed, src))
        bit_put(p->pending, src, level);
    plic_update(p);
    pthread_mutex_unlock(&p->lock);
}

/* Claim (PLIC spec, "Interrupt Claim Process"): hand out the best source
 * and clear its pending bit. */
static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
    unsigned src = plic_best(p, ctx);
    if (src) {
        bit_put(p->pending, src, false);
        bit_put(p->claimed, src, true);
        p->stats.claims++;
        plic_update(p);
    } else {
        p->stats.empty_claims++;
    }
    return src;
}

/* Completion (PLIC spec, "Interrupt Completion"): ignored unless the
 * source is enabled for this context; a source whose line is still up
 * pends again. */
static void plic_complete(struct plic *p, unsigned ctx, uint32_t src)
{
    if (src == 0 || src >= p->nsources || !bit_get(p->enable[ctx], src)) {
        log_guest_error("plic: context %u completes source %u, which is "
                        "not enabled for it", ctx, src);
        return;
    }
    p->stats.completes++;
    bit_put(p->claimed, src, false);
    if (bit_get(p->level, src))
        bit_put(p->pending, src, true);
    plic_update(p);
}

/* The context register block at `off` (threshold or claim), or -1. */
static int plic_ctx_of(const struct plic *p, uint64_t off, uint64_t base,
                       uint64_t stride)
{
    uint64_t ctx = (off - base) / stride;
    return ctx < p->nctx ? (int)ctx : -1;
}

static uint32_t plic_read_locked(struct plic *p, uint64_t off)
{
    if (off < PLIC_PENDING)
        return off / 4 < p->nsources ? p->prio[off / 4] : 0;
    if (off < PLIC_ENABLE) {
        uint64_t w = (off - PLIC_PENDING) / 4;
        return w < p->nwords ? p->pending[w] : 0;
    }
    if (off < PLIC_CONTEXT) {
        int ctx = plic_ctx_of(p, off, PLIC_ENABLE, PLIC_ENABLE_STRIDE);
        uint64_t w = (off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
        return ctx >= 0 && w < p->nwords ? p->enable[ctx][w] : 0;
    }
    int ctx = plic_ctx_of(p, off, PLIC_CONTEXT, PLIC_CONTEXT_STRIDE);
    uint64_t reg = (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
    if (ctx < 0)
        return 0;
    if (reg == 0)
        return p->threshold[ctx];
    if (reg == 4)
        return plic_claim(p, (unsigned)ctx);
    return 0;
}

static void plic_write_locked(struct plic *p, uint64_t off, uint32_t val)
{
    if (off < PLIC_PENDING) {
        uint64_t src = off / 4;
        if (src == 0 || src >= p->nsources)
            return;
        p->prio[src] = val & PLIC_PRIO_MAX;     /* WARL, 3 bits */
    } else if (off < PLIC_ENABLE) {
        log_guest_error("plic: write to read-only pending bits ignored");
        return;
    } else if (off < PLIC_CONTEXT) {
        int ctx = plic_ctx_of(p, off, PLIC_ENABLE, PLIC_ENABLE_STRIDE);
        uint64_t w = (off - PLIC_ENABLE) % PLIC_ENABLE_STRIDE / 4;
        if (ctx < 0 || w >= p->nwords)
            return;
        p->enable[ctx][w] = val & plic_valid_mask(p, (unsigned)w);
    } else {
        int ctx = plic_ctx_of(p, off, PLIC_CONTEXT, PLIC_CONTEXT_STRIDE);
        uint64_t reg = (off - PLIC_CONTEXT) % PLIC_CONTEXT_STRIDE;
        if (ctx < 0)
            return;
        if (reg == 0)
            p->threshold[ctx] = val & PLIC_PRIO_MAX;
        else if (reg == 4)
            plic_complete(p, (unsigned)ctx, val);
        else
            return;
    }
    plic_update(p);
}

/* All PLIC registers are 32 bits, accessed whole (QEMU refuses others). */
static bool plic_access_ok(uint64_t off, unsigned size)
{
    if (size != 4 || (off & 3) || off >= PLIC_SIZE) {
        log_guest_error("plic: bad %u-byte access at +0x%llx", size,
                        (unsigned long long)off);
        return false;
    }
    return true;
}

static bool plic_read(void *opaque, uint64_t off, unsigned size,
                      uint64_t *val)
{
    struct plic *p = opaque;
    if (!plic_access_ok(off, size))
        return false;
    pthread_mutex_lock(&p->lock);
    *val = plic_read_locked(p, off);
    pthread_mutex_unlock(&p->lock);
    return true;
}

static bool plic_write(void *opaque, uint64_t off, unsigned size,
                       uint64_t val)
{
    struct plic *p = opaque;
    if (!plic_access_ok(off, size))
        return false;
    pthread_mutex_lock(&p->lock);
    plic_write_locked(p, off, (uint32_t)val);
    pthread_mutex_unlock(&p->lock);
    return true;
}

struct plic_stats plic_get_stats(struct plic *p)
{
    pthread_mutex_lock(&p->lock);
    struct plic_stats s = p->stats;
    pthread_mutex_unlock(&p->lock);
    return s;
}

const struct mmio_ops plic_mmio_ops = {
    .read = plic_read,
    .write = plic_write,
};
