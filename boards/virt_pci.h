/*
 * boards/virt_pci.h — the virt board's PCIe side: the host bridge, the
 * iothreads (-object iothread) and the disks (-drive) plugged into it, and
 * the device tree's pci node.
 *
 * The virtio disks take slots 1, 2, ... in command-line order (00:01.0,
 * 00:02.0, ...); the AHCI controller, if any if=ahci drive exists, takes
 * the slot after them, its disks on its ports. A drive without
 * iothread= runs on the one default iothread ("blk") shared by every such
 * drive; iothread=A:B spreads its queues over A and B (queue q on the
 * (q mod 2)-th).
 */
#ifndef BOARDS_VIRT_PCI_H
#define BOARDS_VIRT_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "boards/cmdline.h"

struct machine;
struct plic;
struct pci_host;
struct virt_pci;

/* Build the host bridge (INTx to PLIC 32..35), the iothreads and the
 * disks. NULL with one line in err on failure. */
struct virt_pci *virt_pci_create(struct machine *m, struct plic *plic,
                                 const struct blkemu_config *cfg, char *err,
                                 size_t errlen);

/* Reset the disks (waiting for their requests) and the functions; harts
 * stopped. */
void virt_pci_reset(struct virt_pci *p);

/* Quiesce and free everything (harts stopped). NULL is a no-op. */
void virt_pci_free(struct virt_pci *p);

/* For the board's device table: the ECAM region's and windows' opaques. */
struct pci_host *virt_pci_host(struct virt_pci *p);

/* Emit the pci@30000000 node at the current position of a sequential-
 * write device tree (inside /soc). Returns 0 or a libfdt error. */
int virt_pci_fdt(void *fdt, const struct blkemu_config *cfg,
                 uint32_t plic_phandle);

/* One drive, as QMP's query-block and query-blockstats show it. */
struct virt_drive_info {
    const char *id;             /* id=, or virtioN (N counts virtio disks) /
                                 * ahci0-portN */
    const char *file;
    const char *iface;          /* "virtio" or "ahci" */
    bool readonly;
    enum blk_aio aio;
    enum blk_cache cache;
    uint64_t size;              /* bytes, as opened */
    struct blk_stats stats;     /* the block layer's counters */
    struct blk *blk;            /* one of its handles (injection rules) */
};

/* Drives in command-line order. Any thread (counters are approximate
 * while the guest runs). */
unsigned virt_pci_drive_count(const struct virt_pci *p);
bool virt_pci_drive_info(struct virt_pci *p, unsigned i,
                         struct virt_drive_info *out);

/* Print each disk's counters (--stats) to stderr. */
void virt_pci_print_stats(struct virt_pci *p);

#endif
