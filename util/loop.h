/*
 * util/loop.h — the event loop: fd handlers, bottom halves, one-shot
 * cross-thread calls and timers on CLOCK_MONOTONIC.
 *
 * One loop per thread (the main thread; iothreads later). The loop sleeps in
 * ppoll() with a timeout of exactly the nearest timer deadline, or forever
 * when no timer is armed — never a periodic tick, which would hide a missing
 * wake-up (DESIGN.md, "The one rule of the event loop"; seed 003).
 *
 * The rule: whoever queues work for a loop from another thread wakes it. In
 * this API that is never the caller's job: loop_bh_schedule(), loop_call(),
 * loop_timer_mod() and loop_quit() wake the loop themselves. The wake-up is
 * an eventfd write made only when the loop is (about to be) asleep in ppoll,
 * and at most once per sleep, so a busy loop and repeated schedules cost an
 * atomic operation and nothing more.
 *
 * Thread rules, per call: "loop thread" means the thread that runs
 * loop_run()/loop_run_once() for this loop (or any thread while nobody runs
 * it); "any thread" means any thread at all.
 */
#ifndef UTIL_LOOP_H
#define UTIL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct loop_bh;
struct loop_timer;
struct loop_poller;

/* Event bits for fd handlers. LOOP_ERR is only reported, never requested:
 * it means POLLERR or POLLHUP (a reader also gets LOOP_IN so read() sees
 * the EOF or error). */
enum { LOOP_IN = 1u << 0, LOOP_OUT = 1u << 1, LOOP_ERR = 1u << 2 };

typedef void loop_fd_cb(void *opaque, int fd, unsigned events);
typedef void loop_cb(void *opaque);
/* A poller: cheap "is there work?" that also does the work. Returns true if
 * it made progress (ran a completion...). See loop_add_poller(). */
typedef bool loop_poll_fn(void *opaque);

/* Counters, for --stats and for tests that check wake-ups are coalesced. */
struct loop_stats {
    uint64_t iterations;  /* loop_run_once calls that polled */
    uint64_t wakeups;     /* eventfd writes made by foreign threads */
    uint64_t bh_runs;     /* bottom-half callbacks run */
    uint64_t calls;       /* loop_call callbacks run */
    uint64_t timers;      /* timer callbacks run */
    uint64_t fd_events;   /* fd handler callbacks run */
    uint64_t poll_hits;   /* busy-polls that found work (no sleep) */
    uint64_t poll_misses; /* busy-polls that ended in a sleep anyway */
    uint64_t poll_idle;   /* pollers dropped from the spin set as idle */
    uint64_t poll_ns;     /* the current adaptive spin budget */
};

/* Create a loop. NULL on failure (out of memory or file descriptors). */
struct loop *loop_new(void);

/* Destroy a loop that no thread runs. Free its timers (loop_timer_free)
 * first. Frees the bottom halves and fd handlers still registered; loop_call
 * work still queued is dropped without being run. */
void loop_free(struct loop *l);

/* Run until loop_quit(). Loop thread. A loop_quit() made before loop_run()
 * makes it return at once; each loop_quit() ends one loop_run(). */
void loop_run(struct loop *l);

/* One iteration: wait for events (forever or until the next timer when
 * `blocking`, not at all otherwise), then run what is ready: calls, bottom
 * halves, expired timers, fd handlers. Returns true if any callback ran. */
bool loop_run_once(struct loop *l, bool blocking);

/* Make the current or next loop_run() return. Any thread; wakes the loop. */
void loop_quit(struct loop *l);

/* Watch `fd` for `events` (LOOP_IN | LOOP_OUT); `cb` runs on the loop thread
 * when the fd is ready. One handler per fd: false if `fd` already has one
 * (or on allocation failure). Loop thread. */
bool loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb *cb,
                 void *opaque);

/* Change the events watched for `fd` (0 pauses the handler without
 * removing it). False if `fd` has no handler. Loop thread; safe from inside
 * any callback. */
bool loop_mod_fd(struct loop *l, int fd, unsigned events);

/* Remove the handler of `fd` (no-op if none). Loop thread; safe from inside
 * any callback, including the handler itself: once this returns, the
 * handler is not called again. The fd itself is not closed. */
void loop_del_fd(struct loop *l, int fd);

/* A bottom half: a callback the loop runs once after each schedule (several
 * schedules before it runs coalesce into one run). NULL on allocation
 * failure. Loop thread. */
struct loop_bh *loop_bh_new(struct loop *l, loop_cb *cb, void *opaque);

/* Schedule `bh` to run on its loop's thread. Any thread, and signal
 * handlers too (lock-free, async-signal-safe); wakes the loop. */
void loop_bh_schedule(struct loop_bh *bh);

/* Unschedule and free `bh`. Loop thread; safe from inside a callback
 * (including its own). The caller must make sure no other thread schedules
 * `bh` concurrently or afterwards. */
void loop_bh_free(struct loop_bh *bh);

/* Run `fn(opaque)` once on the loop's thread, in the order of loop_call()s.
 * Any thread; wakes the loop. False only when out of memory (then `fn` will
 * not run). */
bool loop_call(struct loop *l, loop_cb *fn, void *opaque);

/* A one-shot timer: after loop_timer_mod() its callback runs once on the
 * loop thread, no earlier than the deadline. Unarmed when created. NULL on
 * allocation failure. Loop thread. */
struct loop_timer *loop_timer_new(struct loop *l, loop_cb *cb, void *opaque);

/* Arm (or re-arm) `t` for the absolute CLOCK_MONOTONIC time `deadline_ns`
 * (compare clock_ns() in util/clock.h). Timers with the same deadline fire in
 * the order they were armed. Any thread; wakes the loop if needed. */
void loop_timer_mod(struct loop_timer *t, uint64_t deadline_ns);

/* Disarm `t` (no-op if unarmed). Any thread; from a foreign thread a
 * callback already running on the loop thread is not waited for. */
void loop_timer_del(struct loop_timer *t);

/* True if `t` is armed. Any thread. */
bool loop_timer_pending(struct loop_timer *t);

/* Disarm and free `t`. Loop thread; safe from inside its own callback. */
void loop_timer_free(struct loop_timer *t);

/* Seed 003 on purpose (--x-no-vcpu-wake; docs/latency.md). With `wake`
 * false, loop_bh_schedule() and loop_call() made on a thread marked as a
 * vCPU thread (loop_thread_set_vcpu) publish the work but do not wake this
 * loop — QEMU's bug before the fix in seeds/003 — and the loop, to pick
 * such work up late rather than never, never sleeps longer than
 * LOOP_X_NO_WAKE_POLL_NS (QEMU's 499 ms ppoll timeout): a stall, not a
 * hang. Default true (the rule of this file). Any thread. */
#define LOOP_X_NO_WAKE_POLL_NS 499000000ull
void loop_set_vcpu_wake(struct loop *l, bool wake);

/* Mark (or unmark) the calling thread as a vCPU thread, for
 * loop_set_vcpu_wake. The board's hart threads do this first. */
void loop_thread_set_vcpu(bool vcpu);
/* Adaptive busy-polling (seed 004; util/loop_poll.h has the rules).
 * Before sleeping, a loop with a non-zero maximum spins for up to its
 * current budget (adapted between 0 and the maximum to how soon events
 * really come), calling its pollers and watching its own calls, bottom
 * halves and quit flag: producers skip the eventfd write while it spins, and
 * work found costs no sleep. LOOP_POLL_MAX_NS_DEFAULT is what iothreads use
 * (QEMU's poll-max-ns); a new loop has 0 (the main loop never spins). */
#define LOOP_POLL_MAX_NS_DEFAULT 32000ull
#define LOOP_POLL_MAX_NS_LIMIT 1000000000ull   /* accepted: 0..1 s */

/* Set the maximum spin in ns (0 disables polling; capped at
 * LOOP_POLL_MAX_NS_LIMIT). Any thread; takes effect at the next wait. */
void loop_set_poll_max_ns(struct loop *l, uint64_t max_ns);
uint64_t loop_get_poll_max_ns(struct loop *l);

/* Register `fn(opaque)` to be called while the loop spins. It must be
 * cheap when there is nothing to do (no syscall) and must not block. A
 * poller that makes no progress for a while (LOOP_POLL_IDLE_NS) leaves the
 * spin set until loop_poller_kick(). NULL on allocation failure. Loop
 * thread. */
struct loop_poller *loop_add_poller(struct loop *l, loop_poll_fn *fn,
                                    void *opaque);

/* Unregister and free `p` (NULL: no-op); `fn` is not called again. Loop
 * thread; safe from inside any callback or poller. */
void loop_del_poller(struct loop *l, struct loop_poller *p);

/* Activity is coming (e.g. a request was submitted): put `p` back into the
 * spin set if it had dropped out as idle. Costs a load when it is in.
 * Loop thread. */
void loop_poller_kick(struct loop_poller *p);

/* A snapshot of the loop's counters. Any thread (values are approximate
 * while the loop runs). */
struct loop_stats loop_get_stats(struct loop *l);

#endif
