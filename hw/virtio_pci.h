/*
 * hw/virtio_pci.h — the modern (virtio 1.x only) PCI transport, virtio 1.2
 * §4.1: vendor 0x1af4, device 0x1040 + virtio device id, revision 1.
 *
 * One 64-bit prefetchable memory BAR (BAR 4, 16 KiB, as QEMU lays it out)
 * holds the four structures the vendor-specific capabilities point at:
 *   0x0000 common configuration (§4.1.4.3)
 *   0x1000 ISR status (§4.1.4.5): read-to-clear, bit 0 queue, bit 1 config
 *   0x2000 device-specific configuration (§4.1.4.6)
 *   0x3000 notifications (§4.1.4.4): queue q at 0x3000 + 4 * q
 *          (queue_notify_off = q, notify_off_multiplier = 4)
 * plus the PCI configuration access capability (§4.1.4.8).
 *
 * No MSI-X: the board has no MSI controller, so the device uses INTx
 * (level, through the host bridge to the PLIC) and Linux's virtio_pci falls
 * back to its shared legacy interrupt handler. The line is asserted while
 * the ISR is non-zero and drops when the driver reads the ISR, or on reset.
 *
 * The transport talks to its device model through struct virtio_dev_ops
 * (STYLE.md habit 1): start on DRIVER_OK, notify on a queue doorbell,
 * reset on a status write of 0. Reset is asynchronous: the device stops
 * its queues, waits for the requests in flight, then calls
 * virtio_pci_reset_done(); until then device_status keeps reading non-zero,
 * and the driver, which must wait for 0 (§4.1.4.3.2), waits.
 */
#ifndef HW_VIRTIO_PCI_H
#define HW_VIRTIO_PCI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"

/* Feature bits (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* device_status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

#define VIRTIO_PCI_VENDOR  0x1af4
#define VIRTIO_PCI_BAR     4
#define VIRTIO_PCI_BAR_SIZE 0x4000u
#define VIRTIO_PCI_COMMON  0x0000u
#define VIRTIO_PCI_ISR     0x1000u
#define VIRTIO_PCI_DEVCFG  0x2000u
#define VIRTIO_PCI_NOTIFY  0x3000u
#define VIRTIO_PCI_REGION  0x1000u
#define VIRTIO_PCI_NOTIFY_MULT 4u
#define VIRTIO_MSI_NO_VECTOR 0xffffu

/* Common configuration offsets (§4.1.4.3). */
#define VPCI_DFSELECT      0x00
#define VPCI_DF            0x04
#define VPCI_GFSELECT      0x08
#define VPCI_GF            0x0c
#define VPCI_MSIX_CONFIG   0x10
#define VPCI_NUM_QUEUES    0x12
#define VPCI_STATUS        0x14
#define VPCI_CFG_GENERATION 0x15
#define VPCI_Q_SELECT      0x16
#define VPCI_Q_SIZE        0x18
#define VPCI_Q_MSIX        0x1a
#define VPCI_Q_ENABLE      0x1c
#define VPCI_Q_NOFF        0x1e
#define VPCI_Q_DESC        0x20
#define VPCI_Q_DRIVER      0x28
#define VPCI_Q_DEVICE      0x30
#define VPCI_COMMON_LEN    0x38

/* Capability cfg_type values (§4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* What the driver configured for one queue, handed to the device at
 * DRIVER_OK. */
struct virtio_queue_conf {
    uint16_t size;
    bool enabled;
    uint64_t desc, driver, device;
};

struct virtio_dev_ops {
    /* DRIVER_OK: start the enabled queues with the negotiated features.
     * vCPU thread; may call virtio_pci_set_needs_reset(). */
    void (*start)(void *dev, uint64_t features,
                  const struct virtio_queue_conf *q, unsigned nq);
    /* The driver notified queue q (< num_queues). vCPU thread: hand the
     * work over and return (DESIGN.md "The threads"). */
    void (*notify)(void *dev, unsigned q);
    /* Status 0 written: stop every queue; once no request is in flight,
     * call virtio_pci_reset_done() (from any thread, possibly before
     * returning). */
    void (*reset)(void *dev);
};

struct virtio_pci_conf {
    const char *name;
    uint16_t device_id;         /* virtio device id, e.g. 2 = block */
    uint32_t class_code;
    uint64_t features;          /* offered; VERSION_1 is added */
    unsigned num_queues;
    uint16_t max_queue_size;
    const uint8_t *config;      /* device-specific configuration (fixed) */
    unsigned config_len;
    const struct virtio_dev_ops *ops;
    void *dev;
};

struct virtio_pci_stats {
    uint64_t notifies;          /* doorbell writes */
    uint64_t bad_notifies;      /* for a queue that does not exist */
    uint64_t interrupts;        /* ISR 0 -> non-zero transitions */
    uint64_t isr_reads;
    uint64_t resets;
    uint64_t needs_reset;       /* times the device declared itself broken */
};

struct virtio_pci {
    struct pci_dev pci;
    struct virtio_pci_conf c;
    pthread_mutex_t ctl;        /* serialises status writes (start/reset) */
    pthread_mutex_t lock;       /* the register state below */
    pthread_cond_t reset_cond;
    uint32_t dfselect, gfselect;
    uint64_t guest_features;
    uint16_t queue_select;
    uint8_t status;
    uint8_t config_generation;
    bool resetting;
    uint8_t isr;
    _Atomic bool driver_ok;
    struct virtio_queue_conf *queues;
    unsigned pcicfg_cap;        /* offset of the PCI_CFG capability */
    struct {
        _Atomic uint64_t notifies, bad_notifies, interrupts, isr_reads,
            resets, needs_reset;
    } st;
};

/* Build the PCI function and its capabilities. False on a bad conf or
 * out of memory. */
bool virtio_pci_init(struct virtio_pci *t, const struct virtio_pci_conf *c);
void virtio_pci_destroy(struct virtio_pci *t);

/* The device used buffers the driver should hear about: set ISR bit 0 and
 * assert INTx. Any thread. */
void virtio_pci_notify_used(struct virtio_pci *t);

/* The driver broke the rules: set DEVICE_NEEDS_RESET and send a
 * configuration-change interrupt (§2.1.2, §4.1.4.5). Any thread. */
void virtio_pci_set_needs_reset(struct virtio_pci *t);

/* The device finished a reset it was asked for: registers to their reset
 * values, device_status reads 0, INTx low. Any thread. */
void virtio_pci_reset_done(struct virtio_pci *t);

/* Reset and wait until it is done (machine reset, teardown; no vCPU
 * running). */
void virtio_pci_reset_sync(struct virtio_pci *t);

/* The BAR's MMIO ops (opaque: the virtio_pci), for tests. */
extern const struct mmio_ops virtio_pci_bar_ops;

struct virtio_pci_stats virtio_pci_get_stats(struct virtio_pci *t);

#endif
