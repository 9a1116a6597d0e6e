"""The report's section on what the store learns about its shoppers: tastes recovered from
the core's journeys against the till's baskets, per layout and shopper behaviour, the
item-to-item substitutions, and which layout bills best against which learns best.
"""

from __future__ import annotations

import json
import math

from experiments.studies.report.figures import insights_figure
from experiments.studies.report.groups import (
    Group,
    as_float,
    group_label,
    group_rows,
    varying_params,
)
from experiments.studies.report.intervals import pooled_count
from experiments.studies.report.lacking import code, no_finished_run, no_panel
from experiments.studies.report.markup import (
    esc,
    figure_html,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_usd,
    nodata,
    table_html,
)


def insights_section(rows: list[dict], columns: set[str]) -> str:
    """What the store learns about its shoppers: taste recovery from the journeys and from
    the till per configuration, the substitutions, and billing against learning."""
    out = ["<h2>What the store learns about its shoppers</h2>"]
    ins = [r for r in rows if math.isfinite(as_float(r.get("pref_rho_journeys")))]
    if not ins:
        return "".join(out) + nodata(no_finished_run("panel of returning shoppers") if not rows
                                     else no_panel())
    params = tuple(p for p in ("store", "layout", "bins_per_plate", "shoppers",
                               "dead_camera_fraction", "dead_plate_fraction", "core",
                               "look_taste") if p in columns)
    groups = group_rows(ins, params)
    varying = varying_params(groups, params)
    out.append("<p>Each run has a panel of returning accounts whose latent tastes only the "
               "twin knows. The core's journeys (picks, put-backs, substitutions, looks) and, "
               "beside them, the till's exact baskets alone are fitted with the same logit "
               "(docs/insights.md); the score is the Spearman rank correlation across "
               "accounts of recovered and latent weights, averaged over organic, price and "
               "brand (1: the order of the shoppers' tastes recovered exactly, 0: none of "
               "it).</p>")
    # recovery against visits, one panel per look_taste
    out.append(figure_html(insights_figure(ins, groups, varying), "insights-visits",
                           "Taste recovery against the number of visits per account (mean, min-max "
                           "over seeds): from the journeys (solid) and from the till's baskets "
                           "alone (dashed). Look taste: how much shoppers' tastes choose where "
                           "they stop to look (0: at random).", "taste recovery against visits"))
    body = []
    for g in groups:
        j, r = g.stat("pref_rho_journeys"), g.stat("pref_rho_receipts")
        line = [esc(group_label(g, varying)), str(len(g.rows)), _exact(g),
                f"{j.mean:.2f}" if j.n else "&ndash;", f"{r.mean:.2f}" if r.n else "&ndash;"]
        for a in ("organic", "price", "brand"):
            line.append(f"{g.mean(f'pref_rho_{a}_journeys'):.2f} / "
                        f"{g.mean(f'pref_rho_{a}_receipts'):.2f}")
        line += [fmt_pct(g.mean(f"next_visit_acc_{s}"))
                 for s in ("journeys", "receipts", "population")]
        line += [fmt_num(g.mean("visits_per_account")), fmt_num(g.mean("substitutions")),
                 fmt_usd(g.mean("cost_total_usd")) if "cost_total_usd" in columns else "&ndash;"]
        body.append(line)
    out.append(table_html(["configuration", "runs", "exact receipts", "recovery, journeys",
                           "recovery, till", "organic j / t", "price j / t", "brand j / t",
                           "next visit, journeys", "next visit, till", "next visit, population",
                           "visits per account", "substitutions", "hardware"], body, "num"))
    out.append('<p class="note">Exact receipts: mean over seeds, with the receipts pooled over '
               "them and their 95&nbsp;% Wilson interval. The next-visit accuracies are shares "
               "of predicted visits whose count the results do not hold: no interval.</p>")
    lines = []
    for g in groups:
        j, r = g.mean("pref_rho_journeys"), g.mean("pref_rho_receipts")
        if math.isfinite(j) and math.isfinite(r):
            lines.append(f"<li>{esc(group_label(g, varying))}: journeys {j:.2f}, till {r:.2f} "
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
        bill = max(ok, key=lambda g: as_float(g.mean("exact_match")))
        learn = max(ok, key=lambda g: g.mean("pref_rho_journeys"))
        top = learn.mean("pref_rho_journeys")
        near = [g for g in ok if g.mean("pref_rho_journeys") >= top - 0.05
                and math.isfinite(g.mean("cost_total_usd"))]
        cheap = min(near, key=lambda g: g.mean("cost_total_usd")) if near else None
        text = (f"{esc(group_label(bill, varying))}: best billing, {_exact(bill)} exact; "
                + ("it also learns tastes best" if learn is bill else
                   f"best taste recovery: {esc(group_label(learn, varying))} (rho {top:.2f})"))
        if cheap is not None and cheap is not learn and cheap is not bill:
            text += (f"; {esc(group_label(cheap, varying))} learns within 0.05 of that "
                     f"(rho {cheap.mean('pref_rho_journeys'):.2f}) for "
                     f"{fmt_usd(cheap.mean('cost_total_usd'))}, billing {_exact(cheap)} exact")
        notes.append(f"<li>{text}</li>")
    if not notes:
        return ""
    return ('<p class="note">The layout that bills correctly is not necessarily the one '
            "that learns preferences, nor the cheapest that learns them as well "
            "(per shopper behaviour, mean over seeds):</p><ul>" + "".join(notes) + "</ul>")


def _exact(g: Group) -> str:
    """A group's exact-match rate (mean over seeds) with its pooled receipts and interval."""
    return fmt_rate(g.mean("exact_match"), pooled_count(g.rows, "exact_match"))


def _by_look_taste(groups: list[Group]) -> list[tuple[float, list[Group]]]:
    """``groups`` split by their look taste: (look taste, its groups), in first-seen order."""
    keys: dict[str, tuple[float, list[Group]]] = {}
    for g in groups:
        v = as_float(g.get("look_taste"))
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
        return nodata(f"No shopper in these runs put an item back and took another of its "
                      f"department within a minute, so there are no substitutions to list; "
                      f"longer runs ({code('minutes')}) give more chances.")
    from scenes.presets import PRESETS, load_store
    names: dict[str, str] = {}     # product names of the preset stores (a spec file's: SKUs)
    for store in sorted({r.get("store") for r in rows if r.get("store") in PRESETS}):
        cat = load_store(store).catalogue
        names.update({str(s): str(n) for s, n in zip(cat.sku, cat.name, strict=True)})
    top = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:12]

    def sku(s: str) -> str:
        return esc(f"{s} {names[s]}" if s in names else s)
    body = [[sku(a), sku(b), str(n), str(runs[(a, b)])] for (a, b), n in top]
    return ("<h3>Item-to-item substitutions</h3><p>Put back one item and taken another of "
            f"its department within a minute, summed over {len(rows)} runs (the "
            f"{len(top)} most frequent of {len(total)} pairs; per run in "
            "<code>insights/substitutions.parquet</code> of a run folder).</p>"
            + table_html(["put back", "taken instead", "times", "runs"], body, "num"))
