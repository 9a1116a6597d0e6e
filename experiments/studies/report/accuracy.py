"""The report's sections on accuracy: against hardware cost (the verdict and Pareto frontier
per store, the prices used, the cheapest configuration at each crowd level), against the
crowd, against the AutoCheckout 2020 figures (fidelity), and the coverage of the chosen
layouts.
"""

from __future__ import annotations

import math
from pathlib import Path

from experiments.studies.report.analysis import PARAMS, StorePlan, crowd_rows, store_plan
from experiments.studies.report.figures import (
    cost_figure,
    crowd_figure,
    fidelity_figure,
    heatmap_uri,
    review_counts,
    review_figure,
)
from experiments.studies.report.groups import as_float, group_rows, present, varying_params
from experiments.studies.report.markup import (
    esc,
    figure_html,
    fmt_cell,
    fmt_num,
    fmt_pct,
    fmt_target,
    fmt_usd,
    nodata,
    table_html,
)


def cost_section(plans: list[StorePlan], rows: list[dict], columns: set[str],
                 target: float, prices: dict | None = None) -> str:
    """Accuracy against hardware cost, per store at its design crowd (``plans``): the
    verdict, the figure, the Pareto frontier and the crowd levels; the prices used first."""
    out = ["<h2>Accuracy against hardware cost</h2>",
           f"<p>One point per configuration (all parameters but the seed) at each store's "
           f"design crowd; error bars span the seeds. The frontier is the most accurate "
           f"configuration for the money; the target is {fmt_target(target)} of receipts exactly "
           f"right on average. Cost: cameras, load-cell plates and their installation.</p>",
           _prices_table(prices)]
    if not plans:
        return "".join(out) + nodata("no data: no finished sampled-crowd runs")
    for p in plans:
        out.append(f"<h3>{esc(p.store)}</h3>")
        if not p.configs:
            out.append(nodata(f"no data: no configuration of {esc(p.store)} at "
                              f"{esc(p.condition)} has both a scored receipt and a cost"))
            continue
        if p.chosen is not None:
            g = p.configs[p.chosen]
            out.append(f'<p class="verdict ok">Cheapest configuration meeting '
                       f'{fmt_target(target)}: <b>{esc(p.labels[p.chosen])}</b>, '
                       f'{fmt_usd(p.cost[p.chosen])} '
                       f'({fmt_num(g.mean("cameras"), ".0f")} cameras, '
                       f'{fmt_num(g.mean("plates"), ".0f")} plates), '
                       f'{fmt_pct(p.exact[p.chosen], 2)} '
                       f'exact over {g.stat("exact_match").n} seed(s).</p>')
        else:
            b = p.best
            out.append(f'<p class="verdict bad">No configuration of {esc(p.store)} meets '
                       f'{fmt_target(target)} at {esc(p.condition)}; the most accurate is '
                       f'<b>{esc(p.labels[b])}</b> at {fmt_pct(p.exact[b], 2)} '
                       f'({fmt_usd(p.cost[b])}).</p>')
        if p.unscored:
            out.append(f"<p class=\"note\">{p.unscored} configuration(s) without a scored "
                       f"receipt or a cost are not drawn.</p>")
        cost_fig = figure_html(cost_figure(p, target), f"pareto-{p.store}",
                               f"{esc(p.store)}: receipt exact match against hardware cost, "
                               f"{esc(p.condition)}.", f"accuracy vs cost, {p.store}")
        rev = review_figure(p)
        if rev is None:
            out.append(cost_fig)
        else:
            out.append('<div class="pair">' + cost_fig + figure_html(
                rev, f"review-{p.store}",
                f"{esc(p.store)}: receipts sent to review per 1,000 issued against cameras, "
                f"one point per configuration; labels: flagged of issued over its seeds.",
                f"review vs cameras, {p.store}") + "</div>")
        head = ["configuration", "cameras", "plates", "cost", "cameras / plates / install",
                "exact (mean)", "exact (min-max)", "F1", "seeds", "meets target"]
        body = []
        for i in p.frontier:
            g = p.configs[i]
            st = g.stat("exact_match")
            split = " / ".join(fmt_usd(g.mean(f"cost_{k}_usd")) for k in ("cameras", "plates",
                                                                         "install"))
            body.append([esc(p.labels[i]), fmt_num(g.mean("cameras"), ".0f"),
                         fmt_num(g.mean("plates"), ".0f"), fmt_usd(p.cost[i]), split,
                         fmt_pct(st.mean, 2),
                         f"{fmt_pct(st.lo, 2)} &ndash; {fmt_pct(st.hi, 2)}",
                         fmt_pct(g.mean("f1"), 2), str(st.n),
                         "yes" if st.mean >= target else "no"])
        out.append("<p>Pareto frontier:</p>" + table_html(head, body, "num"))
        out.append(_review_table(p, columns))
        out.append(_crowd_levels_table(p.store, rows, columns, target))
    return "".join(out)


def _review_table(p: StorePlan, columns: set[str]) -> str:
    """Per configuration of ``p``: receipts sent to review per 1,000 with their counts, the
    share of money in them, exact match among the unflagged and the silent wrongs, summed
    over the seeds (empty without the review counts, as in a study written before them)."""
    if "receipts_flagged" not in columns:
        return ""
    body = []
    for g, label in zip(p.configs, p.labels, strict=True):
        f, n = review_counts(g)
        money = [(as_float(r.get("money_flagged_usd")), as_float(r.get("money_true_usd")))
                 for r in g.rows]
        money = [(a, b) for a, b in money if math.isfinite(a) and math.isfinite(b)]
        mf, mt = sum(a for a, _ in money), sum(b for _, b in money)
        unf = sum(int(v) for r in g.rows if math.isfinite(v := as_float(r.get(
            "receipts_unflagged"))))
        wrong = sum(int(v) for r in g.rows if math.isfinite(v := as_float(r.get(
            "silent_wrong"))))
        body.append([esc(label), fmt_num(g.mean("cameras"), ".0f"),
                     (f"{fmt_num(1000 * f / n, ',.0f')} ({f} of {n})" if n
                      else f"&ndash; (0 of {n})"),
                     (f"${mf:,.2f} of ${mt:,.2f} ({fmt_pct(mf / mt)})" if mt > 0
                      else "&ndash;"),
                     (f"{fmt_pct((unf - wrong) / unf)} ({unf - wrong} of {unf})" if unf
                      else "&ndash; (every receipt went to review)"),
                     str(wrong)])
    head = ["configuration", "cameras", "sent to review per 1,000", "money in flagged receipts",
            "exact among unflagged", "silent wrong"]
    return ("<p>Review, summed over seeds (a silent wrong is a receipt charged wrong that "
            "no one checks):</p>" + table_html(head, body, "num"))


def _prices_table(prices: dict | None) -> str:
    """The study's price table (``prices.json``), as the costs above were computed with."""
    if not prices:
        return ""
    body = []
    cams = prices.get("cameras")
    for model, usd in (sorted(cams.items()) if isinstance(cams, dict) else []):
        body.append([f"camera {esc(model)}", fmt_num(usd, ",.2f")])
    for key, what in (("plate_usd", "load-cell plate"),
                      ("install_per_camera_usd", "installation per camera"),
                      ("install_per_plate_usd", "installation per plate")):
        if key in prices:
            body.append([what, fmt_num(prices[key], ",.2f")])
    if not body:
        return ""
    return ('<details open><summary>Prices used (planning assumptions, <code>prices.json</code>)'
            '</summary>' + table_html(["item", "USD"], body, "num") + "</details>")


def _crowd_levels_table(store: str, rows: list[dict], columns: set[str], target: float) -> str:
    """With more than one crowd level: the cheapest configuration meeting the target at each."""
    rows = [r for r in crowd_rows(rows) if str(r.get("store")) == store]
    levels = sorted({v for r in rows if math.isfinite(v := as_float(r.get("shoppers")))})
    if len(levels) < 2:
        return ""
    body = []
    for lv in levels:
        plan = store_plan(store, [r for r in rows if as_float(r.get("shoppers")) == lv], columns,
                          target)
        if plan is None or plan.chosen is None:
            body.append([f"{lv:g}", "none meets the target", "&ndash;", "&ndash;"])
            continue
        i = plan.chosen
        body.append([f"{lv:g}", esc(plan.labels[i]), fmt_usd(plan.cost[i]),
                     fmt_pct(plan.exact[i], 2)])
    return ("<p>Cheapest configuration meeting the target at each crowd level:</p>"
            + table_html(["shoppers", "configuration", "cost", "exact"], body, "num"))


# ---------------------------------------------------------------------------------------------
# accuracy against the crowd


def crowd_section(rows: list[dict], columns: set[str], stores: list[str]) -> str:
    """Receipt accuracy against the crowd: per store, one line per configuration run at
    more than one crowd level."""
    out = ["<h2>Receipt accuracy against the crowd</h2>"]
    params = tuple(p for p in PARAMS if p in columns and p not in ("shoppers",))
    figs = 0
    for s in stores:
        srows = [r for r in crowd_rows(rows) if str(r.get("store")) == s]
        lines = [g for g in group_rows(srows, params)
                 if len({as_float(r.get("shoppers")) for r in g.rows}) >= 2]
        if not lines:
            continue
        var = varying_params(lines, params)
        uri = crowd_figure(s, lines, var)
        if uri is None:
            continue
        out.append(figure_html(uri, f"crowd-{s}",
                               f"{esc(s)}: receipt accuracy against the crowd, one line per "
                               f"configuration; error bars span the seeds.",
                               f"accuracy vs crowd, {s}"))
        figs += 1
    if not figs:
        out.append(nodata("no data: no configuration was run at more than one crowd level "
                          "with scored receipts"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# fidelity


def fidelity_section(rows: list[dict], columns: set[str]) -> str:
    """The scripted scenarios against the AutoCheckout 2020 published figures: the figure
    (with shoppers per shelf) and a table per scenario and core."""
    out = ["<h2>Fidelity against AutoCheckout 2020</h2>"]
    sc = [r for r in rows if present(r.get("scenario"))]
    if not sc:
        return "".join(out) + nodata("no data: no scripted-scenario runs in the study")
    metric = "f1" if any(math.isfinite(as_float(r.get("f1"))) for r in sc) else "exact_match"
    mname = "receipt F1" if metric == "f1" else "receipts exactly right"
    per_shelf = [r for r in sc if present(r.get("shoppers_per_shelf"))]
    if per_shelf:
        out.append(figure_html(fidelity_figure(per_shelf, metric, mname), "fidelity",
                               f"Scripted scenarios: {mname} per core (mean, min-max over "
                               f"scenarios and seeds) against shoppers at one shelf, beside the "
                               f"AutoCheckout 2020 teams' published figures.", "fidelity"))
    else:
        out.append(nodata("no shoppers_per_shelf in the scenario runs: table only"))
    body = []
    as_written = "ran_as_written" in columns
    for g in group_rows(sc, ("scenario", "shoppers_per_shelf", "core")):
        line = [esc(g.get("scenario")), fmt_cell(g.get("shoppers_per_shelf")),
                esc(g.get("core")), str(len(g.rows)), fmt_pct(g.mean("exact_match")),
                fmt_pct(g.mean("f1"))]
        if as_written:
            flags = [r.get("ran_as_written") for r in g.rows]
            line.append("yes" if all(f is True for f in flags) else
                        "no" if any(f is False for f in flags) else "&ndash;")
        body.append(line)
    out.append(table_html(["scenario", "shoppers per shelf", "core", "runs", "exact", "F1"]
                          + (["ran as written"] if as_written else []), body, "num"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# coverage heatmaps


def heatmap_section(plans: list[StorePlan], results_dir: Path | None,
                    cell_m: float | None) -> str:
    """The coverage heatmap of each store's chosen configuration (the most accurate where
    none meets the target), drawn from its layout file in ``results_dir``."""
    out = ["<h2>Coverage of the chosen layouts</h2>"]
    picked = [(p, p.chosen if p.chosen is not None else p.best) for p in plans]
    picked = [(p, i) for p, i in picked if i is not None]
    if not picked:
        return "".join(out) + nodata("no data: no configuration was chosen")
    for p, i in picked:
        g = p.configs[i]
        why = ("cheapest meeting the target" if p.chosen is not None
               else "most accurate; none meets the target")
        uri, note = heatmap_uri(results_dir, g, p.labels[i], cell_m)
        if uri is None:
            out.append(nodata(f"{esc(p.store)} ({esc(p.labels[i])}): {note}"))
            continue
        out.append(figure_html(uri, f"heatmap-{p.store}",
                               f"{esc(p.store)}, {esc(p.labels[i])} ({why}): cameras seeing each "
                               f"cell of the walkable floor{note}, camera list price in the title; "
                               f"the study measured floor seen by "
                               f"&ge;1 / &ge;2 cameras {fmt_pct(g.mean('floor_k1'))} / "
                               f"{fmt_pct(g.mean('floor_k2'))}, "
                               f"bin faces {fmt_pct(g.mean('bins_k1'))}.",
                               f"coverage heatmap, {p.store}"))
    return "".join(out)
