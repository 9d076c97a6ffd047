/*
 * util/opts.c — size and integer parsing for options.
 */
#include "util/opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool opts_parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    uint64_t unit = default_unit;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': unit = 1ull << 10; break;
        case 'M': unit = 1ull << 20; break;
        case 'G': unit = 1ull << 30; break;
        case 'T': unit = 1ull << 40; break;
        case 'B': unit = 1; end--; break;
        default: return false;
        }
        end++;
        if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
            end += strlen(end);
        if (*end)
            return false;
    }
    double bytes = v * (double)unit;
    if (bytes >= 18446744073709551616.0)
        return false;
    uint64_t r = (uint64_t)bytes;
    if ((double)r != bytes)     /* fractional bytes: "1.5" with unit 1 */
        return false;
    *out = r;
    return true;
}

bool opts_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool opts_parse_duration(const char *s, uint64_t max_ns, uint64_t *out)
{
    static const struct { const char *suffix; double ns; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
    };
    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    for (const char *c = s; c < end; c++)
        if (!isdigit((unsigned char)*c) && *c != '.')
            return false;   /* plain decimals only: no "0x10", "1e3" */
    double ns = -1;
    if (!*end && v == 0)
        ns = 0;         /* "0" needs no unit */
    for (size_t i = 0; *end && i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(end, units[i].suffix))
            ns = v * units[i].ns;
    if (ns < 0 || ns > (double)max_ns || ns != floor(ns))
        return false;
    *out = (uint64_t)ns;
    return true;
}
