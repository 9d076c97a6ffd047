/*
 * cpu/pmp.c — physical memory protection, 16 entries (priv spec 1.12
 * §3.7): pmpcfg0/pmpcfg2 (RV64 packs eight 8-bit configs per register;
 * the odd pmpcfg numbers do not exist), pmpaddr0-15, TOR/NA4/NAPOT, and
 * the L bit. Granularity is 4 bytes (G = 0), as on QEMU. The active entries
 * are precomputed into inclusive byte ranges whenever a CSR changes.
 */
#include "cpu/exec.h"

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_A 0x18
#define PMP_L 0x80
enum { PMP_OFF = 0, PMP_TOR = 1, PMP_NA4 = 2, PMP_NAPOT = 3 };

#define CSR_PMPCFG0  0x3a0
#define CSR_PMPADDR0 0x3b0
#define PMPADDR_MASK ((1ull << 54) - 1)     /* bits 55:2 of a 56-bit pa */
/* Bits 63:54 of pmpaddr read as 0 (priv 1.12 fig. 3.27; QEMU 7.2 keeps
 * them). */

void pmp_reset(struct hart *h)
{
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        h->pmpcfg[i] = 0;
        h->pmpaddr[i] = 0;
    }
    h->pmp_nrules = 0;
    h->pmp_locked = false;
}

static void pmp_rebuild(struct hart *h)
{
    unsigned n = 0;
    bool locked = false;
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        uint8_t cfg = h->pmpcfg[i];
        uint64_t a = h->pmpaddr[i] & PMPADDR_MASK, lo, hi;
        switch ((cfg & PMP_A) >> 3) {
        case PMP_TOR:
            lo = i ? (h->pmpaddr[i - 1] & PMPADDR_MASK) << 2 : 0;
            if ((a << 2) <= lo)
                continue;               /* empty range matches nothing */
            hi = (a << 2) - 1;
            break;
        case PMP_NA4:
            lo = a << 2;
            hi = lo + 3;
            break;
        case PMP_NAPOT: {
            unsigned t = (unsigned)__builtin_ctzll(~a);   /* trailing ones; a < 2^54 */
            if (t >= 54) {
                lo = 0;
                hi = ~0ull;
            } else {
                lo = (a & ~((1ull << t) - 1)) << 2;
                hi = lo + (1ull << (t + 3)) - 1;
            }
            break;
        }
        default:
            continue;
        }
        h->pmp_rules[n++] = (struct pmp_rule){
            .lo = lo, .hi = hi, .perm = cfg & (PMP_R | PMP_W | PMP_X),
            .locked = (cfg & PMP_L) != 0,
        };
        locked |= (cfg & PMP_L) != 0;
    }
    h->pmp_nrules = n;
    h->pmp_locked = locked;
    /* Permissions cached in the TLB may have changed. */
    mmu_flush_all(h);
}

bool pmp_check(const struct hart *h, uint64_t pa, uint64_t size,
               enum mmu_acc acc, unsigned priv)
{
    if (priv == PRV_M && !h->pmp_locked)
        return true;
    uint64_t last = pa + size - 1;
    for (unsigned i = 0; i < h->pmp_nrules; i++) {
        const struct pmp_rule *r = &h->pmp_rules[i];
        if (last < r->lo || pa > r->hi)
            continue;
        /* The lowest-numbered matching entry decides; an access only
         * partly inside it fails (§3.7.1.3). */
        if (pa < r->lo || last > r->hi || last < pa)
            return false;
        if (priv == PRV_M && !r->locked)
            return true;
        return (r->perm >> acc) & 1;
    }
    return priv == PRV_M;
}

unsigned pmp_page_perm(const struct hart *h, uint64_t pa, unsigned priv)
{
    unsigned p = 0;
    for (unsigned a = ACC_R; a <= ACC_X; a++)
        if (pmp_check(h, pa & PAGE_MASK, PAGE_SIZE, (enum mmu_acc)a, priv))
            p |= ACC_BIT(a);
    return p;
}

bool pmp_csr_read(const struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr == CSR_PMPCFG0 || csr == CSR_PMPCFG0 + 2) {
        unsigned base = (csr - CSR_PMPCFG0) * 4;
        uint64_t v = 0;
        for (unsigned i = 0; i < 8; i++)
            v |= (uint64_t)h->pmpcfg[base + i] << (8 * i);
        *val = v;
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + PMP_ENTRIES) {
        *val = h->pmpaddr[csr - CSR_PMPADDR0];
        return true;
    }
    return false;
}

static bool pmp_entry_locked(const struct hart *h, unsigned i)
{
    return h->pmpcfg[i] & PMP_L;
}

bool pmp_csr_write(struct hart *h, unsigned csr, uint64_t val)
{
    if (csr == CSR_PMPCFG0 || csr == CSR_PMPCFG0 + 2) {
        unsigned base = (csr - CSR_PMPCFG0) * 4;
        for (unsigned i = 0; i < 8; i++)
            if (!pmp_entry_locked(h, base + i))
                h->pmpcfg[base + i] = (uint8_t)(val >> (8 * i));
        pmp_rebuild(h);
        return true;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + PMP_ENTRIES) {
        unsigned i = csr - CSR_PMPADDR0;
        /* Locked, or the top of a locked TOR range (§3.7.1.4). */
        bool tor_next = i + 1 < PMP_ENTRIES && pmp_entry_locked(h, i + 1) &&
                        ((h->pmpcfg[i + 1] & PMP_A) >> 3) == PMP_TOR;
        if (!pmp_entry_locked(h, i) && !tor_next) {
            h->pmpaddr[i] = val & PMPADDR_MASK;
            pmp_rebuild(h);
        }
        return true;
    }
    return false;
}
