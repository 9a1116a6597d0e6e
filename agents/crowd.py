"""The sampled crowd: Poisson arrivals, shopping lists, routing, social-force motion, actions.

Defaults and where they come from (REFERENCES.md):
- walking speed: N(1.34, 0.26) m/s clipped to [0.8, 1.8] (Weidmann 1993).
- list size: 1 + Poisson(2.0) clipped to 8, mean ~3.0 items (c-store basket 2.6-3.0 items US,
  ~4 UK); units per line 1 (80%), 2 (15%), 3 (5%) (assumption).
- browsing: before each pick the shopper looks over the shelf for Exp(mean 25 s) and makes
  Poisson(1) extra look-only stops; with the walking this gives trips of about 2.5-3 min, near
  the ~2 min 52 s convenience-store trip (VideoMining).
- put-backs: 10% of picks take one unit more and put it back after inspecting it (the
  seed's "pick two baguettes, put one back"); 5% take one, inspect it and put it back.
- arrivals: Poisson at rate shoppers_in_store / mean trip time (Little's law).
- local motion: social force (Helbing & Molnar 1995) with A = 2 m/s^2, B = 0.3 m,
  relaxation 0.5 s; a step into a fixture is cancelled along the blocked axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.navigation import NavGrid
from scenes.store import Store
from twin.sensors import EntryGate
from twin.world import World


@dataclass(frozen=True)
class ShopperConfig:
    shoppers_in_store: float = 15.0   # target steady crowd (Little's law sets the arrival rate)
    mean_trip_s: float = 170.0        # used with the above to set arrivals; ~2 min 52 s c-store
    speed_mean: float = 1.34          # [m/s] Weidmann 1993
    speed_sd: float = 0.26            # [m/s]
    list_poisson: float = 2.0         # list = 1 + Poisson(this), at most max_list
    max_list: int = 8
    qty_probs: tuple[float, float, float] = (0.80, 0.15, 0.05)
    p_take_extra_put_back: float = 0.10
    p_change_mind: float = 0.05
    browse_mean_s: float = 40.0       # [s] looking before a pick
    look_stops_poisson: float = 1.0   # extra look-only stops per trip
    reach_s: float = 1.0              # [s] hand into the bin before the pick
    inspect_s: float = 2.5            # [s] holding before a put-back
    radius: float = 0.25              # [m] body radius
    social_a: float = 2.0             # [m/s^2]
    social_b: float = 0.3             # [m]
    relax_s: float = 0.5              # [s]

    def __post_init__(self) -> None:
        if self.shoppers_in_store < 0:
            raise ValueError(f"ShopperConfig.shoppers_in_store must be >= 0, got "
                             f"{self.shoppers_in_store}")
        if not self.mean_trip_s > 0 or not self.speed_mean > 0:
            raise ValueError("ShopperConfig.mean_trip_s and speed_mean must be > 0")
        if not 1 <= self.max_list <= 50:
            raise ValueError(f"ShopperConfig.max_list must be in [1, 50], got {self.max_list}")
        if abs(sum(self.qty_probs) - 1) > 1e-9 or min(self.qty_probs) < 0:
            raise ValueError("ShopperConfig.qty_probs must be >= 0 and sum to 1")
        for name in ("p_take_extra_put_back", "p_change_mind"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"ShopperConfig.{name} must be in [0, 1], got {v}")
        if self.p_take_extra_put_back + self.p_change_mind > 1:
            raise ValueError("ShopperConfig.p_take_extra_put_back + p_change_mind must be <= 1")
        for name in ("speed_sd", "list_poisson", "browse_mean_s", "look_stops_poisson",
                     "reach_s", "inspect_s"):
            v = getattr(self, name)
            if not v >= 0:
                raise ValueError(f"ShopperConfig.{name} must be >= 0, got {v}")
        if not self.radius > 0:
            raise ValueError(f"ShopperConfig.radius must be > 0, got {self.radius}")

    @property
    def arrival_rate_hz(self) -> float:
        return self.shoppers_in_store / self.mean_trip_s


@dataclass
class _Task:
    kind: str            # "pick" or "look" or "exit"
    bin: int = -1
    qty: int = 0
    extra: int = 0       # units taken then put back
    browse_s: float = 0.0


@dataclass
class _Shopper:
    sid: int
    account: int
    speed: float
    tasks: list[_Task]
    path: list[np.ndarray] = field(default_factory=list)
    state: str = "walk"   # walk | browse | reach | inspect | settle | gone
    until: float = 0.0
    entered: float = 0.0
    stalled_s: float = 0.0  # time walking without getting closer to the next waypoint
    best_dist: float = float("inf")


@dataclass(frozen=True)
class TruthEvent:
    t: float
    shopper: int
    account: int
    action: str          # "enter", "pick", "put_back", "exit"
    bin: int
    sku: str
    quantity: int


class Crowd:
    """The population of a run (implements ``twin.sim.Population``)."""

    def __init__(self, store: Store, config: ShopperConfig, rng: np.random.Generator,
                 arrivals_until_s: float | None = None) -> None:
        self.store = store
        self.config = config
        self.rng = rng
        self.nav = NavGrid(store, clearance=config.radius + 0.05)
        self.arrivals_until_s = arrivals_until_s
        self._next_arrival = self._draw_gap()
        self.shoppers: dict[int, _Shopper] = {}
        self.xy = np.zeros((0, 2))
        self.vel = np.zeros((0, 2))
        self.ids = np.zeros(0, dtype=np.int64)
        self._next_id = 0
        self._accounts: set[int] = set()
        self._now = 0.0
        self.truth: list[TruthEvent] = []
        self.carts: dict[int, dict[str, int]] = {}   # account -> sku -> held units
        self.exited: dict[int, float] = {}           # account -> exit time
        self.spawn_xy = store.entrance.inside(0.35)
        self.exit_inside = store.exit.inside(0.9)
        self.exit_out = store.exit.inside(0.1)
        sku_bins: dict[int, list[int]] = {}
        for i, s in enumerate(store.bins.sku_index):
            sku_bins.setdefault(int(s), []).append(i)
        self._sku_bins = sku_bins

    # -- sampling --------------------------------------------------------------------------
    def _draw_gap(self) -> float:
        rate = self.config.arrival_rate_hz
        return float(self.rng.exponential(1.0 / rate)) if rate > 0 else np.inf

    def _new_account(self) -> int:
        while True:
            a = int(self.rng.integers(1_000_000, 10_000_000))
            if a not in self._accounts:
                self._accounts.add(a)
                return a

    def _plan(self) -> list[_Task]:
        c = self.config
        rng = self.rng
        n_items = int(min(c.max_list, 1 + rng.poisson(c.list_poisson)))
        skus = rng.choice(len(self.store.catalogue), size=n_items, replace=False)
        tasks = []
        for s in skus:
            bins = self._sku_bins.get(int(s))
            if not bins:
                continue
            b = int(bins[int(rng.integers(len(bins)))])
            q = int(rng.choice([1, 2, 3], p=c.qty_probs))
            u = rng.random()
            extra = 1 if u < c.p_take_extra_put_back else 0
            if c.p_take_extra_put_back <= u < c.p_take_extra_put_back + c.p_change_mind:
                q, extra = 0, 1
            tasks.append(_Task("pick", b, q, extra, float(rng.exponential(c.browse_mean_s))))
        for _ in range(int(rng.poisson(c.look_stops_poisson))):
            b = int(rng.integers(len(self.store.bins)))
            tasks.append(_Task("look", b, 0, 0, float(rng.exponential(c.browse_mean_s / 2))))
        # visit in a sensible order: greedy nearest neighbour from the entrance
        order: list[_Task] = []
        cur = self.spawn_xy
        rest = tasks[:]
        acc = self.store.bins.access_xy
        while rest:
            k = int(np.argmin([np.linalg.norm(acc[t.bin] - cur) for t in rest]))
            order.append(rest.pop(k))
            cur = acc[order[-1].bin]
        order.append(_Task("exit"))
        return order

    def _spawn(self, t: float, gate: EntryGate) -> None:
        c = self.config
        if self.xy.shape[0] and np.min(np.linalg.norm(self.xy - self.spawn_xy, axis=1)) < 0.7:
            return  # door busy: the next arrival waits
        sid = self._next_id
        self._next_id += 1
        acct = self._new_account()
        speed = float(np.clip(self.rng.normal(c.speed_mean, c.speed_sd), 0.8, 1.8))
        sh = _Shopper(sid, acct, speed, self._plan(), entered=t)
        self.shoppers[sid] = sh
        self.ids = np.append(self.ids, sid)
        self.xy = np.vstack([self.xy, self.spawn_xy[None]])
        self.vel = np.vstack([self.vel, np.zeros((1, 2))])
        gate.check_in(t, acct)
        self.carts[acct] = {}
        self.truth.append(TruthEvent(t, sid, acct, "enter", -1, "", 0))
        self._start_task(sh, self.spawn_xy)
        self._next_arrival = t + self._draw_gap()

    def _start_task(self, sh: _Shopper, at: np.ndarray) -> None:
        task = sh.tasks[0]
        sh.stalled_s, sh.best_dist = 0.0, float("inf")
        if task.kind == "exit":
            sh.path = self.nav.route(at, self.exit_inside) + [self.exit_out]
        else:
            sh.path = self.nav.route(at, self.store.bins.access_xy[task.bin])
        sh.state = "walk"

    # -- ground truth helpers --------------------------------------------------------------
    def _sku(self, b: int) -> str:
        return str(self.store.catalogue.sku[self.store.bins.sku_index[b]])

    def _record(self, t, sh, action, b, n) -> None:
        if n <= 0:
            return
        sku = self._sku(b)
        self.truth.append(TruthEvent(t, sh.sid, sh.account, action, b, sku, n))
        cart = self.carts[sh.account]
        cart[sku] = cart.get(sku, 0) + (n if action == "pick" else -n)
        if cart[sku] == 0:
            del cart[sku]

    # -- the Population interface ------------------------------------------------------------
    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.ids.copy(), self.xy.copy()

    # a hand in a bin: reaching for the pick, and putting back in the last moments of
    # inspecting; it is at the bin's opening, a little above the plate
    HAND_PUT_BACK_S = 0.6
    HAND_ABOVE_PLATE_M = 0.08

    def hands(self) -> np.ndarray:
        """(s, 3) float64 hand position [m] of each person (order of ``positions``) whose hand
        is in a shelf bin now; NaN rows for the others."""
        out = np.full((self.ids.shape[0], 3), np.nan)
        b = self.store.bins
        for k, sid in enumerate(self.ids):
            sh = self.shoppers[int(sid)]
            if sh.state == "reach" or (sh.state == "inspect"
                                       and sh.until - self._now <= self.HAND_PUT_BACK_S):
                i = sh.tasks[0].bin
                c = b.center[i]
                # the middle of the bin's opening: its centre moved to the aisle-side face
                half = 0.5 * np.abs(b.hi[i, :2] - b.lo[i, :2]) @ np.abs(b.normal[i])
                out[k, :2] = c[:2] + b.normal[i] * half
                out[k, 2] = b.lo[i, 2] + self.HAND_ABOVE_PLATE_M
        return out

    def step(self, t: float, dt: float, world: World, gate: EntryGate) -> None:
        self._now = t
        if (self.arrivals_until_s is None or t <= self.arrivals_until_s) and t >= self._next_arrival:
            self._spawn(t, gate)
        self._act(t, world)
        self._move(dt)
        self._leave(t)

    def _act(self, t: float, world: World) -> None:
        for k, sid in enumerate(self.ids):
            sh = self.shoppers[int(sid)]
            if sh.state == "walk" or t < sh.until:
                continue
            task = sh.tasks[0]
            if sh.state == "browse":
                if task.kind == "look":
                    sh.tasks.pop(0)
                    self._start_task(sh, self.xy[k])
                    continue
                world.wake(task.bin)
                sh.state, sh.until = "reach", t + self.config.reach_s
            elif sh.state == "reach":
                n = world.pick(task.bin, task.qty + task.extra)
                self._record(t, sh, "pick", task.bin, n)
                if task.extra and n > 0:
                    sh.state, sh.until = "inspect", t + self.config.inspect_s
                    task.extra = min(task.extra, n)
                else:
                    sh.state, sh.until = "settle", t + 0.5
            elif sh.state == "inspect":
                n = world.put_back(task.bin, task.extra)
                self._record(t, sh, "put_back", task.bin, n)
                sh.state, sh.until = "settle", t + 1.0
            elif sh.state == "settle":
                sh.tasks.pop(0)
                self._start_task(sh, self.xy[k])

    def _move(self, dt: float) -> None:
        n = self.ids.shape[0]
        if n == 0:
            return
        c = self.config
        desired = np.zeros((n, 2))
        for k, sid in enumerate(self.ids):
            sh = self.shoppers[int(sid)]
            if sh.state != "walk":
                continue
            # pushed off the route (a neighbour, a corner): re-plan from where we stand
            if sh.path:
                dnow = float(np.hypot(*(sh.path[0] - self.xy[k])))
                if dnow < sh.best_dist - 0.02:
                    sh.best_dist, sh.stalled_s = dnow, 0.0
                else:
                    sh.stalled_s += dt
                if len(sh.path) == 1 and sh.stalled_s > 0.8 and dnow < 0.9:
                    # the spot is taken (someone at that shelf): reach in from beside them
                    sh.path = [self.xy[k].copy()]
                elif sh.stalled_s > 1.0 or (sh.stalled_s > 0.3 and not self.nav.line_of_sight(
                        self.xy[k], sh.path[0])):
                    sh.path = self.nav.route(self.xy[k], sh.path[-1])
                    sh.stalled_s, sh.best_dist = 0.0, float("inf")
            while sh.path:
                d = sh.path[0] - self.xy[k]
                dist = float(np.hypot(*d))
                if dist > 0.25 or len(sh.path) == 1 and dist > 0.1:
                    desired[k] = d / max(dist, 1e-9) * min(sh.speed, dist / dt)
                    break
                sh.path.pop(0)
                sh.best_dist = float("inf")
            if not sh.path:
                task = sh.tasks[0]
                if task.kind == "exit":
                    sh.state = "gone"
                else:
                    sh.state, sh.until = "browse", self._now + task.browse_s
        acc = (desired - self.vel) / c.relax_s
        if n > 1:
            d = self.xy[:, None, :] - self.xy[None, :, :]
            dist = np.linalg.norm(d, axis=2)
            np.fill_diagonal(dist, np.inf)
            mag = c.social_a * np.exp((2 * c.radius - dist) / c.social_b)
            mag[dist > 3.0] = 0.0
            acc += (mag[..., None] * d / np.maximum(dist, 1e-6)[..., None]).sum(axis=1)
        self.vel = self.vel + acc * dt
        vmax = np.array([1.3 * self.shoppers[int(s)].speed for s in self.ids])
        still = np.array([self.shoppers[int(s)].state != "walk" for s in self.ids])
        sp = np.linalg.norm(self.vel, axis=1)
        self.vel *= np.minimum(1.0, vmax / np.maximum(sp, 1e-9))[:, None]
        self.vel[still] *= 0.3  # people at a shelf only shuffle aside
        new = self.xy + self.vel * dt
        ok = self.nav.is_free(new)
        if not ok.all():
            tx = np.column_stack([new[:, 0], self.xy[:, 1]])
            ty = np.column_stack([self.xy[:, 0], new[:, 1]])
            okx = self.nav.is_free(tx)
            oky = self.nav.is_free(ty)
            new = np.where(ok[:, None], new, np.where(okx[:, None], tx,
                                                      np.where(oky[:, None], ty, self.xy)))
            self.vel[~ok & okx, 1] = 0.0
            self.vel[~ok & ~okx & oky, 0] = 0.0
            self.vel[~ok & ~okx & ~oky] = 0.0
        self.xy = self._separate(new, still)

    def _separate(self, xy: np.ndarray, still: np.ndarray, iterations: int = 3) -> np.ndarray:
        """Bodies do not interpenetrate: push overlapping pairs apart (to 2 * radius), keeping
        each move on free floor. Someone standing at a shelf holds their ground; a walker
        who bumps into them gives way."""
        n = xy.shape[0]
        if n < 2:
            return xy
        dmin = 2 * self.config.radius
        for _ in range(iterations):
            d = xy[:, None, :] - xy[None, :, :]
            dist = np.linalg.norm(d, axis=2)
            np.fill_diagonal(dist, np.inf)
            over = np.clip(dmin - dist, 0.0, None)
            if not over.any():
                break
            # coincident points: separate along a fixed axis by id order
            unit = np.where(dist[..., None] > 1e-9, d / np.maximum(dist, 1e-9)[..., None],
                            np.array([1.0, 0.0]) * np.sign(np.arange(n)[:, None]
                                                          - np.arange(n)[None, :])[..., None])
            # share of the overlap each side takes: 1/2 between equals, all of it for a walker
            # against someone standing still
            share = np.where(still[None, :] & ~still[:, None], 1.0,
                             np.where(still[:, None] & ~still[None, :], 0.0, 0.5))
            push = (share[..., None] * over[..., None] * unit).sum(axis=1)
            cand = xy + push
            ok = self.nav.is_free(cand)
            xy = np.where(ok[:, None], cand, xy)
        return xy

    def _leave(self, t: float) -> None:
        gone = [k for k, s in enumerate(self.ids) if self.shoppers[int(s)].state == "gone"]
        for k in reversed(gone):
            sh = self.shoppers[int(self.ids[k])]
            self.exited[sh.account] = t
            self.truth.append(TruthEvent(t, sh.sid, sh.account, "exit", -1, "", 0))
            del self.shoppers[sh.sid]
            self.ids = np.delete(self.ids, k)
            self.xy = np.delete(self.xy, k, axis=0)
            self.vel = np.delete(self.vel, k, axis=0)

    def truth_receipts(self) -> dict[int, dict[str, int]]:
        """account -> {sku: units} of every shopper who has left the store."""
        return {a: dict(sorted(self.carts[a].items())) for a in sorted(self.exited)}
