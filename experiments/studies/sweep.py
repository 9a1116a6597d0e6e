"""A study expanded into its runs (:func:`expand`, one :class:`RunSpec` per line of the cross
product, its ``run_id`` hashed from its parameters), and the stores and layouts they need,
written and measured once in the driver (:func:`prepare`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from itertools import product
from pathlib import Path

from experiments.scoring.prices import hardware_cost
from experiments.studies.results import atomic_write_text
from experiments.studies.spec import Study


@dataclass(frozen=True)
class RunParams:
    """One run of a study: the row's parameter columns (``results.PARAM_COLUMNS``), hashed
    into its run id, and apart from them what the driver resolved on this machine (file
    paths, which move with the folder; the core-process choice; the insights study's
    pseudonym key), never hashed nor written to a row."""

    store: str | None
    store_ref: str | None
    bins_per_plate: int | None
    layout: str | None
    layout_generator: str | None
    layout_param: float | None
    layout_model: str | None
    layout_file: str | None
    shoppers: float | None
    minutes: float | None
    warm_start: bool
    seed: int | None
    core: str
    dead_camera_fraction: float
    dead_plate_fraction: float
    scenario: str | None
    shoppers_per_shelf: int | None
    panel: int | None = None          # an insights study's only (other studies keep their
    look_taste: float | None = None   # run ids: these columns are left out of their hash)
    faults: str | None = None         # the fault schedule's name (None: none; left out too)
    faults_doc: str = field(default="", metadata={"local": True})   # its JSON
    # resolved here, not columns
    store_path: str | None = field(default=None, metadata={"local": True})
    layout_path: str | None = field(default=None, metadata={"local": True})
    core_process: bool = field(default=False, metadata={"local": True})
    pseudonym_key: str = field(default="", metadata={"local": True})

    def columns(self) -> dict:
        """The parameter columns of the run's row (``panel`` and ``look_taste`` only for an
        insights study)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if not f.metadata.get("local")}
        if self.panel is None:
            del out["panel"], out["look_taste"]
        if self.faults is None:
            del out["faults"]
        return out


@dataclass(frozen=True)
class RunSpec:
    """One run: its parameters and the ``run_id`` hashed from their columns."""

    run_id: str
    params: RunParams


def run_id(params: RunParams) -> str:
    """A stable id of a run's parameter columns (the same study line, the same id)."""
    blob = json.dumps(params.columns(), sort_keys=True, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def store_name(ref: str) -> str:
    return Path(ref).stem if ref.endswith(".toml") else ref


def count_runs(study: Study) -> int:
    """How many runs :func:`expand` gives, without building them."""
    ins = study.insights
    n = 0
    for st in study.stores:
        lays = sum(1 for lay in study.layouts if not lay.stores or st.ref in lay.stores)
        n += (len(st.bins_per_plate) * lays * len(st.shoppers or study.shoppers)
              * len(study.dead_camera_fraction) * len(study.dead_plate_fraction)
              * len(study.cores) * len(study.seeds) * (len(ins.look_taste) if ins else 1)
              * len(study.fault_files))
    for g in study.scenarios:
        n += len(g.names) * len(study.cores) * len(g.seeds or (None,))
    return n


def expand(study: Study) -> list[RunSpec]:
    """Every run of the study, in a stable order (stores, plates, layouts, crowd, faults,
    cores, seeds; then scenario groups, scenarios, cores)."""
    specs: list[RunSpec] = []
    for st in study.stores:
        ins = study.insights
        for bpp, lay, sh, dcf, dpf, (fl, fdoc), core, seed, taste in product(
                st.bins_per_plate, study.layouts, st.shoppers or study.shoppers,
                study.dead_camera_fraction, study.dead_plate_fraction, study.fault_files,
                study.cores, study.seeds, ins.look_taste if ins else (None,)):
            if lay.stores and st.ref not in lay.stores:
                continue
            name = store_name(st.ref)
            p = RunParams(
                store=name, store_ref=st.written, bins_per_plate=bpp, layout=lay.label,
                layout_generator=lay.generator, layout_param=lay.param,
                layout_model=lay.model,
                layout_file=f"layouts/{variant(name, bpp)}-{lay.slug}.toml",
                shoppers=float(sh), minutes=float(st.minutes or study.minutes),
                warm_start=st.warm_start, seed=int(seed), core=core,
                dead_camera_fraction=float(dcf), dead_plate_fraction=float(dpf),
                scenario=None, shoppers_per_shelf=None,
                panel=ins.panel if ins is not None else None,
                look_taste=taste if ins is not None else None,
                store_path=st.ref, layout_path=lay.path, core_process=study.core_process,
                pseudonym_key=ins.key if ins is not None else "", faults=fl,
                faults_doc=json.dumps(fdoc, sort_keys=True) if fdoc is not None else "")
            specs.append(RunSpec(run_id(p), p))
    for g in study.scenarios:
        for sc, core, seed in product(g.names, study.cores, g.seeds or (None,)):
            p = RunParams(
                store=None, store_ref=None, bins_per_plate=None, layout=None,
                layout_generator=None, layout_param=None, layout_model=None,
                layout_file=None, shoppers=None, minutes=None, warm_start=False, seed=seed,
                core=core, dead_camera_fraction=0.0, dead_plate_fraction=0.0, scenario=sc,
                shoppers_per_shelf=g.shoppers_per_shelf)
            specs.append(RunSpec(run_id(p), p))
    return specs


def variant(name: str, bpp: int | None) -> str:
    return name if bpp is None else f"{name}-bpp{bpp}"


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
    out = results / "stores" / f"{variant(store_name(ref), bpp)}.toml"
    out.parent.mkdir(parents=True, exist_ok=True)
    new = dumps(doc, f"{store_name(ref)} with {bpp} bins per load-cell plate "
                     "(written by storetwin study)")
    if not out.exists() or out.read_text() != new:
        atomic_write_text(out, new)
    return str(out)


def _make_layout(store, p: RunParams):
    from twin.layout import DEFAULT_MODEL
    from twin.layout_toml import load_layout
    from twin.placement import aisle_pairs, greedy_layout, grid_layout, shelf_facing
    gen, model = p.layout_generator, p.layout_model or DEFAULT_MODEL
    if gen == "grid":
        return grid_layout(store, spacing=p.layout_param, model=model)
    if gen == "aisle_pairs":
        return aisle_pairs(store, model=model)
    if gen == "shelf_facing":
        return shelf_facing(store, model=model)
    if gen == "greedy":
        return greedy_layout(store, target=p.layout_param).layout
    return load_layout(p.layout_path, store)


def prepare(specs: list[RunSpec], results: Path, study: Study,
            log: Callable[[str], None] = lambda s: None) -> dict[str, dict]:
    """Write each distinct store variant and layout the runs need, once, and measure its
    coverage and cost. Returns layout_file -> {store_file, coverage and cost columns}."""
    from scenes.presets import load_store
    from twin.coverage import coverage
    from twin.layout_toml import dumps_layout
    out: dict[str, dict] = {}
    stores: dict[str, object] = {}
    for s in specs:
        p = s.params
        lf = p.layout_file
        if lf is None or lf in out:
            continue
        sref = _store_file(results, p.store_path, p.bins_per_plate)
        if sref not in stores:
            stores[sref] = load_store(sref)
        store = stores[sref]
        path = results / lf
        if path.exists():
            from twin.layout_toml import load_layout
            layout = load_layout(path, store)
        else:
            log(f"layout {p.layout} for {variant(p.store, p.bins_per_plate)}")
            layout = _make_layout(store, p)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, dumps_layout(layout, f"{p.layout} for "
                                                          f"{p.store} (storetwin study)"))
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
