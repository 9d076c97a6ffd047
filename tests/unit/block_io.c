/*
 * tests/unit/block_io.c — the request API on every engine × cache mode:
 * data integrity through scatter-gather (aligned and misaligned buffers,
 * many segments), refused requests (alignment, end of image, overflow,
 * readonly), flush/discard/write-zeroes reaching the host, and callbacks
 * that run exactly once, never inside blk_submit, on the home loop.
 */
#include "block_test.h"

#include "util/iothread.h"

#define MIB (1024u * 1024u)

struct env {
    struct bt_mode m;
    struct loop *loop;
    struct blk *b;
    char path[512];
};

static void env_open(struct env *e, struct bt_mode *m, uint64_t size,
                     int fill, bool readonly)
{
    e->m = *m;
    e->loop = loop_new();
    cr_assert(e->loop);
    bt_image(e->path, sizeof(e->path), size, fill);
    e->b = bt_open(e->path, *m, readonly, e->loop);
    cr_log_info("aio=%s cache=%s logical=%u", blk_aio_name(m->aio),
                blk_cache_name(m->cache), blk_logical_block_size(e->b));
}

static void env_close(struct env *e)
{
    blk_close(e->b);
    loop_free(e->loop);
    unlink(e->path);
}

#define MODE_TEST(name, ...)                                              \
    ParameterizedTestParameters(block, name)                              \
    {                                                                     \
        static struct bt_mode modes[] = { BT_MODES };                     \
        return cr_make_param_array(struct bt_mode, modes,                 \
                                   sizeof(modes) / sizeof(modes[0]));     \
    }                                                                     \
    ParameterizedTest(struct bt_mode *m, block, name, .timeout = 30,      \
                      ##__VA_ARGS__)

/* ---- data integrity ---- */

MODE_TEST(sg_aligned_roundtrip)
{
    struct env e;
    env_open(&e, m, 4 * MIB, 0, false);
    enum { SEGS = 16, SEG = 4096, LEN = SEGS * SEG };
    char *src = bt_alloc(LEN), *dst = bt_alloc(LEN);
    bt_fill(src, LEN, 1);
    struct iovec wv[SEGS], rv[SEGS / 2];
    for (int i = 0; i < SEGS; i++)   /* written in 16 pieces ... */
        wv[i] = (struct iovec){ src + i * SEG, SEG };
    for (int i = 0; i < SEGS / 2; i++)   /* ... read back in 8 */
        rv[i] = (struct iovec){ dst + i * 2 * SEG, 2 * SEG };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, MIB, wv, SEGS, 0, 0), LEN);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_READ, MIB, rv, SEGS / 2, 0, 0),
                 LEN);
    cr_assert_arr_eq(src, dst, LEN);
    /* What the drive wrote is what the file holds. */
    memset(dst, 0, LEN);
    bt_pread(e.path, dst, LEN, MIB);
    cr_assert_arr_eq(src, dst, LEN);
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_eq(s.bounced, 0, "aligned buffers must never be copied");
    cr_assert_eq(s.op[BLK_OP_WRITE].bytes, LEN);
    cr_assert_eq(s.op[BLK_OP_READ].ops, 1);
    cr_assert_eq(s.in_flight, 0);
    free(src);
    free(dst);
    env_close(&e);
}

MODE_TEST(sg_misaligned_roundtrip)
{
    struct env e;
    env_open(&e, m, 4 * MIB, 0, false);
    uint32_t lbs = blk_logical_block_size(e.b);
    size_t len = 4 * (size_t)lbs;
    /* Odd addresses and lengths that are not block multiples. */
    char *src = bt_alloc(len + 64), *dst = bt_alloc(len + 64);
    bt_fill(src + 1, len, 2);
    size_t cut[] = { 100, 412 + lbs, 7, len - 519 - lbs };
    struct iovec wv[4], rv[4];
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        wv[i] = (struct iovec){ src + 1 + off, cut[i] };
        rv[i] = (struct iovec){ dst + 3 + off, cut[i] };
        off += cut[i];
    }
    cr_assert_eq(off, len);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 8 * lbs, wv, 4, 0, 0),
                 (int)len);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_READ, 8 * lbs, rv, 4, 0, 0),
                 (int)len);
    cr_assert_arr_eq(src + 1, dst + 3, len);
    cr_assert_eq((unsigned char)dst[2], 0xee, "byte before the buffer");
    cr_assert_eq((unsigned char)dst[3 + len], 0xee, "byte after the buffer");
    struct blk_stats s = blk_get_stats(e.b);
    if (m->cache == BLK_CACHE_NONE)
        cr_assert_eq(s.bounced, 2, "O_DIRECT bounces misaligned buffers");
    else
        cr_assert_eq(s.bounced, 0, "the page cache needs no bounce");
    free(src);
    free(dst);
    env_close(&e);
}

MODE_TEST(many_segments)
{
    struct env e;
    env_open(&e, m, 4 * MIB, 0, false);
    uint32_t lbs = blk_logical_block_size(e.b);
    enum { N = BLK_MAX_SEGMENTS };
    size_t len = (size_t)N * lbs;
    char *src = bt_alloc(len), *dst = bt_alloc(len);
    bt_fill(src, len, 3);
    struct iovec *v = calloc(N + 1, sizeof(*v));
    /* Write in N segments, in reverse order of memory. */
    for (int i = 0; i < N; i++)
        v[i] = (struct iovec){ src + (size_t)(N - 1 - i) * lbs, lbs };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 0, v, N, 0, 0), (int)len);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 0, dst, len), (int)len);
    for (int i = 0; i < N; i++)
        cr_assert_arr_eq(dst + (size_t)i * lbs,
                         src + (size_t)(N - 1 - i) * lbs, lbs);
    /* One segment too many is refused. */
    v[N] = (struct iovec){ dst, lbs };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_READ, 0, v, N + 1, 0, 0),
                 -EINVAL);
    free(v);
    free(src);
    free(dst);
    env_close(&e);
}

MODE_TEST(odd_sizes)
{
    struct env e;
    uint64_t size = 2 * MIB + 8192;
    env_open(&e, m, size, 0x5a, false);
    uint32_t lbs = blk_logical_block_size(e.b);
    char *buf = bt_alloc(65536), *chk = bt_alloc(65536);
    /* The very last block. */
    bt_fill(buf, lbs, 4);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, size - lbs, buf, lbs),
                 (int)lbs);
    bt_pread(e.path, chk, lbs, size - lbs);
    cr_assert_arr_eq(buf, chk, lbs);
    /* An odd number of blocks. */
    bt_fill(buf, 13 * lbs, 5);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 3 * lbs, buf, 13 * lbs),
                 (int)(13 * lbs));
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 3 * lbs, chk, 13 * lbs),
                 (int)(13 * lbs));
    cr_assert_arr_eq(buf, chk, 13 * lbs);
    /* Nothing to transfer: completes with 0. */
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_READ, 0, NULL, 0, 0, 0), 0);
    /* Lengths and offsets that are not block multiples. */
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, 0, buf, 100), -EINVAL);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 256, buf, lbs), -EINVAL);
    if (lbs > 512)
        cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, 512, buf, 512),
                     -EINVAL);
    /* An unknown op. */
    cr_assert_eq(bt_io(e.b, e.loop, (enum blk_op)77, 0, NULL, 0, 0, 0),
                 -EINVAL);
    free(buf);
    free(chk);
    env_close(&e);
}

MODE_TEST(beyond_end_and_overflow)
{
    struct env e;
    uint64_t size = MIB;
    env_open(&e, m, size, 0, false);
    uint32_t lbs = blk_logical_block_size(e.b);
    char *buf = bt_alloc(2 * 4096);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, size, buf, lbs), -EINVAL);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, size - lbs, buf, 2 * lbs),
                 -EINVAL);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_WRITE, size, buf, lbs), -EINVAL);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, size - lbs, buf, lbs),
                 (int)lbs);
    /* sector + count overflowing 64 bits. */
    uint64_t huge = UINT64_MAX - lbs + 1;   /* aligned, wraps when added */
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, huge, buf, 2 * lbs),
                 -EINVAL);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, huge, NULL, 0, 2 * lbs,
                       0), -EINVAL);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE_ZEROES, lbs, NULL, 0,
                       UINT64_MAX - lbs + 1, 0), -EINVAL);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_DISCARD, size, NULL, 0, lbs, 0),
                 -EINVAL);
    /* Segment lengths whose sum overflows: refused before any byte is
     * touched (these buffers do not exist). */
    struct iovec v[3] = {
        { buf, SIZE_MAX / 2 + 1 }, { buf, SIZE_MAX / 2 + 1 }, { buf, lbs },
    };
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_WRITE, 0, v, 3, 0, 0), -EINVAL);
    cr_assert_eq(bt_io(e.b, e.loop, BLK_OP_READ, 0, v, -1, 0, 0), -EINVAL);
    struct stat st;
    cr_assert_eq(stat(e.path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, size, "the image must not grow");
    struct blk_stats s = blk_get_stats(e.b);
    cr_assert_geq(s.op[BLK_OP_READ].errors, 4);
    free(buf);
    env_close(&e);
}

/* The image shrinks under the drive: the kernel returns short reads, the
 * core asks for the rest, and what lies past the new end reads as 0. */
MODE_TEST(short_read_resubmitted)
{
    struct env e;
    env_open(&e, m, MIB, 0x77, false);
    size_t len = 64 * 1024;
    cr_assert_eq(truncate(e.path, MIB / 2), 0);
    char *buf = bt_alloc(len);
    cr_assert_eq(bt_rw(e.b, e.loop, BLK_OP_READ, MIB / 2 - len / 2, buf,
                       len), (int)len);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq((unsigned char)buf[i], i < len / 2 ? 0x77 : 0,
                     "byte %zu", i);
    cr_assert_geq(blk_get_stats(e.b).resubmits, 1);
    free(buf);
    env_close(&e);
}
