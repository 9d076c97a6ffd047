/*
 * tests/unit/block_core.c — the core's recovery paths, driven by a fault-
 * injecting engine swapped in under a real drive: short transfers are
 * resubmitted until done (data intact), -EAGAIN is retried (and given up
 * after a bound), a write that makes no progress fails with -EIO, host
 * errors reach the callback and the counters, and a host without
 * fallocate support gets discard as a no-op and write-zeroes as writes.
 * Also blk_poll, and requests refused for lack of memory.
 */
#include "block_test.h"

#include <linux/falloc.h>
#include <sys/uio.h>

#include "block/block-int.h"

/* What the fault injector does to each attempt. */
struct chaos {
    size_t cap;             /* at most this many bytes per transfer */
    unsigned eagain_every;  /* every n-th attempt fails with -EAGAIN */
    int fail_with;          /* every attempt fails with this, if set */
    bool no_falloc;         /* fallocate says -EOPNOTSUPP */
    bool writes_stall;      /* writes transfer 0 bytes */
    unsigned attempts;
    struct blk_req *head, **tail;
    struct loop_bh *bh;
    const struct blk_engine_ops *real_ops;
    void *real_eng;
};

static struct chaos C;

static long chaos_do(struct blk *b, struct blk_req *r)
{
    C.attempts++;
    if (C.fail_with)
        return C.fail_with;
    if (C.eagain_every && C.attempts % C.eagain_every == 0)
        return -EAGAIN;
    struct iovec v[BLK_MAX_SEGMENTS];
    int n = 0;
    size_t room = C.cap;
    for (int i = 0; i < r->xcnt && room; i++) {
        size_t l = r->xiov[i].iov_len < room ? r->xiov[i].iov_len : room;
        v[n++] = (struct iovec){ r->xiov[i].iov_base, l };
        room -= l;
    }
    long ret;
    switch (r->eop) {
    case BLK_EOP_READV:
        ret = preadv(b->fd, v, n, (off_t)r->xoff);
        break;
    case BLK_EOP_WRITEV:
        if (C.writes_stall)
            return 0;
        ret = pwritev(b->fd, v, n, (off_t)r->xoff);
        break;
    case BLK_EOP_FDATASYNC:
        ret = fdatasync(b->fd);
        break;
    default:
        if (C.no_falloc)
            return -EOPNOTSUPP;
        ret = fallocate(b->fd, r->falloc_mode, (off_t)r->xoff,
                        (off_t)r->xlen);
    }
    return ret < 0 ? -errno : ret;
}

/* Completions arrive later, from a bottom half, as from a real engine. */
static void chaos_bh(void *opaque)
{
    struct blk *b = opaque;
    struct blk_req *r = C.head;
    C.head = NULL;
    C.tail = &C.head;
    blk__batch_begin(b);
    while (r) {
        struct blk_req *next = r->next;
        blk__xfer_done(r, chaos_do(b, r));
        r = next;
    }
    blk__batch_end(b);
}

static void chaos_queue(struct blk *b, struct blk_req *r)
{
    r->next = NULL;
    *C.tail = r;
    C.tail = &r->next;
}

static void chaos_flush(struct blk *b)
{
    if (C.head)
        loop_bh_schedule(C.bh);
}

static bool chaos_wait(struct blk *b)
{
    if (!C.head)
        return false;
    chaos_bh(b);
    return true;
}

static bool chaos_poll(struct blk *b)
{
    return chaos_wait(b);
}

static const struct blk_engine_ops chaos_ops = {
    .name = "chaos",
    .queue = chaos_queue,
    .flush = chaos_flush,
    .wait = chaos_wait,
    .poll = chaos_poll,
};

struct env {
    struct loop *loop;
    struct blk *b;
    char path[512];
};

static void env_open(struct env *e, uint64_t size, int fill)
{
    e->loop = loop_new();
    bt_image(e->path, sizeof(e->path), size, fill);
    struct bt_mode m = { BLK_AIO_THREADS, BLK_CACHE_WRITEBACK };
    e->b = bt_open(e->path, m, false, e->loop);
    memset(&C, 0, sizeof(C));
    C.cap = SIZE_MAX;
    C.tail = &C.head;
    C.bh = loop_bh_new(e->loop, chaos_bh, e->b);
    C.real_ops = e->b->engine;
    C.real_eng = e->b->eng;
    e->b->engine = &chaos_ops;
}

static void env_close(struct env *e)
{
    blk_drain(e->b);
    e->b->engine = C.real_ops;
    e->b->eng = C.real_eng;
    blk_close(e->b);
    loop_bh_free(C.bh);
    loop_free(e->loop);
    unlink(e->path);
}

Test(block_core, short_transfers_resubmitted, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0);
    C.cap = 1536;
    size_t len = 65536;
    char *src = bt_alloc(len), *dst = bt_alloc(len), *chk = bt_alloc(len);
    bt_fill(src, len, 21);
    struct iovec v[7];
    size_t cut[7] = { 100, 4000, 1, 30000, 999, 20000, 0 };
    size_t off = 0;
    for (int i = 0; i < 6; i++) {
        v[i] = (struct iovec){ src + off, cut[i] };
        off += cut[i];
    }
    v[6] = (struct iovec){ src + off, len - off };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 8192, v, 7, 0, 0),
                 (int)len);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 8192, dst, len), (int)len);
    cr_assert_arr_eq(src, dst, len);
    bt_pread(e.path, chk, len, 8192);
    cr_assert_arr_eq(src, chk, len);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_geq(s.resubmits, 2 * (len / 1536));
    cr_assert_eq(s.op[BLK_OP_WRITE].ops, 1, "one request, many attempts");
    free(src);
    free(dst);
    free(chk);
    env_close(&e);
}

Test(block_core, eagain_retried, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0x11);
    C.eagain_every = 2;
    C.cap = 4096;
    char *buf = bt_alloc(32768);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 0, buf, 32768), 32768);
    for (int i = 0; i < 32768; i++)
        cr_assert_eq((unsigned char)buf[i], 0x11);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_FLUSH, 0, NULL, 0, 0, 0), 0);
    free(buf);
    env_close(&e);
}

Test(block_core, endless_eagain_gives_up, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0);
    C.eagain_every = 1;
    char *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 0, buf, 4096), -EAGAIN);
    cr_assert_lt(C.attempts, 1000, "bounded retries");
    cr_assert_eq(blk_get_stats(e.b).op[BLK_OP_READ].errors, 1);
    free(buf);
    env_close(&e);
}

Test(block_core, stalled_write_fails, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0);
    C.writes_stall = true;
    char *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 0, buf, 4096), -EIO);
    free(buf);
    env_close(&e);
}

Test(block_core, host_errors_reach_callback, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0);
    C.fail_with = -ENOSPC;
    char *buf = bt_alloc(4096);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 0, buf, 4096), -ENOSPC);
    C.fail_with = -EIO;
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_FLUSH, 0, NULL, 0, 0, 0), -EIO);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE_ZEROES, 0, NULL, 0, 4096,
                       0), -EIO);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_eq(s.op[BLK_OP_WRITE].errors, 1);
    cr_assert_eq(s.op[BLK_OP_FLUSH].errors, 1);
    cr_assert_eq(s.flushes, 0, "a failed flush did not reach the disk");
    cr_assert_eq(s.op[BLK_OP_WRITE_ZEROES].errors, 1);
    free(buf);
    env_close(&e);
}

Test(block_core, no_fallocate_on_host, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0x66);
    C.no_falloc = true;
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, 0, NULL, 0, 65536, 0),
                 0, "a discard is a hint");
    cr_assert(!e.b->have_punch_hole);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE_ZEROES, 4096, NULL, 0,
                       600 * 1024, BLK_REQ_MAY_UNMAP), 0);
    cr_assert(!e.b->have_zero_range);
    char *buf = bt_alloc(620 * 1024);
    bt_pread(e.path, buf, 620 * 1024, 0);
    for (size_t i = 0; i < 620 * 1024; i++)
        cr_assert_eq((unsigned char)buf[i],
                     i < 4096 || i >= 4096 + 600 * 1024 ? 0x66 : 0,
                     "byte %zu", i);
    free(buf);
    env_close(&e);
}

Test(block_core, poll_completes_without_the_loop, .timeout = 30)
{
    struct env e;
    env_open(&e, 1 << 20, 0);
    char *buf = bt_alloc(4096);
    struct iovec v = { buf, 4096 };
    struct bt_done d = { 0 };
    blk_submit(e.b, BLK_OP_READ, 0, &v, 1, 0, 0, bt_done_cb, &d);
    cr_assert_eq(d.calls, 0);
    while (d.calls == 0)
        blk_poll(e.b);
    cr_assert_eq(d.ret, 4096);
    cr_assert(!blk_poll(e.b), "nothing left");
    free(buf);
    env_close(&e);
}

/* With real engines too: blk_poll finds completions the loop has not
 * dispatched yet. */
Test(block_core, poll_on_real_engines, .timeout = 30)
{
    for (int aio = 0; aio < 3; aio++) {
        struct loop *l = loop_new();
        char path[512];
        bt_image(path, sizeof(path), 1 << 20, 0x12);
        struct bt_mode m = { (enum blk_aio)aio, BLK_CACHE_WRITEBACK };
        struct blk *b = bt_open(path, m, false, l);
        char *buf = bt_alloc(4096);
        struct iovec v = { buf, 4096 };
        struct bt_done d = { 0 };
        blk_submit(b, BLK_OP_READ, 4096, &v, 1, 0, 0, bt_done_cb, &d);
        while (d.calls == 0)
            blk_poll(b);
        cr_assert_eq(d.ret, 4096, "aio=%s", blk_aio_name(m.aio));
        cr_assert_eq((unsigned char)buf[100], 0x12);
        blk_close(b);
        loop_free(l);
        unlink(path);
        free(buf);
    }
}
