#!/usr/bin/env python3
"""QMP tests: a real client on blkemu's control socket while it boots the
guest kit (tests/guest).

    tests/qmp/qmptest.py [-k SUBSTRING]... [--list] [-v]

Each check prints one PASS/FAIL/SKIP line; the last line is
"N passed, N failed"; the exit status is 1 if anything failed.
BUILD, KERNEL, INITRD, TIMEOUT as for tests/guest/guesttest.py.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
import guesttest  # noqa: E402  (the kit and the command line)


class Failed(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Failed(what)


class Emu:
    """blkemu with a console we can read and type into."""

    def __init__(self, argv):
        self.argv = argv
        self.lines = []
        self.cv = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            with self.cv:
                for raw in done:
                    self.lines.append(raw.decode("utf-8", "replace").rstrip("\r"))
                self.cv.notify_all()

    def wait_line(self, pattern, timeout=60, start=0):
        """Index and match of the first line from `start` matching pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines)):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise Failed(f"no console line matching {pattern!r} within {timeout} s")
                self.cv.wait(min(left, 0.5))

    def count(self, pattern, start=0):
        rx = re.compile(pattern)
        with self.cv:
            return sum(1 for line in self.lines[start:] if rx.search(line))

    def mark(self):
        with self.cv:
            return len(self.lines)

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, n=30):
        with self.cv:
            return "\n".join("    | " + line for line in self.lines[-n:])


class Qmp:
    """A QMP client: replies in order, events kept aside."""

    def __init__(self, path, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Failed(f"cannot connect to {path}")
                time.sleep(0.05)
        self.buf = b""
        self.events = []
        self.greeting = self.recv()

    def recv(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed("no message from the server within %d s" % timeout)
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failed("the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=10):
        while True:
            msg = self.recv(timeout)
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def cmd(self, name, args=None, **kw):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        msg.update(kw)
        self.send_raw((json.dumps(msg) + "\n").encode())
        return self.reply()

    def ok(self, name, args=None):
        r = self.cmd(name, args)
        need("return" in r, f"{name}: {r}")
        return r["return"]

    def event(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            need(left > 0, f"no {name} event within {timeout} s (have {self.events})")
            msg = self.recv(left)
            if "event" in msg:
                self.events.append(msg)

    def close(self):
        self.sock.close()


class Suite:
    def __init__(self, args):
        self.verbose = args.verbose
        self.passed = self.failed = 0
        self.h = guesttest.Harness(args)
        self.tmp = tempfile.mkdtemp(prefix="blkemu-qmp-")

    def start(self, smp, job, extra=(), append="", qmp_opts="server=on,wait=off",
              sock="qmp.sock"):
        path = os.path.join(self.tmp, sock)
        argv = self.h.argv(smp, f"blkemu.job={job} {append}".strip(), extra)
        argv += ["-qmp", f"unix:{path},{qmp_opts}"]
        if self.verbose:
            print("  $ " + " ".join(argv), flush=True)
        return Emu(argv), path

    def run(self, name, fn):
        emu = None
        try:
            emu = fn()
            self.passed += 1
            print(f"PASS {name}", flush=True)
        except Failed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
            if emu is None and hasattr(self, "last"):
                emu = self.last
            if emu is not None:
                print(emu.tail(), flush=True)
        finally:
            if hasattr(self, "last"):
                self.last.kill()

    def boot(self, *a, **kw):
        emu, path = self.start(*a, **kw)
        self.last = emu
        return emu, path

    # -- the checks ------------------------------------------------------

    def t_session(self):
        """Negotiation, status, stop/cont freezing the guest, bad clients,
        blockstats against fio, reset, powerdown, quit."""
        disk = os.path.join(self.tmp, "scratch.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        # A stale socket file where the socket goes: replaced.
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(os.path.join(self.tmp, "qmp.sock"))
        stale.close()
        sata = os.path.join(self.tmp, "sata.img")
        with open(sata, "wb") as f:
            f.truncate(64 << 20)
        emu, path = self.boot(2, "shell", extra=["-drive", f"file={disk},if=virtio,id=scratch",
                                                 "-drive", f"file={sata},if=ahci"])
        q = Qmp(path)
        need(q.greeting["QMP"]["capabilities"] == [] and "version" in q.greeting["QMP"],
             f"greeting {q.greeting}")
        r = q.cmd("query-status", id="early")
        need(r.get("error", {}).get("class") == "CommandNotFound" and r.get("id") == "early",
             f"before negotiation: {r}")
        q.ok("qmp_capabilities")
        st = q.ok("query-status")
        need(st["status"] == "running" and st["running"] is True, f"status {st}")
        blocks = q.ok("query-block")
        need([b["device"] for b in blocks] == ["scratch", "ahci0-port0"], f"query-block {blocks}")
        need(blocks[0]["inserted"]["image"]["virtual-size"] == 64 << 20, f"{blocks}")
        emu.wait_line(r"blkemu guest shell")
        time.sleep(0.5)
        self.blockstats_vs_fio(emu, q, "scratch", "/dev/vda")
        self.blockstats_vs_fio(emu, q, "ahci0-port0", "/dev/sda")
        self.inject(emu, q)
        self.stop_cont(emu, q)
        self.bad_clients(emu, q, path)
        self.reset_powerdown_quit(emu, q, path)
        return emu

    @staticmethod
    def stats_of(q, dev):
        for d in q.ok("query-blockstats"):
            if d["device"] == dev:
                return d["stats"]
        raise Failed(f"no {dev} in query-blockstats")

    def blockstats_vs_fio(self, emu, q, dev, node):
        def ops():
            s = self.stats_of(q, dev)
            return s["rd_operations"], s["wr_operations"], s["failed_rd_operations"]
        rd0, wr0, _ = ops()
        lat0 = q.ok("x-blkemu-query-latency", {"device": dev})["total"]["ops"]
        lat_rd0, lat_wr0 = lat0["read"], lat0["write"]
        fio = (f"fio --name=mix --filename={node} --rw=randrw --bs=4k --direct=1 "
               "--ioengine=io_uring --iodepth=8 --size=16m --runtime=2 --time_based "
               "--output-format=json")
        mark = emu.mark()
        emu.type(f"echo FIO-BEGIN; {fio}; echo FIO-END\n")
        b, _ = emu.wait_line(r"^FIO-BEGIN$", 30, mark)
        e, _ = emu.wait_line(r"^FIO-END$", 60, b)
        with emu.cv:
            raw = "\n".join(emu.lines[b + 1:e])
        try:
            js = json.loads(raw[raw.find("{"):])
        except ValueError as ex:
            raise Failed(f"fio JSON: {ex}")
        job = js["jobs"][0]
        frd, fwr = job["read"]["total_ios"], job["write"]["total_ios"]
        rd1, wr1, failed = ops()
        drd, dwr = rd1 - rd0, wr1 - wr0
        lat = q.ok("x-blkemu-query-latency", {"device": dev})
        lrd, lwr = lat["total"]["ops"]["read"], lat["total"]["ops"]["write"]
        svc = lat["total"]["latency_ns"]["submit_to_complete"]
        # The histogram holds every request since boot: at least fio's (1 %
        # slack as for the counters: one AHCI run of many showed 4825
        # samples for fio's ~4.9k requests, not reproduced since).
        need(svc["count"] >= 0.99 * (frd + fwr) and 0 < svc["p50"] <= svc["p99"] <= svc["max"],
             f"latency histogram {svc} (fio {frd} reads, {fwr} writes; blockstats "
             f"+{drd}/+{dwr}; iostats ops +{lrd - lat_rd0}/+{lwr - lat_wr0})")
        need(abs((lrd - lat_rd0) - frd) <= 0.01 * frd, f"latency ops read +{lrd - lat_rd0}, fio {frd}")
        need(abs((lwr - lat_wr0) - fwr) <= 0.01 * fwr, f"latency ops write +{lwr - lat_wr0}, fio {fwr}")
        need(frd > 100 and fwr > 100, f"fio did too little: {frd} reads, {fwr} writes")
        need(abs(drd - frd) <= 0.01 * frd, f"rd_operations +{drd}, fio read {frd}")
        need(abs(dwr - fwr) <= 0.01 * fwr, f"wr_operations +{dwr}, fio wrote {fwr}")
        need(failed == 0, f"failed_rd_operations {failed}")
        print(f"  blockstats {dev}: reads +{drd} (fio {frd}), writes +{dwr} (fio {fwr}); "
              f"service p50 {svc['p50']} ns p99 {svc['p99']} ns", flush=True)

    def guest_write(self, emu, offset):
        """One 4 KiB O_DIRECT write by the guest; its exit status."""
        mark = emu.mark()
        emu.type(f"fio --name=w --filename=/dev/vda --rw=write --bs=4k --offset={offset} "
                 f"--size=4k --direct=1 --ioengine=psync >/dev/null 2>&1; echo WRITE-RC=$?\n")
        _, m = emu.wait_line(r"^WRITE-RC=(\d+)", 30, mark)
        return int(m.group(1))

    def inject(self, emu, q):
        def failed_writes():
            return self.stats_of(q, "scratch")["failed_wr_operations"]
        f0 = failed_writes()
        rules = q.ok("x-blkemu-inject", {"device": "scratch", "rule": "eio@write:lba:2048-4095"})
        need(len(rules) == 1 and rules[0]["fired"] == 0, f"rules {rules}")
        need(self.guest_write(emu, 1 << 20) != 0, "a write into the EIO range succeeded")
        need(self.guest_write(emu, 4 << 20) == 0, "a write outside the range failed")
        rules = q.ok("x-blkemu-inject", {"device": "scratch"})
        need(rules[0]["fired"] >= 1, f"the rule never fired: {rules}")
        need(failed_writes() > f0, "failed_wr_operations did not grow")
        r = q.cmd("x-blkemu-inject", {"device": "scratch", "rule": "eio@nowhere"})
        need(r.get("error", {}).get("class") == "GenericError", f"bad rule: {r}")
        need(q.ok("x-blkemu-inject", {"device": "scratch"}) != [], "a bad rule cleared the rules")
        need(q.ok("x-blkemu-inject", {"device": "scratch", "clear": True}) == [], "clear")
        need(self.guest_write(emu, 1 << 20) == 0, "the write still fails after clear")
        print(f"  inject: eio@write:lba:2048-4095 fired {rules[0]['fired']}x, cleared", flush=True)

    def stop_cont(self, emu, q):
        mark = emu.mark()
        # busybox's sleep takes whole seconds only.
        emu.type("while :; do echo TICK $(cut -d' ' -f1 /proc/uptime); sleep 1; done &\n")
        emu.wait_line(r"^TICK ", 20, mark)
        time.sleep(1)
        q.ok("stop")
        q.event("STOP", 2)
        need(q.ok("query-status")["status"] == "paused", "status after stop")
        time.sleep(0.3)         # output already in flight
        ticks = emu.count(r"^TICK ")
        last_up = self.last_tick(emu)
        n0 = sum(h["instructions"] for h in q.ok("x-blkemu-query-harts"))
        time.sleep(3)
        n1 = sum(h["instructions"] for h in q.ok("x-blkemu-query-harts"))
        need(n1 == n0, f"instructions ran while stopped: {n0} -> {n1}")
        need(emu.count(r"^TICK ") == ticks, "the console advanced while stopped")
        q.ok("cont")
        q.event("RESUME", 2)
        need(q.ok("query-status")["status"] == "running", "status after cont")
        mark = emu.mark()
        _, m = emu.wait_line(r"^TICK ([0-9.]+)", 10, mark)
        # The guest's clock stood still while paused (as QEMU's virtual
        # clock): its uptime moved by about one tick (1 s), not by the
        # 3.3 s pause on top.
        jump = float(m.group(1)) - last_up
        need(jump < 2.0, f"guest uptime jumped {jump:.2f} s across a 3.3 s pause")
        n2 = sum(h["instructions"] for h in q.ok("x-blkemu-query-harts"))
        need(n2 > n1, "no instructions after cont")
        q.ok("stop")
        q.ok("stop")                                    # twice: no second event
        q.ok("cont")
        q.event("STOP")
        q.event("RESUME")
        need(not [e for e in q.events if e["event"] in ("STOP", "RESUME")],
             f"extra events {q.events}")
        print(f"  stop: {n0} instructions frozen 3 s, uptime +{jump:.2f} s across the pause",
              flush=True)

    @staticmethod
    def last_tick(emu):
        with emu.cv:
            for line in reversed(emu.lines):
                m = re.match(r"^TICK ([0-9.]+)", line)
                if m:
                    return float(m.group(1))
        raise Failed("no TICK line")

    def still_running(self, emu, q, what):
        st = q.ok("query-status")
        need(st["status"] == "running", f"after {what}: status {st}")
        mark = emu.mark()
        emu.wait_line(r"^TICK ", 5, mark)   # the guest still ticks

    def bad_clients(self, emu, q, path):
        b = Qmp(path)
        b.ok("qmp_capabilities")
        cases = [
            (b'{"execute": "query-status"]\n', "GenericError"),
            (b'[1, 2, 3]\n', "GenericError"),
            (b'"just a string"\n', "GenericError"),
            (b'{"execute": "no-such-command"}\n', "CommandNotFound"),
            (b'{"execute": "query-blockstats", "arguments": {"query-nodes": "yes"}}\n',
             "GenericError"),
            (b'{"execute": "stop", "arguments": {"x": 1}}\n', "GenericError"),
            (b'{"execute": 42}\n', "GenericError"),
            (b'\xff\xfe\x00\x01\n', "GenericError"),
        ]
        for data, cls in cases:
            b.send_raw(data)
            r = b.reply()
            need(r.get("error", {}).get("class") == cls, f"{data!r}: {r}")
        self.still_running(emu, q, "malformed requests")
        # Disconnect in the middle of a message.
        c = Qmp(path)
        c.send_raw(b'{"execute": "qmp_capabilities"}\n{"execute": "sto')
        c.close()
        # Flood: one message longer than 64 KiB closes the connection.
        d = Qmp(path)
        try:
            d.send_raw(b'{"execute": "' + b"x" * (200 << 10))
        except OSError:
            pass
        closed = False
        try:
            while True:
                msg = d.recv(5)
                need("error" in msg, f"flood: {msg}")
        except Failed as e:
            closed = "closed" in str(e)
        except OSError:
            closed = True
        need(closed, "a 200 KiB message did not close the connection")
        d.close()
        # A client that never reads: many requests, no reads.
        f = Qmp(path)
        f.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        f.send_raw(b'{"execute": "qmp_capabilities"}\n')
        req = b'{"execute": "query-block"}\n' * 200
        dropped = False
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            try:
                f.sock.settimeout(1)
                f.sock.sendall(req)
            except OSError:
                dropped = True
                break
        f.close()
        need(dropped, "a client that never reads was not disconnected")
        self.still_running(emu, q, "flood and disconnects")
        b.ok("query-status")
        b.close()

    def reset_powerdown_quit(self, emu, q, path):
        q.ok("system_powerdown")
        q.event("POWERDOWN")
        self.still_running(emu, q, "system_powerdown")
        # A reset while paused: the machine restarts paused (as QEMU keeps
        # the run state), and runs the new boot at cont.
        q.ok("stop")
        q.event("STOP")
        mark = emu.mark()
        q.ok("system_reset")
        ev = q.event("RESET", 10)
        need(ev["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, f"{ev}")
        need(set(ev["timestamp"]) == {"seconds", "microseconds"}, f"{ev}")
        time.sleep(1.5)
        need(q.ok("query-status")["status"] == "paused", "status after a reset while paused")
        need(emu.count(r"OpenSBI|Linux version", mark) == 0, "the reset machine ran while paused")
        q.ok("cont")
        emu.wait_line(r"BLKEMU-USERSPACE-START", 60, mark)
        emu.wait_line(r"blkemu guest shell", 30, mark)
        need(q.ok("query-status")["status"] == "running", "status after reset")
        q.ok("quit")
        ev = q.event("SHUTDOWN", 5)
        need(ev["data"] == {"guest": False, "reason": "host-qmp-quit"}, f"{ev}")
        rc = emu.wait(10)
        need(rc == 0, f"exit status {rc} after quit")
        need(not os.path.exists(path), "the socket file is still there")

    def t_wait_and_guest_events(self):
        """wait=on holds the guest until a client connects; the guest's own
        reboot and poweroff are RESET and SHUTDOWN events."""
        emu, path = self.boot(1, "reboot", qmp_opts="server=on,wait=on")
        time.sleep(1.5)
        need(emu.count(r"OpenSBI|Linux version") == 0, "the guest started before a client")
        q = Qmp(path)
        q.ok("qmp_capabilities")
        ev = q.event("RESET", 60)
        need(ev["data"] == {"guest": True, "reason": "guest-reset"}, f"{ev}")
        emu.wait_line(r"BLKEMU-USERSPACE-START", 60)
        q.ok("stop")                    # quit must end a paused machine too
        q.ok("quit")
        need(emu.wait(10) == 0, "quit while paused")
        emu, path = self.boot(1, "poweroff", sock="q2.sock", qmp_opts="server,wait")
        q = Qmp(path)
        q.ok("qmp_capabilities")
        ev = q.event("SHUTDOWN", 60)
        need(ev["data"] == {"guest": True, "reason": "guest-shutdown"}, f"{ev}")
        need(emu.wait(10) == 0, "exit status after the guest's poweroff")
        return emu

    def tests(self):
        return [("qmp-session", self.t_session),
                ("qmp-wait-guest-events", self.t_wait_and_guest_events)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    s = Suite(args)
    selected = [(n, f) for n, f in s.tests() if not args.k or any(k in n for k in args.k)]
    if args.list:
        print("\n".join(n for n, _ in selected))
        return 0
    s.h.load_kit()
    try:
        for name, fn in selected:
            s.run(name, fn)
    finally:
        shutil.rmtree(s.tmp, ignore_errors=True)
    print(f"{s.passed} passed, {s.failed} failed", flush=True)
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())
