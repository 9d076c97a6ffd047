/*
 * util/iothread.c — a thread running its own loop (see iothread.h).
 */
#include "util/iothread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct iothread {
    char *id;
    struct loop *loop;
    pthread_t thread;
};

static void *iothread_main(void *opaque)
{
    struct iothread *io = opaque;
    loop_run(io->loop);
    return NULL;
}

struct iothread *iothread_new(const char *id)
{
    struct iothread *io = calloc(1, sizeof(*io));
    if (!io)
        return NULL;
    io->id = strdup(id ? id : "");
    io->loop = loop_new();
    if (!io->id || !io->loop)
        goto fail;
    /* iothreads busy-poll before sleeping (seed 004); -object
     * iothread,poll-max-ns=N changes it. */
    loop_set_poll_max_ns(io->loop, LOOP_POLL_MAX_NS_DEFAULT);
    if (pthread_create(&io->thread, NULL, iothread_main, io) != 0)
        goto fail;
    char name[16];
    snprintf(name, sizeof(name), "io-%s", io->id);
    pthread_setname_np(io->thread, name);   /* cosmetic: ignore errors */
    return io;
fail:
    if (io->loop)
        loop_free(io->loop);
    free(io->id);
    free(io);
    return NULL;
}

void iothread_free(struct iothread *io)
{
    if (!io)
        return;
    loop_quit(io->loop);
    pthread_join(io->thread, NULL);
    loop_free(io->loop);
    free(io->id);
    free(io);
}

struct loop *iothread_loop(struct iothread *io)
{
    return io->loop;
}

const char *iothread_id(const struct iothread *io)
{
    return io->id;
}

pthread_t iothread_thread(const struct iothread *io)
{
    return io->thread;
}

bool iothread_is_current(const struct iothread *io)
{
    return pthread_equal(pthread_self(), io->thread);
}

struct sync_call {
    void (*fn)(void *);
    void *opaque;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void sync_call_run(void *opaque)
{
    struct sync_call *c = opaque;
    c->fn(c->opaque);
    pthread_mutex_lock(&c->lock);
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

bool iothread_run_sync(struct iothread *io, void (*fn)(void *), void *opaque)
{
    if (iothread_is_current(io)) {
        fn(opaque);
        return true;
    }
    struct sync_call c = { .fn = fn, .opaque = opaque };
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    bool ok = loop_call(io->loop, sync_call_run, &c);
    if (ok) {
        pthread_mutex_lock(&c.lock);
        while (!c.done)
            pthread_cond_wait(&c.cond, &c.lock);
        pthread_mutex_unlock(&c.lock);
    }
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.lock);
    return ok;
}
