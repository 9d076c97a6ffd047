"""tests/diff/known.py — QEMU 7.2's known deviations, line by line.

Where QEMU 7.2 departs from the RISC-V specification and blkemu follows the
spec, an output line of a differential test differs. Such a line is accepted
only when one of the narrow rules below explains the difference exactly:
the instruction class comes from the word (or the CSR from its name or
number) printed on the line, and the two values must be precisely QEMU's
known behaviour and the spec's. Everything else on the line, and every
other line, must be identical. docs/testing-cpu.md lists the rules and why.

Tests opt in by their line formats:
  "<...> WORD: trap cause=C tval=T<...>"     a trapping instruction
  "<...> WORD:<...>"                          the same without a trap
  "<...> WORD rs1=A: rd=R"                    a unary instruction's result
  "NAME: ones=X zero=Y", "NAME <- V: R"       CSR masks (hand/csr.c)
  "NNN=V", " NNN:c=C,tv=T"                    the CSR map (hand/csrmap.c)
"""
import re

TRAP_RE = re.compile(r"^(?P<pre>(?:.* )?)(?P<word>[0-9a-f]{8}|[0-9a-f]{4}): "
                     r"trap cause=(?P<cause>[0-9a-f]+) tval=(?P<tval>[0-9a-f]+)"
                     r"(?P<post>.*)$")
NOTRAP_RE = re.compile(r"^(?P<pre>(?:.* )?)(?P<word>[0-9a-f]{8}|[0-9a-f]{4}):"
                       r"(?P<post>(?! trap).*)$")
UNARY_RE = re.compile(r"^(?P<pre>(?:.* )?)(?P<word>[0-9a-f]{8}) rs1=(?P<a>[0-9a-f]+): "
                      r"rd=(?P<r>[0-9a-f]+)$")
MASK_RE = re.compile(r"^(?P<csr>[a-z0-9]+): ones=(?P<ones>[0-9a-f]+) zero=(?P<zero>[0-9a-f]+)$")
WRITE_RE = re.compile(r"^(?P<csr>[a-z0-9]+) <- (?P<v>[0-9a-f]+): (?P<r>[0-9a-f]+)$")
MAP_RE = re.compile(r"^(?P<n>[0-9a-f]{3})=(?P<v>[0-9a-f]+)$")
MAP_TRAP_RE = re.compile(r"^ (?P<n>[0-9a-f]{3}):c=2,tv=(?P<tv>[0-9a-f]+)$")

# QEMU 7.2 probes an AMO's address as a load first: load faults where the
# spec (priv 1.12 §3.7 table 3.6) names store/AMO faults.
AMO_QEMU_CAUSE = {4: 6, 5: 7, 13: 15}

# Bits QEMU 7.2 lets software set that read as zero in the spec (and in
# blkemu): H-extension state with h=false, mstatus.UXL = 3, mepc/sepc bit 0,
# medeleg 10/11/20-23, the Sscofpmf interrupt (13) with sscofpmf=false,
# 64-bit counter-enable registers, pmpaddr bits 63:54.
VS_INTS = (1 << 2) | (1 << 6) | (1 << 10) | (1 << 13)
CSR_EXTRA_BITS = {
    "mstatus": (1 << 32) | (1 << 38) | (1 << 39),
    "sstatus": 1 << 32,
    "medeleg": (1 << 10) | (1 << 11) | (0xf << 20),
    "mideleg": VS_INTS, "mie": VS_INTS, "mip": VS_INTS,
    "mepc": 1, "sepc": 1,
    "mcounteren": 0xffffffff << 32, "scounteren": 0xffffffff << 32,
}
PMPADDR_EXTRA = 0x3ff << 54
CSR_NUMBERS = {0x300: "mstatus", 0x100: "sstatus", 0x302: "medeleg",
               0x303: "mideleg", 0x304: "mie", 0x344: "mip", 0x341: "mepc",
               0x141: "sepc", 0x306: "mcounteren", 0x106: "scounteren"}
# CSR numbers QEMU 7.2 implements although it should not (vstimecmp with
# h=false) and numbers it lacks although the spec requires them
# (mhpmcounter19..31, hpmcounter19..31: Zihpm has all 29).
QEMU_EXTRA_CSRS = {0x24d}
QEMU_MISSING_CSRS = set(range(0xb13, 0xb20)) | set(range(0xc13, 0xc20))
# marchid/mimpid: implementation identity, not behaviour. QEMU 7.2.x reports
# its version (0x0702xx); blkemu reports 0 ("not implemented").
QEMU_ID_CSRS = {0xf12, 0xf13}


def is_amo(word):
    """A 32-bit A-extension word other than LR (AMOs and SC)."""
    w = int(word, 16)
    return len(word) == 8 and w & 0x7f == 0x2f and (w >> 12) & 7 in (2, 3) and w >> 27 != 0x02


def is_sc(word):
    w = int(word, 16)
    return len(word) == 8 and w & 0x7f == 0x2f and (w >> 12) & 7 in (2, 3) and w >> 27 == 0x03


def load_size(word):
    """Bytes read by an integer/FP load word (32- or 16-bit), else None."""
    w = int(word, 16)
    if len(word) == 8:
        f3 = (w >> 12) & 7
        if w & 0x7f == 0x03 and f3 != 7:
            return (1, 2, 4, 8, 1, 2, 4)[f3]
        if w & 0x7f == 0x07 and f3 in (2, 3):
            return 4 if f3 == 2 else 8
        return None
    q, f3 = w & 3, w >> 13
    if q in (0, 2) and f3 in (1, 2, 3):     # c.fld c.lw c.ld, c.fldsp c.lwsp c.ldsp
        return 4 if f3 == 2 else 8
    return None


def trap_rules(mq, mo):
    if (mq["pre"], mq["word"], mq["post"]) != (mo["pre"], mo["word"], mo["post"]):
        return None
    cq, co = int(mq["cause"], 16), int(mo["cause"], 16)
    tq, to = int(mq["tval"], 16), int(mo["tval"], 16)
    # AMO/SC faults: QEMU's load cause, the spec's store/AMO cause.
    if is_amo(mq["word"]) and AMO_QEMU_CAUSE.get(cq) == co and tq == to:
        return "amo-load-cause"
    # Misaligned load from unmapped memory whose first aligned half faults:
    # QEMU's tval is the aligned address below the access, ours (priv
    # §3.1.16, "the portion of the access that caused the fault") the
    # access's first byte.
    size = load_size(mq["word"])
    if size and cq == co == 5 and to % size and tq == to & ~(size - 1):
        return "load-tval-rounded"
    return None


def sc_rule(nq, mo):
    """Misaligned SC without a reservation: QEMU fails it (rd = 1); the spec
    (A extension, LR/SC: "an address-misaligned exception or an access-fault
    exception will be generated") requires a trap."""
    if not is_sc(mo["word"]) or (nq["pre"], nq["word"]) != (mo["pre"], mo["word"]):
        return None
    w = int(mo["word"], 16)
    size = 4 if (w >> 12) & 7 == 2 else 8
    rd = (w >> 7) & 31
    if (int(mo["cause"], 16) == 6 and int(mo["tval"], 16) % size and
            mo["post"] == " epc=+0" and nq["post"] in ("", f" x{rd}=1")):
        return "sc-misaligned-silent"
    return None


def ctzw_rule(uq, uo):
    """ctzw whose rs1 has a zero lower word and a nonzero upper one: QEMU
    counts on into the upper word; Zbb says 32."""
    if (uq["pre"], uq["word"], uq["a"]) != (uo["pre"], uo["word"], uo["a"]):
        return None
    a, rq, ro = int(uq["a"], 16), int(uq["r"], 16), int(uo["r"], 16)
    if (int(uq["word"], 16) & 0xfff0707f == 0x6010101b and a & 0xffffffff == 0
            and a and rq == (a & -a).bit_length() - 1 and ro == 32):
        return "ctzw-upper-word"
    return None


def extra_bits(csr):
    if csr.startswith("pmpaddr"):
        return PMPADDR_EXTRA
    return CSR_EXTRA_BITS.get(csr, 0)


def only_extra(vq, vo, mask):
    """QEMU's value is ours plus some of the bits in mask."""
    return mask and vq != vo and vo & mask == 0 and vq & ~mask == vo


def csr_rules(q, o):
    mq, mo = MASK_RE.match(q), MASK_RE.match(o)
    if mq and mo and mq["csr"] == mo["csr"]:
        m = extra_bits(mq["csr"])
        ones_ok = only_extra(int(mq["ones"], 16), int(mo["ones"], 16), m) or mq["ones"] == mo["ones"]
        zero_ok = only_extra(int(mq["zero"], 16), int(mo["zero"], 16), m) or mq["zero"] == mo["zero"]
        return "csr-extra-bits" if ones_ok and zero_ok else None
    wq, wo = WRITE_RE.match(q), WRITE_RE.match(o)
    if wq and wo and (wq["csr"], wq["v"]) == (wo["csr"], wo["v"]):
        if only_extra(int(wq["r"], 16), int(wo["r"], 16), extra_bits(wq["csr"])):
            return "csr-extra-bits"
        return None
    # Sv57: QEMU 7.2 implements it, blkemu does not (satp keeps Sv39).
    if (q == "satp Sv39 then mode 10: a000000000000456" and
            o == "satp Sv39 then mode 10: 8000000000000123"):
        return "satp-sv57"
    cq, co = MAP_RE.match(q), MAP_RE.match(o)
    if cq and co and cq["n"] == co["n"]:
        n = int(cq["n"], 16)
        mask = PMPADDR_EXTRA if 0x3b0 <= n <= 0x3ef else CSR_EXTRA_BITS.get(CSR_NUMBERS.get(n), 0)
        if only_extra(int(cq["v"], 16), int(co["v"], 16), mask):
            return "csr-extra-bits"
        if n in QEMU_ID_CSRS and int(co["v"], 16) == 0 and int(cq["v"], 16) >> 8 == 0x702:
            return "csr-qemu-version-id"
        return None
    tq, to = MAP_TRAP_RE.match(q), MAP_TRAP_RE.match(o)
    word = lambda n: f"{n << 20 | 0x2573:x}"        # csrrs a0, n, x0
    if cq and to and int(cq["n"], 16) == int(to["n"], 16) in QEMU_EXTRA_CSRS and \
            to["tv"] == word(int(to["n"], 16)):
        return "csr-qemu-extra"
    if tq and co and int(tq["n"], 16) == int(co["n"], 16) in QEMU_MISSING_CSRS and \
            tq["tv"] == word(int(tq["n"], 16)) and int(co["v"], 16) == 0:
        return "csr-qemu-missing-hpmcounter"
    return None


def known_line(q, o):
    """The rule name if QEMU's line q and blkemu's line o differ only by a
    known QEMU 7.2 deviation, else None."""
    mq, mo = TRAP_RE.match(q), TRAP_RE.match(o)
    if mq and mo:
        return trap_rules(mq, mo)
    nq = NOTRAP_RE.match(q)
    if nq and mo:
        return sc_rule(nq, mo)
    uq, uo = UNARY_RE.match(q), UNARY_RE.match(o)
    if uq and uo:
        return ctzw_rule(uq, uo)
    return csr_rules(q, o)


def known_diff(ref, out):
    """{rule: count} when every differing line of out (bytes) is explained by
    a known-deviation rule and the line counts match, else None."""
    lq, lo = ref.split(b"\n"), out.split(b"\n")
    if len(lq) != len(lo):
        return None
    rules = {}
    for q, o in zip(lq, lo):
        if q != o:
            rule = known_line(q.decode(errors="replace"), o.decode(errors="replace"))
            if not rule:
                return None
            rules[rule] = rules.get(rule, 0) + 1
    return rules
