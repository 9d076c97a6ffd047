/*
 * util/log.c — stderr logging. Lines end in "\r\n" when the console is in
 * raw mode, so they stay readable next to the guest's output.
 */
#include "util/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

static _Atomic int log_level = LOG_WARN;

static const char *const level_name[] = { "error", "warning", "info", "debug" };

void log_set_level(enum log_level lvl)
{
    atomic_store(&log_level, lvl);
}

enum log_level log_get_level(void)
{
    return atomic_load(&log_level);
}

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* One fprintf so lines from several threads do not interleave. */
    fprintf(stderr, "blkemu: %s: %s\r\n", level_name[lvl], buf);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl > atomic_load(&log_level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

void log_guest_error(const char *fmt, ...)
{
    /* Token bucket: 10 lines, refilled at 1 line per 100 ms. */
    static _Atomic uint64_t next_ok_ns;
    static _Atomic unsigned suppressed;
    uint64_t now = clock_ns();
    uint64_t floor = now > 1000000000ull ? now - 1000000000ull : 0;
    uint64_t t = atomic_load(&next_ok_ns);
    for (;;) {
        if (t > now) {
            atomic_fetch_add(&suppressed, 1);
            return;
        }
        uint64_t from = t < floor ? floor : t;
        if (atomic_compare_exchange_weak(&next_ok_ns, &t, from + 100000000ull))
            break;
    }
    if ((int)LOG_WARN > atomic_load(&log_level))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    unsigned n = atomic_exchange(&suppressed, 0);
    if (n)
        fprintf(stderr, "blkemu: guest error: %s (%u similar suppressed)\r\n", buf, n);
    else
        fprintf(stderr, "blkemu: guest error: %s\r\n", buf);
}
