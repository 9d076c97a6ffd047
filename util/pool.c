/*
 * util/pool.c — fixed-size object pool (see pool.h).
 */
#include "util/pool.h"

#include <stdint.h>
#include <stdlib.h>

struct pool_slab {
    struct pool_slab *next;
    size_t count;
    _Alignas(16) unsigned char objs[];
};

void pool_init(struct pool *p, size_t obj_size, size_t per_slab)
{
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    *p = (struct pool){
        .obj_size = (obj_size + 15) & ~(size_t)15,
        .per_slab = per_slab ? per_slab : 1,
    };
}

static int pool_grow(struct pool *p)
{
    struct pool_slab *s = calloc(1, sizeof(*s) + p->obj_size * p->per_slab);
    if (!s)
        return -1;
    s->next = p->slabs;
    s->count = p->per_slab;
    p->slabs = s;
    /* Thread the new objects onto the free list, first object first. */
    for (size_t i = s->count; i-- > 0;) {
        void *obj = s->objs + i * p->obj_size;
        *(void **)obj = p->free;
        p->free = obj;
    }
    p->total += s->count;
    return 0;
}

void *pool_get(struct pool *p)
{
    if (!p->free && pool_grow(p) < 0)
        return NULL;
    void *obj = p->free;
    p->free = *(void **)obj;
    p->in_use++;
    return obj;
}

void pool_put(struct pool *p, void *obj)
{
    *(void **)obj = p->free;
    p->free = obj;
    p->in_use--;
}

void pool_destroy(struct pool *p, void (*fn)(void *obj))
{
    for (struct pool_slab *s = p->slabs, *next; s; s = next) {
        next = s->next;
        if (fn)
            for (size_t i = 0; i < s->count; i++)
                fn(s->objs + i * p->obj_size);
        free(s);
    }
    p->slabs = NULL;
    p->free = NULL;
    p->total = p->in_use = 0;
}
