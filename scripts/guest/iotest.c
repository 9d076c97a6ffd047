/*
 * scripts/guest/iotest.c — the seed-003 workload, run inside the guest
 * (blkemu.job=seed003; docs/latency.md).
 *
 *   iotest DEVICE [MIB]
 *
 * Reads MIB (default 128) MiB from DEVICE with O_DIRECT in 128 KiB chunks,
 * in batches of 16 through Linux AIO (raw io_setup/io_submit/io_getevents
 * system calls: no libaio in the guest), sleeping 1 ms before each batch is
 * submitted and 1 ms after each completion is processed, as the test case
 * in seeds/003 describes. A device smaller than MIB is read round and
 * round. Prints BLKEMU-SEED003-SECONDS=<elapsed, guest monotonic clock> and
 * exits 0; on any error one line on stderr and exit 1.
 *
 * Idle otherwise: nothing is printed while it runs, so console output
 * cannot wake the emulator's loops (the seed's point).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128u << 10)
#define BATCH 16

static int die(const char *what, int err)
{
    fprintf(stderr, "iotest: %s: %s\n", what, strerror(err));
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_1ms(void)
{
    struct timespec ts = { 0, 1000000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Submit one batch of reads starting at chunk `first`; returns 0 or -errno. */
static int submit_batch(aio_context_t ctx, int fd, uint8_t *bufs,
                        uint64_t first, uint64_t dev_chunks, struct iocb *cbs)
{
    struct iocb *ptrs[BATCH];
    for (unsigned i = 0; i < BATCH; i++) {
        memset(&cbs[i], 0, sizeof(cbs[i]));
        cbs[i].aio_fildes = (uint32_t)fd;
        cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
        cbs[i].aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * CHUNK);
        cbs[i].aio_nbytes = CHUNK;
        cbs[i].aio_offset = (int64_t)(((first + i) % dev_chunks) * CHUNK);
        cbs[i].aio_data = i;
        ptrs[i] = &cbs[i];
    }
    long n = syscall(SYS_io_submit, ctx, (long)BATCH, ptrs);
    if (n < 0)
        return -errno;
    return n == BATCH ? 0 : -EAGAIN;
}

/* Wait for the batch's completions, 1 ms of "processing" after each. */
static int reap_batch(aio_context_t ctx)
{
    struct io_event ev[BATCH];
    unsigned done = 0;
    while (done < BATCH) {
        long n = syscall(SYS_io_getevents, ctx, 1L, (long)(BATCH - done), ev,
                         NULL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        for (long i = 0; i < n; i++) {
            if (ev[i].res != CHUNK)
                return ev[i].res < 0 ? (int)ev[i].res : -EIO;
            sleep_1ms();
        }
        done += (unsigned)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: iotest DEVICE [MIB]\n");
        return 2;
    }
    uint64_t mib = argc == 3 ? strtoull(argv[2], NULL, 10) : 128;
    uint64_t chunks = (mib << 20) / CHUNK;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0)
        return die(argv[1], errno);
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
        off_t end = lseek(fd, 0, SEEK_END);
        size = end > 0 ? (uint64_t)end : 0;
    }
    uint64_t dev_chunks = size / CHUNK;
    if (!chunks || !dev_chunks)
        return die("device or size", EINVAL);
    void *bufs;
    int rc = posix_memalign(&bufs, 4096, (size_t)BATCH * CHUNK);
    if (rc)
        return die("buffers", rc);
    aio_context_t ctx = 0;
    if (syscall(SYS_io_setup, (long)BATCH, &ctx) < 0)
        return die("io_setup", errno);
    struct iocb cbs[BATCH];
    double t0 = now_s();
    for (uint64_t c = 0; c < chunks; c += BATCH) {
        sleep_1ms();
        if ((rc = submit_batch(ctx, fd, bufs, c, dev_chunks, cbs)) < 0)
            return die("io_submit", -rc);
        if ((rc = reap_batch(ctx)) < 0)
            return die("read", -rc);
    }
    double secs = now_s() - t0;
    syscall(SYS_io_destroy, ctx);
    close(fd);
    printf("BLKEMU-SEED003-SECONDS=%.3f\n", secs);
    return 0;
}
