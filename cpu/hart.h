/*
 * cpu/hart.h — the hart's state and the pre-decoded instruction format,
 * private to cpu/. Owned by the interpreter (cpu/exec*.c, csr.c, mmu.c...);
 * the FPU (cpu/fpu*.c) relies only on the fields marked FPU below and the
 * helpers at the end of this file.
 */
#ifndef CPU_HART_H
#define CPU_HART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct hart;
struct dinsn;

/* An instruction handler with the plain contract: it executes `d` on `h`
 * and either advances h->pc (normally by d->len) or takes a trap
 * (hart_trap / hart_illegal), which sets h->pc to the trap vector. A handler
 * that traps writes no register. h->pc is up to date on entry. (The FPU,
 * CSR and trap handlers are of this kind; cpu/exec.h calls them through
 * ex_plain.) */
typedef void (*insn_fn)(struct hart *h, const struct dinsn *d);

/* The interpreter's dispatch entry (cpu/exec.h, "threaded dispatch"): `h`,
 * the slot, and the instructions the batch may still run after this one. */
typedef void (*exec_fn)(struct hart *h, const struct dinsn *d, int64_t budget);

/* One pre-decoded instruction (decoded once per guest code page); 32
 * bytes, so a page's slots are indexed with shifts. */
struct dinsn {
    exec_fn run;        /* dispatch: what the interpreter jumps to */
    union {
        insn_fn fn;     /* plain handler run by ex_plain (FPU, CSR, ...) */
        struct {        /* the second instruction of a fused pair */
            int32_t imm;
            uint8_t rd, rs1, rs2;
        } b;
    };
    int32_t imm;        /* sign-extended immediate / CSR number / shamt */
    uint32_t raw;       /* the instruction bits (16-bit ones zero-extended) */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t rm;         /* funct3: rounding mode for FP, width, ... */
    uint8_t len;        /* 2 or 4 */
    uint16_t off;       /* pc & 0xfff of this slot (set by the cache) */
};

/* mstatus fields used across cpu/ (priv spec §3.1.6). */
#define MSTATUS_SIE   (1ull << 1)
#define MSTATUS_MIE   (1ull << 3)
#define MSTATUS_SPIE  (1ull << 5)
#define MSTATUS_UBE   (1ull << 6)
#define MSTATUS_MPIE  (1ull << 7)
#define MSTATUS_SPP   (1ull << 8)
#define MSTATUS_VS    (3ull << 9)
#define MSTATUS_MPP   (3ull << 11)
#define MSTATUS_FS    (3ull << 13)
#define MSTATUS_XS    (3ull << 15)
#define MSTATUS_MPRV  (1ull << 17)
#define MSTATUS_SUM   (1ull << 18)
#define MSTATUS_MXR   (1ull << 19)
#define MSTATUS_TVM   (1ull << 20)
#define MSTATUS_TW    (1ull << 21)
#define MSTATUS_TSR   (1ull << 22)
#define MSTATUS_UXL   (3ull << 32)
#define MSTATUS_SXL   (3ull << 34)
#define MSTATUS_SD    (1ull << 63)

#define MSTATUS_FS_OFF     (0ull << 13)
#define MSTATUS_FS_INITIAL (1ull << 13)
#define MSTATUS_FS_CLEAN   (2ull << 13)
#define MSTATUS_FS_DIRTY   (3ull << 13)

/* fflags bits (unpriv spec §11.2). */
#define FFLAG_NX 0x01   /* inexact */
#define FFLAG_UF 0x02   /* underflow */
#define FFLAG_OF 0x04   /* overflow */
#define FFLAG_DZ 0x08   /* divide by zero */
#define FFLAG_NV 0x10   /* invalid */

struct machine;

/* Soft TLB (cpu/mmu.c), 2-way set associative (a stack page and a hot data
 * page of the same set must not evict each other on every access). One
 * array per "mode index" (see TLB_MODE_*) so that
 * switching privilege or flipping mstatus.SUM needs no flush: each index has
 * fixed permission semantics. A tag is the page's virtual address when the
 * access kind is allowed for the whole 4 KiB page and the page is guest RAM;
 * TLB_INVALID otherwise: bit 11 set, so it never equals a page address
 * nor the fast path's key (va & (PAGE_MASK | (size - 1))), whose bits 3-11
 * are always clear. */
#define TLB_SETS     256
#define TLB_WAYS     2      /* way 0 = most recently filled */
#define TLB_INVALID  0x800ull
enum {
    TLB_MODE_M = 0,     /* M-mode (or MPRV with MPP=M): no translation */
    TLB_MODE_S = 1,     /* S-mode, SUM=0 */
    TLB_MODE_SUM = 2,   /* S-mode, SUM=1 */
    TLB_MODE_U = 3,     /* U-mode */
    TLB_MODES = 4,
};

struct tlb_entry {
    uint64_t tag_r, tag_w, tag_x;
    uint64_t tag_wc;    /* writable, but the page holds decoded code */
    uintptr_t addend;   /* host address = guest va + addend */
    uint64_t va;        /* page va (for flush-by-address), or TLB_INVALID */
    uint64_t span;      /* mask of the leaf mapping's size - 1 (superpages) */
    uint64_t pad;       /* one entry = one 64-byte cache line */
};

/* Decode cache (cpu/dcache.c): one pre-decoded guest physical page, and
 * the snapshot of its bytes that its instructions are decoded from. */
#define DPAGE_INSNS  2048
#define DCACHE_STALE 1ull
#define DCACHE_SLOTS 2048
/* One slot per 2 bytes, plus sentinels past the end (offsets 0x1000 and
 * 0x1002) that leave the page: straight-line code needs no bounds check. */
#define DPAGE_SLOTS  (DPAGE_INSNS + 2)
#define FPC_SIZE     16
struct dpage {
    struct dinsn insn[DPAGE_SLOTS];
    uint8_t snap[4096] __attribute__((aligned(8)));
};

/* One active PMP rule, precomputed from pmpcfg/pmpaddr (cpu/pmp.c). */
struct pmp_rule {
    uint64_t lo, hi;    /* inclusive byte range */
    uint8_t perm;       /* PMP_R | PMP_W | PMP_X */
    uint8_t locked;
};
#define PMP_ENTRIES 16

struct hart {
    /* x[0] is kept 0; x[32] is a sink: the interpreter's own handlers
     * are decoded with rd = 32 where the instruction has rd = x0. */
    uint64_t x[33];
    uint64_t pc;
    unsigned priv;          /* PRV_U / PRV_S / PRV_M */

    /* FPU: f registers (singles NaN-boxed), fcsr split in two. */
    uint64_t f[32];
    uint32_t fflags;        /* accrued exception flags, FFLAG_* */
    uint32_t frm;           /* dynamic rounding mode, 0..7 */

    uint64_t mstatus;       /* FPU: reads FS, sets it dirty */

    struct machine *m;
    unsigned hartid;

    /* ---- interpreter state (cpu/ only) ---- */

    /* Run loop (cpu/hart.c). */
    int64_t budget;         /* instructions left in this batch (while a
                             * handler runs, its `budget` argument is the
                             * truth; it is stored back on return) */
    int64_t budget_cut;     /* budget discarded by hart_break() */
    int64_t batch_n;        /* size of the running batch */
    uint64_t instret;       /* instructions executed */
    uint64_t fetch_va;      /* va page of fetch_page, or TLB_INVALID */
    struct dinsn *fetch_page;
    uint8_t *fetch_host;    /* host address of that page (guest RAM) */
    uint8_t *fetch_snap;    /* the page's decode snapshot */
    /* Recently entered code pages by va (direct-mapped), so that jumps
     * between pages skip the TLB and decode-cache lookups; emptied with
     * fetch_va (hart_fetch_flush) and when a decode-cache page is reused. */
    struct fpc_entry {
        uint64_t va;        /* TLB_INVALID when empty */
        struct dinsn *page;
        uint8_t *host, *snap;
    } fpc[FPC_SIZE];
    struct dinsn *stop_page; /* DPAGE_SLOTS "stop here" slots, for
                              * running one instruction uncached */
    struct tlb_entry (*dtlb)[TLB_WAYS];    /* = tlb[data_midx] */
    unsigned data_midx;     /* TLB mode index for loads/stores */
    unsigned fetch_midx;    /* TLB mode index for fetch */
    bool wfi;               /* sleeping in WFI */

    /* Trap and interrupt CSRs (cpu/csr.c, cpu/trap.c). */
    uint64_t medeleg, mideleg, mie;
    _Atomic uint64_t mip;   /* device lines, timers and software bits */
    bool seip_sw;           /* software-written SEIP, ORed on read */
    uint64_t mtvec, stvec, mepc, sepc, mcause, scause, mtval, stval;
    uint64_t mscratch, sscratch;
    uint32_t mcounteren, scounteren, mcountinhibit;
    uint64_t menvcfg, senvcfg;
    uint64_t mcycle_off, minstret_off;  /* CSR value = instret + off */
    uint64_t stimecmp;
    bool stimecmp_armed;    /* written since reset (QEMU arms on write) */
    _Atomic uint64_t mtimecmp;

    /* Translation. */
    uint64_t satp;
    unsigned satp_levels;   /* 0 = Bare, 3 = Sv39, 4 = Sv48 */
    uint64_t satp_root;     /* root table physical address */
    struct tlb_entry tlb[TLB_MODES][TLB_SETS][TLB_WAYS]
        __attribute__((aligned(64)));

    /* PMP (cpu/pmp.c). */
    uint8_t pmpcfg[PMP_ENTRIES];
    uint64_t pmpaddr[PMP_ENTRIES];
    struct pmp_rule pmp_rules[PMP_ENTRIES];
    unsigned pmp_nrules;
    bool pmp_locked;        /* some active rule is locked (applies to M) */

    /* LR/SC reservation (virtual address, like QEMU, and loaded value). */
    bool res_valid;
    uint64_t res_va, res_val;

    /* Decode cache and the per-RAM-page "holds decoded code" map. */
    struct dpage *dcache[DCACHE_SLOTS];
    /* Per slot: the physical page it holds, | DCACHE_STALE after a
     * FENCE.I; TLB_INVALID when empty. Kept apart from the (large, cold)
     * pages so that a page entry touches one hot word. */
    uint64_t dcache_tag[DCACHE_SLOTS];
    uint8_t *code_map;
    uint64_t code_pages;

    /* Thread state. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool stop;
    atomic_bool kicked;
    /* Pause (QMP stop/cont): the thread parks at a batch boundary while
     * pause_req is set; `parked` and `in_thread` are under `lock`, and
     * park_cond announces changes of them to hart_wait_parked(). */
    atomic_bool pause_req;
    bool parked, in_thread;
    pthread_cond_t park_cond;
};

/* Take a trap (exception `cause` with `tval`) at the current h->pc: updates
 * the trap CSRs and privilege and sets h->pc to the handler. */
void hart_trap(struct hart *h, uint64_t cause, uint64_t tval);

/* Illegal-instruction trap for `d` (tval = the instruction bits). */
void hart_illegal(struct hart *h, const struct dinsn *d);

/* FPU helpers. */
static inline bool fp_enabled(const struct hart *h)
{
    return (h->mstatus & MSTATUS_FS) != MSTATUS_FS_OFF;
}

/* Mark FP state dirty (any write to f[] or fcsr). SD is derived on read. */
static inline void fp_set_dirty(struct hart *h)
{
    h->mstatus |= MSTATUS_FS_DIRTY;
}

/* Accrue exception flags. */
static inline void fp_raise(struct hart *h, uint32_t flags)
{
    h->fflags |= flags;
}

#endif
