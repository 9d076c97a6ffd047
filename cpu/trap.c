/* cpu/trap.c — placeholder trap entry until the interpreter lands. */
#include "cpu/hart.h"

void hart_trap(struct hart *h, uint64_t cause, uint64_t tval)
{
    (void)cause;
    (void)tval;
    h->pc = 0;
}

void hart_illegal(struct hart *h, const struct dinsn *d)
{
    hart_trap(h, EXC_ILLEGAL, d->raw);
}
