/*
 * cpu/fpu_int.h — internals shared by cpu/fpu*.c and their unit tests.
 *
 * The arithmetic is a layer of pure functions on IEEE 754 bit patterns: each
 * takes a resolved rounding mode (FPU_RNE..FPU_RMM, never DYN) and ORs the
 * RISC-V exception flags it raises (FFLAG_*) into *fl. The instruction
 * handlers (cpu/fpu_exec.c) add NaN-boxing, fcsr, mstatus.FS and traps.
 *
 * Two implementations stand behind the layer:
 *  - the host FPU (cpu/fpu_arith.c) for add/sub/mul/div/sqrt/fma in RNE, RTZ,
 *    RDN and RUP, with the host's rounding mode and exception flags set and
 *    read around the single operation (x86 SSE detects tininess after
 *    rounding, as RISC-V does);
 *  - an exact software path (cpu/fpu_soft.c): operands are unpacked, the
 *    exact result is formed with integer arithmetic (the bits shifted out kept
 *    as a sticky bit), then rounded once by fpu_round_pack. It serves RMM,
 *    which hosts lack, and every conversion; unit tests check it against the
 *    host path in the other four modes.
 */
#ifndef CPU_FPU_INT_H
#define CPU_FPU_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Rounding modes (unpriv spec §11.2, table 11.1). */
enum { FPU_RNE = 0, FPU_RTZ = 1, FPU_RDN = 2, FPU_RUP = 3, FPU_RMM = 4,
       FPU_DYN = 7 };

/* Integer kinds of FCVT, as encoded in the rs2 field (§11.7, §12.5). */
enum { FPU_W = 0, FPU_WU = 1, FPU_L = 2, FPU_LU = 3 };

/* FCMP operations, as encoded in funct3. */
enum { FPU_FLE = 0, FPU_FLT = 1, FPU_FEQ = 2 };

/* Canonical NaNs (§11.3) and the NaN-boxing of singles in 64-bit f regs. */
#define F32_CANON 0x7fc00000u
#define F64_CANON 0x7ff8000000000000ull
#define F32_SIGN  0x80000000u
#define F64_SIGN  0x8000000000000000ull
#define F32_BOX   0xffffffff00000000ull

/* A single read from an f register: a value not properly NaN-boxed reads as
 * the canonical NaN (§12.2). */
static inline uint32_t fpu_unbox(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : F32_CANON;
}

static inline uint64_t fpu_box(uint32_t v)
{
    return F32_BOX | v;
}

static inline bool f32_isnan(uint32_t a)
{
    return (a & ~F32_SIGN) > 0x7f800000u;
}

static inline bool f64_isnan(uint64_t a)
{
    return (a & ~F64_SIGN) > 0x7ff0000000000000ull;
}

/* Signalling NaN: a NaN whose quiet bit (the top fraction bit) is clear. */
static inline bool f32_issnan(uint32_t a)
{
    return f32_isnan(a) && !(a & 0x00400000u);
}

static inline bool f64_issnan(uint64_t a)
{
    return f64_isnan(a) && !(a & 0x0008000000000000ull);
}

static inline float f32_val(uint32_t a)
{
    float f;
    memcpy(&f, &a, sizeof f);
    return f;
}

static inline double f64_val(uint64_t a)
{
    double f;
    memcpy(&f, &a, sizeof f);
    return f;
}

static inline uint32_t f32_bits(float f)
{
    uint32_t a;
    memcpy(&a, &f, sizeof a);
    return a;
}

static inline uint64_t f64_bits(double f)
{
    uint64_t a;
    memcpy(&a, &f, sizeof a);
    return a;
}

/* --- Arithmetic (cpu/fpu_arith.c): host FPU, RMM through the soft path. */
uint32_t fpu_f32_add(uint32_t a, uint32_t b, unsigned rm, uint32_t *fl);
uint32_t fpu_f32_sub(uint32_t a, uint32_t b, unsigned rm, uint32_t *fl);
uint32_t fpu_f32_mul(uint32_t a, uint32_t b, unsigned rm, uint32_t *fl);
uint32_t fpu_f32_div(uint32_t a, uint32_t b, unsigned rm, uint32_t *fl);
uint32_t fpu_f32_sqrt(uint32_t a, unsigned rm, uint32_t *fl);
/* a*b+c with one rounding; callers negate operands for FMSUB etc. */
uint32_t fpu_f32_fma(uint32_t a, uint32_t b, uint32_t c, unsigned rm,
                     uint32_t *fl);
uint64_t fpu_f64_add(uint64_t a, uint64_t b, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_sub(uint64_t a, uint64_t b, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_mul(uint64_t a, uint64_t b, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_div(uint64_t a, uint64_t b, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_sqrt(uint64_t a, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_fma(uint64_t a, uint64_t b, uint64_t c, unsigned rm,
                     uint32_t *fl);

/* --- Operations without rounding (cpu/fpu_misc.c). */
/* FMIN/FMAX, 2.2 semantics: -0 < +0, a NaN operand yields the other one. */
uint32_t fpu_f32_minmax(uint32_t a, uint32_t b, bool max, uint32_t *fl);
uint64_t fpu_f64_minmax(uint64_t a, uint64_t b, bool max, uint32_t *fl);
/* FEQ (quiet), FLT/FLE (signalling): 1 or 0. op is FPU_FLE/FLT/FEQ. */
uint64_t fpu_f32_cmp(uint32_t a, uint32_t b, unsigned op, uint32_t *fl);
uint64_t fpu_f64_cmp(uint64_t a, uint64_t b, unsigned op, uint32_t *fl);
/* FCLASS: the 10-bit one-hot mask of table 11.5. */
uint64_t fpu_f32_class(uint32_t a);
uint64_t fpu_f64_class(uint64_t a);

/* --- Conversions (cpu/fpu_soft.c), exact software. */
uint32_t fpu_f64_to_f32(uint64_t a, unsigned rm, uint32_t *fl);
uint64_t fpu_f32_to_f64(uint32_t a, uint32_t *fl);
/* FCVT.{W,WU,L,LU}.{S,D}: the value for x[rd] (32-bit results sign-extended,
 * saturated with NV on NaN or out of range). kind is FPU_W..FPU_LU. */
uint64_t fpu_f32_to_int(uint32_t a, unsigned kind, unsigned rm, uint32_t *fl);
uint64_t fpu_f64_to_int(uint64_t a, unsigned kind, unsigned rm, uint32_t *fl);
/* FCVT.{S,D}.{W,WU,L,LU}: x is x[rs1]; only its low 32 bits for W/WU. */
uint32_t fpu_int_to_f32(uint64_t x, unsigned kind, unsigned rm, uint32_t *fl);
uint64_t fpu_int_to_f64(uint64_t x, unsigned kind, unsigned rm, uint32_t *fl);

/* --- The exact software path (cpu/fpu_soft.c). `dbl` selects binary64
 * (true) or binary32; operands and results are bit patterns of that format
 * in the low bits. Any rounding mode, RMM included. */
uint64_t fpu_soft_add(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl);
uint64_t fpu_soft_mul(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl);
uint64_t fpu_soft_div(bool dbl, uint64_t a, uint64_t b, unsigned rm,
                      uint32_t *fl);
uint64_t fpu_soft_fma(bool dbl, uint64_t a, uint64_t b, uint64_t c,
                      unsigned rm, uint32_t *fl);

/* Round sign * sig * 2^e (sig != 0; its bit 0 may be a sticky bit standing
 * for nonzero bits below it, provided sig then has at least p+2 significant
 * bits) to the format, once, in mode rm, raising NX/UF/OF as IEEE 754 with
 * tininess detected after rounding. Returns the bit pattern. */
uint64_t fpu_round_pack(bool dbl, bool sign, int e, uint64_t sig,
                        unsigned rm, uint32_t *fl);

#endif
