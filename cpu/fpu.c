/* cpu/fpu.c — placeholder: every FP arithmetic encoding is illegal until
 * the FPU lands. */
#include "cpu/fpu.h"

bool fpu_decode(uint32_t raw, struct dinsn *d)
{
    (void)raw;
    (void)d;
    return false;
}
