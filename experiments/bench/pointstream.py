"""An independent floor-detection stream: a store and a motion model that are not the twin's.

The tracker is tuned on the twin's own streams; this generator checks that it generalises.
Nothing here imports the twin's store, shoppers or cameras:

- **Store.** A rectangular hall of ``floor_per_shopper_m2`` per shopper (10 m2 by default,
  about a busy grocery aisle), cut by parallel gondola runs (1.2 m deep, aisles 2.0 m wide)
  between a front cross aisle (4 m) and a back one (2.5 m); the door is in the front left
  corner.
- **Motion.** Each shopper walks a polyline of waypoints through the aisles to a random
  shelf stop, dwells there (exponential, mean ``dwell_s``), and after a geometric number
  of stops walks back out of the door, where a new shopper comes in, so the crowd stays at
  ``shoppers``. Velocity follows the waypoint with a first-order lag (``tau_s``) plus an
  Ornstein-Uhlenbeck wander, and people closer than ``personal_m`` push each other apart
  (a soft social force, Helbing & Molnar 1995 in spirit, not its parameters); bodies are
  solid, so centres never come closer than ``body_m``. Walking speeds are drawn per shopper around 1.1 m/s (a shopping pace, slower than the ~1.3-1.4
  m/s of free walking, Mohler et al. 2007). A walking shopper changes their mind (turns to
  a new stop) ``reroute_per_s`` times a second. ``pairs_fraction`` of shoppers walk abreast
  of a companion ``companion_m`` apart (dyads walk side by side, Moussaid et al. 2010,
  PLoS ONE 5(4): e10047), as couples and families do.
- **Detections.** At ``hz`` each shopper is detected with probability ``1 - miss`` at
  their position plus Gaussian noise ``noise_m`` per axis. Misses come in runs, as
  occlusions do (a two-state chain per shopper, runs of ``miss_run_s`` on average); ``fp_per_frame`` false
  positives a frame (Poisson) fall uniformly on the floor. Confidences overlap: true
  detections Beta(5, 2) (mean 0.71), false ones Beta(2, 3) (mean 0.40), so a threshold
  cannot separate them. There is one "camera" (id 0): the stream is already one point per
  person, as after a multi-camera fusion.

The defaults are the issue's (22): 10 m2 per shopper, 0.15 m noise, 10 % misses, 2 false
positives a frame, 10 Hz. ``python -m experiments.bench.pointstream --shoppers 100`` scores
storetwin's tracker, norfair and ByteTrack on one stream (HOTA, IDF1, detections/s).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from params import config, num, seed

AISLE_M = 2.0        # aisle width [m]
GONDOLA_M = 1.2      # gondola depth [m]
FRONT_M = 4.0        # front cross aisle [m]
BACK_M = 2.5         # back cross aisle [m]


@config(frozen=True)
class PointStreamConfig:
    """Parameters of the independent stream (defaults: issue 22's test stream)."""

    shoppers: int = num(100, ge=1, le=100_000, integer=True)
    seconds: float = num(60.0, gt=0, le=3600, unit="s")
    hz: float = num(10.0, gt=0, le=120, unit="Hz")
    noise_m: float = num(0.15, ge=0, unit="m")
    miss: float = num(0.1, ge=0, lt=1)
    fp_per_frame: float = num(2.0, ge=0)
    floor_per_shopper_m2: float = num(10.0, gt=1, unit="m^2")
    dwell_s: float = num(6.0, gt=0, unit="s")          # mean dwell at a shelf stop (assumed)
    stops_mean: float = num(4.0, gt=0)                 # shelf stops per visit (assumed)
    speed_mps: float = num(1.1, gt=0, unit="m/s")      # mean shopping pace (see module)
    speed_sd_mps: float = num(0.2, ge=0, unit="m/s")
    tau_s: float = num(0.5, gt=0, unit="s")            # velocity lag to the waypoint
    wander_mps: float = num(0.15, ge=0, unit="m/s")    # OU wander amplitude
    personal_m: float = num(0.7, ge=0, unit="m")       # social-force range
    # bodies are solid: centres stay this far apart (adult shoulder breadth ~0.40-0.46 m,
    # body depth ~0.25-0.30 m: two people touching stand 0.35-0.46 m apart)
    body_m: float = num(0.4, ge=0, unit="m")
    pairs_fraction: float = num(0.2, ge=0, le=1)
    companion_m: float = num(0.75, gt=0, unit="m")     # abreast spacing of a pair (assumed)
    reroute_per_s: float = num(0.03, ge=0, unit="1/s")  # change of mind (assumed)
    miss_run_s: float = num(0.5, gt=0, unit="s")       # mean length of a run of misses
    seed: int = seed()


@dataclass(frozen=True)
class Hall:
    """The hall: width, length [m], aisle count, the y span of the gondolas."""

    width: float
    length: float
    aisles: int
    y0: float
    y1: float

    @classmethod
    def for_crowd(cls, shoppers: int, floor_per_shopper_m2: float) -> Hall:
        area = shoppers * floor_per_shopper_m2
        length = max(14.0, float(np.sqrt(area)))
        pitch = AISLE_M + GONDOLA_M
        aisles = max(2, int(round(area / length / pitch)))
        return cls(aisles * pitch, length, aisles, FRONT_M, length - BACK_M)

    def aisle_x(self, k: np.ndarray) -> np.ndarray:
        """Centre line x of aisle ``k`` [m]."""
        return k * (AISLE_M + GONDOLA_M) + 0.5 * AISLE_M

    @property
    def door(self) -> np.ndarray:
        return np.array([1.0, 0.3])

    @property
    def door_rect(self) -> np.ndarray:
        """The door's floor rectangle xmin, ymin, xmax, ymax [m]: the tracker's entrance
        and exit."""
        return np.array([0.0, 0.0, 2.5, 2.0])

    @property
    def bounds(self) -> np.ndarray:
        return np.array([0.0, 0.0, self.width, self.length])


@dataclass(frozen=True)
class PointStream:
    """A generated stream and its truth. Detections: frame, t, camera, xy, conf; truth:
    gt_frame, gt_id, gt_xy (every shopper inside at every frame)."""

    cfg: PointStreamConfig
    hall: Hall
    frame: np.ndarray
    t: np.ndarray
    camera: np.ndarray
    xy: np.ndarray
    conf: np.ndarray
    gt_frame: np.ndarray
    gt_id: np.ndarray
    gt_xy: np.ndarray

    @property
    def frames(self) -> int:
        return int(round(self.cfg.seconds * self.cfg.hz))


class _Walkers:
    """The crowd's state: one row per shopper slot (a slot's shopper is replaced at the
    door)."""

    def __init__(self, cfg: PointStreamConfig, hall: Hall, rng: np.random.Generator) -> None:
        self.cfg, self.hall, self.rng = cfg, hall, rng
        n = cfg.shoppers
        self.id = np.arange(n, dtype=np.int64)
        self.next_id = n
        self.pos = np.zeros((n, 2))
        self.vel = np.zeros((n, 2))
        self.wander = np.zeros((n, 2))
        self.speed = np.zeros(n)
        self.dwell = np.zeros(n)               # seconds left at the current stop
        self.stops_left = np.zeros(n, np.int64)
        self.leader = np.full(n, -1)           # slot this one walks beside (-1: alone)
        self.side = np.zeros((n, 2))           # unit vector from leader to companion
        self.path: list[list[np.ndarray]] = [[] for _ in range(n)]
        self.inside = np.ones(n, bool)
        for i in range(n):
            self._new_visit(i, at_door=False)
        self._pair_up()

    def _new_visit(self, i: int, at_door: bool) -> None:
        cfg, rng = self.cfg, self.rng
        self.speed[i] = float(np.clip(rng.normal(cfg.speed_mps, cfg.speed_sd_mps), 0.5, 1.8))
        self.stops_left[i] = 1 + rng.poisson(max(cfg.stops_mean - 1.0, 0.0))
        self.vel[i] = 0.0
        self.dwell[i] = 0.0
        if at_door:
            self.pos[i] = self.hall.door + rng.normal(0, 0.2, 2)
        else:
            self.pos[i] = self._stop()
            self.dwell[i] = rng.exponential(cfg.dwell_s)
        self.path[i] = self._route(self.pos[i], self._stop())

    def _pair_up(self) -> None:
        """Pair ``pairs_fraction`` of the slots with a companion, placed beside them."""
        n = self.cfg.shoppers
        k = int(round(self.cfg.pairs_fraction * n / 2))
        slots = self.rng.permutation(n)[:2 * k].reshape(-1, 2)
        for lead, follow in slots:
            self.leader[follow] = lead
            a = self.rng.uniform(0, 2 * np.pi)
            self.side[follow] = (np.cos(a), np.sin(a))
            self.pos[follow] = self.pos[lead] + self.cfg.companion_m * self.side[follow]

    def _stop(self) -> np.ndarray:
        h, rng = self.hall, self.rng
        k = rng.integers(h.aisles)
        x = h.aisle_x(k) + rng.uniform(-0.55, 0.55)
        return np.array([x, rng.uniform(h.y0 + 0.5, h.y1 - 0.5)])

    def _route(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Waypoints from ``a`` to ``b`` through the aisles (via the nearer cross aisle)."""
        h, rng = self.hall, self.rng
        pitch = AISLE_M + GONDOLA_M
        ka, kb = int(a[0] // pitch), int(b[0] // pitch)
        in_a = h.y0 < a[1] < h.y1
        if ka == kb and in_a and h.y0 < b[1] < h.y1:
            return [b]
        front, back = 0.5 * h.y0, 0.5 * (h.y1 + h.length)
        yc = front if abs(a[1] - front) + abs(b[1] - front) <= (
            abs(a[1] - back) + abs(b[1] - back)) else back
        yc += rng.uniform(-0.6, 0.6)
        lane_a = h.aisle_x(min(ka, h.aisles - 1)) + rng.uniform(-0.5, 0.5) if in_a else a[0]
        lane_b = h.aisle_x(min(kb, h.aisles - 1)) + rng.uniform(-0.5, 0.5)
        return [np.array([lane_a, yc]), np.array([lane_b, yc]), b]

    def _arrive(self, i: int) -> None:
        """Slot ``i`` reached its waypoint: the next one, a dwell, the door, or a new
        shopper."""
        self.path[i].pop(0)
        if self.path[i]:
            return
        if self.stops_left[i] > 0:      # at a shelf stop
            self.stops_left[i] -= 1
            self.dwell[i] = self.rng.exponential(self.cfg.dwell_s)
            nxt = self._stop() if self.stops_left[i] > 0 else self.hall.door
            self.path[i] = self._route(self.pos[i], nxt)
            return
        # out of the door: a companion walks out alone, a new shopper takes the slot
        for f in np.flatnonzero(self.leader == i):
            self.leader[f] = -1
            self.stops_left[f] = 0
            self.path[f] = self._route(self.pos[f], self.hall.door)
        self.id[i] = self.next_id
        self.next_id += 1
        self.leader[i] = -1
        self._new_visit(i, at_door=True)

    def step(self, dt: float) -> None:
        cfg, rng, n = self.cfg, self.rng, self.cfg.shoppers
        target = np.array([p[0] if p else self.pos[i] for i, p in enumerate(self.path)])
        follow = self.leader >= 0
        # companions walk abreast: beside their leader, across the leader's heading
        lv = self.vel[self.leader[follow]]
        sp = np.linalg.norm(lv, axis=1)
        perp = np.column_stack([-lv[:, 1], lv[:, 0]]) / np.maximum(sp, 1e-9)[:, None]
        perp *= np.sign((perp * self.side[follow]).sum(axis=1) + 1e-12)[:, None]
        moving = sp > 0.3
        self.side[follow] = np.where(moving[:, None], perp, self.side[follow])
        target[follow] = self.pos[self.leader[follow]] + cfg.companion_m * self.side[follow]
        d = target - self.pos
        dist = np.linalg.norm(d, axis=1)
        want = self.speed[:, None] * d / np.maximum(dist, 1e-9)[:, None]
        want *= np.minimum(1.0, dist / 0.5)[:, None]     # slow down onto the waypoint
        want[(self.dwell > 0) & ~follow] = 0.0
        a = np.exp(-dt / 1.0)
        self.wander = a * self.wander + np.sqrt(1 - a * a) * cfg.wander_mps * rng.normal(
            size=(n, 2))
        self.vel += (want - self.vel) * min(1.0, dt / cfg.tau_s)
        push = self._push()
        self.pos += (self.vel + self.wander * (self.dwell <= 0)[:, None] + push) * dt
        self._separate()
        x0, y0, x1, y1 = self.hall.bounds
        self.pos = np.clip(self.pos, [x0 + 0.2, y0 + 0.2], [x1 - 0.2, y1 - 0.2])
        self.dwell = np.maximum(self.dwell - dt, 0.0)
        for i in np.flatnonzero((dist < 0.3) & (self.dwell <= 0) & ~follow):
            self._arrive(int(i))
        walking = (self.dwell <= 0) & ~follow & (self.stops_left > 0)
        for i in np.flatnonzero(walking & (rng.random(n) < cfg.reroute_per_s * dt)):
            self.path[i] = self._route(self.pos[i], self._stop())

    def _separate(self) -> None:
        """Bodies are solid: centres closer than ``body_m`` are moved apart to it."""
        r = self.cfg.body_m
        if r <= 0 or self.pos.shape[0] < 2:
            return
        pairs = cKDTree(self.pos).query_pairs(r, output_type="ndarray")
        if pairs.size == 0:
            return
        i, j = pairs[:, 0], pairs[:, 1]
        d = self.pos[i] - self.pos[j]
        dist = np.linalg.norm(d, axis=1)
        d = np.where((dist > 1e-9)[:, None], d, [1.0, 0.0])
        dist = np.maximum(dist, 1e-9)
        f = (0.5 * (r - dist) / dist)[:, None] * d
        np.add.at(self.pos, i, f)
        np.add.at(self.pos, j, -f)

    def _push(self) -> np.ndarray:
        """Soft repulsion of people closer than ``personal_m`` [m/s]."""
        r = self.cfg.personal_m
        out = np.zeros_like(self.pos)
        if r <= 0 or self.pos.shape[0] < 2:
            return out
        pairs = cKDTree(self.pos).query_pairs(r, output_type="ndarray")
        if pairs.size == 0:
            return out
        i, j = pairs[:, 0], pairs[:, 1]
        d = self.pos[i] - self.pos[j]
        dist = np.maximum(np.linalg.norm(d, axis=1), 1e-6)
        f = (1.0 * (r - dist) / r / dist)[:, None] * d
        np.add.at(out, i, f)
        np.add.at(out, j, -f)
        return out


def generate(cfg: PointStreamConfig) -> PointStream:
    """The stream of ``cfg`` (deterministic in ``cfg.seed``)."""
    root = np.random.default_rng(cfg.seed)
    walk_rng, det_rng = root.spawn(2)
    hall = Hall.for_crowd(cfg.shoppers, cfg.floor_per_shopper_m2)
    crowd = _Walkers(cfg, hall, walk_rng)
    dt = 1.0 / cfg.hz
    sub = 4                                    # motion substeps per frame
    frames = int(round(cfg.seconds * cfg.hz))
    det, gt = [], []
    x0, y0, x1, y1 = hall.bounds
    n = cfg.shoppers
    # misses as a two-state chain: leave a run of misses with p_end a frame, enter one
    # with p_start, so that the stationary miss rate is cfg.miss
    p_end = min(1.0, 1.0 / (cfg.miss_run_s * cfg.hz))
    p_start = min(1.0, cfg.miss * p_end / (1.0 - cfg.miss))
    missing = det_rng.random(n) < cfg.miss
    for f in range(frames):
        for _ in range(sub):
            crowd.step(dt / sub)
        gt.append((np.full(n, f), crowd.id.copy(), crowd.pos.copy()))
        u = det_rng.random(n)
        missing = np.where(missing, u >= p_end, u < p_start)
        seen = ~missing
        xy = crowd.pos[seen] + det_rng.normal(0, cfg.noise_m, (int(seen.sum()), 2))
        conf = det_rng.beta(5, 2, xy.shape[0])
        nfp = det_rng.poisson(cfg.fp_per_frame)
        fxy = det_rng.uniform([x0, y0], [x1, y1], (nfp, 2))
        fconf = det_rng.beta(2, 3, nfp)
        xy, conf = np.concatenate([xy, fxy]), np.concatenate([conf, fconf])
        order = np.argsort(xy[:, 0], kind="stable")   # no identity in the order
        det.append((np.full(xy.shape[0], f), xy[order], conf[order]))
    fr = np.concatenate([d[0] for d in det]).astype(np.int64)
    return PointStream(cfg, hall, fr, fr / cfg.hz, np.zeros(fr.size, np.int32),
                       np.concatenate([d[1] for d in det]),
                       np.concatenate([d[2] for d in det]).astype(np.float32),
                       np.concatenate([g[0] for g in gt]).astype(np.int64),
                       np.concatenate([g[1] for g in gt]),
                       np.concatenate([g[2] for g in gt]))


@dataclass(frozen=True)
class OurRun:
    """storetwin's tracker on a stream: rows (frame, track_id, xy) and the loop's seconds
    (tracking and the look-ahead smoothing; the records are built before the loop)."""

    frame: np.ndarray
    track_id: np.ndarray
    xy: np.ndarray
    loop_s: float
    lookahead_s: float


#: the look-ahead the benchmark gives our tracker [s] (track latency; the issue allows 2 s):
#: 0.7-1.0 s scored best on the 100-shopper stream, seed 0 (docs/tracking-generalisation.md)
LOOKAHEAD_S = 0.8
#: births anywhere for the stream's first seconds: the people inside when it starts
COLD_START_S = 3.0


def frames_of(s: PointStream) -> list:
    """The stream as the tracker's :class:`core.records.CameraFrame` records, one a frame."""
    from core.records import CameraFrame

    start = np.searchsorted(s.frame, np.arange(s.frames))
    stop = np.append(start[1:], s.frame.size)
    return [CameraFrame(k, k / s.cfg.hz, s.camera[a:b], s.xy[a:b], s.conf[a:b])
            for k, (a, b) in enumerate(zip(start, stop, strict=True))]


def run_ours(s: PointStream, lookahead_s: float = LOOKAHEAD_S, records: list | None = None,
             tracker: dict | None = None) -> OurRun:
    """storetwin's tracker (the door as entrance and exit, a cold start) on ``s``, then its
    positions smoothed with ``lookahead_s`` of look-ahead (:mod:`core.smoothing`)."""
    import time

    from core.smoothing import smooth_rows
    from core.tracker_config import TrackerConfig
    from core.tracking import Tracker

    recs = frames_of(s) if records is None else records
    door = s.hall.door_rect
    tracker = Tracker.on_floor(door, door, s.cfg.hz,
                               TrackerConfig(cold_start_s=COLD_START_S, **(tracker or {})))
    fr, ids, xy = [], [], []
    t0 = time.perf_counter()
    for rec in recs:
        tr = tracker.update(rec)
        fr.append(np.full(tr.track_id.size, tr.frame))
        ids.append(tr.track_id)
        xy.append(tr.xy)
    fr, ids, xy = np.concatenate(fr), np.concatenate(ids), np.concatenate(xy)
    xy = smooth_rows(fr / s.cfg.hz, ids, xy, lookahead_s)
    return OurRun(fr.astype(np.int64), ids, xy, time.perf_counter() - t0, lookahead_s)


def main(argv: list[str] | None = None) -> int:
    from experiments.scoring.hota import score_hota

    ap = argparse.ArgumentParser(prog="python -m experiments.bench.pointstream",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--shoppers", type=int, nargs="+", default=[20, 100, 500])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lookahead", type=float, default=LOOKAHEAD_S,
                    help="track latency allowed to the smoothing [s] (0: online)")
    a = ap.parse_args(argv)
    out = sys.stdout
    out.write(f"{'shoppers':>8} {'detections':>10} {'HOTA':>6} {'DetA':>6} {'AssA':>6} "
              f"{'LocA':>6} {'det/s':>9}\n")
    for n in a.shoppers:
        s = generate(PointStreamConfig(shoppers=n, seconds=a.seconds, seed=a.seed))
        recs = frames_of(s)
        run_ours(s, a.lookahead, recs)                 # (loads the compiled tracker)
        r = run_ours(s, a.lookahead, recs)
        h = score_hota(s.gt_frame, s.gt_id, s.gt_xy, r.frame, r.track_id, r.xy)
        out.write(f"{n:>8} {s.frame.size:>10} {h.hota:>6.3f} {h.deta:>6.3f} "
                  f"{h.assa:>6.3f} {h.loca:>6.3f} {s.frame.size / r.loop_s:>9.0f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
