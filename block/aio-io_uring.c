/*
 * block/aio-io_uring.c — the io_uring engine (liburing).
 *
 * Requests wait in a FIFO until a submission-queue entry is free; at most
 * `entries` are in the kernel at a time, so the completion ring (twice as
 * large) can never overflow and a queue depth beyond the ring just waits
 * its turn. A flush prepares SQEs for as many as fit and submits them all
 * with one io_uring_enter, then peeks the completion ring at once: a fast
 * device has often finished already, and harvesting now frees ring slots
 * and shortens latency (seed 000). Completions are announced on an eventfd
 * registered with the ring, watched by the home loop.
 *
 * Errors: a CQE's -errno goes to the core, which resubmits -EAGAIN and
 * the rest of short transfers. If io_uring_enter itself fails (-EAGAIN,
 * -EBUSY: the kernel is short of resources) the SQEs stay in the ring and
 * a 1 ms timer (or the next completion) retries.
 */
#include "block/block-int.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/loop.h"

#define URING_ENTRIES 128
#define URING_RETRY_NS 1000000ull

struct uring {
    struct blk *b;
    struct io_uring ring;
    bool ring_ok;
    int efd;
    unsigned entries;
    unsigned in_kernel;          /* SQEs prepared whose CQE is not seen */
    struct blk_req *pend_head, **pend_tail;  /* waiting for an SQE */
    struct loop_timer *retry;
};

static void uring_prep(struct uring *s, struct io_uring_sqe *sqe,
                       struct blk_req *r)
{
    int fd = s->b->fd;
    switch (r->eop) {
    case BLK_EOP_READV:
        io_uring_prep_readv(sqe, fd, r->xiov, (unsigned)r->xcnt, r->xoff);
        break;
    case BLK_EOP_WRITEV:
        io_uring_prep_writev2(sqe, fd, r->xiov, (unsigned)r->xcnt, r->xoff,
                              r->rw_flags);
        break;
    case BLK_EOP_FDATASYNC:
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        break;
    case BLK_EOP_FALLOCATE:
        io_uring_prep_fallocate(sqe, fd, r->falloc_mode, (off_t)r->xoff,
                                (off_t)r->xlen);
        break;
    }
    io_uring_sqe_set_data(sqe, r);
}

/* Report every CQE in the ring. Returns how many. */
static unsigned uring_harvest(struct uring *s)
{
    struct io_uring_cqe *cqe;
    unsigned n = 0;
    /* Each CQE is consumed before it is reported: the core may submit
     * (and so peek the ring again) from inside blk__xfer_done. */
    while (io_uring_peek_cqe(&s->ring, &cqe) == 0) {
        struct blk_req *r = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&s->ring, cqe);
        s->in_kernel--;
        n++;
        blk__xfer_done(r, res);
    }
    return n;
}

/* Give queued requests SQEs while there is room. */
static void uring_fill(struct uring *s)
{
    while (s->pend_head && s->in_kernel < s->entries) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
        if (!sqe)
            break;
        struct blk_req *r = s->pend_head;
        s->pend_head = r->next;
        if (!s->pend_head)
            s->pend_tail = &s->pend_head;
        uring_prep(s, sqe, r);
        s->in_kernel++;
    }
}

static void uring_flush(struct blk *b)
{
    struct uring *s = b->eng;
    for (;;) {
        uring_fill(s);
        if (io_uring_sq_ready(&s->ring) == 0)
            return;
        int ret = io_uring_submit(&s->ring);
        blk__count(&b->st.submit_calls, 1);
        if (ret < 0) {
            if (ret != -EAGAIN && ret != -EBUSY && ret != -EINTR)
                log_error("blk %s: io_uring_submit: %s", b->path,
                          strerror(-ret));
            /* The SQEs stay in the ring for the retry. */
            if (!loop_timer_pending(s->retry))
                loop_timer_mod(s->retry, clock_ns() + URING_RETRY_NS);
            return;
        }
        /* Seed 000: harvest what has already completed. Requests the core
         * resubmits meanwhile only queue (plugged); the loop sends them. */
        b->plugged++;
        unsigned n = uring_harvest(s);
        b->plugged--;
        blk__count(&b->st.early_completions, n);
        if (!s->pend_head || s->in_kernel >= s->entries)
            return;
    }
}

static void uring_queue(struct blk *b, struct blk_req *r)
{
    struct uring *s = b->eng;
    r->next = NULL;
    *s->pend_tail = r;
    s->pend_tail = &r->next;
}

/* The home loop: the ring's eventfd says CQEs were posted. */
static void uring_event(void *opaque, int fd, unsigned events)
{
    struct blk *b = opaque;
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    blk__batch_begin(b);
    uring_harvest(b->eng);
    blk__batch_end(b);   /* submits what the callbacks queued */
}

static void uring_retry(void *opaque)
{
    struct blk *b = opaque;
    blk__batch_begin(b);
    blk__batch_end(b);
}

static bool uring_poll(struct blk *b)
{
    struct uring *s = b->eng;
    return io_uring_cq_ready(&s->ring) && uring_harvest(s) > 0;
}

static bool uring_wait(struct blk *b)
{
    struct uring *s = b->eng;
    blk__flush(b);
    if (!s->in_kernel)
        return s->pend_head != NULL;
    struct io_uring_cqe *cqe;
    int ret;
    do {
        /* Submits SQEs a failed io_uring_submit left behind, too. */
        ret = io_uring_submit_and_wait(&s->ring, 1);
        if (ret == -EAGAIN || ret == -EBUSY)
            usleep(1000);
    } while (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY);
    if (ret < 0 && io_uring_peek_cqe(&s->ring, &cqe) != 0) {
        log_error("blk %s: io_uring wait: %s", b->path, strerror(-ret));
        return false;
    }
    blk__batch_begin(b);
    uring_harvest(s);
    blk__batch_end(b);
    return true;
}

/* Why io_uring is unavailable, and what to use instead. */
static void uring_setup_error(struct blk *b, int ret, char *err,
                              size_t errlen)
{
    if (ret == -ENOSYS) {
        snprintf(err, errlen, "'%s': aio=io_uring: this kernel has no "
                 "io_uring; use aio=native or aio=threads", b->path);
    } else if (ret == -EPERM) {
        int dis = -1;
        FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
        if (f) {
            if (fscanf(f, "%d", &dis) != 1)
                dis = -1;
            fclose(f);
        }
        if (dis > 0)
            snprintf(err, errlen, "'%s': aio=io_uring: io_uring is disabled "
                     "(kernel.io_uring_disabled=%d); use aio=native or "
                     "aio=threads", b->path, dis);
        else
            snprintf(err, errlen, "'%s': aio=io_uring: io_uring is disabled "
                     "by a seccomp or container policy (io_uring_setup: %s); "
                     "use aio=native or aio=threads", b->path,
                     strerror(-ret));
    } else {
        snprintf(err, errlen, "'%s': aio=io_uring: cannot set up a ring: "
                 "%s", b->path, strerror(-ret));
    }
}

/* Opcodes this engine needs; fallocate is optional (without it discard is
 * skipped and write-zeroes writes zeroes). */
static int uring_probe(struct blk *b, struct uring *s, char *err,
                       size_t errlen)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(&s->ring);
    if (!p)
        return 0;   /* kernel < 5.6 cannot tell: hope for the best */
    static const int need[] = { IORING_OP_READV, IORING_OP_WRITEV,
                                IORING_OP_FSYNC };
    for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        if (!io_uring_opcode_supported(p, need[i])) {
            snprintf(err, errlen, "'%s': aio=io_uring: the kernel's "
                     "io_uring lacks opcode %d; use aio=native or "
                     "aio=threads", b->path, need[i]);
            io_uring_free_probe(p);
            return -ENOTSUP;
        }
    }
    if (!io_uring_opcode_supported(p, IORING_OP_FALLOCATE))
        b->have_punch_hole = b->have_zero_range = false;
    io_uring_free_probe(p);
    return 0;
}

static void uring_cleanup(struct blk *b)
{
    struct uring *s = b->eng;
    if (!s)
        return;
    if (s->retry)
        loop_timer_free(s->retry);
    if (s->efd >= 0) {
        loop_del_fd(b->home, s->efd);
        close(s->efd);
    }
    if (s->ring_ok)
        io_uring_queue_exit(&s->ring);
    free(s);
    b->eng = NULL;
}

static int uring_init(struct blk *b, char *err, size_t errlen)
{
    struct uring *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "'%s': out of memory", b->path);
        return -ENOMEM;
    }
    s->b = b;
    s->efd = -1;
    s->entries = URING_ENTRIES;
    s->pend_tail = &s->pend_head;
    b->eng = s;
    int ret = io_uring_queue_init(s->entries, &s->ring, 0);
    if (ret < 0) {
        uring_setup_error(b, ret, err, errlen);
        goto fail;
    }
    s->ring_ok = true;
    ret = uring_probe(b, s, err, errlen);
    if (ret < 0)
        goto fail;
    s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->efd < 0) {
        ret = -errno;
        snprintf(err, errlen, "'%s': eventfd: %s", b->path, strerror(errno));
        goto fail;
    }
    ret = io_uring_register_eventfd(&s->ring, s->efd);
    if (ret < 0) {
        snprintf(err, errlen, "'%s': aio=io_uring: cannot register the "
                 "completion eventfd: %s", b->path, strerror(-ret));
        goto fail;
    }
    s->retry = loop_timer_new(b->home, uring_retry, b);
    if (!s->retry || !loop_add_fd(b->home, s->efd, LOOP_IN, uring_event, b)) {
        ret = -ENOMEM;
        snprintf(err, errlen, "'%s': cannot watch the completion eventfd",
                 b->path);
        goto fail;
    }
    return 0;
fail:
    uring_cleanup(b);
    return ret;
}

const struct blk_engine_ops blk_engine_io_uring = {
    .name = "io_uring",
    .init = uring_init,
    .cleanup = uring_cleanup,
    .queue = uring_queue,
    .flush = uring_flush,
    .wait = uring_wait,
    .poll = uring_poll,
};
