/*
 * util/hist.c — the log-linear latency histogram (see hist.h for the
 * layout and the thread rules).
 */
#include "util/hist.h"

#include <math.h>
#include <string.h>

#define LD(c) atomic_load_explicit(&(c), memory_order_relaxed)
#define ST(c, v) atomic_store_explicit(&(c), (v), memory_order_relaxed)

void hist_init(struct hist *h)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        ST(h->counts[i], 0);
    ST(h->sum, 0);
    ST(h->max, 0);
    ST(h->min, UINT64_MAX);
}

unsigned hist_bucket(uint64_t ns)
{
    if (ns < HIST_SUB)
        return (unsigned)ns;
    if (ns >= HIST_LIMIT)
        return HIST_BUCKETS - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns);    /* >= SUB_BITS */
    unsigned sub = (unsigned)(ns >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return (e - HIST_SUB_BITS + 1) * HIST_SUB + sub;
}

uint64_t hist_bucket_lo(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    if (i >= HIST_BUCKETS)
        return UINT64_MAX;
    unsigned e = i / HIST_SUB + HIST_SUB_BITS - 1;
    uint64_t sub = i % HIST_SUB;
    return (HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

uint64_t hist_bucket_hi(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    if (i >= HIST_BUCKETS - 1)
        return UINT64_MAX;
    unsigned e = i / HIST_SUB + HIST_SUB_BITS - 1;
    return hist_bucket_lo(i) + (1ull << (e - HIST_SUB_BITS)) - 1;
}

void hist_record(struct hist *h, uint64_t ns)
{
    /* Single writer: load + store instead of a locked read-modify-write. */
    unsigned b = hist_bucket(ns);
    ST(h->counts[b], LD(h->counts[b]) + 1);
    uint64_t s = LD(h->sum);
    ST(h->sum, s + ns < s ? UINT64_MAX : s + ns);
    if (ns > LD(h->max))
        ST(h->max, ns);
    if (ns < LD(h->min))
        ST(h->min, ns);
}

void hist_snap_clear(struct hist_snap *s)
{
    memset(s, 0, sizeof(*s));
}

void hist_snapshot(const struct hist *h, struct hist_snap *s)
{
    s->count = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        s->counts[i] = LD(h->counts[i]);
        s->count += s->counts[i];
    }
    s->sum = LD(h->sum);
    s->max = LD(h->max);
    s->min = s->count ? LD(h->min) : 0;
    if (s->min == UINT64_MAX)   /* a sample counted before min was stored */
        s->min = 0;
}

void hist_snap_merge(struct hist_snap *dst, const struct hist_snap *src)
{
    if (!src->count)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->min = dst->count && dst->min < src->min ? dst->min : src->min;
    dst->count += src->count;
    dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX
                                              : dst->sum + src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t hist_percentile(const struct hist_snap *s, double p)
{
    if (!s->count)
        return 0;
    if (!(p > 0))       /* also NaN */
        return s->min;
    if (p >= 100)
        return s->max;
    double r = ceil(p / 100.0 * (double)s->count);
    uint64_t rank = r < 1 ? 1 : r > (double)s->count ? s->count : (uint64_t)r;
    uint64_t seen = 0;
    unsigned i = 0;
    for (; i < HIST_BUCKETS; i++) {
        seen += s->counts[i];
        if (seen >= rank)
            break;
    }
    uint64_t v = hist_bucket_hi(i < HIST_BUCKETS ? i : HIST_BUCKETS - 1);
    if (v > s->max)
        v = s->max;
    if (v < s->min)
        v = s->min;
    return v;
}

uint64_t hist_mean(const struct hist_snap *s)
{
    return s->count ? s->sum / s->count : 0;
}
