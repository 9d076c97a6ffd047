/*
 * tests/unit/qmp.c — the QMP protocol without a socket (util/qmp.c: the
 * envelope, negotiation, ids, argument checks, error texts as QEMU 7.2
 * words them), blkemu's commands on a real virt machine whose harts are
 * not running (boards/virt_qmp.c), and -qmp's syntax.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boards/virt.h"
#include "boards/virt_qmp.h"
#include "hw/iostats.h"
#include "hw/machine.h"
#include "util/qmp.h"
#include "util/qmp_server.h"

/* ---- the protocol, with a fake command table -------------------------- */

static int echo_calls;

static struct json_object *cmd_echo(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    echo_calls++;
    return json_object_get(args);
}

static struct json_object *cmd_fail(void *opaque, struct json_object *args,
                                    struct json_object **err)
{
    *err = qmp_error(QMP_ERR_GENERIC, "it failed");
    return json_object_new_int(1);      /* must be dropped, not leaked */
}

static const struct qmp_arg echo_args[] = {
    { "s", QMP_STR, false }, { "b", QMP_BOOL, true }, { "n", QMP_INT, true },
    { NULL, 0, false },
};

static const struct qmp_command cmds[] = {
    { "echo", cmd_echo, echo_args },
    { "fail", cmd_fail, NULL },
};

static const struct qmp proto = {
    .cmds = cmds, .ncmds = 2, .package = "test", .major = 1, .minor = 2, .micro = 3,
};

/* Dispatch `text` and return the reply's text (static buffer). */
static const char *ask(struct qmp_session *s, const char *text)
{
    static char out[4096];
    struct json_object *req = json_tokener_parse(text);
    cr_assert_not_null(req, "test input does not parse: %s", text);
    struct json_object *r = qmp_dispatch(&proto, s, req);
    snprintf(out, sizeof(out), "%s", qmp_to_string(r));
    json_object_put(r);
    json_object_put(req);
    return out;
}

static struct qmp_session negotiated(void)
{
    struct qmp_session s = { 0 };
    cr_assert_str_eq(ask(&s, "{\"execute\":\"qmp_capabilities\"}"), "{\"return\":{}}");
    cr_assert(s.negotiated);
    return s;
}

Test(qmp, greeting_names_version_and_no_capabilities)
{
    struct json_object *g = qmp_greeting(&proto);
    cr_assert_str_eq(qmp_to_string(g), "{\"QMP\":{\"version\":{\"qemu\":{\"major\":1,"
                     "\"minor\":2,\"micro\":3},\"package\":\"test\"},\"capabilities\":[]}}");
    json_object_put(g);
}

Test(qmp, commands_refused_before_negotiation)
{
    struct qmp_session s = { 0 };
    cr_assert_str_eq(ask(&s, "{\"execute\":\"echo\",\"arguments\":{\"s\":\"x\"},\"id\":7}"),
                     "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting "
                     "capabilities negotiation with 'qmp_capabilities'\"},\"id\":7}");
    cr_assert_eq(echo_calls, 0);
    cr_assert_not(s.negotiated);
}

Test(qmp, negotiation_once)
{
    struct qmp_session s = negotiated();
    cr_assert_str_eq(ask(&s, "{\"execute\":\"qmp_capabilities\"}"),
                     "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Capabilities "
                     "negotiation is already complete, command ignored\"}}");
}

Test(qmp, negotiation_refuses_unknown_capabilities)
{
    struct qmp_session s = { 0 };
    cr_assert_str_eq(ask(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":"
                     "{\"enable\":[\"oob\"]}}"),
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Capability "
                     "'oob' not available\"}}");
    cr_assert_not(s.negotiated);
    ask(&s, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[]}}");
    cr_assert(s.negotiated);
}

Test(qmp, id_of_any_type_is_echoed)
{
    struct qmp_session s = negotiated();
    cr_assert_str_eq(ask(&s, "{\"id\":{\"a\":[1,\"x\"]},\"execute\":\"echo\","
                     "\"arguments\":{\"s\":\"hi\",\"n\":5}}"),
                     "{\"return\":{\"s\":\"hi\",\"n\":5},\"id\":{\"a\":[1,\"x\"]}}");
    cr_assert_str_eq(ask(&s, "{\"execute\":\"nope\",\"id\":\"q1\"}"),
                     "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command "
                     "nope has not been found\"},\"id\":\"q1\"}");
    cr_assert_str_eq(ask(&s, "{\"execute\":\"fail\",\"id\":null}"),
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"it failed\"},"
                     "\"id\":null}");
}

Test(qmp, malformed_envelopes)
{
    struct qmp_session s = negotiated();
    static const char *const cases[][2] = {
        { "[1,2]", "QMP input must be a JSON object" },
        { "\"execute\"", "QMP input must be a JSON object" },
        { "42", "QMP input must be a JSON object" },
        { "{}", "QMP input lacks member 'execute'" },
        { "{\"id\":1}", "QMP input lacks member 'execute'" },
        { "{\"execute\":1}", "QMP input member 'execute' must be a string" },
        { "{\"execute\":null}", "QMP input member 'execute' must be a string" },
        { "{\"execute\":\"echo\",\"arguments\":[]}",
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\":\"echo\",\"extra\":1}", "QMP input member 'extra' is unexpected" },
        { "{\"exec-oob\":\"echo\"}", "QMP input member 'exec-oob' is unexpected" },
        { "{\"execute\":\"echo\\u0000x\",\"arguments\":{\"s\":\"x\"}}",
          "QMP input member 'execute' contains a NUL character" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "\"class\":\"GenericError\",\"desc\":\"%s\"",
                 cases[i][1]);
        const char *got = ask(&s, cases[i][0]);
        cr_expect(strstr(got, want), "%s -> %s", cases[i][0], got);
    }
    cr_assert_eq(echo_calls, 0);
}

Test(qmp, argument_checks)
{
    struct qmp_session s = negotiated();
    static const char *const cases[][2] = {
        { "{}", "Parameter 's' is missing" },
        { "{\"s\":1}", "Invalid parameter type for 's', expected: string" },
        { "{\"s\":\"x\",\"b\":\"yes\"}", "Invalid parameter type for 'b', expected: boolean" },
        { "{\"s\":\"x\",\"n\":1.5}", "Invalid parameter type for 'n', expected: integer" },
        { "{\"s\":\"x\",\"zz\":1}", "Parameter 'zz' is unexpected" },
        { "{\"s\":\"a\\u0000b\"}", "Parameter 's' contains a NUL character" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char req[256], want[512];
        snprintf(req, sizeof(req), "{\"execute\":\"echo\",\"arguments\":%s}", cases[i][0]);
        snprintf(want, sizeof(want), "{\"error\":{\"class\":\"GenericError\","
                 "\"desc\":\"%s\"}}", cases[i][1]);
        cr_expect_str_eq(ask(&s, req), want);
    }
    cr_assert_eq(echo_calls, 0);
    cr_assert_str_eq(ask(&s, "{\"execute\":\"fail\",\"arguments\":{\"x\":1}}"),
                     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'x' "
                     "is unexpected\"}}");
}

Test(qmp, event_shape)
{
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "guest", json_object_new_boolean(1));
    struct json_object *e = qmp_event("RESET", d);
    const char *t = qmp_to_string(e);
    cr_assert(!strncmp(t, "{\"event\":\"RESET\",\"data\":{\"guest\":true},"
                       "\"timestamp\":{\"seconds\":", 58), "%s", t);
    cr_assert(strstr(t, ",\"microseconds\":"));
    json_object_put(e);
    e = qmp_event("STOP", NULL);
    cr_assert_null(strstr(qmp_to_string(e), "data"));
    json_object_put(e);
}

/* ---- -qmp syntax -------------------------------------------------------- */

Test(qmp, addr_spellings)
{
    struct qmp_addr a;
    char err[256];
    cr_assert(qmp_addr_parse("unix:/tmp/x.sock,server,nowait", &a, err, sizeof(err)));
    cr_assert_str_eq(a.path, "/tmp/x.sock");
    cr_assert_not(a.wait);
    cr_assert(qmp_addr_parse("unix:/tmp/x.sock,server=on,wait=off", &a, err, sizeof(err)));
    cr_assert_not(a.wait);
    cr_assert(qmp_addr_parse("unix:/tmp/x.sock,server=on", &a, err, sizeof(err)));
    cr_assert(a.wait, "QEMU's default for a server is wait=on");
    cr_assert(qmp_addr_parse("unix:/tmp/a,,b,server,wait=on", &a, err, sizeof(err)));
    cr_assert_str_eq(a.path, "/tmp/a,b");
    cr_assert(a.wait);
}

Test(qmp, addr_errors)
{
    char longpath[200];
    memset(longpath, 'p', sizeof(longpath));
    snprintf(longpath, sizeof(longpath), "unix:/tmp/%0150d,server,nowait", 0);
    const char *bad[] = {
        "tcp:localhost:4444,server,nowait", "unix:,server,nowait",
        "unix:/tmp/x", "unix:/tmp/x,server=off", "unix:/tmp/x,server,wait=maybe",
        "unix:/tmp/x,server,nowait=on", "unix:/tmp/x,server,bogus", longpath,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct qmp_addr a;
        char err[256] = "";
        cr_expect_not(qmp_addr_parse(bad[i], &a, err, sizeof(err)), "%s accepted", bad[i]);
        cr_expect(err[0] && !strchr(err, '\n'), "%s: no one-line error", bad[i]);
    }
}

/* ---- blkemu's commands on a virt machine (no hart thread runs) ---------- */

static struct virt *vm;
static struct virt_qmp *vq;
static char img[64];

static void vm_setup(void)
{
    snprintf(img, sizeof(img), "/tmp/blkemu-qmp-unit-XXXXXX");
    int fd = mkstemp(img);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, 1 << 20), 0);
    close(fd);
    static char d0[128], d1[128];
    snprintf(d0, sizeof(d0), "file=%s,if=virtio,id=disk0,aio=threads,cache=writeback", img);
    snprintf(d1, sizeof(d1), "file=%s,if=ahci,readonly=on,aio=threads,cache=writeback", img);
    struct blkemu_config cfg = { .machine = "virt", .ram_size = 64ull << 20, .smp = 2,
                                 .drives = { d0, d1 }, .ndrives = 2 };
    char err[512] = "";
    vm = virt_create(&cfg, err, sizeof(err));
    cr_assert_not_null(vm, "%s", err);
    vq = virt_qmp_new(vm, NULL, NULL, err, sizeof(err));
    cr_assert_not_null(vq, "%s", err);
}

static void vm_teardown(void)
{
    virt_qmp_free(vq);
    virt_destroy(vm);
    unlink(img);
}

TestSuite(virt_qmp, .init = vm_setup, .fini = vm_teardown);

static struct json_object *vask(struct qmp_session *s, const char *text)
{
    struct json_object *req = json_tokener_parse(text);
    cr_assert_not_null(req);
    struct json_object *r = virt_qmp_dispatch(vq, s, req);
    json_object_put(req);
    return r;
}

/* reply.return.<path...> as a string ("" if absent). */
static const char *vget(struct json_object *r, const char *member)
{
    struct json_object *ret, *v;
    if (!json_object_object_get_ex(r, "return", &ret) ||
        !json_object_object_get_ex(ret, member, &v))
        return "";
    return json_object_get_string(v);
}

Test(virt_qmp, stop_cont_and_status)
{
    struct qmp_session s = { .negotiated = true };
    struct machine *m = virt_machine(vm);
    struct json_object *r = vask(&s, "{\"execute\":\"query-status\"}");
    cr_assert_str_eq(vget(r, "status"), "running");
    cr_assert_str_eq(vget(r, "running"), "true");
    json_object_put(r);
    json_object_put(vask(&s, "{\"execute\":\"stop\"}"));
    cr_assert(m->paused);
    r = vask(&s, "{\"execute\":\"query-status\"}");
    cr_assert_str_eq(vget(r, "status"), "paused");
    cr_assert_str_eq(vget(r, "running"), "false");
    json_object_put(r);
    json_object_put(vask(&s, "{\"execute\":\"stop\"}"));     /* idempotent */
    json_object_put(vask(&s, "{\"execute\":\"cont\"}"));
    cr_assert_not(m->paused);
    r = vask(&s, "{\"execute\":\"query-status\"}");
    cr_assert_str_eq(vget(r, "status"), "running");
    json_object_put(r);
}

Test(virt_qmp, query_block_lists_drives_in_order)
{
    struct qmp_session s = { .negotiated = true };
    struct json_object *r = vask(&s, "{\"execute\":\"query-block\"}"), *ret;
    cr_assert(json_object_object_get_ex(r, "return", &ret));
    cr_assert_eq(json_object_array_length(ret), 2);
    const char *t0 = qmp_to_string(json_object_array_get_idx(ret, 0));
    const char *t1 = qmp_to_string(json_object_array_get_idx(ret, 1));
    cr_expect(strstr(t0, "\"device\":\"disk0\""), "%s", t0);
    cr_expect(strstr(t0, "\"ro\":false"), "%s", t0);
    cr_expect(strstr(t0, "\"virtual-size\":1048576"), "%s", t0);
    cr_expect(strstr(t0, "\"if\":\"virtio\""), "%s", t0);
    cr_expect(strstr(t1, "\"device\":\"ahci0-port0\""), "%s", t1);
    cr_expect(strstr(t1, "\"ro\":true"), "%s", t1);
    cr_expect(strstr(t1, "\"if\":\"ahci\""), "%s", t1);
    json_object_put(r);
}

Test(virt_qmp, query_blockstats_names_qemu_counters)
{
    struct qmp_session s = { .negotiated = true };
    struct json_object *r = vask(&s, "{\"execute\":\"query-blockstats\","
                                 "\"arguments\":{\"query-nodes\":false}}"), *ret;
    cr_assert(json_object_object_get_ex(r, "return", &ret), "%s", qmp_to_string(r));
    cr_assert_eq(json_object_array_length(ret), 2);
    const char *t = qmp_to_string(json_object_array_get_idx(ret, 0));
    static const char *const keys[] = {
        "rd_bytes", "wr_bytes", "rd_operations", "wr_operations", "flush_operations",
        "unmap_operations", "failed_rd_operations", "failed_wr_operations",
        "failed_flush_operations", "rd_total_time_ns", "wr_total_time_ns",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"%s\":0", keys[i]);
        cr_expect(strstr(t, want), "no %s in %s", want, t);
    }
    json_object_put(r);
    r = vask(&s, "{\"execute\":\"query-blockstats\",\"arguments\":{\"query-nodes\":1}}");
    cr_assert(strstr(qmp_to_string(r), "Invalid parameter type for 'query-nodes'"));
    json_object_put(r);
}

Test(virt_qmp, reset_and_quit_request_the_exit)
{
    struct qmp_session s = { .negotiated = true };
    struct machine *m = virt_machine(vm);
    json_object_put(vask(&s, "{\"execute\":\"system_reset\"}"));
    cr_assert_eq(atomic_load(&m->exit_reason), MACHINE_RESET);
}

Test(virt_qmp, quit_requests_the_exit)
{
    struct qmp_session s = { .negotiated = true };
    struct machine *m = virt_machine(vm);
    json_object_put(vask(&s, "{\"execute\":\"system_powerdown\"}"));
    cr_assert_eq(atomic_load(&m->exit_reason), MACHINE_RUNNING,
                 "the virt board has no power button: powerdown is only an event");
    json_object_put(vask(&s, "{\"execute\":\"quit\"}"));
    cr_assert_eq(atomic_load(&m->exit_reason), MACHINE_QUIT);
    struct json_object *r = vask(&s, "{\"execute\":\"query-status\"}");
    cr_assert_str_eq(vget(r, "status"), "shutdown");
    json_object_put(r);
}

Test(virt_qmp, harts_report_instructions)
{
    struct qmp_session s = { .negotiated = true };
    struct json_object *r = vask(&s, "{\"execute\":\"x-blkemu-query-harts\"}");
    cr_assert_str_eq(qmp_to_string(r), "{\"return\":[{\"hart\":0,\"instructions\":0},"
                     "{\"hart\":1,\"instructions\":0}]}");
    json_object_put(r);
}

Test(virt_qmp, query_latency_all_and_one_drive)
{
    struct qmp_session s = { .negotiated = true };
    struct json_object *r = vask(&s, "{\"execute\":\"x-blkemu-query-latency\"}");
    const char *t = qmp_to_string(r);
    cr_assert(strstr(t, "\"drives\":["), "%s", t);
    cr_assert(strstr(t, "\"id\":\"disk0\""), "%s", t);
    cr_assert(strstr(t, "\"id\":\"ahci0-port0\""), "%s", t);
    cr_assert(strstr(t, "\"doorbell_to_submit\":{\"count\":0"), "%s", t);
    cr_assert(strstr(t, "\"p99_9\":"), "%s", t);
    json_object_put(r);
    r = vask(&s, "{\"execute\":\"x-blkemu-query-latency\",\"arguments\":"
             "{\"device\":\"ahci0-port0\",\"buckets\":true}}");
    t = qmp_to_string(r);
    static const char want[] = "{\"return\":{\"id\":\"ahci0-port0\"";
    cr_assert(!strncmp(t, want, sizeof(want) - 1), "%s", t);
    cr_assert(strstr(t, "\"queues\":["), "%s", t);
    json_object_put(r);
    r = vask(&s, "{\"execute\":\"x-blkemu-query-latency\",\"arguments\":{\"device\":\"nope\"}}");
    cr_assert_str_eq(qmp_to_string(r), "{\"error\":{\"class\":\"DeviceNotFound\","
                     "\"desc\":\"Device 'nope' not found\"}}");
    json_object_put(r);
}

static void expect_inject(struct qmp_session *s, const char *args, const char *want)
{
    char req[512];
    snprintf(req, sizeof(req), "{\"execute\":\"x-blkemu-inject\",\"arguments\":%s}", args);
    struct json_object *r = vask(s, req);
    cr_expect_str_eq(qmp_to_string(r), want, "%s -> %s", args, qmp_to_string(r));
    json_object_put(r);
}

Test(virt_qmp, inject_set_list_clear)
{
    struct qmp_session s = { .negotiated = true };
    expect_inject(&s, "{\"device\":\"disk0\"}", "{\"return\":[]}");
    expect_inject(&s, "{\"device\":\"disk0\",\"rule\":\"eio@write:lba:2048-4095\"}",
                  "{\"return\":[{\"rule\":\"eio@write:lba:2048-4095:always\",\"matched\":0,"
                  "\"fired\":0}]}");
    expect_inject(&s, "{\"device\":\"disk0\"}",
                  "{\"return\":[{\"rule\":\"eio@write:lba:2048-4095:always\",\"matched\":0,"
                  "\"fired\":0}]}");
    /* A malformed rule is an error and changes nothing. */
    struct json_object *r = vask(&s, "{\"execute\":\"x-blkemu-inject\",\"arguments\":"
                                 "{\"device\":\"disk0\",\"rule\":\"panic@write\"}}");
    const char *t = qmp_to_string(r);
    cr_assert(strstr(t, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"") &&
              strstr(t, "panic"), "%s", t);
    json_object_put(r);
    expect_inject(&s, "{\"device\":\"disk0\"}",
                  "{\"return\":[{\"rule\":\"eio@write:lba:2048-4095:always\",\"matched\":0,"
                  "\"fired\":0}]}");
    expect_inject(&s, "{\"device\":\"disk0\",\"rule\":\"x\",\"clear\":true}",
                  "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'rule' and 'clear' "
                  "exclude each other\"}}");
    expect_inject(&s, "{\"device\":\"disk0\",\"clear\":true}", "{\"return\":[]}");
    expect_inject(&s, "{\"device\":\"ahci0-port0\",\"rule\":\"delay:5ms@read;eio@flush\"}",
                  "{\"return\":[{\"rule\":\"delay:5ms@read:always\",\"matched\":0,\"fired\":0},"
                  "{\"rule\":\"eio@flush:always\",\"matched\":0,\"fired\":0}]}");
    expect_inject(&s, "{\"device\":\"ahci0-port0\",\"rule\":\"\"}", "{\"return\":[]}");
    expect_inject(&s, "{\"device\":\"nope\",\"clear\":true}",
                  "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Device 'nope' "
                  "not found\"}}");
    expect_inject(&s, "{\"rule\":\"eio@read\"}",
                  "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'device' "
                  "is missing\"}}");
}

Test(virt_qmp, stall_threshold_at_run_time)
{
    struct qmp_session s = { .negotiated = true };
    struct machine *m = virt_machine(vm);
    uint64_t before = iostats_stall_threshold(m->iostats);
    struct json_object *r = vask(&s, "{\"execute\":\"x-blkemu-set-stall-threshold\","
                                 "\"arguments\":{\"threshold-ns\":2000000}}");
    char want[128];
    snprintf(want, sizeof(want), "{\"return\":{\"previous-ns\":%llu}}",
             (unsigned long long)before);
    cr_assert_str_eq(qmp_to_string(r), want);
    json_object_put(r);
    cr_assert_eq(iostats_stall_threshold(m->iostats), 2000000);
    r = vask(&s, "{\"execute\":\"x-blkemu-set-stall-threshold\","
             "\"arguments\":{\"threshold-ns\":-1}}");
    cr_assert(strstr(qmp_to_string(r), "\"class\":\"GenericError\""));
    json_object_put(r);
    cr_assert_eq(iostats_stall_threshold(m->iostats), 2000000);
}
