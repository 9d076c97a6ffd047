/*
 * tests/unit/console.c — the stdio console: Ctrl-A escapes, flow control
 * with a resume from another thread, EOF without spinning, whole writes
 * through a small pipe, and a terminal (a pty) put in raw mode and
 * restored on close, exit() and fatal signals.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util/console.h"
#include "util/loop.h"

struct sink {
    uint8_t got[4096];
    size_t len;
    atomic_size_t room;     /* how much the sink will take next */
    int quits;
};

static size_t sink_take(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    size_t n = atomic_load(&s->room);
    if (n > len)
        n = len;
    memcpy(s->got + s->len, buf, n);
    s->len += n;
    atomic_fetch_sub(&s->room, n);
    return n;
}

static void sink_quit(void *opaque)
{
    ((struct sink *)opaque)->quits++;
}

struct rig {
    struct loop *loop;
    struct console *con;
    int in[2], out[2];
    struct sink sink;
};

static void rig_open(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    atomic_store(&r->sink.room, 4096);
    r->loop = loop_new();
    cr_assert(r->loop);
    cr_assert_eq(pipe(r->in), 0);
    cr_assert_eq(pipe(r->out), 0);
    struct console_ops ops = { sink_take, sink_quit, &r->sink };
    r->con = console_open(r->loop, r->in[0], r->out[1], &ops);
    cr_assert(r->con);
    cr_assert(!console_is_raw(r->con));
}

static void rig_close(struct rig *r)
{
    console_close(r->con);
    loop_free(r->loop);
    for (int i = 0; i < 2; i++) {
        close(r->in[i]);
        close(r->out[i]);
    }
}

static void feed(struct rig *r, const char *s, size_t n)
{
    cr_assert_eq(write(r->in[1], s, n), (ssize_t)n);
    loop_run_once(r->loop, false);
}

Test(console, escapes_as_in_qemu, .timeout = 5)
{
    struct rig r;
    rig_open(&r);
    /* C-a C-a → one C-a; C-a z (unknown) → dropped. */
    feed(&r, "ab\x01\x01" "c\x01zd", 8);
    cr_assert_eq(r.sink.len, 5);
    cr_assert_eq(memcmp(r.sink.got, "ab\x01" "cd", 5), 0);
    /* An escape split across two reads still works. */
    feed(&r, "e\x01", 2);
    feed(&r, "\x01", 1);
    cr_assert_eq(r.sink.len, 7);
    cr_assert_eq(r.sink.got[6], 0x01);
    /* C-a h prints help on the output. */
    feed(&r, "\x01h", 2);
    char buf[512];
    ssize_t n = read(r.out[0], buf, sizeof(buf) - 1);
    cr_assert_gt(n, 0);
    buf[n] = 0;
    cr_assert(strstr(buf, "C-a x"));
    /* C-a x calls quit; nothing after it in the same read is delivered. */
    feed(&r, "f\x01xg", 4);
    cr_assert_eq(r.sink.quits, 1);
    cr_assert_eq(r.sink.len, 8);
    cr_assert_eq(r.sink.got[7], 'f');
    rig_close(&r);
}

static void *resumer(void *arg)
{
    struct rig *r = arg;
    usleep(50 * 1000);
    atomic_store(&r->sink.room, 100);
    console_resume(r->con);
    return NULL;
}

Test(console, full_sink_pauses_input_until_resume_from_thread, .timeout = 5)
{
    struct rig r;
    rig_open(&r);
    atomic_store(&r.sink.room, 2);
    feed(&r, "hello", 5);
    cr_assert_eq(r.sink.len, 2);
    /* Paused: more input is not read (and not spun on). */
    cr_assert_eq(write(r.in[1], "!", 1), 1);
    cr_assert(!loop_run_once(r.loop, false));
    cr_assert_eq(r.sink.len, 2);
    /* A vCPU thread frees room and resumes: the sleeping loop wakes. */
    pthread_t th;
    pthread_create(&th, NULL, resumer, &r);
    while (r.sink.len < 6)
        loop_run_once(r.loop, true);
    pthread_join(th, NULL);
    cr_assert_eq(memcmp(r.sink.got, "hello!", 6), 0);
    rig_close(&r);
}

Test(console, eof_drops_handler_without_spinning, .timeout = 5)
{
    struct rig r;
    rig_open(&r);
    feed(&r, "x", 1);
    close(r.in[1]);
    r.in[1] = -1;
    loop_run_once(r.loop, false);           /* reads the EOF */
    cr_assert(!loop_run_once(r.loop, false)); /* nothing left to do */
    cr_assert_eq(r.sink.len, 1);
    cr_assert_eq(r.sink.quits, 0);
    rig_close(&r);
}

static void *drain(void *arg)
{
    struct rig *r = arg;
    static uint8_t buf[1 << 20];
    size_t got = 0;
    ssize_t n;
    while ((n = read(r->out[0], buf + got, sizeof(buf) - got)) > 0)
        got += (size_t)n;
    return (void *)got;
}

Test(console, write_is_whole_through_small_nonblocking_pipe, .timeout = 10)
{
    struct rig r;
    rig_open(&r);
    fcntl(r.out[1], F_SETPIPE_SZ, 4096);
    fcntl(r.out[1], F_SETFL, O_NONBLOCK);   /* forces the EAGAIN path */
    static uint8_t data[256 * 1024];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    pthread_t th;
    pthread_create(&th, NULL, drain, &r);
    console_write(r.con, data, sizeof(data));
    close(r.out[1]);
    r.out[1] = -1;
    void *got;
    pthread_join(th, &got);
    cr_assert_eq((size_t)got, sizeof(data));
    rig_close(&r);
}

Test(console, write_to_closed_pipe_is_dropped, .timeout = 5)
{
    struct rig r;
    rig_open(&r);
    close(r.out[0]);
    r.out[0] = -1;
    console_write(r.con, (const uint8_t *)"abc", 3);  /* no SIGPIPE death */
    console_write(r.con, (const uint8_t *)"def", 3);
    rig_close(&r);
}

/* ---- terminals ---- */

static int open_pty_slave(int *master)
{
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(*master, 0);
    cr_assert_eq(grantpt(*master), 0);
    cr_assert_eq(unlockpt(*master), 0);
    int s = open(ptsname(*master), O_RDWR | O_NOCTTY);
    cr_assert_geq(s, 0);
    return s;
}

static bool is_cooked(int fd)
{
    struct termios t;
    cr_assert_eq(tcgetattr(fd, &t), 0);
    return (t.c_lflag & ICANON) && (t.c_lflag & ECHO) && (t.c_lflag & ISIG);
}

static struct console *open_on_tty(struct loop *l, int tty)
{
    static struct sink s;
    struct console_ops ops = { sink_take, sink_quit, &s };
    return console_open(l, tty, tty, &ops);
}

Test(console, terminal_raw_then_restored_on_close, .timeout = 5)
{
    int m, s = open_pty_slave(&m);
    cr_assert(is_cooked(s));
    struct loop *l = loop_new();
    struct console *c = open_on_tty(l, s);
    cr_assert(c);
    cr_assert(console_is_raw(c));
    struct termios t;
    tcgetattr(s, &t);
    cr_assert(!(t.c_lflag & (ICANON | ECHO | ISIG)));
    cr_assert(!(t.c_oflag & OPOST), "\\n must go out unchanged");
    console_close(c);
    cr_assert(is_cooked(s));
    loop_free(l);
    close(s);
    close(m);
}

/* Global (not static: a store to it cannot be optimised away), so a leak
 * checker sees the child's console reachable when it calls exit(). */
struct console *child_con;

/* Fork a child that opens the console on the pty and leaves by `how`;
 * the parent checks the terminal came back cooked. Returns wait status. */
static int child_leaves(int how)
{
    int m, s = open_pty_slave(&m);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);   /* abort() must not dump */
        /* A parent started under nohup or as a background job of a
         * non-interactive shell hands us SIGHUP/SIGINT ignored, and the
         * console rightly keeps an ignored signal ignored: start from the
         * defaults so raise() below really ends the child. */
        signal(SIGHUP, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        struct loop *l = loop_new();
        child_con = open_on_tty(l, s);
        if (!child_con || is_cooked(s))
            _exit(99);
        switch (how) {
        case 0: exit(3);
        case 1: raise(SIGTERM); break;
        case 2: raise(SIGINT); break;
        case 3: abort();
        case 4: raise(SIGHUP); break;
        }
        _exit(98);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(is_cooked(s), "terminal left raw (how=%d)", how);
    close(s);
    close(m);
    return st;
}

Test(console, terminal_restored_on_exit, .timeout = 5)
{
    int st = child_leaves(0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

Test(console, terminal_restored_on_sigterm_and_signal_reraised, .timeout = 5)
{
    int st = child_leaves(1);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

Test(console, terminal_restored_on_sigint, .timeout = 5)
{
    int st = child_leaves(2);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
}

Test(console, terminal_restored_on_abort, .timeout = 5)
{
    int st = child_leaves(3);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

Test(console, terminal_restored_on_sighup, .timeout = 5)
{
    int st = child_leaves(4);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
}
