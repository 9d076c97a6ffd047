/*
 * util/console.c — stdio as the serial console (see console.h).
 */
#include "util/console.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/log.h"
#include "util/loop.h"

#define CONSOLE_ESCAPE 0x01     /* Ctrl-A, as in QEMU */
#define CONSOLE_READ_MAX 128

struct console {
    struct loop *loop;
    int in_fd, out_fd;
    struct console_ops ops;
    bool raw;           /* we put in_fd in raw mode */
    bool watching;      /* in_fd has a loop handler */
    bool reading;       /* ...and it is not paused */
    bool escape;        /* the previous input byte was C-a */
    bool out_broken;    /* output failed once: logged, now dropped */
    uint8_t pend[CONSOLE_READ_MAX];     /* input the sink has not taken */
    size_t pend_off, pend_len;
    struct loop_bh *resume_bh;
    pthread_mutex_t out_lock;
};

/*
 * The saved terminal state is process-wide by nature (there is one
 * controlling terminal, and signal handlers and atexit take no argument),
 * so it lives in this one static block instead of struct console.
 */
static const int term_signals[] = {
    SIGINT, SIGTERM, SIGHUP, SIGQUIT,
    SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
};
#define NTERM_SIGNALS (sizeof(term_signals) / sizeof(term_signals[0]))

static struct {
    volatile sig_atomic_t active;   /* saved is valid and must be restored */
    int fd;
    struct termios saved;
    struct sigaction old[NTERM_SIGNALS];
    bool atexit_done;
    void (*old_sigpipe)(int);
} console_term;

void console_restore_terminal(void)
{
    /* tcsetattr is async-signal-safe (POSIX.1-2008 §2.4.3). */
    if (console_term.active) {
        console_term.active = 0;
        tcsetattr(console_term.fd, TCSAFLUSH, &console_term.saved);
    }
}

static void console_atexit(void)
{
    console_restore_terminal();
}

/* Restore the terminal, then die of the same signal as we would have. */
static void console_signal(int sig)
{
    console_restore_terminal();
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);     /* delivered on return: the signal is blocked in here */
}

static void console_install_signals(void)
{
    for (unsigned i = 0; i < NTERM_SIGNALS; i++) {
        struct sigaction sa = { .sa_handler = console_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(term_signals[i], NULL, &console_term.old[i]);
        /* A signal ignored by our parent (nohup) stays ignored. */
        if (console_term.old[i].sa_handler == SIG_IGN)
            continue;
        sigaction(term_signals[i], &sa, NULL);
    }
}

static void console_uninstall_signals(void)
{
    for (unsigned i = 0; i < NTERM_SIGNALS; i++)
        sigaction(term_signals[i], &console_term.old[i], NULL);
}

/* Raw mode: no echo, no line editing, no signals from keys (Ctrl-C goes to
 * the guest), no output processing (the guest sends its own "\r\n"). */
static bool console_make_raw(int fd)
{
    if (console_term.active) {
        log_error("console: a terminal is already in raw mode");
        return false;
    }
    struct termios t;
    if (tcgetattr(fd, &t) < 0) {
        log_error("console: tcgetattr: %s", strerror(errno));
        return false;
    }
    console_term.saved = t;
    console_term.fd = fd;
    if (!console_term.atexit_done) {
        atexit(console_atexit);
        console_term.atexit_done = true;
    }
    console_install_signals();
    console_term.active = 1;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        log_error("console: tcsetattr: %s", strerror(errno));
        console_term.active = 0;
        console_uninstall_signals();
        return false;
    }
    return true;
}

/* ---- input ---- */

static void console_watch(struct console *c, bool on)
{
    if (c->watching && c->reading != on) {
        loop_mod_fd(c->loop, c->in_fd, on ? LOOP_IN : 0);
        c->reading = on;
    }
}

/* Hand pending input to the sink; pause reading while it refuses some. */
static void console_push(struct console *c)
{
    while (c->pend_off < c->pend_len) {
        size_t took = c->ops.sink(c->ops.opaque, c->pend + c->pend_off,
                                  c->pend_len - c->pend_off);
        if (took == 0)
            break;
        c->pend_off += took > c->pend_len - c->pend_off
                           ? c->pend_len - c->pend_off : took;
    }
    if (c->pend_off == c->pend_len) {
        c->pend_off = c->pend_len = 0;
        console_watch(c, true);
    } else {
        console_watch(c, false);
    }
}

static void console_help(struct console *c)
{
    static const char help[] =
        "\r\nblkemu console escapes:\r\n"
        "  C-a h    show this help\r\n"
        "  C-a x    quit blkemu\r\n"
        "  C-a C-a  send C-a to the guest\r\n";
    console_write(c, (const uint8_t *)help, sizeof(help) - 1);
}

/* Escape handling, as QEMU's mux: returns false when input must stop
 * (the user quit). */
static bool console_input_byte(struct console *c, uint8_t b)
{
    if (c->escape) {
        c->escape = false;
        switch (b) {
        case 'x':
        case 'X':
            if (c->ops.quit)
                c->ops.quit(c->ops.opaque);
            return false;
        case 'h':
        case 'H':
        case '?':
            console_help(c);
            return true;
        case CONSOLE_ESCAPE:
            break;          /* C-a C-a: one C-a for the guest */
        default:
            return true;    /* unknown escapes are dropped */
        }
    } else if (b == CONSOLE_ESCAPE) {
        c->escape = true;
        return true;
    }
    c->pend[c->pend_len++] = b;
    return true;
}

static void console_unwatch(struct console *c)
{
    if (c->watching) {
        loop_del_fd(c->loop, c->in_fd);
        c->watching = c->reading = false;
    }
}

static void console_readable(void *opaque, int fd, unsigned events)
{
    struct console *c = opaque;
    if (c->pend_off < c->pend_len) {
        console_watch(c, false);    /* resume_bh will push the rest */
        return;
    }
    uint8_t buf[CONSOLE_READ_MAX];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        /* EOF (or a dead terminal): stop reading, keep the machine
         * running; dropping the handler is what keeps us from spinning. */
        if (n < 0)
            log_warn("console: input: %s; input closed", strerror(errno));
        console_unwatch(c);
        return;
    }
    c->pend_off = c->pend_len = 0;
    for (ssize_t i = 0; i < n; i++)
        if (!console_input_byte(c, buf[i]))
            break;
    console_push(c);
}

static void console_resume_bh(void *opaque)
{
    console_push(opaque);
}

void console_resume(struct console *c)
{
    loop_bh_schedule(c->resume_bh);
}

/* ---- output ---- */

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&c->out_lock);
    while (len > 0 && !c->out_broken) {
        ssize_t n = write(c->out_fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            /* A non-blocking stdout shared with someone else. */
            struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
            poll(&p, 1, -1);
        } else {
            log_warn("console: output: %s; dropping guest output",
                     n < 0 ? strerror(errno) : "wrote nothing");
            c->out_broken = true;
        }
    }
    pthread_mutex_unlock(&c->out_lock);
}

/* ---- life cycle ---- */

struct console *console_open(struct loop *loop, int in_fd, int out_fd,
                             const struct console_ops *ops)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c) {
        log_error("console: out of memory");
        return NULL;
    }
    c->loop = loop;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->ops = *ops;
    pthread_mutex_init(&c->out_lock, NULL);
    c->resume_bh = loop_bh_new(loop, console_resume_bh, c);
    if (!c->resume_bh)
        goto fail;
    if (isatty(in_fd)) {
        if (!console_make_raw(in_fd))
            goto fail;
        c->raw = true;
    }
    /* A closed output pipe must drop output, not kill us with SIGPIPE. */
    console_term.old_sigpipe = signal(SIGPIPE, SIG_IGN);
    if (!loop_add_fd(loop, in_fd, LOOP_IN, console_readable, c)) {
        log_error("console: cannot watch fd %d", in_fd);
        signal(SIGPIPE, console_term.old_sigpipe);
        goto fail;
    }
    c->watching = c->reading = true;
    return c;

fail:
    if (c->raw) {
        console_restore_terminal();
        console_uninstall_signals();
    }
    loop_bh_free(c->resume_bh);
    pthread_mutex_destroy(&c->out_lock);
    free(c);
    return NULL;
}

void console_close(struct console *c)
{
    if (!c)
        return;
    console_unwatch(c);
    loop_bh_free(c->resume_bh);
    if (c->raw) {
        console_restore_terminal();
        console_uninstall_signals();
    }
    signal(SIGPIPE, console_term.old_sigpipe);
    pthread_mutex_destroy(&c->out_lock);
    free(c);
}

bool console_is_raw(const struct console *c)
{
    return c->raw;
}
