/*
 * boards/virt_qmp.c — the QMP commands of blkemu's virt machine (see
 * virt_qmp.h and docs/qmp.md). Replies use QEMU 7.2's member names
 * (qapi/run-state.json, qapi/block-core.json) so that existing tooling
 * reads them; blkemu's own commands and members start with x-blkemu.
 */
#include "boards/virt_qmp.h"
#include "boards/virt_qmp_int.h"

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

static const struct qmp_command commands[] = {
    { "query-status", cmd_query_status, NULL },
    { "stop", cmd_stop, NULL },
    { "cont", cmd_cont, NULL },
    { "system_reset", cmd_system_reset, NULL },
    { "system_powerdown", cmd_system_powerdown, NULL },
    { "quit", cmd_quit, NULL },
    { "query-block", vqmp_query_block, NULL },
    { "query-blockstats", vqmp_query_blockstats, vqmp_blockstats_args },
    { "x-blkemu-query-latency", vqmp_query_latency, vqmp_latency_args },
    { "x-blkemu-inject", vqmp_inject, vqmp_inject_args },
    { "x-blkemu-set-stall-threshold", vqmp_set_stall, vqmp_stall_args },
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
