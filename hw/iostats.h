/*
 * hw/iostats.h — per-drive, per-queue I/O statistics of the disk
 * controllers, the latency of each phase of a request, and the stall
 * detector (docs/latency.md).
 *
 * A request's life, as the device sees it:
 *
 *   doorbell   the guest's MMIO write on a vCPU thread (virtio queue
 *              notify; AHCI PxCI or PxSACT). A request that arrives while
 *              an earlier doorbell of its queue is still unprocessed takes
 *              that doorbell's time: the queue remembers the oldest one.
 *   submit     blk_submit() on the queue's iothread.
 *   complete   the block layer's callback, on the same iothread.
 *   irq        the device raised (or re-asserted) its interrupt for it.
 *
 * Phases: WAIT = doorbell -> submit (queueing in the emulator: seed 003's
 * 499 ms stall shows here), SERVICE = submit -> complete (the host
 * backend), IRQ = complete -> irq. A request whose WAIT reaches the
 * registry's stall threshold is a stall: counted per queue, and reported
 * by one warning line (at most one per queue per second, the lines in
 * between counted as suppressed).
 *
 * Ownership: a device creates one struct iostats_drive per disk with
 * iostats_drive_new(), which also registers it in the machine's registry
 * (struct machine.iostats; may be NULL in unit tests), and frees it with
 * iostats_drive_free(). Other code (--stats, --stats-json, the control
 * socket) walks the registry.
 *
 * Threads: iostats_doorbell() runs on vCPU threads (one atomic
 * compare-and-swap). Every other hook runs on the thread that owns the
 * queue (its iothread), one writer per queue, no lock. Snapshots may be
 * taken on any thread.
 */
#ifndef HW_IOSTATS_H
#define HW_IOSTATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "util/hist.h"

enum iostats_phase {
    IOSTATS_WAIT = 0,       /* doorbell -> submit */
    IOSTATS_SERVICE,        /* submit -> complete */
    IOSTATS_IRQ,            /* complete -> interrupt */
    IOSTATS_PHASES
};

#define IOSTATS_DEFAULT_STALL_NS 10000000ull    /* 10 ms */
#define IOSTATS_WARN_INTERVAL_NS 1000000000ull  /* one line per queue per s */
#define IOSTATS_MAX_DRIVES 64   /* what reports list (the board has <= 22) */

/* A request's timestamps (CLOCK_MONOTONIC ns), kept in the device's
 * request. Zeroed by iostats_req_start(); submit_ns != 0 once submitted. */
struct iostats_req {
    uint64_t doorbell_ns, submit_ns, complete_ns;
};

struct iostats_queue {
    /* Written by vCPU threads: its own cache line. */
    _Alignas(64) _Atomic uint64_t doorbell_ns;  /* oldest unprocessed, or 0 */
    bool off;                                   /* = drive->off */
    _Alignas(64) struct iostats_drive *drive;
    unsigned index;
    _Atomic uint64_t ops[BLK_OP__COUNT];        /* completed requests */
    _Atomic uint64_t bytes[BLK_OP__COUNT];      /* of the successful ones */
    _Atomic uint64_t errors[BLK_OP__COUNT];     /* completed with an error */
    _Atomic uint64_t inflight, max_inflight;
    _Atomic uint64_t stalls, stall_max_ns;
    uint64_t warn_ns, warn_suppressed;          /* rate limit (owner only) */
    struct hist phase[IOSTATS_PHASES];
};

/* What a drive is, for reports (strings are copied). */
struct iostats_drive_info {
    const char *id;         /* -drive id=, or the default name */
    const char *iface;      /* "virtio" or "ahci" */
    const char *file;
    bool readonly;
    enum blk_aio aio;
    enum blk_cache cache;
    uint64_t size;          /* bytes */
    unsigned nqueues;       /* >= 1 */
};

struct iostats_drive {
    struct iostats *reg;    /* NULL when unregistered */
    struct iostats_drive_info info;     /* owns id and file */
    struct iostats_queue *queues;
    bool off;               /* statistics off: every hook returns at once */
};

/* A plain copy of a queue's (or a whole drive's) counters. */
struct iostats_queue_snap {
    uint64_t ops[BLK_OP__COUNT], bytes[BLK_OP__COUNT], errors[BLK_OP__COUNT];
    uint64_t inflight, max_inflight, stalls, stall_max_ns;
    struct hist_snap phase[IOSTATS_PHASES];
};

/* ---- the registry (the machine owns it) ---- */

/* A registry; stall_threshold_ns 0 turns the detector off. NULL when out
 * of memory. */
struct iostats *iostats_new(uint64_t stall_threshold_ns);
/* Free the registry. Its drives must be freed first. NULL is a no-op. */
void iostats_free(struct iostats *r);

/* --x-no-iostats: drives registered from now on record nothing (to
 * measure what the statistics cost). Before the devices are built. */
void iostats_set_enabled(struct iostats *r, bool on);

uint64_t iostats_stall_threshold(const struct iostats *r);
void iostats_set_stall_threshold(struct iostats *r, uint64_t ns);
/* Stalls seen on every drive so far. */
uint64_t iostats_total_stalls(const struct iostats *r);

/* Copy up to `max` registered drives into out[] (in registration order);
 * returns how many there are. A drive stays valid until its device is
 * freed (for the board: until the machine is destroyed). Any thread. */
unsigned iostats_drives(struct iostats *r, struct iostats_drive **out,
                        unsigned max);

/* ---- drives (the devices) ---- */

/* A drive with info->nqueues queues, registered in r (if not NULL).
 * NULL when out of memory. Before the guest runs. */
struct iostats_drive *iostats_drive_new(struct iostats *r,
                                        const struct iostats_drive_info *info);
/* Unregister and free. NULL is a no-op. */
void iostats_drive_free(struct iostats_drive *d);

static inline struct iostats_queue *iostats_queue(struct iostats_drive *d,
                                                  unsigned q)
{
    return &d->queues[q < d->info.nqueues ? q : 0];
}

/* vCPU thread: a doorbell for queue q. Keeps the oldest unprocessed one. */
static inline void iostats_doorbell(struct iostats_queue *q, uint64_t now)
{
    uint64_t zero = 0;
    if (q->off)
        return;
    if (!atomic_load_explicit(&q->doorbell_ns, memory_order_relaxed))
        atomic_compare_exchange_strong_explicit(&q->doorbell_ns, &zero, now,
                                                memory_order_relaxed,
                                                memory_order_relaxed);
}

/* Owner: the device starts taking requests after a doorbell; returns the
 * doorbell time the requests it takes now carry (now, when there was no
 * doorbell: work found without one waited for nothing). */
uint64_t iostats_take_doorbell(struct iostats_queue *q);

/* Owner: the device took a request whose doorbell was at `doorbell_ns`. */
static inline void iostats_req_start(struct iostats_req *r,
                                     uint64_t doorbell_ns)
{
    r->doorbell_ns = doorbell_ns;
    r->submit_ns = r->complete_ns = 0;
}

/* Owner: the request goes to blk_submit() now. WAIT phase, stall check,
 * in-flight depth. */
void iostats_submit(struct iostats_queue *q, struct iostats_req *r);

/* Owner: the block layer completed a submitted request. SERVICE phase,
 * the op counters (`bytes` counted when !error). */
void iostats_complete(struct iostats_queue *q, struct iostats_req *r,
                      enum blk_op op, uint64_t bytes, bool error);

/* Owner: the device raised its interrupt for a completed request. IRQ
 * phase (nothing for a request that was never submitted). */
void iostats_irq(struct iostats_queue *q, struct iostats_req *r);

/* ---- reading ---- */

/* Any thread. */
void iostats_queue_snapshot(const struct iostats_queue *q,
                            struct iostats_queue_snap *s);
/* Every queue of the drive merged. */
void iostats_drive_snapshot(const struct iostats_drive *d,
                            struct iostats_queue_snap *s);

/* Phase names for reports: "doorbell_to_submit", "submit_to_complete",
 * "complete_to_irq". */
const char *iostats_phase_name(enum iostats_phase p);

/* Format a duration in ns as "850ns", "12.3us", "4.56ms", "1.234s". */
const char *iostats_fmt_ns(uint64_t ns, char *buf, unsigned len);

/* --stats: one latency summary line per drive to stderr. */
void iostats_print(struct iostats *r);

#endif
