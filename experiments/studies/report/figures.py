"""The report's figures: matplotlib (Agg) drawings of the study's results, each returned as a
``data:`` URI (SVG, text drawn as paths, ids salted, so the same results give the same
bytes), and the coverage heatmaps of chosen layouts (PNG).
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import numpy as np

from experiments.studies.report.analysis import (
    AUTOCHECKOUT_2020,
    SPEED_TARGETS,
    PowerLaw,
    StageProfile,
    StorePlan,
)
from experiments.studies.report.drawing import (
    ABOVE_FIRST,
    MARKERS,
    colors,
    errorbar,
    new_figure,
    place_labels,
    svg_uri,
    usd_formatter,
)
from experiments.studies.report.groups import (
    Group,
    as_float,
    group_label,
    group_rows,
    present,
)
from experiments.studies.report.intervals import pooled_count, rate_bars, rate_stat, row_count
from experiments.studies.report.markup import esc, fmt_usd
from experiments.studies.report.reading import store_for

# ---------------------------------------------------------------------------------------------
# accuracy against cost


def _legend_keys(plan: StorePlan) -> tuple[str, list[str], list[str], dict, dict]:
    """(what colours mean, its values, the cores, colour of each value, marker of each core)
    of a store's configurations: colour by layout while there are few, else by the
    generator that made it; a marker per core."""
    layouts = {str(g.get("layout")) for g in plan.configs}
    by = "layout" if len(layouts) <= 10 else "layout_generator"
    gens = sorted({str(g.get(by)) for g in plan.configs})
    cores = sorted({str(g.get("core")) for g in plan.configs})
    return (by, gens, cores, dict(zip(gens, colors(len(gens)))),
            {c: MARKERS[i % len(MARKERS)] for i, c in enumerate(cores)})


def _key_handles(gens: list[str], cores: list[str], col: dict, mk: dict) -> list:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=col[gname], marker="o", ls="", label=gname) for gname in gens]
    if len(cores) > 1:
        handles += [Line2D([], [], color="#555555", marker=mk[c], ls="", label=f"{c} core")
                    for c in cores]
    return handles


def cost_figure(plan: StorePlan, target: float) -> tuple[str, bool]:
    """(URI, whether the bars are intervals) of receipt exact match against hardware cost of
    a store's configurations (mean over seeds; bars the 95 % Wilson interval of the receipts
    pooled over them, else min-max over seeds: :func:`rate_bars`), coloured by layout (by
    generator when there are many), marked by core, with the Pareto frontier, the target and
    the cheapest configuration meeting it."""
    from matplotlib.lines import Line2D

    fig, (ax,) = new_figure(8.0, 4.8)
    by, gens, cores, col, mk = _legend_keys(plan)
    stats, interval = rate_bars(plan.configs, "exact_match")
    for g, x, st in zip(plan.configs, plan.cost, stats, strict=True):
        errorbar(ax, [x], [st], fmt=mk[str(g.get("core"))], ms=6, elinewidth=1,
                 color=col[str(g.get(by))], alpha=0.9)
    f = plan.frontier
    if f.size:
        ax.plot(plan.cost[f], 100 * plan.exact[f], drawstyle="steps-post", color="#333333",
                lw=1.2, zorder=1)
    ax.axhline(100 * target, color="#c0392b", ls="--", lw=1.2)
    if plan.chosen is not None:
        i = plan.chosen
        ax.scatter([plan.cost[i]], [100 * plan.exact[i]], marker="*", s=320, color="#f1c40f",
                   edgecolor="black", linewidths=0.8, zorder=5)
    else:
        ax.text(0.02, 0.04, f"no configuration meets {100 * target:.4g} %",
                transform=ax.transAxes, fontsize=9, color="#c0392b")
    if len(plan.cost) and plan.cost.max() > 10 * max(plan.cost.min(), 1e-9):
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(usd_formatter())
    lo = min(float(np.nanmin([st.lo for st in stats])), target)
    ax.set_ylim(max(0.0, 100 * lo - 5), 100.5 + 0.5)
    ax.set_xlabel("hardware cost (cameras, plates, install) [USD]")
    ax.set_ylabel("receipts exactly right [%]\n" + ("(mean over seeds; 95 % CI, receipts pooled)"
                                                     if interval else "(mean, min-max over seeds)"))
    ax.set_title(f"{plan.store}: accuracy vs cost at {plan.condition}", fontsize=10)
    handles = _key_handles(gens, cores, col, mk)
    handles += [Line2D([], [], color="#333333", lw=1.2, label="Pareto frontier"),
                Line2D([], [], color="#c0392b", ls="--", label=f"target {100 * target:.4g} %")]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    if plan.chosen is not None:
        i = plan.chosen
        place_labels(ax, [(plan.cost[i], 100 * plan.exact[i])],
                     [f"cheapest meeting target\n{plan.labels[i]}\n{fmt_usd(plan.cost[i])}, "
                      f"{100 * plan.exact[i]:.2f} %"],
                     avoid=list(zip(plan.cost, 100 * plan.exact)), clear_pt=9.0, fontsize=8,
                     bbox={"boxstyle": "round", "fc": "white", "ec": "#999999"})
    return svg_uri(fig), interval


def review_figure(plan: StorePlan) -> tuple[str, list[str]] | None:
    """Receipts sent to review per 1,000 issued against the number of cameras, one point per
    configuration of ``plan`` (mean over seeds; bars the 95 % Wilson interval of the counts
    pooled over them; coloured and marked as in :func:`cost_figure`), each labelled with its
    counts over the seeds ("8 of 36") where the label finds room (:func:`place_labels`).
    Returns (URI, the labels left out, as "configuration: 8 of 36"); None when no
    configuration has a review rate."""
    stats, interval = rate_bars(plan.configs, "review_per_1000")
    pts = [(g, lab, g.mean("cameras"), st) for g, lab, st in zip(plan.configs, plan.labels,
                                                                  stats, strict=True)]
    pts = [(g, lab, x, st) for g, lab, x, st in pts if st.n and math.isfinite(x)]
    if not pts:
        return None
    fig, (ax,) = new_figure(7.2, 4.8)
    by, gens, cores, col, mk = _legend_keys(plan)
    texts = []
    for g, _, x, st in pts:
        errorbar(ax, [x], [st], scale=1.0, fmt=mk[str(g.get("core"))], ms=6, elinewidth=1,
                 color=col[str(g.get(by))], alpha=0.9)
        c = pooled_count(g.rows, "review_per_1000")
        texts.append(f"{c.k} of {c.n}" if c is not None and c.n else "")
    xs = [x for _, _, x, _ in pts]
    pad = max(1.0, 0.08 * (max(xs) - min(xs)))
    ax.set_xlim(min(xs) - pad, max(xs) + 2.5 * pad)    # room for the labels on the right
    top = max(st.hi for *_, st in pts)
    ax.set_ylim(0, max(50.0, 1.15 * top))
    ax.set_xlabel("cameras")
    ax.set_ylabel("receipts sent to review per 1,000 issued\n" + (
        "(mean over seeds; 95 % CI, receipts pooled)" if interval
        else "(mean, min-max over seeds)"))
    ax.set_title(f"{plan.store}: review vs cameras at {plan.condition}", fontsize=10)
    ax.legend(handles=_key_handles(gens, cores, col, mk), fontsize=8, loc="upper left",
              bbox_to_anchor=(1.0, 1.0))
    keep = [i for i, t in enumerate(texts) if t]
    _, dropped = place_labels(ax, [(pts[i][2], pts[i][3].mean) for i in keep],
                              [texts[i] for i in keep], fontsize=8, color="#444444")
    return svg_uri(fig), [f"{pts[keep[j]][1]}: {texts[keep[j]]}" for j in dropped]


# ---------------------------------------------------------------------------------------------
# accuracy against the crowd


def counted_everywhere(rows: list[dict], rate: str) -> bool:
    """Every run of ``rows`` with ``rate`` has the count behind it (so a figure's bars can all
    be 95 % intervals)."""
    return any(math.isfinite(as_float(r.get(rate))) for r in rows) and all(
        row_count(r, rate) is not None for r in rows if math.isfinite(as_float(r.get(rate))))


def crowd_figure(store: str, lines: list[Group], var: tuple[str, ...]) -> tuple[str, bool] | None:
    """(URI, whether the exact-match bars are intervals) of receipt exact match and F1
    against the crowd at ``store``, one line per group of ``lines`` (labelled by its ``var``
    parameters): the mean over seeds, exact match with the 95 % Wilson interval of the
    receipts pooled over them where every run has its count (else min-max), F1 (a mean
    score, no count) with min-max. None when no line has a scored point."""
    fig, axes = new_figure(10.0, 4.0, ncols=2)
    measured = all(math.isfinite(as_float(r.get("mean_in_store")))
                   for g in lines for r in g.rows)
    interval = counted_everywhere([r for g in lines for r in g.rows], "exact_match")
    cols = colors(len(lines))
    drawn = False
    for metric, ax in zip(("exact_match", "f1"), axes):
        for g, c in zip(lines, cols):
            pts = group_rows(g.rows, ("shoppers",))
            x = np.array([p.mean("mean_in_store") if measured else as_float(p.get("shoppers"))
                          for p in pts])
            stats = [rate_stat(p, metric)[0] if metric == "exact_match" and interval
                     else p.stat(metric) for p in pts]
            keep = [i for i, st in enumerate(stats) if st.n]
            if not keep:
                continue
            drawn = True
            errorbar(ax, x[keep], [stats[i] for i in keep], fmt="-o", ms=4, lw=1.2,
                     color=c, label=group_label(g, var))
        ax.set_xlabel("shoppers in store (measured mean)" if measured
                      else "target shoppers in store")
        bars = ("95 % CI, receipts pooled" if metric == "exact_match" and interval
                else "min-max over seeds")
        ax.set_ylabel(("receipts exactly right" if metric == "exact_match"
                       else "receipt F1") + f" [%]\n(mean over seeds; {bars})")
        ax.set_title(f"{store}: {'exact match' if metric == 'exact_match' else 'F1'}",
                     fontsize=10)
    if not drawn:
        return None
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return svg_uri(fig), interval


# ---------------------------------------------------------------------------------------------
# speed against store size


def scale_figure(have: list[dict], crowd: list[dict], names: list[str],
                 fits: dict[str, PowerLaw | None]) -> str:
    """Real-time factor and core time per camera frame against store area, one point per
    run of ``have`` coloured by store (``names``, in order), with the growth laws ``fits``
    and the speed targets (at the mean area of their store's runs in ``crowd``)."""
    col = dict(zip(names, colors(len(names))))
    area = np.array([as_float(r.get("area_sqft")) for r in have])
    fig, axes = new_figure(10.0, 4.2, ncols=2)
    targets: list = []
    for metric, ax, ylabel in (
            ("real_time_factor", axes[0], "real-time factor [x]"),
            ("core_ms_per_tick", axes[1], "core time per camera frame [ms]")):
        y = np.array([as_float(r.get(metric)) for r in have])
        for s in names:
            m = np.array([str(r.get("store")) == s for r in have]) & np.isfinite(y) & (y > 0)
            if m.any():
                ax.scatter(area[m], y[m], s=22, color=col[s], label=s, zorder=3)
        fit = fits[metric]
        if fit is not None:
            xs = np.geomspace(area[np.isfinite(area) & (area > 0)].min(),
                              area[np.isfinite(area) & (area > 0)].max(), 50)
            unit = "x" if metric == "real_time_factor" else " ms"
            ax.plot(xs, fit(xs), color="#333333", lw=1.2, ls="-",
                    label=f"fit: {fit.a:.3g}{unit} * area^{fit.b:.2f}  (R2 {fit.r2:.2f})")
        if metric == "real_time_factor":
            targets = _speed_target_marks(ax, crowd)
        # log-log where the data spans sizes (or the targets stretch the axis), else linear
        yy = y[np.isfinite(y) & (y > 0)]
        if yy.size and (np.unique(area).size > 1 or metric == "real_time_factor"):
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel("store area [sq ft]")
        ax.set_ylabel(ylabel)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
    rtf = np.array([as_float(r.get("real_time_factor")) for r in have])
    place_labels(axes[0], [xy for xy, _ in targets], [t for _, t in targets],
                 avoid=[(a, v) for a, v in zip(area, rtf, strict=True) if v > 0],
                 clear_pt=11.0, offsets=ABOVE_FIRST, fontsize=7, color="#c0392b")
    return svg_uri(fig)


def _speed_target_marks(ax, crowd: list[dict]) -> list[tuple[tuple[float, float], str]]:
    """Real time (1x) and each of :data:`SPEED_TARGETS` at the mean area of its store's runs
    in ``crowd``, on the real-time-factor axes; returns the targets' labels, (where, text),
    for :func:`place_labels`."""
    out = []
    ax.axhline(1.0, color="#c0392b", ls="--", lw=1.2, label="real time (1x)")
    for t in SPEED_TARGETS:
        a = [as_float(r.get("area_sqft")) for r in crowd if str(r.get("store")) == t.store]
        a = [v for v in a if math.isfinite(v)]
        if a:
            ax.scatter([float(np.mean(a))], [t.min_rtf], marker="_", s=400, lw=2,
                       color="#c0392b", zorder=4)
            out.append(((float(np.mean(a)), t.min_rtf), f"{t.store} target {t.min_rtf:g}x"))
    return out


def stage_figure(prof: StageProfile) -> str:
    """The stage profile as stacked shares of the wall time per group, each labelled with its
    wall seconds per simulated second and its real-time factor (the measured one, else one
    over the stages' sum)."""
    groups, stages, total, share = prof.groups, prof.stages, prof.total, prof.share
    fig, (ax,) = new_figure(max(6.0, 1.0 + 0.9 * len(groups)), 4.4)
    cols = colors(len(stages))
    bottom = np.zeros(len(groups))
    xs = np.arange(len(groups))
    for j, s in enumerate(stages):
        ax.bar(xs, 100 * share[:, j], bottom=100 * bottom, color=cols[j], label=s, width=0.7)
        bottom += share[:, j]
    # with the core in its own process the stages sum to more than the wall time, so the
    # label's real-time factor is the measured one
    for i, g in enumerate(groups):
        rtf = np.array([as_float(r.get("real_time_factor")) for r in g.rows])
        rtf = float(rtf[np.isfinite(rtf)].mean()) if np.isfinite(rtf).any() else (
            1.0 / total[i] if total[i] > 0 else float("nan"))
        core = ", core ||" if prof.overlap[i] else ""
        ax.text(xs[i], 101, f"{total[i]:.3g} s/s\n({rtf:,.3g}x{core})",
                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs, prof.labels, rotation=20 if len(groups) > 3 else 0, ha="right"
                  if len(groups) > 3 else "center", fontsize=8)
    ax.set_ylim(0, 118)
    ax.set_ylabel("share of wall time per simulated second [%]")
    ax.set_title("where the time goes (label: wall seconds per simulated second)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return svg_uri(fig)


# ---------------------------------------------------------------------------------------------
# fidelity


def fidelity_figure(per_shelf: list[dict], metric: str, mname: str) -> tuple[str, bool]:
    """(URI, whether the bars are intervals) of ``metric`` (named ``mname``) of the
    scripted-scenario runs ``per_shelf`` against shoppers at one shelf, per core, beside the
    AutoCheckout 2020 published figures: the mean over scenarios and seeds, bars the 95 %
    Wilson interval of the pooled receipts for exact match where every run has its count,
    else min-max."""
    fig, (ax,) = new_figure(7.0, 4.2)
    interval = metric == "exact_match" and counted_everywhere(per_shelf, metric)
    cores = [g for g in group_rows(per_shelf, ("core",))]
    cols = colors(len(cores) + 1)
    for k, g in enumerate(cores):
        pts = group_rows(g.rows, ("shoppers_per_shelf",))
        x = np.array([as_float(p.get("shoppers_per_shelf")) for p in pts]) + 0.06 * (k + 1)
        stats = [rate_stat(p, metric)[0] if interval else p.stat(metric) for p in pts]
        keep = [i for i, s in enumerate(stats) if s.n]
        if keep:
            errorbar(ax, x[keep], [stats[i] for i in keep], fmt="-o", ms=5, lw=1.2,
                     color=cols[k], label=f"{g.get('core')} core")
    pub = "#7f7f7f"
    for x, lo, hi, what in AUTOCHECKOUT_2020:
        if hi > lo:     # a spread across teams: a band
            ax.fill_between([x - 0.16, x + 0.04], 100 * lo, 100 * hi, color=pub, alpha=0.18,
                            lw=0)
        else:
            ax.scatter([x - 0.06], [100 * lo], marker="D", s=40, facecolor="white",
                       edgecolor=pub, linewidths=1.5, zorder=4)
        ax.annotate(what, (x - 0.06, 100 * hi), xytext=(0, 6), textcoords="offset points",
                    fontsize=7, color="#555555", ha="center")
    ax.scatter([], [], marker="D", s=40, facecolor="white", edgecolor=pub,
               label="AutoCheckout 2020 (published F1)")
    ax.set_xticks(sorted({int(as_float(r.get("shoppers_per_shelf"))) for r in per_shelf}
                         | {a[0] for a in AUTOCHECKOUT_2020}))
    ax.set_ylim(-5, 112)
    ax.set_xlabel("shoppers at one shelf")
    ax.set_ylabel(f"{mname} [%]")
    ax.set_title(f"{mname} against shoppers per shelf", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return svg_uri(fig), interval


# ---------------------------------------------------------------------------------------------
# what the store learns

#: the visits per account at which taste recovery is reported (``pref_rho_<source>_v<n>``)
INSIGHT_VISITS = (1, 2, 4, 8)


def insights_figure(ins: list[dict], groups: list[Group], varying: tuple[str, ...]) -> str:
    """Taste recovery against visits per account, from the journeys and from the till, one
    panel per look taste of the runs ``ins``, one colour per group of ``groups`` (labelled by
    its ``varying`` parameters but the look taste)."""
    tastes = sorted({as_float(r.get("look_taste")) for r in ins}, key=lambda v: (v != v, v))
    fig, axes = new_figure(4.6 * len(tastes), 3.8, ncols=len(tastes))
    cols = colors(len(groups) + 1)
    for ax, taste in zip(axes, tastes, strict=True):
        for k, g in enumerate(groups):
            gt = as_float(g.get("look_taste"))
            if not (gt == taste or (gt != gt and taste != taste)):
                continue
            for src, style in (("journeys", "-o"), ("receipts", "--s")):
                stats = [g.stat(f"pref_rho_{src}_v{v}") for v in INSIGHT_VISITS]
                keep = [i for i, st in enumerate(stats) if st.n]
                if keep:
                    lab = group_label(g, tuple(p for p in varying if p != "look_taste"))
                    errorbar(ax, np.array(INSIGHT_VISITS, dtype=float)[keep],
                             [stats[i] for i in keep], scale=1.0, fmt=style, ms=4, lw=1.2,
                             color=cols[k], label=f"{src}, {lab}")
        ax.axhline(0.0, color="#999999", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xticks(INSIGHT_VISITS, [str(v) for v in INSIGHT_VISITS])
        ax.set_xlabel("visits per account used")
        ax.set_ylabel("taste recovery (Spearman rho)")
        ax.set_title(f"look taste {taste:g}" if taste == taste else "", fontsize=10)
        ax.set_ylim(-0.5, 1.0)
        ax.legend(fontsize=7, loc="upper left")
    return svg_uri(fig)


# ---------------------------------------------------------------------------------------------
# coverage heatmaps


def heatmap_uri(results_dir: Path | None, g: Group, label: str, cell_m: float | None
                ) -> tuple[str | None, str]:
    """(data URI or None, note) of the coverage heatmap of a configuration's layout."""
    from scenes.presets import load_store
    from twin.coverage import coverage, heatmap_png
    from twin.layout_toml import load_layout

    rel = g.get("layout_file")
    if not present(rel):
        return None, "no layout file recorded for it"
    if results_dir is None:
        return None, "no results folder to find its layout file in"
    lf = results_dir / str(rel)
    if not lf.is_file():
        return None, f"its layout file {esc(rel)} is not in the results folder"
    ref = store_for(results_dir, g)
    if ref is None:
        return None, f"its store {esc(g.get('store_ref') or g.get('store'))} was not found"
    try:
        store = load_store(ref)
        layout = load_layout(lf, store)
        cell = cell_m or (0.25 if store.area_sqft <= 12_000 else 0.5)
        rep = coverage(store, layout, cell=cell)
        buf = io.BytesIO()
        heatmap_png(store, rep, buf, cameras=layout, dpi=80, title=f"{store.name}: {label}")
    except (OSError, ValueError) as e:
        return None, f"cannot draw it: {esc(e)}"
    note = f" (floor sampled every {cell:g} m)"
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), note
