/*
 * block/request.c — the request path: validate, prepare the transfer,
 * resubmit what the host did only partly, complete (see block-int.h for a
 * request's life).
 */
#include "block/block-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "block/inject.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/loop.h"

/* req_inject(): the request is held by a delay. */
#define REQ_HELD 2

/* Consecutive -EAGAINs (or -EINTRs) before a request fails with them. */
#define BLK_MAX_RETRIES 64
/* Size of the zero buffer used when the host cannot zero a range. */
#define BLK_ZERO_BUF (256u << 10)

static void req_complete_now(struct blk *b, struct blk_req *r);

/* ---- request objects ---- */

static struct blk_req *req_get(struct blk *b)
{
    struct blk_req *r = pool_get(&b->reqs);
    if (!r)
        return NULL;
    if (!r->iov) {  /* first use of this object: pool objects start zeroed */
        r->iov = r->iov_inline;
        r->iov_cap = BLK_INLINE_IOV;
    }
    r->blk = b;
    r->next = NULL;
    r->bounce = NULL;
    r->zero_writes = false;
    r->retries = 0;
    r->done = 0;
    r->rw_flags = 0;
    r->iovcnt = 0;
    return r;
}

/* Release what a pooled request owns (pool_destroy callback). */
void blk__req_destroy(void *obj)
{
    struct blk_req *r = obj;
    if (r->iov != r->iov_inline)
        free(r->iov);
}

/* Copy the device's iovec array, growing this object's array if needed
 * (grow-only: a reused request keeps it, so the steady state allocates
 * nothing). */
static int req_copy_iov(struct blk_req *r, const struct iovec *iov, int n)
{
    if (n > r->iov_cap) {
        struct iovec *a = malloc((size_t)n * sizeof(*a));
        if (!a)
            return -ENOMEM;
        if (r->iov != r->iov_inline)
            free(r->iov);
        r->iov = a;
        r->iov_cap = n;
    }
    if (n)
        memcpy(r->iov, iov, (size_t)n * sizeof(*iov));
    r->iovcnt = n;
    return 0;
}

/* ---- validation and preparation ---- */

/* [offset, offset + len) must lie in the image and be aligned to the
 * logical block. Written so that offset + len is never computed: a guest
 * can make it overflow. */
static int check_range(const struct blk *b, uint64_t offset, uint64_t len)
{
    if ((offset | len) & (b->req_align - 1))
        return -EINVAL;
    if (offset > b->size || len > b->size - offset)
        return -EINVAL;
    return 0;
}

/* O_DIRECT needs buffer addresses aligned to mem_align and segment lengths
 * to the logical block; anything else goes through a bounce buffer. */
static bool needs_bounce(const struct blk *b, const struct blk_req *r)
{
    if (!b->direct)
        return false;
    uintptr_t amask = b->mem_align - 1, lmask = b->req_align - 1;
    for (int i = 0; i < r->iovcnt; i++)
        if (((uintptr_t)r->iov[i].iov_base & amask) ||
            (r->iov[i].iov_len & lmask))
            return true;
    return false;
}

static int prep_bounce(struct blk *b, struct blk_req *r)
{
    size_t align = b->mem_align < sizeof(void *) ? sizeof(void *)
                                                 : b->mem_align;
    if (posix_memalign(&r->bounce, align, r->len) != 0) {
        r->bounce = NULL;
        return -ENOMEM;
    }
    if (r->op == BLK_OP_WRITE) {
        char *p = r->bounce;
        for (int i = 0; i < r->iovcnt; i++) {
            memcpy(p, r->iov[i].iov_base, r->iov[i].iov_len);
            p += r->iov[i].iov_len;
        }
    }
    r->bounce_iov = (struct iovec){ r->bounce, r->len };
    r->xiov = &r->bounce_iov;
    r->xcnt = 1;
    blk__count(&b->st.bounced, 1);
    return 0;
}

/* READ and WRITE. Returns 1 when there is nothing to transfer. */
static int prep_rw(struct blk *b, struct blk_req *r, const struct iovec *iov,
                   int iovcnt)
{
    if (r->op == BLK_OP_WRITE && b->opts.readonly)
        return -EROFS;
    if (iovcnt < 0 || iovcnt > BLK_MAX_SEGMENTS || (iovcnt && !iov))
        return -EINVAL;
    uint64_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > BLK_MAX_TRANSFER - total)
            return -EINVAL;
        total += iov[i].iov_len;
    }
    r->len = total;
    int ret = check_range(b, r->offset, total);
    if (ret < 0)
        return ret;
    ret = req_copy_iov(r, iov, iovcnt);
    if (ret < 0)
        return ret;
    if (total == 0)
        return 1;
    r->eop = r->op == BLK_OP_READ ? BLK_EOP_READV : BLK_EOP_WRITEV;
    if (r->op == BLK_OP_WRITE && (r->flags & BLK_REQ_FUA)) {
        r->rw_flags = RWF_DSYNC;
        blk__count(&b->st.fua_writes, 1);
    }
    r->xiov = r->iov;
    r->xcnt = r->iovcnt;
    r->xoff = r->offset;
    r->xlen = total;
    return needs_bounce(b, r) ? prep_bounce(b, r) : 0;
}

/* Turn the rest of a WRITE_ZEROES into the next write of zeroes. */
static int prep_zero_chunk(struct blk *b, struct blk_req *r)
{
    if (!b->zero_buf) {
        void *p;
        if (posix_memalign(&p, 4096, BLK_ZERO_BUF) != 0)
            return -ENOMEM;
        memset(p, 0, BLK_ZERO_BUF);
        b->zero_buf = p;
        b->zero_buf_len = BLK_ZERO_BUF;
    }
    uint64_t left = r->len - r->done;
    size_t chunk = left < b->zero_buf_len ? (size_t)left : b->zero_buf_len;
    r->zero_writes = true;
    r->eop = BLK_EOP_WRITEV;
    r->rw_flags = 0;
    r->bounce_iov = (struct iovec){ b->zero_buf, chunk };
    r->xiov = &r->bounce_iov;
    r->xcnt = 1;
    r->xoff = r->offset + r->done;
    r->xlen = chunk;
    return 0;
}

/* Pick how to zero a range with what the host is known to support. */
static int prep_zeroes(struct blk *b, struct blk_req *r)
{
    r->eop = BLK_EOP_FALLOCATE;
    r->xoff = r->offset + r->done;
    r->xlen = r->len - r->done;
    if ((r->flags & BLK_REQ_MAY_UNMAP) && b->have_punch_hole)
        r->falloc_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    else if (b->have_zero_range)
        r->falloc_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    else
        return prep_zero_chunk(b, r);
    return 0;
}

/* Validate `r` and prepare its first transfer. Returns 0 to submit, 1 to
 * complete at once with 0, or -errno. */
static int req_prepare(struct blk *b, struct blk_req *r,
                       const struct iovec *iov, int iovcnt, uint64_t len)
{
    int ret;
    switch (r->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        return prep_rw(b, r, iov, iovcnt);
    case BLK_OP_FLUSH:
        r->len = 0;
        r->eop = BLK_EOP_FDATASYNC;
        return 0;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        r->len = len;
        if (b->opts.readonly)
            return -EROFS;
        ret = check_range(b, r->offset, len);
        if (ret < 0 || len == 0)
            return ret < 0 ? ret : 1;
        if (r->op == BLK_OP_WRITE_ZEROES)
            return prep_zeroes(b, r);
        if (!b->have_punch_hole)
            return 1;   /* a discard is a hint: nothing to do */
        r->eop = BLK_EOP_FALLOCATE;
        r->falloc_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        r->xoff = r->offset;
        r->xlen = len;
        return 0;
    default:
        r->len = 0;
        return -EINVAL;
    }
}

/* ---- completion ---- */

static void run_done_list(struct blk *b)
{
    while (b->noom) {
        unsigned i = --b->noom;
        blk__count(&b->st.in_flight, (uint64_t)-1);
        b->oom[i].cb(b->oom[i].opaque, -ENOMEM);
    }
    while (b->done_head) {
        struct blk_req *r = b->done_head;
        b->done_head = r->next;
        if (!b->done_head)
            b->done_tail = &b->done_head;
        req_complete_now(b, r);
    }
}

void blk__done_bh(void *opaque)
{
    run_done_list(opaque);
}

static void req_complete_now(struct blk *b, struct blk_req *r)
{
    blk_cb *cb = r->cb;
    void *opaque = r->opaque;
    int ret = r->ret;
    /* Back to the pool first, so a callback that submits reuses it while
     * it is hot; in_flight drops before the callback so that a callback
     * may itself drain. */
    pool_put(&b->reqs, r);
    blk__count(&b->st.in_flight, (uint64_t)-1);
    cb(opaque, ret);
}

static void req_finish(struct blk_req *r, int ret)
{
    struct blk *b = r->blk;
    r->ret = ret;
    if (r->bounce) {
        if (r->op == BLK_OP_READ && ret > 0) {
            const char *p = r->bounce;
            for (int i = 0; i < r->iovcnt; i++) {
                memcpy(r->iov[i].iov_base, p, r->iov[i].iov_len);
                p += r->iov[i].iov_len;
            }
        }
        free(r->bounce);
        r->bounce = NULL;
    }
    r->t_complete = clock_ns();
    /* Latency histograms will record (t_submit, t_complete) here. */
    if ((unsigned)r->op < BLK_OP__COUNT) {   /* not for unknown ops */
        enum blk_op op = r->op;
        blk__count(&b->st.ops[op], 1);
        if (ret < 0)
            blk__count(&b->st.errors[op], 1);
        else
            blk__count(&b->st.bytes[op], r->len);
        blk__count(&b->st.total_ns[op], r->t_complete - r->t_submit);
    }

    if (b->submitting) {
        /* Inside blk_submit/blk_unplug (or an engine's early harvest):
         * never call back into the device from here. */
        *b->done_tail = r;
        b->done_tail = &r->next;
        r->next = NULL;
        loop_bh_schedule(b->done_bh);
    } else {
        req_complete_now(b, r);
    }
}

/* Every submission to the engine goes through here: completions the
 * engine harvests while submitting (seed 000) are deferred to done_bh, so
 * no callback ever runs inside a flush. */
void blk__flush(struct blk *b)
{
    b->submitting++;
    b->engine->flush(b);
    b->submitting--;
}

static void req_requeue(struct blk *b, struct blk_req *r)
{
    blk__count(&b->st.resubmits, 1);
    b->engine->queue(b, r);
    if (!b->plugged)
        blk__flush(b);
}

/* Move the transfer `n` bytes on (n <= xlen). */
static void xfer_advance(struct blk_req *r, uint64_t n)
{
    r->xoff += n;
    r->xlen -= n;
    r->done += n;
    while (n && r->xcnt) {
        if (n >= r->xiov->iov_len) {
            n -= r->xiov->iov_len;
            r->xiov++;
            r->xcnt--;
        } else {
            r->xiov->iov_base = (char *)r->xiov->iov_base + n;
            r->xiov->iov_len -= n;
            n = 0;
        }
    }
}

static void rw_done(struct blk *b, struct blk_req *r, long res)
{
    if (res == 0 && r->eop == BLK_EOP_READV) {
        /* End of file before the end of the request: the image shrank
         * under us. Like a sparse tail, the rest reads as zeroes. */
        for (int i = 0; i < r->xcnt; i++)
            memset(r->xiov[i].iov_base, 0, r->xiov[i].iov_len);
        res = (long)r->xlen;
    } else if (res == 0) {
        req_finish(r, -EIO);   /* a write that makes no progress */
        return;
    }
    if ((uint64_t)res > r->xlen)
        res = (long)r->xlen;
    xfer_advance(r, (uint64_t)res);
    r->retries = 0;
    if (r->xlen) {   /* short transfer: do the rest */
        req_requeue(b, r);
        return;
    }
    if (r->zero_writes) {
        if (r->done < r->len) {
            prep_zero_chunk(b, r);
            req_requeue(b, r);
            return;
        }
        req_finish(r, 0);
        return;
    }
    req_finish(r, (int)r->len);
}

/* The host could not deallocate or zero the range: remember it, and try
 * the next way (hole → zero range → writes of zeroes). */
static void falloc_unsupported(struct blk *b, struct blk_req *r)
{
    if (r->falloc_mode & FALLOC_FL_PUNCH_HOLE)
        b->have_punch_hole = false;
    else
        b->have_zero_range = false;
    if (r->op == BLK_OP_DISCARD) {
        req_finish(r, 0);   /* a discard is a hint */
        return;
    }
    int ret = prep_zeroes(b, r);
    if (ret < 0)
        req_finish(r, ret);
    else
        req_requeue(b, r);
}

void blk__xfer_done(struct blk_req *r, long res)
{
    struct blk *b = r->blk;
    if ((res == -EAGAIN || res == -EINTR) && r->retries < BLK_MAX_RETRIES) {
        r->retries++;
        req_requeue(b, r);
        return;
    }
    switch (r->eop) {
    case BLK_EOP_READV:
    case BLK_EOP_WRITEV:
        if (res < 0) {
            req_finish(r, (int)res);
            return;
        }
        rw_done(b, r, res);
        return;
    case BLK_EOP_FDATASYNC:
        if (res == 0)
            blk__count(&b->st.flushes, 1);
        req_finish(r, res < 0 ? (int)res : 0);
        return;
    case BLK_EOP_FALLOCATE:
        if (res == -EOPNOTSUPP) {
            falloc_unsupported(b, r);
            return;
        }
        req_finish(r, res < 0 ? (int)res : 0);
        return;
    }
}

/* ---- submission ---- */

void blk__batch_begin(struct blk *b)
{
    b->plugged++;
}

void blk__batch_end(struct blk *b)
{
    if (--b->plugged == 0)
        blk__flush(b);
}

/* ---- injection (block/inject.h) -------------------------------------- */

/* Hold `r` on the delay list, earliest deadline first. Rules have few
 * distinct delays, so the new one usually goes at or near the end; the
 * walk is bounded by the requests in flight. */
static void delay_hold(struct blk *b, struct blk_req *r)
{
    struct blk_req **pp = &b->delayed;
    while (*pp && (*pp)->inj_deadline <= r->inj_deadline)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    if (b->delayed == r)
        loop_timer_mod(b->delay_timer, r->inj_deadline);
}

/* Send held requests on: to the engine, or to their (injected) end.
 * Callbacks are deferred to done_bh and submissions batched, as inside
 * blk_submit. */
static void delay_release(struct blk *b, struct blk_req *list)
{
    b->submitting++;
    blk__batch_begin(b);
    while (list) {
        struct blk_req *r = list;
        list = r->next;
        r->next = NULL;
        if (r->inj_then == 0)
            b->engine->queue(b, r);
        else
            req_finish(r, r->inj_then < 0 ? r->inj_then : 0);
    }
    blk__batch_end(b);
    b->submitting--;
}

void blk__delay_timer(void *opaque)
{
    struct blk *b = opaque;
    uint64_t now = clock_ns();
    struct blk_req *list = b->delayed, **tail = &b->delayed;
    while (*tail && (*tail)->inj_deadline <= now)
        tail = &(*tail)->next;
    b->delayed = *tail;
    *tail = NULL;
    if (b->delayed)
        loop_timer_mod(b->delay_timer, b->delayed->inj_deadline);
    if (b->delayed != list)
        delay_release(b, list);
}

void blk_release_delayed(struct blk *b)
{
    blk__delay_release_all(b);
}

void blk__delay_release_all(struct blk *b)
{
    struct blk_req *list = b->delayed;
    if (!list)
        return;
    b->delayed = NULL;
    loop_timer_del(b->delay_timer);
    delay_release(b, list);
}

/* Apply the drive's rules to a validated request whose preparation
 * returned `ret` (0 submit, 1 nothing to do). Returns what to do now:
 * `ret` unchanged, an injected -errno (the request never reaches the
 * host), or REQ_HELD. A delay holds the request *before* it reaches the
 * host: the guest sees a slow device, a delayed write is not on the
 * medium before it completes, and an error combined with a delay fails
 * after the delay, still without touching the host file. */
static int req_inject(struct blk *b, struct blk_req *r, int ret)
{
    struct blk_inject_verdict v;
    if (!blk_inject_check(b->inj, r->op, r->offset, r->len, &v))
        return ret;
    if (v.err) {
        blk__count(&b->st.injected_errors, 1);
        ret = v.err;
    }
    if (!v.delay_ns)
        return ret;
    blk__count(&b->st.injected_delays, 1);
    r->inj_then = ret;
    r->inj_deadline = clock_ns() + v.delay_ns;
    delay_hold(b, r);
    return REQ_HELD;
}

/* No request object: the callback still must not run inline. */
static void submit_oom(struct blk *b, blk_cb *cb, void *opaque)
{
    blk__count(&b->st.in_flight, 1);
    if (b->noom < sizeof(b->oom) / sizeof(b->oom[0])) {
        b->oom[b->noom].cb = cb;
        b->oom[b->noom].opaque = opaque;
        b->noom++;
        loop_bh_schedule(b->done_bh);
        return;
    }
    log_error("blk %s: out of memory; completing a request inline",
              b->path);
    blk__count(&b->st.in_flight, (uint64_t)-1);
    cb(opaque, -ENOMEM);
}

void blk_submit(struct blk *b, enum blk_op op, uint64_t offset,
                const struct iovec *iov, int iovcnt, uint64_t len,
                unsigned flags, blk_cb *cb, void *opaque)
{
    struct blk_req *r = req_get(b);
    if (!r) {
        submit_oom(b, cb, opaque);
        return;
    }
    r->op = op;
    r->flags = flags;
    r->offset = offset;
    r->cb = cb;
    r->opaque = opaque;
    r->t_submit = clock_ns();
    uint64_t inflight = atomic_load_explicit(&b->st.in_flight,
                                             memory_order_relaxed) + 1;
    atomic_store_explicit(&b->st.in_flight, inflight, memory_order_relaxed);
    if (inflight > atomic_load_explicit(&b->st.max_in_flight,
                                        memory_order_relaxed))
        atomic_store_explicit(&b->st.max_in_flight, inflight,
                              memory_order_relaxed);

    if (b->poller)      /* a completion is coming: worth spinning for */
        loop_poller_kick(b->poller);
    b->submitting++;
    int ret = req_prepare(b, r, iov, iovcnt, len);
    if (ret >= 0)
        ret = req_inject(b, r, ret);
    if (ret == REQ_HELD) {
        /* the delay timer sends it on */
    } else if (ret != 0) {
        req_finish(r, ret < 0 ? ret : 0);
    } else {
        b->engine->queue(b, r);
        if (!b->plugged)
            blk__flush(b);
    }
    b->submitting--;
}

void blk_plug(struct blk *b)
{
    b->plugged++;
}

void blk_unplug(struct blk *b)
{
    if (b->plugged == 0) {
        log_error("blk %s: unbalanced blk_unplug", b->path);
        return;
    }
    if (--b->plugged == 0)
        blk__flush(b);
}

bool blk_poll(struct blk *b)
{
    bool progress = b->done_head || b->noom;
    run_done_list(b);
    blk__batch_begin(b);
    progress |= b->engine->poll(b);
    blk__batch_end(b);
    return progress;
}

void blk_drain(struct blk *b)
{
    unsigned plugged = b->plugged;
    b->plugged = 0;
    blk__flush(b);
    for (;;) {
        /* Draining cuts injected delays short: a reset or close does not
         * wait for them. */
        blk__delay_release_all(b);
        run_done_list(b);
        if (atomic_load_explicit(&b->st.in_flight, memory_order_relaxed) == 0)
            break;
        if (b->delayed)
            continue;
        if (!b->engine->wait(b) && !b->done_head && !b->noom) {
            log_error("blk %s: %llu requests in flight but none in the "
                      "engine", b->path,
                      (unsigned long long)atomic_load(&b->st.in_flight));
            break;
        }
    }
    b->plugged = plugged;
}
