/* tests/diff/rt/rt.h — the bare-metal runtime shared by every differential
 * test: UART output, exit through the test device, trap frames and hooks,
 * running code in S/U mode. Everything printed must be deterministic: it is
 * compared byte for byte between QEMU and blkemu. */
#ifndef RT_H
#define RT_H

#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;

#define RT_ECALL_RETURN 0x52455452  /* a7 of the ecall that ends rt_enter */

enum { RT_U = 0, RT_S = 1, RT_M = 3 };

/* Saved by crt0.S on every trap; x[2] is the trapped sp. */
struct rt_frame {
    u64 x[32];
    u64 epc, status, cause, tval;
};

/* Trap hooks: return 1 when the trap was handled (frame updated as wanted),
 * 0 to fall back to the default: print the trap and resume. */
extern int (*rt_mhook)(struct rt_frame *f);
extern int (*rt_shook)(struct rt_frame *f);
/* When nonzero the default handlers print nothing but still count traps and
 * remember the last one (rt_last_*). */
extern int rt_quiet;
extern u64 rt_ntraps, rt_last_cause, rt_last_tval, rt_last_epc;
extern u64 rt_alias_delta;  /* see rt_enter in crt0.S */

void rt_putc(int c);
void rt_puts(const char *s);
void rt_puthex(u64 v);          /* 16 hex digits */
void rt_printf(const char *fmt, ...);  /* %s %c %d %u %x %lx %ld %lu %016lx %08x */
void rt_exit(int code) __attribute__((noreturn));
void rt_fail(const char *why) __attribute__((noreturn));

long rt_enter(int mode, long (*fn)(long), long arg, void *sp);
void rt_resume_m(void);
void rt_mtrap_entry(void);
void rt_strap_entry(void);
/* Length (2 or 4) of the instruction at `epc` in the trapped context. */
int rt_insn_len(struct rt_frame *f, int from_s);

extern char _stack_top[], _strap_stack_top[], _end[];
/* The stack lower-mode code gets by default (below main's M-mode stack). */
void *rt_lower_stack(void);

#define CSR_READ(csr) ({ u64 v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define CSR_WRITE(csr, v) __asm__ volatile("csrw " #csr ", %0" :: "r"((u64)(v)) : "memory")
#define CSR_SET(csr, v) __asm__ volatile("csrs " #csr ", %0" :: "r"((u64)(v)) : "memory")
#define CSR_CLEAR(csr, v) __asm__ volatile("csrc " #csr ", %0" :: "r"((u64)(v)) : "memory")
#define CSR_SWAP(csr, v) ({ u64 v_; __asm__ volatile("csrrw %0, " #csr ", %1" : "=r"(v_) : "r"((u64)(v)) : "memory"); v_; })

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)

#endif
