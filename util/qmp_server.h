/*
 * util/qmp_server.h — the control socket: a listening unix socket on the
 * main loop, speaking QMP (util/qmp.h) to several clients at once.
 *
 * Every client is hostile input. Each has a bounded input (one message
 * may be at most QMP_SERVER_MSG_MAX bytes: more closes the connection) and
 * a bounded output (a client that does not read its replies and events is
 * disconnected once QMP_SERVER_OUT_MAX bytes wait for it); its fd is
 * non-blocking, so nothing a client does or fails to do blocks the main
 * loop. JSON syntax errors get an error reply, and the rest of that line is
 * skipped. At most QMP_SERVER_CLIENTS clients at a time: one more gets an
 * error line and is closed.
 *
 * Main loop thread only.
 */
#ifndef UTIL_QMP_SERVER_H
#define UTIL_QMP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "util/qmp.h"

#define QMP_SERVER_MSG_MAX (64u * 1024)
#define QMP_SERVER_OUT_MAX (1024u * 1024)
#define QMP_SERVER_CLIENTS 8

struct loop;
struct qmp_server;

/* What -qmp says: unix:PATH,server[=on|off][,nowait|,wait[=on|off]]. */
struct qmp_addr {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    bool wait;          /* start the guest only once a client connected */
};

/* Parse a -qmp value (syntax only: the path is checked when the socket
 * is made). False with one line in err. */
bool qmp_addr_parse(const char *spec, struct qmp_addr *a, char *err,
                    size_t errlen);

struct qmp_server_ops {
    /* One request from a client (any JSON value, borrowed) and its
     * session; returns the reply (owned, sent and freed), or NULL. */
    struct json_object *(*request)(void *opaque, struct qmp_session *s,
                                   struct json_object *req);
    /* The greeting sent to each new client (owned, sent and freed). */
    struct json_object *(*greeting)(void *opaque);
    /* A client connected (after its greeting was queued); may be NULL. */
    void (*connected)(void *opaque);
    void *opaque;
};

/* Listen on a.path: a stale socket file there is replaced (only a socket,
 * and only when nobody accepts on it); anything else there, a missing
 * directory or a path too long is an error. NULL with one line in err. */
struct qmp_server *qmp_server_new(struct loop *loop, const struct qmp_addr *a,
                                  const struct qmp_server_ops *ops, char *err,
                                  size_t errlen);

/* Send `ev` (borrowed) to every client in command mode (negotiated), as
 * QEMU sends events. */
void qmp_server_broadcast(struct qmp_server *s, struct json_object *ev);

/* Try for up to `ms` milliseconds to write what the clients still have
 * queued (the reply to `quit`, the SHUTDOWN event), blocking. */
void qmp_server_flush(struct qmp_server *s, int ms);

/* Number of clients connected now. */
unsigned qmp_server_clients(const struct qmp_server *s);

/* Close every client and the socket, remove the socket file, free.
 * NULL is a no-op. */
void qmp_server_free(struct qmp_server *s);

#endif
