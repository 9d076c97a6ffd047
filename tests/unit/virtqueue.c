/*
 * tests/unit/virtqueue.c — the split-ring walk over a fake guest RAM, one
 * test per rule a hostile driver can break (loops direct and through an
 * indirect table, addresses outside RAM, zero-length and over-long chains,
 * nested indirect tables, 32-bit length overflow, ordering, ring index
 * jumps), plus used-ring publication and EVENT_IDX / flag suppression in
 * both directions.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "hw/machine.h"
#include "hw/virtqueue.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define QSZ 8
#define DESC  (RAM_BASE + 0x1000)
#define AVAIL (RAM_BASE + 0x2000)
#define USED  (RAM_BASE + 0x3000)
#define BUF   (RAM_BASE + 0x10000)
#define TABLE (RAM_BASE + 0x8000)

static struct machine m;
static struct vq q;
static struct iovec iov[QSZ];
static struct vq_elem e = { .iov = iov };
static uint16_t avail_idx;

static void *ram(uint64_t gpa) { return m.ram + (gpa - RAM_BASE); }

static void setup(void)
{
    m.ram_base = RAM_BASE;
    m.ram_size = RAM_SIZE;
    m.ram = calloc(1, RAM_SIZE);
    avail_idx = 0;
    const char *why = NULL;
    cr_assert(vq_init(&q, &m, QSZ, DESC, AVAIL, USED, true, true, &why),
              "%s", why);
}

static void teardown(void)
{
    free(m.ram);
}

TestSuite(vq, .init = setup, .fini = teardown, .timeout = 10);

static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                    uint16_t flags, uint16_t next)
{
    uint8_t *d = ram(table + 16 * i);
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);
    memcpy(d, &a, 8);
    memcpy(d + 8, &l, 4);
    memcpy(d + 12, &f, 2);
    memcpy(d + 14, &n, 2);
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    desc_at(DESC, i, addr, len, flags, next);
}

static void offer(uint16_t head)
{
    *(uint16_t *)ram(AVAIL + 4 + 2 * (avail_idx % QSZ)) = htole16(head);
    avail_idx++;
    *(uint16_t *)ram(AVAIL + 2) = htole16(avail_idx);
}

static void expect_error(const char *substr)
{
    const char *why = NULL;
    cr_assert_eq(vq_pop(&q, &e, &why), -1);
    cr_assert(why && strstr(why, substr), "reason: %s", why ? why : "(none)");
}

Test(vq, empty_ring_pops_nothing)
{
    const char *why;
    cr_assert_eq(vq_pop(&q, &e, &why), 0);
}

Test(vq, simple_chain)
{
    desc(0, BUF, 16, VQ_DESC_F_NEXT, 1);
    desc(1, BUF + 100, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 2);
    desc(2, BUF + 700, 1, VQ_DESC_F_WRITE, 0);
    offer(0);
    const char *why;
    cr_assert_eq(vq_pop(&q, &e, &why), 1);
    cr_assert_eq(e.head, 0);
    cr_assert_eq(e.out_num, 1);
    cr_assert_eq(e.in_num, 2);
    cr_assert_eq(e.out_len, 16);
    cr_assert_eq(e.in_len, 513);
    cr_assert_eq(iov[1].iov_base, ram(BUF + 100));
    cr_assert_eq(vq_pop(&q, &e, &why), 0);
}

Test(vq, loop_in_direct_chain)
{
    desc(0, BUF, 16, VQ_DESC_F_NEXT, 1);
    desc(1, BUF, 16, VQ_DESC_F_NEXT, 0);
    offer(0);
    expect_error("longer than the queue");
}

Test(vq, self_loop)
{
    desc(3, BUF, 16, VQ_DESC_F_NEXT, 3);
    offer(3);
    expect_error("longer than the queue");
}

Test(vq, loop_inside_indirect_table)
{
    desc_at(TABLE, 0, BUF, 16, VQ_DESC_F_NEXT, 1);
    desc_at(TABLE, 1, BUF, 16, VQ_DESC_F_NEXT, 0);
    desc(0, TABLE, 32, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("longer than the queue");
}

Test(vq, indirect_table_bigger_than_queue_still_bounded)
{
    /* A 64-entry table whose chain runs through all of it: more buffers
     * than the queue size is refused. */
    for (unsigned i = 0; i < 64; i++)
        desc_at(TABLE, i, BUF, 16, VQ_DESC_F_NEXT, (uint16_t)(i + 1));
    desc(0, TABLE, 64 * 16, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("longer than the queue");
}

Test(vq, buffer_outside_ram)
{
    desc(0, RAM_BASE + RAM_SIZE - 8, 16, 0, 0);
    offer(0);
    expect_error("outside guest RAM");
}

Test(vq, buffer_address_wraps)
{
    desc(0, UINT64_MAX - 4, 16, 0, 0);
    offer(0);
    expect_error("outside guest RAM");
}

Test(vq, buffer_below_ram)
{
    desc(0, 0x1000, 16, 0, 0);
    offer(0);
    expect_error("outside guest RAM");
}

Test(vq, indirect_table_outside_ram)
{
    desc(0, RAM_BASE + RAM_SIZE - 16, 32, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("indirect table outside guest RAM");
}

Test(vq, zero_length_descriptor)
{
    desc(0, BUF, 16, VQ_DESC_F_NEXT, 1);
    desc(1, BUF, 0, VQ_DESC_F_WRITE, 0);
    offer(0);
    expect_error("zero-length");
}

Test(vq, over_long_chain)
{
    for (unsigned i = 0; i < QSZ; i++)
        desc(i, BUF, 16, VQ_DESC_F_NEXT, (uint16_t)(i + 1));
    /* next of the last one points out of the table */
    offer(0);
    expect_error("out of range");
}

Test(vq, nested_indirect)
{
    uint64_t inner = TABLE + 0x400;
    desc_at(inner, 0, BUF, 16, 0, 0);
    desc_at(TABLE, 0, inner, 16, VQ_DESC_F_INDIRECT, 0);
    desc(0, TABLE, 16, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("inside an indirect table");
}

Test(vq, indirect_with_next)
{
    desc_at(TABLE, 0, BUF, 16, 0, 0);
    desc(0, TABLE, 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_NEXT, 1);
    offer(0);
    expect_error("NEXT");
}

Test(vq, indirect_length_not_multiple_of_16)
{
    desc(0, TABLE, 24, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("multiple of 16");
}

Test(vq, indirect_without_feature)
{
    const char *why;
    cr_assert(vq_init(&q, &m, QSZ, DESC, AVAIL, USED, true, false, &why));
    desc_at(TABLE, 0, BUF, 16, 0, 0);
    desc(0, TABLE, 16, VQ_DESC_F_INDIRECT, 0);
    offer(0);
    expect_error("VIRTIO_F_INDIRECT_DESC");
}

Test(vq, lengths_overflowing_32_bits)
{
    /* Two 3 GiB buffers need a RAM that large to pass the address check:
     * claim 6 GiB of RAM but allocate only the first MiB — vq_pop never
     * touches buffer contents, only the rings at the start. */
    free(m.ram);
    m.ram_size = 6ull << 30;
    m.ram = calloc(1, 1 << 20);     /* only the rings are touched */
    const char *why;
    cr_assert(vq_init(&q, &m, QSZ, DESC, AVAIL, USED, true, true, &why));
    desc(0, RAM_BASE + 0x100000, 0xc0000000u, VQ_DESC_F_NEXT, 1);
    desc(1, RAM_BASE + 0x100000, 0xc0000000u, VQ_DESC_F_WRITE, 0);
    offer(0);
    expect_error("4 GiB");
}

Test(vq, readable_after_writable)
{
    desc(0, BUF, 16, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
    desc(1, BUF, 16, 0, 0);
    offer(0);
    expect_error("readable descriptor after a writable");
}

Test(vq, head_out_of_range)
{
    offer(QSZ);
    expect_error("out of range");
}

Test(vq, avail_index_jumps_past_queue_size)
{
    *(uint16_t *)ram(AVAIL + 2) = htole16(QSZ + 1);
    expect_error("more than the queue size");
}

Test(vq, more_in_flight_than_queue_size)
{
    desc(0, BUF, 16, 0, 0);
    const char *why;
    for (unsigned i = 0; i < QSZ; i++) {
        offer(0);
        cr_assert_eq(vq_pop(&q, &e, &why), 1);
    }
    offer(0);
    expect_error("in flight");
}

Test(vq, bad_ring_setup_refused)
{
    const char *why;
    cr_assert_not(vq_init(&q, &m, 6, DESC, AVAIL, USED, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, 0, DESC, AVAIL, USED, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, 2048, DESC, AVAIL, USED, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, QSZ, DESC + 8, AVAIL, USED, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, QSZ, DESC, AVAIL + 1, USED, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, QSZ, DESC, AVAIL, USED + 2, 0, 0, &why));
    cr_assert_not(vq_init(&q, &m, QSZ, RAM_BASE + RAM_SIZE - 64, AVAIL, USED,
                          0, 0, &why));
    cr_assert_not(vq_init(&q, &m, QSZ, DESC, AVAIL, 0x1000, 0, 0, &why));
}

Test(vq, push_publishes_used_entries)
{
    desc(5, BUF, 16, 0, 0);
    offer(5);
    const char *why;
    cr_assert_eq(vq_pop(&q, &e, &why), 1);
    vq_push(&q, e.head, 77);
    cr_assert_eq(le16toh(*(uint16_t *)ram(USED + 2)), 1);
    cr_assert_eq(le32toh(*(uint32_t *)ram(USED + 4)), 5);
    cr_assert_eq(le32toh(*(uint32_t *)ram(USED + 8)), 77);
    cr_assert_eq(q.inflight, 0);
}

Test(vq, event_idx_interrupt_decisions)
{
    desc(0, BUF, 16, 0, 0);
    const char *why;
    uint16_t *used_event = ram(AVAIL + 4 + 2 * QSZ);
    /* First completion always interrupts. */
    offer(0);
    vq_pop(&q, &e, &why);
    vq_push(&q, 0, 1);
    cr_assert(vq_should_notify(&q));
    /* Driver wants to hear when used.idx passes 3. */
    *used_event = htole16(3);
    for (int i = 0; i < 2; i++) {
        offer(0);
        vq_pop(&q, &e, &why);
        vq_push(&q, 0, 1);
        cr_assert_not(vq_should_notify(&q), "used %u", q.used_idx);
    }
    offer(0);
    vq_pop(&q, &e, &why);
    vq_push(&q, 0, 1);                  /* used.idx 3 → 4 crosses 3 */
    cr_assert(vq_should_notify(&q));
}

Test(vq, flags_interrupt_suppression_without_event_idx)
{
    const char *why;
    cr_assert(vq_init(&q, &m, QSZ, DESC, AVAIL, USED, false, false, &why));
    *(uint16_t *)ram(AVAIL) = htole16(VQ_AVAIL_F_NO_INTERRUPT);
    cr_assert_not(vq_should_notify(&q));
    *(uint16_t *)ram(AVAIL) = 0;
    cr_assert(vq_should_notify(&q));
    vq_disable_notify(&q);
    cr_assert_eq(le16toh(*(uint16_t *)ram(USED)), VQ_USED_F_NO_NOTIFY);
    cr_assert_not(vq_enable_notify(&q));
    cr_assert_eq(le16toh(*(uint16_t *)ram(USED)), 0);
}

Test(vq, enable_notify_publishes_avail_event_and_rechecks)
{
    desc(0, BUF, 16, 0, 0);
    const char *why;
    offer(0);
    offer(0);
    vq_pop(&q, &e, &why);
    /* One still available: enable_notify reports it. */
    cr_assert(vq_enable_notify(&q));
    cr_assert_eq(le16toh(*(uint16_t *)ram(USED + 4 + 8 * QSZ)), 1);
    vq_pop(&q, &e, &why);
    cr_assert_not(vq_enable_notify(&q));
    cr_assert_eq(le16toh(*(uint16_t *)ram(USED + 4 + 8 * QSZ)), 2);
}
