/*
 * cpu_amo: the A extension — LR/SC success and failure (intervening SC,
 * trap, other address, changed value), AMO results and sign extension,
 * min/max signedness, misaligned and non-RAM atomics (the spec's causes),
 * and stores invalidating decoded code on the same hart.
 */
#include "tests/unit/cpu_harness.h"

#define CELL (RAM_BASE + 0x2000)
enum { F_LR = 0x02, F_SC = 0x03, F_SWAP = 0x01, F_ADD = 0x00, F_XOR = 0x04,
       F_AND = 0x0c, F_OR = 0x08, F_MIN = 0x10, F_MAX = 0x14, F_MINU = 0x18,
       F_MAXU = 0x1c };
#define W3 2    /* funct3: .W */
#define D3 3    /* funct3: .D */

/* Run `n` instructions from RAM_BASE with x10 = CELL, x11 = src. */
static void run(struct cpt *t, const uint32_t *p, unsigned n, uint64_t src)
{
    tm_prog(t, RAM_BASE, p, n);
    dcache_flush(t->h);
    t->h->pc = RAM_BASE;
    hart_set_x(t->h, 10, CELL);
    hart_set_x(t->h, 11, src);
    hart_step(t->h, n);
}

Test(cpu_amo, lr_sc_success_and_failure)
{
    struct cpt t = tm_new();
    tm_put64(&t, CELL, 5);
    uint32_t ok[] = { AMO(F_LR, 0, 10, D3, 5), AMO(F_SC, 11, 10, D3, 6) };
    run(&t, ok, 2, 77);
    cr_assert_eq(hart_get_x(t.h, 5), 5);
    cr_assert_eq(hart_get_x(t.h, 6), 0);
    cr_assert_eq(tm_get64(&t, CELL), 77);

    /* A second SC without a new LR fails and writes nothing. */
    uint32_t again[] = { AMO(F_SC, 11, 10, D3, 6) };
    run(&t, again, 1, 88);
    cr_assert_eq(hart_get_x(t.h, 6), 1);
    cr_assert_eq(tm_get64(&t, CELL), 77);

    /* LR; SC (succeeds); SC again (fails: the first SC cleared it). */
    uint32_t two[] = { AMO(F_LR, 0, 10, D3, 5), AMO(F_SC, 11, 10, D3, 6),
                       AMO(F_SC, 11, 10, D3, 7) };
    run(&t, two, 3, 99);
    cr_assert_eq(hart_get_x(t.h, 6), 0);
    cr_assert_eq(hart_get_x(t.h, 7), 1);

    /* SC to another address than the reservation fails. */
    uint32_t other[] = { AMO(F_LR, 0, 10, D3, 5), ADDI(10, 10, 8),
                         AMO(F_SC, 11, 10, D3, 6) };
    run(&t, other, 3, 1);
    cr_assert_eq(hart_get_x(t.h, 6), 1);

    /* The value changed between LR and SC (another hart's store): fail. */
    uint32_t lr[] = { AMO(F_LR, 0, 10, W3, 5) };
    tm_put64(&t, CELL, 0xffffffff80000000ull);
    run(&t, lr, 1, 0);
    cr_assert_eq(hart_get_x(t.h, 5), 0xffffffff80000000ull);   /* sign-extended */
    tm_put32(&t, CELL, 1);
    t.h->pc = RAM_BASE + 4;
    tm_put32(&t, RAM_BASE + 4, AMO(F_SC, 11, 10, W3, 6));
    dcache_flush(t.h);
    tm_step(&t);
    cr_assert_eq(hart_get_x(t.h, 6), 1);
    cr_assert_eq(tm_get32(&t, CELL), 1);
    tm_free(&t);
}

Test(cpu_amo, trap_clears_reservation)
{
    struct cpt t = tm_new();
    uint32_t p[] = { AMO(F_LR, 0, 10, D3, 5), ECALL };
    run(&t, p, 2, 0);
    cr_assert_eq(t.h->mcause, EXC_ECALL_M);
    tm_put32(&t, TRAP_VEC, AMO(F_SC, 11, 10, D3, 6));
    dcache_flush(t.h);
    tm_step(&t);
    cr_assert_eq(hart_get_x(t.h, 6), 1);
    tm_free(&t);
}

static uint64_t amo(unsigned f5, unsigned f3, uint64_t mem, uint64_t src,
                    uint64_t *after)
{
    struct cpt t = tm_new();
    tm_put64(&t, CELL, mem);
    uint32_t p[] = { AMO(f5, 11, 10, f3, 5) };
    run(&t, p, 1, src);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    *after = tm_get64(&t, CELL);
    uint64_t r = hart_get_x(t.h, 5);
    tm_free(&t);
    return r;
}

Test(cpu_amo, results)
{
    uint64_t m;
    cr_assert_eq(amo(F_ADD, D3, 40, 2, &m), 40);
    cr_assert_eq(m, 42);
    cr_assert_eq(amo(F_SWAP, D3, 1, 2, &m), 1);
    cr_assert_eq(m, 2);
    cr_assert_eq(amo(F_XOR, D3, 0xff, 0x0f, &m), 0xff);
    cr_assert_eq(m, 0xf0);
    cr_assert_eq(amo(F_AND, D3, 0xff, 0x0f, &m), 0xff);
    cr_assert_eq(m, 0x0f);
    cr_assert_eq(amo(F_OR, D3, 0xf0, 0x0f, &m), 0xf0);
    cr_assert_eq(m, 0xff);
    /* .W: 32-bit operation, old value sign-extended, upper word kept. */
    cr_assert_eq(amo(F_ADD, W3, 0x111111117fffffffull, 1, &m), 0x7fffffff);
    cr_assert_eq(m, 0x1111111180000000ull);
    cr_assert_eq(amo(F_SWAP, W3, 0x80000000ull, 5, &m), 0xffffffff80000000ull);
    /* min/max: signed vs unsigned. */
    cr_assert_eq(amo(F_MIN, D3, 1, ~0ull, &m), 1);
    cr_assert_eq(m, ~0ull);
    cr_assert_eq(amo(F_MINU, D3, 1, ~0ull, &m), 1);
    cr_assert_eq(m, 1);
    cr_assert_eq(amo(F_MAX, D3, 1, ~0ull, &m), 1);
    cr_assert_eq(m, 1);
    cr_assert_eq(amo(F_MAXU, D3, 1, ~0ull, &m), 1);
    cr_assert_eq(m, ~0ull);
    cr_assert_eq(amo(F_MIN, W3, 0x80000000ull, 1, &m), 0xffffffff80000000ull);
    cr_assert_eq(m, 0x80000000ull);
    cr_assert_eq(amo(F_MAXU, W3, 0x80000000ull, 1, &m), 0xffffffff80000000ull);
    cr_assert_eq(m, 0x80000000ull);
}

Test(cpu_amo, misaligned_and_outside_ram)
{
    struct cpt t = tm_new();
    uint32_t p[] = { AMO(F_ADD, 11, 10, W3, 5) };
    tm_prog(&t, RAM_BASE, p, 1);
    hart_set_x(t.h, 10, CELL + 2);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_MISALIGNED);    /* spec (QEMU 7.2: 4) */
    cr_assert_eq(t.h->mtval, CELL + 2);
    t.h->pc = RAM_BASE;
    hart_set_x(t.h, 10, 0x1000);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_ACCESS);        /* spec (QEMU 7.2: 5) */
    cr_assert_eq(t.h->mtval, 0x1000);
    tm_put32(&t, RAM_BASE, AMO(F_LR, 0, 10, D3, 5));
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    hart_set_x(t.h, 10, CELL + 4);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_LOAD_MISALIGNED);
    cr_assert_eq(t.h->mtval, CELL + 4);
    /* A misaligned SC traps even without a reservation (spec; QEMU 7.2
     * fails it silently). */
    tm_put32(&t, RAM_BASE, AMO(F_SC, 11, 10, D3, 6));
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_MISALIGNED);
    cr_assert_eq(t.h->mtval, CELL + 4);
    /* An aligned SC with no reservation does not check its address. */
    t.h->pc = RAM_BASE;
    hart_set_x(t.h, 10, 0x1000);
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    cr_assert_eq(hart_get_x(t.h, 6), 1);
    tm_free(&t);
}

Test(cpu_amo, store_to_decoded_code_is_seen)
{
    /* Self-modifying code on one hart: the store replaces an instruction
     * already decoded; the new one runs, without FENCE.I. */
    struct cpt t = tm_new();
    uint32_t p[] = {
        SW(11, 10, 0),          /* patch the instruction at x10 */
        ADDI(6, 0, 1),          /* replaced by "addi x6, x0, 2" */
        JSELF,
    };
    tm_prog(&t, RAM_BASE + 0x100, p, 3);
    /* First run decodes the old instruction. */
    t.h->pc = RAM_BASE + 0x104;
    tm_step(&t);
    cr_assert_eq(hart_get_x(t.h, 6), 1);
    t.h->pc = RAM_BASE + 0x100;
    hart_set_x(t.h, 10, RAM_BASE + 0x104);
    hart_set_x(t.h, 11, ADDI(6, 0, 2));
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 6), 2);
    tm_free(&t);
}

Test(cpu_amo, fence_i_sees_code_written_elsewhere)
{
    /* Code rewritten behind the hart's back (another hart, DMA) is seen
     * after FENCE.I — also when FENCE.I sits on the same page, right
     * before the rewritten instruction. */
    struct cpt t = tm_new();
    uint32_t p[] = { FENCE_I, ADDI(5, 0, 1), JSELF };
    tm_prog(&t, RAM_BASE + 0x200, p, 3);
    t.h->pc = RAM_BASE + 0x200;
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 5), 1);
    tm_put32(&t, RAM_BASE + 0x204, ADDI(5, 0, 2));     /* not via the hart */
    t.h->pc = RAM_BASE + 0x200;
    hart_step(t.h, 2);
    cr_assert_eq(hart_get_x(t.h, 5), 2);
    tm_free(&t);
}

/* A fake device: one 64-bit register at offset 0, nothing else. */
struct fakedev {
    uint64_t reg;
    unsigned reads, writes;
};

static bool fake_read(void *o, uint64_t off, unsigned size, uint64_t *v)
{
    struct fakedev *f = o;
    f->reads++;
    *v = size == 8 ? f->reg : (uint32_t)f->reg;
    return off == 0;
}

static bool fake_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
    struct fakedev *f = o;
    if (off)
        return false;
    f->writes++;
    f->reg = size == 8 ? v : (f->reg & ~0xffffffffull) | (uint32_t)v;
    return true;
}

static const struct mmio_ops fake_ops = { fake_read, fake_write };
#define DEV 0x10000000ull

/* Atomics on a device are a bus read and a bus write, as on QEMU 7.2 (the
 * platform decides whether I/O regions support atomics). */
Test(cpu_amo, atomics_on_a_device)
{
    struct cpt t = tm_new();
    struct fakedev f = { .reg = 0x1234567880000001ull };
    cr_assert(bus_add(&t.m->bus, DEV, 0x1000, &fake_ops, &f, "fake"));
    uint32_t add[] = { AMO(F_ADD, 11, 10, W3, 5) };
    tm_prog(&t, RAM_BASE, add, 1);
    hart_set_x(t.h, 10, DEV);
    hart_set_x(t.h, 11, 5);
    tm_step(&t);
    cr_assert_eq(hart_get_pc(t.h), RAM_BASE + 4);
    cr_assert_eq(hart_get_x(t.h, 5), 0xffffffff80000001ull);
    cr_assert_eq(f.reg, 0x1234567880000006ull);
    cr_assert_eq(f.reads, 1);
    cr_assert_eq(f.writes, 1);

    /* amominu.d, then LR.D; SC.D on the device: the SC succeeds. */
    uint32_t p[] = { AMO(F_MINU, 11, 10, D3, 5), AMO(F_LR, 0, 10, D3, 6),
                     AMO(F_SC, 11, 10, D3, 7) };
    tm_prog(&t, RAM_BASE, p, 3);
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    hart_set_x(t.h, 11, 9);
    hart_step(t.h, 3);
    cr_assert_eq(hart_get_x(t.h, 5), 0x1234567880000006ull);
    cr_assert_eq(hart_get_x(t.h, 6), 9);
    cr_assert_eq(hart_get_x(t.h, 7), 0);
    cr_assert_eq(f.reg, 9);

    /* The device rejects offset 8: AMO → store/AMO access fault, LR → load
     * access fault. */
    tm_put32(&t, RAM_BASE, AMO(F_SWAP, 11, 10, D3, 5));
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    hart_set_x(t.h, 10, DEV + 8);
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_STORE_ACCESS);
    cr_assert_eq(t.h->mtval, DEV + 8);
    tm_put32(&t, RAM_BASE, AMO(F_LR, 0, 10, D3, 5));
    dcache_flush(t.h);
    t.h->pc = RAM_BASE;
    tm_step(&t);
    cr_assert_eq(t.h->mcause, EXC_LOAD_ACCESS);
    tm_free(&t);
}
