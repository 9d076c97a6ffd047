/*
 * block/aio-native.c — the Linux native AIO engine (libaio).
 *
 * Reads and writes go to the kernel as IOCB_CMD_PREADV/PWRITEV (FUA as
 * RWF_DSYNC in aio_rw_flags), flushes as IOCB_CMD_FDSYNC. Each iocb names
 * an eventfd (IOCB_FLAG_RESFD) that the home loop watches. At most
 * `entries` iocbs are in the kernel; the rest wait in a FIFO. After each
 * io_submit the completion ring is peeked at once (seed 000, where this
 * lesson was learnt on this very interface).
 *
 * Errors: io_submit returning -EAGAIN (the kernel is out of aio slots)
 * leaves the requests queued for the next completion or a 1 ms timer. An
 * error on the first iocb fails that request only (the core reports it),
 * except -EINVAL on FDSYNC: that kernel or filesystem cannot do it in
 * AIO, so flushes move to a helper thread from then on. Short transfers
 * and per-request -EAGAIN are resubmitted by the core. libaio cannot
 * fallocate: discard and write-zeroes always use the helper thread.
 *
 * Without O_DIRECT, io_submit blocks while it copies through the page
 * cache (seed 001): it works, but cache=none is this engine's case.
 */
#include "block/block-int.h"

#include <errno.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/loop.h"

#define NATIVE_ENTRIES 128
#define NATIVE_RETRY_NS 1000000ull
#define NATIVE_HELPERS 1

_Static_assert(sizeof(struct iocb) <= sizeof(((struct blk_req *)0)->engine_priv),
               "struct iocb must fit in a request's engine_priv");

struct native {
    struct blk *b;
    io_context_t ctx;
    bool ctx_ok;
    int efd;
    unsigned in_kernel;
    bool have_fdsync;
    struct blk_req *pend_head, **pend_tail;
    struct blk_threads *helper;  /* fallocate, and FDSYNC fallback */
    struct loop_timer *retry;
    struct iocb *cbs[NATIVE_ENTRIES];
    struct io_event events[NATIVE_ENTRIES];
};

static struct iocb *req_iocb(struct blk_req *r)
{
    return (struct iocb *)r->engine_priv;
}

static void native_prep(struct native *s, struct blk_req *r)
{
    struct iocb *cb = req_iocb(r);
    int fd = s->b->fd;
    switch (r->eop) {
    case BLK_EOP_READV:
        io_prep_preadv(cb, fd, r->xiov, r->xcnt, (long long)r->xoff);
        break;
    case BLK_EOP_WRITEV:
        io_prep_pwritev2(cb, fd, r->xiov, r->xcnt, (long long)r->xoff,
                         r->rw_flags);
        break;
    default:   /* BLK_EOP_FDATASYNC: the only other op that reaches here */
        io_prep_fdsync(cb, fd);
        break;
    }
    cb->data = r;
    io_set_eventfd(cb, s->efd);
}

/* Report completions without waiting. Returns how many. */
static unsigned native_harvest(struct native *s)
{
    static const struct timespec zero = { 0, 0 };
    unsigned total = 0;
    for (;;) {
        int n = io_getevents(s->ctx, 0, NATIVE_ENTRIES, s->events,
                             (struct timespec *)&zero);
        if (n <= 0)
            return total;
        /* Copy out first: a report may submit and harvest again, which
         * would reuse s->events. */
        struct io_event ev[NATIVE_ENTRIES];
        memcpy(ev, s->events, (size_t)n * sizeof(ev[0]));
        s->in_kernel -= (unsigned)n;
        total += (unsigned)n;
        for (int i = 0; i < n; i++)
            blk__xfer_done(ev[i].data, (long)ev[i].res);
    }
}

static bool native_helper(struct native *s, char *err, size_t errlen)
{
    if (!s->helper)
        s->helper = blk_threads_new(s->b, NATIVE_HELPERS, err, errlen);
    return s->helper != NULL;
}

static void native_queue(struct blk *b, struct blk_req *r)
{
    struct native *s = b->eng;
    if (r->eop == BLK_EOP_FALLOCATE ||
        (r->eop == BLK_EOP_FDATASYNC && !s->have_fdsync)) {
        char err[160];
        if (native_helper(s, err, sizeof(err))) {
            blk_threads_queue(s->helper, r);
        } else {
            log_error("%s", err);
            b->plugged++;
            blk__xfer_done(r, -ENOMEM);
            b->plugged--;
        }
        return;
    }
    r->next = NULL;
    *s->pend_tail = r;
    s->pend_tail = &r->next;
}

static struct blk_req *pend_pop(struct native *s)
{
    struct blk_req *r = s->pend_head;
    s->pend_head = r->next;
    if (!s->pend_head)
        s->pend_tail = &s->pend_head;
    return r;
}

/* io_submit failed on its first iocb with `ret`. */
static void native_submit_error(struct native *s, int ret)
{
    struct blk_req *r = pend_pop(s);
    struct blk *b = s->b;
    b->plugged++;
    if (r->eop == BLK_EOP_FDATASYNC && ret == -EINVAL) {
        log_info("blk %s: aio=native: no IOCB_CMD_FDSYNC here; flushing "
                 "from a thread", b->path);
        s->have_fdsync = false;
        native_queue(b, r);
    } else {
        blk__xfer_done(r, ret);
    }
    b->plugged--;
}

static void native_flush(struct blk *b)
{
    struct native *s = b->eng;
    if (s->helper)
        blk_threads_flush(s->helper);
    while (s->pend_head && s->in_kernel < NATIVE_ENTRIES) {
        int n = 0;
        for (struct blk_req *r = s->pend_head;
             r && s->in_kernel + (unsigned)n < NATIVE_ENTRIES; r = r->next) {
            native_prep(s, r);
            s->cbs[n++] = req_iocb(r);
        }
        int ret = io_submit(s->ctx, n, s->cbs);
        blk__count(&b->st.submit_calls, 1);
        if (ret == -EAGAIN || ret == -EINTR) {
            if (!loop_timer_pending(s->retry))
                loop_timer_mod(s->retry, clock_ns() + NATIVE_RETRY_NS);
            return;
        }
        if (ret < 0) {
            native_submit_error(s, ret);
            continue;
        }
        for (int i = 0; i < ret; i++)
            pend_pop(s);
        s->in_kernel += (unsigned)ret;
        /* Seed 000: harvest what has already completed. */
        b->plugged++;
        unsigned got = native_harvest(s);
        b->plugged--;
        blk__count(&b->st.early_completions, got);
        if (s->helper)
            blk_threads_flush(s->helper);
    }
}

static void native_event(void *opaque, int fd, unsigned events)
{
    struct blk *b = opaque;
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    blk__batch_begin(b);
    native_harvest(b->eng);
    blk__batch_end(b);
}

static void native_retry(void *opaque)
{
    struct blk *b = opaque;
    blk__batch_begin(b);
    blk__batch_end(b);
}

/* libaio's io_getevents reads the completion ring in user space when the
 * timeout is zero and the ring is empty: no syscall for "nothing". */
static bool native_poll(struct blk *b)
{
    struct native *s = b->eng;
    bool progress = s->in_kernel && native_harvest(s) > 0;
    if (s->helper)
        progress |= blk_threads_poll(s->helper);
    return progress;
}

static bool native_wait(struct blk *b)
{
    struct native *s = b->eng;
    blk__flush(b);
    if (s->in_kernel) {
        int n;
        do {
            n = io_getevents(s->ctx, 1, NATIVE_ENTRIES, s->events, NULL);
        } while (n == -EINTR);
        if (n < 0) {
            log_error("blk %s: io_getevents: %s", b->path, strerror(-n));
            return false;
        }
        struct io_event ev[NATIVE_ENTRIES];
        memcpy(ev, s->events, (size_t)n * sizeof(ev[0]));
        s->in_kernel -= (unsigned)n;
        blk__batch_begin(b);
        for (int i = 0; i < n; i++)
            blk__xfer_done(ev[i].data, (long)ev[i].res);
        blk__batch_end(b);
        return true;
    }
    if (blk_threads_busy(s->helper))
        return blk_threads_wait(s->helper);
    if (s->pend_head) {   /* io_submit said -EAGAIN with nothing running */
        usleep(1000);
        return true;
    }
    return false;
}

static void native_cleanup(struct blk *b)
{
    struct native *s = b->eng;
    if (!s)
        return;
    blk_threads_free(s->helper);
    if (s->retry)
        loop_timer_free(s->retry);
    if (s->efd >= 0) {
        loop_del_fd(b->home, s->efd);
        close(s->efd);
    }
    if (s->ctx_ok)
        io_destroy(s->ctx);
    free(s);
    b->eng = NULL;
}

static int native_init(struct blk *b, char *err, size_t errlen)
{
    struct native *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "'%s': out of memory", b->path);
        return -ENOMEM;
    }
    s->b = b;
    s->efd = -1;
    s->have_fdsync = true;
    s->pend_tail = &s->pend_head;
    b->eng = s;
    int ret = io_setup(NATIVE_ENTRIES, &s->ctx);
    if (ret < 0) {
        if (ret == -ENOSYS)
            snprintf(err, errlen, "'%s': aio=native: this kernel has no "
                     "Linux AIO; use aio=io_uring or aio=threads", b->path);
        else if (ret == -EAGAIN)
            snprintf(err, errlen, "'%s': aio=native: out of AIO contexts "
                     "(raise fs.aio-max-nr) or use aio=io_uring", b->path);
        else
            snprintf(err, errlen, "'%s': aio=native: io_setup: %s", b->path,
                     strerror(-ret));
        goto fail;
    }
    s->ctx_ok = true;
    s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->efd < 0) {
        ret = -errno;
        snprintf(err, errlen, "'%s': eventfd: %s", b->path, strerror(errno));
        goto fail;
    }
    s->retry = loop_timer_new(b->home, native_retry, b);
    if (!s->retry ||
        !loop_add_fd(b->home, s->efd, LOOP_IN, native_event, b)) {
        ret = -ENOMEM;
        snprintf(err, errlen, "'%s': cannot watch the completion eventfd",
                 b->path);
        goto fail;
    }
    return 0;
fail:
    native_cleanup(b);
    return ret;
}

const struct blk_engine_ops blk_engine_native = {
    .name = "native",
    .init = native_init,
    .cleanup = native_cleanup,
    .queue = native_queue,
    .flush = native_flush,
    .wait = native_wait,
    .poll = native_poll,
};
