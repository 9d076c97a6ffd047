/*
 * util/hist.h — a log-linear latency histogram of nanosecond values, in
 * constant memory, recorded without a lock.
 *
 * Layout (HdrHistogram's idea, our arithmetic): values 0..15 have a bucket
 * each; from there every power of two [2^e, 2^(e+1)) is cut into
 * HIST_SUB = 16 equal buckets of width 2^(e-4). The relative error of any
 * bucket is therefore at most 1/16 (6.25 %). The top power is 2^41, so the
 * last regular bucket ends at 2^42 ns (73 minutes); larger values are
 * counted in that last bucket (max still records them exactly).
 * HIST_BUCKETS = 16 + 38 * 16 = 624 counters, 5 KiB.
 *
 * Threads: hist_record() has one writer per histogram (the thread that owns
 * the device queue it measures) and takes no lock: each counter is a
 * relaxed atomic load and store, which on x86-64 is a plain add. Readers on
 * any thread take a hist_snapshot(); while the writer runs, a snapshot may
 * miss the newest samples but every counter it holds is whole.
 */
#ifndef UTIL_HIST_H
#define UTIL_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)       /* linear buckets per power */
#define HIST_TOP_EXP 41                      /* last power: [2^41, 2^42) */
#define HIST_BUCKETS ((HIST_TOP_EXP - HIST_SUB_BITS + 2) * HIST_SUB)
#define HIST_LIMIT (1ull << (HIST_TOP_EXP + 1))  /* first clamped value */

struct hist {
    _Atomic uint64_t counts[HIST_BUCKETS];
    _Atomic uint64_t sum;       /* saturates at UINT64_MAX */
    _Atomic uint64_t max;
    _Atomic uint64_t min;       /* UINT64_MAX while empty */
};

/* A plain copy, for reading, merging and reporting. */
struct hist_snap {
    uint64_t counts[HIST_BUCKETS];
    uint64_t count;             /* the sum of counts[] */
    uint64_t sum, max, min;     /* min is 0 when count is 0 */
};

/* An empty histogram. */
void hist_init(struct hist *h);

/* Record one value. One writer thread per histogram (see above). */
void hist_record(struct hist *h, uint64_t ns);

/* Copy h into s. Any thread. */
void hist_snapshot(const struct hist *h, struct hist_snap *s);

/* An empty snapshot (for merging into). */
void hist_snap_clear(struct hist_snap *s);

/* Add src's samples to dst. */
void hist_snap_merge(struct hist_snap *dst, const struct hist_snap *src);

/* The bucket a value falls in. */
unsigned hist_bucket(uint64_t ns);

/* Bucket i holds [hist_bucket_lo(i), hist_bucket_hi(i)] (both inclusive);
 * the last bucket's hi is UINT64_MAX (it also takes clamped values). */
uint64_t hist_bucket_lo(unsigned i);
uint64_t hist_bucket_hi(unsigned i);

/* The value at percentile p (0 < p <= 100): the upper edge of the bucket
 * holding the sample of rank ceil(p/100 * count), clamped to [min, max], so
 * it is never below the true value and at most one bucket width above.
 * 0 for an empty snapshot. p <= 0 gives min, p >= 100 gives max. */
uint64_t hist_percentile(const struct hist_snap *s, double p);

/* sum / count, or 0 when empty. */
uint64_t hist_mean(const struct hist_snap *s);

#endif
