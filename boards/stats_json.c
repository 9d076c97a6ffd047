/*
 * boards/stats_json.c — --stats-json (see stats_json.h).
 */
#include "boards/stats_json.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/iostats_json.h"
#include "hw/machine.h"

#define STATS_JSON_VERSION 1

bool stats_json_check_path(const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    const char *dir = dirname(copy);
    struct stat st;
    bool ok = false;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        snprintf(err, errlen, "--stats-json '%s': directory '%s' does not "
                 "exist", path, dir);
    else if (access(dir, W_OK | X_OK) != 0)
        snprintf(err, errlen, "--stats-json '%s': directory '%s' is not "
                 "writable", path, dir);
    else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(err, errlen, "--stats-json '%s': is a directory", path);
    else
        ok = true;
    free(copy);
    return ok;
}

static struct json_object *harts_json(struct machine *m, double secs,
                                      uint64_t *total)
{
    struct json_object *a = json_object_new_array();
    *total = 0;
    for (unsigned i = 0; a && i < m->nharts; i++) {
        uint64_t n = hart_instret(m->harts[i]);
        *total += n;
        struct json_object *h = json_object_new_object();
        json_object_object_add(h, "hart", json_object_new_int((int)i));
        json_object_object_add(h, "instructions", json_object_new_uint64(n));
        json_object_object_add(h, "mips", json_object_new_double(
                                   secs > 0 ? (double)n / secs / 1e6 : 0));
        json_object_array_add(a, h);
    }
    return a;
}

static struct json_object *document(struct machine *m, uint64_t elapsed_ns,
                                    int exit_status)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    double secs = (double)elapsed_ns / 1e9;
    uint64_t total;
    json_object_object_add(o, "version", json_object_new_int(STATS_JSON_VERSION));
    json_object_object_add(o, "elapsed_s", json_object_new_double(secs));
    json_object_object_add(o, "exit_status", json_object_new_int(exit_status));
    json_object_object_add(o, "harts", harts_json(m, secs, &total));
    json_object_object_add(o, "instructions", json_object_new_uint64(total));
    json_object_object_add(o, "mips", json_object_new_double(
                               secs > 0 ? (double)total / secs / 1e6 : 0));
    struct json_object *io = iostats_json(m->iostats, true);
    if (!io) {
        json_object_put(o);
        return NULL;
    }
    /* Lift the registry's fields to the top level. */
    json_object_object_foreach(io, key, val)
        json_object_object_add(o, key, json_object_get(val));
    json_object_put(io);
    return o;
}

static bool write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

bool stats_json_write(const char *path, struct machine *m, uint64_t elapsed_ns,
                      int exit_status, char *err, size_t errlen)
{
    struct json_object *doc = document(m, elapsed_ns, exit_status);
    const char *text = doc ? json_object_to_json_string_ext(
                                 doc, JSON_C_TO_STRING_PRETTY |
                                 JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
    size_t tlen = strlen(path) + 5;
    char *tmp = malloc(tlen);
    if (!text || !tmp) {
        snprintf(err, errlen, "--stats-json: out of memory");
        json_object_put(doc);
        free(tmp);
        return false;
    }
    snprintf(tmp, tlen, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write_all(fd, text, strlen(text)) &&
              write_all(fd, "\n", 1) && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        snprintf(err, errlen, "--stats-json: cannot write '%s': %s",
                 fd < 0 ? tmp : path, strerror(e));
        unlink(tmp);
    }
    free(tmp);
    json_object_put(doc);
    return ok;
}
