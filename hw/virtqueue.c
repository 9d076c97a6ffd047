/*
 * hw/virtqueue.c — split virtqueues, device side (see virtqueue.h).
 */
#include "hw/virtqueue.h"

#include <endian.h>
#include <stdatomic.h>
#include <string.h>

#include "hw/machine.h"

/* Ring layout (virtio 1.2 §2.7.6, §2.7.8). */
#define AVAIL_FLAGS 0
#define AVAIL_IDX   2
#define AVAIL_RING  4
#define USED_FLAGS  0
#define USED_IDX    2
#define USED_RING   4

static size_t avail_bytes(unsigned size) { return 6 + 2 * (size_t)size; }
static size_t used_bytes(unsigned size) { return 6 + 8 * (size_t)size; }

/* 16-bit ring fields the driver updates concurrently. Guest RAM is plain
 * bytes; the rings are aligned (checked in vq_init), so these casts give
 * naturally aligned atomic objects. */
static uint16_t ld16(const uint8_t *p, memory_order mo)
{
    return le16toh(atomic_load_explicit((const _Atomic uint16_t *)p, mo));
}

static void st16(uint8_t *p, uint16_t v, memory_order mo)
{
    atomic_store_explicit((_Atomic uint16_t *)p, htole16(v), mo);
}

bool vq_init(struct vq *q, struct machine *m, unsigned size, uint64_t desc,
             uint64_t avail, uint64_t used, bool event_idx, bool indirect,
             const char **why)
{
    memset(q, 0, sizeof(*q));
    if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1))) {
        *why = "queue size is not a power of two in 1..1024";
        return false;
    }
    if ((desc & 15) || (avail & 1) || (used & 3)) {
        *why = "ring address misaligned";
        return false;
    }
    q->desc = machine_ram_ptr(m, desc, 16 * (uint64_t)size);
    q->avail = machine_ram_ptr(m, avail, avail_bytes(size));
    q->used = machine_ram_ptr(m, used, used_bytes(size));
    if (!q->desc || !q->avail || !q->used) {
        *why = "ring outside guest RAM";
        return false;
    }
    q->m = m;
    q->size = (uint16_t)size;
    q->event_idx = event_idx;
    q->indirect = indirect;
    /* Both indexes start at 0 (§2.7.13: the driver zeroes the rings). */
    return true;
}

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* A copy of descriptor i of `table`: later guest writes cannot change
 * what was checked. */
static struct vq_desc read_desc(const uint8_t *table, unsigned i)
{
    uint8_t raw[16];
    memcpy(raw, table + 16 * (size_t)i, sizeof(raw));
    struct vq_desc d;
    uint64_t a;
    uint32_t l;
    uint16_t f, n;
    memcpy(&a, raw, 8);
    memcpy(&l, raw + 8, 4);
    memcpy(&f, raw + 12, 2);
    memcpy(&n, raw + 14, 2);
    d.addr = le64toh(a);
    d.len = le32toh(l);
    d.flags = le16toh(f);
    d.next = le16toh(n);
    return d;
}

/* Enter an indirect table (§2.7.5.3): one per chain, never with NEXT. */
static int enter_indirect(struct vq *q, const struct vq_desc *d,
                          const uint8_t **table, unsigned *table_size,
                          bool *in_indirect, const char **why)
{
    if (!q->indirect) {
        *why = "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
        return -1;
    }
    if (*in_indirect) {
        *why = "indirect descriptor inside an indirect table";
        return -1;
    }
    if (d->flags & VQ_DESC_F_NEXT) {
        *why = "indirect descriptor with NEXT set";
        return -1;
    }
    if (d->len == 0 || d->len % 16) {
        *why = "indirect table length not a non-zero multiple of 16";
        return -1;
    }
    *table = machine_ram_ptr(q->m, d->addr, d->len);
    if (!*table) {
        *why = "indirect table outside guest RAM";
        return -1;
    }
    *table_size = d->len / 16;
    *in_indirect = true;
    return 0;
}

/* Add one buffer descriptor to the element. */
static int add_buffer(struct vq *q, struct vq_elem *e, const struct vq_desc *d,
                      uint64_t *total, const char **why)
{
    if (d->len == 0) {
        *why = "zero-length descriptor";
        return -1;
    }
    void *p = machine_ram_ptr(q->m, d->addr, d->len);
    if (!p) {
        *why = "buffer outside guest RAM";
        return -1;
    }
    unsigned n = e->out_num + e->in_num;
    if (n >= q->size) {
        *why = "descriptor chain longer than the queue (a loop?)";
        return -1;
    }
    *total += d->len;
    if (*total > UINT32_MAX) {
        *why = "descriptor lengths add up to more than 4 GiB";
        return -1;
    }
    if (d->flags & VQ_DESC_F_WRITE) {
        e->in_num++;
        e->in_len += d->len;
    } else {
        if (e->in_num) {
            *why = "device-readable descriptor after a writable one";
            return -1;
        }
        e->out_num++;
        e->out_len += d->len;
    }
    e->iov[n].iov_base = p;
    e->iov[n].iov_len = d->len;
    return 0;
}

/* Walk the chain starting at `head` (§2.7.5). Each step adds a buffer or
 * enters the one indirect table, and buffers are bounded by the queue
 * size, so the walk ends in at most size + 1 steps whatever the guest
 * wrote — a loop included. */
static int walk_chain(struct vq *q, struct vq_elem *e, const char **why)
{
    const uint8_t *table = q->desc;
    unsigned table_size = q->size, i = e->head;
    bool in_indirect = false;
    uint64_t total = 0;
    for (;;) {
        struct vq_desc d = read_desc(table, i);
        if (d.flags & VQ_DESC_F_INDIRECT) {
            if (enter_indirect(q, &d, &table, &table_size, &in_indirect,
                               why) < 0)
                return -1;
            i = 0;
            continue;
        }
        if (add_buffer(q, e, &d, &total, why) < 0)
            return -1;
        if (!(d.flags & VQ_DESC_F_NEXT))
            return 0;
        i = d.next;
        if (i >= table_size) {
            *why = "next descriptor index out of range";
            return -1;
        }
    }
}

int vq_pop(struct vq *q, struct vq_elem *e, const char **why)
{
    uint16_t avail_idx = ld16(q->avail + AVAIL_IDX, memory_order_acquire);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size) {
        *why = "available index moved by more than the queue size";
        return -1;
    }
    if (q->inflight >= q->size) {
        *why = "more requests in flight than the queue size";
        return -1;
    }
    uint16_t head;
    memcpy(&head, q->avail + AVAIL_RING + 2 * (size_t)(q->last_avail % q->size),
           2);
    head = le16toh(head);
    if (head >= q->size) {
        *why = "available ring entry out of range";
        return -1;
    }
    e->head = head;
    e->out_num = e->in_num = 0;
    e->out_len = e->in_len = 0;
    if (walk_chain(q, e, why) < 0)
        return -1;
    q->last_avail++;
    q->inflight++;
    return 1;
}

void vq_push(struct vq *q, uint16_t head, uint32_t len)
{
    uint8_t *el = q->used + USED_RING + 8 * (size_t)(q->used_idx % q->size);
    uint32_t id32 = htole32(head), len32 = htole32(len);
    memcpy(el, &id32, 4);
    memcpy(el + 4, &len32, 4);
    q->used_idx++;
    st16(q->used + USED_IDX, q->used_idx, memory_order_release);
    if (q->inflight)
        q->inflight--;
}

bool vq_should_notify(struct vq *q)
{
    /* used.idx must be visible before we read the driver's suppression
     * state, or both sides may decide the other will act. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!q->event_idx)
        return !(ld16(q->avail + AVAIL_FLAGS, memory_order_relaxed) &
                 VQ_AVAIL_F_NO_INTERRUPT);
    uint16_t old = q->signalled_used, now = q->used_idx;
    bool valid = q->signalled_valid;
    q->signalled_used = now;
    q->signalled_valid = true;
    if (!valid)
        return true;
    uint16_t ev = ld16(q->avail + AVAIL_RING + 2 * (size_t)q->size,
                       memory_order_relaxed);
    /* §2.7.10: interrupt if used_event lies in [old, now). */
    return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

void vq_disable_notify(struct vq *q)
{
    if (!q->event_idx)
        st16(q->used + USED_FLAGS, VQ_USED_F_NO_NOTIFY, memory_order_relaxed);
}

bool vq_enable_notify(struct vq *q)
{
    if (q->event_idx)
        st16(q->used + USED_RING + 8 * (size_t)q->size, q->last_avail,
             memory_order_relaxed);
    else
        st16(q->used + USED_FLAGS, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    return vq_has_avail(q);
}

bool vq_has_avail(struct vq *q)
{
    return ld16(q->avail + AVAIL_IDX, memory_order_acquire) != q->last_avail;
}
