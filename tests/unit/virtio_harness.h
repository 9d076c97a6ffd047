/*
 * tests/unit/virtio_harness.h — a fake machine (calloc'd guest RAM), a PCIe
 * host bridge with recorded INTx lines, one virtio-blk function on a real
 * iothread over a temporary image, and a small "driver" that programs it
 * through ECAM and the BAR exactly as Linux's virtio_pci does.
 *
 * Header-only so several test binaries share it; every function is static.
 */
#ifndef TESTS_VIRTIO_HARNESS_H
#define TESTS_VIRTIO_HARNESS_H

#include <criterion/criterion.h>
#include <endian.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "hw/machine.h"
#include "hw/pci_host.h"
#include "hw/virtio_blk.h"
#include "hw/virtio_pci.h"
#include "hw/virtqueue.h"
#include "util/iothread.h"

#define VH_RAM_BASE 0x80000000ull
#define VH_RAM_SIZE (16ull << 20)
#define VH_SLOT 1
#define VH_BAR_ADDR 0x400000000ull      /* in the 64-bit window */
#define VH_MAXQ 4

struct vh_queue {
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t avail_idx, used_seen;
};

struct vh {
    struct machine m;
    struct pci_host host;
    struct iothread *io[2];
    unsigned nio;
    struct virtio_blk *vb;
    char path[64];
    _Atomic int line[4];
    _Atomic unsigned raises;
    uint64_t bump;                  /* guest RAM allocator */
    struct vh_queue q[VH_MAXQ];
};

static void vh_irq_set(void *opaque, unsigned n, bool level)
{
    struct vh *h = opaque;
    if (level && !atomic_exchange(&h->line[n], 1))
        atomic_fetch_add(&h->raises, 1);
    else if (!level)
        atomic_store(&h->line[n], 0);
}

static void *vh_ptr(struct vh *h, uint64_t gpa, uint64_t len)
{
    void *p = machine_ram_ptr(&h->m, gpa, len);
    cr_assert(p, "gpa 0x%llx outside RAM", (unsigned long long)gpa);
    return p;
}

static uint64_t vh_alloc(struct vh *h, uint64_t len, uint64_t align)
{
    h->bump = (h->bump + align - 1) & ~(align - 1);
    uint64_t a = h->bump;
    h->bump += len;
    cr_assert(h->bump <= VH_RAM_BASE + VH_RAM_SIZE);
    return a;
}

/* ---- config space and BAR, as a driver reaches them ---- */

static uint32_t vh_cfg_rd(struct vh *h, unsigned slot, unsigned off,
                          unsigned size)
{
    uint64_t v = 0;
    cr_assert(pci_ecam_ops.read(&h->host, (uint64_t)slot << 15 | off, size,
                                &v));
    return (uint32_t)v;
}

static void vh_cfg_wr(struct vh *h, unsigned slot, unsigned off,
                      unsigned size, uint32_t v)
{
    cr_assert(pci_ecam_ops.write(&h->host, (uint64_t)slot << 15 | off, size,
                                 v));
}

static uint64_t vh_mem_rd(struct vh *h, uint64_t addr, unsigned size)
{
    struct pci_window *w = pci_host_window(&h->host, addr >= (1ull << 32)
                                           ? PCI_WIN_MMIO64 : PCI_WIN_MMIO32);
    uint64_t v = 0;
    cr_assert(pci_window_ops.read(w, addr - w->base, size, &v));
    return v;
}

static void vh_mem_wr(struct vh *h, uint64_t addr, unsigned size, uint64_t v)
{
    struct pci_window *w = pci_host_window(&h->host, addr >= (1ull << 32)
                                           ? PCI_WIN_MMIO64 : PCI_WIN_MMIO32);
    cr_assert(pci_window_ops.write(w, addr - w->base, size, v));
}

static uint64_t vh_rd(struct vh *h, unsigned off, unsigned size)
{
    return vh_mem_rd(h, VH_BAR_ADDR + off, size);
}

static void vh_wr(struct vh *h, unsigned off, unsigned size, uint64_t v)
{
    vh_mem_wr(h, VH_BAR_ADDR + off, size, v);
}

static uint8_t vh_status(struct vh *h)
{
    return (uint8_t)vh_rd(h, VIRTIO_PCI_COMMON + VPCI_STATUS, 1);
}

/* ---- setup ---- */

struct vh_opts {
    uint64_t image_size;
    enum blk_aio aio;
    enum blk_cache cache;
    bool readonly;
    unsigned num_queues;
    unsigned n_iothreads;
    const char *serial;
};

static void vh_init_machine(struct vh *h)
{
    memset(h, 0, sizeof(*h));
    h->m.ram_base = VH_RAM_BASE;
    h->m.ram_size = VH_RAM_SIZE;
    h->m.ram = calloc(1, VH_RAM_SIZE);
    cr_assert(h->m.ram);
    h->bump = VH_RAM_BASE + 0x1000;
    struct irq_line l[4];
    for (unsigned i = 0; i < 4; i++)
        l[i] = (struct irq_line){ vh_irq_set, h, i };
    pci_host_init(&h->host, l, 0x03000000, 0x10000, 0x40000000, 0x40000000,
                  0x400000000ull, 0x400000000ull);
}

static struct virtio_blk *vh_try_device(struct vh *h, const struct vh_opts *o,
                                        char *err, size_t errlen)
{
    snprintf(h->path, sizeof(h->path), "/tmp/blkemu-vh-XXXXXX");
    int fd = mkstemp(h->path);
    cr_assert(fd >= 0);
    cr_assert(ftruncate(fd, (off_t)o->image_size) == 0);
    close(fd);
    h->nio = o->n_iothreads ? o->n_iothreads : 1;
    for (unsigned i = 0; i < h->nio; i++) {
        char id[16];
        snprintf(id, sizeof(id), "t%u", i);
        h->io[i] = iothread_new(id);
        cr_assert(h->io[i]);
    }
    struct vblk_conf c = {
        .name = "vblk-test",
        .blk = { .file = h->path, .format = BLK_FORMAT_RAW, .aio = o->aio,
                 .cache = o->cache, .readonly = o->readonly },
        .num_queues = o->num_queues ? o->num_queues : 1,
        .serial = o->serial, .iothreads = h->io, .n_iothreads = h->nio,
    };
    return virtio_blk_new(&h->m, &c, err, errlen);
}

static void vh_setup(struct vh *h, const struct vh_opts *o)
{
    vh_init_machine(h);
    char err[256] = "";
    h->vb = vh_try_device(h, o, err, sizeof(err));
    cr_assert(h->vb, "virtio_blk_new: %s", err);
    cr_assert(pci_host_plug(&h->host, virtio_blk_pci(h->vb), VH_SLOT));
    /* Place BAR 4 (64-bit) and enable memory decode, as Linux does. */
    vh_cfg_wr(h, VH_SLOT, PCI_BAR0 + 16, 4, (uint32_t)VH_BAR_ADDR);
    vh_cfg_wr(h, VH_SLOT, PCI_BAR0 + 20, 4, (uint32_t)(VH_BAR_ADDR >> 32));
    vh_cfg_wr(h, VH_SLOT, PCI_COMMAND, 2,
              PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void vh_teardown(struct vh *h)
{
    virtio_blk_free(h->vb);
    for (unsigned i = 0; i < h->nio; i++)
        iothread_free(h->io[i]);
    pci_host_destroy(&h->host);
    unlink(h->path);
    free(h->m.ram);
}

/* ---- the driver side ---- */

static uint64_t vh_features(struct vh *h)
{
    vh_wr(h, VPCI_DFSELECT, 4, 0);
    uint64_t lo = vh_rd(h, VPCI_DF, 4);
    vh_wr(h, VPCI_DFSELECT, 4, 1);
    return lo | vh_rd(h, VPCI_DF, 4) << 32;
}

/* Negotiate `want & offered`; returns whether FEATURES_OK stuck. */
static bool vh_negotiate(struct vh *h, uint64_t want)
{
    vh_wr(h, VPCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
    vh_wr(h, VPCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    uint64_t f = vh_features(h) & want;
    vh_wr(h, VPCI_GFSELECT, 4, 0);
    vh_wr(h, VPCI_GF, 4, (uint32_t)f);
    vh_wr(h, VPCI_GFSELECT, 4, 1);
    vh_wr(h, VPCI_GF, 4, (uint32_t)(f >> 32));
    vh_wr(h, VPCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                             VIRTIO_STATUS_FEATURES_OK);
    return vh_status(h) & VIRTIO_STATUS_FEATURES_OK;
}

static void vh_setup_queue(struct vh *h, unsigned qi, uint16_t size)
{
    struct vh_queue *q = &h->q[qi];
    vh_wr(h, VPCI_Q_SELECT, 2, qi);
    cr_assert(vh_rd(h, VPCI_Q_SIZE, 2) >= size);
    q->size = size;
    q->desc = vh_alloc(h, 16ull * size, 16);
    q->avail = vh_alloc(h, 6 + 2ull * size, 2);
    q->used = vh_alloc(h, 6 + 8ull * size, 4);
    vh_wr(h, VPCI_Q_SIZE, 2, size);
    vh_wr(h, VPCI_Q_DESC, 4, (uint32_t)q->desc);
    vh_wr(h, VPCI_Q_DESC + 4, 4, (uint32_t)(q->desc >> 32));
    vh_wr(h, VPCI_Q_DRIVER, 8, q->avail);
    vh_wr(h, VPCI_Q_DEVICE, 4, (uint32_t)q->used);
    vh_wr(h, VPCI_Q_DEVICE + 4, 4, (uint32_t)(q->used >> 32));
    vh_wr(h, VPCI_Q_ENABLE, 2, 1);
}

#define VH_ALL_FEATURES (~0ull)

/* The whole bring-up: features, `nq` queues of `size`, DRIVER_OK. */
static void vh_driver_up(struct vh *h, uint64_t want, unsigned nq,
                         uint16_t size)
{
    cr_assert(vh_negotiate(h, want));
    for (unsigned i = 0; i < nq; i++)
        vh_setup_queue(h, i, size);
    vh_wr(h, VPCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                             VIRTIO_STATUS_FEATURES_OK |
                             VIRTIO_STATUS_DRIVER_OK);
    cr_assert(vh_status(h) & VIRTIO_STATUS_DRIVER_OK);
}

static void vh_desc(struct vh *h, unsigned qi, unsigned i, uint64_t addr,
                    uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = vh_ptr(h, h->q[qi].desc + 16ull * i, 16);
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);
    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &f, 2);
    memcpy(d + 14, &n, 2);
}

/* Write a descriptor into an arbitrary table (indirect). */
static void vh_desc_at(struct vh *h, uint64_t table, unsigned i, uint64_t addr,
                       uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = vh_ptr(h, table + 16ull * i, 16);
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);
    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &f, 2);
    memcpy(d + 14, &n, 2);
}

/* Make chain `head` available (without notifying). */
static void vh_offer(struct vh *h, unsigned qi, uint16_t head)
{
    struct vh_queue *q = &h->q[qi];
    uint16_t *ring = vh_ptr(h, q->avail + 4 + 2ull * (q->avail_idx % q->size),
                            2);
    *ring = htole16(head);
    q->avail_idx++;
    atomic_store_explicit((_Atomic uint16_t *)vh_ptr(h, q->avail + 2, 2),
                          htole16(q->avail_idx), memory_order_release);
}

static void vh_kick(struct vh *h, unsigned qi)
{
    vh_wr(h, VIRTIO_PCI_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * qi, 2, qi);
}

static uint16_t vh_used_idx(struct vh *h, unsigned qi)
{
    return le16toh(atomic_load_explicit(
        (_Atomic uint16_t *)vh_ptr(h, h->q[qi].used + 2, 2),
        memory_order_acquire));
}

/* Wait (up to 5 s) until used.idx reaches `target`. */
static bool vh_wait_used(struct vh *h, unsigned qi, uint16_t target)
{
    for (int i = 0; i < 50000; i++) {
        if ((int16_t)(vh_used_idx(h, qi) - target) >= 0)
            return true;
        usleep(100);
    }
    return false;
}

/* Wait (up to 5 s) for device_status bits. */
static bool vh_wait_status(struct vh *h, uint8_t bits, bool set)
{
    for (int i = 0; i < 50000; i++) {
        uint8_t s = vh_status(h);
        if (set ? (s & bits) == bits : s == 0)
            return true;
        usleep(100);
    }
    return false;
}

/* The used element for ring slot `n`. */
static void vh_used_elem(struct vh *h, unsigned qi, uint16_t n, uint32_t *id,
                         uint32_t *len)
{
    struct vh_queue *q = &h->q[qi];
    uint8_t *e = vh_ptr(h, q->used + 4 + 8ull * (n % q->size), 8);
    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
    *id = le32toh(*id);
    *len = le32toh(*len);
}

struct vh_req {
    uint64_t hdr, data, status;     /* guest addresses */
};

/* A request header in guest RAM. */
static uint64_t vh_hdr(struct vh *h, uint32_t type, uint64_t sector)
{
    uint64_t a = vh_alloc(h, 16, 16);
    uint8_t *p = vh_ptr(h, a, 16);
    uint32_t t = htole32(type);
    uint64_t s = htole64(sector);
    memset(p, 0, 16);
    memcpy(p, &t, 4);
    memcpy(p + 8, &s, 8);
    return a;
}

/* A three-descriptor request at descriptors head..head+2 (or two when
 * len is 0); returns the status byte address. Data direction follows the
 * type. */
static uint64_t vh_build(struct vh *h, unsigned qi, uint16_t head,
                         uint32_t type, uint64_t sector, uint64_t data,
                         uint32_t len)
{
    uint64_t hdr = vh_hdr(h, type, sector);
    uint64_t st = vh_alloc(h, 1, 1);
    *(uint8_t *)vh_ptr(h, st, 1) = 0xee;
    uint16_t dflags = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID
                      ? VQ_DESC_F_WRITE : 0;
    if (len) {
        vh_desc(h, qi, head, hdr, 16, VQ_DESC_F_NEXT, head + 1);
        vh_desc(h, qi, head + 1, data, len, dflags | VQ_DESC_F_NEXT, head + 2);
        vh_desc(h, qi, head + 2, st, 1, VQ_DESC_F_WRITE, 0);
    } else {
        vh_desc(h, qi, head, hdr, 16, VQ_DESC_F_NEXT, head + 1);
        vh_desc(h, qi, head + 1, st, 1, VQ_DESC_F_WRITE, 0);
    }
    return st;
}

/* Submit one request on queue qi, wait for it, return its status. */
static uint8_t vh_do(struct vh *h, unsigned qi, uint32_t type,
                     uint64_t sector, uint64_t data, uint32_t len,
                     uint32_t *used_len)
{
    uint64_t st = vh_build(h, qi, 0, type, sector, data, len);
    vh_offer(h, qi, 0);
    vh_kick(h, qi);
    uint16_t target = (uint16_t)(h->q[qi].used_seen + 1);
    cr_assert(vh_wait_used(h, qi, target), "request type %u not completed",
              type);
    uint32_t id, l;
    vh_used_elem(h, qi, h->q[qi].used_seen, &id, &l);
    h->q[qi].used_seen = target;
    cr_assert_eq(id, 0);
    if (used_len)
        *used_len = l;
    return *(uint8_t *)vh_ptr(h, st, 1);
}

/* A DISCARD or WRITE_ZEROES request: one 16-byte segment (sector, count,
 * flags) the device reads after the header. Returns its status. */
static uint8_t vh_dwz(struct vh *h, unsigned qi, uint32_t type,
                      uint64_t sector, uint32_t n, uint32_t flags)
{
    uint64_t seg = vh_alloc(h, 16, 16);
    uint8_t *p = vh_ptr(h, seg, 16);
    uint64_t s = htole64(sector);
    uint32_t nn = htole32(n), f = htole32(flags);
    memcpy(p, &s, 8);
    memcpy(p + 8, &nn, 4);
    memcpy(p + 12, &f, 4);
    return vh_do(h, qi, type, 0, seg, 16, NULL);
}

#endif
