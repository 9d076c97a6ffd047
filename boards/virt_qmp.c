/*
 * boards/virt_qmp.c — the QMP commands of blkemu's virt machine (see
 * virt_qmp.h and docs/qmp.md). Replies use QEMU 7.2's member names
 * (qapi/run-state.json, qapi/block-core.json) so that existing tooling
 * reads them; blkemu's own commands and members start with x-blkemu.
 */
#include "boards/virt_qmp.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boards/virt.h"
#include "boards/virt_pci.h"
#include "hw/machine.h"
#include "util/log.h"
#include "util/qmp.h"
#include "util/qmp_server.h"

#ifndef BLKEMU_VERSION
#define BLKEMU_VERSION "0.1"
#endif

/* Who asked for the exit being handled, for the events' "reason". */
enum vqmp_cause { CAUSE_NONE = 0, CAUSE_QMP_QUIT, CAUSE_QMP_RESET };

struct virt_qmp {
    struct virt *v;
    struct machine *m;
    struct qmp proto;
    struct qmp_server *srv;     /* NULL without a socket */
    bool waiting;               /* wait=on: harts held until a client comes */
    enum vqmp_cause cause;
};

static void emit(struct virt_qmp *q, const char *name, struct json_object *data)
{
    struct json_object *ev = qmp_event(name, data);
    log_info("qmp: event %s", name);
    if (q->srv)
        qmp_server_broadcast(q->srv, ev);
    json_object_put(ev);
}

static struct json_object *shutdown_data(bool guest, const char *reason)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "guest", json_object_new_boolean(guest));
    json_object_object_add(d, "reason", json_object_new_string(reason));
    return d;
}

/* ---- run state ------------------------------------------------------- */

/* QEMU's RunState names (qapi/run-state.json). */
static const char *run_state(const struct machine *m)
{
    switch (atomic_load(&m->exit_reason)) {
    case MACHINE_RUNNING:
    case MACHINE_RESET:
        return m->paused ? "paused" : "running";
    case MACHINE_FATAL:
        return "internal-error";
    case MACHINE_FAIL:
        return "guest-panicked";
    default:
        return "shutdown";
    }
}

static struct json_object *cmd_query_status(void *opaque, struct json_object *args,
                                            struct json_object **err)
{
    struct virt_qmp *q = opaque;
    const char *st = run_state(q->m);
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "status", json_object_new_string(st));
    json_object_object_add(r, "singlestep", json_object_new_boolean(false));
    json_object_object_add(r, "running", json_object_new_boolean(!strcmp(st, "running")));
    return r;
}

static struct json_object *cmd_stop(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    struct virt_qmp *q = opaque;
    if (q->m->paused)
        return NULL;
    if (!machine_pause(q->m))
        log_warn("qmp: stop: a hart did not park within 1 s (it parks at "
                    "its next batch boundary)");
    emit(q, "STOP", NULL);
    return NULL;
}

static struct json_object *cmd_cont(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    struct virt_qmp *q = opaque;
    if (!q->m->paused)
        return NULL;
    q->waiting = false;
    machine_resume(q->m);
    emit(q, "RESUME", NULL);
    return NULL;
}

static struct json_object *cmd_system_reset(void *opaque, struct json_object *args,
                                            struct json_object **err)
{
    struct virt_qmp *q = opaque;
    if (q->cause == CAUSE_NONE)
        q->cause = CAUSE_QMP_RESET;
    machine_request_exit(q->m, MACHINE_RESET, 0);
    return NULL;
}

/* QEMU's riscv virt has no power button (no ACPI, no GPIO key): QEMU only
 * sends the event, and so do we; the guest does not see anything. */
static struct json_object *cmd_system_powerdown(void *opaque, struct json_object *args,
                                                struct json_object **err)
{
    emit(opaque, "POWERDOWN", NULL);
    return NULL;
}

static struct json_object *cmd_quit(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    struct virt_qmp *q = opaque;
    if (q->cause == CAUSE_NONE)
        q->cause = CAUSE_QMP_QUIT;
    machine_request_exit(q->m, MACHINE_QUIT, 0);
    return NULL;
}

/* blkemu's own: instructions retired per hart (a paused guest's stay put). */
static struct json_object *cmd_query_harts(void *opaque, struct json_object *args,
                                           struct json_object **err)
{
    struct virt_qmp *q = opaque;
    struct json_object *a = json_object_new_array();
    for (unsigned i = 0; i < q->m->nharts; i++) {
        struct json_object *h = json_object_new_object();
        json_object_object_add(h, "hart", json_object_new_int((int)i));
        json_object_object_add(h, "instructions",
                               json_object_new_int64((int64_t)hart_instret(q->m->harts[i])));
        json_object_array_add(a, h);
    }
    return a;
}

/* ---- block ----------------------------------------------------------- */

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

static struct json_object *cmd_query_block(void *opaque, struct json_object *args,
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

static struct json_object *cmd_query_blockstats(void *opaque, struct json_object *args,
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
static const struct qmp_arg blockstats_args[] = {
    { "query-nodes", QMP_BOOL, true }, { NULL, 0, false },
};

static const struct qmp_command commands[] = {
    { "query-status", cmd_query_status, NULL },
    { "stop", cmd_stop, NULL },
    { "cont", cmd_cont, NULL },
    { "system_reset", cmd_system_reset, NULL },
    { "system_powerdown", cmd_system_powerdown, NULL },
    { "quit", cmd_quit, NULL },
    { "query-block", cmd_query_block, NULL },
    { "query-blockstats", cmd_query_blockstats, blockstats_args },
    { "x-blkemu-query-harts", cmd_query_harts, NULL },
};

/* ---- the socket ------------------------------------------------------ */

static struct json_object *srv_request(void *opaque, struct qmp_session *s,
                                       struct json_object *req)
{
    struct virt_qmp *q = opaque;
    return qmp_dispatch(&q->proto, s, req);
}

static struct json_object *srv_greeting(void *opaque)
{
    struct virt_qmp *q = opaque;
    return qmp_greeting(&q->proto);
}

static void srv_connected(void *opaque)
{
    struct virt_qmp *q = opaque;
    if (!q->waiting)
        return;
    q->waiting = false;
    log_info("qmp: a client connected: starting the guest");
    machine_resume(q->m);
}

struct virt_qmp *virt_qmp_new(struct virt *v, struct loop *loop,
                              const char *spec, char *err, size_t errlen)
{
    struct qmp_addr addr;
    if (spec && !qmp_addr_parse(spec, &addr, err, errlen))
        return NULL;
    struct virt_qmp *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->v = v;
    q->m = virt_machine(v);
    int major = 0, minor = 0, micro = 0;
    sscanf(BLKEMU_VERSION, "%d.%d.%d", &major, &minor, &micro);
    q->proto = (struct qmp){
        .cmds = commands, .ncmds = sizeof(commands) / sizeof(commands[0]),
        .opaque = q, .package = "blkemu " BLKEMU_VERSION,
        .major = major, .minor = minor, .micro = micro,
    };
    if (!spec)
        return q;
    struct qmp_server_ops ops = { .request = srv_request, .greeting = srv_greeting,
                                  .connected = srv_connected, .opaque = q };
    q->srv = qmp_server_new(loop, &addr, &ops, err, errlen);
    if (!q->srv) {
        free(q);
        return NULL;
    }
    if (addr.wait) {
        fprintf(stderr, "blkemu: waiting for a QMP client on %s\n", addr.path);
        q->waiting = true;
        machine_pause(q->m);
    }
    return q;
}

struct json_object *virt_qmp_dispatch(struct virt_qmp *q, struct qmp_session *s,
                                      struct json_object *req)
{
    return qmp_dispatch(&q->proto, s, req);
}

void virt_qmp_stopped(struct virt_qmp *q, bool rebooting)
{
    if (!q)
        return;
    bool host = q->cause != CAUSE_NONE;
    const char *reason;
    switch (atomic_load(&q->m->exit_reason)) {
    case MACHINE_RESET:
        reason = host ? "host-qmp-system-reset" : "guest-reset";
        break;
    case MACHINE_QUIT:
        reason = host ? "host-qmp-quit" : "host-ui";
        host = true;
        break;
    case MACHINE_POWEROFF: reason = "guest-shutdown"; break;
    case MACHINE_FAIL: reason = "guest-panic"; break;
    default: reason = "host-error"; host = true; break;
    }
    emit(q, rebooting ? "RESET" : "SHUTDOWN", shutdown_data(!host, reason));
    q->cause = CAUSE_NONE;
    if (!rebooting && q->srv)
        qmp_server_flush(q->srv, 500);
}

void virt_qmp_free(struct virt_qmp *q)
{
    if (!q)
        return;
    qmp_server_free(q->srv);
    free(q);
}
