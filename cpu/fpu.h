/*
 * cpu/fpu.h — F and D arithmetic (RV64FD), decoded once like every
 * instruction. FP loads and stores (FLW/FLD/FSW/FSD and their compressed
 * forms) and the fcsr CSRs belong to the interpreter; everything with major
 * opcode OP-FP (0x53) or the fused multiply-adds (0x43, 0x47, 0x4b, 0x4f)
 * is decoded here.
 */
#ifndef CPU_FPU_H
#define CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"

/* Decode a 32-bit instruction whose major opcode is 0x43, 0x47, 0x4b, 0x4f
 * or 0x53. Fills d (fn, rd, rs1..rs3, rm, len = 4, raw); returns false when
 * the encoding is statically illegal (the caller raises illegal-instruction).
 * Checks that depend on run-time state (mstatus.FS off, an invalid dynamic
 * rounding mode in frm) are made by the handler when it runs. */
bool fpu_decode(uint32_t raw, struct dinsn *d);

/* NaN-boxing (unpriv spec §12.2): a single in a 64-bit f register has its
 * upper 32 bits all ones. FLW writes fpu_box(word); FSW stores the low 32
 * bits as they are. A single operand that is not properly boxed reads as the
 * canonical NaN 0x7fc00000 (fpu_unbox). */
static inline uint64_t fpu_box(uint32_t v)
{
    return 0xffffffff00000000ull | v;
}

static inline uint32_t fpu_unbox(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : 0x7fc00000u;
}

#endif
