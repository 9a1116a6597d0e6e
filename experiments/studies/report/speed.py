"""The report's section on speed against store size: the speed targets met or missed, the
growth laws of real-time factor and core time, and where the time goes (the stage profile).
"""

from __future__ import annotations

import math

import numpy as np

from experiments.studies.report.analysis import (
    SPEED_TARGETS,
    crowd_rows,
    growth_laws,
    stage_columns,
    stage_profile,
)
from experiments.studies.report.figures import scale_figure, stage_figure
from experiments.studies.report.groups import as_float
from experiments.studies.report.lacking import (
    code,
    no_finished_run,
    no_stage_columns,
    no_store_runs,
    one_store_size,
)
from experiments.studies.report.markup import esc, figure_html, nodata


def scale_section(rows: list[dict], columns: set[str], stores: list[str]) -> str:
    """Speed against store size: the speed targets, the runs' speeds against store area
    with their growth laws, and the stage profile."""
    out = ["<h2>Speed against store size</h2>"]
    crowd = crowd_rows(rows)
    have = [r for r in crowd if math.isfinite(as_float(r.get("area_sqft")))
            and (math.isfinite(as_float(r.get("real_time_factor")))
                 or math.isfinite(as_float(r.get("core_ms_per_tick"))))]
    if not have:
        what = "speed against store size"
        return "".join(out) + nodata(
            no_finished_run(what) if not rows else no_store_runs(what) if not crowd else
            f"No finished store run records its area and a speed ({code('area_sqft')}, "
            f"{code('real_time_factor')}, {code('core_ms_per_tick')}: rows of an older "
            f"storetwin), so there is no {what}: run the study again into a new results "
            f"folder ({code('storetwin study FILE --out NEW')}).")
    out.append(_speed_targets(crowd))
    order = {s: i for i, s in enumerate(stores)}
    names = sorted({str(r.get("store")) for r in have}, key=lambda s: (order.get(s, 1e9), s))
    fits = growth_laws(have)
    out.append(figure_html(scale_figure(have, crowd, names, fits), "scale",
                           "Real-time factor and core time per camera frame against store "
                           "area, one point per run (log-log axes where the runs span store "
                           "sizes), with power laws fitted by least squares in log space.",
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
        out.append(nodata(_why_no_law(have)))
    out.append(_stage_block(crowd, columns, names))
    return "".join(out)


def _why_no_law(have: list[dict]) -> str:
    """Why no growth law was fitted to the runs ``have``: one store size, or no positive
    speed at two."""
    what = "a growth law of speed against store size"
    areas = sorted({as_float(r.get("area_sqft")) for r in have})
    if len(areas) == 1:
        return one_store_size(str(have[0].get("store")), areas[0], what)
    return f"No speed above zero was measured at two store sizes, so there is no {what}."


def _speed_targets(crowd: list[dict]) -> str:
    """Each of :data:`SPEED_TARGETS` met or missed, at the crowd nearest its own (the full
    core's runs where there are some)."""
    items = []
    for t in SPEED_TARGETS:
        rows = [r for r in crowd if str(r.get("store")) == t.store
                and math.isfinite(as_float(r.get("real_time_factor")))]
        full = [r for r in rows if r.get("core") == "full"]
        rows = full or rows
        levels = sorted({as_float(r.get("shoppers")) for r in rows if
                         math.isfinite(as_float(r.get("shoppers")))})
        if not rows:
            continue
        if levels:
            lv = min(levels, key=lambda v: (abs(math.log(max(v, 1e-9) / t.shoppers)), v))
            rows = [r for r in rows if as_float(r.get("shoppers")) == lv]
        rtf = np.array([as_float(r.get("real_time_factor")) for r in rows])
        mean = float(rtf.mean())
        met = mean >= t.min_rtf
        at = f"{lv:g} shoppers" if levels else "shoppers unknown"
        near = ("" if not levels or abs(lv - t.shoppers) <= 0.25 * t.shoppers
                else f" (the target is stated at about {t.shoppers:g} shoppers; the nearest "
                     f"crowd in the data is {lv:g})")
        cpus = sorted({int(c) for r in rows if math.isfinite(c := as_float(r.get("host_cpus")))})
        on = f" on {'/'.join(map(str, cpus))}-CPU hosts" if cpus else ""
        items.append(f'<li class="{"ok" if met else "bad"}">{esc(t.store)} at {at}: real-time '
                     f"factor {mean:,.3g}x mean, {float(rtf.min()):,.3g}x min over {rtf.size} "
                     f"run(s){on} against a target of {t.min_rtf:g}x: "
                     f"<b>{'met' if met else 'missed'}</b>{near}.</li>")
    if not items:
        return ""
    return "<p>Speed targets:</p><ul class=\"targets\">" + "".join(items) + "</ul>"


def _stage_block(crowd: list[dict], columns: set[str], stores: list[str]) -> str:
    """Where the time goes: the stage profile's figure and, per group, the stage that
    dominates."""
    stages = stage_columns(columns)
    if not stages:
        return nodata(no_stage_columns())
    prof = stage_profile(crowd, stages, stores)
    if prof is None:
        return nodata(f"No run records its simulated time ({code('sim_s')}) beside its stage "
                      f"times, so there is no stage profile: run the study again into a new "
                      f"results folder ({code('storetwin study FILE --out NEW')}).")
    per, labels = prof.per, prof.labels
    items = []
    for i, g in enumerate(prof.groups):
        if prof.overlap[i] and "core" in stages:
            # the core ran beside the twin: the wall time is the twin's (the slower side)
            c = stages.index("core")
            twin = per[i].copy()
            twin[c] = -1.0
            j = int(np.argmax(twin))
            rest = float(per[i].sum() - per[i, c])
            items.append(f"<li>{esc(labels[i])}: <b>{esc(stages[j])}</b> dominates the twin "
                         f"({100 * per[i, j] / rest:.0f} % of its {rest:.3g} s per simulated "
                         f"second); the core, in its own process, took {per[i, c]:.3g} s per "
                         f"simulated second beside it.</li>")
            continue
        j = int(np.argmax(per[i]))
        items.append(f"<li>{esc(labels[i])}: <b>{esc(stages[j])}</b> dominates "
                     f"({100 * prof.share[i, j]:.0f} % of the wall time, {per[i, j]:.3g} s per "
                     f"simulated second of {prof.total[i]:.3g}).</li>")
    note = (" Runs marked \u201ccore ||\u201d ran the core in its own process beside the "
            "twin: its share overlaps the others, and the real-time factor is the measured "
            "one." if any(prof.overlap) else "")
    return (figure_html(stage_figure(prof), "stages", "Wall time per stage, as shares of the "
                        "wall seconds per simulated second (stage seconds / simulated seconds, "
                        "mean over runs)." + note, "stage profile")
            + "<ul>" + "".join(items) + "</ul>")
