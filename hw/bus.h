/*
 * hw/bus.h — guest physical address → device dispatch for MMIO.
 *
 * RAM is not on the bus (the CPU and devices reach it directly through
 * struct machine); the bus holds device regions only. Regions are added at
 * board construction and never change while harts run, so lookups take no
 * lock. Device callbacks run on the thread that made the access (a vCPU
 * thread) and must be thread-safe against their other users.
 */
#ifndef HW_BUS_H
#define HW_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct mmio_ops {
    /* `size` is 1, 2, 4 or 8; `off` is relative to the region base.
     * Return false for an access the device rejects (→ access fault). */
    bool (*read)(void *opaque, uint64_t off, unsigned size, uint64_t *val);
    bool (*write)(void *opaque, uint64_t off, unsigned size, uint64_t val);
};

struct bus_region {
    uint64_t base, size;
    const struct mmio_ops *ops;
    void *opaque;
    const char *name;
};

#define BUS_MAX_REGIONS 32

struct bus {
    unsigned nregions;
    struct bus_region regions[BUS_MAX_REGIONS];
};

/* Add a region; false if it overlaps another or the table is full. */
bool bus_add(struct bus *b, uint64_t base, uint64_t size,
             const struct mmio_ops *ops, void *opaque, const char *name);

/* The region containing [pa, pa+size), or NULL. */
const struct bus_region *bus_find(const struct bus *b, uint64_t pa,
                                  unsigned size);

/* Dispatch an access. False when no device claims every byte or the device
 * rejects it: the CPU turns that into an access fault. Unclaimed reads do
 * not write *val. */
bool bus_read(const struct bus *b, uint64_t pa, unsigned size, uint64_t *val);
bool bus_write(const struct bus *b, uint64_t pa, unsigned size, uint64_t val);

#endif
