/*
 * tests/unit/cputest.h — a tiny RV64 assembler and a one-hart test machine
 * for the black-box CPU tests (tests/unit/cpustress_*.c).
 *
 * Two layers, two prefixes:
 *   rv_*  pure encoders: each returns the instruction bits (a 32-bit word, or
 *         a 16-bit compressed halfword in the low bits). Formats follow the
 *         unprivileged spec 20191213 §2.3 (R/I/S/B/U/J) and §16.2–16.8 (RVC).
 *         Every encoder was checked bit for bit against GNU as (binutils
 *         2.40, -march=rv64gc) during development.
 *   ct_*  the harness: a machine with RAM at 0x80000000 and one hart, an
 *         assembly cursor that writes code straight into RAM, canned trap
 *         handlers, privilege-drop and page-table helpers.
 *
 * Only the public API is used: cpu/cpu.h and hw/machine.h.
 */
#ifndef TESTS_UNIT_CPUTEST_H
#define TESTS_UNIT_CPUTEST_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "hw/machine.h"
#include "util/clock.h"

/* ------------------------------------------------------------------ regs */

enum {
    ZERO = 0, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5,
    A6, A7, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, T3, T4, T5, T6,
};

/* ------------------------------------------------------- base formats */

static inline uint32_t rv_r(uint32_t op, uint32_t f3, uint32_t f7,
                            unsigned rd, unsigned rs1, unsigned rs2)
{
    return f7 << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | f3 << 12 |
           (rd & 31) << 7 | op;
}

static inline uint32_t rv_i(uint32_t op, uint32_t f3, unsigned rd,
                            unsigned rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | (rs1 & 31) << 15 | f3 << 12 |
           (rd & 31) << 7 | op;
}

static inline uint32_t rv_s(uint32_t op, uint32_t f3, unsigned rs1,
                            unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 |
           f3 << 12 | (u & 31) << 7 | op;
}

static inline uint32_t rv_b(uint32_t f3, unsigned rs1, unsigned rs2,
                            int32_t off)
{
    uint32_t u = (uint32_t)off;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 |
           (rs2 & 31) << 20 | (rs1 & 31) << 15 | f3 << 12 |
           ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

static inline uint32_t rv_u(uint32_t op, unsigned rd, uint32_t imm20)
{
    return (imm20 & 0xfffff) << 12 | (rd & 31) << 7 | op;
}

static inline uint32_t rv_j(unsigned rd, int32_t off)
{
    uint32_t u = (uint32_t)off;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 |
           ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 |
           (rd & 31) << 7 | 0x6f;
}

/* ------------------------------------------------------------- RV64I */

#define RV_OP(name, f3, f7)                                                  \
    static inline uint32_t rv_##name(unsigned rd, unsigned a, unsigned b)   \
    { return rv_r(0x33, f3, f7, rd, a, b); }
#define RV_OP32(name, f3, f7)                                                \
    static inline uint32_t rv_##name(unsigned rd, unsigned a, unsigned b)   \
    { return rv_r(0x3b, f3, f7, rd, a, b); }
#define RV_OPI(name, f3)                                                     \
    static inline uint32_t rv_##name(unsigned rd, unsigned a, int32_t imm)  \
    { return rv_i(0x13, f3, rd, a, imm); }
#define RV_LOAD(name, f3)                                                    \
    static inline uint32_t rv_##name(unsigned rd, unsigned base, int32_t off)\
    { return rv_i(0x03, f3, rd, base, off); }
#define RV_STORE(name, f3)                                                   \
    static inline uint32_t rv_##name(unsigned src, unsigned base, int32_t off)\
    { return rv_s(0x23, f3, base, src, off); }
#define RV_BR(name, f3)                                                      \
    static inline uint32_t rv_##name(unsigned a, unsigned b, int32_t off)   \
    { return rv_b(f3, a, b, off); }

RV_OP(add, 0, 0x00) RV_OP(sub, 0, 0x20) RV_OP(sll, 1, 0) RV_OP(slt, 2, 0)
RV_OP(sltu, 3, 0) RV_OP(xor, 4, 0) RV_OP(srl, 5, 0) RV_OP(sra, 5, 0x20)
RV_OP(or, 6, 0) RV_OP(and, 7, 0)
RV_OP32(addw, 0, 0) RV_OP32(subw, 0, 0x20) RV_OP32(sllw, 1, 0)
RV_OP32(srlw, 5, 0) RV_OP32(sraw, 5, 0x20)
RV_OPI(addi, 0) RV_OPI(slti, 2) RV_OPI(sltiu, 3) RV_OPI(xori, 4)
RV_OPI(ori, 6) RV_OPI(andi, 7)
RV_LOAD(lb, 0) RV_LOAD(lh, 1) RV_LOAD(lw, 2) RV_LOAD(ld, 3)
RV_LOAD(lbu, 4) RV_LOAD(lhu, 5) RV_LOAD(lwu, 6)
RV_STORE(sb, 0) RV_STORE(sh, 1) RV_STORE(sw, 2) RV_STORE(sd, 3)
RV_BR(beq, 0) RV_BR(bne, 1) RV_BR(blt, 4) RV_BR(bge, 5) RV_BR(bltu, 6)
RV_BR(bgeu, 7)

/* M extension (unpriv §7). */
RV_OP(mul, 0, 1) RV_OP(mulh, 1, 1) RV_OP(mulhsu, 2, 1) RV_OP(mulhu, 3, 1)
RV_OP(div, 4, 1) RV_OP(divu, 5, 1) RV_OP(rem, 6, 1) RV_OP(remu, 7, 1)
RV_OP32(mulw, 0, 1) RV_OP32(divw, 4, 1) RV_OP32(divuw, 5, 1)
RV_OP32(remw, 6, 1) RV_OP32(remuw, 7, 1)

/* Shifts by immediate: RV64 shamt is 6 bits (§5.2), W forms 5 bits. */
static inline uint32_t rv_slli(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x13, 1, rd, a, (int32_t)(sh & 63)); }
static inline uint32_t rv_srli(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x13, 5, rd, a, (int32_t)(sh & 63)); }
static inline uint32_t rv_srai(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x13, 5, rd, a, (int32_t)(0x400 | (sh & 63))); }
static inline uint32_t rv_addiw(unsigned rd, unsigned a, int32_t imm)
{ return rv_i(0x1b, 0, rd, a, imm); }
static inline uint32_t rv_slliw(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x1b, 1, rd, a, (int32_t)(sh & 31)); }
static inline uint32_t rv_srliw(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x1b, 5, rd, a, (int32_t)(sh & 31)); }
static inline uint32_t rv_sraiw(unsigned rd, unsigned a, unsigned sh)
{ return rv_i(0x1b, 5, rd, a, (int32_t)(0x400 | (sh & 31))); }

/* imm20 is the raw 20-bit U immediate (bits 31:12 of the result). */
static inline uint32_t rv_lui(unsigned rd, uint32_t imm20)
{ return rv_u(0x37, rd, imm20); }
static inline uint32_t rv_auipc(unsigned rd, uint32_t imm20)
{ return rv_u(0x17, rd, imm20); }
static inline uint32_t rv_jal(unsigned rd, int32_t off) { return rv_j(rd, off); }
static inline uint32_t rv_jalr(unsigned rd, unsigned a, int32_t off)
{ return rv_i(0x67, 0, rd, a, off); }

static inline uint32_t rv_fence(void) { return 0x0ff0000f; }
static inline uint32_t rv_fence_i(void) { return 0x0000100f; }

/* ------------------------------------------------ SYSTEM / Zicsr */

static inline uint32_t rv_ecall(void) { return 0x00000073; }
static inline uint32_t rv_ebreak(void) { return 0x00100073; }
static inline uint32_t rv_sret(void) { return 0x10200073; }
static inline uint32_t rv_mret(void) { return 0x30200073; }
static inline uint32_t rv_wfi(void) { return 0x10500073; }
static inline uint32_t rv_sfence_vma(unsigned va, unsigned asid)
{ return rv_r(0x73, 0, 0x09, 0, va, asid); }

static inline uint32_t rv_csrrw(unsigned rd, unsigned csr, unsigned rs1)
{ return rv_i(0x73, 1, rd, rs1, (int32_t)csr); }
static inline uint32_t rv_csrrs(unsigned rd, unsigned csr, unsigned rs1)
{ return rv_i(0x73, 2, rd, rs1, (int32_t)csr); }
static inline uint32_t rv_csrrc(unsigned rd, unsigned csr, unsigned rs1)
{ return rv_i(0x73, 3, rd, rs1, (int32_t)csr); }
static inline uint32_t rv_csrrwi(unsigned rd, unsigned csr, unsigned uimm)
{ return rv_i(0x73, 5, rd, uimm, (int32_t)csr); }
static inline uint32_t rv_csrrsi(unsigned rd, unsigned csr, unsigned uimm)
{ return rv_i(0x73, 6, rd, uimm, (int32_t)csr); }
static inline uint32_t rv_csrrci(unsigned rd, unsigned csr, unsigned uimm)
{ return rv_i(0x73, 7, rd, uimm, (int32_t)csr); }
static inline uint32_t rv_csrr(unsigned rd, unsigned csr)
{ return rv_csrrs(rd, csr, ZERO); }
static inline uint32_t rv_csrw(unsigned csr, unsigned rs1)
{ return rv_csrrw(ZERO, csr, rs1); }
static inline uint32_t rv_csrs(unsigned csr, unsigned rs1)
{ return rv_csrrs(ZERO, csr, rs1); }
static inline uint32_t rv_csrc(unsigned csr, unsigned rs1)
{ return rv_csrrc(ZERO, csr, rs1); }

/* CSR numbers (priv spec 1.12 §2.2, tables 2.2–2.5). */
enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143, CSR_SIP = 0x144,
    CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14, CSR_MSTATUS = 0x300, CSR_MISA = 0x301,
    CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303, CSR_MIE = 0x304,
    CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343, CSR_MIP = 0x344, CSR_PMPCFG0 = 0x3a0,
    CSR_PMPADDR0 = 0x3b0, CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02,
};

/* mstatus bits (priv spec 1.12 §3.1.6). */
#define CT_SIE  (1ull << 1)
#define CT_MIE  (1ull << 3)
#define CT_SPIE (1ull << 5)
#define CT_MPIE (1ull << 7)
#define CT_SPP  (1ull << 8)
#define CT_MPP  (3ull << 11)
#define CT_FS   (3ull << 13)
#define CT_MPRV (1ull << 17)
#define CT_SUM  (1ull << 18)
#define CT_MXR  (1ull << 19)
#define CT_TVM  (1ull << 20)
#define CT_TW   (1ull << 21)
#define CT_TSR  (1ull << 22)
#define CT_UXL  (3ull << 32)
#define CT_SXL  (3ull << 34)
#define CT_SD   (1ull << 63)
#define CT_INTR (1ull << 63)    /* mcause interrupt bit */

/* ----------------------------------------------------------- A (§8) */

/* funct5 values of the AMO opcode; aq/rl left 0. */
enum {
    AMO_ADD = 0x00, AMO_SWAP = 0x01, AMO_LR = 0x02, AMO_SC = 0x03,
    AMO_XOR = 0x04, AMO_OR = 0x08, AMO_AND = 0x0c, AMO_MIN = 0x10,
    AMO_MAX = 0x14, AMO_MINU = 0x18, AMO_MAXU = 0x1c,
};

/* width: 2 = .W, 3 = .D. Operand order as in assembly: rd, rs2, (rs1). */
static inline uint32_t rv_amo(unsigned f5, unsigned width, unsigned rd,
                              unsigned rs2, unsigned rs1)
{ return rv_r(0x2f, width, f5 << 2, rd, rs1, rs2); }
static inline uint32_t rv_lr_w(unsigned rd, unsigned rs1)
{ return rv_amo(AMO_LR, 2, rd, 0, rs1); }
static inline uint32_t rv_lr_d(unsigned rd, unsigned rs1)
{ return rv_amo(AMO_LR, 3, rd, 0, rs1); }
static inline uint32_t rv_sc_w(unsigned rd, unsigned rs2, unsigned rs1)
{ return rv_amo(AMO_SC, 2, rd, rs2, rs1); }
static inline uint32_t rv_sc_d(unsigned rd, unsigned rs2, unsigned rs1)
{ return rv_amo(AMO_SC, 3, rd, rs2, rs1); }

/* ------------------------------------------------------ F/D (minimal) */

static inline uint32_t rv_fld(unsigned frd, unsigned base, int32_t off)
{ return rv_i(0x07, 3, frd, base, off); }
static inline uint32_t rv_fsd(unsigned frs, unsigned base, int32_t off)
{ return rv_s(0x27, 3, base, frs, off); }
static inline uint32_t rv_fmv_x_d(unsigned rd, unsigned frs)
{ return rv_r(0x53, 0, 0x71, rd, frs, 0); }
static inline uint32_t rv_fmv_d_x(unsigned frd, unsigned rs)
{ return rv_r(0x53, 0, 0x79, frd, rs, 0); }

/* --------------------------------------------------- RVC (§16) */

/* x8..x15 as the 3-bit register field of CIW/CL/CS/CA/CB. */
static inline unsigned rvc_r(unsigned r) { return (r - 8) & 7; }
static inline uint32_t rvc_bit(uint32_t v, unsigned from, unsigned to)
{ return ((v >> from) & 1) << to; }

/* Quadrant 0. */
static inline uint32_t rv_c_addi4spn(unsigned rd, unsigned uimm)
{
    return 0 << 13 | ((uimm >> 4) & 3) << 11 | ((uimm >> 6) & 15) << 7 |
           rvc_bit(uimm, 2, 6) | rvc_bit(uimm, 3, 5) | rvc_r(rd) << 2 | 0;
}
/* CL/CS with a doubleword offset (C.LD/C.SD/C.FLD/C.FSD): uimm[5:3|7:6]. */
static inline uint32_t rvc_cl_d(unsigned f3, unsigned r1, unsigned r2,
                                unsigned uimm, unsigned q)
{
    return f3 << 13 | ((uimm >> 3) & 7) << 10 | rvc_r(r1) << 7 |
           ((uimm >> 6) & 3) << 5 | rvc_r(r2) << 2 | q;
}
/* CL/CS with a word offset (C.LW/C.SW): uimm[5:3|2|6]. */
static inline uint32_t rvc_cl_w(unsigned f3, unsigned r1, unsigned r2,
                                unsigned uimm)
{
    return f3 << 13 | ((uimm >> 3) & 7) << 10 | rvc_r(r1) << 7 |
           rvc_bit(uimm, 2, 6) | rvc_bit(uimm, 6, 5) | rvc_r(r2) << 2;
}
static inline uint32_t rv_c_fld(unsigned frd, unsigned rs1, unsigned off)
{ return rvc_cl_d(1, rs1, frd, off, 0); }
static inline uint32_t rv_c_lw(unsigned rd, unsigned rs1, unsigned off)
{ return rvc_cl_w(2, rs1, rd, off); }
static inline uint32_t rv_c_ld(unsigned rd, unsigned rs1, unsigned off)
{ return rvc_cl_d(3, rs1, rd, off, 0); }
static inline uint32_t rv_c_fsd(unsigned frs2, unsigned rs1, unsigned off)
{ return rvc_cl_d(5, rs1, frs2, off, 0); }
static inline uint32_t rv_c_sw(unsigned rs2, unsigned rs1, unsigned off)
{ return rvc_cl_w(6, rs1, rs2, off); }
static inline uint32_t rv_c_sd(unsigned rs2, unsigned rs1, unsigned off)
{ return rvc_cl_d(7, rs1, rs2, off, 0); }

/* Quadrant 1. CI format: imm[5] at bit 12, imm[4:0] at bits 6:2. */
static inline uint32_t rvc_ci(unsigned f3, unsigned rd, int32_t imm,
                              unsigned q)
{
    uint32_t u = (uint32_t)imm;
    return f3 << 13 | rvc_bit(u, 5, 12) | (rd & 31) << 7 | (u & 31) << 2 | q;
}
static inline uint32_t rv_c_nop(void) { return rvc_ci(0, 0, 0, 1); }
static inline uint32_t rv_c_addi(unsigned rd, int32_t imm)
{ return rvc_ci(0, rd, imm, 1); }
static inline uint32_t rv_c_addiw(unsigned rd, int32_t imm)
{ return rvc_ci(1, rd, imm, 1); }
static inline uint32_t rv_c_li(unsigned rd, int32_t imm)
{ return rvc_ci(2, rd, imm, 1); }
/* nzimm is the byte offset (multiple of 16). */
static inline uint32_t rv_c_addi16sp(int32_t nzimm)
{
    uint32_t u = (uint32_t)nzimm;
    return 3 << 13 | rvc_bit(u, 9, 12) | 2 << 7 | rvc_bit(u, 4, 6) |
           rvc_bit(u, 6, 5) | ((u >> 7) & 3) << 3 | rvc_bit(u, 5, 2) | 1;
}
/* imm6 is the 6-bit signed value of nzimm[17:12]. */
static inline uint32_t rv_c_lui(unsigned rd, int32_t imm6)
{ return rvc_ci(3, rd, imm6, 1); }
static inline uint32_t rvc_cb_alu(unsigned f2, unsigned rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return 4 << 13 | rvc_bit(u, 5, 12) | f2 << 10 | rvc_r(rd) << 7 |
           (u & 31) << 2 | 1;
}
static inline uint32_t rv_c_srli(unsigned rd, unsigned sh)
{ return rvc_cb_alu(0, rd, (int32_t)sh); }
static inline uint32_t rv_c_srai(unsigned rd, unsigned sh)
{ return rvc_cb_alu(1, rd, (int32_t)sh); }
static inline uint32_t rv_c_andi(unsigned rd, int32_t imm)
{ return rvc_cb_alu(2, rd, imm); }
static inline uint32_t rvc_ca(unsigned b12, unsigned f2, unsigned rd,
                              unsigned rs2)
{
    return 4 << 13 | b12 << 12 | 3 << 10 | rvc_r(rd) << 7 | f2 << 5 |
           rvc_r(rs2) << 2 | 1;
}
static inline uint32_t rv_c_sub(unsigned rd, unsigned rs2) { return rvc_ca(0, 0, rd, rs2); }
static inline uint32_t rv_c_xor(unsigned rd, unsigned rs2) { return rvc_ca(0, 1, rd, rs2); }
static inline uint32_t rv_c_or(unsigned rd, unsigned rs2) { return rvc_ca(0, 2, rd, rs2); }
static inline uint32_t rv_c_and(unsigned rd, unsigned rs2) { return rvc_ca(0, 3, rd, rs2); }
static inline uint32_t rv_c_subw(unsigned rd, unsigned rs2) { return rvc_ca(1, 0, rd, rs2); }
static inline uint32_t rv_c_addw(unsigned rd, unsigned rs2) { return rvc_ca(1, 1, rd, rs2); }
/* C.J offset: imm[11|4|9:8|10|6|7|3:1|5] in bits 12:2. */
static inline uint32_t rv_c_j(int32_t off)
{
    uint32_t u = (uint32_t)off;
    return 5 << 13 | rvc_bit(u, 11, 12) | rvc_bit(u, 4, 11) |
           ((u >> 8) & 3) << 9 | rvc_bit(u, 10, 8) | rvc_bit(u, 6, 7) |
           rvc_bit(u, 7, 6) | ((u >> 1) & 7) << 3 | rvc_bit(u, 5, 2) | 1;
}
/* C.BEQZ/C.BNEZ offset: imm[8|4:3] in 12:10, imm[7:6|2:1|5] in 6:2. */
static inline uint32_t rvc_cb_br(unsigned f3, unsigned rs1, int32_t off)
{
    uint32_t u = (uint32_t)off;
    return f3 << 13 | rvc_bit(u, 8, 12) | ((u >> 3) & 3) << 10 |
           rvc_r(rs1) << 7 | ((u >> 6) & 3) << 5 | ((u >> 1) & 3) << 3 |
           rvc_bit(u, 5, 2) | 1;
}
static inline uint32_t rv_c_beqz(unsigned rs1, int32_t off) { return rvc_cb_br(6, rs1, off); }
static inline uint32_t rv_c_bnez(unsigned rs1, int32_t off) { return rvc_cb_br(7, rs1, off); }

/* Quadrant 2. */
static inline uint32_t rv_c_slli(unsigned rd, unsigned sh)
{ return rvc_ci(0, rd, (int32_t)sh, 2); }
/* SP-relative loads, doubleword: uimm[5] at 12, uimm[4:3|8:6] at 6:2. */
static inline uint32_t rvc_lsp_d(unsigned f3, unsigned rd, unsigned uimm)
{
    return f3 << 13 | rvc_bit(uimm, 5, 12) | (rd & 31) << 7 |
           ((uimm >> 3) & 3) << 5 | ((uimm >> 6) & 7) << 2 | 2;
}
static inline uint32_t rv_c_fldsp(unsigned frd, unsigned off) { return rvc_lsp_d(1, frd, off); }
static inline uint32_t rv_c_ldsp(unsigned rd, unsigned off) { return rvc_lsp_d(3, rd, off); }
/* C.LWSP: uimm[5] at 12, uimm[4:2|7:6] at 6:2. */
static inline uint32_t rv_c_lwsp(unsigned rd, unsigned uimm)
{
    return 2 << 13 | rvc_bit(uimm, 5, 12) | (rd & 31) << 7 |
           ((uimm >> 2) & 7) << 4 | ((uimm >> 6) & 3) << 2 | 2;
}
static inline uint32_t rv_c_jr(unsigned rs1) { return 4u << 13 | (rs1 & 31) << 7 | 2; }
static inline uint32_t rv_c_mv(unsigned rd, unsigned rs2)
{ return 4u << 13 | (rd & 31) << 7 | (rs2 & 31) << 2 | 2; }
static inline uint32_t rv_c_ebreak(void) { return 0x9002; }
static inline uint32_t rv_c_jalr(unsigned rs1) { return 4u << 13 | 1u << 12 | (rs1 & 31) << 7 | 2; }
static inline uint32_t rv_c_add(unsigned rd, unsigned rs2)
{ return 4u << 13 | 1u << 12 | (rd & 31) << 7 | (rs2 & 31) << 2 | 2; }
/* SP-relative stores, doubleword: uimm[5:3|8:6] at 12:7. */
static inline uint32_t rvc_ssp_d(unsigned f3, unsigned rs2, unsigned uimm)
{
    return f3 << 13 | ((uimm >> 3) & 7) << 10 | ((uimm >> 6) & 7) << 7 |
           (rs2 & 31) << 2 | 2;
}
static inline uint32_t rv_c_fsdsp(unsigned frs2, unsigned off) { return rvc_ssp_d(5, frs2, off); }
static inline uint32_t rv_c_sdsp(unsigned rs2, unsigned off) { return rvc_ssp_d(7, rs2, off); }
/* C.SWSP: uimm[5:2|7:6] at 12:7. */
static inline uint32_t rv_c_swsp(unsigned rs2, unsigned uimm)
{
    return 6u << 13 | ((uimm >> 2) & 15) << 9 | ((uimm >> 6) & 3) << 7 |
           (rs2 & 31) << 2 | 2;
}

/* ============================================================ harness */

#define CT_RAM_BASE 0x80000000ull
#define CT_RAM_SIZE (4ull << 20)
#define CT_CODE     0x80000000ull   /* reset pc: the test's code */
#define CT_MTRAP    0x80010000ull   /* M handler: record, halt */
#define CT_STRAP    0x80010100ull   /* S handler: record, halt */
#define CT_MSKIP    0x80010200ull   /* M handler: record, skip insn, mret */
#define CT_HALT     0x80010300ull   /* `j .`: where ct_run stops */
#define CT_DATA     0x80100000ull   /* scratch data (1 MiB) */
#define CT_PT       0x80200000ull   /* page-table pool (2 MiB) */

/* Registers the canned handlers write: cause, epc, tval, status. */
#define CT_RCAUSE T3
#define CT_REPC   T4
#define CT_RTVAL  T5
#define CT_RSTAT  T6

struct ct {
    struct machine m;
    struct hart *h;
    uint64_t at;        /* assembly cursor (guest physical address) */
    uint64_t pt_next;   /* next free page in the page-table pool */
};

static inline void *ct_ptr(struct ct *t, uint64_t pa)
{
    return machine_ram_ptr(&t->m, pa, 8);
}

static inline uint64_t ct_r64(struct ct *t, uint64_t pa)
{
    uint64_t v;
    memcpy(&v, ct_ptr(t, pa), 8);
    return v;
}

static inline void ct_w64(struct ct *t, uint64_t pa, uint64_t v)
{
    memcpy(ct_ptr(t, pa), &v, 8);
}

static inline uint32_t ct_r32(struct ct *t, uint64_t pa)
{
    uint32_t v;
    memcpy(&v, ct_ptr(t, pa), 4);
    return v;
}

static inline void ct_org(struct ct *t, uint64_t pa) { t->at = pa; }

/* Emit one instruction: 4 bytes if its low bits are 11, else 2 (RVC). */
static inline void ct_emit(struct ct *t, uint32_t w)
{
    unsigned len = (w & 3) == 3 ? 4 : 2;
    memcpy(machine_ram_ptr(&t->m, t->at, len), &w, len);
    t->at += len;
}

#define ct_asm(t, ...)                                                       \
    do {                                                                     \
        const uint32_t ct_w_[] = { __VA_ARGS__ };                            \
        for (size_t ct_i_ = 0; ct_i_ < sizeof ct_w_ / sizeof ct_w_[0]; ct_i_++) \
            ct_emit((t), ct_w_[ct_i_]);                                      \
    } while (0)

/* Load a 64-bit constant: lui/addiw for 32-bit values, else build the high
 * part recursively and shift in 12 bits at a time (like `li`). */
static inline void ct_li(struct ct *t, unsigned rd, uint64_t v)
{
    int64_t s = (int64_t)v;
    if (s >= -2048 && s < 2048) {
        ct_emit(t, rv_addi(rd, ZERO, (int32_t)s));
        return;
    }
    if (s >= INT32_MIN && s <= INT32_MAX) {
        int32_t lo = (int32_t)((uint32_t)v << 20) >> 20;
        uint32_t hi = (uint32_t)((s - lo) >> 12) & 0xfffff;
        ct_emit(t, rv_lui(rd, hi));
        if (lo)
            ct_emit(t, rv_addiw(rd, rd, lo));
        return;
    }
    int32_t lo = (int32_t)((uint32_t)v << 20) >> 20;
    ct_li(t, rd, (uint64_t)((s - lo) >> 12));
    ct_emit(t, rv_slli(rd, rd, 12));
    if (lo)
        ct_emit(t, rv_addi(rd, rd, lo));
}

/* Emit `jal rd, target` from the cursor (target within ±1 MiB). */
static inline void ct_jal_to(struct ct *t, unsigned rd, uint64_t target)
{
    ct_emit(t, rv_jal(rd, (int32_t)(target - t->at)));
}

/* Write a canned handler at `at`: record cause/epc/tval/status of the trap
 * in T3..T6 (csr numbers by mode), then halt or skip-and-return. */
static inline void ct_handler(struct ct *t, uint64_t at, unsigned cause_csr,
                              bool skip)
{
    ct_org(t, at);
    ct_asm(t, rv_csrr(CT_RCAUSE, cause_csr), rv_csrr(CT_REPC, cause_csr - 1),
           rv_csrr(CT_RTVAL, cause_csr + 1),
           rv_csrr(CT_RSTAT, cause_csr == CSR_MCAUSE ? CSR_MSTATUS : CSR_SSTATUS));
    if (!skip) {
        ct_jal_to(t, ZERO, CT_HALT);
        return;
    }
    /* Skip the trapping instruction: +2 or +4 by its low bits (RVC §16.1). */
    ct_asm(t, rv_lhu(CT_RSTAT, CT_REPC, 0), rv_andi(CT_RSTAT, CT_RSTAT, 3),
           rv_addi(CT_RTVAL, ZERO, 3), rv_addi(CT_REPC, CT_REPC, 2),
           rv_bne(CT_RSTAT, CT_RTVAL, 8), rv_addi(CT_REPC, CT_REPC, 2),
           rv_csrw(CSR_MEPC, CT_REPC), rv_csrr(CT_RTVAL, CSR_MTVAL),
           rv_csrr(CT_RSTAT, CSR_MSTATUS), rv_mret());
}

/* A fresh machine: 4 MiB of zeroed RAM at 0x80000000, one hart reset to
 * CT_CODE in M-mode, the canned handlers in place, mtvec = CT_MTRAP and
 * stvec = CT_STRAP already emitted at CT_CODE; the cursor follows them. */
static inline struct ct *ct_new(void)
{
    struct ct *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    clock_timebase_init();
    t->m.ram = aligned_alloc(4096, CT_RAM_SIZE);
    if (!t->m.ram) {
        free(t);
        return NULL;
    }
    memset(t->m.ram, 0, CT_RAM_SIZE);
    t->m.ram_base = CT_RAM_BASE;
    t->m.ram_size = CT_RAM_SIZE;
    t->h = hart_create(&t->m, 0);
    if (!t->h) {
        free(t->m.ram);
        free(t);
        return NULL;
    }
    t->m.nharts = 1;
    t->m.harts[0] = t->h;
    t->pt_next = CT_PT;
    hart_reset(t->h, CT_CODE, 0, 0, 0);

    ct_handler(t, CT_MTRAP, CSR_MCAUSE, false);
    ct_handler(t, CT_STRAP, CSR_SCAUSE, false);
    ct_handler(t, CT_MSKIP, CSR_MCAUSE, true);
    ct_org(t, CT_HALT);
    ct_emit(t, rv_jal(ZERO, 0));

    /* Like firmware: PMP entry 0 = NAPOT over all memory, RWX, so S and U
     * may access anything (priv §3.7.1: with PMP implemented and no entry
     * matching, S/U accesses fail; QEMU 7.2 even refuses the mret). */
    ct_org(t, CT_CODE);
    ct_li(t, T0, -1);
    ct_emit(t, rv_csrw(CSR_PMPADDR0, T0));
    ct_li(t, T0, 0x1f);
    ct_emit(t, rv_csrw(CSR_PMPCFG0, T0));
    ct_li(t, T0, CT_MTRAP);
    ct_emit(t, rv_csrw(CSR_MTVEC, T0));
    ct_li(t, T0, CT_STRAP);
    ct_emit(t, rv_csrw(CSR_STVEC, T0));
    return t;
}

static inline void ct_free(struct ct *t)
{
    if (!t)
        return;
    hart_destroy(t->h);
    free(t->m.ram);
    free(t);
}

/* Emit the switch from M-mode to `prv` at `target`: MPP = prv, mepc =
 * target, mret (priv §3.3.2). Clobbers T0. */
static inline void ct_enter(struct ct *t, unsigned prv, uint64_t target)
{
    ct_li(t, T0, CT_MPP);
    ct_emit(t, rv_csrc(CSR_MSTATUS, T0));
    ct_li(t, T0, (uint64_t)prv << 11);
    ct_emit(t, rv_csrs(CSR_MSTATUS, T0));
    ct_li(t, T0, target);
    ct_emit(t, rv_csrw(CSR_MEPC, T0));
    ct_emit(t, rv_mret());
}

/* Emit `csrw csr, value` via T0. */
static inline void ct_csrw_imm(struct ct *t, unsigned csr, uint64_t v)
{
    ct_li(t, T0, v);
    ct_emit(t, rv_csrw(csr, T0));
}

/* Emit a jump to CT_HALT from the cursor. */
static inline void ct_halt(struct ct *t) { ct_jal_to(t, ZERO, CT_HALT); }

/* Step one instruction at a time until pc == CT_HALT; at most `max` steps.
 * True when the hart reached CT_HALT. */
static inline bool ct_run(struct ct *t, uint64_t max)
{
    for (uint64_t i = 0; i < max; i++) {
        if (hart_get_pc(t->h) == CT_HALT)
            return true;
        if (hart_step(t->h, 1) == 0 && hart_get_pc(t->h) != CT_HALT)
            return false;   /* asleep in WFI */
    }
    return hart_get_pc(t->h) == CT_HALT;
}

/* Step until pc == `pc` (at most `max` steps). */
static inline bool ct_run_to(struct ct *t, uint64_t pc, uint64_t max)
{
    for (uint64_t i = 0; i < max; i++) {
        if (hart_get_pc(t->h) == pc)
            return true;
        if (hart_step(t->h, 1) == 0 && hart_get_pc(t->h) != pc)
            return false;
    }
    return hart_get_pc(t->h) == pc;
}

static inline uint64_t ct_x(struct ct *t, unsigned r) { return hart_get_x(t->h, r); }

/* Value CT_RR returns when the instruction trapped or never finished. */
#define CT_POISON 0xdeadbeefdeadbeefull

/* Run one instruction `insn` (written with rd = A0, rs1 = A1, rs2 = A2) in
 * M-mode on a fresh machine with a1 = a, a2 = b; return a0, or CT_POISON
 * if it trapped. */
static inline uint64_t ct_rr(uint32_t insn, uint64_t a, uint64_t b)
{
    struct ct *t = ct_new();
    if (!t)
        return CT_POISON;
    ct_emit(t, insn);
    ct_halt(t);
    hart_set_x(t->h, A1, a);
    hart_set_x(t->h, A2, b);
    hart_set_x(t->h, CT_REPC, 0);
    uint64_t r = CT_POISON;
    if (ct_run(t, 100) && hart_get_x(t->h, CT_REPC) == 0)
        r = hart_get_x(t->h, A0);
    ct_free(t);
    return r;
}

/* A table of one-instruction cases for ct_rr(): a0 = insn(a1 = a, a2 = b)
 * must be `want`. Every case is checked (cr_expect), each failure named. */
struct ct_case {
    const char *name;
    uint32_t insn;
    uint64_t a, b, want;
};

static inline void ct_run_cases(const struct ct_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t got = ct_rr(c[i].insn, c[i].a, c[i].b);
        cr_expect_eq(got, c[i].want, "%s: a=0x%llx b=0x%llx got 0x%llx want 0x%llx",
                     c[i].name, (unsigned long long)c[i].a,
                     (unsigned long long)c[i].b, (unsigned long long)got,
                     (unsigned long long)c[i].want);
    }
}
#define CT_RUN(tab) ct_run_cases(tab, sizeof tab / sizeof tab[0])

/* ------------------------------------------------------- page tables */

/* PTE bits (priv spec 1.12 §4.3.1). */
#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)

#define SATP_SV39 (8ull << 60)
#define SATP_SV48 (9ull << 60)

/* A zeroed 4 KiB page from the pool (physical address). */
static inline uint64_t ct_page(struct ct *t)
{
    uint64_t pa = t->pt_next;
    t->pt_next += 4096;
    memset(ct_ptr(t, pa), 0, 4096);
    return pa;
}

static inline uint64_t ct_pte(uint64_t pa, uint64_t flags)
{
    return (pa >> 12) << 10 | flags;
}

/* Map va → pa with a leaf at `level` (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB...)
 * in the `levels`-level table rooted at `root` (3 = Sv39, 4 = Sv48);
 * intermediate tables come from the pool. Returns the leaf PTE's address. */
static inline uint64_t ct_map(struct ct *t, uint64_t root, unsigned levels,
                              uint64_t va, uint64_t pa, unsigned level,
                              uint64_t flags)
{
    uint64_t table = root;
    for (unsigned l = levels - 1;; l--) {
        uint64_t slot = table + ((va >> (12 + 9 * l)) & 511) * 8;
        if (l == level) {
            ct_w64(t, slot, ct_pte(pa, flags));
            return slot;
        }
        uint64_t pte = ct_r64(t, slot);
        if (!(pte & PTE_V)) {
            pte = ct_pte(ct_page(t), PTE_V);
            ct_w64(t, slot, pte);
        }
        table = (pte >> 10) << 12;
    }
}

#endif
