"""Time one core tick at supercenter size, on numpy or on cupy.

A *core tick* is what the core does for one camera frame: :meth:`Tracker.update` on the
frame's floor detections from every camera, and :meth:`ShelfEventDetector.update` on one
plate message holding the ``plate_hz / camera_hz`` samples of every plate since the last
frame. The stream is synthesised here (no twin, no physics), sized like DESIGN's
supercenter:

* floor: 180,000 sq ft, a square of ~129 m;
* people: 600 walking at ~1.3 m/s between random waypoints, pausing 0-4 s at each;
* cameras: 3,000 on a ceiling grid; a camera sees the people within a radius chosen so
  that ~3.7 cameras cover a point, and detects each with probability 0.95, so a person is
  seen by ~3.5 cameras and a frame holds ~2,100 detections; foot points carry 0.10-0.15 m
  of noise per axis (a fixed sigma per camera) and a few false positives per frame come
  with low confidence; 15 Hz;
* plates: 50,000 at 60 Hz (the twin's ``Clock.plate_hz`` and ``LoadCellModel``), 2 g white
  noise, 3 g/sqrt(min) drift, 0.5 g quantisation, and about 4 picks or put-backs per tick
  from the second second on (a hand press of 40-300 g for 0.2-0.8 s, then a step of 1-2
  units of 30-2,000 g).

The tracker knows only the floor (:meth:`Tracker.on_floor`) with the entrance set to the
whole floor, so everyone is born where first seen, and an exit nobody reaches; warm-up
ticks run until the people are tracked by confirmed tracks, then the steady state is
timed. On cupy the GPU is synchronised before each timer is read.

Run: ``python -m experiments.bench.time_core [--backend numpy|cupy|auto] [--tracks 600]
[--cameras 3000] [--plates 50000] [--ticks N] [--json FILE]``. This module imports only
numpy, ``core`` and ``params`` (it runs on GPU machines without the twin's dependencies).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from core.backend import ALLOWED, BackendError, get_xp, to_numpy
from core.records import CameraFrame, PlateSamples
from core.shelf import ShelfEvent, ShelfEventConfig, ShelfEventDetector
from core.tracking import Tracker
from params import check, config, num
from params import seed as seed_field

EXIT_BAD_INPUT = 2
SQFT_M2 = 0.09290304  # [m^2 / sq ft]
NEVER = np.array([1e12, 1e12, 1e12, 1e12])  # an exit rectangle nobody reaches
QUIET_START_S = 1.0  # no pick planted before this stream time [s]


@config(frozen=True)
class CoreTickSpec:
    """The synthetic store and stream of one timing run; validated on construction.

    tracks: people walking (each should become one confirmed track) [-], >= 1.
    cameras: ceiling cameras [-], >= 1. plates: shelf plates [-], >= 1.
    floor_sqft: floor area of a square floor [sq ft], > 0.
    camera_hz, plate_hz: rates [Hz]; camera_hz must divide plate_hz.
    walk_mps: mean walking speed [m/s], > 0. pause_s: longest pause at a waypoint [s], >= 0.
    coverage: mean number of cameras whose view radius covers a floor point [-], > 0.
    detect_prob: chance a covering camera detects a person [-], in (0, 1].
    foot_sigma_m: (low, high) range of the cameras' foot-point noise, std per axis [m].
    false_per_frame: mean false-positive detections per frame [-], >= 0.
    plate_noise_g: white noise of one plate sample [g], > 0.
    drift_g_per_sqrt_min: random-walk drift of a plate [g/sqrt(min)], >= 0.
    picks_per_tick: mean picks and put-backs started per tick over all plates [-], >= 0.
    seed: root of the run's random streams (``SeedSequence(seed).spawn``).
    """

    tracks: int = num(600, ge=1, integer=True)
    cameras: int = num(3000, ge=1, integer=True)
    plates: int = num(50_000, ge=1, integer=True)
    floor_sqft: float = num(180_000.0, gt=0, unit="sq ft")
    camera_hz: float = num(15.0, gt=0, unit="Hz")
    plate_hz: float = num(60.0, gt=0, unit="Hz")
    walk_mps: float = num(1.3, gt=0, unit="m/s")
    pause_s: float = num(4.0, ge=0, unit="s")
    coverage: float = num(3.7, gt=0)
    detect_prob: float = num(0.95, gt=0, le=1)
    foot_sigma_m: tuple[float, float] = (0.10, 0.15)
    false_per_frame: float = num(3.0, ge=0)
    plate_noise_g: float = num(2.0, gt=0, unit="g")
    drift_g_per_sqrt_min: float = num(3.0, ge=0, unit="g/sqrt(min)")
    picks_per_tick: float = num(4.0, ge=0)
    seed: int = seed_field()

    def __post_init__(self) -> None:
        lo, hi = self.foot_sigma_m
        check(self, "foot_sigma_m", 0.0 < lo <= hi, "(low, high) with 0 < low <= high [m]")
        r = self.plate_hz / self.camera_hz
        check(self, "camera_hz", abs(r - round(r)) <= 1e-9,
              f"a rate that divides plate_hz={self.plate_hz:g}")

    @property
    def side_m(self) -> float:
        """Side of the square floor [m]."""
        return math.sqrt(self.floor_sqft * SQFT_M2)

    @property
    def samples_per_tick(self) -> int:
        """Plate samples per plate in one tick's message [-]."""
        return int(round(self.plate_hz / self.camera_hz))


@dataclass(frozen=True)
class Pick:
    """A planted plate change: ``delta_g`` [g] on ``plate``, settled from ``t_end`` [s]."""

    plate: int
    t_start: float
    t_end: float
    delta_g: float


def _camera_grid(n: int, side: float) -> tuple[int, int]:
    """Grid columns x rows holding exactly ``n`` cameras on a square floor when a factor
    pair of ``n`` has cells at most 1.5 times longer than wide; else the nearest square
    grid with at least ``n`` cells (then it holds more cameras than asked)."""
    best = None
    for a in range(1, int(math.isqrt(n)) + 1):
        if n % a == 0:
            best = (n // a, a)
    if best is not None and best[0] / best[1] <= 1.5:
        return best
    nx = max(1, round(math.sqrt(n)))
    return nx, -(-n // nx)


class SupercenterStream:
    """Synthetic sensor stream of a store: one :class:`CameraFrame` and one
    :class:`PlateSamples` per tick, with the truth beside it (people positions, picks).

    All randomness comes from ``spec.seed``; same spec, same bytes.
    """

    def __init__(self, spec: CoreTickSpec) -> None:
        self.spec = spec
        rng_walk, rng_cam, rng_plate = (
            np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3)
        )
        self._rw, self._rc, self._rp = rng_walk, rng_cam, rng_plate
        side = spec.side_m
        self.floor = np.array([0.0, 0.0, side, side])
        # people
        n = spec.tracks
        self.xy = rng_walk.uniform(0.5, side - 0.5, (n, 2))
        self._goal = rng_walk.uniform(0.5, side - 0.5, (n, 2))
        self._speed = np.clip(rng_walk.normal(spec.walk_mps, 0.15, n), 0.6, 2.0)
        self._pause_until = rng_walk.uniform(0.0, spec.pause_s, n)
        # cameras: centres of a grid's cells; radius from the asked coverage
        nx, ny = _camera_grid(spec.cameras, side)
        self._nx, self._ny = nx, ny
        self._cell = np.array([side / nx, side / ny])
        self.n_cameras = nx * ny
        self.view_radius_m = math.sqrt(spec.coverage * side * side / (math.pi * self.n_cameras))
        self._reach = int(math.ceil(self.view_radius_m / float(self._cell.min()))) + 1
        lo, hi = spec.foot_sigma_m
        self._cam_sigma = rng_cam.uniform(lo, hi, self.n_cameras)
        # plates
        p = spec.plates
        self.plate_ids = np.arange(p, dtype=np.int32)
        self._level = rng_plate.uniform(500.0, 15_000.0, p)
        self._drift = np.zeros(p)
        self._busy_until = np.full(p, -np.inf)  # no new pick on a plate before this [s]
        self._picks: list[tuple[int, float, float, float, float]] = []  # open: plate,t0,t1,amp,step
        self.picks: list[Pick] = []  # every planted change, in order
        self.frame = 0
        self.t = 0.0

    # ------------------------------------------------------------------ camera side

    def _walk(self, dt: float) -> None:
        spec = self.spec
        side = spec.side_m
        moving = self.t >= self._pause_until
        d = self._goal - self.xy
        dist = np.linalg.norm(d, axis=1)
        step = np.where(moving, self._speed * dt, 0.0)
        arrive = moving & (dist <= step)
        frac = np.where(dist > 0, np.minimum(step / np.maximum(dist, 1e-12), 1.0), 0.0)
        self.xy = self.xy + d * frac[:, None]
        k = int(arrive.sum())
        if k:
            self._goal[arrive] = self._rw.uniform(0.5, side - 0.5, (k, 2))
            self._pause_until[arrive] = self.t + self._rw.uniform(0.0, spec.pause_s, k)

    def _detections(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """camera (n,) int32, xy (n, 2) float64 [m], conf (n,) float32 of one frame."""
        spec, rng = self.spec, self._rc
        cell = self._cell
        ij = np.floor(self.xy / cell).astype(np.int64)
        off = np.arange(-self._reach, self._reach + 1)
        oi, oj = np.meshgrid(off, off, indexing="ij")
        ci = ij[:, 0, None] + oi.ravel()[None, :]  # (n, m) candidate camera columns
        cj = ij[:, 1, None] + oj.ravel()[None, :]
        inside = (ci >= 0) & (ci < self._nx) & (cj >= 0) & (cj < self._ny)
        centre = np.stack([(ci + 0.5) * cell[0], (cj + 0.5) * cell[1]], axis=2)
        near = np.linalg.norm(centre - self.xy[:, None, :], axis=2) <= self.view_radius_m
        seen = inside & near & (rng.random(inside.shape) < spec.detect_prob)
        person, slot = np.nonzero(seen)
        cam = (ci[person, slot] * self._ny + cj[person, slot]).astype(np.int32)
        xy = self.xy[person] + rng.normal(0.0, 1.0, (person.size, 2)) * self._cam_sigma[cam, None]
        conf = rng.uniform(0.6, 0.99, person.size)
        nf = int(rng.poisson(spec.false_per_frame))
        if nf:
            fcam = rng.integers(0, self.n_cameras, nf)
            ang = rng.uniform(0.0, 2.0 * math.pi, nf)
            rad = self.view_radius_m * np.sqrt(rng.random(nf))
            fxy = np.stack([(fcam // self._ny + 0.5) * cell[0] + rad * np.cos(ang),
                            (fcam % self._ny + 0.5) * cell[1] + rad * np.sin(ang)], axis=1)
            cam = np.concatenate([cam, fcam.astype(np.int32)])
            xy = np.concatenate([xy, fxy])
            conf = np.concatenate([conf, rng.uniform(0.3, 0.7, nf)])
        order = np.argsort(cam, kind="stable")  # each camera's detections together
        return cam[order], xy[order], conf[order].astype(np.float32)

    # ------------------------------------------------------------------ plate side

    def _plant_picks(self) -> None:
        spec, rng = self.spec, self._rp
        n = int(rng.poisson(spec.picks_per_tick))
        if self.t < QUIET_START_S:
            return  # the detector takes its first message as settled
        for plate in rng.integers(0, spec.plates, n):
            plate = int(plate)
            if self.t < self._busy_until[plate]:
                continue  # one change at a time per plate, so each is its own event
            hand = float(rng.uniform(0.2, 0.8))
            units = int(rng.choice([-1, 1, 1, 2]))  # -1: a put-back
            unit_g = min(2000.0, max(31.0, self._level[plate] / 3.0))  # never below zero
            step = -units * float(rng.uniform(30.0, unit_g))
            t0 = self.t + float(rng.uniform(0.0, 1.0 / spec.camera_hz))
            self._picks.append((plate, t0, t0 + hand, float(rng.uniform(40.0, 300.0)), step))
            self.picks.append(Pick(plate, t0, t0 + hand, step))
            self._busy_until[plate] = t0 + hand + 3.0

    def _plate_message(self, ts: np.ndarray) -> PlateSamples:
        spec, rng = self.spec, self._rp
        p, k = spec.plates, ts.size
        sd = spec.drift_g_per_sqrt_min / math.sqrt(60.0 * spec.plate_hz) * math.sqrt(k)
        inc = rng.normal(0.0, sd, p)
        ramp = (np.arange(1, k + 1) / k)[None, :]
        g = (self._level + self._drift)[:, None] + inc[:, None] * ramp
        g += rng.normal(0.0, spec.plate_noise_g, (p, k))
        self._drift += inc
        still = []
        for plate, t0, t1, amp, step in self._picks:
            shape = np.sin(np.pi * (ts - t0) / (t1 - t0)) ** 2
            press = np.where((ts >= t0) & (ts < t1), amp * shape, 0.0)
            g[plate] += press + np.where(ts >= t1, step, 0.0)
            if ts[-1] >= t1:
                self._level[plate] += step
            else:
                still.append((plate, t0, t1, amp, step))
        self._picks = still
        g = np.round(g / 0.5) * 0.5
        return PlateSamples(ts, self.plate_ids, g.astype(np.float32))

    # ------------------------------------------------------------------ both

    def next_tick(self) -> tuple[CameraFrame, PlateSamples]:
        """Advance one camera period; the frame at the new time and the plate samples
        since the last tick (the last sample at the frame's time)."""
        spec = self.spec
        dt = 1.0 / spec.camera_hz
        k = spec.samples_per_tick
        ts = self.t + (np.arange(1, k + 1) / spec.plate_hz)
        self._plant_picks()
        msg = self._plate_message(ts)
        self.t = float(ts[-1])
        self.frame += 1
        self._walk(dt)
        cam, xy, conf = self._detections()
        return CameraFrame(self.frame, self.t, cam, xy, conf), msg


def tracked_fraction(people_xy: np.ndarray, track_xy: np.ndarray, radius_m: float = 0.5) -> float:
    """Share of people with a confirmed track of their own: the track nearest to them,
    within ``radius_m`` [m], and they the person nearest to it (mutual nearest).

    people_xy: (n, 2) float64 [m]; track_xy: (m, 2) float64 [m].
    """
    n, m = people_xy.shape[0], track_xy.shape[0]
    if n == 0 or m == 0:
        return 0.0 if n else 1.0
    d = np.linalg.norm(people_xy[:, None, :] - track_xy[None, :, :], axis=2)
    j = np.argmin(d, axis=1)
    mutual = np.argmin(d, axis=0)[j] == np.arange(n)
    return float(np.mean(mutual & (d[np.arange(n), j] <= radius_m)))


def _with_xp(fn, xp: ModuleType, *args, **kwargs):
    """Call ``fn`` with ``xp=xp`` when its signature takes it (Tracker gains it later)."""
    if "xp" in inspect.signature(fn).parameters:
        kwargs["xp"] = xp
    return fn(*args, **kwargs)


def _sync(xp: ModuleType) -> None:
    """Wait for the GPU's queued work (no-op on numpy), so timers read finished work."""
    if xp is not np:
        xp.cuda.runtime.deviceSynchronize()


def device_name(xp: ModuleType) -> str:
    """The GPU's name on cupy; the CPU model and core count on numpy."""
    if xp is not np:
        name = xp.cuda.runtime.getDeviceProperties(0)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    model = "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model} ({cores} cores)"


@dataclass(frozen=True)
class PickCheck:
    """Planted picks against detected events: ``due`` picks settled long enough ago to
    have closed, ``found`` of them matched by an event (same plate, delta within
    ``4 sigma + 1 g``), ``false_events`` on plates with no planted change."""

    planted: int
    due: int
    found: int
    false_events: int


class CoreTick:
    """The core of one tick, Tracker then ShelfEventDetector, fed by a
    :class:`SupercenterStream`; keeps the per-tick timings and the events."""

    def __init__(self, spec: CoreTickSpec, xp: ModuleType) -> None:
        self.spec = spec
        self.xp = xp
        self.stream = SupercenterStream(spec)
        floor = self.stream.floor
        self.tracker = _with_xp(Tracker.on_floor, xp, floor, NEVER, spec.camera_hz)
        self.detector = ShelfEventDetector(
            self.stream.plate_ids, spec.plate_hz, spec.plate_noise_g,
            ShelfEventConfig(drift_g_per_sqrt_min=spec.drift_g_per_sqrt_min), xp=xp,
        )
        self.events: list[ShelfEvent] = []
        self.tracks = None
        self.detections: list[int] = []  # per tick
        self.tracker_s: list[float] = []  # per tick
        self.shelf_s: list[float] = []

    def prepare(self) -> tuple[CameraFrame, PlateSamples]:
        """The next tick's records (not timed)."""
        return self.stream.next_tick()

    def run(self, frame: CameraFrame, msg: PlateSamples) -> tuple[float, float]:
        """One core tick on the given records; returns (tracker, shelf) seconds."""
        xp = self.xp
        _sync(xp)
        t0 = time.perf_counter()
        self.tracks = self.tracker.update(frame)
        _sync(xp)
        t1 = time.perf_counter()
        self.events += self.detector.update(msg)
        _sync(xp)
        t2 = time.perf_counter()
        self.detections.append(len(frame))
        self.tracker_s.append(t1 - t0)
        self.shelf_s.append(t2 - t1)
        return t1 - t0, t2 - t1

    def step(self) -> tuple[float, float]:
        return self.run(*self.prepare())

    def confirmed(self) -> int:
        return 0 if self.tracks is None else int(self.tracks.track_id.shape[0])

    def coverage(self) -> float:
        """Share of the people tracked by a confirmed track of their own now."""
        if self.tracks is None:
            return 0.0
        return tracked_fraction(self.stream.xy, to_numpy(self.tracks.xy))

    def warm_up(self, min_ticks: int = 30, max_ticks: int = 90, target: float = 0.95) -> int:
        """Run ticks until at least ``min_ticks`` ran and ``target`` of the people are
        tracked (or ``max_ticks``); forget their timings. Returns the ticks run."""
        n = 0
        while n < min_ticks or (n < max_ticks and self.coverage() < target):
            self.step()
            n += 1
        self.detections.clear()
        self.tracker_s.clear()
        self.shelf_s.clear()
        return n

    def pick_check(self) -> PickCheck:
        # an event closes ~window_s + settle_s (1 s) after its last transient
        cfg = self.detector.config
        horizon = self.stream.t - (cfg.window_s + cfg.settle_s + 0.5)
        by_plate: dict[int, list[ShelfEvent]] = {}
        for e in self.events:
            by_plate.setdefault(e.plate, []).append(e)
        picked = {p.plate for p in self.stream.picks}
        due = [p for p in self.stream.picks if p.t_end <= horizon]
        found = sum(
            any(abs(e.delta_g - p.delta_g) <= 4.0 * e.sigma_g + 1.0
                for e in by_plate.get(p.plate, ()))
            for p in due
        )
        false = sum(len(v) for k, v in by_plate.items() if k not in picked)
        return PickCheck(len(self.stream.picks), len(due), found, false)


def summary(core: CoreTick) -> dict:
    """Figures of the timed ticks of ``core`` (after :meth:`CoreTick.warm_up`)."""
    spec = core.spec
    tr = np.asarray(core.tracker_s)
    sh = np.asarray(core.shelf_s)
    tick = tr + sh
    dets = float(np.mean(core.detections)) if core.detections else 0.0
    samples = spec.plates * spec.samples_per_tick
    med = float(np.median(tick))
    check = core.pick_check()
    return {
        "backend": core.xp.__name__,
        "device": device_name(core.xp),
        "people": spec.tracks,
        "cameras": core.stream.n_cameras,
        "plates": spec.plates,
        "camera_hz": spec.camera_hz,
        "plate_hz": spec.plate_hz,
        "plate_samples_per_tick": samples,
        "ticks_timed": int(tick.size),
        "detections_per_frame": round(dets, 1),
        "tick_ms_median": round(1e3 * med, 3),
        "tick_ms_p90": round(1e3 * float(np.percentile(tick, 90)), 3),
        "tracker_ms_median": round(1e3 * float(np.median(tr)), 3),
        "tracker_ms_p90": round(1e3 * float(np.percentile(tr, 90)), 3),
        "shelf_ms_median": round(1e3 * float(np.median(sh)), 3),
        "shelf_ms_p90": round(1e3 * float(np.percentile(sh, 90)), 3),
        "detections_per_s": round(dets / float(np.median(tr))),
        "plate_samples_per_s": round(samples / float(np.median(sh))),
        "real_time_factor": round(1.0 / spec.camera_hz / med, 2),
        "confirmed_tracks": core.confirmed(),
        "people_tracked": round(core.coverage(), 4),
        "shelf_events": len(core.events),
        "picks_planted": check.planted,
        "picks_due": check.due,
        "picks_found": check.found,
        "false_shelf_events": check.false_events,
        "spec": {k: v for k, v in asdict(spec).items() if k not in ("tracks", "cameras", "plates")},
    }


def time_core(spec: CoreTickSpec, xp: ModuleType, ticks: int = 60, warmup: int = 30) -> dict:
    """Build, warm up (at least ``warmup`` ticks, until 95 % of the people are tracked),
    time ``ticks`` core ticks and return :func:`summary`'s figures."""
    core = CoreTick(spec, xp)
    n_warm = core.warm_up(min_ticks=warmup)
    for _ in range(ticks):
        core.step()
    out = summary(core)
    out["warmup_ticks"] = n_warm
    return out


# ---------------------------------------------------------------------- command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"time_core: error: {message}\n")


def _count(lo: int):
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}, got {s!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}, got {s!r}")
        return v

    return parse


def _parser() -> _Parser:
    p = _Parser(
        prog="python -m experiments.bench.time_core",
        description="Time one core tick (tracker + shelf detector) on a synthetic "
        "supercenter stream. Example: python -m experiments.bench.time_core --backend cupy "
        "--json core_tick.json",
    )
    p.add_argument("--backend", default="auto", metavar="NAME",
                   help="numpy, cupy or auto (cupy where a GPU works; default auto)")
    p.add_argument("--tracks", type=_count(1), default=600, help="people walking (600)")
    p.add_argument("--cameras", type=_count(1), default=3000, help="ceiling cameras (3000)")
    p.add_argument("--plates", type=_count(1), default=50_000, help="shelf plates (50000)")
    p.add_argument("--ticks", type=_count(1), default=60, help="timed ticks (60)")
    p.add_argument("--warmup", type=_count(0), default=30,
                   help="least warm-up ticks before timing (30)")
    p.add_argument("--seed", type=_count(0), default=0, help="random seed (0)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="also write the figures to FILE as JSON")
    return p


def _report(r: dict) -> str:
    lines = [
        f"core tick on {r['backend']} ({r['device']})",
        f"  {r['people']} people, {r['cameras']} cameras, {r['plates']} plates; "
        f"{r['detections_per_frame']:.0f} detections/frame, "
        f"{r['plate_samples_per_tick']} plate samples/tick",
        f"  tick    {r['tick_ms_median']:9.2f} ms median {r['tick_ms_p90']:9.2f} ms p90 "
        f"({r['ticks_timed']} ticks after {r['warmup_ticks']} warm-up)",
        f"  tracker {r['tracker_ms_median']:9.2f} ms median {r['tracker_ms_p90']:9.2f} ms p90",
        f"  shelf   {r['shelf_ms_median']:9.2f} ms median {r['shelf_ms_p90']:9.2f} ms p90",
        f"  {r['detections_per_s']:,} detections/s, {r['plate_samples_per_s']:,} plate samples/s, "
        f"real-time factor {r['real_time_factor']} at {r['camera_hz']:g} Hz",
        f"  {r['confirmed_tracks']} confirmed tracks, {100 * r['people_tracked']:.1f} % of people "
        f"tracked; {r['picks_found']}/{r['picks_due']} settled picks found, "
        f"{r['false_shelf_events']} false shelf events",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line (module doc); returns the exit status (2 on bad input)."""
    parser = _parser()
    a = parser.parse_args(argv)
    backend = str(a.backend).lower()
    if backend not in ALLOWED:
        parser.error(f"--backend must be one of {', '.join(ALLOWED)}, got {a.backend!r}")
    try:
        xp = get_xp(backend)
        spec = CoreTickSpec(tracks=a.tracks, cameras=a.cameras, plates=a.plates, seed=a.seed)
    except (BackendError, ValueError) as e:
        parser.error(str(e))
    result = time_core(spec, xp, ticks=a.ticks, warmup=a.warmup)
    sys.stdout.write(_report(result))
    if a.json is not None:
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
