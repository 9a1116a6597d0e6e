"""The report's section on tracking: HOTA and IDF1 of the shoppers' floor tracks
(``experiments/scoring/hota.py``, ``experiments/scoring/tracking.py``) against the number of
cameras and against the crowd, per store and core, its figure and table, and what a study
lacks for either curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from experiments.studies.report.analysis import crowd_rows, sound_rows
from experiments.studies.report.drawing import colors, errorbar, new_figure, svg_uri
from experiments.studies.report.groups import Group, as_float, group_rows, present
from experiments.studies.report.lacking import (
    code,
    more_layouts,
    no_finished_run,
    no_store_runs,
    one_crowd_level,
    one_seed,
)
from experiments.studies.report.markup import esc, figure_html, fmt_num, nodata, table_html

#: the tracking scores drawn, (column, name); fractions 0-1
SCORES: tuple[tuple[str, str], ...] = (("hota", "HOTA"), ("idf1", "IDF1"))


@dataclass(frozen=True)
class Curve:
    """One store and core: its runs by camera count at the store's design crowd (``cams``)
    and by crowd level with its most cameras (``crowd``), each group a point of the
    figure."""

    store: str
    label: str
    cams: list[Group]
    crowd: list[Group]


def _scored(rows: list[dict]) -> list[dict]:
    return [r for r in rows if any(math.isfinite(as_float(r.get(m))) for m, _ in SCORES)]


def tracking_curves(rows: list[dict], stores: list[str]) -> list[Curve]:
    """The :class:`Curve` of each store (in ``stores`` order) and core among the
    sampled-crowd runs ``rows`` with a tracking score: runs without a fault schedule, with
    the fewest dead sensors (:func:`~experiments.studies.report.analysis.sound_rows`)."""
    scored = _scored(crowd_rows(rows))
    cores = sorted({str(r.get("core")) for r in scored})
    out = []
    for s in stores:
        srows, _ = sound_rows([r for r in scored if str(r.get("store")) == s])
        for core in cores:
            crows = [r for r in srows if str(r.get("core")) == core]
            if not crows:
                continue
            top = max((as_float(r.get("shoppers")) for r in crows), default=math.nan)
            design = [r for r in crows if as_float(r.get("shoppers")) == top] or crows
            most = max((as_float(r.get("cameras")) for r in crows), default=math.nan)
            full = [r for r in crows if as_float(r.get("cameras")) == most] or crows
            label = s if len(cores) == 1 else f"{s}, {core} core"
            out.append(Curve(s, label, group_rows(design, ("cameras",)),
                             group_rows(full, ("shoppers",))))
    return out


def tracking_figure(curves: list[Curve], measured: bool) -> str:
    """HOTA (top) and IDF1 (bottom) against cameras (left, at each store's design crowd) and
    against the crowd (right, with the store's most cameras; ``measured``: the measured mean
    in store, else the target),
    one colour per curve: the mean over the runs at each point, bars min-max over them."""
    fig, axes = new_figure(10.0, 6.8, ncols=2, nrows=2)
    cols = colors(len(curves))
    for row, (metric, name) in enumerate(SCORES):
        ax_c, ax_s = axes[2 * row], axes[2 * row + 1]
        for cv, c in zip(curves, cols, strict=True):
            for ax, pts, x in ((ax_c, cv.cams, [g.mean("cameras") for g in cv.cams]),
                               (ax_s, cv.crowd, [g.mean("mean_in_store") if measured
                                                 else as_float(g.get("shoppers"))
                                                 for g in cv.crowd])):
                stats = [g.stat(metric) for g in pts]
                keep = [i for i, st in enumerate(stats) if st.n and math.isfinite(x[i])]
                if keep:
                    errorbar(ax, np.asarray(x)[keep], [stats[i] for i in keep], fmt="-o",
                             ms=5, lw=1.2, color=c, label=cv.label)
        for ax, xlabel in ((ax_c, "cameras (at each store's design crowd)"),
                           (ax_s, ("shoppers in store (measured mean)" if measured
                                   else "target shoppers in store") + ", most cameras")):
            _log_if_wide(ax)
            _percent_limits(ax)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(f"{name} [%]\n(mean, min-max over runs)")
    axes[0].set_title("against cameras", fontsize=10)
    axes[1].set_title("against the crowd", fontsize=10)
    if axes[1].get_legend_handles_labels()[0]:
        axes[1].legend(fontsize=7, loc="best")
    return svg_uri(fig)


def _percent_limits(ax, span: float = 5.0) -> None:
    """A y range of at least ``span`` percentage points (so a few tenths do not fill the
    panel), inside 0 - 100.5 %."""
    lo, hi = ax.get_ylim()
    if hi - lo < span:
        mid = (lo + hi) / 2
        lo, hi = mid - span / 2, mid + span / 2
    if hi > 100.5:
        lo, hi = lo - (hi - 100.5), 100.5
    ax.set_ylim(max(lo, 0.0), hi)


def _log_if_wide(ax) -> None:
    """A logarithmic x axis where the data spans more than a factor of 8."""
    lo, hi = np.inf, -np.inf
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        x = x[np.isfinite(x) & (x > 0)]
        if x.size:
            lo, hi = min(lo, x.min()), max(hi, x.max())
    if np.isfinite(lo) and hi > 8 * lo:
        ax.set_xscale("log")


def tracking_section(rows: list[dict], stores: list[str]) -> str:
    """Tracking against cameras and the crowd: the figure where some curve has two points,
    a table of every point, and what the study lacks for either curve."""
    out = ["<h2>Tracking against cameras and the crowd</h2>"]
    what = "tracking panel"
    if not _scored(crowd_rows(rows)):
        if not rows:
            return "".join(out) + nodata(no_finished_run(what))
        if not crowd_rows(rows):
            return "".join(out) + nodata(no_store_runs(what))
        return "".join(out) + nodata(
            f"No finished store run has a tracking score ({code('hota')}, {code('idf1')}: "
            f"rows of an older storetwin), so there is no {what}: run the study again into a "
            f"new results folder ({code('storetwin study FILE --out NEW')}).")
    curves = tracking_curves(rows, stores)
    measured = all(math.isfinite(as_float(r.get("mean_in_store")))
                   for cv in curves for g in cv.crowd for r in g.rows)
    out.append("<p>HOTA (higher-order tracking accuracy: the geometric mean of detection and "
               "association accuracy) and IDF1 (the F1 score of detections given their true "
               "identity) of the shoppers' floor tracks, per store (and core): against cameras "
               "at the store's design crowd (its largest), and against the crowd with its most "
               "cameras; runs without a fault schedule, with the fewest dead sensors. Each "
               "point is the mean over its runs; bars and the table's ranges are the min-max "
               "over them (seeds, and layouts or plate granularities that share the camera "
               "count). "
               "Both are mean scores, not shares of counted things, so they have no binomial "
               "interval.</p>")
    if _worth_drawing(curves):
        out.append(figure_html(tracking_figure(curves, measured), "tracking",
                               "HOTA and IDF1 against cameras (left, at each store's design "
                               "crowd) and the crowd (right, with each store's most cameras), "
                               "one line per store (and core); mean over the runs, bars "
                               "min-max over them.", "tracking vs cameras and crowd"))
    out.append(_tracking_table(rows, stores))
    out.append(_short_notes(curves, rows))
    return "".join(out)


def _worth_drawing(curves: list[Curve]) -> bool:
    """Some panel would have two points apart: two camera counts or two crowd levels, in
    one store or across stores."""
    cams = {as_float(g.get("cameras")) for cv in curves for g in cv.cams}
    crowd = {as_float(g.get("shoppers")) for cv in curves for g in cv.crowd}
    return len(cams) > 1 or len(crowd) > 1


def _score_cell(g: Group, metric: str) -> str:
    """A tracking score of a group as a percentage, with its min-max over several runs."""
    st = g.stat(metric)
    if not st.n:
        return "&ndash;"
    if st.n == 1:
        return f"{100 * st.mean:.1f}&nbsp;%"
    return f"{100 * st.mean:.1f}&nbsp;% ({100 * st.lo:.1f}&ndash;{100 * st.hi:.1f})"


def _tracking_table(rows: list[dict], stores: list[str]) -> str:
    """Every point of the figure: store, core, cameras and crowd, with HOTA, IDF1 and ID
    switches (mean and min-max over its runs)."""
    scored = _scored(crowd_rows(rows))
    body = []
    for s in stores:
        srows, _ = sound_rows([r for r in scored if str(r.get("store")) == s])
        for g in group_rows(srows, ("core", "cameras", "shoppers")):
            line = [esc(s), esc(g.get("core")), fmt_num(g.get("cameras"), ",.0f"),
                    fmt_num(g.get("shoppers"), ",.0f"), str(len(g.rows))]
            line += [_score_cell(g, m) for m, _ in SCORES]
            line.append(fmt_num(g.mean("id_switches"), ",.1f"))
            body.append(line)
    return table_html(["store", "core", "cameras", "shoppers", "runs", "HOTA (min-max)",
                       "IDF1 (min-max)", "ID switches (mean)"], body, "num")


def _short_notes(curves: list[Curve], rows: list[dict]) -> str:
    """What the study lacks for a curve: a second camera count, a second crowd level, a
    second seed (stores named together where several lack the same)."""
    notes = []
    one_cam = {cv.store: cv.cams[0].get("cameras") for cv in curves if len(cv.cams) == 1}
    if one_cam:
        srows = [r for r in crowd_rows(rows) if str(r.get("store")) in one_cam]
        ran = ", ".join(f"{esc(s)} at {fmt_num(c, ',.0f')}" for s, c in one_cam.items()
                        if present(c))
        notes.append(f"This study ran one camera count per store ({ran} cameras); a tracking "
                     f"curve against cameras needs at least two: {more_layouts(srows)}.")
    one_lv = {cv.store: as_float(cv.crowd[0].get("shoppers")) for cv in curves
              if len(cv.crowd) == 1}
    if one_lv:
        notes.append(one_crowd_level(one_lv, "a tracking curve against the crowd"))
    if all(len(g.rows) == 1 for cv in curves for g in cv.cams + cv.crowd):
        notes.append(one_seed("each point's min-max"))
    return "".join(nodata(n) for n in notes)
