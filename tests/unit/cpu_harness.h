/*
 * tests/unit/cpu_harness.h — a machine for CPU unit tests: 4 MiB of RAM at
 * 0x80000000, an empty bus (or a fake MMIO device), one hart in M-mode at
 * 0x80000000, and instruction encoders so tests read like assembly.
 * Tests may look inside the hart (cpu/hart.h, cpu/exec.h): they are
 * white-box tests of cpu/.
 */
#ifndef TESTS_UNIT_CPU_HARNESS_H
#define TESTS_UNIT_CPU_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/exec.h"
#include "hw/machine.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define TRAP_VEC (RAM_BASE + 0x100000)   /* M trap handler: a self-loop */
#define STRAP_VEC (RAM_BASE + 0x100100)  /* S trap handler: a self-loop */

struct cpt {
    struct machine *m;
    struct hart *h;
};

static inline void tm_put32(struct cpt *t, uint64_t pa, uint32_t v)
{
    memcpy(t->m->ram + (pa - RAM_BASE), &v, 4);
}

static inline void tm_put16(struct cpt *t, uint64_t pa, uint16_t v)
{
    memcpy(t->m->ram + (pa - RAM_BASE), &v, 2);
}

static inline void tm_put64(struct cpt *t, uint64_t pa, uint64_t v)
{
    memcpy(t->m->ram + (pa - RAM_BASE), &v, 8);
}

static inline uint64_t tm_get64(struct cpt *t, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, t->m->ram + (pa - RAM_BASE), 8);
    return v;
}

static inline uint32_t tm_get32(struct cpt *t, uint64_t pa)
{
    uint32_t v;
    memcpy(&v, t->m->ram + (pa - RAM_BASE), 4);
    return v;
}

static inline struct cpt tm_new(void)
{
    struct cpt t;
    t.m = calloc(1, sizeof *t.m);
    cr_assert(t.m);
    t.m->ram_base = RAM_BASE;
    t.m->ram_size = RAM_SIZE;
    t.m->ram = aligned_alloc(4096, RAM_SIZE);
    cr_assert(t.m->ram);
    memset(t.m->ram, 0, RAM_SIZE);
    t.h = hart_create(t.m, 0);
    cr_assert(t.h);
    t.m->harts[0] = t.h;
    t.m->nharts = 1;
    hart_reset(t.h, RAM_BASE, 0, 0, 0);
    /* Trap handlers that spin in place (j .), so a trap is observable. */
    tm_put32(&t, TRAP_VEC, 0x0000006f);
    tm_put32(&t, STRAP_VEC, 0x0000006f);
    t.h->mtvec = TRAP_VEC;
    t.h->stvec = STRAP_VEC;
    return t;
}

static inline void tm_free(struct cpt *t)
{
    hart_destroy(t->h);
    free(t->m->ram);
    free(t->m);
}

/* Write a program of 32-bit words at pa. */
static inline void tm_prog(struct cpt *t, uint64_t pa, const uint32_t *w,
                           unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        tm_put32(t, pa + 4 * i, w[i]);
}

/* Let S/U access all memory (PMP entry 0: NAPOT over everything, RWX). */
static inline void tm_pmp_all(struct cpt *t)
{
    cr_assert(csr_write(t->h, 0x3b0, ~0ull));
    cr_assert(csr_write(t->h, 0x3a0, 0x1f));
}

static inline void tm_set_priv(struct cpt *t, unsigned priv)
{
    t->h->priv = priv;
    hart_mode_changed(t->h);
}

/* Instruction encoders (unpriv spec ch. 24). */
static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1,
                             unsigned f3, unsigned rd, unsigned op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3,
                             unsigned rd, unsigned op)
{
    return (uint32_t)imm << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1,
                             unsigned f3, unsigned op)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           (u & 31) << 7 | op;
}

#define ADDI(rd, rs1, imm) enc_i(imm, rs1, 0, rd, 0x13)
#define ADD(rd, rs1, rs2)  enc_r(0, rs2, rs1, 0, rd, 0x33)
#define LUI(rd, imm20)     ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x37)
#define LD(rd, rs1, imm)   enc_i(imm, rs1, 3, rd, 0x03)
#define LW(rd, rs1, imm)   enc_i(imm, rs1, 2, rd, 0x03)
#define LB(rd, rs1, imm)   enc_i(imm, rs1, 0, rd, 0x03)
#define SD(rs2, rs1, imm)  enc_s(imm, rs2, rs1, 3, 0x23)
#define SW(rs2, rs1, imm)  enc_s(imm, rs2, rs1, 2, 0x23)
#define CSRRW(rd, csr, rs1) enc_i(csr, rs1, 1, rd, 0x73)
#define CSRRS(rd, csr, rs1) enc_i(csr, rs1, 2, rd, 0x73)
#define CSRRC(rd, csr, rs1) enc_i(csr, rs1, 3, rd, 0x73)
#define ECALL  0x00000073u
#define EBREAK 0x00100073u
#define MRET   0x30200073u
#define SRET   0x10200073u
#define WFI    0x10500073u
#define FENCE_I 0x0000100fu
#define JSELF  0x0000006fu       /* j . */
#define AMO(f5, rs2, rs1, f3, rd) enc_r((f5) << 2, rs2, rs1, f3, rd, 0x2f)
#define SFENCE_VMA(rs1, rs2) enc_r(0x09, rs2, rs1, 0, 0, 0x73)

/* Run one instruction. */
static inline void tm_step(struct cpt *t)
{
    hart_step(t->h, 1);
}

#endif
