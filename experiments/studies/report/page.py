"""A capacity-planning study's results as one self-contained HTML page (``storetwin report``):
the page, its header and the table of every run, and ``write_report``.

``write_report(results_dir)`` reads the study's results table (one row per run: parameters,
billing, tracking, throughput, stage profile, coverage and cost; see
``experiments/studies/results.py``) and writes ``report.html``: accuracy against hardware
cost with its Pareto frontier and the cheapest configuration that meets the exact-receipt
target (beside it, receipts sent to review against cameras, with the counts), accuracy against
the crowd, tracking (HOTA, IDF1) against cameras and the crowd, speed against store size with
a fitted growth law and the stage that dominates, the compute a real deployment needs
(devices against store size and camera pitch beside accuracy, docs/sizing.md), fidelity against the AutoCheckout 2020
figures, what the store learns about its shoppers, coverage heatmaps of the chosen layouts
and a table of every run.

The page needs nothing outside itself: figures are matplotlib (Agg) SVG and PNG embedded as
``data:`` URIs, the style is inline CSS, and there is no script. Every share of counted
receipts comes with its count and 95 % interval (``intervals``). A section without data, or
a curve with one point, says what the study lacks and the study-file change that would
supply it (``lacking``). The same results give the same bytes (SVG ids salted, no dates
written besides the data's own).
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from experiments.studies.report.accuracy import (
    cost_section,
    crowd_section,
    fidelity_section,
    heatmap_section,
)
from experiments.studies.report.analysis import store_order, store_plan
from experiments.studies.report.compute import compute_section
from experiments.studies.report.groups import PARAMS, as_float, present, sort_key
from experiments.studies.report.intervals import COUNTED, row_count
from experiments.studies.report.learning import insights_section
from experiments.studies.report.markup import (
    esc,
    fmt_cell,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_target,
    fmt_usd,
    table_html,
)
from experiments.studies.report.reading import (
    ReportError,
    StudyInfo,
    check_target,
    read_results,
    read_study_info,
)
from experiments.studies.report.speed import scale_section
from experiments.studies.report.tracking import tracking_section


def write_report(results_dir: str | Path, out_html: str | Path | None = None,
                 target: float | None = None, skipped: list[str] | None = None) -> Path:
    """Write the HTML report of the study in ``results_dir`` to ``out_html`` (default
    ``results_dir/report.html``) and return its path. ``skipped``: a list to name the run
    files that could not be read (the report leaves them out); None: such a file is an
    error.

    target: the mean exact-receipt rate a configuration must reach (a fraction); default the
    study file's top-level ``target_exact``, else ``experiments.studies.spec.TARGET_EXACT``.
    Raises :class:`ReportError` for a missing folder, no results, an unreadable results or
    study file, a target outside (0, 1] or an output that cannot be written.
    """
    d = Path(results_dir)
    table = read_results(d, skipped)
    info = read_study_info(d)
    if target is not None:
        info = replace(info, target=check_target(target, "target"))
    out = Path(out_html) if out_html is not None else d / "report.html"
    page = render_html(table, d, info, page_dir=out.parent)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out)
    except OSError as e:
        raise ReportError(f"{out}: cannot write the report ({e.strerror or e})") from None
    return out


def render_html(table: pa.Table, results_dir: str | Path | None = None,
                info: StudyInfo | None = None, page_dir: str | Path | None = None) -> str:
    """The report page of a results table (see the module docstring) as one HTML string.

    results_dir: where the layout files (``layout_file``) and the study's store copies are,
    for the coverage heatmaps (None: no heatmaps); info: the study's name, target, run-table
    metrics and coverage cell (default :class:`StudyInfo`); page_dir: the folder the page
    goes into, for links to the runs' viewers (``storetwin study --view``; default
    ``results_dir``).
    """
    info = info or StudyInfo()
    target = info.target
    rows = table.to_pylist()
    columns = set(table.column_names)
    d = Path(results_dir) if results_dir is not None else None
    ok = [r for r in rows if r.get("status") == "ok"]
    stores = store_order(rows)
    plans = [p for s in stores if (p := store_plan(s, ok, columns, target)) is not None]
    title = _title(rows, info.name)
    parts = [_header(rows, title, info.description, target, stores),
             cost_section(plans, ok, columns, target, info.prices),
             crowd_section(ok, columns, stores), tracking_section(ok, stores),
             scale_section(ok, columns, stores), compute_section(ok),
             fidelity_section(ok, columns), insights_section(ok, columns),
             heatmap_section(plans, d, info.coverage_cell_m),
             _run_table(rows, columns, stores, info.metrics,
                        _viewers(rows, d, Path(page_dir) if page_dir is not None else d))]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}: capacity-planning report</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


# ---------------------------------------------------------------------------------------------
# header and run table


# the run table: parameters, then metrics (a study's ``metrics`` first)
_RUN_PARAMS: tuple[tuple[str, str], ...] = (
    ("run_id", "run"), ("status", "status"), ("error", "error"), ("store", "store"),
    ("layout", "layout"), ("bins_per_plate", "bins/plate"), ("core", "core"),
    ("shoppers", "shoppers"), ("minutes", "min"), ("warm_start", "warm"), ("seed", "seed"),
    ("dead_camera_fraction", "dead cams"), ("dead_plate_fraction", "dead plates"),
    ("faults", "faults"),
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


def _run_cell(name: str, r: dict) -> str:
    """A cell of run ``r``'s row in the run table: a counted rate with its count and 95 %
    interval, another fraction as a percentage, a count whole, a cost in dollars, an error
    highlighted."""
    v = r.get(name)
    c = row_count(r, name) if name in COUNTED else None
    if name in COUNTED and (present(v) or c is not None):
        per = COUNTED[name]          # the rate as a fraction, or per 1,000
        return fmt_rate(as_float(v) / per, c, 0 if per > 1 else 1, 100.0 if per == 1 else per)
    if name == "error" and present(v):
        return f'<span class="error">{esc(v)}</span>'
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str) or not present(v):
        return fmt_cell(v)
    if name in _FRACTIONS:
        return fmt_pct(v)
    if name in _COUNTS:
        return fmt_num(v, ",.0f")
    if name.startswith("cost_"):
        return fmt_usd(v)
    if name.endswith("_usd"):
        return fmt_num(v, ",.2f")
    return fmt_num(v, ",.3g")


def _viewers(rows: list[dict], results: Path | None, page_dir: Path | None) -> dict[str, str]:
    """run_id -> the link from the page to that run's viewer, for the runs that have one
    (``RESULTS/runs/RUN_ID/view/index.html``, written by ``storetwin study --view``)."""
    if results is None or page_dir is None:
        return {}
    out = {}
    for r in rows:
        page = results / "runs" / str(r.get("run_id")) / "view" / "index.html"
        if page.is_file():
            out[str(r.get("run_id"))] = Path(os.path.relpath(page, page_dir)).as_posix()
    return out


def _run_table(rows: list[dict], columns: set[str], stores: list[str],
               first: tuple[str, ...] = (), viewers: dict[str, str] | None = None) -> str:
    """Every run in one table: parameters, then metrics (``first`` leading), by store
    (``stores`` order) then parameters; failed runs marked; a link to each run's viewer
    where ``viewers`` has one."""
    heads = dict(_RUN_METRICS)
    metrics = [m for m in dict.fromkeys(first + tuple(heads)) if m in columns]
    cols = [c for c in _RUN_PARAMS if c[0] in columns] + [(m, heads.get(m, m)) for m in metrics]
    order = {s: i for i, s in enumerate(stores)}
    rows = sorted(rows, key=lambda r: (order.get(str(r.get("store")), 1e9),
                                       tuple(sort_key(r.get(p)) for p in PARAMS + ("seed",)),
                                       str(r.get("run_id"))))
    body = [[_run_cell(name, r) for name, _ in cols] for r in rows]
    if viewers:
        cols = [("view", "viewer")] + cols
        body = [[f'<a href="{esc(viewers[str(r.get("run_id"))])}">view</a>'
                 if str(r.get("run_id")) in viewers else "&ndash;"] + b
                for r, b in zip(rows, body, strict=True)]
    cls = ["failed" if r.get("status") != "ok" else "" for r in rows]
    return ("<h2>Every run</h2><div class=\"scroll\">"
            + table_html([esc(h) for _, h in cols], body, "runs num", cls) + "</div>"
            + '<p class="note">A share of counted receipts (exact, exact among unflagged, '
            "review per 1,000) comes with its count and its 95&nbsp;% Wilson interval. F1, "
            "HOTA, IDF1 and the other tracking scores are means of scores, and the coverage "
            "fractions shares of floor area: no count stands behind them, so they have no "
            "interval here.</p>")


def _title(rows: list[dict], name: str | None) -> str:
    """The study's name, else the study names in the rows."""
    studies = sorted({str(r.get("study")) for r in rows if present(r.get("study"))})
    return name or (", ".join(studies) if studies else "study")


def _header(rows: list[dict], title: str, description: str, target: float,
            stores: list[str]) -> str:
    """The page's title, the study's description and the facts: runs, stores, target,
    versions and when the runs started."""
    ok = sum(1 for r in rows if r.get("status") == "ok")
    failed = len(rows) - ok

    def vals(k: str) -> str:
        v = sorted({str(r.get(k)) for r in rows if present(r.get(k))})
        return ", ".join(v) if v else "&ndash;"

    started = sorted(str(r.get("started_at")) for r in rows if present(r.get("started_at")))
    facts = [("runs", f"{len(rows)}: {ok} ok, {failed} failed"),
             ("stores", ", ".join(stores)),
             ("target", f"{fmt_target(target)} of receipts exactly right (mean over seeds)"),
             ("storetwin", vals("storetwin_version")), ("Python", vals("python")),
             ("numpy", vals("numpy")), ("host CPUs", vals("host_cpus"))]
    if started:
        facts.append(("started", f"{esc(started[0])} &ndash; {esc(started[-1])}"))
    dl = "".join(f"<dt>{k}</dt><dd>{v if k in ('runs', 'target', 'started') else esc(v)}</dd>"
                 for k, v in facts)
    desc = f'<p class="description">{esc(description)}</p>' if description else ""
    return (f"<h1>{esc(title)}: capacity-planning report</h1>{desc}"
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
div.pair{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
div.pair>figure:first-child{flex:4 1 380px}div.pair>figure:last-child{flex:3 1 300px}
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
