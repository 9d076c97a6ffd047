/*
 * tests/unit/loop_nowake.c — the --x-no-vcpu-wake switch (seed 003 on
 * purpose): with it, work queued from a vCPU thread does not wake the
 * loop, which still picks it up through its 499 ms poll (late, never lost:
 * without the poll these tests hang and Criterion's timeout fails them);
 * other threads, and loops without the switch, still wake the loop at once.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop.h"

#define MS 1000000ull

struct poke {
    struct loop *loop;
    struct loop_bh *bh;     /* NULL: loop_call instead */
    bool vcpu;
    atomic_int n;
    _Atomic uint64_t queued_ns, ran_ns;
};

static void ran(void *opaque)
{
    struct poke *p = opaque;
    atomic_store(&p->ran_ns, clock_ns());
    atomic_fetch_add(&p->n, 1);
}

static void *poker(void *arg)
{
    struct poke *p = arg;
    loop_thread_set_vcpu(p->vcpu);
    usleep(50 * 1000);      /* let the loop fall asleep first */
    atomic_store(&p->queued_ns, clock_ns());
    if (p->bh)
        loop_bh_schedule(p->bh);
    else
        cr_assert(loop_call(p->loop, ran, p));
    return NULL;
}

/* Queue one piece of work from a new thread and run the loop until it
 * ran; returns the loop's eventfd wake-ups. */
static uint64_t run_poke(bool switch_on, bool vcpu, bool use_bh,
                         uint64_t *delay_ns)
{
    struct loop *l = loop_new();
    cr_assert(l);
    loop_set_vcpu_wake(l, !switch_on);
    struct poke p = { .loop = l, .vcpu = vcpu };
    if (use_bh)
        p.bh = loop_bh_new(l, ran, &p);
    pthread_t th;
    pthread_create(&th, NULL, poker, &p);
    while (atomic_load(&p.n) == 0)
        loop_run_once(l, true);     /* no timer: only a wake-up or the poll */
    pthread_join(th, NULL);
    *delay_ns = atomic_load(&p.ran_ns) - atomic_load(&p.queued_ns);
    uint64_t w = loop_get_stats(l).wakeups;
    loop_bh_free(p.bh);
    loop_free(l);
    return w;
}

Test(loop_nowake, vcpu_bh_does_not_wake_but_runs_after_the_poll, .timeout = 5)
{
    uint64_t delay;
    cr_assert_eq(run_poke(true, true, true, &delay), 0);
    /* It waited for the poll (the loop slept ~50 ms before it was
     * queued), not for ever. A lower bound only: a loaded host can only
     * make it later. */
    cr_assert_geq(delay, 100 * MS, "ran after %llu ns",
                  (unsigned long long)delay);
}

Test(loop_nowake, vcpu_call_does_not_wake_but_runs_after_the_poll, .timeout = 5)
{
    uint64_t delay;
    cr_assert_eq(run_poke(true, true, false, &delay), 0);
    cr_assert_geq(delay, 100 * MS);
}

Test(loop_nowake, other_threads_still_wake_the_loop, .timeout = 5)
{
    uint64_t delay;
    cr_assert_geq(run_poke(true, false, true, &delay), 1);
    cr_assert_geq(run_poke(true, false, false, &delay), 1);
}

Test(loop_nowake, vcpu_threads_wake_loops_without_the_switch, .timeout = 5)
{
    uint64_t delay;
    cr_assert_geq(run_poke(false, true, true, &delay), 1);
    cr_assert_geq(run_poke(false, true, false, &delay), 1);
}

static void quit_cb(void *opaque)
{
    loop_quit(opaque);
}

/* The poll caps even a far timer: the loop iterates at least every
 * 499 ms while the switch is on. */
Test(loop_nowake, poll_caps_a_far_timer, .timeout = 5)
{
    struct loop *l = loop_new();
    loop_set_vcpu_wake(l, false);
    struct loop_timer *t = loop_timer_new(l, quit_cb, l);
    loop_timer_mod(t, clock_ns() + 3600ull * 1000 * MS);
    uint64_t t0 = clock_ns();
    loop_run_once(l, true);
    cr_assert_lt(clock_ns() - t0, 3000 * MS);   /* not the timer's hour */
    loop_timer_free(t);
    loop_free(l);
}
