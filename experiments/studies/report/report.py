"""A capacity-planning study's results as one self-contained HTML page (``storetwin report``).

``write_report(results_dir)`` reads the study's results table (one row per run: parameters,
billing, tracking, throughput, stage profile, coverage and cost; see ``experiments/studies/study.py``)
and writes ``report.html``: accuracy against hardware cost with its Pareto frontier and the
cheapest configuration that meets the exact-receipt target, accuracy against the crowd,
speed against store size with a fitted growth law and the stage that dominates, fidelity
against the AutoCheckout 2020 figures, coverage heatmaps of the chosen layouts and a table of
every run.

The page needs nothing outside itself: figures are matplotlib (Agg) SVG and PNG embedded as
``data:`` URIs, the style is inline CSS, and there is no script. Sections without data say so
in one line. The same results give the same bytes (SVG ids salted, no dates written besides
the data's own).

Words used below: a **configuration** is a set of runs that share every parameter but the
seed; the **design crowd** of a store is the largest target crowd among its sampled-crowd runs,
with the fewest dead sensors, where the cost frontier is drawn.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from experiments.studies.study import (
    TARGET_EXACT as DEFAULT_TARGET,  # mean exact-match goal (0.995)
)

# Parameters that make a configuration (all but the seed), in the order labels use them.
PARAMS: tuple[str, ...] = (
    "store", "store_ref", "layout", "layout_generator", "layout_param", "layout_model",
    "layout_file", "bins_per_plate", "core", "shoppers", "minutes", "warm_start",
    "dead_camera_fraction", "dead_plate_fraction", "scenario", "shoppers_per_shelf", "panel",
    "look_taste")
# Known stage columns (``stage_<name>_s``) in pipeline order; others follow alphabetically.
STAGE_ORDER: tuple[str, ...] = ("setup", "agents", "physics", "plates", "cameras", "gate",
                                "core", "other")


@dataclass(frozen=True)
class SpeedTarget:
    """A throughput goal: ``store`` at about ``shoppers`` in store runs at least
    ``min_rtf`` times real time."""

    store: str
    shoppers: float
    min_rtf: float


SPEED_TARGETS: tuple[SpeedTarget, ...] = (SpeedTarget("kiosk", 20, 200.0),
                                          SpeedTarget("supercenter", 600, 1.0))

# AiFi AutoCheckout 2020 published receipt F1 against shoppers at one shelf: a single shopper
# ~1.0, the two-person swap 0.33, three people 0.0 - 0.91 across teams.
AUTOCHECKOUT_2020: tuple[tuple[int, float, float, str], ...] = (
    (1, 1.0, 1.0, "single shopper"), (2, 0.33, 0.33, "two-person swap"),
    (3, 0.0, 0.91, "three people"))

_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")


class ReportError(ValueError):
    """The results cannot be reported: a missing folder, no runs, an unreadable file."""


# ---------------------------------------------------------------------------------------------
# the math


def pareto_frontier(cost, accuracy) -> np.ndarray:
    """(k,) int64 indices of the non-dominated points, by cost ascending: a point is on the
    frontier when every cheaper point is less accurate (at equal cost the most accurate one
    stands). cost: (n,) float [USD]; accuracy: (n,) float; points with a nan are left out."""
    c = np.asarray(cost, dtype=np.float64).reshape(-1)
    a = np.asarray(accuracy, dtype=np.float64).reshape(-1)
    if c.shape != a.shape:
        raise ValueError(f"cost has {c.size} points, accuracy {a.size}")
    ok = np.flatnonzero(np.isfinite(c) & np.isfinite(a))
    order = ok[np.lexsort((ok, -a[ok], c[ok]))]     # cost up, accuracy down, index up
    keep = []
    best = -np.inf
    for i in order:
        if a[i] > best:
            keep.append(i)
            best = a[i]
    return np.asarray(keep, dtype=np.int64)


def cheapest_meeting(cost, accuracy, target: float) -> int | None:
    """Index of the cheapest point whose accuracy is at least ``target`` (the more accurate
    one at equal cost, then the lower index), or None when none is."""
    c = np.asarray(cost, dtype=np.float64).reshape(-1)
    a = np.asarray(accuracy, dtype=np.float64).reshape(-1)
    ok = np.flatnonzero(np.isfinite(c) & np.isfinite(a) & (a >= target))
    if ok.size == 0:
        return None
    return int(ok[np.lexsort((ok, -a[ok], c[ok]))[0]])


@dataclass(frozen=True)
class PowerLaw:
    """y = a * x ** b, fitted by least squares on (log x, log y) over n points; r2 is the
    coefficient of determination in log space (nan when log y does not vary)."""

    a: float
    b: float
    r2: float
    n: int

    def __call__(self, x) -> np.ndarray:
        return self.a * np.asarray(x, dtype=np.float64) ** self.b


def fit_power_law(x, y) -> PowerLaw | None:
    """Fit y = a x^b to the points with x > 0 and y > 0 (both finite); None with fewer than
    two distinct x. x, y: (n,) float."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[ok]), np.log(y[ok])
    if np.unique(lx).size < 2:
        return None
    b, loga = np.polyfit(lx, ly, 1)
    resid = ly - (loga + b * lx)
    ss = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss if ss > 0 else float("nan")
    return PowerLaw(float(np.exp(loga)), float(b), r2, int(ok.sum()))


# ---------------------------------------------------------------------------------------------
# rows and configurations


def _f(v) -> float:
    """A cell as float: None (and non-numbers) as nan."""
    if v is None or isinstance(v, str):
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _sort_key(v) -> tuple:
    """Orders cells of mixed kinds: numbers, then strings, then missing."""
    if not _present(v):
        return (2, 0.0, "")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, float(v), "")
    return (1, 0.0, str(v))


@dataclass(frozen=True)
class Stat:
    """A metric over the runs of a group: mean, min, max of the finite values, n of them."""

    mean: float
    lo: float
    hi: float
    n: int


class Group:
    """Runs that share the values of some parameters (``key``: (name, value) pairs)."""

    def __init__(self, key: tuple[tuple[str, object], ...], rows: list[dict]) -> None:
        self.key = key
        self.rows = rows

    def get(self, name: str):
        return dict(self.key).get(name, self.rows[0].get(name) if self.rows else None)

    def stat(self, metric: str) -> Stat:
        v = np.array([_f(r.get(metric)) for r in self.rows])
        v = v[np.isfinite(v)]
        if v.size == 0:
            nan = float("nan")
            return Stat(nan, nan, nan, 0)
        return Stat(float(v.mean()), float(v.min()), float(v.max()), int(v.size))

    def mean(self, metric: str) -> float:
        return self.stat(metric).mean


def group_rows(rows: list[dict], params: tuple[str, ...]) -> list[Group]:
    """Groups of ``rows`` with equal values of ``params`` (missing columns read as None),
    ordered by those values."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(p) for p in params), []).append(r)
    keys = sorted(groups, key=lambda k: tuple(_sort_key(v) for v in k))
    return [Group(tuple(zip(params, k)), groups[k]) for k in keys]


def configurations(rows: list[dict], columns: set[str] | None = None) -> list[Group]:
    """The configurations of ``rows``: groups over every parameter in :data:`PARAMS` (that
    ``columns`` has, when given) but the seed."""
    params = PARAMS if columns is None else tuple(p for p in PARAMS if p in columns)
    return group_rows(rows, params)


def _fmt_param(name: str, v) -> str:
    if not _present(v):
        return f"no {name}"
    if name == "core":
        return f"{v} core"
    if name == "bins_per_plate":
        return f"{int(v)} bin/plate" if int(v) == 1 else f"{int(v)} bins/plate"
    if name == "shoppers":
        return f"{_f(v):g} shoppers"
    if name == "minutes":
        return f"{_f(v):g} min"
    if name == "warm_start":
        return "warm start" if v else "cold start"
    if name == "dead_camera_fraction":
        return f"{100 * _f(v):g} % cameras dead"
    if name == "dead_plate_fraction":
        return f"{100 * _f(v):g} % plates dead"
    if name == "shoppers_per_shelf":
        return f"{int(v)} per shelf"
    if name == "layout_param":
        return f"{_f(v):g}"
    if name == "panel":
        return f"panel of {int(v)}"
    if name == "look_taste":
        return f"look taste {_f(v):g}"
    return str(v)


def _varying(groups: list[Group], params: tuple[str, ...]) -> tuple[str, ...]:
    """The ``params`` whose value differs between ``groups``; the layout's generator,
    parameter, model and file only when its label does not tell the groups apart, and the
    store's ref only when its name does not."""
    out = [p for p in params
           if len({repr(g.get(p)) for g in groups}) > 1]
    if "layout" in out:
        out = [p for p in out if p not in ("layout_generator", "layout_param", "layout_model",
                                           "layout_file")]
    if "store" in out:
        out = [p for p in out if p != "store_ref"]
    return tuple(out)


def _label(g: Group, varying: tuple[str, ...], always: tuple[str, ...] = ("layout",)) -> str:
    """The group's values of the ``varying`` parameters (and of ``always`` when present)."""
    parts = [_fmt_param(p, g.get(p)) for p in PARAMS
             if p in varying or (p in always and _present(g.get(p)))]
    return ", ".join(parts) if parts else "all runs"


# ---------------------------------------------------------------------------------------------
# reading


def read_results(results_dir: str | Path) -> pa.Table:
    """The results table of a study folder (:func:`experiments.studies.study.load_results`: the
    finished ``results.parquet``, else the ``runs/*.parquet`` so far), checked to hold runs.
    Raises :class:`ReportError` naming the path when there is no folder, no results or an
    unreadable file."""
    from experiments.studies.study import ResultsError, load_results

    d = Path(results_dir)
    if d.exists() and not d.is_dir():
        raise ReportError(f"{d}: not a folder; expected the results folder a 'storetwin "
                          f"study' wrote (results.parquet or runs/*.parquet)")
    try:
        table = load_results(d)
    except ResultsError as e:
        raise ReportError(str(e)) from None
    src = d / "results.parquet" if (d / "results.parquet").is_file() else d / "runs"
    missing = [c for c in ("run_id", "status") if c not in table.column_names]
    if missing:
        raise ReportError(f"{src}: no column {', '.join(map(repr, missing))}; expected the "
                          f"rows a 'storetwin study' writes (run_id, status, parameters, "
                          f"metrics)")
    if table.num_rows == 0:
        raise ReportError(f"{src}: holds no runs yet; expected at least one row")
    return table


@dataclass(frozen=True)
class StudyInfo:
    """What the report takes from the study's files in the results folder.

    name, description: the study's (name None: from the rows); target: mean exact-match
    goal; metrics: columns the run table shows first; coverage_cell_m: floor grid of the
    coverage heatmaps [m] (None: 0.25 m up to 12,000 sq ft, 0.5 m above, as the study
    measured); prices: the price table the study costed with (``prices.json``), or None."""

    name: str | None = None
    description: str = ""
    target: float = DEFAULT_TARGET
    metrics: tuple[str, ...] = ()
    coverage_cell_m: float | None = None
    prices: dict | None = None


def read_study_info(results_dir: str | Path) -> StudyInfo:
    """The :class:`StudyInfo` of ``results_dir/study.toml`` and ``prices.json`` (defaults
    without them). Raises :class:`ReportError` for an unreadable file or a ``target_exact``
    outside (0, 1]."""
    d = Path(results_dir)
    p = d / "study.toml"
    doc: dict = {}
    if p.is_file():
        try:
            doc = tomllib.loads(p.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ReportError(f"{p}: cannot read the study file ({e})") from None
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    desc = doc.get("description") if isinstance(doc.get("description"), str) else ""
    target = (_check_target(doc["target_exact"], f"{p}: target_exact")
              if "target_exact" in doc else DEFAULT_TARGET)
    m = doc.get("metrics", [])
    metrics = tuple(x for x in (m if isinstance(m, list) else [m]) if isinstance(x, str))
    cell = _f(doc.get("coverage_cell_m"))
    prices = None
    pp = d / "prices.json"
    if pp.is_file():
        try:
            prices = json.loads(pp.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ReportError(f"{pp}: cannot read the price table ({e})") from None
        if not isinstance(prices, dict):
            raise ReportError(f"{pp}: expected a JSON object (the study's price table)")
    return StudyInfo(name, desc, target, metrics, cell if cell > 0 else None, prices)


def _check_target(target, what: str) -> float:
    t = _f(target)
    if isinstance(target, bool) or not 0 < t <= 1:
        raise ReportError(f"{what} = {target!r} is not allowed; expected a fraction in (0, 1] "
                          f"(0.995: 99.5 % of receipts exactly right)")
    return t


def write_report(results_dir: str | Path, out_html: str | Path | None = None,
                 target: float | None = None) -> Path:
    """Write the HTML report of the study in ``results_dir`` to ``out_html`` (default
    ``results_dir/report.html``) and return its path.

    target: the mean exact-receipt rate a configuration must reach (a fraction); default the
    study file's top-level ``target_exact``, else :data:`DEFAULT_TARGET`. Raises
    :class:`ReportError` for a missing folder, no results, an unreadable results or study
    file, a target outside (0, 1] or an output that cannot be written.
    """
    d = Path(results_dir)
    table = read_results(d)
    info = read_study_info(d)
    if target is not None:
        info = replace(info, target=_check_target(target, "target"))
    page = render_html(table, d, info)
    out = Path(out_html) if out_html is not None else d / "report.html"
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out)
    except OSError as e:
        raise ReportError(f"{out}: cannot write the report ({e.strerror or e})") from None
    return out


# ---------------------------------------------------------------------------------------------
# figures


def _figure(w: float, h: float, ncols: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig, axes


def _svg_uri(fig) -> str:
    """The figure as a ``data:image/svg+xml`` URI; text drawn as paths, ids salted so the same
    figure gives the same bytes."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "storetwin-report", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(uri: str, name: str, caption: str, alt: str) -> str:
    return (f'<figure><img data-figure="{html.escape(name)}" alt="{html.escape(alt)}" '
            f'src="{uri}"><figcaption>{caption}</figcaption></figure>')


def _colors(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _errorbar(ax, x, g_stats: list[Stat], scale: float = 100.0, **kw):
    y = np.array([s.mean for s in g_stats]) * scale
    lo = np.array([s.lo for s in g_stats]) * scale
    hi = np.array([s.hi for s in g_stats]) * scale
    ax.errorbar(x, y, yerr=np.vstack([y - lo, hi - y]), capsize=3, **kw)


# ---------------------------------------------------------------------------------------------
# formatting


def _esc(v) -> str:
    return html.escape(str(v))


def _pct(v, nd: int = 1) -> str:
    x = _f(v)
    return "&ndash;" if not math.isfinite(x) else f"{100 * x:.{nd}f}&nbsp;%"


def _target(t: float) -> str:
    """A target percentage with the digits it has: 99.5 %, 99.99 %, 90 %."""
    return f"{100 * t:.4g}&nbsp;%"


def _usd(v) -> str:
    x = _f(v)
    return "&ndash;" if not math.isfinite(x) else f"${x:,.0f}"


def _num(v, fmt: str = ",.3g") -> str:
    x = _f(v)
    return "&ndash;" if not math.isfinite(x) else format(x, fmt)


def _cell(v) -> str:
    if not _present(v):
        return "&ndash;"
    if isinstance(v, float):
        return f"{v:,.4g}"
    return _esc(v)


def _table(head: list[str], rows: list[list[str]], cls: str = "", row_cls: list[str] | None = None
           ) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = []
    for i, r in enumerate(rows):
        c = f' class="{row_cls[i]}"' if row_cls and row_cls[i] else ""
        body.append(f"<tr{c}>" + "".join(f"<td>{x}</td>" for x in r) + "</tr>")
    cl = f' class="{cls}"' if cls else ""
    return f"<table{cl}><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _nodata(text: str) -> str:
    return f'<p class="nodata">{text}</p>'


# ---------------------------------------------------------------------------------------------
# the study per store


@dataclass
class StorePlan:
    """The cost frontier of one store at its design crowd."""

    store: str
    area_sqft: float
    condition: str                 # e.g. "20 shoppers, no dead sensors"
    configs: list[Group]           # at the design crowd, with finite cost and exact match
    labels: list[str]
    cost: np.ndarray               # (k,) mean cost_total_usd [USD]
    exact: np.ndarray              # (k,) mean exact_match
    frontier: np.ndarray           # indices into configs
    chosen: int | None             # cheapest meeting the target
    best: int | None               # most accurate (when none meets the target)
    unscored: int                  # configurations at the design crowd without exact match


def _store_order(rows: list[dict]) -> list[str]:
    """The stores named in ``rows``, smallest first."""
    area: dict[str, float] = {}
    for r in rows:
        if not _present(r.get("store")):
            continue
        s = str(r.get("store"))
        a = _f(r.get("area_sqft"))
        area[s] = a if math.isfinite(a) else area.get(s, float("inf"))
    return sorted(area, key=lambda s: (area[s], s))


def _crowd_rows(rows: list[dict]) -> list[dict]:
    """Sampled-crowd runs (no scripted scenario)."""
    return [r for r in rows if not _present(r.get("scenario"))]


def _store_plan(store: str, rows: list[dict], columns: set[str], target: float
                ) -> StorePlan | None:
    rows = [r for r in _crowd_rows(rows) if str(r.get("store")) == store]
    if not rows:
        return None
    cond = []
    for p in ("dead_camera_fraction", "dead_plate_fraction"):
        v = [_f(r.get(p)) for r in rows if math.isfinite(_f(r.get(p)))]
        if v:
            m = min(v)
            rows = [r for r in rows if _f(r.get(p)) == m or not math.isfinite(_f(r.get(p)))]
            if m > 0:
                cond.append(_fmt_param(p, m))
    sh = [_f(r.get("shoppers")) for r in rows if math.isfinite(_f(r.get("shoppers")))]
    if sh:
        rows = [r for r in rows if _f(r.get("shoppers")) == max(sh)]
        cond.insert(0, _fmt_param("shoppers", max(sh)))
    if not any(c.endswith("dead") for c in cond):
        cond.append("no dead sensors")
    groups = configurations(rows, columns)
    scored = [g for g in groups if math.isfinite(g.mean("exact_match"))
              and math.isfinite(g.mean("cost_total_usd"))]
    var = _varying(scored, PARAMS)
    labels = [_label(g, var) for g in scored]
    cost = np.array([g.mean("cost_total_usd") for g in scored])
    exact = np.array([g.mean("exact_match") for g in scored])
    area = _f(rows[0].get("area_sqft"))
    chosen = cheapest_meeting(cost, exact, target)
    best = None
    if chosen is None and len(scored):
        best = int(np.lexsort((np.arange(len(scored)), cost, -exact))[0])
    return StorePlan(store, area, ", ".join(cond), scored, labels, cost, exact,
                     pareto_frontier(cost, exact), chosen, best, len(groups) - len(scored))


def _cost_figure(plan: StorePlan, target: float) -> str:
    from matplotlib.lines import Line2D

    fig, (ax,) = _figure(8.0, 4.8)
    # colour by layout while there are few, else by the generator that made it
    layouts = {str(g.get("layout")) for g in plan.configs}
    by = "layout" if len(layouts) <= 10 else "layout_generator"
    gens = sorted({str(g.get(by)) for g in plan.configs})
    cores = sorted({str(g.get("core")) for g in plan.configs})
    col = dict(zip(gens, _colors(len(gens))))
    mk = {c: _MARKERS[i % len(_MARKERS)] for i, c in enumerate(cores)}
    for g, x in zip(plan.configs, plan.cost):
        st = g.stat("exact_match")
        _errorbar(ax, [x], [st], fmt=mk[str(g.get("core"))], ms=6, elinewidth=1,
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
        ax.annotate(f"cheapest meeting target\n{plan.labels[i]}\n{_usd(plan.cost[i])}, "
                    f"{100 * plan.exact[i]:.2f} %",
                    (plan.cost[i], 100 * plan.exact[i]), xytext=(12, -30),
                    textcoords="offset points", fontsize=8,
                    arrowprops={"arrowstyle": "-", "color": "#555555"},
                    bbox={"boxstyle": "round", "fc": "white", "ec": "#999999"})
    else:
        ax.text(0.02, 0.04, f"no configuration meets {100 * target:.4g} %",
                transform=ax.transAxes, fontsize=9, color="#c0392b")
    if len(plan.cost) and plan.cost.max() > 10 * max(plan.cost.min(), 1e-9):
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(_usd_formatter())
    lo = min(float(np.nanmin([g.stat("exact_match").lo for g in plan.configs])), target)
    ax.set_ylim(max(0.0, 100 * lo - 5), 100.5 + 0.5)
    ax.set_xlabel("hardware cost (cameras, plates, install) [USD]")
    ax.set_ylabel("receipts exactly right [%]  (mean, min-max over seeds)")
    ax.set_title(f"{plan.store}: accuracy vs cost at {plan.condition}", fontsize=10)
    handles = [Line2D([], [], color=col[gname], marker="o", ls="", label=gname) for gname in gens]
    if len(cores) > 1:
        handles += [Line2D([], [], color="#555555", marker=mk[c], ls="", label=f"{c} core")
                    for c in cores]
    handles += [Line2D([], [], color="#333333", lw=1.2, label="Pareto frontier"),
                Line2D([], [], color="#c0392b", ls="--", label=f"target {100 * target:.4g} %")]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    return _svg_uri(fig)


def _usd_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"${v:,.0f}")


def _prices_table(prices: dict | None) -> str:
    """The study's price table (``prices.json``), as the costs above were computed with."""
    if not prices:
        return ""
    body = []
    cams = prices.get("cameras")
    for model, usd in (sorted(cams.items()) if isinstance(cams, dict) else []):
        body.append([f"camera {_esc(model)}", _num(usd, ",.2f")])
    for key, what in (("plate_usd", "load-cell plate"),
                      ("install_per_camera_usd", "installation per camera"),
                      ("install_per_plate_usd", "installation per plate")):
        if key in prices:
            body.append([what, _num(prices[key], ",.2f")])
    if not body:
        return ""
    return ('<details open><summary>Prices used (planning assumptions, <code>prices.json</code>)'
            '</summary>' + _table(["item", "USD"], body, "num") + "</details>")


def _cost_section(plans: list[StorePlan], rows: list[dict], columns: set[str],
                  target: float, prices: dict | None = None) -> str:
    out = ["<h2>Accuracy against hardware cost</h2>",
           f"<p>One point per configuration (all parameters but the seed) at each store's "
           f"design crowd; error bars span the seeds. The frontier is the most accurate "
           f"configuration for the money; the target is {_target(target)} of receipts exactly "
           f"right on average. Cost: cameras, load-cell plates and their installation.</p>",
           _prices_table(prices)]
    if not plans:
        return "".join(out) + _nodata("no data: no finished sampled-crowd runs")
    for p in plans:
        out.append(f"<h3>{_esc(p.store)}</h3>")
        if not p.configs:
            out.append(_nodata(f"no data: no configuration of {_esc(p.store)} at "
                               f"{_esc(p.condition)} has both a scored receipt and a cost"))
            continue
        if p.chosen is not None:
            g = p.configs[p.chosen]
            out.append(f'<p class="verdict ok">Cheapest configuration meeting '
                       f'{_target(target)}: <b>{_esc(p.labels[p.chosen])}</b>, '
                       f'{_usd(p.cost[p.chosen])} ({_num(g.mean("cameras"), ".0f")} cameras, '
                       f'{_num(g.mean("plates"), ".0f")} plates), {_pct(p.exact[p.chosen], 2)} '
                       f'exact over {g.stat("exact_match").n} seed(s).</p>')
        else:
            b = p.best
            out.append(f'<p class="verdict bad">No configuration of {_esc(p.store)} meets '
                       f'{_target(target)} at {_esc(p.condition)}; the most accurate is '
                       f'<b>{_esc(p.labels[b])}</b> at {_pct(p.exact[b], 2)} '
                       f'({_usd(p.cost[b])}).</p>')
        if p.unscored:
            out.append(f"<p class=\"note\">{p.unscored} configuration(s) without a scored "
                       f"receipt or a cost are not drawn.</p>")
        out.append(_img(_cost_figure(p, target), f"pareto-{p.store}",
                        f"{_esc(p.store)}: receipt exact match against hardware cost, "
                        f"{_esc(p.condition)}.", f"accuracy vs cost, {p.store}"))
        head = ["configuration", "cameras", "plates", "cost", "cameras / plates / install",
                "exact (mean)", "exact (min-max)", "F1", "seeds", "meets target"]
        body = []
        for i in p.frontier:
            g = p.configs[i]
            st = g.stat("exact_match")
            split = " / ".join(_usd(g.mean(f"cost_{k}_usd")) for k in ("cameras", "plates",
                                                                         "install"))
            body.append([_esc(p.labels[i]), _num(g.mean("cameras"), ".0f"),
                         _num(g.mean("plates"), ".0f"), _usd(p.cost[i]), split,
                         _pct(st.mean, 2),
                         f"{_pct(st.lo, 2)} &ndash; {_pct(st.hi, 2)}",
                         _pct(g.mean("f1"), 2), str(st.n),
                         "yes" if st.mean >= target else "no"])
        out.append("<p>Pareto frontier:</p>" + _table(head, body, "num"))
        out.append(_crowd_levels_table(p.store, rows, columns, target))
    return "".join(out)


def _crowd_levels_table(store: str, rows: list[dict], columns: set[str], target: float) -> str:
    """With more than one crowd level: the cheapest configuration meeting the target at each."""
    rows = [r for r in _crowd_rows(rows) if str(r.get("store")) == store]
    levels = sorted({v for r in rows if math.isfinite(v := _f(r.get("shoppers")))})
    if len(levels) < 2:
        return ""
    body = []
    for lv in levels:
        plan = _store_plan(store, [r for r in rows if _f(r.get("shoppers")) == lv], columns,
                           target)
        if plan is None or plan.chosen is None:
            body.append([f"{lv:g}", "none meets the target", "&ndash;", "&ndash;"])
            continue
        i = plan.chosen
        body.append([f"{lv:g}", _esc(plan.labels[i]), _usd(plan.cost[i]),
                     _pct(plan.exact[i], 2)])
    return ("<p>Cheapest configuration meeting the target at each crowd level:</p>"
            + _table(["shoppers", "configuration", "cost", "exact"], body, "num"))


# ---------------------------------------------------------------------------------------------
# accuracy against the crowd


def _crowd_section(rows: list[dict], columns: set[str], stores: list[str]) -> str:
    out = ["<h2>Receipt accuracy against the crowd</h2>"]
    params = tuple(p for p in PARAMS if p in columns and p not in ("shoppers",))
    figs = 0
    for s in stores:
        srows = [r for r in _crowd_rows(rows) if str(r.get("store")) == s]
        lines = [g for g in group_rows(srows, params)
                 if len({_f(r.get("shoppers")) for r in g.rows}) >= 2]
        if not lines:
            continue
        var = _varying(lines, params)
        fig, axes = _figure(10.0, 4.0, ncols=2)
        measured = all(math.isfinite(_f(r.get("mean_in_store"))) for g in lines for r in g.rows)
        cols = _colors(len(lines))
        drawn = False
        for metric, ax in zip(("exact_match", "f1"), axes):
            for g, c in zip(lines, cols):
                pts = group_rows(g.rows, ("shoppers",))
                x = np.array([p.mean("mean_in_store") if measured else _f(p.get("shoppers"))
                              for p in pts])
                stats = [p.stat(metric) for p in pts]
                keep = [i for i, st in enumerate(stats) if st.n]
                if not keep:
                    continue
                drawn = True
                _errorbar(ax, x[keep], [stats[i] for i in keep], fmt="-o", ms=4, lw=1.2,
                          color=c, label=_label(g, var))
            ax.set_xlabel("shoppers in store (measured mean)" if measured
                          else "target shoppers in store")
            ax.set_ylabel(("receipts exactly right" if metric == "exact_match"
                           else "receipt F1") + " [%]")
            ax.set_title(f"{s}: {'exact match' if metric == 'exact_match' else 'F1'}",
                         fontsize=10)
        if not drawn:
            continue
        axes[1].legend(fontsize=7, loc="lower left")
        out.append(_img(_svg_uri(fig), f"crowd-{s}",
                        f"{_esc(s)}: receipt accuracy against the crowd, one line per "
                        f"configuration; error bars span the seeds.", f"accuracy vs crowd, {s}"))
        figs += 1
    if not figs:
        out.append(_nodata("no data: no configuration was run at more than one crowd level "
                           "with scored receipts"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# speed against store size


def _stage_columns(columns: set[str]) -> list[str]:
    names = [c[len("stage_"):-len("_s")] for c in columns
             if c.startswith("stage_") and c.endswith("_s") and len(c) > len("stage__s")]
    known = [s for s in STAGE_ORDER if s in names]
    return known + sorted(set(names) - set(known))


def _scale_section(rows: list[dict], columns: set[str], stores: list[str]) -> str:
    out = ["<h2>Speed against store size</h2>"]
    crowd = _crowd_rows(rows)
    have = [r for r in crowd if math.isfinite(_f(r.get("area_sqft")))
            and (math.isfinite(_f(r.get("real_time_factor")))
                 or math.isfinite(_f(r.get("core_ms_per_tick"))))]
    if not have:
        return "".join(out) + _nodata("no data: no finished run has a store area and a speed")
    out.append(_speed_targets(crowd))
    order = {s: i for i, s in enumerate(stores)}
    names = sorted({str(r.get("store")) for r in have}, key=lambda s: (order.get(s, 1e9), s))
    col = dict(zip(names, _colors(len(names))))
    area = np.array([_f(r.get("area_sqft")) for r in have])
    fig, axes = _figure(10.0, 4.2, ncols=2)
    fits = {}
    for metric, ax, ylabel in (
            ("real_time_factor", axes[0], "real-time factor [x]"),
            ("core_ms_per_tick", axes[1], "core time per camera frame [ms]")):
        y = np.array([_f(r.get(metric)) for r in have])
        for s in names:
            m = np.array([str(r.get("store")) == s for r in have]) & np.isfinite(y) & (y > 0)
            if m.any():
                ax.scatter(area[m], y[m], s=22, color=col[s], label=s, zorder=3)
        fit = fit_power_law(area, y)
        fits[metric] = fit
        if fit is not None:
            xs = np.geomspace(area[np.isfinite(area) & (area > 0)].min(),
                              area[np.isfinite(area) & (area > 0)].max(), 50)
            unit = "x" if metric == "real_time_factor" else " ms"
            ax.plot(xs, fit(xs), color="#333333", lw=1.2, ls="-",
                    label=f"fit: {fit.a:.3g}{unit} * area^{fit.b:.2f}  (R2 {fit.r2:.2f})")
        if metric == "real_time_factor":
            ax.axhline(1.0, color="#c0392b", ls="--", lw=1.2, label="real time (1x)")
            for t in SPEED_TARGETS:
                a = [_f(r.get("area_sqft")) for r in crowd if str(r.get("store")) == t.store]
                a = [v for v in a if math.isfinite(v)]
                if a:
                    ax.scatter([float(np.mean(a))], [t.min_rtf], marker="_", s=400, lw=2,
                               color="#c0392b", zorder=4)
                    ax.annotate(f"{t.store} target {t.min_rtf:g}x", (float(np.mean(a)),
                                t.min_rtf), xytext=(6, 4), textcoords="offset points",
                                fontsize=7, color="#c0392b")
        # log-log where the data spans sizes (or the targets stretch the axis), else linear
        yy = y[np.isfinite(y) & (y > 0)]
        if yy.size and (np.unique(area).size > 1 or metric == "real_time_factor"):
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel("store area [sq ft]")
        ax.set_ylabel(ylabel)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
    out.append(_img(_svg_uri(fig), "scale", "Real-time factor and core time per camera frame "
                    "against store area, one point per run (log-log axes where the runs span "
                    "store sizes), with power laws fitted by least squares in log space.",
                    "speed vs store size"))
    text = []
    for metric, what in (("core_ms_per_tick", "core time per camera frame"),
                         ("real_time_factor", "real-time factor")):
        f = fits.get(metric)
        if f is not None:
            text.append(f"{what} scales as area<sup>{f.b:.2f}</sup> ({f.a:.3g} &times; "
                        f"area<sup>{f.b:.2f}</sup>, R&sup2; {f.r2:.2f}, {f.n} runs)")
    if text:
        out.append("<p>Growth laws: " + "; ".join(text) + ".</p>")
    else:
        out.append(_nodata("one store size in the study: no growth law fitted"))
    out.append(_stage_block(crowd, columns, names))
    return "".join(out)


def _speed_targets(crowd: list[dict]) -> str:
    items = []
    for t in SPEED_TARGETS:
        rows = [r for r in crowd if str(r.get("store")) == t.store
                and math.isfinite(_f(r.get("real_time_factor")))]
        full = [r for r in rows if r.get("core") == "full"]
        rows = full or rows
        levels = sorted({_f(r.get("shoppers")) for r in rows if
                         math.isfinite(_f(r.get("shoppers")))})
        if not rows:
            continue
        if levels:
            lv = min(levels, key=lambda v: (abs(math.log(max(v, 1e-9) / t.shoppers)), v))
            rows = [r for r in rows if _f(r.get("shoppers")) == lv]
        rtf = np.array([_f(r.get("real_time_factor")) for r in rows])
        mean = float(rtf.mean())
        met = mean >= t.min_rtf
        at = f"{lv:g} shoppers" if levels else "shoppers unknown"
        near = ("" if not levels or abs(lv - t.shoppers) <= 0.25 * t.shoppers
                else f" (the target is stated at about {t.shoppers:g} shoppers; the nearest "
                     f"crowd in the data is {lv:g})")
        cpus = sorted({int(c) for r in rows if math.isfinite(c := _f(r.get("host_cpus")))})
        on = f" on {'/'.join(map(str, cpus))}-CPU hosts" if cpus else ""
        items.append(f'<li class="{"ok" if met else "bad"}">{_esc(t.store)} at {at}: real-time '
                     f"factor {mean:,.3g}x mean, {float(rtf.min()):,.3g}x min over {rtf.size} "
                     f"run(s){on} against a target of {t.min_rtf:g}x: "
                     f"<b>{'met' if met else 'missed'}</b>{near}.</li>")
    if not items:
        return ""
    return "<p>Speed targets:</p><ul class=\"targets\">" + "".join(items) + "</ul>"


def _stage_block(crowd: list[dict], columns: set[str], stores: list[str]) -> str:
    stages = _stage_columns(columns)
    if not stages:
        return _nodata("no stage profile in the results")
    cores = {r.get("core") for r in crowd}
    params = ("store", "shoppers") + (("core",) if len(cores) > 1 else ())
    rows = [r for r in crowd if _f(r.get("sim_s")) > 0
            and any(math.isfinite(_f(r.get(f"stage_{s}_s"))) for s in stages)]
    order = {s: i for i, s in enumerate(stores)}
    groups = sorted(group_rows(rows, params),
                    key=lambda g: (order.get(str(g.get("store")), 1e9), _sort_key(g.get(
                        "shoppers")), str(g.get("core"))))
    if not groups:
        return _nodata("no data: no run has a stage profile")
    per = np.zeros((len(groups), len(stages)))       # wall seconds per simulated second
    for i, g in enumerate(groups):
        for j, s in enumerate(stages):
            v = np.array([_f(r.get(f"stage_{s}_s")) / _f(r.get("sim_s")) for r in g.rows])
            v = v[np.isfinite(v)]
            per[i, j] = float(v.mean()) if v.size else 0.0
    labels = [" \u00b7 ".join([str(g.get("store"))] + [_fmt_param(p, g.get(p))
                                                       for p in params[1:]]) for g in groups]
    total = per.sum(axis=1)
    share = per / np.where(total > 0, total, 1.0)[:, None]
    fig, (ax,) = _figure(max(6.0, 1.0 + 0.9 * len(groups)), 4.4)
    cols = _colors(len(stages))
    bottom = np.zeros(len(groups))
    xs = np.arange(len(groups))
    for j, s in enumerate(stages):
        ax.bar(xs, 100 * share[:, j], bottom=100 * bottom, color=cols[j], label=s, width=0.7)
        bottom += share[:, j]
    # with the core in its own process its stage overlaps the twin's: the stages then sum
    # to more than the wall time, so the label's real-time factor is the measured one
    overlap = [any(r.get("core_process") is True for r in g.rows) for g in groups]
    for i, g in enumerate(groups):
        rtf = np.array([_f(r.get("real_time_factor")) for r in g.rows])
        rtf = float(rtf[np.isfinite(rtf)].mean()) if np.isfinite(rtf).any() else (
            1.0 / total[i] if total[i] > 0 else float("nan"))
        ax.text(xs[i], 101, f"{total[i]:.3g} s/s\n({rtf:,.3g}x{', core ||' if overlap[i] else ''})",
                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(xs, labels, rotation=20 if len(groups) > 3 else 0, ha="right"
                  if len(groups) > 3 else "center", fontsize=8)
    ax.set_ylim(0, 118)
    ax.set_ylabel("share of wall time per simulated second [%]")
    ax.set_title("where the time goes (label: wall seconds per simulated second)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    items = []
    for i, g in enumerate(groups):
        if overlap[i] and "core" in stages:
            # the core ran beside the twin: the wall time is the twin's (the slower side)
            c = stages.index("core")
            twin = per[i].copy()
            twin[c] = -1.0
            j = int(np.argmax(twin))
            rest = float(per[i].sum() - per[i, c])
            items.append(f"<li>{_esc(labels[i])}: <b>{_esc(stages[j])}</b> dominates the twin "
                         f"({100 * per[i, j] / rest:.0f} % of its {rest:.3g} s per simulated "
                         f"second); the core, in its own process, took {per[i, c]:.3g} s per "
                         f"simulated second beside it.</li>")
            continue
        j = int(np.argmax(per[i]))
        items.append(f"<li>{_esc(labels[i])}: <b>{_esc(stages[j])}</b> dominates "
                     f"({100 * share[i, j]:.0f} % of the wall time, {per[i, j]:.3g} s per "
                     f"simulated second of {total[i]:.3g}).</li>")
    note = (" Runs marked \u201ccore ||\u201d ran the core in its own process beside the "
            "twin: its share overlaps the others, and the real-time factor is the measured "
            "one." if any(overlap) else "")
    return (_img(_svg_uri(fig), "stages", "Wall time per stage, as shares of the wall seconds "
                 "per simulated second (stage seconds / simulated seconds, mean over runs)."
                 + note, "stage profile")
            + "<ul>" + "".join(items) + "</ul>")


# ---------------------------------------------------------------------------------------------
# fidelity


def _fidelity_section(rows: list[dict], columns: set[str]) -> str:
    out = ["<h2>Fidelity against AutoCheckout 2020</h2>"]
    sc = [r for r in rows if _present(r.get("scenario"))]
    if not sc:
        return "".join(out) + _nodata("no data: no scripted-scenario runs in the study")
    metric = "f1" if any(math.isfinite(_f(r.get("f1"))) for r in sc) else "exact_match"
    mname = "receipt F1" if metric == "f1" else "receipts exactly right"
    per_shelf = [r for r in sc if _present(r.get("shoppers_per_shelf"))]
    if per_shelf:
        fig, (ax,) = _figure(7.0, 4.2)
        cores = [g for g in group_rows(per_shelf, ("core",))]
        cols = _colors(len(cores) + 1)
        for k, g in enumerate(cores):
            pts = group_rows(g.rows, ("shoppers_per_shelf",))
            x = np.array([_f(p.get("shoppers_per_shelf")) for p in pts]) + 0.06 * (k + 1)
            stats = [p.stat(metric) for p in pts]
            keep = [i for i, s in enumerate(stats) if s.n]
            if keep:
                _errorbar(ax, x[keep], [stats[i] for i in keep], fmt="-o", ms=5, lw=1.2,
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
        ax.set_xticks(sorted({int(_f(r.get("shoppers_per_shelf"))) for r in per_shelf}
                             | {a[0] for a in AUTOCHECKOUT_2020}))
        ax.set_ylim(-5, 112)
        ax.set_xlabel("shoppers at one shelf")
        ax.set_ylabel(f"{mname} [%]")
        ax.set_title(f"{mname} against shoppers per shelf", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")
        out.append(_img(_svg_uri(fig), "fidelity",
                        f"Scripted scenarios: {mname} per core (mean, min-max over scenarios "
                        f"and seeds) against shoppers at one shelf, beside the AutoCheckout "
                        f"2020 teams' published figures.", "fidelity"))
    else:
        out.append(_nodata("no shoppers_per_shelf in the scenario runs: table only"))
    body = []
    as_written = "ran_as_written" in columns
    for g in group_rows(sc, ("scenario", "shoppers_per_shelf", "core")):
        line = [_esc(g.get("scenario")), _cell(g.get("shoppers_per_shelf")),
                _esc(g.get("core")), str(len(g.rows)), _pct(g.mean("exact_match")),
                _pct(g.mean("f1"))]
        if as_written:
            flags = [r.get("ran_as_written") for r in g.rows]
            line.append("yes" if all(f is True for f in flags) else
                        "no" if any(f is False for f in flags) else "&ndash;")
        body.append(line)
    out.append(_table(["scenario", "shoppers per shelf", "core", "runs", "exact", "F1"]
                      + (["ran as written"] if as_written else []), body, "num"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# behaviour insights

INSIGHT_VISITS = (1, 2, 4, 8)


def _insights_section(rows: list[dict], columns: set[str]) -> str:
    out = ["<h2>What the store learns about its shoppers</h2>"]
    ins = [r for r in rows if math.isfinite(_f(r.get("pref_rho_journeys")))]
    if not ins:
        return "".join(out) + _nodata("no data: no runs with a panel of returning shoppers "
                                      "([insights] in the study file)")
    params = tuple(p for p in ("store", "layout", "bins_per_plate", "shoppers",
                               "dead_camera_fraction", "dead_plate_fraction", "core",
                               "look_taste") if p in columns)
    groups = group_rows(ins, params)
    varying = _varying(groups, params)
    out.append("<p>Each run has a panel of returning accounts whose latent tastes only the "
               "twin knows. The core's journeys (picks, put-backs, substitutions, looks) and, "
               "beside them, the till's exact baskets alone are fitted with the same logit "
               "(docs/insights.md); the score is the Spearman rank correlation across "
               "accounts of recovered and latent weights, averaged over organic, price and "
               "brand (1: the order of the shoppers' tastes recovered exactly, 0: none of "
               "it).</p>")
    # recovery against visits, one panel per look_taste
    tastes = sorted({_f(r.get("look_taste")) for r in ins}, key=lambda v: (v != v, v))
    fig, axes = _figure(4.6 * len(tastes), 3.8, ncols=len(tastes))
    cols = _colors(len(groups) + 1)
    for ax, taste in zip(axes, tastes, strict=True):
        for k, g in enumerate(groups):
            gt = _f(g.get("look_taste"))
            if not (gt == taste or (gt != gt and taste != taste)):
                continue
            for src, style in (("journeys", "-o"), ("receipts", "--s")):
                stats = [g.stat(f"pref_rho_{src}_v{v}") for v in INSIGHT_VISITS]
                keep = [i for i, st in enumerate(stats) if st.n]
                if keep:
                    lab = _label(g, tuple(p for p in varying if p != "look_taste"))
                    _errorbar(ax, np.array(INSIGHT_VISITS, dtype=float)[keep],
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
    out.append(_img(_svg_uri(fig), "insights-visits",
                    "Taste recovery against the number of visits per account (mean, min-max "
                    "over seeds): from the journeys (solid) and from the till's baskets "
                    "alone (dashed). Look taste: how much shoppers' tastes choose where "
                    "they stop to look (0: at random).", "taste recovery against visits"))
    body = []
    for g in groups:
        j, r = g.stat("pref_rho_journeys"), g.stat("pref_rho_receipts")
        line = [_esc(_label(g, varying)), str(len(g.rows)), _pct(g.mean("exact_match")),
                f"{j.mean:.2f}" if j.n else "&ndash;", f"{r.mean:.2f}" if r.n else "&ndash;"]
        for a in ("organic", "price", "brand"):
            line.append(f"{g.mean(f'pref_rho_{a}_journeys'):.2f} / "
                        f"{g.mean(f'pref_rho_{a}_receipts'):.2f}")
        line += [_pct(g.mean(f"next_visit_acc_{s}"))
                 for s in ("journeys", "receipts", "population")]
        line += [_num(g.mean("visits_per_account")), _num(g.mean("substitutions")),
                 _usd(g.mean("cost_total_usd")) if "cost_total_usd" in columns else "&ndash;"]
        body.append(line)
    out.append(_table(["configuration", "runs", "exact receipts", "recovery, journeys",
                       "recovery, till", "organic j / t", "price j / t", "brand j / t",
                       "next visit, journeys", "next visit, till", "next visit, population",
                       "visits per account", "substitutions", "hardware"], body, "num"))
    lines = []
    for g in groups:
        j, r = g.mean("pref_rho_journeys"), g.mean("pref_rho_receipts")
        if math.isfinite(j) and math.isfinite(r):
            lines.append(f"<li>{_esc(_label(g, varying))}: journeys {j:.2f}, till {r:.2f} "
                         f"({j - r:+.2f})</li>")
    out.append("<p>Recovery from journeys against the till (mean over seeds):</p><ul>"
               + "".join(lines) + "</ul>")
    out.append(_substitution_table(ins))
    out.append(_bill_or_learn(groups, varying))
    return "".join(out)


def _bill_or_learn(groups: list[Group], varying: tuple[str, ...]) -> str:
    """For each shopper behaviour (look taste), the layout that bills best, the one that
    learns tastes best, and the cheapest that learns within 0.05 of the best."""
    notes = []
    for _, same in _by_look_taste(groups):
        ok = [g for g in same if math.isfinite(g.mean("pref_rho_journeys"))]
        if len(ok) < 2:
            continue
        bill = max(ok, key=lambda g: _f(g.mean("exact_match")))
        learn = max(ok, key=lambda g: g.mean("pref_rho_journeys"))
        top = learn.mean("pref_rho_journeys")
        near = [g for g in ok if g.mean("pref_rho_journeys") >= top - 0.05
                and math.isfinite(g.mean("cost_total_usd"))]
        cheap = min(near, key=lambda g: g.mean("cost_total_usd")) if near else None
        text = (f"{_esc(_label(bill, varying))}: best billing "
                f"({_pct(bill.mean('exact_match'))} exact); "
                + ("it also learns tastes best" if learn is bill else
                   f"best taste recovery: {_esc(_label(learn, varying))} (rho {top:.2f})"))
        if cheap is not None and cheap is not learn and cheap is not bill:
            text += (f"; {_esc(_label(cheap, varying))} learns within 0.05 of that "
                     f"(rho {cheap.mean('pref_rho_journeys'):.2f}) for "
                     f"{_usd(cheap.mean('cost_total_usd'))}, billing "
                     f"{_pct(cheap.mean('exact_match'))} exact")
        notes.append(f"<li>{text}</li>")
    if not notes:
        return ""
    return ('<p class="note">The layout that bills correctly is not necessarily the one '
            "that learns preferences, nor the cheapest that learns them as well "
            "(per shopper behaviour, mean over seeds):</p><ul>" + "".join(notes) + "</ul>")


def _by_look_taste(groups: list[Group]) -> list[tuple[float, list[Group]]]:
    keys: dict[str, tuple[float, list[Group]]] = {}
    for g in groups:
        v = _f(g.get("look_taste"))
        keys.setdefault(repr(v), (v, []))[1].append(g)
    return list(keys.values())


def _substitution_table(rows: list[dict]) -> str:
    """The store's item-to-item substitutions summed over the runs: what was put back for
    what (``substitution_pairs`` of each row)."""
    total: dict[tuple[str, str], int] = {}
    runs: dict[tuple[str, str], int] = {}
    for r in rows:
        try:
            pairs = json.loads(r.get("substitution_pairs") or "{}")
        except ValueError:
            continue
        for k, n in pairs.items():
            a, _, b = k.partition(">")
            total[(a, b)] = total.get((a, b), 0) + int(n)
            runs[(a, b)] = runs.get((a, b), 0) + 1
    if not total:
        return _nodata("no substitutions in the journeys")
    from scenes.presets import PRESETS, load_store
    names: dict[str, str] = {}     # product names of the preset stores (a spec file's: SKUs)
    for store in sorted({r.get("store") for r in rows if r.get("store") in PRESETS}):
        cat = load_store(store).catalogue
        names.update({str(s): str(n) for s, n in zip(cat.sku, cat.name, strict=True)})
    top = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:12]

    def sku(s: str) -> str:
        return _esc(f"{s} {names[s]}" if s in names else s)
    body = [[sku(a), sku(b), str(n), str(runs[(a, b)])] for (a, b), n in top]
    return ("<h3>Item-to-item substitutions</h3><p>Put back one item and taken another of "
            f"its department within a minute, summed over {len(rows)} runs (the "
            f"{len(top)} most frequent of {len(total)} pairs; per run in "
            "<code>insights/substitutions.parquet</code> of a run folder).</p>"
            + _table(["put back", "taken instead", "times", "runs"], body, "num"))


# ---------------------------------------------------------------------------------------------
# coverage heatmaps


def _store_for(results_dir: Path, g: Group) -> str | Path | None:
    """The spec a configuration's store loads from: the study's copy at its plate
    granularity (``stores/<name>-bpp<n>.toml``), the preset of that name, or the store as
    the study file wrote it (relative to the results folder, then as given)."""
    from scenes.presets import PRESETS

    name, bpp, ref = g.get("store"), g.get("bins_per_plate"), g.get("store_ref")
    if _present(bpp):
        f = results_dir / "stores" / f"{name}-bpp{int(bpp)}.toml"
        if f.is_file():
            return f
    if name in PRESETS:
        return str(name)
    for cand in (ref, name):
        if isinstance(cand, str) and cand:
            p = Path(cand)
            for f in ((p,) if p.is_absolute() else (results_dir / p, p)):
                if f.is_file():
                    return f
    return None


def _heatmap_png(results_dir: Path | None, g: Group, label: str, cell_m: float | None
                 ) -> tuple[str | None, str]:
    """(data URI or None, note) of the coverage heatmap of a configuration's layout."""
    from scenes.presets import load_store
    from twin.coverage import coverage, heatmap_png
    from twin.layout import load_layout

    rel = g.get("layout_file")
    if not _present(rel):
        return None, "no layout file recorded for it"
    if results_dir is None:
        return None, "no results folder to find its layout file in"
    lf = results_dir / str(rel)
    if not lf.is_file():
        return None, f"its layout file {_esc(rel)} is not in the results folder"
    ref = _store_for(results_dir, g)
    if ref is None:
        return None, f"its store {_esc(g.get('store_ref') or g.get('store'))} was not found"
    try:
        store = load_store(ref)
        layout = load_layout(lf, store)
        cell = cell_m or (0.25 if store.area_sqft <= 12_000 else 0.5)
        rep = coverage(store, layout, cell=cell)
        buf = io.BytesIO()
        heatmap_png(store, rep, buf, cameras=layout, dpi=80, title=f"{store.name}: {label}")
    except (OSError, ValueError) as e:
        return None, f"cannot draw it: {_esc(e)}"
    note = f" (floor sampled every {cell:g} m)"
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), note


def _heatmap_section(plans: list[StorePlan], results_dir: Path | None,
                     cell_m: float | None) -> str:
    out = ["<h2>Coverage of the chosen layouts</h2>"]
    picked = [(p, p.chosen if p.chosen is not None else p.best) for p in plans]
    picked = [(p, i) for p, i in picked if i is not None]
    if not picked:
        return "".join(out) + _nodata("no data: no configuration was chosen")
    for p, i in picked:
        g = p.configs[i]
        why = ("cheapest meeting the target" if p.chosen is not None
               else "most accurate; none meets the target")
        uri, note = _heatmap_png(results_dir, g, p.labels[i], cell_m)
        if uri is None:
            out.append(_nodata(f"{_esc(p.store)} ({_esc(p.labels[i])}): {note}"))
            continue
        out.append(_img(uri, f"heatmap-{p.store}",
                        f"{_esc(p.store)}, {_esc(p.labels[i])} ({why}): cameras seeing each "
                        f"cell of the walkable floor{note}, camera list price in the title; "
                        f"the study measured floor seen by "
                        f"&ge;1 / &ge;2 cameras {_pct(g.mean('floor_k1'))} / "
                        f"{_pct(g.mean('floor_k2'))}, bin faces {_pct(g.mean('bins_k1'))}.",
                        f"coverage heatmap, {p.store}"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# header and run table

# the run table: parameters, then metrics (a study's ``metrics`` first)
_RUN_PARAMS: tuple[tuple[str, str], ...] = (
    ("run_id", "run"), ("status", "status"), ("error", "error"), ("store", "store"),
    ("layout", "layout"), ("bins_per_plate", "bins/plate"), ("core", "core"),
    ("shoppers", "shoppers"), ("minutes", "min"), ("warm_start", "warm"), ("seed", "seed"),
    ("dead_camera_fraction", "dead cams"), ("dead_plate_fraction", "dead plates"),
    ("scenario", "scenario"))
_RUN_METRICS: tuple[tuple[str, str], ...] = (
    ("receipts", "receipts"), ("exact_match", "exact"), ("f1", "F1"),
    ("money_abs_mean_usd", "$ error"), ("hota", "HOTA"), ("idf1", "IDF1"),
    ("id_switches", "ID sw"), ("real_time_factor", "RTF"), ("core_ms_per_tick", "core ms"),
    ("cameras", "cameras"), ("plates", "plates"), ("cost_total_usd", "cost"))
_FRACTIONS = {"exact_match", "f1", "precision", "recall", "unflagged_exact", "hota", "deta",
              "assa", "idf1", "mota", "floor_k1", "floor_k2", "bins_k1", "dead_camera_fraction",
              "dead_plate_fraction"}
_COUNTS = {"receipts", "id_switches", "cameras", "plates", "bins_per_plate", "seed",
           "host_cpus", "shoppers_per_shelf"}


def _run_cell(name: str, v) -> str:
    if name == "error" and _present(v):
        return f'<span class="error">{_esc(v)}</span>'
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str) or not _present(v):
        return _cell(v)
    if name in _FRACTIONS:
        return _pct(v)
    if name in _COUNTS:
        return _num(v, ",.0f")
    if name.startswith("cost_"):
        return _usd(v)
    if name.endswith("_usd"):
        return _num(v, ",.2f")
    return _num(v, ",.3g")


def _run_table(rows: list[dict], columns: set[str], stores: list[str],
               first: tuple[str, ...] = ()) -> str:
    heads = dict(_RUN_METRICS)
    metrics = [m for m in dict.fromkeys(first + tuple(heads)) if m in columns]
    cols = [c for c in _RUN_PARAMS if c[0] in columns] + [(m, heads.get(m, m)) for m in metrics]
    order = {s: i for i, s in enumerate(stores)}
    rows = sorted(rows, key=lambda r: (order.get(str(r.get("store")), 1e9),
                                       tuple(_sort_key(r.get(p)) for p in PARAMS + ("seed",)),
                                       str(r.get("run_id"))))
    body = [[_run_cell(name, r.get(name)) for name, _ in cols] for r in rows]
    cls = ["failed" if r.get("status") != "ok" else "" for r in rows]
    return ("<h2>Every run</h2><div class=\"scroll\">"
            + _table([_esc(h) for _, h in cols], body, "runs num", cls) + "</div>")


def _title(rows: list[dict], name: str | None) -> str:
    studies = sorted({str(r.get("study")) for r in rows if _present(r.get("study"))})
    return name or (", ".join(studies) if studies else "study")


def _header(rows: list[dict], title: str, description: str, target: float,
            stores: list[str]) -> str:
    ok = sum(1 for r in rows if r.get("status") == "ok")
    failed = len(rows) - ok

    def vals(k: str) -> str:
        v = sorted({str(r.get(k)) for r in rows if _present(r.get(k))})
        return ", ".join(v) if v else "&ndash;"

    started = sorted(str(r.get("started_at")) for r in rows if _present(r.get("started_at")))
    facts = [("runs", f"{len(rows)}: {ok} ok, {failed} failed"),
             ("stores", ", ".join(stores)), ("target", f"{_target(target)} of receipts exactly right "
                                                   f"(mean over seeds)"),
             ("storetwin", vals("storetwin_version")), ("Python", vals("python")),
             ("numpy", vals("numpy")), ("host CPUs", vals("host_cpus"))]
    if started:
        facts.append(("started", f"{_esc(started[0])} &ndash; {_esc(started[-1])}"))
    dl = "".join(f"<dt>{k}</dt><dd>{v if k in ('runs', 'target', 'started') else _esc(v)}</dd>"
                 for k, v in facts)
    desc = f'<p class="description">{_esc(description)}</p>' if description else ""
    return (f"<h1>{_esc(title)}: capacity-planning report</h1>{desc}"
            f"<dl class=\"facts\">{dl}</dl>")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #333;padding-bottom:.3em}
h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #bbb;padding-bottom:.2em}
h3{font-size:1.1em;margin-top:1.4em}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #e5e5e5}
figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
th,td{border:1px solid #d5d5d5;padding:.25em .55em;vertical-align:top}
th{background:#f2f2f2;text-align:left}
table.num td{font-variant-numeric:tabular-nums}
tr.failed td{background:#fdecea}
div.scroll{overflow-x:auto}
table.runs td,table.runs th{white-space:nowrap}
table.runs td:has(span.error){white-space:normal;min-width:18em;max-width:32em}
span.error{color:#a93226;font-family:ui-monospace,monospace;font-size:.9em;white-space:pre-wrap}
.nodata{color:#777;font-style:italic}
.verdict{padding:.4em .7em;border-left:4px solid}
.verdict.ok,li.ok b{border-color:#27ae60;color:#1e8449}
.verdict.bad,li.bad b{border-color:#c0392b;color:#a93226}
.note{font-size:.85em;color:#555}
.description{font-style:italic;color:#444}
details{margin:.5em 0;font-size:.9em}summary{cursor:pointer;color:#333}
"""


def render_html(table: pa.Table, results_dir: str | Path | None = None,
                info: StudyInfo | None = None) -> str:
    """The report page of a results table (see the module docstring) as one HTML string.

    results_dir: where the layout files (``layout_file``) and the study's store copies are,
    for the coverage heatmaps (None: no heatmaps); info: the study's name, target, run-table
    metrics and coverage cell (default :class:`StudyInfo`).
    """
    info = info or StudyInfo()
    target = info.target
    rows = table.to_pylist()
    columns = set(table.column_names)
    d = Path(results_dir) if results_dir is not None else None
    ok = [r for r in rows if r.get("status") == "ok"]
    stores = _store_order(rows)
    plans = [p for s in stores if (p := _store_plan(s, ok, columns, target)) is not None]
    title = _title(rows, info.name)
    parts = [_header(rows, title, info.description, target, stores),
             _cost_section(plans, ok, columns, target, info.prices),
             _crowd_section(ok, columns, stores), _scale_section(ok, columns, stores),
             _fidelity_section(ok, columns), _insights_section(ok, columns),
             _heatmap_section(plans, d, info.coverage_cell_m),
             _run_table(rows, columns, stores, info.metrics)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(title)}: capacity-planning report</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
