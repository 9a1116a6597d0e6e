"""The tracker comparison's peers (norfair, roboflow ``trackers``' ByteTrack) behind one
small interface: a recorded floor-detection stream in, track rows and loop seconds out.

Neither peer knows that several cameras see one person, so both get the stream after our
cross-camera fusion (:func:`core.fusion.fuse_detections`), computed once in
:func:`load_stream`, outside every timed loop. Their per-frame inputs (norfair
``Detection`` lists, ``supervision.Detections``) are built before their loops too, as ours
gets its ``CameraFrame`` records built before its loop; each loop times the tracker's
update and the collection of its output rows, nothing else.

Nothing here imports a peer at import time: each runner imports its package when called.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.fusion import fuse_detections
from experiments.runs.track import Detections

FUSE_RADIUS_M = 0.5       # as the tracker's own fusion (TrackerConfig.fuse_radius_m)
PX_PER_M = 100.0          # ByteTrack's pixel-like frame: 1 px = 1 cm
# the side of ByteTrack's box around a floor point [m]: a standing person's footprint is
# ~0.5 m, but the twin's points scatter 0.1-0.2 m per axis at 1-3 m from a camera (fitted to
# the pixel detector) and a 0.5 m box then overlaps its next-frame self too little: on the
# recorded kiosk stream ByteTrack's IDF1 is 0.28 at 0.5 m, 0.74 at 1.0 m (as in
# tests/benchmarks/test_pointstream.py)
FOOTPRINT_M = 1.0


@dataclass(frozen=True)
class FusedStream:
    """Every camera tick from the first listed frame to the last, after fusion.

    frame: (f,) int64 tick index; t: (f,) float64 capture time [s].
    xy: f arrays (m_k, 2) float64 fused points [m]; conf: f arrays (m_k,) float64 fused
    confidence ``1 - prod(1 - conf)``.
    raw_detections: rows of the recorded file (the numerator of every detections/s).
    """

    frame: np.ndarray
    t: np.ndarray
    xy: list[np.ndarray]
    conf: list[np.ndarray]
    raw_detections: int

    @property
    def fused_detections(self) -> int:
        return sum(len(c) for c in self.conf)


@dataclass(frozen=True)
class TrackRows:
    """A tracker's output over the stream: one row per reported track per frame.

    frame: (r,) int64; track_id: (r,) int64; xy: (r, 2) float64 [m]; loop_s: seconds in
    the per-frame loop alone.
    """

    frame: np.ndarray
    track_id: np.ndarray
    xy: np.ndarray
    loop_s: float


def load_stream(d: Detections) -> FusedStream:
    """Fuse each frame of a recorded stream, filling the frames absent from the file (no
    detection at all) with empty ones, as ``experiments.runs.track.track`` does."""
    f, start = np.unique(d.frame, return_index=True)
    stop = np.append(start[1:], d.frame.size)
    frames, ts, xys, confs = [], [], [], []
    empty_xy, empty_c = np.zeros((0, 2)), np.zeros(0)
    for k in range(f.size):
        if k:
            gap = int(f[k] - f[k - 1])
            t_a, t_b = float(d.t[start[k - 1]]), float(d.t[start[k]])
            for j in range(1, gap):
                frames.append(int(f[k - 1]) + j)
                ts.append(t_a + (t_b - t_a) * j / gap)
                xys.append(empty_xy)
                confs.append(empty_c)
        sl = slice(start[k], stop[k])
        fused = fuse_detections(d.camera[sl], d.xy[sl], d.conf[sl], FUSE_RADIUS_M)
        frames.append(int(f[k]))
        ts.append(float(d.t[start[k]]))
        xys.append(fused.xy)
        confs.append(fused.conf)
    return FusedStream(np.array(frames, np.int64), np.array(ts), xys, confs,
                       int(d.frame.size))


def _rows(fr: list, ids: list, xy: list, loop_s: float) -> TrackRows:
    return TrackRows(np.array(fr, np.int64), np.array(ids, np.int64),
                     np.array(xy, np.float64).reshape(-1, 2), loop_s)


@dataclass(frozen=True)
class NorfairSettings:
    """norfair 2.3.0 ``Tracker`` on floor points in metres at 15 Hz."""

    distance_threshold: float = 0.8    # euclidean gate [m], our gate_m
    hit_counter_max: int = 15          # frames a track outlives its last detection (1 s)
    initialization_delay: int = 2      # confirmed on the 3rd hit, as our confirm_hits = 3
    # its Kalman filter is norfair's default (OptimizedKalmanFilterFactory(R=4, Q=0.1)):
    # on this stream it scored IDF1 0.997, against 0.960 for R=0.02, Q=0.01 set from our
    # own noise figures, so the default is the peer's best shot we know of


def run_norfair(s: FusedStream, cfg: NorfairSettings = NorfairSettings()) -> TrackRows:
    """norfair's active (initialised, not yet dead) objects at their filtered estimate."""
    from norfair import Detection, Tracker

    tracker = Tracker(distance_function="euclidean", distance_threshold=cfg.distance_threshold,
                      hit_counter_max=cfg.hit_counter_max,
                      initialization_delay=cfg.initialization_delay)
    inputs = [[Detection(points=p[None, :], scores=np.array([c]))
               for p, c in zip(xy, conf, strict=True)] for xy, conf in zip(s.xy, s.conf,
                                                                          strict=True)]
    fr, ids, out = [], [], []
    t0 = time.perf_counter()
    for k, dets in zip(s.frame.tolist(), inputs, strict=True):
        for obj in tracker.update(detections=dets):
            fr.append(k)
            ids.append(obj.id)
            out.append(obj.estimate[0])
    loop_s = time.perf_counter() - t0
    return _rows(fr, ids, out, loop_s)


@dataclass(frozen=True)
class ByteTrackSettings:
    """roboflow ``trackers`` 2.6.1 ``ByteTrackTracker`` on footprint boxes at 15 Hz."""

    lost_track_buffer: int = 30                # in 30 FPS frames: 1 s
    track_activation_threshold: float = 0.5    # our birth_min_conf
    high_conf_det_threshold: float = 0.6       # its default
    minimum_consecutive_frames: int = 3        # our confirm_hits
    minimum_iou_threshold: float = 0.1         # its default
    footprint_m: float = FOOTPRINT_M           # side of the box around each floor point


def boxes(xy: np.ndarray, footprint_m: float = FOOTPRINT_M) -> np.ndarray:
    """(m, 2) floor points [m] -> (m, 4) float32 ``xyxy`` footprint boxes [px]."""
    half = 0.5 * footprint_m * PX_PER_M
    c = xy * PX_PER_M
    return np.column_stack([c - half, c + half]).astype(np.float32)


def run_bytetrack(s: FusedStream, cfg: ByteTrackSettings = ByteTrackSettings(),
                  hz: float = 15.0) -> TrackRows:
    """ByteTrack's tracked detections (``tracker_id >= 0``) at their box centres."""
    import supervision as sv
    from trackers import ByteTrackTracker

    tracker = ByteTrackTracker(lost_track_buffer=cfg.lost_track_buffer, frame_rate=hz,
                               track_activation_threshold=cfg.track_activation_threshold,
                               high_conf_det_threshold=cfg.high_conf_det_threshold,
                               minimum_consecutive_frames=cfg.minimum_consecutive_frames,
                               minimum_iou_threshold=cfg.minimum_iou_threshold)
    inputs = [sv.Detections(xyxy=boxes(xy, cfg.footprint_m), confidence=conf.astype(np.float32))
              for xy, conf in zip(s.xy, s.conf, strict=True)]
    fr, ids, out = [], [], []
    t0 = time.perf_counter()
    for k, dets in zip(s.frame.tolist(), inputs, strict=True):
        res = tracker.update(dets)
        ok = res.tracker_id >= 0
        if ok.any():
            n = int(ok.sum())
            fr.extend([k] * n)
            ids.extend(res.tracker_id[ok].tolist())
            out.extend(((res.xyxy[ok, :2] + res.xyxy[ok, 2:]) * (0.5 / PX_PER_M)).tolist())
    loop_s = time.perf_counter() - t0
    return _rows(fr, ids, out, loop_s)
