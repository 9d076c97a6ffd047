/*
 * tests/unit/inject_blk.c — injection rules applied by the block layer to
 * real drives, for every engine × cache mode: an injected error completes
 * through the normal path (later, on the home loop, counted) and never
 * reaches the host file; #N fails exactly the N-th write; a delay holds a
 * request at least its delay before it reaches the host; a drain cuts
 * delays short; two handles sharing a rule set count #N together; rules
 * set at run time from another thread take effect.
 */
#include "block_test.h"

#include <sys/uio.h>

#include "block/inject.h"
#include "util/clock.h"

#define IMG_SIZE (1u << 20)

static struct bt_mode modes[] = { BT_MODES };

struct fx {
    char path[256];
    struct loop *l;
    struct blk *b;
    struct blk_inject *in;
};

static void fx_open(struct fx *f, struct bt_mode m, const char *rules)
{
    char err[256];
    bt_image(f->path, sizeof(f->path), IMG_SIZE, 0x5a);
    f->l = loop_new();
    cr_assert(f->l);
    f->in = blk_inject_new(rules, err, sizeof(err));
    cr_assert(f->in, "%s", err);
    struct blk_opts o = { .file = f->path, .aio = m.aio, .cache = m.cache,
                          .inject = f->in };
    f->b = blk_open(&o, f->l, err, sizeof(err));
    if (!f->b && m.cache == BLK_CACHE_NONE && strstr(err, "O_DIRECT")) {
        unlink(f->path);
        cr_skip_test("%s", err);
    }
    cr_assert(f->b, "%s", err);
}

static void fx_close(struct fx *f)
{
    blk_close(f->b);
    blk_inject_unref(f->in);
    loop_free(f->l);
    unlink(f->path);
}

static int wr(struct fx *f, uint64_t off, uint64_t seed)
{
    void *buf = bt_alloc(4096);
    bt_fill(buf, 4096, seed);
    int r = bt_rw(f->b, f->l, BLK_OP_WRITE, off, buf, 4096);
    free(buf);
    return r;
}

ParameterizedTestParameters(inject_blk, error_never_reaches_the_host)
{
    return cr_make_param_array(struct bt_mode, modes,
                               sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTest(struct bt_mode *m, inject_blk, error_never_reaches_the_host)
{
    struct fx f;
    fx_open(&f, *m, "eio@write:lba:8-15;enospc@discard;eio@read:lba:0");
    /* Writes touching sectors 8-15 fail, the file keeps its bytes. */
    cr_assert_eq(wr(&f, 4096, 1), -EIO);
    cr_assert_eq(wr(&f, 2048, 1), -EIO);        /* sectors 4-11 */
    cr_assert_eq(wr(&f, 8192, 2), 4096);        /* 16-23: fine */
    unsigned char *host = bt_alloc(8192);
    bt_pread(f.path, host, 8192, 0);
    for (unsigned i = 0; i < 8192; i++)
        cr_assert_eq(host[i], 0x5a, "byte %u changed", i);
    /* A failed read leaves the guest buffer alone. */
    unsigned char *buf = bt_alloc(4096);
    memset(buf, 0x11, 4096);
    cr_assert_eq(bt_rw(f.b, f.l, BLK_OP_READ, 0, buf, 4096), -EIO);
    for (unsigned i = 0; i < 4096; i++)
        cr_assert_eq(buf[i], 0x11);
    cr_assert_eq(bt_rw(f.b, f.l, BLK_OP_READ, 4096, buf, 4096), 4096);
    cr_assert_eq(bt_io(f.b, f.l, BLK_OP_DISCARD, 0, NULL, 0, 4096, 0),
                 -ENOSPC);
    struct blk_stats s = blk_get_stats(f.b);
    cr_assert_eq(s.injected_errors, 4);
    cr_assert_eq(s.op[BLK_OP_WRITE].errors, 2);
    cr_assert_eq(s.op[BLK_OP_READ].errors, 1);
    cr_assert_eq(s.op[BLK_OP_DISCARD].errors, 1);
    cr_assert_eq(s.in_flight, 0);
    struct blk_inject_info info[4];
    cr_assert_eq(blk_get_inject(f.b, info, 4), 3);
    cr_assert_eq(info[0].fired, 2);
    cr_assert_eq(info[0].matched, 2);
    free(host);
    free(buf);
    fx_close(&f);
}

Test(inject_blk, nth_write_fails_exactly)
{
    struct fx f;
    fx_open(&f, (struct bt_mode){ BLK_AIO_THREADS, BLK_CACHE_WRITEBACK },
            "eio@write#5");
    for (int i = 1; i <= 9; i++)
        cr_assert_eq(wr(&f, 4096ull * i, (uint64_t)i), i == 5 ? -EIO : 4096,
                     "write %d", i);
    /* Write 5 never reached the file. */
    unsigned char *host = bt_alloc(4096);
    bt_pread(f.path, host, 4096, 4096 * 5);
    for (unsigned i = 0; i < 4096; i++)
        cr_assert_eq(host[i], 0x5a);
    free(host);
    fx_close(&f);
}

ParameterizedTestParameters(inject_blk, delay_holds_the_request)
{
    return cr_make_param_array(struct bt_mode, modes,
                               sizeof(modes) / sizeof(modes[0]));
}

/* The rule guarantees a lower bound: the callback runs no earlier than
 * the delay after blk_submit (not a measure of our speed). */
ParameterizedTest(struct bt_mode *m, inject_blk, delay_holds_the_request)
{
    struct fx f;
    fx_open(&f, *m, "delay:20ms@write;delay:5ms@read;eio@read#2");
    uint64_t t0 = clock_ns();
    cr_assert_eq(wr(&f, 0, 7), 4096);
    cr_assert_geq(clock_ns() - t0, 20000000ull);
    void *buf = bt_alloc(4096);
    t0 = clock_ns();
    cr_assert_eq(bt_rw(f.b, f.l, BLK_OP_READ, 0, buf, 4096), 4096);
    cr_assert_geq(clock_ns() - t0, 5000000ull);
    /* Delay and error together: fails after the delay. */
    t0 = clock_ns();
    cr_assert_eq(bt_rw(f.b, f.l, BLK_OP_READ, 0, buf, 4096), -EIO);
    cr_assert_geq(clock_ns() - t0, 5000000ull);
    struct blk_stats s = blk_get_stats(f.b);
    cr_assert_eq(s.injected_delays, 3);
    cr_assert_eq(s.injected_errors, 1);
    free(buf);
    fx_close(&f);
}

static void count_cb(void *opaque, int ret)
{
    int *n = opaque;
    if (ret == 4096)
        (*n)++;
}

/* Many requests with different delays complete, each after its own
 * deadline; blk_drain (and so blk_close) does not wait out an hour. */
Test(inject_blk, drain_cuts_delays_short)
{
    struct fx f;
    fx_open(&f, (struct bt_mode){ BLK_AIO_THREADS, BLK_CACHE_WRITEBACK },
            "delay:3600s@write#2:always;delay:1ms@write");
    void *buf = bt_alloc(4096 * 8);
    int done = 0;
    uint64_t t0 = clock_ns();
    for (int i = 0; i < 8; i++) {
        struct iovec v = { (char *)buf + 4096 * i, 4096 };
        blk_submit(f.b, BLK_OP_WRITE, 4096ull * i, &v, 1, 0, 0, count_cb,
                   &done);
    }
    /* The first write has only the 1 ms delay. */
    while (done < 1)
        loop_run_once(f.l, true);
    cr_assert_eq(done, 1);
    blk_drain(f.b);
    cr_assert_eq(done, 8);
    cr_assert_lt(clock_ns() - t0, 600ull * 1000000000ull);
    free(buf);
    fx_close(&f);
}

/* Two handles (two iothreads of one virtio disk) share a rule set: the
 * third write of the drive fails whichever handle carries it. */
Test(inject_blk, shared_rules_count_across_handles)
{
    struct fx f;
    fx_open(&f, (struct bt_mode){ BLK_AIO_THREADS, BLK_CACHE_WRITEBACK },
            "eio@write#3");
    char err[256];
    struct blk_opts o = { .file = f.path, .aio = BLK_AIO_THREADS,
                          .cache = BLK_CACHE_WRITEBACK, .inject = f.in };
    struct blk *b2 = blk_open(&o, f.l, err, sizeof(err));
    cr_assert(b2, "%s", err);
    cr_assert_eq(wr(&f, 0, 1), 4096);
    void *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(b2, f.l, BLK_OP_WRITE, 0, buf, 4096), 4096);
    cr_assert_eq(bt_rw(b2, f.l, BLK_OP_WRITE, 0, buf, 4096), -EIO);
    cr_assert_eq(wr(&f, 0, 1), 4096);
    /* Set through one handle, seen through the other. */
    cr_assert(blk_set_inject(b2, "eio@read", err, sizeof(err)), "%s", err);
    cr_assert_eq(bt_rw(f.b, f.l, BLK_OP_READ, 0, buf, 4096), -EIO);
    free(buf);
    blk_close(b2);
    fx_close(&f);
}

/* A drive opened without rules still takes them at run time. */
Test(inject_blk, drive_without_rules_takes_them_later)
{
    char path[256], err[256];
    bt_image(path, sizeof(path), IMG_SIZE, 0);
    struct loop *l = loop_new();
    struct blk *b = bt_open(path, (struct bt_mode){ BLK_AIO_THREADS,
                            BLK_CACHE_WRITEBACK }, false, l);
    void *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(b, l, BLK_OP_READ, 0, buf, 4096), 4096);
    cr_assert_not(blk_set_inject(b, "eio@read#x", err, sizeof(err)));
    cr_assert(strstr(err, "#N"), "%s", err);
    cr_assert_eq(bt_rw(b, l, BLK_OP_READ, 0, buf, 4096), 4096);
    cr_assert(blk_set_inject(b, "eio@read:once", err, sizeof(err)));
    cr_assert_eq(bt_rw(b, l, BLK_OP_READ, 0, buf, 4096), -EIO);
    cr_assert_eq(bt_rw(b, l, BLK_OP_READ, 0, buf, 4096), 4096);
    cr_assert_eq(bt_io(b, l, BLK_OP_FLUSH, 0, NULL, 0, 0, 0), 0);
    free(buf);
    blk_close(b);
    loop_free(l);
    unlink(path);
}

struct setter {
    struct blk *b;
    bool ok;
};

static void *set_from_thread(void *opaque)
{
    struct setter *s = opaque;
    char err[128];
    s->ok = blk_set_inject(s->b, "eio@write", err, sizeof(err));
    return NULL;
}

Test(inject_blk, rules_set_from_another_thread)
{
    struct fx f;
    fx_open(&f, (struct bt_mode){ BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK }, "");
    cr_assert_eq(wr(&f, 0, 1), 4096);
    struct setter s = { f.b, false };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, set_from_thread, &s), 0);
    pthread_join(t, NULL);
    cr_assert(s.ok);
    cr_assert_eq(wr(&f, 0, 1), -EIO);
    fx_close(&f);
}
