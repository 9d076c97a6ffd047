#!/usr/bin/env python3
"""tests/bench/benchtest.py — `make bench`'s bad-input paths (issue 6):
a missing QEMU, an emulator that dies, a wrong option, a results file that
does not parse. Each check runs scripts/bench.py for real (no timing is
asserted) and prints one PASS/FAIL line; the last line is
"N passed, N failed".

    tests/bench/benchtest.py [-k NAME] [--list]

Needs the guest kit (scripts/guest-kit.sh), a built blkemu and fio on the
host (`make deps` installs it); the check that boots a guest takes about a
minute.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(ROOT, "scripts", "bench.py")
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def bench(tmp, *argv, env=None, timeout=900):
    """Run the bench into tmp with a small backing file; (status, output)."""
    e = dict(os.environ, **(env or {}))
    e.pop("BENCH_MAKE_TARGET", None)
    args = [sys.executable, BENCH, "--no-deps", "--no-build", "--out", tmp,
            "--disk", os.path.join(tmp, "disk.img"), "--size", "256M",
            "--doc", "none"] + list(argv)
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout, env=e, cwd=ROOT)
    return r.returncode, r.stdout


def results(tmp):
    with open(os.path.join(tmp, "results.json")) as f:
        return json.load(f)


def expect(cond, what, out):
    if not cond:
        tail = "\n".join(out.splitlines()[-15:])
        raise AssertionError(f"{what}\n--- output tail:\n{tail}")


@check
def bench_bad_options(tmp):
    """A wrong option is one usage line and status 2, before anything runs."""
    for argv, want in ((["--setups", "host,nope"], "--setups: unknown nope"),
                       (["--reps", "0"], "--reps and --runtime must be positive"),
                       (["--device", "scsi"], "invalid choice: 'scsi'"),
                       (["--size", "12X"], "--size: bad size '12X'"),
                       (["--size", "0"], "--size: bad size '0'")):
        status, out = bench(tmp, "--quick", *argv)
        expect(status == 2, f"{argv}: status {status}, want 2", out)
        expect(want in out, f"{argv}: no {want!r} in the output", out)
        expect(not os.path.exists(os.path.join(tmp, "results.json")),
               f"{argv}: a results file was written", out)


@check
def bench_compare_bad_json(tmp):
    """--compare with a file that is not JSON: one line, status 2."""
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write("{not json")
    status, out = bench(tmp, "--compare", bad, bad)
    expect(status == 2 and "bench: --compare:" in out, f"status {status}", out)


@check
def bench_printk_inside_fio_json(tmp):
    """A kernel message that lands inside fio's JSON on the console (on a
    line of its own, or splitting one of fio's lines) is taken out and the
    JSON still parses."""
    sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
    import benchrun

    class Boot:
        lines = [(0.0, t) for t in (
            "BLKEMU-FIO-JSON-BEGIN", "{", '  "a" : 1,',
            "[   12.345678] random: crng init done",
            '  "bw[   64.598358] hrtimer: interrupt took 11395800 ns',
            '_agg" : 2', "}", "BLKEMU-FIO-JSON-END")]
    got = benchrun.fio_json(Boot())
    expect(got == {"a": 1, "bw_agg": 2}, f"parsed {got}", "")


@check
def bench_emulator_dies(tmp):
    """An emulator that exits at once: its cells carry the error and the
    console tail, the host column still runs, the status is 1."""
    fake = os.path.join(tmp, "fake-qemu")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\n"
                "case \"$*\" in *--version*) echo 'QEMU emulator version 0.0 (fake)'; "
                "exit 0;; esac\n"
                "echo 'fake-qemu: cannot start the machine' >&2\nexit 3\n")
    os.chmod(fake, 0o755)
    status, out = bench(tmp, "--quick", "--setups", "host,qemu", "--reps", "1",
                        "--runtime", "1", env={"BENCH_QEMU": fake})
    expect(status == 1, f"status {status}, want 1", out)
    res = results(tmp)
    errs = [e for e in res["errors"] if e["setup"].startswith("qemu")]
    expect(errs, "no error recorded for the qemu setup", out)
    expect(any("exit status 3" in e["error"] for e in errs),
           f"the error does not give the exit status: {errs[0]['error']}", out)
    expect(any("cannot start the machine" in (e.get("tail") or "") for e in errs),
           "the console tail is missing from the error", out)
    host = res["cells"].get("host", {})
    expect(host.get("qd32-read", {}).get("stats"), "the host column did not run", out)
    expect("cannot start the machine" in out, "the terminal does not show the tail", out)


@check
def bench_no_qemu(tmp):
    """QEMU missing: its column says why, blkemu still runs and is
    reported; a missing reference is not a failed run (status 0)."""
    status, out = bench(tmp, "--quick", "--setups", "qemu,blkemu", "--reps", "1",
                        "--runtime", "1", "--cpu-reps", "0",
                        env={"BENCH_QEMU": "/nonexistent/qemu-system-riscv64"})
    expect("not available: /nonexistent/qemu-system-riscv64 not found" in out,
           "the QEMU column does not say why it is missing", out)
    res = results(tmp)
    blk = res["cells"].get("blkemu-virtio", {})
    expect(blk.get("qd32-read", {}).get("stats", {}).get("median", 0) > 0,
           "blkemu's column has no QD32 result", out)
    expect(status == 0, f"status {status}, want 0", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", help="run only checks whose name contains this")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    chosen = [c for c in CHECKS if not args.k or args.k in c.__name__]
    if args.list:
        print("\n".join(c.__name__.replace("_", "-") for c in chosen))
        return 0
    npass = nfail = 0
    for c in chosen:
        name = c.__name__.replace("_", "-")
        with tempfile.TemporaryDirectory(prefix="blkemu-bench-") as tmp:
            try:
                c(tmp)
                print(f"PASS {name}", flush=True)
                npass += 1
            except (AssertionError, subprocess.TimeoutExpired, OSError, ValueError,
                    KeyError) as e:
                print(f"FAIL {name}: {e}", flush=True)
                nfail += 1
    print(f"{npass} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
