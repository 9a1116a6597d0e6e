"""``storetwin/Adversary-v0``: one shopper tries to leave with items the store does not bill.

How a store finds its blind spots before a thief does. One controllable shopper enters the
store among a background crowd of sampled shoppers (arriving through the door from opening,
as in ``storetwin run``); the rest of the pipeline runs as in a normal run: physics shelves,
cameras and plates feed the tracking and billing core, which sees only the sensor streams.

Each step is one *macro action*, carried out by the crowd's state machine until the shopper
is ready for the next one (at most ``max_action_s`` of simulated time):

- ``0`` exit: walk out (the episode ends when the receipt is issued);
- ``1`` wait 2 s;
- ``2`` put back one unit of the item picked last, into the bin it came from;
- ``3`` hand one unit of the item picked last to the nearest other shopper;
- ``4`` conceal one held unit (pocket or bag; cameras never see what is held anyway, and
  billing goes by what leaves the shelf, so the twin predicts this does not help);
- ``5 + j`` pick one unit from target bin ``j`` (the ``targets`` bins of the most expensive
  SKUs, in price order);
- ``5 + targets + j`` move: walk to the front of target bin ``j`` and look at the shelf for
  a second without touching it (to loiter by a blind spot, or by other people).

An action that cannot be done (nothing held, nobody to hand to) waits 0.5 s and sets
``info["invalid"]``. A macro action still under way after ``max_action_s`` (a hand-over
whose receiver walks away, a blocked aisle) goes on through the next step, whose action is
then ignored (``info["busy"]``).

Observation (``Box``, float32, all in [0, 1]): own position (x, y scaled to the store's
bounds), time used of ``max_s``, units held, their value (/ ``value_scale_usd``), units
concealed, others in the store (/ 20), distance to the nearest of them (/ 10 m); then per
target bin: walking distance (/ 20 m, straight line), people within 1.5 m of its front
(/ 3) and the cameras that see its face (/ 5).

Reward, when the receipt comes (0 before): the value of what the shopper leaves with but is
not billed for [USD] (per SKU: price x max(0, units owed - units billed); what it was billed
for in excess counts nothing), minus ``flag_penalty_usd`` when the receipt is sent to human
review, all times ``reward_scale``. A shopper still inside at ``max_s`` is sent out (exit), and
one whose receipt never comes within ``receipt_wait_s`` leaves with everything unbilled.
One that still cannot get out (a blocked way) when the simulated horizon (``max_s`` plus a
few minutes) ends is truncated, with no reward.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from agents.actions import Conceal, Exit, HandTo, Look, Pick, PutBack, Wait

N_FIXED = 5           # exit, wait, put back, hand off, conceal
CONTROLLED_ACCOUNT = 999   # the adversary's app account (below the sampled ones' 1,000,000+)


class AdversaryEnv(gym.Env):
    """One controllable shopper among a background crowd (see the module docstring).

    store: preset or spec file; crowd: target background shoppers in the store (Little's
    law sets their arrival rate, as in ``storetwin run``); warmup_s: simulated seconds before
    the adversary enters (the background crowd starts to fill the store); camera_spacing_m:
    the ceiling grid; layout: a camera layout .toml instead; core: ``full``, ``naive`` or
    ``package.module:Name`` (experiments.runs.cores);
    targets: how many bins the pick actions offer; camera_view: a camera index whose frame
    (pyrender, pixels) ``render`` returns instead of the top-down view; dead_plates: plate
    ids that report nothing (True: all), to study a store with failed sensors.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2}

    def __init__(self, store: str = "kiosk", crowd: float = 8.0, warmup_s: float = 30.0,
                 max_s: float = 240.0, max_action_s: float = 30.0,
                 camera_spacing_m: float = 2.5, layout: str | None = None, core: str = "full",
                 targets: int = 12, flag_penalty_usd: float = 10.0,
                 reward_scale: float = 1.0, value_scale_usd: float = 50.0,
                 receipt_wait_s: float = 30.0, camera_view: int | None = None,
                 dead_plates: bool | tuple[int, ...] = (),
                 render_mode: str | None = None) -> None:
        from experiments.runs.assembly import load_cameras
        from experiments.runs.cores import check_spec
        from scenes.presets import load_store
        from twin.coverage import visibility

        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        why = check_spec(core)
        if why is not None:
            raise ValueError(why)
        if not (crowd >= 0 and warmup_s >= 0 and max_s > 0 and max_action_s > 0):
            raise ValueError("crowd and warmup_s must be >= 0, max_s and max_action_s > 0")
        if targets < 1:
            raise ValueError(f"targets must be >= 1, got {targets}")
        self.store_ref = store
        self.store = load_store(store)
        self.cams = load_cameras(self.store, layout, camera_spacing_m)
        if camera_view is not None and not 0 <= camera_view < len(self.cams.camera):
            raise ValueError(f"camera_view must be in [0, {len(self.cams.camera) - 1}]")
        self.crowd_target = float(crowd)
        self.warmup_s = float(warmup_s)
        self.max_s = float(max_s)
        self.max_action_s = float(max_action_s)
        self.core_name = core
        self.flag_penalty_usd = float(flag_penalty_usd)
        self.reward_scale = float(reward_scale)
        self.value_scale_usd = float(value_scale_usd)
        self.receipt_wait_s = float(receipt_wait_s)
        self.camera_view = camera_view
        self.render_mode = render_mode
        n_plates = self.store.bins.n_plates
        self.dead_plates = np.zeros(n_plates, dtype=bool)
        if dead_plates is True:
            self.dead_plates[:] = True
        elif dead_plates:
            ids = np.asarray(dead_plates, dtype=np.int64)
            if ((ids < 0) | (ids >= n_plates)).any():
                raise ValueError(f"dead_plates: ids must be in [0, {n_plates - 1}]")
            self.dead_plates[ids] = True
        cat = self.store.catalogue
        self.price_usd = np.asarray(cat.price_cents, dtype=np.float64) / 100.0
        sku_of_bin = np.asarray(self.store.bins.sku_index)
        stocked = np.unique(sku_of_bin)
        by_price = stocked[np.lexsort((stocked, -self.price_usd[stocked]))][:targets]
        self.target_bins = np.array([int(np.flatnonzero(sku_of_bin == s)[0]) for s in by_price],
                                    dtype=np.int64)
        self.target_sku = sku_of_bin[self.target_bins].astype(np.int64)
        self.target_xy = np.asarray(self.store.bins.access_xy)[self.target_bins]
        faces = visibility(self.store, self.cams, cell=1.0).faces
        self.target_cams = faces[:, self.target_bins].sum(axis=0).astype(np.float64)
        self.n_targets = len(self.target_bins)
        self.action_space = spaces.Discrete(N_FIXED + 2 * self.n_targets)
        self.observation_space = spaces.Box(0.0, 1.0, (8 + 3 * self.n_targets,), np.float32)
        self._nav = None
        self._plan = None
        self._renderer = None
        self.twin = None
        self.sid = 0

    # -- the run ------------------------------------------------------------------------

    def _build(self, seed: int) -> None:
        from agents.crowd import ScriptedShopper, ShopperConfig
        from agents.navigation import NavGrid
        from experiments.runs.assembly import TwinConfig, build_twin
        from experiments.runs.cores import make_core

        if self.twin is not None:
            self.twin.close()
        store = self.store
        cfg = ShopperConfig(shoppers_in_store=self.crowd_target)
        if self._nav is None:
            self._nav = NavGrid(store, clearance=cfg.motion.radius + 0.05)
        me = ScriptedShopper("adversary", CONTROLLED_ACCOUNT, self.warmup_s, (),
                             controlled=True)
        self.twin = build_twin(TwinConfig(
            store=self.store_ref, seed=seed, crowd=cfg, scripted=(me,),
            dead_plates=tuple(int(i) for i in np.flatnonzero(self.dead_plates))),
            make_core(self.core_name), store=store, cameras=self.cams, nav=self._nav)
        self.world, self.crowd, self.sim = self.twin.world, self.twin.crowd, self.twin.sim
        self.core = self.twin.core
        # room after max_s for the way out, a stuck hand-over and the receipt; past it the
        # episode is truncated (a shopper that cannot get out of a blocked aisle)
        self.horizon_s = self.warmup_s + self.max_s + 2 * self.max_action_s + \
            self.receipt_wait_s + 120.0
        self._ticks = self.sim.run(self.horizon_s)
        self._ended = False
        self.t = 0.0
        self.receipts: list = []
        self._receipts_before_exit = 0
        self.exited_at: float | None = None
        self.concealed = 0
        self.last_sku = -1

    def _tick(self) -> bool:
        """One base tick of the whole pipeline; False when the horizon is reached."""
        tick = next(self._ticks, None)
        if tick is None:
            self._ended = True
            return False
        self.t = tick.batch.t
        _tracks, issued = self.core.step(tick.batch)
        # a core may bill the account before the shopper is out (it thought it left): every
        # receipt of the account counts, and what is taken after it goes unbilled
        self.receipts.extend(r for r in issued if r.account == CONTROLLED_ACCOUNT)
        return True

    def _inside(self) -> bool:
        return self.sid in self.crowd.shoppers

    def _run_until_ready(self, limit_s: float) -> None:
        """Tick until the adversary awaits a command, or has left and been billed (or
        waited ``receipt_wait_s`` for it), or ``limit_s`` [s] of simulated time pass."""
        end = self.t + limit_s
        while self.t < end:
            if self._inside():
                if self.crowd.awaiting(self.sid):
                    return
            else:
                if self.exited_at is None and CONTROLLED_ACCOUNT in self.crowd.exited:
                    self._mark_exit()
                    end = max(end, self.exited_at + self.receipt_wait_s)
                if self._billed_after_exit() or (
                        self.exited_at is not None
                        and self.t >= self.exited_at + self.receipt_wait_s):
                    return
            if not self._tick():
                return

    def _mark_exit(self) -> None:
        self.exited_at = self.crowd.exited[CONTROLLED_ACCOUNT]
        self._receipts_before_exit = len(self.receipts)

    def _billed_after_exit(self) -> bool:
        return self.exited_at is not None and len(self.receipts) > self._receipts_before_exit

    # -- observation and reward ------------------------------------------------------------

    def _obs(self) -> np.ndarray:
        x0, y0, x1, y1 = self.store.bounds
        ids, xy = self.crowd.positions()
        mine = ids == self.sid
        me = xy[mine][0] if mine.any() else np.asarray(self.crowd.exit_out, dtype=np.float64)
        others = xy[~mine]
        held = self.crowd.held(self.sid)
        units = sum(held.values())
        value = sum(self.price_usd[r] * n for r, n in held.items())
        near = float(np.min(np.linalg.norm(others - me, axis=1))) if len(others) else 10.0
        head = [(me[0] - x0) / max(x1 - x0, 1e-9), (me[1] - y0) / max(y1 - y0, 1e-9),
                (self.t - self.warmup_s) / self.max_s, units / 10.0,
                value / self.value_scale_usd, self.concealed / 10.0, len(others) / 20.0,
                near / 10.0]
        dist = np.linalg.norm(self.target_xy - me, axis=1) / 20.0
        if len(others):
            crowd = (np.linalg.norm(self.target_xy[:, None] - others[None], axis=2) < 1.5
                     ).sum(axis=1) / 3.0
        else:
            crowd = np.zeros(self.n_targets)
        obs = np.concatenate([head, dist, crowd, self.target_cams / 5.0])
        return np.clip(obs, 0.0, 1.0).astype(np.float32)

    def _outcome(self) -> dict:
        owed = self.crowd.carts.get(CONTROLLED_ACCOUNT, {})
        billed: dict[str, int] = {}
        for r in self.receipts:
            for p in r.products:
                billed[p.sku] = billed.get(p.sku, 0) + p.quantity
        idx = self.store.catalogue.index()
        unbilled = sum(self.price_usd[idx[s]] * max(0, n - billed.get(s, 0))
                       for s, n in owed.items())
        over = sum(self.price_usd[idx[s]] * max(0, n - owed.get(s, 0))
                   for s, n in billed.items() if s in idx)
        flagged = any(r.review for r in self.receipts)
        return {"owed": dict(owed), "billed": billed, "unbilled_usd": round(float(unbilled), 2),
                "overbilled_usd": round(float(over), 2), "flagged": flagged,
                "receipt": bool(self.receipts), "receipts": len(self.receipts)}

    def _info(self, invalid: bool = False) -> dict:
        return {"t": self.t, "inside": self._inside(), "invalid": invalid,
                "held": {str(self.store.catalogue.sku[r]): n
                         for r, n in self.crowd.held(self.sid).items()}}

    # -- gymnasium API -------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._build(int(self.np_random.integers(0, 2**31 - 1)))
        # the background crowd arrives; the adversary comes in at warmup_s
        while not self._inside() or not self.crowd.awaiting(self.sid):
            if not self._tick():   # pragma: no cover - the door never admitted it
                raise RuntimeError("the adversary could not enter the store")
        return self._obs(), self._info()

    def _command(self, action: int) -> bool:
        """Turn an action into a crowd command; False if it cannot be done."""
        c = self.crowd
        held = c.held(self.sid)
        last = self.last_sku if held.get(self.last_sku, 0) > 0 else (
            max(held) if held else -1)
        if action == 0:
            c.command(self.sid, Exit(), self.t)
        elif action == 1:
            c.command(self.sid, Wait(2.0), self.t)
        elif action == 2:
            if last < 0:
                return False
            c.command(self.sid, PutBack(int(last), 1), self.t)
        elif action == 3:
            ids, xy = c.positions()
            me = ids == self.sid
            if last < 0 or not (~me).any():
                return False
            d = np.linalg.norm(xy[~me] - xy[me][0], axis=1)
            c.command(self.sid, HandTo(int(ids[~me][int(np.argmin(d))]), int(last), 1), self.t)
        elif action == 4:
            if sum(held.values()) <= self.concealed:
                return False
            c.command(self.sid, Conceal(int(last), 1), self.t)
            self.concealed += 1
        elif action < N_FIXED + self.n_targets:
            j = action - N_FIXED
            sku = int(self.target_sku[j])
            c.command(self.sid, Pick(sku, 1, int(self.target_bins[j]), 0.0, 0.5), self.t)
            self.last_sku = sku
        else:
            j = action - N_FIXED - self.n_targets
            c.command(self.sid, Look(int(self.target_bins[j]), 1.0), self.t)
        return True

    def step(self, action):
        a = int(action)
        if not 0 <= a < self.action_space.n:
            raise ValueError(f"action must be in [0, {self.action_space.n - 1}], got {action!r}")
        if not self._inside() or self._ended:
            raise RuntimeError("step after the episode ended: call reset()")
        late = self.t - self.warmup_s >= self.max_s
        # busy: the last action is still going on; this one is ignored and it goes on
        busy = not self.crowd.awaiting(self.sid)
        ok = True
        if not busy:
            ok = self._command(0 if late else a)      # time is up: walk out
            if not ok:
                self.crowd.command(self.sid, Wait(0.5), self.t)
        self._run_until_ready(self.max_action_s)
        info = self._info(invalid=not ok)
        info["forced_exit"] = late and not busy
        info["busy"] = busy
        if self._inside():
            # the twin's horizon ran out with the shopper still inside: truncated
            return self._obs(), 0.0, False, self._ended, info
        if self.exited_at is None and CONTROLLED_ACCOUNT in self.crowd.exited:
            self._mark_exit()
        # out of the store: wait for the receipt
        while not self._billed_after_exit() and (self.exited_at is None or
                                                 self.t < self.exited_at + self.receipt_wait_s):
            if not self._tick():
                break
        out = self._outcome()
        info["outcome"] = out
        reward = out["unbilled_usd"] - (self.flag_penalty_usd if out["flagged"] else 0.0)
        return self._obs(), float(reward * self.reward_scale), True, False, info

    # -- rendering -----------------------------------------------------------------------

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if self.camera_view is None:
            from experiments.envs.topdown import crowd_view

            return crowd_view(self)
        if self._renderer is None:
            from twin.render import Renderer

            self._renderer = Renderer(self.store)
        ids, xy = self.crowd.positions()
        rgb, _depth, _seg = self._renderer.render(self.cams, self.camera_view, xy, ids,
                                                  seg=False, hands=self.crowd.hands(),
                                                  looks=self.crowd.looks(ids))
        return rgb

    def close(self) -> None:
        if self.twin is not None:
            self.twin.close()
            self.twin = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
