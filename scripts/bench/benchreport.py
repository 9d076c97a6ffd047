"""The bench's results: statistics, ratios, the terminal table, JSON and
docs/performance.md.  Input is what scripts/bench/benchrun.py measured."""
import json
import os
import statistics

from benchrun import METRICS, applicable

DEVICE_TITLE = {"virtio": "virtio-blk (PCIe)", "ahci": "AHCI (ICH9 SATA on PCIe)"}


def stats(values):
    if not values:
        return None
    v = sorted(values)
    return {"n": len(v), "min": v[0], "median": statistics.median(v), "max": v[-1]}


def ratio(a, b):
    """a/b on medians, with the widest spread the extremes allow."""
    if not a or not b or b["median"] == 0 or b["min"] <= 0:
        return None
    return {"median": a["median"] / b["median"], "lo": a["min"] / b["max"],
            "hi": a["max"] / b["min"]}


def assemble(args, command, machine, env, setups, matrix, boot, elapsed):
    cells, errors = {}, []
    for s in setups:
        cells[s.name] = {}
        if not s.available:
            continue
        got = matrix[s.name]
        for e in got["errors"]:
            if e["metric"] == "*":
                errors.append(dict(e, setup=s.name))
        for key in applicable(s):
            errs = [e for e in got["errors"] if e["metric"] == key]
            if not errs and not got["values"].get(key):
                continue        # not measured (e.g. --cpu-reps 0)
            st = stats(got["values"].get(key, []))
            cells[s.name][key] = {"values": got["values"].get(key, []), "stats": st,
                                  "errors": [f"rep {e['rep']}: {e['error']}" for e in errs]}
            for e in errs:
                if not any(x["setup"] == s.name and x["rep"] == e["rep"] and x["metric"] == "*"
                           for x in errors):
                    errors.append(dict(e, setup=s.name))
    ratios = {}
    devices = sorted({s.device for s in setups if s.device}, key=["virtio", "ahci"].index)
    for dev in devices:
        ratios[dev] = {}
        for key, *_ in METRICS:
            b = _st(cells, f"blkemu-{dev}", key)
            ratios[dev][key] = {"blkemu/qemu": ratio(b, _st(cells, f"qemu-{dev}", key)),
                                "blkemu/host": ratio(b, _st(cells, "host", key))}
    boot_out = {}
    for kind, info in boot.items():
        boot_out[kind] = {"reason": info["reason"], "smp": {}}
        for smp, cell in info["smp"].items():
            boot_out[kind]["smp"][smp] = {"values": cell["values"], "stats": stats(cell["values"]),
                                          "errors": cell["errors"], "argv": cell["argv"]}
            errors += [dict(e, setup=f"{kind} boot -smp {smp}") for e in cell["errors"]]
    return {
        "command": command,
        "machine": machine,
        "options": {"device": args.device, "engine": args.engine, "cache": args.cache,
                    "fio_engine": args.fio_engine, "reps": args.reps, "runtime": args.runtime,
                    "smp": args.smp, "mem": args.mem, "size": args.size,
                    "boot_smp": args.boot_smp},
        "metrics": [{"key": k, "label": lab, "unit": u, "better": b} for k, lab, u, b in METRICS],
        "setups": [{"name": s.name, "kind": s.kind, "device": s.device, "label": s.label,
                    "available": s.available, "reason": s.reason,
                    "command": s.example} for s in setups],
        "devices": devices,
        "cells": cells,
        "ratios": ratios,
        "boot": boot_out,
        "errors": errors,
        "elapsed_s": round(elapsed, 1),
    }


def _st(cells, name, key):
    c = cells.get(name, {}).get(key)
    return c["stats"] if c else None


def num(v):
    if v is None:
        return "?"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell_text(results, name, key, dash):
    setup = next((s for s in results["setups"] if s["name"] == name), None)
    if setup is None:
        return ""
    if not setup["available"]:
        return "n/a"
    c = results["cells"][name].get(key)
    if c is None:
        return "—" if dash else "-"
    return stat_text(c["stats"], c["errors"], dash)


def stat_text(st, errors, dash):
    """median (min–max), just the value for one run, ERR for none; !N failures."""
    if st is None:
        return "ERR"
    sep = "–" if dash else ".."
    text = num(st["median"]) if st["n"] == 1 else \
        f"{num(st['median'])} ({num(st['min'])}{sep}{num(st['max'])})"
    return text + (f" !{len(errors)}" if errors else "")


def ratio_text(r, dash):
    if r is None:
        return "—" if dash else "-"
    sep = "–" if dash else ".."
    if r["lo"] == r["hi"]:
        return f"{r['median']:.2f}"       # one run each: no spread to show
    return f"{r['median']:.2f} ({r['lo']:.2f}{sep}{r['hi']:.2f})"


def device_rows(results, dev, dash):
    """Header and rows of one device's table."""
    names = ["host", f"qemu-{dev}", f"blkemu-{dev}"]
    present = [n for n in names if any(s["name"] == n for s in results["setups"])]
    labels = {"host": "host (fio, libaio, O_DIRECT)", f"qemu-{dev}": "QEMU 7.2",
              f"blkemu-{dev}": "blkemu"}
    head = ["metric", "unit", "better"] + [labels[n] for n in present]
    has_q = f"qemu-{dev}" in present and f"blkemu-{dev}" in present
    has_h = "host" in present and f"blkemu-{dev}" in present
    if has_q:
        head.append("blkemu/QEMU")
    if has_h:
        head.append("blkemu/host")
    rows = []
    for key, label, unit, better in METRICS:
        row = [label, unit, better] + [cell_text(results, n, key, dash) for n in present]
        rr = results["ratios"].get(dev, {}).get(key, {})
        if has_q:
            row.append(ratio_text(rr.get("blkemu/qemu"), dash))
        if has_h:
            row.append(ratio_text(rr.get("blkemu/host"), dash))
        rows.append(row)
    return head, rows, present


def boot_rows(results, dash):
    boot = results["boot"]
    kinds = [k for k in ("qemu", "blkemu") if k in boot]
    if not kinds:
        return None, None
    head = ["-smp"] + [{"qemu": "QEMU 7.2 [s]", "blkemu": "blkemu [s]"}[k] for k in kinds]
    if len(kinds) == 2:
        head.append("blkemu/QEMU")
    rows = []
    for smp in results["options"]["boot_smp"]:
        row, sts = [str(smp)], {}
        for k in kinds:
            if boot[k]["reason"]:
                row.append("n/a")
                continue
            cell = boot[k]["smp"].get(str(smp))
            st = cell["stats"] if cell else None
            sts[k] = st
            row.append(stat_text(st, cell["errors"] if cell else [], dash))
        if len(kinds) == 2:
            row.append(ratio_text(ratio(sts.get("blkemu"), sts.get("qemu")), dash))
        rows.append(row)
    return head, rows


def ascii_table(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(out)


def md_table(head, rows, right_from=1):
    align = ["---" if i < right_from else "--:" for i in range(len(head))]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def unavailable(results):
    return [(s["name"], s["reason"]) for s in results["setups"] if not s["available"]]


def options_line(results):
    o = results["options"]
    return (f"aio={o['engine']} cache={o['cache']}, guest fio ioengine={o['fio_engine']}, "
            f"-smp {o['smp']} -m {o['mem']}, {o['reps']} reps, {o['runtime']:g} s per "
            f"time-based job, backing file {o['size']}")


def terminal(results):
    out = [f"blkemu bench: {options_line(results)}",
           "cells: median (min..max) over the reps; !N = N failed reps; ratios on medians "
           "(spread: min/max..max/min)"]
    for dev in results["devices"]:
        head, rows, _ = device_rows(results, dev, dash=False)
        out += ["", f"== {DEVICE_TITLE[dev]}", ascii_table(head, rows)]
    head, rows = boot_rows(results, dash=False)
    if head and rows:
        out += ["", "== boot to first userspace line (job uname, no disk)", ascii_table(head, rows)]
    for name, why in unavailable(results):
        out.append(f"n/a {name}: {why}")
    for e in results["errors"]:
        out.append(f"ERR {e['setup']} rep {e['rep']} {e['metric']}: {e['error']}")
    return "\n".join(out)


def write_json(results, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def write_markdown(results, path):
    from benchdoc import markdown
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(markdown(results))
    os.replace(path + ".tmp", path)


def compare(old, new):
    """Do two runs agree? For every ratio both have: is the new median inside
    the spread the old report printed, and the old one inside the new one's?
    Returns (lines, agreeing, total) — `agreeing` counts ratios whose medians
    each fall inside the other run's spread."""
    lines, agree, total = [], 0, 0
    for dev, rows in old.get("ratios", {}).items():
        for key, pair in rows.items():
            for kind, r1 in pair.items():
                r2 = new.get("ratios", {}).get(dev, {}).get(key, {}).get(kind)
                if not r1 or not r2:
                    continue
                total += 1
                fwd = r1["lo"] <= r2["median"] <= r1["hi"]
                back = r2["lo"] <= r1["median"] <= r2["hi"]
                agree += fwd and back
                mark = "ok " if fwd and back else ("~  " if fwd or back else "BAD")
                lines.append(f"{mark} {dev:6} {key:12} {kind:12} "
                             f"{ratio_text(r1, False):22} -> {ratio_text(r2, False)}")
    return lines, agree, total


def compare_text(old, new, old_name):
    lines, agree, total = compare(old, new)
    head = (f"compared with {old_name} ({old.get('machine', {}).get('date', '?')}): "
            f"{agree}/{total} ratios agree (each median inside the other run's spread; "
            "~ = one way only)")
    return "\n".join([head] + lines)
