/*
 * hw/machine_pause.c — pausing and resuming the whole machine (QMP stop and
 * cont). Apart from hw/machine.c so that device unit tests that stub the
 * hart calls machine.c makes do not pull in the real harts.
 */
#include "hw/machine.h"

#include "util/clock.h"

bool machine_pause(struct machine *m)
{
    for (unsigned i = 0; i < m->nharts; i++)
        hart_set_paused(m->harts[i], true);
    uint64_t deadline = clock_ns() + 1000000000ull;
    bool ok = true;
    for (unsigned i = 0; i < m->nharts; i++)
        ok &= hart_wait_parked(m->harts[i], deadline);
    clock_mtime_freeze();
    m->paused = true;
    return ok;
}

void machine_resume(struct machine *m)
{
    /* Thaw while every hart is parked, so none reads mtime mid-update. */
    clock_mtime_thaw();
    m->paused = false;
    for (unsigned i = 0; i < m->nharts; i++)
        hart_set_paused(m->harts[i], false);
}
