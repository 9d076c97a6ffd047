/*
 * cpu/fpu_arith.c — add, sub, mul, div, sqrt and fused multiply-add on the
 * host FPU, in the guest's rounding mode and with its exception flags.
 *
 * Each operation runs alone between "set the host rounding mode and clear
 * its flags" and "read the flags (and restore round-to-nearest)". The
 * compiler must neither constant-fold the operation nor move it across
 * those points; GCC ignores FENV_ACCESS, so the operands are passed through
 * the very asm statement that sets the mode, and the result through the one
 * that reads the flags: data dependencies pin the operation in between.
 *
 * Why the host gives RISC-V results: IEEE 754 fixes the rounded value and
 * the NV/DZ/OF/NX flags; x86 SSE detects tininess after rounding as RISC-V
 * does (UF = tiny and inexact, exceptions masked), and runs with DAZ/FTZ
 * off. What differs is fixed here: NaN results are made canonical (§11.3),
 * inf*0 + qNaN in a fused multiply-add raises NV (§11.6; x86 does not), and
 * RMM, which hosts lack, goes to the exact software path (cpu/fpu_soft.c).
 */
#include "cpu/fpu_int.h"
#include "cpu/hart.h"

#include <math.h>

#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))

/* MXCSR (Intel SDM vol. 1 §10.2.3): flags IE DE ZE OE UE PE in bits 0-5,
 * all exceptions masked (bits 7-12), rounding control in bits 13-14, DAZ
 * (bit 6) and FTZ (bit 15) off. The emulator's own code runs with 0x1f80,
 * the C default, and we return to it after any other mode. */
#define MXCSR_BASE 0x1f80u

/* RISC-V rm -> MXCSR RC: RNE 00, RTZ 11, RDN 01, RUP 10. */
static inline uint32_t mxcsr_for(unsigned rm)
{
    static const uint8_t rc[4] = { 0, 3, 1, 2 };
    return MXCSR_BASE | (uint32_t)rc[rm & 3] << 13;
}

/* x86 flags -> fflags: IE->NV, ZE->DZ, OE->OF, UE->UF, PE->NX (DE, the
 * denormal-operand flag, has no RISC-V counterpart). */
static inline uint32_t mxcsr_flags(uint32_t c)
{
    return ((c & 0x01) << 4) | ((c & 0x04) << 1) | ((c & 0x08) >> 1) |
           ((c & 0x10) >> 3) | ((c & 0x20) >> 5);
}

#define HOST_ENTER1(rm, x) do {                                           \
        uint32_t csr_ = mxcsr_for(rm);                                    \
        __asm__ volatile("ldmxcsr %1" : "+x"(x) : "m"(csr_));             \
    } while (0)
#define HOST_ENTER2(rm, x, y) do {                                        \
        uint32_t csr_ = mxcsr_for(rm);                                    \
        __asm__ volatile("ldmxcsr %2" : "+x"(x), "+x"(y) : "m"(csr_));    \
    } while (0)
#define HOST_ENTER3(rm, x, y, z) do {                                     \
        uint32_t csr_ = mxcsr_for(rm);                                    \
        __asm__ volatile("ldmxcsr %3"                                     \
                         : "+x"(x), "+x"(y), "+x"(z) : "m"(csr_));        \
    } while (0)
#define HOST_LEAVE(rm, r, fl) do {                                        \
        uint32_t csr_;                                                    \
        __asm__ volatile("stmxcsr %0" : "=m"(csr_), "+x"(r));             \
        if ((rm) != FPU_RNE) {                                            \
            uint32_t base_ = MXCSR_BASE;                                  \
            __asm__ volatile("ldmxcsr %0" : : "m"(base_));                \
        }                                                                 \
        *(fl) |= mxcsr_flags(csr_);                                       \
    } while (0)

static inline double host_sqrt64(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    return r;
}

static inline float host_sqrt32(float x)
{
    float r;
    __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x));
    return r;
}

#else /* other hosts: <fenv.h> */

#include <fenv.h>

static const int host_fe[4] = {
    FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD,
};

static inline void host_enter(unsigned rm)
{
    if (rm != FPU_RNE)
        fesetround(host_fe[rm & 3]);
    feclearexcept(FE_ALL_EXCEPT);
}

static inline uint32_t host_leave(unsigned rm)
{
    int e = fetestexcept(FE_ALL_EXCEPT);

    if (rm != FPU_RNE)
        fesetround(FE_TONEAREST);
    return (e & FE_INVALID ? FFLAG_NV : 0) | (e & FE_DIVBYZERO ? FFLAG_DZ : 0) |
           (e & FE_OVERFLOW ? FFLAG_OF : 0) |
           (e & FE_UNDERFLOW ? FFLAG_UF : 0) | (e & FE_INEXACT ? FFLAG_NX : 0);
}

/* Volatile accesses are ordered against the fenv calls. */
#define HOST_PIN(v) do {                                                  \
        volatile __typeof__(v) pin_ = (v);                                \
        (v) = pin_;                                                       \
    } while (0)
#define HOST_ENTER1(rm, x) do { host_enter(rm); HOST_PIN(x); } while (0)
#define HOST_ENTER2(rm, x, y) do {                                        \
        host_enter(rm); HOST_PIN(x); HOST_PIN(y);                         \
    } while (0)
#define HOST_ENTER3(rm, x, y, z) do {                                     \
        host_enter(rm); HOST_PIN(x); HOST_PIN(y); HOST_PIN(z);            \
    } while (0)
#define HOST_LEAVE(rm, r, fl) do {                                        \
        HOST_PIN(r);                                                      \
        *(fl) |= host_leave(rm);                                          \
    } while (0)

static inline double host_sqrt64(double x)
{
    return sqrt(x);
}

static inline float host_sqrt32(float x)
{
    return sqrtf(x);
}

#endif

static inline uint32_t f32_result(float r)
{
    uint32_t b = f32_bits(r);
    return f32_isnan(b) ? F32_CANON : b;
}

static inline uint64_t f64_result(double r)
{
    uint64_t b = f64_bits(r);
    return f64_isnan(b) ? F64_CANON : b;
}

/* One binary operation on the host. RMM goes to the exact software path. */
#define HOST_BINOP(W, T, name, op, soft, soft_b)                          \
    uint##W##_t fpu_f##W##_##name(uint##W##_t a, uint##W##_t b,           \
                                  unsigned rm, uint32_t *fl)              \
    {                                                                     \
        T x = f##W##_val(a), y = f##W##_val(b), r;                        \
                                                                          \
        if (rm == FPU_RMM)                                                \
            return (uint##W##_t)soft(W == 64, a, soft_b, rm, fl);         \
        HOST_ENTER2(rm, x, y);                                            \
        r = x op y;                                                       \
        HOST_LEAVE(rm, r, fl);                                            \
        return f##W##_result(r);                                          \
    }

HOST_BINOP(32, float, add, +, fpu_soft_add, b)
HOST_BINOP(32, float, sub, -, fpu_soft_add, b ^ F32_SIGN)
HOST_BINOP(32, float, mul, *, fpu_soft_mul, b)
HOST_BINOP(32, float, div, /, fpu_soft_div, b)
HOST_BINOP(64, double, add, +, fpu_soft_add, b)
HOST_BINOP(64, double, sub, -, fpu_soft_add, b ^ F64_SIGN)
HOST_BINOP(64, double, mul, *, fpu_soft_mul, b)
HOST_BINOP(64, double, div, /, fpu_soft_div, b)

/* Square root never needs RMM's tie rule: the square root of a p-bit
 * number is never exactly halfway between two p-bit numbers (a midpoint
 * squared has more than 2p significant bits), and it is never subnormal.
 * So RMM gives the RNE result and flags. */
uint32_t fpu_f32_sqrt(uint32_t a, unsigned rm, uint32_t *fl)
{
    float x = f32_val(a), r;

    if (rm == FPU_RMM)
        rm = FPU_RNE;
    HOST_ENTER1(rm, x);
    r = host_sqrt32(x);
    HOST_LEAVE(rm, r, fl);
    return f32_result(r);
}

uint64_t fpu_f64_sqrt(uint64_t a, unsigned rm, uint32_t *fl)
{
    double x = f64_val(a), r;

    if (rm == FPU_RMM)
        rm = FPU_RNE;
    HOST_ENTER1(rm, x);
    r = host_sqrt64(x);
    HOST_LEAVE(rm, r, fl);
    return f64_result(r);
}

/* Fused multiply-add with a NaN operand: canonical NaN, NV for a signalling
 * NaN and for inf * 0 whatever the addend (§11.6). */
static uint32_t fma_nan_flags(bool a_inf, bool a_zero, bool b_inf,
                              bool b_zero, bool any_snan)
{
    return (any_snan || (a_inf && b_zero) || (a_zero && b_inf)) ? FFLAG_NV
                                                                : 0;
}

uint32_t fpu_f32_fma(uint32_t a, uint32_t b, uint32_t c, unsigned rm,
                     uint32_t *fl)
{
    float x = f32_val(a), y = f32_val(b), z = f32_val(c), r;

    if (f32_isnan(a) || f32_isnan(b) || f32_isnan(c)) {
        *fl |= fma_nan_flags((a & ~F32_SIGN) == 0x7f800000u,
                             (a & ~F32_SIGN) == 0,
                             (b & ~F32_SIGN) == 0x7f800000u,
                             (b & ~F32_SIGN) == 0,
                             f32_issnan(a) || f32_issnan(b) || f32_issnan(c));
        return F32_CANON;
    }
    if (rm == FPU_RMM)
        return (uint32_t)fpu_soft_fma(false, a, b, c, rm, fl);
    HOST_ENTER3(rm, x, y, z);
    r = fmaf(x, y, z);
    HOST_LEAVE(rm, r, fl);
    return f32_result(r);
}

uint64_t fpu_f64_fma(uint64_t a, uint64_t b, uint64_t c, unsigned rm,
                     uint32_t *fl)
{
    double x = f64_val(a), y = f64_val(b), z = f64_val(c), r;

    if (f64_isnan(a) || f64_isnan(b) || f64_isnan(c)) {
        *fl |= fma_nan_flags((a & ~F64_SIGN) == 0x7ff0000000000000ull,
                             (a & ~F64_SIGN) == 0,
                             (b & ~F64_SIGN) == 0x7ff0000000000000ull,
                             (b & ~F64_SIGN) == 0,
                             f64_issnan(a) || f64_issnan(b) || f64_issnan(c));
        return F64_CANON;
    }
    if (rm == FPU_RMM)
        return fpu_soft_fma(true, a, b, c, rm, fl);
    HOST_ENTER3(rm, x, y, z);
    r = fma(x, y, z);
    HOST_LEAVE(rm, r, fl);
    return f64_result(r);
}
