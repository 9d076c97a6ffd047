/*
 * tests/unit/inject_virtio.c — what a virtio-blk driver sees of injected
 * faults: VIRTIO_BLK_S_IOERR for every injected errno and op (read,
 * write, flush, discard, write-zeroes), the host file untouched, the
 * queue still working afterwards; the rules shared by the iothreads of a
 * multi-queue disk, set through virtio_blk_get_blk().
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

#include "block/inject.h"
#include "util/clock.h"
/* The harness is header-only; this file uses only part of it. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "virtio_harness.h"

#define IMG_SIZE (4ull << 20)

static struct vh H;

static void setup(void)
{
    struct vh_opts o = { .image_size = IMG_SIZE, .aio = BLK_AIO_THREADS,
                         .cache = BLK_CACHE_WRITEBACK };
    vh_setup(&H, &o);
    vh_driver_up(&H, VH_ALL_FEATURES, 1, 64);
}

static void teardown(void)
{
    vh_teardown(&H);
}

TestSuite(inject_virtio, .init = setup, .fini = teardown, .timeout = 30);

static void set_rules(const char *rules)
{
    char err[256];
    cr_assert(blk_set_inject(virtio_blk_get_blk(H.vb), rules, err,
                             sizeof(err)), "%s", err);
}

static uint64_t filled(uint32_t len, uint8_t v)
{
    uint64_t a = vh_alloc(&H, len, 4096);
    memset(vh_ptr(&H, a, len), v, len);
    return a;
}

static uint8_t host_byte(uint64_t off)
{
    uint8_t b = 0xee;
    int fd = open(H.path, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
    close(fd);
    return b;
}

Test(inject_virtio, every_injected_error_is_ioerr)
{
    set_rules("eio@write:lba:8-15;enospc@read:lba:8;eio@flush;"
              "enospc@write-zeroes;eio@discard");
    uint64_t w = filled(4096, 0xab);
    uint32_t used;
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_OUT, 8, w, 4096, &used),
                 VIRTIO_BLK_S_IOERR);
    cr_assert_eq(used, 1);
    cr_assert_eq(host_byte(8 * 512), 0);    /* never reached the host */
    uint64_t r = filled(4096, 0x77);
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_IN, 8, r, 4096, &used),
                 VIRTIO_BLK_S_IOERR);
    cr_assert_eq(used, 1);                  /* no data on a failed read */
    cr_assert_eq(*(uint8_t *)vh_ptr(&H, r, 1), 0x77);
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL),
                 VIRTIO_BLK_S_IOERR);
    cr_assert_eq(vh_dwz(&H, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    cr_assert_eq(vh_dwz(&H, 0, VIRTIO_BLK_T_DISCARD, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    /* Outside the rules the queue still works. */
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_OUT, 16, w, 4096, NULL),
                 VIRTIO_BLK_S_OK);
    cr_assert_eq(host_byte(16 * 512), 0xab);
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_IN, 16, r, 4096, NULL),
                 VIRTIO_BLK_S_OK);
    struct vblk_queue_stats qs = virtio_blk_queue_stats(H.vb, 0);
    cr_assert_eq(qs.ioerr, 5);
    struct blk_stats bs = virtio_blk_blk_stats(H.vb);
    cr_assert_eq(bs.injected_errors, 5);
    /* Cleared at run time: the write goes through. */
    set_rules("");
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_OUT, 8, w, 4096, NULL),
                 VIRTIO_BLK_S_OK);
    cr_assert_eq(host_byte(8 * 512), 0xab);
}

Test(inject_virtio, nth_write_fails_once)
{
    set_rules("eio@write#3");
    uint64_t w = filled(512, 1);
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_OUT, (uint64_t)i, w, 512, NULL),
                     i == 3 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK, "write %d",
                     i);
    struct blk_inject_info info[1];
    cr_assert_eq(blk_get_inject(virtio_blk_get_blk(H.vb), info, 1), 1);
    cr_assert_eq(info[0].matched, 5);
    cr_assert_eq(info[0].fired, 1);
}

/* A delayed request completes after the delay, and a reset while it is
 * held does not wait the delay out. */
Test(inject_virtio, delayed_request_completes_and_reset_cuts_it_short)
{
    set_rules("delay:10ms@read#1:once;delay:3600s@read#2:once");
    uint64_t r = filled(4096, 0);
    uint64_t t0 = clock_ns();
    cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_IN, 0, r, 4096, NULL),
                 VIRTIO_BLK_S_OK);
    cr_assert_geq(clock_ns() - t0, 10000000ull);
    /* The second read is held for an hour: offer it, then reset. */
    vh_build(&H, 0, 0, VIRTIO_BLK_T_IN, 0, r, 4096);
    vh_offer(&H, 0, 0);
    vh_kick(&H, 0);
    usleep(20000);
    cr_assert_eq(vh_used_idx(&H, 0), H.q[0].used_seen);
    struct blk_stats bs = virtio_blk_blk_stats(H.vb);
    cr_assert_eq(bs.injected_delays, 2);
    cr_assert_eq(bs.in_flight, 1);
    t0 = clock_ns();
    virtio_blk_reset(H.vb);
    cr_assert_lt(clock_ns() - t0, 20ull * 1000000000ull);
    cr_assert_eq(virtio_blk_blk_stats(H.vb).in_flight, 0);
}
