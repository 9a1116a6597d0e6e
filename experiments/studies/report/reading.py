"""What the report reads from a study's results folder: the results table, the study file
and its price table, and where a configuration's store spec is.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from experiments.studies.report.groups import Group, as_float, present
from experiments.studies.spec import (
    TARGET_EXACT as DEFAULT_TARGET,  # mean exact-match goal (0.995)
)


class ReportError(ValueError):
    """The results cannot be reported: a missing folder, no runs, an unreadable file."""


def read_results(results_dir: str | Path, skipped: list[str] | None = None) -> pa.Table:
    """The results table of a study folder (:func:`experiments.studies.results.load_results`: the
    finished ``results.parquet``, else the ``runs/*.parquet`` so far), checked to hold runs.
    Raises :class:`ReportError` naming the path when there is no folder, no results or an
    unreadable file (with ``skipped``, a list: unreadable run files are left out and named
    there instead)."""
    from experiments.studies.results import ResultsError, load_results

    d = Path(results_dir)
    if d.exists() and not d.is_dir():
        raise ReportError(f"{d}: not a folder; expected the results folder a 'storetwin "
                          f"study' wrote (results.parquet or runs/*.parquet)")
    try:   # with a list, one bad row file costs its run, not the report
        table = load_results(d, skipped)
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
    target = (check_target(doc["target_exact"], f"{p}: target_exact")
              if "target_exact" in doc else DEFAULT_TARGET)
    m = doc.get("metrics", [])
    metrics = tuple(x for x in (m if isinstance(m, list) else [m]) if isinstance(x, str))
    cell = as_float(doc.get("coverage_cell_m"))
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


def check_target(target, what: str) -> float:
    """``target`` as a fraction in (0, 1]; :class:`ReportError` naming ``what`` otherwise."""
    t = as_float(target)
    if isinstance(target, bool) or not 0 < t <= 1:
        raise ReportError(f"{what} = {target!r} is not allowed; expected a fraction in (0, 1] "
                          f"(0.995: 99.5 % of receipts exactly right)")
    return t


def store_for(results_dir: Path, g: Group) -> str | Path | None:
    """The spec a configuration's store loads from: the study's copy at its plate
    granularity (``stores/<name>-bpp<n>.toml``), the preset of that name, or the store as
    the study file wrote it (relative to the results folder, then as given)."""
    from scenes.presets import PRESETS

    name, bpp, ref = g.get("store"), g.get("bins_per_plate"), g.get("store_ref")
    if present(bpp):
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
