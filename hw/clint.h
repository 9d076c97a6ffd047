/*
 * hw/clint.h — the SiFive CLINT (core-local interruptor) as on QEMU's virt:
 * per-hart MSIP (software interrupt) and mtimecmp, and the shared mtime.
 *
 * Layout (SiFive FU540 manual §9.1; QEMU hw/intc/riscv_aclint.c), offsets
 * from the region base, region size CLINT_SIZE:
 *   0x0000 + 4*h   msip[h]      32-bit, bit 0 drives the hart's MSIP
 *   0x4000 + 8*h   mtimecmp[h]  64-bit, 4- or 8-byte accesses
 *   0xbff8         mtime        64-bit, 4- or 8-byte accesses, read-only here
 *
 * mtime is the machine-wide timebase (clock_mtime(), 10 MHz), which the
 * harts also read through the `time` CSR and compare with mtimecmp. Writes
 * to mtime are therefore ignored (with a guest-error log): an offset here
 * would make the CLINT and the harts disagree about the time. Neither
 * OpenSBI nor Linux writes mtime.
 */
#ifndef HW_CLINT_H
#define HW_CLINT_H

#include <stdint.h>

#include "hw/bus.h"

struct machine;
struct clint;

#define CLINT_SIZE 0x10000ull
#define CLINT_MSIP 0x0000ull
#define CLINT_MTIMECMP 0x4000ull
#define CLINT_MTIME 0xbff8ull

extern const struct mmio_ops clint_mmio_ops;

/* A CLINT for the harts m->harts[0 .. m->nharts). The board maps it with
 * bus_add(..., &clint_mmio_ops, clint, "clint"). NULL when out of memory. */
struct clint *clint_new(struct machine *m);
void clint_free(struct clint *c);

/* Machine reset: every MSIP cleared (mtimecmp belongs to the harts). */
void clint_reset(struct clint *c);

#endif
