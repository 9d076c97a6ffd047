/*
 * cpu/exec_mem.c — loads, stores, FP loads/stores, and the A extension.
 *
 * Misaligned plain loads and stores succeed, as on QEMU 7.2. One that
 * crosses a page is split in two parts, each translated; a store checks
 * both translations before writing either part. Misaligned MMIO accesses
 * are split into single bytes. The tval of a fault is the original address
 * for the first part and the second page's first byte for the second part
 * (what QEMU 7.2 reports), always an address within the access.
 *
 * AMOs are host atomics on guest RAM; on a device, a bus read and write
 * (amo_device). Their faults are the spec's (priv §3.7, table 3.6): a
 * misaligned AMO or SC raises store/AMO address-misaligned (6), a
 * misaligned LR load address-misaligned (4); an AMO where nothing is
 * mapped a store/AMO access fault (7), one without permission a store/AMO
 * page fault (15). QEMU 7.2 reports AMO faults as load faults (4/5/13) and
 * lets a misaligned SC without a reservation fail silently: known
 * deviations the differential tests filter (docs/testing-cpu.md).
 * LR records (virtual address, loaded value);
 * SC succeeds when the reservation is for that address and a compare-and-
 * swap against the loaded value succeeds. Any SC, trap or xRET clears it.
 */
#include "cpu/exec.h"

/* ---- slow paths ---- */

/* Device read. A misaligned one is done as QEMU 7.2 does: the two aligned
 * `size` accesses around it, combined; *fault is the first address of the
 * access's part that failed (priv §3.1.16: "the portion of the access that
 * caused the fault"; QEMU 7.2 reports the aligned address below va when the
 * first half fails, a known deviation). */
static bool mmio_read(struct hart *h, uint64_t pa, uint64_t va, unsigned size,
                      uint64_t *v, uint64_t *fault)
{
    unsigned mis = (unsigned)(pa & (size - 1));
    if (!mis || (size & (size - 1)))
        return *fault = va, bus_read(&h->m->bus, pa, size, v);
    uint64_t lo = 0, hi = 0, a1 = pa - mis;
    if (!bus_read(&h->m->bus, a1, size, &lo))
        return *fault = va, false;
    if (!bus_read(&h->m->bus, a1 + size, size, &hi))
        return *fault = va - mis + size, false;
    *v = lo >> (8 * mis) | hi << (8 * (size - mis));
    return true;
}

static bool mmio_write(struct hart *h, uint64_t pa, unsigned size, uint64_t v)
{
    if ((pa & (size - 1)) == 0 && (size & (size - 1)) == 0)
        return bus_write(&h->m->bus, pa, size, v);
    for (unsigned i = 0; i < size; i++)
        if (!bus_write(&h->m->bus, pa + i, 1, (v >> (8 * i)) & 0xff))
            return false;
    return true;
}

/* Load `size` bytes (within one page) at va; false after trapping. */
static bool load_part(struct hart *h, uint64_t va, unsigned size,
                      uint64_t *out, uint64_t tval)
{
    uint8_t *host;
    uint64_t pa, v = 0;
    int r = mmu_access(h, va, size, ACC_R, h->data_midx, &host, &pa);
    if (r != MMU_OK) {
        hart_trap(h, (uint64_t)r, tval);
        return false;
    }
    if (host) {
        if ((va & (size - 1)) == 0 && (size & (size - 1)) == 0)
            v = mem_host_load(host, size);
        else
            for (unsigned i = 0; i < size; i++)
                v |= (uint64_t)__atomic_load_n(&host[i], __ATOMIC_RELAXED) << (8 * i);
    } else {
        uint64_t fault;
        if (!mmio_read(h, pa, va, size, &v, &fault)) {
            hart_trap(h, EXC_LOAD_ACCESS, fault);
            return false;
        }
    }
    *out = v;
    return true;
}

bool mem_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *out)
{
    unsigned off = (unsigned)(va & 0xfff);
    if (off + size <= PAGE_SIZE)
        return load_part(h, va, size, out, va);
    unsigned n1 = (unsigned)PAGE_SIZE - off;
    uint64_t lo, hi;
    if (!load_part(h, va, n1, &lo, va) ||
        !load_part(h, va + n1, size - n1, &hi, va + n1))
        return false;
    *out = lo | hi << (8 * n1);
    return true;
}

/* A translated store target: RAM (host) or device (pa). */
struct store_target {
    uint8_t *host;
    uint64_t pa;
};

static bool store_translate(struct hart *h, uint64_t va, unsigned size,
                            struct store_target *t, uint64_t tval)
{
    /* A page that holds decoded code keeps a "writable, but check" tag. */
    const struct tlb_entry *e =
        TLB_FIND(TLB_SET(h->dtlb, va), tag_wc, va & PAGE_MASK);
    if (e) {
        t->host = (uint8_t *)(uintptr_t)(va + e->addend);
        t->pa = (uint64_t)(t->host - h->m->ram) + h->m->ram_base;
        return true;
    }
    int r = mmu_access(h, va, size, ACC_W, h->data_midx, &t->host, &t->pa);
    if (r != MMU_OK) {
        hart_trap(h, (uint64_t)r, tval);
        return false;
    }
    return true;
}

static bool store_part(struct hart *h, const struct store_target *t,
                       unsigned size, uint64_t v, uint64_t tval)
{
    if (!t->host) {
        if (!mmio_write(h, t->pa, size, v)) {
            hart_trap(h, EXC_STORE_ACCESS, tval);
            return false;
        }
        return true;
    }
    if ((t->pa & (size - 1)) == 0 && (size & (size - 1)) == 0)
        mem_host_store(t->host, size, v);
    else
        for (unsigned i = 0; i < size; i++)
            __atomic_store_n(&t->host[i], (uint8_t)(v >> (8 * i)), __ATOMIC_RELAXED);
    if (dcache_has_code(h, t->pa))
        dcache_store(h, t->pa, size);
    return true;
}

bool mem_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
    unsigned off = (unsigned)(va & 0xfff);
    struct store_target t1, t2;
    if (off + size <= PAGE_SIZE)
        return store_translate(h, va, size, &t1, va) &&
               store_part(h, &t1, size, val, va);
    unsigned n1 = (unsigned)PAGE_SIZE - off;
    if (!store_translate(h, va, n1, &t1, va) ||
        !store_translate(h, va + n1, size - n1, &t2, va + n1))
        return false;
    return store_part(h, &t1, n1, val, va) &&
           store_part(h, &t2, size - n1, val >> (8 * n1), va + n1);
}

/* ---- integer loads and stores ---- */

/* The handlers inline only the TLB hit; a miss (or misaligned access)
 * tail-calls an out-of-line slow path, so the common case needs no stack
 * frame and ends in a jump to the next instruction. The slow paths make
 * h->pc and h->budget true first (they may trap or reach a device). */
/* Retire after a slow path: chain on, unless a device made the running
 * page invalid (then the loop finds the next instruction). */
static inline void slow_done(EXEC_ARGS, uint64_t page)
{
    if (likely(h->fetch_va == page)) {
        exec_goto(h, d + d->len / 2, budget);
        return;
    }
    exec_leave(h, h->pc + d->len, h->budget);
}

void exec_load_slow(EXEC_ARGS, uint64_t va, unsigned size, bool sign)
{
    uint64_t v, page = h->fetch_va;
    exec_sync(h, d, budget);
    if (!mem_load_slow(h, va, size, &v))
        return;
    if (sign && size < 8)
        v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
    h->x[d->rd] = v;
    slow_done(h, d, budget, page);
}

void exec_store_slow(EXEC_ARGS, uint64_t va, unsigned size)
{
    uint64_t page = h->fetch_va;
    exec_sync(h, d, budget);
    if (mem_store_slow(h, va, size, h->x[d->rs2]))
        slow_done(h, d, budget, page);
}

#define LOAD(def, name, size, type, sign)                                    \
    def(name)                                                                \
    {                                                                        \
        uint64_t va = h->x[d->rs1] + (uint64_t)(int64_t)d->imm;              \
        const struct tlb_entry *e = TLB_FIND(TLB_SET(h->dtlb, va), tag_r,    \
                                             va & (PAGE_MASK | (size - 1))); \
        if (likely(e != NULL)) {                                             \
            type v = (type)mem_host_load((const void *)(uintptr_t)(va + e->addend), size); \
            h->x[d->rd] = (uint64_t)v;                                       \
            NEXT();                                                          \
            return;                                                          \
        }                                                                    \
        exec_load_slow(h, d, budget, va, size, sign);                             \
    }
LOAD(EXEC_DEF4, lb, 1, int8_t, true)
LOAD(EXEC_DEF4, lh, 2, int16_t, true)
LOAD(EXEC_DEF2, lw, 4, int32_t, true)
LOAD(EXEC_DEF2, ld, 8, int64_t, true)
LOAD(EXEC_DEF4, lbu, 1, uint8_t, false)
LOAD(EXEC_DEF4, lhu, 2, uint16_t, false)
LOAD(EXEC_DEF4, lwu, 4, uint32_t, false)

#define STORE(def, name, size)                                               \
    def(name)                                                                \
    {                                                                        \
        uint64_t va = h->x[d->rs1] + (uint64_t)(int64_t)d->imm;              \
        const struct tlb_entry *e = TLB_FIND(TLB_SET(h->dtlb, va), tag_w,    \
                                             va & (PAGE_MASK | (size - 1))); \
        if (likely(e != NULL)) {                                             \
            mem_host_store((void *)(uintptr_t)(va + e->addend), size,        \
                           h->x[d->rs2]);                                    \
            NEXT();                                                          \
            return;                                                          \
        }                                                                    \
        exec_store_slow(h, d, budget, va, size);                                  \
    }
STORE(EXEC_DEF4, sb, 1)
STORE(EXEC_DEF4, sh, 2)
STORE(EXEC_DEF2, sw, 4)
STORE(EXEC_DEF2, sd, 8)

/* ---- FP loads and stores (F/D; illegal while mstatus.FS is Off) ---- */

void ex_flw(struct hart *h, const struct dinsn *d)
{
    uint64_t v;
    if (!fp_enabled(h)) {
        hart_illegal(h, d);
        return;
    }
    if (!mem_load(h, h->x[d->rs1] + (uint64_t)(int64_t)d->imm, 4, &v))
        return;
    h->f[d->rd] = v | 0xffffffff00000000ull;    /* NaN-boxed */
    fp_set_dirty(h);
    h->pc += d->len;
}

void ex_fld(struct hart *h, const struct dinsn *d)
{
    uint64_t v;
    if (!fp_enabled(h)) {
        hart_illegal(h, d);
        return;
    }
    if (!mem_load(h, h->x[d->rs1] + (uint64_t)(int64_t)d->imm, 8, &v))
        return;
    h->f[d->rd] = v;
    fp_set_dirty(h);
    h->pc += d->len;
}

void ex_fsw(struct hart *h, const struct dinsn *d)
{
    if (!fp_enabled(h)) {
        hart_illegal(h, d);
        return;
    }
    if (mem_store(h, h->x[d->rs1] + (uint64_t)(int64_t)d->imm, 4,
                  (uint32_t)h->f[d->rs2]))
        h->pc += d->len;
}

void ex_fsd(struct hart *h, const struct dinsn *d)
{
    if (!fp_enabled(h)) {
        hart_illegal(h, d);
        return;
    }
    if (mem_store(h, h->x[d->rs1] + (uint64_t)(int64_t)d->imm, 8,
                  h->f[d->rs2]))
        h->pc += d->len;
}

/* ---- A extension ---- */

static inline uint64_t amo_sext(uint64_t v, unsigned size)
{
    return size == 4 ? (uint64_t)(int64_t)(int32_t)v : v;
}

/* An LR, SC or AMO on a device (or the boot ROM): QEMU 7.2 performs it as a
 * bus read and a bus write, and the spec leaves it to the platform whether
 * an I/O region supports atomics (priv §3.6.3.1), so we do the same. It is
 * not atomic against other harts' accesses to the device. Completes the
 * instruction (rd, reservation, pc) or traps. */
static void amo_device(struct hart *h, const struct dinsn *d, uint64_t va,
                       uint64_t pa, unsigned size)
{
    unsigned f5 = d->raw >> 27;
    uint64_t mask = size == 8 ? ~0ull : 0xffffffffull;
    uint64_t old, src = h->x[d->rs2] & mask, nv = src;
    if (!bus_read(&h->m->bus, pa, size, &old)) {
        hart_trap(h, f5 == 0x02 ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS, va);
        return;
    }
    old &= mask;
    int64_t so = (int64_t)amo_sext(old, size), ss = (int64_t)amo_sext(src, size);
    bool write = true;
    switch (f5) {
    case 0x02: write = false; break;                                /* LR */
    case 0x03: write = old == (h->res_val & mask); break;           /* SC */
    case 0x00: nv = old + src; break;
    case 0x04: nv = old ^ src; break;
    case 0x08: nv = old | src; break;
    case 0x0c: nv = old & src; break;
    case 0x10: nv = so < ss ? old : src; break;
    case 0x14: nv = so > ss ? old : src; break;
    case 0x18: nv = old < src ? old : src; break;
    case 0x1c: nv = old > src ? old : src; break;
    default: break;                                                 /* swap */
    }
    if (write && !bus_write(&h->m->bus, pa, size, nv & mask)) {
        hart_trap(h, EXC_STORE_ACCESS, va);
        return;
    }
    if (f5 == 0x02) {
        h->res_valid = true;
        h->res_va = va;
        h->res_val = old;
    }
    h->x[d->rd] = f5 == 0x03 ? !write : amo_sext(old, size);
    h->pc += d->len;
}

/* Host pointer for an aligned atomic access at va in RAM, or NULL when the
 * instruction is done: it trapped, or it was on a device (amo_device).
 * AMOs and SC need write (and read) permission; LR needs read. Their faults
 * are store/AMO faults (priv §3.7, table 3.6; A-extension chapter: a
 * misaligned LR/SC/AMO raises an exception); QEMU 7.2 reports AMOs as
 * loads (4/5/13), a known deviation (docs/testing-cpu.md). */
static void *amo_ptr(struct hart *h, const struct dinsn *d, uint64_t va,
                     unsigned size, bool lr)
{
    if (va & (size - 1)) {
        hart_trap(h, lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED, va);
        return NULL;
    }
    const struct tlb_entry *set = TLB_SET(h->dtlb, va);
    const struct tlb_entry *e = lr ? TLB_FIND(set, tag_r, va & PAGE_MASK)
                                   : TLB_FIND(set, tag_w, va & PAGE_MASK);
    if (likely(e != NULL))
        return (void *)(uintptr_t)(va + e->addend);
    uint8_t *host;
    uint64_t pa;
    int r = mmu_access(h, va, size, lr ? ACC_R : ACC_W, h->data_midx, &host, &pa);
    if (r != MMU_OK) {
        hart_trap(h, (uint64_t)r, va);
        return NULL;
    }
    unsigned priv = h->data_midx == TLB_MODE_M ? PRV_M :
                    h->data_midx == TLB_MODE_U ? PRV_U : PRV_S;
    if (!lr && !pmp_check(h, pa, size, ACC_R, priv)) {
        hart_trap(h, EXC_STORE_ACCESS, va);
        return NULL;
    }
    if (!host) {
        amo_device(h, d, va, pa, size);
        return NULL;
    }
    return host;
}

/* After an AMO or SC wrote guest RAM at p: keep decoded code coherent. */
static void amo_written(struct hart *h, const void *p, unsigned size)
{
    uint64_t pa = (uint64_t)((const uint8_t *)p - h->m->ram) + h->m->ram_base;
    if (dcache_has_code(h, pa))
        dcache_store(h, pa, size);
}

#define ADDR() (h->x[d->rs1])

void ex_lr_w(struct hart *h, const struct dinsn *d)
{
    uint32_t *p = amo_ptr(h, d, ADDR(), 4, true);
    if (!p)
        return;
    uint32_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    h->res_valid = true;
    h->res_va = ADDR();
    h->res_val = v;
    h->x[d->rd] = (uint64_t)(int64_t)(int32_t)v;
    h->pc += d->len;
}

void ex_lr_d(struct hart *h, const struct dinsn *d)
{
    uint64_t *p = amo_ptr(h, d, ADDR(), 8, true);
    if (!p)
        return;
    uint64_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    h->res_valid = true;
    h->res_va = ADDR();
    h->res_val = v;
    h->x[d->rd] = v;
    h->pc += d->len;
}

/* SC: like QEMU, an SC whose address does not match the reservation fails
 * without touching memory (so it cannot page- or access-fault); but a
 * misaligned SC always traps, as the A-extension chapter requires (QEMU 7.2
 * lets it fail silently, a known deviation). */
static bool sc_misaligned(struct hart *h, uint64_t va, unsigned size)
{
    if (!(va & (size - 1)))
        return false;
    hart_trap(h, EXC_STORE_MISALIGNED, va);
    return true;
}

void ex_sc_w(struct hart *h, const struct dinsn *d)
{
    uint64_t va = ADDR();
    if (sc_misaligned(h, va, 4))
        return;
    bool match = h->res_valid && h->res_va == va;
    h->res_valid = false;
    if (match) {
        uint32_t *p = amo_ptr(h, d, va, 4, false);
        if (!p)
            return;
        uint32_t expect = (uint32_t)h->res_val;
        match = __atomic_compare_exchange_n(p, &expect, (uint32_t)h->x[d->rs2],
                                            false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST);
        if (match)
            amo_written(h, p, 4);
    }
    h->x[d->rd] = !match;
    h->pc += d->len;
}

void ex_sc_d(struct hart *h, const struct dinsn *d)
{
    uint64_t va = ADDR();
    if (sc_misaligned(h, va, 8))
        return;
    bool match = h->res_valid && h->res_va == va;
    h->res_valid = false;
    if (match) {
        uint64_t *p = amo_ptr(h, d, va, 8, false);
        if (!p)
            return;
        uint64_t expect = h->res_val;
        match = __atomic_compare_exchange_n(p, &expect, h->x[d->rs2], false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        if (match)
            amo_written(h, p, 8);
    }
    h->x[d->rd] = !match;
    h->pc += d->len;
}

/* AMOs with a host fetch-op builtin. */
#define AMO_FETCH(name, type, stype, op)                                     \
    void ex_##name(struct hart *h, const struct dinsn *d)                    \
    {                                                                        \
        type *p = amo_ptr(h, d, ADDR(), sizeof(type), false);                \
        if (!p)                                                              \
            return;                                                          \
        type old = op(p, (type)h->x[d->rs2], __ATOMIC_SEQ_CST);              \
        amo_written(h, p, sizeof(type));                                     \
        h->x[d->rd] = (uint64_t)(int64_t)(stype)old;                         \
        h->pc += d->len;                                                     \
    }
AMO_FETCH(amoswap_w, uint32_t, int32_t, __atomic_exchange_n)
AMO_FETCH(amoadd_w, uint32_t, int32_t, __atomic_fetch_add)
AMO_FETCH(amoxor_w, uint32_t, int32_t, __atomic_fetch_xor)
AMO_FETCH(amoand_w, uint32_t, int32_t, __atomic_fetch_and)
AMO_FETCH(amoor_w, uint32_t, int32_t, __atomic_fetch_or)
AMO_FETCH(amoswap_d, uint64_t, int64_t, __atomic_exchange_n)
AMO_FETCH(amoadd_d, uint64_t, int64_t, __atomic_fetch_add)
AMO_FETCH(amoxor_d, uint64_t, int64_t, __atomic_fetch_xor)
AMO_FETCH(amoand_d, uint64_t, int64_t, __atomic_fetch_and)
AMO_FETCH(amoor_d, uint64_t, int64_t, __atomic_fetch_or)

/* Min/max: a compare-and-swap loop; `cmp` is the signed or unsigned type. */
#define AMO_MINMAX(name, type, stype, cmp, pick_new)                         \
    void ex_##name(struct hart *h, const struct dinsn *d)                    \
    {                                                                        \
        type *p = amo_ptr(h, d, ADDR(), sizeof(type), false);                \
        if (!p)                                                              \
            return;                                                          \
        type src = (type)h->x[d->rs2];                                       \
        type old = __atomic_load_n(p, __ATOMIC_RELAXED);                     \
        for (;;) {                                                           \
            cmp a = (cmp)old, b = (cmp)src;                                  \
            type nv = (pick_new) ? src : old;                                \
            if (__atomic_compare_exchange_n(p, &old, nv, false,              \
                                            __ATOMIC_SEQ_CST,                \
                                            __ATOMIC_RELAXED))               \
                break;                                                       \
        }                                                                    \
        amo_written(h, p, sizeof(type));                                     \
        h->x[d->rd] = (uint64_t)(int64_t)(stype)old;                         \
        h->pc += d->len;                                                     \
    }
AMO_MINMAX(amomin_w, uint32_t, int32_t, int32_t, b < a)
AMO_MINMAX(amomax_w, uint32_t, int32_t, int32_t, b > a)
AMO_MINMAX(amominu_w, uint32_t, int32_t, uint32_t, b < a)
AMO_MINMAX(amomaxu_w, uint32_t, int32_t, uint32_t, b > a)
AMO_MINMAX(amomin_d, uint64_t, int64_t, int64_t, b < a)
AMO_MINMAX(amomax_d, uint64_t, int64_t, int64_t, b > a)
AMO_MINMAX(amominu_d, uint64_t, int64_t, uint64_t, b < a)
AMO_MINMAX(amomaxu_d, uint64_t, int64_t, uint64_t, b > a)
