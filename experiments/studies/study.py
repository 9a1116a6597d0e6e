"""Capacity-planning studies: a TOML file expanded to runs, executed on a local process pool or
on Ray, each run's row kept in a results store that survives being killed.

A study (format ``storetwin-study/1``, docs/studies.md) names stores (presets or spec files,
optionally at several plate granularities), camera layouts (generators and parameters, or
files), crowd levels, faults, seeds and cores, or scripted scenarios; :func:`expand` makes
the cross product into :class:`RunSpec` rows, each with a ``run_id`` hashed from its
parameters. :func:`run_study` executes the runs not yet in the results store and writes one
Parquet file per finished run (``runs/<run_id>.parquet``, written to a temporary name and
renamed, so a SIGKILL loses at most the runs in flight); at the end it gathers them into
``results.parquet``. A run that raises is recorded as failed with its error; the study goes
on. Results are queryable with DuckDB (``SELECT ... FROM 'RESULTS/results.parquet'``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import product
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.scoring.prices import Prices, hardware_cost
from scenes.checks import ProblemsError, Reader, is_real, kind_of, parse_toml, read_text, show

FORMAT = "storetwin-study/1"
EXECUTORS = ("local", "ray")
GENERATORS = ("grid", "aisle_pairs", "shelf_facing", "greedy", "file")
STATUS_OK, STATUS_FAILED = "ok", "failed"
TARGET_EXACT = 0.995       # the receipt exact-match rate a planner asks for by default


class StudyError(ProblemsError):
    """A study file with problems, one (field path, message) each."""


class ResultsError(ValueError):
    """A results folder that cannot be read or written (names the file)."""


# ---------------------------------------------------------------------------------------------
# the study file


@dataclass(frozen=True)
class LayoutSpec:
    generator: str              # one of GENERATORS
    param: float | None         # grid spacing [m] or greedy target [-]
    model: str | None           # camera model (None: the generator's default)
    path: str | None            # a layout file (generator "file"), absolute
    stores: tuple[str, ...]     # store refs it applies to (empty: all)

    @property
    def label(self) -> str:
        if self.generator == "file":
            return f"file {Path(self.path or '').stem}"
        p = "" if self.param is None else f" {self.param:g}" + (
            " m" if self.generator == "grid" else "")
        m = f" {self.model}" if self.model else ""
        return f"{self.generator}{p}{m}"

    @property
    def slug(self) -> str:
        return self.label.replace(" ", "-").replace("/", "-")


@dataclass(frozen=True)
class StoreSpec:
    ref: str                          # preset name or absolute spec path
    written: str                      # as the study file wrote it (hashed into run ids)
    bins_per_plate: tuple[int | None, ...]
    shoppers: tuple[float, ...] | None
    minutes: float | None
    warm_start: bool


@dataclass(frozen=True)
class ScenarioGroup:
    names: tuple[str, ...]
    shoppers_per_shelf: int | None
    seeds: tuple[int, ...] | None      # None: each scenario's own seed


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    source: str                        # the file it was read from
    minutes: float
    seeds: tuple[int, ...]
    cores: tuple[str, ...]
    shoppers: tuple[float, ...]
    stores: tuple[StoreSpec, ...]
    layouts: tuple[LayoutSpec, ...]
    dead_camera_fraction: tuple[float, ...]
    dead_plate_fraction: tuple[float, ...]
    scenarios: tuple[ScenarioGroup, ...]
    prices: Prices
    target_exact: float
    coverage_cell_m: float | None      # None: 0.25 m up to grocery size, 0.5 m above
    metrics: tuple[str, ...]           # the columns the report's run table shows first
    text: str = field(default="", repr=False)
    # each run's core in its own process beside its twin (experiments.runs.pipeline): the same
    # results in less wall time where a run has 2 cores (e.g. --workers 1 on a 2-core box);
    # not a parameter of the runs (not hashed into run ids)
    core_process: bool = False
    insights: InsightsSpec | None = None


@dataclass(frozen=True)
class InsightsSpec:
    """A preference study (``[insights]``, docs/insights.md): every store run has a panel of
    ``panel`` returning accounts and scores the tastes recovered from its journeys and from
    its till (experiments.scoring.insights); ``look_taste`` is an axis (agents' attention to taste
    when they stop to look). ``key``: the study's pseudonym secret (never in the results)."""
    panel: int
    look_taste: tuple[float, ...]
    key: str = field(default="", repr=False)


_TOP = ("format", "name", "description", "minutes", "warm_start", "core_process", "seeds",
        "cores", "shoppers", "stores",
        "layouts", "faults", "scenarios", "prices", "target_exact", "coverage_cell_m",
        "metrics", "insights")


def _list(r: Reader, d: dict, key: str, path: str, check: Callable, default: list | None
          ) -> list | None:
    """A scalar or an array of them, each passed through ``check(value, path) -> value|None``."""
    if key not in d:
        if default is None:
            r.bad(f"{path}.{key}" if path else key, "is missing (required)")
        return default
    v = d[key]
    items = v if isinstance(v, list) else [v]
    p = f"{path}.{key}" if path else key
    if not items:
        r.bad(p, "is an empty array; expected at least one value")
        return None
    out = [check(x, f"{p}[{i}]" if isinstance(v, list) else p) for i, x in enumerate(items)]
    return None if any(x is None for x in out) else out


def _num(r: Reader, lo: float, hi: float, unit: str, integer: bool = False):
    def check(x, p):
        ok = (isinstance(x, int) and not isinstance(x, bool)) if integer else is_real(x)
        if not ok or not lo <= x <= hi:
            r.bad(p, f"= {show(x)} is not allowed; expected {'an integer' if integer else 'a number'}"
                     f" in [{lo:g}, {hi:g}] ({unit})")
            return None
        return int(x) if integer else float(x)
    return check


def _str(r: Reader, choices: tuple[str, ...] | None = None):
    def check(x, p):
        if not isinstance(x, str) or not x.strip() or (choices and x not in choices):
            want = f"one of {', '.join(choices)}" if choices else "a non-empty string"
            r.bad(p, f"= {show(x)} is not allowed; expected {want}")
            return None
        return x
    return check


def _core_spec(r: Reader):
    """A core: full, naive or package.module:Name that imports (experiments.runs.cores)."""
    from experiments.runs.cores import check_spec

    def check(x, p):
        if not isinstance(x, str) or not x.strip():
            r.bad(p, f"= {show(x)} is not allowed; expected full, naive or "
                     "package.module:Name")
            return None
        why = check_spec(x)
        if why is not None:
            r.bad(p, f"= {show(x)} is not allowed: {why}")
            return None
        return x
    return check


def _store_ref(r: Reader, ref: str, base: Path, p: str) -> str | None:
    from scenes.presets import PRESETS
    if ref in PRESETS:
        return ref
    f = (base / ref).resolve()
    if not f.is_file():
        r.bad(p, f"= {show(ref)} is neither a store preset ({', '.join(PRESETS)}) nor a spec "
                 f"file (looked for {f.name} next to the study file)")
        return None
    return str(f)


def build_study(doc: dict, source: str = "<study>", base_dir: Path | None = None,
                text: str = "") -> Study:
    """Check a parsed study document; every problem is reported (:class:`StudyError`)."""
    from agents.scenario import library
    from twin.layout import DEFAULT_MODELS
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    r = Reader()
    r.table(doc, "", _TOP, ("format", "name"))
    fmt = doc.get("format")
    if fmt is not None and fmt != FORMAT:
        r.bad("format", f"= {show(fmt)} is not allowed; expected {FORMAT!r}")
    name = r.string(doc, "name", "")
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        r.bad("description", f"is {kind_of(desc)}; expected a string")
        desc = ""
    minutes = r.number(doc, "minutes", "", gt=0, le=24 * 60, default=10.0, unit="min")
    seeds_v = doc.get("seeds", [0])
    if isinstance(seeds_v, int) and not isinstance(seeds_v, bool):
        seeds = list(range(seeds_v)) if 1 <= seeds_v <= 10_000 else None
        if seeds is None:
            r.bad("seeds", f"= {show(seeds_v)} is not allowed; expected a count in [1, 10000]"
                           " or an array of seeds")
    else:
        seeds = _list(r, {"seeds": seeds_v}, "seeds", "", _num(r, 0, 2**63 - 1, "-", True),
                      [0])
    cores = _list(r, doc, "cores", "", _core_spec(r), ["full"])
    shoppers = _list(r, doc, "shoppers", "", _num(r, 0, 10_000, "shoppers"), [15.0])
    target = r.number(doc, "target_exact", "", gt=0, le=1, default=TARGET_EXACT, unit="-")
    cell = r.number(doc, "coverage_cell_m", "", gt=0, le=5, default=0.0) or None
    metrics = _list(r, doc, "metrics", "", _str(r, tuple(METRIC_COLUMNS)), [])

    warm_all = r.boolean(doc, "warm_start", "", False)
    core_process = r.boolean(doc, "core_process", "", False)
    stores: list[StoreSpec] = []
    sv = doc.get("stores", [{"store": "kiosk"}] if "scenarios" not in doc else [])
    if not isinstance(sv, list):
        r.bad("stores", f"is {kind_of(sv)}; expected an array of tables ([[stores]])")
        sv = []
    for i, t in enumerate(sv):
        p = f"stores[{i}]"
        if r.table(t, p, ("store", "bins_per_plate", "shoppers", "minutes", "warm_start"),
                   ("store",)) is None:
            continue
        written = r.string(t, "store", p)
        ref = _store_ref(r, written, base, f"{p}.store") if written else None
        bpp = _list(r, t, "bins_per_plate", p, _num(r, 1, 64, "bins", True), [None])
        sh = _list(r, t, "shoppers", p, _num(r, 0, 10_000, "shoppers"), []) or None
        mn = r.number(t, "minutes", p, gt=0, le=24 * 60, default=0.0, unit="min") or None
        warm = r.boolean(t, "warm_start", p, warm_all)
        if ref and bpp is not None:
            stores.append(StoreSpec(ref, written, tuple(bpp), tuple(sh) if sh else None, mn,
                                    warm))

    layouts: list[LayoutSpec] = []
    lv = doc.get("layouts", [{"generator": "grid", "spacing_m": 2.5}])
    if not isinstance(lv, list):
        r.bad("layouts", f"is {kind_of(lv)}; expected an array of tables ([[layouts]])")
        lv = []
    store_refs = {s.ref for s in stores}
    for i, t in enumerate(lv):
        p = f"layouts[{i}]"
        if r.table(t, p, ("generator", "spacing_m", "target", "model", "path", "stores"),
                   ("generator",)) is None:
            continue
        gen = r.string(t, "generator", p, choices=GENERATORS)
        model = r.string(t, "model", p, choices=tuple(DEFAULT_MODELS), default="") or None
        only = _list(r, t, "stores", p, _str(r), [])
        only_refs = []
        for j, s in enumerate(only or []):
            ref = _store_ref(r, s, base, f"{p}.stores[{j}]")
            if ref is not None and ref not in store_refs:
                r.bad(f"{p}.stores[{j}]", f"= {show(s)} is not one of the study's stores")
            only_refs.append(ref)
        params: list[float | None] = [None]
        path = None
        if gen == "grid":
            params = _list(r, t, "spacing_m", p, _num(r, 0.5, 50, "m"), [2.5])
        elif gen == "greedy":
            params = _list(r, t, "target", p, _num(r, 0.01, 1, "fraction of floor"), [0.95])
        elif gen == "file":
            pv = r.string(t, "path", p)
            if pv:
                f = (base / pv).resolve()
                if not f.is_file():
                    r.bad(f"{p}.path", f"= {show(pv)}: no such layout file (looked next to "
                                       "the study file)")
                path = str(f)
        for k, allowed in (("spacing_m", "grid"), ("target", "greedy"), ("path", "file")):
            if k in t and gen is not None and gen != allowed:
                r.bad(f"{p}.{k}", f"applies to generator {allowed!r} only, not {gen!r}")
        if gen and params is not None:
            for v in params:
                layouts.append(LayoutSpec(gen, v, model, path,
                                          tuple(x for x in only_refs if x)))

    faults = doc.get("faults", {})
    dcf, dpf = [0.0], [0.0]
    if r.table(faults, "faults", ("dead_camera_fraction", "dead_plate_fraction")) is not None:
        dcf = _list(r, faults, "dead_camera_fraction", "faults", _num(r, 0, 1, "-"), [0.0])
        dpf = _list(r, faults, "dead_plate_fraction", "faults", _num(r, 0, 1, "-"), [0.0])

    groups: list[ScenarioGroup] = []
    gv = doc.get("scenarios", [])
    if not isinstance(gv, list):
        r.bad("scenarios", f"is {kind_of(gv)}; expected an array of tables ([[scenarios]])")
        gv = []
    lib = tuple(library())
    for i, t in enumerate(gv):
        p = f"scenarios[{i}]"
        if r.table(t, p, ("names", "shoppers_per_shelf", "seeds"), ("names",)) is None:
            continue
        names = _list(r, t, "names", p, _str(r, lib), None)
        sps = r.integer(t, "shoppers_per_shelf", p, ge=1, le=100, default=0) or None
        sds = _list(r, t, "seeds", p, _num(r, 0, 2**63 - 1, "-", True), [])
        if names:
            groups.append(ScenarioGroup(tuple(names), sps, tuple(sds) if sds else None))

    prices = Prices()
    pv = doc.get("prices", {})
    if r.table(pv, "prices", ("cameras", "plate_usd", "install_per_camera_usd",
                              "install_per_plate_usd")) is not None:
        cams = dict(prices.cameras)
        cv = pv.get("cameras", {})
        if isinstance(cv, dict):
            for k, v in cv.items():
                x = _num(r, 0, 1e7, "USD")(v, f"prices.cameras.{k}")
                if x is not None:
                    cams[k] = x
        else:
            r.bad("prices.cameras", f"is {kind_of(cv)}; expected a table model = USD")
        prices = Prices(cams, *(r.number(pv, k, "prices", ge=0, le=1e7, unit="USD",
                                         default=getattr(prices, k))
                                for k in ("plate_usd", "install_per_camera_usd",
                                          "install_per_plate_usd")))
    insights = None
    iv = doc.get("insights")
    if iv is not None and r.table(iv, "insights", ("panel", "look_taste", "key_file"),
                                  ("panel",)) is not None:
        panel = r.integer(iv, "panel", "insights", ge=1, le=1_000_000, default=0)
        taste = _list(r, iv, "look_taste", "insights", _num(r, 0, 10, "-"), [0.0])
        key = ""
        kf = r.string(iv, "key_file", "insights", default="") if "key_file" in iv else ""
        if kf:   # a file, so the secret is not in the study file (copied to the results)
            try:
                key = (base / kf).read_text().strip()
            except (OSError, UnicodeDecodeError) as e:
                r.bad("insights.key_file", f"= {show(kf)}: cannot be read "
                                           f"({getattr(e, 'strerror', None) or e}); expected "
                                           "a text file holding the secret, next to the study")
            else:
                if not key:
                    r.bad("insights.key_file", f"= {show(kf)} is empty; expected the secret")
        if panel and taste is not None:
            insights = InsightsSpec(panel, tuple(float(x) for x in taste),
                                    key or f"study:{name}")
    if not stores and not groups:
        r.bad("stores", "the study has no stores and no scenarios; expected at least one "
                        "[[stores]] or [[scenarios]] table")
    if r.problems:
        raise StudyError(source, r.problems)
    return Study(name, desc, source, minutes, tuple(seeds), tuple(cores), tuple(shoppers),
                 tuple(stores), tuple(layouts), tuple(dcf), tuple(dpf), tuple(groups), prices,
                 target, cell, tuple(metrics or ()), text, core_process, insights)


def load_study(path: str | Path) -> Study:
    p = Path(path)
    text = read_text(p, StudyError, "; expected a study .toml file (docs/studies.md)")
    doc = parse_toml(text, str(path), StudyError, "a study")
    return build_study(doc, str(path), p.resolve().parent, text)


# ---------------------------------------------------------------------------------------------
# expansion


@dataclass(frozen=True)
class RunSpec:
    """One run: ``params`` are the row's parameter columns; ``run_id`` hashes them."""

    run_id: str
    params: dict


PARAM_COLUMNS: dict[str, pa.DataType] = {
    "store": pa.string(), "store_ref": pa.string(), "bins_per_plate": pa.int64(),
    "layout": pa.string(), "layout_generator": pa.string(), "layout_param": pa.float64(),
    "layout_model": pa.string(),
    "layout_file": pa.string(), "shoppers": pa.float64(), "minutes": pa.float64(),
    "warm_start": pa.bool_(),
    "seed": pa.int64(), "core": pa.string(), "dead_camera_fraction": pa.float64(),
    "dead_plate_fraction": pa.float64(), "scenario": pa.string(),
    "shoppers_per_shelf": pa.int64(), "panel": pa.int64(), "look_taste": pa.float64(),
}

#: metric columns of a run's row (fractions 0-1 unless the name says a unit)
METRIC_COLUMNS: dict[str, pa.DataType] = {
    # billing
    "receipts": pa.int64(), "exact_match": pa.float64(), "f1": pa.float64(),
    "precision": pa.float64(), "recall": pa.float64(), "money_abs_mean_usd": pa.float64(),
    "money_over_usd": pa.float64(), "money_under_usd": pa.float64(),
    "review_per_1000": pa.float64(), "unflagged_exact": pa.float64(),
    "ran_as_written": pa.bool_(),
    # tracking
    "hota": pa.float64(), "deta": pa.float64(), "assa": pa.float64(), "idf1": pa.float64(),
    "mota": pa.float64(), "id_switches": pa.int64(),
    # throughput and latency
    "wall_s": pa.float64(), "sim_s": pa.float64(), "real_time_factor": pa.float64(),
    "core_process": pa.bool_(), "core_s": pa.float64(), "core_ms_per_tick": pa.float64(),
    "core_real_time_factor": pa.float64(), "detections_per_s": pa.float64(),
    "plate_samples_per_s": pa.float64(), "receipt_latency_s_mean": pa.float64(),
    "receipt_latency_s_p95": pa.float64(), "mean_in_store": pa.float64(),
    "area_sqft": pa.float64(),
    # where the wall time went [s]
    "stage_setup_s": pa.float64(), "stage_agents_s": pa.float64(),
    "stage_physics_s": pa.float64(), "stage_plates_s": pa.float64(),
    "stage_cameras_s": pa.float64(), "stage_gate_s": pa.float64(),
    "stage_core_s": pa.float64(), "stage_other_s": pa.float64(),
    # coverage and cost
    "cameras": pa.int64(), "plates": pa.int64(), "floor_k1": pa.float64(),
    "floor_k2": pa.float64(), "bins_k1": pa.float64(), "cost_cameras_usd": pa.float64(),
    "cost_plates_usd": pa.float64(), "cost_install_usd": pa.float64(),
    "cost_total_usd": pa.float64(),
    # behaviour insights (experiments.scoring.insights): Spearman rho of recovered vs latent tastes
    # (mean over organic, price, brand, and each), after 1, 2, 4, 8 visits, and next-visit
    # choice accuracy and mean log-probability, from the journeys and from the till's
    # baskets alone
    **{f"pref_rho_{s}": pa.float64() for s in ("journeys", "receipts")},
    **{f"pref_rho_{a}_{s}": pa.float64() for a in ("organic", "price", "brand")
       for s in ("journeys", "receipts")},
    **{f"pref_rho_{s}_v{k}": pa.float64() for s in ("journeys", "receipts")
       for k in (1, 2, 4, 8)},
    **{f"next_visit_acc_{s}": pa.float64() for s in ("journeys", "receipts", "population")},
    **{f"next_visit_logp_{s}": pa.float64() for s in ("journeys", "receipts", "population")},
    "visits_per_account": pa.float64(), "substitutions": pa.int64(), "looks": pa.int64(),
    # {"put back SKU>taken SKU": count} of the run's journeys, as JSON text
    "substitution_pairs": pa.string(),
}

OTHER_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.string(), "study": pa.string(), "status": pa.string(), "error": pa.string(),
    "storetwin_version": pa.string(), "python": pa.string(), "numpy": pa.string(),
    "host_cpus": pa.int64(), "started_at": pa.string(),
}

SCHEMA = pa.schema([*((k, t) for k, t in OTHER_COLUMNS.items() if k in (
    "run_id", "study", "status", "error")), *PARAM_COLUMNS.items(), *METRIC_COLUMNS.items(),
    *((k, t) for k, t in OTHER_COLUMNS.items() if k not in (
        "run_id", "study", "status", "error"))])


def run_id(params: dict) -> str:
    """A stable id of a run's parameters (the same study line, the same id). Keys starting
    with ``_`` (resolved file paths, which move with the folder) are left out."""
    blob = json.dumps({k: v for k, v in params.items() if not k.startswith("_")},
                      sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _store_name(ref: str) -> str:
    return Path(ref).stem if ref.endswith(".toml") else ref


def expand(study: Study) -> list[RunSpec]:
    """Every run of the study, in a stable order (stores, plates, layouts, crowd, faults,
    cores, seeds; then scenario groups, scenarios, cores)."""
    specs: list[RunSpec] = []
    for st in study.stores:
        ins = study.insights
        for bpp, lay, sh, dcf, dpf, core, seed, taste in product(
                st.bins_per_plate, study.layouts, st.shoppers or study.shoppers,
                study.dead_camera_fraction, study.dead_plate_fraction, study.cores,
                study.seeds, ins.look_taste if ins else (None,)):
            if lay.stores and st.ref not in lay.stores:
                continue
            name = _store_name(st.ref)
            p = {"store": name, "store_ref": st.written, "_store_path": st.ref,
                 "bins_per_plate": bpp,
                 "layout": lay.label, "layout_generator": lay.generator,
                 "layout_param": lay.param, "layout_model": lay.model,
                 "_layout_path": lay.path,
                 "layout_file": f"layouts/{_variant(name, bpp)}-{lay.slug}.toml",
                 "shoppers": float(sh), "minutes": float(st.minutes or study.minutes),
                 "warm_start": st.warm_start,
                 "seed": int(seed), "core": core, "dead_camera_fraction": float(dcf),
                 "dead_plate_fraction": float(dpf), "scenario": None,
                 "shoppers_per_shelf": None, "_core_process": study.core_process}
            if ins is not None:   # only then: other studies keep their run ids
                p.update({"panel": ins.panel, "look_taste": taste, "_key": ins.key})
            specs.append(RunSpec(run_id(p), p))
    for g in study.scenarios:
        for sc, core, seed in product(g.names, study.cores, g.seeds or (None,)):
            p = {"store": None, "store_ref": None, "bins_per_plate": None, "layout": None,
                 "layout_generator": None, "layout_param": None, "layout_model": None,
                 "layout_file": None, "shoppers": None, "minutes": None, "warm_start": False,
                 "seed": seed, "core": core, "dead_camera_fraction": 0.0,
                 "dead_plate_fraction": 0.0, "scenario": sc,
                 "shoppers_per_shelf": g.shoppers_per_shelf}
            specs.append(RunSpec(run_id(p), p))
    return specs


def _variant(name: str, bpp: int | None) -> str:
    return name if bpp is None else f"{name}-bpp{bpp}"


# ---------------------------------------------------------------------------------------------
# preparing stores and layouts (in the driver, once per study)


def _store_file(results: Path, ref: str, bpp: int | None) -> str:
    """The store ref a run loads: the preset or file itself, or (another plate granularity)
    a copy of its spec with ``shelves.bins_per_plate`` set, written under ``stores/``."""
    if bpp is None:
        return ref
    from scenes.presets import PRESETS, preset_text
    from scenes.tomlw import dumps
    text = preset_text(ref) if ref in PRESETS else Path(ref).read_text()
    import tomllib
    doc = tomllib.loads(text)
    doc.setdefault("shelves", {})["bins_per_plate"] = int(bpp)
    out = results / "stores" / f"{_variant(_store_name(ref), bpp)}.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    new = dumps(doc, f"{_store_name(ref)} with {bpp} bins per load-cell plate "
                     "(written by storetwin study)")
    if not out.exists() or out.read_text() != new:
        _atomic_write_text(out, new)
    return str(out)


def _make_layout(store, spec: dict):
    from twin.layout import DEFAULT_MODEL, load_layout
    from twin.placement import aisle_pairs, greedy_layout, grid_layout, shelf_facing
    gen, model = spec["layout_generator"], spec["layout_model"] or DEFAULT_MODEL
    if gen == "grid":
        return grid_layout(store, spacing=spec["layout_param"], model=model)
    if gen == "aisle_pairs":
        return aisle_pairs(store, model=model)
    if gen == "shelf_facing":
        return shelf_facing(store, model=model)
    if gen == "greedy":
        return greedy_layout(store, target=spec["layout_param"]).layout
    return load_layout(spec["_layout_path"], store)


def prepare(specs: list[RunSpec], results: Path, study: Study,
            log: Callable[[str], None] = lambda s: None) -> dict[str, dict]:
    """Write each distinct store variant and layout the runs need, once, and measure its
    coverage and cost. Returns layout_file -> {store_file, coverage and cost columns}."""
    from scenes.presets import load_store
    from twin.coverage import coverage
    from twin.layout import dumps_layout
    out: dict[str, dict] = {}
    stores: dict[str, object] = {}
    for s in specs:
        p = s.params
        lf = p["layout_file"]
        if lf is None or lf in out:
            continue
        sref = _store_file(results, p["_store_path"], p["bins_per_plate"])
        if sref not in stores:
            stores[sref] = load_store(sref)
        store = stores[sref]
        path = results / lf
        if path.exists():
            from twin.layout import load_layout
            layout = load_layout(path, store)
        else:
            log(f"layout {p['layout']} for {_variant(p['store'], p['bins_per_plate'])}")
            layout = _make_layout(store, p)
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write_text(path, dumps_layout(layout, f"{p['layout']} for "
                                                          f"{p['store']} (storetwin study)"))
        cell = study.coverage_cell_m or (0.25 if store.area_sqft <= 12_000 else 0.5)
        cov = coverage(store, layout, cell=cell)
        row = {"store_file": sref, "cameras": len(layout), "plates": int(store.bins.n_plates),
               "floor_k1": _f(cov.k_fraction(1)), "floor_k2": _f(cov.k_fraction(2)),
               "bins_k1": _f(cov.bin_k_fraction(1)), "area_sqft": float(store.area_sqft),
               **hardware_cost(layout, int(store.bins.n_plates), study.prices)}
        out[lf] = row
    return out


def _f(x: float) -> float | None:
    return None if x != x else round(float(x), 6)


# ---------------------------------------------------------------------------------------------
# one run (in a worker)


def _pick(rng_key: tuple[int, ...], n: int, fraction: float) -> tuple[int, ...]:
    k = int(round(fraction * n))
    if k <= 0:
        return ()
    rng = np.random.default_rng(list(rng_key))
    return tuple(int(i) for i in np.sort(rng.choice(n, size=min(k, n), replace=False)))


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    try:
        v = version("storetwin")
    except PackageNotFoundError:
        v = "unknown"
    return {"storetwin_version": v, "python": platform.python_version(),
            "numpy": np.__version__, "host_cpus": os.cpu_count() or 1}


def _metrics_of(metrics: dict, timing: dict) -> dict:
    b, t, c = metrics["billing"], metrics["tracking"], metrics["core"]

    def usd(cents):
        return None if cents is None else round(cents / 100.0, 4)
    st = timing.get("stage_s", {})
    return {
        "receipts": b["receipts_true"], "exact_match": b["exact_match"], "f1": b["receipt_f1"],
        "precision": b["item_precision"], "recall": b["item_recall"],
        "money_abs_mean_usd": usd(b["money_mae_cents"]),
        "money_over_usd": usd(b["overcharge_cents"]),
        "money_under_usd": usd(b["undercharge_cents"]),
        "review_per_1000": b["review_rate_per_1000"],
        "unflagged_exact": b["unflagged_exact_match"],
        "hota": t["hota"], "deta": t["deta"], "assa": t["assa"], "idf1": t["idf1"],
        "mota": t["mota"], "id_switches": t["id_switches"],
        "wall_s": timing["wall_s"], "sim_s": timing["sim_s"],
        "real_time_factor": timing["real_time_factor"],
        "core_process": bool(timing.get("core_process", False)), "core_s": timing["core_s"],
        "core_ms_per_tick": timing.get("core_ms_per_tick"),
        "core_real_time_factor": timing["core_real_time_factor"],
        "detections_per_s": timing["core_detections_per_s"],
        "plate_samples_per_s": timing["core_plate_samples_per_s"],
        "receipt_latency_s_mean": c["receipt_latency_s_mean"],
        "receipt_latency_s_p95": c.get("receipt_latency_s_p95"),
        "mean_in_store": metrics["crowd"]["mean_in_store"],
        "area_sqft": float(metrics["run"]["area_sqft"]),
        "cameras": metrics["run"]["cameras"], "plates": metrics["run"]["plates"],
        **{f"stage_{k}_s": v for k, v in st.items() if f"stage_{k}_s" in METRIC_COLUMNS},
        **_insight_columns(metrics.get("insights")),
    }


def _insight_columns(m: dict | None) -> dict:
    if not m:
        return {}
    out = {}
    for s in ("journeys", "receipts"):
        out[f"pref_rho_{s}"] = m[s]["rho"]["mean"]
        for a in ("organic", "price", "brand"):
            out[f"pref_rho_{a}_{s}"] = m[s]["rho"][a]
        for k, v in m["by_visits"].items():
            out[f"pref_rho_{s}_v{k}"] = v[s]
    for s in (*("journeys", "receipts"), "population"):
        out[f"next_visit_acc_{s}"] = m[s]["next_visit_accuracy"]
        out[f"next_visit_logp_{s}"] = m[s]["next_visit_log_prob"]
    out["visits_per_account"] = m["visits_per_account"]
    out["substitutions"] = m["substitutions"]
    out["substitution_pairs"] = json.dumps(m.get("substitution_pairs", {}), sort_keys=True)
    out["looks"] = m["observations"]["journeys"].get("look", 0)
    return out


def execute(params: dict, prepared: dict | None) -> dict:
    """Run one study line and return its row (never raises: a failure is a failed row)."""
    row = {"status": STATUS_OK, "error": None, **_versions(),
           "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        row.update(_execute(params, prepared or {}))
    except Exception as e:   # noqa: BLE001 - any failure of a run is that run's result
        tb = traceback.extract_tb(e.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        row.update(status=STATUS_FAILED, error=f"{type(e).__name__}: {e}{where}")
    return row


def _execute(p: dict, prep: dict) -> dict:
    from experiments.runs.scenario import make_core
    if p["scenario"] is not None:
        from dataclasses import replace

        from agents.scenario import load_scenario
        from experiments.runs.scenario import run_scenario
        sc = load_scenario(p["scenario"])
        if p["seed"] is not None:
            sc = replace(sc, seed=p["seed"])
        res = run_scenario(sc, core=make_core(p["core"]), core_name=p["core"])
        m = _metrics_of(res.run.metrics, res.run.timing)
        m["ran_as_written"] = bool(res.ran_as_written)
        m["store"] = res.run.metrics["run"]["store"]
        return m
    from experiments.runs.run import RunConfig, run
    seed = p["seed"]
    cams, plates = prep["cameras"], prep["plates"]
    cfg = RunConfig(store=prep["store_file"], minutes=p["minutes"], shoppers=p["shoppers"],
                    seed=seed, layout=prep["layout_path"], record_streams=False,
                    panel=int(p.get("panel") or 0), look_taste=float(p.get("look_taste") or 0),
                    pseudonym_key=p.get("_key") or "",
                    warm_start=p["warm_start"], core_process=bool(p.get("_core_process")),
                    dead_cameras=_pick((seed, 1), cams, p["dead_camera_fraction"]),
                    dead_plates=_pick((seed, 2), plates, p["dead_plate_fraction"]))
    res = run(cfg, core=make_core(p["core"]))
    m = _metrics_of(res.metrics, res.timing)
    m.update({k: prep[k] for k in ("floor_k1", "floor_k2", "bins_k1", "cost_cameras_usd",
                                   "cost_plates_usd", "cost_install_usd", "cost_total_usd")})
    return m


# ---------------------------------------------------------------------------------------------
# the results store


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _row_table(rows: list[dict]) -> pa.Table:
    cols = {}
    for f in SCHEMA:
        vals = [r.get(f.name) for r in rows]
        if pa.types.is_floating(f.type):
            vals = [None if v is None or (isinstance(v, float) and v != v) else float(v)
                    for v in vals]
        cols[f.name] = pa.array(vals, f.type)
    return pa.table(cols, schema=SCHEMA)


def write_row(results: Path, row: dict) -> Path:
    """One run's row, durably: a temporary file, fsync, then an atomic rename."""
    d = results / "runs"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{row['run_id']}.parquet"
    tmp = d / f".{row['run_id']}.{os.getpid()}.tmp"
    pq.write_table(_row_table([row]), tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def finished(results: Path) -> dict[str, str]:
    """run_id -> status of the runs already in the store (unreadable files are ignored:
    they are rerun)."""
    out: dict[str, str] = {}
    for f in sorted((results / "runs").glob("*.parquet")):
        try:
            t = pq.read_table(f, columns=["run_id", "status"])
        except (OSError, pa.ArrowException):
            continue
        for rid, st in zip(t["run_id"].to_pylist(), t["status"].to_pylist(), strict=True):
            out[rid] = st
    return out


def load_results(results: str | Path) -> pa.Table:
    """All rows of a results folder: ``results.parquet`` when the study finished, else the
    ``runs/*.parquet`` written so far."""
    d = Path(results)
    if not d.is_dir():
        raise ResultsError(f"{results}: no such results folder; expected the folder a "
                           "'storetwin study' wrote")
    whole = d / "results.parquet"
    files = [whole] if whole.is_file() else sorted((d / "runs").glob("*.parquet"))
    if not files:
        raise ResultsError(f"{results}: holds no results.parquet and no runs/*.parquet; "
                           "expected the folder a 'storetwin study' wrote")
    tables = []
    for f in files:
        try:
            tables.append(pq.read_table(f))
        except (OSError, pa.ArrowException) as e:
            raise ResultsError(f"{f}: cannot be read as Parquet ({e})") from None
    try:
        return pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as e:
        raise ResultsError(f"{results}: run files do not share one schema ({e})") from None


# ---------------------------------------------------------------------------------------------
# executors


@dataclass
class StudyOutcome:
    total: int
    skipped: int        # already in the store when the study started
    done: int           # finished ok in this call
    failed: int         # failed in this call
    results: Path
    wall_s: float


def _quiet_worker() -> None:
    """A worker's stdout goes nowhere: native libraries print banners there (pybullet), and
    a run reports through its row, not the terminal."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _pool(jobs: list[tuple[RunSpec, dict]], workers: int, on_row: Callable[[dict], None]
          ) -> list[tuple[RunSpec, dict]]:
    """Run ``jobs`` on a pool of spawned workers; returns the jobs lost to a worker that
    died (a dead worker breaks the whole pool, so which run killed it is not known)."""
    import multiprocessing as mp
    lost: list[tuple[RunSpec, dict]] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_quiet_worker) as pool:
        futs = {pool.submit(execute, spec.params, prep): (spec, prep) for spec, prep in jobs}
        todo = set(futs)
        while todo:
            done, todo = wait(todo, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    row = f.result()
                except BrokenProcessPool:
                    lost.append(futs[f])
                    continue
                on_row(futs[f][0], row)
    return lost


def _local(jobs: list[tuple[RunSpec, dict]], workers: int,
           on_row: Callable[[RunSpec, dict], None]) -> None:
    """A local process pool. Runs lost to a dying worker are rerun alone, each in a fresh
    one-worker pool: the one that kills its worker again is recorded as failed."""
    lost = _pool(jobs, workers, on_row)
    for job in lost:
        if _pool([job], 1, on_row):
            on_row(job[0], {"status": STATUS_FAILED, **_versions(),
                            "error": "the worker process died (killed, or crashed in native "
                                     "code) while running this run"})


def _ray(jobs: list[tuple[RunSpec, dict]], workers: int, address: str | None,
         on_row: Callable[[RunSpec, dict], None]) -> None:
    try:
        import ray
    except ImportError:
        raise ResultsError("--executor ray needs Ray: pip install 'storetwin[ray]' "
                           "(or pip install ray)") from None
    started = not ray.is_initialized()
    if started:
        kw = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False, **kw)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(execute)
        refs = {remote.remote(spec.params, prep): spec for spec, prep in jobs}
        todo = list(refs)
        while todo:
            done, todo = ray.wait(todo, num_returns=1)
            for ref in done:
                spec = refs[ref]
                try:
                    row = ray.get(ref)
                except Exception as e:   # noqa: BLE001 - a worker died or Ray failed the task
                    row = {"status": STATUS_FAILED, "error": f"ray task failed: "
                           f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                           **_versions()}
                on_row(spec, row)
    finally:
        if started:
            ray.shutdown()


def run_study(study_file: str | Path, results: str | Path, *, executor: str = "local",
              workers: int | None = None, address: str | None = None,
              retry_failed: bool = False, progress: bool = False,
              log: Callable[[str], None] = lambda s: None) -> StudyOutcome:
    """Expand a study, run what the results store lacks, and gather ``results.parquet``."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: allowed {', '.join(EXECUTORS)}")
    t0 = time.perf_counter()
    study = load_study(study_file)
    res = Path(results)
    try:
        res.mkdir(parents=True, exist_ok=True)
        (res / "runs").mkdir(exist_ok=True)
    except OSError as e:
        raise ResultsError(f"{results}: cannot create the results folder ({e.strerror})"
                           ) from None
    _atomic_write_text(res / "study.toml", study.text or Path(study_file).read_text())
    _atomic_write_text(res / "prices.json", json.dumps(study.prices.as_dict(), indent=2) + "\n")
    specs = expand(study)
    # results.parquet is the gathered rows of a finished study: gone while this one runs, so
    # a reader of a study killed mid-way gets runs/*.parquet, never an older gathering
    (res / "results.parquet").unlink(missing_ok=True)
    have = finished(res)
    skip = {rid for rid, st in have.items() if st == STATUS_OK or not retry_failed}
    todo = [s for s in specs if s.run_id not in skip]
    prepared = prepare(todo, res, study, log)
    jobs = []
    for s in todo:
        prep = None
        if s.params["layout_file"] is not None:
            prep = {**prepared[s.params["layout_file"]],
                    "layout_path": str(res / s.params["layout_file"])}
        jobs.append((s, prep))
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    counts = {"done": 0, "failed": 0}
    n_old_ok = sum(1 for x in specs if have.get(x.run_id) == STATUS_OK)
    n_old_failed = sum(1 for x in specs if x.run_id in skip) - n_old_ok
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(specs), initial=len(specs) - len(todo), unit="run",
                   desc=study.name, file=sys.stderr)
        bar.set_postfix(done=n_old_ok, failed=n_old_failed, remaining=len(todo))

    def on_row(spec: RunSpec, row: dict) -> None:
        row = {**spec.params, **row, "run_id": spec.run_id, "study": study.name}
        if row.get("layout_file") and row["layout_file"] in prepared and row.get(
                "area_sqft") is None:
            row["area_sqft"] = prepared[row["layout_file"]]["area_sqft"]
        write_row(res, row)
        counts["done" if row["status"] == STATUS_OK else "failed"] += 1
        if row["status"] != STATUS_OK:
            log(f"run {row['run_id']} failed: {row['error']}")
        if bar is not None:
            bar.update(1)
            bar.set_postfix(done=n_old_ok + counts["done"],
                            failed=n_old_failed + counts["failed"],
                            remaining=len(todo) - counts["done"] - counts["failed"])

    try:
        if jobs:
            if executor == "ray":
                _ray(jobs, n_workers, address, on_row)
            else:
                _local(jobs, n_workers, on_row)
    finally:
        if bar is not None:
            bar.close()
    gather(res, [s.run_id for s in specs])
    return StudyOutcome(len(specs), len(specs) - len(todo), counts["done"], counts["failed"],
                        res, round(time.perf_counter() - t0, 3))


def gather(results: Path, run_ids: Iterable[str]) -> Path:
    """``results.parquet``: the rows of ``run_ids`` (in that order) that are in the store."""
    rows = []
    for rid in run_ids:
        f = results / "runs" / f"{rid}.parquet"
        if f.is_file():
            rows.append(pq.read_table(f))
    table = pa.concat_tables(rows, promote_options="default") if rows else SCHEMA.empty_table()
    tmp = results / f".results.{os.getpid()}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, results / "results.parquet")
    return results / "results.parquet"
