/*
 * tests/unit/block_open.c — blk_open refuses what it cannot serve with one
 * clear line (missing image, directory, odd size, no O_DIRECT, io_uring or
 * Linux AIO unavailable at run time — no silent fallback), probes block
 * sizes; the object pool; iothreads.
 */
#include "block_test.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "util/iothread.h"
#include "util/pool.h"

static struct blk *try_open(const char *file, enum blk_aio aio,
                            enum blk_cache cache, bool ro, struct loop *l,
                            char *err, size_t errlen)
{
    struct blk_opts o = { .file = file, .aio = aio, .cache = cache,
                          .readonly = ro };
    return blk_open(&o, l, err, errlen);
}

/* The error is one line and says `what`. */
static void expect_error(const char *file, enum blk_aio aio,
                         enum blk_cache cache, bool ro, const char *what)
{
    struct loop *l = loop_new();
    char err[256] = "";
    struct blk *b = try_open(file, aio, cache, ro, l, err, sizeof(err));
    cr_assert_null(b, "opened %s", file ? file : "(null)");
    cr_assert(strstr(err, what), "error '%s' should say '%s'", err, what);
    cr_assert_null(strchr(err, '\n'), "one line: '%s'", err);
    cr_log_info("%s", err);
    loop_free(l);
}

Test(block_open, missing_image)
{
    expect_error("/nonexistent/blkemu.img", BLK_AIO_IO_URING,
                 BLK_CACHE_NONE, false, "No such file or directory");
    expect_error("/nonexistent/blkemu.img", BLK_AIO_THREADS,
                 BLK_CACHE_WRITEBACK, true, "/nonexistent/blkemu.img");
}

Test(block_open, no_file_or_bad_options)
{
    expect_error(NULL, BLK_AIO_IO_URING, BLK_CACHE_NONE, false,
                 "no image file");
    expect_error("", BLK_AIO_IO_URING, BLK_CACHE_NONE, false,
                 "no image file");
    expect_error("/dev/null", (enum blk_aio)9, BLK_CACHE_NONE, false,
                 "unknown aio");
    expect_error("/dev/null", BLK_AIO_THREADS, (enum blk_cache)9, false,
                 "unknown cache");
    char err[128];
    struct blk_opts o = { .file = "/dev/null", .format = (enum blk_format)3 };
    cr_assert_null(blk_open(&o, NULL, err, sizeof(err)));
    cr_assert(strstr(err, "format"), "%s", err);
}

Test(block_open, directory)
{
    expect_error(bt_dir(), BLK_AIO_THREADS, BLK_CACHE_WRITEBACK, true,
                 "is a directory");
    expect_error(bt_dir(), BLK_AIO_THREADS, BLK_CACHE_WRITEBACK, false,
                 "is a directory");
}

Test(block_open, not_a_disk)
{
    expect_error("/dev/null", BLK_AIO_THREADS, BLK_CACHE_WRITEBACK, true,
                 "not a regular file or block device");
}

Test(block_open, size_not_sector_multiple)
{
    char path[512];
    bt_image(path, sizeof(path), 4096 + 100, 0);
    expect_error(path, BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK, false,
                 "not a multiple of 512");
    unlink(path);
}

/* sysfs files are regular files of 4096 bytes that refuse O_DIRECT: the
 * error names O_DIRECT and what to use instead. */
Test(block_open, no_o_direct)
{
    const char *f = "/sys/kernel/mm/transparent_hugepage/enabled";
    if (access(f, R_OK) != 0)
        cr_skip_test("%s is not readable here", f);
    expect_error(f, BLK_AIO_THREADS, BLK_CACHE_NONE, true, "O_DIRECT");
    expect_error(f, BLK_AIO_THREADS, BLK_CACHE_NONE, true, "cache=writeback");
}

/* tmpfs takes O_DIRECT since Linux 6.6; before, the error must say tmpfs
 * and suggest cache=writeback. */
Test(block_open, tmpfs)
{
    char path[] = "/dev/shm/blkemu-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        cr_skip_test("no /dev/shm here");
    cr_assert_eq(ftruncate(fd, 65536), 0);
    close(fd);
    struct loop *l = loop_new();
    char err[256] = "";
    struct blk *b = try_open(path, BLK_AIO_THREADS, BLK_CACHE_NONE, false,
                             l, err, sizeof(err));
    if (b) {
        cr_log_info("this kernel's tmpfs accepts O_DIRECT");
        blk_close(b);
    } else {
        cr_assert(strstr(err, "tmpfs") && strstr(err, "cache=writeback"),
                  "%s", err);
    }
    loop_free(l);
    unlink(path);
}

/* A seccomp filter makes `nr` fail with `err`, as a kernel without it (or
 * with it disabled) would. Criterion runs each test in its own process. */
static void deny_syscall(long nr, int err)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
    cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

Test(block_open, io_uring_disabled_is_an_error)
{
    char path[512];
    bt_image(path, sizeof(path), 65536, 0);
    deny_syscall(__NR_io_uring_setup, EPERM);
    expect_error(path, BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK, false,
                 "io_uring is disabled");
    expect_error(path, BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK, false,
                 "aio=native or aio=threads");
    unlink(path);
}

Test(block_open, io_uring_missing_is_an_error)
{
    char path[512];
    bt_image(path, sizeof(path), 65536, 0);
    deny_syscall(__NR_io_uring_setup, ENOSYS);
    expect_error(path, BLK_AIO_IO_URING, BLK_CACHE_WRITEBACK, false,
                 "no io_uring");
    unlink(path);
}

Test(block_open, linux_aio_missing_is_an_error)
{
    char path[512];
    bt_image(path, sizeof(path), 65536, 0);
    deny_syscall(__NR_io_setup, ENOSYS);
    expect_error(path, BLK_AIO_NATIVE, BLK_CACHE_WRITEBACK, false,
                 "no Linux AIO");
    unlink(path);
}

Test(block_open, read_only_file_needs_readonly)
{
    if (geteuid() == 0)
        cr_skip_test("root ignores file permissions");
    char path[512];
    bt_image(path, sizeof(path), 65536, 0);
    chmod(path, 0444);
    expect_error(path, BLK_AIO_THREADS, BLK_CACHE_WRITEBACK, false,
                 "readonly=on");
    unlink(path);
}

Test(block_open, block_sizes)
{
    char path[512];
    bt_image(path, sizeof(path), 1 << 20, 0);
    struct loop *l = loop_new();
    char err[256];
    struct blk *b = try_open(path, BLK_AIO_THREADS, BLK_CACHE_WRITEBACK,
                             false, l, err, sizeof(err));
    cr_assert(b, "%s", err);
    cr_assert_eq(blk_size(b), 1 << 20);
    cr_assert_eq(blk_logical_block_size(b), 512);
    uint32_t pbs = blk_physical_block_size(b);
    cr_assert(pbs == 512 || pbs == 4096, "%u", pbs);
    cr_assert(!blk_is_readonly(b));
    blk_close(b);
    b = try_open(path, BLK_AIO_THREADS, BLK_CACHE_NONE, true, l, err,
                 sizeof(err));
    if (b) {
        uint32_t lbs = blk_logical_block_size(b);
        cr_assert(lbs == 512 || lbs == 4096, "%u", lbs);
        cr_assert_geq(blk_physical_block_size(b), lbs);
        cr_assert(blk_is_readonly(b));
        cr_log_info("O_DIRECT logical block %u, physical %u", lbs,
                    blk_physical_block_size(b));
        blk_close(b);
    }
    loop_free(l);
    unlink(path);
}

Test(block_open, names)
{
    cr_assert_str_eq(blk_aio_name(BLK_AIO_IO_URING), "io_uring");
    cr_assert_str_eq(blk_aio_name(BLK_AIO_NATIVE), "native");
    cr_assert_str_eq(blk_aio_name(BLK_AIO_THREADS), "threads");
    cr_assert_str_eq(blk_cache_name(BLK_CACHE_NONE), "none");
    cr_assert_str_eq(blk_cache_name(BLK_CACHE_WRITEBACK), "writeback");
    cr_assert_str_eq(blk_op_name(BLK_OP_WRITE_ZEROES), "write-zeroes");
    cr_assert_str_eq(blk_op_name((enum blk_op)99), "?");
}

/* ---- util/pool ---- */

Test(pool, reuses_objects_and_grows_by_slabs)
{
    struct pool p;
    pool_init(&p, 40, 4);
    void *a[10];
    for (int i = 0; i < 10; i++) {
        a[i] = pool_get(&p);
        cr_assert(a[i]);
        cr_assert_eq((uintptr_t)a[i] % 16, 0);
        memset(a[i], 0xab, 40);
    }
    cr_assert_eq(p.total, 12);
    cr_assert_eq(p.in_use, 10);
    pool_put(&p, a[3]);
    cr_assert_eq(pool_get(&p), a[3], "the last object freed is reused");
    for (int i = 0; i < 10; i++)
        pool_put(&p, a[i]);
    cr_assert_eq(p.in_use, 0);
    cr_assert_eq(p.total, 12, "no growth while objects are free");
    pool_destroy(&p, NULL);
}

static int destroyed;
static void count_destroy(void *obj)
{
    (void)obj;
    destroyed++;
}

Test(pool, destroy_visits_every_object)
{
    struct pool p;
    pool_init(&p, 8, 5);
    for (int i = 0; i < 7; i++)
        cr_assert(pool_get(&p));
    pool_destroy(&p, count_destroy);
    cr_assert_eq(destroyed, 10);
}

/* ---- util/iothread ---- */

static void note_thread(void *opaque)
{
    *(pthread_t *)opaque = pthread_self();
}

Test(iothread, runs_work_on_its_own_thread, .timeout = 10)
{
    struct iothread *io = iothread_new("t0");
    cr_assert(io);
    cr_assert_str_eq(iothread_id(io), "t0");
    cr_assert(!iothread_is_current(io));
    pthread_t t = pthread_self();
    cr_assert(iothread_run_sync(io, note_thread, &t));
    cr_assert(pthread_equal(t, iothread_thread(io)));
    cr_assert(!pthread_equal(t, pthread_self()));
    iothread_free(io);
}

Test(iothread, free_right_after_new, .timeout = 10)
{
    for (int i = 0; i < 20; i++)
        iothread_free(iothread_new("quick"));
}
