/*
 * util/qmp_server.c — the QMP control socket on the main loop (see
 * qmp_server.h). One fd handler for the listening socket, one per client;
 * no thread of its own: every command is short (the longest, `stop`, waits
 * for the harts to reach a batch boundary).
 */
#include "util/qmp_server.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/loop.h"

struct qmp_client {
    struct qmp_server *srv;
    int fd;
    unsigned events;            /* what the fd handler watches now */
    struct json_tokener *tok;
    size_t msg_bytes;           /* bytes of the message being parsed */
    bool skip_line;             /* after a syntax error: drop up to '\n' */
    bool dead;                  /* closed; freed by the reaper */
    char *out;                  /* pending output is out[out_off, out_len) */
    size_t out_off, out_len, out_cap;
    struct qmp_session sess;
};

struct qmp_server {
    struct loop *loop;
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct qmp_server_ops ops;
    struct qmp_client *clients[QMP_SERVER_CLIENTS];
    struct loop_bh *reaper;     /* frees dead clients outside their handlers */
};

/* ---- -qmp syntax ---------------------------------------------------- */

/* An on/off value ("" after a bare key means on). */
static bool parse_onoff(const char *v, bool *out)
{
    if (!*v || !strcmp(v, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off")) {
        *out = false;
        return true;
    }
    return false;
}

/* Copy the path up to the first single comma (",," is a comma, as in
 * QEMU's option syntax); returns where the options start. */
static const char *take_path(const char *p, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    for (; *p; p++) {
        if (*p == ',') {
            if (p[1] != ',')
                break;
            p++;
        }
        if (n + 1 < cap)
            out[n] = *p;
        n++;
    }
    out[n < cap ? n : cap - 1] = 0;
    *len = n;
    return p;
}

bool qmp_addr_parse(const char *spec, struct qmp_addr *a, char *err, size_t errlen)
{
    *a = (struct qmp_addr){ .wait = true };
    if (strncmp(spec, "unix:", 5)) {
        snprintf(err, errlen, "-qmp '%s': only unix:PATH,server=on,wait=off "
                 "sockets are supported", spec);
        return false;
    }
    size_t len;
    const char *p = take_path(spec + 5, a->path, sizeof(a->path), &len);
    if (!len) {
        snprintf(err, errlen, "-qmp '%s': no socket path after 'unix:'", spec);
        return false;
    }
    if (len >= sizeof(a->path)) {
        snprintf(err, errlen, "-qmp: socket path is %zu bytes long; a unix "
                 "socket path has at most %zu", len, sizeof(a->path) - 1);
        return false;
    }
    bool server = false;
    while (*p == ',') {
        const char *key = ++p;
        size_t klen = strcspn(key, ",");
        p += klen;
        char opt[32];
        if (klen >= sizeof(opt))
            klen = sizeof(opt) - 1;
        memcpy(opt, key, klen);
        opt[klen] = 0;
        char *eq = strchr(opt, '=');
        const char *val = eq ? eq + 1 : "";
        if (eq)
            *eq = 0;
        bool ok;
        if (!strcmp(opt, "server"))
            ok = parse_onoff(val, &server);
        else if (!strcmp(opt, "wait"))
            ok = parse_onoff(val, &a->wait);
        else if (!strcmp(opt, "nowait") && !eq)
            ok = true, a->wait = false;
        else {
            snprintf(err, errlen, "-qmp '%s': unknown option '%s' (expected "
                     "server=on, wait=on|off, nowait)", spec, opt);
            return false;
        }
        if (!ok) {
            snprintf(err, errlen, "-qmp '%s': %s= takes on or off", spec, opt);
            return false;
        }
    }
    if (!server) {
        snprintf(err, errlen, "-qmp '%s': blkemu only listens; add ,server=on,"
                 "wait=off (or ,server,nowait)", spec);
        return false;
    }
    return true;
}

/* ---- clients -------------------------------------------------------- */

static void client_kill(struct qmp_client *c, const char *why)
{
    if (c->dead)
        return;
    log_info("qmp: client %d disconnected: %s", c->fd, why);
    c->dead = true;
    loop_del_fd(c->srv->loop, c->fd);
    loop_bh_schedule(c->srv->reaper);
}

static void client_free(struct qmp_client *c)
{
    close(c->fd);
    json_tokener_free(c->tok);
    free(c->out);
    free(c);
}

static void reap(void *opaque)
{
    struct qmp_server *s = opaque;
    for (unsigned i = 0; i < QMP_SERVER_CLIENTS; i++)
        if (s->clients[i] && s->clients[i]->dead) {
            client_free(s->clients[i]);
            s->clients[i] = NULL;
        }
}

static void client_watch(struct qmp_client *c)
{
    unsigned ev = LOOP_IN | (c->out_len > c->out_off ? LOOP_OUT : 0);
    if (ev != c->events && !c->dead) {
        loop_mod_fd(c->srv->loop, c->fd, ev);
        c->events = ev;
    }
}

/* Write what is pending, without blocking. */
static void client_flush(struct qmp_client *c)
{
    while (!c->dead && c->out_len > c->out_off) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            client_kill(c, n < 0 ? strerror(errno) : "write failed");
            return;
        }
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    client_watch(c);
}

/* Queue one message (its JSON text and CRLF, as QEMU ends lines). */
static void client_send(struct qmp_client *c, struct json_object *obj)
{
    if (c->dead)
        return;
    const char *text = qmp_to_string(obj);
    size_t n = strlen(text) + 2;
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len - c->out_off + n > QMP_SERVER_OUT_MAX) {
        client_kill(c, "it does not read its replies (output buffer full)");
        return;
    }
    if (c->out_len + n > c->out_cap) {
        /* Compact first; grow only if that is not enough. */
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 4096;
            while (cap < c->out_len + n)
                cap *= 2;
            char *p = realloc(c->out, cap);
            if (!p) {
                client_kill(c, "out of memory");
                return;
            }
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, text, n - 2);
    memcpy(c->out + c->out_len + n - 2, "\r\n", 2);
    c->out_len += n;
    client_flush(c);
}

static void client_request(struct qmp_client *c, struct json_object *req)
{
    struct qmp_server *s = c->srv;
    struct json_object *reply = s->ops.request(s->ops.opaque, &c->sess, req);
    if (reply) {
        client_send(c, reply);
        json_object_put(reply);
    }
}

/* Feed bytes to the client's parser; complete messages are dispatched. */
static void client_input(struct qmp_client *c, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n && !c->dead) {
        if (c->skip_line) {
            const char *nl = memchr(buf + off, '\n', n - off);
            if (!nl)
                return;
            off = (size_t)(nl - buf) + 1;
            c->skip_line = false;
            continue;
        }
        struct json_object *obj = json_tokener_parse_ex(c->tok, buf + off,
                                                        (int)(n - off));
        enum json_tokener_error e = json_tokener_get_error(c->tok);
        size_t used = json_tokener_get_parse_end(c->tok);
        if (used > n - off)
            used = n - off;
        c->msg_bytes += e == json_tokener_continue ? n - off : used;
        if (c->msg_bytes > QMP_SERVER_MSG_MAX) {
            struct json_object *r = qmp_error_reply(QMP_ERR_GENERIC, "message "
                "longer than %u bytes: closing the connection", QMP_SERVER_MSG_MAX);
            client_send(c, r);
            json_object_put(r);
            client_flush(c);
            client_kill(c, "message too long");
            return;
        }
        if (e == json_tokener_continue)
            return;
        c->msg_bytes = 0;
        if (e != json_tokener_success) {
            off += used;
            struct json_object *r = qmp_error_reply(QMP_ERR_GENERIC,
                "JSON parse error, %s", json_tokener_error_desc(e));
            client_send(c, r);
            json_object_put(r);
            json_tokener_reset(c->tok);
            /* Resynchronise after the line the error is on (the error's
             * own character included: it may be the newline). */
            c->skip_line = true;
            continue;
        }
        off += used ? used : 1;
        client_request(c, obj);
        json_object_put(obj);
    }
}

static void client_ready(void *opaque, int fd, unsigned events)
{
    struct qmp_client *c = opaque;
    if (events & LOOP_OUT)
        client_flush(c);
    if (c->dead || !(events & (LOOP_IN | LOOP_ERR)))
        return;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        client_kill(c, n == 0 ? (c->msg_bytes ? "end of file in the middle of "
                                 "a message" : "end of file") : strerror(errno));
        return;
    }
    client_input(c, buf, (size_t)n);
}

static void client_refuse(int fd)
{
    struct json_object *r = qmp_error_reply(QMP_ERR_GENERIC, "too many QMP "
        "clients (at most %d at a time)", QMP_SERVER_CLIENTS);
    const char *t = qmp_to_string(r);
    char line[256];
    int n = snprintf(line, sizeof(line), "%s\r\n", t);
    if (n > 0 && (size_t)n < sizeof(line))
        (void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    json_object_put(r);
    close(fd);
}

static void client_new(struct qmp_server *s, int fd)
{
    unsigned slot = QMP_SERVER_CLIENTS;
    for (unsigned i = 0; i < QMP_SERVER_CLIENTS && slot == QMP_SERVER_CLIENTS; i++)
        if (!s->clients[i])
            slot = i;
    if (slot == QMP_SERVER_CLIENTS) {
        log_warn("qmp: refusing a client: %d already connected", QMP_SERVER_CLIENTS);
        client_refuse(fd);
        return;
    }
    struct qmp_client *c = calloc(1, sizeof(*c));
    if (c)
        c->tok = json_tokener_new();
    if (!c || !c->tok || !loop_add_fd(s->loop, fd, LOOP_IN, client_ready, c)) {
        if (c)
            json_tokener_free(c->tok);
        free(c);
        close(fd);
        log_warn("qmp: cannot take a client: out of memory");
        return;
    }
    c->srv = s;
    c->fd = fd;
    c->events = LOOP_IN;
    s->clients[slot] = c;
    log_info("qmp: client %d connected", fd);
    struct json_object *g = s->ops.greeting(s->ops.opaque);
    client_send(c, g);
    json_object_put(g);
    if (s->ops.connected)
        s->ops.connected(s->ops.opaque);
}

static void server_accept(void *opaque, int fd, unsigned events)
{
    struct qmp_server *s = opaque;
    for (int i = 0; i < 16; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                log_warn("qmp: accept: %s", strerror(errno));
            return;
        }
        client_new(s, cfd);
    }
}

/* ---- the listening socket -------------------------------------------- */

/* A socket file already at the path: replace it only if nobody listens. */
static bool clear_stale(const char *path, const struct sockaddr_un *sa,
                        char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return true;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "-qmp: '%s' exists and is not a socket (not "
                 "replacing it)", path);
        return false;
    }
    int t = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t >= 0) {
        int rc = connect(t, (const struct sockaddr *)sa, sizeof(*sa));
        int e = errno;
        close(t);
        if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
            snprintf(err, errlen, "-qmp: '%s' is in use: another process "
                     "listens on it", path);
            return false;
        }
    }
    if (unlink(path) != 0) {
        snprintf(err, errlen, "-qmp: cannot remove the stale socket '%s': %s",
                 path, strerror(errno));
        return false;
    }
    return true;
}

struct qmp_server *qmp_server_new(struct loop *loop, const struct qmp_addr *a,
                                  const struct qmp_server_ops *ops, char *err,
                                  size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(a->path) >= sizeof(sa.sun_path) || !a->path[0]) {
        snprintf(err, errlen, "-qmp: bad socket path");
        return NULL;
    }
    strcpy(sa.sun_path, a->path);
    if (!clear_stale(a->path, &sa, err, errlen))
        return NULL;
    struct qmp_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->ops = *ops;
    strcpy(s->path, a->path);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            snprintf(err, errlen, "-qmp: cannot create the socket '%s': its "
                     "directory does not exist", a->path);
        else
            snprintf(err, errlen, "-qmp: cannot create the socket '%s': %s",
                     a->path, strerror(e));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    if (listen(s->fd, QMP_SERVER_CLIENTS) != 0 ||
        !(s->reaper = loop_bh_new(loop, reap, s)) ||
        !loop_add_fd(loop, s->fd, LOOP_IN, server_accept, s)) {
        snprintf(err, errlen, "-qmp: cannot listen on '%s': %s", a->path,
                 strerror(errno));
        if (s->reaper)
            loop_bh_free(s->reaper);
        close(s->fd);
        unlink(s->path);
        free(s);
        return NULL;
    }
    log_info("qmp: listening on %s", s->path);
    return s;
}

void qmp_server_broadcast(struct qmp_server *s, struct json_object *ev)
{
    for (unsigned i = 0; i < QMP_SERVER_CLIENTS; i++) {
        struct qmp_client *c = s->clients[i];
        if (c && !c->dead && c->sess.negotiated)
            client_send(c, ev);
    }
}

unsigned qmp_server_clients(const struct qmp_server *s)
{
    unsigned n = 0;
    for (unsigned i = 0; i < QMP_SERVER_CLIENTS; i++)
        n += s->clients[i] && !s->clients[i]->dead;
    return n;
}

void qmp_server_flush(struct qmp_server *s, int ms)
{
    uint64_t deadline = clock_ns() + (uint64_t)ms * 1000000ull;
    for (;;) {
        struct pollfd pfd[QMP_SERVER_CLIENTS];
        struct qmp_client *who[QMP_SERVER_CLIENTS];
        nfds_t n = 0;
        for (unsigned i = 0; i < QMP_SERVER_CLIENTS; i++) {
            struct qmp_client *c = s->clients[i];
            if (c && !c->dead && c->out_len > c->out_off) {
                pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
                who[n++] = c;
            }
        }
        uint64_t now = clock_ns();
        if (!n || now >= deadline)
            return;
        int left = (int)((deadline - now) / 1000000ull) + 1;
        if (poll(pfd, n, left) <= 0)
            return;
        for (nfds_t i = 0; i < n; i++)
            if (pfd[i].revents)
                client_flush(who[i]);
    }
}

void qmp_server_free(struct qmp_server *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < QMP_SERVER_CLIENTS; i++)
        if (s->clients[i]) {
            if (!s->clients[i]->dead)
                loop_del_fd(s->loop, s->clients[i]->fd);
            client_free(s->clients[i]);
        }
    loop_del_fd(s->loop, s->fd);
    loop_bh_free(s->reaper);
    close(s->fd);
    unlink(s->path);
    free(s);
}
