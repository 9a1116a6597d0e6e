"""Scripted scenarios: the ``storetwin-scenario/1`` TOML format a tester writes, its checks,
the shipped library and the receipts a script implies.

A scenario names a store, a seed and a few scripted shoppers: when each enters, on which app
account, and what it does, one :mod:`agents.actions` action at a time (pick, put back,
misplace, hand over, conceal, wait, look, inspect, exit). Optionally a background crowd of
sampled shoppers shares the store. The format is documented key by key in
``docs/scenarios.md``; the library is ``agents/scenarios/*.toml``.

Every problem in a scenario is reported, one line each, naming the file, the field path (e.g.
``shopper[1].actions[2].qty``) and what is allowed; a file with problems raises
:class:`ScenarioError` holding all of them, and nothing else escapes the loader.

Actions refer to SKUs by catalogue row (``store.catalogue.index()``) and to bins by
``store.bins`` row; :class:`agents.actions.HandTo` ``to`` is the receiver's index in
:attr:`Scenario.shoppers` (the crowd gives scripted shoppers ids 0 .. k-1 in file order).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from agents.actions import (
    Action,
    Conceal,
    Exit,
    HandTo,
    Inspect,
    Look,
    Pick,
    PutBack,
    Wait,
)
from scenes.checks import ProblemsError, Reader, kind_of, parse_toml, read_text, show
from scenes.presets import PRESETS, load_preset
from scenes.spec import SpecError, load_spec
from scenes.store import Store
from scenes.tomlw import value as _toml

FORMAT = "storetwin-scenario/1"
DEFAULT_DURATION_S = 600.0      # run length when the file does not say [s]
MAX_DURATION_S = 86_400.0       # a day [s]
MAX_QTY = 50                    # units in one action
MAX_SHOPPERS = 200              # scripted shoppers in one file
MAX_ACTIONS = 1000              # actions of one shopper
MAX_CROWD = 1000                # background shoppers in the store at once
MAX_STAND_S = 3600.0            # one wait, look or inspect [s]
MAX_PICK_PAUSE_S = 600.0        # a pick's browse_s or hesitate_s [s]
MAX_SEED = 2**63 - 1            # fits an int64 column of the results store
MAX_SUGGESTIONS = 10            # unknown skus given a "did you mean" (each scans the catalogue)
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NAME_RULE = "1 to 64 characters of A-Z, a-z, 0-9, _ and -"

TOP_KEYS = ("format", "name", "description", "store", "seed", "max_duration_s", "layout",
            "crowd", "shopper")
SHOPPER_KEYS = ("id", "account", "enter_s", "actions")
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "pick": ("do", "sku", "qty", "bin", "browse_s", "hesitate_s"),
    "put_back": ("do", "sku", "qty", "bin", "into"),
    "hand_to": ("do", "shopper", "sku", "qty"),
    "conceal": ("do", "sku", "qty"),
    "wait": ("do", "s"),
    "look": ("do", "sku", "bin", "s"),
    "inspect": ("do", "s"),
    "exit": ("do",),
}
ACTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "pick": ("sku",), "put_back": ("sku",), "hand_to": ("shopper", "sku"),
    "conceal": ("sku",), "wait": ("s",), "look": ("s",), "inspect": ("s",), "exit": (),
}
DOS = tuple(ACTION_KEYS)
HOLDINGS_RULE = ("held = its picks - put-backs - hand-outs - concealed units so far, "
                 "+ hand-ins from shoppers listed earlier in the file")


class ScenarioError(ProblemsError):
    """A scenario with problems: ``problems`` is a list of (field path, message)."""


@dataclass(frozen=True)
class ScriptedShopper:
    """One scripted shopper.

    name: unique id in the file; account: app account it checks in with (shoppers sharing
    one are a group billed together); enter_s: entry time [s]; actions: what it does, in
    order, ending with :class:`agents.actions.Exit`.
    """

    name: str
    account: str
    enter_s: float
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Scenario:
    """A checked scenario.

    source: where it was read from (not compared); name, description: from the file;
    store: the built store (not compared; ``store_ref`` identifies it); store_ref: the preset
    name, or the absolute path of the store spec file; seed: the run's seed; max_duration_s:
    the latest the run stops [s]; layout: absolute path of a camera layout file, or None for
    the run's default; crowd_shoppers: background shoppers kept in the store [shoppers];
    shoppers: the scripted shoppers in file order (crowd ids 0 .. k-1).
    """

    source: str = field(compare=False)
    name: str
    description: str
    store: Store = field(compare=False, repr=False)
    store_ref: str
    seed: int
    max_duration_s: float
    layout: str | None
    crowd_shoppers: float
    shoppers: tuple[ScriptedShopper, ...]

    @property
    def accounts(self) -> tuple[str, ...]:
        """The scripted shoppers' accounts in order of first appearance."""
        return tuple(dict.fromkeys(s.account for s in self.shoppers))


# ---------------------------------------------------------------------------------------------
# checking


@dataclass
class _StoreView:
    """What the action checks need of the store."""

    store: Store
    index: dict[str, int]                 # sku string -> catalogue row
    bins_of: dict[int, list[int]]         # catalogue row -> bin rows holding it, ascending

    @classmethod
    def of(cls, store: Store) -> _StoreView:
        bins_of: dict[int, list[int]] = {}
        for b, k in enumerate(store.bins.sku_index.tolist()):
            bins_of.setdefault(int(k), []).append(b)
        return cls(store, store.catalogue.index(), bins_of)

    def label(self, k: int) -> str:
        c = self.store.catalogue
        return f"{c.sku[k]} ({c.name[k]})"

    @property
    def n_bins(self) -> int:
        return len(self.store.bins)


def _bin_list(rows: list[int], limit: int = 8) -> str:
    s = ", ".join(str(b) for b in rows[:limit])
    return s + (f" ... ({len(rows)} bins)" if len(rows) > limit else "")


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
    from twin.layout import LayoutError, load_layout

    try:
        load_layout(path, store)
    except LayoutError as e:
        for line in e.lines():
            r.bad("layout", f"names a layout with problems: {line}")
    return str(path)


@dataclass
class _Shopper:
    """A shopper's checked header and the units it holds while its actions are read."""

    index: int
    name: str | None
    held: dict[int, int] = field(default_factory=dict)   # catalogue row -> free units
    unsure: set[int] = field(default_factory=set)         # rows an earlier problem blurs
    stand_s: float = 0.0                                  # scripted waiting [s]


class _Actions:
    """Reads the action lists of all shoppers in file order."""

    def __init__(self, r: Reader, view: _StoreView | None, ids: dict[str, int],
                 names: list[str | None]) -> None:
        self.r = r
        self.view = view
        self.ids = ids              # shopper id -> index of its first [[shopper]]
        self.names = names          # index -> id (None where it is invalid)
        self.hand_ins: dict[int, dict[int, int]] = {}   # receiver -> sku -> units
        self.unknown = 0            # unknown skus so far (a suggestion scans the catalogue)

    # -- fields

    def sku(self, t: dict, key: str, path: str, *, placed: bool) -> int | None:
        """Catalogue row of the SKU string at ``t[key]``; ``placed``: must be on a bin."""
        s = self.r.string(t, key, path)
        if s is None or self.view is None:
            return None
        p = f"{path}.{key}"
        v = self.view
        k = v.index.get(s)
        if k is None:
            self.unknown += 1
            close = (difflib.get_close_matches(s, v.index, n=1)
                     if self.unknown <= MAX_SUGGESTIONS else [])
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            first = ", ".join(list(v.index)[:3])
            r_name = v.store.name
            self.r.bad(p, f"= {show(s)} is not in the catalogue of store {r_name!r}{hint}; "
                       f"expected one of its {len(v.index)} skus ({first}, ...)")
            return None
        if placed and k not in v.bins_of:
            self.r.bad(p, f"= {show(s)} ({v.store.catalogue.name[k]}) is in the catalogue but "
                       f"on no bin of store {v.store.name!r}; expected a sku the planogram "
                       "places on a shelf")
            return None
        return k

    def bin(self, t: dict, path: str) -> int | None:
        v = t["bin"]
        p = f"{path}.bin"
        if self.view is None:
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                self.r.bad(p, f"= {show(v)} is not allowed; expected a bin row, an integer "
                           ">= 0")
            return None
        n = self.view.n_bins
        if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n):
            self.r.bad(p, f"= {show(v)} is not allowed; expected a bin row of store "
                       f"{self.view.store.name!r}, an integer >= 0 and <= {n - 1}")
            return None
        return int(v)

    def qty(self, t: dict, path: str) -> int | None:
        return self.r.integer(t, "qty", path, ge=1, le=MAX_QTY, default=1)

    def seconds(self, t: dict, key: str, path: str, le: float, default=None) -> float | None:
        return self.r.number(t, key, path, gt=0 if default is None else None,
                             ge=None if default is None else 0.0, le=le, default=default,
                             unit="s")

    def take(self, me: _Shopper, k: int, qty: int, path: str, what: str) -> None:
        """Check that ``me`` holds ``qty`` free units of SKU ``k`` and take them."""
        have = me.held.get(k, 0)
        if have >= qty or k in me.unsure:   # no second problem from the same mistake
            me.held[k] = max(have - qty, 0)
            return
        me.unsure.add(k)
        v = self.view
        assert v is not None
        who = me.name or f"shopper[{me.index}]"
        if have == 0:
            self.r.bad(f"{path}.sku", f"{what} {v.label(k)}, but {who!r} holds no free unit "
                       f"of it here; expected a sku it holds ({HOLDINGS_RULE})")
        else:
            self.r.bad(f"{path}.qty", f"= {qty} is more than {who!r} holds here: {have} "
                       f"unit(s) of {v.label(k)}; expected qty <= {have} ({HOLDINGS_RULE})")

    # -- one action

    def action(self, me: _Shopper, a, path: str) -> Action | None:
        r = self.r
        if not isinstance(a, dict):
            r.bad(path, f"is {kind_of(a)}; expected an inline table such as "
                  "{ do = \"pick\", sku = \"...\" }")
            return None
        if "do" not in a:
            r.bad(f"{path}.do", f"is missing (required); expected one of {', '.join(DOS)}")
            return None
        do = r.string(a, "do", path, choices=DOS)
        if do is None:
            return None
        t = r.table(a, path, ACTION_KEYS[do], ACTION_REQUIRED[do])
        if t is None:
            return None
        return getattr(self, f"_{do}")(me, t, path)

    def _pick(self, me: _Shopper, t: dict, path: str) -> Action | None:
        k = self.sku(t, "sku", path, placed=True)
        qty = self.qty(t, path)
        b = self.bin(t, path) if "bin" in t else -1
        browse = self.seconds(t, "browse_s", path, MAX_PICK_PAUSE_S, default=0.0)
        hes = self.seconds(t, "hesitate_s", path, MAX_PICK_PAUSE_S, default=0.0)
        me.stand_s += (browse or 0.0) + (hes or 0.0)
        if k is not None:   # held even when the pick has another problem
            if qty is None:
                me.unsure.add(k)
            else:
                me.held[k] = me.held.get(k, 0) + qty
        if k is None or qty is None or b is None or browse is None or hes is None:
            return None
        v = self.view
        assert v is not None
        bins = v.bins_of[k]
        count = v.store.bins.count
        if b >= 0:
            if b not in bins:
                have = int(v.store.bins.sku_index[b])
                self.r.bad(f"{path}.bin", f"= {b} holds {v.label(have)}, not "
                           f"{v.store.catalogue.sku[k]}; expected a bin of "
                           f"{v.store.catalogue.sku[k]}: {_bin_list(bins)}")
                return None
            if qty > count[b]:
                self.r.bad(f"{path}.qty", f"= {qty} is more than bin {b} holds ({count[b]} "
                           f"units of {v.label(k)} at the start); expected qty <= {count[b]}")
                return None
        else:
            least = int(min(count[i] for i in bins))
            if qty > least:
                most = max(bins, key=lambda i: (count[i], -i))
                fix = (f"or a bin that holds enough (bin = {most} holds {count[most]})"
                       if qty <= count[most] else "or several picks (no bin of it holds more "
                       f"than {count[most]})")
                self.r.bad(f"{path}.qty", f"= {qty} is more than some bins of {v.label(k)} "
                           f"hold at the start (the fewest: {least} units), and a pick takes "
                           f"its units from the one bin it walks to; expected qty <= {least}, "
                           f"{fix}")
                return None
        return Pick(k, qty, b, browse, hes)

    def _put_back(self, me: _Shopper, t: dict, path: str) -> Action | None:
        k = self.sku(t, "sku", path, placed=False)
        qty = self.qty(t, path)
        b: int | None = -1
        if "bin" in t and "into" in t:
            self.r.bad(path, "has both bin and into; expected at most one (into = \"SKU\": "
                       "that sku's bin; bin = N: bin row N; neither: the bin it came from)")
            b = None
        elif "bin" in t:
            b = self.bin(t, path)
        elif "into" in t:
            into = self.sku(t, "into", path, placed=True)
            b = None if into is None else self.view.bins_of[into][0]
        if k is not None and qty is not None:
            self.take(me, k, qty, path, "puts back")
        if k is None or qty is None or b is None:
            return None
        return PutBack(k, qty, b)

    def _hand_to(self, me: _Shopper, t: dict, path: str) -> Action | None:
        to_name = self.r.string(t, "shopper", path)
        k = self.sku(t, "sku", path, placed=False)
        qty = self.qty(t, path)
        to = None
        if to_name is not None:
            others = [n for n in dict.fromkeys(self.names) if n is not None and n != me.name]
            allowed = (f"another shopper's id: {', '.join(others)}" if others
                       else "another shopper's id, but this file has no other shopper")
            if to_name == me.name:
                self.r.bad(f"{path}.shopper", f"= {show(to_name)} is this shopper; expected "
                           f"{allowed}")
            elif to_name not in self.ids:
                self.r.bad(f"{path}.shopper", f"= {show(to_name)} names no shopper; expected "
                           f"{allowed}")
            else:
                to = self.ids[to_name]
        if k is not None and qty is not None:
            self.take(me, k, qty, path, "hands over")
        if k is None or qty is None or to is None:
            return None
        if to > me.index:
            got = self.hand_ins.setdefault(to, {})
            got[k] = got.get(k, 0) + qty
        return HandTo(to, k, qty)

    def _conceal(self, me: _Shopper, t: dict, path: str) -> Action | None:
        k = self.sku(t, "sku", path, placed=False)
        qty = self.qty(t, path)
        if k is None or qty is None:
            return None
        self.take(me, k, qty, path, "conceals")
        return Conceal(k, qty)

    def _wait(self, me: _Shopper, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        return None if s is None else Wait(s)

    def _inspect(self, me: _Shopper, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        return None if s is None else Inspect(s)

    def _look(self, me: _Shopper, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        if ("sku" in t) == ("bin" in t):
            self.r.bad(path, "expected exactly one of sku (that sku's bin) and bin (a bin row) "
                       "to look at")
            return None
        if "bin" in t:
            b = self.bin(t, path)
        else:
            k = self.sku(t, "sku", path, placed=True)
            b = None if k is None else self.view.bins_of[k][0]
        if s is None or b is None:
            return None
        return Look(b, s)

    def _exit(self, me: _Shopper, t: dict, path: str) -> Action | None:
        return Exit()

    # -- one shopper

    def shopper(self, me: _Shopper, arr: list, path: str) -> tuple[Action, ...] | None:
        me.held = dict(self.hand_ins.get(me.index, {}))
        out: list[Action | None] = []
        exit_at = None
        for j, a in enumerate(arr):
            p = f"{path}[{j}]"
            if exit_at is not None and j == exit_at + 1:
                self.r.bad(p, f"follows the exit at actions[{exit_at}]; nothing may follow an "
                           f"exit (the shopper has left): remove the {len(arr) - j} action(s) "
                           "after it")
            act = self.action(me, a, p)
            if isinstance(act, Exit) and exit_at is None:
                exit_at = j
            out.append(act)
        if any(x is None for x in out):
            return None
        acts = tuple(x for x in out if x is not None)
        if not acts or not isinstance(acts[-1], Exit):
            acts += (Exit(),)
        return acts


def _shoppers(r: Reader, doc: dict, view: _StoreView | None, max_s: float | None
              ) -> list[ScriptedShopper]:
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
    reader = _Actions(r, view, ids, names)
    out: list[ScriptedShopper] = []
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
        acts = r.array(t, "actions", p)
        if acts is None:
            continue
        if len(acts) > MAX_ACTIONS:
            r.bad(f"{p}.actions", f"has {len(acts)} actions; at most {MAX_ACTIONS} are allowed")
            continue
        me = _Shopper(i, name)
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
        if None in (name, account, enter, actions):
            continue
        out.append(ScriptedShopper(name, account, enter, actions))
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
    crowd = 0.0
    if "crowd" in doc:
        c = r.table(doc["crowd"], "crowd", ("shoppers",))
        if c is not None:
            crowd = r.number(c, "shoppers", "crowd", ge=0, le=MAX_CROWD, default=0.0,
                             unit="shoppers in the store at once")
    view = _StoreView.of(store) if store is not None else None
    shoppers = _shoppers(r, doc, view, max_s)
    if r.problems:
        raise ScenarioError(source, r.problems)
    assert store is not None and name is not None and seed is not None and max_s is not None
    return Scenario(source=source, name=name, description=description, store=store,
                    store_ref=store_ref, seed=seed, max_duration_s=max_s, layout=layout,
                    crowd_shoppers=float(crowd), shoppers=tuple(shoppers))


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
    if sc.crowd_shoppers:
        out += ["", "[crowd]", f"shoppers = {_toml(float(sc.crowd_shoppers))}"]
    for s in sc.shoppers:
        out += ["", "[[shopper]]", f"id = {_toml(s.name)}", f"account = {_toml(s.account)}",
                f"enter_s = {_toml(float(s.enter_s))}", "actions = ["]
        out += [f"  {_toml(_action_table(a, sku, names))}," for a in s.actions]
        out.append("]")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# what the script implies


def expected_receipts(scenario: Scenario) -> dict[str, dict[str, int]]:
    """What each scripted account owes, from the script alone.

    account -> {sku string: units}: picks - put-backs (into any bin, misplaced or not)
    - units handed out + units handed in (billed to the receiver's account); a concealed unit
    is still owed. Zero lines are dropped; every scripted account is present, possibly empty;
    accounts in order of first appearance, skus in catalogue order. Background crowd shoppers
    are not included.
    """
    owed: dict[str, dict[int, int]] = {a: {} for a in scenario.accounts}

    def add(account: str, k: int, n: int) -> None:
        owed[account][k] = owed[account].get(k, 0) + n

    for s in scenario.shoppers:
        for a in s.actions:
            if isinstance(a, Pick):
                add(s.account, a.sku, a.qty)
            elif isinstance(a, PutBack):
                add(s.account, a.sku, -a.qty)
            elif isinstance(a, HandTo):
                add(s.account, a.sku, -a.qty)
                add(scenario.shoppers[a.to].account, a.sku, a.qty)
    sku = scenario.store.catalogue.sku
    return {acct: {str(sku[k]): n for k, n in sorted(lines.items()) if n != 0}
            for acct, lines in owed.items()}
