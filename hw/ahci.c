/*
 * hw/ahci.c — the HBA and port register model of the AHCI controller
 * (see ahci.h): generic host control, port start/stop, HBA and port
 * resets, the interrupt, construction and statistics.
 */
#include "hw/ahci_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "hw/machine.h"
#include "util/clock.h"
#include "util/iothread.h"
#include "util/log.h"
#include "util/loop.h"

/* CAP (§3.1.1): 64-bit addressing, NCQ, AHCI only, command list override,
 * PIO multiple DRQ, Gen3, 32 command slots, six ports. No staggered
 * spin-up, port multipliers, FIS-based switching, enclosure management,
 * CCC, aggressive link power management or SNotification. */
#define AHCI_CAP (CAP_S64A | CAP_SNCQ | CAP_SCLO | CAP_SAM | CAP_ISS_GEN3 | \
                  CAP_PMD | (AHCI_SLOTS - 1) << 8 | (AHCI_PORTS - 1))

/* ---- interrupt ------------------------------------------------------- */

/* §10.6.2: IS.IPS[i] latches while port i has an enabled event; the INTx
 * line follows GHC.IE && IS (lock held). */
void ahci_update_irq(struct ahci *a)
{
    for (unsigned i = 0; i < AHCI_PORTS; i++)
        if (a->ports[i].is & a->ports[i].ie)
            a->is |= 1u << i;
    bool level = (a->ghc & GHC_IE) && a->is;
    if (level != a->irq) {
        a->irq = level;
        pci_set_irq(&a->pci, level);
    }
}

/* ---- port state ------------------------------------------------------ */

void ahci_port_idle(struct ahci_port *p)
{
    pthread_cond_broadcast(&p->a->idle);
    if (p->a->resetting) {
        for (unsigned i = 0; i < AHCI_PORTS; i++)
            if (p->a->ports[i].inflight)
                return;
        p->a->resetting = false;
    }
}

/* Stop the command list (ST cleared, reset): PxCI and PxSACT clear, the
 * commands the iothread owns become stale (§3.3.7 ST, §3.3.14). */
static void port_abort(struct ahci_port *p)
{
    p->ci = p->sact = p->pending = 0;
    p->ncq_tags = 0;
    p->gen++;
    p->halted = false;
    p->srst = false;
    if (p->inflight && p->bh) {
        /* Requests held by an injected delay would keep CR set until
         * their deadline: the iothread sends them on now. */
        p->release_delays = true;
        loop_bh_schedule(p->bh);
    }
}

/* The device after a COMRESET, SRST or power-on: signature, ready
 * (§10.4.2). */
void ahci_port_device_reset(struct ahci_port *p)
{
    p->sig = ATA_SIGNATURE;
    p->tfd = 0x100 | ATA_STS_OK;    /* error 01h: diagnostics passed */
    p->wce = true;
    p->udma = 0x46;                 /* UDMA/133 */
    p->ncq_err = false;
    ahci_post_signature(p);
}

static void port_link_up(struct ahci_port *p)
{
    p->ssts = SSTS_UP;
    ahci_port_device_reset(p);
}

static void port_link_down(struct ahci_port *p, uint32_t det)
{
    p->ssts = det;
    p->sig = 0xffffffffu;
    p->tfd = 0x7f;
}

/* Power-on / HBA reset values of one port (§3.3; lock held). */
static void port_reset_regs(struct ahci_port *p)
{
    port_abort(p);
    p->clb = p->fb = 0;
    p->is = p->ie = 0;
    p->cmd = PXCMD_SUD | PXCMD_POD;
    p->sctl = p->serr = 0;
    if (p->present)
        port_link_up(p);
    else
        port_link_down(p, 0);
}

/* GHC.HR (§10.4.3): every port stops and returns to its power-on state;
 * HR reads 1 until the requests the old commands left in the block layer
 * have come back (lock held). */
static void hba_reset(struct ahci *a)
{
    a->ghc = GHC_AE;
    a->is = 0;
    bool busy = false;
    for (unsigned i = 0; i < AHCI_PORTS; i++) {
        port_reset_regs(&a->ports[i]);
        busy |= a->ports[i].inflight != 0;
    }
    a->resetting = busy;
    ahci_update_irq(a);
}

/* ---- register reads -------------------------------------------------- */

static uint32_t port_cmd_read(const struct ahci_port *p)
{
    uint32_t v = p->cmd & ~(PXCMD_CR | PXCMD_FR | PXCMD_CLO);
    /* CR: the list engine runs while ST is set and until every command it
     * took has come back from the block layer; FIS posting happens under
     * the lock, so FR is FRE. */
    if ((p->cmd & PXCMD_ST) || p->inflight)
        v |= PXCMD_CR;
    if (p->cmd & PXCMD_FRE)
        v |= PXCMD_FR;
    if (p->cmd & PXCMD_ST) {
        unsigned ccs = p->ci ? (unsigned)__builtin_ctz(p->ci) : 0;
        v |= ccs << PXCMD_CCS_SHIFT;
    }
    return v;
}

static uint32_t port_read(struct ahci_port *p, unsigned off)
{
    switch (off) {
    case PX_CLB:  return (uint32_t)p->clb;
    case PX_CLBU: return (uint32_t)(p->clb >> 32);
    case PX_FB:   return (uint32_t)p->fb;
    case PX_FBU:  return (uint32_t)(p->fb >> 32);
    case PX_IS:   return p->is;
    case PX_IE:   return p->ie;
    case PX_CMD:  return port_cmd_read(p);
    case PX_TFD:  return p->tfd;
    case PX_SIG:  return p->sig;
    case PX_SSTS: return p->ssts;
    case PX_SCTL: return p->sctl;
    case PX_SERR: return p->serr;
    case PX_SACT: return p->sact;
    case PX_CI:   return p->ci;
    default:      return 0;     /* SNTF, FBS, DEVSLP, vendor: not implemented */
    }
}

static uint32_t hba_read(struct ahci *a, unsigned off)
{
    if (off >= HBA_PORT_BASE) {
        unsigned n = (off - HBA_PORT_BASE) / HBA_PORT_SIZE;
        if (n >= AHCI_PORTS)
            return 0;
        return port_read(&a->ports[n], (off - HBA_PORT_BASE) % HBA_PORT_SIZE);
    }
    switch (off) {
    case HBA_CAP: return AHCI_CAP;
    case HBA_GHC: return a->ghc | GHC_AE | (a->resetting ? GHC_HR : 0);
    case HBA_IS:  return a->is;
    case HBA_PI:  return (1u << AHCI_PORTS) - 1;
    case HBA_VS:  return AHCI_VERSION;
    default:      return 0;     /* CCC, EM, CAP2, BOHC: not implemented */
    }
}

/* ---- register writes ------------------------------------------------- */

/* PxCMD (§3.3.7, §10.3). ST may only be set with FRE set and FRE only be
 * cleared with ST clear (what software must do anyway); other orders are
 * ignored, so "ST implies FRE" always holds. */
static void port_cmd_write(struct ahci_port *p, uint32_t v)
{
    uint32_t old = p->cmd;
    uint32_t keep = PXCMD_SUD | PXCMD_POD;  /* no SSS/CPD: read-only 1 */
    uint32_t cmd = keep | (v & (PXCMD_FRE | PXCMD_ST | PXCMD_ATAPI |
                                PXCMD_DLAE));
    if ((cmd & PXCMD_ST) && !(cmd & PXCMD_FRE)) {
        if (!(old & PXCMD_ST)) {
            log_guest_error("%s: PxCMD.ST set without FRE; ignored", p->name);
            cmd &= ~PXCMD_ST;
        } else {
            log_guest_error("%s: PxCMD.FRE cleared while ST is set; ignored",
                            p->name);
            cmd |= PXCMD_FRE;
        }
    }
    if ((old & PXCMD_ST) && !(cmd & PXCMD_ST))
        port_abort(p);
    /* CLO (§3.3.7): clears BSY and DRQ, then clears itself. */
    if ((v & PXCMD_CLO) && !(cmd & PXCMD_ST))
        p->tfd &= ~(uint32_t)(ATA_STS_BSY | ATA_STS_DRQ);
    p->cmd = cmd;
}

/* PxSCTL.DET (§3.3.11): 1 holds the link in COMRESET (commands abort),
 * 0 lets it come up, 4 takes it offline. */
static void port_sctl_write(struct ahci_port *p, uint32_t v)
{
    uint32_t det = v & 0xf, old = p->sctl & 0xf;
    p->sctl = v & 0xfff;
    if (det == 1 && old != 1) {
        port_abort(p);
        port_link_down(p, 0);
    } else if (det == 4) {
        port_abort(p);
        port_link_down(p, 4);
    } else if (det == 0 && old != 0) {
        if (p->present)
            port_link_up(p);
        else
            port_link_down(p, 0);
    }
}

/* Returns true if the port's bottom half should run. */
static bool port_write(struct ahci_port *p, unsigned off, uint32_t v)
{
    switch (off) {
    case PX_CLB:  p->clb = (p->clb & ~0xffffffffull) | (v & ~0x3ffu); break;
    case PX_CLBU: p->clb = (p->clb & 0xffffffffull) | (uint64_t)v << 32; break;
    case PX_FB:   p->fb = (p->fb & ~0xffffffffull) | (v & ~0xffu); break;
    case PX_FBU:  p->fb = (p->fb & 0xffffffffull) | (uint64_t)v << 32; break;
    case PX_IS:   p->is &= ~(v & PXIS_RWC); break;
    case PX_IE:   p->ie = v & PXIE_MASK; break;
    case PX_CMD:  port_cmd_write(p, v); break;
    case PX_SCTL: port_sctl_write(p, v); break;
    case PX_SERR: p->serr &= ~v; break;
    case PX_SACT:
        /* §3.3.13: software sets bits, only while ST is set. */
        if (p->cmd & PXCMD_ST) {
            if (p->present && (v & ~p->sact))
                iostats_doorbell(p->iosq, clock_ns());
            p->sact |= v;
        }
        break;
    case PX_CI: {
        /* §3.3.14: software sets bits, only while ST is set; the slots go
         * to the iothread — this thread does nothing else (seed 003). */
        if (!(p->cmd & PXCMD_ST) || !p->present) {
            if (v && (!(p->cmd & PXCMD_ST)))
                log_guest_error("%s: PxCI written while ST is clear; "
                                "ignored", p->name);
            break;
        }
        uint32_t fresh = v & ~p->ci;
        p->ci |= fresh;
        p->pending |= fresh;
        if (fresh) {
            AHCI_INC(p->st.doorbells);
            iostats_doorbell(p->iosq, clock_ns());
            return true;
        }
        break;
    }
    default:
        break;      /* read-only or not implemented */
    }
    return false;
}

/* Returns the port whose bottom half should run, or NULL. */
static struct ahci_port *hba_write(struct ahci *a, unsigned off, uint32_t v)
{
    if (off >= HBA_PORT_BASE) {
        unsigned n = (off - HBA_PORT_BASE) / HBA_PORT_SIZE;
        if (n >= AHCI_PORTS)
            return NULL;
        struct ahci_port *p = &a->ports[n];
        bool kick = port_write(p, (off - HBA_PORT_BASE) % HBA_PORT_SIZE, v);
        ahci_update_irq(a);
        return kick ? p : NULL;
    }
    switch (off) {
    case HBA_GHC:
        if (v & GHC_HR) {
            hba_reset(a);
            return NULL;
        }
        a->ghc = GHC_AE | (v & GHC_IE);
        break;
    case HBA_IS:
        a->is &= ~v;
        break;
    default:
        return NULL;    /* CAP, PI, VS: read-only (HwInit writes dropped) */
    }
    ahci_update_irq(a);
    return NULL;
}

/* ---- MMIO ------------------------------------------------------------ */

/* Registers are dwords. Reads of any size and alignment return the bytes
 * they cover; writes must be aligned dwords (or aligned qwords, taken as
 * two dwords) — others are dropped with a guest-error line, as QEMU's
 * ICH9 model does. */
static bool ahci_mmio_read(void *opaque, uint64_t off, unsigned size,
                           uint64_t *val)
{
    struct ahci *a = opaque;
    uint64_t v = 0;
    pthread_mutex_lock(&a->lock);
    if (size == 4 && !(off & 3) && off < AHCI_BAR_SIZE) {
        v = hba_read(a, (unsigned)off);     /* the driver's usual access */
    } else {
        uint64_t cur = UINT64_MAX;
        uint32_t dw = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t o = off + i;
            if ((o & ~3ull) != cur) {
                cur = o & ~3ull;
                dw = cur < AHCI_BAR_SIZE ? hba_read(a, (unsigned)cur) : 0;
            }
            v |= (uint64_t)(uint8_t)(dw >> (8 * (o & 3))) << (8 * i);
        }
    }
    pthread_mutex_unlock(&a->lock);
    *val = v;
    return true;
}

static bool ahci_mmio_write(void *opaque, uint64_t off, unsigned size,
                            uint64_t val)
{
    struct ahci *a = opaque;
    if ((size != 4 && size != 8) || (off & (size - 1)) ||
        off + size > AHCI_BAR_SIZE) {
        log_guest_error("%s: %u-byte register write at 0x%llx ignored "
                        "(dword registers)", a->name, size,
                        (unsigned long long)off);
        return true;
    }
    struct ahci_port *kick[2] = { NULL, NULL };
    pthread_mutex_lock(&a->lock);
    kick[0] = hba_write(a, (unsigned)off, (uint32_t)val);
    if (size == 8)
        kick[1] = hba_write(a, (unsigned)off + 4, (uint32_t)(val >> 32));
    pthread_mutex_unlock(&a->lock);
    for (unsigned i = 0; i < 2; i++)
        if (kick[i])
            loop_bh_schedule(kick[i]->bh);
    return true;
}

const struct mmio_ops ahci_mmio_ops = { ahci_mmio_read, ahci_mmio_write };

/* ---- construction ---------------------------------------------------- */

struct ahci *ahci_new(struct machine *m, const char *name, char *err,
                      size_t errlen)
{
    struct ahci *a = calloc(1, sizeof(*a));
    if (!a || !(a->name = strdup(name ? name : "ahci"))) {
        free(a);
        snprintf(err, errlen, "%s: out of memory", name ? name : "ahci");
        return NULL;
    }
    a->m = m;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->idle, NULL);
    /* ICH9 AHCI as QEMU presents it: revision 2, subsystem 1af4:1100. */
    pci_dev_init(&a->pci, a->name, AHCI_PCI_VENDOR, AHCI_PCI_DEVICE, 2,
                 AHCI_PCI_CLASS, 0x1af4, 0x1100);
    pci_dev_add_bar(&a->pci, AHCI_BAR, AHCI_BAR_SIZE, 0, &ahci_mmio_ops, a);
    for (unsigned i = 0; i < AHCI_PORTS; i++) {
        struct ahci_port *p = &a->ports[i];
        p->a = a;
        p->index = i;
        snprintf(p->name, sizeof(p->name), "%s.p%u", a->name, i);
        for (unsigned s = 0; s < AHCI_SLOTS; s++) {
            p->cmds[s].p = p;
            p->cmds[s].slot = s;
        }
    }
    pthread_mutex_lock(&a->lock);
    hba_reset(a);
    pthread_mutex_unlock(&a->lock);
    return a;
}

struct attach_ctx {
    struct ahci_port *p;
    const struct ahci_disk_conf *c;
    char *err;
    size_t errlen;
    bool ok;
};

/* On the port's iothread: blk_open and the bottom half belong there. */
static void attach_on_iothread(void *opaque)
{
    struct attach_ctx *x = opaque;
    struct ahci_port *p = x->p;
    struct loop *l = iothread_loop(x->c->io);
    p->blk = blk_open(&x->c->blk, l, x->err, x->errlen);
    if (!p->blk)
        return;
    p->bh = loop_bh_new(l, ahci_port_bh, p);
    if (!p->bh) {
        blk_close(p->blk);
        p->blk = NULL;
        snprintf(x->err, x->errlen, "%s: out of memory", p->name);
        return;
    }
    x->ok = true;
}

static void detach_on_iothread(void *opaque)
{
    struct ahci_port *p = opaque;
    loop_bh_free(p->bh);
    p->bh = NULL;
    blk_close(p->blk);
    p->blk = NULL;
}

bool ahci_attach(struct ahci *a, unsigned port, const struct ahci_disk_conf *c,
                 char *err, size_t errlen)
{
    if (port >= AHCI_PORTS || a->ports[port].present || !c->io) {
        snprintf(err, errlen, "%s: port %u %s", a->name, port,
                 port >= AHCI_PORTS ? "does not exist (0-5)"
                 : !c->io ? "has no iothread" : "already has a disk");
        return false;
    }
    if (c->serial && strlen(c->serial) > AHCI_SERIAL_MAX) {
        snprintf(err, errlen, "%s: serial longer than %u bytes", a->name,
                 AHCI_SERIAL_MAX);
        return false;
    }
    struct ahci_port *p = &a->ports[port];
    if (c->name)
        snprintf(p->name, sizeof(p->name), "%s", c->name);
    struct attach_ctx x = { p, c, err, errlen, false };
    if (!iothread_run_sync(c->io, attach_on_iothread, &x) || !x.ok) {
        if (!x.ok && !err[0])
            snprintf(err, errlen, "%s: out of memory", p->name);
        return false;
    }
    p->io = c->io;
    p->ss = blk_logical_block_size(p->blk);
    p->sectors = blk_size(p->blk) / p->ss;
    struct iostats_drive_info di = {
        .id = p->name, .iface = "ahci", .file = c->blk.file,
        .readonly = c->blk.readonly, .aio = c->blk.aio, .cache = c->blk.cache,
        .size = blk_size(p->blk), .nqueues = 1,
    };
    if (!(p->ios = iostats_drive_new(a->m ? a->m->iostats : NULL, &di))) {
        iothread_run_sync(c->io, detach_on_iothread, p);
        snprintf(err, errlen, "%s: out of memory", p->name);
        return false;
    }
    p->iosq = iostats_queue(p->ios, 0);
    p->readonly = c->blk.readonly;
    if (c->serial)
        snprintf(p->serial, sizeof(p->serial), "%s", c->serial);
    else
        snprintf(p->serial, sizeof(p->serial), "BLKEMU%04u", port);
    pthread_mutex_lock(&a->lock);
    p->present = true;
    port_reset_regs(p);
    pthread_mutex_unlock(&a->lock);
    return true;
}

struct pci_dev *ahci_pci(struct ahci *a)
{
    return &a->pci;
}

bool ahci_port_present(const struct ahci *a, unsigned port)
{
    return port < AHCI_PORTS && a->ports[port].present;
}

void ahci_reset(struct ahci *a)
{
    pthread_mutex_lock(&a->lock);
    hba_reset(a);
    while (a->resetting)
        pthread_cond_wait(&a->idle, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

void ahci_free(struct ahci *a)
{
    if (!a)
        return;
    ahci_reset(a);
    for (unsigned i = 0; i < AHCI_PORTS; i++) {
        struct ahci_port *p = &a->ports[i];
        if (p->blk)
            iothread_run_sync(p->io, detach_on_iothread, p);
        iostats_drive_free(p->ios);
        for (unsigned s = 0; s < AHCI_SLOTS; s++) {
            free(p->cmds[s].iov);
            free(p->cmds[s].bounce);
        }
    }
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->lock);
    free(a->name);
    free(a);
}

/* ---- statistics ------------------------------------------------------ */

#define LD(c) atomic_load_explicit(&(c), memory_order_relaxed)

struct ahci_port_stats ahci_get_port_stats(struct ahci *a, unsigned port)
{
    struct ahci_port_stats s;
    memset(&s, 0, sizeof(s));
    if (port >= AHCI_PORTS)
        return s;
    struct ahci_port *p = &a->ports[port];
    s.cmds = LD(p->st.cmds);
    s.reads = LD(p->st.reads);
    s.writes = LD(p->st.writes);
    s.ncq = LD(p->st.ncq);
    s.flushes = LD(p->st.flushes);
    s.trims = LD(p->st.trims);
    s.other = LD(p->st.other);
    s.bytes_read = LD(p->st.bytes_read);
    s.bytes_written = LD(p->st.bytes_written);
    s.tf_errors = LD(p->st.tf_errors);
    s.hbfs = LD(p->st.hbfs);
    s.doorbells = LD(p->st.doorbells);
    s.batches = LD(p->st.batches);
    s.interrupts = LD(p->st.interrupts);
    s.max_inflight = LD(p->st.max_inflight);
    return s;
}

struct blk_stats ahci_get_blk_stats(struct ahci *a, unsigned port)
{
    struct blk_stats s;
    memset(&s, 0, sizeof(s));
    if (port < AHCI_PORTS && a->ports[port].blk)
        s = blk_get_stats(a->ports[port].blk);
    return s;
}

struct blk *ahci_port_blk(struct ahci *a, unsigned port)
{
    return port < AHCI_PORTS ? a->ports[port].blk : NULL;
}
