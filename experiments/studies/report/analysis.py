"""The numbers the report states: Pareto frontiers of accuracy against cost, the cheapest
configuration meeting the target, growth laws fitted to speed against store size, each
store's plan at its design crowd, the stage profile, and the goals and published figures the
results are held against.

The **design crowd** of a store is the largest target crowd among its sampled-crowd runs,
with the fewest dead sensors, where the cost frontier is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from experiments.studies.report.groups import (
    PARAMS,
    Group,
    as_float,
    configurations,
    fmt_param,
    group_label,
    group_rows,
    present,
    sort_key,
    varying_params,
)

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


#: the speeds (result columns) whose growth with the store's area the report fits
GROWTH_METRICS: tuple[str, ...] = ("real_time_factor", "core_ms_per_tick")


def growth_laws(rows: list[dict]) -> dict[str, PowerLaw | None]:
    """Each of :data:`GROWTH_METRICS` fitted against the store area over ``rows`` (None
    where it cannot be: fewer than two distinct areas with a positive value)."""
    area = np.array([as_float(r.get("area_sqft")) for r in rows])
    return {metric: fit_power_law(area, np.array([as_float(r.get(metric)) for r in rows]))
            for metric in GROWTH_METRICS}


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


def store_order(rows: list[dict]) -> list[str]:
    """The stores named in ``rows``, smallest first."""
    area: dict[str, float] = {}
    for r in rows:
        if not present(r.get("store")):
            continue
        s = str(r.get("store"))
        a = as_float(r.get("area_sqft"))
        area[s] = a if math.isfinite(a) else area.get(s, float("inf"))
    return sorted(area, key=lambda s: (area[s], s))


def crowd_rows(rows: list[dict]) -> list[dict]:
    """Sampled-crowd runs (no scripted scenario)."""
    return [r for r in rows if not present(r.get("scenario"))]


def sound_rows(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """(the runs of ``rows`` a plan is made on, the condition they share in words): those
    without a fault schedule (a fault schedule is no configuration to buy; all of them when
    every run has one) and with the fewest dead cameras and plates."""
    cond = []
    if any(r.get("faults") for r in rows):
        clean = [r for r in rows if not r.get("faults")]
        rows = clean or rows
        if not clean:
            cond.append("under fault schedules only")
    for p in ("dead_camera_fraction", "dead_plate_fraction"):
        v = [as_float(r.get(p)) for r in rows if math.isfinite(as_float(r.get(p)))]
        if v:
            m = min(v)
            rows = [r for r in rows
                    if as_float(r.get(p)) == m or not math.isfinite(as_float(r.get(p)))]
            if m > 0:
                cond.append(fmt_param(p, m))
    return rows, cond


def store_plan(store: str, rows: list[dict], columns: set[str], target: float
               ) -> StorePlan | None:
    """The :class:`StorePlan` of ``store`` among ``rows`` (its sampled-crowd runs at the
    design crowd), or None when it has no sampled-crowd run."""
    rows = [r for r in crowd_rows(rows) if str(r.get("store")) == store]
    if not rows:
        return None
    rows, cond = sound_rows(rows)
    sh = [as_float(r.get("shoppers")) for r in rows
          if math.isfinite(as_float(r.get("shoppers")))]
    if sh:
        rows = [r for r in rows if as_float(r.get("shoppers")) == max(sh)]
        cond.insert(0, fmt_param("shoppers", max(sh)))
    if not any(c.endswith("dead") for c in cond):
        cond.append("no dead sensors")
    groups = configurations(rows, columns)
    scored = [g for g in groups if math.isfinite(g.mean("exact_match"))
              and math.isfinite(g.mean("cost_total_usd"))]
    var = varying_params(scored, PARAMS)
    labels = [group_label(g, var) for g in scored]
    cost = np.array([g.mean("cost_total_usd") for g in scored])
    exact = np.array([g.mean("exact_match") for g in scored])
    area = as_float(rows[0].get("area_sqft"))
    chosen = cheapest_meeting(cost, exact, target)
    best = None
    if chosen is None and len(scored):
        best = int(np.lexsort((np.arange(len(scored)), cost, -exact))[0])
    return StorePlan(store, area, ", ".join(cond), scored, labels, cost, exact,
                     pareto_frontier(cost, exact), chosen, best, len(groups) - len(scored))


# ---------------------------------------------------------------------------------------------
# the stage profile


def stage_columns(columns: set[str]) -> list[str]:
    """The stages with a ``stage_<name>_s`` column, known ones in pipeline order first."""
    names = [c[len("stage_"):-len("_s")] for c in columns
             if c.startswith("stage_") and c.endswith("_s") and len(c) > len("stage__s")]
    known = [s for s in STAGE_ORDER if s in names]
    return known + sorted(set(names) - set(known))


@dataclass(frozen=True)
class StageProfile:
    """Where the wall time goes, per group of runs (store, crowd, and core when the runs
    have more than one).

    stages: the stage names; params: the parameters that make a group; groups, labels: the
    groups (by store as ordered, then crowd, then core) and their labels; per: (g, s) wall
    seconds of each stage per simulated second (mean over the group's runs); total: (g,)
    their sum; share: (g, s) ``per / total``; overlap: (g,) the group has a run with the
    core in its own process (its stage then overlaps the twin's)."""

    stages: list[str]
    params: tuple[str, ...]
    groups: list[Group]
    labels: list[str]
    per: np.ndarray
    total: np.ndarray
    share: np.ndarray
    overlap: list[bool]


def stage_profile(crowd: list[dict], stages: list[str], stores: list[str]
                  ) -> StageProfile | None:
    """The :class:`StageProfile` of the sampled-crowd runs ``crowd`` over ``stages``, groups
    ordered by ``stores``; None when no run has a simulated time and a stage time."""
    cores = {r.get("core") for r in crowd}
    params = ("store", "shoppers") + (("core",) if len(cores) > 1 else ())
    rows = [r for r in crowd if as_float(r.get("sim_s")) > 0
            and any(math.isfinite(as_float(r.get(f"stage_{s}_s"))) for s in stages)]
    order = {s: i for i, s in enumerate(stores)}
    groups = sorted(group_rows(rows, params),
                    key=lambda g: (order.get(str(g.get("store")), 1e9), sort_key(g.get(
                        "shoppers")), str(g.get("core"))))
    if not groups:
        return None
    per = np.zeros((len(groups), len(stages)))       # wall seconds per simulated second
    for i, g in enumerate(groups):
        for j, s in enumerate(stages):
            v = np.array([as_float(r.get(f"stage_{s}_s")) / as_float(r.get("sim_s"))
                          for r in g.rows])
            v = v[np.isfinite(v)]
            per[i, j] = float(v.mean()) if v.size else 0.0
    labels = [" \u00b7 ".join([str(g.get("store"))] + [fmt_param(p, g.get(p))
                                                       for p in params[1:]]) for g in groups]
    total = per.sum(axis=1)
    share = per / np.where(total > 0, total, 1.0)[:, None]
    # with the core in its own process its stage overlaps the twin's: the stages then sum
    # to more than the wall time
    overlap = [any(r.get("core_process") is True for r in g.rows) for g in groups]
    return StageProfile(stages, params, groups, labels, per, total, share, overlap)
