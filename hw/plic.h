/*
 * hw/plic.h — the SiFive PLIC (platform-level interrupt controller) as on
 * QEMU's virt board ("sifive,plic-1.0.0", "riscv,plic0").
 *
 * Layout (RISC-V PLIC spec 1.0.0, "Memory Map"; QEMU hw/riscv/virt.h), 32-bit
 * registers, offsets from the base, region size PLIC_SIZE:
 *   0x000000 + 4*s           priority of source s (s = 1..nsources-1;
 *                            source 0 does not exist and reads 0)
 *   0x001000 + 4*w           pending bits of sources 32w..32w+31 (read-only)
 *   0x002000 + 0x80*c + 4*w  enable bits of context c
 *   0x200000 + 0x1000*c      priority threshold of context c
 *   0x200004 + 0x1000*c      claim (read) / complete (write) of context c
 * Contexts: 2h is hart h's M-mode external interrupt (IRQ_MEI), 2h+1 its
 * S-mode one (IRQ_SEI). Priorities and thresholds are 3 bits (0..7) as on
 * QEMU's virt; priority 0 never interrupts.
 *
 * Sources are level-triggered (PLATFORM.md): a source still asserted when
 * its claim is completed pends again; a source that drops its line before
 * being claimed stops pending (as QEMU does), so a guest is not sent to an
 * interrupt whose device has already gone quiet.
 *
 * Thread-safe: plic_set_irq() from device threads and MMIO from vCPU threads
 * serialise on one mutex; each context's output line is recomputed on
 * every change and hart_set_irq() is called when it changes.
 */
#ifndef HW_PLIC_H
#define HW_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/bus.h"

struct machine;
struct plic;

#define PLIC_SIZE 0x600000ull
#define PLIC_PRIORITY 0x0ull
#define PLIC_PENDING 0x1000ull
#define PLIC_ENABLE 0x2000ull
#define PLIC_ENABLE_STRIDE 0x80ull
#define PLIC_CONTEXT 0x200000ull
#define PLIC_CONTEXT_STRIDE 0x1000ull
#define PLIC_PRIO_MAX 7u
#define PLIC_MAX_SOURCES 1024u
/* QEMU virt: 96 sources, source 0 included (the DT's riscv,ndev is 95). */
#define PLIC_VIRT_SOURCES 96u

extern const struct mmio_ops plic_mmio_ops;

/* A PLIC with source ids 0..nsources-1 (0 reserved; nsources at most
 * PLIC_MAX_SOURCES) and two contexts for each of m->harts[0..m->nharts).
 * NULL on a bad nsources or out of memory. */
struct plic *plic_new(struct machine *m, unsigned nsources);
void plic_free(struct plic *p);

/* Machine reset: priorities, enables, thresholds, pending and claims
 * cleared; input line levels kept (devices own them); outputs lowered. */
void plic_reset(struct plic *p);

/* Drive input `src` (any thread). Usable as struct irq_line.set with
 * opaque = the plic. Out-of-range sources are ignored (logged). */
void plic_set_irq(void *plic, unsigned src, bool level);

struct plic_stats {
    uint64_t claims;        /* claims that returned a source */
    uint64_t empty_claims;  /* claims that returned 0 */
    uint64_t completes;
};
struct plic_stats plic_get_stats(struct plic *p);

#endif
