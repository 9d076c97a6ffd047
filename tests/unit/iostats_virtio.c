/*
 * tests/unit/iostats_virtio.c — virtio-blk feeds the machine's registry:
 * the drive registers with its id and queues, every request is counted in
 * each phase, and with the iothread's wake-up for vCPU threads switched off
 * (--x-no-vcpu-wake) a kick from a "vCPU" thread waits for the loop's
 * 499 ms poll and the stall detector counts it; with the wake-up on, no
 * stall.
 */
/* The harness is a header of static helpers; this file uses a few. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "virtio_harness.h"

#include "hw/iostats.h"
#include "util/loop.h"

#define MS 1000000ull

static struct vh H;

static void setup(uint64_t threshold_ns, bool wake)
{
    vh_init_machine(&H);
    H.m.iostats = iostats_new(threshold_ns);
    cr_assert(H.m.iostats);
    struct vh_opts o = { .image_size = 1 << 20, .aio = BLK_AIO_THREADS,
                         .cache = BLK_CACHE_WRITEBACK, .num_queues = 2 };
    char err[256] = "";
    H.vb = vh_try_device(&H, &o, err, sizeof(err));
    cr_assert(H.vb, "%s", err);
    loop_set_vcpu_wake(iothread_loop(H.io[0]), wake);
    cr_assert(pci_host_plug(&H.host, virtio_blk_pci(H.vb), VH_SLOT));
    vh_cfg_wr(&H, VH_SLOT, PCI_BAR0 + 16, 4, (uint32_t)VH_BAR_ADDR);
    vh_cfg_wr(&H, VH_SLOT, PCI_BAR0 + 20, 4, (uint32_t)(VH_BAR_ADDR >> 32));
    vh_cfg_wr(&H, VH_SLOT, PCI_COMMAND, 2,
              PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    /* Without EVENT_IDX every completion interrupts: one IRQ sample each
     * (a suppressed notification has none). */
    vh_driver_up(&H, VH_ALL_FEATURES & ~(1ull << VIRTIO_F_EVENT_IDX), 2, 64);
}

static void teardown(void)
{
    loop_thread_set_vcpu(false);
    struct iostats *r = H.m.iostats;
    vh_teardown(&H);
    iostats_free(r);
}

static struct iostats_drive *the_drive(void)
{
    struct iostats_drive *d[4];
    cr_assert_eq(iostats_drives(H.m.iostats, d, 4), 1);
    return d[0];
}

/* n reads of 4 KiB on queue 0 from this thread, as a vCPU would. */
static void reads(unsigned n)
{
    uint64_t buf = vh_alloc(&H, 4096, 4096);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(vh_do(&H, 0, VIRTIO_BLK_T_IN, 8 * i, buf, 4096, NULL), 0);
}

Test(iostats_virtio, requests_are_counted_per_queue_and_phase, .timeout = 30)
{
    setup(200 * MS, true);
    reads(3);
    uint64_t w = vh_alloc(&H, 8192, 4096);
    cr_assert_eq(vh_do(&H, 1, VIRTIO_BLK_T_OUT, 64, w, 8192, NULL), 0);
    struct iostats_drive *d = the_drive();
    cr_assert_str_eq(d->info.id, "vblk-test");
    cr_assert_str_eq(d->info.iface, "virtio");
    cr_assert_eq(d->info.nqueues, 2);
    cr_assert_eq(d->info.size, 1 << 20);
    struct iostats_queue_snap s;
    iostats_queue_snapshot(iostats_queue(d, 0), &s);
    cr_assert_eq(s.ops[BLK_OP_READ], 3);
    cr_assert_eq(s.bytes[BLK_OP_READ], 3 * 4096);
    for (unsigned p = 0; p < IOSTATS_PHASES; p++)
        cr_assert_eq(s.phase[p].count, 3, "%s", iostats_phase_name(p));
    cr_assert_eq(s.stalls, 0);
    iostats_queue_snapshot(iostats_queue(d, 1), &s);
    cr_assert_eq(s.ops[BLK_OP_WRITE], 1);
    cr_assert_eq(s.bytes[BLK_OP_WRITE], 8192);
    cr_assert_eq(s.inflight, 0);
    teardown();
}

Test(iostats_virtio, lost_vcpu_wakeup_is_a_stall, .timeout = 30)
{
    setup(10 * MS, false);
    loop_thread_set_vcpu(true);
    /* After each completion the loop goes back to sleep and the next kick
     * cannot wake it: ~499 ms each (the first may land late in a sleep). */
    reads(3);
    struct iostats_queue_snap s;
    iostats_queue_snapshot(iostats_queue(the_drive(), 0), &s);
    cr_assert_geq(s.stalls, 1);
    cr_assert_geq(s.stall_max_ns, 100 * MS);
    cr_assert_geq(iostats_total_stalls(H.m.iostats), 1);
    cr_assert_eq(s.ops[BLK_OP_READ], 3);
    teardown();
}
