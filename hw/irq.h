/*
 * hw/irq.h — a wire from a device's interrupt output to a controller input.
 * Level-triggered: devices call irq_set() whenever their line changes.
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

#include <stdbool.h>

struct irq_line {
    void (*set)(void *opaque, unsigned n, bool level);
    void *opaque;   /* the controller, e.g. struct plic */
    unsigned n;     /* its input number, e.g. a PLIC source id */
};

static inline void irq_set(const struct irq_line *l, bool level)
{
    if (l && l->set)
        l->set(l->opaque, l->n, level);
}

#endif
