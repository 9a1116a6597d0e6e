"""Faults during a run: sensors that fail mid-day, late and dropped messages, skewed clocks
and a billing computer that restarts (docs/faults.md).

A :class:`FaultSchedule` is what a planner writes (``storetwin run --faults FILE.toml``, a
scenario's ``[faults]`` table, a study's ``faults`` axis). :meth:`FaultSchedule.resolve`
turns fractions into sensor ids, seeded like everything else, and gives a
:class:`FaultInjector`: it changes the sensor records between the sensors and the core (what
a broken camera or load cell, a lossy network and a wrong clock do to them) and records what
failed when (:meth:`FaultInjector.truth`, the run's ``ground_truth/faults.parquet``). The
core never sees the schedule.

Content faults (outages, plate faults, dropped frames, clock skew) change the records, and
the run's ``streams/`` hold the changed records; delivery faults (``late_s``) change only
when each record reaches the core: :class:`Delivery` re-applies them on replay from the
same schedule and seed, so a replay sees what the live core saw, in the order it saw it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from core.records import CameraFrame, GateCheckIns, PlateSamples, SensorBatch

CAMERA_KINDS = ("dead", "frozen")
PLATE_KINDS = ("dead", "stuck", "drift", "noisy", "nan", "unloaded")
# an unloaded plate's reading: its last load, with the load cell's white noise and 0.5 g
# steps (twin.sensors.LoadCellModel: 2 g, 0.5 g), so it looks alive and never changes [g]
UNLOADED_NOISE_G = 2.0
MAX_LATE_S = 60.0          # a message later than a minute is lost, not late
MAX_SKEW_S = 60.0


class FaultFileError(ValueError):
    """A fault schedule outside what it allows (the message names the file and field)."""


@dataclass(frozen=True)
class SensorFault:
    """One fault of cameras or plates: ``kind`` on ``ids`` (or a ``fraction`` of them, drawn
    from the run's seed) from ``start_s`` to ``end_s`` (None: to the end of the run).
    ``g_per_s``: a drifting plate's drift [g/s]; ``sigma_g``: a noisy plate's extra white
    noise [g]."""

    kind: str = "dead"
    ids: tuple[int, ...] | None = None
    fraction: float | None = None
    start_s: float = 0.0
    end_s: float | None = None
    g_per_s: float = 0.0
    sigma_g: float = 0.0

    def active(self, t: float) -> bool:
        return self.start_s <= t and (self.end_s is None or t < self.end_s)


@dataclass(frozen=True)
class StreamFaults:
    late_s: float = 0.0        # each message reaches the core U(0, late_s) late [s]
    drop_frames: float = 0.0   # share of each camera's frames lost [-]


@dataclass(frozen=True)
class ClockFaults:
    cameras_s: float = 0.0     # added to every camera frame's timestamp [s]
    plates_s: float = 0.0      # added to every plate message's timestamps [s]
    gate_s: float = 0.0        # added to every check-in's timestamp [s]


@dataclass(frozen=True)
class CoreFaults:
    crash_at_s: float | None = None   # the core process dies here [s] and restarts
    checkpoint_s: float = 30.0        # the core's state is saved this often [s]


@dataclass(frozen=True)
class FaultSchedule:
    """A run's faults (docs/faults.md); the fields are the TOML document's tables."""

    cameras: tuple[SensorFault, ...] = ()
    plates: tuple[SensorFault, ...] = ()
    streams: StreamFaults = field(default_factory=StreamFaults)
    clock: ClockFaults = field(default_factory=ClockFaults)
    core: CoreFaults = field(default_factory=CoreFaults)

    def to_dict(self) -> dict:
        """The schedule as a TOML/JSON document (:func:`faults_from_dict` reads it back)."""
        def fault(f: SensorFault, plate: bool) -> dict:
            d = {k: v for k, v in asdict(f).items() if v is not None}
            d["ids"] = list(f.ids) if f.ids is not None else None
            if d["ids"] is None:
                del d["ids"]
            if not plate or f.kind != "drift":
                d.pop("g_per_s")
            if not plate or f.kind != "noisy":
                d.pop("sigma_g")
            return d
        out = {"cameras": [fault(f, False) for f in self.cameras],
               "plates": [fault(f, True) for f in self.plates],
               "streams": asdict(self.streams), "clock": asdict(self.clock),
               "core": {k: v for k, v in asdict(self.core).items() if v is not None}}
        return out

    @property
    def empty(self) -> bool:
        return self == FaultSchedule()

    def resolve(self, n_cameras: int, n_plates: int, seed: int) -> FaultInjector:
        """The injector for a twin with ``n_cameras`` cameras and ``n_plates`` plates
        (fractions drawn from ``seed``); ids beyond them raise :class:`FaultFileError`."""
        return FaultInjector(self, n_cameras, n_plates, seed)


# -- reading ------------------------------------------------------------------------------

def _num(where: str, v, lo: float | None, hi: float | None, *, integer: bool = False,
         lo_open: bool = False, unit: str = "") -> float:
    ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
          and (not integer or float(v).is_integer()))
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        kind = "an integer" if integer else "a number"
        rng = (f" in {'(' if lo_open else '['}{lo:g}, {hi:g}]" if lo is not None and hi is not None
               else f" >{'' if lo_open else '='} {lo:g}" if lo is not None else "")
        raise FaultFileError(f"{where} must be {kind}{rng}{f' [{unit}]' if unit else ''}, "
                             f"got {v!r}")
    return int(v) if integer else float(v)


def _table(where: str, v, keys: tuple[str, ...]) -> dict:
    if not isinstance(v, dict):
        raise FaultFileError(f"{where} must be a table, got {type(v).__name__}")
    extra = sorted(set(v) - set(keys))
    if extra:
        raise FaultFileError(f"{where}: unknown key {extra[0]!r}; allowed: {', '.join(keys)}")
    return v


def _fault(where: str, d, kinds: tuple[str, ...], plate: bool) -> SensorFault:
    keys = ("kind", "ids", "fraction", "start_s", "end_s") + (("g_per_s", "sigma_g")
                                                               if plate else ())
    d = _table(where, d, keys)
    kind = d.get("kind", "dead")
    if kind not in kinds:
        raise FaultFileError(f"{where}.kind must be one of {', '.join(map(repr, kinds))}, "
                             f"got {kind!r}")
    if ("ids" in d) == ("fraction" in d):
        raise FaultFileError(f"{where}: give exactly one of 'ids' (a list of ids) or "
                             "'fraction' (a share in [0, 1])")
    ids = frac = None
    if "ids" in d:
        if not isinstance(d["ids"], list):
            raise FaultFileError(f"{where}.ids must be a list of ids >= 0, got {d['ids']!r}")
        ids = tuple(_num(f"{where}.ids[{i}]", v, 0, None, integer=True)
                    for i, v in enumerate(d["ids"]))
    else:
        frac = _num(f"{where}.fraction", d["fraction"], 0, 1)
    start = _num(f"{where}.start_s", d.get("start_s", 0.0), 0, 7 * 86400, unit="s")
    end = None
    if d.get("end_s") is not None:
        end = _num(f"{where}.end_s", d["end_s"], start, 7 * 86400, lo_open=True, unit="s")
    g = sig = 0.0
    if plate:
        if kind == "drift":
            g = _num(f"{where}.g_per_s", d.get("g_per_s", 1.0), -1000, 1000, unit="g/s")
        elif "g_per_s" in d:
            raise FaultFileError(f"{where}.g_per_s: only for kind = \"drift\"")
        if kind == "noisy":
            sig = _num(f"{where}.sigma_g", d.get("sigma_g", 20.0), 0, 10000, lo_open=True,
                       unit="g")
        elif "sigma_g" in d:
            raise FaultFileError(f"{where}.sigma_g: only for kind = \"noisy\"")
    return SensorFault(kind, ids, frac, start, end, g, sig)


def faults_from_dict(doc, where: str = "faults") -> FaultSchedule:
    """A :class:`FaultSchedule` from a TOML/JSON document; ``where`` names it in errors
    (a file, or a scenario's ``[faults]`` table)."""
    doc = _table(where, doc, ("cameras", "plates", "streams", "clock", "core"))
    lists = {}
    for name, kinds in (("cameras", CAMERA_KINDS), ("plates", PLATE_KINDS)):
        v = doc.get(name, [])
        if not isinstance(v, list):
            raise FaultFileError(f"{where}: {name} must be an array of tables "
                                 f"([[{name}]]), got {type(v).__name__}")
        lists[name] = tuple(_fault(f"{where}: [[{name}]][{i}]", d, kinds, name == "plates")
                            for i, d in enumerate(v))
    s = _table(f"{where}: [streams]", doc.get("streams", {}), ("late_s", "drop_frames"))
    streams = StreamFaults(
        _num(f"{where}: [streams].late_s", s.get("late_s", 0.0), 0, MAX_LATE_S, unit="s"),
        _num(f"{where}: [streams].drop_frames", s.get("drop_frames", 0.0), 0, 1))
    c = _table(f"{where}: [clock]", doc.get("clock", {}), ("cameras_s", "plates_s", "gate_s"))
    clock = ClockFaults(*(_num(f"{where}: [clock].{k}", c.get(k, 0.0), -MAX_SKEW_S,
                               MAX_SKEW_S, unit="s")
                          for k in ("cameras_s", "plates_s", "gate_s")))
    k = _table(f"{where}: [core]", doc.get("core", {}), ("crash_at_s", "checkpoint_s"))
    crash = (None if k.get("crash_at_s") is None else
             _num(f"{where}: [core].crash_at_s", k["crash_at_s"], 0, 7 * 86400, lo_open=True,
                  unit="s"))
    core = CoreFaults(crash, _num(f"{where}: [core].checkpoint_s", k.get("checkpoint_s", 30.0),
                                  1, 3600, unit="s"))
    return FaultSchedule(lists["cameras"], lists["plates"], streams, clock, core)


def load_faults(path: str | Path) -> FaultSchedule:
    """Read a fault schedule file (TOML); errors name the file."""
    import tomllib

    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise FaultFileError(f"{p}: no such fault file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FaultFileError(f"{p}: not readable ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise FaultFileError(f"{p}: not valid TOML ({e})") from None
    return faults_from_dict(doc, str(p))


# -- injecting ----------------------------------------------------------------------------

def _pick(fault: SensorFault, n: int, seed: int, stream: tuple[int, ...], what: str,
          where: str) -> np.ndarray:
    if fault.ids is not None:
        ids = np.asarray(fault.ids, np.int64)
        bad = ids[ids >= n]
        if bad.size:
            raise FaultFileError(f"{where}.ids: {what} {int(bad[0])} does not exist (this "
                                 f"store has {what}s 0-{n - 1})")
        return np.unique(ids)
    k = int(round(fault.fraction * n))
    rng = np.random.default_rng(np.random.SeedSequence((seed,) + stream))
    return np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, np.int64)


class FaultInjector:
    """Applies a :class:`FaultSchedule` to a twin's sensor records (:meth:`apply`, per
    tick) and keeps what failed when (:meth:`truth`)."""

    def __init__(self, schedule: FaultSchedule, n_cameras: int, n_plates: int,
                 seed: int) -> None:
        self.schedule = schedule
        self.cam_sets = [_pick(f, n_cameras, seed, (0xFA, 1, i), "camera",
                               f"[[cameras]][{i}]") for i, f in enumerate(schedule.cameras)]
        self.plate_sets = [_pick(f, n_plates, seed, (0xFA, 2, i), "plate",
                                 f"[[plates]][{i}]") for i, f in enumerate(schedule.plates)]
        self._rng = np.random.default_rng(np.random.SeedSequence((seed, 0xFA, 3)))
        self._last_plate: np.ndarray | None = None   # each plate's last true reading [g]
        self._stuck: dict[int, np.ndarray] = {}      # fault -> its plates' stuck values
        self._frozen: dict[int, CameraFrame] = {}    # fault -> the frozen cameras' last rows
        self._prev_frame: CameraFrame | None = None
        self.dropped = 0                              # camera frames lost (per camera)

    # cameras
    def _frame(self, f: CameraFrame) -> CameraFrame:
        s = self.schedule
        t = float(f.t)
        keep_det = np.ones(len(f), bool)
        keep_hand = np.ones(f.hand_camera.shape[0], bool)
        add: list[CameraFrame] = []
        for i, fault in enumerate(s.cameras):
            ids = self.cam_sets[i]
            if not ids.size or not fault.active(t):
                self._frozen.pop(i, None)
                continue
            keep_det &= ~np.isin(f.camera, ids)
            keep_hand &= ~np.isin(f.hand_camera, ids)
            if fault.kind == "frozen":   # what these cameras showed last, over and over
                if i not in self._frozen:
                    prev = self._prev_frame
                    self._frozen[i] = (prev.select(np.isin(prev.camera, ids),
                                                   np.zeros(prev.hand_camera.shape[0], bool))
                                       if prev is not None else None)
                if self._frozen[i] is not None:
                    add.append(self._frozen[i])
        if s.streams.drop_frames > 0:
            cams = np.unique(f.camera)
            lost = cams[self._rng.random(cams.size) < s.streams.drop_frames]
            self.dropped += int(lost.size)
            keep_det &= ~np.isin(f.camera, lost)
            keep_hand &= ~np.isin(f.hand_camera, lost)
        self._prev_frame = f
        out = f if keep_det.all() and keep_hand.all() else f.select(keep_det, keep_hand)
        for a in add:
            out = _concat(out, a)
        if s.clock.cameras_s:
            out = replace(out, t=out.t + s.clock.cameras_s)
        return out

    # plates
    def _plates(self, m: PlateSamples) -> PlateSamples:
        s = self.schedule
        g = np.array(m.grams, dtype=np.float64)
        plate = m.plate
        t = m.t
        keep = np.ones(plate.shape[0], bool)
        last_true = g[:, -1].copy()
        for i, fault in enumerate(s.plates):
            ids = self.plate_sets[i]
            if not ids.size:
                continue
            on = (t >= fault.start_s) & ((t < fault.end_s) if fault.end_s is not None else True)
            if not on.any():
                self._stuck.pop(i, None)
                continue
            rows = np.flatnonzero(np.isin(plate, ids))
            cols = np.flatnonzero(on)
            sub = np.ix_(rows, cols)
            if fault.kind == "dead":
                keep[rows] = False
            elif fault.kind in ("stuck", "unloaded"):
                if i not in self._stuck:
                    first = cols[0]
                    before = (g[rows, first - 1] if first > 0 else
                              self._last_plate[rows] if self._last_plate is not None
                              else g[rows, first])
                    self._stuck[i] = before.copy()
                g[sub] = self._stuck[i][:, None]
                if fault.kind == "unloaded":   # alive, but nothing on it moves it
                    g[sub] = np.round((g[sub] + self._rng.normal(0.0, UNLOADED_NOISE_G,
                                                                 g[sub].shape)) * 2) / 2
            elif fault.kind == "drift":
                g[sub] += fault.g_per_s * (t[cols] - fault.start_s)[None, :]
            elif fault.kind == "noisy":
                g[sub] += self._rng.normal(0.0, fault.sigma_g, (rows.size, cols.size))
            elif fault.kind == "nan":
                g[sub] = np.nan
        self._last_plate = last_true
        tt = t + s.clock.plates_s if s.clock.plates_s else t
        if keep.all():
            return PlateSamples(tt, plate, g.astype(np.float32))
        return PlateSamples(tt, plate[keep], g[keep].astype(np.float32))

    def apply(self, batch: SensorBatch) -> SensorBatch:
        """The tick's records as the core receives them (before delivery delays)."""
        s = self.schedule
        frames = tuple(self._frame(f) for f in batch.frames)
        plates = tuple(m for m in (self._plates(p) for p in batch.plates)
                       if m.plate.shape[0])       # every plate dead: no message at all
        gate = batch.gate
        if s.clock.gate_s:
            gate = tuple(GateCheckIns(g.t + s.clock.gate_s, g.gate, g.account) for g in gate)
        return SensorBatch(batch.t, frames, plates, gate)

    def truth(self, end_s: float) -> dict[str, list]:
        """What failed when (ground truth): one row per failed sensor and fault, and one per
        stream, clock and core fault: target, id (-1: all), kind, start_s, end_s, value."""
        rows: list[tuple] = []
        s = self.schedule
        for target, faults, sets in (("camera", s.cameras, self.cam_sets),
                                     ("plate", s.plates, self.plate_sets)):
            for f, ids in zip(faults, sets, strict=True):
                v = f.g_per_s if f.kind == "drift" else f.sigma_g if f.kind == "noisy" else 0.0
                for i in ids.tolist():
                    rows.append((target, i, f.kind, f.start_s,
                                 min(end_s, f.end_s) if f.end_s is not None else end_s, v))
        if s.streams.late_s:
            rows.append(("streams", -1, "late", 0.0, end_s, s.streams.late_s))
        if s.streams.drop_frames:
            rows.append(("streams", -1, "drop_frames", 0.0, end_s, s.streams.drop_frames))
        for k in ("cameras_s", "plates_s", "gate_s"):
            v = getattr(s.clock, k)
            if v:
                rows.append(("clock", -1, k[:-2], 0.0, end_s, v))
        if s.core.crash_at_s is not None and s.core.crash_at_s < end_s:
            rows.append(("core", -1, "crash", s.core.crash_at_s, s.core.crash_at_s,
                         s.core.checkpoint_s))
        names = ("target", "id", "kind", "start_s", "end_s", "value")
        return {n: [r[k] for r in rows] for k, n in enumerate(names)}


def _concat(a: CameraFrame, b: CameraFrame) -> CameraFrame:
    hp = None
    if a.hand_pass is not None or b.hand_pass is not None:
        def hp_of(f):
            return (f.hand_pass if f.hand_pass is not None
                    else np.full((f.hand_camera.shape[0], 4), np.nan))
        hp = np.concatenate([hp_of(a), hp_of(b)])
    # (an empty side may carry no appearance width: the other's then)
    ap = (a.appearance if not len(b) else b.appearance if not len(a)
          else np.concatenate([a.appearance, b.appearance]))
    return CameraFrame(a.frame, a.t, np.concatenate([a.camera, b.camera]),
                       np.concatenate([a.xy, b.xy]), np.concatenate([a.conf, b.conf]),
                       np.concatenate([a.hand_camera, b.hand_camera]),
                       np.concatenate([a.hand_xyz, b.hand_xyz]), ap, hp)


class Delivery:
    """When each record reaches the core: every message (a camera frame, a plate message,
    a tick's check-ins) ``U(0, late_s)`` after the tick that produced it, so messages
    overtake each other. ``push(batch)`` per tick returns what arrives by then, in arrival
    order, as one batch at the tick's time; ``flush(t)`` what is still on its way. Seeded:
    the same schedule, seed and records give the same deliveries (a replay re-applies them).
    """

    def __init__(self, late_s: float, seed: int) -> None:
        self.late_s = float(late_s)
        self._rng = np.random.default_rng(np.random.SeedSequence((seed, 0xFA, 4)))
        self._heap: list[tuple[float, int, str, object]] = []
        self._n = 0

    def push(self, batch: SensorBatch) -> SensorBatch:
        if self.late_s <= 0:
            return batch
        for kind, msgs in (("g", batch.gate), ("p", batch.plates), ("f", batch.frames)):
            for m in msgs:
                heapq.heappush(self._heap, (batch.t + self.late_s * float(self._rng.random()),
                                            self._n, kind, m))
                self._n += 1
        return self._take(batch.t)

    def _take(self, t: float) -> SensorBatch:
        out: dict[str, list] = {"f": [], "p": [], "g": []}
        while self._heap and self._heap[0][0] <= t:
            _, _, kind, m = heapq.heappop(self._heap)
            out[kind].append(m)
        return SensorBatch(t, tuple(out["f"]), tuple(out["p"]), tuple(out["g"]))

    def flush(self, t: float) -> SensorBatch | None:
        """Everything still on its way, delivered at ``t`` (the end of the run)."""
        if not self._heap:
            return None
        b = self._take(math.inf)
        return SensorBatch(t, b.frames, b.plates, b.gate)
