/*
 * hw/iostats_json.c — I/O statistics as json-c objects (see
 * iostats_json.h; schema in docs/latency.md).
 */
#include "hw/iostats_json.h"

#include <json-c/json.h>
#include <stdlib.h>

static void put_u64(struct json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_uint64(v));
}

struct json_object *iostats_hist_json(const struct hist_snap *s, bool buckets)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    put_u64(o, "count", s->count);
    put_u64(o, "min", s->min);
    put_u64(o, "mean", hist_mean(s));
    put_u64(o, "p50", hist_percentile(s, 50));
    put_u64(o, "p90", hist_percentile(s, 90));
    put_u64(o, "p99", hist_percentile(s, 99));
    put_u64(o, "p99_9", hist_percentile(s, 99.9));
    put_u64(o, "max", s->max);
    if (!buckets)
        return o;
    struct json_object *a = json_object_new_array();
    for (unsigned i = 0; a && i < HIST_BUCKETS; i++) {
        if (!s->counts[i])
            continue;
        struct json_object *b = json_object_new_array_ext(3);
        json_object_array_add(b, json_object_new_uint64(hist_bucket_lo(i)));
        json_object_array_add(b, json_object_new_uint64(hist_bucket_hi(i)));
        json_object_array_add(b, json_object_new_uint64(s->counts[i]));
        json_object_array_add(a, b);
    }
    json_object_object_add(o, "buckets", a);
    return o;
}

static struct json_object *per_op(const uint64_t v[BLK_OP__COUNT])
{
    struct json_object *o = json_object_new_object();
    for (unsigned i = 0; o && i < BLK_OP__COUNT; i++)
        put_u64(o, i == BLK_OP_WRITE_ZEROES ? "write_zeroes"
                   : blk_op_name((enum blk_op)i), v[i]);
    return o;
}

struct json_object *iostats_queue_json(const struct iostats_queue_snap *s,
                                       bool buckets)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "ops", per_op(s->ops));
    json_object_object_add(o, "bytes", per_op(s->bytes));
    json_object_object_add(o, "errors", per_op(s->errors));
    put_u64(o, "in_flight", s->inflight);
    put_u64(o, "max_in_flight", s->max_inflight);
    put_u64(o, "stalls", s->stalls);
    put_u64(o, "stall_max_ns", s->stall_max_ns);
    struct json_object *lat = json_object_new_object();
    for (unsigned p = 0; lat && p < IOSTATS_PHASES; p++)
        json_object_object_add(lat, iostats_phase_name((enum iostats_phase)p),
                               iostats_hist_json(&s->phase[p], buckets));
    json_object_object_add(o, "latency_ns", lat);
    return o;
}

struct json_object *iostats_drive_json(struct iostats_drive *d, bool buckets)
{
    const struct iostats_drive_info *in = &d->info;
    struct iostats_queue_snap *s = malloc(sizeof(*s));
    struct json_object *o = json_object_new_object();
    if (!o || !s) {
        free(s);
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "id", json_object_new_string(in->id));
    json_object_object_add(o, "interface", json_object_new_string(in->iface));
    json_object_object_add(o, "file", json_object_new_string(in->file));
    json_object_object_add(o, "readonly", json_object_new_boolean(in->readonly));
    json_object_object_add(o, "aio", json_object_new_string(blk_aio_name(in->aio)));
    json_object_object_add(o, "cache",
                           json_object_new_string(blk_cache_name(in->cache)));
    put_u64(o, "size", in->size);
    put_u64(o, "num_queues", in->nqueues);
    iostats_drive_snapshot(d, s);
    json_object_object_add(o, "total", iostats_queue_json(s, buckets));
    struct json_object *qs = json_object_new_array();
    for (unsigned q = 0; qs && q < in->nqueues; q++) {
        iostats_queue_snapshot(&d->queues[q], s);
        struct json_object *qo = iostats_queue_json(s, buckets);
        if (qo)
            json_object_object_add(qo, "queue", json_object_new_int((int)q));
        json_object_array_add(qs, qo);
    }
    json_object_object_add(o, "queues", qs);
    free(s);
    return o;
}

struct json_object *iostats_json(struct iostats *r, bool buckets)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    put_u64(o, "stall_threshold_ns", iostats_stall_threshold(r));
    put_u64(o, "stalls", iostats_total_stalls(r));
    struct iostats_drive *d[IOSTATS_MAX_DRIVES];
    unsigned n = iostats_drives(r, d, IOSTATS_MAX_DRIVES);
    struct json_object *a = json_object_new_array();
    for (unsigned i = 0; a && i < n && i < IOSTATS_MAX_DRIVES; i++)
        json_object_array_add(a, iostats_drive_json(d[i], buckets));
    json_object_object_add(o, "drives", a);
    return o;
}
