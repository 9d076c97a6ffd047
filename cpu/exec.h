/*
 * cpu/exec.h — interpreter internals shared between the files of cpu/:
 * the instruction handlers (named by an X-macro list so decode.c can refer
 * to them), the memory-access fast paths, and the calls between the MMU,
 * PMP, CSR, trap and decode-cache modules. Not for use outside cpu/.
 */
#ifndef CPU_EXEC_H
#define CPU_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"
#include "hw/machine.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~0xfffull)

/* mip / mie bits. */
#define MIP_SSIP (1ull << IRQ_SSI)
#define MIP_MSIP (1ull << IRQ_MSI)
#define MIP_STIP (1ull << IRQ_STI)
#define MIP_MTIP (1ull << IRQ_MTI)
#define MIP_SEIP (1ull << IRQ_SEI)
#define MIP_MEIP (1ull << IRQ_MEI)
#define MIP_S_MASK (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIP_ALL    (MIP_S_MASK | MIP_MSIP | MIP_MTIP | MIP_MEIP)

#define MENVCFG_FIOM (1ull << 0)
#define MENVCFG_PBMTE (1ull << 62)
#define MENVCFG_STCE (1ull << 63)

#define CAUSE_INTERRUPT (1ull << 63)

/* The kind of a memory access; also a bit index in permission masks. */
enum mmu_acc { ACC_R = 0, ACC_W = 1, ACC_X = 2 };
#define ACC_BIT(a) (1u << (a))
#define ACC_ALL (ACC_BIT(ACC_R) | ACC_BIT(ACC_W) | ACC_BIT(ACC_X))

/* mmu_access() result when no exception is raised. */
#define MMU_OK (-1)

/* ---- cpu/hart.c ---- */

/* End the current batch after this instruction (interrupt state, privilege
 * or translation may have changed; or WFI). */
static inline void hart_break(struct hart *h)
{
    h->budget_cut += h->budget;
    h->budget = 0;
}

/* Forget the running fetch page and the recently entered ones (their
 * translation or decoded contents may be stale). */
static inline void hart_fetch_flush(struct hart *h)
{
    h->fetch_va = TLB_INVALID;
    for (unsigned i = 0; i < FPC_SIZE; i++)
        h->fpc[i].va = TLB_INVALID;
}

/* Recompute the TLB mode indexes and drop the cached fetch page: call after
 * any change of privilege, mstatus.MPRV/MPP/SUM, or translation. */
void hart_mode_changed(struct hart *h);

/* Instructions retired so far, including the running batch. */
uint64_t hart_instret_now(const struct hart *h);

/* Report an unrecoverable guest state and stop the machine. */
void hart_fatal(struct hart *h, const char *why, uint64_t cause);

/* Fetch, decode and execute the instruction at h->pc without the decode
 * cache (MMIO code, page-straddling or partly PMP-covered instructions),
 * `budget` being what the batch may run after it; stores h->pc and
 * h->budget back. */
void hart_exec_uncached(struct hart *h, int64_t budget);

/* Re-evaluate MTIP (and STIP under Sstc) against mtime. */
void hart_update_timers(struct hart *h);

/* Pending-and-enabled-in-mie interrupt bits (WFI wake-up condition). */
static inline uint64_t hart_pending(const struct hart *h)
{
    uint64_t mip = atomic_load_explicit(&h->mip, memory_order_relaxed);
    if (h->seip_sw)
        mip |= MIP_SEIP;
    return mip & h->mie;
}

/* ---- cpu/trap.c ---- */

/* Take the highest-priority pending and enabled interrupt, if any. */
bool trap_take_interrupt(struct hart *h);

/* ---- cpu/mmu.c ---- */

/* The TLB set of va in the array of one mode, and the entry of that set
 * whose `tag` field equals key (NULL if none). */
#define TLB_SET(arr, va) ((arr)[((va) >> 12) & (TLB_SETS - 1)])
#define TLB_FIND(set, tag, key)                                              \
    (likely((set)[0].tag == (key)) ? &(set)[0] :                             \
     (set)[1].tag == (key) ? &(set)[1] : NULL)

/* TLB mode index for privilege `priv` under the current mstatus.SUM. */
unsigned mmu_midx(const struct hart *h, unsigned priv);

/* Translate and check one access of `size` bytes at `va` that does not
 * cross a page, in TLB mode `midx`; fills the TLB when the whole page
 * allows it. On success returns MMU_OK and sets *host (RAM) or *host = NULL
 * and *pa (device memory); otherwise returns the exception cause. */
int mmu_access(struct hart *h, uint64_t va, unsigned size, enum mmu_acc acc,
               unsigned midx, uint8_t **host, uint64_t *pa);

void mmu_flush_all(struct hart *h);
/* Flush every entry that may translate `va` (any ASID, any mode). */
void mmu_flush_va(struct hart *h, uint64_t va);
/* The page at host address `page` now holds decoded code: stores to it
 * must take the slow path (tag_w → tag_wc). */
void mmu_protect_code(struct hart *h, const uint8_t *page);
/* Set satp (already validated); flushes the TLB. */
void mmu_set_satp(struct hart *h, uint64_t satp);

/* ---- cpu/pmp.c ---- */

/* May an access of `size` bytes at physical `pa` of kind `acc` by a hart in
 * privilege `priv` proceed? (priv spec §3.7.1) */
bool pmp_check(const struct hart *h, uint64_t pa, uint64_t size,
               enum mmu_acc acc, unsigned priv);
/* Mask of ACC_BIT()s allowed for the whole 4 KiB page at `pa`. */
unsigned pmp_page_perm(const struct hart *h, uint64_t pa, unsigned priv);
/* pmpcfg0/2 and pmpaddr0..15 CSRs; false for a CSR that does not exist. */
bool pmp_csr_read(const struct hart *h, unsigned csr, uint64_t *val);
bool pmp_csr_write(struct hart *h, unsigned csr, uint64_t val);
void pmp_reset(struct hart *h);

/* ---- cpu/csr.c ---- */

bool csr_read(struct hart *h, unsigned csr, uint64_t *val);
bool csr_write(struct hart *h, unsigned csr, uint64_t val);
uint64_t csr_mstatus_read(const struct hart *h);

/* ---- cpu/decode.c, cpu/decode_c.c ---- */

/* Decode one instruction (16-bit if raw's low bits are not 11) into d
 * (all fields but `off`). Encodings we do not implement get a handler
 * raising illegal-instruction. */
void decode_insn(uint32_t raw, struct dinsn *d);
/* Expand a compressed instruction to its 32-bit equivalent; 0 = illegal. */
uint32_t rvc_expand(uint16_t c);
/* Zba/Zbb/Zbc/Zbs encodings of OP, OP-32, OP-IMM, OP-IMM-32 (exec_bit.c);
 * NULL when `r` is none of them. */
exec_fn decode_bitmanip(uint32_t r, struct dinsn *d);
/* The handler of a not-yet-decoded slot of a decode-cache page. */
void insn_decode_stub(struct hart *h, const struct dinsn *d, int64_t budget);

/* ---- cpu/dcache.c ---- */

/* The decode-cache page for guest physical page `pa` (in RAM); NULL on
 * host allocation failure. */
struct dpage *dcache_page(struct hart *h, uint64_t pa);
/* Forget every decoded page (FENCE.I). */
void dcache_flush(struct hart *h);
/* A store of `size` bytes hit physical `pa` (in RAM): forget the decoded
 * instructions it may have changed. */
void dcache_store(struct hart *h, uint64_t pa, unsigned size);
void dcache_free(struct hart *h);

static inline bool dcache_has_code(const struct hart *h, uint64_t pa)
{
    uint64_t p = (pa - h->m->ram_base) >> 12;
    return p < h->code_pages && h->code_map[p];
}

/* ---- cpu/exec_mem.c ---- */

bool mem_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *out);
bool mem_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val);

static inline uint64_t mem_host_load(const void *p, unsigned size)
{
    /* Relaxed atomics: plain moves on x86, and race-free for other harts. */
    switch (size) {
    case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
    }
}

static inline void mem_host_store(void *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: __atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED); break;
    case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED); break;
    default: __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); break;
    }
}

/* Load `size` (1, 2, 4, 8) bytes at va, zero-extended. False: a trap was
 * taken (h->pc is the handler). The fast path is one TLB compare; it also
 * rejects misaligned addresses, which the slow path handles. */
static inline bool mem_load(struct hart *h, uint64_t va, unsigned size,
                            uint64_t *out)
{
    const struct tlb_entry *e =
        TLB_FIND(TLB_SET(h->dtlb, va), tag_r, va & (PAGE_MASK | (size - 1)));
    if (likely(e != NULL)) {
        *out = mem_host_load((const void *)(uintptr_t)(va + e->addend), size);
        return true;
    }
    return mem_load_slow(h, va, size, out);
}

static inline bool mem_store(struct hart *h, uint64_t va, unsigned size,
                             uint64_t val)
{
    const struct tlb_entry *e =
        TLB_FIND(TLB_SET(h->dtlb, va), tag_w, va & (PAGE_MASK | (size - 1)));
    if (likely(e != NULL)) {
        mem_host_store((void *)(uintptr_t)(va + e->addend), size, val);
        return true;
    }
    return mem_store_slow(h, va, size, val);
}

#define EXEC_ARGS struct hart *h, const struct dinsn *d, int64_t budget

/* ---- threaded dispatch ----
 *
 * The run loop (hart.c) calls the `run` handler of the slot at h->pc with
 * the budget left after it. A handler keeps pc and budget in registers:
 * straight-line code goes on to the next slot (d + len/2, a constant in
 * each handler: every handler that compressed code can reach has a 2-byte
 * twin, ex_NAME_c) by a tail call, so GCC emits one indirect jump per
 * instruction and no stack frame. h->pc and h->budget are stale while a
 * chain runs: a handler that returns stores both (exec_leave), and so does
 * every slow path before calling anything that may read them (traps, CSR
 * reads of instret). The pc of a slot is fetch_va + d->off.
 *
 * No bounds check is needed: a page has sentinel slots past its end
 * (ex_stop, returning to the loop with pc = the next page), and a branch
 * chains only when its target offset lies in the page. Instructions run
 * uncached execute from h->stop_page, a page of ex_stop slots, so chaining
 * from them stops at once too. A handler that may change privilege,
 * translation, interrupt enables or the fetch page is a plain handler
 * (insn_fn, run through ex_plain), which returns to the loop. */

static inline uint64_t insn_pc(const struct hart *h, const struct dinsn *d)
{
    return h->fetch_va + d->off;
}

/* Leave the chain: the run loop continues at pc. */
static inline void exec_leave(struct hart *h, uint64_t pc, int64_t budget)
{
    h->pc = pc;
    h->budget = budget;
}

/* Run slot n of the running page next (a sibling call: GCC emits a jump). */
static inline void exec_goto(struct hart *h, const struct dinsn *n,
                             int64_t budget)
{
    if (likely(--budget >= 0)) {
        n->run(h, n, budget);
        return;
    }
    exec_leave(h, insn_pc(h, n), 0);
}

/* Go to `target` in another page: chain straight into it when it is one
 * of the recently entered pages, else leave it to the run loop. */
static inline void exec_jump_far(struct hart *h, uint64_t target,
                                 int64_t budget)
{
    const struct fpc_entry *e = &h->fpc[(target >> 12) & (FPC_SIZE - 1)];
    if (likely(e->va == (target & PAGE_MASK)) && likely(budget > 0)) {
        h->fetch_va = e->va;
        h->fetch_page = e->page;
        h->fetch_host = e->host;
        h->fetch_snap = e->snap;
        const struct dinsn *n = e->page + ((target & 0xfff) >> 1);
        n->run(h, n, budget - 1);
        return;
    }
    exec_leave(h, target, budget);
}

/* Before a slow path: make h->pc and h->budget true for this instruction. */
static inline void exec_sync(struct hart *h, const struct dinsn *d,
                             int64_t budget)
{
    h->pc = insn_pc(h, d);
    h->budget = budget;
}

/* A taken jump or branch to `off` bytes from the instruction `at` bytes
 * after slot d: chain when the target is in the same page (its slot is
 * then off/2 slots from there; off is even, so that is off * 16 bytes). */
static inline void exec_jump_rel_at(struct hart *h, const struct dinsn *d,
                                    unsigned at, int64_t budget, int32_t off)
{
    int32_t t = (int32_t)(d->off + at) + off;
    if (likely((uint32_t)t < PAGE_SIZE)) {
        exec_goto(h, (const struct dinsn *)(const void *)
                     ((const char *)d + ((intptr_t)at + off) *
                      (intptr_t)(sizeof *d / 2)), budget);
        return;
    }
    exec_jump_far(h, h->fetch_va + (uint64_t)(int64_t)t, budget);
}

static inline void exec_jump_rel(struct hart *h, const struct dinsn *d,
                                 int64_t budget, int32_t off)
{
    exec_jump_rel_at(h, d, 0, budget, off);
}

/* The slow paths of the loads and stores of slot d (cpu/exec_mem.c): a TLB
 * miss, a misaligned or a device access; they trap or retire the
 * instruction and chain on. */
void exec_load_slow(EXEC_ARGS, uint64_t va, unsigned size, bool sign);
void exec_store_slow(EXEC_ARGS, uint64_t va, unsigned size);

/* ---- cpu/exec_fuse.c ---- */

/* The handler running slot a's instruction and then b's (the next one) as
 * one, with b's operands stored in a->b; NULL if the pair is not fused. */
exec_fn fuse_pair(const struct dinsn *a, const struct dinsn *b);

/* Define handler NAME in two copies, ex_NAME (4-byte instruction) and
 * ex_NAME_c (2-byte), from one body that sees the length as the constant L
 * and ends with NEXT() (or another exit). */
#define EXEC_DEF2(name)                                                          static inline __attribute__((always_inline)) void                            body_##name(EXEC_ARGS, const unsigned L);                                    void ex_##name(EXEC_ARGS) { body_##name(h, d, budget, 4); }                  void ex_##name##_c(EXEC_ARGS) { body_##name(h, d, budget, 2); }              static inline __attribute__((always_inline)) void                            body_##name(EXEC_ARGS, const unsigned L)
/* A handler only 4-byte instructions reach. */
#define EXEC_DEF4(name)                                                          static inline __attribute__((always_inline)) void                            body_##name(EXEC_ARGS, const unsigned L);                                    void ex_##name(EXEC_ARGS) { body_##name(h, d, budget, 4); }                  static inline __attribute__((always_inline)) void                            body_##name(EXEC_ARGS, const unsigned L)
#define NEXT() exec_goto(h, d + L / 2, budget)

/* ---- the instruction handlers ---- */

/* Handlers with a 2-byte twin: what compressed instructions expand to. */
#define EXEC_C_HANDLERS(X)                                                       X(addi) X(addiw) X(lui) X(slli) X(srli) X(srai) X(andi)                      X(add) X(sub) X(xor) X(or) X(and) X(addw) X(subw)                            X(jal) X(jalr) X(beq) X(bne) X(lw) X(ld) X(sw) X(sd)                         X(li) X(mv) X(nop)

/* 4-byte only. */
#define EXEC_4_HANDLERS(X)                                                       X(auipc) X(blt) X(bge) X(bltu) X(bgeu)                                       X(slti) X(sltiu) X(xori) X(ori)                                              X(sll) X(slt) X(sltu) X(srl) X(sra)                                          X(slliw) X(srliw) X(sraiw) X(sllw) X(srlw) X(sraw)                           X(mul) X(mulh) X(mulhsu) X(mulhu) X(div) X(divu) X(rem) X(remu)              X(mulw) X(divw) X(divuw) X(remw) X(remuw)                                    X(fence)                                                                     X(lb) X(lh) X(lbu) X(lhu) X(lwu) X(sb) X(sh)

/* Plain handlers (insn_fn), run through ex_plain. */
#define EXEC_PLAIN_HANDLERS(X)                                                   X(fence_i) X(ecall) X(ebreak) X(mret) X(sret) X(wfi) X(sfence_vma)           X(csrrw) X(csrrs) X(csrrc) X(csrrwi) X(csrrsi) X(csrrci)                     X(flw) X(fld) X(fsw) X(fsd)                                                  X(lr_w) X(sc_w) X(amoswap_w) X(amoadd_w) X(amoxor_w) X(amoand_w)             X(amoor_w) X(amomin_w) X(amomax_w) X(amominu_w) X(amomaxu_w)                 X(lr_d) X(sc_d) X(amoswap_d) X(amoadd_d) X(amoxor_d) X(amoand_d)             X(amoor_d) X(amomin_d) X(amomax_d) X(amominu_d) X(amomaxu_d)

#define EXEC_DECLARE2(n) void ex_##n(EXEC_ARGS); void ex_##n##_c(EXEC_ARGS);
#define EXEC_DECLARE4(n) void ex_##n(EXEC_ARGS);
#define EXEC_DECLARE_PLAIN(n) void ex_##n(struct hart *h, const struct dinsn *d);
EXEC_C_HANDLERS(EXEC_DECLARE2)
EXEC_4_HANDLERS(EXEC_DECLARE4)
EXEC_PLAIN_HANDLERS(EXEC_DECLARE_PLAIN)
#undef EXEC_DECLARE2
#undef EXEC_DECLARE4
#undef EXEC_DECLARE_PLAIN

/* Length-independent handlers (either length may use them). */
void ex_illegal(EXEC_ARGS);     /* illegal-instruction trap */
void ex_plain(EXEC_ARGS);       /* run d->fn with h->pc and h->budget true */
void ex_stop(EXEC_ARGS);        /* return to the loop with pc = this slot's */

#endif
