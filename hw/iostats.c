/*
 * hw/iostats.c — per-queue I/O counters, phase histograms, the stall
 * detector and the registry (see iostats.h).
 */
#include "hw/iostats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

#define LD(c) atomic_load_explicit(&(c), memory_order_relaxed)
#define ST(c, v) atomic_store_explicit(&(c), (v), memory_order_relaxed)
/* One writer per queue: a load and a store, no locked instruction. */
#define BUMP(c, n) ST(c, LD(c) + (n))

struct iostats {
    pthread_mutex_t lock;           /* the drive list */
    struct iostats_drive **drives;
    unsigned n, cap;
    _Atomic uint64_t stall_ns;
    _Atomic uint64_t stalls;
    bool off;                       /* iostats_set_enabled(r, false) */
};

/* ---- registry ---- */

struct iostats *iostats_new(uint64_t stall_threshold_ns)
{
    struct iostats *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    atomic_init(&r->stall_ns, stall_threshold_ns);
    return r;
}

void iostats_free(struct iostats *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    free(r->drives);
    free(r);
}

void iostats_set_enabled(struct iostats *r, bool on)
{
    r->off = !on;
}

uint64_t iostats_stall_threshold(const struct iostats *r)
{
    return r ? LD(((struct iostats *)r)->stall_ns) : IOSTATS_DEFAULT_STALL_NS;
}

void iostats_set_stall_threshold(struct iostats *r, uint64_t ns)
{
    ST(r->stall_ns, ns);
}

uint64_t iostats_total_stalls(const struct iostats *r)
{
    return r ? LD(((struct iostats *)r)->stalls) : 0;
}

unsigned iostats_drives(struct iostats *r, struct iostats_drive **out,
                        unsigned max)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    unsigned n = r->n;
    for (unsigned i = 0; i < n && i < max; i++)
        out[i] = r->drives[i];
    pthread_mutex_unlock(&r->lock);
    return n;
}

static bool reg_add(struct iostats *r, struct iostats_drive *d)
{
    pthread_mutex_lock(&r->lock);
    bool ok = true;
    if (r->n == r->cap) {
        unsigned cap = r->cap ? 2 * r->cap : 8;
        struct iostats_drive **n = realloc(r->drives, cap * sizeof(*n));
        if (n) {
            r->drives = n;
            r->cap = cap;
        } else {
            ok = false;
        }
    }
    if (ok)
        r->drives[r->n++] = d;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void reg_del(struct iostats *r, struct iostats_drive *d)
{
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < r->n; i++)
        if (r->drives[i] == d) {
            memmove(&r->drives[i], &r->drives[i + 1],
                    (r->n - i - 1) * sizeof(*r->drives));
            r->n--;
            break;
        }
    pthread_mutex_unlock(&r->lock);
}

/* ---- drives ---- */

struct iostats_drive *iostats_drive_new(struct iostats *r,
                                        const struct iostats_drive_info *info)
{
    unsigned nq = info->nqueues ? info->nqueues : 1;
    struct iostats_drive *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->info = *info;
    d->info.nqueues = nq;
    d->info.id = strdup(info->id ? info->id : "");
    d->info.file = strdup(info->file ? info->file : "");
    d->info.iface = info->iface ? info->iface : "";
    d->off = r && r->off;
    size_t sz = nq * sizeof(*d->queues);
    d->queues = aligned_alloc(64, (sz + 63) & ~(size_t)63);
    if (!d->info.id || !d->info.file || !d->queues)
        goto fail;
    memset(d->queues, 0, sz);
    for (unsigned q = 0; q < nq; q++) {
        d->queues[q].drive = d;
        d->queues[q].index = q;
        d->queues[q].off = d->off;
        for (unsigned p = 0; p < IOSTATS_PHASES; p++)
            hist_init(&d->queues[q].phase[p]);
    }
    if (r && !reg_add(r, d))
        goto fail;
    d->reg = r;
    return d;
fail:
    free((char *)d->info.id);
    free((char *)d->info.file);
    free(d->queues);
    free(d);
    return NULL;
}

void iostats_drive_free(struct iostats_drive *d)
{
    if (!d)
        return;
    if (d->reg)
        reg_del(d->reg, d);
    free((char *)d->info.id);
    free((char *)d->info.file);
    free(d->queues);
    free(d);
}

/* ---- hooks ---- */

uint64_t iostats_take_doorbell(struct iostats_queue *q)
{
    if (q->drive->off)
        return 0;
    uint64_t t = atomic_exchange_explicit(&q->doorbell_ns, 0,
                                          memory_order_relaxed);
    return t ? t : clock_ns();
}

/* A stall: count it, and say so at most once per second per queue. */
static void stall(struct iostats_queue *q, uint64_t wait, uint64_t now,
                  uint64_t threshold)
{
    struct iostats_drive *d = q->drive;
    BUMP(q->stalls, 1);
    if (wait > LD(q->stall_max_ns))
        ST(q->stall_max_ns, wait);
    if (d->reg)
        atomic_fetch_add_explicit(&d->reg->stalls, 1, memory_order_relaxed);
    if (q->warn_ns && now - q->warn_ns < IOSTATS_WARN_INTERVAL_NS) {
        q->warn_suppressed++;
        return;
    }
    char w[32], t[32];
    iostats_fmt_ns(wait, w, sizeof(w));
    iostats_fmt_ns(threshold, t, sizeof(t));
    if (q->warn_suppressed)
        log_warn("stall: drive %s queue %u: a request waited %s from "
                 "doorbell to submit (threshold %s; %llu more stalls in "
                 "the last second)", d->info.id, q->index, w, t,
                 (unsigned long long)q->warn_suppressed);
    else
        log_warn("stall: drive %s queue %u: a request waited %s from "
                 "doorbell to submit (threshold %s)", d->info.id, q->index,
                 w, t);
    q->warn_ns = now;
    q->warn_suppressed = 0;
}

void iostats_submit(struct iostats_queue *q, struct iostats_req *r)
{
    if (q->drive->off)
        return;
    uint64_t now = clock_ns();
    r->submit_ns = now;
    uint64_t wait = now > r->doorbell_ns ? now - r->doorbell_ns : 0;
    hist_record(&q->phase[IOSTATS_WAIT], wait);
    uint64_t threshold = iostats_stall_threshold(q->drive->reg);
    if (threshold && wait >= threshold)
        stall(q, wait, now, threshold);
    uint64_t n = LD(q->inflight) + 1;
    ST(q->inflight, n);
    if (n > LD(q->max_inflight))
        ST(q->max_inflight, n);
}

void iostats_complete(struct iostats_queue *q, struct iostats_req *r,
                      enum blk_op op, uint64_t bytes, bool error)
{
    if (!r->submit_ns)
        return;
    uint64_t now = clock_ns();
    r->complete_ns = now;
    hist_record(&q->phase[IOSTATS_SERVICE],
                now > r->submit_ns ? now - r->submit_ns : 0);
    if (LD(q->inflight))
        BUMP(q->inflight, -1);
    if (op >= BLK_OP__COUNT)
        return;
    BUMP(q->ops[op], 1);
    if (error)
        BUMP(q->errors[op], 1);
    else
        BUMP(q->bytes[op], bytes);
}

void iostats_irq(struct iostats_queue *q, struct iostats_req *r)
{
    if (!r->complete_ns)
        return;
    uint64_t now = clock_ns();
    hist_record(&q->phase[IOSTATS_IRQ],
                now > r->complete_ns ? now - r->complete_ns : 0);
    r->complete_ns = 0;     /* one sample per request */
}

/* ---- reading ---- */

void iostats_queue_snapshot(const struct iostats_queue *q,
                            struct iostats_queue_snap *s)
{
    struct iostats_queue *m = (struct iostats_queue *)q;
    for (unsigned i = 0; i < BLK_OP__COUNT; i++) {
        s->ops[i] = LD(m->ops[i]);
        s->bytes[i] = LD(m->bytes[i]);
        s->errors[i] = LD(m->errors[i]);
    }
    s->inflight = LD(m->inflight);
    s->max_inflight = LD(m->max_inflight);
    s->stalls = LD(m->stalls);
    s->stall_max_ns = LD(m->stall_max_ns);
    for (unsigned p = 0; p < IOSTATS_PHASES; p++)
        hist_snapshot(&q->phase[p], &s->phase[p]);
}

void iostats_drive_snapshot(const struct iostats_drive *d,
                            struct iostats_queue_snap *s)
{
    struct iostats_queue_snap *one = malloc(sizeof(*one));
    memset(s, 0, sizeof(*s));
    for (unsigned q = 0; one && q < d->info.nqueues; q++) {
        iostats_queue_snapshot(&d->queues[q], one);
        for (unsigned i = 0; i < BLK_OP__COUNT; i++) {
            s->ops[i] += one->ops[i];
            s->bytes[i] += one->bytes[i];
            s->errors[i] += one->errors[i];
        }
        s->inflight += one->inflight;
        s->max_inflight += one->max_inflight;   /* an upper bound */
        s->stalls += one->stalls;
        if (one->stall_max_ns > s->stall_max_ns)
            s->stall_max_ns = one->stall_max_ns;
        for (unsigned p = 0; p < IOSTATS_PHASES; p++)
            hist_snap_merge(&s->phase[p], &one->phase[p]);
    }
    free(one);
}

const char *iostats_phase_name(enum iostats_phase p)
{
    static const char *const names[IOSTATS_PHASES] = {
        "doorbell_to_submit", "submit_to_complete", "complete_to_irq",
    };
    return p < IOSTATS_PHASES ? names[p] : "?";
}

const char *iostats_fmt_ns(uint64_t ns, char *buf, unsigned len)
{
    if (ns < 1000)
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1fus", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.2fms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.3fs", (double)ns / 1e9);
    return buf;
}

/* " wait p50 X p99 Y max Z" for one phase. */
static void fmt_phase(char *out, size_t len, const char *name,
                      const struct hist_snap *h)
{
    char a[32], b[32], c[32];
    snprintf(out, len, " %s p50 %s p99 %s max %s", name,
             iostats_fmt_ns(hist_percentile(h, 50), a, sizeof(a)),
             iostats_fmt_ns(hist_percentile(h, 99), b, sizeof(b)),
             iostats_fmt_ns(h->max, c, sizeof(c)));
}

void iostats_print(struct iostats *r)
{
    struct iostats_drive *d[IOSTATS_MAX_DRIVES];
    unsigned n = iostats_drives(r, d, IOSTATS_MAX_DRIVES);
    struct iostats_queue_snap *s = malloc(sizeof(*s));
    static const char *const short_name[IOSTATS_PHASES] = {
        "wait", "service", "irq",
    };
    for (unsigned i = 0; s && i < n && i < IOSTATS_MAX_DRIVES; i++) {
        iostats_drive_snapshot(d[i], s);
        uint64_t ops = 0, errs = 0;
        for (unsigned k = 0; k < BLK_OP__COUNT; k++) {
            ops += s->ops[k];
            errs += s->errors[k];
        }
        char ph[IOSTATS_PHASES][128];
        for (unsigned p = 0; p < IOSTATS_PHASES; p++)
            fmt_phase(ph[p], sizeof(ph[p]), short_name[p], &s->phase[p]);
        fprintf(stderr, "blkemu: stats: latency %s ops %llu errors %llu "
                "stalls %llu |%s |%s |%s\r\n", d[i]->info.id,
                (unsigned long long)ops, (unsigned long long)errs,
                (unsigned long long)s->stalls, ph[0], ph[1], ph[2]);
    }
    free(s);
}
