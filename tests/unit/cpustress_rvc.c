/*
 * tests/unit/cpustress_rvc.c — black-box tests of the C extension: every
 * 16-bit encoding of quadrants 0–2 executes exactly like its 32-bit
 * expansion, and every reserved encoding raises an illegal-instruction
 * trap whose mtval is the 16-bit instruction.
 *
 * The reference expander below is written from the spec's tables (unpriv
 * 20191213 §16.8). During development its reserved set was checked against
 * QEMU 7.2 (all 49152 halfwords executed on qemu-system-riscv64: identical)
 * and its expansions against binutils' disassembly (identical up to how
 * HINTs are printed).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "tests/unit/cputest.h"

static int32_t rvc_sext(uint32_t v, unsigned bits)
{
    return (int32_t)(v << (32 - bits)) >> (32 - bits);
}

/* Bits hi..lo of c, as a value. */
static uint32_t rvc_f(uint32_t c, unsigned hi, unsigned lo)
{
    return (c >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static uint32_t rvc_expand_q0(uint32_t c)
{
    unsigned rdp = 8 + rvc_f(c, 4, 2), rs1p = 8 + rvc_f(c, 9, 7);
    uint32_t ud = rvc_f(c, 12, 10) << 3 | rvc_f(c, 6, 5) << 6;  /* C.LD etc. */
    uint32_t uw = rvc_f(c, 12, 10) << 3 | rvc_f(c, 6, 6) << 2 | rvc_f(c, 5, 5) << 6;
    switch (rvc_f(c, 15, 13)) {
    case 0: {   /* C.ADDI4SPN: nzuimm[5:4|9:6|2|3] */
        uint32_t u = rvc_f(c, 12, 11) << 4 | rvc_f(c, 10, 7) << 6 |
                     rvc_f(c, 6, 6) << 2 | rvc_f(c, 5, 5) << 3;
        return u ? rv_addi(rdp, SP, (int32_t)u) : 0;
    }
    case 1: return rv_fld(rdp, rs1p, (int32_t)ud);
    case 2: return rv_lw(rdp, rs1p, (int32_t)uw);
    case 3: return rv_ld(rdp, rs1p, (int32_t)ud);
    case 5: return rv_fsd(rdp, rs1p, (int32_t)ud);
    case 6: return rv_sw(rdp, rs1p, (int32_t)uw);
    case 7: return rv_sd(rdp, rs1p, (int32_t)ud);
    default: return 0;  /* 100: reserved */
    }
}

static uint32_t rvc_expand_q1_alu(uint32_t c)
{
    unsigned rd = 8 + rvc_f(c, 9, 7), rs2 = 8 + rvc_f(c, 4, 2);
    unsigned sh = rvc_f(c, 12, 12) << 5 | rvc_f(c, 6, 2);
    int32_t imm = rvc_sext(rvc_f(c, 12, 12) << 5 | rvc_f(c, 6, 2), 6);
    switch (rvc_f(c, 11, 10)) {
    case 0: return rv_srli(rd, rd, sh);
    case 1: return rv_srai(rd, rd, sh);
    case 2: return rv_andi(rd, rd, imm);
    }
    switch (rvc_f(c, 12, 12) << 2 | rvc_f(c, 6, 5)) {
    case 0: return rv_sub(rd, rd, rs2);
    case 1: return rv_xor(rd, rd, rs2);
    case 2: return rv_or(rd, rd, rs2);
    case 3: return rv_and(rd, rd, rs2);
    case 4: return rv_subw(rd, rd, rs2);
    case 5: return rv_addw(rd, rd, rs2);
    default: return 0;  /* reserved */
    }
}

static uint32_t rvc_expand_q1(uint32_t c)
{
    unsigned rd = rvc_f(c, 11, 7), rs1p = 8 + rvc_f(c, 9, 7);
    int32_t imm = rvc_sext(rvc_f(c, 12, 12) << 5 | rvc_f(c, 6, 2), 6);
    /* C.J: imm[11|4|9:8|10|6|7|3:1|5] */
    int32_t jo = rvc_sext(rvc_f(c, 12, 12) << 11 | rvc_f(c, 11, 11) << 4 |
                          rvc_f(c, 10, 9) << 8 | rvc_f(c, 8, 8) << 10 |
                          rvc_f(c, 7, 7) << 6 | rvc_f(c, 6, 6) << 7 |
                          rvc_f(c, 5, 3) << 1 | rvc_f(c, 2, 2) << 5, 12);
    /* C.BEQZ/BNEZ: imm[8|4:3] imm[7:6|2:1|5] */
    int32_t bo = rvc_sext(rvc_f(c, 12, 12) << 8 | rvc_f(c, 11, 10) << 3 |
                          rvc_f(c, 6, 5) << 6 | rvc_f(c, 4, 3) << 1 |
                          rvc_f(c, 2, 2) << 5, 9);
    switch (rvc_f(c, 15, 13)) {
    case 0: return rv_addi(rd, rd, imm);            /* C.NOP/C.ADDI (hints) */
    case 1: return rd ? rv_addiw(rd, rd, imm) : 0;  /* rd=0 reserved */
    case 2: return rv_addi(rd, ZERO, imm);          /* C.LI */
    case 3:
        if (rd == SP) {     /* C.ADDI16SP: nzimm[9|4|6|8:7|5] */
            int32_t n = rvc_sext(rvc_f(c, 12, 12) << 9 | rvc_f(c, 6, 6) << 4 |
                                 rvc_f(c, 5, 5) << 6 | rvc_f(c, 4, 3) << 7 |
                                 rvc_f(c, 2, 2) << 5, 10);
            return n ? rv_addi(SP, SP, n) : 0;
        }
        return imm ? rv_lui(rd, (uint32_t)imm & 0xfffff) : 0;
    case 4: return rvc_expand_q1_alu(c);
    case 5: return rv_jal(ZERO, jo);
    case 6: return rv_beq(rs1p, ZERO, bo);
    default: return rv_bne(rs1p, ZERO, bo);
    }
}

static uint32_t rvc_expand_q2(uint32_t c)
{
    unsigned rd = rvc_f(c, 11, 7), rs2 = rvc_f(c, 6, 2);
    unsigned b12 = rvc_f(c, 12, 12);
    uint32_t ldsp = b12 << 5 | rvc_f(c, 6, 5) << 3 | rvc_f(c, 4, 2) << 6;
    uint32_t lwsp = b12 << 5 | rvc_f(c, 6, 4) << 2 | rvc_f(c, 3, 2) << 6;
    uint32_t sdsp = rvc_f(c, 12, 10) << 3 | rvc_f(c, 9, 7) << 6;
    uint32_t swsp = rvc_f(c, 12, 9) << 2 | rvc_f(c, 8, 7) << 6;
    switch (rvc_f(c, 15, 13)) {
    case 0: return rv_slli(rd, rd, b12 << 5 | rs2);
    case 1: return rv_fld(rd, SP, (int32_t)ldsp);
    case 2: return rd ? rv_lw(rd, SP, (int32_t)lwsp) : 0;
    case 3: return rd ? rv_ld(rd, SP, (int32_t)ldsp) : 0;
    case 4:
        if (!b12 && !rs2)
            return rd ? rv_jalr(ZERO, rd, 0) : 0;   /* C.JR, rs1=0 reserved */
        if (!b12)
            return rv_add(rd, ZERO, rs2);           /* C.MV */
        if (!rd && !rs2)
            return rv_ebreak();
        if (!rs2)
            return rv_jalr(RA, rd, 0);              /* C.JALR */
        return rv_add(rd, rd, rs2);                 /* C.ADD */
    case 5: return rv_fsd(rs2, SP, (int32_t)sdsp);
    case 6: return rv_sw(rs2, SP, (int32_t)swsp);
    default: return rv_sd(rs2, SP, (int32_t)sdsp);
    }
}

/* The 32-bit instruction a compressed halfword stands for (unpriv spec
 * 20191213 §16.8 tables 16.5–16.7), or 0 for a reserved encoding. */
static uint32_t rvc_expand(uint32_t c)
{
    switch (c & 3) {
    case 0: return rvc_expand_q0(c);
    case 1: return rvc_expand_q1(c);
    case 2: return rvc_expand_q2(c);
    default: return 0;
    }
}

/* ------------------------------------------------------------ the sweep
 *
 * Every halfword c (low bits != 11) gets an 8-byte slot holding c and then
 * `jal x0, SW_DISPATCH`; its expansion gets a slot in a second array. All
 * code is written before the hart runs, so no decode cache can go stale.
 * To run one instruction: from SW_DISPATCH (`jalr x0, 0(x31)`) jump to the
 * slot, load the case's registers through the API, step once, record.
 */
#define SW_CBASE    0x80020000ull   /* compressed slots */
#define SW_EBASE    0x80080000ull   /* expansion slots */
#define SW_DISPATCH 0x800e0000ull
#define SW_TRAP     0x800e0100ull
#define SW_SETUP    0x800e0200ull
#define SW_DATA     CT_DATA
#define SW_DATA_LEN 0x1000

struct sw_res {
    bool trapped;
    uint64_t cause, epc, tval, pc;
    uint64_t x[32];
    uint8_t mem[SW_DATA_LEN];
};

struct sw {
    struct ct *t;
    uint8_t pristine[SW_DATA_LEN];
    struct sw_res rc, re;
    unsigned nbad;
};

static uint64_t sw_slot(uint64_t base, uint32_t c)
{
    return base + ((uint64_t)(c >> 2) * 3 + (c & 3)) * 8;
}

static void sw_prepare(struct sw *s)
{
    struct ct *t = s->t;
    for (uint32_t c = 0; c < 0x10000; c++) {
        if ((c & 3) == 3)
            continue;
        ct_org(t, sw_slot(SW_CBASE, c));
        ct_emit(t, c);
        ct_jal_to(t, ZERO, SW_DISPATCH);
        uint32_t e = rvc_expand(c);
        if (e) {
            ct_org(t, sw_slot(SW_EBASE, c));
            ct_emit(t, e);
            ct_jal_to(t, ZERO, SW_DISPATCH);
        }
    }
    ct_org(t, SW_DISPATCH);
    ct_emit(t, rv_jalr(ZERO, T6, 0));
    ct_org(t, SW_TRAP);
    ct_asm(t, rv_csrr(T3, CSR_MCAUSE), rv_csrr(T4, CSR_MEPC),
           rv_csrr(T5, CSR_MTVAL));
    ct_jal_to(t, ZERO, SW_DISPATCH);
    ct_org(t, SW_SETUP);
    ct_asm(t, rv_csrw(CSR_MTVEC, T5), rv_csrs(CSR_MSTATUS, T4));
    ct_jal_to(t, ZERO, SW_DISPATCH);

    uint64_t seed = 0x243f6a8885a308d3ull;
    for (unsigned i = 0; i < SW_DATA_LEN; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        s->pristine[i] = (uint8_t)seed;
    }
}

/* Put the hart at SW_DISPATCH in M-mode with mtvec = SW_TRAP, FS on. */
static void sw_home(struct sw *s)
{
    struct hart *h = s->t->h;
    hart_reset(h, SW_SETUP, 0, 0, 0);
    hart_set_x(h, T5, SW_TRAP);
    hart_set_x(h, T4, CT_FS & (1ull << 13));   /* FS = Initial */
    hart_step(h, 3);
}

static void sw_exec(struct sw *s, uint64_t slot, const uint64_t *regs,
                    struct sw_res *r)
{
    struct hart *h = s->t->h;
    if (hart_get_pc(h) != SW_DISPATCH)
        sw_home(s);
    hart_set_x(h, T6, slot);
    hart_step(h, 1);
    for (unsigned i = 1; i < 32; i++)
        hart_set_x(h, i, regs[i]);
    memcpy(ct_ptr(s->t, SW_DATA), s->pristine, SW_DATA_LEN);
    /* ct_ptr checks 8 bytes; the whole window is inside RAM by layout. */

    r->epc = r->cause = r->tval = 0;
    hart_step(h, 1);
    r->pc = hart_get_pc(h);
    for (unsigned i = 0; i < 32; i++)
        r->x[i] = hart_get_x(h, i);
    memcpy(r->mem, ct_ptr(s->t, SW_DATA), SW_DATA_LEN);
    r->trapped = r->pc == SW_TRAP;
    if (r->trapped) {
        hart_step(h, 4);
        r->cause = hart_get_x(h, T3);
        r->epc = hart_get_x(h, T4);
        r->tval = hart_get_x(h, T5);
    } else if (r->pc - slot <= 4) {
        hart_step(h, 1);    /* the slot's jal back to SW_DISPATCH */
    }
}

/* Registers for a case: random values; in `valid_bases` mode sp and
 * x8..x15 point into the data window so loads and stores succeed. */
static void sw_regs(uint32_t c, bool valid_bases, uint64_t *regs)
{
    uint64_t v = 0x9e3779b97f4a7c15ull * (c + 1) + (valid_bases ? 7 : 0);
    regs[0] = 0;
    for (unsigned i = 1; i < 32; i++) {
        v ^= v << 13, v ^= v >> 7, v ^= v << 17;
        regs[i] = (i % 5 == 0) ? (uint64_t)(int64_t)(int32_t)v : v;
    }
    if (valid_bases) {
        regs[SP] = SW_DATA + 0x100;
        for (unsigned i = 8; i < 16; i++)
            regs[i] = SW_DATA + 0x400 + (i - 8) * 0x100;
    }
}

static void sw_bad(struct sw *s, uint32_t c, const char *what, uint64_t got,
                   uint64_t want)
{
    if (s->nbad++ < 40)
        cr_log_error("c=0x%04x (expands to 0x%08x): %s = 0x%llx, want 0x%llx",
                     c, rvc_expand(c), what, (unsigned long long)got,
                     (unsigned long long)want);
}

/* Check a reserved encoding's outcome: illegal instruction, tval = c. */
static void sw_check_reserved(struct sw *s, uint32_t c, const uint64_t *regs)
{
    const struct sw_res *r = &s->rc;
    uint64_t slot = sw_slot(SW_CBASE, c);
    if (!r->trapped) {
        sw_bad(s, c, "reserved encoding did not trap; pc", r->pc, SW_TRAP);
        return;
    }
    if (r->cause != EXC_ILLEGAL)
        sw_bad(s, c, "mcause", r->cause, EXC_ILLEGAL);
    if (r->tval != c)
        sw_bad(s, c, "mtval", r->tval, c);
    if (r->epc != slot)
        sw_bad(s, c, "mepc", r->epc, slot);
    for (unsigned i = 1; i < 32; i++)
        if (r->x[i] != regs[i])
            sw_bad(s, c, "register changed by trapping insn", i, 0);
}

/* Compare the compressed run with its expansion's run (same registers
 * `regs` on entry). */
static void sw_check_pair(struct sw *s, uint32_t c, const uint64_t *regs)
{
    const struct sw_res *a = &s->rc, *b = &s->re;
    uint32_t e = rvc_expand(c);
    uint64_t sc = sw_slot(SW_CBASE, c), se = sw_slot(SW_EBASE, c);
    unsigned op = e & 0x7f, link = (op == 0x6f || op == 0x67) ? (e >> 7) & 31 : 0;

    if (a->trapped != b->trapped) {
        sw_bad(s, c, "trapped", a->trapped, b->trapped);
        return;
    }
    if (a->trapped) {
        if (a->cause != b->cause)
            sw_bad(s, c, "mcause", a->cause, b->cause);
        /* A breakpoint's tval is 0 or the pc (priv §3.1.16): the slots'
         * pcs differ, so compare relative to them. ebreak's exact tval
         * has its own test in cpustress_trap.c. */
        bool pcrel = a->cause == EXC_BREAKPOINT && b->tval == se;
        if (pcrel ? a->tval != sc : a->tval != b->tval)
            sw_bad(s, c, "mtval", a->tval, pcrel ? sc : b->tval);
        if (a->epc != sc)
            sw_bad(s, c, "mepc", a->epc, sc);
    } else if (op == 0x63) {
        /* C.BEQZ/C.BNEZ: decide taken from the input register, since a
         * taken branch by +4 and the fall-through look alike in E. */
        bool zero = regs[(e >> 15) & 31] == 0;
        bool taken = ((e >> 12) & 7) == 0 ? zero : !zero;
        uint64_t want = taken ? sc + (b->pc - se) : sc + 2;
        if (a->pc != want)
            sw_bad(s, c, "branch pc - insn", a->pc - sc, want - sc);
    } else if (op != 0x6f && op != 0x67 && b->pc == se + 4) {
        if (a->pc != sc + 2)
            sw_bad(s, c, "pc - insn", a->pc - sc, 2);
    } else if (op == 0x67) {
        if (a->pc != b->pc)
            sw_bad(s, c, "jump target", a->pc, b->pc);
    } else if (a->pc - sc != b->pc - se) {
        sw_bad(s, c, "pc-relative target - insn", a->pc - sc, b->pc - se);
    }
    for (unsigned i = 1; i < 32; i++) {
        if (!a->trapped && i == link) {
            if (a->x[i] != sc + 2)
                sw_bad(s, c, "link register - insn", a->x[i] - sc, 2);
        } else if (a->x[i] != b->x[i]) {
            char what[48];
            snprintf(what, sizeof what, "x%u", i);
            sw_bad(s, c, what, a->x[i], b->x[i]);
        }
    }
    for (unsigned i = 0; i < SW_DATA_LEN; i++)
        if (a->mem[i] != b->mem[i]) {
            sw_bad(s, c, "memory byte at data offset", i, i);
            break;
        }
}

/* Run every halfword of quadrant q (or every reserved one if q < 0). */
static unsigned sw_sweep(int q)
{
    struct sw *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->t = ct_new();
    cr_assert_not_null(s->t);
    sw_prepare(s);
    uint64_t regs[32];
    unsigned cases = 0;
    for (uint32_t c = 0; c < 0x10000; c++) {
        uint32_t e = rvc_expand(c);
        if ((c & 3) == 3 || (q >= 0 && (c & 3) != (unsigned)q) ||
            (q < 0 && e))
            continue;
        for (int pass = 0; pass < 2; pass++) {
            sw_regs(c, pass == 0, regs);
            sw_exec(s, sw_slot(SW_CBASE, c), regs, &s->rc);
            if (!e) {
                sw_check_reserved(s, c, regs);
            } else {
                sw_exec(s, sw_slot(SW_EBASE, c), regs, &s->re);
                sw_check_pair(s, c, regs);
            }
            cases++;
        }
    }
    unsigned bad = s->nbad;
    cr_log_info("quadrant %d: %u cases, %u mismatches", q, cases, bad);
    ct_free(s->t);
    free(s);
    return bad;
}

Test(rvc, quadrant0_executes_like_expansion, .timeout = 120)
{
    cr_expect_eq(sw_sweep(0), 0, "see the mismatches logged above");
}

Test(rvc, quadrant1_executes_like_expansion, .timeout = 120)
{
    cr_expect_eq(sw_sweep(1), 0, "see the mismatches logged above");
}

Test(rvc, quadrant2_executes_like_expansion, .timeout = 120)
{
    cr_expect_eq(sw_sweep(2), 0, "see the mismatches logged above");
}

Test(rvc, every_reserved_encoding_is_illegal_with_halfword_tval, .timeout = 120)
{
    cr_expect_eq(sw_sweep(-1), 0, "see the mismatches logged above");
}

/* ------------------------------------------------ named spot checks */

/* Execute one halfword at CT_CODE+gap in M-mode and return mcause (or -1
 * if it did not trap); *tval gets mtval. */
static uint64_t rvc_trap_of(uint32_t c, uint64_t *tval)
{
    struct ct *t = ct_new();
    cr_assert_not_null(t);
    ct_emit(t, c);
    ct_halt(t);
    hart_set_x(t->h, CT_REPC, 0);
    cr_assert(ct_run(t, 100));
    uint64_t cause = hart_get_x(t->h, CT_RCAUSE);
    bool trapped = hart_get_x(t->h, CT_REPC) != 0;
    *tval = hart_get_x(t->h, CT_RTVAL);
    ct_free(t);
    return trapped ? cause : (uint64_t)-1;
}

Test(rvc, reserved_encodings_by_name)
{
    static const struct { uint32_t c; const char *name; } cases[] = {
        { 0x0000, "all-zero halfword (C.ADDI4SPN nzuimm=0, x8)" },
        { 0x0004, "C.ADDI4SPN nzuimm=0, rd=x9" },
        { 0x001c, "C.ADDI4SPN nzuimm=0, rd=x15" },
        { 0x8000, "quadrant 0 funct3=100 (reserved)" },
        { 0x9c7c, "quadrant 0 funct3=100 with other bits set" },
        { 0x2001, "C.ADDIW rd=x0, imm 0" },
        { 0x207d, "C.ADDIW rd=x0, imm -1" },
        { 0x6101, "C.ADDI16SP nzimm=0" },
        { 0x6001, "C.LUI rd=x0 nzimm=0" },
        { 0x6501, "C.LUI rd=x10 nzimm=0" },
        { 0x9c41, "CA funct6=100111 funct2=10 (reserved)" },
        { 0x9c61, "CA funct6=100111 funct2=11 (reserved)" },
        { 0x4002, "C.LWSP rd=x0" },
        { 0x6002, "C.LDSP rd=x0" },
        { 0x8002, "C.JR rs1=x0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t tval, cause = rvc_trap_of(cases[i].c, &tval);
        cr_expect_eq(cause, EXC_ILLEGAL, "%s (0x%04x): mcause %lld, want 2",
                     cases[i].name, cases[i].c, (long long)cause);
        cr_expect_eq(tval, cases[i].c, "%s: mtval 0x%llx, want 0x%04x",
                     cases[i].name, (unsigned long long)tval, cases[i].c);
    }
}

/* HINTs execute as no-ops (unpriv §16.7), they do not trap. */
Test(rvc, hints_do_not_trap)
{
    static const uint32_t hints[] = {
        0x0005, /* C.NOP with imm 1 */ 0x0501, /* C.ADDI a0, 0 */
        0x4005, /* C.LI x0, 1 */ 0x6005, /* C.LUI x0, 1 */
        0x0502, /* C.SLLI a0, 0 */ 0x802a, /* C.MV x0, a0 */
        0x902a, /* C.ADD x0, a0 */ 0x8001, /* C.SRLI s0, 0 */
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        uint64_t tval, cause = rvc_trap_of(hints[i], &tval);
        cr_expect_eq(cause, (uint64_t)-1, "hint 0x%04x trapped, mcause %llu",
                     hints[i], (unsigned long long)cause);
    }
}

/* C.JALR links pc+2 and C.JR jumps to rs1; C.J goes backward too. */
Test(rvc, jalr_links_pc_plus_2)
{
    struct ct *t = ct_new();
    uint64_t target = CT_CODE + 0x400, back = CT_CODE + 0x300;
    ct_li(t, A0, target);
    uint64_t at = t->at;
    ct_emit(t, rv_c_jalr(A0));
    ct_org(t, target);
    ct_emit(t, rv_c_mv(S1, RA));
    ct_emit(t, rv_c_j((int32_t)(back - (target + 2))));
    ct_org(t, back);
    ct_emit(t, rv_c_li(A1, 7));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, S1), at + 2);
    cr_expect_eq(ct_x(t, A1), 7);
    ct_free(t);
}

/* The FP forms move the bits of an f register (checked via fmv.x.d). */
Test(rvc, fld_fsd_forms_move_doublewords)
{
    struct ct *t = ct_new();
    ct_w64(t, CT_DATA + 16, 0x0123456789abcdefull);
    ct_w64(t, CT_DATA + 40, 0xfedcba9876543210ull);
    ct_csrw_imm(t, CSR_MSTATUS, 1ull << 13);    /* FS = Initial */
    ct_li(t, A0, CT_DATA);
    ct_li(t, SP, CT_DATA);
    ct_asm(t, rv_c_fld(9, A0, 16), rv_c_fldsp(20, 40),
           rv_fmv_x_d(S2, 9), rv_fmv_x_d(S3, 20),
           rv_c_fsd(9, A0, 248), rv_c_fsdsp(20, 504));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, S2), 0x0123456789abcdefull);
    cr_expect_eq(ct_x(t, S3), 0xfedcba9876543210ull);
    cr_expect_eq(ct_r64(t, CT_DATA + 248), 0x0123456789abcdefull);
    cr_expect_eq(ct_r64(t, CT_DATA + 504), 0xfedcba9876543210ull);
    ct_free(t);
}

/* With mstatus.FS = Off the FP forms are illegal, tval = the halfword. */
Test(rvc, fp_forms_illegal_when_fs_off)
{
    struct ct *t = ct_new();
    ct_csrw_imm(t, CSR_MSTATUS, 0);
    ct_li(t, A0, CT_DATA);
    uint64_t at = t->at;
    ct_emit(t, rv_c_fld(9, A0, 16));
    ct_halt(t);
    cr_assert(ct_run(t, 100));
    cr_expect_eq(ct_x(t, CT_RCAUSE), EXC_ILLEGAL);
    cr_expect_eq(ct_x(t, CT_REPC), at);
    cr_expect_eq(ct_x(t, CT_RTVAL), rv_c_fld(9, A0, 16));
    ct_free(t);
}
