/*
 * hw/machine.h — what every part of the emulated machine shares: guest RAM,
 * the MMIO bus, the harts, and the machine's run state.
 */
#ifndef HW_MACHINE_H
#define HW_MACHINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "hw/bus.h"

/* Why the machine stopped (exit status mapping lives in main). */
enum machine_exit {
    MACHINE_RUNNING = 0,
    MACHINE_POWEROFF,   /* guest powered off: exit 0 */
    MACHINE_RESET,      /* guest asked for reset (-no-reboot: exit) */
    MACHINE_FAIL,       /* test device failure code: exit code */
    MACHINE_QUIT,       /* user quit (Ctrl-A x) */
    MACHINE_FATAL,      /* unrecoverable guest state (e.g. double trap) */
};

struct machine {
    /* Guest RAM: one contiguous host mapping of [ram_base, ram_base+ram_size). */
    uint8_t *ram;
    uint64_t ram_base;
    uint64_t ram_size;

    struct bus bus;

    unsigned nharts;
    struct hart *harts[HART_MAX];

    /* Set once by machine_request_exit(); read by the main loop. */
    _Atomic int exit_reason;
    int exit_code;
    /* Called (any thread) after an exit request, to wake the main loop. */
    void (*exit_notify)(struct machine *m);
    void *board;            /* the board's private state */
    bool paused;            /* machine_pause()d; main thread only */
    /* Per-drive I/O statistics (hw/iostats.h); the board owns it. NULL in
     * unit tests that build devices without a board. */
    struct iostats *iostats;
};

/* Checked translation of guest physical [gpa, gpa+len) to a host pointer.
 * NULL unless every byte lies in guest RAM (len 0 is valid iff gpa in RAM
 * or at its end). The only way a device may reach guest memory. */
static inline void *machine_ram_ptr(struct machine *m, uint64_t gpa,
                                    uint64_t len)
{
    uint64_t off = gpa - m->ram_base;
    if (gpa < m->ram_base || off > m->ram_size || len > m->ram_size - off)
        return NULL;
    return m->ram + off;
}

/* Ask the machine to stop (any thread): records the first reason and code,
 * stops every hart and wakes the main loop. */
void machine_request_exit(struct machine *m, enum machine_exit why, int code);

/* Pause every hart (QMP `stop`) and freeze the guest's clock (mtime), as
 * QEMU's virtual clock stops; devices and iothreads keep running, so
 * requests in flight complete and their interrupts wait in mip. Waits up
 * to 1 s for the harts to park (one batch of instructions); false if one
 * did not (it is parked as soon as it reaches a batch boundary). Harts
 * started later (after a reset) start parked. Main thread. */
bool machine_pause(struct machine *m);

/* Let the harts run again (QMP `cont`); the guest's clock resumes from
 * where it stopped. Main thread. */
void machine_resume(struct machine *m);

#endif
