/*
 * tests/unit/block_test.h — helpers shared by the block-layer tests:
 * temporary images on a real filesystem, synchronous request wrappers that
 * check each callback runs exactly once, later, on the expected thread.
 */
#ifndef TESTS_UNIT_BLOCK_TEST_H
#define TESTS_UNIT_BLOCK_TEST_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "block/block.h"
#include "util/loop.h"

/* One engine × cache mode. */
struct bt_mode {
    enum blk_aio aio;
    enum blk_cache cache;
};

#define BT_MODES                                                  \
    { BLK_AIO_IO_URING, BLK_CACHE_NONE },                         \
    { BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK },                    \
    { BLK_AIO_NATIVE, BLK_CACHE_NONE },                           \
    { BLK_AIO_NATIVE, BLK_CACHE_WRITEBACK },                      \
    { BLK_AIO_THREADS, BLK_CACHE_NONE },                          \
    { BLK_AIO_THREADS, BLK_CACHE_WRITEBACK }

/* Where images go: $BLKEMU_TEST_DIR, else /var/tmp, else the current
 * directory (the build tree) — O_DIRECT wants a real filesystem. */
static inline const char *bt_dir(void)
{
    const char *d = getenv("BLKEMU_TEST_DIR");
    if (d && *d)
        return d;
    struct statfs s;
    if (statfs("/var/tmp", &s) == 0 && s.f_type != TMPFS_MAGIC &&
        access("/var/tmp", W_OK) == 0)
        return "/var/tmp";
    return ".";
}

/* Create an image of `size` bytes filled with `fill` (or sparse when
 * fill < 0); the path goes into `path`. */
static inline void bt_image(char *path, size_t pathlen, uint64_t size,
                            int fill)
{
    snprintf(path, pathlen, "%s/blkemu-test-XXXXXX", bt_dir());
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
    if (fill >= 0) {
        char buf[65536];
        memset(buf, fill, sizeof(buf));
        for (uint64_t off = 0; off < size; off += sizeof(buf)) {
            size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
            cr_assert_eq(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
        }
    }
    cr_assert_eq(ftruncate(fd, (off_t)size), 0);
    fsync(fd);
    close(fd);
}

/* Open `path` in `mode`; skips the test (visibly) where the filesystem
 * cannot do O_DIRECT. */
static inline struct blk *bt_open(const char *path, struct bt_mode m,
                                  bool readonly, struct loop *l)
{
    char err[256];
    struct blk_opts o = { .file = path, .format = BLK_FORMAT_RAW,
                          .aio = m.aio, .cache = m.cache,
                          .readonly = readonly };
    struct blk *b = blk_open(&o, l, err, sizeof(err));
    if (!b && m.cache == BLK_CACHE_NONE && strstr(err, "O_DIRECT")) {
        unlink(path);
        cr_skip_test("%s (set BLKEMU_TEST_DIR to a disk filesystem)", err);
    }
    cr_assert(b, "blk_open(%s, aio=%s, cache=%s): %s", path,
              blk_aio_name(m.aio), blk_cache_name(m.cache), err);
    return b;
}

struct bt_done {
    int calls;
    int ret;
    pthread_t thread;
};

static inline void bt_done_cb(void *opaque, int ret)
{
    struct bt_done *d = opaque;
    d->calls++;
    d->ret = ret;
    d->thread = pthread_self();
}

/* Submit one request and run the loop until its callback has run; checks
 * the callback did not run inside blk_submit and ran once, on this
 * thread. Returns its result. */
static inline int bt_io(struct blk *b, struct loop *l, enum blk_op op,
                        uint64_t off, const struct iovec *iov, int n,
                        uint64_t len, unsigned flags)
{
    struct bt_done d = { 0 };
    blk_submit(b, op, off, iov, n, len, flags, bt_done_cb, &d);
    cr_assert_eq(d.calls, 0, "%s: callback ran inside blk_submit",
                 blk_op_name(op));
    while (d.calls == 0)
        loop_run_once(l, true);
    /* A second run must not call it again. */
    loop_run_once(l, false);
    cr_assert_eq(d.calls, 1, "%s: callback ran %d times", blk_op_name(op),
                 d.calls);
    cr_assert(pthread_equal(d.thread, pthread_self()));
    return d.ret;
}

static inline int bt_rw(struct blk *b, struct loop *l, enum blk_op op,
                        uint64_t off, void *buf, size_t len)
{
    struct iovec iov = { buf, len };
    return bt_io(b, l, op, off, &iov, 1, 0, 0);
}

/* A reproducible pattern: xorshift over `seed`. */
static inline void bt_fill(void *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)x;
    }
}

static inline void *bt_alloc(size_t len)
{
    void *p = NULL;
    cr_assert_eq(posix_memalign(&p, 4096, len ? len : 1), 0);
    memset(p, 0xee, len);
    return p;
}

/* The image's bytes, read directly (not through the drive). */
static inline void bt_pread(const char *path, void *buf, size_t len,
                            uint64_t off)
{
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

#endif
