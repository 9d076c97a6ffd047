/*
 * cpu/hart.c — a hart's life: creation and reset, the run loop (batches of
 * instructions dispatched through the decode cache), interrupt and timer
 * checks at batch boundaries, WFI sleep, and the cross-thread calls
 * (interrupt lines, mtimecmp, kick, stop).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/exec.h"
#include "util/clock.h"
#include "util/log.h"

/* Instructions per batch: interrupts, kicks and timers are noticed within
 * this many instructions. */
#define BATCH 2048

const char *hart_isa_string(void)
{
    return "rv64imafdc_zicsr_zifencei_zicntr_zihintpause_zba_zbb_zbc_zbs_sstc";
}

struct hart *hart_create(struct machine *m, unsigned hartid)
{
    /* The TLB wants cache-line alignment (struct hart is over-aligned). */
    size_t size = (sizeof(struct hart) + 63) & ~(size_t)63;
    struct hart *h = aligned_alloc(64, size);
    if (!h)
        return NULL;
    memset(h, 0, size);
    h->m = m;
    h->hartid = hartid;
    h->code_pages = (m->ram_size + PAGE_SIZE - 1) >> 12;
    for (unsigned i = 0; i < DCACHE_SLOTS; i++)
        h->dcache_tag[i] = TLB_INVALID;
    h->code_map = calloc(h->code_pages ? h->code_pages : 1, 1);
    h->stop_page = malloc(DPAGE_SLOTS * sizeof *h->stop_page);
    if (h->stop_page)
        for (unsigned i = 0; i < DPAGE_SLOTS; i++)
            h->stop_page[i] = (struct dinsn){ .run = ex_stop,
                                              .off = (uint16_t)(2 * i) };
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    bool ok = h->code_map && h->stop_page && pthread_mutex_init(&h->lock, NULL) == 0 &&
              pthread_cond_init(&h->cond, &ca) == 0 &&
              pthread_cond_init(&h->park_cond, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok) {
        free(h->code_map);
        free(h->stop_page);
        free(h);
        return NULL;
    }
    hart_reset(h, 0x1000, 0, 0, 0);
    return h;
}

void hart_destroy(struct hart *h)
{
    if (!h)
        return;
    dcache_free(h);
    free(h->code_map);
    free(h->stop_page);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    pthread_cond_destroy(&h->park_cond);
    free(h);
}

void hart_reset(struct hart *h, uint64_t pc, uint64_t a0, uint64_t a1,
                uint64_t a2)
{
    memset(h->x, 0, sizeof h->x);
    memset(h->f, 0, sizeof h->f);
    h->x[10] = a0;
    h->x[11] = a1;
    h->x[12] = a2;
    h->pc = pc;
    h->priv = PRV_M;
    h->fflags = h->frm = 0;
    h->mstatus = (2ull << 32) | (2ull << 34);     /* UXL = SXL = 64 */
    h->medeleg = h->mideleg = h->mie = 0;
    /* Device lines (MSIP, MEIP, SEIP) keep their level; the rest clears. */
    atomic_fetch_and(&h->mip, MIP_MSIP | MIP_MEIP | MIP_SEIP);
    h->seip_sw = false;
    h->mtvec = h->stvec = h->mepc = h->sepc = 0;
    h->mcause = h->scause = h->mtval = h->stval = 0;
    h->mscratch = h->sscratch = 0;
    h->mcounteren = h->scounteren = h->mcountinhibit = 0;
    h->menvcfg = h->senvcfg = 0;
    h->mcycle_off = h->minstret_off = 0;
    h->stimecmp = 0;
    h->stimecmp_armed = false;
    atomic_store(&h->mtimecmp, 0);      /* as QEMU: MTIP pends at reset */
    h->res_valid = false;
    h->wfi = false;
    /* A reset hart is runnable again: the previous run's stop request
     * (the reboot that led here) must not end the next hart_thread(). */
    atomic_store(&h->stop, false);
    atomic_store(&h->kicked, false);
    pmp_reset(h);
    mmu_set_satp(h, 0);
    dcache_flush(h);
    hart_mode_changed(h);
}

void hart_mode_changed(struct hart *h)
{
    unsigned dpriv = h->priv;
    if (dpriv == PRV_M && (h->mstatus & MSTATUS_MPRV))
        dpriv = (unsigned)((h->mstatus & MSTATUS_MPP) >> 11);
    h->data_midx = mmu_midx(h, dpriv);
    h->dtlb = h->tlb[h->data_midx];
    /* Fetch permissions do not depend on SUM or MXR: S-mode always uses
     * the SUM=0 set, so toggling SUM (Linux's user copies) keeps the
     * current fetch page. */
    unsigned fm = h->priv == PRV_S ? TLB_MODE_S : mmu_midx(h, h->priv);
    if (fm != h->fetch_midx) {
        h->fetch_midx = fm;
        hart_fetch_flush(h);
    }
}

uint64_t hart_instret_now(const struct hart *h)
{
    return __atomic_load_n(&h->instret, __ATOMIC_RELAXED) +
           (uint64_t)(h->batch_n - h->budget - h->budget_cut);
}

void hart_fatal(struct hart *h, const char *why, uint64_t cause)
{
    log_error("hart %u: fatal: %s (pc=0x%016llx cause=%llu)", h->hartid, why,
              (unsigned long long)h->pc, (unsigned long long)cause);
    atomic_store(&h->stop, true);
    hart_break(h);
    machine_request_exit(h->m, MACHINE_FATAL, 1);
}

/* Fetch 16 bits at va for execution (any memory, no decode cache). */
static bool fetch16(struct hart *h, uint64_t va, uint16_t *out)
{
    uint8_t *host;
    uint64_t pa, v = 0;
    int r = mmu_access(h, va, 2, ACC_X, h->fetch_midx, &host, &pa);
    if (r != MMU_OK) {
        hart_trap(h, (uint64_t)r, va);
        return false;
    }
    if (host)
        v = (uint64_t)__atomic_load_n(&host[0], __ATOMIC_RELAXED) |
            (uint64_t)__atomic_load_n(&host[1], __ATOMIC_RELAXED) << 8;
    else if (!bus_read(&h->m->bus, pa, 2, &v)) {
        hart_trap(h, EXC_INSN_ACCESS, va);
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

/* The instruction runs from its slot of the stop page, posing as the
 * running page for the duration: whatever it chains to is an ex_stop
 * slot, which returns with h->pc right. */
void hart_exec_uncached(struct hart *h, int64_t budget)
{
    uint64_t pc = h->pc;
    uint16_t lo, hi = 0;
    h->budget = budget;
    if (!fetch16(h, pc, &lo))
        return;
    if ((lo & 3) == 3 && !fetch16(h, pc + 2, &hi))
        return;
    unsigned off = (unsigned)(pc & 0xfff);
    struct dinsn *slot = &h->stop_page[off >> 1];
    decode_insn((uint32_t)lo | (uint32_t)hi << 16, slot);
    slot->off = (uint16_t)off;
    h->fetch_va = pc & PAGE_MASK;
    h->fetch_page = h->stop_page;
    slot->run(h, slot, budget);
    *slot = (struct dinsn){ .run = ex_stop, .off = (uint16_t)off };
    h->fetch_va = TLB_INVALID;
}

/* Enter the page of h->pc: find its decode-cache page through the fetch
 * TLB. False when the instruction was handled otherwise (trap, or run
 * uncached because the page is not whole executable RAM); h->budget is
 * then what is left after it. */
static bool hart_enter_page(struct hart *h, int64_t budget)
{
    uint64_t pc = h->pc, vpage = pc & PAGE_MASK;
    struct fpc_entry *f = &h->fpc[(pc >> 12) & (FPC_SIZE - 1)];
    if (f->va == vpage) {
        h->fetch_page = f->page;
        h->fetch_host = f->host;
        h->fetch_snap = f->snap;
        h->fetch_va = vpage;
        return true;
    }
    struct tlb_entry *set = TLB_SET(h->tlb[h->fetch_midx], pc);
    struct tlb_entry *e = TLB_FIND(set, tag_x, vpage);
    if (!e) {
        uint8_t *host;
        uint64_t pa;
        int r = mmu_access(h, pc, 2, ACC_X, h->fetch_midx, &host, &pa);
        if (r != MMU_OK) {
            h->budget = budget;
            hart_trap(h, (uint64_t)r, pc);
            return false;
        }
        e = TLB_FIND(set, tag_x, vpage);
        if (!e) {
            hart_exec_uncached(h, budget);
            return false;
        }
    }
    uint8_t *page = (uint8_t *)(uintptr_t)(vpage + e->addend);
    struct dpage *dp = dcache_page(h, (uint64_t)(page - h->m->ram) + h->m->ram_base);
    if (!dp) {
        h->budget = budget;
        hart_fatal(h, "out of host memory for the decode cache", 0);
        return false;
    }
    h->fetch_page = dp->insn;
    h->fetch_host = page;
    h->fetch_snap = dp->snap;
    h->fetch_va = vpage;
    *f = (struct fpc_entry){ vpage, dp->insn, page, dp->snap };
    return true;
}

/* Run up to n instructions; returns how many ran. Each call of a slot's
 * handler runs a chain of instructions (cpu/exec.h) and comes back with
 * h->pc and h->budget stored. */
static uint64_t hart_run(struct hart *h, int64_t n)
{
    h->batch_n = n;
    h->budget = n;
    h->budget_cut = 0;
    while (h->budget > 0) {
        int64_t budget = h->budget - 1;
        uint64_t pc = h->pc;
        if (unlikely((pc & PAGE_MASK) != h->fetch_va) &&
            !hart_enter_page(h, budget)) {
            h->x[0] = 0;
            continue;
        }
        const struct dinsn *d = &h->fetch_page[(pc & 0xfff) >> 1];
        d->run(h, d, budget);
        h->x[0] = 0;        /* plain handlers may write it */
    }
    uint64_t done = (uint64_t)(n - h->budget_cut);
    __atomic_store_n(&h->instret, h->instret + done, __ATOMIC_RELAXED);
    h->batch_n = h->budget = h->budget_cut = 0;
    return done;
}

/* Re-evaluate MTIP/STIP for mtime = now. */
static void hart_update_timers_at(struct hart *h, uint64_t now)
{
    uint64_t mip = atomic_load_explicit(&h->mip, memory_order_relaxed);
    uint64_t set = 0, clr = 0;
    if (now >= atomic_load_explicit(&h->mtimecmp, memory_order_relaxed))
        set |= MIP_MTIP;
    else
        clr |= MIP_MTIP;
    /* Sstc: STIP follows stimecmp while menvcfg.STCE is set, once stimecmp
     * has been written (as on QEMU 7.2, whose timer is armed by a write). */
    if ((h->menvcfg & MENVCFG_STCE) && h->stimecmp_armed) {
        if (now >= h->stimecmp)
            set |= MIP_STIP;
        else
            clr |= MIP_STIP;
    }
    if (set & ~mip)
        atomic_fetch_or(&h->mip, set);
    if (clr & mip)
        atomic_fetch_and(&h->mip, ~clr);
}

void hart_update_timers(struct hart *h)
{
    hart_update_timers_at(h, clock_mtime());
}

/* One batch: timers, interrupts, then up to n instructions. */
static uint64_t hart_batch(struct hart *h, int64_t n)
{
    hart_update_timers(h);
    atomic_store_explicit(&h->kicked, false, memory_order_relaxed);
    trap_take_interrupt(h);
    return hart_run(h, n);
}

/* The next mtime at which a timer could wake WFI: only timers whose
 * interrupt is enabled in mie and still in the future count (a parked
 * hart with MTIP pending but masked must sleep, not spin). */
static uint64_t hart_next_deadline(const struct hart *h, uint64_t now)
{
    uint64_t t = UINT64_MAX;
    uint64_t mt = atomic_load(&h->mtimecmp);
    if ((h->mie & MIP_MTIP) && mt > now)
        t = mt;
    if ((h->menvcfg & MENVCFG_STCE) && h->stimecmp_armed &&
        (h->mie & MIP_STIP) && h->stimecmp > now && h->stimecmp < t)
        t = h->stimecmp;
    return t;
}

/* WFI: sleep until an interrupt is pending and enabled in mie, the next
 * timer deadline, a kick, a stop or a pause request — never longer. */
static void hart_sleep(struct hart *h)
{
    pthread_mutex_lock(&h->lock);
    while (!atomic_load(&h->stop) && !atomic_load(&h->pause_req)) {
        /* One `now` for both: a timer at or before it is pending now; one
         * after it is a deadline to wait for (even if it passes before we
         * start waiting: the wait then returns at once). */
        uint64_t now = clock_mtime();
        hart_update_timers_at(h, now);
        if (hart_pending(h) || atomic_exchange(&h->kicked, false))
            break;
        uint64_t deadline = hart_next_deadline(h, now);
        if (deadline == UINT64_MAX) {
            pthread_cond_wait(&h->cond, &h->lock);
        } else {
            uint64_t ns = clock_mtime_to_ns(deadline);
            struct timespec ts = {
                .tv_sec = (time_t)(ns / 1000000000ull),
                .tv_nsec = (long)(ns % 1000000000ull),
            };
            pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        }
    }
    h->wfi = false;
    pthread_mutex_unlock(&h->lock);
}

/* Paused: park until released or stopped (no guest code runs). */
static void hart_park(struct hart *h)
{
    pthread_mutex_lock(&h->lock);
    h->parked = true;
    pthread_cond_broadcast(&h->park_cond);
    while (atomic_load(&h->pause_req) && !atomic_load(&h->stop))
        pthread_cond_wait(&h->cond, &h->lock);
    h->parked = false;
    pthread_mutex_unlock(&h->lock);
}

static void hart_set_in_thread(struct hart *h, bool in)
{
    pthread_mutex_lock(&h->lock);
    h->in_thread = in;
    pthread_cond_broadcast(&h->park_cond);
    pthread_mutex_unlock(&h->lock);
}

void *hart_thread(void *arg)
{
    struct hart *h = arg;
    hart_set_in_thread(h, true);
    while (!atomic_load(&h->stop)) {
        if (atomic_load_explicit(&h->pause_req, memory_order_relaxed)) {
            hart_park(h);
            continue;
        }
        hart_batch(h, BATCH);
        if (h->wfi)
            hart_sleep(h);
    }
    hart_set_in_thread(h, false);
    return NULL;
}

void hart_set_paused(struct hart *h, bool paused)
{
    atomic_store(&h->pause_req, paused);
    hart_kick(h);
}

bool hart_wait_parked(struct hart *h, uint64_t deadline_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / 1000000000ull),
        .tv_nsec = (long)(deadline_ns % 1000000000ull),
    };
    pthread_mutex_lock(&h->lock);
    while (h->in_thread && !h->parked &&
           pthread_cond_timedwait(&h->park_cond, &h->lock, &ts) != ETIMEDOUT)
        ;
    bool ok = !h->in_thread || h->parked;
    pthread_mutex_unlock(&h->lock);
    return ok;
}

uint64_t hart_step(struct hart *h, uint64_t n)
{
    uint64_t done = 0;
    h->wfi = false;
    while (done < n && !atomic_load(&h->stop)) {
        uint64_t chunk = n - done < BATCH ? n - done : BATCH;
        done += hart_batch(h, (int64_t)chunk);
        if (h->wfi) {
            if (!hart_pending(h))
                break;
            h->wfi = false;
        }
    }
    return done;
}

void hart_kick(struct hart *h)
{
    atomic_store(&h->kicked, true);
    pthread_mutex_lock(&h->lock);
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

void hart_stop(struct hart *h)
{
    atomic_store(&h->stop, true);
    hart_kick(h);
}

void hart_set_irq(struct hart *h, unsigned irq, bool level)
{
    if (irq >= 64)
        return;
    if (level)
        atomic_fetch_or(&h->mip, 1ull << irq);
    else
        atomic_fetch_and(&h->mip, ~(1ull << irq));
    hart_kick(h);
}

void hart_set_mtimecmp(struct hart *h, uint64_t val)
{
    atomic_store(&h->mtimecmp, val);
    if (clock_mtime() >= val)
        atomic_fetch_or(&h->mip, MIP_MTIP);
    else
        atomic_fetch_and(&h->mip, ~MIP_MTIP);
    hart_kick(h);
}

uint64_t hart_get_mtimecmp(const struct hart *h)
{
    return atomic_load(&h->mtimecmp);
}

uint64_t hart_instret(const struct hart *h)
{
    return __atomic_load_n(&h->instret, __ATOMIC_RELAXED);
}

uint64_t hart_get_pc(const struct hart *h)
{
    return h->pc;
}

uint64_t hart_get_x(const struct hart *h, unsigned reg)
{
    return reg < 32 ? h->x[reg] : 0;
}

void hart_set_x(struct hart *h, unsigned reg, uint64_t val)
{
    if (reg > 0 && reg < 32)
        h->x[reg] = val;
}

unsigned hart_get_priv(const struct hart *h)
{
    return h->priv;
}
