/*
 * tests/unit/loop.c — the event loop: work queued from other threads wakes a
 * loop that sleeps with no timeout (without the wake-up these tests hang and
 * Criterion's timeout fails them), timers fire in order and never early, fd
 * handlers, bottom-half coalescing, loop_quit from another thread.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop.h"

#define MS 1000000ull

static void sleep_ms(unsigned ms)
{
    usleep(ms * 1000);
}

static void count_cb(void *opaque)
{
    atomic_fetch_add((atomic_int *)opaque, 1);
}

/* ---- wake-ups from foreign threads ---- */

struct poke {
    struct loop *loop;
    struct loop_bh *bh;
    atomic_int *counter;
    unsigned delay_ms;
};

static void *bh_poker(void *arg)
{
    struct poke *p = arg;
    sleep_ms(p->delay_ms);
    loop_bh_schedule(p->bh);
    return NULL;
}

Test(loop, bh_from_thread_wakes_loop_sleeping_without_timeout, .timeout = 5)
{
    struct loop *l = loop_new();
    cr_assert(l);
    atomic_int n = 0;
    struct loop_bh *bh = loop_bh_new(l, count_cb, &n);
    struct poke p = { .loop = l, .bh = bh, .delay_ms = 50 };
    pthread_t th;
    pthread_create(&th, NULL, bh_poker, &p);
    /* No timer is armed: only the eventfd wake-up can end this wait. */
    while (atomic_load(&n) == 0)
        loop_run_once(l, true);
    pthread_join(th, NULL);
    cr_assert_eq(n, 1);
    cr_assert_geq(loop_get_stats(l).wakeups, 1);
    loop_bh_free(bh);
    loop_free(l);
}

static void *call_poker(void *arg)
{
    struct poke *p = arg;
    sleep_ms(p->delay_ms);
    cr_assert(loop_call(p->loop, count_cb, p->counter));
    return NULL;
}

Test(loop, call_from_thread_wakes_loop_sleeping_without_timeout, .timeout = 5)
{
    struct loop *l = loop_new();
    atomic_int n = 0;
    struct poke p = { .loop = l, .counter = &n, .delay_ms = 50 };
    pthread_t th;
    pthread_create(&th, NULL, call_poker, &p);
    while (atomic_load(&n) == 0)
        loop_run_once(l, true);
    pthread_join(th, NULL);
    cr_assert_eq(n, 1);
    loop_free(l);
}

static void *quitter(void *arg)
{
    sleep_ms(50);
    loop_quit(arg);
    return NULL;
}

Test(loop, quit_from_thread_ends_run, .timeout = 5)
{
    struct loop *l = loop_new();
    pthread_t th;
    pthread_create(&th, NULL, quitter, l);
    loop_run(l);
    pthread_join(th, NULL);
    loop_free(l);
}

Test(loop, quit_before_run_returns_at_once, .timeout = 5)
{
    struct loop *l = loop_new();
    loop_quit(l);
    loop_run(l);
    loop_free(l);
}

/* Ping-pong: each call waits until the loop ran the previous one, so a
 * single lost wake-up hangs the test. */
struct pingpong {
    struct loop *loop;
    struct loop_bh *bh;
    atomic_int calls, bhs;
    int rounds;
};

static void *pinger(void *arg)
{
    struct pingpong *pp = arg;
    for (int i = 0; i < pp->rounds; i++) {
        loop_call(pp->loop, count_cb, &pp->calls);
        while (atomic_load(&pp->calls) <= i)
            ;
        loop_bh_schedule(pp->bh);
        while (atomic_load(&pp->bhs) <= i)
            ;
    }
    loop_quit(pp->loop);
    return NULL;
}

Test(loop, no_lost_wakeup_under_ping_pong, .timeout = 20)
{
    struct pingpong pp = { .loop = loop_new(), .rounds = 20000 };
    pp.bh = loop_bh_new(pp.loop, count_cb, &pp.bhs);
    pthread_t th;
    pthread_create(&th, NULL, pinger, &pp);
    loop_run(pp.loop);
    pthread_join(th, NULL);
    cr_assert_eq(pp.calls, pp.rounds);
    cr_assert_eq(pp.bhs, pp.rounds);
    loop_bh_free(pp.bh);
    loop_free(pp.loop);
}

/* ---- bottom halves ---- */

Test(loop, bh_scheduled_many_times_runs_once, .timeout = 5)
{
    struct loop *l = loop_new();
    atomic_int n = 0;
    struct loop_bh *bh = loop_bh_new(l, count_cb, &n);
    for (int i = 0; i < 1000; i++)
        loop_bh_schedule(bh);
    cr_assert(loop_run_once(l, true));
    cr_assert_eq(n, 1);
    cr_assert(!loop_run_once(l, false));
    cr_assert_eq(n, 1);
    /* The loop was never asleep: no eventfd write was needed. */
    cr_assert_eq(loop_get_stats(l).wakeups, 0);
    loop_bh_free(bh);
    loop_free(l);
}

static void *burst_scheduler(void *arg)
{
    struct poke *p = arg;
    sleep_ms(50);
    for (int i = 0; i < 1000; i++)
        loop_bh_schedule(p->bh);
    return NULL;
}

Test(loop, burst_of_schedules_costs_one_wakeup, .timeout = 5)
{
    struct loop *l = loop_new();
    atomic_int n = 0;
    struct loop_bh *bh = loop_bh_new(l, count_cb, &n);
    struct poke p = { .bh = bh };
    pthread_t th;
    pthread_create(&th, NULL, burst_scheduler, &p);
    while (atomic_load(&n) == 0)
        loop_run_once(l, true);
    pthread_join(th, NULL);
    while (loop_run_once(l, false))
        ;
    /* The burst can straddle the one run, so at most two runs; the
     * eventfd is written at most once per sleep. */
    cr_assert_leq(n, 2);
    cr_assert_leq(loop_get_stats(l).wakeups, 2);
    loop_bh_free(bh);
    loop_free(l);
}

struct self_free {
    struct loop_bh *bh;
    int runs;
};

static void bh_frees_itself(void *opaque)
{
    struct self_free *s = opaque;
    s->runs++;
    loop_bh_free(s->bh);
}

Test(loop, bh_may_free_itself, .timeout = 5)
{
    struct loop *l = loop_new();
    struct self_free s = { 0 };
    s.bh = loop_bh_new(l, bh_frees_itself, &s);
    loop_bh_schedule(s.bh);
    loop_run_once(l, false);
    cr_assert_eq(s.runs, 1);
    loop_free(l);
}

/* ---- timers ---- */

struct tfire {
    uint64_t deadline;
    uint64_t fired_at;
    int order;
    int *next_order;
};

static void timer_record(void *opaque)
{
    struct tfire *f = opaque;
    f->fired_at = clock_ns();
    f->order = (*f->next_order)++;
}

Test(loop, timers_fire_in_deadline_order_and_not_early, .timeout = 5)
{
    struct loop *l = loop_new();
    int next = 0;
    uint64_t now = clock_ns();
    /* Armed out of order; b2 shares b's deadline and was armed after it. */
    uint64_t offs[4] = { 40 * MS, 10 * MS, 25 * MS, 25 * MS };
    int expect[4] = { 3, 0, 1, 2 };
    struct tfire f[4];
    struct loop_timer *t[4];
    for (int i = 0; i < 4; i++) {
        f[i] = (struct tfire){ .deadline = now + offs[i],
                               .next_order = &next };
        t[i] = loop_timer_new(l, timer_record, &f[i]);
        loop_timer_mod(t[i], f[i].deadline);
    }
    while (next < 4)
        loop_run_once(l, true);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(f[i].order, expect[i], "timer %d fired as #%d", i,
                     f[i].order);
        cr_assert_geq(f[i].fired_at, f[i].deadline, "timer %d fired early", i);
        cr_assert(!loop_timer_pending(t[i]));
        loop_timer_free(t[i]);
    }
    loop_free(l);
}

Test(loop, deleted_and_rearmed_timers, .timeout = 5)
{
    struct loop *l = loop_new();
    atomic_int a = 0, b = 0;
    struct loop_timer *ta = loop_timer_new(l, count_cb, &a);
    struct loop_timer *tb = loop_timer_new(l, count_cb, &b);
    uint64_t now = clock_ns();
    loop_timer_mod(ta, now + 5 * MS);
    loop_timer_mod(tb, now + 60 * MS);
    loop_timer_del(ta);                 /* never fires */
    loop_timer_mod(tb, now + 10 * MS);  /* moved earlier */
    while (atomic_load(&b) == 0)
        loop_run_once(l, true);
    cr_assert_geq(clock_ns(), now + 10 * MS);
    cr_assert_lt(clock_ns(), now + 60 * MS);
    cr_assert_eq(a, 0);
    loop_timer_free(ta);
    loop_timer_free(tb);
    loop_free(l);
}

struct tpoke {
    struct loop_timer *t;
};

static void *timer_armer(void *arg)
{
    sleep_ms(30);
    loop_timer_mod(arg, clock_ns() + 10 * MS);
    return NULL;
}

Test(loop, timer_armed_from_thread_shortens_infinite_sleep, .timeout = 5)
{
    struct loop *l = loop_new();
    atomic_int n = 0;
    struct loop_timer *t = loop_timer_new(l, count_cb, &n);
    pthread_t th;
    pthread_create(&th, NULL, timer_armer, t);
    while (atomic_load(&n) == 0)
        loop_run_once(l, true);
    pthread_join(th, NULL);
    loop_timer_free(t);
    loop_free(l);
}

struct rearm {
    struct loop_timer *t;
    int runs;
};

static void timer_rearm_past(void *opaque)
{
    struct rearm *r = opaque;
    if (++r->runs < 3)
        loop_timer_mod(r->t, 0);  /* already expired */
}

Test(loop, timer_rearmed_into_past_runs_once_per_iteration, .timeout = 5)
{
    struct loop *l = loop_new();
    struct rearm r = { 0 };
    r.t = loop_timer_new(l, timer_rearm_past, &r);
    loop_timer_mod(r.t, 0);
    loop_run_once(l, false);
    cr_assert_eq(r.runs, 1);
    loop_run_once(l, false);
    cr_assert_eq(r.runs, 2);
    loop_run_once(l, false);
    loop_run_once(l, false);
    cr_assert_eq(r.runs, 3);
    loop_timer_free(r.t);
    loop_free(l);
}

/* ---- fd handlers ---- */

struct fdstate {
    struct loop *loop;
    int reads;
    char last;
    bool del_in_cb;
    unsigned events;
};

static void fd_reader(void *opaque, int fd, unsigned events)
{
    struct fdstate *s = opaque;
    s->events = events;
    char c;
    if (read(fd, &c, 1) == 1) {
        s->reads++;
        s->last = c;
    }
    if (s->del_in_cb)
        loop_del_fd(s->loop, fd);
}

static void *pipe_writer(void *arg)
{
    int fd = *(int *)arg;
    sleep_ms(30);
    cr_assert_eq(write(fd, "x", 1), 1);
    return NULL;
}

Test(loop, fd_handler_runs_when_readable, .timeout = 5)
{
    struct loop *l = loop_new();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct fdstate s = { .loop = l };
    cr_assert(loop_add_fd(l, p[0], LOOP_IN, fd_reader, &s));
    cr_assert(!loop_add_fd(l, p[0], LOOP_IN, fd_reader, &s));
    cr_assert(!loop_run_once(l, false));    /* nothing yet */
    pthread_t th;
    pthread_create(&th, NULL, pipe_writer, &p[1]);
    while (s.reads == 0)
        loop_run_once(l, true);
    pthread_join(th, NULL);
    cr_assert_eq(s.last, 'x');
    cr_assert(s.events & LOOP_IN);

    /* Paused: data waits; resumed: it is read. */
    cr_assert(loop_mod_fd(l, p[0], 0));
    cr_assert_eq(write(p[1], "y", 1), 1);
    cr_assert(!loop_run_once(l, false));
    cr_assert_eq(s.reads, 1);
    cr_assert(loop_mod_fd(l, p[0], LOOP_IN));
    loop_run_once(l, false);
    cr_assert_eq(s.reads, 2);
    cr_assert_eq(s.last, 'y');

    /* Deleted from inside its own callback: never called again. */
    s.del_in_cb = true;
    cr_assert_eq(write(p[1], "zz", 2), 2);
    loop_run_once(l, false);
    loop_run_once(l, false);
    cr_assert_eq(s.reads, 3);
    cr_assert(!loop_mod_fd(l, p[0], LOOP_IN));
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

Test(loop, fd_hangup_is_reported_as_readable, .timeout = 5)
{
    struct loop *l = loop_new();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct fdstate s = { .loop = l, .del_in_cb = true };
    loop_add_fd(l, p[0], LOOP_IN, fd_reader, &s);
    close(p[1]);
    cr_assert(loop_run_once(l, true));
    cr_assert(s.events & LOOP_IN);
    cr_assert(s.events & LOOP_ERR);
    cr_assert_eq(s.reads, 0);
    close(p[0]);
    loop_free(l);
}

static void fd_writer_cb(void *opaque, int fd, unsigned events)
{
    struct fdstate *s = opaque;
    s->events = events;
    loop_mod_fd(s->loop, fd, 0);
}

Test(loop, fd_handler_for_writable, .timeout = 5)
{
    struct loop *l = loop_new();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct fdstate s = { .loop = l };
    loop_add_fd(l, p[1], LOOP_OUT, fd_writer_cb, &s);
    cr_assert(loop_run_once(l, true));
    cr_assert_eq(s.events, LOOP_OUT);
    loop_del_fd(l, p[1]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}
