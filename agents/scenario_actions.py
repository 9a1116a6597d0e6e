"""Reading and checking a scenario's action lists: each action's fields (SKUs, bins,
quantities, seconds) against the store, and what each shopper holds as its actions are read.

Part of the ``storetwin-scenario/1`` reader (:mod:`agents.scenario`): every problem is
reported through its :class:`scenes.checks.Reader`, one line each, naming the field path (e.g.
``shopper[1].actions[2].qty``) and what is allowed. The format is documented key by key in
``docs/scenarios.md``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

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
from agents.scenario_after import parse_after
from scenes.checks import Reader, kind_of, show
from scenes.store import Store

MAX_QTY = 50                    # units in one action
MAX_STAND_S = 3600.0            # one wait, look or inspect [s]
MAX_PICK_PAUSE_S = 600.0        # a pick's browse_s or hesitate_s [s]
MAX_SUGGESTIONS = 10            # unknown skus given a "did you mean" (each scans the catalogue)
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "pick": ("do", "sku", "qty", "bin", "browse_s", "hesitate_s"),
    "put_back": ("do", "sku", "qty", "bin", "into"),
    "hand_to": ("do", "shopper", "sku", "qty"),
    "conceal": ("do", "sku", "qty"),
    "wait": ("do", "s"),
    "look": ("do", "sku", "bin", "s"),
    "inspect": ("do", "s"),
    "exit": ("do",),
    "wait_until": ("do", "t_s"),
    "follow": ("do", "shopper", "distance_m", "s"),
    "reach": ("do", "sku", "bin", "s"),
    "stand": ("do", "at", "camera", "bin", "s"),
}
ACTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "pick": ("sku",), "put_back": ("sku",), "hand_to": ("shopper", "sku"),
    "conceal": ("sku",), "wait": ("s",), "look": ("s",), "inspect": ("s",), "exit": (),
    "wait_until": ("t_s",), "follow": ("shopper", "s"), "reach": (), "stand": ("at", "s"),
}
MAX_FOLLOW_M = 10.0             # a follow's distance_m [m]
DEFAULT_FOLLOW_M = 1.0
DEFAULT_REACH_S = 2.0           # a reach's hand in the bin [s]
DOS = tuple(ACTION_KEYS)
HOLDINGS_RULE = ("held = its picks - put-backs - hand-outs - concealed units so far, "
                 "+ hand-ins from shoppers listed earlier in the file")


@dataclass
class StoreView:
    """What the action checks need of the store."""

    store: Store
    index: dict[str, int]                 # sku string -> catalogue row
    bins_of: dict[int, list[int]]         # catalogue row -> bin rows holding it, ascending

    @classmethod
    def of(cls, store: Store) -> StoreView:
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


@dataclass
class ShopperSoFar:
    """A shopper's checked header and the units it holds while its actions are read."""

    index: int
    name: str | None
    held: dict[int, int] = field(default_factory=dict)   # catalogue row -> free units
    unsure: set[int] = field(default_factory=set)         # rows an earlier problem blurs
    stand_s: float = 0.0                                  # scripted waiting [s]
    after: After | None = None       # the after key of the action being read
    until_s: float = 0.0             # the latest wait_until [s]
    after_bad: bool = False          # ... which had a problem


class ActionReader:
    """Reads the action lists of all shoppers in file order."""

    def __init__(self, r: Reader, view: StoreView | None, ids: dict[str, int],
                 names: list[str | None]) -> None:
        self.r = r
        self.view = view
        self.ids = ids              # shopper id -> index of its first [[shopper]]
        self.names = names          # index -> id (None where it is invalid)
        self.hand_ins: dict[int, dict[int, int]] = {}   # receiver -> sku -> units
        self.unknown = 0            # unknown skus so far (a suggestion scans the catalogue)
        self.max_s: float | None = None     # the run's max_duration_s, when valid
        # every after key read: (path, shopper index, position in its script, After)
        self.afters: list[tuple[str, int, int, After]] = []
        self.places = None          # agents.scenario_places.Places, built when first needed
        self.layout: str | None = None

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

    def take(self, me: ShopperSoFar, k: int, qty: int, path: str, what: str) -> None:
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

    def action(self, me: ShopperSoFar, a, path: str) -> Action | None:
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
        if "after" in a:        # any action may wait for another shopper's (scenario_after)
            a = dict(a)
            me.after = parse_after(r, a.pop("after"), f"{path}.after", self.ids)
            me.after_bad = me.after is None
        t = r.table(a, path, ACTION_KEYS[do] + ("after",), ACTION_REQUIRED[do])
        if t is None:
            return None
        return getattr(self, f"_{do}")(me, t, path)

    def _pick(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
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

    def _put_back(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
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

    def _hand_to(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        to = self._other(me, t, path, "hand over to")
        k = self.sku(t, "sku", path, placed=False)
        qty = self.qty(t, path)
        if k is not None and qty is not None:
            self.take(me, k, qty, path, "hands over")
        if k is None or qty is None or to is None:
            return None
        if to > me.index:
            got = self.hand_ins.setdefault(to, {})
            got[k] = got.get(k, 0) + qty
        return HandTo(to, k, qty)

    def _conceal(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        k = self.sku(t, "sku", path, placed=False)
        qty = self.qty(t, path)
        if k is None or qty is None:
            return None
        self.take(me, k, qty, path, "conceals")
        return Conceal(k, qty)

    def _wait(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        return None if s is None else Wait(s)

    def _inspect(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        return None if s is None else Inspect(s)

    def _target_bin(self, t: dict, path: str, what: str) -> int | None:
        """The bin an action names by exactly one of ``sku`` (the lowest bin of that sku)
        and ``bin`` (a row); None (and a problem reported) otherwise."""
        if ("sku" in t) == ("bin" in t):
            self.r.bad(path, "expected exactly one of sku (that sku's bin) and bin (a bin row) "
                       f"{what}")
            return None
        if "bin" in t:
            return self.bin(t, path)
        k = self.sku(t, "sku", path, placed=True)
        return None if k is None else self.view.bins_of[k][0]

    def _look(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        b = self._target_bin(t, path, "to look at")
        if s is None or b is None:
            return None
        return Look(b, s)

    def _exit(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        return Exit()

    def _other(self, me: ShopperSoFar, t: dict, path: str, what: str) -> int | None:
        """The index of the other shopper ``t["shopper"]`` names."""
        name = self.r.string(t, "shopper", path)
        if name is None:
            return None
        others = [n for n in dict.fromkeys(self.names) if n is not None and n != me.name]
        allowed = (f"another shopper's id: {', '.join(others)}" if others
                   else "another shopper's id, but this file has no other shopper")
        if name == me.name:
            self.r.bad(f"{path}.shopper", f"= {show(name)} is this shopper, who cannot {what} "
                       f"itself; expected {allowed}")
        elif name not in self.ids:
            self.r.bad(f"{path}.shopper", f"= {show(name)} names no shopper; expected {allowed}")
        else:
            return self.ids[name]
        return None

    def _wait_until(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        ts = self.r.number(t, "t_s", path, ge=0.0, le=self.max_s or 86_400.0, unit="s")
        if ts is not None and self.max_s is not None and ts >= self.max_s:
            self.r.bad(f"{path}.t_s", f"= {ts:g} is not before max_duration_s = "
                       f"{self.max_s:g}; expected a time the run reaches")
            return None
        if ts is not None:
            me.until_s = max(me.until_s, ts)
        return None if ts is None else WaitUntil(ts)

    def _follow(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        to = self._other(me, t, path, "follow")
        d = self.r.number(t, "distance_m", path, gt=0.0, le=MAX_FOLLOW_M,
                          default=DEFAULT_FOLLOW_M, unit="m")
        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        if to is None or d is None or s is None:
            return None
        return Follow(to, d, s)

    def _reach(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        s = self.seconds(t, "s", path, MAX_PICK_PAUSE_S, default=DEFAULT_REACH_S)
        if s is not None and s <= 0:
            self.r.bad(f"{path}.s", f"= {s:g} is not allowed; expected a number > 0 and <= "
                       f"{MAX_PICK_PAUSE_S:g} (s)")
            s = None
        me.stand_s += s or 0.0
        b = self._target_bin(t, path, "to reach into")
        if s is None or b is None:
            return None
        return Reach(b, s)

    def _stand(self, me: ShopperSoFar, t: dict, path: str) -> Action | None:
        from agents.scenario_places import read_stand

        s = self.seconds(t, "s", path, MAX_STAND_S)
        me.stand_s += s or 0.0
        xy = read_stand(self, t, path)
        if s is None or xy is None:
            return None
        return Stand(xy[0], xy[1], s)

    # -- one shopper

    def shopper(self, me: ShopperSoFar, arr: list, path: str) -> tuple[Action, ...] | None:
        me.held = dict(self.hand_ins.get(me.index, {}))
        out: list[Action | None] = []
        exit_at = None
        for j, a in enumerate(arr):
            p = f"{path}[{j}]"
            if exit_at is not None and j == exit_at + 1:
                self.r.bad(p, f"follows the exit at actions[{exit_at}]; nothing may follow an "
                           f"exit (the shopper has left): remove the {len(arr) - j} action(s) "
                           "after it")
            me.after, me.after_bad = None, False
            act = self.action(me, a, p)
            if isinstance(act, Exit) and exit_at is None:
                exit_at = j
            if me.after_bad:
                out.append(None)
            elif me.after is not None:
                self.afters.append((f"{p}.after", me.index, len(out), me.after))
                out.append(me.after)
            out.append(act)
        if any(x is None for x in out):
            return None
        acts = tuple(x for x in out if x is not None)
        if not acts or not isinstance(acts[-1], Exit):
            acts += (Exit(),)
        return acts


