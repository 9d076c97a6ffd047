/*
 * scripts/bench/loop_qd1.c — the host side of a QD1 request, without a
 * guest: a "vCPU" thread rings a doorbell (a bottom half on an iothread),
 * the iothread submits a 4 KiB random read through the block layer, and its
 * completion wakes the vCPU thread on a condition variable (as an interrupt
 * kicks a hart in WFI). It prints the round trip's mean/p50/p99 and the
 * iothread's busy-polling counters, for A/B runs of poll-max-ns (seed 004)
 * that the emulated guest's own noise would drown.
 *
 *   make && cc -std=gnu11 -O2 -I. -D_GNU_SOURCE -pthread \
 *       -o build/loop_qd1 scripts/bench/loop_qd1.c build/libblkemu.a \
 *       -lfdt -luring -laio -lm
 *   build/loop_qd1 IMAGE POLL_MAX_NS [COUNT [THINK_US [writeback]]]
 *
 * THINK_US busy-waits between requests (a guest's time between a
 * completion and its next request).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "util/clock.h"
#include "util/iothread.h"
#include "util/loop.h"

struct lq {
    const char *file;
    bool writeback;
    struct iothread *io;
    struct blk *blk;
    struct loop_bh *doorbell;
    void *buf;
    uint64_t nblocks;
    unsigned seed;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void lq_complete(void *opaque, int ret)
{
    struct lq *q = opaque;
    if (ret != 4096)
        fprintf(stderr, "loop_qd1: read returned %d\n", ret);
    pthread_mutex_lock(&q->lock);
    q->done = true;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

static void lq_doorbell(void *opaque)
{
    struct lq *q = opaque;
    q->seed = q->seed * 1103515245u + 12345u;
    uint64_t off = (uint64_t)(q->seed >> 4) % q->nblocks * 4096;
    struct iovec v = { q->buf, 4096 };
    blk_submit(q->blk, BLK_OP_READ, off, &v, 1, 0, 0, lq_complete, q);
}

static void lq_open(void *opaque)
{
    struct lq *q = opaque;
    char err[256];
    struct blk_opts o = {
        .file = q->file, .aio = BLK_AIO_IO_URING, .readonly = true,
        .cache = q->writeback ? BLK_CACHE_WRITEBACK : BLK_CACHE_NONE,
    };
    q->blk = blk_open(&o, iothread_loop(q->io), err, sizeof(err));
    if (q->blk)
        q->doorbell = loop_bh_new(iothread_loop(q->io), lq_doorbell, q);
    else
        fprintf(stderr, "loop_qd1: %s\n", err);
}

static void lq_close(void *opaque)
{
    struct lq *q = opaque;
    blk_close(q->blk);
    loop_bh_free(q->doorbell);
}

static int lq_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One request: doorbell, wait for the "interrupt", think. */
static uint64_t lq_one(struct lq *q, unsigned think_us)
{
    uint64_t t0 = clock_ns();
    q->done = false;
    loop_bh_schedule(q->doorbell);
    pthread_mutex_lock(&q->lock);
    while (!q->done)
        pthread_cond_wait(&q->cond, &q->lock);
    pthread_mutex_unlock(&q->lock);
    uint64_t lat = clock_ns() - t0;
    for (uint64_t end = clock_ns() + think_us * 1000ull; clock_ns() < end;)
        ;
    return lat;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: loop_qd1 IMAGE POLL_MAX_NS [COUNT "
                "[THINK_US [writeback]]]\n");
        return 1;
    }
    struct lq q = { .file = argv[1], .seed = 1,
                    .writeback = argc > 5 && !strcmp(argv[5], "writeback") };
    unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 10000;
    unsigned think = argc > 4 ? (unsigned)atoi(argv[4]) : 0;
    uint64_t *lat = calloc(n ? n : 1, sizeof(*lat));
    pthread_mutex_init(&q.lock, NULL);
    pthread_cond_init(&q.cond, NULL);
    q.io = iothread_new("qd1");
    if (!lat || !q.io || posix_memalign(&q.buf, 4096, 4096) != 0)
        return 1;
    loop_set_poll_max_ns(iothread_loop(q.io), strtoull(argv[2], NULL, 0));
    iothread_run_sync(q.io, lq_open, &q);
    if (!q.blk || n == 0 || blk_size(q.blk) < 4096)
        return 1;
    q.nblocks = blk_size(q.blk) / 4096;
    double sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += (double)(lat[i] = lq_one(&q, think));
    qsort(lat, n, sizeof(*lat), lq_cmp);
    struct loop_stats s = loop_get_stats(iothread_loop(q.io));
    printf("poll-max-ns %s think %u us: mean %.1f p50 %.1f p99 %.1f us; "
           "poll hits %llu misses %llu, final poll-ns %llu\n", argv[2],
           think, sum / n / 1e3, lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3,
           (unsigned long long)s.poll_hits,
           (unsigned long long)s.poll_misses, (unsigned long long)s.poll_ns);
    iothread_run_sync(q.io, lq_close, &q);
    iothread_free(q.io);
    free(q.buf);
    free(lat);
    return 0;
}
