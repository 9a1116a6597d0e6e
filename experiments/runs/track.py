"""The tracker alone on a floor-detection file (``storetwin track``).

Input: CSV with the header ``frame,t,camera,x,y,conf`` (metres, seconds; DESIGN's
floor-detection format), or the same columns in Parquet (a run folder's
``streams/detections.parquet``). Rows of one frame share ``t``; frames go forward in time.
Frames with no detection at all are absent from such a file, so the gaps between listed
frames are filled with empty frames at the file's camera rate (the live tracker saw them).

Output: CSV ``frame,t,track_id,x,y`` (the confirmed tracks of every frame), which standard
MOT tools read. Without a store the tracker lets people appear anywhere (the file's extent)
and never "at the exit", so a track ends when it has been unseen for its timeout; with
``--store`` it uses the store's entrance and exit, as in a run.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.records import CameraFrame
from core.smoothing import smooth_rows
from core.tracker_config import TrackerConfig
from core.tracking import Tracker

COLUMNS = ("frame", "t", "camera", "x", "y", "conf")
NEVER = np.array([1e12, 1e12, 1e12, 1e12])   # an exit nobody reaches


class DetectionFileError(ValueError):
    """A bad detection file: one line naming the file, the row and the field."""


@dataclass
class Detections:
    frame: np.ndarray    # (n,) int64
    t: np.ndarray        # (n,) float64 [s]
    camera: np.ndarray   # (n,) int32
    xy: np.ndarray       # (n, 2) float64 [m]
    conf: np.ndarray     # (n,) float32
    # (n, D) float32 appearance descriptors (a Parquet file's ``appearance`` column), or
    # (n, 0): none (CSV files, older recordings)
    appearance: np.ndarray | None = None


@dataclass
class TrackResult:
    frame: np.ndarray
    t: np.ndarray
    track_id: np.ndarray
    xy: np.ndarray
    loop_s: float        # seconds in the tracking loop alone (no reading, no writing)
    detections: int
    frames: int
    camera_hz: float
    latency_s: float = 0.0   # look-ahead of the smoothing: how late a track row is final [s]

    def stats(self) -> dict:
        return {"loop_s": round(self.loop_s, 6), "detections": self.detections,
                "frames": self.frames, "camera_hz": self.camera_hz,
                "track_latency_s": self.latency_s,
                "tracks": int(np.unique(self.track_id).size),
                "track_rows": int(self.track_id.size),
                "detections_per_s": round(self.detections / self.loop_s)
                if self.loop_s > 0 else None}


def _bad(path: Path, where: str, msg: str) -> DetectionFileError:
    return DetectionFileError(f"{path}: {where}: {msg}")


def read_detections(path: str | Path) -> Detections:
    path = Path(path)
    if not path.is_file():
        raise DetectionFileError(f"{path}: file not found")
    if path.suffix.lower() == ".parquet":
        cols = _read_parquet(path)
        def at(k: int) -> str:
            return f"row {k + 1}"
    else:
        cols = _read_csv(path)
        def at(k: int) -> str:
            return f"line {k + 2}"
    frame = cols["frame"].astype(np.int64)
    t = cols["t"]
    if frame.size:
        if np.any(np.diff(frame) < 0):
            k = int(np.flatnonzero(np.diff(frame) < 0)[0]) + 1
            raise _bad(path, at(k), f"frame {frame[k]} after frame {frame[k - 1]}; "
                       "rows must be in frame order")
        same = frame[1:] == frame[:-1]
        if np.any(same & (t[1:] != t[:-1])):
            k = int(np.flatnonzero(same & (t[1:] != t[:-1]))[0]) + 1
            raise _bad(path, at(k), f"t {t[k]} differs from t {t[k - 1]} of the same "
                       f"frame {frame[k]}; one frame has one capture time")
        step = ~same
        if np.any(step & (t[1:] <= t[:-1])):
            k = int(np.flatnonzero(step & (t[1:] <= t[:-1]))[0]) + 1
            raise _bad(path, at(k), f"frame {frame[k]} at t {t[k]} s is not later than "
                       f"frame {frame[k - 1]} at t {t[k - 1]} s; time must go forward")
    app = cols.get("appearance", np.zeros((frame.size, 0), np.float32))
    return Detections(frame, t, cols["camera"].astype(np.int32),
                      np.column_stack([cols["x"], cols["y"]]), cols["conf"].astype(np.float32),
                      app)


def _check_values(path: Path, cols: dict[str, np.ndarray], row0: int, unit: str) -> None:
    for name in COLUMNS:
        v = cols[name]
        bad = ~np.isfinite(v)
        if name in ("frame", "camera"):
            bad |= np.isfinite(v) & (v != np.round(v))
        if name == "frame":
            bad |= v < 0
        if name == "camera":
            bad |= v < -1
        if name == "conf":
            bad |= (v < 0) | (v > 1)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            allowed = {"frame": "an integer >= 0", "camera": "an integer >= -1",
                       "conf": "a number in [0, 1]"}.get(name, "a finite number")
            raise _bad(path, f"{unit} {k + row0}", f"{name} = {cols[name][k]:g}: must be "
                       f"{allowed}")


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise DetectionFileError(f"{path}: cannot read ({e})") from None
    if not rows:
        raise _bad(path, "line 1", f"empty; expected the header {','.join(COLUMNS)}")
    head = [h.strip() for h in rows[0]]
    if tuple(head) != COLUMNS:
        raise _bad(path, "line 1", f"header {','.join(head)!r}: expected exactly "
                   f"{','.join(COLUMNS)}")
    body = rows[1:]
    out = {c: np.empty(len(body)) for c in COLUMNS}
    for i, r in enumerate(body):
        if len(r) != len(COLUMNS):
            raise _bad(path, f"line {i + 2}", f"{len(r)} fields, expected {len(COLUMNS)} "
                       f"({','.join(COLUMNS)})")
        for c, v in zip(COLUMNS, r, strict=True):
            try:
                out[c][i] = float(v)
            except ValueError:
                raise _bad(path, f"line {i + 2}", f"{c} = {v!r}: not a number") from None
    _check_values(path, out, row0=2, unit="line")
    return out


def _appearance(path: Path, col, n: int) -> np.ndarray:
    """(n, D) float32 descriptors of a fixed-size list column; an error names the row."""
    import pyarrow as pa

    if not pa.types.is_fixed_size_list(col.type) or col.null_count:
        raise _bad(path, "column appearance", "must be a fixed-size list of floats, one "
                   "per detection (storetwin's streams/detections.parquet)")
    d = col.type.list_size
    a = np.asarray(col.combine_chunks().flatten().to_numpy(zero_copy_only=False),
                   np.float32).reshape(n, d)
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise _bad(path, f"row {k + 1}", "appearance holds a value that is not a finite "
                   "number")
    return a


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    try:
        tab = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds on a bad file
        raise DetectionFileError(f"{path}: not a readable Parquet file ({e})") from None
    missing = [c for c in COLUMNS if c not in tab.column_names]
    if missing:
        raise _bad(path, "columns", f"missing {', '.join(missing)}; expected "
                   f"{','.join(COLUMNS)}")
    out = {}
    for c in COLUMNS:
        try:
            out[c] = tab.column(c).to_numpy(zero_copy_only=False).astype(np.float64)
        except (TypeError, ValueError):
            raise _bad(path, f"column {c}", "not numeric") from None
    _check_values(path, out, row0=1, unit="row")
    if "appearance" in tab.column_names:
        out["appearance"] = _appearance(path, tab.column("appearance"), tab.num_rows)
    return out


def camera_rate(d: Detections) -> float:
    """The file's camera rate [Hz]: frames per second between listed frames (median)."""
    f, idx = np.unique(d.frame, return_index=True)
    if f.size < 2:
        return 15.0
    rate = np.diff(f) / np.diff(d.t[idx])
    return round(float(np.median(rate)), 6)


def track(d: Detections, camera_hz: float | None = None, entrance=None, exit=None,
          lookahead_s: float = 0.0, cold_start_s: float = 0.0) -> TrackResult:
    """Run the tracker over every frame from the first listed to the last, filling the
    frames absent from the file as empty ones; then smooth the positions with
    ``lookahead_s`` of look-ahead (:mod:`core.smoothing`, 0: the online positions).
    ``cold_start_s``: births anywhere for the stream's first seconds
    (``TrackerConfig.cold_start_s``)."""
    hz = camera_rate(d) if camera_hz is None else float(camera_hz)
    if not (math.isfinite(hz) and hz > 0):
        raise DetectionFileError(f"camera rate {hz!r} Hz: give --hz, a rate > 0")
    if entrance is None:
        lo = d.xy.min(axis=0) - 1.0 if d.xy.size else np.zeros(2)
        hi = d.xy.max(axis=0) + 1.0 if d.xy.size else np.ones(2)
        entrance = np.array([lo[0], lo[1], hi[0], hi[1]])
    tracker = Tracker.on_floor(entrance, NEVER if exit is None else exit, hz,
                               TrackerConfig(cold_start_s=cold_start_s))
    out_f, out_t, out_id, out_xy = [], [], [], []
    if d.frame.size == 0:
        return TrackResult(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64),
                           np.zeros((0, 2)), 0.0, 0, 0, hz)
    f, start = np.unique(d.frame, return_index=True)
    stop = np.append(start[1:], d.frame.size)
    frames = []   # (frame, t, slice) including the empty frames between listed ones
    for k in range(f.size):
        if k:
            gap = int(f[k] - f[k - 1])
            t_a, t_b = float(d.t[start[k - 1]]), float(d.t[start[k]])
            for j in range(1, gap):     # evenly between the listed frames around the gap
                frames.append((int(f[k - 1]) + j, t_a + (t_b - t_a) * j / gap, None))
        frames.append((int(f[k]), float(d.t[start[k]]), slice(start[k], stop[k])))
    empty_c, empty_xy, empty_conf = (np.zeros(0, np.int32), np.zeros((0, 2)),
                                     np.zeros(0, np.float32))
    recs = []
    for fr, t, sl in frames:
        if sl is None:
            recs.append(CameraFrame(fr, t, empty_c, empty_xy, empty_conf))
        else:
            app = None if d.appearance is None else d.appearance[sl]
            recs.append(CameraFrame(fr, t, d.camera[sl], d.xy[sl], d.conf[sl], appearance=app))
    t0 = time.perf_counter()
    for rec in recs:
        tr = tracker.update(rec)
        if tr.track_id.size:
            out_f.append(np.full(tr.track_id.size, tr.frame))
            out_t.append(np.full(tr.track_id.size, tr.t))
            out_id.append(tr.track_id)
            out_xy.append(tr.xy)
    ts, ids, xys = _cat(out_t, 0), _cat(out_id, 0).astype(np.int64), _cat(out_xy, (0, 2))
    if lookahead_s > 0:
        xys = smooth_rows(ts, ids, xys, lookahead_s)
    loop_s = time.perf_counter() - t0
    return TrackResult(_cat(out_f, 0).astype(np.int64), ts, ids, xys, loop_s,
                       int(d.frame.size), len(recs), hz, float(lookahead_s))


def _cat(xs: list, shape) -> np.ndarray:
    return np.concatenate(xs) if xs else np.zeros(shape)


def write_tracks_csv(path: str | Path, r: TrackResult) -> None:
    with Path(path).open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "t", "track_id", "x", "y"])
        for fr, t, i, (x, y) in zip(r.frame.tolist(), r.t.tolist(), r.track_id.tolist(),
                                    r.xy.tolist(), strict=True):
            w.writerow([fr, repr(t), i, repr(x), repr(y)])
