/*
 * cpu/decode.c — 32-bit instruction decoding (unpriv spec ch. 24, "RV32/64G
 * Instruction Set Listings"): major opcode → a per-opcode function, and
 * within it tables indexed by funct3 (and funct7/funct5) that name the
 * handler. Anything not in a table is illegal-instruction. Also the lazy
 * "decode on first execution" stub of decode-cache slots.
 */
#include <string.h>

#include "cpu/exec.h"
#include "cpu/fpu.h"

/* Field extraction. */
#define RD(r)     (((r) >> 7) & 31)
#define RS1(r)    (((r) >> 15) & 31)
#define RS2(r)    (((r) >> 20) & 31)
#define FUNCT3(r) (((r) >> 12) & 7)
#define FUNCT7(r) ((r) >> 25)

static int32_t imm_i(uint32_t r) { return (int32_t)r >> 20; }
static int32_t imm_s(uint32_t r)
{
    return ((int32_t)r >> 25) * 32 | (int32_t)((r >> 7) & 0x1f);
}
static int32_t imm_b(uint32_t r)
{
    return ((int32_t)r >> 31) * 4096 | (int32_t)(((r >> 7) & 1) << 11) |
           (int32_t)(((r >> 25) & 0x3f) << 5) | (int32_t)(((r >> 8) & 0xf) << 1);
}
static int32_t imm_j(uint32_t r)
{
    return ((int32_t)r >> 31) * (1 << 20) | (int32_t)(r & 0xff000) |
           (int32_t)(((r >> 20) & 1) << 11) | (int32_t)(((r >> 21) & 0x3ff) << 1);
}

/* funct3-indexed tables (NULL = illegal). */
static const exec_fn tab_load[8] = {
    ex_lb, ex_lh, ex_lw, ex_ld, ex_lbu, ex_lhu, ex_lwu, NULL,
};
static const exec_fn tab_store[8] = { ex_sb, ex_sh, ex_sw, ex_sd };
static const exec_fn tab_branch[8] = {
    ex_beq, ex_bne, NULL, NULL, ex_blt, ex_bge, ex_bltu, ex_bgeu,
};
static const exec_fn tab_op_imm[8] = {
    ex_addi, NULL /* slli */, ex_slti, ex_sltiu, ex_xori, NULL /* sr[al]i */,
    ex_ori, ex_andi,
};
/* OP: funct7 = 0000000, 0100000, 0000001 (M). */
static const exec_fn tab_op[8] = {
    ex_add, ex_sll, ex_slt, ex_sltu, ex_xor, ex_srl, ex_or, ex_and,
};
static const exec_fn tab_op_alt[8] = { [0] = ex_sub, [5] = ex_sra };
static const exec_fn tab_op_mul[8] = {
    ex_mul, ex_mulh, ex_mulhsu, ex_mulhu, ex_div, ex_divu, ex_rem, ex_remu,
};
static const exec_fn tab_op32[8] = { [0] = ex_addw, [1] = ex_sllw, [5] = ex_srlw };
static const exec_fn tab_op32_alt[8] = { [0] = ex_subw, [5] = ex_sraw };
static const exec_fn tab_op32_mul[8] = {
    [0] = ex_mulw, [4] = ex_divw, [5] = ex_divuw, [6] = ex_remw, [7] = ex_remuw,
};
static const insn_fn tab_csr[8] = {
    NULL, ex_csrrw, ex_csrrs, ex_csrrc, NULL, ex_csrrwi, ex_csrrsi, ex_csrrci,
};
/* AMO: indexed by funct5 (bits 31:27), for .W and .D. */
static const insn_fn tab_amo_w[32] = {
    [0x00] = ex_amoadd_w, [0x01] = ex_amoswap_w, [0x02] = ex_lr_w,
    [0x03] = ex_sc_w, [0x04] = ex_amoxor_w, [0x08] = ex_amoor_w,
    [0x0c] = ex_amoand_w, [0x10] = ex_amomin_w, [0x14] = ex_amomax_w,
    [0x18] = ex_amominu_w, [0x1c] = ex_amomaxu_w,
};
static const insn_fn tab_amo_d[32] = {
    [0x00] = ex_amoadd_d, [0x01] = ex_amoswap_d, [0x02] = ex_lr_d,
    [0x03] = ex_sc_d, [0x04] = ex_amoxor_d, [0x08] = ex_amoor_d,
    [0x0c] = ex_amoand_d, [0x10] = ex_amomin_d, [0x14] = ex_amomax_d,
    [0x18] = ex_amominu_d, [0x1c] = ex_amomaxu_d,
};

static exec_fn dec_op_imm(uint32_t r, struct dinsn *d)
{
    unsigned f3 = FUNCT3(r), f6 = r >> 26;
    d->imm = imm_i(r);
    if (f3 == 1) {              /* SLLI: funct6 = 000000, 6-bit shamt */
        d->imm &= 63;
        return f6 == 0 ? ex_slli : NULL;
    }
    if (f3 == 5) {              /* SRLI / SRAI: funct6 = 000000 / 010000 */
        d->imm &= 63;
        return f6 == 0 ? ex_srli : f6 == 0x10 ? ex_srai : NULL;
    }
    return tab_op_imm[f3];
}

static exec_fn dec_op_imm_32(uint32_t r, struct dinsn *d)
{
    unsigned f3 = FUNCT3(r), f7 = FUNCT7(r);
    d->imm = imm_i(r);
    if (f3 == 0)
        return ex_addiw;
    d->imm &= 31;
    if (f3 == 1)
        return f7 == 0 ? ex_slliw : NULL;
    if (f3 == 5)
        return f7 == 0 ? ex_srliw : f7 == 0x20 ? ex_sraiw : NULL;
    return NULL;
}

static exec_fn dec_op(uint32_t r, const exec_fn base[8], const exec_fn alt[8],
                      const exec_fn mul[8])
{
    switch (FUNCT7(r)) {
    case 0x00: return base[FUNCT3(r)];
    case 0x20: return alt[FUNCT3(r)];
    case 0x01: return mul[FUNCT3(r)];
    default: return NULL;
    }
}

/* A plain handler (insn_fn): run through ex_plain. */
static exec_fn plain(struct dinsn *d, insn_fn fn)
{
    d->fn = fn;
    return fn ? ex_plain : NULL;
}

static exec_fn dec_amo(uint32_t r, struct dinsn *d)
{
    unsigned f5 = r >> 27;
    if (f5 == 0x02 && RS2(r) != 0)  /* LR has rs2 = 0 */
        return NULL;
    if (FUNCT3(r) == 2)
        return plain(d, tab_amo_w[f5]);
    if (FUNCT3(r) == 3)
        return plain(d, tab_amo_d[f5]);
    return NULL;
}

/* SYSTEM with funct3 = 0: exact encodings (priv spec ch. 9 listing). */
static insn_fn dec_system_fn(uint32_t r, struct dinsn *d)
{
    unsigned f3 = FUNCT3(r);
    if (f3 != 0) {
        d->imm = (int32_t)(r >> 20);    /* CSR number */
        return tab_csr[f3];
    }
    switch (r) {
    case 0x00000073: return ex_ecall;
    case 0x00100073: return ex_ebreak;
    case 0x10200073: return ex_sret;
    case 0x30200073: return ex_mret;
    case 0x10500073: return ex_wfi;
    }
    if ((r & 0xfe007fff) == 0x12000073)  /* SFENCE.VMA rs1, rs2 */
        return ex_sfence_vma;
    return NULL;
}

static exec_fn dec_system(uint32_t r, struct dinsn *d)
{
    return plain(d, dec_system_fn(r, d));
}

static exec_fn dec_misc_mem(uint32_t r, struct dinsn *d)
{
    /* Like QEMU, the unused fields of FENCE and FENCE.I are ignored. */
    d->imm = (int32_t)((r >> 20) & 0xff);   /* pred:succ */
    switch (FUNCT3(r)) {
    case 0: return ex_fence;
    case 1: return plain(d, ex_fence_i);
    default: return NULL;
    }
}

static exec_fn dec_fp_mem(uint32_t r, struct dinsn *d, bool store)
{
    d->imm = store ? imm_s(r) : imm_i(r);
    switch (FUNCT3(r)) {
    case 2: return plain(d, store ? ex_fsw : ex_flw);
    case 3: return plain(d, store ? ex_fsd : ex_fld);
    default: return NULL;
    }
}

static exec_fn decode_base(uint32_t r, struct dinsn *d)
{
    switch (r & 0x7f) {
    case 0x03: d->imm = imm_i(r); return tab_load[FUNCT3(r)];
    case 0x07: return dec_fp_mem(r, d, false);
    case 0x0f: return dec_misc_mem(r, d);
    case 0x13: return dec_op_imm(r, d);
    case 0x17: d->imm = (int32_t)(r & 0xfffff000); return ex_auipc;
    case 0x1b: return dec_op_imm_32(r, d);
    case 0x23: d->imm = imm_s(r); return tab_store[FUNCT3(r)];
    case 0x27: return dec_fp_mem(r, d, true);
    case 0x2f: return dec_amo(r, d);
    case 0x33: return dec_op(r, tab_op, tab_op_alt, tab_op_mul);
    case 0x37: d->imm = (int32_t)(r & 0xfffff000); return ex_lui;
    case 0x3b: return dec_op(r, tab_op32, tab_op32_alt, tab_op32_mul);
    case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53:
        return fpu_decode(r, d) ? ex_plain : NULL;
    case 0x63: d->imm = imm_b(r); return tab_branch[FUNCT3(r)];
    case 0x67: d->imm = imm_i(r); return FUNCT3(r) == 0 ? ex_jalr : NULL;
    case 0x6f: d->imm = imm_j(r); return ex_jal;
    case 0x73: return dec_system(r, d);
    default: return NULL;
    }
}

/* Operand specialisations of the most common forms. */
static exec_fn specialise(exec_fn fn, struct dinsn *d)
{
    if (fn == ex_addi) {
        if (d->rd == 0 && d->rs1 == 0 && d->imm == 0)
            return ex_nop;
        if (d->rs1 == 0)
            return ex_li;
        if (d->imm == 0)
            return ex_mv;
    } else if (fn == ex_add && d->rs1 == 0) {
        d->rs1 = d->rs2;
        return ex_mv;
    }
    return fn;
}

static exec_fn decode32(uint32_t r, struct dinsn *d)
{
    exec_fn fn = decode_base(r, d);
    if (!fn)
        fn = decode_bitmanip(r, d);
    return fn ? specialise(fn, d) : NULL;
}

/* The 2-byte twin of a handler (cpu/exec.h); length-independent handlers
 * are their own twin. */
static exec_fn twin_c(exec_fn fn)
{
#define TWIN(n) if (fn == ex_##n) return ex_##n##_c;
    EXEC_C_HANDLERS(TWIN)
#undef TWIN
    return fn;
}

void decode_insn(uint32_t raw, struct dinsn *d)
{
    uint32_t r = raw;
    bool compressed = (raw & 3) != 3;
    *d = (struct dinsn){ .run = NULL };
    if (compressed) {
        raw &= 0xffff;
        r = rvc_expand((uint16_t)raw);
    }
    /* Fields first: fpu_decode may refine them. */
    d->rd = RD(r);
    d->rs1 = RS1(r);
    d->rs2 = RS2(r);
    d->rs3 = (uint8_t)(r >> 27);
    d->rm = FUNCT3(r);
    exec_fn fn = r ? decode32(r, d) : NULL;
    d->raw = raw;
    d->len = compressed ? 2 : 4;
    if (!fn) {
        fn = ex_illegal;
    } else if (fn != ex_plain) {
        if (d->rd == 0)
            d->rd = 32;     /* the sink: x0 stays 0 without a store */
        if (compressed)
            fn = twin_c(fn);
    }
    d->run = fn;
}

/* Fuse slot a with the instruction at page offset `off` when that lies
 * wholly in the page and the pair is one of cpu/exec_fuse.c's; its bytes
 * then join the snapshot too. */
static void try_fuse(struct hart *h, struct dinsn *a, unsigned off)
{
    if (off + 2 > PAGE_SIZE)
        return;
    const uint8_t *p = h->fetch_host + off;
    uint8_t b[4];
    b[0] = __atomic_load_n(&p[0], __ATOMIC_RELAXED);
    b[1] = __atomic_load_n(&p[1], __ATOMIC_RELAXED);
    unsigned n = 2;
    if ((b[0] & 3) == 3) {
        if (off + 4 > PAGE_SIZE)
            return;
        b[2] = __atomic_load_n(&p[2], __ATOMIC_RELAXED);
        b[3] = __atomic_load_n(&p[3], __ATOMIC_RELAXED);
        n = 4;
    }
    uint32_t raw = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    if (n == 4)
        raw |= ((uint32_t)b[2] | (uint32_t)b[3] << 8) << 16;
    struct dinsn nb;
    decode_insn(raw, &nb);
    exec_fn f = fuse_pair(a, &nb);
    if (!f)
        return;
    memcpy(h->fetch_snap + off, b, n);
    a->b.imm = nb.imm;
    a->b.rd = nb.rd;
    a->b.rs1 = nb.rs1;
    a->b.rs2 = nb.rs2;
    a->run = f;
}

/* First execution of a decode-cache slot: decode it in place, then run it.
 * The bytes are read from RAM and recorded in the page's snapshot, so the
 * snapshot always holds what every decoded slot was decoded from (see
 * dcache.c). A 32-bit instruction whose second half lies on the next page
 * depends on two translations, so it is never cached: it runs through the
 * uncached path each time. */
void insn_decode_stub(struct hart *h, const struct dinsn *d, int64_t budget)
{
    struct dinsn *slot = (struct dinsn *)d;
    unsigned off = d->off;
    const uint8_t *p = h->fetch_host + off;
    uint8_t b[4];
    b[0] = __atomic_load_n(&p[0], __ATOMIC_RELAXED);
    b[1] = __atomic_load_n(&p[1], __ATOMIC_RELAXED);
    unsigned n = 2;
    if ((b[0] & 3) == 3) {
        if (off == 0xffe) {
            h->pc = insn_pc(h, d);
            hart_exec_uncached(h, budget);
            return;
        }
        b[2] = __atomic_load_n(&p[2], __ATOMIC_RELAXED);
        b[3] = __atomic_load_n(&p[3], __ATOMIC_RELAXED);
        n = 4;
    }
    memcpy(h->fetch_snap + off, b, n);
    uint32_t raw = (uint32_t)b[0] | (uint32_t)b[1] << 8;
    if (n == 4)
        raw |= ((uint32_t)b[2] | (uint32_t)b[3] << 8) << 16;
    decode_insn(raw, slot);
    slot->off = (uint16_t)off;
    if (slot->run != ex_plain && slot->run != ex_illegal)
        try_fuse(h, slot, off + n);
    slot->run(h, slot, budget);
}
