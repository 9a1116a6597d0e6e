"""The report's section on compute: for each configuration of the study, what a real
deployment's sensing pipeline needs at the runs' peak occupancy (experiments.sizing,
docs/sizing.md), against store size and against camera pitch, beside billing accuracy and
the camera cost, so a planner sees accuracy, cameras and compute on one page.
"""

from __future__ import annotations

import math

import numpy as np

from experiments.sizing.load import LoadError, load_from_row
from experiments.sizing.model import Options, size
from experiments.sizing.table import load_costs
from experiments.studies.report.drawing import MARKERS, colors, new_figure, svg_uri
from experiments.studies.report.groups import as_float, present
from experiments.studies.report.lacking import code, no_finished_run
from experiments.studies.report.markup import (
    esc,
    figure_html,
    fmt_num,
    fmt_pct,
    fmt_usd,
    nodata,
    table_html,
)

#: the devices the section plots: (hardware choice, device id, label)
SERIES = (("a100", "a100", "A100 GPUs"),
          ("a100", "cpu-core-here", "CPU cores decoding beside the A100s"),
          ("jetson-orin-nano", "jetson-orin-nano", "Jetson Orin Nano modules"))


def _resolution(row: dict) -> tuple[int, int]:
    """The cameras' pixels: the row's layout model (twin.layout.DEFAULT_MODELS), else the
    default dome-4mp."""
    from twin.layout import DEFAULT_MODEL, DEFAULT_MODELS
    m = DEFAULT_MODELS.get(str(row.get("layout_model") or ""), DEFAULT_MODELS[DEFAULT_MODEL])
    return m.resolution


def _devices(s: dict, group: str, hardware: str) -> float:
    g = next((g for g in s["hardware"] if g["group"] == group), None)
    if g is None:
        return math.nan
    return float(next((d["devices"] for d in g["devices"] if d["hardware"] == hardware), 0))


def sized_rows(rows: list[dict]) -> list[dict]:
    """Each store run's sizing in a flat dict: the row's keys, devices per :data:`SERIES`
    (default models, 30 % headroom), network [Mbit/s], video [bytes/day] and how the peak
    was found; runs the sizing cannot read are left out."""
    table = load_costs()
    out = []
    for r in rows:
        if present(r.get("scenario")):
            continue
        w, h = _resolution(r)
        try:
            load = load_from_row(r, w, h)
        except LoadError:
            continue
        if not (load.cameras > 0 and math.isfinite(load.crops_peak_per_s)):
            continue
        s = size(load, table, Options(groups=("a100", "jetson-orin-nano")))
        d = {**r, "people_peak": load.people_peak, "crops_peak": load.crops_peak_per_s,
             "mbit_per_s": s["network"]["mbit_per_s"],
             "video_bytes_per_day": s["storage"]["video_bytes_per_day"],
             "core_cores_peak": load.core_cores_peak, "peak_note": load.notes[0]}
        for group, hw, label in SERIES:
            d[label] = _devices(s, group, hw)
        out.append(d)
    return out


def _mean(rows: list[dict], key: str) -> float:
    v = np.array([as_float(r.get(key)) for r in rows])
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def _configs(sized: list[dict]) -> list[list[dict]]:
    """Runs grouped by store, layout, crowd and plates (seeds together), in store order then
    cameras."""
    keys: dict[tuple, list[dict]] = {}
    for r in sized:
        k = tuple(str(r.get(p)) for p in ("store", "layout", "shoppers", "bins_per_plate",
                                          "core"))
        keys.setdefault(k, []).append(r)
    return sorted(keys.values(), key=lambda g: (_mean(g, "area_sqft"), _mean(g, "cameras")))


def compute_figure(groups: list[list[dict]]) -> str | None:
    """Devices against store area (one point per configuration, log axes) and, for the store
    with most camera pitches, against pitch beside the exact-receipt rate."""
    pitch_store = _pitch_store(groups)
    fig, axes = new_figure(11.0, 4.0, ncols=2)
    col = colors(len(SERIES))
    ax = axes[0]
    x = np.array([_mean(g, "area_sqft") for g in groups])
    areas = np.unique(x[np.isfinite(x)])
    for i, (_, _, label) in enumerate(SERIES):
        y = np.array([_mean(g, label) for g in groups])
        ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
        if not ok.any():
            continue
        ax.scatter(x[ok], y[ok], marker=MARKERS[i], color=col[i], label=label)
        if areas.size > 1:   # a line through each store size's mean over its configurations
            m = [(a, float(y[ok & (x == a)].mean())) for a in areas if (ok & (x == a)).any()]
            ax.plot(*zip(*m, strict=True), color=col[i], linewidth=1)
    if areas.size > 1 and areas.max() > 3 * areas.min():
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    if areas.size == 1:
        ax.set_title("compute at one store size (scale.toml spans four)")
    else:
        ax.set_title("compute against store size")
    ax.set_xlabel("store area [sq ft]")
    ax.set_ylabel("devices at peak (30 % headroom)")
    ax.legend(fontsize=8, loc="best")
    ax = axes[1]
    if pitch_store is None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "one camera pitch per store:\nno curve against pitch",
                ha="center", va="center")
        return svg_uri(fig)
    store, pg = pitch_store
    p = np.array([_mean(g, "layout_param") for g in pg])
    for i, (_, _, label) in enumerate(SERIES):
        y = np.array([_mean(g, label) for g in pg])
        ax.plot(p, y, marker=MARKERS[i], color=col[i], label=label)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"camera pitch [m] ({store})")
    ax.set_ylabel("devices at peak (30 % headroom)")
    ax.set_title("compute and accuracy against camera pitch")
    acc = np.array([_mean(g, "exact_match") for g in pg]) * 100
    if np.isfinite(acc).any():
        tw = ax.twinx()
        tw.plot(p, acc, color="black", linestyle="--", marker="x", label="exact receipts")
        tw.set_ylabel("exact receipts [%] (dashed)")
    ax.legend(fontsize=8, loc="best")
    return svg_uri(fig)


def _pitch_store(groups: list[list[dict]]) -> tuple[str, list[list[dict]]] | None:
    """The store whose grid-layout configurations span most camera pitches (2 or more), and
    those configurations, one per pitch (the first crowd and plate setting), by pitch."""
    by: dict[str, dict[float, list[dict]]] = {}
    for g in groups:
        r = g[0]
        if r.get("layout_generator") != "grid" or not math.isfinite(as_float(r.get("layout_param"))):
            continue
        by.setdefault(str(r.get("store")), {}).setdefault(as_float(r["layout_param"]), g)
    best = max(by.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 2:
        return None
    return best[0], [best[1][p] for p in sorted(best[1])]


def _table(groups: list[list[dict]]) -> str:
    head = ["store", "layout", "shoppers", "cameras", "camera cost", "peak inside",
            "crops/s at peak", "A100 GPUs (+ decode cores)", "Orin Nano modules",
            "tracking cores", "Mbit/s", "video/day", "exact receipts"]
    body = []
    for g in groups:
        r = g[0]
        tb = _mean(g, "video_bytes_per_day") / 1e12
        body.append([esc(r.get("store")), esc(r.get("layout")), fmt_num(_mean(g, "shoppers"), "g"),
                     fmt_num(_mean(g, "cameras"), ",.0f"), fmt_usd(_mean(g, "cost_cameras_usd")),
                     fmt_num(_mean(g, "people_peak"), ",.0f"),
                     fmt_num(_mean(g, "crops_peak"), ",.0f"),
                     f"{fmt_num(_mean(g, SERIES[0][2]), ',.0f')} "
                     f"(+ {fmt_num(_mean(g, SERIES[1][2]), ',.0f')})",
                     fmt_num(_mean(g, SERIES[2][2]), ",.0f"),
                     fmt_num(_mean(g, "core_cores_peak"), ",.2f"),
                     fmt_num(_mean(g, "mbit_per_s"), ",.0f"),
                     "n/a" if not math.isfinite(tb) else f"{tb:,.2f} TB",
                     fmt_pct(_mean(g, "exact_match"))])
    return table_html(head, body, "num")


def compute_section(rows: list[dict]) -> str:
    """Compute a real deployment needs, per configuration: a figure against store size and
    camera pitch (beside exact receipts) and a table."""
    out = ["<h2>Compute a real deployment needs</h2>"]
    if not rows:
        return "".join(out) + nodata(no_finished_run("compute sizing"))
    sized = sized_rows(rows)
    if not sized:
        return "".join(out) + nodata(
            f"No store run records its cameras, simulated time and detections "
            f"({code('cameras')}, {code('sim_s')}, {code('detections')}), so there is no "
            f"compute sizing: run the study again into a new results folder "
            f"({code('storetwin study FILE --out NEW')}).")
    groups = _configs(sized)
    notes = sorted({r["peak_note"] for r in sized})
    out.append(figure_html(
        compute_figure(groups), "compute",
        "Devices a real pipeline needs at the runs' peak occupancy with 30&nbsp;% headroom "
        "(storetwin size; default models YOLOv8s, RTMPose-m whole-body or YOLOv8s-pose, "
        "OSNet x1.0): left against store area, right against camera pitch with the "
        "exact-receipt rate (dashed). An A100 has no cited decode figure: its cameras are "
        "decoded on CPU cores (measured here), drawn as their own line.",
        "compute vs store size and camera pitch"))
    out.append(_table(groups))
    out.append('<p class="note">Per-unit costs and their sources: '
               f"{code('experiments/sizing/costs.toml')}, docs/sizing.md; one run's full "
               f"table: {code('storetwin size RUN_DIR')}. Peak crops: "
               f"{esc('; '.join(notes))}. Tracking cores: the core's measured time per "
               "simulated second on the study's machine, scaled to the peak.</p>")
    return "".join(out)
