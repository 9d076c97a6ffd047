/*
 * util/loop_poll.h — adaptive busy-polling for the event loop (seed 004),
 * private to util/loop.c and its unit tests. Users see loop_add_poller()
 * and loop_set_poll_max_ns() in loop.h.
 *
 * Before a loop sleeps in ppoll() it may spin for up to `poll_ns`, calling
 * its pollers (cheap "is there work?" functions that also run the work,
 * e.g. blk_poll on a drive's completion ring) and looking at its own
 * queued calls and bottom halves. Work found while spinning costs no
 * eventfd write by the producer and no sleep/wake-up by the loop.
 *
 * `poll_ns` adapts to how long the loop actually waited for its next event
 * (`block_ns`, from the start of the spin to the event, sleep included),
 * as QEMU's iothreads do:
 *   block_ns <= poll_ns             the spin caught it: keep poll_ns;
 *   poll_ns < block_ns <= max       a longer spin would have: grow poll_ns
 *                                   (from LOOP_POLL_START_NS, then ×2, at
 *                                   most max);
 *   block_ns > max                  no allowed spin would: shrink (halve,
 *                                   0 below LOOP_POLL_START_NS).
 * max == 0 disables polling (poll_ns stays 0).
 *
 * A poller that made no progress for LOOP_POLL_IDLE_NS leaves the spin set
 * (100 idle drives must not slow one busy drive, seed 004) until its owner
 * calls loop_poller_kick() — the block layer does on each submission.
 *
 * Everything here runs on the loop thread, except loop_poll_set_max()
 * (any thread).
 */
#ifndef UTIL_LOOP_POLL_H
#define UTIL_LOOP_POLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/loop.h"

/* First non-zero spin, and how long a silent poller stays in the set. */
#define LOOP_POLL_START_NS 4000ull
#define LOOP_POLL_IDLE_NS 500000000ull   /* 0.5 s */

struct loop_poller {
    struct loop_poll *lp;
    loop_poll_fn *fn;
    void *opaque;
    uint64_t last_progress;  /* clock_ns of its last progress; 0: unknown */
    bool active;             /* in lp->act (spun over) */
    bool deleted;            /* freed at the next sweep */
};

struct loop_poll {
    _Atomic uint64_t max_ns;        /* 0: never spin */
    uint64_t poll_ns;               /* the current spin budget */
    struct loop_poller **all;       /* every registered poller */
    struct loop_poller **act;       /* the active ones (capacity: cap) */
    unsigned nall, nact, cap;
    bool garbage;                   /* some poller is deleted or idle */
    /* Counters (loop thread writes, anyone reads). */
    _Atomic uint64_t st_hits;       /* spins that found work */
    _Atomic uint64_t st_misses;     /* spins that ended in a sleep */
    _Atomic uint64_t st_removed;    /* pollers dropped as idle */
    _Atomic uint64_t cur_ns;        /* poll_ns, for loop_get_stats */
};

void loop_poll_init(struct loop_poll *lp);
void loop_poll_destroy(struct loop_poll *lp);

/* Set the maximum spin (ns; 0 disables). Any thread. */
void loop_poll_set_max(struct loop_poll *lp, uint64_t max_ns);

/* Adapt poll_ns to one wait of `block_ns` (see the table above). */
void loop_poll_adapt(struct loop_poll *lp, uint64_t block_ns);

struct loop_poller *loop_poll_add(struct loop_poll *lp, loop_poll_fn *fn,
                                  void *opaque);
/* Mark deleted; `in_dispatch`: the caller is inside a spin or a callback,
 * so the object is only freed by the next loop_poll_sweep(). */
void loop_poll_del(struct loop_poller *p, bool in_dispatch);
void loop_poll_kick(struct loop_poller *p);

/* One round over the active pollers: true if any made progress. Stamps
 * the ones that did with `now`. */
bool loop_poll_round(struct loop_poll *lp, uint64_t now);

/* Free the pollers deleted inside a dispatch. Not inside a round. */
void loop_poll_collect(struct loop_poll *lp);

/* Drop pollers silent since before now - LOOP_POLL_IDLE_NS from the spin
 * set, and free deleted ones (loop_poll_collect). Not inside a round. */
void loop_poll_sweep(struct loop_poll *lp, uint64_t now);

#endif
