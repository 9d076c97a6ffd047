/*
 * hw/pci.c — a PCI function's configuration space: header, BAR sizing and
 * placement, capability list, INTx (see pci.h).
 */
#include "hw/pci.h"

#include <string.h>

#include "hw/pci_host.h"

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor,
                  uint16_t device, uint8_t revision, uint32_t class_code,
                  uint16_t subsys_vendor, uint16_t subsys_id)
{
    memset(d, 0, sizeof(*d));
    d->name = name;
    pci_set16(d, PCI_VENDOR_ID, vendor);
    pci_set16(d, PCI_DEVICE_ID, device);
    d->cfg[PCI_REVISION_ID] = revision;
    d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
    d->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
    d->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
    d->cfg[PCI_HEADER_TYPE] = 0;        /* type 0, single function */
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
    pci_set16(d, PCI_SUBSYSTEM_ID, subsys_id);
    pci_set16(d, PCI_STATUS, PCI_STATUS_CAP_LIST);
    d->cfg[PCI_INTERRUPT_PIN] = 1;      /* INTA */
    /* Guest-writable: command bits we implement, cache line size, latency
     * timer, interrupt line. BARs are handled apart. */
    d->wmask[PCI_COMMAND] = (uint8_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                                      PCI_COMMAND_MASTER);
    d->wmask[PCI_COMMAND + 1] = (uint8_t)((PCI_COMMAND_SERR |
                                           PCI_COMMAND_INTX_DISABLE) >> 8);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    d->cap_next = 0x40;
    d->cap_last_next = &d->cfg[PCI_CAPABILITY_LIST];
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        atomic_init(&d->bars[i].live, PCI_BAR_UNMAPPED);
}

static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

bool pci_dev_add_bar(struct pci_dev *d, unsigned n, uint64_t size,
                     unsigned flags, const struct mmio_ops *ops, void *opaque)
{
    bool io = flags & PCI_BAR_IO;
    bool is64 = !io && (flags & PCI_BAR_MEM64);
    if (n >= PCI_NUM_BARS || (is64 && n + 1 >= PCI_NUM_BARS) ||
        !is_pow2(size) || size < (io ? 4u : 16u) ||
        (!is64 && size > (1ull << 31)) || d->bars[n].size ||
        (is64 && d->bars[n + 1].size) ||
        (n > 0 && (d->bars[n - 1].flags & PCI_BAR_MEM64)))
        return false;
    struct pci_bar *b = &d->bars[n];
    b->size = size;
    b->flags = io ? PCI_BAR_IO : flags & (PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    b->ops = ops;
    b->opaque = opaque;
    pci_set32(d, PCI_BAR0 + 4 * n, b->flags);
    return true;
}

unsigned pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body,
                         unsigned len)
{
    unsigned off = d->cap_next;
    if (len < 2 || off + len > PCI_CFG_SIZE)
        return 0;
    d->cfg[off] = id;
    d->cfg[off + 1] = 0;
    if (body)
        memcpy(&d->cfg[off + 2], body, len - 2);
    *d->cap_last_next = (uint8_t)off;
    d->cap_last_next = &d->cfg[off + 1];
    d->cap_next = (uint8_t)((off + len + 3) & ~3u);
    return off;
}

/* The BAR whose low (*high = false) or high dword is BAR register k. */
static struct pci_bar *bar_of_dword(struct pci_dev *d, unsigned k, bool *high)
{
    *high = false;
    if (d->bars[k].size)
        return &d->bars[k];
    if (k > 0 && d->bars[k - 1].size && (d->bars[k - 1].flags & PCI_BAR_MEM64)) {
        *high = true;
        return &d->bars[k - 1];
    }
    return NULL;
}

/* Mirror the BAR registers into cfg[] so plain reads see them. */
static void bars_sync_cfg(struct pci_dev *d)
{
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        struct pci_bar *b = &d->bars[n];
        if (!b->size)
            continue;
        pci_set32(d, PCI_BAR0 + 4 * n, (uint32_t)b->addr | b->flags);
        if (b->flags & PCI_BAR_MEM64)
            pci_set32(d, PCI_BAR0 + 4 * (n + 1), (uint32_t)(b->addr >> 32));
    }
}

/* Publish where each BAR decodes now (command register + BAR values). */
static void bars_update_live(struct pci_dev *d)
{
    uint16_t cmd = pci_get16(d, PCI_COMMAND);
    for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
        struct pci_bar *b = &d->bars[n];
        if (!b->size)
            continue;
        bool on = (b->flags & PCI_BAR_IO) ? (cmd & PCI_COMMAND_IO)
                                          : (cmd & PCI_COMMAND_MEMORY);
        /* A 64-bit BAR whose end wraps cannot decode. */
        bool ok = b->addr + b->size > b->addr;
        atomic_store_explicit(&b->live, on && ok ? b->addr : PCI_BAR_UNMAPPED,
                              memory_order_release);
    }
}

/* A write of the full dword k of the BAR area (PCI 3.0 §6.2.5.1: the
 * size's low bits read back as zero, the type bits are read-only). */
static void bar_write(struct pci_dev *d, unsigned k, uint32_t v)
{
    bool high;
    struct pci_bar *b = bar_of_dword(d, k, &high);
    if (!b)
        return;
    uint64_t mask = ~(b->size - 1);
    if (high)
        b->addr = ((b->addr & 0xffffffffull) | (uint64_t)v << 32) & mask;
    else if (b->flags & PCI_BAR_MEM64)
        b->addr = ((b->addr & ~0xffffffffull) | (v & ~0xfu)) & mask;
    else
        b->addr = (uint64_t)(v & ~((b->flags & PCI_BAR_IO) ? 0x3u : 0xfu)) &
                  mask & 0xffffffffull;
}

/* INTx output after a level or INTX_DISABLE change. */
static void intx_update(struct pci_dev *d)
{
    bool disabled = pci_get16(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
    bool out = d->irq_level && !disabled;
    if (out != d->irq_out) {
        d->irq_out = out;
        if (d->host)
            pci_host_intx_change(d->host, d, out);
    }
}

uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned size)
{
    if (off >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - off)
        return 0;
    if (d->read_hook && off < d->hook_hi && off + size > d->hook_lo)
        d->read_hook(d->hook_opaque, off, size);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = d->cfg[off + i];
        if (off + i == PCI_STATUS) {
            bool level;
            if (d->host)
                pthread_mutex_lock(&d->host->irq_lock);
            level = d->irq_level;
            if (d->host)
                pthread_mutex_unlock(&d->host->irq_lock);
            b = (uint8_t)((b & ~PCI_STATUS_INTERRUPT) |
                          (level ? PCI_STATUS_INTERRUPT : 0));
        }
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned size,
                   uint32_t val)
{
    if (off >= PCI_CFG_SIZE || size > PCI_CFG_SIZE - off)
        return;
    bool bars = false, cmd = false;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (a >= PCI_BAR0 && a < PCI_BAR0 + 4 * PCI_NUM_BARS) {
            /* Merge partial writes into the dword, then apply it whole. */
            d->cfg[a] = b;
            bars = true;
            continue;
        }
        d->cfg[a] = (uint8_t)((d->cfg[a] & ~d->wmask[a]) | (b & d->wmask[a]));
        if (a == PCI_COMMAND || a == PCI_COMMAND + 1)
            cmd = true;
    }
    if (bars) {
        for (unsigned k = 0; k < PCI_NUM_BARS; k++) {
            unsigned a = PCI_BAR0 + 4 * k;
            if (a + 4 <= off || a >= off + size)
                continue;
            uint32_t dw = (uint32_t)d->cfg[a] | (uint32_t)d->cfg[a + 1] << 8 |
                          (uint32_t)d->cfg[a + 2] << 16 |
                          (uint32_t)d->cfg[a + 3] << 24;
            bar_write(d, k, dw);
        }
        bars_sync_cfg(d);
        /* Unimplemented BARs stay zero. */
        for (unsigned k = 0; k < PCI_NUM_BARS; k++) {
            bool high;
            if (!bar_of_dword(d, k, &high))
                pci_set32(d, PCI_BAR0 + 4 * k, 0);
        }
    }
    if (bars || cmd)
        bars_update_live(d);
    if (cmd) {
        if (d->host)
            pthread_mutex_lock(&d->host->irq_lock);
        intx_update(d);
        if (d->host)
            pthread_mutex_unlock(&d->host->irq_lock);
    }
    if (d->write_hook && off < d->hook_hi && off + size > d->hook_lo)
        d->write_hook(d->hook_opaque, off, size);
}

void pci_set_irq(struct pci_dev *d, bool level)
{
    if (d->host)
        pthread_mutex_lock(&d->host->irq_lock);
    d->irq_level = level;
    intx_update(d);
    if (d->host)
        pthread_mutex_unlock(&d->host->irq_lock);
}

void pci_dev_reset(struct pci_dev *d)
{
    pci_set16(d, PCI_COMMAND, 0);
    d->cfg[PCI_CACHE_LINE_SIZE] = 0;
    d->cfg[PCI_LATENCY_TIMER] = 0;
    d->cfg[PCI_INTERRUPT_LINE] = 0;
    for (unsigned n = 0; n < PCI_NUM_BARS; n++)
        d->bars[n].addr = 0;
    bars_sync_cfg(d);
    bars_update_live(d);
    pci_set_irq(d, false);
}
