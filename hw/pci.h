/*
 * hw/pci.h — one PCI function: its type 0 configuration header, BARs,
 * capability list and INTx pin.
 *
 * A function is owned by a device model (virtio-pci, later AHCI) and
 * plugged into a host bridge (hw/pci_host.h), which routes configuration
 * accesses (ECAM) and MMIO/PIO window accesses to it. The guest — Linux on
 * this platform assigns every BAR itself — sizes BARs by writing all-ones
 * and reading back the size mask (PCI Local Bus 3.0 §6.2.5.1), then places
 * them; MMIO dispatch follows the BAR addresses and the command register's
 * memory/I/O enable bits.
 *
 * Threads: configuration accesses arrive on vCPU threads, serialised by the
 * host bridge's lock. The decode state the window dispatch needs (each
 * BAR's live address) is published with atomics so dispatch takes no lock.
 * pci_set_irq() may be called from any thread.
 */
#ifndef HW_PCI_H
#define HW_PCI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/bus.h"

/* Configuration header offsets (type 0). */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER   0x0d
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_ROM_ADDRESS     0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d
#define PCI_CFG_SIZE        256     /* conventional space; ECAM reads the
                                     * extended 4 KiB as zeroes */

#define PCI_COMMAND_IO      0x0001
#define PCI_COMMAND_MEMORY  0x0002
#define PCI_COMMAND_MASTER  0x0004
#define PCI_COMMAND_SERR    0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_BAR_IO          0x1u
#define PCI_BAR_MEM64       0x4u
#define PCI_BAR_PREFETCH    0x8u

#define PCI_CAP_ID_VNDR     0x09

#define PCI_NUM_BARS        6
#define PCI_BAR_UNMAPPED    UINT64_MAX

struct pci_host;

struct pci_bar {
    uint64_t size;          /* power of two; 0 = BAR not implemented */
    unsigned flags;         /* PCI_BAR_IO / PCI_BAR_MEM64 | PCI_BAR_PREFETCH */
    uint64_t addr;          /* the BAR register's value (address bits) */
    /* Where the BAR decodes now, or PCI_BAR_UNMAPPED (decode disabled, or
     * never placed). Written under the host lock, read lock-free. */
    _Atomic uint64_t live;
    const struct mmio_ops *ops;
    void *opaque;
};

/* Hook for a capability whose registers have side effects (virtio's
 * PCI_CFG access window). Called under the host lock with the new bytes
 * already stored; `off`/`size` is the access. */
typedef void pci_cfg_write_hook(void *opaque, unsigned off, unsigned size);
typedef void pci_cfg_read_hook(void *opaque, unsigned off, unsigned size);

struct pci_dev {
    uint8_t cfg[PCI_CFG_SIZE];
    uint8_t wmask[PCI_CFG_SIZE];    /* guest-writable bits of each byte */
    struct pci_bar bars[PCI_NUM_BARS];
    uint8_t cap_next;               /* where the next capability goes */
    uint8_t *cap_last_next;         /* the previous cap's next pointer */
    unsigned devfn;                 /* slot << 3 | function */
    struct pci_host *host;
    bool irq_level;                 /* the device's INTx output */
    bool irq_out;                   /* what reaches the host (!INTX_DISABLE) */
    /* Optional capability hooks for the byte range [hook_lo, hook_hi). */
    unsigned hook_lo, hook_hi;
    pci_cfg_write_hook *write_hook;
    pci_cfg_read_hook *read_hook;
    void *hook_opaque;
    const char *name;
};

/* Fill the identity of a function: type 0 header, capability list
 * present, INTA (pin 1), no BARs yet. */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor,
                  uint16_t device, uint8_t revision, uint32_t class_code,
                  uint16_t subsys_vendor, uint16_t subsys_id);

/* Declare BAR `n` (a 64-bit BAR also takes n+1). `size` must be a power of
 * two (>= 16 for memory, >= 4 for I/O). False on a bad argument. */
bool pci_dev_add_bar(struct pci_dev *d, unsigned n, uint64_t size,
                     unsigned flags, const struct mmio_ops *ops, void *opaque);

/* Append a capability of `len` bytes (id at +0, next at +1, the rest from
 * `body`, len - 2 bytes, may be NULL) to the list; returns its offset in
 * configuration space, or 0 if it does not fit. */
unsigned pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body,
                         unsigned len);

/* Configuration access (host lock held by the caller). `off` aligned to
 * `size` (1, 2 or 4); off >= PCI_CFG_SIZE reads zero, ignores writes. */
uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned size);
void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned size,
                   uint32_t val);

/* Drive the function's INTx pin (level-triggered). Any thread. */
void pci_set_irq(struct pci_dev *d, bool level);

/* Power-on state: command 0, BARs 0 and unmapped, INTx low. */
void pci_dev_reset(struct pci_dev *d);

static inline uint16_t pci_get16(const struct pci_dev *d, unsigned off)
{
    return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static inline void pci_set16(struct pci_dev *d, unsigned off, uint16_t v)
{
    d->cfg[off] = (uint8_t)v;
    d->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_set32(struct pci_dev *d, unsigned off, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        d->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

#endif
