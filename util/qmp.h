/*
 * util/qmp.h — the QMP protocol, without a socket: the greeting, capability
 * negotiation, request validation, argument checking against a small
 * per-command schema, replies and events, all as json-c objects.
 *
 * The commands themselves are a table the caller supplies (blkemu's are in
 * boards/virt_qmp.c); this file knows none of them except
 * qmp_capabilities, which is part of the protocol. The socket side is
 * util/qmp_server.c. Messages follow QEMU 7.2's QMP (docs/interop/qmp-spec
 * in QEMU's tree) so that existing clients work; docs/qmp.md lists the
 * differences.
 */
#ifndef UTIL_QMP_H
#define UTIL_QMP_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Error classes QEMU 7.2 uses (qapi/error.json). */
#define QMP_ERR_GENERIC "GenericError"
#define QMP_ERR_NOT_FOUND "CommandNotFound"
#define QMP_ERR_DEVICE_NOT_FOUND "DeviceNotFound"

/* Argument types a command's schema can ask for. */
enum qmp_type { QMP_STR, QMP_BOOL, QMP_INT };

struct qmp_arg {
    const char *name;
    enum qmp_type type;
    bool optional;
};

/* A command handler. `args` is an object whose members have been checked
 * against the schema (never NULL; {} when the request had none). Returns
 * the "return" value (owned by the caller; NULL means {}), or sets *err to
 * an error made with qmp_error() (then the return value is ignored). */
typedef struct json_object *qmp_handler(void *opaque, struct json_object *args,
                                        struct json_object **err);

struct qmp_command {
    const char *name;
    qmp_handler *fn;
    const struct qmp_arg *args;     /* NULL, or ended by { NULL } */
};

/* The commands a dispatcher knows, and what the greeting says. */
struct qmp {
    const struct qmp_command *cmds;
    size_t ncmds;
    void *opaque;                   /* passed to every handler */
    const char *package;            /* greeting's version.package */
    int major, minor, micro;        /* greeting's version.qemu */
};

/* One client's protocol state. */
struct qmp_session {
    bool negotiated;                /* qmp_capabilities done: command mode */
};

/* {"QMP": {"version": {...}, "capabilities": []}}. Owned by the caller. */
struct json_object *qmp_greeting(const struct qmp *q);

/* Handle one request (any JSON value, borrowed) and return the reply
 * object (owned by the caller; never NULL): {"return": ...} or
 * {"error": {"class": ..., "desc": ...}}, with the request's "id" echoed.
 * Never fails on malformed input: that is an error reply. */
struct json_object *qmp_dispatch(const struct qmp *q, struct qmp_session *s,
                                 struct json_object *req);

/* {"class": cls, "desc": printf(fmt, ...)}, the value of a reply's
 * "error" member. Owned by the caller. */
struct json_object *qmp_error(const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* {"error": qmp_error(...)}: a whole reply, for errors found before a
 * request could be dispatched (the server's JSON syntax errors). */
struct json_object *qmp_error_reply(const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* {"event": name, "data": data, "timestamp": {"seconds", "microseconds"}}
 * with the host's wall-clock time, as QEMU stamps events; `data` (owned,
 * may be NULL: no "data" member) is taken over. */
struct json_object *qmp_event(const char *name, struct json_object *data);

/* The object's text on one line, as sent (no escaped '/'). Valid until
 * the object is freed. */
const char *qmp_to_string(struct json_object *obj);

#endif
