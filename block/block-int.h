/*
 * block/block-int.h — what the block core and its engines share: the drive,
 * the request, and the engine operations. Not for devices.
 *
 * A request's life: blk_submit() takes a request from the drive's pool,
 * validates it and prepares the transfer (xiov, possibly a bounce buffer),
 * then engine->queue(). The engine submits it (at once, or at unplug) and
 * reports each attempt's raw result with blk__xfer_done(), on the home
 * loop's thread. The core resubmits the remainder of a short transfer or a
 * request that got -EAGAIN, falls back to writing zeroes when the host
 * cannot zero a range, and finally completes the request: counters, the
 * callback (directly, or through a bottom half when we are inside
 * blk_submit/blk_unplug), then back to the pool.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include <stdatomic.h>

#include "block/block.h"
#include "util/pool.h"

struct loop;
struct loop_bh;
struct loop_timer;

/* What the engine is asked to do: the core maps device ops onto these. */
enum blk_eop {
    BLK_EOP_READV,
    BLK_EOP_WRITEV,     /* rw_flags may carry RWF_DSYNC */
    BLK_EOP_FDATASYNC,
    BLK_EOP_FALLOCATE,  /* falloc_mode, xoff, xlen */
};

#define BLK_INLINE_IOV 8

struct blk_req {
    struct blk *blk;
    struct blk_req *next;        /* engine queues, the completed list */
    enum blk_op op;
    unsigned flags;
    uint64_t offset, len;        /* the request as the device made it */
    blk_cb *cb;
    void *opaque;
    int ret;                     /* final result, once done */

    /* The device's iovec array, copied (the inline array or a grow-only
     * heap array kept across reuses of this request object). */
    struct iovec *iov;
    int iovcnt, iov_cap;
    struct iovec iov_inline[BLK_INLINE_IOV];

    /* The transfer in progress, advanced past what short transfers did. */
    enum blk_eop eop;
    int rw_flags;                /* RWF_* for READV/WRITEV */
    int falloc_mode;
    struct iovec *xiov;
    int xcnt;
    uint64_t xoff, xlen;         /* file offset and bytes still to do */
    uint64_t done;               /* bytes of the request completed */
    void *bounce;                /* aligned copy when O_DIRECT needs one */
    struct iovec bounce_iov;
    bool zero_writes;            /* WRITE_ZEROES emulated with writes */
    unsigned retries;            /* consecutive -EAGAINs */

    /* Held by an injected delay (delay list, by deadline): what to do
     * when it ends — 0 submit, 1 complete with 0, < 0 fail with it. */
    uint64_t inj_deadline;
    int inj_then;

    /* Timestamps (clock_ns) for the latency histograms to come. */
    uint64_t t_submit, t_complete;

    long eng_res;                /* a worker's result (threads engine) */
    /* Engine-private per-request state (libaio's struct iocb). */
    _Alignas(16) unsigned char engine_priv[80];
};

struct blk_engine_ops {
    const char *name;
    /* Set up the engine for `b` (fd open, home loop known). On failure,
     * a one-line message in `err` and a negative errno. */
    int (*init)(struct blk *b, char *err, size_t errlen);
    /* Release everything; nothing is in flight. */
    void (*cleanup)(struct blk *b);
    /* Take a prepared request; submitted by `flush` at the latest. */
    void (*queue)(struct blk *b, struct blk_req *r);
    /* Submit everything queued. */
    void (*flush)(struct blk *b);
    /* Block until at least one submitted request completes, and report
     * what completed (blk_drain). False if nothing is in the engine. */
    bool (*wait)(struct blk *b);
    /* Report what has completed, without blocking (no syscall when the
     * answer is "nothing"). True if anything completed. */
    bool (*poll)(struct blk *b);
};

extern const struct blk_engine_ops blk_engine_io_uring;
extern const struct blk_engine_ops blk_engine_native;
extern const struct blk_engine_ops blk_engine_threads;

/* Counters: written only on the home loop's thread (relaxed load + store,
 * no locked instruction), read from anywhere. */
struct blk_counters {
    _Atomic uint64_t ops[BLK_OP__COUNT], bytes[BLK_OP__COUNT],
        errors[BLK_OP__COUNT], total_ns[BLK_OP__COUNT];
    _Atomic uint64_t in_flight, max_in_flight, flushes, fua_writes,
        bounced, resubmits, submit_calls, early_completions,
        injected_errors, injected_delays;
};

struct blk {
    struct blk_opts opts;        /* .file points at `path` */
    char *path;
    int fd;
    struct loop *home;
    uint64_t size;
    uint32_t req_align;          /* offsets and lengths (logical block) */
    uint32_t mem_align;          /* buffer addresses for O_DIRECT */
    uint32_t phys_block;
    bool direct;

    const struct blk_engine_ops *engine;
    void *eng;                   /* the engine's state */

    struct pool reqs;            /* struct blk_req objects */
    unsigned plugged;
    unsigned submitting;         /* > 0 inside blk_submit/unplug/drain */
    struct blk_req *done_head, **done_tail;  /* callbacks to run */
    struct loop_bh *done_bh;
    /* The home loop spins over this while it has requests in flight
     * (seed 004); kicked back into the spin set by each submission. */
    struct loop_poller *poller;
    /* Requests refused because no request object could be allocated:
     * their callbacks (-ENOMEM) still run from done_bh, never inline. */
    struct { blk_cb *cb; void *opaque; } oom[16];
    unsigned noom;

    /* Host capabilities learnt at run time. Tests may clear them to reach
     * the fallbacks. */
    bool have_zero_range;        /* fallocate(ZERO_RANGE) works */
    bool have_punch_hole;
    void *zero_buf;              /* aligned zeroes for emulated zeroing */
    size_t zero_buf_len;

    /* Fault/latency injection (block/inject.h): the drive's shared rule
     * set, and the requests held by a delay, earliest deadline first,
     * released by delay_timer (home loop). */
    struct blk_inject *inj;
    struct blk_req *delayed;
    struct loop_timer *delay_timer;

    struct blk_counters st;
};

/* Engine → core: one attempt of `r` finished with `res` (bytes, 0 or
 * -errno). Home loop thread. */
void blk__xfer_done(struct blk_req *r, long res);

/* Submit what the engine has queued, with completions it harvests on the
 * way deferred to the drive's bottom half (never a callback inside). */
void blk__flush(struct blk *b);

/* Engines call these around a batch of blk__xfer_done() calls made from
 * their own completion handler: requests submitted by the callbacks are
 * submitted together at the end. */
void blk__batch_begin(struct blk *b);
void blk__batch_end(struct blk *b);

/* Injection (block/request.c): the delay timer's callback, and releasing
 * every held request at once (drain, close). Home loop thread. */
void blk__delay_timer(void *opaque);
void blk__delay_release_all(struct blk *b);

/* Counter helpers (home loop thread). */
static inline void blk__count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* The threads engine as a helper of the others: a small worker pool that
 * runs any engine op synchronously (libaio has no fallocate). */
struct blk_threads;
struct blk_threads *blk_threads_new(struct blk *b, unsigned nworkers,
                                    char *err, size_t errlen);
void blk_threads_free(struct blk_threads *t);
void blk_threads_queue(struct blk_threads *t, struct blk_req *r);
void blk_threads_flush(struct blk_threads *t);
bool blk_threads_wait(struct blk_threads *t);
bool blk_threads_poll(struct blk_threads *t);
unsigned blk_threads_busy(struct blk_threads *t);

#endif
