/*
 * block/inject.c — the injection rule parser and the shared rule set (see
 * inject.h for the syntax and the thread rules).
 */
#include "block/inject.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_OPS ((1u << BLK_OP__COUNT) - 1)
/* Ops a range can apply to: FLUSH has none. */
#define RANGED_OPS (ALL_OPS & ~(1u << BLK_OP_FLUSH))

/* ---- the parser ------------------------------------------------------ */

struct cursor {
    const char *p;              /* where we are in the rule */
    const char *rule;           /* the rule, for messages */
    size_t rule_len;
    unsigned index;             /* 1-based; 0: the spec's only rule */
    char *err;
    size_t errlen;
};

static bool fail(struct cursor *c, const char *fmt, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof(msg), fmt, what);
    if (c->index)   /* several rules: say which one */
        snprintf(c->err, c->errlen, "rule %u '%.*s': %s", c->index,
                 (int)(c->rule_len > 80 ? 80 : c->rule_len), c->rule, msg);
    else
        snprintf(c->err, c->errlen, "%s", msg);
    return false;
}

/* The next word of [a-z-], copied (truncated) into w. */
static size_t word(struct cursor *c, char *w, size_t wlen)
{
    size_t n = 0;
    while (islower((unsigned char)c->p[n]) || c->p[n] == '-')
        n++;
    snprintf(w, wlen, "%.*s", (int)n, c->p);
    c->p += n;
    return n;
}

/* Decimal digits into *v without overflow and no larger than max. */
static bool number(struct cursor *c, uint64_t max, const char *what,
                   uint64_t *v)
{
    if (!isdigit((unsigned char)*c->p))
        return fail(c, "%s: expected a decimal number", what);
    uint64_t n = 0;
    while (isdigit((unsigned char)*c->p)) {
        unsigned d = (unsigned)(*c->p++ - '0');
        if (n > (max - d) / 10) {
            char m[64];
            snprintf(m, sizeof(m), "%s: too large (max %llu)", what,
                     (unsigned long long)max);
            return fail(c, "%s", m);
        }
        n = n * 10 + d;
    }
    *v = n;
    return true;
}

static bool parse_delay(struct cursor *c, struct blk_inject_rule *r)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
    };
    uint64_t n;
    if (!number(c, UINT64_MAX, "delay", &n))
        return false;
    if (*c->p == '.')
        return fail(c, "%s", "delay: whole numbers only (1500us, not 1.5ms)");
    char u[8];
    word(c, u, sizeof(u));
    if (!u[0])
        return fail(c, "%s", "delay needs a unit (ns, us, ms or s)");
    for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(u, units[i].unit))
            continue;
        if (n == 0)
            return fail(c, "%s", "a delay of 0 does nothing");
        if (n > BLK_INJECT_MAX_DELAY_NS / units[i].ns)
            return fail(c, "%s", "delay longer than 1 hour");
        r->kind = BLK_INJECT_DELAY;
        r->delay_ns = n * units[i].ns;
        return true;
    }
    return fail(c, "unknown delay unit '%s' (ns, us, ms or s)", u);
}

static bool parse_action(struct cursor *c, struct blk_inject_rule *r)
{
    char w[24];
    word(c, w, sizeof(w));
    if (!strcmp(w, "eio") || !strcmp(w, "enospc")) {
        r->kind = BLK_INJECT_ERROR;
        r->err = w[1] == 'i' ? EIO : ENOSPC;
        return true;
    }
    if (!strcmp(w, "delay")) {
        if (*c->p != ':')
            return fail(c, "%s", "expected delay:DURATION (e.g. delay:5ms)");
        c->p++;
        return parse_delay(c, r);
    }
    if (!w[0])
        return fail(c, "%s", "missing action (eio, enospc or delay:DURATION)");
    return fail(c, "unknown action '%s' (eio, enospc or delay:DURATION)", w);
}

static int op_by_name(const char *w)
{
    if (!strcmp(w, "any"))
        return BLK_OP__COUNT;
    for (int i = 0; i < BLK_OP__COUNT; i++)
        if (!strcmp(w, blk_op_name((enum blk_op)i)))
            return i;
    return -1;
}

/* "FIRST[-LAST]" after "lba:". */
static bool parse_range(struct cursor *c, struct blk_inject_rule *r)
{
    if (!number(c, BLK_INJECT_MAX_LBA, "LBA", &r->lba_first))
        return false;
    r->lba_last = r->lba_first;
    if (*c->p == '-') {
        c->p++;
        if (!number(c, BLK_INJECT_MAX_LBA, "last LBA", &r->lba_last))
            return false;
        if (r->lba_last < r->lba_first)
            return fail(c, "%s", "range ends before it starts (FIRST-LAST, "
                        "inclusive)");
    }
    r->ranged = true;
    return true;
}

/* OP[:lba:RANGE] | lba:RANGE. Leaves a ":once"/":always" alone. */
static bool parse_match(struct cursor *c, struct blk_inject_rule *r)
{
    char w[24];
    word(c, w, sizeof(w));
    bool lba = !strcmp(w, "lba");
    if (!lba) {
        int op = op_by_name(w);
        if (op < 0)
            return fail(c, w[0] ? "unknown op '%s' (read, write, flush, "
                        "discard, write-zeroes or any)"
                        : "%smissing op after '@' (read, write, flush, "
                        "discard, write-zeroes, any or lba:RANGE)", w);
        r->ops = op == BLK_OP__COUNT ? ALL_OPS : 1u << op;
        if (strncmp(c->p, ":lba", 4) || isalpha((unsigned char)c->p[4]))
            return true;
        c->p += 4;
    } else {
        r->ops = RANGED_OPS;
    }
    if (*c->p != ':')
        return fail(c, "%s", "expected lba:FIRST[-LAST]");
    c->p++;
    if (!parse_range(c, r))
        return false;
    r->ops &= RANGED_OPS;
    if (!r->ops)
        return fail(c, "%s", "flush has no LBA range");
    return true;
}

/* ACTION@MATCH[#N][:once|:always], c->p at its start, ends at `end`. */
static bool parse_rule(struct cursor *c, const char *end,
                       struct blk_inject_rule *r)
{
    memset(r, 0, sizeof(*r));
    r->nth = 1;
    if (!parse_action(c, r))
        return false;
    if (*c->p != '@')
        return fail(c, "%s", c->p == end ? "missing '@OP' (e.g. eio@write)"
                    : "expected '@' after the action");
    c->p++;
    if (!parse_match(c, r))
        return false;
    bool counted = false;
    if (*c->p == '#') {
        c->p++;
        if (!number(c, UINT64_MAX, "#N", &r->nth))
            return false;
        if (r->nth == 0)
            return fail(c, "%s", "#N counts from 1");
        counted = true;
    }
    r->once = counted;
    if (*c->p == ':') {
        c->p++;
        char w[24];
        word(c, w, sizeof(w));
        if (!strcmp(w, "once"))
            r->once = true;
        else if (!strcmp(w, "always"))
            r->once = false;
        else
            return fail(c, "unknown flag '%s' (once or always)", w);
    }
    if (c->p != end)
        return fail(c, "unexpected '%s' at the end", c->p);
    return true;
}

int blk_inject_parse(const char *spec, struct blk_inject_rule *rules,
                     unsigned max, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!spec)
        return 0;
    size_t total = strlen(spec);
    if (total > BLK_INJECT_SPEC_MAX) {
        snprintf(err, errlen, "rules longer than %u bytes",
                 BLK_INJECT_SPEC_MAX);
        return -1;
    }
    const char *s = spec;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    unsigned n = 0;
    for (;;) {
        const char *semi = strchr(s, ';');
        const char *end = semi ? semi : s + strlen(s);
        /* Blanks around a rule are allowed (a control-socket user may
         * write "eio@write; delay:1ms@read"); inside one they are not. */
        while (s < end && isspace((unsigned char)*s))
            s++;
        while (end > s && isspace((unsigned char)end[-1]))
            end--;
        /* The rule as a string of its own, so the parser stops at `end`. */
        char buf[BLK_INJECT_SPEC_MAX + 1];
        snprintf(buf, sizeof(buf), "%.*s", (int)(end - s), s);
        bool only = n == 0 && !semi;
        struct cursor c = { buf, buf, strlen(buf), only ? 0 : n + 1, err,
                            errlen };
        if (!buf[0]) {
            snprintf(err, errlen, "rule %u is empty (rules are separated by "
                     "';')", n + 1);
            return -1;
        }
        if (n == max) {
            snprintf(err, errlen, "more than %u rules", max);
            return -1;
        }
        if (!parse_rule(&c, buf + strlen(buf), &rules[n]))
            return -1;
        n++;
        if (!semi)
            return (int)n;
        s = semi + 1;
    }
}

static int fmt_duration(char *buf, size_t len, uint64_t ns)
{
    static const struct { const char *unit; uint64_t ns; } units[] = {
        { "s", 1000000000 }, { "ms", 1000000 }, { "us", 1000 }, { "ns", 1 },
    };
    unsigned i = 0;
    while (ns % units[i].ns)
        i++;
    return snprintf(buf, len, "%llu%s",
                    (unsigned long long)(ns / units[i].ns), units[i].unit);
}

void blk_inject_format(const struct blk_inject_rule *r, char *buf, size_t len)
{
    char act[40], match[80], count[40] = "";
    if (r->kind == BLK_INJECT_DELAY) {
        int k = snprintf(act, sizeof(act), "delay:");
        fmt_duration(act + k, sizeof(act) - (size_t)k, r->delay_ns);
    } else {
        snprintf(act, sizeof(act), "%s", r->err == ENOSPC ? "enospc" : "eio");
    }
    const char *op = "any";
    for (int i = 0; i < BLK_OP__COUNT; i++)
        if (r->ops == 1u << i)
            op = blk_op_name((enum blk_op)i);
    if (r->ranged)
        snprintf(match, sizeof(match), "%s:lba:%llu-%llu", op,
                 (unsigned long long)r->lba_first,
                 (unsigned long long)r->lba_last);
    else
        snprintf(match, sizeof(match), "%s", op);
    if (r->nth != 1)
        snprintf(count, sizeof(count), "#%llu", (unsigned long long)r->nth);
    snprintf(buf, len, "%s@%s%s%s", act, match, count,
             r->once ? ":once" : ":always");
}

/* ---- the shared rule set --------------------------------------------- */

struct rule_state {
    struct blk_inject_rule r;
    uint64_t matched, fired;
};

struct blk_inject {
    _Atomic unsigned refs;
    /* A hint for the hot path: the number of rules, read without the lock
     * (a request racing with a replacement may see the old answer). */
    _Atomic unsigned active;
    pthread_mutex_t lock;       /* the rules and their counters */
    struct rule_state *rules;
    unsigned n;
};

struct blk_inject *blk_inject_new(const char *spec, char *err, size_t errlen)
{
    struct blk_inject *in = calloc(1, sizeof(*in));
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&in->refs, 1);
    pthread_mutex_init(&in->lock, NULL);
    if (!blk_inject_set(in, spec, err, errlen)) {
        blk_inject_unref(in);
        return NULL;
    }
    return in;
}

void blk_inject_ref(struct blk_inject *in)
{
    atomic_fetch_add_explicit(&in->refs, 1, memory_order_relaxed);
}

void blk_inject_unref(struct blk_inject *in)
{
    if (!in || atomic_fetch_sub_explicit(&in->refs, 1,
                                         memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&in->lock);
    free(in->rules);
    free(in);
}

bool blk_inject_set(struct blk_inject *in, const char *spec, char *err,
                    size_t errlen)
{
    struct blk_inject_rule parsed[BLK_INJECT_MAX_RULES];
    int n = blk_inject_parse(spec, parsed, BLK_INJECT_MAX_RULES, err, errlen);
    if (n < 0)
        return false;
    struct rule_state *rs = NULL;
    if (n > 0) {
        rs = calloc((size_t)n, sizeof(*rs));
        if (!rs) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        for (int i = 0; i < n; i++)
            rs[i].r = parsed[i];
    }
    /* Readers only look at the rules under the lock, so once we have
     * swapped them nobody can still be reading the old ones. */
    pthread_mutex_lock(&in->lock);
    struct rule_state *old = in->rules;
    in->rules = rs;
    in->n = (unsigned)n;
    atomic_store_explicit(&in->active, (unsigned)n, memory_order_release);
    pthread_mutex_unlock(&in->lock);
    free(old);
    return true;
}

unsigned blk_inject_list(struct blk_inject *in, struct blk_inject_info *out,
                         unsigned max)
{
    pthread_mutex_lock(&in->lock);
    unsigned n = in->n;
    for (unsigned i = 0; i < n && i < max; i++) {
        blk_inject_format(&in->rules[i].r, out[i].text, sizeof(out[i].text));
        out[i].matched = in->rules[i].matched;
        out[i].fired = in->rules[i].fired;
    }
    pthread_mutex_unlock(&in->lock);
    return n;
}

/* Does the request [offset, offset + len) touch the rule's sectors? */
static bool range_hit(const struct blk_inject_rule *r, uint64_t offset,
                      uint64_t len)
{
    if (!r->ranged)
        return true;
    if (len == 0)
        return false;
    uint64_t first = offset / 512, last = first + (len - 1) / 512 +
                     ((offset % 512) + (len - 1) % 512 >= 512);
    return first <= r->lba_last && last >= r->lba_first;
}

bool blk_inject_check(struct blk_inject *in, enum blk_op op, uint64_t offset,
                      uint64_t len, struct blk_inject_verdict *v)
{
    if (!in || !atomic_load_explicit(&in->active, memory_order_relaxed) ||
        (unsigned)op >= BLK_OP__COUNT)
        return false;
    bool acted = false;
    v->err = 0;
    v->delay_ns = 0;
    pthread_mutex_lock(&in->lock);
    for (unsigned i = 0; i < in->n; i++) {
        struct rule_state *s = &in->rules[i];
        if (!(s->r.ops & 1u << op) || !range_hit(&s->r, offset, len))
            continue;
        s->matched++;
        if (s->matched < s->r.nth || (s->r.once && s->matched != s->r.nth))
            continue;
        s->fired++;
        acted = true;
        if (s->r.kind == BLK_INJECT_ERROR) {
            if (!v->err)
                v->err = -s->r.err;
        } else {
            v->delay_ns += s->r.delay_ns;
            if (v->delay_ns > BLK_INJECT_MAX_DELAY_NS)
                v->delay_ns = BLK_INJECT_MAX_DELAY_NS;
        }
    }
    pthread_mutex_unlock(&in->lock);
    return acted;
}
