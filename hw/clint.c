/*
 * hw/clint.c — the SiFive CLINT: MSIP, mtimecmp and mtime (see clint.h).
 */
#include "hw/clint.h"

#include <pthread.h>
#include <stdlib.h>

#include "hw/machine.h"
#include "util/clock.h"
#include "util/log.h"

struct clint {
    struct machine *m;
    pthread_mutex_t lock;       /* msip[] and mtimecmp read-modify-writes */
    uint32_t msip[HART_MAX];
};

struct clint *clint_new(struct machine *m)
{
    struct clint *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->m = m;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void clint_free(struct clint *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The hart at index `i`, or NULL past the machine's harts. */
static struct hart *clint_hart(struct clint *c, uint64_t i)
{
    return i < c->m->nharts && i < HART_MAX ? c->m->harts[i] : NULL;
}

void clint_reset(struct clint *c)
{
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < HART_MAX; i++) {
        c->msip[i] = 0;
        struct hart *h = clint_hart(c, i);
        if (h)
            hart_set_irq(h, IRQ_MSI, false);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Registers are 32 or 64 bits wide and naturally aligned; anything else is
 * refused (an access fault), as QEMU's ACLINT does. */
static bool clint_access_ok(uint64_t off, unsigned size, bool msip)
{
    bool width_ok = msip ? size == 4 : size == 4 || size == 8;
    if (!width_ok || (off & (size - 1))) {
        log_guest_error("clint: bad %u-byte access at +0x%llx", size,
                        (unsigned long long)off);
        return false;
    }
    return true;
}

/* The `size`-byte window at byte `shift` of a 64-bit register. */
static uint64_t clint_extract(uint64_t reg, unsigned shift, unsigned size)
{
    return size == 8 ? reg : (uint32_t)(reg >> (8 * shift));
}

static bool clint_read(void *opaque, uint64_t off, unsigned size,
                       uint64_t *val)
{
    struct clint *c = opaque;
    *val = 0;
    if (off < CLINT_MTIMECMP) {
        if (!clint_access_ok(off, size, true))
            return false;
        uint64_t i = off / 4;
        if (clint_hart(c, i)) {
            pthread_mutex_lock(&c->lock);
            *val = c->msip[i];
            pthread_mutex_unlock(&c->lock);
        }
        return true;
    }
    if (!clint_access_ok(off, size, false))
        return false;
    if (off >= CLINT_MTIME + 8)
        return true;    /* reserved: reads as zero */
    if (off >= CLINT_MTIME) {
        *val = clint_extract(clock_mtime(), (unsigned)(off & 7), size);
        return true;
    }
    struct hart *h = clint_hart(c, (off - CLINT_MTIMECMP) / 8);
    if (h)
        *val = clint_extract(hart_get_mtimecmp(h), (unsigned)(off & 7), size);
    return true;
}

static bool clint_write(void *opaque, uint64_t off, unsigned size,
                        uint64_t val)
{
    struct clint *c = opaque;
    if (off < CLINT_MTIMECMP) {
        if (!clint_access_ok(off, size, true))
            return false;
        uint64_t i = off / 4;
        struct hart *h = clint_hart(c, i);
        if (!h)
            return true;
        /* Only bit 0 is implemented; the others read as zero. */
        pthread_mutex_lock(&c->lock);
        c->msip[i] = val & 1;
        hart_set_irq(h, IRQ_MSI, val & 1);
        pthread_mutex_unlock(&c->lock);
        return true;
    }
    if (!clint_access_ok(off, size, false))
        return false;
    if (off >= CLINT_MTIME + 8)
        return true;    /* reserved: writes ignored */
    if (off >= CLINT_MTIME) {
        log_guest_error("clint: write to mtime ignored (mtime is the "
                        "machine's timebase)");
        return true;
    }
    struct hart *h = clint_hart(c, (off - CLINT_MTIMECMP) / 8);
    if (!h)
        return true;
    pthread_mutex_lock(&c->lock);
    uint64_t cmp = val;
    if (size == 4) {
        /* A 32-bit half (RV32 software writes mtimecmp in two halves). */
        unsigned sh = 8 * (unsigned)(off & 7);
        cmp = hart_get_mtimecmp(h);
        cmp = (cmp & ~(0xffffffffull << sh)) | ((val & 0xffffffffull) << sh);
    }
    hart_set_mtimecmp(h, cmp);
    pthread_mutex_unlock(&c->lock);
    return true;
}

const struct mmio_ops clint_mmio_ops = {
    .read = clint_read,
    .write = clint_write,
};
