#!/usr/bin/env python3
"""Guest tests: boot the guest kit under an emulator and check what it prints.

    EMU=blkemu|qemu tests/guest/guesttest.py [-k SUBSTRING]... [--list] [-v]

EMU        blkemu (default: ${BUILD:-build}/blkemu) or qemu (qemu-system-riscv64,
           the reference).
KERNEL, INITRD, DISK   override the kit's artefacts (default: what
           `scripts/guest-kit.sh --print` reports; the kit is built if missing).
TIMEOUT    seconds one boot may take (default 120).
GUEST_APPEND  extra kernel command-line words (e.g. "earlycon").

Every check prints one PASS/FAIL/SKIP line; a failed boot prints the tail of
its console.  The last line is "N passed, N failed"; the exit status is 1 if
anything failed.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import latency  # tests/guest/latency.py (issue 7)
import inject_tests  # tests/guest/inject_tests.py: -drive inject= (issue 7)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"


class Boot:
    """One emulator run: its console lines, each with the host time it arrived."""

    def __init__(self, argv, timeout, script=()):
        self.argv = argv
        self.script = list(script)  # [(regex, text to type once it is seen)]
        self.lines = []          # (seconds since start, text)
        self.status = None       # exit status, or None if killed on timeout
        self.timed_out = False
        self.elapsed = 0.0
        self._run(timeout)

    def _run(self, timeout):
        t0 = time.monotonic()
        # stdin is never a terminal: the emulator must not touch tty modes.
        # With a script it is a pipe the guest's console reads from.
        proc = subprocess.Popen(self.argv,
                                stdin=subprocess.PIPE if self.script else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)

        def reader():
            buf = b""
            while True:
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    break
                buf += chunk
                now = time.monotonic() - t0
                *done, buf = buf.split(b"\n")
                for raw in done:
                    text = raw.decode("utf-8", "replace").rstrip("\r")
                    self.lines.append((now, text))
                    self._type(proc, text)
            if buf:
                self.lines.append((time.monotonic() - t0,
                                   buf.decode("utf-8", "replace").rstrip("\r")))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            self.status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        th.join(timeout=5)
        self.elapsed = time.monotonic() - t0

    def _type(self, proc, text):
        """Answer the next expected console line with keyboard input."""
        if not self.script or not re.search(self.script[0][0], text):
            return
        _, keys = self.script.pop(0)
        time.sleep(0.3)  # let the shell print its prompt and read the tty
        try:
            proc.stdin.write(keys.encode())
            proc.stdin.flush()
            if not self.script:
                proc.stdin.close()
        except OSError:
            pass

    def find(self, pattern):
        """All (time, match) for a regex searched anywhere in each line."""
        rx = re.compile(pattern)
        out = []
        for t, text in self.lines:
            m = rx.search(text)
            if m:
                out.append((t, m))
        return out

    def first(self, pattern):
        hits = self.find(pattern)
        return hits[0] if hits else (None, None)

    def text(self):
        return "\n".join(text for _, text in self.lines)

    def tail(self, n=40):
        return "\n".join("    | " + text for _, text in self.lines[-n:])


class Harness:
    def __init__(self, args):
        self.emu = os.environ.get("EMU", "blkemu")
        self.timeout = float(os.environ.get("TIMEOUT", "120"))
        self.verbose = args.verbose
        self.passed = self.failed = self.skipped = 0
        self.kit = {}
        self.scratch = []        # temporary disk images, removed at exit

    def load_kit(self):
        env = {k: os.environ[k] for k in ("KERNEL", "INITRD", "DISK") if os.environ.get(k)}
        if len(env) < 3:
            kit = os.path.join(ROOT, "scripts", "guest-kit.sh")
            r = subprocess.run([kit, "--print"], capture_output=True, text=True)
            if r.returncode != 0:
                print("guesttest: guest kit not built yet: running scripts/guest-kit.sh", flush=True)
                r = subprocess.run([kit], stdout=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    sys.exit("guesttest: scripts/guest-kit.sh failed")
            for line in r.stdout.splitlines():
                k, sep, v = line.partition("=")
                if sep and k in ("KERNEL", "INITRD", "DISK") and k not in env:
                    env[k] = v
        for k in ("KERNEL", "INITRD"):
            if not env.get(k) or not os.path.exists(env[k]):
                sys.exit(f"guesttest: {k} not found ({env.get(k)!r})")
        self.kit = env

    def argv(self, smp, append, extra=(), no_reboot=False):
        cmdline = "console=ttyS0 " + append
        if os.environ.get("GUEST_APPEND"):
            cmdline += " " + os.environ["GUEST_APPEND"]
        if self.emu == "qemu":
            argv = ["qemu-system-riscv64", "-M", "virt", "-m", "1G", "-smp", str(smp),
                    "-nographic", "-bios", FW]
        elif self.emu == "blkemu":
            argv = [os.path.join(os.environ.get("BUILD", "build"), "blkemu"),
                    "-M", "virt", "-m", "1G", "-smp", str(smp)]
        else:
            sys.exit(f"guesttest: EMU must be blkemu or qemu, not {self.emu!r}")
        argv += ["-kernel", self.kit["KERNEL"], "-append", cmdline]
        if self.kit.get("INITRD") and "root=" not in append:
            argv += ["-initrd", self.kit["INITRD"]]
        if no_reboot:
            argv.append("-no-reboot")
        return argv + list(extra)

    def boot(self, smp, job, extra=(), no_reboot=False, append="", script=()):
        argv = self.argv(smp, f"blkemu.job={job} {append}".strip(), extra, no_reboot)
        if self.verbose:
            print("  $ " + " ".join(argv), flush=True)
        return Boot(argv, self.timeout, script)

    def result(self, name, ok, detail, boot=None):
        word = "PASS" if ok else "FAIL"
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{word} {name}: {detail}", flush=True)
        if boot is not None and (not ok or self.verbose):
            how = "timed out" if boot.timed_out else f"exit status {boot.status}"
            print(f"  console tail ({how} after {boot.elapsed:.1f} s; {' '.join(boot.argv)}):")
            print(boot.tail(), flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print(f"SKIP {name}: {why}", flush=True)

    # -- the checks ---------------------------------------------------------

    def check_booted(self, name, b, want_status=0):
        """Common checks; returns a list of problems."""
        bad = []
        if b.timed_out:
            bad.append(f"no exit within {self.timeout:.0f} s")
        t_user, _ = b.first(r"BLKEMU-USERSPACE-START")
        if t_user is None:
            bad.append("no BLKEMU-USERSPACE-START")
        if not b.timed_out and b.status != want_status:
            bad.append(f"exit status {b.status}, want {want_status}")
        return bad, t_user

    def t_boot(self, smp):
        name = f"boot-smp{smp}"
        b = self.boot(smp, "uname")
        bad, t_user = self.check_booted(name, b)
        _, m = b.first(r"BLKEMU-NPROC=(\d+)")
        if m is None:
            bad.append("no BLKEMU-NPROC")
        elif int(m.group(1)) != smp:
            bad.append(f"guest sees {m.group(1)} CPUs (nproc), want {smp}")
        _, m = b.first(r"BLKEMU-CPUINFO-PROCESSORS=(\d+)")
        if m is None or int(m.group(1)) != smp:
            bad.append(f"/proc/cpuinfo lists {m.group(1) if m else '?'} processors, want {smp}")
        _, m = b.first(r"BLKEMU-JOB-DONE rc=(\d+)")
        if m is None or m.group(1) != "0":
            bad.append("no BLKEMU-JOB-DONE rc=0")
        if not b.find(r"^Linux .* riscv64"):
            bad.append("no `uname -a` line")
        detail = "; ".join(bad) if bad else \
            f"userspace after {t_user:.2f} s, {smp} CPUs, exit 0 after {b.elapsed:.2f} s"
        self.result(name, not bad, detail, b)
        return t_user

    def t_clock(self):
        sleep = 3
        b = self.boot(2, "clock", append=f"blkemu.sleep={sleep}")
        bad, _ = self.check_booted("clock", b)
        samples = b.find(r"BLKEMU-CLOCK up=([0-9.]+) date=(\d+)")
        detail = ""
        if len(samples) != 2:
            bad.append(f"{len(samples)} BLKEMU-CLOCK lines, want 2")
        else:
            (h0, m0), (h1, m1) = samples
            up = float(m1.group(1)) - float(m0.group(1))
            date = int(m1.group(2)) - int(m0.group(2))
            host = h1 - h0
            # Generous: the guest slept `sleep` s by its own clock; the host
            # saw the two lines about that far apart (console latency and a
            # slow emulator widen it), and date moved with uptime.
            if not sleep <= up < sleep + 5:
                bad.append(f"guest uptime advanced {up:.2f} s over a {sleep} s sleep")
            if not 0.5 * up <= host <= 2.0 * up + 1.0:
                bad.append(f"host saw {host:.2f} s pass while the guest saw {up:.2f} s")
            if abs(date - up) > 2:
                bad.append(f"guest date advanced {date} s while uptime advanced {up:.2f} s")
            detail = f"guest uptime +{up:.2f} s, date +{date} s, host +{host:.2f} s"
        self.result("clock", not bad, "; ".join(bad) or detail, b)

    def t_shell(self):
        """Console input: type into the guest's shell, then leave it."""
        b = self.boot(2, "shell", script=[(r"blkemu guest shell", "echo typed-$((6*7))\n"),
                                          (r"^typed-42$", "exit\n")])
        bad, _ = self.check_booted("shell-input", b)
        if not b.find(r"^typed-42$"):
            bad.append("the shell did not run what was typed")
        if not b.find(r"BLKEMU-JOB-DONE rc=0"):
            bad.append("no BLKEMU-JOB-DONE rc=0 after `exit`")
        self.result("shell-input", not bad,
                    "; ".join(bad) or "typed a command into the guest shell, exit powered off", b)

    def t_poweroff(self):
        b = self.boot(1, "poweroff")
        bad, _ = self.check_booted("poweroff", b, 0)
        self.result("poweroff", not bad, "; ".join(bad) or "poweroff -f exits 0", b)

    def t_reboot(self):
        # QEMU 7.2 with -no-reboot treats the guest's reset as a shutdown
        # and exits 0; blkemu does the same.
        b = self.boot(1, "reboot", no_reboot=True)
        bad, _ = self.check_booted("reboot-no-reboot", b, 0)
        if not b.find(r"BLKEMU-JOB-DONE rc=0"):
            bad.append("no BLKEMU-JOB-DONE rc=0")
        # No second boot: the run ended at the reset.
        if len(b.find(r"BLKEMU-USERSPACE-START")) > 1:
            bad.append("the guest booted again")
        self.result("reboot-no-reboot", not bad, "; ".join(bad) or "reboot -f with -no-reboot exits 0", b)

    def t_fail(self, code):
        name = f"fail-code-{code}"
        b = self.boot(1, "fail", append=f"blkemu.code={code}")
        bad, _ = self.check_booted(name, b, code)
        if b.find(r"BLKEMU-FAIL-DEVICE-IGNORED"):
            bad.append("the test device ignored the write")
        self.result(name, not bad, "; ".join(bad) or f"test device failure code -> exit status {code}", b)

    def t_fio(self):
        b = self.boot(2, "fio")
        bad, _ = self.check_booted("fio-smoke", b)
        detail = ""
        js = self.fio_json(b, bad)
        if js is not None:
            jobs = js.get("jobs", [])
            names = [j.get("jobname") for j in jobs]
            errs = [j.get("jobname") for j in jobs if j.get("error")]
            if len(jobs) != 3:
                bad.append(f"fio ran {len(jobs)} jobs, want 3")
            if errs:
                bad.append(f"fio jobs failed: {errs}")
            detail = "fio jobs " + ", ".join(map(str, names)) + " ran without error"
        self.result("fio-smoke", not bad, "; ".join(bad) or detail, b)

    @staticmethod
    def fio_json(b, bad):
        out, inside = [], False
        for _, text in b.lines:
            if "BLKEMU-FIO-JSON-BEGIN" in text:
                inside = True
            elif "BLKEMU-FIO-JSON-END" in text:
                inside = False
                break
            elif inside:
                out.append(text)
        if not out:
            bad.append("no fio JSON between the markers")
            return None
        raw = "\n".join(out)
        # fio may print notes before the JSON object.
        raw = raw[raw.find("{"):]
        try:
            return json.loads(raw)
        except ValueError as e:
            bad.append(f"fio JSON does not parse: {e}")
            return None

    # Block devices, in QEMU's spelling (blkemu's board follows QEMU's options).
    DISKS = {
        "virtio": (["-device", "virtio-blk-pci,drive=d0"], "/dev/vda"),
        "ahci": (["-device", "ahci,id=ahci0", "-device", "ide-hd,drive=d0,bus=ahci0.0"],
                 "/dev/sda"),
    }

    def disk_args(self, name, kind, writable):
        """Emulator arguments for the kit's disk on controller `kind`, and the
        guest's device name; None (after a SKIP) if it cannot be had."""
        disk = self.kit.get("DISK")
        if not disk or not os.path.exists(disk):
            self.skip(name, "no disk image in the kit")
            return None
        devices, root = self.DISKS[kind]
        if self.emu == "qemu":
            return ["-drive", f"file={disk},if=none,id=d0,format=raw,snapshot=on"] + devices, root
        # blkemu has no snapshot=on: a writable boot gets a private copy (the
        # kit's image is a cache entry and must stay bit-identical).
        if writable:
            return ["-drive", f"file={self.scratch_copy(disk)},if={kind},format=raw"], root
        return ["-drive", f"file={disk},if={kind},format=raw,readonly=on"], root

    def t_disk(self, kind):
        """Boot from the ext4 image on a disk controller, no initrd."""
        name = f"disk-{kind}"
        args = self.disk_args(name, kind, writable=True)
        if args is None:
            return
        extra, root = args
        b = self.boot(2, "uname", extra=extra, append=f"root={root} rw rootwait")
        bad, t_user = self.check_booted(name, b)
        if not b.find(r"BLKEMU-NPROC=2"):
            bad.append("no BLKEMU-NPROC=2")
        self.result(name, not bad,
                    "; ".join(bad) or f"booted from {root}, userspace after {t_user:.2f} s", b)

    def t_fio_disk(self, kind):
        """fio (io_uring, O_DIRECT, random reads) on the raw disk the guest booted from."""
        name = f"fio-{kind}"
        args = self.disk_args(name, kind, writable=False)
        if args is None:
            return
        extra, root = args
        fio = (f"--name={kind} --filename={root} --rw=randread --bs=4k --direct=1 "
               f"--ioengine=io_uring --iodepth=8 --size=32m --runtime=2 --time_based")
        b = self.boot(2, "fio", extra=extra, append=f'root={root} ro rootwait blkemu.fio="{fio}"')
        bad, _ = self.check_booted(name, b)
        js = self.fio_json(b, bad)
        detail = ""
        if js is not None:
            jobs = js.get("jobs", [{}])
            job = jobs[0] if jobs else {}
            iops = job.get("read", {}).get("iops", 0)
            if job.get("error"):
                bad.append(f"fio error {job.get('error')}")
            if not iops > 0:
                bad.append("fio read nothing")
            detail = f"io_uring O_DIRECT 4k random reads on {root}: {iops:.0f} IOPS"
        self.result(name, not bad, "; ".join(bad) or detail, b)

    # -- virtio-blk (issue 4) ---------------------------------------------

    def scratch_copy(self, src=None, size=64 << 20, data=None):
        """A temporary image: a copy of src, `data`, or `size` zero bytes."""
        import shutil
        import tempfile
        fd, path = tempfile.mkstemp(prefix="blkemu-guest-", suffix=".img")
        os.close(fd)
        self.scratch.append(path)
        if src:
            shutil.copyfile(src, path)
        else:
            with open(path, "wb") as f:
                if data is not None:
                    f.write(data)
                else:
                    f.truncate(size)
        return path

    def virtio_drive(self, path, opts=""):
        if self.emu == "qemu":
            ro = ",readonly=on" if "readonly=on" in opts else ""
            return ["-drive", f"file={path},if=none,id=s0,format=raw{ro}",
                    "-device", "virtio-blk-pci,drive=s0"]
        return ["-drive", f"file={path},if=virtio,format=raw{opts}"]

    def t_virtio_verify(self, opts):
        """fio random writes then crc32c verify on a scratch virtio disk."""
        name = "virtio-verify" + opts.replace(",", "-").replace("=", "-")
        if self.emu == "qemu" and opts:
            return self.skip(name, "blkemu engine options")
        g = ("--filename=/dev/vda --rw=randwrite --size=4M --ioengine=libaio "
             "--direct=1 --verify=crc32c --do_verify=1 --stonewall")
        fio = (f"--name=q1 --bs=4k --iodepth=1 {g} --name=q32 --bs=4k "
               f"--iodepth=32 {g} --name=big --bs=128k --iodepth=32 {g}")
        b = self.boot(1, "fio", extra=self.virtio_drive(self.scratch_copy(), opts),
                      append=f'blkemu.fio="{fio}"')
        bad, _ = self.check_booted(name, b)
        js = self.fio_json(b, bad)
        if js is not None:
            jobs = js.get("jobs", [])
            errs = [j.get("jobname") for j in jobs if j.get("error")]
            if len(jobs) != 3 or errs:
                bad.append(f"{len(jobs)} fio jobs, failed: {errs}")
        self.result(name, not bad, "; ".join(bad) or
                    "4k qd1/qd32 and 128k qd32 random writes verified", b)

    def t_virtio_readonly(self):
        data = bytes((i * 131 + 7) & 0xff for i in range(1 << 20))
        img = self.scratch_copy(data=data)
        fio = "--name=w --filename=/dev/vda --rw=write --bs=4k --size=64k --direct=1"
        b = self.boot(1, "fio", extra=self.virtio_drive(img, ",readonly=on"),
                      append=f'blkemu.fio="{fio}"')
        bad, _ = self.check_booted("virtio-readonly", b)
        with open(img, "rb") as f:
            if f.read() != data:
                bad.append("the host file changed")
        if b.find(r"BLKEMU-JOB-DONE rc=0"):
            bad.append("the guest's write succeeded")
        self.result("virtio-readonly", not bad, "; ".join(bad) or
                    "guest write refused, host file byte-identical", b)

    # -- AHCI (issue 5) ----------------------------------------------------

    def ahci_drives(self, paths, opts=""):
        """Arguments putting each image of `paths` on AHCI port 0, 1, ..."""
        if self.emu == "qemu":
            args = ["-device", "ahci,id=ahci0"]
            for i, path in enumerate(paths):
                args += ["-drive", f"file={path},if=none,id=a{i},format=raw",
                         "-device", f"ide-hd,drive=a{i},bus=ahci0.{i}"]
            return args
        args = []
        for i, path in enumerate(paths):
            args += ["-drive", f"file={path},if=ahci,format=raw,port={i}{opts}"]
        return args

    def t_ahci_verify(self, opts):
        """fio random writes then crc32c verify on a scratch AHCI disk (NCQ)."""
        name = "ahci-verify" + opts.replace(",aio=", "-").replace(",cache=", "-")
        if self.emu == "qemu" and opts:
            return self.skip(name, "blkemu engine options")
        g = ("--filename=/dev/sda --rw=randwrite --size=4M --ioengine=libaio "
             "--direct=1 --verify=crc32c --do_verify=1 --stonewall")
        fio = (f"--name=q1 --bs=4k --iodepth=1 {g} --name=q32 --bs=4k "
               f"--iodepth=32 {g} --name=big --bs=128k --iodepth=32 {g}")
        b = self.boot(1, "fio", extra=self.ahci_drives([self.scratch_copy()], opts),
                      append=f'blkemu.fio="{fio}"')
        bad, _ = self.check_booted(name, b)
        js = self.fio_json(b, bad)
        if js is not None:
            jobs = js.get("jobs", [])
            errs = [j.get("jobname") for j in jobs if j.get("error")]
            if len(jobs) != 3 or errs:
                bad.append(f"{len(jobs)} fio jobs, failed: {errs}")
        self.result(name, not bad, "; ".join(bad) or
                    "4k qd1/qd32 and 128k qd32 random writes verified on /dev/sda", b)

    def shell_boot(self, name, extra, commands, smp=1, append=""):
        """Boot the initramfs shell, type `commands` (one line), then exit.
        The line must end by printing AHCI-END."""
        b = self.boot(smp, "shell", extra=extra, append=append,
                      script=[(r"blkemu guest shell", commands + "; echo AHCI-END\n"),
                              (r"^AHCI-END$", "exit\n")])
        bad, _ = self.check_booted(name, b)
        if not b.find(r"^AHCI-END$"):
            bad.append("the shell commands did not finish")
        return b, bad

    def t_ahci_ncq(self):
        """The guest runs NCQ: queue_depth 32 on /dev/sda."""
        b, bad = self.shell_boot("ahci-ncq", self.ahci_drives([self.scratch_copy(size=8 << 20)]),
                                 "echo QD=$(cat /sys/block/sda/device/queue_depth)")
        _, m = b.first(r"^QD=(\d*)")
        if m is None or m.group(1) != "32":
            bad.append(f"queue_depth {m.group(1) if m else '?'}, want 32")
        self.result("ahci-ncq", not bad, "; ".join(bad) or "/sys/block/sda/device/queue_depth = 32", b)

    def t_ahci_trim_flush(self):
        """blkdiscard shrinks the host file's allocation; an fsync reaches fdatasync."""
        size = 32 << 20
        img = self.scratch_copy(data=bytes((i * 7 + 1) & 0xff for i in range(4096)) * (size // 4096))
        before = os.stat(img).st_blocks
        extra = self.ahci_drives([img])
        if self.emu == "blkemu":
            extra = extra + ["--stats"]
        b, bad = self.shell_boot("ahci-trim-flush", extra,
                                 "dd if=/dev/zero of=/dev/sda bs=4096 count=1 conv=fsync 2>/dev/null; "
                                 "blkdiscard -o 1048576 -l 16777216 /dev/sda && echo TRIM-OK")
        after = os.stat(img).st_blocks
        if not b.find(r"^TRIM-OK$"):
            bad.append("blkdiscard failed in the guest")
        if not after < before:
            bad.append(f"host file allocation {before * 512} -> {after * 512} bytes: did not shrink")
        detail = f"host allocation {before * 512 >> 20} MiB -> {after * 512 >> 20} MiB"
        if self.emu == "blkemu":
            _, m = b.first(r"ahci\.p0 .*fdatasync (\d+)")
            if m is None or int(m.group(1)) < 1:
                bad.append(f"fdatasync count {m.group(1) if m else '?'}, want >= 1")
            else:
                detail += f", {m.group(1)} flushes reached fdatasync"
        self.result("ahci-trim-flush", not bad, "; ".join(bad) or detail, b)

    def t_virtio_discard_flush(self):
        """virtio-blk DISCARD shrinks the host file's allocation and an fsync
        reaches fdatasync (issue 4); the guest sees write-zeroes support
        (busybox's blkdiscard has no -z to use it: WRITE_ZEROES itself is
        covered by tests/unit/virtio_blk.c)."""
        name = "virtio-discard-flush"
        size = 32 << 20
        pattern = bytes((i * 7 + 1) & 0xff for i in range(4096))
        img = self.scratch_copy(data=pattern * (size // 4096))
        before = os.stat(img).st_blocks
        extra = self.virtio_drive(img)
        if self.emu == "blkemu":
            extra = extra + ["--stats"]
        else:
            extra[1] += ",discard=unmap"     # QEMU ignores discards by default
        b, bad = self.shell_boot(
            name, extra,
            "echo WZ=$(cat /sys/block/vda/queue/write_zeroes_max_bytes) "
            "DC=$(cat /sys/block/vda/queue/discard_max_bytes); "
            "dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; "
            "blkdiscard -o 1048576 -l 16777216 /dev/vda && echo DISCARD-OK")
        after = os.stat(img).st_blocks
        _, m = b.first(r"^WZ=(\d+) DC=(\d+)")
        if m is None or int(m.group(1)) == 0 or int(m.group(2)) == 0:
            bad.append("the guest sees no write-zeroes or discard support: "
                       + (m.group(0) if m else "no WZ= line"))
        if not b.find(r"^DISCARD-OK$"):
            bad.append("blkdiscard failed in the guest")
        if not after < before:
            bad.append(f"host file allocation {before * 512} -> {after * 512} bytes: did not shrink")
        with open(img, "rb") as f:
            f.seek(17 << 20)
            tail = f.read(4096)
        if tail != pattern:
            bad.append("the block after the discarded range changed")
        detail = f"host allocation {before * 512 >> 20} MiB -> {after * 512 >> 20} MiB"
        if self.emu == "blkemu":
            _, m = b.first(r"stats: disk0 fdatasync (\d+)")
            if m is None or int(m.group(1)) < 1:
                bad.append(f"fdatasync count {m.group(1) if m else '?'}, want >= 1")
            else:
                detail += f", {m.group(1)} flushes reached fdatasync"
        self.result(name, not bad, "; ".join(bad) or detail, b)

    def t_ahci_six(self):
        """Six disks on one controller: the guest sees sda..sdf."""
        paths = [self.scratch_copy(size=4 << 20) for _ in range(6)]
        b, bad = self.shell_boot("ahci-six-disks", self.ahci_drives(paths),
                                 "echo DISKS=$(ls -d /sys/block/sd* | wc -l)")
        _, m = b.first(r"^DISKS=(\d+)")
        if m is None or m.group(1) != "6":
            bad.append(f"guest sees {m.group(1) if m else '?'} sd disks, want 6")
        self.result("ahci-six-disks", not bad, "; ".join(bad) or "sda..sdf all present", b)

    def t_ahci_readonly(self):
        """A readonly=on AHCI disk: the guest's write fails (ABRT), the host
        file stays byte-identical."""
        data = bytes((i * 131 + 7) & 0xff for i in range(1 << 20))
        img = self.scratch_copy(data=data)
        opts = ",readonly=on"
        if self.emu == "qemu":
            return self.skip("ahci-readonly", "blkemu's readonly=on spelling")
        fio = "--name=w --filename=/dev/sda --rw=write --bs=4k --size=64k --direct=1"
        b = self.boot(1, "fio", extra=self.ahci_drives([img], opts),
                      append=f'blkemu.fio="{fio}"')
        bad, _ = self.check_booted("ahci-readonly", b)
        with open(img, "rb") as f:
            if f.read() != data:
                bad.append("the host file changed")
        if b.find(r"BLKEMU-JOB-DONE rc=0"):
            bad.append("the guest's write succeeded")
        self.result("ahci-readonly", not bad, "; ".join(bad) or
                    "guest write aborted, host file byte-identical", b)

    def tests(self):
        return [
            ("boot-smp1", lambda: self.t_boot(1)),
            ("boot-smp2", lambda: self.t_boot(2)),
            ("boot-smp4", lambda: self.t_boot(4)),
            ("clock", self.t_clock),
            ("shell-input", self.t_shell),
            ("poweroff", self.t_poweroff),
            ("reboot-no-reboot", self.t_reboot),
            ("fail-code-3", lambda: self.t_fail(3)),
            ("fail-code-77", lambda: self.t_fail(77)),
            ("fio-smoke", self.t_fio),
            ("disk-virtio", lambda: self.t_disk("virtio")),
            ("disk-ahci", lambda: self.t_disk("ahci")),
            ("fio-virtio", lambda: self.t_fio_disk("virtio")),
            ("fio-ahci", lambda: self.t_fio_disk("ahci")),
            ("virtio-verify", lambda: self.t_virtio_verify("")),
            ("virtio-verify-native-writeback",
             lambda: self.t_virtio_verify(",aio=native,cache=writeback")),
            ("virtio-verify-threads", lambda: self.t_virtio_verify(",aio=threads")),
            ("virtio-readonly", self.t_virtio_readonly),
            ("virtio-discard-flush", self.t_virtio_discard_flush),
            ("ahci-verify", lambda: self.t_ahci_verify("")),
            ("ahci-verify-io_uring-writeback",
             lambda: self.t_ahci_verify(",aio=io_uring,cache=writeback")),
            ("ahci-verify-native-none", lambda: self.t_ahci_verify(",aio=native,cache=none")),
            ("ahci-verify-native-writeback",
             lambda: self.t_ahci_verify(",aio=native,cache=writeback")),
            ("ahci-verify-threads-none", lambda: self.t_ahci_verify(",aio=threads,cache=none")),
            ("ahci-verify-threads-writeback",
             lambda: self.t_ahci_verify(",aio=threads,cache=writeback")),
            ("ahci-ncq", self.t_ahci_ncq),
            ("ahci-trim-flush", self.t_ahci_trim_flush),
            ("ahci-six-disks", self.t_ahci_six),
            ("ahci-readonly", self.t_ahci_readonly),
        ] + latency.tests(self) + inject_tests.tests(self)


def bench(h, runs):
    """Time from starting the emulator to BLKEMU-USERSPACE-START, per -smp."""
    bad = 0
    for smp in (1, 2, 4):
        times = []
        for _ in range(runs):
            b = h.boot(smp, "uname")
            t, _ = b.first(r"BLKEMU-USERSPACE-START")
            if t is None or b.status != 0:
                bad += 1
                print(f"BENCH emu={h.emu} smp={smp}: boot failed", flush=True)
                print(b.tail(), flush=True)
                continue
            times.append(t)
        if times:
            times.sort()
            print(f"BENCH emu={h.emu} smp={smp} userspace-after min={times[0]:.2f}s "
                  f"median={times[len(times) // 2]:.2f}s max={times[-1]:.2f}s runs={len(times)}",
                  flush=True)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                    help="run only the tests whose name contains SUBSTRING (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="show commands and every console")
    ap.add_argument("--bench", type=int, metavar="N",
                    help="instead of testing, boot job uname N times per -smp 1/2/4 and print "
                         "the time to the first userspace line (min/median/max)")
    args = ap.parse_args()
    h = Harness(args)
    selected = [(n, f) for n, f in h.tests() if not args.k or any(k in n for k in args.k)]
    if args.list:
        print("\n".join(n for n, _ in selected))
        return 0
    if h.emu == "blkemu":
        exe = os.path.join(os.environ.get("BUILD", "build"), "blkemu")
        if not os.access(exe, os.X_OK):
            sys.exit(f"guesttest: {exe} not built (run make)")
    h.load_kit()
    print(f"guesttest: EMU={h.emu} kernel={h.kit['KERNEL']}", flush=True)
    if args.bench:
        return bench(h, args.bench)
    try:
        for _, f in selected:
            f()
    finally:
        for path in h.scratch:
            os.unlink(path)
    print(f"{h.passed} passed, {h.failed} failed", flush=True)
    return 1 if h.failed else 0


if __name__ == "__main__":
    sys.exit(main())
