/*
 * tests/unit/iostats.c — per-queue I/O statistics: the oldest unprocessed
 * doorbell dates a request, the phases are recorded once each, the op,
 * byte, error and in-flight counters, the stall detector (threshold, off,
 * one warning line per second), the registry, the JSON schema, and the
 * AHCI device feeding them for real commands.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <json-c/json.h>

#include "ahci_harness.h"
#include "hw/iostats.h"
#include "hw/iostats_json.h"
#include "util/clock.h"

#define MS 1000000ull

static struct iostats_drive *one_drive(struct iostats *r, const char *id,
                                       unsigned nq)
{
    struct iostats_drive_info in = {
        .id = id, .iface = "virtio", .file = "/tmp/x.img", .size = 1 << 20,
        .nqueues = nq, .aio = BLK_AIO_IO_URING, .cache = BLK_CACHE_NONE,
    };
    struct iostats_drive *d = iostats_drive_new(r, &in);
    cr_assert(d);
    return d;
}

static struct iostats_queue_snap *snap(struct iostats_drive *d, unsigned q)
{
    static struct iostats_queue_snap s;
    iostats_queue_snapshot(iostats_queue(d, q), &s);
    return &s;
}

Test(iostats, oldest_doorbell_wins_until_taken)
{
    struct iostats_drive *d = one_drive(NULL, "d", 1);
    struct iostats_queue *q = iostats_queue(d, 0);
    iostats_doorbell(q, 1000);
    iostats_doorbell(q, 2000);          /* still unprocessed: keeps 1000 */
    cr_assert_eq(iostats_take_doorbell(q), 1000);
    uint64_t before = clock_ns();
    uint64_t t = iostats_take_doorbell(q);  /* none pending: now */
    cr_assert_geq(t, before);
    iostats_doorbell(q, 3000);
    cr_assert_eq(iostats_take_doorbell(q), 3000);
    iostats_drive_free(d);
}

Test(iostats, phases_and_counters)
{
    struct iostats *r = iostats_new(0);
    struct iostats_drive *d = one_drive(r, "d", 2);
    struct iostats_queue *q = iostats_queue(d, 1);
    struct iostats_req a, b;
    iostats_req_start(&a, clock_ns());
    iostats_req_start(&b, clock_ns());
    iostats_irq(q, &a);                 /* never submitted: nothing */
    iostats_submit(q, &a);
    iostats_submit(q, &b);
    cr_assert_eq(snap(d, 1)->inflight, 2);
    iostats_complete(q, &a, BLK_OP_READ, 4096, false);
    iostats_complete(q, &b, BLK_OP_WRITE, 512, true);
    iostats_irq(q, &a);
    iostats_irq(q, &a);                 /* once per request */
    struct iostats_queue_snap *s = snap(d, 1);
    cr_assert_eq(s->ops[BLK_OP_READ], 1);
    cr_assert_eq(s->ops[BLK_OP_WRITE], 1);
    cr_assert_eq(s->bytes[BLK_OP_READ], 4096);
    cr_assert_eq(s->bytes[BLK_OP_WRITE], 0);    /* failed: no bytes */
    cr_assert_eq(s->errors[BLK_OP_WRITE], 1);
    cr_assert_eq(s->inflight, 0);
    cr_assert_eq(s->max_inflight, 2);
    cr_assert_eq(s->phase[IOSTATS_WAIT].count, 2);
    cr_assert_eq(s->phase[IOSTATS_SERVICE].count, 2);
    cr_assert_eq(s->phase[IOSTATS_IRQ].count, 1);
    cr_assert_eq(snap(d, 0)->phase[IOSTATS_WAIT].count, 0);
    cr_assert_eq(s->stalls, 0);         /* threshold 0: detector off */
    iostats_drive_free(d);
    iostats_free(r);
}

static void stall_once(struct iostats_queue *q, uint64_t waited)
{
    struct iostats_req x;
    iostats_req_start(&x, clock_ns() - waited);
    iostats_submit(q, &x);
    iostats_complete(q, &x, BLK_OP_READ, 512, false);
}

Test(iostats, stalls_are_counted_and_warned_once_per_second,
     .init = cr_redirect_stderr)
{
    struct iostats *r = iostats_new(10 * MS);
    struct iostats_drive *d = one_drive(r, "disk7", 1);
    struct iostats_queue *q = iostats_queue(d, 0);
    stall_once(q, 1 * MS);              /* below the threshold */
    for (unsigned i = 0; i < 5; i++)
        stall_once(q, 50 * MS);
    struct iostats_queue_snap *s = snap(d, 0);
    cr_assert_eq(s->stalls, 5);
    cr_assert_geq(s->stall_max_ns, 50 * MS);
    cr_assert_eq(iostats_total_stalls(r), 5);
    iostats_set_stall_threshold(r, 0);
    stall_once(q, 500 * MS);            /* off: not a stall */
    cr_assert_eq(iostats_total_stalls(r), 5);
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    char line[512];
    unsigned lines = 0;
    while (fgets(line, sizeof(line), f)) {
        lines++;
        cr_assert(strstr(line, "stall: drive disk7 queue 0"), "%s", line);
    }
    cr_assert_eq(lines, 1, "%u warning lines, want 1", lines);
    iostats_drive_free(d);
    iostats_free(r);
}

Test(iostats, registry_lists_and_forgets_drives)
{
    struct iostats *r = iostats_new(IOSTATS_DEFAULT_STALL_NS);
    struct iostats_drive *a = one_drive(r, "a", 1), *b = one_drive(r, "b", 4);
    struct iostats_drive *list[4];
    cr_assert_eq(iostats_drives(r, list, 4), 2);
    cr_assert_eq(list[0], a);
    cr_assert_eq(list[1], b);
    cr_assert_str_eq(list[1]->info.id, "b");
    cr_assert_eq(list[1]->info.nqueues, 4);
    iostats_drive_free(a);
    cr_assert_eq(iostats_drives(r, list, 4), 1);
    cr_assert_eq(list[0], b);
    iostats_drive_free(b);
    cr_assert_eq(iostats_drives(r, list, 4), 0);
    iostats_free(r);
}

Test(iostats, drive_snapshot_merges_queues)
{
    struct iostats_drive *d = one_drive(NULL, "d", 3);
    for (unsigned q = 0; q < 3; q++)
        stall_once(iostats_queue(d, q), 0);
    struct iostats_queue_snap *s = malloc(sizeof(*s));
    iostats_drive_snapshot(d, s);
    cr_assert_eq(s->ops[BLK_OP_READ], 3);
    cr_assert_eq(s->bytes[BLK_OP_READ], 3 * 512);
    cr_assert_eq(s->phase[IOSTATS_SERVICE].count, 3);
    free(s);
    iostats_drive_free(d);
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok(buf, "."); k; k = strtok(NULL, ".")) {
        struct json_object *n;
        if (json_object_is_type(o, json_type_array))
            n = json_object_array_get_idx(o, (size_t)atoi(k));
        else if (!json_object_object_get_ex(o, k, &n))
            n = NULL;
        cr_assert(n, "no %s in %s", k, path);
        o = n;
    }
    return o;
}

Test(iostats, json_schema)
{
    struct iostats *r = iostats_new(10 * MS);
    struct iostats_drive *d = one_drive(r, "virtio0", 2);
    stall_once(iostats_queue(d, 1), 20 * MS);
    struct json_object *o = iostats_json(r, true);
    /* Through text and back, as a client would read it. */
    struct json_object *p = json_tokener_parse(json_object_to_json_string(o));
    cr_assert(p);
    cr_assert_eq(json_object_get_uint64(get(p, "stall_threshold_ns")), 10 * MS);
    cr_assert_eq(json_object_get_uint64(get(p, "stalls")), 1);
    cr_assert_str_eq(json_object_get_string(get(p, "drives.0.id")), "virtio0");
    cr_assert_str_eq(json_object_get_string(get(p, "drives.0.interface")), "virtio");
    cr_assert_str_eq(json_object_get_string(get(p, "drives.0.aio")), "io_uring");
    cr_assert_str_eq(json_object_get_string(get(p, "drives.0.cache")), "none");
    cr_assert_eq(json_object_get_uint64(get(p, "drives.0.num_queues")), 2);
    cr_assert_eq(json_object_get_uint64(get(p, "drives.0.total.ops.read")), 1);
    cr_assert_eq(json_object_get_uint64(get(p, "drives.0.queues.1.queue")), 1);
    cr_assert_eq(json_object_get_uint64(get(p, "drives.0.queues.1.stalls")), 1);
    cr_assert_eq(json_object_get_uint64(get(p, "drives.0.queues.0.ops.write_zeroes")), 0);
    struct json_object *w = get(p, "drives.0.queues.1.latency_ns.doorbell_to_submit");
    cr_assert_eq(json_object_get_uint64(get(w, "count")), 1);
    cr_assert_geq(json_object_get_uint64(get(w, "p99_9")), 20 * MS);
    cr_assert_eq(json_object_array_length(get(w, "buckets")), 1);
    cr_assert_eq(json_object_get_uint64(get(w, "buckets.0.2")), 1);
    get(p, "drives.0.queues.1.latency_ns.submit_to_complete.p50");
    get(p, "drives.0.queues.1.latency_ns.complete_to_irq.max");
    json_object_put(p);
    json_object_put(o);
    iostats_drive_free(d);
    iostats_free(r);
}

/* ---- the AHCI device feeds them ---- */

static struct ah H;

static void ah_init(void)
{
    struct ah_opts o = { .nports = 1, .image_size = 1 << 20,
                         .aio = BLK_AIO_THREADS, .cache = BLK_CACHE_WRITEBACK };
    ah_setup(&H, &o);
}

static void ah_fini(void)
{
    ah_teardown(&H);
}

Test(iostats_ahci, dma_write_and_read_are_counted, .init = ah_init,
     .fini = ah_fini, .timeout = 30)
{
    ah_port_start(&H, 0);
    uint64_t w = ah_pattern(&H, 8192, 3);
    uint32_t is = ah_do(&H, 0, 3, 0x35, 100, 16, w, 8192, true);
    cr_assert_not(is & PXIS_TFES);
    is = ah_do(&H, 0, 4, 0x25, 100, 16, ah_alloc(&H, 8192, 4096), 8192, false);
    cr_assert_not(is & PXIS_TFES);
    struct iostats_drive *d = H.a->ports[0].ios;
    cr_assert_str_eq(d->info.iface, "ahci");
    cr_assert_eq(d->info.size, 1 << 20);
    struct iostats_queue_snap *s = snap(d, 0);
    cr_assert_eq(s->ops[BLK_OP_WRITE], 1);
    cr_assert_eq(s->ops[BLK_OP_READ], 1);
    cr_assert_eq(s->bytes[BLK_OP_WRITE], 8192);
    cr_assert_eq(s->bytes[BLK_OP_READ], 8192);
    cr_assert_eq(s->inflight, 0);
    for (unsigned p = 0; p < IOSTATS_PHASES; p++)
        cr_assert_eq(s->phase[p].count, 2, "phase %s: %llu samples",
                     iostats_phase_name(p),
                     (unsigned long long)s->phase[p].count);
}

Test(iostats, switched_off_records_nothing)
{
    struct iostats *r = iostats_new(10 * MS);
    iostats_set_enabled(r, false);
    struct iostats_drive *d = one_drive(r, "off", 1);
    struct iostats_queue *q = iostats_queue(d, 0);
    iostats_doorbell(q, 1000);
    cr_assert_eq(iostats_take_doorbell(q), 0);
    stall_once(q, 50 * MS);
    struct iostats_req x;
    iostats_req_start(&x, 0);
    iostats_submit(q, &x);
    iostats_complete(q, &x, BLK_OP_READ, 512, false);
    iostats_irq(q, &x);
    struct iostats_queue_snap *s = snap(d, 0);
    cr_assert_eq(s->ops[BLK_OP_READ], 0);
    cr_assert_eq(s->stalls, 0);
    cr_assert_eq(s->phase[IOSTATS_WAIT].count, 0);
    cr_assert_eq(iostats_total_stalls(r), 0);
    iostats_drive_free(d);
    iostats_free(r);
}
