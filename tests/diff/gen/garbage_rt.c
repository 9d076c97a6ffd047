/* tests/diff/gen/garbage_rt.c — the harness around garbage.py's words.
 *
 * Each word is framed as
 *     jal x31, garb_reset     # every register from the tables
 *     W: <word>
 *     csrw sscratch, x31
 *     jal x31, garb_capture   # saves the registers, calls garb_check
 * A trap while running the word is recorded by garb_trap and the word is
 * skipped. garb_check prints, per word, either the trap or every register
 * (and fcsr) that differs from its reset value. */
#include "rt.h"

#define SCRATCH_BYTES 8192

u64 garb_scratch[SCRATCH_BYTES / 8] __attribute__((aligned(4096)));
u64 garb_xinit[32];        /* x1..x31 */
u64 garb_finit[33];        /* f0..f31, fcsr */
u64 garb_state[65];        /* x0..x31, f0..f31, fcsr after the word */
extern const u32 garb_words[];
extern const u32 garb_nwords, garb_wlen;

static u32 garb_index;
static int garb_trapped;
static u64 garb_cause, garb_tval, garb_epc;

__asm__(
    "    .text\n"
    "    .globl garb_reset\n"
    "garb_reset:\n"
    /* Return through mret, so that x31 too gets its scratch pointer. */
    "    csrw mepc, x31\n"
    "    li x31, 3 << 11\n"
    "    csrs mstatus, x31\n"
    "    la x30, garb_finit\n"
    "    ld x29, 256(x30)\n"
    "    fscsr x29\n"
#define F(n) "    fld f" #n ", " #n "*8(x30)\n"
    F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13)
    F(14) F(15) F(16) F(17) F(18) F(19) F(20) F(21) F(22) F(23) F(24) F(25)
    F(26) F(27) F(28) F(29) F(30) F(31)
#undef F
    "    la x31, garb_xinit\n"
#define X(n) "    ld x" #n ", " #n "*8(x31)\n"
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14)
    X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26)
    X(27) X(28) X(29) X(30) X(31)
#undef X
    "    mret\n"
    "    .globl garb_capture\n"
    "garb_capture:\n"
    "    csrw stval, x31\n"
    "    la x31, garb_state\n"
#define S(n) "    sd x" #n ", " #n "*8(x31)\n"
    S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9) S(10) S(11) S(12) S(13) S(14)
    S(15) S(16) S(17) S(18) S(19) S(20) S(21) S(22) S(23) S(24) S(25) S(26)
    S(27) S(28) S(29) S(30)
#undef S
    "    csrr x30, sscratch\n"
    "    sd x30, 31*8(x31)\n"
#define F(n) "    fsd f" #n ", (32+" #n ")*8(x31)\n"
    F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11) F(12) F(13)
    F(14) F(15) F(16) F(17) F(18) F(19) F(20) F(21) F(22) F(23) F(24) F(25)
    F(26) F(27) F(28) F(29) F(30) F(31)
#undef F
    "    frcsr x30\n"
    "    sd x30, 64*8(x31)\n"
    "    la sp, _stack_top\n"
    "    csrr a0, stval\n"
    "    call garb_check\n"
    "    csrr t0, stval\n"
    "    jr t0\n");

static const u64 garb_dvals[] = {
    0x0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
    0x7ff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
    0x000fffffffffffffull, 0x43e0000000000000ull, 0x41efffffffe00000ull,
    0x7fefffffffffffffull, 0x4008000000000000ull, 0xc1e0000000000000ull,
    0x0000000000000001ull, 0x3fd5555555555555ull, 0x1234567890abcdefull,
};
static const u32 garb_svals[] = {
    0x0, 0x80000000, 0x3f800000, 0xbfc00000, 0x7f800000, 0x7fc00000,
    0x7fa00000, 0x007fffff, 0x4f000000, 0x4f800000, 0x7f7fffff, 0x40400000,
    0xcf000000, 0x00000001, 0x3eaaaaab, 0x5f000000,
};

static u64 garb_hash(void)
{
    u64 h = 0x9e3779b97f4a7c15ull;
    for (u32 i = 0; i < SCRATCH_BYTES / 8; i++) {
        h ^= garb_scratch[i];
        h = (h << 13 | h >> 51) * 0xff51afd7ed558ccdull;
    }
    return h;
}

static int garb_trap(struct rt_frame *f)
{
    if ((i64)f->cause < 0)
        rt_fail("interrupt during a garbage word");
    garb_trapped++;
    garb_cause = f->cause;
    garb_tval = f->tval;
    garb_epc = f->epc;
    f->epc += rt_insn_len(f, 0);
    return 1;
}

void garb_setup(void)
{
    u64 mid = (u64)garb_scratch + SCRATCH_BYTES / 2;
    for (int i = 1; i < 32; i++)
        garb_xinit[i] = mid + 8 * (i - 15);
    garb_xinit[5] = mid + 1;           /* misaligned bases */
    garb_xinit[6] = mid + 2;
    garb_xinit[7] = mid + 4;
    garb_xinit[2] = mid + 0x100;       /* sp, for c.*sp */
    for (u64 i = 0; i < SCRATCH_BYTES / 8; i++)
        garb_scratch[i] = (i * 0x9e3779b97f4a7c15ull) ^ (i << 7);
    for (int i = 0; i < 16; i++) {
        garb_finit[i] = 0xffffffff00000000ull | garb_svals[i];
        garb_finit[16 + i] = garb_dvals[i];
    }
    garb_finit[32] = 0;                /* frm = RNE, no flags */
    rt_mhook = garb_trap;
}

/* Called after word garb_index; ret = the address garb_capture returns to. */
void garb_check(u64 ret)
{
    u32 i = garb_index++;
    u64 w = ret - garb_wlen - 8;
    if (garb_wlen == 2)
        rt_printf("%u %04x:", i, garb_words[i]);
    else
        rt_printf("%u %08x:", i, garb_words[i]);
    if (garb_trapped) {
        rt_printf(" trap cause=%lx tval=%lx epc=%c%lx", garb_cause, garb_tval,
                  garb_epc >= w ? '+' : '-',
                  garb_epc >= w ? garb_epc - w : w - garb_epc);
        if (garb_trapped > 1)
            rt_printf(" ntraps=%d", garb_trapped);
    }
    for (int r = 1; r < 32; r++) {
        if (garb_state[r] != garb_xinit[r])
            rt_printf(" x%d=%lx", r, garb_state[r]);
    }
    for (int r = 0; r < 32; r++)
        if (garb_state[32 + r] != garb_finit[r])
            rt_printf(" f%d=%lx", r, garb_state[32 + r]);
    if (garb_state[64] != garb_finit[32])
        rt_printf(" fcsr=%lx", garb_state[64]);
    rt_putc('\n');
    garb_trapped = 0;
    if (i % 64 == 63)
        rt_printf("mem %016lx\n", garb_hash());
}

void garb_done(void)
{
    rt_printf("done %u words, mem %016lx\n", garb_index, garb_hash());
}
