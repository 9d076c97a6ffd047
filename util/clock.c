/*
 * util/clock.c — the guest timebase, derived from CLOCK_MONOTONIC.
 */
#include "util/clock.h"

static uint64_t timebase_origin_ns;

void clock_timebase_init(void)
{
    timebase_origin_ns = clock_ns();
}

uint64_t clock_mtime(void)
{
    /* 10 MHz: one tick per 100 ns. */
    return (clock_ns() - timebase_origin_ns) / (1000000000ull / TIMEBASE_HZ);
}

uint64_t clock_mtime_to_ns(uint64_t ticks)
{
    const uint64_t ns_per_tick = 1000000000ull / TIMEBASE_HZ;
    if (ticks > (UINT64_MAX - timebase_origin_ns) / ns_per_tick)
        return UINT64_MAX;
    return timebase_origin_ns + ticks * ns_per_tick;
}
