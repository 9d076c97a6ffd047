/*
 * block/aio-threads.c — the thread-pool engine: worker threads make the
 * blocking calls (preadv2, pwritev2 with RWF_DSYNC for FUA, fdatasync,
 * fallocate) and hand each result back to the home loop through a bottom
 * half, which wakes that loop itself (DESIGN.md's loop rule, seed 003).
 *
 * It works on any file and kernel, so the native engine also borrows a
 * small pool for what libaio cannot do (fallocate, and fdatasync on
 * kernels without IOCB_CMD_FDSYNC).
 */
#include "block/block-int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/loop.h"

#define BLK_THREADS_WORKERS 4

struct blk_threads {
    struct blk *b;
    struct loop_bh *bh;          /* runs threads_complete on the home loop */

    pthread_mutex_t lock;
    pthread_cond_t work_cond;    /* work queued, or stop */
    pthread_cond_t done_cond;    /* a result is ready and `waiting` */
    struct blk_req *work_head, **work_tail;  /* under lock */
    struct blk_req *done_head, **done_tail;  /* under lock */
    bool stop, waiting;          /* under lock */

    /* Home loop thread only. */
    struct blk_req *pend_head, **pend_tail;  /* queued, not yet handed over */
    unsigned npend;
    unsigned busy;               /* handed to workers, result not taken */

    unsigned nworkers;
    pthread_t workers[];
};

/* One attempt of `r`, as a blocking syscall: its result or -errno. Short
 * transfers and -EAGAIN are the core's business (blk__xfer_done). */
static long threads_do(int fd, struct blk_req *r)
{
    long ret;
    do {
        switch (r->eop) {
        case BLK_EOP_READV:
            ret = preadv2(fd, r->xiov, r->xcnt, (off_t)r->xoff, 0);
            break;
        case BLK_EOP_WRITEV:
            ret = pwritev2(fd, r->xiov, r->xcnt, (off_t)r->xoff, r->rw_flags);
            break;
        case BLK_EOP_FDATASYNC:
            ret = fdatasync(fd);
            break;
        case BLK_EOP_FALLOCATE:
            ret = fallocate(fd, r->falloc_mode, (off_t)r->xoff,
                            (off_t)r->xlen);
            break;
        default:
            errno = EINVAL;
            ret = -1;
        }
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? -errno : ret;
}

static void *threads_worker(void *opaque)
{
    struct blk_threads *t = opaque;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        while (!t->stop && !t->work_head)
            pthread_cond_wait(&t->work_cond, &t->lock);
        if (t->stop)
            break;
        struct blk_req *r = t->work_head;
        t->work_head = r->next;
        if (!t->work_head)
            t->work_tail = &t->work_head;
        pthread_mutex_unlock(&t->lock);

        r->eng_res = threads_do(t->b->fd, r);

        pthread_mutex_lock(&t->lock);
        bool first = !t->done_head;
        r->next = NULL;
        *t->done_tail = r;
        t->done_tail = &r->next;
        if (t->waiting)
            pthread_cond_signal(&t->done_cond);
        if (first)   /* later results ride on the same bottom half run */
            loop_bh_schedule(t->bh);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Home loop: report every result the workers have produced. */
static void threads_complete(struct blk_threads *t)
{
    pthread_mutex_lock(&t->lock);
    struct blk_req *r = t->done_head;
    t->done_head = NULL;
    t->done_tail = &t->done_head;
    pthread_mutex_unlock(&t->lock);
    if (!r)
        return;
    blk__batch_begin(t->b);
    while (r) {
        struct blk_req *next = r->next;
        t->busy--;
        blk__xfer_done(r, r->eng_res);
        r = next;
    }
    blk__batch_end(t->b);
}

static void threads_bh(void *opaque)
{
    threads_complete(opaque);
}

struct blk_threads *blk_threads_new(struct blk *b, unsigned nworkers,
                                    char *err, size_t errlen)
{
    struct blk_threads *t = calloc(1, sizeof(*t) +
                                   nworkers * sizeof(t->workers[0]));
    if (!t) {
        snprintf(err, errlen, "'%s': out of memory", b->path);
        return NULL;
    }
    t->b = b;
    t->work_tail = &t->work_head;
    t->done_tail = &t->done_head;
    t->pend_tail = &t->pend_head;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->work_cond, NULL);
    pthread_cond_init(&t->done_cond, NULL);
    t->bh = loop_bh_new(b->home, threads_bh, t);
    if (!t->bh) {
        snprintf(err, errlen, "'%s': out of memory", b->path);
        blk_threads_free(t);
        return NULL;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        int e = pthread_create(&t->workers[i], NULL, threads_worker, t);
        if (e) {
            snprintf(err, errlen, "'%s': cannot start an I/O thread: %s",
                     b->path, strerror(e));
            blk_threads_free(t);
            return NULL;
        }
        t->nworkers++;
    }
    return t;
}

/* Stop and join the workers. Nothing may be in flight. */
void blk_threads_free(struct blk_threads *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->work_cond);
    pthread_mutex_unlock(&t->lock);
    for (unsigned i = 0; i < t->nworkers; i++)
        pthread_join(t->workers[i], NULL);
    if (t->bh)
        loop_bh_free(t->bh);
    pthread_cond_destroy(&t->done_cond);
    pthread_cond_destroy(&t->work_cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void blk_threads_queue(struct blk_threads *t, struct blk_req *r)
{
    r->next = NULL;
    *t->pend_tail = r;
    t->pend_tail = &r->next;
    t->npend++;
}

/* Hand everything queued to the workers with one lock round. */
void blk_threads_flush(struct blk_threads *t)
{
    if (!t->pend_head)
        return;
    unsigned n = t->npend;
    pthread_mutex_lock(&t->lock);
    *t->work_tail = t->pend_head;
    t->work_tail = t->pend_tail;
    if (n == 1)
        pthread_cond_signal(&t->work_cond);
    else
        pthread_cond_broadcast(&t->work_cond);
    pthread_mutex_unlock(&t->lock);
    t->busy += n;
    t->pend_head = NULL;
    t->pend_tail = &t->pend_head;
    t->npend = 0;
    blk__count(&t->b->st.submit_calls, 1);
}

/* Block until a worker has a result, then report all there are. */
bool blk_threads_wait(struct blk_threads *t)
{
    blk_threads_flush(t);
    if (!t->busy)
        return false;
    pthread_mutex_lock(&t->lock);
    t->waiting = true;
    while (!t->done_head)
        pthread_cond_wait(&t->done_cond, &t->lock);
    t->waiting = false;
    pthread_mutex_unlock(&t->lock);
    threads_complete(t);
    return true;
}

/* Report results already there; the lock is only taken when some may be. */
bool blk_threads_poll(struct blk_threads *t)
{
    if (!t->busy)
        return false;
    pthread_mutex_lock(&t->lock);
    bool any = t->done_head != NULL;
    pthread_mutex_unlock(&t->lock);
    if (any)
        threads_complete(t);
    return any;
}

unsigned blk_threads_busy(struct blk_threads *t)
{
    return t ? t->busy + t->npend : 0;
}

/* ---- the engine ---- */

static int threads_init(struct blk *b, char *err, size_t errlen)
{
    b->eng = blk_threads_new(b, BLK_THREADS_WORKERS, err, errlen);
    return b->eng ? 0 : -ENOMEM;
}

static void threads_cleanup(struct blk *b)
{
    blk_threads_free(b->eng);
    b->eng = NULL;
}

static void threads_queue(struct blk *b, struct blk_req *r)
{
    blk_threads_queue(b->eng, r);
}

static void threads_flush(struct blk *b)
{
    blk_threads_flush(b->eng);
}

static bool threads_wait(struct blk *b)
{
    return blk_threads_wait(b->eng);
}

static bool threads_poll(struct blk *b)
{
    return blk_threads_poll(b->eng);
}

const struct blk_engine_ops blk_engine_threads = {
    .name = "threads",
    .init = threads_init,
    .cleanup = threads_cleanup,
    .queue = threads_queue,
    .flush = threads_flush,
    .wait = threads_wait,
    .poll = threads_poll,
};
