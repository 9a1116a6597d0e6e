"""The study file (format ``storetwin-study/1``, docs/studies.md): stores, layouts, crowd
levels, faults, seeds, cores and scenarios, read and checked (every problem at once,
``SOURCE: PATH: message``) into a :class:`Study`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from experiments.scoring.prices import Prices
from experiments.studies.results import METRIC_COLUMNS
from params import MAX_SEED
from scenes.checks import ProblemsError, Reader, is_real, kind_of, parse_toml, read_text, show

FORMAT = "storetwin-study/1"


EXECUTORS = ("local", "ray")


GENERATORS = ("grid", "aisle_pairs", "shelf_facing", "greedy", "file")


TARGET_EXACT = 0.995       # the receipt exact-match rate a planner asks for by default


class StudyError(ProblemsError):
    """A study file with problems, one (field path, message) each."""


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
    # fault schedules (docs/faults.md), each a level of the sweep: (label, the schedule as
    # a TOML/JSON document); (None, None): no schedule
    fault_files: tuple[tuple[str | None, dict | None], ...] = ((None, None),)


@dataclass(frozen=True)
class InsightsSpec:
    """A preference study (``[insights]``, docs/insights.md): every store run has a panel of
    ``panel`` returning accounts and scores the tastes recovered from its journeys and from
    its till (experiments.scoring.insights); ``look_taste`` is an axis (agents' attention to taste
    when they stop to look). ``key``: the study's pseudonym secret (never in the results)."""
    panel: int
    look_taste: tuple[float, ...]
    key: str = field(default="", repr=False)


_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")   # a study's name: a folder name
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


def _seeds(r: Reader, doc: dict) -> list | None:
    """``seeds``: a count (0..n-1) or an array of seeds."""
    seeds_v = doc.get("seeds", [0])
    if isinstance(seeds_v, int) and not isinstance(seeds_v, bool):
        seeds = list(range(seeds_v)) if 1 <= seeds_v <= 10_000 else None
        if seeds is None:
            r.bad("seeds", f"= {show(seeds_v)} is not allowed; expected a count in [1, 10000]"
                           " or an array of seeds")
    else:
        seeds = _list(r, {"seeds": seeds_v}, "seeds", "", _num(r, 0, MAX_SEED, "-", True),
                      [0])
    return seeds


def _stores(r: Reader, doc: dict, base: Path, warm_all: bool) -> list[StoreSpec]:
    """``[[stores]]``: each store, its plate granularities, crowd levels and minutes."""
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
        mn = r.number(t, "minutes", p, ge=1 / 60, le=24 * 60, default=0.0,
                      unit="min") or None   # (absent: the study's minutes)
        warm = r.boolean(t, "warm_start", p, warm_all)
        if ref and bpp is not None:
            stores.append(StoreSpec(ref, written, tuple(bpp), tuple(sh) if sh else None, mn,
                                    warm))
    return stores


def _layouts(r: Reader, doc: dict, base: Path, store_refs: set[str]) -> list[LayoutSpec]:
    """``[[layouts]]``: a generator and its parameters (or a file), for some stores or all."""
    from twin.layout import DEFAULT_MODELS
    layouts: list[LayoutSpec] = []
    lv = doc.get("layouts", [{"generator": "grid", "spacing_m": 2.5}])
    if not isinstance(lv, list):
        r.bad("layouts", f"is {kind_of(lv)}; expected an array of tables ([[layouts]])")
        lv = []
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
    return layouts


def _scenario_groups(r: Reader, doc: dict) -> list[ScenarioGroup]:
    """``[[scenarios]]``: shipped scenarios by name, with seeds and crowding."""
    from agents.scenario import library
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
        sds = _list(r, t, "seeds", p, _num(r, 0, MAX_SEED, "-", True), [])
        if names:
            groups.append(ScenarioGroup(tuple(names), sps, tuple(sds) if sds else None))
    return groups


def _prices(r: Reader, doc: dict) -> Prices:
    """``[prices]``: overrides of the hardware price table."""
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
    return prices


def _insights(r: Reader, doc: dict, base: Path, name: str) -> InsightsSpec | None:
    """``[insights]``: a returning-customer panel and how much taste chooses the looks."""
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
    return insights


def build_study(doc: dict, source: str = "<study>", base_dir: Path | None = None,
                text: str = "") -> Study:
    """Check a parsed study document; every problem is reported (:class:`StudyError`)."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    r = Reader()
    r.table(doc, "", _TOP, ("format", "name"))
    fmt = doc.get("format")
    if fmt is not None and fmt != FORMAT:
        r.bad("format", f"= {show(fmt)} is not allowed; expected {FORMAT!r}")
    name = r.string(doc, "name", "")
    if name is not None and not _NAME.fullmatch(name):
        r.bad("name", f"= {show(name)} is not allowed; expected a name (letters, digits, "
                      "'_', '-', '.', not starting with '.'), not a path: the results go "
                      "to results/<name>")
        name = None
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        r.bad("description", f"is {kind_of(desc)}; expected a string")
        desc = ""
    minutes = r.number(doc, "minutes", "", ge=1 / 60, le=24 * 60, default=10.0, unit="min")
    seeds = _seeds(r, doc)
    cores = _list(r, doc, "cores", "", _core_spec(r), ["full"])
    shoppers = _list(r, doc, "shoppers", "", _num(r, 0, 10_000, "shoppers"), [15.0])
    target = r.number(doc, "target_exact", "", gt=0, le=1, default=TARGET_EXACT, unit="-")
    cell = r.number(doc, "coverage_cell_m", "", gt=0, le=5, default=0.0) or None
    metrics = _list(r, doc, "metrics", "", _str(r, tuple(METRIC_COLUMNS)), [])

    warm_all = r.boolean(doc, "warm_start", "", False)
    core_process = r.boolean(doc, "core_process", "", False)
    stores = _stores(r, doc, base, warm_all)
    layouts = _layouts(r, doc, base, {s.ref for s in stores})
    faults = doc.get("faults", {})
    dcf, dpf = [0.0], [0.0]
    fault_files: list[tuple[str | None, dict | None]] = [(None, None)]
    if r.table(faults, "faults", ("dead_camera_fraction", "dead_plate_fraction",
                                  "fault_files")) is not None:
        dcf = _list(r, faults, "dead_camera_fraction", "faults", _num(r, 0, 1, "-"), [0.0])
        dpf = _list(r, faults, "dead_plate_fraction", "faults", _num(r, 0, 1, "-"), [0.0])
        if "fault_files" in faults:
            fault_files = _fault_files(r, faults["fault_files"], base, core_process)

    groups = _scenario_groups(r, doc)
    prices = _prices(r, doc)
    insights = _insights(r, doc, base, name)
    if not stores and not groups:
        r.bad("stores", "the study has no stores and no scenarios; expected at least one "
                        "[[stores]] or [[scenarios]] table")
    if r.problems:
        raise StudyError(source, r.problems)
    return Study(name, desc, source, minutes, tuple(seeds), tuple(cores), tuple(shoppers),
                 tuple(stores), tuple(layouts), tuple(dcf), tuple(dpf), tuple(groups), prices,
                 target, cell, tuple(metrics or ()), text, core_process, insights,
                 tuple(fault_files))


def _fault_files(r, v, base: Path, core_process: bool) -> list:
    """``[faults] fault_files``: schedule files (relative to the study), each a level;
    "none" is the level without faults."""
    from twin.faults import FaultFileError, load_faults
    where = "faults.fault_files"
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        r.bad(where, f"= {v!r} is not allowed; expected a list of fault schedule .toml "
                     "files (docs/faults.md), \"none\" for no faults")
        return [(None, None)]
    out = []
    for i, ref in enumerate(v):
        if ref == "none":
            out.append((None, None))
            continue
        p = Path(ref) if Path(ref).is_absolute() else base / ref
        try:
            s = load_faults(p)
        except FaultFileError as e:
            r.bad(f"{where}[{i}]", str(e))
            continue
        if core_process and s.core.crash_at_s is not None:
            r.bad(f"{where}[{i}]", f"{ref}: [core] crash_at_s restarts the core in the run's "
                                   "process; expected core_process = false")
        out.append((Path(ref).stem, s.to_dict()))
    labels = [lab for lab, _ in out]
    if len(set(labels)) != len(labels):
        r.bad(where, f"names {labels} repeat; expected files of different names")
    return out or [(None, None)]


def load_study(path: str | Path) -> Study:
    p = Path(path)
    text = read_text(p, StudyError, "; expected a study .toml file (docs/studies.md)")
    doc = parse_toml(text, str(path), StudyError, "a study")
    return build_study(doc, str(path), p.resolve().parent, text)
