/*
 * tests/unit/latency_opts.c — durations for --stall-threshold, and the
 * latency options' defaults and values on the command line.
 */
#include <criterion/criterion.h>

#include "boards/cmdline.h"
#include "util/opts.h"

#define HOUR (3600ull * 1000000000ull)

Test(latency_opts, durations)
{
    uint64_t v;
    const struct { const char *s; uint64_t ns; } good[] = {
        { "0", 0 }, { "0ms", 0 }, { "10ms", 10000000 }, { "500us", 500000 },
        { "1s", 1000000000 }, { "2.5ms", 2500000 }, { "7ns", 7 },
        { "3600s", HOUR },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(opts_parse_duration(good[i].s, HOUR, &v), "%s", good[i].s);
        cr_assert_eq(v, good[i].ns, "%s", good[i].s);
    }
    const char *bad[] = { "", "ms", "10", "-1ms", "1.5ns", "10 ms", "10msec",
                          "3601s", "1e400s", "nan", "inf", "0x10ms", "1e3ms", NULL };
    for (size_t i = 0; bad[i]; i++)
        cr_assert_not(opts_parse_duration(bad[i], HOUR, &v), "'%s'", bad[i]);
}

static bool parse(struct blkemu_config *c, char *err, int n, char **argv)
{
    return cmdline_parse(n, argv, c, err, 256);
}

Test(latency_opts, defaults_and_values)
{
    struct blkemu_config c;
    char err[256];
    char *none[] = { "blkemu" };
    cr_assert(parse(&c, err, 1, none));
    cr_assert_eq(c.stall_threshold_ns, 10000000);
    cr_assert_not(c.stall_fail);
    cr_assert_not(c.x_no_vcpu_wake);
    cr_assert_null(c.stats_json);
    char *all[] = { "blkemu", "--stall-threshold=500us", "--stall-fail",
                    "--x-no-vcpu-wake", "--stats-json", "out.json" };
    cr_assert(parse(&c, err, 6, all), "%s", err);
    cr_assert_eq(c.stall_threshold_ns, 500000);
    cr_assert(c.stall_fail);
    cr_assert(c.x_no_vcpu_wake);
    cr_assert_str_eq(c.stats_json, "out.json");
    char *off[] = { "blkemu", "--stall-threshold", "off" };
    cr_assert(parse(&c, err, 3, off), "%s", err);
    cr_assert_eq(c.stall_threshold_ns, 0);
}
