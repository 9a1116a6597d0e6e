"""``storetwin/SensorPlacement-v0``: place a store's cameras (and plates) one at a time.

A planner's search as an RL problem. Each step adds one sensor from a fixed candidate set
(cameras of :func:`twin.placement.candidate_layout`; with ``plates=True`` also the load-cell
plates of one fixture at a time) until the budget is spent or the agent stops.

Observation (a ``Dict``):

- ``coverage`` (2, H, W) float32: per floor cell of a ``cell_m`` grid, the cameras seeing it
  capped at ``k`` and divided by ``k`` (channel 0), and 1 where a person may stand (1);
- ``placed`` (n,) int8: which candidates are placed (the stop action excluded);
- ``budget`` (1,) float32: the share of the budget left;
- ``scores`` (4,) float32: the proxy, floor seen by >= 1 and >= k cameras, bins usable.

Action: ``Discrete(n + 1)``: candidate ``i``, or ``n`` to stop. Placing one that is placed
already or does not fit the budget changes nothing, costs ``invalid_penalty`` and (with
``on_invalid="end"``, the default) ends the episode like the stop action: a policy that
repeats itself then learns fast instead of idling until ``max_steps``; ``"ignore"`` lets the
episode go on. ``info["action_mask"]`` (and :meth:`action_masks`, the name sb3-contrib's
MaskablePPO looks for) says which actions are valid.

Reward: the gain in a coverage-based proxy of billing accuracy minus ``cost_weight`` x the
sensor's price / budget. The proxy, in [0, 1]:

    proxy = (1 - bin_weight) * mean over walkable cells of min(cameras, k) / k
            + bin_weight * share of bins seen by a camera (and, with plates, weighed)

A tracker needs each person seen, better by two cameras at once (occlusion; the kiosk study
in README.md finds accuracy rising with the floor seen twice); billing needs the bin a hand
enters to be seen and its plate to weigh. The proxy is a ranking device, not a calibrated
accuracy: with ``final_sim_minutes > 0`` the final layout is also scored by a short run of
the whole twin (crowd, sensors, core) and ``final_weight`` x its ``final_metric`` (receipt
F1 by default; exact match, HOTA or IDF1) is added to the last reward (``info["final"]``
holds the run's billing and tracking scores). Receipts need shoppers who finish their trip:
on the kiosk a run shorter than ~4 minutes may score none (the billing metrics are then
None and add nothing); HOTA is there after a minute.

Episodes end (``terminated``) on the stop action or when no valid candidate is left, and are
truncated after ``max_steps``. Candidate visibility is computed once per (store, settings)
and process (a fraction of a second on the kiosk), so ``reset`` and ``step`` are array
operations: ``tests/benchmarks/test_env_speed.py`` measures the step rate.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from experiments.envs._placement_kernels import add_camera as _add_camera
from experiments.scoring.prices import Prices

FINAL_METRICS = ("receipt_f1", "exact_match", "hota", "idf1")


@dataclass(frozen=True)
class _Candidates:
    """Everything an episode needs, computed once per (store, settings)."""

    store_name: str
    layout: object            # twin.layout.CameraLayout of the camera candidates
    floor: np.ndarray         # (n_cams, n_cells) bool
    faces: np.ndarray         # (n_cams, n_bins) bool
    walk_idx: np.ndarray      # (n_cells,) flat index of each walkable cell in (H, W)
    shape: tuple[int, int]
    walkable: np.ndarray      # (H, W) bool
    origin: np.ndarray
    cell: float
    cam_cost: np.ndarray      # (n_cams,) list price + installation [USD]
    cam_xy: np.ndarray        # (n_cams, 2) [m]
    plate_bins: np.ndarray    # (n_fixtures_with_bins, n_bins) bool: the bins of each fixture
    plate_cost: np.ndarray    # (n_fixtures_with_bins,) [USD]
    plate_xy: np.ndarray      # (n_fixtures_with_bins, 2) fixture centres [m]


@functools.lru_cache(maxsize=8)
def _candidates(store_ref: str, spacing: float, cell: float, prices: str) -> _Candidates:
    from scenes.presets import load_store
    from twin.coverage import visibility
    from twin.placement import candidate_layout

    store = load_store(store_ref)
    cand = candidate_layout(store, spacing=spacing)
    vis = visibility(store, cand.cameras(), cell)
    p = Prices(**json.loads(prices)) if prices != "{}" else Prices()
    cam_cost = np.array([p.cameras.get(str(m), float(c)) for m, c in
                         zip(cand.model, cand.cost_usd, strict=True)]) + p.install_per_camera_usd
    walk = vis.samples.walkable
    fx = np.asarray(store.bins.fixture)
    fixtures = np.unique(fx)
    plate_bins = fx[None, :] == fixtures[:, None]
    plates = np.array([np.unique(np.asarray(store.bins.plate)[row]).size for row in plate_bins],
                      dtype=np.int64)
    centres = np.array([(np.asarray(store.fixtures[f].lo[:2]) + store.fixtures[f].hi[:2]) / 2
                        for f in fixtures]).reshape(-1, 2)
    return _Candidates(
        store.name, cand, np.ascontiguousarray(vis.floor), np.ascontiguousarray(vis.faces),
        np.flatnonzero(walk.ravel()), walk.shape, walk, np.asarray(vis.samples.origin),
        float(vis.samples.cell), cam_cost, np.asarray(cand.position)[:, :2], plate_bins,
        plates * (p.plate_usd + p.install_per_plate_usd), centres)


def _csr(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the True entries of each row of a bool matrix."""
    rows, cols = np.nonzero(m)
    ptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m.shape[0]), out=ptr[1:])
    return ptr, cols.astype(np.int64)


class SensorPlacementEnv(gym.Env):
    """Place cameras (and plates) on a store, one per step (see the module docstring).

    store: preset or spec file; budget_usd: what the sensors may cost [USD] (default: a
    2.5 m ceiling grid's worth on the kiosk); candidate_spacing_m: pitch of the candidate
    ceiling grid [m] (each point: one camera looking down and four tilted -60 deg, plus the
    shelf-facing cameras); cell_m: coverage grid [m]; k: cameras a cell needs; plates: also
    place plates, one fixture at a time (else every bin is weighed from the start);
    prices: overrides of :class:`experiments.scoring.prices.Prices` as a dict.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, store: str = "kiosk", budget_usd: float = 16_500.0,
                 candidate_spacing_m: float = 1.5, cell_m: float = 0.5, k: int = 2,
                 bin_weight: float = 0.3, cost_weight: float = 0.2, plates: bool = False,
                 invalid_penalty: float = 0.05, on_invalid: str = "end",
                 max_steps: int | None = None,
                 final_sim_minutes: float = 0.0, final_sim_shoppers: float = 15.0,
                 final_weight: float = 1.0, final_metric: str = "receipt_f1",
                 prices: dict | None = None,
                 render_mode: str | None = None) -> None:
        if not budget_usd > 0:
            raise ValueError(f"budget_usd must be > 0, got {budget_usd}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if not 0 <= bin_weight <= 1:
            raise ValueError(f"bin_weight must be in [0, 1], got {bin_weight}")
        if not candidate_spacing_m > 0 or not cell_m > 0:
            raise ValueError("candidate_spacing_m and cell_m must be > 0")
        if final_sim_minutes < 0:
            raise ValueError(f"final_sim_minutes must be >= 0, got {final_sim_minutes}")
        if final_metric not in FINAL_METRICS:
            raise ValueError(f"final_metric must be one of {FINAL_METRICS}, got {final_metric!r}")
        self.final_metric = final_metric
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if on_invalid not in ("end", "ignore"):
            raise ValueError(f"on_invalid must be 'end' or 'ignore', got {on_invalid!r}")
        self.on_invalid = on_invalid
        self.store_ref = store
        self.c = _candidates(store, float(candidate_spacing_m), float(cell_m),
                             json.dumps(prices or {}, sort_keys=True))
        self.budget_usd = float(budget_usd)
        self.k = int(k)
        self.bin_weight = float(bin_weight)
        self.cost_weight = float(cost_weight)
        self.plates = bool(plates)
        self.invalid_penalty = float(invalid_penalty)
        self.final_sim_minutes = float(final_sim_minutes)
        self.final_sim_shoppers = float(final_sim_shoppers)
        self.final_weight = float(final_weight)
        self.render_mode = render_mode
        c = self.c
        self.n_cams = c.floor.shape[0]
        self.n_plate_actions = c.plate_bins.shape[0] if self.plates else 0
        self.n = self.n_cams + self.n_plate_actions
        self.cost = np.concatenate([c.cam_cost, c.plate_cost[:self.n_plate_actions]])
        self.max_steps = int(max_steps) if max_steps is not None else int(
            2 * min(self.n, budget_usd / max(float(self.cost.min()), 1.0)) + 10)
        h, w = c.shape
        self.action_space = spaces.Discrete(self.n + 1)
        self.observation_space = spaces.Dict({
            "coverage": spaces.Box(0.0, 1.0, (2, h, w), np.float32),
            "placed": spaces.MultiBinary(self.n),
            "budget": spaces.Box(0.0, 1.0, (1,), np.float32),
            "scores": spaces.Box(0.0, 1.0, (4,), np.float32),
        })
        self._csr = (*_csr(c.floor), *_csr(c.faces))
        self._plate_bins_of = [np.flatnonzero(r) for r in c.plate_bins]
        self._walk_img = c.walkable.astype(np.float32)
        self._n_cells = max(c.floor.shape[1], 1)
        self._n_bins = max(c.faces.shape[1], 1)
        self._plan = None
        self.reset_state()

    # -- state --------------------------------------------------------------------------

    def reset_state(self) -> None:
        c = self.c
        self.count = np.zeros(c.floor.shape[1], dtype=np.int16)
        self.bin_seen = np.zeros(c.faces.shape[1], dtype=np.int16)
        self.bin_weighed = np.full(c.faces.shape[1], 0 if self.plates else 1, dtype=np.int16)
        self.placed = np.zeros(self.n, dtype=np.int8)
        self.spent = 0.0
        self.steps = 0
        self.order: list[int] = []
        self._cams_placed = 0
        # running sums, updated from the cells and bins a sensor touches only
        self._floor_sum = 0          # sum over cells of min(count, k)
        self._k1 = 0                 # cells seen by >= 1 camera
        self._kk = 0                 # cells seen by >= k cameras
        self._usable = 0             # bins seen and weighed
        self._cov = np.zeros((2, c.shape[0] * c.shape[1]), dtype=np.float32)
        self._cov[1] = self._walk_img.ravel()
        self._proxy, self._scores = self._score()

    def _score(self) -> tuple[float, np.ndarray]:
        floor = self._floor_sum / (self.k * self._n_cells)
        usable = self._usable / self._n_bins
        proxy = (1.0 - self.bin_weight) * floor + self.bin_weight * usable
        return proxy, np.array([proxy, self._k1 / self._n_cells, self._kk / self._n_cells,
                                usable], dtype=np.float32)

    def _add_camera(self, a: int) -> None:
        c = self._csr
        d = _add_camera(a, c[0], c[1], c[2], c[3], self.count, self.bin_seen,
                        self.bin_weighed, self.c.walk_idx, self._cov[0], self.k)
        self._floor_sum += int(d[0])
        self._k1 += int(d[1])
        self._kk += int(d[2])
        self._usable += int(d[3])

    def _add_plates(self, f: int) -> None:
        b = self._plate_bins_of[f]
        was = self.bin_weighed[b]
        self.bin_weighed[b] = was + 1
        self._usable += int(np.count_nonzero((was == 0) & (self.bin_seen[b] > 0)))

    def action_masks(self) -> np.ndarray:
        """(n + 1,) bool: the valid actions (unplaced and affordable; stop always)."""
        ok = np.empty(self.n + 1, dtype=bool)
        np.less_equal(self.cost, self.budget_usd - self.spent + 1e-9, out=ok[:-1])
        ok[:-1] &= self.placed == 0
        ok[-1] = True
        return ok

    def _obs(self) -> dict:
        h, w = self.c.shape
        return {"coverage": self._cov.reshape(2, h, w).copy(), "placed": self.placed.copy(),
                "budget": np.array([max(0.0, 1.0 - self.spent / self.budget_usd)],
                                   dtype=np.float32),
                "scores": self._scores.copy()}

    def _info(self, mask: np.ndarray, invalid: bool = False) -> dict:
        return {"action_mask": mask, "cost_usd": self.spent,
                "cameras": self._cams_placed,
                "plate_fixtures": len(self.order) - self._cams_placed,
                "proxy": self._proxy, "floor_k1": float(self._scores[1]),
                "floor_k": float(self._scores[2]), "bins_usable": float(self._scores[3]),
                "invalid": invalid}

    # -- gymnasium API -------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.reset_state()
        return self._obs(), self._info(self.action_masks())

    def step(self, action):
        a = int(action)
        if not 0 <= a <= self.n:
            raise ValueError(f"action must be in [0, {self.n}], got {action!r}")
        self.steps += 1
        reward = 0.0
        terminated = False
        invalid = False
        if a == self.n:
            terminated = True
        elif self.placed[a] or self.spent + self.cost[a] > self.budget_usd + 1e-9:
            invalid = True
            reward = -self.invalid_penalty
            terminated = self.on_invalid == "end"
        else:
            self.placed[a] = 1
            self.order.append(a)
            self.spent += float(self.cost[a])
            if a < self.n_cams:
                self._add_camera(a)
                self._cams_placed += 1
            else:
                self._add_plates(a - self.n_cams)
            proxy, self._scores = self._score()
            reward = proxy - self._proxy - self.cost_weight * float(self.cost[a]) / self.budget_usd
            self._proxy = proxy
        mask = self.action_masks()
        if not mask[:-1].any():
            terminated = True
        truncated = not terminated and self.steps >= self.max_steps
        info = self._info(mask, invalid)
        if terminated and self.final_sim_minutes > 0:
            final = self.simulate(self.final_sim_minutes, self.final_sim_shoppers)
            info["final"] = final
            v = final[self.final_metric]
            reward += self.final_weight * (v if v is not None and v == v else 0.0)
        return self._obs(), float(reward), terminated, truncated, info

    # -- the layout and its simulation ---------------------------------------------------

    def layout(self):
        """The cameras placed so far, in the order placed (a :class:`CameraLayout`)."""
        cams = [a for a in self.order if a < self.n_cams]
        return self.c.layout.take(np.array(cams, dtype=np.int64))

    def weighed_bins(self) -> np.ndarray:
        """(n_bins,) bool: bins on a placed plate (all of them without ``plates``)."""
        return self.bin_weighed > 0

    def simulate(self, minutes: float, shoppers: float) -> dict:
        """Score the current layout by a run of the whole twin (same seed as ``reset``'s
        RNG draws it from): billing and tracking metrics as in ``metrics.json``. Bins on no
        placed plate are dead plates."""
        from experiments.runs.config import RunConfig
        from experiments.runs.run import run
        from scenes.presets import load_store
        from twin.layout_toml import dumps_layout

        lay = self.layout()
        if len(lay) == 0:
            return {"exact_match": 0.0, "receipt_f1": 0.0, "hota": 0.0, "idf1": 0.0,
                    "cameras": 0, "receipts": 0}
        store = load_store(self.store_ref)
        dead = ()
        if self.plates:
            weighed = np.asarray(store.bins.plate)[self.weighed_bins()]
            dead = tuple(int(p) for p in np.setdiff1d(np.arange(store.bins.n_plates), weighed))
        seed = int(self.np_random.integers(0, 2**31 - 1))
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "layout.toml"
            path.write_text(dumps_layout(lay, "SensorPlacement-v0 episode"))
            res = run(RunConfig(store=self.store_ref, minutes=minutes, shoppers=shoppers,
                                seed=seed, layout=str(path), record_streams=False,
                                dead_plates=dead))
        b, t = res.metrics["billing"], res.metrics["tracking"]
        return {"exact_match": b["exact_match"], "receipt_f1": b["receipt_f1"],
                "hota": t["hota"], "idf1": t["idf1"], "cameras": len(lay),
                "receipts": b["receipts_true"], "seed": seed}

    # -- rendering -----------------------------------------------------------------------

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from experiments.envs.topdown import coverage_view

        return coverage_view(self)
