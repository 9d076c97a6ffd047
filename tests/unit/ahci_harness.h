/*
 * tests/unit/ahci_harness.h — a fake machine (calloc'd guest RAM), a PCIe
 * host bridge with recorded INTx lines, the AHCI controller with disks on
 * temporary images served by a real iothread, and a small driver that
 * programs it through ECAM and ABAR the way Linux's ahci does.
 *
 * Header-only so several test binaries share it; every function is static.
 */
#ifndef TESTS_AHCI_HARNESS_H
#define TESTS_AHCI_HARNESS_H

#include <criterion/criterion.h>
#include <endian.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "hw/ahci.h"
#include "hw/ahci_int.h"
#include "hw/machine.h"
#include "hw/pci_host.h"
#include "util/iothread.h"

#define AH_RAM_BASE 0x80000000ull
#define AH_RAM_SIZE (16ull << 20)
#define AH_SLOT 1
#define AH_ABAR 0x40000000ull

struct ah_port {
    uint64_t clb, fb, ctba[AHCI_SLOTS];
};

struct ah {
    struct machine m;
    struct pci_host host;
    struct iothread *io;
    struct ahci *a;
    unsigned nports;
    char path[AHCI_PORTS][64];
    _Atomic int line[4];
    uint64_t bump;
    struct ah_port p[AHCI_PORTS];
};

struct ah_opts {
    unsigned nports;            /* disks on ports 0..nports-1 */
    uint64_t image_size;
    enum blk_aio aio;
    enum blk_cache cache;
    bool readonly;
};

static inline void ah_irq_set(void *opaque, unsigned n, bool level)
{
    struct ah *h = opaque;
    atomic_store(&h->line[n], level);
}

static inline void *ah_ptr(struct ah *h, uint64_t gpa, uint64_t len)
{
    void *p = machine_ram_ptr(&h->m, gpa, len);
    cr_assert(p, "gpa 0x%llx outside RAM", (unsigned long long)gpa);
    return p;
}

static inline uint64_t ah_alloc(struct ah *h, uint64_t len, uint64_t align)
{
    h->bump = (h->bump + align - 1) & ~(align - 1);
    uint64_t a = h->bump;
    h->bump += len;
    cr_assert(h->bump <= AH_RAM_BASE + AH_RAM_SIZE);
    memset(ah_ptr(h, a, len), 0, len);
    return a;
}

/* ---- registers, as a driver reaches them ---- */

static inline uint64_t ah_rd_n(struct ah *h, unsigned off, unsigned size)
{
    struct pci_window *w = pci_host_window(&h->host, PCI_WIN_MMIO32);
    uint64_t v = 0;
    cr_assert(pci_window_ops.read(w, AH_ABAR + off - w->base, size, &v));
    return v;
}

static inline void ah_wr_n(struct ah *h, unsigned off, unsigned size, uint64_t v)
{
    struct pci_window *w = pci_host_window(&h->host, PCI_WIN_MMIO32);
    cr_assert(pci_window_ops.write(w, AH_ABAR + off - w->base, size, v));
}

static inline uint32_t ah_rd(struct ah *h, unsigned off)
{
    return (uint32_t)ah_rd_n(h, off, 4);
}

static inline void ah_wr(struct ah *h, unsigned off, uint32_t v)
{
    ah_wr_n(h, off, 4, v);
}

static inline unsigned ah_px(unsigned port, unsigned reg)
{
    return HBA_PORT_BASE + HBA_PORT_SIZE * port + reg;
}

static inline uint32_t ah_prd(struct ah *h, unsigned port, unsigned reg)
{
    return ah_rd(h, ah_px(port, reg));
}

static inline void ah_pwr(struct ah *h, unsigned port, unsigned reg, uint32_t v)
{
    ah_wr(h, ah_px(port, reg), v);
}

static inline inline uint32_t ah_cfg_rd(struct ah *h, unsigned off, unsigned size)
{
    uint64_t v = 0;
    cr_assert(pci_ecam_ops.read(&h->host, (uint64_t)AH_SLOT << 15 | off, size,
                                &v));
    return (uint32_t)v;
}

static inline void ah_cfg_wr(struct ah *h, unsigned off, unsigned size, uint32_t v)
{
    cr_assert(pci_ecam_ops.write(&h->host, (uint64_t)AH_SLOT << 15 | off,
                                 size, v));
}

/* Poll `reg` of `port` until (value & mask) == want, up to 5 s. */
static inline bool ah_wait(struct ah *h, unsigned port, unsigned reg, uint32_t mask,
                    uint32_t want)
{
    for (int i = 0; i < 50000; i++) {
        if ((ah_prd(h, port, reg) & mask) == want)
            return true;
        usleep(100);
    }
    return false;
}

/* ---- setup ---- */

static inline void ah_setup(struct ah *h, const struct ah_opts *o)
{
    memset(h, 0, sizeof(*h));
    h->m.ram_base = AH_RAM_BASE;
    h->m.ram_size = AH_RAM_SIZE;
    h->m.ram = calloc(1, AH_RAM_SIZE);
    cr_assert(h->m.ram);
    h->bump = AH_RAM_BASE + 0x1000;
    struct irq_line l[4];
    for (unsigned i = 0; i < 4; i++)
        l[i] = (struct irq_line){ ah_irq_set, h, i };
    pci_host_init(&h->host, l, 0x03000000, 0x10000, 0x40000000, 0x40000000,
                  0x400000000ull, 0x400000000ull);
    h->io = iothread_new("ahci-test");
    cr_assert(h->io);
    char err[256] = "";
    h->a = ahci_new(&h->m, "ahci-test", err, sizeof(err));
    cr_assert(h->a, "%s", err);
    h->nports = o->nports;
    for (unsigned i = 0; i < o->nports; i++) {
        snprintf(h->path[i], sizeof(h->path[i]), "/var/tmp/blkemu-ah-XXXXXX");
        int fd = mkstemp(h->path[i]);
        cr_assert(fd >= 0);
        cr_assert(ftruncate(fd, (off_t)o->image_size) == 0);
        close(fd);
        struct ahci_disk_conf c = {
            .blk = { .file = h->path[i], .aio = o->aio, .cache = o->cache,
                     .readonly = o->readonly },
            .serial = i ? NULL : "ahci-serial-0", .io = h->io,
        };
        cr_assert(ahci_attach(h->a, i, &c, err, sizeof(err)), "%s", err);
    }
    cr_assert(pci_host_plug(&h->host, ahci_pci(h->a), AH_SLOT));
    ah_cfg_wr(h, PCI_BAR0 + 4 * AHCI_BAR, 4, (uint32_t)AH_ABAR);
    ah_cfg_wr(h, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static inline void ah_teardown(struct ah *h)
{
    ahci_free(h->a);
    iothread_free(h->io);
    pci_host_destroy(&h->host);
    for (unsigned i = 0; i < h->nports; i++)
        unlink(h->path[i]);
    free(h->m.ram);
}

/* Linux's bring-up of one port: command list, FIS area, command tables,
 * FRE, ST, the interrupt mask; GHC.IE. */
static inline void ah_port_start(struct ah *h, unsigned port)
{
    struct ah_port *p = &h->p[port];
    p->clb = ah_alloc(h, 1024, 1024);
    p->fb = ah_alloc(h, 256, 256);
    for (unsigned s = 0; s < AHCI_SLOTS; s++)
        p->ctba[s] = ah_alloc(h, 0x80 + 16 * 64, 128);
    ah_pwr(h, port, PX_CLB, (uint32_t)p->clb);
    ah_pwr(h, port, PX_CLBU, (uint32_t)(p->clb >> 32));
    ah_pwr(h, port, PX_FB, (uint32_t)p->fb);
    ah_pwr(h, port, PX_FBU, (uint32_t)(p->fb >> 32));
    ah_pwr(h, port, PX_SERR, ah_prd(h, port, PX_SERR));
    ah_pwr(h, port, PX_IS, ah_prd(h, port, PX_IS));
    ah_pwr(h, port, PX_CMD, ah_prd(h, port, PX_CMD) | PXCMD_FRE);
    ah_pwr(h, port, PX_CMD, ah_prd(h, port, PX_CMD) | PXCMD_ST);
    ah_pwr(h, port, PX_IE, 0xfdc000ff);
    ah_wr(h, HBA_GHC, GHC_AE | GHC_IE);
}

/* The fixture most suites share: one disk on port 0 (thread pool,
 * writeback), brought up as Linux does. */
static inline void ah_setup_one_started(struct ah *h, uint64_t image_size)
{
    struct ah_opts o = { .nports = 1, .image_size = image_size,
                         .aio = BLK_AIO_THREADS,
                         .cache = BLK_CACHE_WRITEBACK };
    ah_setup(h, &o);
    ah_port_start(h, 0);
}

/* ---- commands ---- */

struct ah_prd {
    uint64_t addr;
    uint32_t len;
};

/* Write command header `slot` and its table: an H2D FIS with the given
 * registers, and the PRDT. */
static inline void ah_cmd(struct ah *h, unsigned port, unsigned slot, uint8_t cmd,
                   uint16_t features, uint64_t lba, uint16_t count,
                   uint8_t device, const struct ah_prd *prd, unsigned nprd,
                   bool write)
{
    struct ah_port *p = &h->p[port];
    uint8_t *t = ah_ptr(h, p->ctba[slot], 0x80);
    memset(t, 0, 0x80);
    t[0] = FIS_REG_H2D;
    t[1] = 0x80;
    t[2] = cmd;
    t[3] = (uint8_t)features;
    t[4] = (uint8_t)lba;
    t[5] = (uint8_t)(lba >> 8);
    t[6] = (uint8_t)(lba >> 16);
    t[7] = device;
    t[8] = (uint8_t)(lba >> 24);
    t[9] = (uint8_t)(lba >> 32);
    t[10] = (uint8_t)(lba >> 40);
    t[11] = (uint8_t)(features >> 8);
    t[12] = (uint8_t)count;
    t[13] = (uint8_t)(count >> 8);
    for (unsigned i = 0; i < nprd && i < 64; i++) {
        uint8_t *e = ah_ptr(h, p->ctba[slot] + 0x80 + 16 * i, 16);
        uint32_t v[4] = { htole32((uint32_t)prd[i].addr),
                          htole32((uint32_t)(prd[i].addr >> 32)), 0,
                          htole32(prd[i].len - 1) };
        memcpy(e, v, 16);
    }
    uint8_t *hd = ah_ptr(h, p->clb + 32 * slot, 32);
    uint32_t dw[4] = { htole32(5u | (write ? CMDH_WRITE : 0) | nprd << 16),
                       0xdeadbeef, htole32((uint32_t)p->ctba[slot]),
                       htole32((uint32_t)(p->ctba[slot] >> 32)) };
    memcpy(hd, dw, 16);
}

/* Issue a non-NCQ command in `slot` and wait until its PxCI bit clears or
 * the port reports an error. Returns PxIS (then cleared). */
static inline uint32_t ah_issue(struct ah *h, unsigned port, unsigned slot)
{
    ah_pwr(h, port, PX_CI, 1u << slot);
    uint32_t is = 0;
    for (int i = 0; i < 50000; i++) {
        is = ah_prd(h, port, PX_IS);
        if (!(ah_prd(h, port, PX_CI) & (1u << slot)) ||
            (is & (PXIS_TFES | PXIS_HBFS)))
            break;
        usleep(100);
    }
    is = ah_prd(h, port, PX_IS);
    cr_assert(is & (PXIS_DHRS | PXIS_PSS | PXIS_TFES | PXIS_HBFS | PXIS_SDBS),
              "slot %u: no completion (PxIS 0x%x, PxCI 0x%x)", slot, is,
              ah_prd(h, port, PX_CI));
    ah_pwr(h, port, PX_IS, is);
    ah_wr(h, HBA_IS, 1u << port);
    return is;
}

/* The driver's error recovery: ST off (waiting for CR), ST on. */
static inline void ah_restart(struct ah *h, unsigned port)
{
    ah_pwr(h, port, PX_CMD, ah_prd(h, port, PX_CMD) & ~PXCMD_ST);
    cr_assert(ah_wait(h, port, PX_CMD, PXCMD_CR, 0), "CR stuck");
    ah_pwr(h, port, PX_IS, ah_prd(h, port, PX_IS));
    ah_pwr(h, port, PX_CMD, ah_prd(h, port, PX_CMD) | PXCMD_ST);
}

/* One synchronous DMA command; returns PxIS. */
static inline uint32_t ah_do(struct ah *h, unsigned port, unsigned slot, uint8_t cmd,
                      uint64_t lba, uint16_t count, uint64_t buf,
                      uint32_t len, bool write)
{
    struct ah_prd prd = { buf, len };
    ah_cmd(h, port, slot, cmd, 0, lba, count, 0x40, &prd, len ? 1 : 0, write);
    return ah_issue(h, port, slot);
}

static inline inline uint64_t ah_pattern(struct ah *h, uint32_t len, uint8_t seed)
{
    uint64_t a = ah_alloc(h, len, 4096);
    uint8_t *p = ah_ptr(h, a, len);
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 13);
    return a;
}

static inline inline uint8_t ah_tfd_status(struct ah *h, unsigned port)
{
    return (uint8_t)ah_prd(h, port, PX_TFD);
}

#endif
