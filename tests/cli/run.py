#!/usr/bin/env python3
"""tests/cli/run.py — bad command lines and bad boot files: each gives one
line naming the problem on stderr, exit status 1, and no core dump.
Also --help, --version and --dump-dtb behave."""
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD", "build")
EMU = os.path.join(BUILD, "blkemu")
passed = failed = 0


def run(args, **kw):
    return subprocess.run([EMU] + args, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL, **kw)


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def expect_error(name, args, needle):
    r = run(args)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = (r.returncode == 1 and len(lines) == 1 and needle in lines[0]
          and r.stdout == "")
    check(name, ok, f"rc={r.returncode} stderr={r.stderr!r} stdout={r.stdout[:200]!r}")


def main():
    tmp = tempfile.mkdtemp(prefix="blkemu-cli-")
    garbage = os.path.join(tmp, "garbage")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 37 + 11) & 0xff for i in range(8192)))
    short = os.path.join(tmp, "short")
    with open(short, "wb") as f:
        f.write(b"RSC")
    # A minimal valid Image header claiming a tiny kernel.
    image = os.path.join(tmp, "Image")
    hdr = bytearray(4096)
    hdr[8:16] = (0x200000).to_bytes(8, "little")
    hdr[16:24] = (4096).to_bytes(8, "little")
    hdr[48:56] = b"RISCV\0\0\0"
    hdr[56:60] = b"RSC\x05"
    with open(image, "wb") as f:
        f.write(hdr)
    big = os.path.join(tmp, "bigrd")
    with open(big, "wb") as f:
        f.truncate(40 << 20)
    unreadable = os.path.join(tmp, "unreadable")
    with open(unreadable, "wb") as f:
        f.write(b"x")
    os.chmod(unreadable, 0)

    expect_error("unknown option", ["-frobnicate"], "unknown option '-frobnicate'")
    expect_error("missing value", ["-kernel"], "needs a value")
    expect_error("smp zero", ["-smp", "0"], "-smp '0'")
    expect_error("smp above maximum", ["-smp", "9"], "-smp '9'")
    expect_error("memory below minimum", ["-m", "1M"], "below the minimum")
    expect_error("memory above host", ["-m", "100T"], "more than the host")
    expect_error("unknown machine", ["-M", "sifive_u"], "unknown machine")
    expect_error("missing firmware", ["-bios", os.path.join(tmp, "nope.bin")],
                 "cannot open")
    expect_error("missing kernel", ["-kernel", os.path.join(tmp, "nope")],
                 "cannot open")
    if os.geteuid() != 0:
        expect_error("unreadable kernel", ["-kernel", unreadable], "cannot open")
    expect_error("kernel not an Image", ["-kernel", garbage], "not a RISC-V Image")
    expect_error("truncated Image", ["-kernel", short], "shorter than its 64-byte header")
    expect_error("kernel is a directory", ["-kernel", tmp], "not a regular file")
    expect_error("initrd does not fit", ["-m", "32M", "-kernel", image,
                                         "-initrd", big], "does not fit")
    expect_error("initrd without kernel", ["-initrd", image], "-initrd needs -kernel")
    expect_error("bios none without kernel", ["-bios", "none"], "needs -kernel")
    expect_error("ELF outside RAM", ["-bios", "none", "-kernel", "/bin/true"],
                 "not a 64-bit little-endian RISC-V ELF")

    r = run(["--help"])
    check("help lists every option", r.returncode == 0 and all(
        o in r.stdout for o in ["-M", "-m ", "-smp", "-bios", "-kernel", "-initrd",
                                "-append", "-no-reboot", "--dump-dtb", "--stats",
                                "--version"]), r.stdout)
    r = run(["--version"])
    check("version", r.returncode == 0 and r.stdout.startswith("blkemu "), r.stdout)
    dtb = os.path.join(tmp, "virt.dtb")
    r = run(["-smp", "2", "--dump-dtb", dtb])
    ok = r.returncode == 0 and os.path.exists(dtb)
    if ok:
        with open(dtb, "rb") as f:
            ok = f.read(4) == b"\xd0\x0d\xfe\xed"
    check("dump-dtb writes a blob", ok, r.stderr)
    drive_cases(tmp)
    qmp_cases(tmp)
    latency_cases(tmp)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def drive_cases(tmp):
    """-drive / -object (issue 4): each bad disk is one line, exit 1."""
    dtb = ["--dump-dtb", os.path.join(tmp, "d.dtb")]
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    odd = os.path.join(tmp, "odd.img")
    with open(odd, "wb") as f:
        f.truncate(1000)
    wb = ",cache=writeback,aio=threads"
    expect_error("drive: missing image",
                 ["-drive", "file=" + os.path.join(tmp, "nope.img")] + dtb,
                 "No such file")
    expect_error("drive: size not a multiple of 512",
                 ["-drive", "file=" + odd + wb] + dtb, "not a multiple of 512")
    expect_error("drive: unknown option", ["-drive", "file=" + img + ",x=1"]
                 + dtb, "unknown option 'x'")
    ahci_cases(img, wb, dtb)
    inject_cases(img, wb, dtb)
    expect_error("drive: format other than raw", ["-drive", "file=" + img +
                 ",format=qcow2"] + dtb, "unsupported image format")
    expect_error("drive: unknown iothread", ["-drive", "file=" + img + wb +
                 ",iothread=io9"] + dtb, "no -object iothread,id=io9")
    expect_error("object: unknown type", ["-object", "throttle-group,id=t"]
                 + dtb, "unknown object type")
    r = run(["-object", "iothread,id=io0", "-drive", "file=" + img + wb +
             ",iothread=io0,num-queues=2"] + dtb)
    check("drive: a good disk builds", r.returncode == 0, r.stderr)
    poll_cases(img, wb, dtb)


def poll_cases(img, wb, dtb):
    """-object iothread,poll-max-ns=N (seed 004): 0..1e9 ns, else one line."""
    for bad in ("abc", "-1", "", "32us", "1000000001", "1e3",
                "99999999999999999999999"):
        expect_error(f"object: poll-max-ns={bad!r}",
                     ["-object", "iothread,id=io0,poll-max-ns=" + bad] + dtb,
                     "poll-max-ns=" + bad + ": expected nanoseconds")
    expect_error("object: poll-max-ns twice",
                 ["-object", "iothread,id=io0,poll-max-ns=0,poll-max-ns=5"]
                 + dtb, "repeated option 'poll-max-ns=5'")
    for good in ("0", "32000", "1000000000"):
        r = run(["-object", "iothread,id=blk,poll-max-ns=" + good, "-drive",
                 "file=" + img + wb] + dtb)
        check(f"object: poll-max-ns={good} builds", r.returncode == 0,
              r.stderr)


def ahci_cases(img, wb, dtb):
    """-drive if=ahci (issue 5): ports 0-5, one disk each."""
    a = ",if=ahci" + wb
    expect_error("drive: if=ahci port out of range",
                 ["-drive", "file=" + img + a + ",port=6"] + dtb, "expected 0..5")
    expect_error("drive: if=ahci port taken",
                 ["-drive", "file=" + img + a + ",port=2,readonly=on",
                  "-drive", "file=" + img + a + ",port=2,readonly=on"] + dtb,
                 "port taken")
    expect_error("drive: a seventh AHCI disk",
                 sum((["-drive", "file=" + img + a + ",readonly=on"]
                      for _ in range(7)), []) + dtb, "all 6 AHCI ports are taken")
    expect_error("drive: if=ahci with num-queues",
                 ["-drive", "file=" + img + a + ",num-queues=2"] + dtb, "virtio only")
    expect_error("drive: port= on virtio",
                 ["-drive", "file=" + img + wb + ",port=1"] + dtb, "if=ahci only")
    expect_error("drive: if=ide", ["-drive", "file=" + img + ",if=ide"] + dtb,
                 "if=ahci")
    r = run(sum((["-drive", "file=" + img + a + ",readonly=on"] for _ in range(6)),
                ["-drive", "file=" + img + wb + ",readonly=on"]) + dtb)
    check("drive: six AHCI disks and a virtio disk build", r.returncode == 0, r.stderr)


def qmp_cases(tmp):
    """-qmp (issue 7): a bad socket path is one line and exit 1, and
    nothing at the path is removed unless it is a dead socket."""
    import socket
    expect_error("qmp: tcp", ["-qmp", "tcp:localhost:4444,server,nowait"],
                 "only unix:PATH")
    expect_error("qmp: not a server", ["-qmp", "unix:" + tmp + "/q.sock"],
                 "blkemu only listens")
    expect_error("qmp: bad wait", ["-qmp", "unix:" + tmp + "/q.sock,server,wait=2"],
                 "wait= takes on or off")
    expect_error("qmp: unknown option", ["-qmp", "unix:" + tmp + "/q.sock,server,x=1"],
                 "unknown option 'x'")
    expect_error("qmp: twice", ["-qmp", "unix:" + tmp + "/a,server,nowait",
                                "-qmp", "unix:" + tmp + "/b,server,nowait"],
                 "only one control socket")
    expect_error("qmp: path too long for sun_path",
                 ["-qmp", "unix:" + tmp + "/" + "p" * 120 + ",server,nowait"],
                 "a unix socket path has at most 107")
    expect_error("qmp: missing directory",
                 ["-qmp", "unix:" + tmp + "/no/such/dir/q.sock,server,nowait"],
                 "its directory does not exist")
    regular = os.path.join(tmp, "not-a-socket")
    with open(regular, "w") as f:
        f.write("keep me")
    expect_error("qmp: a regular file at the path",
                 ["-qmp", "unix:" + regular + ",server,nowait"], "is not a socket")
    with open(regular) as f:
        check("qmp: the regular file is untouched", f.read() == "keep me")
    expect_error("qmp: a directory at the path",
                 ["-qmp", "unix:" + tmp + ",server,nowait"], "is not a socket")
    live = os.path.join(tmp, "live.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(live)
    srv.listen(1)
    expect_error("qmp: a socket another process listens on",
                 ["-qmp", "unix:" + live + ",server,nowait"], "is in use")
    srv.close()
    r = run(["--help"])
    check("qmp: --help lists -qmp", "-qmp unix:PATH" in r.stdout, r.stdout)


def latency_cases(tmp):
    """--stall-threshold, --stall-fail, --stats-json (issue 7): one line, exit 1."""
    dtb = ["--dump-dtb", os.path.join(tmp, "l.dtb")]
    for bad, why in (("abc", "garbage"), ("10", "no unit"), ("-5ms", "negative"),
                     ("7200s", "over an hour"), ("1.5ns", "fractional ns"),
                     ("10 ms", "a space"), ("10msec", "unknown unit"), ("", "empty"),
                     ("on", "on")):
        expect_error(f"stall-threshold: {why}", ["--stall-threshold", bad] + dtb,
                     f"--stall-threshold '{bad}'")
    for good in ("10ms", "500us", "1s", "0", "off", "2.5ms", "3600s"):
        r = run(["--stall-threshold=" + good] + dtb)
        check(f"stall-threshold: {good} accepted", r.returncode == 0, r.stderr)
    expect_error("stall-fail takes no value", ["--stall-fail=1"] + dtb, "takes no value")
    expect_error("stats-json: no directory",
                 ["--stats-json", os.path.join(tmp, "nodir", "s.json")] + dtb,
                 "does not exist")
    expect_error("stats-json: a directory", ["--stats-json", tmp] + dtb, "is a directory")
    expect_error("stats-json: empty", ["--stats-json="] + dtb, "needs a file name")
    expect_error("stats-json: missing value", ["--stats-json"], "needs a value")
    r = run(["--stats-json", os.path.join(tmp, "s.json"), "--stall-fail",
             "--x-no-vcpu-wake"] + dtb)
    check("latency options accepted", r.returncode == 0, r.stderr)
    r = run(["--help"])
    check("help lists the latency options", all(
        o in r.stdout for o in ["--stats-json", "--stall-threshold", "--stall-fail",
                                "--x-no-vcpu-wake", "--x-no-iostats"]), r.stdout)


def inject_cases(img, wb, dtb):
    """-drive inject= (issue 7): a malformed rule is one line naming the
    drive option and the rule, exit 1; good rules build."""
    d = "file=" + img + wb + ",inject="
    for name, rules, needle in [
            ("empty", "", "-drive inject=: no rule"),
            ("unknown action", "panic@write", "unknown action 'panic'"),
            ("unknown op", "eio@wrte", "unknown op 'wrte'"),
            ("missing op", "eio", "missing '@OP'"),
            ("delay without unit", "delay:5@read", "needs a unit"),
            ("bad number", "eio@write#x", "#N: expected a decimal number"),
            ("overflow", "eio@write#99999999999999999999", "#N: too large"),
            ("delay too long", "delay:3600001ms@read", "longer than 1 hour"),
            ("inverted range", "eio@lba:4095-2048", "ends before it starts"),
            ("trailing garbage", "eio@write:lba:1-2x", "unexpected 'x'"),
            ("empty rule between ;", "eio@write;;eio@read", "rule 2 is empty"),
            ("escaped comma is part of the rule", "eio@write,,read",
             "unexpected ',read'")]:
        expect_error("drive: inject " + name, ["-drive", d + rules] + dtb,
                     "-drive inject=")
        expect_error("drive: inject " + name + " (message)",
                     ["-drive", d + rules] + dtb, needle)
    many = ",".join("inject=eio@write;eio@read" for _ in range(9))
    expect_error("drive: inject too many rules", ["-drive", "file=" + img + wb +
                 "," + many] + dtb, "more than 16 rules")
    expect_error("drive: inject too many rules on ahci",
                 ["-drive", "file=" + img + wb + ",if=ahci," + many] + dtb,
                 "more than 16 rules")
    r = run(["-drive", d + "delay:5ms@read;eio@write#100,inject=eio@lba:2048-4095"]
            + dtb)
    check("drive: good inject rules build", r.returncode == 0, r.stderr)
    r = run(["-drive", "file=" + img + wb + ",if=ahci,inject=enospc@write:once"]
            + dtb)
    check("drive: good inject rules build on ahci", r.returncode == 0, r.stderr)


if __name__ == "__main__":
    sys.exit(main())
