/*
 * hw/virtio_pci.c — modern virtio-pci transport (see virtio_pci.h).
 */
#include "hw/virtio_pci.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

/* struct virtio_pci_cap after the id/next bytes (§4.1.4). */
static unsigned add_cap(struct virtio_pci *t, uint8_t type, uint32_t off,
                        uint32_t len, const uint32_t *extra)
{
    uint8_t body[18] = { 0 };
    unsigned caplen = extra ? 20 : 16;
    body[0] = (uint8_t)caplen;
    body[1] = type;
    body[2] = VIRTIO_PCI_BAR;
    for (unsigned i = 0; i < 4; i++) {
        body[6 + i] = (uint8_t)(off >> (8 * i));
        body[10 + i] = (uint8_t)(len >> (8 * i));
        if (extra)
            body[14 + i] = (uint8_t)(*extra >> (8 * i));
    }
    return pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, body, caplen);
}

static void queues_reset(struct virtio_pci *t)
{
    for (unsigned i = 0; i < t->c.num_queues; i++)
        t->queues[i] = (struct virtio_queue_conf){
            .size = t->c.max_queue_size };
}

static void pcicfg_read_hook(void *opaque, unsigned off, unsigned size);
static void pcicfg_write_hook(void *opaque, unsigned off, unsigned size);

bool virtio_pci_init(struct virtio_pci *t, const struct virtio_pci_conf *c)
{
    memset(t, 0, sizeof(*t));
    if (!c->ops || !c->num_queues || c->num_queues > 1024 ||
        !c->max_queue_size || c->config_len > VIRTIO_PCI_REGION)
        return false;
    t->c = *c;
    t->c.features |= 1ull << VIRTIO_F_VERSION_1;
    t->queues = calloc(c->num_queues, sizeof(*t->queues));
    if (!t->queues)
        return false;
    pthread_mutex_init(&t->ctl, NULL);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->reset_cond, NULL);
    queues_reset(t);
    /* §4.1.2.1: non-transitional ids 0x1040 + id, subsystem id >= 0x40. */
    pci_dev_init(&t->pci, c->name, VIRTIO_PCI_VENDOR,
                 (uint16_t)(0x1040 + c->device_id), 1, c->class_code,
                 VIRTIO_PCI_VENDOR, (uint16_t)(0x40 + c->device_id));
    pci_dev_add_bar(&t->pci, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE,
                    PCI_BAR_MEM64 | PCI_BAR_PREFETCH, &virtio_pci_bar_ops, t);
    uint32_t mult = VIRTIO_PCI_NOTIFY_MULT;
    add_cap(t, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON,
            VIRTIO_PCI_REGION, NULL);
    add_cap(t, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR, VIRTIO_PCI_REGION,
            NULL);
    add_cap(t, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG,
            VIRTIO_PCI_REGION, NULL);
    add_cap(t, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY,
            VIRTIO_PCI_REGION, &mult);
    /* §4.1.4.8: bar, offset and length are driver-set; pci_cfg_data is
     * a window onto the BAR. */
    uint32_t zero = 0;
    t->pcicfg_cap = add_cap(t, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, &zero);
    if (!t->pcicfg_cap) {
        virtio_pci_destroy(t);
        return false;
    }
    t->pci.wmask[t->pcicfg_cap + 4] = 0xff;
    memset(&t->pci.wmask[t->pcicfg_cap + 8], 0xff, 12);
    t->pci.hook_lo = t->pcicfg_cap + 16;
    t->pci.hook_hi = t->pcicfg_cap + 20;
    t->pci.read_hook = pcicfg_read_hook;
    t->pci.write_hook = pcicfg_write_hook;
    t->pci.hook_opaque = t;
    return true;
}

void virtio_pci_destroy(struct virtio_pci *t)
{
    if (!t->queues)
        return;
    pthread_mutex_destroy(&t->ctl);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->reset_cond);
    free(t->queues);
    t->queues = NULL;
}

/* INTx follows the ISR (lock held). */
static void isr_raise(struct virtio_pci *t, uint8_t bits)
{
    if (!t->isr)
        INC(t->st.interrupts);
    t->isr |= bits;
    pci_set_irq(&t->pci, true);
}

void virtio_pci_notify_used(struct virtio_pci *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->resetting)
        isr_raise(t, 1);
    pthread_mutex_unlock(&t->lock);
}

void virtio_pci_set_needs_reset(struct virtio_pci *t)
{
    pthread_mutex_lock(&t->lock);
    if (!(t->status & VIRTIO_STATUS_NEEDS_RESET) && !t->resetting) {
        INC(t->st.needs_reset);
        t->status |= VIRTIO_STATUS_NEEDS_RESET;
        t->config_generation++;
        if (t->status & VIRTIO_STATUS_DRIVER_OK)
            isr_raise(t, 2);
    }
    pthread_mutex_unlock(&t->lock);
}

void virtio_pci_reset_done(struct virtio_pci *t)
{
    pthread_mutex_lock(&t->lock);
    t->dfselect = t->gfselect = 0;
    t->guest_features = 0;
    t->queue_select = 0;
    t->status = 0;
    t->isr = 0;
    queues_reset(t);
    pci_set_irq(&t->pci, false);
    t->resetting = false;
    pthread_cond_broadcast(&t->reset_cond);
    pthread_mutex_unlock(&t->lock);
}

/* Begin a reset (ctl held). A device whose status is 0 never reached
 * DRIVER_OK, so nothing runs: it resets at once — the driver reads status
 * 0 right away and must find the reset done. Otherwise device_status keeps
 * its non-zero value until the device has quiesced. */
static void reset_begin(struct virtio_pci *t)
{
    pthread_mutex_lock(&t->lock);
    bool already = t->resetting, idle = !t->status;
    t->resetting = true;
    atomic_store(&t->driver_ok, false);
    pthread_mutex_unlock(&t->lock);
    if (already)
        return;
    INC(t->st.resets);
    if (idle)
        virtio_pci_reset_done(t);
    else
        t->c.ops->reset(t->c.dev);
}

void virtio_pci_reset_sync(struct virtio_pci *t)
{
    pthread_mutex_lock(&t->ctl);
    reset_begin(t);
    pthread_mutex_lock(&t->lock);
    while (t->resetting)
        pthread_cond_wait(&t->reset_cond, &t->lock);
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_unlock(&t->ctl);
}

/* FEATURES_OK is accepted only for a subset of what we offer that
 * includes VERSION_1 (§2.2.1, §6.1: we are a non-transitional device). */
static bool features_ok(const struct virtio_pci *t)
{
    return !(t->guest_features & ~t->c.features) &&
           (t->guest_features & (1ull << VIRTIO_F_VERSION_1));
}

/* A driver write of device_status (§2.1, §3.1.1). */
static void status_write(struct virtio_pci *t, uint8_t val)
{
    pthread_mutex_lock(&t->ctl);
    if (val == 0) {
        reset_begin(t);
        pthread_mutex_unlock(&t->ctl);
        return;
    }
    pthread_mutex_lock(&t->lock);
    if (t->resetting) {
        pthread_mutex_unlock(&t->lock);
        pthread_mutex_unlock(&t->ctl);
        log_guest_error("%s: status write during reset", t->c.name);
        return;
    }
    uint8_t old = t->status;
    uint8_t st = (uint8_t)(val | (old & VIRTIO_STATUS_NEEDS_RESET));
    if ((st & VIRTIO_STATUS_FEATURES_OK) &&
        !(old & VIRTIO_STATUS_FEATURES_OK) && !features_ok(t))
        st &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    bool start = (st & VIRTIO_STATUS_DRIVER_OK) &&
                 !(old & VIRTIO_STATUS_DRIVER_OK);
    if (start && !(st & VIRTIO_STATUS_FEATURES_OK)) {
        log_guest_error("%s: DRIVER_OK without FEATURES_OK", t->c.name);
        st &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
        start = false;
    }
    t->status = st;
    struct virtio_queue_conf *snap = NULL;
    uint64_t features = t->guest_features;
    if (start) {
        snap = malloc(t->c.num_queues * sizeof(*snap));
        if (snap)
            memcpy(snap, t->queues, t->c.num_queues * sizeof(*snap));
    }
    pthread_mutex_unlock(&t->lock);
    if (start && !snap) {
        virtio_pci_set_needs_reset(t);
    } else if (start) {
        atomic_store(&t->driver_ok, true);
        t->c.ops->start(t->c.dev, features, snap, t->c.num_queues);
        free(snap);
    }
    pthread_mutex_unlock(&t->ctl);
}

/* Snapshot of the common configuration structure as the driver sees it. */
static void common_image(struct virtio_pci *t, uint8_t img[VPCI_COMMON_LEN])
{
    memset(img, 0, VPCI_COMMON_LEN);
#define PUT(off, v, n) do { uint64_t v_ = (v); \
        for (unsigned i_ = 0; i_ < (n); i_++) \
            img[(off) + i_] = (uint8_t)(v_ >> (8 * i_)); } while (0)
    PUT(VPCI_DFSELECT, t->dfselect, 4);
    PUT(VPCI_DF, t->dfselect < 2 ? t->c.features >> (32 * t->dfselect) : 0, 4);
    PUT(VPCI_GFSELECT, t->gfselect, 4);
    PUT(VPCI_GF, t->gfselect < 2 ? t->guest_features >> (32 * t->gfselect)
                                 : 0, 4);
    PUT(VPCI_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR, 2);
    PUT(VPCI_NUM_QUEUES, t->c.num_queues, 2);
    PUT(VPCI_STATUS, t->status, 1);
    PUT(VPCI_CFG_GENERATION, t->config_generation, 1);
    PUT(VPCI_Q_SELECT, t->queue_select, 2);
    if (t->queue_select < t->c.num_queues) {
        const struct virtio_queue_conf *q = &t->queues[t->queue_select];
        PUT(VPCI_Q_SIZE, q->size, 2);
        PUT(VPCI_Q_MSIX, VIRTIO_MSI_NO_VECTOR, 2);
        PUT(VPCI_Q_ENABLE, q->enabled, 2);
        PUT(VPCI_Q_NOFF, t->queue_select, 2);
        PUT(VPCI_Q_DESC, q->desc, 8);
        PUT(VPCI_Q_DRIVER, q->driver, 8);
        PUT(VPCI_Q_DEVICE, q->device, 8);
    }
#undef PUT
}

static uint64_t set_half(uint64_t old, unsigned off, unsigned size,
                         uint64_t v)
{
    if (size == 8)
        return v;
    return off & 4 ? (old & 0xffffffffull) | v << 32
                   : (old & ~0xffffffffull) | (v & 0xffffffffull);
}

/* Queue registers (lock held). Changes while the device runs are
 * ignored: the device took its copy at DRIVER_OK. */
static void queue_write(struct virtio_pci *t, unsigned off, unsigned size,
                        uint64_t v)
{
    if (t->queue_select >= t->c.num_queues ||
        (t->status & VIRTIO_STATUS_DRIVER_OK))
        return;
    struct virtio_queue_conf *q = &t->queues[t->queue_select];
    if (off == VPCI_Q_SIZE && size == 2) {
        q->size = (uint16_t)v;
    } else if (off == VPCI_Q_ENABLE && size == 2) {
        q->enabled = v & 1;
    } else if (off >= VPCI_Q_DESC && off < VPCI_COMMON_LEN &&
               (size == 4 || (size == 8 && !(off & 7)))) {
        uint64_t *f = off < VPCI_Q_DRIVER ? &q->desc
                      : off < VPCI_Q_DEVICE ? &q->driver : &q->device;
        *f = set_half(*f, off, size, v);
    }
}

static void common_write(struct virtio_pci *t, unsigned off, unsigned size,
                         uint64_t v)
{
    if (off == VPCI_STATUS && size == 1) {
        status_write(t, (uint8_t)v);
        return;
    }
    pthread_mutex_lock(&t->lock);
    if (t->resetting) {
        /* The driver must wait for status 0 (§4.1.4.3.2). */
    } else if (off == VPCI_DFSELECT && size == 4) {
        t->dfselect = (uint32_t)v;
    } else if (off == VPCI_GFSELECT && size == 4) {
        t->gfselect = (uint32_t)v;
    } else if (off == VPCI_GF && size == 4) {
        if (t->gfselect < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
            unsigned sh = 32 * t->gfselect;
            t->guest_features = (t->guest_features & ~(0xffffffffull << sh)) |
                                (v & 0xffffffffull) << sh;
        }
    } else if (off == VPCI_Q_SELECT && size == 2) {
        t->queue_select = (uint16_t)v;
    } else if (off >= VPCI_Q_SIZE && off < VPCI_COMMON_LEN) {
        queue_write(t, off, size, v);
    }
    /* MSI-X vectors: no MSI-X, writes are dropped (reads say NO_VECTOR). */
    pthread_mutex_unlock(&t->lock);
}

static void notify_write(struct virtio_pci *t, unsigned off)
{
    unsigned q = off / VIRTIO_PCI_NOTIFY_MULT;
    INC(t->st.notifies);
    if (q >= t->c.num_queues) {
        INC(t->st.bad_notifies);
        log_guest_error("%s: notify for queue %u of %u", t->c.name, q,
                        t->c.num_queues);
        return;
    }
    if (!atomic_load_explicit(&t->driver_ok, memory_order_acquire))
        return;     /* §3.1.1: nothing is live before DRIVER_OK */
    t->c.ops->notify(t->c.dev, q);
}

static bool bar_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
    struct virtio_pci *t = opaque;
    unsigned region = (unsigned)off & ~(VIRTIO_PCI_REGION - 1);
    unsigned o = (unsigned)off & (VIRTIO_PCI_REGION - 1);
    uint8_t img[VPCI_COMMON_LEN];
    *val = 0;
    switch (region) {
    case VIRTIO_PCI_COMMON:
        if (o >= VPCI_COMMON_LEN || size > VPCI_COMMON_LEN - o)
            return true;
        pthread_mutex_lock(&t->lock);
        common_image(t, img);
        pthread_mutex_unlock(&t->lock);
        for (unsigned i = 0; i < size; i++)
            *val |= (uint64_t)img[o + i] << (8 * i);
        return true;
    case VIRTIO_PCI_ISR:
        if (o != 0)
            return true;
        INC(t->st.isr_reads);
        pthread_mutex_lock(&t->lock);
        *val = t->isr;
        t->isr = 0;
        pci_set_irq(&t->pci, false);
        pthread_mutex_unlock(&t->lock);
        return true;
    case VIRTIO_PCI_DEVCFG:
        for (unsigned i = 0; i < size && o + i < t->c.config_len; i++)
            *val |= (uint64_t)t->c.config[o + i] << (8 * i);
        return true;
    default:
        return true;
    }
}

static bool bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct virtio_pci *t = opaque;
    unsigned region = (unsigned)off & ~(VIRTIO_PCI_REGION - 1);
    unsigned o = (unsigned)off & (VIRTIO_PCI_REGION - 1);
    if (region == VIRTIO_PCI_COMMON)
        common_write(t, o, size, val);
    else if (region == VIRTIO_PCI_NOTIFY)
        notify_write(t, o);
    /* ISR is read-only; the device configuration has no writable field. */
    return true;
}

const struct mmio_ops virtio_pci_bar_ops = { bar_read, bar_write };

/* The PCI_CFG capability's window (§4.1.4.8.1): the access at
 * cap.offset of cap.length bytes in BAR cap.bar. */
static bool pcicfg_target(struct virtio_pci *t, unsigned *off, unsigned *len)
{
    const uint8_t *c = &t->pci.cfg[t->pcicfg_cap];
    *off = (unsigned)(c[8] | c[9] << 8 | c[10] << 16 | (unsigned)c[11] << 24);
    *len = (unsigned)(c[12] | c[13] << 8 | c[14] << 16 | (unsigned)c[15] << 24);
    return c[4] == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) &&
           *off < VIRTIO_PCI_BAR_SIZE && !(*off & (*len - 1));
}

static void pcicfg_read_hook(void *opaque, unsigned off, unsigned size)
{
    struct virtio_pci *t = opaque;
    unsigned o, len;
    uint64_t v = 0;
    if (pcicfg_target(t, &o, &len))
        bar_read(t, o, len, &v);
    pci_set32(&t->pci, t->pcicfg_cap + 16, (uint32_t)v);
}

static void pcicfg_write_hook(void *opaque, unsigned off, unsigned size)
{
    struct virtio_pci *t = opaque;
    unsigned o, len;
    const uint8_t *d = &t->pci.cfg[t->pcicfg_cap + 16];
    uint32_t v = (uint32_t)(d[0] | d[1] << 8 | d[2] << 16 |
                            (uint32_t)d[3] << 24);
    if (pcicfg_target(t, &o, &len))
        bar_write(t, o, len, v & (len == 4 ? ~0u : (1u << (8 * len)) - 1));
}

struct virtio_pci_stats virtio_pci_get_stats(struct virtio_pci *t)
{
    struct virtio_pci_stats s = {
        .notifies = atomic_load(&t->st.notifies),
        .bad_notifies = atomic_load(&t->st.bad_notifies),
        .interrupts = atomic_load(&t->st.interrupts),
        .isr_reads = atomic_load(&t->st.isr_reads),
        .resets = atomic_load(&t->st.resets),
        .needs_reset = atomic_load(&t->st.needs_reset),
    };
    return s;
}
