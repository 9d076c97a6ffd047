/*
 * util/clock.h — host monotonic time and the guest timebase.
 */
#ifndef UTIL_CLOCK_H
#define UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The guest timebase (mtime, the `time` CSR): 10 MHz, as on QEMU's virt. */
#define TIMEBASE_HZ 10000000ull

/* Host CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Guest mtime: timebase ticks since clock_timebase_init(). */
uint64_t clock_mtime(void);
/* Host monotonic ns at which mtime will reach `ticks` (for sleeping). */
uint64_t clock_mtime_to_ns(uint64_t ticks);
/* Start the guest clock at 0 now. Called once at machine creation. */
void clock_timebase_init(void);
/* Stop mtime where it is (the machine is paused), and let it run on from
 * there, the time spent frozen excluded. Main thread; no-ops when already
 * frozen / not frozen. */
void clock_mtime_freeze(void);
void clock_mtime_thaw(void);

#endif
