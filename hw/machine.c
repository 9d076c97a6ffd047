/*
 * hw/machine.c — machine-wide run state.
 */
#include "hw/machine.h"

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
