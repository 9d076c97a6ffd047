#!/usr/bin/env python3
"""tests/diff/run.py — differential tests of blkemu's CPU against QEMU 7.2.

Builds bare-metal ELFs (hand-written tests, random instruction sequences,
garbage words) into $BUILD/diff/, runs each under qemu-system-riscv64 and
under $BUILD/blkemu with the same command line, and compares the UART
output byte for byte. QEMU's outputs are cached under
$BLKEMU_CACHE/diff/ (default ~/.cache/blkemu/diff/) keyed by the sha256 of
the ELF and the command line. See docs/testing-cpu.md.
"""
import argparse
import concurrent.futures
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from known import known_diff  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CC = os.environ.get("RISCV_CC", "riscv64-linux-gnu-gcc")
QEMU = os.environ.get("QEMU", "qemu-system-riscv64")
CFLAGS = ["-nostdlib", "-nostartfiles", "-static", "-fno-pie", "-no-pie",
          "-Wl,--build-id=none", "-Wl,--no-relax", "-Wl,--no-warn-rwx-segments",
          "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-O2",
          "-ffreestanding", "-fno-builtin", "-fno-asynchronous-unwind-tables",
          "-fno-stack-protector", "-Wall", "-Werror",
          "-T", os.path.join(HERE, "rt", "link.ld")]
RT_SRCS = [os.path.join(HERE, "rt", "crt0.S"), os.path.join(HERE, "rt", "rt.c")]
MACHINE_ARGS = ["-M", "virt", "-bios", "none", "-m", "128M"]
# The reference hart: QEMU 7.2's rv64 minus the extensions blkemu does not
# implement (H, debug triggers, Svinval), so that the CSR map, misa and the
# decoding of garbage words are comparable. Zba/Zbb/Zbc/Zbs stay on: blkemu
# implements them, as QEMU 7.2's default hart does.
QEMU_CPU = os.environ.get("QEMU_CPU", "rv64,h=false,debug=false,svinval=false")

# Programs per kind generated from one --seed (random sequences: --count).
GARBAGE32_PROGS = 6
GARBAGE16_PROGS = 3


class Test:
    """One ELF to run: name, sources, and how many random instructions it
    executes at least (0 for hand-written tests)."""

    def __init__(self, name, srcs, elf, insns=0, gen=None):
        self.name, self.srcs, self.elf, self.insns = name, srcs, elf, insns
        self.gen = gen          # (script, args) that produced srcs[0]
        self.known = None       # {rule: lines} of known QEMU deviations


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build_elf(t):
    os.makedirs(os.path.dirname(t.elf), exist_ok=True)
    if t.gen:
        script, args = t.gen
        with open(t.srcs[0], "w") as out:
            sh([sys.executable, script] + args, stdout=out)
        t.insns = read_insn_count(t.srcs[0])
    tmp = t.elf + ".tmp"
    sh([CC] + CFLAGS + ["-I", os.path.join(HERE, "rt")] + RT_SRCS + t.srcs +
       ["-o", tmp], stderr=subprocess.PIPE)
    os.replace(tmp, t.elf)


def read_insn_count(path):
    with open(path) as f:
        for line in f:
            if line.startswith("# random-insns:"):
                return int(line.split(":")[1])
    return 0


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def run_emu(cmd, timeout):
    """Runs one emulator; returns (stdout bytes, exit status or 'timeout')."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.stdout, p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        return e.stdout or b"", "timeout", e.stderr or b""


def qemu_cmd(elf):
    return [QEMU] + MACHINE_ARGS + ["-cpu", QEMU_CPU, "-nographic", "-kernel", elf]


def blkemu_cmd(build, elf):
    return [os.path.join(build, "blkemu")] + MACHINE_ARGS + ["-kernel", elf]


def run_qemu_cached(elf, cache, timeout, use_cache=True):
    key = hashlib.sha256((sha256(elf) + " ".join(qemu_cmd("T"))).encode()).hexdigest()
    path = os.path.join(cache, key)
    if use_cache and os.path.exists(path + ".out"):
        with open(path + ".out", "rb") as f:
            out = f.read()
        with open(path + ".rc") as f:
            rc = f.read().strip()
        return out, int(rc) if rc.lstrip("-").isdigit() else rc, b""
    out, rc, err = run_emu(qemu_cmd(elf), timeout)
    if use_cache and rc != "timeout":
        os.makedirs(cache, exist_ok=True)
        with open(path + ".out.tmp", "wb") as f:
            f.write(out)
        with open(path + ".rc", "w") as f:
            f.write(str(rc))
        os.replace(path + ".out.tmp", path + ".out")
    return out, rc, err


def terminated(out):
    """Every test ends with rt_exit's 'END <code>' line, then the test device."""
    lines = out.rstrip(b"\n").split(b"\n")
    return bool(lines) and lines[-1].startswith(b"END ")


def first_diff(a, b, ctx=3):
    la, lb = a.split(b"\n"), b.split(b"\n")
    n = 0
    while n < min(len(la), len(lb)) and la[n] == lb[n]:
        n += 1
    lo = max(0, n - ctx)
    msg = [f"  first difference at line {n + 1}:"]
    for tag, ls in (("qemu  ", la), ("blkemu", lb)):
        for i in range(lo, min(len(ls), n + ctx + 1)):
            mark = ">" if i == n else " "
            msg.append(f"  {tag}{mark}{i + 1:6}: {ls[i].decode(errors='replace')}")
        if n >= len(ls):
            msg.append(f"  {tag}> (output ends after {len(ls)} lines)")
    return "\n".join(msg)


def compare(t, args):
    """Returns (ok, message); sets t.known to the known-deviation rules that
    explained differing lines."""
    ref, rrc, rerr = run_qemu_cached(t.elf, args.cache, args.timeout,
                                     use_cache=args.emu_only != "qemu")
    if rrc != 0 or not terminated(ref):
        return False, f"QEMU itself did not finish the test (status {rrc}): {rerr[-300:]!r}"
    if args.emu_only == "qemu":
        out, rc, err = run_emu(qemu_cmd(t.elf), args.timeout)
        other = "QEMU (second run)"
    else:
        out, rc, err = run_emu(blkemu_cmd(args.build, t.elf), args.timeout)
        other = "blkemu"
    t.known = None
    if out != ref and not args.strict and args.emu_only != "qemu":
        t.known = known_diff(ref, out)
    if out != ref and not t.known:
        why = "timed out" if rc == "timeout" else f"exit status {rc}"
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return False, (f"{other} output differs ({why})\n" + first_diff(ref, out) +
                       ("\n  stderr: " + " | ".join(tail) if tail else ""))
    if rc != rrc:
        return False, f"same output but {other} exit status {rc}, QEMU {rrc}"
    return True, ""


def gen_tests(args, seed, outdir, count):
    """The random-sequence and garbage-word programs for one seed."""
    tests = []
    rng = random.Random(seed)
    for i in range(count):
        s = rng.getrandbits(48)
        src = os.path.join(outdir, f"rand-{s:012x}.S")
        tests.append(Test(f"rand-{s:012x}", [src, os.path.join(HERE, "gen", "seqdump.c")],
                          src[:-2] + ".elf",
                          gen=(os.path.join(HERE, "gen", "randprog.py"),
                               ["--seed", str(s), "--seqs", str(args.seqs),
                                "--len", str(args.len)])))
    for kind, n in (("32", GARBAGE32_PROGS), ("16", GARBAGE16_PROGS)):
        for i in range(n if args.garbage else 0):
            s = rng.getrandbits(48)
            src = os.path.join(outdir, f"garbage{kind}-{s:012x}.S")
            tests.append(Test(f"garbage{kind}-{s:012x}",
                              [src, os.path.join(HERE, "gen", "garbage_rt.c")],
                              src[:-2] + ".elf",
                              gen=(os.path.join(HERE, "gen", "garbage.py"),
                                   ["--seed", str(s), "--bits", kind,
                                    "--count", str(args.garbage_words)])))
    return tests


def hand_tests(outdir):
    tests = []
    hand = os.path.join(HERE, "hand")
    for f in sorted(os.listdir(hand)):
        base, ext = os.path.splitext(f)
        if ext in (".c", ".S"):
            tests.append(Test(base, [os.path.join(hand, f)],
                              os.path.join(outdir, "hand", base + ".elf")))
    return tests


def load_known():
    """Test names whose divergence from QEMU 7.2 is understood and accepted."""
    known = {}
    with open(os.path.join(HERE, "known-divergences.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, _, why = line.strip().partition(" ")
                known[name] = why.strip()
    return known


def run_all(tests, args):
    """Builds and runs tests on args.jobs workers; returns (pass, fail, insns)."""
    def one(t):
        try:
            build_elf(t)
        except subprocess.CalledProcessError as e:
            err = (e.stderr or b"").decode(errors="replace")
            return t, False, f"build failed: {' '.join(e.cmd[-3:])}\n{err}"
        ok, msg = compare(t, args)
        return t, ok, msg

    npass = nfail = insns = 0
    known = {} if args.strict or args.emu_only else load_known()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        futs = [ex.submit(one, t) for t in tests]
        for fut in futs:
            t, ok, msg = fut.result()
            if t.name in known:
                args.nknown += 1
                if ok:
                    print(f"note: known divergence {t.name} now matches QEMU "
                          "(remove it from known-divergences.txt)")
                else:
                    print(f"KNOWN {t.name}: {known[t.name]}")
                    if args.verbose:
                        print(msg)
                continue
            if ok:
                npass += 1
                insns += t.insns
                for rule, n in (t.known or {}).items():
                    args.known_lines[rule] = args.known_lines.get(rule, 0) + n
                if args.verbose:
                    print(f"PASS {t.name}" + (f" (known QEMU deviations: {t.known})"
                                              if t.known else ""))
            else:
                nfail += 1
                print(f"FAIL {t.name} ({t.elf})\n{msg}", flush=True)
                if args.stop_first:
                    for f in futs:
                        f.cancel()
                    break
    return npass, nfail, insns


def parse_duration(s):
    mult = {"s": 1, "m": 60, "h": 3600}
    return float(s[:-1]) * mult[s[-1]] if s[-1] in mult else float(s)


def fuzz(args, outdir):
    """Fresh seeds until the deadline or the first divergence."""
    deadline = time.time() + parse_duration(args.fuzz)
    total = rounds = 0
    args.garbage = True
    while time.time() < deadline:
        seed = int.from_bytes(os.urandom(6), "little")
        tests = gen_tests(args, seed, os.path.join(outdir, "fuzz"), args.jobs * 2)
        args.stop_first = True
        npass, nfail, insns = run_all(tests, args)
        total += insns
        rounds += 1
        if nfail:
            keep = os.path.join(outdir, f"fuzz-fail-{seed:012x}")
            os.makedirs(keep, exist_ok=True)
            for t in tests:
                for p in t.srcs + [t.elf]:
                    if os.path.exists(p):
                        shutil.copy(p, keep)
            print(f"fuzz: divergence with seed {seed}; reproducer in {keep} "
                  f"(rerun: {sys.argv[0]} --seed {seed} --count {args.jobs * 2})")
            print(f"fuzz: {total} random instructions without divergence before it")
            return 1
        for t in tests:     # keep the disk from filling up (generated files only:
            for p in t.srcs[:1] + [t.elf]:      # srcs[1:] are the shared runtimes)
                if os.path.exists(p):
                    os.remove(p)
    if args.known_lines:
        print("fuzz: output lines accepted as known QEMU 7.2 deviations: " +
              ", ".join(f"{r} {n}" for r, n in sorted(args.known_lines.items())))
    print(f"fuzz: {rounds} rounds, {total} random instructions, no divergence")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="seed of the random programs")
    ap.add_argument("--count", type=int, default=60, help="number of random programs")
    ap.add_argument("--seqs", type=int, default=80, help="sequences per random program")
    ap.add_argument("--len", type=int, default=220, help="instructions per sequence")
    ap.add_argument("--garbage-words", type=int, default=1500,
                    help="words per garbage program")
    ap.add_argument("--no-garbage", dest="garbage", action="store_false")
    ap.add_argument("--only", help="run only tests whose name contains this")
    ap.add_argument("--emu-only", choices=["qemu"],
                    help="run everything on QEMU twice (determinism check)")
    ap.add_argument("--fuzz", metavar="DURATION",
                    help="fresh seeds for DURATION (e.g. 600, 10m, 1h)")
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--stop-first", action="store_true")
    ap.add_argument("--strict", action="store_true",
                    help="count known divergences (known-divergences.txt) as failures")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    args.nknown = 0
    args.known_lines = {}
    args.build = os.environ.get("BUILD", "build")
    if not os.path.isabs(args.build):
        args.build = os.path.join(os.getcwd(), args.build)
    args.cache = os.path.join(os.environ.get("BLKEMU_CACHE",
                              os.path.expanduser("~/.cache/blkemu")), "diff")
    outdir = os.path.join(args.build, "diff")

    for tool in (CC, QEMU):
        if not shutil.which(tool):
            sys.exit(f"run.py: {tool} not found (Debian packages: "
                     "gcc-riscv64-linux-gnu, qemu-system-misc)")
    if args.emu_only != "qemu" and not os.access(os.path.join(args.build, "blkemu"), os.X_OK):
        sys.exit(f"run.py: {args.build}/blkemu missing: build it first (make), "
                 "or check QEMU alone with --emu-only qemu")
    if args.fuzz:
        sys.exit(fuzz(args, outdir))

    t0 = time.time()
    tests = hand_tests(outdir) + gen_tests(args, args.seed,
                                           os.path.join(outdir, "gen"), args.count)
    if args.only:
        tests = [t for t in tests if args.only in t.name]
    npass, nfail, insns = run_all(tests, args)
    print(f"random instructions executed (lower bound) in passing programs: {insns}")
    print(f"time: {time.time() - t0:.1f} s")
    if args.known_lines:
        print("output lines accepted as known QEMU 7.2 deviations (--strict "
              "refuses them): " + ", ".join(f"{r} {n}" for r, n in
                                            sorted(args.known_lines.items())))
    if args.nknown:
        print(f"{args.nknown} known divergences from QEMU 7.2 not counted "
              "(see tests/diff/known-divergences.txt, --strict)")
    print(f"{npass} passed, {nfail} failed")
    sys.exit(1 if nfail else 0)


if __name__ == "__main__":
    main()
