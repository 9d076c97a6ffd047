/*
 * tests/unit/pci.c — the PCIe host bridge and a function's configuration
 * space as Linux's PCI core exercises them: ECAM decoding, the root
 * function, BAR sizing (write all-ones, read the size mask back) and
 * placement, memory decode gated by the command register, window
 * dispatch following the guest's BAR writes, the capability list of a
 * virtio function, INTx routing with the swizzle and INTX_DISABLE.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <string.h>

#include "hw/pci_host.h"
#include "hw/virtio_pci.h"

static struct pci_host host;
static int lines[4];
static struct pci_dev dev;
static uint64_t last_off;
static unsigned reads, writes;

static void line_set(void *opaque, unsigned n, bool level)
{
    lines[n] = level;
}

static bool dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *v)
{
    last_off = off;
    reads++;
    *v = 0x1234 + (uintptr_t)opaque;
    return true;
}

static bool dev_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
    last_off = off;
    writes++;
    return true;
}

static const struct mmio_ops dev_ops = { dev_read, dev_write };

static void setup(void)
{
    struct irq_line l[4];
    for (unsigned i = 0; i < 4; i++)
        l[i] = (struct irq_line){ line_set, NULL, i };
    memset(lines, 0, sizeof(lines));
    reads = writes = 0;
    pci_host_init(&host, l, 0x03000000, 0x10000, 0x40000000, 0x40000000,
                  0x400000000ull, 0x400000000ull);
    pci_dev_init(&dev, "test", 0x1234, 0x5678, 2, 0x010802, 0x1234, 0x9);
    cr_assert(pci_dev_add_bar(&dev, 0, 0x1000, 0, &dev_ops, (void *)0));
    cr_assert(pci_dev_add_bar(&dev, 2, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                              &dev_ops, (void *)1));
    cr_assert(pci_dev_add_bar(&dev, 5, 0x100, PCI_BAR_IO, &dev_ops, (void *)2));
    cr_assert(pci_host_plug(&host, &dev, 2));
}

static void teardown(void)
{
    pci_host_destroy(&host);
}

TestSuite(pci, .init = setup, .fini = teardown);

static uint32_t cfg_rd(unsigned bus, unsigned slot, unsigned fn, unsigned off,
                       unsigned size)
{
    uint64_t v = 0;
    cr_assert(pci_ecam_ops.read(&host, (uint64_t)bus << 20 | slot << 15 |
                                fn << 12 | off, size, &v));
    return (uint32_t)v;
}

static void cfg_wr(unsigned slot, unsigned off, unsigned size, uint32_t v)
{
    cr_assert(pci_ecam_ops.write(&host, (uint64_t)slot << 15 | off, size, v));
}

static uint64_t win_rd(enum pci_window_kind k, uint64_t addr, unsigned size)
{
    struct pci_window *w = pci_host_window(&host, k);
    uint64_t v = 0;
    cr_assert(pci_window_ops.read(w, addr - (w->io ? 0 : w->base), size, &v));
    return v;
}

Test(pci, root_bridge_at_00_00_0)
{
    cr_assert_eq(cfg_rd(0, 0, 0, PCI_VENDOR_ID, 2), 0x1b36);
    cr_assert_eq(cfg_rd(0, 0, 0, PCI_DEVICE_ID, 2), 0x0008);
    cr_assert_eq(cfg_rd(0, 0, 0, PCI_REVISION_ID, 4) >> 16, 0x0600);
    cr_assert_eq(cfg_rd(0, 0, 0, PCI_HEADER_TYPE, 1), 0);
}

Test(pci, empty_slots_functions_and_buses_read_all_ones)
{
    cr_assert_eq(cfg_rd(0, 3, 0, 0, 4), 0xffffffff);
    cr_assert_eq(cfg_rd(0, 2, 1, 0, 4), 0xffffffff);
    cr_assert_eq(cfg_rd(1, 2, 0, 0, 4), 0xffffffff);
    cr_assert_eq(cfg_rd(0, 31, 0, 0, 2), 0xffff);
    /* Writes there are dropped without harm. */
    cfg_wr(3, PCI_COMMAND, 2, 0xffff);
}

Test(pci, identity_and_extended_space)
{
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_VENDOR_ID, 4), 0x56781234);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_REVISION_ID, 4), 0x01080202);
    cr_assert_eq(cfg_rd(0, 2, 0, 0x100, 4), 0);     /* no extended caps */
    cr_assert_eq(cfg_rd(0, 2, 0, 0xffc, 4), 0);
    /* Read-only fields stay read-only. */
    cfg_wr(2, PCI_VENDOR_ID, 4, 0);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_VENDOR_ID, 4), 0x56781234);
}

Test(pci, bar_sizing_32_64_io_and_unimplemented)
{
    for (unsigned k = 0; k < 6; k++)
        cfg_wr(2, PCI_BAR0 + 4 * k, 4, 0xffffffff);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0, 4), 0xfffff000);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0 + 4, 4), 0);          /* none */
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0 + 8, 4), 0xffffc00c); /* 64 pf */
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0 + 12, 4), 0xffffffff);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0 + 16, 4), 0);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0 + 20, 4), 0xffffff01); /* I/O */
    cfg_wr(2, PCI_ROM_ADDRESS, 4, 0xffffffff);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_ROM_ADDRESS, 4), 0);
}

Test(pci, decode_follows_bar_writes_and_memory_enable)
{
    cfg_wr(2, PCI_BAR0, 4, 0x40001000);
    cfg_wr(2, PCI_BAR0 + 8, 4, 0x00000000);
    cfg_wr(2, PCI_BAR0 + 12, 4, 0x4);          /* 0x4_0000_0000 */
    /* Decode off: master abort. */
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40001000, 4), 0xffffffff);
    cr_assert_eq(reads, 0);
    cfg_wr(2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40001010, 4), 0x1234);
    cr_assert_eq(last_off, 0x10);
    cr_assert_eq(win_rd(PCI_WIN_MMIO64, 0x400000008ull, 8), 0x1235);
    cr_assert_eq(last_off, 8);
    /* Past the BAR's end, and an access straddling it. */
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40002000, 4), 0xffffffff);
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40001ffe, 4), 0xffffffff);
    /* Move the BAR: the old address no longer decodes. */
    cfg_wr(2, PCI_BAR0, 4, 0x40100000);
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40001000, 4), 0xffffffff);
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40100000, 4), 0x1234);
    /* The I/O BAR needs the I/O enable, not the memory one. */
    cfg_wr(2, PCI_BAR0 + 20, 4, 0x1000);
    cr_assert_eq(win_rd(PCI_WIN_PIO, 0x1000, 1), 0xff);
    cfg_wr(2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    cr_assert_eq(win_rd(PCI_WIN_PIO, 0x1004, 1), 0x1236);
    cr_assert_eq(host.root.cfg[PCI_COMMAND], 0);
}

Test(pci, partial_bar_writes_merge)
{
    cfg_wr(2, PCI_BAR0 + 2, 2, 0x4020);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0, 4), 0x40200000);
    cfg_wr(2, PCI_BAR0 + 1, 1, 0x35);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0, 4), 0x40203000);
}

Test(pci, command_register_writable_bits)
{
    cfg_wr(2, PCI_COMMAND, 2, 0xffff);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_COMMAND, 2),
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    cr_assert(cfg_rd(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
}

Test(pci, intx_swizzle_and_disable)
{
    /* Slot 2 INTA → line (0 + 2) % 4 = 2 (INTC of slot 0). */
    pci_set_irq(&dev, true);
    cr_assert_eq(lines[2], 1);
    cr_assert(cfg_rd(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_wr(2, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    cr_assert_eq(lines[2], 0);
    /* The status bit still shows the device's request. */
    cr_assert(cfg_rd(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    cfg_wr(2, PCI_COMMAND, 2, 0);
    cr_assert_eq(lines[2], 1);
    pci_set_irq(&dev, false);
    cr_assert_eq(lines[2], 0);
    cr_assert_not(cfg_rd(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

Test(pci, shared_line_stays_up_while_any_source_is)
{
    struct pci_dev other;
    pci_dev_init(&other, "other", 1, 2, 0, 0, 0, 0);
    cr_assert(pci_host_plug(&host, &other, 6));     /* 6 % 4 == 2 too */
    pci_set_irq(&dev, true);
    pci_set_irq(&other, true);
    pci_set_irq(&dev, false);
    cr_assert_eq(lines[2], 1);
    pci_set_irq(&other, false);
    cr_assert_eq(lines[2], 0);
    cr_assert_not(pci_host_plug(&host, &other, 6));
    cr_assert_not(pci_host_plug(&host, &other, 0));
}

Test(pci, reset_unmaps_and_lowers_intx)
{
    cfg_wr(2, PCI_BAR0, 4, 0x40001000);
    cfg_wr(2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    pci_set_irq(&dev, true);
    pci_host_reset(&host);
    cr_assert_eq(lines[2], 0);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_BAR0, 4), 0);
    cr_assert_eq(cfg_rd(0, 2, 0, PCI_COMMAND, 2), 0);
    cr_assert_eq(win_rd(PCI_WIN_MMIO32, 0x40001000, 4), 0xffffffff);
}

Test(pci, bad_bar_declarations_are_refused)
{
    struct pci_dev d;
    pci_dev_init(&d, "d", 1, 2, 0, 0, 0, 0);
    cr_assert_not(pci_dev_add_bar(&d, 0, 0x1001, 0, &dev_ops, NULL));
    cr_assert_not(pci_dev_add_bar(&d, 5, 0x1000, PCI_BAR_MEM64, &dev_ops, NULL));
    cr_assert_not(pci_dev_add_bar(&d, 6, 0x1000, 0, &dev_ops, NULL));
    cr_assert(pci_dev_add_bar(&d, 0, 0x1000, PCI_BAR_MEM64, &dev_ops, NULL));
    cr_assert_not(pci_dev_add_bar(&d, 1, 0x1000, 0, &dev_ops, NULL));
}

/* ---- the capability list of a virtio function ---- */

static void nop_start(void *d, uint64_t f, const struct virtio_queue_conf *q,
                      unsigned n) {}
static void nop_notify(void *d, unsigned q) {}
static void nop_reset(void *d) { virtio_pci_reset_done(d); }
static const struct virtio_dev_ops nop_ops = { nop_start, nop_notify,
                                               nop_reset };

Test(pci, virtio_capability_walk)
{
    static struct virtio_pci t;
    uint8_t cfgspace[8] = { 0 };
    struct virtio_pci_conf c = { .name = "v", .device_id = 2,
        .num_queues = 2, .max_queue_size = 128, .config = cfgspace,
        .config_len = sizeof(cfgspace), .ops = &nop_ops, .dev = &t };
    cr_assert(virtio_pci_init(&t, &c));
    cr_assert(pci_host_plug(&host, &t.pci, 3));
    unsigned seen = 0, steps = 0;
    unsigned p = cfg_rd(0, 3, 0, PCI_CAPABILITY_LIST, 1);
    while (p && steps++ < 48) {
        cr_assert_geq(p, 0x40);
        cr_assert_eq(p & 3, 0);
        cr_assert_eq(cfg_rd(0, 3, 0, p, 1), PCI_CAP_ID_VNDR);
        unsigned type = cfg_rd(0, 3, 0, p + 3, 1);
        unsigned bar = cfg_rd(0, 3, 0, p + 4, 1);
        uint32_t off = cfg_rd(0, 3, 0, p + 8, 4);
        seen |= 1u << type;
        if (type != VIRTIO_PCI_CAP_PCI_CFG) {
            cr_assert_eq(bar, VIRTIO_PCI_BAR);
            cr_assert_lt(off, VIRTIO_PCI_BAR_SIZE);
        }
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
            cr_assert_eq(cfg_rd(0, 3, 0, p + 2, 1), 20);
            cr_assert_eq(cfg_rd(0, 3, 0, p + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
        }
        p = cfg_rd(0, 3, 0, p + 1, 1);
    }
    cr_assert_eq(seen, 0x3e, "caps seen 0x%x", seen);
    cr_assert_eq(cfg_rd(0, 3, 0, PCI_DEVICE_ID, 2), 0x1042);
    /* BAR 4: 64-bit prefetchable, 16 KiB. */
    cfg_wr(3, PCI_BAR0 + 16, 4, 0xffffffff);
    cr_assert_eq(cfg_rd(0, 3, 0, PCI_BAR0 + 16, 4), 0xffffc00c);
    virtio_pci_destroy(&t);
}

/* §4.1.4.8: reaching the BAR through the PCI_CFG capability window. */
Test(pci, virtio_pci_cfg_access_window)
{
    static struct virtio_pci t;
    struct virtio_pci_conf c = { .name = "v", .device_id = 2,
        .num_queues = 3, .max_queue_size = 128, .ops = &nop_ops, .dev = &t };
    cr_assert(virtio_pci_init(&t, &c));
    cr_assert(pci_host_plug(&host, &t.pci, 3));
    unsigned cap = t.pcicfg_cap;
    cfg_wr(3, cap + 4, 1, VIRTIO_PCI_BAR);
    cfg_wr(3, cap + 8, 4, VIRTIO_PCI_COMMON + VPCI_NUM_QUEUES);
    cfg_wr(3, cap + 12, 4, 2);
    cr_assert_eq(cfg_rd(0, 3, 0, cap + 16, 2), 3);
    cfg_wr(3, cap + 8, 4, VIRTIO_PCI_COMMON + VPCI_Q_SELECT);
    cfg_wr(3, cap + 16, 2, 2);
    cr_assert_eq(t.queue_select, 2);
    /* A bad window (length 3) does nothing. */
    cfg_wr(3, cap + 12, 4, 3);
    cfg_wr(3, cap + 16, 4, 1);
    cr_assert_eq(t.queue_select, 2);
    virtio_pci_destroy(&t);
}
