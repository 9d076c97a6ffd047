/*
 * hw/ahci_cmd.c — the AHCI data path on the port's iothread: take the
 * issued slots, read each command header and command FIS, map the PRDT
 * onto guest RAM, hand the command to the ATA layer, and on completion
 * post the D2H Register / PIO Setup / Set Device Bits FIS, update
 * PxCI/PxSACT/PxTFD/PxIS and the interrupt (AHCI 1.3.1 §5, §4.2).
 *
 * Parse, then act (STYLE.md habit 3): the header, the command FIS and
 * every PRD entry are copied out of guest memory and checked before any
 * request reaches the block layer. Every guest address goes through
 * machine_ram_ptr(); one outside RAM is a host bus fatal error (PxIS.HBFS,
 * §3.3.5: "a bad software pointer").
 */
#include "hw/ahci_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "hw/machine.h"
#include "util/log.h"
#include "util/loop.h"

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static void st32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

/* ---- FISes (SATA §10.5) --------------------------------------------- */

static void fis_regs(uint8_t *f, const struct ata_result *r)
{
    f[2] = r->status;
    f[3] = r->error;
    f[4] = (uint8_t)r->lba;
    f[5] = (uint8_t)(r->lba >> 8);
    f[6] = (uint8_t)(r->lba >> 16);
    f[7] = r->device;
    f[8] = (uint8_t)(r->lba >> 24);
    f[9] = (uint8_t)(r->lba >> 32);
    f[10] = (uint8_t)(r->lba >> 40);
    f[12] = (uint8_t)r->count;
    f[13] = (uint8_t)(r->count >> 8);
}

bool ahci_post_fis(struct ahci_port *p, unsigned off, const uint8_t *fis,
                   unsigned len)
{
    if (!(p->cmd & PXCMD_FRE))
        return true;
    uint8_t *r = machine_ram_ptr(p->a->m, p->fb + off, len);
    if (!r) {
        log_guest_error("%s: received-FIS area 0x%llx outside RAM", p->name,
                        (unsigned long long)p->fb);
        AHCI_INC(p->st.hbfs);
        p->is |= PXIS_HBFS;
        p->halted = true;
        return false;
    }
    memcpy(r, fis, len);
    return true;
}

/* Register D2H FIS with `irq` = the I bit; updates PxTFD. */
static void post_d2h(struct ahci_port *p, const struct ata_result *r,
                     bool irq)
{
    uint8_t f[20] = { FIS_REG_D2H, irq ? 0x40 : 0 };
    fis_regs(f, r);
    p->tfd = (uint32_t)r->error << 8 | r->status;
    if (ahci_post_fis(p, RFIS_RFIS, f, sizeof(f)) && irq)
        p->is |= PXIS_DHRS;
}

void ahci_post_signature(struct ahci_port *p)
{
    struct ata_result r = { .status = ATA_STS_OK, .error = 1, .count = 1,
                            .lba = 1 };
    post_d2h(p, &r, false);
}

/* PIO Setup FIS that ends a PIO data-in command: Linux's ahci takes the
 * result from here and the final status from E_Status (byte 15). */
static void post_pio_in(struct ahci_port *p, const struct ata_result *r,
                        uint32_t bytes)
{
    uint8_t f[20] = { FIS_PIO_SETUP, 0x40 | 0x20 };
    fis_regs(f, r);
    f[2] = ATA_STS_OK | ATA_STS_DRQ;
    f[15] = r->status;
    f[16] = (uint8_t)bytes;
    f[17] = (uint8_t)(bytes >> 8);
    p->tfd = (uint32_t)r->error << 8 | r->status;
    if (ahci_post_fis(p, RFIS_PSFIS, f, sizeof(f)))
        p->is |= PXIS_PSS;
}

/* Set Device Bits FIS (SATA §10.5.7): status bits 6:4 and 2:0, error, and
 * the tags completed; PxSACT loses those bits. */
static void post_sdb(struct ahci_port *p, uint8_t status, uint8_t error,
                     uint32_t done)
{
    uint8_t f[8] = { FIS_SDB, 0x40, (uint8_t)(status & 0x77), error };
    st32(f + 4, done);
    p->sact &= ~done;
    p->tfd = (p->tfd & ~0xff77u) | (uint32_t)error << 8 | (status & 0x77);
    if (ahci_post_fis(p, RFIS_SDBFIS, f, sizeof(f)))
        p->is |= PXIS_SDBS;
}

/* ---- completion ------------------------------------------------------ */

/* Report a finished command of the current generation (lock held). A
 * failed command halts the port (§6.2.2.1): its PxCI bit stays set and no
 * further slot is taken until software clears PxCMD.ST. */
static void cmd_report(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    uint32_t bit = 1u << c->slot;
    uint8_t *h = machine_ram_ptr(p->a->m, c->clb + 32ull * c->slot + 4, 4);
    if (h && c->done != DONE_NCQ)
        st32(h, c->prdbc);      /* PRDBC: bytes transferred (§4.2.2) */
    if (c->done == DONE_NCQ && p->halted) {
        /* After an NCQ error the device aborts the commands still
         * outstanding (SATA 3.2 §13.6.5): no more SDB FISes, the first
         * error stays in log 10h, and the host retries the others once
         * it has read the log. */
        p->ncq_tags &= ~bit;
        return;
    }
    if (c->failed) {
        AHCI_INC(p->st.tf_errors);
        /* The LBA registers name the first failing sector; we fail the
         * whole command, so that is its first LBA (the guest must not
         * take the sectors before it as done). */
        struct ata_result r = { .status = ATA_STS_DRDY | ATA_STS_ERR,
                                .error = c->err, .device = 0x40,
                                .lba = c->res.lba };
        if (c->done == DONE_NCQ) {
            /* NCQ error: the tag goes to log 10h for the driver's
             * recovery (SATA §13.7.4); SActive bits stay. */
            p->ncq_err = true;
            p->ncq_err_tag = (uint8_t)c->slot;
            p->ncq_err_status = r.status;
            p->ncq_err_error = r.error;
            p->ncq_err_lba = c->tf.lba;
            p->ncq_tags &= ~bit;
            post_sdb(p, r.status, r.error, 0);
        } else {
            post_d2h(p, &r, true);
        }
        p->is |= PXIS_TFES;
        p->halted = true;
    } else if (c->done == DONE_NCQ) {
        p->ncq_tags &= ~bit;
        post_sdb(p, ATA_STS_OK, 0, bit);
    } else {
        if (c->done == DONE_PIO_IN)
            post_pio_in(p, &c->res, c->prdbc);
        else
            post_d2h(p, &c->res, true);
        p->ci &= ~bit;
    }
    ahci_update_irq(p->a);
    if (p->is & p->ie) {
        AHCI_INC(p->st.interrupts);
        iostats_irq(p->iosq, &c->lat);
    }
}

/* The iothread lets go of a slot (lock held). */
static void slot_release(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    uint32_t bit = 1u << c->slot;
    c->state = CMD_FREE;
    p->busy &= ~bit;
    if (c->iov_cap > 256) {     /* don't keep a hostile PRDT's array */
        free(c->iov);
        c->iov = NULL;
        c->iov_cap = 0;
    }
    free(c->bounce);
    c->bounce = NULL;
    if (--p->inflight == 0)
        ahci_port_idle(p);
    /* A slot issued again while its aborted command was still out waited
     * for this. */
    if (p->pending & bit)
        loop_bh_schedule(p->bh);
}

/* The command is over (iothread): report it unless it was aborted. */
static void cmd_end(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    pthread_mutex_lock(&p->a->lock);
    if (c->gen == p->gen && (p->cmd & PXCMD_ST))
        cmd_report(c);
    slot_release(c);
    pthread_mutex_unlock(&p->a->lock);
}

void ahci_cmd_fail(struct ahci_cmd *c, uint8_t err)
{
    if (!c->failed) {
        c->failed = true;
        c->err = err;
    }
}

void ahci_cmd_finish(struct ahci_cmd *c)
{
    cmd_end(c);
}

/* A bad pointer: PxIS.HBFS, the port halts, the slot stays issued. */
static void cmd_hbfs(struct ahci_cmd *c, const char *what, uint64_t gpa)
{
    struct ahci_port *p = c->p;
    log_guest_error("%s: slot %u: %s at 0x%llx outside RAM", p->name, c->slot,
                    what, (unsigned long long)gpa);
    AHCI_INC(p->st.hbfs);
    pthread_mutex_lock(&p->a->lock);
    if (c->gen == p->gen && (p->cmd & PXCMD_ST)) {
        p->is |= PXIS_HBFS;
        p->halted = true;
        ahci_update_irq(p->a);
    }
    slot_release(c);
    pthread_mutex_unlock(&p->a->lock);
}

void ahci_cmd_ncq_accept(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    pthread_mutex_lock(&p->a->lock);
    if (c->gen == p->gen && (p->cmd & PXCMD_ST)) {
        struct ata_result r = { .status = ATA_STS_OK };
        p->ci &= ~(1u << c->slot);
        p->ncq_tags |= 1u << c->slot;
        post_d2h(p, &r, false);
    }
    pthread_mutex_unlock(&p->a->lock);
}

/* ---- PRDT (§4.2.3) --------------------------------------------------- */

static bool iov_push(struct ahci_cmd *c, void *base, size_t len)
{
    if (c->niov && (uint8_t *)c->iov[c->niov - 1].iov_base +
                   c->iov[c->niov - 1].iov_len == base) {
        c->iov[c->niov - 1].iov_len += len;     /* contiguous: merge */
        return true;
    }
    if (c->niov == c->iov_cap) {
        unsigned cap = c->iov_cap ? c->iov_cap * 2 : 16;
        struct iovec *n = realloc(c->iov, cap * sizeof(*n));
        if (!n)
            return false;
        c->iov = n;
        c->iov_cap = cap;
    }
    c->iov[c->niov++] = (struct iovec){ base, len };
    return true;
}

/* Walk the PRDT until c->len bytes are covered. Entries past that are
 * never read (a longer table is fine); a shorter one ends the command
 * with ABRT. The walk is bounded by PRDTL (at most 65535). */
static int prdt_walk(struct ahci_cmd *c, uint64_t *bad)
{
    struct machine *m = c->p->a->m;
    uint64_t total = 0;
    c->niov = 0;
    for (uint32_t i = 0; i < c->prdtl && total < c->len; i++) {
        uint64_t ea = c->ctba + CMD_TABLE_PRDT + 16ull * i;
        const uint8_t *e = machine_ram_ptr(m, ea, 16);
        if (!e) {
            *bad = ea;
            return -EFAULT;
        }
        uint64_t dba = ((uint64_t)ld32(e + 4) << 32 | ld32(e)) & ~1ull;
        uint64_t n = (ld32(e + 12) & PRD_DBC_MASK) + 1ull;
        if (n > c->len - total)
            n = c->len - total;
        void *h = machine_ram_ptr(m, dba, n);
        if (!h) {
            *bad = dba;
            return -EFAULT;
        }
        if (!iov_push(c, h, n))
            return -ENOMEM;
        total += n;
    }
    return total < c->len ? -EINVAL : 0;
}

bool ahci_cmd_map(struct ahci_cmd *c)
{
    uint64_t bad = 0;
    int r = prdt_walk(c, &bad);
    if (r == -EFAULT) {
        cmd_hbfs(c, "PRD table or buffer", bad);
        return false;
    }
    if (r < 0) {
        log_guest_error("%s: slot %u: PRDT (%u entries) %s the %llu-byte "
                        "transfer", c->p->name, c->slot, c->prdtl,
                        r == -EINVAL ? "shorter than" : "too large for",
                        (unsigned long long)c->len);
        ahci_cmd_fail(c, ATA_ERR_ABRT);
        ahci_cmd_finish(c);
        return false;
    }
    if (c->niov > BLK_MAX_SEGMENTS) {
        /* More segments than the block layer takes even after merging:
         * go through one host buffer. */
        if (c->len > AHCI_BOUNCE_MAX || !(c->bounce = malloc(c->len))) {
            ahci_cmd_fail(c, ATA_ERR_ABRT);
            ahci_cmd_finish(c);
            return false;
        }
        if (!c->is_read) {
            uint8_t *d = c->bounce;
            for (unsigned i = 0; i < c->niov; i++) {
                memcpy(d, c->iov[i].iov_base, c->iov[i].iov_len);
                d += c->iov[i].iov_len;
            }
        }
    }
    return true;
}

bool ahci_cmd_copy_in(struct ahci_cmd *c, const void *buf, uint32_t len)
{
    c->len = len;
    c->is_read = true;
    if (!ahci_cmd_map(c))
        return false;
    const uint8_t *s = buf;
    for (unsigned i = 0; i < c->niov; i++) {
        memcpy(c->iov[i].iov_base, s, c->iov[i].iov_len);
        s += c->iov[i].iov_len;
    }
    c->prdbc = len;
    return true;
}

bool ahci_cmd_copy_out(struct ahci_cmd *c, void *buf, uint32_t len)
{
    c->len = len;
    c->is_read = false;
    if (!ahci_cmd_map(c))
        return false;
    uint8_t *d = buf;
    for (unsigned i = 0; i < c->niov; i++) {
        memcpy(d, c->iov[i].iov_base, c->iov[i].iov_len);
        d += c->iov[i].iov_len;
    }
    c->prdbc = len;
    return true;
}

/* ---- block-layer requests -------------------------------------------- */

static void cmd_io_done(void *opaque, int ret)
{
    struct ahci_cmd *c = opaque;
    struct ahci_port *p = c->p;
    if (ret < 0 && ret != -EOPNOTSUPP) {     /* a discard is only a hint */
        log_debug("%s: slot %u: host I/O failed: %s", p->name, c->slot,
                  strerror(-ret));
        /* A read or write that hit a media error (-EIO, also an injected
         * one) ends like a disk's unrecoverable error: UNC, which libata
         * fails at once (no retry) with a medium error. Anything else
         * (no space, flush, trim) is ABRT. */
        bool media = c->len && (c->is_read || ret == -EIO);
        ahci_cmd_fail(c, media ? ATA_ERR_UNC : ATA_ERR_ABRT);
    }
    if (--c->parts)
        return;
    iostats_complete(p->iosq, &c->lat, c->lat_op, c->len, c->failed);
    if (c->len && !c->failed) {
        if (c->bounce && c->is_read) {
            const uint8_t *s = c->bounce;
            for (unsigned i = 0; i < c->niov; i++) {
                memcpy(c->iov[i].iov_base, s, c->iov[i].iov_len);
                s += c->iov[i].iov_len;
            }
        }
        c->prdbc = (uint32_t)c->len;
        if (c->is_read)
            AHCI_ADD(p->st.bytes_read, c->len);
        else
            AHCI_ADD(p->st.bytes_written, c->len);
    }
    cmd_end(c);
}

void ahci_cmd_submit(struct ahci_cmd *c, enum blk_op op, uint64_t off,
                     uint64_t len, unsigned flags)
{
    struct ahci_port *p = c->p;
    if (c->parts++ == 0) {
        c->lat_op = op;
        iostats_submit(p->iosq, &c->lat);
    }
    if (op == BLK_OP_READ || op == BLK_OP_WRITE) {
        struct iovec b = { c->bounce, c->len };
        if (c->bounce)
            blk_submit(p->blk, op, off, &b, 1, 0, flags, cmd_io_done, c);
        else
            blk_submit(p->blk, op, off, c->iov, (int)c->niov, 0, flags,
                       cmd_io_done, c);
    } else {
        blk_submit(p->blk, op, off, NULL, 0, len, flags, cmd_io_done, c);
    }
}

/* ---- taking commands (§5.3.2) ---------------------------------------- */

/* A control FIS (C bit clear, §10.4.1): SRST set puts the device in
 * reset, SRST cleared after it ends the reset with a signature FIS. The
 * slot's PxCI bit clears once the FIS is sent. */
static void cmd_control(struct ahci_cmd *c, uint8_t control)
{
    struct ahci_port *p = c->p;
    pthread_mutex_lock(&p->a->lock);
    if (c->gen == p->gen && (p->cmd & PXCMD_ST)) {
        if (control & 0x04) {
            p->srst = true;
            p->tfd = (p->tfd & ~0xffu) | ATA_STS_BSY;
        } else if (p->srst) {
            p->srst = false;
            ahci_port_device_reset(p);
        }
        p->ci &= ~(1u << c->slot);
        ahci_update_irq(p->a);
    }
    slot_release(c);
    pthread_mutex_unlock(&p->a->lock);
}

static void tf_from_fis(struct ata_tf *tf, const uint8_t *f)
{
    tf->command = f[2];
    tf->features = (uint16_t)(f[3] | f[11] << 8);
    tf->lba = (uint64_t)f[4] | (uint64_t)f[5] << 8 | (uint64_t)f[6] << 16 |
              (uint64_t)f[8] << 24 | (uint64_t)f[9] << 32 |
              (uint64_t)f[10] << 40;
    tf->device = f[7];
    tf->count = (uint16_t)(f[12] | f[13] << 8);
    tf->control = f[15];
}

/* Read the command header and FIS, check them, run the command. */
static void cmd_start(struct ahci_cmd *c)
{
    struct ahci_port *p = c->p;
    struct machine *m = p->a->m;
    AHCI_INC(p->st.cmds);
    iostats_req_start(&c->lat, p->doorbell_ns);
    c->failed = false;
    c->err = 0;
    c->parts = 0;
    c->prdbc = 0;
    c->len = 0;
    c->niov = 0;
    c->is_read = false;
    c->done = DONE_D2H;
    memset(&c->res, 0, sizeof(c->res));
    c->res.status = ATA_STS_OK;
    uint64_t ha = c->clb + 32ull * c->slot;
    const uint8_t *h = machine_ram_ptr(m, ha, 16);
    if (!h)
        return cmd_hbfs(c, "command header", ha);
    uint32_t dw0 = ld32(h);
    c->ctba = ((uint64_t)ld32(h + 12) << 32 | ld32(h + 8)) & ~0x7full;
    c->prdtl = dw0 >> CMDH_PRDTL_SHIFT;
    const uint8_t *t = machine_ram_ptr(m, c->ctba, 64);
    if (!t)
        return cmd_hbfs(c, "command table", c->ctba);
    uint8_t fis[20];
    memcpy(fis, t, sizeof(fis));
    unsigned cfl = dw0 & CMDH_CFL_MASK;
    const char *why = NULL;
    if (fis[0] != FIS_REG_H2D)
        why = "command FIS is not a Register H2D FIS";
    else if (cfl < 5 || cfl > 16)
        why = "command FIS length out of range";
    else if (dw0 & CMDH_ATAPI)
        why = "ATAPI command to an ATA disk";
    if (why) {
        log_guest_error("%s: slot %u: %s", p->name, c->slot, why);
        ahci_cmd_fail(c, ATA_ERR_ABRT);
        return ahci_cmd_finish(c);
    }
    if (!(fis[1] & 0x80))
        return cmd_control(c, fis[15]);
    tf_from_fis(&c->tf, fis);
    ahci_ata_exec(c);
}

/* Take the issued slots that are free (lock held); returns them. A slot
 * whose previous, aborted command is still out waits; an NCQ tag issued
 * again while its command runs is a protocol error (SATA §13.6.4). */
static uint32_t take_slots(struct ahci_port *p)
{
    if (!(p->cmd & PXCMD_ST) || p->halted || !p->present)
        return 0;
    uint32_t again = p->pending & p->busy & p->ncq_tags;
    if (again) {
        unsigned tag = (unsigned)__builtin_ctz(again);
        log_guest_error("%s: NCQ tag %u issued again while in flight",
                        p->name, tag);
        p->pending &= ~again;
        p->ncq_err = true;
        p->ncq_err_tag = (uint8_t)tag;
        p->ncq_err_status = ATA_STS_DRDY | ATA_STS_ERR;
        p->ncq_err_error = ATA_ERR_ABRT;
        p->ncq_err_lba = 0;
        post_sdb(p, ATA_STS_DRDY | ATA_STS_ERR, ATA_ERR_ABRT, 0);
        p->is |= PXIS_TFES;
        p->halted = true;
        AHCI_INC(p->st.tf_errors);
        ahci_update_irq(p->a);
        return 0;
    }
    uint32_t take = p->pending & ~p->busy;
    p->pending &= ~take;
    p->busy |= take;
    for (uint32_t t = take; t; t &= t - 1) {
        struct ahci_cmd *c = &p->cmds[__builtin_ctz(t)];
        c->state = CMD_BUSY;
        c->gen = p->gen;
        c->clb = p->clb;
        c->wce = p->wce;
        p->inflight++;
    }
    if (p->inflight > atomic_load_explicit(&p->st.max_inflight,
                                           memory_order_relaxed))
        atomic_store_explicit(&p->st.max_inflight, p->inflight,
                              memory_order_relaxed);
    return take;
}

void ahci_port_bh(void *opaque)
{
    struct ahci_port *p = opaque;
    /* Taken even when no slot is: a doorbell left behind would date
     * later commands. */
    p->doorbell_ns = iostats_take_doorbell(p->iosq);
    pthread_mutex_lock(&p->a->lock);
    uint32_t take = take_slots(p);
    bool release = p->release_delays;
    p->release_delays = false;
    pthread_mutex_unlock(&p->a->lock);
    if (release)
        blk_release_delayed(p->blk);
    if (!take)
        return;
    AHCI_INC(p->st.batches);
    blk_plug(p->blk);
    for (; take; take &= take - 1)
        cmd_start(&p->cmds[__builtin_ctz(take)]);
    blk_unplug(p->blk);
}
