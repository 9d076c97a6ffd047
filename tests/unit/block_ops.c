/*
 * tests/unit/block_ops.c — on every engine × cache mode: FLUSH reaches
 * fdatasync (counted), DISCARD frees host blocks, WRITE_ZEROES reads back
 * as zeroes (also through the write-zeroes fallback), a readonly drive
 * refuses writes and leaves the file byte-identical, 1000 requests in
 * flight (more than the ring) complete exactly once each, plugging submits
 * in one syscall, callbacks run on an iothread home, and closing a drive
 * with requests in flight drains them first.
 */
#include "block_test.h"

#include <stdatomic.h>

#include "block/block-int.h"
#include "util/iothread.h"

#define MIB (1024u * 1024u)

#define MODE_TEST(name, ...)                                              \
    ParameterizedTestParameters(block_ops, name)                          \
    {                                                                     \
        static struct bt_mode modes[] = { BT_MODES };                     \
        return cr_make_param_array(struct bt_mode, modes,                 \
                                   sizeof(modes) / sizeof(modes[0]));     \
    }                                                                     \
    ParameterizedTest(struct bt_mode *m, block_ops, name, .timeout = 60,  \
                      ##__VA_ARGS__)

struct env {
    struct loop *loop;
    struct blk *b;
    char path[512];
};

static void env_open(struct env *e, struct bt_mode *m, uint64_t size,
                     int fill, bool readonly)
{
    e->loop = loop_new();
    cr_assert(e->loop);
    bt_image(e->path, sizeof(e->path), size, fill);
    e->b = bt_open(e->path, *m, readonly, e->loop);
    cr_log_info("aio=%s cache=%s", blk_aio_name(m->aio),
                blk_cache_name(m->cache));
}

static void env_close(struct env *e)
{
    blk_close(e->b);
    loop_free(e->loop);
    unlink(e->path);
}

static uint64_t blocks_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (uint64_t)st.st_blocks;
}

static bool all_bytes(const char *p, size_t len, unsigned char v)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] != v)
            return false;
    return true;
}

MODE_TEST(flush_and_fua_counted)
{
    struct env e;
    env_open(&e, m, MIB, 0, false);
    char *buf = bt_alloc(4096);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_FLUSH, 0, NULL, 0, 0, 0), 0);
    struct iovec v = { buf, 4096 };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 0, &v, 1, 0, BLK_REQ_FUA),
                 4096);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_eq(s.flushes, 3);
    cr_assert_eq(s.op[BLK_OP_FLUSH].ops, 3);
    cr_assert_eq(s.op[BLK_OP_FLUSH].errors, 0);
    cr_assert_eq(s.fua_writes, 1);
    cr_assert_geq(s.op[BLK_OP_FLUSH].total_ns, 1);
    free(buf);
    env_close(&e);
}

MODE_TEST(discard_frees_blocks)
{
    struct env e;
    env_open(&e, m, 4 * MIB, 0x33, false);
    uint64_t before = blocks_of(e.path);
    cr_assert_geq(before, 4 * MIB / 512, "the image starts allocated");
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, MIB, NULL, 0, 2 * MIB,
                       0), 0);
    uint64_t after = blocks_of(e.path);
    cr_assert_leq(after, before - 2 * MIB / 512,
                  "st_blocks %llu -> %llu", (unsigned long long)before,
                  (unsigned long long)after);
    struct stat st;
    stat(e.path, &st);
    cr_assert_eq((uint64_t)st.st_size, 4 * MIB, "discard keeps the size");
    /* Data outside the range is intact. */
    char *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, MIB - 4096, buf, 4096),
                 4096);
    cr_assert(all_bytes(buf, 4096, 0x33));
    cr_assert_eq(blk_get_stats(e.b).op[BLK_OP_DISCARD].bytes, 2 * MIB);
    free(buf);
    env_close(&e);
}

/* Write-zeroes over a pattern: the range reads back as zeroes, its
 * neighbours keep their bytes. */
static void check_zeroes(struct env *e, unsigned flags)
{
    size_t len = 3 * MIB / 4 + 8192;   /* several zero-buffer chunks */
    uint64_t off = 65536;
    char *buf = bt_alloc(len + 8192);
    cr_assert_eq(bt_io(e->b, e->loop, BLK_OP_WRITE_ZEROES, off, NULL, 0,
                       len, flags), 0);
    cr_assert_eq(bt_rw(e->b, e->loop, BLK_OP_READ, off - 4096, buf,
                       len + 8192), (int)(len + 8192));
    cr_assert(all_bytes(buf, 4096, 0x44), "before the range");
    cr_assert(all_bytes(buf + 4096, len, 0), "the range");
    cr_assert(all_bytes(buf + 4096 + len, 4096, 0x44), "after the range");
    free(buf);
}

MODE_TEST(write_zeroes_reads_back_zeroes)
{
    struct env e;
    env_open(&e, m, 2 * MIB, 0x44, false);
    check_zeroes(&e, 0);
    env_close(&e);
}

MODE_TEST(write_zeroes_may_unmap)
{
    struct env e;
    env_open(&e, m, 2 * MIB, 0x44, false);
    uint64_t before = blocks_of(e.path);
    check_zeroes(&e, BLK_REQ_MAY_UNMAP);
    cr_assert_lt(blocks_of(e.path), before, "unmap punched a hole");
    env_close(&e);
}

/* A host that can neither punch holes nor zero ranges: the core writes
 * zeroes, in chunks. */
MODE_TEST(write_zeroes_fallback_writes)
{
    struct env e;
    env_open(&e, m, 2 * MIB, 0x44, false);
    e.b->have_zero_range = e.b->have_punch_hole = false;
    check_zeroes(&e, BLK_REQ_MAY_UNMAP);
    /* Discard without hole punching is a successful no-op. */
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, 0, NULL, 0, 65536, 0),
                 0);
    char *buf = bt_alloc(4096);
    bt_pread(e.path, buf, 4096, 0);
    cr_assert(all_bytes(buf, 4096, 0x44));
    free(buf);
    env_close(&e);
}

MODE_TEST(readonly_refuses_writes)
{
    struct env e;
    size_t size = MIB;
    env_open(&e, m, size, -1, false);
    /* Give the image content, then reopen it readonly. */
    char *orig = bt_alloc(size), *now = bt_alloc(size);
    bt_fill(orig, size, 9);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 0, orig, size), (int)size);
    blk_close(e.b);
    e.b = bt_open(e.path, *m, true, e.loop);
    cr_assert(blk_is_readonly(e.b));
    char *buf = bt_alloc(4096);
    bt_fill(buf, 4096, 10);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 0, buf, 4096), -EROFS);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 4096, NULL, 0, 0,
                       BLK_REQ_FUA), -EROFS);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, 0, NULL, 0, 65536, 0),
                 -EROFS);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE_ZEROES, 0, NULL, 0, 65536,
                       0), -EROFS);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_FLUSH, 0, NULL, 0, 0, 0), 0);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 0, now, size), (int)size);
    cr_assert_arr_eq(orig, now, size);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_eq(s.op[BLK_OP_WRITE].errors, 2);
    env_close(&e);
    free(buf);
    free(orig);
    free(now);
}

/* ---- many requests ---- */

#define NREQ 1000

struct many {
    struct blk *b;
    int calls[NREQ];
    int ret[NREQ];
    int total;
    pthread_t home;
    bool wrong_thread;
};

struct many_slot {
    struct many *m;
    int i;
};

static void many_cb(void *opaque, int ret)
{
    struct many_slot *s = opaque;
    s->m->calls[s->i]++;
    s->m->ret[s->i] = ret;
    s->m->total++;
    if (!pthread_equal(pthread_self(), s->m->home))
        s->m->wrong_thread = true;
}

/* Submit NREQ 4 KiB requests of `op`, request i at block i, plugged or
 * not. */
static void many_submit(struct many *mm, struct many_slot *slots,
                        enum blk_op op, char *buf, bool plug)
{
    static struct iovec v[NREQ];
    if (plug)
        blk_plug(mm->b);
    for (int i = 0; i < NREQ; i++) {
        slots[i] = (struct many_slot){ mm, i };
        v[i] = (struct iovec){ buf + (size_t)i * 4096, 4096 };
        blk_submit(mm->b, op, (uint64_t)i * 4096, &v[i], 1, 0, 0, many_cb,
                   &slots[i]);
    }
    cr_assert_eq(mm->total, 0, "callbacks ran inside blk_submit");
    if (plug)
        blk_unplug(mm->b);
    cr_assert_eq(mm->total, 0, "callbacks ran inside blk_unplug");
}

static void many_check(struct many *mm, int expect)
{
    for (int i = 0; i < NREQ; i++) {
        cr_assert_eq(mm->calls[i], 1, "request %d completed %d times", i,
                     mm->calls[i]);
        cr_assert_eq(mm->ret[i], expect, "request %d: %d", i, mm->ret[i]);
    }
    cr_assert(!mm->wrong_thread);
}

MODE_TEST(thousand_in_flight)
{
    struct env e;
    env_open(&e, m, NREQ * 4096, 0, false);
    size_t len = (size_t)NREQ * 4096;
    char *src = bt_alloc(len), *dst = bt_alloc(len);
    bt_fill(src, len, 11);
    static struct many mm;
    static struct many_slot slots[NREQ];
    for (int pass = 0; pass < 2; pass++) {
        memset(&mm, 0, sizeof(mm));
        mm.b = e.b;
        mm.home = pthread_self();
        enum blk_op op = pass == 0 ? BLK_OP_WRITE : BLK_OP_READ;
        many_submit(&mm, slots, op, pass == 0 ? src : dst, pass == 0);
        struct blk_stats s = blk_get_stats(e.b);
        cr_assert_eq(s.in_flight, NREQ);
        while (mm.total < NREQ)
            loop_run_once(e.loop, true);
        for (int i = 0; i < 3; i++)
            loop_run_once(e.loop, false);
        many_check(&mm, 4096);
    }
    cr_assert_arr_eq(src, dst, len);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_eq(s.in_flight, 0);
    cr_assert_geq(s.max_in_flight, NREQ);
    cr_assert_eq(s.op[BLK_OP_WRITE].ops, NREQ);
    cr_assert_eq(s.op[BLK_OP_READ].ops, NREQ);
    cr_log_info("submit calls %llu, early completions %llu",
                (unsigned long long)s.submit_calls,
                (unsigned long long)s.early_completions);
    free(src);
    free(dst);
    env_close(&e);
}

MODE_TEST(plug_submits_in_one_call)
{
    struct env e;
    env_open(&e, m, MIB, 0, false);
    char *buf = bt_alloc(32 * 4096);
    struct iovec v[32];
    struct bt_done d[32] = { 0 };
    uint64_t calls = blk_get_stats(e.b).submit_calls;
    blk_plug(e.b);
    blk_plug(e.b);   /* plugs nest */
    for (int i = 0; i < 32; i++) {
        v[i] = (struct iovec){ buf + i * 4096, 4096 };
        blk_submit(e.b, BLK_OP_READ, (uint64_t)i * 4096, &v[i], 1, 0, 0,
                   bt_done_cb, &d[i]);
    }
    blk_unplug(e.b);
    cr_assert_eq(blk_get_stats(e.b).submit_calls, calls,
                 "still plugged: nothing submitted");
    blk_unplug(e.b);
    cr_assert_eq(blk_get_stats(e.b).submit_calls, calls + 1,
                 "32 requests, one submission");
    blk_drain(e.b);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(d[i].calls, 1);
    free(buf);
    env_close(&e);
}

/* Closing with requests in flight: blk_close drains, every callback runs
 * once, then the drive goes (ASan checks nothing is touched after). */
MODE_TEST(close_with_requests_in_flight)
{
    struct env e;
    env_open(&e, m, 4 * MIB, 0, false);
    enum { N = 300 };
    char *buf = bt_alloc((size_t)N * 4096);
    static struct bt_done d[N];
    static struct iovec v[N];
    memset(d, 0, sizeof(d));
    for (int i = 0; i < N; i++) {
        v[i] = (struct iovec){ buf + (size_t)i * 4096, 4096 };
        enum blk_op op = i % 3 == 0 ? BLK_OP_WRITE
                         : i % 3 == 1 ? BLK_OP_READ : BLK_OP_FLUSH;
        blk_submit(e.b, op, (uint64_t)i * 4096, &v[i], 1, 0, 0, bt_done_cb,
                   &d[i]);
    }
    blk_close(e.b);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(d[i].calls, 1, "request %d: %d calls", i, d[i].calls);
        cr_assert_geq(d[i].ret, 0, "request %d: %d", i, d[i].ret);
        cr_assert(pthread_equal(d[i].thread, pthread_self()));
    }
    /* Nothing left for the loop to run. */
    loop_run_once(e.loop, false);
    loop_free(e.loop);
    unlink(e.path);
    free(buf);
}

/* ---- an iothread as the home loop ---- */

struct io_job {
    struct bt_mode m;
    char *path;
    struct loop *loop;
    struct blk *b;
    char *buf;
    struct many mm;
    struct many_slot slots[NREQ];
    atomic_int done;
};

static void io_cb(void *opaque, int ret)
{
    many_cb(opaque, ret);
    struct many_slot *s = opaque;
    struct io_job *j = (struct io_job *)((char *)s->m -
                                         offsetof(struct io_job, mm));
    if (j->mm.total == NREQ)
        atomic_store(&j->done, 1);
}

static void io_open(void *opaque)
{
    struct io_job *j = opaque;
    char err[256];
    struct blk_opts o = { .file = j->path, .aio = j->m.aio,
                          .cache = j->m.cache };
    j->b = blk_open(&o, j->loop, err, sizeof(err));
}

static void io_submit_all(void *opaque)
{
    struct io_job *j = opaque;
    static struct iovec v[NREQ];
    j->mm.b = j->b;
    j->mm.home = pthread_self();
    blk_plug(j->b);
    for (int i = 0; i < NREQ; i++) {
        j->slots[i] = (struct many_slot){ &j->mm, i };
        v[i] = (struct iovec){ j->buf + (size_t)(i % 64) * 4096, 4096 };
        blk_submit(j->b, BLK_OP_READ, (uint64_t)(i % 256) * 4096, &v[i], 1,
                   0, 0, io_cb, &j->slots[i]);
    }
    blk_unplug(j->b);
}

static void io_close(void *opaque)
{
    struct io_job *j = opaque;
    blk_close(j->b);
}

MODE_TEST(completions_on_iothread)
{
    static struct io_job j;
    memset(&j, 0, sizeof(j));
    char path[512];
    bt_image(path, sizeof(path), MIB, 0x21);
    struct iothread *io = iothread_new("blk0");
    cr_assert(io);
    j.m = *m;
    j.path = path;
    j.loop = iothread_loop(io);
    j.buf = bt_alloc(64 * 4096);
    cr_assert(iothread_run_sync(io, io_open, &j));
    if (!j.b) {
        iothread_free(io);
        unlink(path);
        cr_skip_test("cannot open %s in this mode here", path);
    }
    cr_assert(iothread_run_sync(io, io_submit_all, &j));
    /* The test thread only waits: the iothread completes everything,
     * woken by its own completion eventfds and bottom halves. */
    while (!atomic_load(&j.done))
        usleep(1000);
    cr_assert(iothread_run_sync(io, io_close, &j));
    cr_assert(pthread_equal(j.mm.home, iothread_thread(io)));
    many_check(&j.mm, 4096);
    iothread_free(io);
    unlink(path);
    free(j.buf);
}
