"""Guest tests of fault and latency injection (-drive inject=, issue 7).

Each boots the initramfs with two scratch disks on one controller — a clean
one and one with rules — and checks what Linux sees:

inject-eio-KIND     eio@write:lba:2048-4095 on the second disk: fio's write
                    into the range fails with EIO, writes and reads outside
                    it (and reads inside it) still work, the guest stays up
                    and exits 0, the host file is byte-identical in the
                    range and the write outside it reached the host.
                    KIND: virtio, ahci (NCQ), ahci-noncq (queue_depth 1:
                    plain DMA commands, the D2H error path).
inject-nth-KIND     eio@write#10: fio's sequential 4 KiB direct writes stop
                    at exactly the 10th (offset 36864), the 9 before it are
                    on the host, the 10th is not; --stats counts 1 error.
inject-delay-KIND   delay:20ms@read: fio's completion latency mean is at
                    least 20 ms (a lower bound the rule guarantees, not a
                    measure of our speed).
inject-delay-verify-KIND  delays of different lengths reorder completions
                    at QD32: fio's crc32c verify passes.
inject-timeout-ahci delay:60s on one read, the guest's SCSI timeout at 2 s:
                    libata's EH resets the link, the reset sends the held
                    read on, the retried read succeeds long before 60 s.

blkemu only: QEMU has no inject= (its blkdebug is another syntax).
"""
import os

RANGE = (2048, 4095)                 # sectors, inclusive: bytes 1 MiB .. 2 MiB
SIZE = 8 << 20


def pattern(size):
    block = bytes((i * 131 + 7) & 0xff for i in range(4096))
    return block * (size // 4096)


def drives(h, kind, clean, faulty, rules):
    """-drive arguments: the clean disk first (vda / sda), then the faulty
    one (vdb / sdb); and the guest's name of the faulty one."""
    inj = ",inject=" + rules.replace(",", ",,")
    if kind == "virtio":
        return (["-drive", f"file={clean},if=virtio,format=raw",
                 "-drive", f"file={faulty},if=virtio,format=raw{inj}"], "vdb", "vda")
    return (["-drive", f"file={clean},if=ahci,format=raw,port=0",
             "-drive", f"file={faulty},if=ahci,format=raw,port=1{inj}"], "sdb", "sda")


def fio(dev, rw, offset, size, extra=""):
    return (f"fio --name=j --filename=/dev/{dev} --rw={rw} --bs=4k --offset={offset} "
            f"--size={size} --direct=1 --ioengine=psync {extra}")


def t_eio(h, kind):
    name = f"inject-eio-{kind}"
    if h.emu != "blkemu":
        return h.skip(name, "blkemu's inject= option")
    ctl = "ahci" if kind.startswith("ahci") else "virtio"
    data = pattern(SIZE)
    clean, faulty = h.scratch_copy(size=SIZE), h.scratch_copy(data=data)
    extra, dev, other = drives(h, ctl, clean, faulty,
                               f"eio@write:lba:{RANGE[0]}-{RANGE[1]}")
    setup = ""
    if kind == "ahci-noncq":
        # queue_depth 1 turns NCQ off in libata: WRITE DMA EXT, D2H error.
        setup = f"echo 1 >/sys/block/{dev}/device/queue_depth; "
    cmds = (setup +
            f"{fio(dev, 'write', '1536k', '64k')} >/tmp/f1 2>&1; echo IN-RC=$?; "
            "grep -c 'Input/output error' /tmp/f1 | sed 's/^/IN-EIO=/'; "
            f"{fio(dev, 'write', '4m', '256k', '--verify=crc32c --do_verify=1')} "
            ">/dev/null 2>&1; echo OUT-RC=$?; "
            f"{fio(dev, 'read', '1m', '1m')} >/dev/null 2>&1; echo READ-IN-RC=$?; "
            f"{fio(other, 'write', '0', '256k', '--verify=crc32c --do_verify=1')} "
            ">/dev/null 2>&1; echo OTHER-RC=$?; "
            "dmesg | grep -c 'I/O error' | sed 's/^/DMESG-IOERR=/'; "
            "dmesg | grep -ci 'hard resetting link' | sed 's/^/DMESG-RESET=/'")
    b, bad = h.shell_boot(name, extra + ["--stats"], cmds)

    def val(key):
        _, m = b.first(rf"^{key}=(\d+)")
        return int(m.group(1)) if m else None

    if not val("IN-RC"):
        bad.append(f"fio's write into the range did not fail (rc {val('IN-RC')})")
    if not val("IN-EIO"):
        bad.append("fio did not report Input/output error")
    for key, what in (("OUT-RC", "write+verify outside the range"),
                      ("READ-IN-RC", "read inside the range"),
                      ("OTHER-RC", "write+verify on the clean disk")):
        if val(key) != 0:
            bad.append(f"{what} failed (rc {val(key)})")
    if not val("DMESG-IOERR"):
        bad.append("the kernel logged no I/O error")
    if val("DMESG-RESET"):
        bad.append("libata reset the link (a device error needs no reset)")
    with open(faulty, "rb") as f:
        now = f.read()
    lo, hi = RANGE[0] * 512, (RANGE[1] + 1) * 512
    if now[lo:hi] != data[lo:hi]:
        bad.append("the host file changed inside the range")
    if now[4 << 20:(4 << 20) + 4096] == data[4 << 20:(4 << 20) + 4096]:
        bad.append("the write outside the range did not reach the host")
    _, m = b.first(r"stats: \S+ inject rule 1 (\S+) matched (\d+) fired (\d+)")
    if m is None or int(m.group(3)) < 1:
        bad.append("--stats shows no fired rule")
    h.result(name, not bad, "; ".join(bad) or
             f"write into sectors {RANGE[0]}-{RANGE[1]} of /dev/{dev}: EIO; guest "
             "kept reading and writing, host range byte-identical", b)


def t_nth(h, kind):
    name = f"inject-nth-{kind}"
    if h.emu != "blkemu":
        return h.skip(name, "blkemu's inject= option")
    n = 10
    data = pattern(SIZE)
    clean, faulty = h.scratch_copy(size=SIZE), h.scratch_copy(data=data)
    extra, dev, _ = drives(h, kind, clean, faulty, f"eio@write#{n}")
    cmds = (f"{fio(dev, 'write', '0', '1m')} 2>&1 | grep 'io_u error'; "
            "echo NTH-DONE")
    b, bad = h.shell_boot(name, extra + ["--stats"], cmds)
    _, m = b.first(r"io_u error on file /dev/\S+: Input/output error: write "
                   r"offset=(\d+)")
    if m is None:
        bad.append("fio reported no write error")
    elif int(m.group(1)) != (n - 1) * 4096:
        bad.append(f"the failed write was at offset {m.group(1)}, want {(n - 1) * 4096}")
    with open(faulty, "rb") as f:
        now = f.read()
    for i in range(n - 1):
        if now[i * 4096:(i + 1) * 4096] == data[i * 4096:(i + 1) * 4096]:
            bad.append(f"write {i + 1} did not reach the host")
            break
    if now[(n - 1) * 4096:n * 4096] != data[(n - 1) * 4096:n * 4096]:
        bad.append(f"write {n} reached the host")
    stats = b.first(r"stats: \S+ inject errors (\d+)")[1]
    if stats is None or stats.group(1) != "1":
        bad.append(f"--stats injected errors {stats.group(1) if stats else '?'}, want 1")
    h.result(name, not bad, "; ".join(bad) or
             f"write {n} (offset {(n - 1) * 4096}) failed, writes 1-{n - 1} reached "
             "the host, it did not", b)


def t_delay(h, kind):
    name = f"inject-delay-{kind}"
    if h.emu != "blkemu":
        return h.skip(name, "blkemu's inject= option")
    delay_ms = 20
    clean, faulty = h.scratch_copy(size=SIZE), h.scratch_copy(size=SIZE)
    extra, dev, _ = drives(h, kind, clean, faulty, f"delay:{delay_ms}ms@read")
    args = (f"--name=d --filename=/dev/{dev} --rw=randread --bs=4k --direct=1 "
            "--ioengine=psync --size=256k --number_ios=25")
    b = h.boot(1, "fio", extra=extra, append=f'blkemu.fio="{args}"')
    bad, _ = h.check_booted(name, b)
    js = h.fio_json(b, bad)
    detail = ""
    if js is not None:
        job = (js.get("jobs") or [{}])[0]
        rd = job.get("read", {})
        mean = rd.get("clat_ns", {}).get("mean", 0) / 1e6
        if job.get("error"):
            bad.append(f"fio error {job.get('error')}")
        if rd.get("total_ios", 0) < 1:
            bad.append("fio read nothing")
        if mean < delay_ms:
            bad.append(f"clat mean {mean:.2f} ms < the {delay_ms} ms delay")
        detail = f"{rd.get('total_ios', 0)} reads, clat mean {mean:.2f} ms >= {delay_ms} ms"
    h.result(name, not bad, "; ".join(bad) or detail, b)


def t_timeout(h, kind):
    """A delay longer than the guest's patience: the kernel's timeout
    recovery resets the device, the reset sends the held request on, the
    retried read succeeds well before the delay would have ended."""
    name = f"inject-timeout-{kind}"
    if h.emu != "blkemu":
        return h.skip(name, "blkemu's inject= option")
    delay_s = 60
    clean, faulty = h.scratch_copy(size=SIZE), h.scratch_copy(data=pattern(SIZE))
    extra, dev, _ = drives(h, kind, clean, faulty,
                           f"delay:{delay_s}s@read:lba:4096-4103:once")
    cmds = (f"echo 2 >/sys/block/{dev}/device/timeout; "
            f"{fio(dev, 'read', '2m', '4k', '--output-format=terse')} "
            ">/tmp/f 2>&1; echo RD-RC=$?; "
            # terse v3: field 16 is the read completion latency mean (us)
            "cut -d';' -f16 /tmp/f | sed 's/^/CLAT-US=/'; "
            "dmesg | grep -ci 'hard resetting link' | sed 's/^/DMESG-RESET=/'")
    b, bad = h.shell_boot(name, extra, cmds)
    _, m = b.first(r"^RD-RC=(\d+)")
    if m is None or m.group(1) != "0":
        bad.append(f"the read failed (rc {m.group(1) if m else '?'})")
    _, m = b.first(r"^CLAT-US=([0-9.]+)")
    clat = float(m.group(1)) / 1e6 if m else None
    if clat is None:
        bad.append("no fio latency")
    elif clat >= delay_s:
        bad.append(f"the read took {clat:.1f} s: the reset waited the delay out")
    _, m = b.first(r"^DMESG-RESET=(\d+)")
    if m is None or int(m.group(1)) < 1:
        bad.append("libata did not reset the link")
    h.result(name, not bad, "; ".join(bad) or
             f"read held {delay_s} s; 2 s timeout, link reset, retried read done "
             f"after {clat:.1f} s", b)


def t_delay_verify(h, kind):
    """Delays of different lengths (writes 2 ms, every 7th write 5 ms
    more, reads 1 ms) reorder completions at queue depth 32: fio's
    crc32c verify still passes."""
    name = f"inject-delay-verify-{kind}"
    if h.emu != "blkemu":
        return h.skip(name, "blkemu's inject= option")
    clean, faulty = h.scratch_copy(size=SIZE), h.scratch_copy(size=SIZE)
    extra, dev, _ = drives(h, kind, clean, faulty,
                           "delay:2ms@write;delay:5ms@write#7:always;delay:1ms@read")
    args = (f"--name=v --filename=/dev/{dev} --rw=randwrite --bs=4k --size=2M "
            "--ioengine=libaio --iodepth=32 --direct=1 --verify=crc32c --do_verify=1")
    b = h.boot(1, "fio", extra=extra + ["--stats"], append=f'blkemu.fio="{args}"')
    bad, _ = h.check_booted(name, b)
    js = h.fio_json(b, bad)
    if js is not None:
        job = (js.get("jobs") or [{}])[0]
        if job.get("error"):
            bad.append(f"fio error {job.get('error')}")
        if job.get("write", {}).get("total_ios", 0) < 512:
            bad.append("fio wrote less than 2 MiB")
    _, m = b.first(r"stats: \S+ inject errors 0 delays (\d+)")
    if m is None or int(m.group(1)) < 1024:
        bad.append(f"--stats delays {m.group(1) if m else '?'}, want >= 1024")
    h.result(name, not bad, "; ".join(bad) or
             "2 MiB of QD32 random writes with reordering delays verified", b)


def tests(h):
    out = []
    for kind in ("virtio", "ahci", "ahci-noncq"):
        out.append((f"inject-eio-{kind}", lambda k=kind: t_eio(h, k)))
    for kind in ("virtio", "ahci"):
        out.append((f"inject-nth-{kind}", lambda k=kind: t_nth(h, k)))
        out.append((f"inject-delay-{kind}", lambda k=kind: t_delay(h, k)))
    for kind in ("virtio", "ahci"):
        out.append((f"inject-delay-verify-{kind}", lambda k=kind: t_delay_verify(h, k)))
    out.append(("inject-timeout-ahci", lambda: t_timeout(h, "ahci")))
    return out
