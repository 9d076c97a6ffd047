/*
 * hw/bus.c — MMIO dispatch by guest physical address.
 */
#include "hw/bus.h"

#include <stddef.h>

bool bus_add(struct bus *b, uint64_t base, uint64_t size,
             const struct mmio_ops *ops, void *opaque, const char *name)
{
    if (size == 0 || base + size < base || b->nregions == BUS_MAX_REGIONS)
        return false;
    for (unsigned i = 0; i < b->nregions; i++) {
        const struct bus_region *r = &b->regions[i];
        if (base < r->base + r->size && r->base < base + size)
            return false;
    }
    b->regions[b->nregions++] = (struct bus_region){
        .base = base, .size = size, .ops = ops, .opaque = opaque, .name = name,
    };
    return true;
}

const struct bus_region *bus_find(const struct bus *b, uint64_t pa,
                                  unsigned size)
{
    for (unsigned i = 0; i < b->nregions; i++) {
        const struct bus_region *r = &b->regions[i];
        if (pa >= r->base && pa - r->base < r->size &&
            size <= r->size - (pa - r->base))
            return r;
    }
    return NULL;
}

bool bus_read(const struct bus *b, uint64_t pa, unsigned size, uint64_t *val)
{
    const struct bus_region *r = bus_find(b, pa, size);
    if (!r || !r->ops->read)
        return false;
    return r->ops->read(r->opaque, pa - r->base, size, val);
}

bool bus_write(const struct bus *b, uint64_t pa, unsigned size, uint64_t val)
{
    const struct bus_region *r = bus_find(b, pa, size);
    if (!r || !r->ops->write)
        return false;
    return r->ops->write(r->opaque, pa - r->base, size, val);
}
