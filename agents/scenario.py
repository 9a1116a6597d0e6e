"""Scripted scenarios: the ``storetwin-scenario/1`` TOML format a tester writes, its checks,
the shipped library and the writer.

A scenario names a store, a seed and a few scripted shoppers: when each enters, on which app
account, and what it does, one :mod:`agents.actions` action at a time (pick, put back,
misplace, hand over, conceal, wait, look, inspect, exit). Optionally a background crowd of
sampled shoppers shares the store. The format is documented key by key in
``docs/scenarios.md``; the library is ``agents/scenarios/*.toml``.

Every problem in a scenario is reported, one line each, naming the file, the field path (e.g.
``shopper[1].actions[2].qty``) and what is allowed; a file with problems raises
:class:`agents.scenario_types.ScenarioError` holding all of them, and nothing else escapes the
loader. This module reads the document's top level and its ``[[shopper]]`` tables; the
actions are read by :mod:`agents.scenario_actions`; what it builds, a
:class:`agents.scenario_types.Scenario`, and the receipts a script implies are
:mod:`agents.scenario_types`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from agents.actions import (
    Action,
    After,
    Conceal,
    Exit,
    Follow,
    HandTo,
    Inspect,
    Look,
    Pick,
    PutBack,
    Reach,
    Stand,
    Wait,
    WaitUntil,
)
from agents.scenario_actions import ActionReader, ShopperSoFar, StoreView
from agents.scenario_after import check_afters
from agents.scenario_types import Scenario, ScenarioError, ScriptedShopper
from params import MAX_SEED  # fits an int64 column of the results store
from scenes.checks import Reader, kind_of, parse_toml, read_text, show
from scenes.presets import PRESETS, load_preset
from scenes.spec import SpecError, load_spec
from scenes.store import Store
from scenes.tomlw import value as _toml

FORMAT = "storetwin-scenario/1"
DEFAULT_DURATION_S = 600.0      # run length when the file does not say [s]
MAX_DURATION_S = 86_400.0       # a day [s]
MAX_SHOPPERS = 200              # scripted shoppers in one file
MAX_ACTIONS = 1000              # actions of one shopper
MAX_CROWD = 1000                # background shoppers in the store at once
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "1 to 64 characters of A-Z, a-z, 0-9, _ and -"

TOP_KEYS = ("format", "name", "description", "store", "seed", "max_duration_s", "layout",
            "crowd", "shopper", "faults")
SHOPPER_KEYS = ("id", "account", "enter_s", "actions", "checkin_delay_s", "checkin")
CROWD_KEYS = ("shoppers", "warm_start", "seed")
MAX_CHECKIN_DELAY_S = 600.0     # a late check-in [s]


def _name(r: Reader, d: dict, key: str, path: str, default=None) -> str | None:
    v = r.string(d, key, path, default=default)
    if v is not None and not NAME_RE.match(v):
        r.bad(f"{path}.{key}" if path else key, f"= {show(v)} is not allowed; expected "
              f"{NAME_RULE}")
        return None
    return v


def _resolve(ref: str, base_dir: Path) -> Path:
    """``ref`` as an absolute path: as given when absolute, else under ``base_dir``."""
    return Path(os.path.abspath(Path(ref) if Path(ref).is_absolute() else base_dir / ref))


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except (OSError, ValueError):   # a name too long, a NUL byte
        return False


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


def _load_store(r: Reader, ref: str, base_dir: Path) -> tuple[Store | None, str]:
    if ref in PRESETS:
        return load_preset(ref), ref
    path = _resolve(ref, base_dir)
    if not _is_file(path):
        why = "does not exist" if not _exists(path) else "is not a file"
        r.bad("store", f"= {show(ref)} is not a preset ({', '.join(PRESETS)}) and {path} {why}; "
              "expected a preset name or a store spec .toml path relative to this file")
        return None, str(path)
    try:
        return load_spec(path), str(path)
    except SpecError as e:
        for line in e.lines():
            r.bad("store", f"names a spec with problems: {line}")
        return None, str(path)


def _load_layout(r: Reader, ref: str, base_dir: Path, store: Store | None) -> str:
    path = _resolve(ref, base_dir)
    if not _is_file(path):
        r.bad("layout", f"= {show(ref)}: {path} does not exist or is not a file; expected a "
              "camera layout .toml path relative to this file")
        return str(path)
    # imported here: twin.layout loads trimesh, needed only when a layout is named
    from twin.layout_toml import LayoutError, load_layout

    try:
        load_layout(path, store)
    except LayoutError as e:
        for line in e.lines():
            r.bad("layout", f"names a layout with problems: {line}")
    return str(path)


def _shoppers(r: Reader, doc: dict, view: StoreView | None, max_s: float | None,
              layout: str | None = None) -> list[ScriptedShopper]:
    if "shopper" not in doc:
        r.bad("shopper", "is missing (required); expected at least one [[shopper]]")
        return []
    arr = doc["shopper"]
    if not isinstance(arr, list):
        r.bad("shopper", f"is {kind_of(arr)}; expected an array of tables ([[shopper]])")
        return []
    if not arr:
        r.bad("shopper", "is empty; expected at least one [[shopper]]")
        return []
    if len(arr) > MAX_SHOPPERS:
        r.bad("shopper", f"has {len(arr)} shoppers; at most {MAX_SHOPPERS} are allowed "
              "(use [crowd] for a background crowd)")
        return []
    # ids first: a hand_to may name a shopper further down the file
    names: list[str | None] = []
    ids: dict[str, int] = {}
    for i, t in enumerate(arr):
        v = t.get("id") if isinstance(t, dict) else None
        ok = isinstance(v, str) and NAME_RE.match(v) is not None
        names.append(v if ok else None)
        if ok and v not in ids:
            ids[v] = i
    reader = ActionReader(r, view, ids, names)
    reader.max_s, reader.layout = max_s, layout
    out: list[ScriptedShopper] = []
    scripts: dict[int, tuple] = {}
    for i, t in enumerate(arr):
        p = f"shopper[{i}]"
        t = r.table(t, p, SHOPPER_KEYS, ("id", "actions"))
        if t is None:
            continue
        name = _name(r, t, "id", p)
        if name is not None and ids[name] != i:
            r.bad(f"{p}.id", f"= {show(name)} is used by shopper[{ids[name]}]; shopper ids are "
                  "unique")
        account = _name(r, t, "account", p, default=name) if "account" in t else name
        enter = r.number(t, "enter_s", p, ge=0, le=MAX_DURATION_S, default=0.0, unit="s")
        delay = r.number(t, "checkin_delay_s", p, ge=0, le=MAX_CHECKIN_DELAY_S, default=0.0,
                         unit="s")
        checkin = r.boolean(t, "checkin", p, default=True)
        if "checkin_delay_s" in t and not checkin:
            r.bad(f"{p}.checkin_delay_s", "is not allowed with checkin = false (no message is "
                  "sent); expected one of the two")
        acts = r.array(t, "actions", p)
        if acts is None:
            continue
        if len(acts) > MAX_ACTIONS:
            r.bad(f"{p}.actions", f"has {len(acts)} actions; at most {MAX_ACTIONS} are allowed")
            continue
        me = ShopperSoFar(i, name)
        actions = reader.shopper(me, acts, f"{p}.actions")
        if enter is not None and max_s is not None:
            if enter >= max_s:
                r.bad(f"{p}.enter_s", f"= {enter:g} is not before max_duration_s = {max_s:g}; "
                      "expected an entry time the run reaches")
            elif enter + me.stand_s >= max_s:
                r.bad(p, f"enters at {enter:g} s and stands {me.stand_s:g} s in its actions "
                      "(wait, look, inspect, browse_s, hesitate_s), walking aside: past "
                      f"max_duration_s = {max_s:g}; expected a shorter script or a larger "
                      "max_duration_s")
        if None in (name, account, enter, actions, delay):
            continue
        scripts[i] = actions
        out.append(ScriptedShopper(name, account, enter, actions, delay, checkin))
    if reader.afters:
        check_afters(r, reader.afters, scripts, names)
    return out


def build_scenario(doc: dict, source: str = "<scenario>", base_dir: Path | None = None
                   ) -> Scenario:
    """Check a parsed scenario document and build it; paths in it are relative to
    ``base_dir`` (default: the working directory). Raises :class:`ScenarioError`."""
    base = Path.cwd() if base_dir is None else Path(base_dir)
    r = Reader()
    if not isinstance(doc, dict):   # pragma: no cover - tomllib always gives a table
        raise ScenarioError(source, [("", "is not a TOML table")])
    r.table(doc, "", TOP_KEYS)
    if "format" not in doc:
        r.bad("format", f"is missing (required); expected format = {json.dumps(FORMAT)}")
    elif doc["format"] != FORMAT:
        r.bad("format", f"= {show(doc['format'])} is not allowed; expected {FORMAT!r}")
    name = _name(r, doc, "name", "")
    description = ""
    if "description" in doc:
        if isinstance(doc["description"], str):
            description = doc["description"]
        else:
            r.bad("description", f"is {kind_of(doc['description'])}; expected a string")
    store, store_ref = None, ""
    ref = r.string(doc, "store", "")
    if ref is not None:
        store, store_ref = _load_store(r, ref, base)
    seed = r.integer(doc, "seed", "", ge=0, le=MAX_SEED, default=0)
    max_s = r.number(doc, "max_duration_s", "", gt=0, le=MAX_DURATION_S,
                     default=DEFAULT_DURATION_S, unit="s")
    layout = None
    if "layout" in doc:
        lref = r.string(doc, "layout", "")
        if lref is not None:
            layout = _load_layout(r, lref, base, store)
    crowd, warm, crowd_seed = 0.0, False, None
    if "crowd" in doc:
        c = r.table(doc["crowd"], "crowd", CROWD_KEYS)
        if c is not None:
            crowd = r.number(c, "shoppers", "crowd", ge=0, le=MAX_CROWD, default=0.0,
                             unit="shoppers in the store at once")
            warm = r.boolean(c, "warm_start", "crowd", default=False)
            if "seed" in c:
                crowd_seed = r.integer(c, "seed", "crowd", ge=0, le=MAX_SEED)
            if warm and crowd is not None and crowd < 1:
                r.bad("crowd.warm_start", f"= true with shoppers = {crowd:g}: no one to put "
                      "in the store; expected shoppers >= 1")
    faults = None
    if "faults" in doc:     # docs/faults.md; ids beyond the store are checked at the run
        from twin.faults import FaultFileError, faults_from_dict
        try:
            faults = faults_from_dict(doc["faults"], "")
        except FaultFileError as e:
            r.bad("faults", str(e).removeprefix(": ").removeprefix(" "))
    view = StoreView.of(store) if store is not None else None
    shoppers = _shoppers(r, doc, view, max_s, layout)
    if r.problems:
        raise ScenarioError(source, r.problems)
    assert store is not None and name is not None and seed is not None and max_s is not None
    return Scenario(source=source, name=name, description=description, store=store,
                    store_ref=store_ref, seed=seed, max_duration_s=max_s, layout=layout,
                    crowd_shoppers=float(crowd), shoppers=tuple(shoppers),
                    crowd_warm_start=warm, crowd_seed=crowd_seed, faults=faults)


def parse_scenario(text: str, source: str = "<scenario>", base_dir: Path | None = None
                   ) -> Scenario:
    """Build a scenario from TOML text (see :func:`build_scenario`)."""
    return build_scenario(parse_toml(text, source, ScenarioError, "a scenario"), source,
                          base_dir)


# ---------------------------------------------------------------------------------------------
# the library and files


def _library_dir() -> Path:
    return Path(__file__).resolve().parent / "scenarios"


def library() -> list[str]:
    """Names of the shipped scenarios (``agents/scenarios/*.toml`` stems), sorted."""
    return sorted(p.stem for p in _library_dir().glob("*.toml"))


def library_path(name: str) -> Path:
    """The file of a shipped scenario."""
    if name not in library():
        raise ValueError(f"unknown library scenario {name!r}; allowed: {', '.join(library())}")
    return _library_dir() / f"{name}.toml"


def load_scenario(path_or_library_name: str | Path) -> Scenario:
    """Read and check a scenario: a library name (``two_baguettes``, see :func:`library`)
    or a path to a ``.toml`` file. A library name wins over a file of that name without a
    suffix in the working directory."""
    s = str(path_or_library_name)
    p = library_path(s) if s in library() else Path(s)
    text = read_text(p, ScenarioError, "; expected a scenario .toml file or a library name: "
                     + ", ".join(library()))
    return parse_scenario(text, str(p), p.parent)


def _action_table(a: Action, sku: list[str], names: list[str]) -> dict:
    if isinstance(a, Pick):
        d = {"do": "pick", "sku": sku[a.sku], "qty": a.qty}
        if a.bin >= 0:
            d["bin"] = a.bin
        if a.browse_s:
            d["browse_s"] = float(a.browse_s)
        if a.hesitate_s:
            d["hesitate_s"] = float(a.hesitate_s)
        return d
    if isinstance(a, PutBack):
        d = {"do": "put_back", "sku": sku[a.sku], "qty": a.qty}
        if a.bin >= 0:
            d["bin"] = a.bin
        return d
    if isinstance(a, HandTo):
        return {"do": "hand_to", "shopper": names[a.to], "sku": sku[a.sku], "qty": a.qty}
    if isinstance(a, Conceal):
        return {"do": "conceal", "sku": sku[a.sku], "qty": a.qty}
    if isinstance(a, Wait):
        return {"do": "wait", "s": float(a.seconds)}
    if isinstance(a, Look):
        return {"do": "look", "bin": a.bin, "s": float(a.seconds)}
    if isinstance(a, Inspect):
        return {"do": "inspect", "s": float(a.seconds)}
    if isinstance(a, Exit):
        return {"do": "exit"}
    if isinstance(a, WaitUntil):
        return {"do": "wait_until", "t_s": float(a.t_s)}
    if isinstance(a, Follow):
        return {"do": "follow", "shopper": names[a.to], "distance_m": float(a.distance_m),
                "s": float(a.seconds)}
    if isinstance(a, Reach):
        return {"do": "reach", "bin": a.bin, "s": float(a.seconds)}
    if isinstance(a, Stand):
        return {"do": "stand", "at": [float(a.x), float(a.y)], "s": float(a.seconds)}
    raise TypeError(f"scenario writer: unknown action {a!r}")


def dumps_scenario(scenario: Scenario) -> str:
    """The scenario as ``storetwin-scenario/1`` text in canonical form: SKUs and bins as
    resolved (``into`` and look's ``sku`` become ``bin``), every qty and account written,
    the store and layout as absolute paths (a preset by name). Read back, it gives an equal
    :class:`Scenario`."""
    sc = scenario
    sku = [str(s) for s in sc.store.catalogue.sku]
    names = [s.name for s in sc.shoppers]
    out = [f"format = {_toml(FORMAT)}", f"name = {_toml(sc.name)}"]
    if sc.description:
        out.append(f"description = {_toml(sc.description)}")
    out += [f"store = {_toml(sc.store_ref)}", f"seed = {_toml(sc.seed)}",
            f"max_duration_s = {_toml(float(sc.max_duration_s))}"]
    if sc.layout is not None:
        out.append(f"layout = {_toml(sc.layout)}")
    crowd = []
    if sc.crowd_shoppers:
        crowd.append(f"shoppers = {_toml(float(sc.crowd_shoppers))}")
    if sc.crowd_warm_start:
        crowd.append("warm_start = true")
    if sc.crowd_seed is not None:
        crowd.append(f"seed = {_toml(sc.crowd_seed)}")
    if crowd:
        out += ["", "[crowd]", *crowd]
    for s in sc.shoppers:
        out += ["", "[[shopper]]", f"id = {_toml(s.name)}", f"account = {_toml(s.account)}",
                f"enter_s = {_toml(float(s.enter_s))}"]
        if not s.checkin:
            out.append("checkin = false")
        elif s.checkin_delay_s:
            out.append(f"checkin_delay_s = {_toml(float(s.checkin_delay_s))}")
        out.append("actions = [")
        after = None
        for a in s.actions:
            if isinstance(a, After):
                after = a
                continue
            d = _action_table(a, sku, names)
            if after is not None:
                d["after"] = (f"{names[after.shopper]}.{after.kind}#{after.n} + "
                              f"{float(after.offset_s)!r}")
                after = None
            out.append(f"  {_toml(d)},")
        out.append("]")
    return "\n".join(out) + "\n"
