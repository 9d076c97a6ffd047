/*
 * util/clock.c — the guest timebase, derived from CLOCK_MONOTONIC.
 *
 * The guest's clock stops while the machine is paused (QMP `stop`), as
 * QEMU's virtual clock does: clock_mtime_freeze() pins mtime, and
 * clock_mtime_thaw() moves the origin forward by the time spent frozen,
 * so the guest sees no jump (no timer storm, no RCU stall warning).
 */
#include "util/clock.h"

#include <stdatomic.h>

/* Atomic: harts read them while the main thread thaws (relaxed loads are
 * plain moves on x86). */
static _Atomic uint64_t timebase_origin_ns;
static _Atomic uint64_t frozen_at_ns;    /* 0: running */

void clock_timebase_init(void)
{
    atomic_store(&timebase_origin_ns, clock_ns());
    atomic_store(&frozen_at_ns, 0);
}

uint64_t clock_mtime(void)
{
    uint64_t now = atomic_load_explicit(&frozen_at_ns, memory_order_relaxed);
    if (!now)
        now = clock_ns();
    uint64_t origin = atomic_load_explicit(&timebase_origin_ns, memory_order_relaxed);
    /* 10 MHz: one tick per 100 ns. */
    return (now - origin) / (1000000000ull / TIMEBASE_HZ);
}

uint64_t clock_mtime_to_ns(uint64_t ticks)
{
    const uint64_t ns_per_tick = 1000000000ull / TIMEBASE_HZ;
    uint64_t origin = atomic_load_explicit(&timebase_origin_ns, memory_order_relaxed);
    if (ticks > (UINT64_MAX - origin) / ns_per_tick)
        return UINT64_MAX;
    return origin + ticks * ns_per_tick;
}

void clock_mtime_freeze(void)
{
    uint64_t zero = 0;
    atomic_compare_exchange_strong(&frozen_at_ns, &zero, clock_ns());
}

void clock_mtime_thaw(void)
{
    uint64_t at = atomic_load(&frozen_at_ns);
    if (!at)
        return;
    atomic_fetch_add(&timebase_origin_ns, clock_ns() - at);
    atomic_store(&frozen_at_ns, 0);
}
