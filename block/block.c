/*
 * block/block.c — opening and closing drives: option checks, the image's
 * size and O_DIRECT alignment, the engine; names and statistics.
 */
#include "block/block-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "block/inject.h"
#include "util/log.h"
#include "util/loop.h"

/* Request objects are allocated this many at a time. */
#define BLK_REQS_PER_SLAB 64

void blk__done_bh(void *opaque);
void blk__req_destroy(void *obj);

static const struct blk_engine_ops *const blk_engines[] = {
    [BLK_AIO_IO_URING] = &blk_engine_io_uring,
    [BLK_AIO_NATIVE] = &blk_engine_native,
    [BLK_AIO_THREADS] = &blk_engine_threads,
};

const char *blk_aio_name(enum blk_aio aio)
{
    switch (aio) {
    case BLK_AIO_IO_URING: return "io_uring";
    case BLK_AIO_NATIVE: return "native";
    case BLK_AIO_THREADS: return "threads";
    }
    return "?";
}

const char *blk_cache_name(enum blk_cache cache)
{
    switch (cache) {
    case BLK_CACHE_NONE: return "none";
    case BLK_CACHE_WRITEBACK: return "writeback";
    }
    return "?";
}

const char *blk_op_name(enum blk_op op)
{
    static const char *const names[BLK_OP__COUNT] = {
        "read", "write", "flush", "discard", "write-zeroes",
    };
    return (unsigned)op < BLK_OP__COUNT ? names[op] : "?";
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* Why O_DIRECT failed, as a user can act on it. */
static void direct_open_error(const char *path, int err, char *msg,
                              size_t len)
{
    struct statfs sfs;
    const char *fs = "its filesystem";
    if (statfs(path, &sfs) == 0) {
        if (sfs.f_type == TMPFS_MAGIC)
            fs = "tmpfs";
        else if (sfs.f_type == SYSFS_MAGIC)
            fs = "sysfs";
        else if (sfs.f_type == PROC_SUPER_MAGIC)
            fs = "procfs";
    }
    snprintf(msg, len, "'%s' cannot be opened with O_DIRECT (cache=none): "
             "%s does not support it (%s); use cache=writeback",
             path, fs, strerror(err));
}

static int open_image(const struct blk_opts *o, char *err, size_t errlen)
{
    int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    if (o->cache == BLK_CACHE_NONE)
        flags |= O_DIRECT;
    int fd = open(o->file, flags);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e == EINVAL && (flags & O_DIRECT))
        direct_open_error(o->file, e, err, errlen);
    else if (e == EISDIR)
        snprintf(err, errlen, "'%s' is a directory, not a disk image",
                 o->file);
    else if ((e == EACCES || e == EROFS || e == EPERM) && !o->readonly)
        snprintf(err, errlen, "cannot open '%s' for writing: %s "
                 "(readonly=on opens it read-only)", o->file, strerror(e));
    else
        snprintf(err, errlen, "cannot open '%s': %s", o->file, strerror(e));
    return -e;
}

/* Size of a regular file or block device; 0 on success. */
static int image_size(struct blk *b, const struct stat *st, char *err,
                      size_t errlen)
{
    if (S_ISDIR(st->st_mode)) {
        snprintf(err, errlen, "'%s' is a directory, not a disk image",
                 b->path);
        return -EISDIR;
    }
    if (S_ISBLK(st->st_mode)) {
        uint64_t sz;
        if (ioctl(b->fd, BLKGETSIZE64, &sz) < 0) {
            snprintf(err, errlen, "'%s': cannot read the device size: %s",
                     b->path, strerror(errno));
            return -errno;
        }
        b->size = sz;
    } else if (S_ISREG(st->st_mode)) {
        b->size = (uint64_t)st->st_size;
    } else {
        snprintf(err, errlen, "'%s' is not a regular file or block device",
                 b->path);
        return -EINVAL;
    }
    if (b->size % 512) {
        snprintf(err, errlen, "'%s' is %llu bytes, not a multiple of 512 "
                 "(the sector size)", b->path, (unsigned long long)b->size);
        return -EINVAL;
    }
    return 0;
}

/* Without statx(STATX_DIOALIGN): try a 512-byte O_DIRECT read, which works
 * where the logical block is 512 and fails with EINVAL where it is 4096. */
static void probe_align_by_read(struct blk *b)
{
    void *buf;
    b->req_align = b->mem_align = 4096;
    if (posix_memalign(&buf, 4096, 4096) != 0)
        return;
    if (b->size == 0 || pread(b->fd, buf, 512, 0) >= 0)
        b->req_align = 512;
    free(buf);
}

/* O_DIRECT alignment of offsets/lengths and of buffer addresses. */
static void probe_alignment(struct blk *b, const struct stat *st)
{
    b->req_align = 512;
    b->mem_align = 1;
    if (b->direct) {
        struct statx stx;
        if (statx(b->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
            (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align &&
            is_pow2(stx.stx_dio_offset_align) &&
            is_pow2(stx.stx_dio_mem_align)) {
            b->req_align = stx.stx_dio_offset_align;
            b->mem_align = stx.stx_dio_mem_align;
            if (b->req_align < 512)
                b->req_align = 512;
        } else {
            probe_align_by_read(b);
        }
    }
    uint32_t pb = st->st_blksize >= 4096 ? 4096 : 512;
    b->phys_block = pb > b->req_align ? pb : b->req_align;
}

static int check_opts(const struct blk_opts *o, struct loop *home, char *err,
                      size_t errlen)
{
    if (!o || !o->file || !*o->file) {
        snprintf(err, errlen, "no image file given");
        return -EINVAL;
    }
    if (o->format != BLK_FORMAT_RAW) {
        snprintf(err, errlen, "'%s': unsupported image format (only raw)",
                 o->file);
        return -EINVAL;
    }
    if ((unsigned)o->aio >= sizeof(blk_engines) / sizeof(blk_engines[0])) {
        snprintf(err, errlen, "'%s': unknown aio engine", o->file);
        return -EINVAL;
    }
    if (o->cache != BLK_CACHE_NONE && o->cache != BLK_CACHE_WRITEBACK) {
        snprintf(err, errlen, "'%s': unknown cache mode", o->file);
        return -EINVAL;
    }
    if (!home) {
        snprintf(err, errlen, "'%s': no home loop", o->file);
        return -EINVAL;
    }
    return 0;
}

static struct blk *blk_alloc(const struct blk_opts *o, struct loop *home)
{
    struct blk *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->path = strdup(o->file);
    b->done_bh = loop_bh_new(home, blk__done_bh, b);
    b->delay_timer = loop_timer_new(home, blk__delay_timer, b);
    if (o->inject) {
        blk_inject_ref(o->inject);
        b->inj = o->inject;
    } else {
        b->inj = blk_inject_new(NULL, NULL, 0);
    }
    if (!b->path || !b->done_bh || !b->delay_timer || !b->inj) {
        if (b->done_bh)
            loop_bh_free(b->done_bh);
        if (b->delay_timer)
            loop_timer_free(b->delay_timer);
        blk_inject_unref(b->inj);
        free(b->path);
        free(b);
        return NULL;
    }
    b->opts = *o;
    b->opts.file = b->path;
    b->home = home;
    b->fd = -1;
    b->direct = o->cache == BLK_CACHE_NONE;
    b->engine = blk_engines[o->aio];
    b->done_tail = &b->done_head;
    b->have_zero_range = b->have_punch_hole = true;
    pool_init(&b->reqs, sizeof(struct blk_req), BLK_REQS_PER_SLAB);
    return b;
}

static void blk_release(struct blk *b)
{
    loop_del_poller(b->home, b->poller);
    b->poller = NULL;
    pool_destroy(&b->reqs, blk__req_destroy);
    loop_bh_free(b->done_bh);
    loop_timer_free(b->delay_timer);
    blk_inject_unref(b->inj);
    if (b->fd >= 0)
        close(b->fd);
    free(b->zero_buf);
    free(b->path);
    free(b);
}

/* What the home loop calls while it spins: harvest completions. A drive
 * with nothing in flight answers with one load. */
static bool blk_poller(void *opaque)
{
    struct blk *b = opaque;
    if (!atomic_load_explicit(&b->st.in_flight, memory_order_relaxed))
        return false;
    return blk_poll(b);
}

struct blk *blk_open(const struct blk_opts *opts, struct loop *home,
                     char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (check_opts(opts, home, err, errlen) < 0)
        return NULL;
    struct blk *b = blk_alloc(opts, home);
    if (!b) {
        snprintf(err, errlen, "'%s': out of memory", opts->file);
        return NULL;
    }
    struct stat st;
    b->fd = open_image(opts, err, errlen);
    if (b->fd < 0)
        goto fail;
    if (fstat(b->fd, &st) < 0) {
        snprintf(err, errlen, "'%s': %s", b->path, strerror(errno));
        goto fail;
    }
    if (image_size(b, &st, err, errlen) < 0)
        goto fail;
    probe_alignment(b, &st);
    if (b->engine->init(b, err, errlen) < 0)
        goto fail;
    /* Without it the drive still works, on eventfd wake-ups alone. */
    b->poller = loop_add_poller(home, blk_poller, b);
    if (opts->aio == BLK_AIO_NATIVE && !b->direct)
        log_info("blk %s: aio=native without O_DIRECT submits "
                 "synchronously; cache=none is the fast combination",
                 b->path);
    return b;
fail:
    blk_release(b);
    return NULL;
}

void blk_close(struct blk *b)
{
    if (!b)
        return;
    loop_del_poller(b->home, b->poller);
    b->poller = NULL;
    blk_drain(b);
    b->engine->cleanup(b);
    blk_release(b);
}

uint64_t blk_size(const struct blk *b)
{
    return b->size;
}

uint32_t blk_logical_block_size(const struct blk *b)
{
    return b->req_align;
}

uint32_t blk_physical_block_size(const struct blk *b)
{
    return b->phys_block;
}

bool blk_is_readonly(const struct blk *b)
{
    return b->opts.readonly;
}

static uint64_t ld(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

struct blk_stats blk_get_stats(const struct blk *b)
{
    struct blk_stats s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < BLK_OP__COUNT; i++) {
        s.op[i].ops = ld(&b->st.ops[i]);
        s.op[i].bytes = ld(&b->st.bytes[i]);
        s.op[i].errors = ld(&b->st.errors[i]);
        s.op[i].total_ns = ld(&b->st.total_ns[i]);
    }
    s.in_flight = ld(&b->st.in_flight);
    s.max_in_flight = ld(&b->st.max_in_flight);
    s.flushes = ld(&b->st.flushes);
    s.fua_writes = ld(&b->st.fua_writes);
    s.bounced = ld(&b->st.bounced);
    s.resubmits = ld(&b->st.resubmits);
    s.submit_calls = ld(&b->st.submit_calls);
    s.early_completions = ld(&b->st.early_completions);
    s.injected_errors = ld(&b->st.injected_errors);
    s.injected_delays = ld(&b->st.injected_delays);
    return s;
}

bool blk_set_inject(struct blk *b, const char *rules, char *err,
                    size_t errlen)
{
    return blk_inject_set(b->inj, rules, err, errlen);
}

unsigned blk_get_inject(const struct blk *b, struct blk_inject_info *out,
                        unsigned max)
{
    return blk_inject_list(b->inj, out, max);
}
