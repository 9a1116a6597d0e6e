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
    review_figure,
)
from experiments.studies.report.groups import as_float, group_rows, present, varying_params
from experiments.studies.report.intervals import pooled_count
from experiments.studies.report.lacking import (
    code,
    more_layouts,
    no_finished_run,
    no_scenarios,
    no_shoppers_per_shelf,
    no_store_runs,
    one_crowd_level,
    one_seed,
    why_no_receipts,
)
from experiments.studies.report.markup import (
    esc,
    figure_html,
    fmt_cell,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_target,
    fmt_usd,
    nodata,
    table_html,
)

#: how a figure's bars are drawn: the 95 % interval of a counted rate, or the seeds' spread
BARS_CI = "bars: the 95&nbsp;% Wilson interval of the receipts pooled over the seeds"
BARS_SPREAD = "bars: min-max over the seeds (the rows hold no receipt counts)"


def cost_section(plans: list[StorePlan], rows: list[dict], columns: set[str],
                 target: float, prices: dict | None = None) -> str:
    """Accuracy against hardware cost, per store at its design crowd (``plans``): the
    verdict, the figure, the Pareto frontier and the crowd levels; the prices used first."""
    out = ["<h2>Accuracy against hardware cost</h2>",
           f"<p>One point per configuration (all parameters but the seed) at each store's "
           f"design crowd: the mean over its seeds. The frontier is the most accurate "
           f"configuration for the money; the target is {fmt_target(target)} of receipts exactly "
           f"right on average. Cost: cameras, load-cell plates and their installation. A rate "
           f"of counted receipts comes with its count and its 95&nbsp;% interval (Wilson's, "
           f"receipts pooled over seeds).</p>",
           _prices_table(prices)]
    if not plans:
        return "".join(out) + nodata(no_finished_run("accuracy against cost") if not rows
                                     else no_store_runs("accuracy against cost"))
    for p in plans:
        out.append(f"<h3>{esc(p.store)}</h3>")
        if not p.configs:
            srows = [r for r in crowd_rows(rows) if str(r.get("store")) == p.store]
            out.append(nodata(why_no_receipts(p.store, srows, "accuracy against cost")))
            continue
        out.append(_verdict(p, target))
        if p.unscored:
            out.append(f"<p class=\"note\">{p.unscored} configuration(s) without a scored "
                       f"receipt or a cost are not drawn.</p>")
        out.append(_cost_figures(p, target))
        out.append(_frontier_table(p, target))
        out.append(_short_notes(p, rows))
        out.append(_review_table(p, columns))
        out.append(_crowd_levels_table(p.store, rows, columns, target))
    return "".join(out)


def _verdict(p: StorePlan, target: float) -> str:
    """The cheapest configuration meeting the target, or the most accurate one."""
    if p.chosen is not None:
        g = p.configs[p.chosen]
        return (f'<p class="verdict ok">Cheapest configuration meeting {fmt_target(target)}: '
                f'<b>{esc(p.labels[p.chosen])}</b>, {fmt_usd(p.cost[p.chosen])} '
                f'({fmt_num(g.mean("cameras"), ".0f")} cameras, '
                f'{fmt_num(g.mean("plates"), ".0f")} plates), '
                f'{_exact(g, p.exact[p.chosen])} exact over '
                f'{g.stat("exact_match").n} seed(s).</p>')
    b = p.best
    return (f'<p class="verdict bad">No configuration of {esc(p.store)} meets '
            f'{fmt_target(target)} at {esc(p.condition)}; the most accurate is '
            f'<b>{esc(p.labels[b])}</b> at {_exact(p.configs[b], p.exact[b])} '
            f'({fmt_usd(p.cost[b])}).</p>')


def _exact(g, mean: float) -> str:
    """A configuration's exact-match rate (mean over seeds) with its pooled receipts."""
    return fmt_rate(mean, pooled_count(g.rows, "exact_match"), 2)


def _cost_figures(p: StorePlan, target: float) -> str:
    """The accuracy-against-cost figure, and beside it review against cameras where the
    rows have review rates."""
    uri, interval = cost_figure(p, target)
    cost_fig = figure_html(uri, f"pareto-{p.store}",
                           f"{esc(p.store)}: receipt exact match against hardware cost, "
                           f"{esc(p.condition)}; {BARS_CI if interval else BARS_SPREAD}.",
                           f"accuracy vs cost, {p.store}")
    rev = review_figure(p)
    if rev is None:
        return cost_fig
    uri, left_out = rev
    dropped = (f" Labels left out for want of room: {esc('; '.join(left_out))}."
               if left_out else "")
    return ('<div class="pair">' + cost_fig + figure_html(
        uri, f"review-{p.store}",
        f"{esc(p.store)}: receipts sent to review per 1,000 issued against cameras, one point "
        f"per configuration (mean over seeds; bars: 95&nbsp;% Wilson interval of the pooled "
        f"counts); labels: flagged of issued over its seeds.{dropped}",
        f"review vs cameras, {p.store}") + "</div>")


def _frontier_table(p: StorePlan, target: float) -> str:
    """The configurations on the Pareto frontier: hardware, cost and accuracy."""
    head = ["configuration", "cameras", "plates", "cost", "cameras / plates / install",
            "exact (mean over seeds; receipts pooled, 95&nbsp;% CI)",
            "exact (min-max over seeds)", "F1 (mean score)", "seeds", "meets target"]
    body = []
    for i in p.frontier:
        g = p.configs[i]
        st = g.stat("exact_match")
        split = " / ".join(fmt_usd(g.mean(f"cost_{k}_usd")) for k in ("cameras", "plates",
                                                                     "install"))
        body.append([esc(p.labels[i]), fmt_num(g.mean("cameras"), ".0f"),
                     fmt_num(g.mean("plates"), ".0f"), fmt_usd(p.cost[i]), split,
                     _exact(g, st.mean), f"{fmt_pct(st.lo, 2)} &ndash; {fmt_pct(st.hi, 2)}",
                     fmt_pct(g.mean("f1"), 2), str(st.n),
                     "yes" if st.mean >= target else "no"])
    return "<p>Pareto frontier:</p>" + table_html(head, body, "num")


def _short_notes(p: StorePlan, rows: list[dict]) -> str:
    """What a short study lacks here: a second configuration, a second seed."""
    notes = []
    if len(p.configs) == 1:
        srows = [r for r in crowd_rows(rows) if str(r.get("store")) == p.store]
        notes.append(f"This study ran one configuration of {esc(p.store)} at "
                     f"{esc(p.condition)}; a frontier of accuracy against cost needs at least "
                     f"two: {more_layouts(srows)}, or more plate granularities "
                     f"({code('bins_per_plate = [1, 2]')} in the store's "
                     f"{code('[[stores]]')} table).")
    if all(len(g.rows) == 1 for g in p.configs):
        notes.append(one_seed("the min-max over seeds"))
    return "".join(nodata(n) for n in notes)


def _review_table(p: StorePlan, columns: set[str]) -> str:
    """Per configuration of ``p``: receipts sent to review per 1,000 with their counts, the
    share of money in them, exact match among the unflagged and the silent wrongs, summed
    over the seeds (empty without the review counts, as in a study written before them)."""
    if "receipts_flagged" not in columns or not any(
            pooled_count(g.rows, "review_per_1000") for g in p.configs):
        return ""
    body = []
    for g, label in zip(p.configs, p.labels, strict=True):
        rev = pooled_count(g.rows, "review_per_1000")
        unf = pooled_count(g.rows, "unflagged_exact")
        money = [(as_float(r.get("money_flagged_usd")), as_float(r.get("money_true_usd")))
                 for r in g.rows]
        money = [(a, b) for a, b in money if math.isfinite(a) and math.isfinite(b)]
        mf, mt = sum(a for a, _ in money), sum(b for _, b in money)
        if unf is None:
            exact_unf = "&ndash; (no count recorded)"
        elif unf.n == 0 and rev is not None and rev.n:
            exact_unf = "&ndash; (every receipt went to review)"
        else:
            exact_unf = fmt_rate(unf.rate, unf)
        body.append([esc(label), fmt_num(g.mean("cameras"), ".0f"),
                     fmt_rate(rev.rate if rev else None, rev, 0, 1000),
                     (f"${mf:,.2f} of ${mt:,.2f} ({fmt_pct(mf / mt)})" if mt > 0
                      else "&ndash;"),
                     exact_unf, str(unf.n - unf.k) if unf is not None else "&ndash;"])
    head = ["configuration", "cameras", "sent to review per 1,000 (95&nbsp;% CI)",
            "money in flagged receipts (a share of dollars: no interval)",
            "exact among unflagged (95&nbsp;% CI)", "silent wrong"]
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
                     _exact(plan.configs[i], plan.exact[i])])
    return ("<p>Cheapest configuration meeting the target at each crowd level:</p>"
            + table_html(["shoppers", "configuration", "cost",
                          "exact (mean over seeds; 95&nbsp;% CI)"], body, "num"))


# ---------------------------------------------------------------------------------------------
# accuracy against the crowd


def crowd_section(rows: list[dict], columns: set[str], stores: list[str]) -> str:
    """Receipt accuracy against the crowd: per store, one line per configuration run at
    more than one crowd level; for a store without one, what it lacks."""
    out = ["<h2>Receipt accuracy against the crowd</h2>"]
    what = "curve of accuracy against the crowd"
    if not crowd_rows(rows):
        return "".join(out) + nodata(no_finished_run(what) if not rows else no_store_runs(what))
    params = tuple(p for p in PARAMS if p in columns and p not in ("shoppers",))
    one_level: dict[str, float] = {}        # stores run at one crowd level: that level
    for s in stores:
        srows = [r for r in crowd_rows(rows) if str(r.get("store")) == s]
        levels = sorted({v for r in srows if math.isfinite(v := as_float(r.get("shoppers")))})
        if srows and all(r.get("warm_start") is True for r in srows):
            out.append(nodata(why_no_receipts(s, srows, what)))      # no receipt scored
            continue
        if srows and len(levels) < 2:
            one_level[s] = levels[0] if levels else math.nan
            continue
        lines = [g for g in group_rows(srows, params)
                 if len({as_float(r.get("shoppers")) for r in g.rows}) >= 2]
        drawn = crowd_figure(s, lines, varying_params(lines, params)) if lines else None
        if drawn is None:
            if srows:
                out.append(nodata(why_no_receipts(s, srows, what)))
            continue
        uri, interval = drawn
        out.append(figure_html(uri, f"crowd-{s}",
                               f"{esc(s)}: receipt accuracy against the crowd, one line per "
                               f"configuration, the mean over its seeds; exact match "
                               f"{BARS_CI if interval else BARS_SPREAD}; F1 (a mean score, no "
                               f"count behind it) bars: min-max over the seeds.",
                               f"accuracy vs crowd, {s}"))
    if one_level:
        out.append(nodata(one_crowd_level(one_level, f"a {what}")))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# fidelity


def fidelity_section(rows: list[dict], columns: set[str]) -> str:
    """The scripted scenarios against the AutoCheckout 2020 published figures: the figure
    (with shoppers per shelf) and a table per scenario and core."""
    out = ["<h2>Fidelity against AutoCheckout 2020</h2>"]
    sc = [r for r in rows if present(r.get("scenario"))]
    if not sc:
        return "".join(out) + nodata(no_finished_run("comparison") if not rows
                                     else no_scenarios())
    metric = "f1" if any(math.isfinite(as_float(r.get("f1"))) for r in sc) else "exact_match"
    mname = "receipt F1" if metric == "f1" else "receipts exactly right"
    per_shelf = [r for r in sc if present(r.get("shoppers_per_shelf"))]
    if per_shelf:
        uri, interval = fidelity_figure(per_shelf, metric, mname)
        bars = ("the 95&nbsp;% Wilson interval of the receipts pooled over scenarios and seeds"
                if interval else "min-max over scenarios and seeds")
        out.append(figure_html(uri, "fidelity",
                               f"Scripted scenarios: {mname} per core (mean; bars: {bars}) "
                               f"against shoppers at one shelf, beside the AutoCheckout 2020 "
                               f"teams' published figures.", "fidelity"))
    else:
        out.append(nodata(no_shoppers_per_shelf()))
    body = []
    as_written = "ran_as_written" in columns
    for g in group_rows(sc, ("scenario", "shoppers_per_shelf", "core")):
        line = [esc(g.get("scenario")), fmt_cell(g.get("shoppers_per_shelf")),
                esc(g.get("core")), str(len(g.rows)),
                fmt_rate(g.mean("exact_match"), pooled_count(g.rows, "exact_match")),
                fmt_pct(g.mean("f1"))]
        if as_written:
            flags = [r.get("ran_as_written") for r in g.rows]
            line.append("yes" if all(f is True for f in flags) else
                        "no" if any(f is False for f in flags) else "&ndash;")
        body.append(line)
    out.append(table_html(["scenario", "shoppers per shelf", "core", "runs",
                           "exact (95&nbsp;% CI)", "F1 (mean score)"]
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
        return "".join(out) + nodata(
            "No configuration has both a scored receipt and a cost, so none was chosen and "
            "there is no layout to draw (Accuracy against hardware cost, above, says what the "
            "study lacks).")
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
                               f"bin faces {fmt_pct(g.mean('bins_k1'))} (shares of floor "
                               f"area and of bin faces, measured on the layout: no count, no "
                               f"interval).",
                               f"coverage heatmap, {p.store}"))
    return "".join(out)
