/*
 * util/pool.h — a single-threaded pool of fixed-size objects.
 *
 * Per-request allocation costs real IOPS (seed 002): a pool hands objects
 * out from a free list and grows by whole slabs when it runs dry, so the
 * steady state makes no malloc at all. Objects are never returned to the
 * system before pool_destroy(). One thread at a time (the owner's loop).
 */
#ifndef UTIL_POOL_H
#define UTIL_POOL_H

#include <stddef.h>

struct pool_slab;

struct pool {
    size_t obj_size;        /* rounded up to keep objects 16-byte aligned */
    size_t per_slab;
    void *free;             /* free list, linked through each object */
    struct pool_slab *slabs;
    size_t total, in_use;
};

/* Prepare `p` for objects of `obj_size` bytes, `per_slab` at a time. */
void pool_init(struct pool *p, size_t obj_size, size_t per_slab);

/* An object, or NULL when out of memory. A new object is zeroed; a reused
 * one holds what it held at pool_put(), except its first pointer-sized
 * bytes (the free-list link). */
void *pool_get(struct pool *p);

/* Give `obj` (from pool_get on `p`) back. */
void pool_put(struct pool *p, void *obj);

/* Call `fn` on every object ever allocated (in use or free), e.g. to free
 * what objects own, then release all memory. `fn` may be NULL. */
void pool_destroy(struct pool *p, void (*fn)(void *obj));

#endif
