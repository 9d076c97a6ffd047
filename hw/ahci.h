/*
 * hw/ahci.h — an ICH9-compatible AHCI 1.3.1 SATA controller (PCI 8086:2922,
 * class 01:06:01, ABAR in BAR 5) with up to six ports, each an ATA disk
 * whose data path runs on an iothread.
 *
 * Layers (STYLE.md habit 1): hw/ahci.c is the HBA and port register model
 * (generic host control, PxCMD start/stop, resets, interrupts);
 * hw/ahci_cmd.c parses command headers, command FISes and PRDTs out of
 * guest memory, runs commands on the port's iothread and posts the
 * received FISes; hw/ahci_ata.c is the ATA command set (IDENTIFY, DMA and
 * NCQ reads and writes, FLUSH, TRIM, logs). The device talks to the host
 * only through block/block.h.
 *
 * Threads (DESIGN.md "The block path"; seed 003): register accesses arrive
 * on vCPU threads. A PxCI write only marks the slots and schedules the
 * port's bottom half on its iothread (loop_bh_schedule wakes the loop);
 * fetching and parsing the commands, blk_submit() (batched between
 * blk_plug/blk_unplug), completion, FIS posting and the interrupt all run
 * on that iothread. One mutex per controller guards the register state.
 *
 * Guest memory is hostile: every command list, FIS area, command table,
 * PRDT and data buffer goes through machine_ram_ptr(). A pointer outside
 * RAM gives PxIS.HBFS (host bus fatal error); a malformed command gives an
 * ATA task-file error (ABRT); neither stops the emulator.
 */
#ifndef HW_AHCI_H
#define HW_AHCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

struct machine;
struct iothread;
struct pci_dev;
struct ahci;

#define AHCI_PORTS        6
#define AHCI_SLOTS        32
#define AHCI_PCI_VENDOR   0x8086
#define AHCI_PCI_DEVICE   0x2922      /* ICH9 AHCI */
#define AHCI_PCI_CLASS    0x010601    /* mass storage, SATA, AHCI 1.0 */
#define AHCI_BAR          5           /* ABAR */
#define AHCI_BAR_SIZE     0x1000u
#define AHCI_SERIAL_MAX   20          /* IDENTIFY words 10-19 */

/* One disk on one port. */
struct ahci_disk_conf {
    const char *name;           /* for messages and reports, e.g. "ahci0-port2" */
    struct blk_opts blk;        /* image, format, aio, cache, readonly */
    const char *serial;         /* IDENTIFY serial; NULL: a default */
    struct iothread *io;        /* the port's home loop */
};

/* Per-port counters (any thread; approximate while running). */
struct ahci_port_stats {
    uint64_t cmds;              /* commands taken from the command list */
    uint64_t reads, writes;     /* DMA and NCQ data commands */
    uint64_t ncq;               /* of which NCQ (FPDMA QUEUED) */
    uint64_t flushes, trims, other;
    uint64_t bytes_read, bytes_written;
    uint64_t tf_errors;         /* commands that ended in a task-file error */
    uint64_t hbfs;              /* host bus fatal errors (bad pointers) */
    uint64_t doorbells;         /* PxCI writes that set a new bit */
    uint64_t batches;           /* bottom-half runs that took commands */
    uint64_t interrupts;        /* INTx assertions caused by this port */
    uint64_t max_inflight;
};

/* Build the controller with no disks (all six ports implemented, empty).
 * NULL with one line in err when out of memory. */
struct ahci *ahci_new(struct machine *m, const char *name, char *err,
                      size_t errlen);

/* Attach a disk to `port` (0..AHCI_PORTS-1) before the guest runs: opens
 * the image on the port's iothread. False with one line in err (blk_open's
 * message for image problems, or the port is taken). */
bool ahci_attach(struct ahci *a, unsigned port, const struct ahci_disk_conf *c,
                 char *err, size_t errlen);

/* The PCI function, to plug into the host bridge. */
struct pci_dev *ahci_pci(struct ahci *a);

/* Machine reset: an HBA reset, waiting for every request in flight. No
 * vCPU may be running. */
void ahci_reset(struct ahci *a);

/* Reset, close the images, free. No vCPU running. NULL is a no-op. */
void ahci_free(struct ahci *a);

/* True if a disk is attached to `port`. */
bool ahci_port_present(const struct ahci *a, unsigned port);

struct ahci_port_stats ahci_get_port_stats(struct ahci *a, unsigned port);
/* The block layer's counters for the disk on `port` (zero if none). */
struct blk_stats ahci_get_blk_stats(struct ahci *a, unsigned port);
/* The block handle of the disk on `port` (NULL if none): for the
 * control socket's injection rules (blk_set_inject). */
struct blk *ahci_port_blk(struct ahci *a, unsigned port);

/* The ABAR's MMIO ops (opaque: the struct ahci), for tests. */
extern const struct mmio_ops ahci_mmio_ops;

#endif
