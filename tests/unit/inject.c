/*
 * tests/unit/inject.c — fault and latency injection (block/inject.h): the
 * rule parser (every malformed form gets one line naming the rule and the
 * problem; good forms parse and print back to themselves), the matching
 * semantics (#N, once/always, ranges, ops, several rules), and the block
 * layer applying them to real drives: an injected error completes through
 * the normal path without touching the host file, a delay holds the
 * request at least that long, a drain cuts delays short, #N counts across
 * the handles sharing a rule set, rules replaced from another thread.
 */
#include "block_test.h"

#include <sys/uio.h>

#include "block/inject.h"
#include "util/clock.h"

static struct blk_inject_rule R[BLK_INJECT_MAX_RULES];
static char err[256];

static int parse(const char *spec)
{
    err[0] = '\0';
    return blk_inject_parse(spec, R, BLK_INJECT_MAX_RULES, err, sizeof(err));
}

static void bad(const char *spec, const char *why)
{
    cr_assert_eq(parse(spec), -1, "'%s' accepted", spec);
    cr_assert(strstr(err, why), "'%s': message '%s' lacks '%s'", spec, err,
              why);
    cr_assert_null(strchr(err, '\n'));
}

/* ---- malformed rules ---- */

Test(inject_parse, empty_rules)
{
    cr_assert_eq(parse(""), 0);
    cr_assert_eq(parse("   "), 0);
    cr_assert_eq(parse(NULL), 0);
    bad(";", "rule 1 is empty");
    bad("eio@write;", "rule 2 is empty");
    bad("eio@write;;eio@read", "rule 2 is empty");
    bad(" ; eio@read", "rule 1 is empty");
}

Test(inject_parse, unknown_action)
{
    bad("eiox@write", "unknown action 'eiox'");
    bad("EIO@write", "missing action");
    bad("@write", "missing action");
    bad("panic@read", "unknown action 'panic'");
    bad("5ms@read", "missing action");
}

Test(inject_parse, unknown_op)
{
    bad("eio@wrte", "unknown op 'wrte'");
    bad("eio@", "missing op");
    bad("eio@#3", "missing op");
    bad("eio@Read", "missing op");
    bad("eio@trim", "unknown op 'trim'");
}

Test(inject_parse, missing_parts)
{
    bad("eio", "missing '@OP'");
    bad("delay:5ms", "missing '@OP'");
    bad("delay@read", "expected delay:DURATION");
    bad("delay:@read", "expected a decimal number");
    bad("delay:ms@read", "expected a decimal number");
    bad("eio@write:lba", "expected lba:FIRST");
    bad("eio@write:lba:", "LBA: expected a decimal number");
    bad("eio@lba:", "LBA: expected a decimal number");
    bad("eio@lba:5-", "last LBA: expected a decimal number");
    bad("eio@write#", "#N: expected a decimal number");
    bad("eio@write:", "unknown flag ''");
    bad("eio-write", "unknown action 'eio-write'");
    bad("eio:write", "expected '@' after the action");
}

Test(inject_parse, bad_numbers)
{
    bad("delay:5@read", "needs a unit");
    bad("delay:5h@read", "unknown delay unit 'h'");
    bad("delay:1.5ms@read", "whole numbers only");
    bad("delay:0ms@read", "a delay of 0");
    bad("delay:-1ms@read", "expected a decimal number");
    bad("eio@write#0", "#N counts from 1");
    bad("eio@write#-1", "#N: expected a decimal number");
    bad("eio@write#x", "#N: expected a decimal number");
    bad("eio@lba:abc", "LBA: expected a decimal number");
    bad("eio@lba:0x10", "unexpected 'x10'");
}

Test(inject_parse, overflow)
{
    bad("eio@write#18446744073709551616", "#N: too large");
    bad("eio@write#99999999999999999999999", "#N: too large");
    bad("delay:18446744073709551616ns@read", "delay: too large");
    bad("delay:3601s@read", "longer than 1 hour");
    bad("delay:3600001ms@read", "longer than 1 hour");
    bad("delay:9999999999999999s@read", "longer than 1 hour");
    bad("eio@lba:281474976710656", "LBA: too large");
    bad("eio@lba:0-281474976710656", "last LBA: too large");
    cr_assert_eq(parse("eio@write#18446744073709551615"), 1);
    cr_assert_eq(R[0].nth, UINT64_MAX);
    cr_assert_eq(parse("delay:3600s@read"), 1);
    cr_assert_eq(parse("eio@lba:281474976710655"), 1);
}

Test(inject_parse, inverted_range)
{
    bad("eio@lba:4095-2048", "ends before it starts");
    bad("eio@write:lba:2-1", "ends before it starts");
}

Test(inject_parse, flush_has_no_range)
{
    bad("eio@flush:lba:1-2", "flush has no LBA range");
}

Test(inject_parse, trailing_garbage)
{
    cr_assert_eq(parse("eio@write "), 1);     /* blanks around: trimmed */
    bad("eio@write x", "unexpected ' x'");
    bad("eio@write#3x", "unexpected 'x'");
    bad("eio@write:once:once", "unexpected ':once'");
    bad("eio@write:sometimes", "unknown flag 'sometimes'");
    bad("eio@write,read", "unexpected ',read'");
    bad("eio@write:lba:1-2-3", "unexpected '-3'");
    bad("eio@writes", "unknown op 'writes'");
    bad("eio@write@read", "unexpected '@read'");
    bad("delay:5ms5@read", "expected '@'");
}

Test(inject_parse, too_many_rules)
{
    char spec[1024] = "";
    for (int i = 0; i < BLK_INJECT_MAX_RULES; i++)
        strcat(spec, i ? ";eio@write" : "eio@write");
    cr_assert_eq(parse(spec), BLK_INJECT_MAX_RULES);
    strcat(spec, ";eio@read");
    bad(spec, "more than 16 rules");
}

Test(inject_parse, too_long)
{
    char spec[BLK_INJECT_SPEC_MAX + 2];
    memset(spec, ' ', sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = '\0';
    bad(spec, "longer than 4096 bytes");
}

Test(inject_parse, message_names_the_rule)
{
    bad("eio@write;delay:5ms@reed", "rule 2 'delay:5ms@reed'");
}

/* ---- good rules ---- */

Test(inject_parse, good_forms)
{
    cr_assert_eq(parse("delay:5ms@read"), 1);
    cr_assert_eq(R[0].kind, BLK_INJECT_DELAY);
    cr_assert_eq(R[0].delay_ns, 5000000);
    cr_assert_eq(R[0].ops, 1u << BLK_OP_READ);
    cr_assert_not(R[0].ranged);
    cr_assert_eq(R[0].nth, 1);
    cr_assert_not(R[0].once);

    cr_assert_eq(parse("eio@write#100"), 1);
    cr_assert_eq(R[0].kind, BLK_INJECT_ERROR);
    cr_assert_eq(R[0].err, EIO);
    cr_assert_eq(R[0].nth, 100);
    cr_assert(R[0].once);           /* #N defaults to once */

    cr_assert_eq(parse("eio@write#100:always"), 1);
    cr_assert_not(R[0].once);

    cr_assert_eq(parse("enospc@write:once"), 1);
    cr_assert_eq(R[0].err, ENOSPC);
    cr_assert(R[0].once);
    cr_assert_eq(R[0].nth, 1);

    cr_assert_eq(parse("eio@lba:2048-4095"), 1);
    cr_assert(R[0].ranged);
    cr_assert_eq(R[0].lba_first, 2048);
    cr_assert_eq(R[0].lba_last, 4095);
    cr_assert_eq(R[0].ops, (1u << BLK_OP__COUNT) - 1 - (1u << BLK_OP_FLUSH));

    cr_assert_eq(parse("eio@write:lba:7"), 1);
    cr_assert_eq(R[0].lba_first, 7);
    cr_assert_eq(R[0].lba_last, 7);
    cr_assert_eq(R[0].ops, 1u << BLK_OP_WRITE);

    cr_assert_eq(parse("eio@any"), 1);
    cr_assert_eq(R[0].ops, (1u << BLK_OP__COUNT) - 1);
    cr_assert_eq(parse("eio@write-zeroes"), 1);
    cr_assert_eq(R[0].ops, 1u << BLK_OP_WRITE_ZEROES);
    cr_assert_eq(parse("eio@discard#2:always"), 1);
    cr_assert_eq(parse("eio@flush"), 1);

    cr_assert_eq(parse("delay:1ns@any;delay:7us@flush;delay:2s@write"), 3);
    cr_assert_eq(R[0].delay_ns, 1);
    cr_assert_eq(R[1].delay_ns, 7000);
    cr_assert_eq(R[2].delay_ns, 2000000000ull);

    cr_assert_eq(parse(" eio@write ;  delay:1ms@read "), 2);
}

Test(inject_parse, format_round_trips)
{
    static const char *const forms[] = {
        "delay:5ms@read", "eio@write#100", "eio@lba:2048-4095",
        "eio@write:lba:2048-4095:once", "enospc@any#3:always",
        "delay:1500us@write-zeroes", "delay:2s@discard:lba:1", "eio@flush",
    };
    for (unsigned i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        cr_assert_eq(parse(forms[i]), 1, "%s: %s", forms[i], err);
        struct blk_inject_rule a = R[0];
        char text[BLK_INJECT_TEXT_MAX];
        blk_inject_format(&a, text, sizeof(text));
        cr_assert_eq(parse(text), 1, "%s -> %s: %s", forms[i], text, err);
        cr_assert_eq(memcmp(&a, &R[0], sizeof(a)), 0, "%s -> %s", forms[i],
                     text);
    }
    parse("eio@write#100");
    char text[BLK_INJECT_TEXT_MAX];
    blk_inject_format(&R[0], text, sizeof(text));
    cr_assert_str_eq(text, "eio@write#100:once");
    parse("delay:1500us@read");
    blk_inject_format(&R[0], text, sizeof(text));
    cr_assert_str_eq(text, "delay:1500us@read:always");
}

/* ---- matching ---- */

static struct blk_inject *mk(const char *spec)
{
    struct blk_inject *in = blk_inject_new(spec, err, sizeof(err));
    cr_assert(in, "%s: %s", spec, err);
    return in;
}

static int check_err(struct blk_inject *in, enum blk_op op, uint64_t off,
                     uint64_t len)
{
    struct blk_inject_verdict v;
    return blk_inject_check(in, op, off, len, &v) ? v.err : 1;
}

Test(inject_match, nth_fails_exactly_the_nth)
{
    struct blk_inject *in = mk("eio@write#3");
    for (int i = 1; i <= 10; i++) {
        cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), 1);
        cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 512),
                     i == 3 ? -EIO : 1, "write %d", i);
    }
    struct blk_inject_info info[2];
    cr_assert_eq(blk_inject_list(in, info, 2), 1);
    cr_assert_eq(info[0].matched, 10);
    cr_assert_eq(info[0].fired, 1);
    cr_assert_str_eq(info[0].text, "eio@write#3:once");
    blk_inject_unref(in);
}

Test(inject_match, nth_always_fails_from_the_nth_on)
{
    struct blk_inject *in = mk("enospc@write#3:always");
    for (int i = 1; i <= 6; i++)
        cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 512),
                     i >= 3 ? -ENOSPC : 1);
    blk_inject_unref(in);
}

Test(inject_match, once_and_always)
{
    struct blk_inject *in = mk("eio@read:once;delay:1ms@flush");
    cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), 1);
    for (int i = 0; i < 3; i++) {
        struct blk_inject_verdict v;
        cr_assert(blk_inject_check(in, BLK_OP_FLUSH, 0, 0, &v));
        cr_assert_eq(v.err, 0);
        cr_assert_eq(v.delay_ns, 1000000);
    }
    blk_inject_unref(in);
}

Test(inject_match, range_edges)
{
    struct blk_inject *in = mk("eio@lba:2048-4095");
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2047 * 512, 512), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2047 * 512, 1024), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2048 * 512, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_READ, 4095 * 512, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 4096 * 512, 4096), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 2048 * 512), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 2048 * 512 + 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_DISCARD, 0, 1 << 30), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_WRITE_ZEROES, 3000 * 512, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_FLUSH, 0, 0), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2048 * 512, 0), 1);
    /* Unaligned bytes: 4095.5 .. 4096.5 sectors touches 4095. */
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 4095 * 512 + 256, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2047 * 512 + 256, 256), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 2047 * 512 + 256, 257), -EIO);
    /* No overflow at the top of the address space. */
    cr_assert_eq(check_err(in, BLK_OP_WRITE, UINT64_MAX - 511, 512), 1);
    blk_inject_unref(in);
}

Test(inject_match, op_and_range_together)
{
    struct blk_inject *in = mk("eio@write:lba:8-15");
    cr_assert_eq(check_err(in, BLK_OP_READ, 8 * 512, 512), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 8 * 512, 512), -EIO);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 16 * 512, 512), 1);
    blk_inject_unref(in);
}

Test(inject_match, several_rules_add_delays_first_error_wins)
{
    struct blk_inject *in = mk("delay:1ms@any;enospc@write;eio@write;"
                               "delay:2ms@write");
    struct blk_inject_verdict v;
    cr_assert(blk_inject_check(in, BLK_OP_WRITE, 0, 512, &v));
    cr_assert_eq(v.err, -ENOSPC);
    cr_assert_eq(v.delay_ns, 3000000);
    cr_assert(blk_inject_check(in, BLK_OP_READ, 0, 512, &v));
    cr_assert_eq(v.err, 0);
    cr_assert_eq(v.delay_ns, 1000000);
    blk_inject_unref(in);
}

Test(inject_match, replace_rules)
{
    struct blk_inject *in = mk("eio@read");
    cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), -EIO);
    cr_assert_not(blk_inject_set(in, "eio@bogus", err, sizeof(err)));
    cr_assert(strstr(err, "unknown op 'bogus'"));
    cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), -EIO);  /* unchanged */
    cr_assert(blk_inject_set(in, "eio@write#2", err, sizeof(err)));
    cr_assert_eq(check_err(in, BLK_OP_READ, 0, 512), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 512), 1);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 512), -EIO);
    cr_assert(blk_inject_set(in, "", err, sizeof(err)));
    struct blk_inject_info info[1];
    cr_assert_eq(blk_inject_list(in, info, 1), 0);
    cr_assert_eq(check_err(in, BLK_OP_WRITE, 0, 512), 1);
    blk_inject_unref(in);
}

/* Rules replaced over and over from one thread while another matches:
 * no crash, no torn rule (under TSan/ASan this is the real check). */
static void *replacer(void *opaque)
{
    struct blk_inject *in = opaque;
    char e[128];
    for (int i = 0; i < 2000; i++)
        blk_inject_set(in, i & 1 ? "eio@write;delay:1us@read" : "", e,
                       sizeof(e));
    return NULL;
}

Test(inject_match, replace_while_matching_from_another_thread)
{
    struct blk_inject *in = mk("");
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, replacer, in), 0);
    for (int i = 0; i < 20000; i++) {
        int e = check_err(in, BLK_OP_WRITE, 0, 512);
        cr_assert(e == 1 || e == -EIO);
    }
    pthread_join(t, NULL);
    blk_inject_unref(in);
}
