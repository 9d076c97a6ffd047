/*
 * tests/unit/qmp_server.c — the control socket's framing and defences on a
 * real unix socket, the loop pumped by hand on this thread: a stale socket
 * file is replaced, messages split over writes or packed in one work, a
 * syntax error is one reply and the next line is served, an oversized
 * message or a client that never reads is disconnected, a client leaving
 * mid-message is forgotten, a ninth client is refused — and the server
 * answers the next client after each.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop.h"
#include "util/qmp.h"
#include "util/qmp_server.h"

static struct json_object *cmd_ping(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    return json_object_new_string("pong");
}

static const struct qmp_command cmds[] = { { "ping", cmd_ping, NULL } };
static const struct qmp proto = { .cmds = cmds, .ncmds = 1, .package = "t" };

static struct json_object *on_request(void *o, struct qmp_session *s,
                                      struct json_object *req)
{
    return qmp_dispatch(&proto, s, req);
}

static struct json_object *on_greeting(void *o)
{
    return qmp_greeting(&proto);
}

static int connects;
static void on_connect(void *o) { connects++; }

static struct loop *lp;
static struct qmp_server *srv;
static char dir[64], path[128];

static void pump(void)
{
    for (int i = 0; i < 1000 && loop_run_once(lp, false); i++)
        ;
}

static void start(void)
{
    struct qmp_addr a;
    char spec[200], err[256];
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    cr_assert(qmp_addr_parse(spec, &a, err, sizeof(err)), "%s", err);
    struct qmp_server_ops ops = { .request = on_request, .greeting = on_greeting,
                                  .connected = on_connect };
    srv = qmp_server_new(lp, &a, &ops, err, sizeof(err));
    cr_assert_not_null(srv, "%s", err);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/blkemu-qmps-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/qmp.sock", dir);
    lp = loop_new();
    cr_assert_not_null(lp);
}

static void teardown(void)
{
    qmp_server_free(srv);
    loop_free(lp);
    unlink(path);
    rmdir(dir);
}

TestSuite(qmp_server, .init = setup, .fini = teardown);

static int dial(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
    pump();
    return fd;
}

static void say(int fd, const char *text)
{
    cr_assert_eq(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
    pump();
}

/* One line from the server (without CRLF); "" at EOF; "" after 2 s. */
static const char *hear(int fd)
{
    static char line[8192];
    size_t n = 0;
    uint64_t deadline = clock_ns() + 2000000000ull;
    while (n + 1 < sizeof(line) && clock_ns() < deadline) {
        pump();
        ssize_t r = recv(fd, line + n, 1, 0);
        if (r == 0)
            break;
        if (r < 0) {
            cr_assert(errno == EAGAIN, "%s", strerror(errno));
            usleep(1000);
            continue;
        }
        if (line[n] == '\n') {
            line[n > 0 && line[n - 1] == '\r' ? n - 1 : n] = 0;
            return line;
        }
        n++;
    }
    line[n] = 0;
    return line;
}

static bool closed(int fd)
{
    char c;
    for (int i = 0; i < 2000; i++) {
        pump();
        ssize_t r = recv(fd, &c, 1, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r > 0)
            continue;       /* drain what was queued before the close */
        usleep(1000);
    }
    return false;
}

/* A fresh client gets the greeting and can negotiate and ping. */
static void serves_a_new_client(void)
{
    int fd = dial();
    cr_assert(strstr(hear(fd), "{\"QMP\":"));
    say(fd, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"ping\",\"id\":2}\n");
    cr_assert_str_eq(hear(fd), "{\"return\":{}}");
    cr_assert_str_eq(hear(fd), "{\"return\":\"pong\",\"id\":2}");
    close(fd);
    pump();
}

Test(qmp_server, replaces_a_stale_socket_file)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);       /* the file stays, nobody listens: stale */
    start();
    serves_a_new_client();
    cr_assert_eq(connects, 1);
}

Test(qmp_server, split_and_packed_messages)
{
    start();
    int fd = dial();
    hear(fd);
    say(fd, "{\"exec");
    say(fd, "ute\": \"qmp_capabil");
    say(fd, "ities\"}");
    cr_assert_str_eq(hear(fd), "{\"return\":{}}");
    say(fd, "{\"execute\":\"ping\",\"id\":1}{\"execute\":\"ping\",\"id\":2} "
        "\r\n\t{\"execute\":\"ping\",\"id\":3}");
    cr_assert_str_eq(hear(fd), "{\"return\":\"pong\",\"id\":1}");
    cr_assert_str_eq(hear(fd), "{\"return\":\"pong\",\"id\":2}");
    cr_assert_str_eq(hear(fd), "{\"return\":\"pong\",\"id\":3}");
    close(fd);
}

Test(qmp_server, syntax_errors_then_the_next_line_works)
{
    start();
    int fd = dial();
    hear(fd);
    say(fd, "{\"execute\":\"qmp_capabilities\"}\n");
    hear(fd);
    static const char *const junk[] = {
        "{\"execute\": nope}\n", "}\n", "{\"a\":\"\\x\"}\n", "\x01\x02\xff\n",
        "{\"execute\":\"ping\"]\n", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]\n",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        say(fd, junk[i]);
        const char *r = hear(fd);
        cr_expect(strstr(r, "\"class\":\"GenericError\""), "%zu: %s", i, r);
        say(fd, "{\"execute\":\"ping\"}\n");
        cr_expect_str_eq(hear(fd), "{\"return\":\"pong\"}", "after junk %zu", i);
    }
    close(fd);
}

Test(qmp_server, oversized_message_closes_the_connection)
{
    start();
    int fd = dial();
    hear(fd);
    say(fd, "{\"execute\":\"");
    char chunk[4096];
    memset(chunk, 'a', sizeof(chunk));
    for (unsigned sent = 0; sent <= QMP_SERVER_MSG_MAX; sent += sizeof(chunk)) {
        ssize_t r = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
        if (r < 0)
            break;
        pump();
    }
    cr_assert(strstr(hear(fd), "longer than 65536 bytes"));
    cr_assert(closed(fd));
    close(fd);
    serves_a_new_client();
}

Test(qmp_server, client_that_never_reads_is_dropped)
{
    start();
    int fd = dial();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    say(fd, "{\"execute\":\"qmp_capabilities\"}\n");
    /* Each request is answered; nobody reads the answers. */
    char req[64 * 30 + 1] = "";
    for (int i = 0; i < 30; i++)
        strcat(req, "{\"execute\":\"ping\",\"id\":\"xxxxxxxxxxxxxxxx\"}\n");
    bool dropped = false;
    for (int i = 0; i < 4000 && !dropped; i++) {
        ssize_t r = send(fd, req, strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT);
        dropped = r < 0 && (errno == EPIPE || errno == ECONNRESET);
        pump();
    }
    cr_assert(dropped || closed(fd), "the server kept a client that never reads");
    close(fd);
    serves_a_new_client();
}

Test(qmp_server, client_leaving_mid_message)
{
    start();
    int fd = dial();
    hear(fd);
    say(fd, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"pi");
    close(fd);
    pump();
    serves_a_new_client();
}

Test(qmp_server, ninth_client_refused)
{
    start();
    int fds[QMP_SERVER_CLIENTS];
    for (int i = 0; i < QMP_SERVER_CLIENTS; i++) {
        fds[i] = dial();
        cr_assert(strstr(hear(fds[i]), "{\"QMP\":"));
    }
    int extra = dial();
    cr_assert(strstr(hear(extra), "too many QMP clients"));
    cr_assert(closed(extra));
    close(extra);
    close(fds[3]);
    pump();
    serves_a_new_client();
    for (int i = 0; i < QMP_SERVER_CLIENTS; i++)
        if (i != 3)
            close(fds[i]);
}

Test(qmp_server, events_only_after_negotiation)
{
    start();
    int a = dial(), b = dial();
    hear(a);
    hear(b);
    say(a, "{\"execute\":\"qmp_capabilities\"}\n");
    hear(a);
    struct json_object *ev = qmp_event("STOP", NULL);
    qmp_server_broadcast(srv, ev);
    json_object_put(ev);
    cr_assert(strstr(hear(a), "{\"event\":\"STOP\""));
    say(b, "{\"execute\":\"qmp_capabilities\"}\n");
    cr_assert_str_eq(hear(b), "{\"return\":{}}", "b got the event before negotiating");
    close(a);
    close(b);
}

Test(qmp_server, socket_file_removed_at_the_end)
{
    start();
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    qmp_server_free(srv);
    srv = NULL;
    cr_assert_neq(stat(path, &st), 0);
}
