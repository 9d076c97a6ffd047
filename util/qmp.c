/*
 * util/qmp.c — the QMP protocol without a socket (see qmp.h). Error texts
 * are QEMU 7.2's (qapi/qmp-dispatch.c, qobject-input-visitor.c), so that
 * scripts matching on them keep working.
 */
#include "util/qmp.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static struct json_object *verror(const char *cls, const char *fmt, va_list ap)
{
    char desc[512];
    vsnprintf(desc, sizeof(desc), fmt, ap);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "class", json_object_new_string(cls));
    json_object_object_add(e, "desc", json_object_new_string(desc));
    return e;
}

struct json_object *qmp_error(const char *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct json_object *e = verror(cls, fmt, ap);
    va_end(ap);
    return e;
}

struct json_object *qmp_error_reply(const char *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct json_object *e = verror(cls, fmt, ap);
    va_end(ap);
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "error", e);
    return r;
}

struct json_object *qmp_greeting(const struct qmp *q)
{
    struct json_object *ver = json_object_new_object();
    json_object_object_add(ver, "major", json_object_new_int(q->major));
    json_object_object_add(ver, "minor", json_object_new_int(q->minor));
    json_object_object_add(ver, "micro", json_object_new_int(q->micro));
    struct json_object *version = json_object_new_object();
    json_object_object_add(version, "qemu", ver);
    json_object_object_add(version, "package",
                           json_object_new_string(q->package ? q->package : ""));
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "version", version);
    json_object_object_add(body, "capabilities", json_object_new_array());
    struct json_object *g = json_object_new_object();
    json_object_object_add(g, "QMP", body);
    return g;
}

struct json_object *qmp_event(const char *name, struct json_object *data)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct json_object *ts = json_object_new_object();
    json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
    json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "event", json_object_new_string(name));
    if (data)
        json_object_object_add(e, "data", data);
    json_object_object_add(e, "timestamp", ts);
    return e;
}

const char *qmp_to_string(struct json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                          JSON_C_TO_STRING_NOSLASHESCAPE);
}

static const char *type_name(enum qmp_type t)
{
    switch (t) {
    case QMP_STR: return "string";
    case QMP_BOOL: return "boolean";
    case QMP_INT: return "integer";
    }
    return "?";
}

static bool type_ok(struct json_object *v, enum qmp_type t)
{
    switch (t) {
    case QMP_STR: return json_object_is_type(v, json_type_string);
    case QMP_BOOL: return json_object_is_type(v, json_type_boolean);
    case QMP_INT: return json_object_is_type(v, json_type_int);
    }
    return false;
}

/* A JSON string may hold "\u0000"; C code would read a prefix of it (a
 * command "stop\u0000x" would run stop). Such strings are refused. */
static bool has_nul(struct json_object *v)
{
    return json_object_is_type(v, json_type_string) &&
           strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v);
}

/* Check `args` against the schema; NULL if fine, else the error. */
static struct json_object *check_args(const struct qmp_command *c,
                                      struct json_object *args)
{
    const struct qmp_arg *a = c->args;
    for (; a && a->name; a++) {
        struct json_object *v;
        if (!json_object_object_get_ex(args, a->name, &v)) {
            if (!a->optional)
                return qmp_error(QMP_ERR_GENERIC, "Parameter '%s' is missing",
                                 a->name);
            continue;
        }
        if (!type_ok(v, a->type))
            return qmp_error(QMP_ERR_GENERIC, "Invalid parameter type for "
                             "'%s', expected: %s", a->name, type_name(a->type));
        if (has_nul(v))
            return qmp_error(QMP_ERR_GENERIC, "Parameter '%s' contains a NUL "
                             "character", a->name);
    }
    json_object_object_foreach(args, key, val) {
        (void)val;
        bool known = false;
        for (a = c->args; a && a->name && !known; a++)
            known = !strcmp(a->name, key);
        if (!known)
            return qmp_error(QMP_ERR_GENERIC, "Parameter '%s' is unexpected", key);
    }
    return NULL;
}

/* qmp_capabilities: {"enable": [...]} may name capabilities; we offer
 * none (QEMU's "oob" needs a second, out-of-band queue we do not have). */
static struct json_object *negotiate(struct qmp_session *s, struct json_object *args)
{
    struct json_object *en;
    if (json_object_object_get_ex(args, "enable", &en)) {
        if (!json_object_is_type(en, json_type_array))
            return qmp_error(QMP_ERR_GENERIC, "Invalid parameter type for "
                             "'enable', expected: array");
        if (json_object_array_length(en) > 0) {
            struct json_object *cap = json_object_array_get_idx(en, 0);
            return qmp_error(QMP_ERR_GENERIC, "Capability '%s' not available",
                             json_object_is_type(cap, json_type_string)
                             ? json_object_get_string(cap) : "?");
        }
    }
    json_object_object_foreach(args, key, val) {
        (void)val;
        if (strcmp(key, "enable"))
            return qmp_error(QMP_ERR_GENERIC, "Parameter '%s' is unexpected", key);
    }
    s->negotiated = true;
    return NULL;
}

/* Validate the envelope: a JSON object whose members are execute (a
 * string), arguments (an object) and id (anything). NULL if fine. */
static struct json_object *check_envelope(struct json_object *req)
{
    if (!json_object_is_type(req, json_type_object))
        return qmp_error(QMP_ERR_GENERIC, "QMP input must be a JSON object");
    json_object_object_foreach(req, key, val) {
        if (!strcmp(key, "execute")) {
            if (!json_object_is_type(val, json_type_string))
                return qmp_error(QMP_ERR_GENERIC, "QMP input member 'execute' "
                                 "must be a string");
            if (has_nul(val))
                return qmp_error(QMP_ERR_GENERIC, "QMP input member 'execute' "
                                 "contains a NUL character");
        } else if (!strcmp(key, "arguments")) {
            if (!json_object_is_type(val, json_type_object))
                return qmp_error(QMP_ERR_GENERIC, "QMP input member "
                                 "'arguments' must be an object");
        } else if (strcmp(key, "id")) {
            return qmp_error(QMP_ERR_GENERIC, "QMP input member '%s' is "
                             "unexpected", key);
        }
    }
    if (!json_object_object_get_ex(req, "execute", NULL))
        return qmp_error(QMP_ERR_GENERIC, "QMP input lacks member 'execute'");
    return NULL;
}

static const struct qmp_command *find(const struct qmp *q, const char *name)
{
    for (size_t i = 0; i < q->ncmds; i++)
        if (!strcmp(q->cmds[i].name, name))
            return &q->cmds[i];
    return NULL;
}

/* Run the request; *ret or *err set (one of them). */
static void run(const struct qmp *q, struct qmp_session *s,
                struct json_object *req, struct json_object **ret,
                struct json_object **err)
{
    *ret = *err = NULL;
    if ((*err = check_envelope(req)))
        return;
    struct json_object *v, *args = NULL;
    json_object_object_get_ex(req, "execute", &v);
    const char *name = json_object_get_string(v);
    json_object_object_get_ex(req, "arguments", &args);
    struct json_object *empty = json_object_new_object();
    if (!args)
        args = empty;
    if (!strcmp(name, "qmp_capabilities")) {
        if (s->negotiated)
            *err = qmp_error(QMP_ERR_NOT_FOUND, "Capabilities negotiation is "
                             "already complete, command ignored");
        else
            *err = negotiate(s, args);
    } else if (!s->negotiated) {
        *err = qmp_error(QMP_ERR_NOT_FOUND, "Expecting capabilities "
                         "negotiation with 'qmp_capabilities'");
    } else {
        const struct qmp_command *c = find(q, name);
        if (!c)
            *err = qmp_error(QMP_ERR_NOT_FOUND, "The command %s has not been "
                             "found", name);
        else if (!(*err = check_args(c, args))) {
            *ret = c->fn(q->opaque, args, err);
            if (*err) {
                json_object_put(*ret);
                *ret = NULL;
            }
        }
    }
    if (!*err && !*ret)
        *ret = json_object_new_object();
    json_object_put(empty);
}

struct json_object *qmp_dispatch(const struct qmp *q, struct qmp_session *s,
                                 struct json_object *req)
{
    struct json_object *ret, *err;
    run(q, s, req, &ret, &err);
    struct json_object *reply = json_object_new_object();
    if (err)
        json_object_object_add(reply, "error", err);
    else
        json_object_object_add(reply, "return", ret);
    struct json_object *id;
    if (json_object_is_type(req, json_type_object) &&
        json_object_object_get_ex(req, "id", &id))
        json_object_object_add(reply, "id", json_object_get(id));
    return reply;
}
