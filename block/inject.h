/*
 * block/inject.h — fault and latency injection per drive: a small rule
 * language (like QEMU's blkdebug, typed in one option) and the shared,
 * thread-safe rule set the block layer consults on every request.
 *
 * Syntax (docs/inject.md): rules separated by ';', each
 *
 *     ACTION@MATCH[#N][:once|:always]
 *
 *   ACTION  eio | enospc | delay:DURATION   (DURATION = digits + ns|us|ms|s,
 *           at most 1 hour)
 *   MATCH   OP | OP:lba:FIRST[-LAST] | lba:FIRST[-LAST]
 *   OP      read | write | flush | discard | write-zeroes | any
 *           (lba: without OP means any op with a range: all but flush)
 *   LBA     512-byte sectors, inclusive; a request matches if it touches
 *           any sector of the range
 *   #N      act from the N-th matching request (counted from 1) on
 *   :once   act on one request only (the N-th, or the first)
 *   :always act on every matching request from the N-th on
 *   Default: always, except with #N, where it is once (the N-th only).
 *
 * Every request that matches a rule's op and range is counted by that
 * rule ("matched"); a rule that acts on it counts "fired". When several
 * rules act on one request, their delays add up and the first error rule
 * (in the order written) gives the error.
 *
 * Threads: one struct blk_inject is shared by all the handles of a drive
 * (virtio-blk opens one per iothread), so #N counts the drive's requests
 * whichever iothread serves them. Rule sets are replaced from any thread
 * (the control socket); matching and replacing take the set's mutex, and
 * a drive without rules pays one relaxed atomic load per request.
 */
#ifndef BLOCK_INJECT_H
#define BLOCK_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

#define BLK_INJECT_MAX_RULES 16
#define BLK_INJECT_SPEC_MAX 4096            /* bytes of one rule string */
#define BLK_INJECT_MAX_DELAY_NS (3600ull * 1000000000ull)
#define BLK_INJECT_MAX_LBA ((1ull << 48) - 1)   /* ATA's LBA48 */
#define BLK_INJECT_TEXT_MAX 96              /* one rule, formatted */

enum blk_inject_kind { BLK_INJECT_ERROR = 0, BLK_INJECT_DELAY };

/* One parsed rule. */
struct blk_inject_rule {
    enum blk_inject_kind kind;
    int err;                    /* ERROR: the positive errno (EIO, ENOSPC) */
    uint64_t delay_ns;          /* DELAY */
    unsigned ops;               /* bit (1u << enum blk_op) per op */
    bool ranged;
    uint64_t lba_first, lba_last;   /* inclusive, 512-byte sectors */
    uint64_t nth;               /* first matching request it acts on (>= 1) */
    bool once;                  /* only on the nth */
};

/* A rule as listed for the control socket and --stats. */
struct blk_inject_info {
    char text[BLK_INJECT_TEXT_MAX];  /* normalised: "eio@write#100:once" */
    uint64_t matched;           /* requests that matched op and range */
    uint64_t fired;             /* requests it failed or delayed */
};

/* What the rules decided for one request. */
struct blk_inject_verdict {
    int err;                    /* 0, or the -errno to complete it with */
    uint64_t delay_ns;          /* hold it this long first */
};

/* Parse `spec` into at most `max` rules. Returns the number of rules
 * (0 for an empty or all-blank spec), or -1 with one line in err naming
 * the rule and what is wrong with it. */
int blk_inject_parse(const char *spec, struct blk_inject_rule *rules,
                     unsigned max, char *err, size_t errlen);

/* The normalised text of a rule (parses back to the same rule). */
void blk_inject_format(const struct blk_inject_rule *r, char *buf,
                       size_t len);

struct blk_inject;

/* A rule set with `spec` in it (NULL or "": none). NULL with one line in
 * err when the spec is malformed or memory is short. Reference count 1. */
struct blk_inject *blk_inject_new(const char *spec, char *err, size_t errlen);
void blk_inject_ref(struct blk_inject *in);
void blk_inject_unref(struct blk_inject *in);   /* NULL: no-op */

/* Replace the rules (their counters start from zero). Any thread. On a
 * malformed spec, false with one line in err and nothing changes. */
bool blk_inject_set(struct blk_inject *in, const char *spec, char *err,
                    size_t errlen);

/* Copy the active rules with their counters; returns how many there are
 * (may exceed max: only max are written). Any thread. */
unsigned blk_inject_list(struct blk_inject *in, struct blk_inject_info *out,
                         unsigned max);

/* Count and decide for one request. True if any rule acted (*v filled).
 * Any thread. `len` is the request's length in bytes (0 for FLUSH). */
bool blk_inject_check(struct blk_inject *in, enum blk_op op, uint64_t offset,
                      uint64_t len, struct blk_inject_verdict *v);

#endif
