/*
 * tests/unit/hist.c — the latency histogram: every bucket boundary and its
 * neighbours land in the right bucket, percentiles agree with a sorted
 * reference within one bucket's width, snapshots merge, huge values clamp
 * without overflow, an empty histogram reports zeros.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/hist.h"

static struct hist *new_hist(void)
{
    struct hist *h = malloc(sizeof(*h));
    cr_assert(h);
    hist_init(h);
    return h;
}

Test(hist, buckets_tile_the_range_without_gaps)
{
    cr_assert_eq(hist_bucket_lo(0), 0);
    for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++) {
        cr_assert_leq(hist_bucket_lo(i), hist_bucket_hi(i), "bucket %u", i);
        cr_assert_eq(hist_bucket_hi(i) + 1, hist_bucket_lo(i + 1),
                     "gap after bucket %u", i);
    }
    cr_assert_eq(hist_bucket_hi(HIST_BUCKETS - 1), UINT64_MAX);
    cr_assert_eq(hist_bucket_lo(HIST_BUCKETS - 1) +
                 (1ull << (HIST_TOP_EXP - HIST_SUB_BITS)), HIST_LIMIT);
}

Test(hist, every_edge_and_its_neighbours)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        uint64_t lo = hist_bucket_lo(i), hi = hist_bucket_hi(i);
        cr_assert_eq(hist_bucket(lo), i, "lo of %u", i);
        cr_assert_eq(hist_bucket(hi), i, "hi of %u", i);
        if (lo > 0)
            cr_assert_eq(hist_bucket(lo - 1), i - 1, "lo-1 of %u", i);
        if (hi < UINT64_MAX)
            cr_assert_eq(hist_bucket(hi + 1), i + 1, "hi+1 of %u", i);
        if (hi > lo) {
            cr_assert_eq(hist_bucket(lo + 1), i);
            cr_assert_eq(hist_bucket(hi - 1), i);
        }
    }
}

Test(hist, relative_width_is_at_most_one_sixteenth)
{
    for (unsigned i = HIST_SUB; i < HIST_BUCKETS - 1; i++) {
        uint64_t w = hist_bucket_hi(i) - hist_bucket_lo(i) + 1;
        cr_assert_leq(w * HIST_SUB, hist_bucket_lo(i), "bucket %u", i);
    }
}

Test(hist, small_values_are_exact)
{
    for (uint64_t v = 0; v < 2 * HIST_SUB; v++) {
        unsigned b = hist_bucket(v);
        cr_assert_eq(hist_bucket_lo(b), v);
        cr_assert_eq(hist_bucket_hi(b), v);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Log-uniform values from 1 ns to ~17 minutes: every decade matters. */
static uint64_t rnd_value(unsigned *seed)
{
    unsigned e = (unsigned)rand_r(seed) % 40;
    uint64_t base = 1ull << e;
    uint64_t r = ((uint64_t)rand_r(seed) << 31) ^ (uint64_t)rand_r(seed);
    return base + r % base;
}

static uint64_t width_at(uint64_t v)
{
    unsigned b = hist_bucket(v);
    return hist_bucket_hi(b) - hist_bucket_lo(b);
}

Test(hist, percentiles_match_sorted_reference_within_a_bucket)
{
    const double ps[] = { 0.1, 1, 25, 50, 90, 99, 99.9, 99.99, 100 };
    const unsigned sizes[] = { 1, 2, 7, 100, 1000, 20000 };
    unsigned seed = 12345;
    for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        unsigned n = sizes[k];
        uint64_t *v = malloc(n * sizeof(*v));
        struct hist *h = new_hist();
        for (unsigned i = 0; i < n; i++) {
            v[i] = rnd_value(&seed);
            hist_record(h, v[i]);
        }
        qsort(v, n, sizeof(*v), cmp_u64);
        struct hist_snap s;
        hist_snapshot(h, &s);
        cr_assert_eq(s.count, n);
        cr_assert_eq(s.max, v[n - 1]);
        cr_assert_eq(s.min, v[0]);
        for (unsigned j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
            /* The nearest-rank percentile of the sorted values. */
            uint64_t rank = (uint64_t)__builtin_ceil(ps[j] / 100.0 * n);
            if (rank < 1)
                rank = 1;
            uint64_t want = v[rank - 1];
            uint64_t got = hist_percentile(&s, ps[j]);
            cr_assert_geq(got, want, "n=%u p%.2f: %llu < %llu", n, ps[j],
                          (unsigned long long)got, (unsigned long long)want);
            cr_assert_leq(got - want, width_at(want), "n=%u p%.2f: %llu vs %llu",
                          n, ps[j], (unsigned long long)got,
                          (unsigned long long)want);
        }
        free(v);
        free(h);
    }
}

Test(hist, mean_count_min_max)
{
    struct hist *h = new_hist();
    hist_record(h, 100);
    hist_record(h, 300);
    hist_record(h, 200);
    struct hist_snap s;
    hist_snapshot(h, &s);
    cr_assert_eq(s.count, 3);
    cr_assert_eq(hist_mean(&s), 200);
    cr_assert_eq(s.min, 100);
    cr_assert_eq(s.max, 300);
    cr_assert_eq(hist_percentile(&s, 0), 100);
    cr_assert_eq(hist_percentile(&s, 100), 300);
    free(h);
}

Test(hist, empty_reports_zero)
{
    struct hist *h = new_hist();
    struct hist_snap s;
    hist_snapshot(h, &s);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(s.min, 0);
    cr_assert_eq(s.max, 0);
    cr_assert_eq(hist_mean(&s), 0);
    cr_assert_eq(hist_percentile(&s, 50), 0);
    cr_assert_eq(hist_percentile(&s, 100), 0);
    free(h);
}

Test(hist, merge_equals_recording_everything_in_one)
{
    struct hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    unsigned seed = 7;
    for (unsigned i = 0; i < 5000; i++) {
        uint64_t v = rnd_value(&seed);
        hist_record(i % 3 ? a : b, v);
        hist_record(all, v);
    }
    struct hist_snap *sa = malloc(sizeof(*sa)), *sb = malloc(sizeof(*sb)),
                     *sall = malloc(sizeof(*sall)), *m = malloc(sizeof(*m));
    hist_snapshot(a, sa);
    hist_snapshot(b, sb);
    hist_snapshot(all, sall);
    hist_snap_clear(m);
    hist_snap_merge(m, sa);
    hist_snap_merge(m, sb);
    cr_assert_eq(memcmp(m->counts, sall->counts, sizeof(m->counts)), 0);
    cr_assert_eq(m->count, sall->count);
    cr_assert_eq(m->sum, sall->sum);
    cr_assert_eq(m->min, sall->min);
    cr_assert_eq(m->max, sall->max);
    cr_assert_eq(hist_percentile(m, 99), hist_percentile(sall, 99));
    /* Merging an empty snapshot changes nothing (min stays). */
    struct hist_snap *e = malloc(sizeof(*e));
    hist_snap_clear(e);
    hist_snap_merge(m, e);
    cr_assert_eq(m->min, sall->min);
    hist_snap_merge(e, m);
    cr_assert_eq(e->min, sall->min);
    free(a), free(b), free(all), free(sa), free(sb), free(sall), free(m), free(e);
}

Test(hist, huge_values_clamp_and_sum_saturates)
{
    struct hist *h = new_hist();
    hist_record(h, UINT64_MAX);
    hist_record(h, HIST_LIMIT);
    hist_record(h, HIST_LIMIT - 1);
    struct hist_snap s;
    hist_snapshot(h, &s);
    cr_assert_eq(s.counts[HIST_BUCKETS - 1], 3);
    cr_assert_eq(s.count, 3);
    cr_assert_eq(s.max, UINT64_MAX);
    cr_assert_eq(s.sum, UINT64_MAX);
    cr_assert_eq(hist_percentile(&s, 100), UINT64_MAX);
    cr_assert_eq(hist_percentile(&s, 1), UINT64_MAX);
    cr_assert_eq(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
    free(h);
}

Test(hist, one_hour_is_in_range)
{
    uint64_t hour = 3600ull * 1000000000ull;
    cr_assert_lt(hour, HIST_LIMIT);
    unsigned b = hist_bucket(hour);
    cr_assert_lt(b, HIST_BUCKETS - 1);
    cr_assert_leq(hist_bucket_lo(b), hour);
    cr_assert_geq(hist_bucket_hi(b), hour);
}
