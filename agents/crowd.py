"""The crowd: sampled and scripted shoppers walking the store and acting on its shelves.

A shopper is a queue of :mod:`agents.actions` (sampled by :mod:`agents.behaviour` from its
visit type and latent preferences, or read from a scenario) carried out by a small state
machine; motion is one vectorized step for everyone at once (:mod:`agents.motion`).

This module holds the crowd's parameters (:class:`ShopperConfig`), its scripted shoppers'
input (:class:`ScriptedShopper`), and :class:`Crowd`: its state, the population interface
the twin's loop drives (one :meth:`Crowd.step`), and the ground truth it answers. The crowd's
jobs are one module each: who comes and goes (:mod:`agents.door`), where a list takes a
shopper (:mod:`agents.stops`), carrying out actions (:mod:`agents.acting`), walking
(:mod:`agents.walking`); the records of its people are :mod:`agents.roster`.

Per step the Python work is proportional to the shoppers whose state changes (a timer ran
out, a waypoint was reached), not to the crowd: 1,000 shoppers in a supercenter step in a
few milliseconds (``tests/benchmarks/test_crowd_speed.py``).

Defaults and where they come from (docs/shoppers.md, REFERENCES.md):
- arrivals: a non-homogeneous Poisson process whose rate at the run's start keeps
  ``shoppers_in_store`` people inside on average (Little's law: rate = N / mean trip), then
  follows the hourly profile of :mod:`agents.visits`.
- reach into a bin 1.0 s and back out 0.5 s (assumption: a grasp-and-lift takes ~1 s in
  shelf-picking studies of warehouse order pickers); handing over an item at arm's length,
  1.0 m apart (assumption).
- groups: 8% of arrivals are two people on one account who split the list (assumption; the
  app admits a group, and family trips are a minority of c-store visits).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from agents.acting import Acting
from agents.actions import ACTION_KIND, Action
from agents.arrivals import ArrivalProcess, rate_for_crowd
from agents.behaviour import stock_index
from agents.door import Admission
from agents.motion import MotionParams
from agents.navigation import NavGrid
from agents.population import DEFAULT_CONFIG, ShopperPopulationConfig
from agents.roster import WALKING, ShopperRecord, ShopperState, TruthEvent
from agents.stops import StopPlanning
from agents.tastes import Preferences, sample_preferences
from agents.visits import BehaviourProfile, profile_for_area
from agents.walking import Walking
from params import config, num
from scenes.store import Store
from scenes.substitutes import substitute_groups
from twin.sensors import EntryGate
from twin.world import World


@config(frozen=True)
class ShopperConfig:
    """The crowd's parameters: how many shoppers, of which behaviour, how they act and move."""

    # target crowd at the start (sets the arrival rate)
    shoppers_in_store: float = num(15.0, ge=0)
    # for Little's law; None: the behaviour profile's
    mean_trip_s: float | None = num(None, gt=0, optional=True, unit="s")
    start_hour: float = num(12.0, ge=0, lt=24, unit="h")   # time of day at the run's start
    hourly_profile: bool = True       # False: a homogeneous Poisson process
    reach_s: float = num(1.0, ge=0, unit="s")     # hand into the bin before a pick or put-back
    settle_s: float = num(0.5, ge=0, unit="s")    # hand back out
    handoff_m: float = num(1.0, gt=0, unit="m")   # distance at which an item changes hands
    # a giver gives up on a receiver not found by then
    handoff_wait_s: float = num(60.0, ge=0, unit="s")
    # share of arrivals that are two people on one account
    p_group: float = num(0.08, ge=0, le=1)
    # returning customers: > 0 makes every sampled arrival one of this many accounts, each
    # with tastes drawn once, chosen uniformly among those not in the store nor just gone
    # (an arrival finding none is not made). 0: every arrival a new account (the default).
    # A loyalty panel for preference studies (experiments/scoring/insights.py): over a run
    # each account visits about arrivals / panel times.
    panel: int = num(0, ge=0, le=1_000_000, integer=True)
    # a panel account comes back no sooner than this after it left (assumption: a
    # loyalty panel's visits are days apart; the run compresses them, but not into one
    # doorway, where the store would see a shopper walk out and straight back in)
    panel_away_s: float = num(120.0, ge=0, unit="s")
    profile: BehaviourProfile | None = None   # None: by the store's floor area
    population: ShopperPopulationConfig = DEFAULT_CONFIG   # tastes, choices, put-backs
    motion: MotionParams = field(default_factory=MotionParams)


@dataclass(frozen=True)
class ScriptedShopper:
    """A shopper whose actions are given (a scenario): crowd id = its index in the list.

    controlled: driven step by step from outside (an RL agent, :meth:`Crowd.command`): when
    its queue runs dry it stands and waits (state ``await``) for the next command instead
    of walking out. checkin_delay_s: the gate's check-in message is sent that long after it
    passes the gate [s]; checkin: False sends none (an unknown shopper)."""
    name: str
    account: int
    enter_s: float
    actions: tuple[Action, ...]
    controlled: bool = False
    checkin_delay_s: float = 0.0
    checkin: bool = True


class Crowd(Admission, StopPlanning, Acting, Walking):
    """The population of a run (implements ``twin.sim.Population``).

    ``scripted``: shoppers with given actions, crowd ids 0..k-1; sampled shoppers arrive
    until ``arrivals_until_s`` (None: all run) and get ids from k on.
    """

    def __init__(self, store: Store, config: ShopperConfig, rng: np.random.Generator,
                 arrivals_until_s: float | None = None,
                 scripted: tuple[ScriptedShopper, ...] | list[ScriptedShopper] = (),
                 nav: NavGrid | None = None) -> None:
        self.store = store
        self.config = config
        self.rng = rng
        # looks are drawn from a stream of their own (spawned: the crowd's stream is not
        # advanced), so dressing shoppers changes no other draw
        self._looks_rng = rng.spawn(1)[0]
        self.profile = config.profile or profile_for_area(store.area_m2)
        self.nav = nav or NavGrid(store, clearance=config.motion.radius + 0.05)
        self.arrivals_until_s = arrivals_until_s
        mean_trip = config.mean_trip_s or self.profile.mean_trip_s
        self.arrivals = ArrivalProcess(rate_for_crowd(config.shoppers_in_store, mean_trip),
                                       config.start_hour,
                                       self.profile.hourly if config.hourly_profile
                                       else (1.0,) * 24)
        self._next_arrival = (self.arrivals.next_after(0.0, rng)
                              if config.shoppers_in_store > 0 else np.inf)
        self._door_queue: deque = deque()       # (shopper, record) waiting for the door
        self._scripted = sorted(enumerate(scripted), key=lambda p: (p[1].enter_s, p[0]))
        self.controlled: set[int] = {i for i, s in enumerate(scripted) if s.controlled}
        self.shoppers: dict[int, ShopperState] = {}
        self.roster: dict[int, ShopperRecord] = {}
        self._order: list[ShopperState] = []     # aligned with the arrays below
        self.ids = np.zeros(0, dtype=np.int64)
        self.xy = np.zeros((0, 2))
        self.vel = np.zeros((0, 2))
        self._target = np.zeros((0, 2))
        self._best = np.zeros(0)
        self._stalled = np.zeros(0)
        self._anchor = np.zeros((0, 2))     # where a walker last was 0.5 m away from
        self._anchor_t = np.zeros(0)        # and when
        self._squeezed = np.zeros(0, dtype=bool)   # squeezing past people (narrower body)
        self._speed = np.zeros(0)           # desired speed [m/s] and body radius [m]
        self._radius = np.zeros(0)
        self._next_id = len(scripted)
        self._script_timing(scripted)
        self._accounts: set[int] = {s.account for s in scripted}
        self._members: dict[int, int] = {}       # account -> members not yet gone
        for s in scripted:
            self._members[s.account] = self._members.get(s.account, 0) + 1
        self._now = 0.0
        self.truth: list[TruthEvent] = []
        self.carts: dict[int, dict[str, int]] = {}   # account -> sku -> units owed
        self.exited: dict[int, float] = {}           # account -> time its last member left
        self.entered: dict[int, float] = {}          # account -> time its visit began
        # earlier visits of returning accounts (ShopperConfig.panel): (account, enter time,
        # exit time, sku -> units owed), archived when the account comes in again
        self.past_visits: list[tuple[int, float, float, dict[str, int]]] = []
        self.problems: list[str] = []                # scripted actions that could not be done
        self.spawn_xy = self.nav.nearest_free(store.entrance.inside(0.35))
        self.exit_inside = self.nav.nearest_free(store.exit.inside(0.9))
        self.exit_out = store.exit.inside(0.1)
        cat = store.catalogue
        sku_bins: dict[int, list[int]] = {}
        for i, s in enumerate(store.bins.sku_index.tolist()):
            sku_bins.setdefault(int(s), []).append(i)
        self._sku_bins = sku_bins
        self._stocked = np.array(sorted(sku_bins), dtype=np.int64)
        self._groups = substitute_groups(cat)
        self._stock = stock_index(self._groups, self._stocked)
        self._panel: list[int] = []
        self._panel_prefs: Preferences | None = None
        if config.panel:
            self._panel = [self._new_account() for _ in range(config.panel)]
            self._panel_prefs = sample_preferences(rng, config.panel, cat, config.population)
        from agents import _motion_kernels

        self._mk = _motion_kernels
        _motion_kernels.warm_up()

    def _script_timing(self, scripted) -> None:
        """What the scripted shoppers' timing keys need: each scripted action object -> (it,
        crowd id, kind, occurrence) for :class:`agents.actions.After`, with (crowd id, kind,
        occurrence) -> when that action was over [s]; check-ins late or not sent."""
        self._marks: dict[int, tuple] = {}
        for i, s in enumerate(scripted):
            seen: dict[str, int] = {}
            for a in s.actions:
                kind = ACTION_KIND.get(type(a))
                if kind is not None:
                    seen[kind] = seen.get(kind, 0) + 1
                    self._marks[id(a)] = (a, i, kind, seen[kind])
        self._done_at: dict[tuple[int, str, int], float] = {}
        self._after_wait: list[ShopperState] = []
        # crowd id -> (delay [s], sent at all); late messages as (due time, crowd id, account)
        self._checkin = {i: (s.checkin_delay_s, s.checkin) for i, s in enumerate(scripted)
                         if s.checkin_delay_s or not s.checkin}
        self._late_checkins: list[tuple[float, int, int]] = []

    # -- the Population interface ------------------------------------------------------------
    def looks(self, ids: np.ndarray) -> np.ndarray:
        """(s, 3, 3) uint8 sRGB top, bottoms and skin (agents.looks) of the shoppers ``ids``
        (s,) (those inside or gone)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        out = np.zeros((ids.size, 3, 3), np.uint8)
        for k, i in enumerate(ids):
            rec = self.roster.get(int(i))
            if rec is not None and rec.looks is not None:
                out[k] = rec.looks
        return out

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ids.copy(), self.xy.copy()

    HAND_ABOVE_PLATE_M = 0.08
    HAND_SIDE_MARGIN_M = 0.05   # a hand stays this far inside the bin's side walls [m]
    # Where two hands meet in a hand-over: halfway between the bodies, at about elbow
    # height of an adult (~1.05 m; standing elbow height, ANSUR-type tables ~1.0-1.1 m).
    HAND_OVER_Z_M = 1.05

    def hand_receivers(self) -> np.ndarray:
        """(s,) int64: for each person (order of ``positions``) holding a hand out to another
        (a hand-over, see :meth:`hands`), the receiver's row; -1 for the others."""
        out = np.full(self.ids.shape[0], -1, np.int64)
        for k, sh in enumerate(self._order):
            if sh.state == "settle" and sh.handing_to >= 0:
                rx = self.shoppers.get(sh.handing_to)
                if rx is not None and rx.state != "gone":
                    out[k] = self._order.index(rx)
        return out

    def hands(self) -> np.ndarray:
        """(s, 3) float64 hand position [m] of each person (order of ``positions``) whose hand
        is in a shelf bin now (reaching for a pick, putting back, or a touch that takes
        nothing: :class:`agents.actions.Reach`) or held out to another
        shopper (the moments after a hand-over: halfway between the two, at
        ``HAND_OVER_Z_M``); NaN rows for the others.

        The hand is at the bin's front face, ``HAND_ABOVE_PLATE_M`` above its plate, and
        along the face where the reacher stands (the point of the face nearest the body,
        kept ``HAND_SIDE_MARGIN_M`` inside the bin): two people reaching into one wide bin
        side by side have their hands apart, as a pose model would see them.
        """
        out = np.full((self.ids.shape[0], 3), np.nan)
        b = self.store.bins
        for k, sh in enumerate(self._order):
            if sh.state == "settle" and sh.handing_to >= 0:
                rx = self.shoppers.get(sh.handing_to)
                if rx is not None and rx.state != "gone":
                    kr = self._order.index(rx)
                    out[k, :2] = 0.5 * (self.xy[k] + self.xy[kr])
                    out[k, 2] = self.HAND_OVER_Z_M
                continue
            if sh.state in ("reach", "place", "touch"):
                i = sh.bin
                n = b.normal[i]
                side = np.array([-n[1], n[0]])
                size = np.abs(b.hi[i, :2] - b.lo[i, :2])
                half, half_w = 0.5 * size @ np.abs(n), 0.5 * size @ np.abs(side)
                face = b.center[i, :2] + n * half
                room = max(half_w - self.HAND_SIDE_MARGIN_M, 0.0)
                along = float(np.clip((self.xy[k] - face) @ side, -room, room))
                out[k, :2] = face + side * along
                out[k, 2] = b.lo[i, 2] + self.HAND_ABOVE_PLATE_M
        return out

    def step(self, t: float, dt: float, world: World, gate: EntryGate) -> None:
        """One tick of ``dt`` [s] at ``t`` [s]: arrivals, the door, timed phases that ran
        out, hand-overs, walking, and those who left."""
        self._now = t
        if (self.arrivals_until_s is None or t <= self.arrivals_until_s):
            while t >= self._next_arrival:
                self._sample_party(self._next_arrival)
                self._next_arrival = self.arrivals.next_after(self._next_arrival, self.rng)
        while self._late_checkins and self._late_checkins[0][0] <= t:
            _, _, acct = heapq.heappop(self._late_checkins)
            gate.check_in(t, acct)
        self._admit(t, gate)
        if self._after_wait:
            self._resolve_after(t)
        state = [sh.state for sh in self._order]
        timed = np.array([s not in WALKING and s not in ("gone", "await") for s in state],
                         dtype=bool)
        if timed.size:
            until = np.array([sh.until for sh in self._order])
            for k in np.flatnonzero(timed & (until <= t)).tolist():
                sh = self._order[k]
                if sh.state not in WALKING and sh.state != "gone" and sh.until <= t:
                    self._timer(sh, k, t, world)
        if "hand" in state:
            self._hand_over(t)
        if "follow" in state:
            self._follow(t)
        self._move(t, dt)
        self._leave(t)

    # -- controlled shoppers and the ground truth --------------------------------------------
    def awaiting(self, sid: int) -> bool:
        """A controlled shopper inside the store, done with its last command."""
        sh = self.shoppers.get(sid)
        return sh is not None and sh.state == "await"

    def command(self, sid: int, action: Action, t: float) -> None:
        """Give a controlled shopper that is :meth:`awaiting` its next action, at ``t`` [s]."""
        if sid not in self.controlled:
            raise ValueError(f"shopper {sid} is not controlled")
        sh = self.shoppers.get(sid)
        if sh is None or sh.state != "await":
            raise ValueError(f"shopper {sid} is not waiting for a command")
        sh.actions.append(action)
        self._next(sh, self._order.index(sh), t)

    def held(self, sid: int) -> dict[int, int]:
        """What a shopper inside holds now: catalogue row -> units (ground truth)."""
        sh = self.shoppers.get(sid)
        return {} if sh is None else {r: n for r, n in sh.held.items() if n > 0}

    def took_from(self, sid: int) -> dict[int, int]:
        sh = self.shoppers.get(sid)
        return {} if sh is None else dict(sh.took_from)

    @property
    def done(self) -> bool:
        """Every scripted shopper has entered and left (sampled ones may still be inside)."""
        scripted = [s for s in self.roster.values() if s.visit == "scripted"]
        return (not self._scripted
                and not any(r.visit == "scripted" for _, r in self._door_queue)
                and all(np.isfinite(s.exit_t) for s in scripted))

    def truth_visits(self) -> list[tuple[int, float, float, dict[str, int]]]:
        """Every finished visit: (account, enter time, exit time, {sku: units} owed), by exit
        time. A returning account (``ShopperConfig.panel``) has one per visit."""
        done = [(a, self.entered[a], x, dict(sorted(self.carts[a].items())))
                for a, x in self.exited.items()]
        past = [(a, e, x, dict(sorted(c.items()))) for a, e, x, c in self.past_visits]
        return sorted(past + done, key=lambda v: (v[2], v[0]))

    def truth_receipts(self) -> dict[int, dict[str, int]]:
        """account -> {sku: units} owed by every account whose shoppers have all left."""
        return {a: dict(sorted(self.carts[a].items())) for a in sorted(self.exited)}
