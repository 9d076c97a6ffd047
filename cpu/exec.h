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

/* Recompute the TLB mode indexes and drop the cached fetch page: call after
 * any change of privilege, mstatus.MPRV/MPP/SUM, or translation. */
void hart_mode_changed(struct hart *h);

/* Instructions retired so far, including the running batch. */
uint64_t hart_instret_now(const struct hart *h);

/* Report an unrecoverable guest state and stop the machine. */
void hart_fatal(struct hart *h, const char *why, uint64_t cause);

/* Fetch, decode and execute the instruction at h->pc without the decode
 * cache (MMIO code, page-straddling or partly PMP-covered instructions). */
void hart_exec_uncached(struct hart *h);

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

/* Decode one instruction (16-bit if raw's low bits are not 11) into d.
 * Encodings we do not implement get a handler raising illegal-instruction. */
void decode_insn(uint32_t raw, struct dinsn *d);
/* Expand a compressed instruction to its 32-bit equivalent; 0 = illegal. */
uint32_t rvc_expand(uint16_t c);
/* Zba/Zbb/Zbc/Zbs encodings of OP, OP-32, OP-IMM, OP-IMM-32 (exec_bit.c);
 * NULL when `r` is none of them. */
insn_fn decode_bitmanip(uint32_t r, struct dinsn *d);
/* The handler of a not-yet-decoded slot of a decode-cache page. */
void insn_decode_stub(struct hart *h, const struct dinsn *d);

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
        &h->tlb[h->data_midx][(va >> 12) & (TLB_SETS - 1)];
    if (likely(e->tag_r == (va & (PAGE_MASK | (size - 1))))) {
        *out = mem_host_load((const void *)(uintptr_t)(va + e->addend), size);
        return true;
    }
    return mem_load_slow(h, va, size, out);
}

static inline bool mem_store(struct hart *h, uint64_t va, unsigned size,
                             uint64_t val)
{
    const struct tlb_entry *e =
        &h->tlb[h->data_midx][(va >> 12) & (TLB_SETS - 1)];
    if (likely(e->tag_w == (va & (PAGE_MASK | (size - 1))))) {
        mem_host_store((void *)(uintptr_t)(va + e->addend), size, val);
        return true;
    }
    return mem_store_slow(h, va, size, val);
}

/* ---- threaded dispatch ---- */

/* Run the instruction in slot `n` next, straight from the current handler
 * (a tail call: GCC turns it into a jump), when it is in the running
 * decode-cache page and the batch has budget left; otherwise return to the
 * run loop, which finds the next instruction from h->pc. A handler running
 * from a temporary dinsn (uncached path) never chains: `n` is then outside
 * the page array. Handlers that may change privilege, translation or the
 * fetch page must not chain. */
static inline void hart_chain(struct hart *h, const struct dinsn *n)
{
    h->x[0] = 0;
    if (likely((uintptr_t)(n - h->fetch_page) < DPAGE_INSNS && h->budget > 0)) {
        h->budget--;
        n->fn(h, n);
    }
}

/* Straight-line successor: pc += len, then chain to the next slot. */
#define EXEC_NEXT(h, d)                                                      \
    do {                                                                     \
        unsigned len_ = (d)->len;                                            \
        (h)->pc += len_;                                                     \
        hart_chain((h), (d) + (len_ >> 1));                                  \
    } while (0)

/* ---- the instruction handlers ---- */

#define EXEC_INT_HANDLERS(X)                                                 \
    X(illegal) X(nop) X(lui) X(auipc) X(jal) X(jalr)                         \
    X(beq) X(bne) X(blt) X(bge) X(bltu) X(bgeu)                              \
    X(addi) X(slti) X(sltiu) X(xori) X(ori) X(andi) X(slli) X(srli) X(srai)  \
    X(add) X(sub) X(sll) X(slt) X(sltu) X(xor) X(srl) X(sra) X(or) X(and)    \
    X(addiw) X(slliw) X(srliw) X(sraiw)                                      \
    X(addw) X(subw) X(sllw) X(srlw) X(sraw)                                  \
    X(mul) X(mulh) X(mulhsu) X(mulhu) X(div) X(divu) X(rem) X(remu)          \
    X(mulw) X(divw) X(divuw) X(remw) X(remuw)                                \
    X(fence) X(fence_i) X(ecall) X(ebreak) X(mret) X(sret) X(wfi)            \
    X(sfence_vma)                                                            \
    X(csrrw) X(csrrs) X(csrrc) X(csrrwi) X(csrrsi) X(csrrci)

#define EXEC_MEM_HANDLERS(X)                                                 \
    X(lb) X(lh) X(lw) X(ld) X(lbu) X(lhu) X(lwu)                             \
    X(sb) X(sh) X(sw) X(sd)                                                  \
    X(flw) X(fld) X(fsw) X(fsd)                                              \
    X(lr_w) X(sc_w) X(amoswap_w) X(amoadd_w) X(amoxor_w) X(amoand_w)         \
    X(amoor_w) X(amomin_w) X(amomax_w) X(amominu_w) X(amomaxu_w)             \
    X(lr_d) X(sc_d) X(amoswap_d) X(amoadd_d) X(amoxor_d) X(amoand_d)         \
    X(amoor_d) X(amomin_d) X(amomax_d) X(amominu_d) X(amomaxu_d)

#define EXEC_DECLARE(n) void ex_##n(struct hart *h, const struct dinsn *d);
EXEC_INT_HANDLERS(EXEC_DECLARE)
EXEC_MEM_HANDLERS(EXEC_DECLARE)
#undef EXEC_DECLARE

#endif
