"""The crowd: sampled and scripted shoppers walking the store and acting on its shelves.

A shopper is a queue of :mod:`agents.actions` (sampled by :mod:`agents.behaviour` from its
visit type and latent preferences, or read from a scenario) carried out by a small state
machine; motion is one vectorized step for everyone at once (:mod:`agents.motion`).

Per step the Python work is proportional to the shoppers whose state changes (a timer ran
out, a waypoint was reached), not to the crowd: 1,000 shoppers in a supercenter step in a
few milliseconds (``tests/benchmarks/test_crowd_speed.py``).

Defaults and where they come from (docs/shoppers.md, REFERENCES.md):
- arrivals: a non-homogeneous Poisson process whose rate at the run's start keeps
  ``shoppers_in_store`` people inside on average (Little's law: rate = N / mean trip), then
  follows the hourly profile of :mod:`agents.behaviour`.
- reach into a bin 1.0 s and back out 0.5 s (assumption: a grasp-and-lift takes ~1 s in
  shelf-picking studies of warehouse order pickers); handing over an item at arm's length,
  1.0 m apart (assumption).
- groups: 8% of arrivals are two people on one account who split the list (assumption; the
  app admits a group, and family trips are a minority of c-store visits).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from agents import behaviour as bh
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
from agents.motion import MotionParams
from agents.navigation import NavGrid
from scenes.store import Store
from scenes.substitutes import substitute_groups
from twin.sensors import EntryGate
from twin.world import World


@dataclass(frozen=True)
class ShopperConfig:
    shoppers_in_store: float = 15.0   # target crowd at the start (sets the arrival rate)
    mean_trip_s: float | None = None  # for Little's law; None: the behaviour profile's
    start_hour: float = 12.0          # time of day at the run's start [h]
    hourly_profile: bool = True       # False: a homogeneous Poisson process
    reach_s: float = 1.0              # [s] hand into the bin before a pick or put-back
    settle_s: float = 0.5             # [s] hand back out
    handoff_m: float = 1.0            # [m] distance at which an item changes hands
    handoff_wait_s: float = 60.0      # [s] a giver gives up on a receiver not found by then
    p_group: float = 0.08             # share of arrivals that are two people on one account
    # returning customers: > 0 makes every sampled arrival one of this many accounts, each
    # with tastes drawn once, chosen uniformly among those not in the store nor just gone
    # (an arrival finding none is not made). 0: every arrival a new account (the default).
    # A loyalty panel for preference studies (experiments/scoring/insights.py): over a run each
    # account visits about arrivals / panel times.
    panel: int = 0
    # a panel account comes back no sooner than this after it left [s] (assumption: a
    # loyalty panel's visits are days apart; the run compresses them, but not into one
    # doorway, where the store would see a shopper walk out and straight back in)
    panel_away_s: float = 120.0
    profile: bh.BehaviourProfile | None = None   # None: by the store's floor area
    population: bh.ShopperPopulationConfig = bh.DEFAULT_CONFIG   # tastes, choices, put-backs
    motion: MotionParams = field(default_factory=MotionParams)

    def __post_init__(self) -> None:
        if not self.shoppers_in_store >= 0:
            raise ValueError(f"ShopperConfig.shoppers_in_store must be >= 0, got "
                             f"{self.shoppers_in_store}")
        if self.mean_trip_s is not None and not self.mean_trip_s > 0:
            raise ValueError(f"ShopperConfig.mean_trip_s must be > 0, got {self.mean_trip_s}")
        if not 0 <= self.start_hour < 24:
            raise ValueError(f"ShopperConfig.start_hour must be in [0, 24), got "
                             f"{self.start_hour}")
        if not (isinstance(self.panel, int) and 0 <= self.panel <= 1_000_000):
            raise ValueError(f"ShopperConfig.panel must be an integer in [0, 1000000], got "
                             f"{self.panel!r}")
        for name in ("p_group",):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"ShopperConfig.{name} must be in [0, 1], got {v}")
        for name in ("reach_s", "settle_s", "handoff_wait_s", "panel_away_s"):
            v = getattr(self, name)
            if not v >= 0:
                raise ValueError(f"ShopperConfig.{name} must be >= 0, got {v}")
        if not self.handoff_m > 0:
            raise ValueError(f"ShopperConfig.handoff_m must be > 0, got {self.handoff_m}")


@dataclass(frozen=True)
class ScriptedShopper:
    """A shopper whose actions are given (a scenario): crowd id = its index in the list.

    controlled: driven step by step from outside (an RL agent, :meth:`Crowd.command`): when
    its queue runs dry it stands and waits (state ``await``) for the next command instead
    of walking out."""
    name: str
    account: int
    enter_s: float
    actions: tuple[Action, ...]
    controlled: bool = False


@dataclass(frozen=True)
class TruthEvent:
    t: float
    shopper: int
    account: int
    action: str          # agents.actions.TRUTH_ACTIONS
    bin: int
    sku: str
    quantity: int
    other: int = -1      # the other shopper of a hand-over


@dataclass
class ShopperRecord:
    """Ground truth about one shopper (who, of what kind, with which latent preferences)."""
    sid: int
    account: int
    name: str
    visit: str
    speed_mps: float
    radius_m: float
    enter_t: float = float("nan")
    exit_t: float = float("nan")
    preferences: dict[str, float] = field(default_factory=dict)


@dataclass
class _Shopper:
    sid: int
    account: int
    speed: float
    radius: float
    actions: deque
    state: str = "idle"   # walk | browse | hesitate | reach | place | inspect | wait | hand |
    until: float = 0.0    # yield | settle | gone
    action: Action | None = None
    bin: int = -1
    path: list[np.ndarray] = field(default_factory=list)
    goal: np.ndarray | None = None
    exiting: bool = False
    held: dict[int, int] = field(default_factory=dict)      # sku row -> units in hand/cart
    took_from: dict[int, int] = field(default_factory=dict)  # sku row -> bin it came from
    since: float = 0.0
    deferred: int = 0     # stops put off because people blocked the way
    beside: bool = False  # this stop's spot was taken and a place beside it tried
    pause_at: np.ndarray | None = None   # a waypoint where one stands aside a moment
    side_steps: list = field(default_factory=list)   # waypoints added to pass people
    handing_to: int = -1  # receiver's id while the hands meet after a hand-over (settle)


WALKING = ("walk", "hand")


def _pref_weights(p: bh.ShopperPrefs) -> dict[str, float]:
    return {"gluten_free": float(p.gluten_free), "organic": float(p.organic),
            "vegan": float(p.vegan), "price_per_dollar": float(p.price_per_dollar),
            "brand_weight": float(p.brand_weight)}


class Crowd:
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
        self.profile = config.profile or bh.profile_for_area(store.area_m2)
        self.nav = nav or NavGrid(store, clearance=config.motion.radius + 0.05)
        self.arrivals_until_s = arrivals_until_s
        mean_trip = config.mean_trip_s or self.profile.mean_trip_s
        self.arrivals = bh.ArrivalProcess(bh.rate_for_crowd(config.shoppers_in_store, mean_trip),
                                          config.start_hour,
                                          self.profile.hourly if config.hourly_profile
                                          else (1.0,) * 24)
        self._next_arrival = (self.arrivals.next_after(0.0, rng)
                              if config.shoppers_in_store > 0 else np.inf)
        self._door_queue: deque = deque()       # (shopper, record) waiting for the door
        self._scripted = sorted(enumerate(scripted), key=lambda p: (p[1].enter_s, p[0]))
        self.controlled: set[int] = {i for i, s in enumerate(scripted) if s.controlled}
        self.shoppers: dict[int, _Shopper] = {}
        self.roster: dict[int, ShopperRecord] = {}
        self._order: list[_Shopper] = []         # aligned with the arrays below
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
        self._stock = bh.stock_index(self._groups, self._stocked)
        self._panel: list[int] = []
        self._panel_prefs: bh.Preferences | None = None
        if config.panel:
            self._panel = [self._new_account() for _ in range(config.panel)]
            self._panel_prefs = bh.sample_preferences(rng, config.panel, cat, config.population)
        from agents import _motion_kernels

        self._mk = _motion_kernels
        _motion_kernels.warm_up()

    # -- arrivals --------------------------------------------------------------------------
    def _new_account(self) -> int:
        while True:
            a = int(self.rng.integers(1_000_000, 10_000_000))
            if a not in self._accounts:
                self._accounts.add(a)
                return a

    def _sample_party(self, t: float, start: np.ndarray | None = None) -> None:
        """One sampled arrival: a shopper, or a group of two on one account."""
        rng = self.rng
        pop = self.config.population
        if self._panel_prefs is not None:
            away = self.config.panel_away_s
            free = [i for i, a in enumerate(self._panel) if not self._members.get(a, 0)
                    and t - self.exited.get(a, -np.inf) >= away]
            if not free:
                return      # every panel account is inside: this arrival is not made
            i = free[int(rng.integers(len(free)))]
            acct, prefs = self._panel[i], self._panel_prefs.row(i)
        else:
            prefs = bh.sample_preferences(rng, 1, self.store.catalogue, pop).row(0)
            acct = -1
        trip = bh.sample_trip(rng, self.profile, prefs, self.store.catalogue,
                              self._groups, self._stock, pop)
        group = 2 if rng.random() < self.config.p_group and len(trip.lines) >= 2 else 1
        if acct < 0:
            acct = self._new_account()
        self._members[acct] = group
        for m in range(group):
            lines = list(trip.lines[m::group])
            looks = list(trip.look_s[m::group])
            speed = trip.speed_mps if m == 0 else bh.sample_speed(rng, trip.visit, pop)
            actions = self._trip_actions(lines, looks, rng, start, prefs)
            sh = _Shopper(self._next_id, acct, speed, trip.radius_m, deque(actions))
            rec = ShopperRecord(sh.sid, acct, "", trip.visit.name, speed, trip.radius_m,
                                preferences=_pref_weights(prefs))
            self._next_id += 1
            self._door_queue.append((sh, rec))

    def _trip_actions(self, lines, look_s, rng, start: np.ndarray | None = None,
                      prefs: bh.ShopperPrefs | None = None) -> list[Action]:
        """Order a list's lines and look-only stops by walking distance from the door to the
        exit, and turn them into actions. Look stops are at random bins, or, with the
        population's ``look_taste`` > 0, at the bins of taste-driven choices
        (:meth:`_look_bins`)."""
        bins = [self._bin_for(ln.sku, rng) for ln in lines]
        firsts = [self._nearest_bin(ln.first_sku, self.store.bins.access_xy[b])
                  if ln.first_sku >= 0 else -1 for ln, b in zip(lines, bins, strict=True)]
        taste = self.config.population.look_taste
        if taste > 0 and prefs is not None and len(look_s):
            look_bins = self._look_bins(prefs, len(look_s), taste, rng)
        else:
            look_bins = rng.integers(len(self.store.bins), size=len(look_s)).tolist()
        stops = [*bins, *look_bins]
        order = self._visit_order(stops, start)
        steps: list = []
        line_bins, first_bins = [], []
        for i in order:
            if i < len(lines):
                steps.append(lines[i])
                line_bins.append(bins[i])
                first_bins.append(firsts[i])
            else:
                j = i - len(lines)
                steps.append(Look(int(look_bins[j]), float(look_s[j])))
        pop = self.config.population
        return bh.trip_actions(steps, line_bins, pop.misplace_p, rng, pop.inspect_mean_s,
                               first_bins=first_bins)

    def _look_bins(self, prefs: bh.ShopperPrefs, k: int, taste: float, rng) -> list[int]:
        """Bins of ``k`` look stops: each the bin (one at random when several hold it) of a
        logit choice among the stocked SKUs, utility x ``taste`` plus a Gumbel shock of the
        population's ``choice_scale``; distinct SKUs while there are enough."""
        skus = self._stocked
        u = taste * bh.utility(prefs, skus, self.store.catalogue) + rng.gumbel(
            0.0, self.config.population.choice_scale, skus.size)
        top = np.resize(np.argsort(-u, kind="stable"), k)   # repeats only past every SKU
        return [self._bin_for(int(skus[j]), rng) for j in top.tolist()]

    def _bin_for(self, sku: int, rng) -> int:
        bins = self._sku_bins[int(sku)]
        return int(bins[int(rng.integers(len(bins)))]) if len(bins) > 1 else int(bins[0])

    def _visit_order(self, bins: list[int], start: np.ndarray | None = None) -> list[int]:
        """Nearest neighbour on walking distance from the door (or ``start``), then 2-opt with the exit as
        the fixed end: a sensible route, not an optimal one (people do not solve TSPs)."""
        k = len(bins)
        if k <= 1:
            return list(range(k))
        acc = self.store.bins.access_xy
        first = self.spawn_xy if start is None else start
        pts = np.vstack([first[None], acc[bins], self.exit_inside[None]])
        d = self.nav.walk_distances(pts)
        order, rest, cur = [], list(range(1, k + 1)), 0
        while rest:
            j = min(rest, key=lambda r: (d[cur, r], r))
            order.append(j)
            rest.remove(j)
            cur = j
        tour = [0, *order, k + 1]
        improved = True
        while improved:
            improved = False
            for i in range(1, k):
                for j in range(i + 1, k + 1):
                    a, b, c, e = tour[i - 1], tour[i], tour[j], tour[j + 1]
                    if d[a, c] + d[b, e] < d[a, b] + d[c, e] - 1e-9:
                        tour[i:j + 1] = tour[i:j + 1][::-1]
                        improved = True
        return [p - 1 for p in tour[1:-1]]

    def _admit(self, t: float, gate: EntryGate) -> None:
        """Let the next person in the door queue in, when the doorway is clear."""
        while self._scripted and self._scripted[0][1].enter_s <= t:
            sid, s = self._scripted.pop(0)
            rec = ShopperRecord(sid, s.account, s.name, "scripted",
                                self.config.motion.speed_mean, self.config.motion.radius)
            sh = _Shopper(sid, s.account, rec.speed_mps, rec.radius_m, deque(s.actions))
            self._door_queue.append((sh, rec))
        if not self._door_queue:
            return
        if self.xy.shape[0] and np.min(np.linalg.norm(self.xy - self.spawn_xy, axis=1)) < 0.7:
            return  # doorway busy: wait
        sh, rec = self._door_queue.popleft()
        gate.check_in(t, sh.account)
        self._add(sh, rec, self.spawn_xy, t)

    def _add(self, sh: _Shopper, rec: ShopperRecord, at: np.ndarray, t: float) -> None:
        """A person steps into the store at ``at`` and starts on its first action."""
        rec.enter_t = t
        self.roster[sh.sid] = rec
        self.shoppers[sh.sid] = sh
        self._order.append(sh)
        self.ids = np.append(self.ids, sh.sid)
        self.xy = np.vstack([self.xy, at[None]])
        self.vel = np.vstack([self.vel, np.zeros((1, 2))])
        self._target = np.vstack([self._target, at[None]])
        self._best = np.append(self._best, np.inf)
        self._stalled = np.append(self._stalled, 0.0)
        self._anchor = np.vstack([self._anchor, at[None]])
        self._anchor_t = np.append(self._anchor_t, t)
        self._squeezed = np.append(self._squeezed, False)
        self._speed = np.append(self._speed, sh.speed)
        self._radius = np.append(self._radius, sh.radius)
        a = sh.account
        if a in self.exited:     # a returning account: its last visit is over
            self.past_visits.append((a, self.entered[a], self.exited.pop(a),
                                     self.carts.pop(a, {})))
        if a not in self.carts:
            self.entered[a] = t
        self.carts.setdefault(a, {})
        self.truth.append(TruthEvent(t, sh.sid, sh.account, "enter", -1, "", 0))
        self._next(sh, len(self._order) - 1, t)

    def populate(self, n: int, min_gap: float = 0.6) -> None:
        """Put ``n`` sampled shoppers at once on free floor, each starting its trip where it
        stands (for benchmarks and stress tests: a full store without the hours of arrivals).
        """
        pts = self.nav.random_free(self.rng, n, min_gap)
        placed = 0
        while placed < n:
            self._sample_party(self._now, pts[placed])
            while self._door_queue:
                sh, rec = self._door_queue.popleft()
                if placed == n:                  # a group cut short by the count
                    self._members[sh.account] -= 1
                    continue
                self._add(sh, rec, pts[placed], self._now)
                placed += 1

    # -- ground truth ------------------------------------------------------------------------
    def _sku(self, row: int) -> str:
        return str(self.store.catalogue.sku[row])

    def _event(self, t, sh, action, b, row, n, other=-1, account=None) -> None:
        acct = sh.account if account is None else account
        self.truth.append(TruthEvent(t, sh.sid, acct, action, b, self._sku(row), n, other))
        if action in ("pick", "put_back", "misplace", "hand_out", "hand_in"):
            sign = 1 if action in ("pick", "hand_in") else -1
            cart = self.carts.setdefault(acct, {})
            key = self._sku(row)
            cart[key] = cart.get(key, 0) + sign * n
            if cart[key] == 0:
                del cart[key]

    def _hold(self, sh: _Shopper, row: int, n: int) -> None:
        sh.held[row] = sh.held.get(row, 0) + n
        if sh.held[row] <= 0:
            del sh.held[row]

    def _problem(self, sh: _Shopper, what: str) -> None:
        name = self.roster[sh.sid].name or f"shopper {sh.sid}"
        self.problems.append(f"t={self._now:.1f} s: {name}: {what}")

    # -- the action state machine ------------------------------------------------------------
    def _walk_to(self, sh: _Shopper, k: int, goal: np.ndarray, then_exit: bool = False) -> None:
        sh.beside = False
        sh.goal, sh.exiting = np.asarray(goal, dtype=np.float64), then_exit
        self._reroute(sh, k)
        sh.state = "walk"

    def _reroute(self, sh: _Shopper, k: int) -> None:
        sh.path = self.nav.route(self.xy[k], sh.goal)
        if sh.exiting:
            sh.path.append(self.exit_out)
        self._target[k] = sh.path[0]
        self._best[k] = np.inf
        self._stalled[k] = 0.0

    def _near(self, k: int, b: int) -> bool:
        return bool(np.hypot(*(self.store.bins.access_xy[b] - self.xy[k])) < 0.9)

    def _next(self, sh: _Shopper, k: int, t: float) -> None:
        """Start the shopper's next action (or the first phase of it)."""
        if not sh.actions:
            if sh.sid in self.controlled:
                sh.action, sh.state, sh.since = None, "await", t
                self.vel[k] = 0.0
                return
            sh.actions.append(Exit())
        a = sh.actions.popleft()
        sh.action = a
        sh.since = t
        sh.handing_to = -1
        if isinstance(a, (Look, Pick)):
            if isinstance(a, Pick):
                sh.bin = a.bin if a.bin >= 0 else self._nearest_bin(a.sku, self.xy[k])
                if sh.bin < 0:
                    self._problem(sh, f"sku {self._sku(a.sku)} is on no shelf: pick skipped")
                    return self._next(sh, k, t)
            else:
                sh.bin = a.bin
            if self._near(k, sh.bin):
                return self._arrived(sh, k, t)
            self._walk_to(sh, k, self.store.bins.access_xy[sh.bin])
        elif isinstance(a, PutBack):
            b = a.bin if a.bin >= 0 else sh.took_from.get(a.sku, -1)
            if b < 0:
                b = self._nearest_bin(a.sku, self.xy[k])
            sh.bin = b
            if self._near(k, b):
                return self._arrived(sh, k, t)
            self._walk_to(sh, k, self.store.bins.access_xy[b])
        elif isinstance(a, Inspect):
            sh.state, sh.until = "inspect", t + a.seconds
        elif isinstance(a, Wait):
            sh.state, sh.until = "wait", t + a.seconds
        elif isinstance(a, HandTo):
            sh.state, sh.until = "hand", t + self.config.handoff_wait_s
            sh.path = []
        elif isinstance(a, Conceal):
            n = min(a.qty, sh.held.get(a.sku, 0))
            if n < a.qty:
                self._problem(sh, f"conceal {a.qty} x {self._sku(a.sku)} but holds {n}")
            if n:
                self._event(t, sh, "conceal", -1, a.sku, n)
            sh.state, sh.until = "settle", t + self.config.settle_s
        elif isinstance(a, Exit):
            self._walk_to(sh, k, self.exit_inside, then_exit=True)
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {a!r}")

    def _nearest_bin(self, sku: int, at: np.ndarray) -> int:
        bins = self._sku_bins.get(int(sku))
        if not bins:
            return -1
        d = np.linalg.norm(self.store.bins.access_xy[bins] - at, axis=1)
        return int(bins[int(np.argmin(d))])

    def _arrived(self, sh: _Shopper, k: int, t: float) -> None:
        """At the end of a walk."""
        a = sh.action
        c = self.config
        self.vel[k] = 0.0
        if isinstance(a, Exit):
            sh.state = "gone"
        elif isinstance(a, Look):
            sh.state, sh.until = "browse", t + a.seconds
        elif isinstance(a, Pick):
            sh.state, sh.until = "browse", t + a.browse_s
        elif isinstance(a, PutBack):
            sh.state, sh.until = "place", t + c.reach_s
        else:
            sh.state, sh.until = "settle", t

    def _timer(self, sh: _Shopper, k: int, t: float, world: World) -> None:
        """A timed phase ran out."""
        a = sh.action
        c = self.config
        if sh.state == "browse" and isinstance(a, Pick):
            sh.state, sh.until = "hesitate", t + a.hesitate_s
        elif sh.state == "hesitate":
            world.wake(sh.bin)
            sh.state, sh.until = "reach", t + c.reach_s
        elif sh.state == "reach":
            n = world.pick(sh.bin, a.qty)
            if n < a.qty:
                self._problem(sh, f"pick {a.qty} x {self._sku(a.sku)} from bin {sh.bin}: "
                                  f"{n} there")
            if n:
                self._event(t, sh, "pick", sh.bin, a.sku, n)
                self._hold(sh, a.sku, n)
                sh.took_from[a.sku] = sh.bin
            sh.state, sh.until = "settle", t + c.settle_s
        elif sh.state == "place":
            want = min(a.qty, sh.held.get(a.sku, 0))
            if want < a.qty:
                self._problem(sh, f"put back {a.qty} x {self._sku(a.sku)} but holds {want}")
            own = int(self.store.bins.sku_index[sh.bin]) == a.sku
            n = world.put_back(sh.bin, want, sku=a.sku) if want else 0
            if n < want:
                self._problem(sh, f"bin {sh.bin} full: put back {n} of {want}")
            if n:
                self._event(t, sh, "put_back" if own else "misplace", sh.bin, a.sku, n)
                self._hold(sh, a.sku, -n)
            sh.state, sh.until = "settle", t + c.settle_s
        elif sh.state == "yield":          # back on the way
            sh.state = "walk" if sh.path else sh.state
            if not sh.path:
                return self._arrived(sh, k, t)
            self._best[k], self._stalled[k] = np.inf, 0.0
            self._anchor[k], self._anchor_t[k] = self.xy[k], t
        elif sh.state == "hand":
            self._problem(sh, f"hand_to shopper {a.to}: not reached in "
                              f"{c.handoff_wait_s:.0f} s, kept the item")
            self._next(sh, k, t)
        else:  # browse (look), inspect, wait, settle: the action is over
            self._next(sh, k, t)

    def _hand_over(self, t: float) -> None:
        """Givers walk up to their receivers; the item changes hands at arm's length."""
        for k, sh in enumerate(self._order):
            if sh.state != "hand":
                continue
            a = sh.action
            rx = self.shoppers.get(a.to)
            if rx is None or rx.state == "gone":
                if self.roster.get(a.to) is not None and a.to not in self.shoppers:
                    self._problem(sh, f"hand_to shopper {a.to}: already left, kept the item")
                    self._next(sh, k, t)
                continue        # not in the store yet: wait for them
            kr = self._order.index(rx)
            gap = float(np.hypot(*(self.xy[kr] - self.xy[k])))
            if gap <= self.config.handoff_m:
                n = min(a.qty, sh.held.get(a.sku, 0))
                if n < a.qty:
                    self._problem(sh, f"hand_to {a.qty} x {self._sku(a.sku)} but holds {n}")
                if n:
                    self._event(t, sh, "hand_out", -1, a.sku, n, other=rx.sid)
                    self._event(t, rx, "hand_in", -1, a.sku, n, other=sh.sid)
                    self._hold(sh, a.sku, -n)
                    self._hold(rx, a.sku, n)
                    sh.handing_to = rx.sid
                sh.path = []
                sh.state, sh.until = "settle", t + self.config.settle_s
                continue
            # re-aim at where the receiver is now, at most every second
            if not sh.path or t - sh.since > 1.0:
                sh.since = t
                sh.goal, sh.exiting = self.xy[kr].copy(), False
                self._reroute(sh, k)
                self._target[k] = sh.path[0]
                self._best[k] = np.inf

    # -- the Population interface ------------------------------------------------------------
    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ids.copy(), self.xy.copy()

    HAND_ABOVE_PLATE_M = 0.08
    HAND_SIDE_MARGIN_M = 0.05   # a hand stays this far inside the bin's side walls [m]
    # Where two hands meet in a hand-over: halfway between the bodies, at about elbow
    # height of an adult (~1.05 m; standing elbow height, ANSUR-type tables ~1.0-1.1 m).
    HAND_OVER_Z_M = 1.05

    def hands(self) -> np.ndarray:
        """(s, 3) float64 hand position [m] of each person (order of ``positions``) whose hand
        is in a shelf bin now (reaching for a pick or putting back) or held out to another
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
            if sh.state in ("reach", "place"):
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
        self._now = t
        if (self.arrivals_until_s is None or t <= self.arrivals_until_s):
            while t >= self._next_arrival:
                self._sample_party(self._next_arrival)
                self._next_arrival = self.arrivals.next_after(self._next_arrival, self.rng)
        self._admit(t, gate)
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
        self._move(t, dt)
        self._leave(t)

    def _flags(self) -> tuple[np.ndarray, np.ndarray]:
        """(n,) bool each: walking with a route, and on its route's last leg."""
        o = self._order
        n = len(o)
        walking = np.fromiter((sh.state in WALKING and bool(sh.path) for sh in o), bool, n)
        last = np.fromiter((len(sh.path) <= 1 for sh in o), bool, n)
        return walking, last

    def _move(self, t: float, dt: float) -> None:
        """Waypoints reached, stalls and blockages handled, then one motion step for everyone
        (the array work compiled: ``agents/_motion_kernels.py``)."""
        n = self.ids.shape[0]
        if n == 0:
            return
        mk = self._mk
        m = self.config.motion
        walking, last = self._flags()
        # progress towards the current waypoint; the stalled re-plan from where they stand
        dist, reached = mk.progress(self._target, self.xy, self._best, self._stalled,
                                    walking, last, dt)
        if reached.any():
            for k in np.flatnonzero(reached).tolist():
                sh = self._order[k]
                if (last[k] and dist[k] >= 0.1 and sh.state == "walk" and not sh.beside
                        and isinstance(sh.action, (Pick, PutBack, Look))
                        and self._beside(sh, k)):
                    continue        # the spot is taken: step up beside the person there
                self._waypoint(sh, k, t)
        stuck = walking & ~reached & (self._stalled > 1.5)
        if stuck.any():
            for k in np.flatnonzero(stuck).tolist():
                sh = self._order[k]
                if sh.path and sh.goal is not None:
                    # a side step that did not work out (someone stepped there) is dropped
                    while len(sh.path) > 1 and any(sh.path[0] is q for q in sh.side_steps):
                        sh.path.pop(0)
                    sh.side_steps = []
                    # and a corner someone now stands on is cut when the next point is in
                    # sight
                    while len(sh.path) > 1 and self.nav.line_of_sight(self.xy[k], sh.path[1]):
                        sh.path.pop(0)
                    if not self._detour(sh, k):
                        self._reroute(sh, k)
                    self._target[k] = sh.path[0]
                    self._stalled[k] = 0.0
                    self._best[k] = np.inf
        # blocked: walking 6 s without getting 0.5 m from where they were (a crowd at a
        # shelf filling an aisle): come back later, or wait and try again
        walking, _ = self._flags()
        blocked = mk.anchors(self.xy, self._anchor, self._anchor_t, walking, t, self.BLOCKED_S)
        if blocked.any():
            for k in np.flatnonzero(blocked).tolist():
                self._anchor_t[k] = t
                self._blocked(self._order[k], k, t)
        walking, last = self._flags()
        # in a crush, people on foot turn their shoulders and squeeze past (a body's depth
        # is about 60% of its breadth, ANSUR II); a cart cannot
        # and keep squeezed until there is room again (no jump back to full width)
        self.xy, self.vel = mk.move(self.xy, self.vel, self._target, self._anchor_t,
                                    self._speed, self._radius, self._squeezed, walking, last,
                                    float(t), float(dt), self.SQUEEZE_S, self.SQUEEZE_RADIUS,
                                    float(m.social_a), float(m.social_b), float(m.anisotropy),
                                    float(m.evasion), float(m.relax_s), float(m.wall_a),
                                    float(m.wall_b), float(m.cutoff_m),
                                    int(m.separation_passes), *self.nav.kernel_grid)

    def _beside(self, sh: _Shopper, k: int) -> bool:
        """The spot in front of the bin is taken: aim for one beside it along the shelf
        (people line up along a shelf, not behind each other across an aisle). Returns
        False when neither side is free, and the shopper then reaches in from where it is."""
        sh.beside = True
        b = self.store.bins
        n = b.normal[sh.bin]
        along = np.array([-n[1], n[0]])
        spot = b.access_xy[sh.bin]
        others = np.delete(self.xy, k, axis=0)
        for off in (0.55, -0.55, 0.8, -0.8):
            c = spot + off * along
            if not self.nav.is_free(c)[0]:
                continue
            if others.size and np.min(np.hypot(*(others - c).T)) < 2 * sh.radius:
                continue
            if not self.nav.line_of_sight(self.xy[k], c):
                continue
            sh.path = [c]
            self._target[k] = c
            self._best[k] = np.inf
            self._stalled[k] = 0.0
            return True
        return False

    def _detour(self, sh: _Shopper, k: int) -> bool:
        """Someone is in the way (routes know fixtures, not people). Against someone coming
        the other way with the right of way (the lower id), step aside and let them pass;
        otherwise go around them through a free point beside them. Points must be on free
        floor, in sight, and clear of everyone's body. Returns False when nobody is in the
        way or there is no such point (the caller re-plans)."""
        p, goal = self.xy[k], sh.path[0]
        d = goal - p
        L = float(np.hypot(*d))
        if L < 1e-6:
            return False
        u = d / L
        rel = self.xy - p
        dist = np.hypot(rel[:, 0], rel[:, 1])
        ahead = (dist > 1e-9) & (dist < 1.5) & ((rel @ u) > 0.3 * dist)
        ahead[k] = False
        if not ahead.any():
            return False
        b = int(np.flatnonzero(ahead)[np.argmin(dist[ahead])])
        other = self._order[b]
        radii = self._radius
        rs = sh.radius + radii[b] + 0.02
        perp = np.array([-u[1], u[0]])
        oncoming = (sh.state == "walk" and other.state in WALKING and float(self.vel[b] @ (p - self.xy[b])) > 0
                    and other.sid < sh.sid)
        if oncoming:       # give way: a step to the side (right first), off their line
            base = p
            offs = [(-s * o, 0.0) for o in (rs - 0.1, rs + 0.15, rs + 0.4) for s in (1.0, -1.0)]
        else:
            base = self.xy[b]
            offs = [(s * o, f) for o in (rs, rs + 0.2, rs + 0.45) for s in (1.0, -1.0)
                    for f in (0.0, 0.4)]
        cands = np.array([base + o * perp + f * u for o, f in offs])
        ok = self.nav.is_free(cands)
        keep = np.arange(len(self._order)) != k
        if keep.any():
            gap = np.linalg.norm(cands[:, None] - self.xy[keep][None], axis=2)
            ok &= np.all(gap >= sh.radius + radii[keep][None] - 0.02, axis=1)
        best, cost = None, np.inf
        for c, good in zip(cands, ok, strict=True):
            if not good:
                continue
            cst = float(np.hypot(*(c - p)) + np.hypot(*(goal - c)))
            if oncoming:
                cst = float(np.hypot(*(c - p)))      # the nearest place to stand aside
            if cst < cost and self.nav.line_of_sight(p, c) and (
                    oncoming or self.nav.line_of_sight(c, goal)):
                best, cost = c, cst
        if best is None:
            return False
        sh.path.insert(0, best)
        sh.side_steps.append(best)
        sh.pause_at = best if oncoming else None
        return True

    BLOCKED_S = 6.0
    RETRY_S = 3.0
    SQUEEZE_S = 2.0        # [s] held up this long, a walker squeezes past
    SQUEEZE_RADIUS = 0.15  # [m] half a body's depth, shoulders turned

    def _blocked(self, sh: _Shopper, k: int, t: float) -> None:
        """The way is blocked by people. A sampled shopper drops a look, or will do the next
        stop first and come back (the shelf's actions travel together); everyone stands a
        moment before going on (a scripted shopper, or anyone leaving or handing over, then
        tries the same way again)."""
        a = sh.action
        rec = self.roster[sh.sid]
        if rec.visit != "scripted" and isinstance(a, Look):
            return self._next(sh, k, t)
        if rec.visit != "scripted" and isinstance(a, Pick) and sh.deferred < 3:
            rest = list(sh.actions)
            n_own = 0                        # this stop's inspect / put-back tail
            while n_own < len(rest) and isinstance(rest[n_own], (Inspect, PutBack)):
                n_own += 1
            nxt = n_own
            if nxt < len(rest) and isinstance(rest[nxt], (Pick, Look)):
                end = nxt + 1
                while end < len(rest) and isinstance(rest[end], (Inspect, PutBack)):
                    end += 1
                sh.actions = deque(rest[nxt:end] + [a] + rest[:n_own] + rest[end:])
                sh.deferred += 1
                a = sh.actions.popleft()
        sh.actions.appendleft(a)              # first stand aside a moment
        sh.action = Wait(self.RETRY_S)
        sh.state, sh.until = "wait", t + self.RETRY_S
        sh.path = []

    YIELD_S = 1.5          # [s] standing aside for someone coming the other way

    def _waypoint(self, sh: _Shopper, k: int, t: float) -> None:
        reached = sh.path.pop(0)
        if sh.pause_at is not None and reached is sh.pause_at:
            sh.pause_at = None
            sh.state, sh.until = "yield", t + self.YIELD_S
            self.vel[k] = 0.0
            if sh.path:
                self._target[k] = sh.path[0]
            return
        if sh.path:
            self._target[k] = sh.path[0]
            self._best[k] = np.inf
            return
        if sh.state == "hand":
            return                      # keep following the receiver
        self._arrived(sh, k, t)

    def _leave(self, t: float) -> None:
        gone = [k for k, sh in enumerate(self._order) if sh.state == "gone"]
        if not gone:
            return
        for k in gone:
            sh = self._order[k]
            self.truth.append(TruthEvent(t, sh.sid, sh.account, "exit", -1, "", 0))
            self.roster[sh.sid].exit_t = t
            del self.shoppers[sh.sid]
            self._members[sh.account] -= 1
            if self._members[sh.account] <= 0:
                self.exited[sh.account] = t
        keep = np.ones(len(self._order), dtype=bool)
        keep[gone] = False
        self._order = [sh for sh, kp in zip(self._order, keep, strict=True) if kp]
        self.ids, self.xy, self.vel = self.ids[keep], self.xy[keep], self.vel[keep]
        self._target, self._best = self._target[keep], self._best[keep]
        self._stalled = self._stalled[keep]
        self._anchor, self._anchor_t = self._anchor[keep], self._anchor_t[keep]
        self._squeezed = self._squeezed[keep]
        self._speed, self._radius = self._speed[keep], self._radius[keep]

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
