#!/usr/bin/env python3
"""blkemu, QEMU 7.2 and the host side by side on the same disk (issue 6).

    scripts/bench.py [--device virtio|ahci|all] [--engine io_uring|native|threads]
                     [--cache none|writeback] [--reps N] [--runtime S] [--quick]

What it does, in order:
  1. installs what it needs (scripts/deps.sh: build, guest, ref = QEMU,
     bench = the host's fio), builds build/blkemu and the guest kit;
  2. creates the raw backing file once (build/bench/disk.img, filled with
     random bytes so every read touches the disk) and reuses it afterwards;
  3. runs the matrix: for each repetition, each setup in turn (host, then
     QEMU and blkemu per device: A B A B ...), so drift hits all alike.
     A guest boots the kit's kernel and initramfs with the backing file as
     its only disk, runs job `cpu`, then fio on /etc/fio/bench.fio
     (scripts/guest/fio/bench.fio), which the host also runs on the file;
  4. with --boot-smp, boots job `uname` on both emulators at each -smp for
     the boot-time table;
  5. prints the tables, writes build/bench/results.json and regenerates
     docs/performance.md.

A setup that cannot run (QEMU not installed, blkemu without AHCI) has its
column say why; the rest runs and the exit status stays 0. A guest that
fails to boot or an fio that fails makes its cells report the error with the
console tail; the run goes on and the exit status is 1 at the end.
"""
import argparse
import json
import os
import shlex
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))

import benchreport  # noqa: E402
import benchrun  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="`make bench` runs it with the defaults; `make bench-quick` with --quick.")
    ap.add_argument("--device", choices=["virtio", "ahci", "all"], default="all",
                    help="the emulated disk controller(s) (default all)")
    ap.add_argument("--engine", choices=["io_uring", "native", "threads"], default="io_uring",
                    help="the emulators' host I/O engine, aio= (default io_uring)")
    ap.add_argument("--cache", choices=["none", "writeback"], default="none",
                    help="the emulators' cache mode (default none: O_DIRECT)")
    ap.add_argument("--fio-engine", default="libaio",
                    help="fio's ioengine in the guest and on the host (default libaio)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per cell (default 5: on a 2-core VM host 3 were too few for two runs to agree)")
    ap.add_argument("--runtime", type=float, default=None,
                    help="seconds per time-based fio job (default 10)")
    ap.add_argument("--cpu-reps", type=int, default=None,
                    help="run the guest CPU job in the first N reps only (default: every rep; "
                         "--quick: 1) — it is the slowest part of a guest run")
    ap.add_argument("--setups", default="host,qemu,blkemu",
                    help="comma-separated subset of host,qemu,blkemu (default all three)")
    ap.add_argument("--boot-smp", default=None,
                    help="comma-separated -smp values for the boot-time table "
                         "(default 1,2,4; 'none' skips it)")
    ap.add_argument("--smp", type=int, default=2, help="harts for the I/O matrix (default 2)")
    ap.add_argument("--mem", default="1G", help="guest RAM (default 1G)")
    ap.add_argument("--size", default="1G", help="backing file size (default 1G)")
    ap.add_argument("--disk", default=None,
                    help="the raw backing file (default BUILD/bench/disk.img; created if "
                         "missing, reused while its size matches)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds one guest run may take (default from the runtime)")
    ap.add_argument("--boot-timeout", type=float, default=120,
                    help="seconds a guest may take to reach userspace (default 120)")
    ap.add_argument("--out", default=None,
                    help="directory for disk.img, results.json and logs (default build/bench)")
    ap.add_argument("--doc", default=None,
                    help="the Markdown report to regenerate (default docs/performance.md; "
                         "with --quick, OUT/performance.md; 'none' to skip)")
    ap.add_argument("--quick", action="store_true",
                    help="the reduced matrix of `make bench-quick`: virtio only, 2 reps, "
                         "2 s jobs, the CPU job once, no boot-time table (explicit options "
                         "still win)")
    ap.add_argument("--no-deps", action="store_true", help="do not run scripts/deps.sh")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run make or scripts/guest-kit.sh (use what is built)")
    ap.add_argument("--compare", nargs="+", metavar="JSON",
                    help="OLD.json: after the run, say which ratios agree with that run's; "
                         "OLD.json NEW.json: only compare two saved runs (no run)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command")
    args = ap.parse_args(argv)
    quick = args.quick
    if args.reps is None:
        # Two `make bench` runs back to back on the 2-core development VM:
        # 3 reps -> 28 of 58 ratios inside each other's spread, 5 -> 52 (the
        # other 6 one way).  Guest runs vary 2x from boot to boot there.
        args.reps = 2 if quick else 5
    if args.runtime is None:
        args.runtime = 2.0 if quick else 10.0
    if args.cpu_reps is None:
        args.cpu_reps = 1 if quick else args.reps
    if args.boot_smp is None:
        args.boot_smp = "none" if quick else "1,2,4"
    if quick and "--device" not in " ".join(argv):
        args.device = "virtio"
    build = os.environ.get("BUILD", "build")
    if args.out is None:
        args.out = os.path.join(build, "bench", "quick") if quick else os.path.join(build, "bench")
    if args.doc is None:
        args.doc = os.path.join(args.out, "performance.md") if quick \
            else os.path.join("docs", "performance.md")
    args.build = build
    if args.disk is None:
        args.disk = os.path.join(build, "bench", "disk.img")
    args.setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    bad = [s for s in args.setups if s not in ("host", "qemu", "blkemu")]
    if bad:
        ap.error(f"--setups: unknown {', '.join(bad)} (host, qemu, blkemu)")
    args.boot_smp = [] if args.boot_smp == "none" else \
        [int(x) for x in args.boot_smp.split(",") if x.strip()]
    if args.reps < 1 or args.runtime <= 0:
        ap.error("--reps and --runtime must be positive")
    if benchrun.parse_size(args.size) is None:
        ap.error(f"--size: bad size {args.size!r} (bytes, or with K, M or G)")
    if args.timeout is None:
        # boot + cpu job + five time-based jobs, doubled for a loaded machine,
        # plus room for fio's start-up and slow seed-003 runs (fio's and the
        # kit's program: ~35 s each if every batch waited for a 499 ms tick).
        args.timeout = 2 * (30 + 30 + 5 * args.runtime) + 240
    return args


def main(argv):
    args = parse_args(argv)
    if args.compare and len(args.compare) == 2:
        try:
            with open(args.compare[0]) as f:
                old = json.load(f)
            with open(args.compare[1]) as f:
                new = json.load(f)
        except (OSError, ValueError) as e:
            print(f"bench: --compare: {e}", file=sys.stderr)
            return 2
        print(benchreport.compare_text(old, new, args.compare[0]))
        return 0
    if args.compare and len(args.compare) > 2:
        print("bench: --compare takes OLD.json, or OLD.json NEW.json", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    command = "scripts/bench.py " + " ".join(shlex.quote(a) for a in argv)
    if os.environ.get("BENCH_MAKE_TARGET"):
        command = f"make {os.environ['BENCH_MAKE_TARGET']}  # {command}"
    t0 = time.monotonic()
    env = benchrun.prepare(args)
    setups = benchrun.make_setups(args, env)
    for s in setups:
        if not s.available:
            print(f"bench: {s.label}: not available: {s.reason}", flush=True)
    machine = benchrun.machine_info(args, env)
    machine["load_before"] = os.getloadavg()
    matrix = benchrun.run_matrix(args, env, setups)
    boot = benchrun.run_boot_table(args, env, setups)
    machine["load_after"] = os.getloadavg()
    elapsed = time.monotonic() - t0
    results = benchreport.assemble(args, command, machine, env, setups, matrix, boot, elapsed)
    print()
    print(benchreport.terminal(results), flush=True)
    results["interrupted"] = bool(getattr(args, "interrupted", False))
    if results["interrupted"]:
        print(f"bench: interrupted: {args.doc} left as it was", flush=True)
    elif args.doc != "none":
        benchreport.write_markdown(results, args.doc)
        print(f"bench: wrote {args.doc}", flush=True)
    path = os.path.join(args.out, "results.json")
    benchreport.write_json(results, path)
    print(f"bench: wrote {path}", flush=True)
    if args.compare:
        try:
            with open(args.compare[0]) as f:
                print(benchreport.compare_text(json.load(f), results, args.compare[0]),
                      flush=True)
        except (OSError, ValueError) as e:
            print(f"bench: --compare {args.compare[0]}: {e}", flush=True)
    nerr = results["errors"]
    print(f"bench: {len(nerr)} failed run(s); {elapsed / 60:.1f} min" if nerr
          else f"bench: done in {elapsed / 60:.1f} min", flush=True)
    if env.get("fatal"):
        print(f"bench: {env['fatal']}", flush=True)
    if getattr(args, "interrupted", False):
        return 130
    return 1 if nerr or env.get("fatal") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
