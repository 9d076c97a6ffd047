/*
 * util/loop_poll.c — pollers and the adaptive spin budget (see
 * loop_poll.h; the spin itself is in loop.c, which owns the wake-up
 * protocol).
 */
#include "util/loop_poll.h"

#include <stdlib.h>

static void stat_inc(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void loop_poll_init(struct loop_poll *lp)
{
    *lp = (struct loop_poll){ 0 };
}

void loop_poll_destroy(struct loop_poll *lp)
{
    for (unsigned i = 0; i < lp->nall; i++)
        free(lp->all[i]);
    free(lp->all);
    free(lp->act);
    lp->all = lp->act = NULL;
    lp->nall = lp->nact = lp->cap = 0;
}

void loop_poll_set_max(struct loop_poll *lp, uint64_t max_ns)
{
    atomic_store_explicit(&lp->max_ns, max_ns, memory_order_relaxed);
}

static void poll_budget(struct loop_poll *lp, uint64_t ns)
{
    lp->poll_ns = ns;
    atomic_store_explicit(&lp->cur_ns, ns, memory_order_relaxed);
}

void loop_poll_adapt(struct loop_poll *lp, uint64_t block_ns)
{
    uint64_t max = atomic_load_explicit(&lp->max_ns, memory_order_relaxed);
    uint64_t cur = lp->poll_ns;
    if (cur > max)              /* the maximum was lowered (or is 0) */
        cur = max;
    if (block_ns <= cur) {
        /* The spin caught the event: keep the budget. */
    } else if (block_ns <= max) {
        /* A longer spin would have caught it. */
        uint64_t n = cur ? cur * 2 : LOOP_POLL_START_NS;
        cur = n < max ? n : max;
    } else {
        /* Nothing we may spin for would have: spin less. */
        cur /= 2;
        if (cur < LOOP_POLL_START_NS)
            cur = 0;
    }
    if (cur != lp->poll_ns)
        poll_budget(lp, cur);
}

struct loop_poller *loop_poll_add(struct loop_poll *lp, loop_poll_fn *fn,
                                  void *opaque)
{
    if (lp->nall == lp->cap) {
        unsigned cap = lp->cap ? 2 * lp->cap : 4;
        struct loop_poller **a = realloc(lp->all, cap * sizeof(*a));
        if (!a)
            return NULL;
        lp->all = a;
        struct loop_poller **b = realloc(lp->act, cap * sizeof(*b));
        if (!b)
            return NULL;
        lp->act = b;
        lp->cap = cap;      /* only once both arrays have grown */
    }
    struct loop_poller *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->lp = lp;
    p->fn = fn;
    p->opaque = opaque;
    p->active = true;       /* new pollers start in the spin set */
    lp->all[lp->nall++] = p;
    lp->act[lp->nact++] = p;
    return p;
}

static void poll_free_deleted(struct loop_poll *lp)
{
    unsigned j = 0;
    for (unsigned i = 0; i < lp->nall; i++) {
        if (lp->all[i]->deleted)
            free(lp->all[i]);
        else
            lp->all[j++] = lp->all[i];
    }
    lp->nall = j;
}

/* Remove the inactive and deleted pollers from act (order kept). */
static void poll_compact_active(struct loop_poll *lp)
{
    unsigned j = 0;
    for (unsigned i = 0; i < lp->nact; i++) {
        struct loop_poller *p = lp->act[i];
        if (p->active && !p->deleted)
            lp->act[j++] = p;
        else
            p->active = false;
    }
    lp->nact = j;
}

void loop_poll_del(struct loop_poller *p, bool in_dispatch)
{
    if (!p)
        return;
    struct loop_poll *lp = p->lp;
    p->deleted = true;
    lp->garbage = true;
    if (!in_dispatch)
        loop_poll_collect(lp);
}

void loop_poll_kick(struct loop_poller *p)
{
    if (p->active || p->deleted)
        return;
    struct loop_poll *lp = p->lp;
    /* act has room for every registered poller, and an inactive one is
     * not in it. */
    p->active = true;
    p->last_progress = 0;
    lp->act[lp->nact++] = p;
}

bool loop_poll_round(struct loop_poll *lp, uint64_t now)
{
    bool progress = false;
    /* A callback may kick (append) or delete (mark) pollers: index-based,
     * and only up to the count at entry. */
    unsigned n = lp->nact;
    for (unsigned i = 0; i < n; i++) {
        struct loop_poller *p = lp->act[i];
        if (p->deleted || !p->active)
            continue;
        if (p->fn(p->opaque)) {
            p->last_progress = now;
            progress = true;
        }
    }
    return progress;
}

void loop_poll_collect(struct loop_poll *lp)
{
    if (!lp->garbage)
        return;
    poll_compact_active(lp);
    poll_free_deleted(lp);
    lp->garbage = false;
}

void loop_poll_sweep(struct loop_poll *lp, uint64_t now)
{
    bool idle = false;
    for (unsigned i = 0; i < lp->nact; i++) {
        struct loop_poller *p = lp->act[i];
        if (p->last_progress == 0) {
            p->last_progress = now;     /* joined since the last sweep */
        } else if (now - p->last_progress > LOOP_POLL_IDLE_NS) {
            p->active = false;
            idle = true;
            stat_inc(&lp->st_removed);
        }
    }
    if (idle && !lp->garbage)
        poll_compact_active(lp);
    loop_poll_collect(lp);
}
