/*
 * util/opts.h — small parsers shared by command-line options.
 */
#ifndef UTIL_OPTS_H
#define UTIL_OPTS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a size such as "512", "64K", "1G", "1.5G" (suffixes K, M, G, T,
 * optionally followed by "B" or "iB"). A bare number is multiplied by
 * `default_unit` (QEMU's -m takes a bare number as MiB). False on garbage,
 * a negative or zero value (unless allow_zero) or overflow. */
bool opts_parse_size(const char *s, uint64_t default_unit, uint64_t *out);

/* Parse an unsigned decimal integer in [min, max]; false otherwise. */
bool opts_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a duration: a decimal number with a unit, ns, us, ms or s
 * ("10ms", "500us", "1.5s"); "0" alone needs no unit. False on garbage, a
 * missing unit, fractional nanoseconds or more than max_ns. */
bool opts_parse_duration(const char *s, uint64_t max_ns, uint64_t *out);

#endif
