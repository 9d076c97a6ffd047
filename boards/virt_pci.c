/*
 * boards/virt_pci.c — PCIe host, iothreads and disks of the virt board
 * (see virt_pci.h).
 */
#include "boards/virt_pci.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/inject.h"
#include "boards/virt.h"
#include "hw/ahci.h"
#include "hw/drive.h"
#include "hw/pci_host.h"
#include "hw/plic.h"
#include "hw/virtio_blk.h"
#include "util/iothread.h"
#include "util/log.h"

#define DEFAULT_IOTHREAD "blk"

struct virt_pci {
    struct pci_host host;
    struct iothread *io[BLKEMU_MAX_OBJECTS + 1];
    unsigned nio;
    struct virtio_blk *disks[BLKEMU_MAX_DRIVES];
    unsigned ndisks;
    unsigned next_slot;         /* the last PCI slot used */
    struct ahci *ahci;          /* created by the first if=ahci drive */
    struct virt_pci_drive {     /* every drive, in command-line order */
        char id[48];
        char *file;
        enum drive_if iface;
        struct blk_opts blk;
        struct virtio_blk *vb;  /* or NULL: AHCI port `port` */
        unsigned port;
    } drives[BLKEMU_MAX_DRIVES];
    unsigned ndrives;
    bool no_vcpu_wake;          /* --x-no-vcpu-wake */
};

struct pci_host *virt_pci_host(struct virt_pci *p)
{
    return &p->host;
}

static struct iothread *find_iothread(struct virt_pci *p, const char *id)
{
    for (unsigned i = 0; i < p->nio; i++)
        if (!strcmp(iothread_id(p->io[i]), id))
            return p->io[i];
    return NULL;
}

static bool make_iothread(struct virt_pci *p, const char *id, char *err,
                          size_t errlen)
{
    if (find_iothread(p, id)) {
        snprintf(err, errlen, "-object iothread,id=%s: id used twice", id);
        return false;
    }
    p->io[p->nio] = iothread_new(id);
    if (!p->io[p->nio]) {
        snprintf(err, errlen, "cannot start iothread '%s'", id);
        return false;
    }
    /* --x-no-vcpu-wake: seed 003's lost wake-up, on purpose. */
    loop_set_vcpu_wake(iothread_loop(p->io[p->nio]), !p->no_vcpu_wake);
    p->nio++;
    return true;
}

/* The iothreads a drive runs on. */
static bool drive_iothreads(struct virt_pci *p, const struct drive_opts *d,
                            struct iothread **out, unsigned *n, char *err,
                            size_t errlen)
{
    if (!d->n_iothreads) {
        out[0] = find_iothread(p, DEFAULT_IOTHREAD);
        if (!out[0]) {
            if (!make_iothread(p, DEFAULT_IOTHREAD, err, errlen))
                return false;
            out[0] = p->io[p->nio - 1];
        }
        *n = 1;
        return true;
    }
    for (unsigned i = 0; i < d->n_iothreads; i++) {
        out[i] = find_iothread(p, d->iothreads[i]);
        if (!out[i]) {
            snprintf(err, errlen, "-drive iothread=%s: no -object iothread,"
                     "id=%s", d->iothreads[i], d->iothreads[i]);
            return false;
        }
    }
    *n = d->n_iothreads;
    return true;
}

/* Remember a drive for virt_pci_drive_info(). */
static void record_drive(struct virt_pci *p, const struct drive_opts *d,
                         const char *id, struct virtio_blk *vb, unsigned port)
{
    struct virt_pci_drive *r = &p->drives[p->ndrives++];
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->file = strdup(d->file);
    r->iface = d->iface;
    r->blk = d->blk;
    r->vb = vb;
    r->port = port;
}

unsigned virt_pci_drive_count(const struct virt_pci *p)
{
    return p->ndrives;
}

bool virt_pci_drive_info(struct virt_pci *p, unsigned i,
                         struct virt_drive_info *out)
{
    if (i >= p->ndrives)
        return false;
    const struct virt_pci_drive *r = &p->drives[i];
    struct blk *b = r->vb ? virtio_blk_get_blk(r->vb) : ahci_port_blk(p->ahci, r->port);
    *out = (struct virt_drive_info){
        .id = r->id, .file = r->file ? r->file : "",
        .iface = r->iface == DRIVE_IF_AHCI ? "ahci" : "virtio",
        .readonly = r->blk.readonly, .aio = r->blk.aio, .cache = r->blk.cache,
        .size = b ? blk_size(b) : 0,
        .stats = r->vb ? virtio_blk_blk_stats(r->vb)
                       : ahci_get_blk_stats(p->ahci, r->port),
        .blk = b,
    };
    return true;
}

/* An if=ahci drive: a port of the one AHCI controller (port=N, or the
 * lowest free one), served by one iothread. */
static bool add_ahci_disk(struct virt_pci *p, struct machine *m,
                          const struct drive_opts *d, char *err,
                          size_t errlen)
{
    if (!p->ahci && !(p->ahci = ahci_new(m, "ahci0", err, errlen)))
        return false;
    int port = d->port;
    for (unsigned i = 0; port < 0 && i < AHCI_PORTS; i++)
        if (!ahci_port_present(p->ahci, i))
            port = (int)i;
    if (port < 0) {
        snprintf(err, errlen, "-drive if=ahci: all %u AHCI ports are taken",
                 AHCI_PORTS);
        return false;
    }
    if (ahci_port_present(p->ahci, (unsigned)port)) {
        snprintf(err, errlen, "-drive if=ahci,port=%d: port taken by another "
                 "drive", port);
        return false;
    }
    struct iothread *io[DRIVE_MAX_IOTHREADS];
    unsigned nio;
    if (!drive_iothreads(p, d, io, &nio, err, errlen))
        return false;
    char name[48];
    snprintf(name, sizeof(name), "ahci0-port%d", port);   /* docs/latency.md */
    struct ahci_disk_conf c = { .name = d->id ? d->id : name, .blk = d->blk,
                                .serial = d->serial, .io = io[0] };
    if (!d->format_given)
        log_info("-drive file=%s: no format given, using raw (formats "
                 "are never probed)", d->file);
    char why[400] = "";
    if (!ahci_attach(p->ahci, (unsigned)port, &c, why, sizeof(why))) {
        snprintf(err, errlen, "-drive: %s", why);
        return false;
    }
    record_drive(p, d, c.name, NULL, (unsigned)port);
    return true;
}

static bool add_disk(struct virt_pci *p, struct machine *m,
                     const struct blkemu_config *cfg, unsigned i, char *err,
                     size_t errlen)
{
    struct drive_opts d;
    if (!drive_parse(cfg->drives[i], &d, err, errlen))
        return false;
    if (d.iface == DRIVE_IF_AHCI) {
        bool ok = add_ahci_disk(p, m, &d, err, errlen);
        drive_opts_free(&d);
        return ok;
    }
    struct iothread *io[DRIVE_MAX_IOTHREADS];
    unsigned nio;
    char name[48];
    snprintf(name, sizeof(name), "virtio%u", p->ndisks);  /* as QEMU's ids */
    struct vblk_conf c = {
        .name = d.id ? d.id : name, .blk = d.blk,
        .num_queues = d.num_queues ? d.num_queues
                      : cfg->smp < VBLK_MAX_QUEUES ? cfg->smp : VBLK_MAX_QUEUES,
        .serial = d.serial, .iothreads = io,
    };
    bool ok = drive_iothreads(p, &d, io, &nio, err, errlen);
    if (ok) {
        c.n_iothreads = nio;
        if (!d.format_given)
            log_info("-drive file=%s: no format given, using raw (formats "
                     "are never probed)", d.file);
        char why[400];
        p->disks[p->ndisks] = virtio_blk_new(m, &c, why, sizeof(why));
        if (!p->disks[p->ndisks]) {
            snprintf(err, errlen, "-drive: %s", why);
            ok = false;
        }
    }
    if (ok) {
        struct virtio_blk *vb = p->disks[p->ndisks++];
        record_drive(p, &d, c.name, vb, 0);
        ok = pci_host_plug(&p->host, virtio_blk_pci(vb), ++p->next_slot);
        if (!ok)
            snprintf(err, errlen, "-drive: no PCI slot for disk %u", i);
    }
    drive_opts_free(&d);
    return ok;
}

struct virt_pci *virt_pci_create(struct machine *m, struct plic *plic,
                                 const struct blkemu_config *cfg, char *err,
                                 size_t errlen)
{
    struct virt_pci *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct irq_line intx[PCI_INTX_LINES];
    for (unsigned i = 0; i < PCI_INTX_LINES; i++)
        intx[i] = (struct irq_line){ plic_set_irq, plic, VIRT_PCIE_IRQ + i };
    pci_host_init(&p->host, intx, VIRT_PCIE_PIO_BASE, VIRT_PCIE_PIO_SIZE,
                  VIRT_PCIE_MMIO_BASE, VIRT_PCIE_MMIO_SIZE,
                  virt_pcie_mmio64_base(cfg->ram_size), VIRT_PCIE_MMIO64_SIZE);
    p->no_vcpu_wake = cfg->x_no_vcpu_wake;
    for (unsigned i = 0; i < cfg->nobjects; i++) {
        struct iothread_opts o;
        bool ok = drive_parse_iothread(cfg->objects[i], &o, err, errlen) &&
                  make_iothread(p, o.id, err, errlen);
        if (ok)
            loop_set_poll_max_ns(iothread_loop(p->io[p->nio - 1]),
                                 o.poll_max_ns);
        free(o.id);
        if (!ok)
            goto fail;
    }
    for (unsigned i = 0; i < cfg->ndrives; i++)
        if (!add_disk(p, m, cfg, i, err, errlen))
            goto fail;
    /* The AHCI controller takes the slot after the virtio disks. */
    if (p->ahci && !pci_host_plug(&p->host, ahci_pci(p->ahci),
                                  ++p->next_slot)) {
        snprintf(err, errlen, "-drive: no PCI slot for the AHCI controller");
        goto fail;
    }
    return p;
fail:
    virt_pci_free(p);
    return NULL;
}

void virt_pci_reset(struct virt_pci *p)
{
    for (unsigned i = 0; i < p->ndisks; i++)
        virtio_blk_reset(p->disks[i]);
    if (p->ahci)
        ahci_reset(p->ahci);
    pci_host_reset(&p->host);
}

void virt_pci_free(struct virt_pci *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->ndisks; i++)
        virtio_blk_free(p->disks[i]);
    ahci_free(p->ahci);
    for (unsigned i = 0; i < p->nio; i++)
        iothread_free(p->io[i]);
    for (unsigned i = 0; i < p->ndrives; i++)
        free(p->drives[i].file);
    pci_host_destroy(&p->host);
    free(p);
}

/* <cells...> helper for properties built of 32-bit cells. */
static void put_cells(fdt32_t *c, unsigned *n, uint64_t v, unsigned cells)
{
    if (cells == 2)
        c[(*n)++] = cpu_to_fdt32((uint32_t)(v >> 32));
    c[(*n)++] = cpu_to_fdt32((uint32_t)v);
}

#define TRY(expr) do { int rc_ = (expr); if (rc_ < 0) return rc_; } while (0)

/* Device-tree bindings: Documentation/devicetree/bindings/pci/
 * host-generic-pci.yaml and the PCI bus binding (ranges' phys.hi:
 * 0x01000000 I/O, 0x02000000 32-bit memory, 0x03000000 64-bit memory). */
int virt_pci_fdt(void *fdt, const struct blkemu_config *cfg,
                 uint32_t plic_phandle)
{
    char name[32];
    snprintf(name, sizeof(name), "pci@%llx",
             (unsigned long long)VIRT_PCIE_ECAM_BASE);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
    TRY(fdt_property_string(fdt, "device_type", "pci"));
    TRY(fdt_property_u32(fdt, "#address-cells", 3));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
    TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
    TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
    fdt32_t br[2] = { cpu_to_fdt32(0), cpu_to_fdt32(VIRT_PCIE_ECAM_SIZE / (1u << 20) - 1) };
    TRY(fdt_property(fdt, "bus-range", br, sizeof(br)));
    fdt64_t reg[2] = { cpu_to_fdt64(VIRT_PCIE_ECAM_BASE),
                       cpu_to_fdt64(VIRT_PCIE_ECAM_SIZE) };
    TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
    fdt32_t r[21];
    unsigned n = 0;
    uint64_t hi = virt_pcie_mmio64_base(cfg->ram_size);
    const struct { uint32_t space; uint64_t pci, cpu, size; } win[3] = {
        { 0x01000000, 0, VIRT_PCIE_PIO_BASE, VIRT_PCIE_PIO_SIZE },
        { 0x02000000, VIRT_PCIE_MMIO_BASE, VIRT_PCIE_MMIO_BASE,
          VIRT_PCIE_MMIO_SIZE },
        { 0x03000000, hi, hi, VIRT_PCIE_MMIO64_SIZE },
    };
    for (unsigned i = 0; i < 3; i++) {
        r[n++] = cpu_to_fdt32(win[i].space);
        put_cells(r, &n, win[i].pci, 2);
        put_cells(r, &n, win[i].cpu, 2);
        put_cells(r, &n, win[i].size, 2);
    }
    TRY(fdt_property(fdt, "ranges", r, n * sizeof(r[0])));
    /* INTx of slots 0..3 (the mask keeps two slot bits): pin P of slot S
     * to PLIC source 32 + (P - 1 + S) % 4. */
    fdt32_t map[4 * 4 * 6];
    n = 0;
    for (unsigned slot = 0; slot < 4; slot++)
        for (unsigned pin = 1; pin <= 4; pin++) {
            map[n++] = cpu_to_fdt32(slot << 11);
            map[n++] = 0;
            map[n++] = 0;
            map[n++] = cpu_to_fdt32(pin);
            map[n++] = cpu_to_fdt32(plic_phandle);
            map[n++] = cpu_to_fdt32(VIRT_PCIE_IRQ + pci_intx_swizzle(slot, pin));
        }
    TRY(fdt_property(fdt, "interrupt-map", map, sizeof(map)));
    fdt32_t mask[4] = { cpu_to_fdt32(0x1800), 0, 0, cpu_to_fdt32(7) };
    TRY(fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask)));
    return fdt_end_node(fdt);
}

/* --stats: a drive's injection rules and what they did, if it has any. */
static void print_inject(const char *name, struct blk *blk,
                         const struct blk_stats *b)
{
    struct blk_inject_info info[BLK_INJECT_MAX_RULES];
    unsigned n = blk ? blk_get_inject(blk, info, BLK_INJECT_MAX_RULES) : 0;
    if (n > BLK_INJECT_MAX_RULES)
        n = BLK_INJECT_MAX_RULES;
    if (!n && !b->injected_errors && !b->injected_delays)
        return;
    fprintf(stderr, "blkemu: stats: %s inject errors %llu delays %llu\r\n",
            name, (unsigned long long)b->injected_errors,
            (unsigned long long)b->injected_delays);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "blkemu: stats: %s inject rule %u %s matched %llu "
                "fired %llu\r\n", name, i + 1, info[i].text,
                (unsigned long long)info[i].matched,
                (unsigned long long)info[i].fired);
}

/* --stats lines of the AHCI ports with a disk. */
static void print_ahci_stats(struct ahci *a)
{
    for (unsigned i = 0; a && i < AHCI_PORTS; i++) {
        if (!ahci_port_present(a, i))
            continue;
        struct ahci_port_stats s = ahci_get_port_stats(a, i);
        struct blk_stats b = ahci_get_blk_stats(a, i);
        fprintf(stderr, "blkemu: stats: ahci.p%u cmds %llu read %llu (%llu B) "
                "write %llu (%llu B) ncq %llu flush %llu trim %llu other %llu "
                "tf-errors %llu hbfs %llu doorbells %llu batches %llu irqs "
                "%llu max-in-flight %llu fdatasync %llu bounced %llu "
                "submit-calls %llu\r\n", i, (unsigned long long)s.cmds,
                (unsigned long long)s.reads, (unsigned long long)s.bytes_read,
                (unsigned long long)s.writes,
                (unsigned long long)s.bytes_written,
                (unsigned long long)s.ncq, (unsigned long long)s.flushes,
                (unsigned long long)s.trims, (unsigned long long)s.other,
                (unsigned long long)s.tf_errors, (unsigned long long)s.hbfs,
                (unsigned long long)s.doorbells, (unsigned long long)s.batches,
                (unsigned long long)s.interrupts,
                (unsigned long long)s.max_inflight,
                (unsigned long long)b.flushes, (unsigned long long)b.bounced,
                (unsigned long long)b.submit_calls);
        char name[16];
        snprintf(name, sizeof(name), "ahci.p%u", i);
        print_inject(name, ahci_port_blk(a, i), &b);
    }
}

/* --stats lines of the iothreads: wake-ups and busy-polling (seed 004). */
static void print_iothread_stats(struct virt_pci *p)
{
    for (unsigned i = 0; i < p->nio; i++) {
        struct loop *l = iothread_loop(p->io[i]);
        struct loop_stats s = loop_get_stats(l);
        fprintf(stderr, "blkemu: stats: iothread %s iterations %llu wakeups "
                "%llu poll-max-ns %llu poll-ns %llu poll-hits %llu "
                "poll-misses %llu poll-idle-drops %llu\r\n",
                iothread_id(p->io[i]), (unsigned long long)s.iterations,
                (unsigned long long)s.wakeups,
                (unsigned long long)loop_get_poll_max_ns(l),
                (unsigned long long)s.poll_ns,
                (unsigned long long)s.poll_hits,
                (unsigned long long)s.poll_misses,
                (unsigned long long)s.poll_idle);
    }
}

void virt_pci_print_stats(struct virt_pci *p)
{
    print_iothread_stats(p);
    print_ahci_stats(p->ahci);
    for (unsigned i = 0; i < p->ndisks; i++) {
        struct virtio_blk *vb = p->disks[i];
        struct blk_stats b = virtio_blk_blk_stats(vb);
        fprintf(stderr, "blkemu: stats: disk%u fdatasync %llu bounced %llu "
                "submit-calls %llu early-completions %llu resubmits %llu "
                "max-in-flight %llu\r\n", i, (unsigned long long)b.flushes,
                (unsigned long long)b.bounced,
                (unsigned long long)b.submit_calls,
                (unsigned long long)b.early_completions,
                (unsigned long long)b.resubmits,
                (unsigned long long)b.max_in_flight);
        char name[16];
        snprintf(name, sizeof(name), "disk%u", i);
        print_inject(name, virtio_blk_get_blk(vb), &b);
        for (unsigned q = 0; q < virtio_blk_num_queues(vb); q++) {
            struct vblk_queue_stats s = virtio_blk_queue_stats(vb, q);
            fprintf(stderr, "blkemu: stats: disk%u q%u read %llu (%llu B) "
                    "write %llu (%llu B) flush %llu discard %llu wzeroes %llu "
                    "ioerr %llu unsupp %llu kicks %llu irqs %llu\r\n", i, q,
                    (unsigned long long)s.reqs[BLK_OP_READ],
                    (unsigned long long)s.bytes_read,
                    (unsigned long long)s.reqs[BLK_OP_WRITE],
                    (unsigned long long)s.bytes_written,
                    (unsigned long long)s.reqs[BLK_OP_FLUSH],
                    (unsigned long long)s.reqs[BLK_OP_DISCARD],
                    (unsigned long long)s.reqs[BLK_OP_WRITE_ZEROES],
                    (unsigned long long)s.ioerr, (unsigned long long)s.unsupp,
                    (unsigned long long)s.kicks,
                    (unsigned long long)s.interrupts);
        }
    }
}
