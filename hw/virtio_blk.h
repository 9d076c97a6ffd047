/*
 * hw/virtio_blk.h — the virtio-blk device model (virtio 1.2 §5.2) on the
 * modern PCI transport, with its data path on iothreads.
 *
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES (with UNMAP);
 * anything else completes with VIRTIO_BLK_S_UNSUPP. Each request is parsed
 * and checked completely (header, direction, lengths, sector range without
 * overflow, writable status byte) before any I/O (STYLE.md habit 3), then
 * goes to the block layer with blk_submit() — the device never does host
 * I/O itself.
 *
 * Threads (DESIGN.md "The block path"): a queue doorbell arrives on a vCPU
 * thread, which schedules the queue's bottom half on its iothread and
 * returns. Popping descriptors, submitting (batched between blk_plug and
 * blk_unplug), completing, the used ring and the interrupt all happen on
 * that iothread. Queue q is served by iothreads[q % n_iothreads]; each
 * iothread a drive uses has its own struct blk on the image (positioned
 * I/O, no shared offset).
 *
 * Guest errors: a request the driver framed wrongly but that has a status
 * byte gets VIRTIO_BLK_S_IOERR; a chain that breaks the virtqueue rules, or
 * has no device-writable byte for the status, makes the device
 * DEVICE_NEEDS_RESET (the queue stops; the driver must reset).
 */
#ifndef HW_VIRTIO_BLK_H
#define HW_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"
#include "hw/virtio_pci.h"

struct machine;
struct iothread;
struct virtio_blk;

#define VIRTIO_ID_BLOCK 2

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (§5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_UNMAP 1u
#define VIRTIO_BLK_ID_BYTES 20

/* Device configuration layout (§5.2.4), little-endian. */
#define VBLK_CFG_CAPACITY      0x00
#define VBLK_CFG_SIZE_MAX      0x08
#define VBLK_CFG_SEG_MAX       0x0c
#define VBLK_CFG_BLK_SIZE      0x14
#define VBLK_CFG_PHYS_EXP      0x18
#define VBLK_CFG_MIN_IO        0x1a
#define VBLK_CFG_OPT_IO        0x1c
#define VBLK_CFG_NUM_QUEUES    0x22
#define VBLK_CFG_MAX_DISCARD   0x24
#define VBLK_CFG_MAX_DISCARD_SEG 0x28
#define VBLK_CFG_DISCARD_ALIGN 0x2c
#define VBLK_CFG_MAX_WZ        0x30
#define VBLK_CFG_MAX_WZ_SEG    0x34
#define VBLK_CFG_WZ_MAY_UNMAP  0x38
#define VBLK_CFG_LEN           0x3c

#define VBLK_QUEUE_SIZE   256     /* as QEMU; seg_max = 254 */
#define VBLK_MAX_QUEUES   64
#define VBLK_SIZE_MAX     (4u << 20)  /* per segment: 254 of them < 1 GiB */
#define VBLK_MAX_DWZ_SECTORS ((1u << 30) / 512)

struct vblk_conf {
    const char *name;             /* for messages and reports, e.g. "virtio0" */
    struct blk_opts blk;          /* image, format, aio, cache, readonly */
    unsigned num_queues;          /* 1..VBLK_MAX_QUEUES */
    const char *serial;           /* GET_ID; NULL or up to 20 bytes */
    struct iothread **iothreads;  /* queue q is served by [q % n] */
    unsigned n_iothreads;
};

/* Per-queue counters (any thread reads them; approximate while running). */
struct vblk_queue_stats {
    uint64_t reqs[BLK_OP__COUNT]; /* submitted, by block-layer op */
    uint64_t get_id, unsupp, ioerr;
    uint64_t bytes_read, bytes_written;
    uint64_t kicks;               /* doorbells that reached this queue */
    uint64_t batches;             /* bottom-half runs that found work */
    uint64_t interrupts;          /* used-buffer notifications sent */
    uint64_t max_inflight;
};

/* Open the image (one handle per iothread used, opened on that iothread)
 * and build the device. NULL with one line in err on failure (blk_open's
 * message for image problems). */
struct virtio_blk *virtio_blk_new(struct machine *m,
                                  const struct vblk_conf *c,
                                  char *err, size_t errlen);

/* Reset (waiting for requests in flight), then close the images and free.
 * No vCPU may be running. NULL is a no-op. */
void virtio_blk_free(struct virtio_blk *vb);

/* The PCI function, to plug into the host bridge. */
struct pci_dev *virtio_blk_pci(struct virtio_blk *vb);

/* The transport (tests drive it like a driver would). */
struct virtio_pci *virtio_blk_transport(struct virtio_blk *vb);

/* Machine reset: like a driver reset, waited for. */
void virtio_blk_reset(struct virtio_blk *vb);

unsigned virtio_blk_num_queues(const struct virtio_blk *vb);
struct vblk_queue_stats virtio_blk_queue_stats(struct virtio_blk *vb,
                                               unsigned q);
/* The block layer's statistics, summed over the drive's handles. */
struct blk_stats virtio_blk_blk_stats(struct virtio_blk *vb);

/* One of the drive's block handles. They share the drive's injection
 * rules, so blk_set_inject()/blk_get_inject() on it act on the whole
 * drive; its own counters are only one iothread's share. */
struct blk *virtio_blk_get_blk(struct virtio_blk *vb);

#endif
