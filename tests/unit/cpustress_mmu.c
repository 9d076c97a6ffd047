/*
 * tests/unit/cpustress_mmu.c — Sv39/Sv48 translation, black box (priv spec
 * 1.12 §4.3–4.5): each permission rule (R/W/X, U with and without SUM,
 * MXR, W-without-R), misaligned superpages, reserved PTE bits, canonical
 * addresses, invalid and non-leaf PTEs, hardware A/D updates, sfence.vma
 * and satp switches, access faults for PTEs outside RAM, MPRV.
 *
 * Page tables are built in RAM by the host before the hart runs. Code
 * runs at its physical address through an identity 1 GiB page; the page
 * under test maps VA 0x40000000 to CT_DATA. Faults trap to M.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/cputest.h"

#define VA     0x40000000ull
#define CODE2  (CT_CODE + 0x1000)
#define MAGIC  0x1122334455667788ull
#define NONE   ((uint64_t)-1)   /* "no fault": the program's final ecall */

#define RWXAD  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define SATP_MODE(levels) ((levels) == 3 ? SATP_SV39 : SATP_SV48)

enum kind { LOAD, STORE, EXEC };

struct mres {
    uint64_t cause, epc, tval, a0;
};

/* Build a root with the identity code gigapage (U set when prv is U), turn
 * translation on and enter `prv` at CODE2; returns the root. */
static uint64_t mmu_begin(struct ct *t, unsigned levels, unsigned prv,
                          uint64_t mstatus_set)
{
    uint64_t root = ct_page(t);
    ct_map(t, root, levels, CT_RAM_BASE, CT_RAM_BASE, 2,
           RWXAD | (prv == PRV_U ? PTE_U : 0));
    ct_w64(t, CT_DATA, MAGIC);
    ct_csrw_imm(t, CSR_SATP, SATP_MODE(levels) | root >> 12);
    ct_emit(t, rv_sfence_vma(0, 0));
    if (mstatus_set) {
        ct_li(t, T0, mstatus_set);
        ct_emit(t, rv_csrs(CSR_MSTATUS, T0));
    }
    ct_enter(t, prv, CODE2);
    ct_org(t, CODE2);
    return root;
}

/* Emit the access of `k` at `va`, then ecall. */
static void emit_access(struct ct *t, enum kind k, uint64_t va)
{
    ct_li(t, S0, va);
    if (k == LOAD) {
        ct_emit(t, rv_ld(A0, S0, 0));
    } else if (k == STORE) {
        ct_li(t, A1, 0x55);
        ct_emit(t, rv_sd(A1, S0, 0));
    } else {
        ct_emit(t, rv_jalr(ZERO, S0, 0));
    }
    ct_emit(t, rv_ecall());
}

static struct mres mmu_finish(struct ct *t, unsigned prv)
{
    struct mres r;
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000), "did not halt; pc 0x%llx",
              (unsigned long long)hart_get_pc(t->h));
    r.cause = ct_x(t, CT_RCAUSE);
    r.epc = ct_x(t, CT_REPC);
    r.tval = ct_x(t, CT_RTVAL);
    r.a0 = ct_x(t, A0);
    uint64_t ok = prv == PRV_S ? EXC_ECALL_S : EXC_ECALL_U;
    if (r.cause == ok)
        r.cause = NONE;
    return r;
}

/* Map VA → CT_DATA with `pte` (a full PTE value, or flags for a 4 KiB
 * page when pte has no PPN) at `level`, access it with `k` from `prv`. */
static struct mres try_pte(unsigned levels, unsigned prv, uint64_t mstatus_set,
                           unsigned level, uint64_t pte, enum kind k,
                           uint64_t va)
{
    struct ct *t = ct_new();
    cr_assert_not_null(t);
    uint64_t root = mmu_begin(t, levels, prv, mstatus_set);
    uint64_t slot = ct_map(t, root, levels, va, CT_DATA, level, 0);
    ct_w64(t, slot, pte);
    /* For EXEC, the target page holds an ecall at its start. */
    if (k == EXEC)
        memcpy(ct_ptr(t, CT_DATA), &(uint32_t){ rv_ecall() }, 4);
    emit_access(t, k, va);
    struct mres r = mmu_finish(t, prv);
    ct_free(t);
    return r;
}

static uint64_t leaf(uint64_t flags) { return ct_pte(CT_DATA, flags); }

/* Expect `k` by `prv` on a PTE to fault with `cause` (tval = va) or not. */
static void expect(const char *what, unsigned levels, unsigned prv,
                   uint64_t mst, unsigned level, uint64_t pte, enum kind k,
                   uint64_t cause)
{
    struct mres r = try_pte(levels, prv, mst, level, pte, k, VA);
    cr_expect_eq(r.cause, cause, "%s: cause %lld, want %lld", what,
                 (long long)r.cause, (long long)cause);
    if (cause != NONE && r.cause == cause)
        cr_expect_eq(r.tval, VA, "%s: tval 0x%llx", what, (unsigned long long)r.tval);
    if (cause == NONE && k == LOAD && r.cause == NONE)
        cr_expect_eq(r.a0, MAGIC, "%s: loaded 0x%llx", what, (unsigned long long)r.a0);
}

#define AD (PTE_A | PTE_D | PTE_V)

Test(mmu, sv39_rwx_permissions)
{
    expect("load R", 3, PRV_S, 0, 0, leaf(AD | PTE_R), LOAD, NONE);
    expect("store R-only", 3, PRV_S, 0, 0, leaf(AD | PTE_R), STORE, EXC_STORE_PAGE);
    expect("store RW", 3, PRV_S, 0, 0, leaf(AD | PTE_R | PTE_W), STORE, NONE);
    expect("load X-only", 3, PRV_S, 0, 0, leaf(AD | PTE_X), LOAD, EXC_LOAD_PAGE);
    expect("exec RW", 3, PRV_S, 0, 0, leaf(AD | PTE_R | PTE_W), EXEC, EXC_INSN_PAGE);
    expect("exec X", 3, PRV_S, 0, 0, leaf(AD | PTE_X), EXEC, NONE);
}

Test(mmu, mxr_makes_executable_readable)
{
    expect("load X-only MXR", 3, PRV_S, CT_MXR, 0, leaf(AD | PTE_X), LOAD, NONE);
    expect("store X-only MXR", 3, PRV_S, CT_MXR, 0, leaf(AD | PTE_X), STORE,
           EXC_STORE_PAGE);
}

/* R=0, W=1 is reserved (§4.3.1 table 4.5): a page fault for any access. */
Test(mmu, write_without_read_is_page_fault)
{
    expect("load W", 3, PRV_S, 0, 0, leaf(AD | PTE_W), LOAD, EXC_LOAD_PAGE);
    expect("store W", 3, PRV_S, 0, 0, leaf(AD | PTE_W), STORE, EXC_STORE_PAGE);
    expect("store WX", 3, PRV_S, 0, 0, leaf(AD | PTE_W | PTE_X), STORE, EXC_STORE_PAGE);
    expect("exec WX", 3, PRV_S, 0, 0, leaf(AD | PTE_W | PTE_X), EXEC, EXC_INSN_PAGE);
}

/* U pages from S: only with SUM, and never executable (§4.1.1.2). */
Test(mmu, user_pages_from_supervisor)
{
    uint64_t u = leaf(AD | PTE_U | PTE_R | PTE_W | PTE_X);
    expect("S load U no SUM", 3, PRV_S, 0, 0, u, LOAD, EXC_LOAD_PAGE);
    expect("S store U no SUM", 3, PRV_S, 0, 0, u, STORE, EXC_STORE_PAGE);
    expect("S load U SUM", 3, PRV_S, CT_SUM, 0, u, LOAD, NONE);
    expect("S store U SUM", 3, PRV_S, CT_SUM, 0, u, STORE, NONE);
    expect("S exec U SUM", 3, PRV_S, CT_SUM, 0, u, EXEC, EXC_INSN_PAGE);
}

Test(mmu, supervisor_pages_from_user)
{
    uint64_t s = leaf(AD | PTE_R | PTE_W | PTE_X);
    expect("U load S", 3, PRV_U, 0, 0, s, LOAD, EXC_LOAD_PAGE);
    expect("U store S", 3, PRV_U, 0, 0, s, STORE, EXC_STORE_PAGE);
    expect("U exec S", 3, PRV_U, 0, 0, s, EXEC, EXC_INSN_PAGE);
    expect("U load U", 3, PRV_U, 0, 0, s | PTE_U, LOAD, NONE);
    expect("U exec U", 3, PRV_U, 0, 0, s | PTE_U, EXEC, NONE);
}

Test(mmu, invalid_and_malformed_ptes)
{
    expect("V=0", 3, PRV_S, 0, 0, leaf(PTE_R | PTE_W | PTE_A | PTE_D), LOAD,
           EXC_LOAD_PAGE);
    /* A pointer PTE at the last level is not a leaf: page fault. */
    expect("non-leaf at level 0", 3, PRV_S, 0, 0, leaf(PTE_V), LOAD, EXC_LOAD_PAGE);
    /* Reserved bits 60:54, and N (63) / PBMT (62:61) without Svnapot and
     * Svpbmt (§4.4.1). */
    static const unsigned bits[] = { 54, 57, 60, 61, 62, 63 };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "PTE bit %u set", bits[i]);
        expect(what, 3, PRV_S, 0, 0, leaf(AD | PTE_R) | 1ull << bits[i], LOAD,
               EXC_LOAD_PAGE);
    }
}

/* Superpages: 2 MiB leaf; misaligned PPN → page fault (§4.3.2 step 6). */
Test(mmu, superpages_and_misaligned_superpages)
{
    /* VA 0x40000000 → PA 0x80000000 as a 2 MiB page: CT_DATA's offset. */
    struct ct *t = ct_new();
    uint64_t root = mmu_begin(t, 3, PRV_S, 0);
    ct_map(t, root, 3, VA, CT_RAM_BASE, 1, AD | PTE_R);
    emit_access(t, LOAD, VA + (CT_DATA - CT_RAM_BASE));
    struct mres r = mmu_finish(t, PRV_S);
    cr_expect_eq(r.cause, NONE, "2 MiB page: cause %lld", (long long)r.cause);
    cr_expect_eq(r.a0, MAGIC);
    ct_free(t);

    expect("misaligned 2 MiB", 3, PRV_S, 0, 1,
           ct_pte(CT_RAM_BASE + 0x1000, AD | PTE_R), LOAD, EXC_LOAD_PAGE);
    expect("misaligned 1 GiB", 3, PRV_S, 0, 2,
           ct_pte(CT_RAM_BASE + 0x200000, AD | PTE_R), LOAD, EXC_LOAD_PAGE);
}

/* Bits 63:39 must equal bit 38 in Sv39, 63:48 equal 47 in Sv48. */
Test(mmu, non_canonical_addresses_fault)
{
    static const struct { unsigned levels; uint64_t va; } c[] = {
        { 3, 0x0000004000000000ull }, { 3, 0x8000000040000000ull },
        { 3, 0xffffffc040000000ull & ~(1ull << 38) },
        { 4, 0x0000800000000000ull }, { 4, 0xff00000040000000ull },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct ct *t = ct_new();
        mmu_begin(t, c[i].levels, PRV_S, 0);
        emit_access(t, LOAD, c[i].va);
        struct mres r = mmu_finish(t, PRV_S);
        cr_expect_eq(r.cause, EXC_LOAD_PAGE, "Sv%u va 0x%llx: cause %lld",
                     c[i].levels == 3 ? 39 : 48, (unsigned long long)c[i].va,
                     (long long)r.cause);
        cr_expect_eq(r.tval, c[i].va, "tval 0x%llx", (unsigned long long)r.tval);
        ct_free(t);
    }
}

Test(mmu, sv48_four_level_walk)
{
    expect("Sv48 load", 4, PRV_S, 0, 0, leaf(AD | PTE_R), LOAD, NONE);
    expect("Sv48 store R-only", 4, PRV_S, 0, 0, leaf(AD | PTE_R), STORE, EXC_STORE_PAGE);
    expect("Sv48 U from S", 4, PRV_S, 0, 0, leaf(AD | PTE_R | PTE_U), LOAD, EXC_LOAD_PAGE);
    /* A high canonical Sv48 address with a 4-level mapping. */
    const uint64_t hi = 0xffff800000000000ull;
    struct mres r = try_pte(4, PRV_S, 0, 0, leaf(AD | PTE_R), LOAD, hi);
    cr_expect_eq(r.cause, NONE);
    cr_expect_eq(r.a0, MAGIC);
}

/* Fault details: tval = faulting VA and epc for a fetch fault = the VA. */
Test(mmu, fetch_fault_epc_and_tval)
{
    struct mres r = try_pte(3, PRV_S, 0, 0, leaf(AD | PTE_R), EXEC, VA + 0x10);
    cr_expect_eq(r.cause, EXC_INSN_PAGE);
    cr_expect_eq(r.epc, VA + 0x10);
    cr_expect_eq(r.tval, VA + 0x10);
}

/* The hardware sets A on access and D on store, in the PTE in memory. */
Test(mmu, accessed_and_dirty_bits_set_by_hardware)
{
    for (int k = LOAD; k <= STORE; k++) {
        struct ct *t = ct_new();
        uint64_t root = mmu_begin(t, 3, PRV_S, 0);
        uint64_t slot = ct_map(t, root, 3, VA, CT_DATA, 0,
                               PTE_V | PTE_R | PTE_W);
        emit_access(t, (enum kind)k, VA);
        struct mres r = mmu_finish(t, PRV_S);
        cr_expect_eq(r.cause, NONE, "%s with A=D=0: cause %lld",
                     k == LOAD ? "load" : "store", (long long)r.cause);
        uint64_t pte = ct_r64(t, slot);
        cr_expect(pte & PTE_A, "A not set after %s", k == LOAD ? "load" : "store");
        if (k == LOAD)
            cr_expect_not(pte & PTE_D, "D set by a load");
        else
            cr_expect(pte & PTE_D, "D not set by a store");
        cr_expect_eq(pte >> 10, CT_DATA >> 12, "PPN changed");
        ct_free(t);
    }
}

/* After S rewrites a PTE and runs sfence.vma, the new mapping is used. */
Test(mmu, sfence_vma_makes_pte_change_visible)
{
    struct ct *t = ct_new();
    uint64_t root = mmu_begin(t, 3, PRV_S, 0);
    uint64_t slot = ct_map(t, root, 3, VA, CT_DATA, 0, AD | PTE_R);
    ct_w64(t, CT_DATA + 0x1000, 0xabcdef);
    ct_li(t, S0, VA);
    ct_li(t, S1, slot);
    ct_li(t, S2, ct_pte(CT_DATA + 0x1000, AD | PTE_R));
    ct_asm(t, rv_ld(A0, S0, 0), rv_sd(S2, S1, 0), rv_sfence_vma(S0, ZERO),
           rv_ld(A1, S0, 0), rv_ecall());
    struct mres r = mmu_finish(t, PRV_S);
    cr_expect_eq(r.cause, NONE);
    cr_expect_eq(ct_x(t, A0), MAGIC);
    cr_expect_eq(ct_x(t, A1), 0xabcdef, "stale translation after sfence.vma");
    ct_free(t);
}

/* A satp write switches address spaces (with sfence.vma). */
Test(mmu, satp_switch_changes_translation)
{
    struct ct *t = ct_new();
    uint64_t root = mmu_begin(t, 3, PRV_S, 0);
    ct_map(t, root, 3, VA, CT_DATA, 0, AD | PTE_R);
    uint64_t root2 = ct_page(t);
    ct_map(t, root2, 3, CT_RAM_BASE, CT_RAM_BASE, 2, RWXAD);
    ct_map(t, root2, 3, VA, CT_DATA + 0x1000, 0, AD | PTE_R);
    ct_w64(t, CT_DATA + 0x1000, 0x5151);
    ct_li(t, S0, VA);
    ct_li(t, S1, SATP_SV39 | root2 >> 12);
    ct_asm(t, rv_ld(A0, S0, 0), rv_csrw(CSR_SATP, S1), rv_sfence_vma(0, 0),
           rv_ld(A1, S0, 0), rv_ecall());
    struct mres r = mmu_finish(t, PRV_S);
    cr_expect_eq(r.cause, NONE);
    cr_expect_eq(ct_x(t, A0), MAGIC);
    cr_expect_eq(ct_x(t, A1), 0x5151);
    ct_free(t);
}

/* A leaf or a table pointer outside RAM: access fault of the access type,
 * tval = the virtual address (§4.3.2 steps 2 and 8). */
Test(mmu, pte_pointing_outside_ram_is_access_fault)
{
    expect("leaf → 0x40000000", 3, PRV_S, 0, 0, ct_pte(0x40000000ull, AD | PTE_R | PTE_W),
           LOAD, EXC_LOAD_ACCESS);
    expect("leaf → 0x40000000 store", 3, PRV_S, 0, 0,
           ct_pte(0x40000000ull, AD | PTE_R | PTE_W), STORE, EXC_STORE_ACCESS);
    expect("leaf → 0x40000000 exec", 3, PRV_S, 0, 0,
           ct_pte(0x40000000ull, AD | PTE_X), EXEC, EXC_INSN_ACCESS);

    /* Level-1 pointer to a "table" outside RAM. */
    struct ct *t = ct_new();
    uint64_t root = mmu_begin(t, 3, PRV_S, 0);
    uint64_t slot = ct_map(t, root, 3, VA, CT_DATA, 1, 0);
    ct_w64(t, slot, ct_pte(0x40000000ull, PTE_V));
    emit_access(t, LOAD, VA);
    struct mres r = mmu_finish(t, PRV_S);
    cr_expect_eq(r.cause, EXC_LOAD_ACCESS, "walk outside RAM: cause %lld",
                 (long long)r.cause);
    cr_expect_eq(r.tval, VA);
    ct_free(t);
}

/* Page faults delegated with medeleg go to S with stval = VA. */
Test(mmu, page_fault_delegated_to_s)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MEDELEG, 1u << EXC_LOAD_PAGE);
    uint64_t root = mmu_begin(t, 3, PRV_S, 0);
    ct_map(t, root, 3, VA, CT_DATA, 0, AD | PTE_X);
    emit_access(t, LOAD, VA + 8);
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000));
    cr_expect_eq(hart_get_priv(t->h), PRV_S);
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_LOAD_PAGE);
    cr_expect_eq(ct_x(t, CT_RTVAL), VA + 8);
    ct_free(t);
}

/* MPRV=1 with MPP=S: M-mode loads/stores translate as S (§3.1.6.3). */
Test(mmu, mprv_translates_m_mode_data_accesses)
{
    struct ct *t = ct_new();
    uint64_t root = ct_page(t);
    ct_map(t, root, 3, CT_RAM_BASE, CT_RAM_BASE, 2, RWXAD);
    ct_map(t, root, 3, VA, CT_DATA, 0, AD | PTE_R);
    ct_w64(t, CT_DATA, MAGIC);
    ct_csrw_imm(t, CSR_SATP, SATP_SV39 | root >> 12);
    ct_li(t, S0, VA);
    ct_li(t, T1, CT_MPRV | 1ull << 11);
    ct_asm(t, rv_csrs(CSR_MSTATUS, T1), rv_ld(A0, S0, 0),
           rv_csrc(CSR_MSTATUS, T1), rv_ecall());
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 2000));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ECALL_M, "cause %llu",
                 (unsigned long long)ct_x(t, CT_RCAUSE));
    cr_expect_eq(ct_x(t, A0), MAGIC);
    ct_free(t);
}
