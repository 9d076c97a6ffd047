/*
 * hw/drive.c — `-drive` and `-object iothread` option strings (see
 * drive.h).
 */
#include "hw/drive.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/inject.h"
#include "hw/virtio_blk.h"
#include "util/loop.h"
#include "util/opts.h"

/* Split the next "key=value" off *s (",," is a literal comma). Returns a
 * malloc'd copy of the pair with the value unescaped, or NULL at the end
 * (or when out of memory: *oom set). */
static char *next_pair(const char **s, bool *oom)
{
    const char *p = *s;
    if (!*p)
        return NULL;
    size_t cap = strlen(p) + 1, n = 0;
    char *out = malloc(cap);
    if (!out) {
        *oom = true;
        return NULL;
    }
    while (*p) {
        if (*p == ',') {
            if (p[1] == ',') {
                out[n++] = ',';
                p += 2;
                continue;
            }
            p++;
            break;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    *s = p;
    return out;
}

bool drive_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > DRIVE_ID_MAX || !isalpha((unsigned char)id[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
            return false;
    return true;
}

static bool parse_onoff(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return true;
    }
    return false;
}

static bool parse_iothreads(struct drive_opts *d, const char *v, char *err,
                            size_t errlen)
{
    const char *p = v;
    while (true) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char id[DRIVE_ID_MAX + 2];
        snprintf(id, sizeof(id), "%.*s", (int)(n > DRIVE_ID_MAX + 1
                                               ? DRIVE_ID_MAX + 1 : n), p);
        if (!drive_id_valid(id) || n > DRIVE_ID_MAX) {
            snprintf(err, errlen, "-drive iothread='%s': not a valid iothread "
                     "id (letters, digits, '_', '.', '-'; ':' separates ids)",
                     v);
            return false;
        }
        if (d->n_iothreads == DRIVE_MAX_IOTHREADS) {
            snprintf(err, errlen, "-drive iothread='%s': at most %d iothreads",
                     v, DRIVE_MAX_IOTHREADS);
            return false;
        }
        d->iothreads[d->n_iothreads] = strdup(id);
        if (!d->iothreads[d->n_iothreads++]) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        if (!colon)
            return true;
        p = colon + 1;
    }
}

static bool set_str(char **dst, const char *key, const char *v, char *err,
                    size_t errlen)
{
    *dst = strdup(v);
    if (!*dst)
        snprintf(err, errlen, "out of memory");
    return *dst != NULL;
}

/* inject=RULES: checked on its own (so the message names this value),
 * then appended to the drive's rules. */
static bool parse_inject(struct drive_opts *d, const char *v, char *err,
                         size_t errlen)
{
    struct blk_inject_rule rules[BLK_INJECT_MAX_RULES];
    char why[256];
    int n = blk_inject_parse(v, rules, BLK_INJECT_MAX_RULES, why,
                             sizeof(why));
    if (n == 0 && !why[0])
        snprintf(why, sizeof(why), "no rule (e.g. inject=eio@write#100)");
    if (n <= 0) {
        snprintf(err, errlen, "-drive inject=%.200s: %s", v, why);
        return false;
    }
    size_t old = d->inject ? strlen(d->inject) + 1 : 0;
    char *all = realloc(d->inject, old + strlen(v) + 1);
    if (!all) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (old)
        all[old - 1] = ';';
    strcpy(all + old, v);
    d->inject = all;
    return true;
}

/* One key=value of -drive. */
static bool drive_apply(struct drive_opts *d, const char *key, const char *v,
                        char *err, size_t errlen)
{
    uint64_t n;
    if (!strcmp(key, "file")) {
        if (!*v) {
            snprintf(err, errlen, "-drive file=: empty file name");
            return false;
        }
        return set_str(&d->file, key, v, err, errlen);
    }
    if (!strcmp(key, "if")) {
        if (!strcmp(v, "virtio"))
            return true;
        if (!strcmp(v, "ahci")) {
            d->iface = DRIVE_IF_AHCI;
            return true;
        }
        if (!strcmp(v, "ide") || !strcmp(v, "sata"))
            snprintf(err, errlen, "-drive if=%s: blkemu's SATA controller is "
                     "if=ahci", v);
        else
            snprintf(err, errlen, "-drive if=%s: unknown interface "
                     "(supported: virtio, ahci)", v);
        return false;
    }
    if (!strcmp(key, "port")) {
        if (!opts_parse_uint(v, 0, DRIVE_AHCI_PORTS - 1, &n)) {
            snprintf(err, errlen, "-drive port=%s: expected 0..%u", v,
                     DRIVE_AHCI_PORTS - 1);
            return false;
        }
        d->port = (int)n;
        return true;
    }
    if (!strcmp(key, "format")) {
        if (strcmp(v, "raw")) {
            snprintf(err, errlen, "-drive format=%s: unsupported image format "
                     "(supported: raw)", v);
            return false;
        }
        d->format_given = true;
        return true;
    }
    if (!strcmp(key, "aio")) {
        if (!strcmp(v, "io_uring"))
            d->blk.aio = BLK_AIO_IO_URING;
        else if (!strcmp(v, "native"))
            d->blk.aio = BLK_AIO_NATIVE;
        else if (!strcmp(v, "threads"))
            d->blk.aio = BLK_AIO_THREADS;
        else {
            snprintf(err, errlen, "-drive aio=%s: expected io_uring, native "
                     "or threads", v);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "cache")) {
        if (!strcmp(v, "none"))
            d->blk.cache = BLK_CACHE_NONE;
        else if (!strcmp(v, "writeback"))
            d->blk.cache = BLK_CACHE_WRITEBACK;
        else {
            snprintf(err, errlen, "-drive cache=%s: expected none or "
                     "writeback", v);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "readonly")) {
        if (!parse_onoff(v, &d->blk.readonly)) {
            snprintf(err, errlen, "-drive readonly=%s: expected on or off", v);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "num-queues")) {
        if (!opts_parse_uint(v, 1, VBLK_MAX_QUEUES, &n)) {
            snprintf(err, errlen, "-drive num-queues=%s: expected 1..%u", v,
                     VBLK_MAX_QUEUES);
            return false;
        }
        d->num_queues = (unsigned)n;
        return true;
    }
    if (!strcmp(key, "serial")) {
        if (strlen(v) > VIRTIO_BLK_ID_BYTES) {
            snprintf(err, errlen, "-drive serial=%s: longer than %u bytes", v,
                     VIRTIO_BLK_ID_BYTES);
            return false;
        }
        return set_str(&d->serial, key, v, err, errlen);
    }
    if (!strcmp(key, "iothread"))
        return parse_iothreads(d, v, err, errlen);
    if (!strcmp(key, "inject"))
        return parse_inject(d, v, err, errlen);
    if (!strcmp(key, "id")) {
        if (!drive_id_valid(v)) {
            snprintf(err, errlen, "-drive id=%s: not a valid id", v);
            return false;
        }
        return set_str(&d->id, key, v, err, errlen);
    }
    snprintf(err, errlen, "-drive: unknown option '%s' (known: file, if, "
             "format, aio, cache, readonly, num-queues, serial, iothread, id, "
             "port, inject)",
             key);
    return false;
}

/* Options that only one interface takes. */
static bool drive_check_iface(const struct drive_opts *d, char *err,
                              size_t errlen)
{
    if (d->iface == DRIVE_IF_AHCI) {
        if (d->num_queues) {
            snprintf(err, errlen, "-drive if=ahci: num-queues applies to "
                     "virtio only (an AHCI port has one command list)");
            return false;
        }
        if (d->n_iothreads > 1) {
            snprintf(err, errlen, "-drive if=ahci: one iothread per AHCI "
                     "port (iothread=ID)");
            return false;
        }
    } else if (d->port >= 0) {
        snprintf(err, errlen, "-drive port=%d: applies to if=ahci only",
                 d->port);
        return false;
    }
    return true;
}

bool drive_parse(const char *spec, struct drive_opts *d, char *err,
                 size_t errlen)
{
    memset(d, 0, sizeof(*d));
    d->blk.format = BLK_FORMAT_RAW;
    d->blk.aio = BLK_AIO_IO_URING;
    d->blk.cache = BLK_CACHE_NONE;
    d->port = -1;
    const char *s = spec;
    unsigned seen = 0;
    static const char *const keys[] = { "file", "if", "format", "aio", "cache",
        "readonly", "num-queues", "serial", "iothread", "id", "port" };
    bool oom = false;
    char *pair;
    while ((pair = next_pair(&s, &oom))) {
        char *eq = strchr(pair, '=');
        if (!eq) {
            snprintf(err, errlen, "-drive: '%s' is not key=value", pair);
            goto fail_pair;
        }
        *eq = '\0';
        for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            if (!strcmp(pair, keys[k])) {
                if (seen & 1u << k) {
                    snprintf(err, errlen, "-drive: '%s' given twice", pair);
                    goto fail_pair;
                }
                seen |= 1u << k;
            }
        if (!drive_apply(d, pair, eq + 1, err, errlen))
            goto fail_pair;
        free(pair);
    }
    if (oom) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!d->file) {
        snprintf(err, errlen, "-drive '%s': file=PATH is missing", spec);
        goto fail;
    }
    if (!drive_check_iface(d, err, errlen))
        goto fail;
    if (d->inject) {
        /* Each inject= parsed; together they may still be too many. */
        char why[256];
        d->blk.inject = blk_inject_new(d->inject, why, sizeof(why));
        if (!d->blk.inject) {
            snprintf(err, errlen, "-drive inject: %s", why);
            goto fail;
        }
    }
    d->blk.file = d->file;
    return true;
fail_pair:
    free(pair);
fail:
    drive_opts_free(d);
    return false;
}

void drive_opts_free(struct drive_opts *d)
{
    free(d->file);
    free(d->id);
    free(d->serial);
    free(d->inject);
    blk_inject_unref(d->blk.inject);
    for (unsigned i = 0; i < d->n_iothreads; i++)
        free(d->iothreads[i]);
    memset(d, 0, sizeof(*d));
}

/* One key=value of -object iothread (after the type). */
static bool object_pair(const char *pair, struct iothread_opts *o,
                        bool *poll_seen, char *err, size_t errlen)
{
    if (!strncmp(pair, "id=", 3) && !o->id) {
        if (drive_id_valid(pair + 3) && (o->id = strdup(pair + 3)))
            return true;
        snprintf(err, errlen, "-object iothread,id=%s: not a valid id",
                 pair + 3);
        return false;
    }
    if (!strncmp(pair, "poll-max-ns=", 12) && !*poll_seen) {
        *poll_seen = true;
        if (opts_parse_uint(pair + 12, 0, LOOP_POLL_MAX_NS_LIMIT,
                            &o->poll_max_ns))
            return true;
        snprintf(err, errlen, "-object iothread,poll-max-ns=%s: expected "
                 "nanoseconds 0..%llu (0 disables polling)", pair + 12,
                 (unsigned long long)LOOP_POLL_MAX_NS_LIMIT);
        return false;
    }
    snprintf(err, errlen, "-object iothread: unknown or repeated option "
             "'%s' (known: id, poll-max-ns)", pair);
    return false;
}

bool drive_parse_iothread(const char *spec, struct iothread_opts *o,
                          char *err, size_t errlen)
{
    *o = (struct iothread_opts){ .poll_max_ns = LOOP_POLL_MAX_NS_DEFAULT };
    const char *s = spec;
    bool oom = false, first = true, poll_seen = false;
    char *pair;
    while ((pair = next_pair(&s, &oom))) {
        bool ok = true;
        if (first) {
            ok = !strcmp(pair, "iothread");
            if (!ok)
                snprintf(err, errlen, "-object '%s': unknown object type "
                         "(supported: iothread)", pair);
        } else {
            ok = object_pair(pair, o, &poll_seen, err, errlen);
        }
        free(pair);
        first = false;
        if (!ok)
            goto fail;
    }
    if (oom || !o->id) {
        snprintf(err, errlen, oom ? "out of memory"
                 : "-object '%s': expected iothread,id=ID", spec);
        goto fail;
    }
    return true;
fail:
    free(o->id);
    o->id = NULL;
    return false;
}

bool drive_parse_object(const char *spec, char **id, char *err,
                        size_t errlen)
{
    struct iothread_opts o;
    bool ok = drive_parse_iothread(spec, &o, err, errlen);
    *id = o.id;
    return ok;
}
