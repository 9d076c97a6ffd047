#!/usr/bin/env python3
"""tests/diff/gen/randprog.py — random valid RV64GC instruction sequences.

Writes one assembly program (to stdout) of --seqs sequences of about --len
random instructions each: integer, M, A (on a scratch buffer), F/D, C and
the bit-manipulation extensions Zba/Zbb/Zbc/Zbs.
Each sequence starts from register values loaded from a table and ends by
dumping the 31 integer registers, the 32 FP registers, fcsr and a hash of
the scratch buffer (gen/seqdump.c prints them).

Determinism by construction: x3 always points at the middle of a 4 KiB
scratch buffer and is never written, so every load, store and AMO lands in
it; control flow only jumps forward by a few instructions; frm is only ever
set to a valid rounding mode; no counter CSRs are read. The same seed gives
the same program, byte for byte.

The first line, '# random-insns: N', is a lower bound of the number of
random instructions executed (instructions a branch may skip don't count).
"""
import argparse
import random
import struct

SCRATCH = 4096
BASE = "x3"             # scratch + 2048, never written

INT_VALUES = [0, 1, 2, 3, 0xffffffffffffffff, 0xfffffffffffffffe,
              0x7fffffffffffffff, 0x8000000000000000, 0x7fffffff, 0x80000000,
              0xffffffff, 0xffffffff80000000, 0x100000000, 0xffffffff7fffffff,
              31, 32, 63, 64, 0x8000, 0xffff, 0x7ff, 0x800, 0xfffffffffffff800]

D_VALUES = [0x0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
            0x3fe0000000000000, 0x4008000000000000, 0x7fefffffffffffff,
            0x0010000000000000, 0x000fffffffffffff, 0x0000000000000001,
            0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
            0x7ff4000000000000, 0xfff8000000001234, 0x7ff0000000000001,
            0x43e0000000000000, 0xc3e0000000000000, 0x43f0000000000000,
            0x41efffffffe00000, 0x41e0000000000000, 0xc1e0000000000000,
            0x41dfffffffc00000, 0x4340000000000001, 0x3fefffffffffffff,
            0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000,
            0x3fd5555555555555, 0x0008000000000000, 0x36a0000000000000,
            0x47efffffe0000000, 0x3810000000000000, 0x380fffffffffffff]

S_VALUES = [0x0, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x40400000,
            0x7f7fffff, 0x00800000, 0x007fffff, 0x00000001, 0x7f800000,
            0xff800000, 0x7fc00000, 0x7fa00000, 0xffc01234, 0x7f800001,
            0x4f000000, 0xcf000000, 0x4f800000, 0x5f000000, 0xdf000000,
            0x5f800000, 0x4effffff, 0x3fc00000, 0x40200000, 0xc0200000,
            0x3eaaaaab, 0x00400000, 0x3f7fffff, 0x4b800001, 0x33800000]

RMS = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]

R_OPS = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
         "addw", "subw", "sllw", "srlw", "sraw",
         "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu",
         "mulw", "divw", "divuw", "remw", "remuw"]
I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SH_OPS = [("slli", 63), ("srli", 63), ("srai", 63),
          ("slliw", 31), ("srliw", 31), ("sraiw", 31)]
LOADS = [("lb", 1), ("lh", 2), ("lw", 4), ("ld", 8), ("lbu", 1), ("lhu", 2), ("lwu", 4)]
STORES = [("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)]
AMOS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax",
        "amominu", "amomaxu"]
# Zba, Zbb, Zbc, Zbs (bitmanip 1.0.0): register-register forms, unary
# forms, and shifts/bit indexes with their immediate range.
ZB_R = ["add.uw", "sh1add", "sh2add", "sh3add", "sh1add.uw", "sh2add.uw",
        "sh3add.uw",
        "andn", "orn", "xnor", "max", "maxu", "min", "minu", "rol", "rolw",
        "ror", "rorw",
        "clmul", "clmulh", "clmulr",
        "bclr", "bext", "binv", "bset"]
ZB_UNARY = ["clz", "clzw", "ctz", "ctzw", "cpop", "cpopw", "sext.b", "sext.h",
            "zext.h", "orc.b", "rev8"]
ZB_IMM = [("slli.uw", 63), ("rori", 63), ("roriw", 31), ("bclri", 63),
          ("bexti", 63), ("binvi", 63), ("bseti", 63)]
BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"]
F_ARITH = ["fadd", "fsub", "fmul", "fdiv"]
F_NORM = ["fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx"]
F_CMP = ["feq", "flt", "fle"]
F_FMA = ["fmadd", "fmsub", "fnmsub", "fnmadd"]
CVT_INT = ["w", "wu", "l", "lu"]


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.lines = []
        self.count = 0          # random instructions surely executed
        self.label = 0

    # ---- helpers -------------------------------------------------------
    def emit(self, s, n=1, counted=True):
        self.lines.append("    " + s)
        if counted:
            self.count += n

    def xd(self, avoid=()):
        """A destination register: never x0 (pointless) nor x3."""
        while True:
            r = self.r.randrange(1, 32)
            if r != 3 and f"x{r}" not in avoid:
                return f"x{r}"

    def xs(self):
        return f"x{self.r.randrange(32)}"

    def fr(self, prec):
        """FP registers: f0-f15 tend to hold singles, f16-f31 doubles, so
        that .s operations see NaN-boxed operands most of the time."""
        if self.r.random() < 0.15:
            return f"f{self.r.randrange(32)}"
        lo = 0 if prec == "s" else 16
        return f"f{lo + self.r.randrange(16)}"

    def rm(self):
        return self.r.choice(RMS)

    def newlabel(self):
        self.label += 1
        return f".Lr{self.label}"

    def imm12(self):
        c = self.r.random()
        if c < 0.3:
            return self.r.randrange(-16, 17)
        if c < 0.4:
            return self.r.choice([-2048, 2047, -1, 0, 1, 0x7ff, -0x800])
        return self.r.randrange(-2048, 2048)

    def scratch_off(self, size, misalign=0.05):
        """An offset from x3 (scratch + 2048) such that the access fits in
        the buffer; aligned unless we choose a (legal, plain) misaligned one."""
        off = self.r.randrange(-2048, 2048 - size + 1)
        if self.r.random() >= misalign:
            off -= off % size
        return off

    # ---- instruction classes -------------------------------------------
    def alu(self, avoid=()):
        c = self.r.random()
        rd = self.xd(avoid)
        if c < 0.45:
            self.emit(f"{self.r.choice(R_OPS)} {rd}, {self.xs()}, {self.xs()}")
        elif c < 0.7:
            self.emit(f"{self.r.choice(I_OPS)} {rd}, {self.xs()}, {self.imm12()}")
        elif c < 0.9:
            op, mx = self.r.choice(SH_OPS)
            sh = self.r.choice([0, 1, mx, mx - 1, self.r.randrange(mx + 1)])
            self.emit(f"{op} {rd}, {self.xs()}, {sh}")
        elif c < 0.95:
            self.emit(f"lui {rd}, {self.r.randrange(1 << 20)}")
        else:
            self.emit(f"auipc {rd}, {self.r.randrange(1 << 20)}")

    def bitmanip(self):
        c = self.r.random()
        rd = self.xd()
        if c < 0.55:
            self.emit(f"{self.r.choice(ZB_R)} {rd}, {self.xs()}, {self.xs()}")
        elif c < 0.8:
            op = self.r.choice(ZB_UNARY)
            if op == "ctzw":
                # QEMU 7.2's ctzw counts into the upper word when the lower
                # one is 0 (tests/diff/hand/zb.c covers that, filtered as a
                # known deviation): give it a lower word with a bit set.
                self.emit(f"ori {rd}, {self.xs()}, {1 << self.r.randrange(11)}")
                if self.r.random() < 0.5:
                    self.emit(f"slli {rd}, {rd}, {self.r.randrange(22)}")
                self.emit(f"ctzw {rd}, {rd}")
            else:
                self.emit(f"{op} {rd}, {self.xs()}")
        else:
            op, mx = self.r.choice(ZB_IMM)
            sh = self.r.choice([0, 1, mx, mx - 1, self.r.randrange(mx + 1)])
            self.emit(f"{op} {rd}, {self.xs()}, {sh}")

    def load_store(self):
        if self.r.random() < 0.5:
            op, sz = self.r.choice(LOADS)
            self.emit(f"{op} {self.xd()}, {self.scratch_off(sz)}({BASE})")
        else:
            op, sz = self.r.choice(STORES)
            self.emit(f"{op} {self.xs()}, {self.scratch_off(sz)}({BASE})")

    def ptr(self, size, avoid=()):
        """Points a fresh register at an aligned scratch address."""
        rt = self.xd(avoid)
        self.emit(f"addi {rt}, {BASE}, {self.scratch_off(size, 0)}")
        return rt

    def amo(self):
        w = self.r.choice(["w", "d"])
        rt = self.ptr(4 if w == "w" else 8)
        order = self.r.choice(["", "", ".aq", ".rl", ".aqrl"])
        self.emit(f"{self.r.choice(AMOS)}.{w}{order} {self.xd()}, {self.xs()}, ({rt})")

    def lrsc(self):
        w = self.r.choice(["w", "d"])
        sz = 4 if w == "w" else 8
        rt = self.ptr(sz)
        c = self.r.random()
        if c < 0.1:         # SC with no reservation (a previous SC cleared it)
            self.emit(f"sc.{w} {self.xd()}, {self.xs()}, ({rt})")
            return
        self.emit(f"lr.{w}{self.r.choice(['', '.aq', '.aqrl'])} {self.xd([rt])}, ({rt})")
        for _ in range(self.r.randrange(4)):
            self.alu(avoid=[rt])
        if c < 0.25:        # SC to another address: fails in QEMU
            other = self.ptr(sz, avoid=[rt])
            self.emit(f"sc.{w} {self.xd([rt])}, {self.xs()}, ({other})")
        else:               # (rd != rt: a second SC below reuses rt)
            self.emit(f"sc.{w}{self.r.choice(['', '.rl', '.aqrl'])} "
                      f"{self.xd([rt])}, {self.xs()}, ({rt})")
        if self.r.random() < 0.3:   # a second SC must fail
            self.emit(f"sc.{w} {self.xd()}, {self.xs()}, ({rt})")

    def fp(self):
        p = self.r.choice(["s", "d"])
        c = self.r.random()
        fd, f1, f2, f3 = self.fr(p), self.fr(p), self.fr(p), self.fr(p)
        if c < 0.22:
            self.emit(f"{self.r.choice(F_ARITH)}.{p} {fd}, {f1}, {f2}, {self.rm()}")
        elif c < 0.3:
            self.emit(f"fsqrt.{p} {fd}, {f1}, {self.rm()}")
        elif c < 0.42:
            self.emit(f"{self.r.choice(F_NORM)}.{p} {fd}, {f1}, {f2}")
        elif c < 0.5:
            self.emit(f"{self.r.choice(F_CMP)}.{p} {self.xd()}, {f1}, {f2}")
        elif c < 0.54:
            self.emit(f"fclass.{p} {self.xd()}, {f1}")
        elif c < 0.66:
            self.emit(f"{self.r.choice(F_FMA)}.{p} {fd}, {f1}, {f2}, {f3}, {self.rm()}")
        elif c < 0.74:
            self.emit(f"fcvt.{self.r.choice(CVT_INT)}.{p} {self.xd()}, {f1}, {self.rm()}")
        elif c < 0.81:
            t = self.r.choice(CVT_INT)
            if p == "d" and t in ("w", "wu"):
                self.emit(f"fcvt.d.{t} {fd}, {self.xs()}")     # exact: no rm
            else:
                self.emit(f"fcvt.{p}.{t} {fd}, {self.xs()}, {self.rm()}")
        elif c < 0.85:
            if p == "s":
                self.emit(f"fcvt.s.d {self.fr('s')}, {self.fr('d')}, {self.rm()}")
            else:
                self.emit(f"fcvt.d.s {self.fr('d')}, {self.fr('s')}")
        elif c < 0.9:
            x = "w" if p == "s" else "d"
            if self.r.random() < 0.5:
                self.emit(f"fmv.x.{x} {self.xd()}, {f1}")
            else:
                self.emit(f"fmv.{x}.x {fd}, {self.xs()}")
        elif c < 0.97:
            x, sz = ("w", 4) if p == "s" else ("d", 8)
            if self.r.random() < 0.5:
                self.emit(f"fl{x} {fd}, {self.scratch_off(sz, 0.03)}({BASE})")
            else:
                self.emit(f"fs{x} {f1}, {self.scratch_off(sz, 0.03)}({BASE})")
        else:
            k = self.r.random()
            if k < 0.3:
                self.emit(f"csrrwi {self.xd()}, frm, {self.r.randrange(5)}")
            elif k < 0.6:
                self.emit(f"csrrw {self.xd()}, fflags, {self.xs()}")
            elif k < 0.8:
                self.emit(f"csrrsi {self.xd()}, fflags, {self.r.randrange(32)}")
            else:
                self.emit(f"frcsr {self.xd()}")

    def cx(self):
        """A register usable in the 3-bit fields of compressed instructions."""
        return f"x{8 + self.r.randrange(8)}"

    def cx_d(self, avoid=()):
        while True:
            r = self.cx()
            if r not in avoid:
                return r

    def compressed(self):
        c = self.r.randrange(22)
        nz6 = self.r.choice([v for v in range(-32, 32) if v])
        rd = self.xd()
        if c == 0:
            self.emit(f"c.addi {rd}, {nz6}")
        elif c == 1:
            self.emit(f"c.addiw {rd}, {self.r.randrange(-32, 32)}")
        elif c == 2:
            self.emit(f"c.li {rd}, {self.r.randrange(-32, 32)}")
        elif c == 3:
            while rd == "x2":
                rd = self.xd()
            v = self.r.choice(list(range(1, 32)) + list(range(0xfffe0, 0x100000)))
            self.emit(f"c.lui {rd}, {v}")
        elif c == 4:
            self.emit(f"c.addi16sp sp, {16 * self.r.choice([v for v in range(-32, 32) if v])}")
        elif c == 5:
            self.emit(f"c.addi4spn {self.cx()}, sp, {4 * self.r.randrange(1, 256)}")
        elif c == 6:
            op = self.r.choice(["c.srli", "c.srai", "c.slli"])
            r = rd if op == "c.slli" else self.cx()
            self.emit(f"{op} {r}, {self.r.randrange(1, 64)}")
        elif c == 7:
            self.emit(f"c.andi {self.cx()}, {self.r.randrange(-32, 32)}")
        elif c == 8:
            self.emit(f"c.mv {rd}, {self.xd()}")
        elif c == 9:
            self.emit(f"c.add {rd}, {self.xd()}")
        elif c == 10:
            op = self.r.choice(["c.and", "c.or", "c.xor", "c.sub", "c.addw", "c.subw"])
            self.emit(f"{op} {self.cx()}, {self.cx()}")
        elif c in (11, 12):
            # c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd need a base in x8-x15
            op, sz = self.r.choice([("c.lw", 4), ("c.ld", 8), ("c.sw", 4),
                                    ("c.sd", 8), ("c.fld", 8), ("c.fsd", 8)])
            rb = self.cx()
            self.emit(f"addi {rb}, {BASE}, {self.scratch_off(256, 0) & ~7}")
            off = self.r.randrange(0, 32 if sz == 4 else 32) * sz
            if op in ("c.fld", "c.fsd"):
                r = f"f{8 + self.r.randrange(8)}"
            elif op.startswith("c.l"):
                r = self.cx_d([rb])
            else:
                r = self.cx()
            self.emit(f"{op} {r}, {off}({rb})")
        elif c in (13, 14):
            op, sz = self.r.choice([("c.lwsp", 4), ("c.ldsp", 8), ("c.swsp", 4),
                                    ("c.sdsp", 8), ("c.fldsp", 8), ("c.fsdsp", 8)])
            self.emit(f"addi sp, {BASE}, {self.scratch_off(512, 0) & ~7}")
            off = self.r.randrange(0, 64) * sz
            if op in ("c.fldsp", "c.fsdsp"):
                r = f"f{self.r.randrange(32)}"
            elif op.startswith("c.l"):
                r = self.xd(["x2"])
            else:
                r = self.xs()
            self.emit(f"{op} {r}, {off}(sp)")
        elif c == 15:
            self.emit("c.nop")
        elif c == 16:
            rs = self.cx()
            op = self.r.choice(["c.beqz", "c.bnez"])
            self.skip(f"{op} {rs}, {{L}}")
        elif c == 17:
            self.skip("c.j {L}")
        elif c in (18, 19):
            rt = self.xd(["x1"]) if c == 19 else self.xd()
            L = self.newlabel()
            self.emit(f"lla {rt}, {L}", 2)
            self.emit(f"{'c.jalr' if c == 19 else 'c.jr'} {rt}")
            self.shadow(L)
        else:
            self.alu()

    def shadow(self, L):
        """1-3 instructions a jump or branch may skip, then label L."""
        for _ in range(self.r.randrange(1, 4)):
            save = self.count
            self.alu()
            self.count = save
        self.lines.append(f"{L}:")

    def skip(self, fmt):
        L = self.newlabel()
        self.emit(fmt.format(L=L))
        self.shadow(L)

    def control(self):
        c = self.r.random()
        if c < 0.6:
            self.skip(f"{self.r.choice(BRANCHES)} {self.xs()}, {self.xs()}, {{L}}")
        elif c < 0.8:
            self.skip(f"jal {self.xd()}, {{L}}")
        else:
            rt = self.xd()
            L = self.newlabel()
            self.emit(f"lla {rt}, {L}", 2)
            self.emit(f"jalr {self.xd()}, 0({rt})")
            self.shadow(L)

    def insn(self):
        c = self.r.random()
        if c < 0.24:
            self.alu()
        elif c < 0.30:
            self.bitmanip()
        elif c < 0.40:
            self.load_store()
        elif c < 0.46:
            self.amo()
        elif c < 0.49:
            self.lrsc()
        elif c < 0.75:
            self.fp()
        elif c < 0.92:
            self.compressed()
        else:
            self.control()

    # ---- initial values ------------------------------------------------
    def int_value(self):
        c = self.r.random()
        if c < 0.4:
            return self.r.choice(INT_VALUES)
        if c < 0.55:
            return self.r.randrange(-100, 100) & (2**64 - 1)
        if c < 0.7:
            v = self.r.getrandbits(32)
            return (v - (1 << 32) if v >> 31 else v) & (2**64 - 1)
        return self.r.getrandbits(64)

    def fp_value(self, prec):
        c = self.r.random()
        if prec == "d":
            if c < 0.5:
                return self.r.choice(D_VALUES) ^ (self.r.random() < 0.2) << 63
            if c < 0.8:
                v = self.r.choice([1, -1]) * self.r.randrange(1, 1 << 20) / self.r.choice([1, 2, 3, 7, 1024])
                return struct.unpack("<Q", struct.pack("<d", v))[0]
            return self.r.getrandbits(64)
        if c < 0.05:
            return self.r.getrandbits(64)           # not NaN-boxed
        if c < 0.5:
            s = self.r.choice(S_VALUES) ^ (self.r.random() < 0.2) << 31
        elif c < 0.8:
            v = self.r.choice([1, -1]) * self.r.randrange(1, 1 << 16) / self.r.choice([1, 2, 3, 7, 1024])
            s = struct.unpack("<I", struct.pack("<f", v))[0]
        else:
            s = self.r.getrandbits(32)
        return 0xffffffff00000000 | s


DUMP = """\
    csrw sscratch, x31
    la x31, seq_dump
""" + "".join(f"    sd x{i}, {8 * i}(x31)\n" for i in range(1, 31)) + """\
    csrr x30, sscratch
    sd x30, 248(x31)
""" + "".join(f"    fsd f{i}, {8 * (32 + i)}(x31)\n" for i in range(32)) + """\
    frcsr x30
    sd x30, 512(x31)
    la sp, _stack_top
"""


def init_block(k):
    s = f"    la x31, seq_init_{k}\n"
    s += "".join(f"    fld f{i}, {8 * (32 + i)}(x31)\n" for i in range(32))
    s += "    ld x30, 512(x31)\n    fscsr x30\n"
    s += "".join(f"    ld x{i}, {8 * i}(x31)\n" for i in range(1, 32) if i not in (3, 31))
    s += "    la x3, seq_scratch + 2048\n"
    s += "    ld x31, 248(x31)\n"
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seqs", type=int, default=80)
    ap.add_argument("--len", type=int, default=220)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    g = Gen(rng)
    body, data = [], []
    for k in range(a.seqs):
        g.lines = []
        target = g.count + a.len
        while g.count < target:
            g.insn()
        vals = [0] * 65
        for i in range(1, 32):
            vals[i] = g.int_value()
        for i in range(32):
            vals[32 + i] = g.fp_value("s" if i < 16 else "d")
        vals[64] = rng.randrange(5) << 5     # frm valid, fflags clear
        data.append(f"seq_init_{k}:\n" + "".join(f"    .dword 0x{v:016x}\n" for v in vals))
        body.append(f"    # sequence {k}\n" + init_block(k) + "\n".join(g.lines) + "\n" +
                    DUMP + f"    li a0, {k}\n    call seq_print\n")
    out = [f"# random-insns: {g.count}",
           f"# generated by tests/diff/gen/randprog.py --seed {a.seed} "
           f"--seqs {a.seqs} --len {a.len}",
           "    .option arch, +zba, +zbb, +zbc, +zbs",
           "    .text", "    .globl main", "main:", "    call seq_setup"]
    out += body
    out += ["    li a0, 0", "    call rt_exit",
            "    .data", "    .balign 4096", "    .globl seq_scratch", "seq_scratch:"]
    for i in range(0, SCRATCH, 16):
        out.append("    .byte " + ", ".join(str(rng.randrange(256)) for _ in range(16)))
    out += ["    .balign 8"] + data
    print("\n".join(out))


if __name__ == "__main__":
    main()
