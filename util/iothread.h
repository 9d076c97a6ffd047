/*
 * util/iothread.h — a thread that runs its own event loop.
 *
 * Block devices' data paths live on iothreads (DESIGN.md, "The threads"):
 * a vCPU thread that takes a doorbell hands the work to the iothread's loop
 * (loop_call, a bottom half: they wake it) and goes back to guest code.
 */
#ifndef UTIL_IOTHREAD_H
#define UTIL_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>

#include "util/loop.h"

struct iothread;

/* Create a loop and start a thread running it. `id` names it (thread name
 * "io-<id>", for top and gdb). Its loop busy-polls for up to
 * LOOP_POLL_MAX_NS_DEFAULT before sleeping (loop_set_poll_max_ns on
 * iothread_loop() changes that). NULL on failure. */
struct iothread *iothread_new(const char *id);

/* Stop the loop, join the thread, free the loop. Whatever uses the loop
 * (drives, devices) must be released first, e.g. with iothread_run_sync. */
void iothread_free(struct iothread *io);

/* The iothread's loop: the `home` of drives it serves. */
struct loop *iothread_loop(struct iothread *io);

const char *iothread_id(const struct iothread *io);

/* The thread running the loop (tests check callbacks run there). */
pthread_t iothread_thread(const struct iothread *io);

/* True when called on the iothread itself. */
bool iothread_is_current(const struct iothread *io);

/* Run fn(opaque) on the iothread and wait until it returns: for work that
 * must happen on the loop's thread, such as blk_open/blk_close of a drive
 * whose home is this loop. Called on the iothread itself, runs fn at once.
 * False only when out of memory (fn did not run). */
bool iothread_run_sync(struct iothread *io, void (*fn)(void *), void *opaque);

#endif
