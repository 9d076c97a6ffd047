/*
 * hw/machine.c — machine-wide run state.
 */
#include "hw/machine.h"

#include "util/clock.h"

void machine_request_exit(struct machine *m, enum machine_exit why, int code)
{
    int expected = MACHINE_RUNNING;
    if (atomic_compare_exchange_strong(&m->exit_reason, &expected, (int)why))
        m->exit_code = code;
    for (unsigned i = 0; i < m->nharts; i++)
        if (m->harts[i])
            hart_stop(m->harts[i]);
    if (m->exit_notify)
        m->exit_notify(m);
}

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
