/*
 * hw/pci_host.c — ECAM host bridge, window dispatch and INTx routing (see
 * pci_host.h).
 */
#include "hw/pci_host.h"

#include <string.h>

#include "util/log.h"

#define ECAM_BUS_SHIFT 20
#define ECAM_DEV_SHIFT 15
#define ECAM_FN_SHIFT  12

void pci_host_init(struct pci_host *h, const struct irq_line intx[4],
                   uint64_t pio_base, uint64_t pio_size,
                   uint64_t mmio_base, uint64_t mmio_size,
                   uint64_t mmio64_base, uint64_t mmio64_size)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->irq_lock, NULL);
    for (unsigned i = 0; i < PCI_INTX_LINES; i++)
        h->intx[i] = intx[i];
    h->win[PCI_WIN_PIO] = (struct pci_window){ h, pio_base, pio_size, true };
    h->win[PCI_WIN_MMIO32] = (struct pci_window){ h, mmio_base, mmio_size,
                                                  false };
    h->win[PCI_WIN_MMIO64] = (struct pci_window){ h, mmio64_base, mmio64_size,
                                                  false };
    /* QEMU's gpex root: Red Hat vendor id, "PCIe host bridge", no BARs. */
    pci_dev_init(&h->root, "gpex-root", 0x1b36, 0x0008, 0, 0x060000, 0x1af4,
                 0x1100);
    h->root.cfg[PCI_INTERRUPT_PIN] = 0;
    pci_set16(&h->root, PCI_STATUS, 0);
    h->slots[0] = &h->root;
    h->devs[h->ndevs++] = &h->root;
    h->root.host = h;
}

void pci_host_destroy(struct pci_host *h)
{
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->irq_lock);
}

struct pci_window *pci_host_window(struct pci_host *h, enum pci_window_kind k)
{
    return &h->win[k];
}

bool pci_host_plug(struct pci_host *h, struct pci_dev *d, unsigned slot)
{
    if (slot == 0 || slot >= PCI_SLOTS || h->slots[slot])
        return false;
    d->devfn = slot << 3;
    d->host = h;
    h->slots[slot] = d;
    h->devs[h->ndevs++] = d;
    return true;
}

void pci_host_reset(struct pci_host *h)
{
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < h->ndevs; i++)
        pci_dev_reset(h->devs[i]);
    pthread_mutex_unlock(&h->lock);
}

void pci_host_intx_change(struct pci_host *h, struct pci_dev *d, bool level)
{
    unsigned pin = d->cfg[PCI_INTERRUPT_PIN];
    if (pin < 1 || pin > 4)
        return;
    unsigned line = pci_intx_swizzle(d->devfn >> 3, pin);
    unsigned before = h->intx_count[line];
    if (level)
        h->intx_count[line]++;
    else if (h->intx_count[line])
        h->intx_count[line]--;
    if ((before != 0) != (h->intx_count[line] != 0))
        irq_set(&h->intx[line], h->intx_count[line] != 0);
}

/* The function an ECAM offset addresses, or NULL (empty slot, another bus
 * or function). */
static struct pci_dev *ecam_dev(struct pci_host *h, uint64_t off,
                                unsigned *reg)
{
    unsigned bus = (unsigned)(off >> ECAM_BUS_SHIFT);
    unsigned dev = (unsigned)(off >> ECAM_DEV_SHIFT) & 31;
    unsigned fn = (unsigned)(off >> ECAM_FN_SHIFT) & 7;
    *reg = (unsigned)off & 0xfff;
    if (bus != 0 || fn != 0)
        return NULL;
    return h->slots[dev];
}

static bool ecam_read(void *opaque, uint64_t off, unsigned size,
                      uint64_t *val)
{
    struct pci_host *h = opaque;
    unsigned reg;
    atomic_fetch_add_explicit(&h->cfg_reads, 1, memory_order_relaxed);
    *val = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    struct pci_dev *d = ecam_dev(h, off, &reg);
    if (!d || size > 4 || (reg & (size - 1)))
        return true;            /* master abort: all-ones */
    pthread_mutex_lock(&h->lock);
    *val = pci_cfg_read(d, reg, size);
    pthread_mutex_unlock(&h->lock);
    return true;
}

static bool ecam_write(void *opaque, uint64_t off, unsigned size,
                       uint64_t val)
{
    struct pci_host *h = opaque;
    unsigned reg;
    atomic_fetch_add_explicit(&h->cfg_writes, 1, memory_order_relaxed);
    struct pci_dev *d = ecam_dev(h, off, &reg);
    if (!d || size > 4 || (reg & (size - 1)))
        return true;
    pthread_mutex_lock(&h->lock);
    pci_cfg_write(d, reg, size, (uint32_t)val);
    pthread_mutex_unlock(&h->lock);
    return true;
}

const struct mmio_ops pci_ecam_ops = { ecam_read, ecam_write };

/* The BAR that decodes bus address `addr` (+size) in I/O or memory space. */
static struct pci_bar *window_bar(struct pci_host *h, bool io, uint64_t addr,
                                  unsigned size, uint64_t *off)
{
    for (unsigned i = 0; i < h->ndevs; i++) {
        struct pci_dev *d = h->devs[i];
        for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
            struct pci_bar *b = &d->bars[n];
            if (!b->size || !(b->flags & PCI_BAR_IO) != !io)
                continue;
            uint64_t live = atomic_load_explicit(&b->live,
                                                 memory_order_acquire);
            if (live == PCI_BAR_UNMAPPED || addr < live ||
                addr - live >= b->size || size > b->size - (addr - live))
                continue;
            *off = addr - live;
            return b;
        }
    }
    return NULL;
}

static uint64_t window_addr(const struct pci_window *w, uint64_t off)
{
    return w->io ? off : w->base + off;
}

static bool window_read(void *opaque, uint64_t off, unsigned size,
                        uint64_t *val)
{
    struct pci_window *w = opaque;
    uint64_t boff;
    struct pci_bar *b = window_bar(w->host, w->io, window_addr(w, off), size,
                                   &boff);
    if (b && b->ops->read && b->ops->read(b->opaque, boff, size, val))
        return true;
    atomic_fetch_add_explicit(&w->host->window_misses, 1,
                              memory_order_relaxed);
    *val = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    return true;
}

static bool window_write(void *opaque, uint64_t off, unsigned size,
                         uint64_t val)
{
    struct pci_window *w = opaque;
    uint64_t boff;
    struct pci_bar *b = window_bar(w->host, w->io, window_addr(w, off), size,
                                   &boff);
    if (b && b->ops->write && b->ops->write(b->opaque, boff, size, val))
        return true;
    atomic_fetch_add_explicit(&w->host->window_misses, 1,
                              memory_order_relaxed);
    return true;
}

const struct mmio_ops pci_window_ops = { window_read, window_write };
