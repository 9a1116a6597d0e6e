"""What a study lacks for a part of its report, and the change to its study file that would
supply it (the keys of ``experiments/studies/spec.py``, docs/studies.md): a section with
nothing to draw, or a curve with one point, says this instead of a bare "no data".

Each function returns one sentence or two of HTML (backticks as ``<code>``), naming the
missing thing first, then the study-file change.
"""

from __future__ import annotations

import math

from experiments.studies.report.groups import as_float, present
from experiments.studies.report.markup import esc

#: the preset stores, smallest first (scenes/data/stores/)
PRESET_ORDER = ("kiosk", "grocery", "large", "supercenter")


def code(text: str) -> str:
    """``text`` as inline code."""
    return f"<code>{esc(text)}</code>"


def _quoted(key: str, value: str) -> str:
    """``key = "value"`` as inline code."""
    return code(f'{key} = "{value}"')


def no_finished_run(what: str) -> str:
    """No run finished: the errors are in the run table."""
    return (f"No run of this study finished, so there is no {what}: the errors are in the "
            f"run table below; once they are fixed, {code('storetwin study FILE --retry-failed')}"
            f" runs the failed runs again.")


def no_store_runs(what: str) -> str:
    """Only scripted scenarios: no store with a sampled crowd."""
    kiosk = _quoted("store", "kiosk")
    return (f"This study ran no store with a sampled crowd (only scripted scenarios), so "
            f"there is no {what}: add a {code('[[stores]]')} table ({kiosk}) and a crowd "
            f"({code('shoppers = [20]')}) to the study file.")


def why_no_receipts(store: str, rows: list[dict], what: str) -> str:
    """Why the runs ``rows`` of ``store`` have no scored receipt (a warm start, runs too short
    for anyone to leave, no cost recorded), and what would give ``what``."""
    s = esc(store)
    if rows and all(r.get("warm_start") is True for r in rows):
        return (f"The runs of {s} start warm ({code('warm_start = true')}): the core never saw "
                f"those shoppers enter, so no receipt is scored and there is no {what}. Set "
                f"{code('warm_start = false')} (at the top of the study file or in the "
                f"store's {code('[[stores]]')} table) for a billing study.")
    if rows and all(as_float(r.get("receipts")) == 0 for r in rows):
        mins = sorted({as_float(r.get("minutes")) for r in rows
                       if math.isfinite(as_float(r.get("minutes")))})
        ran = f" in {', '.join(f'{m:g}' for m in mins)} simulated minutes" if mins else ""
        return (f"No shopper left {s} early enough to be scored{ran}, so there is no {what}: "
                f"lengthen the runs ({code('minutes = 10')} at the top of the study file or "
                f"in the store's {code('[[stores]]')} table).")
    if rows and not any(math.isfinite(as_float(r.get("cost_total_usd"))) for r in rows):
        return (f"The runs of {s} hold no hardware cost ({code('cost_total_usd')}: written "
                f"before the study costed its layouts), so there is no {what}: run the study "
                f"again into a new results folder ({code('storetwin study FILE --out NEW')}).")
    return (f"No configuration of {s} has both a scored receipt and a cost, so there is no "
            f"{what}.")


def one_crowd_level(levels: dict[str, float], what: str) -> str:
    """Each store of ``levels`` (store: its one crowd level [shoppers]) ran one crowd
    level: ``what``, a curve against the crowd, needs two."""
    def two(lv: float) -> str:
        return f"[{lv:g}, {2 * lv:g}]" if math.isfinite(lv) and lv > 0 else "[10, 20]"
    if len(levels) == 1:
        (store, lv), = levels.items()
        at = f" ({lv:g} shoppers)" if math.isfinite(lv) else ""
        return (f"This study ran {esc(store)} at one crowd level{at}; {what} needs at least "
                f"two: set {code(f'shoppers = {two(lv)}')} at the top of the study file (or "
                f"in the store's {code('[[stores]]')} table).")
    ran = " and ".join(f"{esc(s)} at {lv:g}" for s, lv in levels.items() if math.isfinite(lv))
    first = next(iter(levels.values()))
    return (f"This study ran {ran} shoppers, one crowd level each; {what} needs at least two "
            f"per store: give each of their {code('[[stores]]')} tables two, e.g. "
            f"{code(f'shoppers = {two(first)}')}.")


def one_store_size(store: str, area: float, what: str) -> str:
    """One store size: a growth law needs two."""
    bigger = next((p for p in PRESET_ORDER[PRESET_ORDER.index(store) + 1:]), None) \
        if store in PRESET_ORDER else None
    add = (f"add a {code('[[stores]]')} table with a larger store "
           f"({_quoted('store', bigger)})" if bigger
           else f"add a {code('[[stores]]')} table with another store")
    size = f", {area:,.0f} sq ft" if math.isfinite(area) else ""
    return (f"This study ran one store size ({esc(store)}{size}); {what} needs at least two: "
            f"{add}; experiments/studies/scale.toml runs all four presets.")


def more_layouts(rows: list[dict]) -> str:
    """The study-file change that gives a store more camera counts, for the layout
    generator its rows used."""
    gens = {str(r.get("layout_generator")) for r in rows if present(r.get("layout_generator"))}
    table, spacings = code("[[layouts]]"), code("spacing_m = [2.5, 4.0]")
    if gens == {"greedy"}:
        return f"give the {table} table more coverage targets ({code('target = [0.8, 0.95]')})"
    if gens == {"file"}:
        return f"add a {table} table per layout file ({_quoted('generator', 'file')}, " \
               f"{code('path')})"
    if gens <= {"grid"}:
        return f"give the {table} table more spacings ({spacings})"
    return f"add a {table} table of ceiling grids ({_quoted('generator', 'grid')}, {spacings})"


def one_seed(what: str) -> str:
    """One seed per configuration: no spread over seeds."""
    return (f"Each configuration ran one seed, so {what} spans nothing: set "
            f"{code('seeds = 3')} (seeds 0, 1, 2) in the study file.")


def no_scenarios() -> str:
    """No scripted scenario: nothing to hold against AutoCheckout 2020."""
    pick, swap = code('names = ["pick"]'), code('names = ["swap"]')
    return (f"This study ran no scripted scenarios, so there is nothing to hold against the "
            f"AutoCheckout 2020 figures: add {code('[[scenarios]]')} tables, e.g. {pick} with "
            f"{code('shoppers_per_shelf = 1')} and {swap} with "
            f"{code('shoppers_per_shelf = 2')} (experiments/studies/fidelity.toml has the "
            f"full set).")


def no_shoppers_per_shelf() -> str:
    """Scenario runs without their crowding."""
    return (f"The scenario runs carry no {code('shoppers_per_shelf')}, so they cannot be drawn "
            f"against the AutoCheckout 2020 crowding (table only): set "
            f"{code('shoppers_per_shelf')} in each {code('[[scenarios]]')} table.")


def no_panel() -> str:
    """No panel of returning shoppers: nothing learnt about them."""
    return (f"This study had no panel of returning shoppers, so there is nothing learnt about "
            f"their tastes: add an {code('[insights]')} table with {code('panel = 40')} "
            f"(returning accounts) and runs long enough for repeat visits "
            f"({code('minutes = 60')}); experiments/studies/insights.toml is one.")


def no_stage_columns() -> str:
    """Rows written before the stage profile."""
    return (f"The results hold no stage times ({code('stage_*_s')}: written by a storetwin "
            f"older than the stage profile), so there is no stage profile: run the study "
            f"again into a new results folder ({code('storetwin study FILE --out NEW')}).")
