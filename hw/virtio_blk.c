/*
 * hw/virtio_blk.c — virtio-blk: configuration, queue life cycle on the
 * iothreads, request parsing and completion (see virtio_blk.h).
 */
#include "hw/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/iostats.h"
#include "hw/machine.h"
#include "hw/virtqueue.h"
#include "util/clock.h"
#include "util/iothread.h"
#include "util/log.h"
#include "util/loop.h"

#define ADD(c, n) atomic_fetch_add_explicit(&(c), (n), memory_order_relaxed)
#define INC(c) ADD(c, 1)

struct vblk_req {
    struct vblk_queue *q;
    struct vq_elem elem;
    uint8_t *status;        /* last device-writable byte of the chain */
    uint32_t data_len;      /* READ/WRITE payload bytes */
    enum blk_op op;
    bool is_read;
    struct iostats_req lat;
    struct vblk_req *next;  /* free list */
};

struct vblk_queue {
    struct virtio_blk *vb;
    unsigned index;
    struct iothread *io;
    struct blk *blk;
    struct loop_bh *bh;
    struct iostats_queue *ios;
    uint64_t doorbell_ns;   /* of the requests the bottom half takes */
    /* Owned by the iothread. */
    bool started, stopping, broken, in_bh, notify_pending;
    struct vq vq;
    struct vblk_req *reqs, *free;
    struct iovec *iovs;
    unsigned inflight;      /* submitted to the block layer */
    struct {
        _Atomic uint64_t reqs[BLK_OP__COUNT], get_id, unsupp, ioerr,
            bytes_read, bytes_written, kicks, batches, interrupts,
            max_inflight;
    } st;
};

struct virtio_blk {
    struct virtio_pci t;
    struct machine *m;
    char *name;
    uint8_t config[VBLK_CFG_LEN];
    char serial[VIRTIO_BLK_ID_BYTES];
    bool readonly;
    uint64_t sectors;
    unsigned nq, nio;
    struct vblk_queue *queues;
    struct iothread **io;
    struct blk **blks;
    struct iostats_drive *ios;
    _Atomic unsigned stop_pending;
};

/* ---- iovec helpers -------------------------------------------------- */

static void iov_gather(const struct iovec *iov, unsigned n, void *buf,
                       size_t len)
{
    uint8_t *d = buf;
    for (unsigned i = 0; i < n && len; i++) {
        size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;
        memcpy(d, iov[i].iov_base, k);
        d += k;
        len -= k;
    }
}

static size_t iov_scatter(struct iovec *iov, unsigned n, const void *buf,
                          size_t len)
{
    const uint8_t *s = buf;
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
        memcpy(iov[i].iov_base, s + done, k);
        done += k;
    }
    return done;
}

/* Drop the first `skip` bytes of iov[0..*n) in place; returns the new
 * start. */
static struct iovec *iov_skip(struct iovec *iov, unsigned *n, size_t skip)
{
    while (*n && skip >= iov->iov_len) {
        skip -= iov->iov_len;
        iov++;
        (*n)--;
    }
    if (*n && skip) {
        iov->iov_base = (uint8_t *)iov->iov_base + skip;
        iov->iov_len -= skip;
    }
    return iov;
}

/* ---- completion ----------------------------------------------------- */

static void queue_stop_finish(struct vblk_queue *q);

static bool queue_interrupt(struct vblk_queue *q)
{
    if (!vq_should_notify(&q->vq))
        return false;
    INC(q->st.interrupts);
    virtio_pci_notify_used(&q->vb->t);
    return true;
}

/* Write the status, return the chain, maybe interrupt (§5.2.6). True if
 * an interrupt was sent for it now. */
static bool req_complete(struct vblk_queue *q, struct vblk_req *r,
                         uint8_t status, uint32_t used_len)
{
    *r->status = status;
    if (status == VIRTIO_BLK_S_IOERR)
        INC(q->st.ioerr);
    else if (status == VIRTIO_BLK_S_UNSUPP)
        INC(q->st.unsupp);
    vq_push(&q->vq, r->elem.head, used_len);
    r->next = q->free;
    q->free = r;
    if (q->stopping)
        return false;   /* the driver is resetting: no interrupt */
    if (!q->in_bh)
        return queue_interrupt(q);
    q->notify_pending = true;
    return false;
}

static void req_done(void *opaque, int ret)
{
    struct vblk_req *r = opaque;
    struct vblk_queue *q = r->q;
    q->inflight--;
    uint8_t status = VIRTIO_BLK_S_OK;
    if (ret < 0 && !(r->op == BLK_OP_DISCARD && ret == -EOPNOTSUPP)) {
        /* A discard the host cannot do is still a valid hint. */
        status = VIRTIO_BLK_S_IOERR;
        log_debug("%s: %s failed: %s", q->vb->name, blk_op_name(r->op),
                  strerror(-ret));
    } else if (r->op == BLK_OP_READ) {
        ADD(q->st.bytes_read, r->data_len);
    } else if (r->op == BLK_OP_WRITE) {
        ADD(q->st.bytes_written, r->data_len);
    }
    iostats_complete(q->ios, &r->lat, r->op, r->data_len,
                     status != VIRTIO_BLK_S_OK);
    uint32_t used = r->is_read && status == VIRTIO_BLK_S_OK
                    ? r->data_len + 1 : 1;
    if (req_complete(q, r, status, used))
        iostats_irq(q->ios, &r->lat);
    if (q->stopping && q->inflight == 0)
        queue_stop_finish(q);
}

/* ---- request parsing ------------------------------------------------ */

static bool range_ok(const struct virtio_blk *vb, uint64_t sector,
                     uint64_t bytes)
{
    return bytes % 512 == 0 && sector <= vb->sectors &&
           bytes / 512 <= vb->sectors - sector;
}

static void req_submit(struct vblk_queue *q, struct vblk_req *r,
                       enum blk_op op, uint64_t off, struct iovec *iov,
                       unsigned n, uint64_t len, unsigned flags)
{
    r->op = op;
    q->inflight++;
    if (q->inflight > atomic_load_explicit(&q->st.max_inflight,
                                           memory_order_relaxed))
        atomic_store_explicit(&q->st.max_inflight, q->inflight,
                              memory_order_relaxed);
    INC(q->st.reqs[op]);
    if (op == BLK_OP_DISCARD || op == BLK_OP_WRITE_ZEROES)
        r->data_len = (uint32_t)len;    /* for the byte counters */
    iostats_submit(q->ios, &r->lat);
    blk_submit(q->blk, op, off, iov, (int)n, len, flags, req_done, r);
}

/* DISCARD / WRITE_ZEROES (§5.2.6.2): one segment {sector, num_sectors,
 * flags} after the header; we advertise max_*_seg = 1. */
static uint8_t req_dwz(struct vblk_queue *q, struct vblk_req *r,
                       uint32_t type, const struct vq_elem *e)
{
    struct virtio_blk *vb = q->vb;
    uint32_t segs = e->out_len - 16;
    if (vb->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (segs == 0 || segs % 16)
        return VIRTIO_BLK_S_IOERR;
    if (segs / 16 > 1)
        return VIRTIO_BLK_S_UNSUPP;
    uint8_t raw[32];
    iov_gather(e->iov, e->out_num, raw, 32);
    uint64_t sector;
    uint32_t num, flags;
    memcpy(&sector, raw + 16, 8);
    memcpy(&num, raw + 24, 4);
    memcpy(&flags, raw + 28, 4);
    sector = le64toh(sector);
    num = le32toh(num);
    flags = le32toh(flags);
    /* §5.2.6.2: reserved flag bits, or UNMAP on a discard → UNSUPP. */
    if ((flags & ~VIRTIO_BLK_WZ_UNMAP) ||
        (type == VIRTIO_BLK_T_DISCARD && flags))
        return VIRTIO_BLK_S_UNSUPP;
    if (num > VBLK_MAX_DWZ_SECTORS || !range_ok(vb, sector, 512ull * num))
        return VIRTIO_BLK_S_IOERR;
    if (num == 0)
        return VIRTIO_BLK_S_OK;
    uint64_t off = sector * 512, len = 512ull * num;
    if (type == VIRTIO_BLK_T_DISCARD) {
        /* A hint: shrink it to the host's logical blocks. */
        uint32_t lbs = blk_logical_block_size(q->blk);
        uint64_t start = (off + lbs - 1) / lbs * lbs, end = (off + len) / lbs * lbs;
        if (end <= start)
            return VIRTIO_BLK_S_OK;
        req_submit(q, r, BLK_OP_DISCARD, start, NULL, 0, end - start, 0);
    } else {
        req_submit(q, r, BLK_OP_WRITE_ZEROES, off, NULL, 0, len,
                   flags & VIRTIO_BLK_WZ_UNMAP ? BLK_REQ_MAY_UNMAP : 0);
    }
    return 0xff;    /* submitted */
}

/* Parse one chain completely, then submit it or complete it at once.
 * False if it cannot even be completed (no writable status byte). */
static bool req_handle(struct vblk_queue *q, struct vblk_req *r)
{
    struct virtio_blk *vb = q->vb;
    struct vq_elem *e = &r->elem;
    if (e->in_num == 0)
        return false;
    /* The status is the last byte of the device-writable part, whatever
     * the descriptors' framing (§2.6.4). */
    struct iovec *last = &e->iov[e->out_num + e->in_num - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    last->iov_len--;
    unsigned in_n = e->in_num - (last->iov_len == 0);
    uint32_t in_data = e->in_len - 1;
    struct iovec *in_iov = &e->iov[e->out_num];
    iostats_req_start(&r->lat, q->doorbell_ns);
    r->is_read = false;
    r->data_len = 0;
    if (e->out_len < 16) {
        req_complete(q, r, VIRTIO_BLK_S_IOERR, 1);
        return true;
    }
    uint8_t hdr[16];
    iov_gather(e->iov, e->out_num, hdr, sizeof(hdr));
    uint32_t type;
    uint64_t sector;
    memcpy(&type, hdr, 4);
    memcpy(&sector, hdr + 8, 8);
    type = le32toh(type);
    sector = le64toh(sector);
    uint8_t st = VIRTIO_BLK_S_IOERR;
    uint32_t used = 1;
    switch (type) {
    case VIRTIO_BLK_T_IN:
        if (!range_ok(vb, sector, in_data))
            break;
        r->is_read = true;
        r->data_len = in_data;
        req_submit(q, r, BLK_OP_READ, sector * 512, in_iov, in_n, 0, 0);
        return true;
    case VIRTIO_BLK_T_OUT: {
        uint32_t len = e->out_len - 16;
        if (vb->readonly || !range_ok(vb, sector, len))
            break;
        unsigned n = e->out_num;
        struct iovec *iov = iov_skip(e->iov, &n, 16);
        r->data_len = len;
        req_submit(q, r, BLK_OP_WRITE, sector * 512, iov, n, 0, 0);
        return true;
    }
    case VIRTIO_BLK_T_FLUSH:
        req_submit(q, r, BLK_OP_FLUSH, 0, NULL, 0, 0, 0);
        return true;
    case VIRTIO_BLK_T_GET_ID:
        INC(q->st.get_id);
        used += (uint32_t)iov_scatter(in_iov, in_n, vb->serial,
                                      in_data < VIRTIO_BLK_ID_BYTES
                                      ? in_data : VIRTIO_BLK_ID_BYTES);
        st = VIRTIO_BLK_S_OK;
        break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        st = req_dwz(q, r, type, e);
        if (st == 0xff)
            return true;
        break;
    default:
        st = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    req_complete(q, r, st, used);
    return true;
}

/* ---- the queue's bottom half (iothread) ------------------------------ */

static void queue_broken(struct vblk_queue *q, const char *why)
{
    q->broken = true;
    log_guest_error("%s: queue %u: %s; device needs reset", q->vb->name,
                    q->index, why);
    virtio_pci_set_needs_reset(&q->vb->t);
}

/* Take every available chain. False if the queue broke. */
static bool queue_drain_avail(struct vblk_queue *q)
{
    for (;;) {
        struct vblk_req *r = q->free;
        const char *why = NULL;
        if (!r) {
            /* Every slot is busy: only a driver that re-offered chains
             * still in flight can have more available. */
            if (vq_has_avail(&q->vq)) {
                queue_broken(q, "more requests in flight than the queue size");
                return false;
            }
            return true;
        }
        int got = vq_pop(&q->vq, &r->elem, &why);
        if (got == 0)
            return true;
        if (got < 0) {
            queue_broken(q, why);
            return false;
        }
        q->free = r->next;
        if (!req_handle(q, r)) {
            r->next = q->free;
            q->free = r;
            queue_broken(q, "no device-writable byte for the status");
            return false;
        }
    }
}

static void queue_bh(void *opaque)
{
    struct vblk_queue *q = opaque;
    /* Taken even when the queue is not running: a doorbell left behind
     * would date the requests after a reset. */
    q->doorbell_ns = iostats_take_doorbell(q->ios);
    if (!q->started || q->stopping || q->broken)
        return;
    INC(q->st.batches);
    blk_plug(q->blk);
    q->in_bh = true;
    for (;;) {
        vq_disable_notify(&q->vq);
        if (!queue_drain_avail(q) || !vq_enable_notify(&q->vq))
            break;
    }
    q->in_bh = false;
    blk_unplug(q->blk);
    if (q->notify_pending && !q->broken) {
        q->notify_pending = false;
        queue_interrupt(q);
    }
}

struct queue_start {
    struct vblk_queue *q;
    struct virtio_queue_conf qc;
    uint64_t features;
};

static void queue_start(void *opaque)
{
    struct queue_start *s = opaque;
    struct vblk_queue *q = s->q;
    const char *why;
    if (!s->qc.enabled) {
        free(s);
        return;
    }
    bool ok = vq_init(&q->vq, q->vb->m, s->qc.size, s->qc.desc, s->qc.driver,
                      s->qc.device, s->features >> VIRTIO_F_EVENT_IDX & 1,
                      s->features >> VIRTIO_F_INDIRECT_DESC & 1, &why);
    free(s);
    if (!ok) {
        queue_broken(q, why);
        return;
    }
    unsigned n = q->vq.size;
    q->reqs = calloc(n, sizeof(*q->reqs));
    q->iovs = calloc((size_t)n * n, sizeof(*q->iovs));
    if (!q->reqs || !q->iovs) {
        free(q->reqs);
        free(q->iovs);
        q->reqs = NULL;
        q->iovs = NULL;
        queue_broken(q, "out of memory");
        return;
    }
    q->free = NULL;
    for (unsigned i = n; i-- > 0;) {
        q->reqs[i].q = q;
        q->reqs[i].elem.iov = &q->iovs[(size_t)i * n];
        q->reqs[i].next = q->free;
        q->free = &q->reqs[i];
    }
    q->started = true;
    queue_bh(q);    /* a doorbell may have come before we started */
}

static void stop_done(struct virtio_blk *vb)
{
    if (atomic_fetch_sub(&vb->stop_pending, 1) == 1)
        virtio_pci_reset_done(&vb->t);
}

static void queue_stop_finish(struct vblk_queue *q)
{
    free(q->reqs);
    free(q->iovs);
    q->reqs = NULL;
    q->iovs = NULL;
    q->free = NULL;
    q->started = q->stopping = q->broken = false;
    q->notify_pending = false;
    stop_done(q->vb);
}

static void queue_stop(void *opaque)
{
    struct vblk_queue *q = opaque;
    if (!q->started && !q->broken) {
        stop_done(q->vb);
        return;
    }
    q->stopping = true;
    blk_release_delayed(q->blk);    /* a reset does not wait out a delay */
    if (q->inflight == 0)
        queue_stop_finish(q);
}

/* ---- transport callbacks (vCPU threads) ------------------------------ */

static void vblk_start(void *dev, uint64_t features,
                       const struct virtio_queue_conf *qc, unsigned nq)
{
    struct virtio_blk *vb = dev;
    for (unsigned i = 0; i < nq && i < vb->nq; i++) {
        struct queue_start *s = malloc(sizeof(*s));
        if (s)
            *s = (struct queue_start){ &vb->queues[i], qc[i], features };
        if (!s || !loop_call(iothread_loop(vb->queues[i].io), queue_start, s)) {
            free(s);
            virtio_pci_set_needs_reset(&vb->t);
        }
    }
}

static void vblk_notify(void *dev, unsigned q)
{
    struct virtio_blk *vb = dev;
    if (q >= vb->nq)
        return;
    INC(vb->queues[q].st.kicks);
    iostats_doorbell(vb->queues[q].ios, clock_ns());
    loop_bh_schedule(vb->queues[q].bh);
}

static void vblk_reset(void *dev)
{
    struct virtio_blk *vb = dev;
    atomic_store(&vb->stop_pending, vb->nq + 1);
    for (unsigned i = 0; i < vb->nq; i++)
        if (!loop_call(iothread_loop(vb->queues[i].io), queue_stop,
                       &vb->queues[i])) {
            log_error("%s: cannot stop queue %u (out of memory)", vb->name, i);
            stop_done(vb);
        }
    stop_done(vb);
}

static const struct virtio_dev_ops vblk_ops = {
    .start = vblk_start, .notify = vblk_notify, .reset = vblk_reset,
};

/* ---- construction ---------------------------------------------------- */

static void put_le(uint8_t *cfg, unsigned off, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static unsigned log2u(uint32_t v)
{
    unsigned l = 0;
    while (v > 1) {
        v >>= 1;
        l++;
    }
    return l;
}

/* §5.2.4: the configuration the driver reads, and the features that make
 * its fields valid. */
static uint64_t vblk_build_config(struct virtio_blk *vb)
{
    uint32_t lbs = blk_logical_block_size(vb->blks[0]);
    uint32_t pbs = blk_physical_block_size(vb->blks[0]);
    uint8_t *c = vb->config;
    put_le(c, VBLK_CFG_CAPACITY, vb->sectors, 8);
    put_le(c, VBLK_CFG_SIZE_MAX, VBLK_SIZE_MAX, 4);
    put_le(c, VBLK_CFG_SEG_MAX, VBLK_QUEUE_SIZE - 2, 4);
    put_le(c, VBLK_CFG_BLK_SIZE, lbs, 4);
    c[VBLK_CFG_PHYS_EXP] = (uint8_t)log2u(pbs / lbs);
    put_le(c, VBLK_CFG_MIN_IO, pbs / lbs, 2);
    put_le(c, VBLK_CFG_NUM_QUEUES, vb->nq, 2);
    put_le(c, VBLK_CFG_MAX_DISCARD, VBLK_MAX_DWZ_SECTORS, 4);
    put_le(c, VBLK_CFG_MAX_DISCARD_SEG, 1, 4);
    put_le(c, VBLK_CFG_DISCARD_ALIGN, lbs / 512, 4);
    put_le(c, VBLK_CFG_MAX_WZ, VBLK_MAX_DWZ_SECTORS, 4);
    put_le(c, VBLK_CFG_MAX_WZ_SEG, 1, 4);
    c[VBLK_CFG_WZ_MAY_UNMAP] = 1;
    uint64_t f = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
                 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
                 1ull << VIRTIO_BLK_F_TOPOLOGY | 1ull << VIRTIO_BLK_F_MQ |
                 1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX;
    if (vb->readonly)
        f |= 1ull << VIRTIO_BLK_F_RO;
    else
        f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    return f;
}

struct open_ctx {
    struct virtio_blk *vb;
    const struct vblk_conf *c;
    unsigned io;
    char *err;
    size_t errlen;
    bool ok;
};

/* On iothread `io`: open its handle on the image, and the bottom halves
 * of the queues it serves (loop objects are made on their loop's
 * thread). */
static void open_on_iothread(void *opaque)
{
    struct open_ctx *o = opaque;
    struct virtio_blk *vb = o->vb;
    struct loop *l = iothread_loop(vb->io[o->io]);
    vb->blks[o->io] = blk_open(&o->c->blk, l, o->err, o->errlen);
    if (!vb->blks[o->io])
        return;
    for (unsigned q = o->io; q < vb->nq; q += vb->nio) {
        vb->queues[q].bh = loop_bh_new(l, queue_bh, &vb->queues[q]);
        if (!vb->queues[q].bh) {
            snprintf(o->err, o->errlen, "%s: out of memory", vb->name);
            return;
        }
    }
    o->ok = true;
}

static void close_on_iothread(void *opaque)
{
    struct open_ctx *o = opaque;
    struct virtio_blk *vb = o->vb;
    for (unsigned q = o->io; q < vb->nq; q += vb->nio)
        if (vb->queues[q].bh) {
            loop_bh_free(vb->queues[q].bh);
            vb->queues[q].bh = NULL;
        }
    blk_close(vb->blks[o->io]);
    vb->blks[o->io] = NULL;
}

static bool vblk_open_images(struct virtio_blk *vb, const struct vblk_conf *c,
                             char *err, size_t errlen)
{
    for (unsigned i = 0; i < vb->nio; i++) {
        struct open_ctx o = { vb, c, i, err, errlen, false };
        if (!iothread_run_sync(vb->io[i], open_on_iothread, &o) || !o.ok)
            return false;
    }
    vb->sectors = blk_size(vb->blks[0]) / 512;
    return true;
}

static bool vblk_check_conf(const struct vblk_conf *c, char *err,
                            size_t errlen)
{
    if (c->num_queues < 1 || c->num_queues > VBLK_MAX_QUEUES) {
        snprintf(err, errlen, "%s: num-queues must be 1..%u", c->name,
                 VBLK_MAX_QUEUES);
        return false;
    }
    if (!c->n_iothreads || !c->iothreads) {
        snprintf(err, errlen, "%s: no iothread", c->name);
        return false;
    }
    if (c->serial && strlen(c->serial) > VIRTIO_BLK_ID_BYTES) {
        snprintf(err, errlen, "%s: serial longer than %u bytes", c->name,
                 VIRTIO_BLK_ID_BYTES);
        return false;
    }
    return true;
}

struct virtio_blk *virtio_blk_new(struct machine *m,
                                  const struct vblk_conf *c,
                                  char *err, size_t errlen)
{
    if (!vblk_check_conf(c, err, errlen))
        return NULL;
    struct virtio_blk *vb = calloc(1, sizeof(*vb));
    if (!vb)
        goto oom;
    vb->m = m;
    vb->name = strdup(c->name ? c->name : "virtio-blk");
    vb->nq = c->num_queues;
    /* More iothreads than queues would leave some idle. */
    vb->nio = c->n_iothreads < vb->nq ? c->n_iothreads : vb->nq;
    vb->readonly = c->blk.readonly;
    if (c->serial)
        memcpy(vb->serial, c->serial, strlen(c->serial));
    vb->queues = calloc(vb->nq, sizeof(*vb->queues));
    vb->io = calloc(vb->nio, sizeof(*vb->io));
    vb->blks = calloc(vb->nio, sizeof(*vb->blks));
    if (!vb->name || !vb->queues || !vb->io || !vb->blks)
        goto oom;
    memcpy(vb->io, c->iothreads, vb->nio * sizeof(*vb->io));
    for (unsigned q = 0; q < vb->nq; q++) {
        vb->queues[q].vb = vb;
        vb->queues[q].index = q;
        vb->queues[q].io = vb->io[q % vb->nio];
    }
    if (!vblk_open_images(vb, c, err, errlen)) {
        virtio_blk_free(vb);
        return NULL;
    }
    for (unsigned q = 0; q < vb->nq; q++)
        vb->queues[q].blk = vb->blks[q % vb->nio];
    struct iostats_drive_info di = {
        .id = vb->name, .iface = "virtio", .file = c->blk.file,
        .readonly = c->blk.readonly, .aio = c->blk.aio, .cache = c->blk.cache,
        .size = vb->sectors * 512, .nqueues = vb->nq,
    };
    if (!(vb->ios = iostats_drive_new(m ? m->iostats : NULL, &di)))
        goto oom;
    for (unsigned q = 0; q < vb->nq; q++)
        vb->queues[q].ios = iostats_queue(vb->ios, q);
    struct virtio_pci_conf pc = {
        .name = vb->name, .device_id = VIRTIO_ID_BLOCK,
        .class_code = 0x010000,     /* mass storage, SCSI: as QEMU */
        .features = vblk_build_config(vb), .num_queues = vb->nq,
        .max_queue_size = VBLK_QUEUE_SIZE, .config = vb->config,
        .config_len = VBLK_CFG_LEN, .ops = &vblk_ops, .dev = vb,
    };
    if (!virtio_pci_init(&vb->t, &pc))
        goto oom;
    return vb;
oom:
    snprintf(err, errlen, "%s: out of memory", c->name ? c->name : "virtio-blk");
    virtio_blk_free(vb);
    return NULL;
}

void virtio_blk_free(struct virtio_blk *vb)
{
    if (!vb)
        return;
    if (vb->t.queues) {
        virtio_pci_reset_sync(&vb->t);
        virtio_pci_destroy(&vb->t);
    }
    for (unsigned i = 0; vb->blks && i < vb->nio; i++) {
        struct open_ctx o = { vb, NULL, i, NULL, 0, false };
        if (vb->blks[i])
            iothread_run_sync(vb->io[i], close_on_iothread, &o);
    }
    free(vb->blks);
    free(vb->io);
    free(vb->queues);
    iostats_drive_free(vb->ios);
    free(vb->name);
    free(vb);
}

struct pci_dev *virtio_blk_pci(struct virtio_blk *vb)
{
    return &vb->t.pci;
}

struct virtio_pci *virtio_blk_transport(struct virtio_blk *vb)
{
    return &vb->t;
}

void virtio_blk_reset(struct virtio_blk *vb)
{
    virtio_pci_reset_sync(&vb->t);
}

unsigned virtio_blk_num_queues(const struct virtio_blk *vb)
{
    return vb->nq;
}

#define LD(c) atomic_load_explicit(&(c), memory_order_relaxed)

struct vblk_queue_stats virtio_blk_queue_stats(struct virtio_blk *vb,
                                               unsigned q)
{
    struct vblk_queue_stats s;
    memset(&s, 0, sizeof(s));
    if (q >= vb->nq)
        return s;
    struct vblk_queue *vq = &vb->queues[q];
    for (unsigned i = 0; i < BLK_OP__COUNT; i++)
        s.reqs[i] = LD(vq->st.reqs[i]);
    s.get_id = LD(vq->st.get_id);
    s.unsupp = LD(vq->st.unsupp);
    s.ioerr = LD(vq->st.ioerr);
    s.bytes_read = LD(vq->st.bytes_read);
    s.bytes_written = LD(vq->st.bytes_written);
    s.kicks = LD(vq->st.kicks);
    s.batches = LD(vq->st.batches);
    s.interrupts = LD(vq->st.interrupts);
    s.max_inflight = LD(vq->st.max_inflight);
    return s;
}

struct blk_stats virtio_blk_blk_stats(struct virtio_blk *vb)
{
    struct blk_stats sum;
    memset(&sum, 0, sizeof(sum));
    for (unsigned i = 0; i < vb->nio; i++) {
        if (!vb->blks[i])
            continue;
        struct blk_stats s = blk_get_stats(vb->blks[i]);
        for (unsigned k = 0; k < BLK_OP__COUNT; k++) {
            sum.op[k].ops += s.op[k].ops;
            sum.op[k].bytes += s.op[k].bytes;
            sum.op[k].errors += s.op[k].errors;
            sum.op[k].total_ns += s.op[k].total_ns;
        }
        sum.in_flight += s.in_flight;
        sum.max_in_flight += s.max_in_flight;
        sum.flushes += s.flushes;
        sum.fua_writes += s.fua_writes;
        sum.bounced += s.bounced;
        sum.resubmits += s.resubmits;
        sum.submit_calls += s.submit_calls;
        sum.early_completions += s.early_completions;
        sum.injected_errors += s.injected_errors;
        sum.injected_delays += s.injected_delays;
    }
    return sum;
}

struct blk *virtio_blk_get_blk(struct virtio_blk *vb)
{
    return vb->blks[0];
}
