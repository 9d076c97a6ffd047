/*
 * cpu/decode_c.c — the C extension: each 16-bit instruction is expanded to
 * the 32-bit instruction it stands for (unpriv spec §16.8, tables 16.5-16.7,
 * RV64 column), which the ordinary decoder then handles. Reserved encodings
 * expand to 0 (illegal); HINTs expand to their base instruction with rd=x0
 * or a zero shift/immediate, i.e. they execute as no-ops.
 */
#include "cpu/exec.h"

enum {
    OPC_LOAD = 0x03, OPC_LOAD_FP = 0x07, OPC_OP_IMM = 0x13,
    OPC_OP_IMM_32 = 0x1b, OPC_STORE = 0x23, OPC_STORE_FP = 0x27,
    OPC_OP = 0x33, OPC_LUI = 0x37, OPC_OP_32 = 0x3b, OPC_BRANCH = 0x63,
    OPC_JALR = 0x67, OPC_JAL = 0x6f, OPC_SYSTEM = 0x73,
};

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned op)
{
    return ((uint32_t)imm << 20) | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3,
                      unsigned rd, unsigned op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3,
                      unsigned op)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           (u & 0x1f) << 7 | op;
}

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 |
           rs1 << 15 | f3 << 12 | ((u >> 1) & 0xf) << 8 |
           ((u >> 11) & 1) << 7 | OPC_BRANCH;
}

static uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 |
           ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 | rd << 7 |
           OPC_JAL;
}

static int32_t sext(uint32_t v, unsigned bits)
{
    return (int32_t)(v << (32 - bits)) >> (32 - bits);
}

/* Register fields. */
#define C_RD(c)   (((c) >> 7) & 31)
#define C_RS2(c)  (((c) >> 2) & 31)
#define C_RDP(c)  ((((c) >> 2) & 7) + 8)    /* rd' / rs2' */
#define C_RS1P(c) ((((c) >> 7) & 7) + 8)    /* rs1' / rd' */

/* Immediates (the bit scatterings of tables 16.5-16.7). */
#define C_IMM6(c)  sext((((c) >> 7) & 0x20) | (((c) >> 2) & 0x1f), 6)
#define C_UIMM_LD(c) ((((c) >> 7) & 0x38) | (((c) << 1) & 0xc0))  /* ld/fld/sd */
#define C_UIMM_LW(c) ((((c) >> 7) & 0x38) | (((c) >> 4) & 4) | (((c) << 1) & 0x40))

static uint32_t rvc_q0(uint16_t c)
{
    unsigned rd = C_RDP(c), rs1 = C_RS1P(c);
    switch (c >> 13) {
    case 0: {   /* C.ADDI4SPN; nzuimm = 0 (incl. 0x0000) is reserved */
        int32_t imm = ((c >> 7) & 0x30) | ((c >> 1) & 0x3c0) |
                      ((c >> 4) & 4) | ((c >> 2) & 8);
        return imm ? enc_i(imm, 2, 0, rd, OPC_OP_IMM) : 0;
    }
    case 1: return enc_i(C_UIMM_LD(c), rs1, 3, rd, OPC_LOAD_FP);  /* C.FLD */
    case 2: return enc_i(C_UIMM_LW(c), rs1, 2, rd, OPC_LOAD);     /* C.LW */
    case 3: return enc_i(C_UIMM_LD(c), rs1, 3, rd, OPC_LOAD);     /* C.LD */
    case 5: return enc_s(C_UIMM_LD(c), rd, rs1, 3, OPC_STORE_FP); /* C.FSD */
    case 6: return enc_s(C_UIMM_LW(c), rd, rs1, 2, OPC_STORE);    /* C.SW */
    case 7: return enc_s(C_UIMM_LD(c), rd, rs1, 3, OPC_STORE);    /* C.SD */
    default: return 0;                                            /* reserved */
    }
}

static uint32_t rvc_q1_alu(uint16_t c)
{
    unsigned rd = C_RS1P(c), rs2 = C_RDP(c);
    unsigned shamt = ((c >> 7) & 0x20) | ((c >> 2) & 0x1f);
    switch ((c >> 10) & 3) {
    case 0: return enc_i((int32_t)shamt, rd, 5, rd, OPC_OP_IMM);          /* C.SRLI */
    case 1: return enc_i((int32_t)(0x400 | shamt), rd, 5, rd, OPC_OP_IMM); /* C.SRAI */
    case 2: return enc_i(C_IMM6(c), rd, 7, rd, OPC_OP_IMM);               /* C.ANDI */
    }
    static const uint8_t f3[4] = { 0, 4, 6, 7 };    /* SUB XOR OR AND */
    unsigned op2 = (c >> 5) & 3;
    if (!(c & 0x1000))
        return enc_r(op2 == 0 ? 0x20 : 0, rs2, rd, f3[op2], rd, OPC_OP);
    if (op2 == 0)
        return enc_r(0x20, rs2, rd, 0, rd, OPC_OP_32);                    /* C.SUBW */
    if (op2 == 1)
        return enc_r(0, rs2, rd, 0, rd, OPC_OP_32);                       /* C.ADDW */
    return 0;
}

static uint32_t rvc_q1(uint16_t c)
{
    unsigned rd = C_RD(c);
    switch (c >> 13) {
    case 0: return enc_i(C_IMM6(c), rd, 0, rd, OPC_OP_IMM);       /* C.ADDI */
    case 1:                                                       /* C.ADDIW */
        return rd ? enc_i(C_IMM6(c), rd, 0, rd, OPC_OP_IMM_32) : 0;
    case 2: return enc_i(C_IMM6(c), 0, 0, rd, OPC_OP_IMM);        /* C.LI */
    case 3:
        if (!(c & 0x107c))      /* nzimm = 0: reserved for both */
            return 0;
        if (rd == 2) {                                            /* C.ADDI16SP */
            int32_t imm = sext(((c >> 3) & 0x200) | ((c >> 2) & 0x10) |
                               ((c << 1) & 0x40) | ((c << 4) & 0x180) |
                               ((c << 3) & 0x20), 10);
            return enc_i(imm, 2, 0, 2, OPC_OP_IMM);
        }
        return (uint32_t)sext(((c << 5) & 0x20000) | ((c << 10) & 0x1f000), 18) |
               rd << 7 | OPC_LUI;                                 /* C.LUI */
    case 4: return rvc_q1_alu(c);
    case 5: {                                                     /* C.J */
        int32_t imm = sext(((c >> 1) & 0x800) | ((c >> 7) & 0x10) |
                           ((c >> 1) & 0x300) | ((c << 2) & 0x400) |
                           ((c >> 1) & 0x40) | ((c << 1) & 0x80) |
                           ((c >> 2) & 0xe) | ((c << 3) & 0x20), 12);
        return enc_j(imm, 0);
    }
    default: {                                                    /* C.BEQZ/BNEZ */
        int32_t imm = sext(((c >> 4) & 0x100) | ((c >> 7) & 0x18) |
                           ((c << 1) & 0xc0) | ((c >> 2) & 6) |
                           ((c << 3) & 0x20), 9);
        return enc_b(imm, 0, C_RS1P(c), (c >> 13) == 6 ? 0 : 1);
    }
    }
}

static uint32_t rvc_q2(uint16_t c)
{
    unsigned rd = C_RD(c), rs2 = C_RS2(c);
    int32_t ldsp = ((c >> 7) & 0x20) | ((c >> 2) & 0x18) | ((c << 4) & 0x1c0);
    int32_t sdsp = ((c >> 7) & 0x38) | ((c >> 1) & 0x1c0);
    switch (c >> 13) {
    case 0:                                                       /* C.SLLI */
        return enc_i(((c >> 7) & 0x20) | ((c >> 2) & 0x1f), rd, 1, rd, OPC_OP_IMM);
    case 1: return enc_i(ldsp, 2, 3, rd, OPC_LOAD_FP);            /* C.FLDSP */
    case 2: {                                                     /* C.LWSP */
        int32_t imm = ((c >> 7) & 0x20) | ((c >> 2) & 0x1c) | ((c << 4) & 0xc0);
        return rd ? enc_i(imm, 2, 2, rd, OPC_LOAD) : 0;
    }
    case 3: return rd ? enc_i(ldsp, 2, 3, rd, OPC_LOAD) : 0;      /* C.LDSP */
    case 4:
        if (!(c & 0x1000)) {
            if (rs2)                                              /* C.MV */
                return enc_r(0, rs2, 0, 0, rd, OPC_OP);
            return rd ? enc_i(0, rd, 0, 0, OPC_JALR) : 0;         /* C.JR */
        }
        if (rs2)                                                  /* C.ADD */
            return enc_r(0, rs2, rd, 0, rd, OPC_OP);
        if (!rd)                                                  /* C.EBREAK */
            return 0x00100073;
        return enc_i(0, rd, 0, 1, OPC_JALR);                      /* C.JALR */
    case 5: return enc_s(sdsp, rs2, 2, 3, OPC_STORE_FP);          /* C.FSDSP */
    case 6:                                                       /* C.SWSP */
        return enc_s(((c >> 7) & 0x3c) | ((c >> 1) & 0xc0), rs2, 2, 2, OPC_STORE);
    default: return enc_s(sdsp, rs2, 2, 3, OPC_STORE);            /* C.SDSP */
    }
}

uint32_t rvc_expand(uint16_t c)
{
    switch (c & 3) {
    case 0: return rvc_q0(c);
    case 1: return rvc_q1(c);
    case 2: return rvc_q2(c);
    default: return 0;
    }
}
