"""The rows of a study's results and the configurations they make: a cell read as a number,
groups of runs that share parameters (a **configuration** shares every parameter but the
seed), a metric's mean and spread over a group, and the labels that tell groups apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Parameters that make a configuration (all but the seed), in the order labels use them.
PARAMS: tuple[str, ...] = (
    "store", "store_ref", "layout", "layout_generator", "layout_param", "layout_model",
    "layout_file", "bins_per_plate", "core", "shoppers", "minutes", "warm_start",
    "dead_camera_fraction", "dead_plate_fraction", "faults", "scenario", "shoppers_per_shelf",
    "panel", "look_taste")


def as_float(v) -> float:
    """A cell as float: None (and non-numbers) as nan."""
    if v is None or isinstance(v, str):
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def present(v) -> bool:
    """The cell holds a value: not None, not nan."""
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def sort_key(v) -> tuple:
    """Orders cells of mixed kinds: numbers, then strings, then missing."""
    if not present(v):
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
        v = np.array([as_float(r.get(metric)) for r in self.rows])
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
    keys = sorted(groups, key=lambda k: tuple(sort_key(v) for v in k))
    return [Group(tuple(zip(params, k)), groups[k]) for k in keys]


def configurations(rows: list[dict], columns: set[str] | None = None) -> list[Group]:
    """The configurations of ``rows``: groups over every parameter in :data:`PARAMS` (that
    ``columns`` has, when given) but the seed."""
    params = PARAMS if columns is None else tuple(p for p in PARAMS if p in columns)
    return group_rows(rows, params)


# ---------------------------------------------------------------------------------------------
# labels


def fmt_param(name: str, v) -> str:
    """A parameter's value as a label says it (``20 shoppers``, ``full core``)."""
    if not present(v):
        return f"no {name}"
    if name == "core":
        return f"{v} core"
    if name == "bins_per_plate":
        return f"{int(v)} bin/plate" if int(v) == 1 else f"{int(v)} bins/plate"
    if name == "shoppers":
        return f"{as_float(v):g} shoppers"
    if name == "minutes":
        return f"{as_float(v):g} min"
    if name == "warm_start":
        return "warm start" if v else "cold start"
    if name == "dead_camera_fraction":
        return f"{100 * as_float(v):g} % cameras dead"
    if name == "dead_plate_fraction":
        return f"{100 * as_float(v):g} % plates dead"
    if name == "faults":
        return f"faults {v}"
    if name == "shoppers_per_shelf":
        return f"{int(v)} per shelf"
    if name == "layout_param":
        return f"{as_float(v):g}"
    if name == "panel":
        return f"panel of {int(v)}"
    if name == "look_taste":
        return f"look taste {as_float(v):g}"
    return str(v)


def varying_params(groups: list[Group], params: tuple[str, ...]) -> tuple[str, ...]:
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


def group_label(g: Group, varying: tuple[str, ...], always: tuple[str, ...] = ("layout",)) -> str:
    """The group's values of the ``varying`` parameters (and of ``always`` when present)."""
    parts = [fmt_param(p, g.get(p)) for p in PARAMS
             if p in varying or (p in always and present(g.get(p)))]
    return ", ".join(parts) if parts else "all runs"
