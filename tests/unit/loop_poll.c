/*
 * tests/unit/loop_poll.c — adaptive busy-polling (seed 004): the spin
 * budget grows, keeps, shrinks, stops at the maximum and at 0; idle pollers
 * leave the spin set and come back when kicked; a spinning loop finds a
 * poller's work without sleeping; no cross-thread call is lost while the
 * loop alternates between spinning and sleeping.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/iothread.h"
#include "util/loop.h"
#include "util/loop_poll.h"

#define US 1000ull
#define MS 1000000ull

/* ---- the budget (loop_poll_adapt) ---- */

static struct loop_poll lp_with_max(uint64_t max)
{
    struct loop_poll lp;
    loop_poll_init(&lp);
    loop_poll_set_max(&lp, max);
    return lp;
}

Test(loop_poll, budget_grows_from_start_doubling_up_to_max)
{
    struct loop_poll lp = lp_with_max(32 * US);
    cr_assert_eq(lp.poll_ns, 0);
    loop_poll_adapt(&lp, 10 * US);      /* a spin would have caught it */
    cr_assert_eq(lp.poll_ns, LOOP_POLL_START_NS);
    loop_poll_adapt(&lp, 10 * US);
    cr_assert_eq(lp.poll_ns, 2 * LOOP_POLL_START_NS);
    loop_poll_adapt(&lp, 10 * US);
    cr_assert_eq(lp.poll_ns, 4 * LOOP_POLL_START_NS);   /* 16 us */
    loop_poll_adapt(&lp, 10 * US);      /* now caught: keep */
    cr_assert_eq(lp.poll_ns, 16 * US);
    loop_poll_adapt(&lp, 30 * US);
    cr_assert_eq(lp.poll_ns, 32 * US);  /* 2 x 16, at the max */
    loop_poll_adapt(&lp, 32 * US);
    cr_assert_eq(lp.poll_ns, 32 * US);
    cr_assert_eq(atomic_load(&lp.cur_ns), 32 * US);
    loop_poll_destroy(&lp);
}

Test(loop_poll, growth_is_capped_by_an_odd_max)
{
    struct loop_poll lp = lp_with_max(10 * US);
    for (int i = 0; i < 10; i++)
        loop_poll_adapt(&lp, 9 * US);
    cr_assert_eq(lp.poll_ns, 10 * US);
    loop_poll_destroy(&lp);
}

Test(loop_poll, budget_shrinks_when_events_come_later_than_max)
{
    struct loop_poll lp = lp_with_max(32 * US);
    for (int i = 0; i < 6; i++)
        loop_poll_adapt(&lp, 20 * US);
    cr_assert_eq(lp.poll_ns, 32 * US);
    loop_poll_adapt(&lp, 1 * MS);       /* a sleep was needed anyway */
    cr_assert_eq(lp.poll_ns, 16 * US);
    loop_poll_adapt(&lp, 1 * MS);
    cr_assert_eq(lp.poll_ns, 8 * US);
    loop_poll_adapt(&lp, 1 * MS);
    cr_assert_eq(lp.poll_ns, 4 * US);
    loop_poll_adapt(&lp, 1 * MS);       /* below the start: off */
    cr_assert_eq(lp.poll_ns, 0);
    loop_poll_adapt(&lp, 1 * MS);
    cr_assert_eq(lp.poll_ns, 0);
    loop_poll_adapt(&lp, 5 * US);       /* and back when events are quick */
    cr_assert_eq(lp.poll_ns, LOOP_POLL_START_NS);
    loop_poll_destroy(&lp);
}

Test(loop_poll, zero_max_disables_and_a_lower_max_clamps)
{
    struct loop_poll lp = lp_with_max(32 * US);
    for (int i = 0; i < 6; i++)
        loop_poll_adapt(&lp, 20 * US);
    cr_assert_eq(lp.poll_ns, 32 * US);
    loop_poll_set_max(&lp, 8 * US);
    loop_poll_adapt(&lp, 1 * US);
    cr_assert_eq(lp.poll_ns, 8 * US);
    loop_poll_set_max(&lp, 0);
    loop_poll_adapt(&lp, 1 * US);
    cr_assert_eq(lp.poll_ns, 0);
    for (int i = 0; i < 6; i++)
        loop_poll_adapt(&lp, 0);
    cr_assert_eq(lp.poll_ns, 0);
    loop_poll_destroy(&lp);
}

/* ---- the spin set ---- */

struct counter {
    unsigned calls;
    unsigned ready;     /* calls that report progress (then consumed) */
};

static bool count_poll(void *opaque)
{
    struct counter *c = opaque;
    c->calls++;
    if (c->ready) {
        c->ready--;
        return true;
    }
    return false;
}

Test(loop_poll, idle_pollers_drop_out_and_come_back_when_kicked)
{
    struct loop_poll lp = lp_with_max(32 * US);
    struct counter busy = { 0 }, idle[100] = { { 0 } };
    struct loop_poller *pi[100];
    struct loop_poller *pb = loop_poll_add(&lp, count_poll, &busy);
    for (int i = 0; i < 100; i++)
        pi[i] = loop_poll_add(&lp, count_poll, &idle[i]);
    cr_assert_eq(lp.nact, 101);

    uint64_t t = 1 * MS;
    loop_poll_sweep(&lp, t);            /* stamps the newcomers */
    cr_assert_eq(lp.nact, 101);
    /* The busy drive makes progress every round; the others never. */
    for (int i = 0; i < 10; i++) {
        t += LOOP_POLL_IDLE_NS / 5;
        busy.ready = 1;
        cr_assert(loop_poll_round(&lp, t));
        loop_poll_sweep(&lp, t);
    }
    cr_assert_eq(lp.nact, 1, "idle pollers still spun over: %u", lp.nact);
    cr_assert_eq(lp.act[0], pb);
    cr_assert_eq(atomic_load(&lp.st_removed), 100);
    unsigned before = idle[7].calls;
    cr_assert_not(loop_poll_round(&lp, t));
    cr_assert_eq(idle[7].calls, before, "an idle poller was called");

    /* A submission on drive 7: it spins again, and again drops out. */
    loop_poll_kick(pi[7]);
    loop_poll_kick(pi[7]);              /* twice: still one entry */
    cr_assert_eq(lp.nact, 2);
    idle[7].ready = 1;
    cr_assert(loop_poll_round(&lp, t));
    cr_assert_eq(idle[7].calls, before + 1);
    loop_poll_sweep(&lp, t);
    cr_assert_eq(lp.nact, 2);
    t += LOOP_POLL_IDLE_NS + 1;
    busy.ready = 1;
    loop_poll_round(&lp, t);
    loop_poll_sweep(&lp, t);
    cr_assert_eq(lp.nact, 1);
    cr_assert_eq(lp.act[0], pb);
    loop_poll_destroy(&lp);
}

struct self_del {
    struct loop_poll *lp;
    struct loop_poller *me;
    unsigned calls;
};

static bool delete_self(void *opaque)
{
    struct self_del *s = opaque;
    s->calls++;
    loop_poll_del(s->me, true);         /* inside a round */
    return true;
}

Test(loop_poll, poller_deleted_inside_a_round_is_not_called_again)
{
    struct loop_poll lp = lp_with_max(32 * US);
    struct self_del s = { .lp = &lp };
    struct counter other = { 0 };
    s.me = loop_poll_add(&lp, delete_self, &s);
    loop_poll_add(&lp, count_poll, &other);
    cr_assert(loop_poll_round(&lp, 1));
    loop_poll_kick(s.me);               /* a kick after delete: ignored */
    loop_poll_round(&lp, 2);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(other.calls, 2);
    loop_poll_collect(&lp);             /* frees it (ASan checks) */
    cr_assert_eq(lp.nall, 1);
    cr_assert_eq(lp.nact, 1);
    loop_poll_destroy(&lp);
}

/* ---- a spinning loop ---- */

static void nop_cb(void *opaque)
{
    (void)opaque;
}

/* Grow the loop's budget: each wait ends with a timer 20 us away, well
 * within the 1 s maximum, so the budget doubles until it covers it. */
static void grow_budget(struct loop *l)
{
    struct loop_timer *t = loop_timer_new(l, nop_cb, NULL);
    for (int i = 0; i < 20; i++) {
        loop_timer_mod(t, clock_ns() + 20 * US);
        while (loop_timer_pending(t))
            loop_run_once(l, true);
    }
    loop_timer_free(t);
}

Test(loop_poll, spinning_loop_runs_a_poller_without_sleeping, .timeout = 10)
{
    struct loop *l = loop_new();
    cr_assert_eq(loop_get_poll_max_ns(l), 0, "a new loop must not spin");
    loop_set_poll_max_ns(l, LOOP_POLL_MAX_NS_LIMIT + 1);
    cr_assert_eq(loop_get_poll_max_ns(l), LOOP_POLL_MAX_NS_LIMIT);
    grow_budget(l);
    cr_assert_geq(loop_get_stats(l).poll_ns, 16 * US);

    /* Work only a poller can see (no fd, no call): a loop that slept
     * would wait for the 5 s safety timer, and the test would fail. */
    struct counter c = { .ready = 1 };
    struct loop_poller *p = loop_add_poller(l, count_poll, &c);
    struct loop_timer *safety = loop_timer_new(l, nop_cb, NULL);
    loop_timer_mod(safety, clock_ns() + 5000 * MS);
    struct loop_stats before = loop_get_stats(l);
    cr_assert(loop_run_once(l, true));
    cr_assert_eq(c.ready, 0, "the poller's work was not found");
    cr_assert(loop_timer_pending(safety), "the loop slept until the timer");
    cr_assert_eq(loop_get_stats(l).poll_hits, before.poll_hits + 1);

    loop_del_poller(l, p);
    loop_timer_free(safety);
    loop_free(l);
}

Test(loop_poll, zero_max_never_calls_pollers, .timeout = 10)
{
    struct loop *l = loop_new();
    loop_set_poll_max_ns(l, 0);
    struct counter c = { 0 };
    struct loop_poller *p = loop_add_poller(l, count_poll, &c);
    grow_budget(l);
    cr_assert_eq(c.calls, 0);
    struct loop_stats s = loop_get_stats(l);
    cr_assert_eq(s.poll_ns, 0);
    cr_assert_eq(s.poll_hits + s.poll_misses, 0);
    loop_del_poller(l, p);
    loop_free(l);
}

Test(loop_poll, iothreads_spin_by_default, .timeout = 10)
{
    struct iothread *io = iothread_new("t");
    cr_assert_not_null(io);
    cr_assert_eq(loop_get_poll_max_ns(iothread_loop(io)),
                 LOOP_POLL_MAX_NS_DEFAULT);
    iothread_free(io);
}

/* ---- no lost wake-ups between spinning and sleeping ---- */

struct hammer {
    struct loop *loop;
    atomic_uint done;
    unsigned total;
    atomic_bool stuck;
};

static void hammer_cb(void *opaque)
{
    struct hammer *h = opaque;
    atomic_fetch_add(&h->done, 1);
}

/* Bursts of loop_call with gaps from 0 to ~100 us, so the loop is caught
 * spinning, going to sleep and asleep. After each burst the producer waits
 * for it to run: a lost wake-up leaves work queued while the loop sleeps
 * with no timer, which the 2 s deadline catches. */
static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    unsigned issued = 0, seed = 12345;
    while (issued < h->total && !atomic_load(&h->stuck)) {
        seed = seed * 1103515245u + 12345u;
        unsigned burst = 1 + (seed >> 16) % 4;
        for (unsigned i = 0; i < burst && issued < h->total; i++, issued++)
            cr_assert(loop_call(h->loop, hammer_cb, h));
        uint64_t deadline = clock_ns() + 2000 * MS;
        while (atomic_load(&h->done) < issued) {
            if (clock_ns() > deadline) {
                atomic_store(&h->stuck, true);
                break;
            }
        }
        unsigned gap = (seed >> 8) % 8;
        if (gap >= 6)
            usleep(gap == 6 ? 20 : 100);
        else
            for (volatile unsigned k = 0; k < gap * 500; k++)
                ;
    }
    loop_quit(h->loop);
    return NULL;
}

Test(loop_poll, no_lost_wakeup_while_alternating_spin_and_sleep,
     .timeout = 60)
{
    struct hammer h = { .loop = loop_new(), .total = 20000 };
    loop_set_poll_max_ns(h.loop, 20 * US);
    pthread_t th;
    pthread_create(&th, NULL, hammer_thread, &h);
    loop_run(h.loop);
    pthread_join(th, NULL);
    cr_assert_not(atomic_load(&h.stuck), "a loop_call was not run: lost "
                  "wake-up after %u of %u", atomic_load(&h.done), h.total);
    cr_assert_eq(atomic_load(&h.done), h.total);
    struct loop_stats s = loop_get_stats(h.loop);
    cr_log_info("hits %llu misses %llu wakeups %llu",
                (unsigned long long)s.poll_hits,
                (unsigned long long)s.poll_misses,
                (unsigned long long)s.wakeups);
    loop_free(h.loop);
}
