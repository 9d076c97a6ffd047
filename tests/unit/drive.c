/*
 * tests/unit/drive.c — `-drive` and `-object iothread` parsing: defaults,
 * every key, QEMU's ",," escape, and one clear error for each bad input
 * (unknown key, bad value, repeated key, missing file, a format other
 * than raw, options that do not fit the interface); if=ahci with port=N.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "block/inject.h"
#include "hw/drive.h"
#include "util/loop.h"

static struct drive_opts d;
static char err[256];

static void parse_ok(const char *spec)
{
    err[0] = '\0';
    cr_assert(drive_parse(spec, &d, err, sizeof(err)), "%s: %s", spec, err);
}

static void parse_bad(const char *spec, const char *substr)
{
    err[0] = '\0';
    cr_assert_not(drive_parse(spec, &d, err, sizeof(err)), "%s accepted", spec);
    cr_assert(strstr(err, substr), "%s: message '%s' lacks '%s'", spec, err,
              substr);
    cr_assert_null(strchr(err, '\n'));
    cr_assert_null(d.file);
}

Test(drive, defaults)
{
    parse_ok("file=disk.img");
    cr_assert_str_eq(d.file, "disk.img");
    cr_assert_str_eq(d.blk.file, "disk.img");
    cr_assert_eq(d.iface, DRIVE_IF_VIRTIO);
    cr_assert_eq(d.blk.format, BLK_FORMAT_RAW);
    cr_assert_not(d.format_given);
    cr_assert_eq(d.blk.aio, BLK_AIO_IO_URING);
    cr_assert_eq(d.blk.cache, BLK_CACHE_NONE);
    cr_assert_not(d.blk.readonly);
    cr_assert_eq(d.num_queues, 0);
    cr_assert_null(d.serial);
    cr_assert_eq(d.n_iothreads, 0);
    drive_opts_free(&d);
}

Test(drive, every_key)
{
    parse_ok("file=/x/y.img,if=virtio,format=raw,aio=native,cache=writeback,"
             "readonly=on,num-queues=4,serial=SN123,iothread=io0:io1,id=d0");
    cr_assert(d.format_given);
    cr_assert_eq(d.blk.aio, BLK_AIO_NATIVE);
    cr_assert_eq(d.blk.cache, BLK_CACHE_WRITEBACK);
    cr_assert(d.blk.readonly);
    cr_assert_eq(d.num_queues, 4);
    cr_assert_str_eq(d.serial, "SN123");
    cr_assert_eq(d.n_iothreads, 2);
    cr_assert_str_eq(d.iothreads[0], "io0");
    cr_assert_str_eq(d.iothreads[1], "io1");
    cr_assert_str_eq(d.id, "d0");
    drive_opts_free(&d);
    parse_ok("aio=threads,file=a,readonly=off");
    cr_assert_eq(d.blk.aio, BLK_AIO_THREADS);
    cr_assert_not(d.blk.readonly);
    drive_opts_free(&d);
}

Test(drive, ahci_with_port)
{
    parse_ok("file=a.img,if=ahci,port=5,aio=native,cache=writeback,"
             "serial=S1,iothread=io0,readonly=on");
    cr_assert_eq(d.iface, DRIVE_IF_AHCI);
    cr_assert_eq(d.port, 5);
    cr_assert_eq(d.blk.aio, BLK_AIO_NATIVE);
    cr_assert(d.blk.readonly);
    cr_assert_str_eq(d.serial, "S1");
    drive_opts_free(&d);
    parse_ok("file=a.img,if=ahci");
    cr_assert_eq(d.port, -1);
    drive_opts_free(&d);
}

Test(drive, double_comma_is_a_literal_comma)
{
    parse_ok("file=a,,b.img,cache=writeback");
    cr_assert_str_eq(d.file, "a,b.img");
    cr_assert_eq(d.blk.cache, BLK_CACHE_WRITEBACK);
    drive_opts_free(&d);
}

Test(drive, bad_inputs_each_one_clear_line)
{
    parse_bad("file=a,bogus=1", "unknown option 'bogus'");
    parse_bad("if=virtio", "file=PATH is missing");
    parse_bad("file=", "empty file name");
    parse_bad("file=a,if=ide", "if=ahci");
    parse_bad("file=a,if=ahci,port=6", "expected 0..5");
    parse_bad("file=a,if=ahci,port=x", "expected 0..5");
    parse_bad("file=a,port=1", "applies to if=ahci only");
    parse_bad("file=a,if=ahci,num-queues=2", "virtio only");
    parse_bad("file=a,if=ahci,iothread=a:b", "one iothread per AHCI port");
    parse_bad("file=a,if=ahci,port=1,port=2", "given twice");
    parse_bad("file=a,if=scsi", "unknown interface");
    parse_bad("file=a,format=qcow2", "unsupported image format");
    parse_bad("file=a,aio=posix", "expected io_uring, native or threads");
    parse_bad("file=a,cache=directsync", "expected none or writeback");
    parse_bad("file=a,readonly=maybe", "expected on or off");
    parse_bad("file=a,num-queues=0", "num-queues=0");
    parse_bad("file=a,num-queues=65", "num-queues=65");
    parse_bad("file=a,num-queues=x", "num-queues=x");
    parse_bad("file=a,serial=123456789012345678901", "longer than 20");
    parse_bad("file=a,iothread=", "not a valid iothread id");
    parse_bad("file=a,iothread=a::b", "not a valid iothread id");
    parse_bad("file=a,iothread=0x", "not a valid iothread id");
    parse_bad("file=a,file=b", "given twice");
    parse_bad("file=a,cache", "not key=value");
}

Test(drive, iothread_objects)
{
    char *id = NULL;
    cr_assert(drive_parse_object("iothread,id=io0", &id, err, sizeof(err)));
    cr_assert_str_eq(id, "io0");
    free(id);
    cr_assert_not(drive_parse_object("memory-backend-ram,id=m", &id, err,
                                     sizeof(err)));
    cr_assert(strstr(err, "unknown object type"));
    cr_assert_not(drive_parse_object("iothread", &id, err, sizeof(err)));
    cr_assert(strstr(err, "iothread,id=ID"));
    cr_assert_not(drive_parse_object("iothread,id=a,poll-grow=2", &id, err,
                                     sizeof(err)));
    cr_assert(strstr(err, "poll-grow"));
    cr_assert_not(drive_parse_object("iothread,id=a,id=b", &id, err,
                                     sizeof(err)));
    cr_assert_not(drive_parse_object("iothread,id=-x", &id, err, sizeof(err)));
    cr_assert_null(id);
}

/* inject= (block/inject.h): repeatable, ",," escapes a comma, checked at
 * parse time with a message naming the option and the rule. */
Test(drive, inject_rules)
{
    parse_ok("file=a,inject=eio@write#100");
    cr_assert_str_eq(d.inject, "eio@write#100");
    cr_assert_not_null(d.blk.inject);
    drive_opts_free(&d);
    cr_assert_null(d.blk.inject);
    parse_ok("file=a,inject=delay:5ms@read;eio@lba:2048-4095,if=ahci,"
             "inject=enospc@write:once");
    cr_assert_str_eq(d.inject,
                     "delay:5ms@read;eio@lba:2048-4095;enospc@write:once");
    struct blk_inject_info info[4];
    cr_assert_eq(blk_inject_list(d.blk.inject, info, 4), 3);
    cr_assert_str_eq(info[2].text, "enospc@write:once");
    drive_opts_free(&d);
    parse_ok("file=a");
    cr_assert_null(d.blk.inject);
    drive_opts_free(&d);
    parse_bad("file=a,inject=", "-drive inject=: no rule");
    parse_bad("file=a,inject=eio@wrte", "-drive inject=eio@wrte: unknown op");
    parse_bad("file=a,inject=eio@write;eio@wrte",
              "-drive inject=eio@write;eio@wrte: rule 2 'eio@wrte': unknown op");
    parse_bad("file=a,inject=eio@write,,read", "unexpected ',read'");
    parse_bad("file=a,inject=eio@write#0", "#N counts from 1");
    char spec[512] = "file=a";
    for (int i = 0; i < 9; i++)
        strcat(spec, ",inject=eio@write;eio@read");
    parse_bad(spec, "-drive inject: more than 16 rules");
}

Test(drive, iothread_poll_max_ns)
{
    struct iothread_opts o;
    cr_assert(drive_parse_iothread("iothread,id=io0", &o, err, sizeof(err)));
    cr_assert_eq(o.poll_max_ns, LOOP_POLL_MAX_NS_DEFAULT);
    free(o.id);
    cr_assert(drive_parse_iothread("iothread,poll-max-ns=0,id=a", &o, err,
                                   sizeof(err)));
    cr_assert_str_eq(o.id, "a");
    cr_assert_eq(o.poll_max_ns, 0);
    free(o.id);
    cr_assert(drive_parse_iothread("iothread,id=a,poll-max-ns=1000000000", &o,
                                   err, sizeof(err)));
    cr_assert_eq(o.poll_max_ns, 1000000000u);
    free(o.id);
    static const char *const bad[] = {
        "iothread,id=a,poll-max-ns=", "iothread,id=a,poll-max-ns=-1",
        "iothread,id=a,poll-max-ns=abc", "iothread,id=a,poll-max-ns=32us",
        "iothread,id=a,poll-max-ns=1000000001",
        "iothread,id=a,poll-max-ns=99999999999999999999999",
        "iothread,id=a,poll-max-ns=0,poll-max-ns=1",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_not(drive_parse_iothread(bad[i], &o, err, sizeof(err)),
                      "%s", bad[i]);
        cr_assert_null(o.id);
        cr_assert(strstr(err, "poll-max-ns"), "%s: %s", bad[i], err);
    }
}
