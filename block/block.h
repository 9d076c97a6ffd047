/*
 * block/block.h — the block layer's public API: a drive handle over a host
 * image, and asynchronous scatter-gather requests on it.
 *
 * Devices (virtio-blk, AHCI) talk to the host only through this header;
 * they never call pread or liburing themselves (STYLE.md, habit 1).
 *
 * Threads. Every drive has a home loop, the one passed to blk_open() (an
 * iothread's loop, or the main loop). blk_open(), blk_submit(),
 * blk_plug(), blk_unplug(), blk_poll(), blk_drain() and blk_close() are
 * called on the home loop's thread (or from any one thread while no thread
 * runs that loop; iothread_run_sync() gets onto an iothread). Every
 * completion callback runs on the home loop's thread, and never inside the
 * blk_submit()/blk_unplug() call that submitted it, so a device can submit
 * from its own critical section without being re-entered. A device that
 * receives a doorbell on a vCPU thread hands the work to the home loop
 * (loop_call / a bottom half, which wake it: DESIGN.md, seed 003) and
 * submits from there. blk_size(), the block sizes and blk_get_stats() may
 * be called from any thread.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct loop;
struct blk;
struct blk_inject;
struct blk_inject_info;

/* Image formats. Always stated by the user or defaulted by the caller;
 * the block layer never looks at an image's contents to guess one (a raw
 * image can be made to look like anything). */
enum blk_format { BLK_FORMAT_RAW = 0 };

/* Host I/O engines, one per drive (seed 001: native async I/O over
 * O_DIRECT beats a thread pool; the pool works everywhere). */
enum blk_aio {
    BLK_AIO_IO_URING = 0,   /* liburing: batched SQEs, eventfd completions */
    BLK_AIO_NATIVE,         /* libaio: io_submit, eventfd completions */
    BLK_AIO_THREADS,        /* worker threads doing preadv2/pwritev2 */
};

enum blk_cache {
    BLK_CACHE_NONE = 0,     /* O_DIRECT: bypass the host page cache */
    BLK_CACHE_WRITEBACK,    /* through the host page cache */
};

struct blk_opts {
    const char *file;
    enum blk_format format;
    enum blk_aio aio;
    enum blk_cache cache;
    bool readonly;
    /* Fault/latency injection rules (block/inject.h), shared by all the
     * handles opened with them (a drive's iothreads); blk_open takes a
     * reference. NULL: the drive gets a rule set of its own, empty. */
    struct blk_inject *inject;
};

enum blk_op {
    BLK_OP_READ = 0,        /* preadv into iov; ret = bytes */
    BLK_OP_WRITE,           /* pwritev from iov; ret = bytes */
    BLK_OP_FLUSH,           /* fdatasync; ret = 0 */
    BLK_OP_DISCARD,         /* punch a hole (contents then unspecified) */
    BLK_OP_WRITE_ZEROES,    /* the range reads back as zeroes; ret = 0 */
    BLK_OP__COUNT
};

/* Request flags. */
enum {
    /* WRITE: the data is on stable storage when the callback runs
     * (RWF_DSYNC, the semantics of a write with O_DSYNC). */
    BLK_REQ_FUA = 1u << 0,
    /* WRITE_ZEROES: the host may deallocate the range (punch a hole)
     * instead of writing zeroes; it still reads back as zeroes. */
    BLK_REQ_MAY_UNMAP = 1u << 1,
};

/* Largest READ/WRITE transfer (bytes) and scatter-gather list (segments);
 * larger requests fail with -EINVAL. Devices advertise no more. */
#define BLK_MAX_TRANSFER (1u << 30)
#define BLK_MAX_SEGMENTS 1024

/* Completion: `ret` is the byte count for READ/WRITE, 0 for the other
 * ops, or -errno. Runs once per request on the home loop's thread. */
typedef void blk_cb(void *opaque, int ret);

/* Per-op counters. `ops` counts completed requests, `errors` those of them
 * that failed, `bytes` the bytes of the successful ones (the range length
 * for DISCARD and WRITE_ZEROES), `total_ns` the sum of their submit-to-
 * complete latencies. */
struct blk_op_stats {
    uint64_t ops, bytes, errors, total_ns;
};

struct blk_stats {
    struct blk_op_stats op[BLK_OP__COUNT];
    uint64_t in_flight;        /* submitted, callback not yet run */
    uint64_t max_in_flight;
    uint64_t flushes;          /* FLUSH requests that reached fdatasync */
    uint64_t fua_writes;       /* writes submitted with RWF_DSYNC */
    uint64_t bounced;          /* requests copied through an aligned buffer */
    uint64_t resubmits;        /* short transfers and -EAGAIN resubmitted */
    uint64_t submit_calls;     /* submission syscalls (io_uring_enter...) */
    uint64_t early_completions;/* harvested right after submitting (seed 000) */
    uint64_t injected_errors;  /* failed by an injection rule (also errors) */
    uint64_t injected_delays;  /* held by an injection rule's delay */
};

/* Open a drive. `home` is the loop that runs its completions (see the
 * thread rules above). On failure returns NULL and writes one line saying
 * what is wrong and, where there is one, what to do instead. */
struct blk *blk_open(const struct blk_opts *opts, struct loop *home,
                     char *err, size_t errlen);

/* Wait for every request in flight, run their callbacks, release the
 * engine and close the image. Not from inside one of this drive's
 * callbacks. NULL is a no-op. */
void blk_close(struct blk *b);

/* Image size in bytes (a multiple of 512). */
uint64_t blk_size(const struct blk *b);

/* Offsets and lengths of READ, WRITE, DISCARD and WRITE_ZEROES must be
 * multiples of the logical block size: 512, or what O_DIRECT on this
 * image requires (512 or 4096). A device advertises it to the guest. */
uint32_t blk_logical_block_size(const struct blk *b);

/* The host's preferred I/O granularity (>= logical; 4096 on most hosts):
 * guest I/O in smaller units costs a read-modify-write on the host. */
uint32_t blk_physical_block_size(const struct blk *b);

bool blk_is_readonly(const struct blk *b);

/* Submit one request. For READ/WRITE, `iov`/`iovcnt` describe the buffers
 * (guest RAM, never copied unless O_DIRECT needs an aligned bounce buffer)
 * and `len` is ignored; the iovec array itself is copied, the buffers must
 * stay valid until the callback. For DISCARD/WRITE_ZEROES, `len` is the
 * range length and `iov` is unused; FLUSH uses neither, nor `offset`.
 *
 * `cb(opaque, ret)` runs exactly once, later, on the home loop's thread —
 * also for requests refused at once: -EINVAL (misaligned, beyond the end of
 * the image, offset + length overflowing, too many segments), -EROFS
 * (writes to a readonly drive), -ENOMEM. Never fails synchronously. */
void blk_submit(struct blk *b, enum blk_op op, uint64_t offset,
                const struct iovec *iov, int iovcnt, uint64_t len,
                unsigned flags, blk_cb *cb, void *opaque);

/* Batching: between blk_plug() and the matching blk_unplug() requests are
 * queued, and blk_unplug() submits them all with as few syscalls as the
 * engine allows. Plugs nest. */
void blk_plug(struct blk *b);
void blk_unplug(struct blk *b);

/* Submit what is queued (even under a plug), then wait until every request
 * submitted so far has completed and its callback has run. */
void blk_drain(struct blk *b);

/* Harvest completions without waiting and run their callbacks: for an
 * adaptively polling loop (seed 004) to call while it spins instead of
 * sleeping. True if any request completed. Home loop thread; never from
 * inside one of this drive's callbacks. */
bool blk_poll(struct blk *b);

/* A snapshot of the drive's counters. Any thread. */
struct blk_stats blk_get_stats(const struct blk *b);

/* Replace the drive's injection rules (block/inject.h syntax; "" clears
 * them). The rules are shared by every handle of the drive, so any one
 * handle will do. Any thread. False with one line in err if `rules` is
 * malformed; then nothing changes. Requests already held by a delay keep
 * it. */
bool blk_set_inject(struct blk *b, const char *rules, char *err,
                    size_t errlen);

/* The drive's active rules and how often each matched and fired; returns
 * the number of rules (only `max` are written). Any thread. */
unsigned blk_get_inject(const struct blk *b, struct blk_inject_info *out,
                        unsigned max);

/* Send every request held by an injected delay on now, without waiting
 * for its deadline: a device reset (or a drain) must not wait a delay
 * out — the guest's timeout recovery resets the device exactly when a
 * delay is longer than its patience. Home loop thread. */
void blk_release_delayed(struct blk *b);

/* Names, for messages and --stats: "io_uring", "native", "threads";
 * "none", "writeback"; "read", "write", ... */
const char *blk_aio_name(enum blk_aio aio);
const char *blk_cache_name(enum blk_cache cache);
const char *blk_op_name(enum blk_op op);

#endif
