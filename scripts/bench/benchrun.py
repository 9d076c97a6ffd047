"""Running the bench: preparation, the setups, one run of a cell, the matrix.

scripts/bench.py drives it; scripts/bench/benchreport.py turns what it
returns into tables.
"""
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
import zlib

FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
JOBFILE = os.path.join("scripts", "guest", "fio", "bench.fio")
QEMU = "qemu-system-riscv64"

# (key, label, unit, better) — the rows of the tables, in order.  Host runs
# have no boot or CPU row.
METRICS = [
    ("boot", "boot to first userspace line", "s", "lower"),
    ("cpu", "guest CPU job (md5sum + gzip)", "s", "lower"),
    ("qd1-mean", "4k randread QD1 clat mean", "us", "lower"),
    ("qd1-p50", "4k randread QD1 clat p50", "us", "lower"),
    ("qd1-p99", "4k randread QD1 clat p99", "us", "lower"),
    ("qd1-p99.9", "4k randread QD1 clat p99.9", "us", "lower"),
    ("qd1-lat-mean", "4k randread QD1 submit-to-completion mean", "us", "lower"),
    ("qd1-lat-p50", "4k randread QD1 submit-to-completion p50", "us", "lower"),
    ("qd1-lat-p99", "4k randread QD1 submit-to-completion p99", "us", "lower"),
    ("qd1-lat-p99.9", "4k randread QD1 submit-to-completion p99.9", "us", "lower"),
    ("qd32-read", "4k randread QD32", "IOPS", "higher"),
    ("qd32-write", "4k randwrite QD32", "IOPS", "higher"),
    ("seq128k", "128k seq read QD8", "MiB/s", "higher"),
    ("mq-read", "4k randread 2 jobs x QD32", "IOPS", "higher"),
    ("seed003", "seed-003: 128 MiB, batches of 16 x 128k, 1 ms think", "s", "lower"),
    ("seed003-prog", "seed-003 program (kit iotest: 1 ms sleeps around every batch and completion)",
     "s", "lower"),
]

# Metrics only a guest has: the host neither boots nor runs the guest's jobs.
GUEST_ONLY = ("boot", "cpu", "seed003-prog")

# fio section (scripts/guest/fio/bench.fio) -> the metrics it yields.
SECTIONS = {
    "randread-qd1": ["qd1-mean", "qd1-p50", "qd1-p99", "qd1-p99.9",
                     "qd1-lat-mean", "qd1-lat-p50", "qd1-lat-p99", "qd1-lat-p99.9"],
    "randread-qd32": ["qd32-read"],
    "randwrite-qd32": ["qd32-write"],
    "seqread-128k-qd8": ["seq128k"],
    "randread-2x-qd32": ["mq-read"],
    "seed003-batch16-think1ms": ["seed003"],
}


def log(msg):
    print(f"bench: {msg}", flush=True)


class Boot:
    """One emulator run: every console line with the host time it arrived
    (seconds since the process started), the exit status, and a kill of the
    whole process group on timeout or on any exception (Ctrl-C included) —
    the emulator runs in its own session, so nothing else would stop it."""

    USERSPACE = "BLKEMU-USERSPACE-START"

    def __init__(self, argv, timeout, boot_timeout=None):
        """timeout: for the whole run; boot_timeout: for reaching userspace
        (a guest stuck in early boot is given up on without waiting for the
        whole run's timeout)."""
        self.argv = argv
        self.lines = []
        self.status = None
        self.timed_out = False
        self.stuck_in_boot = False
        self._booted = threading.Event()
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        reader = threading.Thread(target=self._read, args=(proc, t0), daemon=True)
        reader.start()
        try:
            if boot_timeout is not None and boot_timeout < timeout:
                if not self._booted.wait(boot_timeout) and proc.poll() is None:
                    self.stuck_in_boot = True
                    raise subprocess.TimeoutExpired(argv, boot_timeout)
            self.status = proc.wait(timeout=max(0.0, timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            self.timed_out = True
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        reader.join(timeout=5)
        self.elapsed = time.monotonic() - t0

    def _read(self, proc, t0):
        buf = b""
        while True:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            now = time.monotonic() - t0
            for raw in done:
                text = raw.decode("utf-8", "replace").rstrip("\r")
                self.lines.append((now, text))
                if self.USERSPACE in text:
                    self._booted.set()
        if buf:
            self.lines.append((time.monotonic() - t0, buf.decode("utf-8", "replace")))

    def first(self, pattern):
        """(time, match) of the first line matching the regex, or (None, None)."""
        rx = re.compile(pattern)
        for t, text in self.lines:
            m = rx.search(text)
            if m:
                return t, m
        return None, None


class Setup:
    """One column: the host, or an emulator with one disk controller."""

    def __init__(self, kind, device, label):
        self.kind = kind          # host | qemu | blkemu
        self.device = device      # None (host) | virtio | ahci
        self.name = kind if device is None else f"{kind}-{device}"
        self.label = label
        self.available = True
        self.reason = ""
        self.example = None       # the command line of the first run

    def off(self, reason):
        self.available = False
        self.reason = reason


# -- preparation -------------------------------------------------------------

def _logged(argv, logpath, verbose, **kw):
    """Run argv with its output appended to logpath; return the status."""
    if verbose:
        log("$ " + " ".join(argv))
    with open(logpath, "a") as f:
        f.write(f"$ {' '.join(argv)}\n")
        f.flush()
        return subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, **kw).returncode


def _tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(line.strip() for line in f.readlines()[-n:])
    except OSError:
        return ""


def prepare(args):
    """Dependencies, blkemu, the guest kit and the backing file.  Returns the
    environment dict the rest reads; problems become reasons, not exits."""
    env = {"fatal": None, "blkemu_reason": "", "qemu_reason": "", "host_reason": "",
           "kit_reason": ""}
    deps_log = os.path.join(args.out, "deps.log")
    if not args.no_deps:
        log(f"installing dependencies if missing (log: {deps_log})")
        for group, key in (("build guest", "fatal"), ("ref", "qemu_reason"),
                           ("bench", "host_reason")):
            rc = _logged(["scripts/deps.sh", "--install"] + group.split(), deps_log, args.verbose)
            if rc != 0:
                why = f"scripts/deps.sh --install {group} failed: {_tail(deps_log, 2)}"
                env[key] = why
                log(why)
    # BENCH_QEMU: another QEMU binary (or, for testing, a missing one).
    qemu = shutil.which(os.environ.get("BENCH_QEMU", QEMU))
    if qemu is None and not env["qemu_reason"]:
        env["qemu_reason"] = (f"{os.environ.get('BENCH_QEMU', QEMU)} not found "
                              "(Debian package qemu-system-misc)")
    env["qemu"] = qemu
    fio = shutil.which("fio")
    if fio is None and not env["host_reason"]:
        env["host_reason"] = "fio not found on the host (Debian package fio)"
    env["fio"] = fio

    blkemu = os.path.join(args.build, "blkemu")
    env["blkemu"] = blkemu
    if not args.no_build:
        build_log = os.path.join(args.out, "build.log")
        log(f"building blkemu (log: {build_log})")
        if _logged(["make", "-j2", "--no-print-directory", f"BUILD={args.build}", "all"],
                   build_log, args.verbose) != 0:
            env["blkemu_reason"] = f"make failed: {_tail(build_log, 3)}"
    if not env["blkemu_reason"] and not os.access(blkemu, os.X_OK):
        env["blkemu_reason"] = f"{blkemu} not built"

    _kit(args, env)
    if os.path.exists(FW):
        env["fw"] = FW
    elif not env["kit_reason"]:
        env["kit_reason"] = f"no OpenSBI firmware at {FW} (Debian package opensbi)"
    env["disk"] = backing_file(args)
    return env


def _kit(args, env):
    """Build (or find) the guest kit and check its initramfs has our job file."""
    argv = ["scripts/guest-kit.sh"] + (["--print"] if args.no_build else ["--no-deps"])
    log("guest kit: " + " ".join(argv))
    r = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    kit = dict(line.split("=", 1) for line in r.stdout.splitlines()
               if "=" in line and not line.startswith("#"))
    if r.returncode != 0 or not kit.get("KERNEL") or not kit.get("INITRD"):
        env["kit_reason"] = f"{' '.join(argv)} failed (status {r.returncode})"
        return
    env["kernel"], env["initrd"] = kit["KERNEL"], kit["INITRD"]
    # The kit's current.env is shared by every checkout using the cache: make
    # sure the initramfs we were handed carries this checkout's bench.fio.
    want = open(JOBFILE, "rb").read()
    try:
        data = zlib.decompressobj(31).decompress(open(env["initrd"], "rb").read())
    except (OSError, zlib.error) as e:
        env["kit_reason"] = f"cannot read {env['initrd']}: {e}"
        return
    if b"etc/fio/bench.fio" not in data or want not in data:
        env["kit_reason"] = (f"{env['initrd']} lacks this checkout's {JOBFILE} "
                             "(another checkout rewrote the kit's current.env? run again)")


def parse_size(text):
    """"64M", "1G", "4096" -> bytes; None if it is not a positive size."""
    m = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not m or int(m.group(1)) == 0:
        return None
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def backing_file(args):
    """--disk (BUILD/bench/disk.img; for every setup and for --quick alike):
    created once, random bytes (no holes, nothing the host can answer
    without reading), flushed; reused while its size matches."""
    path = args.disk
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    stamp = path + ".ok"
    size = parse_size(args.size)     # checked by parse_args
    if os.path.exists(path) and os.path.exists(stamp) and os.path.getsize(path) == size:
        log(f"backing file {path} ({size >> 20} MiB) reused")
        return os.path.abspath(path)
    log(f"creating the backing file {path} ({size >> 20} MiB of random bytes)")
    for p in (stamp, path):
        if os.path.exists(p):
            os.unlink(p)
    tmp = path + ".tmp"
    chunk = 4 << 20
    with open(tmp, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())   # no dirty pages left for O_DIRECT to wait on
    os.rename(tmp, path)
    with open(stamp, "w") as f:
        f.write(f"{size}\n")
    return os.path.abspath(path)


def machine_info(args, env):
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    cpu = None
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    disk_dir = os.path.dirname(env["disk"])
    fs = first_line(["findmnt", "-n", "-o", "FSTYPE,SOURCE,TARGET", "-T", disk_dir])
    fs = " ".join(fs.split()) if fs else first_line(["stat", "-f", "-c", "%T", disk_dir])
    mem = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) >> 20} GiB"
                break
    except OSError:
        pass
    commit = first_line(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"]).returncode != 0
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
        "kernel": platform.release(), "os": first_line(["sh", "-c", ". /etc/os-release && "
                                                        "echo $PRETTY_NAME"]),
        "filesystem": fs, "backing_file": env["disk"],
        "qemu": first_line([env["qemu"], "--version"]) if env.get("qemu") else None,
        "fio_host": first_line([env["fio"], "--version"]) if env.get("fio") else None,
        "blkemu": (commit or "?") + ("-dirty" if dirty else ""),
        "guest_kernel": env.get("kernel"), "initrd": env.get("initrd"), "firmware": env.get("fw"),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# -- the setups ----------------------------------------------------------------

def blkemu_has(env, device):
    """Does build/blkemu accept -drive if=DEVICE?  (--dump-dtb parses the
    whole command line and builds the board, then exits.)"""
    try:
        r = subprocess.run([env["blkemu"], "-M", "virt", "-drive",
                            f"file={env['disk']},if={device},format=raw",
                            "--dump-dtb", os.devnull], capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"{env['blkemu']} --dump-dtb: {e}"
    return r.returncode == 0, (r.stderr.strip().splitlines() or [f"status {r.returncode}"])[-1]


def make_setups(args, env):
    devices = ["virtio", "ahci"] if args.device == "all" else [args.device]
    setups = []
    if "host" in args.setups:
        s = Setup("host", None, "host")
        if env["host_reason"]:
            s.off(env["host_reason"])
        setups.append(s)
    for dev in devices:
        for kind in ("qemu", "blkemu"):
            if kind not in args.setups:
                continue
            s = Setup(kind, dev, "QEMU 7.2" if kind == "qemu" else "blkemu")
            if env["kit_reason"]:
                s.off(env["kit_reason"])
            elif kind == "qemu" and env["qemu_reason"]:
                s.off(env["qemu_reason"])
            elif kind == "blkemu" and env["blkemu_reason"]:
                s.off(env["blkemu_reason"])
            elif kind == "blkemu":
                ok, why = blkemu_has(env, dev)
                if not ok:
                    s.off(why)
            setups.append(s)
    return setups


def emulator_argv(args, env, kind, smp, append, device=None):
    """The command line of one guest run; the disk (if any) is the bench file."""
    cmdline = "console=ttyS0 " + append
    common = ["-M", "virt", "-m", args.mem, "-smp", str(smp), "-bios", env["fw"],
              "-kernel", env["kernel"], "-initrd", env["initrd"], "-append", cmdline]
    disk = env["disk"]
    if kind == "qemu":
        argv = [env["qemu"], "-nographic"] + common
        if device:
            drive = f"file={disk},if=none,id=d0,format=raw,cache={args.cache},aio={args.engine}"
            if device == "virtio":
                argv += ["-object", "iothread,id=io0", "-drive", drive,
                         "-device", "virtio-blk-pci,drive=d0,iothread=io0"]
            else:
                argv += ["-drive", drive, "-device", "ahci,id=ahci0",
                         "-device", "ide-hd,drive=d0,bus=ahci0.0"]
        return argv
    argv = [env["blkemu"]] + common
    if device:
        argv += ["-drive", f"file={disk},if={device},format=raw,aio={args.engine},"
                           f"cache={args.cache}"]
    return argv


# -- one run -------------------------------------------------------------------

class Run:
    """What one run of a setup produced: metric -> value, and per-metric or
    whole-run errors (with the console tail)."""

    def __init__(self):
        self.values = {}
        self.errors = {}          # metric or "*" -> message
        self.tail = ""
        self.argv = None


def parse_fio(js, run):
    """Metrics from fio's JSON (one reporting group per section)."""
    jobs = {j.get("jobname"): j for j in js.get("jobs", [])}
    for section, metrics in SECTIONS.items():
        job = jobs.get(section)
        if job is None:
            for m in metrics:
                run.errors[m] = f"fio printed no result for {section}"
            continue
        if job.get("error"):
            for m in metrics:
                run.errors[m] = f"fio {section}: error {job['error']}"
            continue
        rd, wr = job.get("read", {}), job.get("write", {})
        try:
            if section == "randread-qd1":
                # fio's clat starts when io_submit() returns; an emulator
                # that does device work inside the guest's submit hides it
                # there.  lat_ns (lat_percentiles=1) is the whole I/O.
                for prefix, field in (("qd1-", "clat_ns"), ("qd1-lat-", "lat_ns")):
                    dist = rd[field]
                    pct = dist["percentile"]
                    run.values[prefix + "mean"] = dist["mean"] / 1000
                    for p in ("50", "99", "99.9"):
                        run.values[f"{prefix}p{p}"] = pct[f"{float(p):.6f}"] / 1000
            elif section == "randwrite-qd32":
                run.values["qd32-write"] = wr["iops"]
            elif section == "seqread-128k-qd8":
                run.values["seq128k"] = rd["bw_bytes"] / (1 << 20)
            elif section == "seed003-batch16-think1ms":
                run.values["seed003"] = job["job_runtime"] / 1000
            else:
                run.values[metrics[0]] = rd["iops"]
        except (KeyError, TypeError) as e:
            for m in metrics:
                run.errors[m] = f"fio {section}: no {e} in the JSON"
        for m in metrics:
            v = run.values.get(m)
            if v is not None and "-p" not in m and v <= 0:
                run.errors[m] = f"fio {section}: {m} = {v}"
                del run.values[m]


def fio_env(args, dev):
    # In milliseconds: fio reads a bare "1.5" as 1 (seconds).
    return {"BENCH_DEV": dev, "BENCH_RUNTIME": f"{round(args.runtime * 1000)}ms",
            "BENCH_ENGINE": args.fio_engine}


def run_host(args, env):
    run = Run()
    argv = [env["fio"], "--output-format=json", JOBFILE]
    run.argv = " ".join(f"{k}={shlex.quote(v)}" for k, v in fio_env(args, env["disk"]).items()) \
        + " " + shlex.join(argv)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout,
                           env=dict(os.environ, **fio_env(args, env["disk"])))
    except subprocess.TimeoutExpired:
        run.errors["*"] = f"fio did not finish within {args.timeout:.0f} s"
        return run
    out = r.stdout[r.stdout.find("{"):] if "{" in r.stdout else ""
    try:
        js = json.loads(out)
    except ValueError:
        run.errors["*"] = f"fio exit status {r.returncode}, no JSON"
        run.tail = "\n".join((r.stdout + r.stderr).splitlines()[-30:])
        return run
    parse_fio(js, run)
    if r.returncode != 0 and not run.errors:
        run.errors["*"] = f"fio exit status {r.returncode}"
        run.tail = "\n".join(r.stderr.splitlines()[-30:])
    return run


# A kernel message the guest prints while fio's JSON streams out over the
# same console ("[   69.237046] hrtimer: interrupt took 13124200 ns", seen
# on a starved QEMU) lands in the middle of a line.
PRINTK = re.compile(r"\[\s*\d+\.\d{6}\] .*$")


def fio_json(boot):
    out, inside, glue = [], False, False
    for _, text in boot.lines:
        if "BLKEMU-FIO-JSON-BEGIN" in text:
            inside = True
        elif "BLKEMU-FIO-JSON-END" in text:
            break
        elif inside:
            # The message ends the console line, not fio's: the rest of
            # fio's line comes as the next one ('"bw[ 64.5] hrtimer: ...'
            # then '_agg" : 0,'), so glue them back together.
            cut = PRINTK.sub("", text)
            if cut != text and not cut.strip():
                continue        # a message on a line of its own
            if glue and out:
                out[-1] += cut
            else:
                out.append(cut)
            glue = cut != text
    raw = "\n".join(out)
    raw = raw[raw.find("{"):] if "{" in raw else ""
    return json.loads(raw) if raw else None


def guest_tail(boot, n=30):
    """The console's last lines, without fio's JSON (which is long and says nothing)."""
    lines, state = [], "out"      # out | notes (fio's messages) | json
    for _, text in boot.lines:
        if "BLKEMU-FIO-JSON-BEGIN" in text:
            state = "notes"
            lines.append(text)
        elif "BLKEMU-FIO-JSON-END" in text:
            if state == "json":
                lines.append("    (fio JSON elided)")
            state = "out"
            lines.append(text)
        elif state == "notes" and text.startswith("{"):
            state = "json"
        elif state != "json":
            lines.append(text)
    return "\n".join(lines[-n:])


def save_console(args, name, boot):
    """OUT/console/NAME.log: the command and every console line with the
    host time it arrived, for looking at a run afterwards."""
    d = os.path.join(args.out, "console")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".log"), "w") as f:
        f.write("$ " + shlex.join(boot.argv) + "\n")
        for t, text in boot.lines:
            f.write(f"{t:8.2f} {text}\n")
        f.write(f"# exit status {boot.status}, timed out {boot.timed_out}, "
                f"{boot.elapsed:.2f} s\n")


def run_guest(args, env, setup, rep):
    run = Run()
    dev = "/dev/vda" if setup.device == "virtio" else "/dev/sda"
    fio_vars = " ".join(f"{k}={v}" for k, v in fio_env(args, dev).items())
    jobs = "cpu,fio,seed003" if rep <= args.cpu_reps else "fio,seed003"
    append = f"blkemu.job={jobs} blkemu.fio=bench blkemu.dev={dev} {fio_vars}"
    argv = emulator_argv(args, env, setup.kind, args.smp, append, setup.device)
    run.argv = shlex.join(argv)
    boot = Boot(argv, args.timeout, args.boot_timeout)
    save_console(args, f"{setup.name}-rep{rep}", boot)
    t_user, _ = boot.first(r"BLKEMU-USERSPACE-START")
    problems = []
    if boot.stuck_in_boot:
        problems.append(f"no userspace within {args.boot_timeout:.0f} s")
    elif boot.timed_out:
        problems.append(f"no exit within {args.timeout:.0f} s")
    elif boot.status != 0:
        problems.append(f"exit status {boot.status}")
    if t_user is None:
        problems.append("no BLKEMU-USERSPACE-START")
    else:
        run.values["boot"] = t_user
    _, m = boot.first(r"BLKEMU-CPU-SECONDS=([0-9.]+)")
    if m:
        run.values["cpu"] = float(m.group(1))
    elif t_user is not None and rep <= args.cpu_reps:
        run.errors["cpu"] = "no BLKEMU-CPU-SECONDS"
    _, m = boot.first(r"BLKEMU-SEED003-SECONDS=([0-9.]+)")
    if m:
        run.values["seed003-prog"] = float(m.group(1))
    elif t_user is not None:
        run.errors["seed003-prog"] = "no BLKEMU-SEED003-SECONDS"
    try:
        js = fio_json(boot)
    except ValueError as e:
        js = None
        problems.append(f"fio JSON does not parse: {e}")
    if js is not None:
        parse_fio(js, run)
    elif t_user is not None and not problems:
        problems.append("no fio JSON between the markers")
    if js is None:
        for metrics in SECTIONS.values():
            for mname in metrics:
                run.errors.setdefault(mname, "no fio result")
    _, m = boot.first(r"BLKEMU-JOB-DONE rc=(\d+)")
    if m and m.group(1) != "0":
        problems.append(f"guest jobs ended with status {m.group(1)}")
    if problems:
        run.errors["*"] = "; ".join(problems)
    if run.errors:
        run.tail = guest_tail(boot)
    return run


# -- the matrix ------------------------------------------------------------------

def _describe(run):
    parts = [f"{k}={v:.4g}" for k, v in run.values.items()]
    return ", ".join(parts[:6]) + (" ..." if len(parts) > 6 else "")


def applicable(setup):
    """The metrics a setup has: the host neither boots nor runs the CPU job."""
    return [m[0] for m in METRICS if setup.kind != "host" or m[0] not in GUEST_ONLY]


def run_matrix(args, env, setups):
    """reps x setups, interleaved.  Returns {setup: {"values": {metric: [..]},
    "errors": [{rep, metric, error, tail}]}}.  Ctrl-C stops the loop and
    keeps what was measured (args.interrupted)."""
    out = {s.name: {"values": {}, "errors": []} for s in setups}
    live = [s for s in setups if s.available]
    try:
        for rep in range(1, args.reps + 1):
            for s in live:
                _matrix_cell(args, env, s, rep, out[s.name])
    except KeyboardInterrupt:
        args.interrupted = True
        log("interrupted: reporting what was measured")
    return out


def _matrix_cell(args, env, s, rep, cell):
    t0 = time.monotonic()
    log(f"rep {rep}/{args.reps}: {s.name} ...")
    run = run_host(args, env) if s.kind == "host" else run_guest(args, env, s, rep)
    if s.example is None:
        s.example = run.argv
    if "*" in run.errors:
        # A failed run fails every cell it produced nothing for.
        for k in applicable(s):
            if k not in run.values and (k != "cpu" or rep <= args.cpu_reps):
                run.errors.setdefault(k, run.errors["*"])
    for k, v in run.values.items():
        cell["values"].setdefault(k, []).append(v)
    for k, msg in run.errors.items():
        cell["errors"].append({"rep": rep, "metric": k, "error": msg, "tail": run.tail})
    took = time.monotonic() - t0
    if run.errors:
        log(f"rep {rep}/{args.reps}: {s.name} FAILED after {took:.0f} s: " +
            "; ".join(f"{k}: {v}" for k, v in run.errors.items()))
        if run.tail:
            print("\n".join("    | " + line for line in run.tail.splitlines()), flush=True)
    else:
        log(f"rep {rep}/{args.reps}: {s.name} done in {took:.0f} s: {_describe(run)}")


def run_boot_table(args, env, setups):
    """Boot to the first userspace line with job uname and no disk, per -smp,
    QEMU and blkemu interleaved.  {emu: {"reason": .., "smp": {smp: {"values":
    [..], "errors": [..], "argv": ..}}}}"""
    out = {}
    emus = []
    for kind in ("qemu", "blkemu"):
        if kind not in args.setups or not args.boot_smp:
            continue
        reason = env["kit_reason"] or env[f"{kind}_reason"]
        out[kind] = {"reason": reason, "smp": {}}
        if not reason:
            emus.append(kind)
    if getattr(args, "interrupted", False):
        return out
    try:
        for smp in args.boot_smp:
            for rep in range(1, args.reps + 1):
                for kind in emus:
                    _boot_cell(args, env, kind, smp, rep, out[kind]["smp"])
    except KeyboardInterrupt:
        args.interrupted = True
        log("interrupted: reporting what was measured")
    return out


def _boot_cell(args, env, kind, smp, rep, cells):
    argv = emulator_argv(args, env, kind, smp, "blkemu.job=uname")
    boot = Boot(argv, min(args.timeout, args.boot_timeout + 60), args.boot_timeout)
    save_console(args, f"boot-{kind}-smp{smp}-rep{rep}", boot)
    t, _ = boot.first(r"BLKEMU-USERSPACE-START")
    _, m = boot.first(r"BLKEMU-NPROC=(\d+)")
    cell = cells.setdefault(str(smp), {"values": [], "errors": [], "argv": shlex.join(argv)})
    bad = []
    if boot.stuck_in_boot:
        bad.append(f"no userspace within {args.boot_timeout:.0f} s")
    elif boot.timed_out or boot.status != 0:
        bad.append("timed out" if boot.timed_out else f"exit status {boot.status}")
    if t is None:
        bad.append("no BLKEMU-USERSPACE-START")
    elif m is None or int(m.group(1)) != smp:
        bad.append(f"guest saw {m.group(1) if m else '?'} CPUs, want {smp}")
    if bad:
        cell["errors"].append({"rep": rep, "metric": "boot", "error": "; ".join(bad),
                               "tail": guest_tail(boot)})
        log(f"boot -smp {smp} rep {rep}: {kind} FAILED: {'; '.join(bad)}")
        print("\n".join("    | " + line for line in guest_tail(boot).splitlines()), flush=True)
    else:
        cell["values"].append(t)
        log(f"boot -smp {smp} rep {rep}/{args.reps}: {kind} {t:.2f} s")
