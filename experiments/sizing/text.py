"""A sizing (``experiments.sizing.model.size``) as the text ``storetwin size`` prints: the
load, a table stage by stage per hardware choice, the devices to buy, network, storage and
the sources of every figure used."""

from __future__ import annotations


def _bytes(n: float | None) -> str:
    """Bytes in decimal units (GB, TB)."""
    if n is None:
        return "n/a"
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= k:
            return f"{n / k:,.2f} {unit}"
    return f"{n:,.0f} B"


def _num(v: float | None, fmt: str = ",.2f") -> str:
    return "n/a" if v is None else format(v, fmt)


def load_lines(s: dict) -> list[str]:
    """The load and the options, a few lines."""
    ld, opt = s["load"], s["options"]
    lines = [
        f"store {ld['store']}: {ld['cameras']} cameras, {ld['width']}x{ld['height']} px at "
        f"{ld['fps']:g} Hz ({ld['frames_per_s']:,.0f} frames/s)",
        f"peak: {ld['people_peak']:g} shoppers inside (mean {ld['people_mean']:.1f}); person "
        f"crops {ld['crops_peak_per_s']:,.0f}/s at peak ({ld['crops_mean_per_s']:,.0f}/s "
        f"mean) over {ld['sim_s']:g} simulated s",
        f"headroom {100 * opt['headroom']:g} %; models (first with a figure is used): detect "
        f"{'|'.join(opt['detector'])}, pose/hands {'|'.join(opt['pose'])}, appearance "
        f"{'|'.join(opt['reid'])}" + (f"; detector on 1 frame in {opt['detect_every']}"
                                      if opt["detect_every"] > 1 else ""),
    ]
    return lines


def group_lines(g: dict) -> list[str]:
    """One hardware choice: its stages as a table, its devices, what is missing."""
    rows = [("stage", "model", "figure", "device", "work", "busy")]
    for ln in g["stages"]:
        fig = ("-" if ln.get("value") is None else
               f"{ln['value']:g} {ln['value_unit']} @{ln['input']} ({ln['kind']})")
        work = f"{ln['work']:,.1f} {ln['work_unit']}" if ln["work_unit"] else "-"
        rows.append((ln["stage"], ln["model"], fig, ln.get("unit", "-"), work,
                     _num(ln.get("busy"), ",.3f")))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [f"HARDWARE {g['group']}"]
    out += ["  " + "  ".join(c.ljust(w[i]) if i < 4 else c.rjust(w[i])
                             for i, c in enumerate(r)).rstrip() for r in rows]
    notes = [f"  note: {ln['stage']}: {ln['note']}" for ln in g["stages"]
             if ln.get("note") and ln.get("busy") is not None]
    out += notes
    dev = "; ".join(f"{d['devices']} x {d['unit']} ({d['name']})" for d in g["devices"])
    out.append(f"  devices at peak with headroom: {dev or 'none'}")
    out.append("  missing: " + ("; ".join(g["missing"]) if g["missing"] else "none"))
    return out


def format_sizing(s: dict) -> str:
    """The whole sizing as text."""
    out = load_lines(s) + [""]
    for g in s["hardware"]:
        out += group_lines(g) + [""]
    net, st = s["network"], s["storage"]
    row = net["bitrate_row"]
    if net["mbit_per_s"] is None:
        out.append("NETWORK  n/a: the bitrate table has no row at the cameras' frame rate")
    else:
        out.append(f"NETWORK  {net['mbit_per_s']:,.1f} Mbit/s from the cameras "
                   f"({net['per_camera_kbit_per_s']:,.0f} kbit/s each: the {row['codec']} "
                   f"{row['input']} {row['fps']:g} fps row, nearest pixel count)")
    out.append(f"STORAGE  video {_bytes(st['video_bytes_per_day'])}/day "
               f"({st['hours_per_day']:g} h open), {_bytes(st['video_bytes_retained'])} kept "
               f"for {st['retention_days']:g} days; twin streams "
               f"{_bytes(st['streams_bytes_per_day'])}/day (measured on the run's stream files)")
    out += ["", "SOURCES"]
    for f in s["sources"]:
        out.append(f"  {f['id']} ({f['kind']}): {f['value']:g} {f['unit']}; {f['source']}"
                   f" [{f['where']}; accessed {f['accessed']}]")
    if row:
        out.append(f"  bitrate ({row['codec']} {row['input']} {row['fps']:g} fps): "
                   f"{row['value']:g} kbit/s; {row['source']} [{row['where']}; accessed "
                   f"{row['accessed']}]")
    out += ["", "LOAD FROM"] + [f"  {n}" for n in s["load"]["notes"]]
    return "\n".join(out)
