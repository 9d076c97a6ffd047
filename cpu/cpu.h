/*
 * cpu/cpu.h — the public face of a RISC-V hart (RV64GC, M/S/U).
 *
 * The board creates one hart per -smp, resets it, and runs each on its own
 * host thread (hart_thread). Devices talk to a hart only through the calls
 * below: interrupt lines, the CLINT's mtimecmp, kicks. Everything inside the
 * hart (decode cache, TLB, CSRs) is private to cpu/.
 */
#ifndef CPU_CPU_H
#define CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct hart;

/* Privilege levels (priv spec 1.12 §1.2). */
enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* Interrupt numbers = bit positions in mip/mie (priv spec §3.1.9). */
enum {
    IRQ_SSI = 1, IRQ_MSI = 3, IRQ_STI = 5, IRQ_MTI = 7, IRQ_SEI = 9, IRQ_MEI = 11,
};

/* Exception causes (priv spec 1.12 table 3.6). */
enum {
    EXC_INSN_MISALIGNED = 0, EXC_INSN_ACCESS = 1, EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3, EXC_LOAD_MISALIGNED = 4, EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6, EXC_STORE_ACCESS = 7, EXC_ECALL_U = 8,
    EXC_ECALL_S = 9, EXC_ECALL_M = 11, EXC_INSN_PAGE = 12,
    EXC_LOAD_PAGE = 13, EXC_STORE_PAGE = 15,
};

/* Maximum harts a machine may have (-smp). */
#define HART_MAX 8

/* Allocate hart `hartid` of machine `m`, in its reset state (M-mode,
 * pc = 0x1000 unless hart_reset says otherwise). NULL on allocation failure. */
struct hart *hart_create(struct machine *m, unsigned hartid);
void hart_destroy(struct hart *h);

/* Reset architectural state: M-mode, pc = `pc`, a0..a2 as given (the
 * firmware handover), mstatus/satp/mie/mip etc. at reset values. */
void hart_reset(struct hart *h, uint64_t pc, uint64_t a0, uint64_t a1,
                uint64_t a2);

/* Thread entry: run guest code until hart_stop(). Sleeps in WFI. */
void *hart_thread(void *hart);

/* Execute at most `n` instructions on the calling thread (unit tests,
 * single-stepping). Returns when n are done, or early when the hart would
 * sleep in WFI or was asked to stop. Returns the number executed. */
uint64_t hart_step(struct hart *h, uint64_t n);

/* Ask the hart's thread to leave hart_thread() soon; wakes it from WFI. */
void hart_stop(struct hart *h);

/* Pause (true) or release (false) the hart's thread: a paused hart parks
 * at its next batch boundary (or leaves WFI to park) and runs no guest code
 * until released; a hart started paused parks before its first
 * instruction. Survives hart_reset(). Any thread. */
void hart_set_paused(struct hart *h, bool paused);

/* Wait until the hart's thread is parked, or not running at all, or the
 * CLOCK_MONOTONIC time `deadline_ns` passes. True if parked or not
 * running. Any thread but the hart's own. */
bool hart_wait_parked(struct hart *h, uint64_t deadline_ns);

/* Drive an interrupt line (IRQ_MSI, IRQ_MEI, IRQ_SEI) from a device on any
 * thread: sets/clears the pending bit atomically and kicks the hart. */
void hart_set_irq(struct hart *h, unsigned irq, bool level);

/* CLINT's per-hart mtimecmp (machine timer compare, in timebase ticks).
 * Setting it re-evaluates MTIP and wakes a hart sleeping in WFI. */
void hart_set_mtimecmp(struct hart *h, uint64_t val);
uint64_t hart_get_mtimecmp(const struct hart *h);

/* Wake the hart's thread if it sleeps (WFI) and make it re-check interrupts
 * and its stop flag at the next instruction boundary. Any thread. */
void hart_kick(struct hart *h);

/* Counters for --stats. */
uint64_t hart_instret(const struct hart *h);

/* Register access for tests and debugging. */
uint64_t hart_get_pc(const struct hart *h);
uint64_t hart_get_x(const struct hart *h, unsigned reg);
void hart_set_x(struct hart *h, unsigned reg, uint64_t val);
unsigned hart_get_priv(const struct hart *h);

/* The ISA string the hart implements, for the device tree ("rv64imafdc_..."). */
const char *hart_isa_string(void);

#endif
