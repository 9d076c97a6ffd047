/*
 * hw/pci_host.h — the PCIe host bridge of QEMU's virt board
 * ("pci-host-ecam-generic", Linux drivers/pci/controller/pci-host-generic.c):
 * an ECAM configuration window, MMIO windows and a PIO window that dispatch
 * to the BARs of the functions on bus 0, and INTA–D wired to four
 * interrupt-controller inputs.
 *
 * ECAM (PCIe 4.0 §7.2.2): offset = bus << 20 | device << 15 | function << 12
 * | register. Only bus 0 exists, one function per slot; the host bridge
 * itself is 00:00.0 (vendor 0x1b36, device 0x0008, class 0x060000, as
 * QEMU's gpex root). Reads of an empty slot return all-ones (master
 * abort), writes to it are dropped.
 *
 * Windows: the CPU address equals the PCI bus address (the device tree's
 * `ranges` map them 1:1) except for I/O, whose bus addresses start at 0 at
 * the PIO window's base. An access that hits no enabled BAR reads all-ones
 * and is otherwise ignored, as a master abort does.
 *
 * INTx (PCI 3.0 §2.2.6, the "swizzle"): pin P (1 = INTA) of slot S drives
 * host line (P - 1 + S) % 4; the device tree's interrupt-map says the same.
 * Lines are shared, level-triggered: a line is high while any function
 * driving it is asserted.
 */
#ifndef HW_PCI_HOST_H
#define HW_PCI_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/bus.h"
#include "hw/irq.h"
#include "hw/pci.h"

#define PCI_SLOTS      32
#define PCI_INTX_LINES 4

enum pci_window_kind { PCI_WIN_PIO = 0, PCI_WIN_MMIO32, PCI_WIN_MMIO64,
                       PCI_WIN__COUNT };

struct pci_window {
    struct pci_host *host;
    uint64_t base, size;    /* CPU addresses */
    bool io;
};

struct pci_host {
    pthread_mutex_t lock;       /* configuration space of every function */
    pthread_mutex_t irq_lock;   /* INTx levels */
    struct pci_dev *slots[PCI_SLOTS];
    struct pci_dev *devs[PCI_SLOTS];   /* the occupied slots, for dispatch */
    unsigned ndevs;
    struct irq_line intx[PCI_INTX_LINES];
    unsigned intx_count[PCI_INTX_LINES];
    struct pci_window win[PCI_WIN__COUNT];
    struct pci_dev root;        /* 00:00.0 */
    /* Counters, for tests and --stats. */
    _Atomic uint64_t cfg_reads, cfg_writes, window_misses;
};

/* MMIO ops of the ECAM region (opaque: the pci_host) and of a window
 * (opaque: pci_host_window()). */
extern const struct mmio_ops pci_ecam_ops;
extern const struct mmio_ops pci_window_ops;

/* Set up a host bridge with the root function in slot 0. `intx` are the
 * interrupt inputs for INTA..INTD. Window bases/sizes as in the device
 * tree (size 0: no such window). */
void pci_host_init(struct pci_host *h, const struct irq_line intx[4],
                   uint64_t pio_base, uint64_t pio_size,
                   uint64_t mmio_base, uint64_t mmio_size,
                   uint64_t mmio64_base, uint64_t mmio64_size);
void pci_host_destroy(struct pci_host *h);

/* The opaque to map a window's region with. */
struct pci_window *pci_host_window(struct pci_host *h,
                                   enum pci_window_kind k);

/* Plug `d` into `slot` (1..31; 0 is the root). False if taken. Before the
 * harts run. */
bool pci_host_plug(struct pci_host *h, struct pci_dev *d, unsigned slot);

/* Reset every function (machine reset; harts stopped). */
void pci_host_reset(struct pci_host *h);

/* Host line (0..3 = INTA..INTD of slot 0) that `pin` (1..4) of `slot`
 * drives. */
static inline unsigned pci_intx_swizzle(unsigned slot, unsigned pin)
{
    return (pin - 1 + slot) % PCI_INTX_LINES;
}

/* Called by pci_set_irq() (hw/pci.c) when a function's output changes. */
void pci_host_intx_change(struct pci_host *h, struct pci_dev *d, bool level);

#endif
