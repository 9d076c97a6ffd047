/*
 * util/log.h — leveled logging to stderr, and rate-limited guest-error lines.
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_WARN; -d / BLKEMU_LOG. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A guest did something the hardware would reject: logged at WARN, at most
 * a few lines per second over the whole process so a hostile guest cannot
 * flood the host. */
void log_guest_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
