"""Multi-camera people tracker on the floor plane.

One call to :meth:`Tracker.update` per camera tick runs a fixed sequence over arrays:

1. fuse: detections of one person by several overlapping cameras become one fused point
   (connected components within ``fuse_radius_m``, at most one detection per camera in a
   cluster);
2. predict: a constant-velocity Kalman filter on ``(x, y, vx, vy)``, batched over tracks;
3. associate: gated assignment (``scipy.optimize.linear_sum_assignment``), confirmed tracks
   seen last frame first, then confirmed tracks that are coasting, then tentative ones;
   leftovers that are another camera's stray view of a matched person are dropped;
4. birth: strong leftovers inside the entrance start tentative tracks; strong leftovers
   elsewhere start hidden *re-identification candidates* that, once they persist for
   ``confirm_hits`` frames, take over the identity of a lost track (so a false positive
   cannot steal an identity, and an occluded shopper keeps theirs and their cart);
5. death: a confirmed track unseen near the exit departs (``certain=True``); unseen
   elsewhere it becomes lost, and departs ``certain=False`` when its re-identification
   window ends;
6. identity: confirmed tracks bind to gate check-ins queued by :meth:`Tracker.check_in`.

Everything is per-instance state; nothing happens at import.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from core.knowledge import StoreKnowledge
from core.records import CameraFrame, GateCheckIns, Tracks

_TENTATIVE = 0
_CONFIRMED = 1
_LOST = 2

_BIG = 1.0e6  # cost of a pair that may not be matched (finite: scipy rejects infeasible inf)

# Fields of TrackerConfig by the range they must lie in.
_POSITIVE = (
    "fuse_radius_m",
    "gate_m",
    "max_missed_s",
    "meas_sigma_m",
    "accel_sigma_mps2",
    "init_speed_sigma_mps",
    "max_speed_mps",
    "history_s",
)
_NON_NEGATIVE = (
    "reid_window_s",
    "reid_speed_mps",
    "exit_linger_s",
    "checkin_window_s",
    "exit_margin_m",
    "dup_radius_m",
)


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker parameters. Units in brackets; ranges are checked on construction."""

    # detections from different cameras closer than this are one person [m], > 0
    fuse_radius_m: float = 0.5
    # max distance prediction -> measurement to associate [m], > 0 (tuned on kiosk stream
    # replays: 1.2 m let a walker's prediction grab a shopper standing at a shelf)
    gate_m: float = 0.8
    # tentative -> confirmed after this many associated frames, >= 1
    confirm_hits: int = 3
    # a confirmed track not seen for this long becomes lost [s], > 0
    max_missed_s: float = 1.0
    # a lost track may be re-identified within this time [s], >= 0
    reid_window_s: float = 20.0
    # ... if the new detection is within reid_speed * gap + gate [m/s], >= 0
    reid_speed_mps: float = 2.0
    # a track that vanishes near the exit departs after this [s], >= 0
    exit_linger_s: float = 0.5
    # a check-in binds to a track born within this time of it [s], >= 0
    checkin_window_s: float = 4.0
    # last seen this close to the exit rectangle counts as at the exit [m], >= 0
    exit_margin_m: float = 1.0
    # a leftover detection this close to a matched one and seen by none of its cameras is
    # a stray duplicate of it [m], >= 0
    dup_radius_m: float = 0.8
    # fused confidence a leftover detection needs to start a track, in [0, 1]
    birth_min_conf: float = 0.5
    # consecutive missed frames that drop a tentative track, >= 0
    tentative_max_misses: int = 2
    # one camera's foot-point error, std per axis [m], > 0
    meas_sigma_m: float = 0.15
    # white-noise acceleration of the motion model, std per axis [m/s^2], > 0 (tuned on
    # kiosk replays: shoppers walk at ~1.3 m/s and stop within ~1 s)
    accel_sigma_mps2: float = 1.0
    # velocity std of a newborn track per axis [m/s], > 0
    init_speed_sigma_mps: float = 1.0
    # filtered speed is clipped to this [m/s], > 0
    max_speed_mps: float = 3.0
    # how far back history() can look [s], > 0
    history_s: float = 60.0

    def __post_init__(self) -> None:
        for name in _POSITIVE:
            _check_real(name, getattr(self, name), strict=True)
        for name in _NON_NEGATIVE:
            _check_real(name, getattr(self, name), strict=False)
        c = self.birth_min_conf
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= c <= 1.0:
            raise ValueError(f"TrackerConfig.birth_min_conf must be in [0, 1], got {c!r}")
        _check_int("confirm_hits", self.confirm_hits, 1)
        _check_int("tentative_max_misses", self.tentative_max_misses, 0)


def _check_real(name: str, v: object, strict: bool) -> None:
    bound = "> 0" if strict else ">= 0"
    ok = (
        not isinstance(v, bool)
        and isinstance(v, (int, float))
        and math.isfinite(v)
        and (v > 0 if strict else v >= 0)
    )
    if not ok:
        raise ValueError(f"TrackerConfig.{name} must be a finite number {bound}, got {v!r}")


def _check_int(name: str, v: object, lo: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"TrackerConfig.{name} must be an integer >= {lo}, got {v!r}")


@dataclass(frozen=True)
class Departure:
    """A shopper the tracker considers gone.

    track_id: the departed track. account: bound account, -1 if never bound.
    t: time the tracker declared the departure [s] (a frame time, or the flush time).
    certain: True when the track vanished at the exit; False when it was lost elsewhere and
    not re-identified within ``reid_window_s``.
    """

    track_id: int
    account: int
    t: float
    certain: bool


class FusedDetections(NamedTuple):
    """Detections of one frame after cross-camera fusion (``m`` fused points).

    xy: (m, 2) float64 confidence-weighted mean position [m].
    conf: (m,) float64 fused confidence ``1 - prod(1 - conf)`` in [0, 1].
    count: (m,) int64 number of raw detections fused into each point.
    label: (n,) int64 fused point of each raw detection.
    """

    xy: np.ndarray
    conf: np.ndarray
    count: np.ndarray
    label: np.ndarray


def fuse_detections(
    camera: np.ndarray, xy: np.ndarray, conf: np.ndarray, radius_m: float
) -> FusedDetections:
    """Cluster one frame's detections across cameras into one point per person.

    camera: (n,) int camera of each detection. xy: (n, 2) float64 [m]. conf: (n,) in [0, 1].
    radius_m: detections of different cameras closer than this are linked [m].

    Linked detections form connected components. A camera sees a person at most once, so a
    component holding two detections of one camera is two (or more) people standing close
    together; it is split by assigning each camera's detections one-to-one to seeds (the
    detections of the camera that saw the most of them).
    """
    camera = np.asarray(camera)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    conf = np.clip(np.asarray(conf, dtype=np.float64), 0.0, 1.0)
    n = xy.shape[0]
    if n == 0:
        return FusedDetections(
            np.zeros((0, 2)), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
        )
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    pairs = pairs[camera[pairs[:, 0]] != camera[pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    ncomp, label = connected_components(graph, directed=False)
    label = label.astype(np.int64)
    w = np.maximum(conf, 1e-6)

    cam_u, cam_idx = np.unique(camera, return_inverse=True)
    k = len(cam_u)
    keys, counts = np.unique(label * k + cam_idx, return_counts=True)
    crowded = np.unique(keys[counts > 1] // k)
    next_label = ncomp
    for lab in crowded:  # one pass per cluster of people standing close together (rare)
        members = np.flatnonzero(label == lab)
        sub = _split_cluster(cam_idx[members], xy[members], w[members])
        label[members] = np.where(sub == 0, lab, next_label + sub - 1)
        next_label += int(sub.max())
    if len(crowded):
        label = np.unique(label, return_inverse=True)[1].astype(np.int64)

    m = int(label.max()) + 1
    count = np.bincount(label, minlength=m).astype(np.int64)
    wsum = np.bincount(label, weights=w, minlength=m)
    fx = np.bincount(label, weights=w * xy[:, 0], minlength=m) / wsum
    fy = np.bincount(label, weights=w * xy[:, 1], minlength=m) / wsum
    log_miss = np.bincount(label, weights=np.log1p(-np.minimum(conf, 1.0 - 1e-12)), minlength=m)
    fconf = 1.0 - np.exp(log_miss)
    return FusedDetections(np.stack([fx, fy], axis=1), fconf, count, label)


def _split_cluster(cam: np.ndarray, xy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Split a cluster into people, at most one detection per camera each.

    cam: (q,) int64 camera index (>= 0, small); xy: (q, 2) float64 [m]; w: (q,) float64
    weights. Returns (q,) int64 person index in ``0 .. k-1``, k = most detections of one camera.
    Seeds are the detections of the camera that saw the most; every detection joins the
    nearest centre, one-to-one for cameras that saw several; centres are re-estimated.
    """
    counts = np.bincount(cam)
    k = int(counts.max())
    centers = xy[cam == int(np.argmax(counts))]
    multi = np.flatnonzero(counts > 1)
    assign = np.zeros(len(cam), dtype=np.int64)
    for _ in range(3):
        diff = xy[:, None, :] - centers[None, :, :]
        d = np.sqrt(np.einsum("qkj,qkj->qk", diff, diff))  # (q, k) [m]
        assign = np.argmin(d, axis=1)
        for c in multi:  # cameras that saw several of these people (a few)
            sel = np.flatnonzero(cam == c)
            r, col = linear_sum_assignment(d[sel])
            assign[sel[r]] = col
        ws = np.bincount(assign, weights=w, minlength=k)
        sx = np.bincount(assign, weights=w * xy[:, 0], minlength=k)
        sy = np.bincount(assign, weights=w * xy[:, 1], minlength=k)
        new = np.where(
            (ws > 0)[:, None], np.stack([sx, sy], axis=1) / np.maximum(ws, 1e-12)[:, None], centers
        )
        if np.array_equal(new, centers):
            break
        centers = new
    return assign.astype(np.int64)


def _shares_camera(
    a: np.ndarray, b: np.ndarray, label: np.ndarray, camera: np.ndarray
) -> np.ndarray:
    """For pairs of fused points ``(a[i], b[i])``: does any camera see both?

    a, b: (p,) int64 fused point indices; label: (n,) int64 fused point of each raw
    detection; camera: (n,) int camera of each raw detection. Returns (p,) bool.
    """
    if a.size == 0:
        return np.zeros(0, dtype=bool)
    _, ci = np.unique(camera, return_inverse=True)
    k = int(ci.max()) + 1
    present = np.unique(label * k + ci)  # sorted (fused point, camera) keys
    order = np.argsort(label, kind="stable")
    counts = np.bincount(label)
    starts = np.cumsum(counts) - counts
    na = counts[a]
    rep = np.repeat(np.arange(a.size), na)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(na) - na, na)
    raw = order[np.repeat(starts[a], na) + offs]
    keys = b[rep] * k + ci[raw]
    pos = np.minimum(np.searchsorted(present, keys), present.size - 1)
    hit = present[pos] == keys
    return np.bincount(rep, weights=hit, minlength=a.size) > 0


def _rect_distance(xy: np.ndarray, rect: np.ndarray) -> np.ndarray:
    """Distance from points to an axis-aligned rectangle (0 inside).

    xy: (n, 2) float64 [m]; rect: (4,) xmin, ymin, xmax, ymax [m]. Returns (n,) [m].
    """
    dx = np.maximum(np.maximum(rect[0] - xy[:, 0], xy[:, 0] - rect[2]), 0.0)
    dy = np.maximum(np.maximum(rect[1] - xy[:, 1], xy[:, 1] - rect[3]), 0.0)
    return np.hypot(dx, dy)


def _gated_assignment(a: np.ndarray, b: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairing of points ``a`` (p, 2) and ``b`` (q, 2) [m]: the most pairs closer
    than ``gate`` [m], and among those the least total distance.

    Returns index arrays into a and b, (k,) int64 each. Small problems use a dense cost
    matrix with ``linear_sum_assignment``; large ones only the gated pairs (k-d tree) and
    the sparse solver, with one dummy column per row so a full matching always exists.
    """
    p, q = a.shape[0], b.shape[0]
    if p == 0 or q == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if p * q <= 4096:
        d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
        r, c = linear_sum_assignment(np.where(d <= gate, d, _BIG))
        ok = d[r, c] <= gate
        return r[ok].astype(np.int64), c[ok].astype(np.int64)
    e = cKDTree(a).sparse_distance_matrix(cKDTree(b), gate, output_type="ndarray")
    if e.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, ri = np.unique(e["i"], return_inverse=True)
    cols, cj = np.unique(e["j"], return_inverse=True)
    nr, nc = rows.size, cols.size
    # +1 keeps every weight non-zero (the sparse solver drops zeros); it does not change
    # the optimum because the number of real pairs is maximised first (dummies cost _BIG).
    graph = coo_matrix(
        (
            np.concatenate([e["v"] + 1.0, np.full(nr, _BIG)]),
            (np.concatenate([ri, np.arange(nr)]), np.concatenate([cj, nc + np.arange(nr)])),
        ),
        shape=(nr, nc + nr),
    ).tocsr()
    r, c = min_weight_full_bipartite_matching(graph)
    ok = c < nc
    return rows[r[ok]].astype(np.int64), cols[c[ok]].astype(np.int64)


class Tracker:
    """Multi-camera tracker with gate identities; feed it frames in time order.

    Tracks live in parallel arrays (one row per tentative, confirmed or lost track), so a
    frame costs a handful of vectorized calls whatever the crowd size. Public track ids
    are given at confirmation, counting up from 0 per instance.
    """

    def __init__(self, knowledge: StoreKnowledge, config: TrackerConfig | None = None) -> None:
        self._setup(knowledge.entrance, knowledge.exit, knowledge.camera_hz, config)

    @classmethod
    def on_floor(cls, entrance: np.ndarray, exit: np.ndarray, camera_hz: float,
                 config: TrackerConfig | None = None) -> Tracker:
        """A tracker that knows only the floor: where people enter and leave (rectangles
        xmin, ymin, xmax, ymax [m]) and the camera rate [Hz] (``storetwin track``)."""
        self = cls.__new__(cls)
        self._setup(entrance, exit, camera_hz, config)
        return self

    def _setup(self, entrance, exit, camera_hz, config: TrackerConfig | None) -> None:
        self.config = TrackerConfig() if config is None else config
        self._entrance = _rect(entrance, "entrance")
        self._exit = _rect(exit, "exit")
        if not (isinstance(camera_hz, (int, float)) and camera_hz > 0):
            raise ValueError(f"StoreKnowledge.camera_hz must be > 0, got {camera_hz!r}")
        cfg = self.config
        # Longest a track can take from birth to confirmation [s].
        self._confirm_latency_s = (cfg.confirm_hits * (cfg.tentative_max_misses + 1) + 1) / float(
            camera_hz
        )
        self._next_id = 0
        self._t: float | None = None
        self._rows = _empty_rows()
        self._departures: list[Departure] = []
        self._accounts: dict[int, int] = {}
        self._q_t = np.zeros(0, np.float64)  # queued check-ins, sorted by time
        self._q_account = np.zeros(0, np.int64)
        self._history: deque[tuple[float, np.ndarray, np.ndarray]] = deque()

    # ------------------------------------------------------------------ public API

    def check_in(self, checkins: GateCheckIns) -> None:
        """Queue accounts scanned at the gate; they bind to tracks on the next update."""
        if len(checkins) == 0:
            return
        t = np.concatenate([self._q_t, checkins.t])
        acc = np.concatenate([self._q_account, checkins.account])
        order = np.argsort(t, kind="stable")
        self._q_t, self._q_account = t[order], acc[order]

    def update(self, frame: CameraFrame) -> Tracks:
        """Process one camera frame; return the confirmed tracks in the store.

        Returns :class:`~core.records.Tracks` with the confirmed tracks that are visible or
        coasting (not lost), sorted by id: track_id (n,) int64, xy (n, 2) float64 [m].
        Raises ValueError when frames go back in time.
        """
        cfg = self.config
        t = float(frame.t)
        if self._t is not None and t < self._t:
            raise ValueError(
                f"frame {frame.frame} at t={t} s is earlier than the last ({self._t} s)"
            )
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        fused = fuse_detections(frame.camera, frame.xy, frame.conf, cfg.fuse_radius_m)
        self._predict(dt)

        R = self._rows
        st, miss = R["status"], R["miss"]
        stages = (
            np.flatnonzero((st == _CONFIRMED) & (miss == 0)),
            np.flatnonzero((st == _CONFIRMED) & (miss > 0)),
            np.flatnonzero(st == _TENTATIVE),
        )
        free = np.arange(fused.xy.shape[0])
        m_rows, m_dets = [], []
        for rows in stages:
            r, c = _gated_assignment(R["x"][rows, :2], fused.xy[free], cfg.gate_m)
            taken = free[c]
            m_rows.append(rows[r])
            m_dets.append(taken)
            free = np.delete(free, c)
            free = self._drop_duplicates(free, taken, fused, frame.camera)
        rows = np.concatenate(m_rows)
        dets = np.concatenate(m_dets)
        self._correct(rows, fused.xy[dets], fused.count[dets])
        seen = np.zeros(st.shape[0], dtype=bool)
        seen[rows] = True
        # A tentative track only counts strong matches towards confirmation, so a run of
        # weak false positives near the entrance cannot confirm one.
        strong_match = (st[rows] != _TENTATIVE) | (fused.conf[dets] >= cfg.birth_min_conf)
        R["hits"][rows] += strong_match
        R["miss"][rows] = 0
        R["miss"][~seen & (st != _LOST)] += 1
        R["t_last"][rows] = t
        R["xy_last"][rows] = R["x"][rows, :2]

        strong = free[fused.conf[free] >= cfg.birth_min_conf]
        self._spawn(fused.xy[strong], t)
        self._expire(t, flushing=False)
        self._confirm(t)
        self._bind(t)

        R = self._rows
        out = np.flatnonzero(R["status"] == _CONFIRMED)
        out = out[np.argsort(R["tid"][out], kind="stable")]
        ids = R["tid"][out].copy()
        xy = R["x"][out, :2].copy()
        self._history.append((t, ids, xy))
        while self._history and self._history[0][0] < t - cfg.history_s:
            self._history.popleft()
        return Tracks(frame=int(frame.frame), t=t, track_id=ids, xy=xy)

    def pop_departures(self) -> list[Departure]:
        """Departures declared since the last call, in time order (then by track id)."""
        out = sorted(self._departures, key=lambda d: (d.t, d.track_id))
        self._departures = []
        return out

    def active_with_account(self, account: int) -> bool:
        """True while a confirmed or lost (not yet departed) track is bound to ``account``."""
        R = self._rows
        return bool(np.any((R["account"] == account) & (R["tid"] >= 0)))

    def account_of(self, track_id: int) -> int:
        """Account bound to a track (also after it departed); -1 if unbound or unknown."""
        return self._accounts.get(int(track_id), -1)

    def history(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Confirmed-track positions reported in ``[t0, t1]`` [s], as far back as
        ``history_s``.

        Returns track_id (m,) int64, t (m,) float64 [s], xy (m, 2) float64 [m], in frame order.
        """
        ids, ts, xys = [], [], []
        for t, tid, xy in self._history:
            if t0 <= t <= t1 and tid.size:
                ids.append(tid)
                ts.append(np.full(tid.size, t))
                xys.append(xy)
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros((0, 2), np.float64)
        return np.concatenate(ids), np.concatenate(ts), np.concatenate(xys)

    def flush(self, t: float) -> list[Departure]:
        """End of the stream at time ``t`` [s].

        Binds check-ins still queued, departs tracks last seen at the exit (``certain=True``)
        and lost tracks past their re-identification window (``certain=False``). Tracks still
        active in the store do not depart. Returns every departure not popped yet.
        """
        t = float(t)
        self._bind(t)
        self._expire(t, flushing=True)
        return self.pop_departures()

    # ------------------------------------------------------------------ internals

    def _predict(self, dt: float) -> None:
        """Constant-velocity prediction of every non-lost track over ``dt`` [s]."""
        if dt <= 0.0:
            return
        R = self._rows
        rows = np.flatnonzero(R["status"] != _LOST)
        if rows.size == 0:
            return
        F = np.eye(4)
        F[0, 2] = F[1, 3] = dt
        q = self.config.accel_sigma_mps2**2
        Q = np.zeros((4, 4))
        Q[[0, 1], [0, 1]] = q * dt**4 / 4.0
        Q[[0, 1, 2, 3], [2, 3, 0, 1]] = q * dt**3 / 2.0
        Q[[2, 3], [2, 3]] = q * dt**2
        R["x"][rows] = R["x"][rows] @ F.T
        R["P"][rows] = F @ R["P"][rows] @ F.T + Q

    def _correct(self, rows: np.ndarray, z: np.ndarray, count: np.ndarray) -> None:
        """Kalman update of ``rows`` with fused measurements z (k, 2) [m] of ``count``
        (k,) detections each (measurement variance shrinks with the count)."""
        if rows.size == 0:
            return
        R = self._rows
        x, P = R["x"][rows], R["P"][rows]
        var = self.config.meas_sigma_m**2 / np.maximum(count, 1)
        S = P[:, :2, :2] + var[:, None, None] * np.eye(2)
        K = P[:, :, :2] @ np.linalg.inv(S)
        x = x + np.einsum("kij,kj->ki", K, z - x[:, :2])
        P = P - K @ P[:, :2, :]
        P = 0.5 * (P + np.swapaxes(P, 1, 2))
        speed = np.linalg.norm(x[:, 2:], axis=1)
        x[:, 2:] *= np.minimum(1.0, self.config.max_speed_mps / np.maximum(speed, 1e-12))[:, None]
        R["x"][rows], R["P"][rows] = x, P

    def _drop_duplicates(
        self, free: np.ndarray, taken: np.ndarray, fused: FusedDetections, camera: np.ndarray
    ) -> np.ndarray:
        """Remove from ``free`` the fused points that are a stray view of a matched one:
        within ``dup_radius_m`` of it and seen by none of its cameras."""
        if free.size == 0 or taken.size == 0:
            return free
        e = cKDTree(fused.xy[free]).sparse_distance_matrix(
            cKDTree(fused.xy[taken]), self.config.dup_radius_m, output_type="ndarray"
        )
        if e.size == 0:
            return free
        i, j = e["i"].astype(np.int64), e["j"].astype(np.int64)
        distinct = _shares_camera(free[i], taken[j], fused.label, camera)
        dup = np.zeros(free.size, dtype=bool)
        dup[i[~distinct]] = True
        return free[~dup]

    def _spawn(self, z: np.ndarray, t: float) -> None:
        """Start tentative tracks at fused points z (k, 2) [m]: births inside the entrance,
        re-identification candidates elsewhere."""
        k = z.shape[0]
        if k == 0:
            return
        cfg = self.config
        P = np.zeros((k, 4, 4))
        P[:, [0, 1], [0, 1]] = cfg.meas_sigma_m**2
        P[:, [2, 3], [2, 3]] = cfg.init_speed_sigma_mps**2
        new = {
            "tid": np.full(k, -1, np.int64),
            "status": np.full(k, _TENTATIVE, np.int8),
            "orphan": _rect_distance(z, self._entrance) > 0.0,
            "x": np.concatenate([z, np.zeros((k, 2))], axis=1),
            "P": P,
            "hits": np.ones(k, np.int32),
            "miss": np.zeros(k, np.int32),
            "t_birth": np.full(k, t),
            "xy_birth": z.copy(),
            "t_last": np.full(k, t),
            "xy_last": z.copy(),
            "account": np.full(k, -1, np.int64),
        }
        self._rows = {name: np.concatenate([col, new[name]]) for name, col in self._rows.items()}

    def _expire(self, t: float, flushing: bool) -> None:
        """Exit departures, confirmed -> lost, lost -> uncertain departures, and dropping
        tentative tracks missed too often. ``flushing``: no frame at ``t``, so no track
        is declared lost (only already-lost ones can time out)."""
        cfg = self.config
        R = self._rows
        st = R["status"]
        gap = t - R["t_last"]
        unseen = R["t_last"] < t
        at_exit = _rect_distance(R["xy_last"], self._exit) <= cfg.exit_margin_m
        confirmed_unseen = (st == _CONFIRMED) & unseen
        exits = confirmed_unseen & at_exit & (gap >= cfg.exit_linger_s)
        if not flushing:
            st[confirmed_unseen & ~at_exit & (gap >= cfg.max_missed_s)] = _LOST
        timeouts = (st == _LOST) & (gap >= cfg.reid_window_s)
        for rows, certain in ((np.flatnonzero(exits), True), (np.flatnonzero(timeouts), False)):
            self._departures.extend(
                Departure(int(tid), int(acc), t, certain)
                for tid, acc in zip(R["tid"][rows], R["account"][rows], strict=True)
            )
        drop = (st == _TENTATIVE) & (R["miss"] > cfg.tentative_max_misses)
        self._keep(~(exits | timeouts | drop))

    def _confirm(self, t: float) -> None:
        """Promote tentative tracks with enough hits: births get a new id; a
        re-identification candidate takes over the nearest compatible lost track."""
        cfg = self.config
        R = self._rows
        ready = (R["status"] == _TENTATIVE) & (R["hits"] >= cfg.confirm_hits)
        births = np.flatnonzero(ready & ~R["orphan"])
        if births.size:
            births = births[np.argsort(R["t_birth"][births], kind="stable")]
            R["tid"][births] = np.arange(self._next_id, self._next_id + births.size)
            R["status"][births] = _CONFIRMED
            self._next_id += births.size
        cand = np.flatnonzero(ready & R["orphan"])
        lost = np.flatnonzero(R["status"] == _LOST)
        if cand.size == 0 or lost.size == 0:
            return
        gap = R["t_birth"][cand][:, None] - R["t_last"][lost][None, :]
        dist = np.linalg.norm(R["xy_birth"][cand][:, None, :] - R["xy_last"][lost][None], axis=2)
        ok = (gap > 0.0) & (gap <= cfg.reid_window_s)
        ok &= dist <= cfg.reid_speed_mps * gap + cfg.gate_m
        cost = np.where(ok, dist + 1e-6 * gap, _BIG)  # nearest; ties: most recently lost
        r, c = linear_sum_assignment(cost)
        keep = ok[r, c]
        src, dst = cand[r[keep]], lost[c[keep]]
        if src.size == 0:
            return
        for name in ("x", "P", "miss", "hits", "t_last", "xy_last"):
            R[name][dst] = R[name][src]
        R["status"][dst] = _CONFIRMED
        alive = np.ones(R["status"].shape[0], dtype=bool)
        alive[src] = False
        self._keep(alive)

    def _bind(self, t: float) -> None:
        """Bind unbound confirmed tracks, oldest birth first, to the earliest unconsumed
        check-in within ``checkin_window_s`` of their birth; forget stale check-ins."""
        if self._q_t.size == 0:
            return
        w = self.config.checkin_window_s
        R = self._rows
        cand = np.flatnonzero(
            (R["tid"] >= 0)
            & (R["account"] < 0)
            & (R["t_birth"] >= self._q_t[0] - w)
            & (R["t_birth"] <= self._q_t[-1] + w)
        )
        used = np.zeros(self._q_t.size, dtype=bool)
        if cand.size:
            cand = cand[np.lexsort((R["tid"][cand], R["t_birth"][cand]))]
            for row in cand:  # one pass per unbound track born near a check-in (few)
                ok = np.flatnonzero(~used & (np.abs(self._q_t - R["t_birth"][row]) <= w))
                if ok.size:
                    j = ok[0]
                    used[j] = True
                    acc = int(self._q_account[j])
                    R["account"][row] = acc
                    self._accounts[int(R["tid"][row])] = acc
        keep = ~used & (self._q_t >= t - w - self._confirm_latency_s)
        self._q_t, self._q_account = self._q_t[keep], self._q_account[keep]

    def _keep(self, mask: np.ndarray) -> None:
        if not mask.all():
            self._rows = {name: col[mask] for name, col in self._rows.items()}


def _empty_rows() -> dict[str, np.ndarray]:
    """Track table columns (one row per track): tid int64 (-1 until confirmed), status
    int8, orphan bool (re-identification candidate), x (n, 4) float64 [m, m/s], P (n, 4, 4),
    hits/miss int32 frames, t_birth/t_last float64 [s], xy_birth/xy_last (n, 2) [m],
    account int64 (-1 unbound)."""
    return {
        "tid": np.zeros(0, np.int64),
        "status": np.zeros(0, np.int8),
        "orphan": np.zeros(0, bool),
        "x": np.zeros((0, 4)),
        "P": np.zeros((0, 4, 4)),
        "hits": np.zeros(0, np.int32),
        "miss": np.zeros(0, np.int32),
        "t_birth": np.zeros(0),
        "xy_birth": np.zeros((0, 2)),
        "t_last": np.zeros(0),
        "xy_last": np.zeros((0, 2)),
        "account": np.zeros(0, np.int64),
    }


def _rect(a: np.ndarray, name: str) -> np.ndarray:
    r = np.asarray(a, dtype=np.float64).reshape(-1)
    if r.shape != (4,) or not (r[0] <= r[2] and r[1] <= r[3]):
        raise ValueError(f"StoreKnowledge.{name} must be (xmin, ymin, xmax, ymax), got {a!r}")
    return r
