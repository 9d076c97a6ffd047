/*
 * boards/virt_qmp_block.c — the QMP commands about drives: query-block and
 * query-blockstats with QEMU 7.2's member names (qapi/block-core.json),
 * and blkemu's x-blkemu-query-latency (the per-phase histograms of
 * hw/iostats.h) and x-blkemu-inject (block/inject.h rules at run time).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "block/inject.h"
#include "boards/virt.h"
#include "boards/virt_pci.h"
#include "boards/virt_qmp_int.h"
#include "hw/iostats.h"
#include "hw/iostats_json.h"
#include "hw/machine.h"

static const char *aio_name(enum blk_aio a)
{
    switch (a) {
    case BLK_AIO_IO_URING: return "io_uring";
    case BLK_AIO_NATIVE: return "native";
    case BLK_AIO_THREADS: return "threads";
    }
    return "?";
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v > INT64_MAX ? INT64_MAX
                                                                     : (int64_t)v));
}

static void add_bool(struct json_object *o, const char *k, bool v)
{
    json_object_object_add(o, k, json_object_new_boolean(v));
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

/* BlockDeviceInfo ("inserted"): a raw image, no throttling. */
static struct json_object *inserted(const struct virt_drive_info *d)
{
    struct json_object *cache = json_object_new_object();
    add_bool(cache, "writeback", true);
    add_bool(cache, "direct", d->cache == BLK_CACHE_NONE);
    add_bool(cache, "no-flush", false);
    struct json_object *img = json_object_new_object();
    add_str(img, "filename", d->file);
    add_str(img, "format", "raw");
    add_u64(img, "virtual-size", d->size);
    struct json_object *o = json_object_new_object();
    add_str(o, "file", d->file);
    add_bool(o, "ro", d->readonly);
    add_str(o, "drv", "raw");
    json_object_object_add(o, "backing_file_depth", json_object_new_int(0));
    add_bool(o, "encrypted", false);
    add_str(o, "detect_zeroes", "off");
    static const char *const zero[] = { "bps", "bps_rd", "bps_wr", "iops",
                                        "iops_rd", "iops_wr", "write_threshold" };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        json_object_object_add(o, zero[i], json_object_new_int(0));
    json_object_object_add(o, "cache", cache);
    json_object_object_add(o, "image", img);
    return o;
}

struct json_object *vqmp_query_block(void *opaque, struct json_object *args,
                                           struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct virt_pci *p = virt_get_pci(q->v);
    struct json_object *a = json_object_new_array();
    struct virt_drive_info d;
    for (unsigned i = 0; virt_pci_drive_info(p, i, &d); i++) {
        struct json_object *o = json_object_new_object();
        add_str(o, "device", d.id);
        add_bool(o, "locked", false);
        add_bool(o, "removable", false);
        add_str(o, "type", "unknown");
        json_object_object_add(o, "inserted", inserted(&d));
        struct json_object *x = json_object_new_object();
        add_str(x, "if", d.iface);
        add_str(x, "aio", aio_name(d.aio));
        add_str(x, "cache", d.cache == BLK_CACHE_NONE ? "none" : "writeback");
        json_object_object_add(o, "x-blkemu", x);
        json_object_array_add(a, o);
    }
    return a;
}

/* BlockDeviceStats from the block layer's counters. QEMU counts only
 * successful requests in *_operations and *_bytes, failed ones apart;
 * write-zeroes requests count as writes (as QEMU's virtio-blk accounts
 * them), discards as unmaps. */
static struct json_object *device_stats(const struct blk_stats *s)
{
    const struct blk_op_stats *rd = &s->op[BLK_OP_READ], *wr = &s->op[BLK_OP_WRITE],
                              *wz = &s->op[BLK_OP_WRITE_ZEROES],
                              *fl = &s->op[BLK_OP_FLUSH], *un = &s->op[BLK_OP_DISCARD];
    struct json_object *o = json_object_new_object();
    add_u64(o, "rd_bytes", rd->bytes);
    add_u64(o, "wr_bytes", wr->bytes + wz->bytes);
    add_u64(o, "unmap_bytes", un->bytes);
    add_u64(o, "rd_operations", rd->ops - rd->errors);
    add_u64(o, "wr_operations", wr->ops - wr->errors + wz->ops - wz->errors);
    add_u64(o, "flush_operations", fl->ops - fl->errors);
    add_u64(o, "unmap_operations", un->ops - un->errors);
    add_u64(o, "rd_total_time_ns", rd->total_ns);
    add_u64(o, "wr_total_time_ns", wr->total_ns + wz->total_ns);
    add_u64(o, "flush_total_time_ns", fl->total_ns);
    add_u64(o, "unmap_total_time_ns", un->total_ns);
    add_u64(o, "wr_highest_offset", 0);
    add_u64(o, "rd_merged", 0);
    add_u64(o, "wr_merged", 0);
    add_u64(o, "unmap_merged", 0);
    add_u64(o, "failed_rd_operations", rd->errors);
    add_u64(o, "failed_wr_operations", wr->errors + wz->errors);
    add_u64(o, "failed_flush_operations", fl->errors);
    add_u64(o, "failed_unmap_operations", un->errors);
    add_u64(o, "invalid_rd_operations", 0);
    add_u64(o, "invalid_wr_operations", 0);
    add_u64(o, "invalid_flush_operations", 0);
    add_u64(o, "invalid_unmap_operations", 0);
    add_bool(o, "account_invalid", false);
    add_bool(o, "account_failed", true);
    json_object_object_add(o, "timed_stats", json_object_new_array());
    add_u64(o, "x-blkemu-in-flight", s->in_flight);
    add_u64(o, "x-blkemu-max-in-flight", s->max_in_flight);
    return o;
}

struct json_object *vqmp_query_blockstats(void *opaque, struct json_object *args,
                                                struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct virt_pci *p = virt_get_pci(q->v);
    struct json_object *a = json_object_new_array();
    struct virt_drive_info d;
    for (unsigned i = 0; virt_pci_drive_info(p, i, &d); i++) {
        struct json_object *o = json_object_new_object();
        add_str(o, "device", d.id);
        json_object_object_add(o, "stats", device_stats(&d.stats));
        json_object_array_add(a, o);
    }
    return a;
}

/* query-blockstats' only argument is a flag about node names, which
 * blkemu's drives do not have: accepted and ignored. */
const struct qmp_arg vqmp_blockstats_args[] = {
    { "query-nodes", QMP_BOOL, true }, { NULL, 0, false },
};


/* The drive called `id`, or false with *err set (QEMU's class and text for
 * an unknown block device). */
static bool find_drive(struct virt_qmp *q, const char *id,
                       struct virt_drive_info *d, struct json_object **err)
{
    struct virt_pci *p = virt_get_pci(q->v);
    for (unsigned i = 0; virt_pci_drive_info(p, i, d); i++)
        if (!strcmp(d->id, id))
            return true;
    *err = qmp_error(QMP_ERR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    return false;
}

/* x-blkemu-query-latency [device] [buckets]: hw/iostats_json.h's objects
 * (docs/latency.md has the schema): every drive with its stall counters,
 * or one drive. */
struct json_object *vqmp_query_latency(void *opaque, struct json_object *args,
                                       struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct json_object *v;
    bool buckets = json_object_object_get_ex(args, "buckets", &v) &&
                   json_object_get_boolean(v);
    if (!q->m->iostats) {
        *err = qmp_error(QMP_ERR_GENERIC, "no I/O statistics on this machine");
        return NULL;
    }
    if (!json_object_object_get_ex(args, "device", &v))
        return iostats_json(q->m->iostats, buckets);
    const char *id = json_object_get_string(v);
    struct iostats_drive *drives[IOSTATS_MAX_DRIVES];
    unsigned n = iostats_drives(q->m->iostats, drives, IOSTATS_MAX_DRIVES);
    for (unsigned i = 0; i < n && i < IOSTATS_MAX_DRIVES; i++)
        if (!strcmp(drives[i]->info.id, id))
            return iostats_drive_json(drives[i], buckets);
    *err = qmp_error(QMP_ERR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
    return NULL;
}

const struct qmp_arg vqmp_latency_args[] = {
    { "device", QMP_STR, true }, { "buckets", QMP_BOOL, true }, { NULL, 0, false },
};

/* The drive's rules with their counters: [{"rule", "matched", "fired"}]. */
static struct json_object *rule_list(struct blk *b)
{
    struct blk_inject_info info[BLK_INJECT_MAX_RULES];
    unsigned n = blk_get_inject(b, info, BLK_INJECT_MAX_RULES);
    struct json_object *a = json_object_new_array();
    for (unsigned i = 0; i < n && i < BLK_INJECT_MAX_RULES; i++) {
        struct json_object *r = json_object_new_object();
        add_str(r, "rule", info[i].text);
        add_u64(r, "matched", info[i].matched);
        add_u64(r, "fired", info[i].fired);
        json_object_array_add(a, r);
    }
    return a;
}

/* x-blkemu-inject device [rule] [clear]: replace the drive's injection
 * rules with `rule` (block/inject.h syntax; "" or clear=true removes them
 * all), or with neither just list them. Returns the rules now active. */
struct json_object *vqmp_inject(void *opaque, struct json_object *args,
                                struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct json_object *v;
    json_object_object_get_ex(args, "device", &v);
    struct virt_drive_info d;
    if (!find_drive(q, json_object_get_string(v), &d, err))
        return NULL;
    if (!d.blk) {
        *err = qmp_error(QMP_ERR_GENERIC, "Device '%s' has no block handle", d.id);
        return NULL;
    }
    const char *rule = NULL;
    if (json_object_object_get_ex(args, "rule", &v))
        rule = json_object_get_string(v);
    bool clear = json_object_object_get_ex(args, "clear", &v) &&
                 json_object_get_boolean(v);
    if (clear && rule && *rule) {
        *err = qmp_error(QMP_ERR_GENERIC, "'rule' and 'clear' exclude each other");
        return NULL;
    }
    if (clear)
        rule = "";
    char why[512];
    if (rule && !blk_set_inject(d.blk, rule, why, sizeof(why))) {
        *err = qmp_error(QMP_ERR_GENERIC, "%s", why);
        return NULL;
    }
    return rule_list(d.blk);
}

const struct qmp_arg vqmp_inject_args[] = {
    { "device", QMP_STR, false }, { "rule", QMP_STR, true },
    { "clear", QMP_BOOL, true }, { NULL, 0, false },
};

/* x-blkemu-set-stall-threshold threshold-ns: the stall detector's
 * threshold at run time (0 turns it off, as --stall-threshold 0 does);
 * returns the previous one. */
struct json_object *vqmp_set_stall(void *opaque, struct json_object *args,
                                   struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct json_object *v;
    json_object_object_get_ex(args, "threshold-ns", &v);
    int64_t ns = json_object_get_int64(v);
    if (ns < 0 || (uint64_t)ns > 3600ull * 1000000000ull) {
        *err = qmp_error(QMP_ERR_GENERIC, "Parameter 'threshold-ns' expects a "
                         "value from 0 to 3600000000000 (1 hour)");
        return NULL;
    }
    if (!q->m->iostats) {
        *err = qmp_error(QMP_ERR_GENERIC, "no I/O statistics on this machine");
        return NULL;
    }
    struct json_object *r = json_object_new_object();
    add_u64(r, "previous-ns", iostats_stall_threshold(q->m->iostats));
    iostats_set_stall_threshold(q->m->iostats, (uint64_t)ns);
    return r;
}

const struct qmp_arg vqmp_stall_args[] = {
    { "threshold-ns", QMP_INT, false }, { NULL, 0, false },
};
