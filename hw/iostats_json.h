/*
 * hw/iostats_json.h — the I/O statistics (hw/iostats.h) as json-c objects,
 * for --stats-json and the control socket. The schema is in
 * docs/latency.md. Every function returns a new object the caller owns
 * (json_object_put), or NULL when out of memory.
 */
#ifndef HW_IOSTATS_JSON_H
#define HW_IOSTATS_JSON_H

#include <stdbool.h>

#include "hw/iostats.h"

struct json_object;

/* {"count","min","mean","p50","p90","p99","p99_9","max"} in ns, and with
 * `buckets` "buckets": [[lo, hi, count], ...] for the non-empty buckets. */
struct json_object *iostats_hist_json(const struct hist_snap *s, bool buckets);

/* One queue's (or a merged drive's) counters and phase latencies:
 * {"ops":{...}, "bytes":{...}, "errors":{...}, "in_flight", "max_in_flight",
 *  "stalls", "stall_max_ns", "latency_ns":{"doorbell_to_submit":{...}, ...}}
 * with the per-op objects keyed "read", "write", "flush", "discard",
 * "write_zeroes". */
struct json_object *iostats_queue_json(const struct iostats_queue_snap *s,
                                       bool buckets);

/* A drive: {"id", "interface", "file", "readonly", "aio", "cache", "size",
 * "num_queues", "total":{queue object}, "queues":[{"queue":N, ...}]}. */
struct json_object *iostats_drive_json(struct iostats_drive *d, bool buckets);

/* Every registered drive: {"stall_threshold_ns", "stalls", "drives":[...]}. */
struct json_object *iostats_json(struct iostats *r, bool buckets);

#endif
