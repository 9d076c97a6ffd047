/*
 * util/loop.c — the event loop (see loop.h for the contract).
 *
 * Wake-up protocol. A producer on another thread first publishes its work
 * (a bottom half's flag, a queued call, a timer, the quit flag), then calls
 * loop_notify(), which writes the eventfd only if the loop has announced
 * that it is going to sleep (`polling`) and no write is outstanding
 * (`wake_sent`). The loop announces `polling` *before* its last look for
 * pending work. Both sides use sequentially consistent atomics, so either
 * the loop sees the work and does not sleep, or the producer sees `polling`
 * and writes the eventfd: a wake-up can never be lost, and a loop that is
 * busy (not polling) costs its producers one atomic load.
 *
 * Busy-polling (loop_poll.h) fits in without a new rule: a loop that spins
 * before sleeping has not announced `polling` yet, so to its producers it
 * is busy and they skip the eventfd write; the spin itself looks for their
 * work (work_pending) on every round. When the spin ends empty-handed the
 * loop announces `polling` and looks once more, exactly as above, so work
 * published during the spin is either seen then or its producer writes
 * the eventfd.
 */
#include "util/loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/loop_poll.h"

struct loop_fd {
    int fd;
    unsigned events;
    bool deleted;           /* freed at the end of the current dispatch */
    loop_fd_cb *cb;
    void *opaque;
};

struct loop_bh {
    struct loop *loop;
    struct loop_bh *next;
    atomic_bool scheduled;
    bool deleted;
    loop_cb *cb;
    void *opaque;
};

struct loop_call_item {
    struct loop_call_item *next;
    loop_cb *fn;
    void *opaque;
};

struct loop_timer {
    struct loop *loop;
    struct loop_timer *next;    /* in the armed list, under loop->lock */
    bool armed;                 /* under loop->lock */
    uint64_t deadline;          /* under loop->lock */
    uint64_t arm_seq;           /* under loop->lock */
    loop_cb *cb;
    void *opaque;
};

struct loop {
    int wake_fd;
    atomic_bool polling;        /* in, or about to enter, a blocking ppoll */
    atomic_bool wake_sent;      /* an eventfd write is not yet consumed */
    atomic_bool quit;
    atomic_bool bh_any;         /* some bottom half may be scheduled */
    atomic_bool calls_any;      /* the call queue may be non-empty */
    atomic_bool no_vcpu_wake;   /* loop_set_vcpu_wake(l, false) */

    struct loop_bh *bhs;        /* loop thread only */
    bool bh_garbage;

    struct loop_fd **fds;       /* loop thread only */
    unsigned nfds, fds_cap;
    bool fd_garbage;
    struct pollfd *pfds;        /* scratch for ppoll: wake_fd + fds */
    struct loop_fd **pfd_owner;
    unsigned pfds_cap;

    unsigned depth;             /* > 0 while dispatching callbacks */

    pthread_mutex_t lock;       /* the call queue and the timer list */
    struct loop_call_item *call_head, **call_tail;
    struct loop_timer *timers;  /* armed timers by deadline, then arm_seq */
    uint64_t arm_counter;

    struct loop_poll poll;      /* busy-polling: pollers, spin budget */

    _Atomic uint64_t st_iterations, st_wakeups, st_bh_runs, st_calls,
        st_timers, st_fd_events;
};

static void stat_inc(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Wake the loop if it sleeps (or is about to). Callers publish their work
 * with a seq_cst atomic before calling. Async-signal-safe. */
static void loop_notify(struct loop *l)
{
    if (!atomic_load(&l->polling))
        return;
    if (atomic_exchange(&l->wake_sent, true))
        return;
    uint64_t one = 1;
    ssize_t r;
    do {
        r = write(l->wake_fd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    stat_inc(&l->st_wakeups);
}

/* Set by loop_thread_set_vcpu() on the board's hart threads. */
static _Thread_local bool loop_tls_vcpu;

void loop_thread_set_vcpu(bool vcpu)
{
    loop_tls_vcpu = vcpu;
}

void loop_set_vcpu_wake(struct loop *l, bool wake)
{
    atomic_store(&l->no_vcpu_wake, !wake);
}

/* loop_notify() for queued work, unless seed 003 is being reproduced. */
static void loop_notify_work(struct loop *l)
{
    if (loop_tls_vcpu &&
        atomic_load_explicit(&l->no_vcpu_wake, memory_order_relaxed))
        return;
    loop_notify(l);
}

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wake_fd < 0) {
        free(l);
        return NULL;
    }
    l->pfds_cap = 8;
    l->pfds = calloc(l->pfds_cap, sizeof(*l->pfds));
    l->pfd_owner = calloc(l->pfds_cap, sizeof(*l->pfd_owner));
    if (!l->pfds || !l->pfd_owner) {
        free(l->pfds);
        free(l->pfd_owner);
        close(l->wake_fd);
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->call_tail = &l->call_head;
    loop_poll_init(&l->poll);
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (struct loop_bh *bh = l->bhs, *next; bh; bh = next) {
        next = bh->next;
        free(bh);
    }
    for (unsigned i = 0; i < l->nfds; i++)
        free(l->fds[i]);
    free(l->fds);
    free(l->pfds);
    free(l->pfd_owner);
    for (struct loop_call_item *c = l->call_head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    loop_poll_destroy(&l->poll);
    pthread_mutex_destroy(&l->lock);
    close(l->wake_fd);
    free(l);
}

void loop_quit(struct loop *l)
{
    atomic_store(&l->quit, true);
    loop_notify(l);
}

/* ---- fd handlers ---- */

static struct loop_fd *fd_find(struct loop *l, int fd)
{
    for (unsigned i = 0; i < l->nfds; i++)
        if (l->fds[i]->fd == fd && !l->fds[i]->deleted)
            return l->fds[i];
    return NULL;
}

bool loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb *cb,
                 void *opaque)
{
    if (fd < 0 || fd_find(l, fd))
        return false;
    if (l->nfds == l->fds_cap) {
        unsigned cap = l->fds_cap ? 2 * l->fds_cap : 8;
        struct loop_fd **n = realloc(l->fds, cap * sizeof(*n));
        if (!n)
            return false;
        l->fds = n;
        l->fds_cap = cap;
    }
    struct loop_fd *h = calloc(1, sizeof(*h));
    if (!h)
        return false;
    h->fd = fd;
    h->events = events & (LOOP_IN | LOOP_OUT);
    h->cb = cb;
    h->opaque = opaque;
    l->fds[l->nfds++] = h;
    return true;
}

bool loop_mod_fd(struct loop *l, int fd, unsigned events)
{
    struct loop_fd *h = fd_find(l, fd);
    if (!h)
        return false;
    h->events = events & (LOOP_IN | LOOP_OUT);
    return true;
}

static void fd_sweep(struct loop *l)
{
    unsigned j = 0;
    for (unsigned i = 0; i < l->nfds; i++) {
        if (l->fds[i]->deleted)
            free(l->fds[i]);
        else
            l->fds[j++] = l->fds[i];
    }
    l->nfds = j;
    l->fd_garbage = false;
}

void loop_del_fd(struct loop *l, int fd)
{
    struct loop_fd *h = fd_find(l, fd);
    if (!h)
        return;
    h->deleted = true;
    l->fd_garbage = true;
    if (l->depth == 0)
        fd_sweep(l);
}

/* Fill l->pfds: slot 0 is the wake eventfd, then every active handler.
 * Returns the number of slots, or 0 when out of memory. */
static unsigned fd_build_pollset(struct loop *l)
{
    if (l->pfds_cap < l->nfds + 1) {
        /* Grow both arrays; pfds_cap only moves once both have grown. */
        unsigned cap = l->nfds + 1;
        struct pollfd *p = realloc(l->pfds, cap * sizeof(*p));
        if (!p)
            return 0;
        l->pfds = p;
        struct loop_fd **o = realloc(l->pfd_owner, cap * sizeof(*o));
        if (!o)
            return 0;
        l->pfd_owner = o;
        l->pfds_cap = cap;
    }
    unsigned n = 0;
    l->pfds[n] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
    l->pfd_owner[n++] = NULL;
    for (unsigned i = 0; i < l->nfds; i++) {
        struct loop_fd *h = l->fds[i];
        if (h->deleted || !h->events)
            continue;
        short ev = 0;
        if (h->events & LOOP_IN)
            ev |= POLLIN;
        if (h->events & LOOP_OUT)
            ev |= POLLOUT;
        l->pfds[n] = (struct pollfd){ .fd = h->fd, .events = ev };
        l->pfd_owner[n++] = h;
    }
    return n;
}

static bool fd_dispatch(struct loop *l, unsigned n)
{
    bool progress = false;
    for (unsigned i = 1; i < n; i++) {
        struct loop_fd *h = l->pfd_owner[i];
        short re = l->pfds[i].revents;
        if (!re || h->deleted)
            continue;
        if (re & POLLNVAL) {
            /* Closed without loop_del_fd: pause it rather than spin. */
            log_error("loop: fd %d closed while watched; handler paused",
                      h->fd);
            h->events = 0;
            continue;
        }
        unsigned ev = 0;
        if (re & (POLLIN | POLLHUP | POLLERR))
            ev |= LOOP_IN;
        if (re & POLLOUT)
            ev |= LOOP_OUT;
        if (re & (POLLHUP | POLLERR))
            ev |= LOOP_ERR;
        ev &= h->events | LOOP_ERR;  /* loop_mod_fd may have narrowed it */
        if (!(ev & (LOOP_IN | LOOP_OUT)))
            continue;
        h->cb(h->opaque, h->fd, ev);
        stat_inc(&l->st_fd_events);
        progress = true;
    }
    return progress;
}

/* ---- bottom halves ---- */

struct loop_bh *loop_bh_new(struct loop *l, loop_cb *cb, void *opaque)
{
    struct loop_bh *bh = calloc(1, sizeof(*bh));
    if (!bh)
        return NULL;
    bh->loop = l;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->next = l->bhs;
    l->bhs = bh;
    return bh;
}

void loop_bh_schedule(struct loop_bh *bh)
{
    struct loop *l = bh->loop;
    if (atomic_exchange(&bh->scheduled, true))
        return;     /* already pending: whoever set it notifies */
    atomic_store(&l->bh_any, true);
    loop_notify_work(l);
}

static void bh_sweep(struct loop *l)
{
    struct loop_bh **pp = &l->bhs;
    while (*pp) {
        struct loop_bh *bh = *pp;
        if (bh->deleted) {
            *pp = bh->next;
            free(bh);
        } else {
            pp = &bh->next;
        }
    }
    l->bh_garbage = false;
}

void loop_bh_free(struct loop_bh *bh)
{
    if (!bh)
        return;
    struct loop *l = bh->loop;
    bh->deleted = true;
    atomic_store(&bh->scheduled, false);
    l->bh_garbage = true;
    if (l->depth == 0)
        bh_sweep(l);
}

static bool bh_dispatch(struct loop *l)
{
    if (!atomic_exchange(&l->bh_any, false))
        return false;
    bool progress = false;
    /* New bottom halves are prepended, freed ones only marked, so the
     * walk stays valid whatever the callbacks do. */
    for (struct loop_bh *bh = l->bhs; bh; bh = bh->next) {
        if (bh->deleted || !atomic_exchange(&bh->scheduled, false))
            continue;
        bh->cb(bh->opaque);
        stat_inc(&l->st_bh_runs);
        progress = true;
    }
    return progress;
}

/* ---- cross-thread calls ---- */

bool loop_call(struct loop *l, loop_cb *fn, void *opaque)
{
    struct loop_call_item *c = malloc(sizeof(*c));
    if (!c)
        return false;
    c->next = NULL;
    c->fn = fn;
    c->opaque = opaque;
    pthread_mutex_lock(&l->lock);
    *l->call_tail = c;
    l->call_tail = &c->next;
    pthread_mutex_unlock(&l->lock);
    atomic_store(&l->calls_any, true);
    loop_notify_work(l);
    return true;
}

static bool call_dispatch(struct loop *l)
{
    if (!atomic_exchange(&l->calls_any, false))
        return false;
    pthread_mutex_lock(&l->lock);
    struct loop_call_item *c = l->call_head;
    l->call_head = NULL;
    l->call_tail = &l->call_head;
    pthread_mutex_unlock(&l->lock);
    bool progress = c != NULL;
    while (c) {
        struct loop_call_item *next = c->next;
        c->fn(c->opaque);
        free(c);
        stat_inc(&l->st_calls);
        c = next;
    }
    return progress;
}

/* ---- timers ---- */

struct loop_timer *loop_timer_new(struct loop *l, loop_cb *cb, void *opaque)
{
    struct loop_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = l;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

/* Unlink `t` from the armed list. Caller holds loop->lock. */
static void timer_unlink(struct loop_timer *t)
{
    if (!t->armed)
        return;
    for (struct loop_timer **pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
}

void loop_timer_mod(struct loop_timer *t, uint64_t deadline_ns)
{
    struct loop *l = t->loop;
    pthread_mutex_lock(&l->lock);
    timer_unlink(t);
    t->deadline = deadline_ns;
    t->arm_seq = ++l->arm_counter;
    struct loop_timer **pp = &l->timers;
    while (*pp && (*pp)->deadline <= deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
    bool first = l->timers == t;
    pthread_mutex_unlock(&l->lock);
    /* Only a new earliest deadline shortens the loop's sleep. The unlock
     * above orders the list update before the seq_cst load of `polling`. */
    if (first) {
        atomic_thread_fence(memory_order_seq_cst);
        loop_notify(l);
    }
}

void loop_timer_del(struct loop_timer *t)
{
    pthread_mutex_lock(&t->loop->lock);
    timer_unlink(t);
    pthread_mutex_unlock(&t->loop->lock);
}

bool loop_timer_pending(struct loop_timer *t)
{
    pthread_mutex_lock(&t->loop->lock);
    bool armed = t->armed;
    pthread_mutex_unlock(&t->loop->lock);
    return armed;
}

void loop_timer_free(struct loop_timer *t)
{
    if (!t)
        return;
    loop_timer_del(t);
    free(t);
}

static bool timer_dispatch(struct loop *l)
{
    bool progress = false;
    uint64_t now = clock_ns();
    pthread_mutex_lock(&l->lock);
    /* Timers re-armed by a callback during this pass wait for the next
     * one, so a callback re-arming into the past cannot starve the loop. */
    uint64_t limit = l->arm_counter;
    for (;;) {
        struct loop_timer *t = l->timers;
        if (!t || t->deadline > now || t->arm_seq > limit)
            break;
        l->timers = t->next;
        t->next = NULL;
        t->armed = false;
        pthread_mutex_unlock(&l->lock);
        t->cb(t->opaque);   /* may free or re-arm t */
        stat_inc(&l->st_timers);
        progress = true;
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return progress;
}

/* ppoll timeout: until the earliest deadline, or NULL (forever). */
static struct timespec *timer_timeout(struct loop *l, struct timespec *ts)
{
    pthread_mutex_lock(&l->lock);
    bool armed = l->timers != NULL;
    uint64_t deadline = armed ? l->timers->deadline : 0;
    pthread_mutex_unlock(&l->lock);
    if (!armed)
        return NULL;
    uint64_t now = clock_ns();
    uint64_t wait = deadline > now ? deadline - now : 0;
    ts->tv_sec = (time_t)(wait / 1000000000ull);
    ts->tv_nsec = (long)(wait % 1000000000ull);
    return ts;
}

/* ---- running ---- */

static bool work_pending(struct loop *l)
{
    return atomic_load(&l->quit) || atomic_load(&l->bh_any) ||
           atomic_load(&l->calls_any);
}

static void wake_consume(struct loop *l)
{
    uint64_t v;
    while (read(l->wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    atomic_store(&l->wake_sent, false);
}

/* ---- busy-polling (the rules are in loop_poll.h) ---- */

/* The earliest armed timer's deadline, or UINT64_MAX. */
static uint64_t timer_next_deadline(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    uint64_t d = l->timers ? l->timers->deadline : UINT64_MAX;
    pthread_mutex_unlock(&l->lock);
    return d;
}

/* Spin before sleeping: call the pollers and look for queued work until
 * something turns up, the budget is spent or a timer is due. True if work
 * was found (the caller dispatches it without sleeping; *ran says whether
 * a poller already did some). Otherwise *start is when the wait began (0:
 * polling is off), for loop_spin_end(). */
static bool loop_spin(struct loop *l, uint64_t *start, bool *ran)
{
    struct loop_poll *lp = &l->poll;
    *start = 0;
    /* Not nested in a callback: a poller may run completions. */
    if (l->depth || !atomic_load_explicit(&lp->max_ns, memory_order_relaxed))
        return false;
    uint64_t now = clock_ns(), end = now + lp->poll_ns;
    *start = now;
    if (lp->poll_ns) {
        uint64_t due = timer_next_deadline(l);
        if (due < end)
            end = due;
    }
    bool found = false, spun = now < end;
    l->depth++;
    while (now < end) {
        if (work_pending(l) || (*ran = loop_poll_round(lp, now))) {
            found = true;
            break;
        }
        now = clock_ns();
    }
    l->depth--;
    if (spun)
        loop_poll_sweep(lp, now);
    if (found) {
        loop_poll_adapt(lp, now - *start);
        stat_inc(&lp->st_hits);
        *start = 0;     /* adapted already: no second look after ppoll */
    } else if (spun) {
        stat_inc(&lp->st_misses);
    }
    return found;
}

/* After a sleep that followed a spin: adapt the budget to the wait. */
static void loop_spin_end(struct loop *l, uint64_t start)
{
    if (start)
        loop_poll_adapt(&l->poll, clock_ns() - start);
}

void loop_set_poll_max_ns(struct loop *l, uint64_t max_ns)
{
    if (max_ns > LOOP_POLL_MAX_NS_LIMIT)
        max_ns = LOOP_POLL_MAX_NS_LIMIT;
    loop_poll_set_max(&l->poll, max_ns);
}

uint64_t loop_get_poll_max_ns(struct loop *l)
{
    return atomic_load_explicit(&l->poll.max_ns, memory_order_relaxed);
}

struct loop_poller *loop_add_poller(struct loop *l, loop_poll_fn *fn,
                                    void *opaque)
{
    return loop_poll_add(&l->poll, fn, opaque);
}

void loop_del_poller(struct loop *l, struct loop_poller *p)
{
    loop_poll_del(p, l->depth > 0);
}

void loop_poller_kick(struct loop_poller *p)
{
    loop_poll_kick(p);
}

/* ---- one iteration ---- */

bool loop_run_once(struct loop *l, bool blocking)
{
    struct timespec ts = { 0, 0 }, *timeout = &ts;
    uint64_t spin_start = 0;
    bool polled = false;
    if (blocking && loop_spin(l, &spin_start, &polled))
        blocking = false;   /* work found while spinning: no sleep */
    unsigned n = fd_build_pollset(l);
    if (n == 0) {
        log_error("loop: out of memory building the poll set");
        n = 1;  /* slot 0 (the wake fd) always fits: see loop_new */
        l->pfds[0] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
    }
    if (blocking) {
        /* Announce the sleep, then look for work one last time, timers
         * included (see the protocol at the top of this file). */
        atomic_store(&l->polling, true);
        timeout = timer_timeout(l, &ts);
        if (atomic_load_explicit(&l->no_vcpu_wake, memory_order_relaxed) &&
            (!timeout || ts.tv_sec > 0 ||
             (uint64_t)ts.tv_nsec > LOOP_X_NO_WAKE_POLL_NS)) {
            ts = (struct timespec){ 0, (long)LOOP_X_NO_WAKE_POLL_NS };
            timeout = &ts;
        }
        if (work_pending(l)) {
            ts = (struct timespec){ 0, 0 };
            timeout = &ts;
        }
    }
    int r = ppoll(l->pfds, n, timeout, NULL);
    atomic_store(&l->polling, false);
    loop_spin_end(l, spin_start);
    stat_inc(&l->st_iterations);
    if (r < 0) {
        if (errno != EINTR)
            log_error("loop: ppoll: %s", strerror(errno));
        n = 1;  /* revents are undefined: dispatch no fd handler */
        l->pfds[0].revents = 0;
    }
    if (l->pfds[0].revents & POLLIN)
        wake_consume(l);

    l->depth++;
    bool progress = call_dispatch(l) | polled;
    progress |= bh_dispatch(l);
    progress |= timer_dispatch(l);
    if (r > 0)
        progress |= fd_dispatch(l, n);
    if (--l->depth == 0) {
        if (l->fd_garbage)
            fd_sweep(l);
        if (l->bh_garbage)
            bh_sweep(l);
        if (l->poll.garbage)
            loop_poll_collect(&l->poll);
    }
    return progress;
}

void loop_run(struct loop *l)
{
    while (!atomic_exchange(&l->quit, false))
        loop_run_once(l, true);
}

struct loop_stats loop_get_stats(struct loop *l)
{
    return (struct loop_stats){
        .iterations = atomic_load_explicit(&l->st_iterations,
                                           memory_order_relaxed),
        .wakeups = atomic_load_explicit(&l->st_wakeups, memory_order_relaxed),
        .bh_runs = atomic_load_explicit(&l->st_bh_runs, memory_order_relaxed),
        .calls = atomic_load_explicit(&l->st_calls, memory_order_relaxed),
        .timers = atomic_load_explicit(&l->st_timers, memory_order_relaxed),
        .fd_events = atomic_load_explicit(&l->st_fd_events,
                                          memory_order_relaxed),
        .poll_hits = atomic_load_explicit(&l->poll.st_hits,
                                          memory_order_relaxed),
        .poll_misses = atomic_load_explicit(&l->poll.st_misses,
                                            memory_order_relaxed),
        .poll_idle = atomic_load_explicit(&l->poll.st_removed,
                                          memory_order_relaxed),
        .poll_ns = atomic_load_explicit(&l->poll.cur_ns,
                                        memory_order_relaxed),
    };
}
