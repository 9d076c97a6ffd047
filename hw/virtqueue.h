/*
 * hw/virtqueue.h — the device side of a split virtqueue (virtio 1.2 §2.7):
 * popping descriptor chains from the available ring into iovecs over guest
 * RAM, pushing them to the used ring, and notification suppression both
 * ways (flags, or VIRTIO_F_EVENT_IDX's used_event / avail_event).
 *
 * Guest memory is hostile (DESIGN.md): every ring and buffer address goes
 * through machine_ram_ptr(); a chain takes at most `size` descriptors
 * (virtio 1.2 §2.7.5.3.1 — which also catches loops, direct or through an
 * indirect table); one indirect table per chain and none inside another;
 * no zero-length buffer; device-writable buffers after readable ones
 * (§2.7.4.2); the byte total fits in 32 bits (used.len). A chain that
 * breaks a rule makes vq_pop() fail with a reason: the device then sets
 * DEVICE_NEEDS_RESET (§2.1.2) and stops using the queue.
 *
 * Threads: one thread (the queue's iothread) calls everything here. The
 * driver runs concurrently on a vCPU: avail.idx is loaded with acquire
 * semantics before the entries it publishes are read, used.idx is stored
 * with release semantics after the entries it publishes, and a full fence
 * separates "publish used.idx" from "read used_event" (and "write
 * avail_event" from "re-read avail.idx"), the store→load orderings
 * §2.7.7 / §2.7.10 rely on.
 */
#ifndef HW_VIRTQUEUE_H
#define HW_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct machine;

#define VQ_DESC_F_NEXT     1u
#define VQ_DESC_F_WRITE    2u
#define VQ_DESC_F_INDIRECT 4u
#define VQ_AVAIL_F_NO_INTERRUPT 1u
#define VQ_USED_F_NO_NOTIFY     1u

/* Largest queue size this implementation accepts (virtio allows 32768). */
#define VQ_MAX_SIZE 1024u

struct vq {
    struct machine *m;
    uint16_t size;          /* power of two, 1..VQ_MAX_SIZE */
    uint8_t *desc;          /* 16 * size bytes */
    uint8_t *avail;         /* flags, idx, ring[size], used_event */
    uint8_t *used;          /* flags, idx, ring[size] {id, len}, avail_event */
    bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
    bool indirect;          /* VIRTIO_F_INDIRECT_DESC negotiated */
    uint16_t last_avail;    /* next available entry to take */
    uint16_t used_idx;      /* our copy of used.idx */
    uint16_t signalled_used;/* used.idx at the last interrupt decision */
    bool signalled_valid;
    unsigned inflight;      /* popped, not yet pushed */
};

/* A popped chain: iov[0 .. out_num) are device-readable, iov[out_num ..
 * out_num + in_num) device-writable; each iovec is one descriptor (guest
 * RAM is one host mapping). `iov` is supplied by the caller with room for
 * `size` entries of the queue. */
struct vq_elem {
    uint16_t head;
    unsigned out_num, in_num;
    uint32_t out_len, in_len;
    struct iovec *iov;
};

/* Map a queue (virtio 1.2 §2.7: descriptor table 16-byte aligned, driver
 * area 2-byte, device area 4-byte). False, with a reason, if the size is
 * not a power of two in 1..VQ_MAX_SIZE, or any ring is misaligned or not
 * entirely in guest RAM. */
bool vq_init(struct vq *q, struct machine *m, unsigned size, uint64_t desc,
             uint64_t avail, uint64_t used, bool event_idx, bool indirect,
             const char **why);

/* Take the next available chain. 1: `e` filled; 0: nothing available;
 * -1: the driver broke a rule, `*why` says which (the queue must not be
 * used again until reset). */
int vq_pop(struct vq *q, struct vq_elem *e, const char **why);

/* Return chain `head` with `len` bytes written by the device, and publish
 * it (used.idx, release). */
void vq_push(struct vq *q, uint16_t head, uint32_t len);

/* After one or more vq_push(): should the driver be interrupted?
 * (§2.7.7.2: VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX.) */
bool vq_should_notify(struct vq *q);

/* Ask the driver not to notify while the device is busy polling the ring
 * (VIRTQ_USED_F_NO_NOTIFY; with EVENT_IDX, avail_event is simply not
 * advanced). */
void vq_disable_notify(struct vq *q);

/* Ask for notifications again (used.flags = 0, or avail_event =
 * last_avail) and re-check the ring: true if entries arrived meanwhile,
 * which the caller must then process (no notification will come). */
bool vq_enable_notify(struct vq *q);

/* True if the available ring has entries not yet popped. */
bool vq_has_avail(struct vq *q);

#endif
