"""Multi-camera people tracker on the floor plane.

One call to :meth:`Tracker.update` per camera tick runs a fixed sequence over arrays:

1. fuse: detections of one person by several overlapping cameras become one fused point
   (connected components within ``fuse_radius_m``, at most one detection per camera in a
   cluster);
2. predict: a constant-velocity Kalman filter on ``(x, y, vx, vy)``, batched over tracks;
3. associate: gated assignment (``scipy.optimize.linear_sum_assignment``), all confirmed
   tracks (seen last frame or coasting) in one problem, then tentative ones; leftovers that
   are another camera's stray view of a matched person are dropped. (Seen tracks first, then
   coasting ones, let a track seen last frame take a walker's detection from the coasting
   walker beside it: kiosk replays had IDF1 0.982 that way, 0.998 with one problem);
4. birth: strong leftovers inside the entrance start tentative tracks; strong leftovers
   elsewhere start hidden *re-identification candidates* that, once they persist for
   ``confirm_hits`` frames, take over the identity of a lost track (so a false positive
   cannot steal an identity, and an occluded shopper keeps theirs and their cart);
5. death: a confirmed track unseen near the exit departs (``certain=True``); unseen
   elsewhere it becomes lost, and departs ``certain=False`` when its re-identification
   window ends;
6. identity: confirmed tracks bind to gate check-ins queued by :meth:`Tracker.check_in`.

Engines: ``Tracker(..., engine=None)`` runs this sequence one of two ways, with the same
results (same ids every frame, positions within 1e-9 m, same departures, history and
accounts: ``tests/core/test_track_kernels.py`` replays scripted, recorded kiosk and
supercenter-sized streams through both).

- ``"numba"``, numpy's default where numba imports: :func:`core._track_kernels.step` runs
  a whole update as one compiled call on a host track table kept in preallocated columns
  (doubled in Python when a frame could overflow them); only the check-in binding stays in
  Python. Small stores are this engine's reason: the array engine spends its time in
  Python and numpy call overhead on arrays of a dozen rows. On the 3-minute kiosk stream
  (2,698 frames, 29,592 raw detections, <= 20 shoppers; 2-core AMD EPYC) it takes 0.047 s
  (18 us per frame) against the array engine's 2.0 s (750 us per frame), 49-55x norfair's
  detections/s and 26-30x ByteTrack's (``tests/benchmarks/test_tracker_compare.py``); at
  supercenter size (600 tracks, ~2,100 detections per frame, ``experiments.bench.time_core``)
  1.3 ms per frame against 8.8 ms. The first call compiles (~30 s there, once: numba
  caches the machine code beside the module, and later processes load it in ~0.4 s).
- ``"array"``: vectorized array ops on the backend below; the only engine on cupy, and
  the reference the compiled one is held to.

Backends: ``Tracker(..., xp=None)`` keeps its track table on the array namespace of
:func:`core.backend.get_xp` (``STORETWIN_BACKEND``), numpy or cupy. Frames (host numpy) are
moved once per frame; what the tracker returns (tracks, history, departures, accounts) is host
numpy and Python scalars on either backend, and the history stays on the host.

- numpy (array engine): fusion by k-d tree pairs (``scipy.spatial.cKDTree``) and graph
  components (``scipy.sparse.csgraph``); gated assignment by ``linear_sum_assignment`` (dense) or
  ``min_weight_full_bipartite_matching`` (sparse, large crowds).
- cupy: everything per track and per detection runs on the device with plain array ops:
  pairwise distances (dense, in chunks), components by label propagation, the Kalman filter,
  births, deaths and confirmation. Gated assignment builds the gated pairs on the device
  and resolves there every pair that is alone in its row and column (it is in every
  optimal assignment); only the remaining conflicting pairs are copied to the host and
  solved with the same scipy solver as on numpy, so the result is the same optimum. The
  host also gets the few members of crowded fusion clusters (split one-to-one), the small
  candidate x lost re-identification cost matrix, the few tracks waiting for a check-in,
  departing tracks, and the confirmed ids and positions once per frame.

Everything is per-instance state; nothing happens at import.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from core.backend import get_xp, to_numpy
from core.knowledge import StoreKnowledge
from core.records import CameraFrame, GateCheckIns, Tracks

_TENTATIVE = 0
_CONFIRMED = 1
_LOST = 2

_BIG = 1.0e6  # cost of a pair that may not be matched (finite: scipy rejects infeasible inf)
_DENSE_MAX = 4096  # assignment problems up to this many pairs use a dense cost matrix
_CHUNK = 1 << 22  # pairwise distances computed this many pairs at a time on the device

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
    """Detections of one frame after cross-camera fusion (``m`` fused points), arrays of
    the input's backend (numpy or cupy).

    xy: (m, 2) float64 confidence-weighted mean position [m].
    conf: (m,) float64 fused confidence ``1 - prod(1 - conf)`` in [0, 1].
    count: (m,) int64 number of raw detections fused into each point.
    label: (n,) int64 fused point of each raw detection.
    """

    xy: np.ndarray
    conf: np.ndarray
    count: np.ndarray
    label: np.ndarray


def _xp_of(a) -> ModuleType:
    """Array namespace of ``a``: cupy for a cupy array, numpy for anything else."""
    return get_xp("cupy") if type(a).__module__.split(".")[0] == "cupy" else np


def fuse_detections(
    camera: np.ndarray, xy: np.ndarray, conf: np.ndarray, radius_m: float
) -> FusedDetections:
    """Cluster one frame's detections across cameras into one point per person.

    camera: (n,) int camera of each detection. xy: (n, 2) float64 [m]. conf: (n,) in [0, 1].
    radius_m: detections of different cameras closer than this are linked [m]. Arrays of
    either backend; the result is on the backend of ``xy`` (cupy inputs take
    :func:`_fuse_generic`).

    Linked detections form connected components. A camera sees a person at most once, so a
    component holding two detections of one camera is two (or more) people standing close
    together; it is split by assigning each camera's detections one-to-one to seeds (the
    detections of the camera that saw the most of them).
    """
    xp = _xp_of(xy)
    if xp is not np:
        return _fuse_generic(camera, xy, conf, radius_m, xp)
    camera = np.asarray(camera)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    conf = np.clip(np.asarray(conf, dtype=np.float64), 0.0, 1.0)
    n = xy.shape[0]
    if n == 0:
        return _no_fused(np)
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
    if len(crowded):
        _split_crowded(label, cam_idx, xy, w, crowded, ncomp)
        label = np.unique(label, return_inverse=True)[1].astype(np.int64)
    return _fused_points(label, xy, w, conf, np)


def _fuse_generic(camera, xy, conf, radius_m: float, xp: ModuleType) -> FusedDetections:
    """:func:`fuse_detections` with array ops of ``xp`` only (no scipy on the arrays): the
    same clusters, labels and fused points (up to float64 summation order).

    Pairs come from dense distances (:func:`_pairs_within`), components from
    :func:`_components`; the members of crowded clusters (rare) are split on the host.
    """
    camera = xp.asarray(camera)
    xy = xp.asarray(xy, dtype=xp.float64).reshape(-1, 2)
    conf = xp.clip(xp.asarray(conf, dtype=xp.float64), 0.0, 1.0)
    n = xy.shape[0]
    if n == 0:
        return _no_fused(xp)
    i, j, _ = _pairs_within(xy, xy, radius_m, xp, upper=True)
    cross = camera[i] != camera[j]
    label = _components(n, i[cross], j[cross], xp)
    ncomp = int(label.max()) + 1
    w = xp.maximum(conf, 1e-6)

    cam_u, cam_idx = xp.unique(camera, return_inverse=True)
    cam_idx = cam_idx.reshape(-1).astype(xp.int64)
    k = cam_u.shape[0]
    keys, counts = xp.unique(label * k + cam_idx, return_counts=True)
    crowded = xp.unique(keys[counts > 1] // k)
    if crowded.size:
        is_crowded = xp.zeros(ncomp, dtype=bool)
        is_crowded[crowded] = True
        sel = xp.flatnonzero(is_crowded[label])  # members of crowded clusters, in order
        sub = to_numpy(label[sel]).copy()
        _split_crowded(sub, to_numpy(cam_idx[sel]), to_numpy(xy[sel]), to_numpy(w[sel]),
                       to_numpy(crowded), ncomp)
        label[sel] = xp.asarray(sub)
        label = xp.unique(label, return_inverse=True)[1].reshape(-1).astype(xp.int64)
    return _fused_points(label, xy, w, conf, xp)


def _no_fused(xp: ModuleType) -> FusedDetections:
    return FusedDetections(
        xp.zeros((0, 2)), xp.zeros(0), xp.zeros(0, xp.int64), xp.zeros(0, xp.int64)
    )


def _fused_points(label, xy, w, conf, xp: ModuleType) -> FusedDetections:
    """Fused points of labelled detections: label (n,) int64 in ``0 .. m-1`` (all used);
    xy (n, 2) float64 [m]; w (n,) float64 weights; conf (n,) float64 in [0, 1]."""
    m = int(label.max()) + 1
    count = xp.bincount(label, minlength=m).astype(xp.int64)
    wsum = xp.bincount(label, weights=w, minlength=m)
    fx = xp.bincount(label, weights=w * xy[:, 0], minlength=m) / wsum
    fy = xp.bincount(label, weights=w * xy[:, 1], minlength=m) / wsum
    log_miss = xp.bincount(label, weights=xp.log1p(-xp.minimum(conf, 1.0 - 1e-12)), minlength=m)
    fconf = 1.0 - xp.exp(log_miss)
    return FusedDetections(xp.stack([fx, fy], axis=1), fconf, count, label)


def _split_crowded(
    label: np.ndarray, cam_idx: np.ndarray, xy: np.ndarray, w: np.ndarray,
    crowded: np.ndarray, next_label: int,
) -> None:
    """Split each crowded cluster into people (host, in place on ``label``).

    label: (q,) int64 cluster of each detection (all detections, or only those of the
    crowded clusters); cam_idx: (q,) int64 camera index; xy: (q, 2) float64 [m]; w: (q,)
    weights; crowded: cluster labels to split, ascending; next_label: first unused label.
    The first person of a cluster keeps its label; the others get new ones from next_label.
    """
    for lab in crowded:  # one pass per cluster of people standing close together (rare)
        members = np.flatnonzero(label == lab)
        sub = _split_cluster(cam_idx[members], xy[members], w[members])
        label[members] = np.where(sub == 0, lab, next_label + sub - 1)
        next_label += int(sub.max())


def _pairs_within(a, b, radius: float, xp: ModuleType, upper: bool = False):
    """Pairs of points ``a`` (p, 2) and ``b`` (q, 2) [m] at most ``radius`` [m] apart, from
    dense distances computed ``_CHUNK`` pairs at a time. ``upper``: ``a`` is ``b``; keep
    each unordered pair once (``i < j``).

    Returns i (k,) int64 into a, j (k,) int64 into b (row-major order), d (k,) float64 [m].
    """
    p, q = a.shape[0], b.shape[0]
    step = max(1, _CHUNK // max(q, 1))
    out_i, out_j, out_d = [], [], []
    for s in range(0, p, step):  # one pass for crowds up to a few thousand points
        diff = a[s : s + step, None, :] - b[None, :, :]
        d = xp.sqrt((diff * diff).sum(axis=2))  # (step, q) [m], as np.linalg.norm
        near = d <= radius
        if upper:
            near &= xp.arange(s, s + d.shape[0])[:, None] < xp.arange(q)[None, :]
        i, j = xp.nonzero(near)
        out_i.append(i.astype(xp.int64) + s)
        out_j.append(j.astype(xp.int64))
        out_d.append(d[i, j])
    if not out_i:
        return xp.zeros(0, xp.int64), xp.zeros(0, xp.int64), xp.zeros(0)
    if len(out_i) == 1:
        return out_i[0], out_j[0], out_d[0]
    return xp.concatenate(out_i), xp.concatenate(out_j), xp.concatenate(out_d)


def _components(n: int, i, j, xp: ModuleType):
    """Connected components of the undirected graph on ``n`` nodes with edges ``(i, j)``
    ((k,) int64 each), with array ops only: every node takes the smallest label among its
    neighbours, then jumps to its label's label, until nothing changes. Returns (n,) int64
    labels numbered by smallest node (as ``scipy.sparse.csgraph.connected_components``).
    """
    lab = xp.arange(n, dtype=xp.int64)
    if i.size == 0:
        return lab
    src = xp.concatenate([i, j])
    dst = xp.concatenate([j, i])
    while True:  # a few rounds: pointer jumping halves the distance to the root
        key = xp.sort(src * n + lab[dst])  # by node, then neighbour label
        node = key // n
        first = xp.ones(key.shape[0], dtype=bool)
        first[1:] = node[1:] != node[:-1]
        node, low = node[first], key[first] % n
        new = lab.copy()
        new[node] = xp.minimum(new[node], low)
        new = new[new]
        if bool((new == lab).all()):
            break
        lab = new
    return xp.unique(lab, return_inverse=True)[1].reshape(-1).astype(xp.int64)


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


def _shares_camera(a, b, label, camera) -> np.ndarray:
    """For pairs of fused points ``(a[i], b[i])``: does any camera see both?

    a, b: (p,) int64 fused point indices; label: (n,) int64 fused point of each raw
    detection; camera: (n,) int camera of each raw detection; one backend. Returns (p,) bool.
    """
    xp = _xp_of(label)
    if a.size == 0:
        return xp.zeros(0, dtype=bool)
    _, ci = xp.unique(camera, return_inverse=True)
    ci = ci.reshape(-1)
    present = xp.zeros((int(label.max()) + 1, int(ci.max()) + 1), dtype=bool)
    present[label, ci] = True  # (fused point, camera) seen
    return (present[a] & present[b]).any(axis=1)


def _inv2(S, xp: ModuleType):
    """Inverse of a stack of 2 x 2 matrices S (k, 2, 2) by the adjugate: a few elementwise
    kernels on a device (numpy keeps ``np.linalg.inv``; the two agree to float64 rounding)."""
    a, b, c, d = S[:, 0, 0], S[:, 0, 1], S[:, 1, 0], S[:, 1, 1]
    adj = xp.stack([xp.stack([d, -b], axis=-1), xp.stack([-c, a], axis=-1)], axis=-2)
    return adj / (a * d - b * c)[:, None, None]


def _rect_distance(xy, rect: np.ndarray, xp: ModuleType = np):
    """Distance from points to an axis-aligned rectangle (0 inside).

    xy: (n, 2) float64 [m] of backend ``xp``; rect: (4,) host xmin, ymin, xmax, ymax [m].
    Returns (n,) [m].
    """
    x0, y0, x1, y1 = (float(v) for v in rect)
    dx = xp.maximum(xp.maximum(x0 - xy[:, 0], xy[:, 0] - x1), 0.0)
    dy = xp.maximum(xp.maximum(y0 - xy[:, 1], xy[:, 1] - y1), 0.0)
    return xp.hypot(dx, dy)


def _gated_assignment(a: np.ndarray, b: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairing of points ``a`` (p, 2) and ``b`` (q, 2) [m]: the most pairs closer
    than ``gate`` [m], and among those the least total distance.

    Returns index arrays into a and b, (k,) int64 each. Small problems use a dense cost
    matrix with ``linear_sum_assignment``; large ones only the gated pairs (k-d tree) and
    the sparse solver, with one dummy column per row so a full matching always exists.
    cupy inputs take :func:`_gated_assignment_generic` (same optimum).
    """
    xp = _xp_of(a)
    if xp is not np:
        return _gated_assignment_generic(a, b, gate, xp)
    p, q = a.shape[0], b.shape[0]
    if p == 0 or q == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if p * q <= _DENSE_MAX:
        d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
        r, c = linear_sum_assignment(np.where(d <= gate, d, _BIG))
        ok = d[r, c] <= gate
        return r[ok].astype(np.int64), c[ok].astype(np.int64)
    e = cKDTree(a).sparse_distance_matrix(cKDTree(b), gate, output_type="ndarray")
    return _sparse_matching(e["i"], e["j"], e["v"])


def _sparse_matching(i: np.ndarray, j: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most pairs, then least total distance, among the allowed pairs ``(i, j)`` at
    distance ``v`` [m] ((k,) host arrays each), by ``min_weight_full_bipartite_matching``.
    Returns the matched i and j values, (m,) int64 each."""
    if i.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, ri = np.unique(i, return_inverse=True)
    cols, cj = np.unique(j, return_inverse=True)
    nr, nc = rows.size, cols.size
    # +1 keeps every weight non-zero (the sparse solver drops zeros); it does not change
    # the optimum because the number of real pairs is maximised first (dummies cost _BIG).
    graph = coo_matrix(
        (
            np.concatenate([v + 1.0, np.full(nr, _BIG)]),
            (np.concatenate([ri, np.arange(nr)]), np.concatenate([cj, nc + np.arange(nr)])),
        ),
        shape=(nr, nc + nr),
    ).tocsr()
    r, c = min_weight_full_bipartite_matching(graph)
    ok = c < nc
    return rows[r[ok]].astype(np.int64), cols[c[ok]].astype(np.int64)


def _edge_matching(i: np.ndarray, j: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Most pairs, then least total distance, among the allowed host pairs ``(i, j)`` at
    distance ``v`` [m] ((k,) each), solved as :func:`_gated_assignment` solves a problem
    of that size: a dense ``linear_sum_assignment`` when the rows x columns they touch are
    at most ``_DENSE_MAX`` pairs, else :func:`_sparse_matching`. Returns the matched i and
    j values, (m,) int64 each."""
    rows, ri = np.unique(i, return_inverse=True)
    cols, cj = np.unique(j, return_inverse=True)
    if rows.size * cols.size > _DENSE_MAX:
        return _sparse_matching(i, j, v)
    cost = np.full((rows.size, cols.size), _BIG)
    cost[ri, cj] = v
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] < _BIG
    return rows[r[ok]].astype(np.int64), cols[c[ok]].astype(np.int64)


def _gated_assignment_generic(a, b, gate: float, xp: ModuleType):
    """:func:`_gated_assignment` for arrays of ``xp`` (numpy or cupy): the same optimum,
    with the work on the device and only the conflicts on the host.

    a (p, 2), b (q, 2) [m]; gate [m]. The gated pairs come from dense distances on the
    device. A pair whose row has no other gated column and whose column no other gated
    row is a component of the gated graph on its own, so it is in every optimal
    assignment: those are kept on the device. The rest (rows and columns that compete)
    go to the host as a list of pairs and are solved by :func:`_edge_matching`.
    Returns (k,) int64 indices into a and b on ``xp``, by ascending row.
    """
    p, q = a.shape[0], b.shape[0]
    none = xp.zeros(0, xp.int64)
    if p == 0 or q == 0:
        return none, none
    i, j, d = _pairs_within(a, b, gate, xp)
    if i.size == 0:
        return none, none
    alone = (xp.bincount(i, minlength=p)[i] == 1) & (xp.bincount(j, minlength=q)[j] == 1)
    r, c = i[alone], j[alone]
    conflict = ~alone
    ci = i[conflict]
    if ci.size:
        hr, hc = _edge_matching(to_numpy(ci), to_numpy(j[conflict]), to_numpy(d[conflict]))
        r = xp.concatenate([r, xp.asarray(hr)])
        c = xp.concatenate([c, xp.asarray(hc)])
        order = xp.argsort(r)
        r, c = r[order], c[order]
    return r, c


class Tracker:
    """Multi-camera tracker with gate identities; feed it frames in time order.

    Tracks live in parallel arrays (one row per tentative, confirmed or lost track). The
    ``engine`` runs the update: ``"array"`` keeps the table on the backend ``xp`` (numpy or
    cupy; None: :func:`core.backend.get_xp`) and runs a handful of vectorized calls per
    frame whatever the crowd size; ``"numba"`` (numpy only) runs the same steps compiled, in
    one call per frame, on a preallocated host table (:mod:`core._track_kernels`). None
    picks ``"numba"`` on numpy where numba imports, else ``"array"``. Both give the same
    tracks. Public track ids are given at confirmation, counting up from 0 per instance.
    Inputs and outputs are host numpy.
    """

    def __init__(self, knowledge: StoreKnowledge, config: TrackerConfig | None = None,
                 xp: ModuleType | str | None = None, engine: str | None = None) -> None:
        self._setup(knowledge.entrance, knowledge.exit, knowledge.camera_hz, config, xp, engine)

    @classmethod
    def on_floor(cls, entrance: np.ndarray, exit: np.ndarray, camera_hz: float,
                 config: TrackerConfig | None = None,
                 xp: ModuleType | str | None = None, engine: str | None = None) -> Tracker:
        """A tracker that knows only the floor: where people enter and leave (rectangles
        xmin, ymin, xmax, ymax [m]) and the camera rate [Hz] (``storetwin track``)."""
        self = cls.__new__(cls)
        self._setup(entrance, exit, camera_hz, config, xp, engine)
        return self

    def _setup(self, entrance, exit, camera_hz, config: TrackerConfig | None, xp,
               engine: str | None) -> None:
        self.config = TrackerConfig() if config is None else config
        self._entrance = _rect(entrance, "entrance")
        self._exit = _rect(exit, "exit")
        if not (isinstance(camera_hz, (int, float)) and camera_hz > 0):
            raise ValueError(f"StoreKnowledge.camera_hz must be > 0, got {camera_hz!r}")
        self._xp = get_xp(xp) if xp is None or isinstance(xp, str) else xp
        self._kernels = _pick_engine(engine, self._xp)
        # The scipy (host) paths serve numpy only; the array-op paths serve any backend
        # (tests set this on numpy to run the device code here).
        self._generic = self._xp is not np
        cfg = self.config
        # Longest a track can take from birth to confirmation [s].
        self._confirm_latency_s = (cfg.confirm_hits * (cfg.tentative_max_misses + 1) + 1) / float(
            camera_hz
        )
        self._next_id = 0
        self._t: float | None = None
        if self._kernels is None:
            self._table = _empty_rows(self._xp)
        else:  # preallocated host columns, the first self._n rows in use
            self._n = 0
            self._table = self._kernels.empty_table(64)
            self._dep = (np.zeros(64, np.int64), np.zeros(64, np.int64), np.zeros(64, bool))
            self._par = self._kernels.params(cfg, self._entrance, self._exit)
        self._departures: list[Departure] = []
        self._accounts: dict[int, int] = {}
        self._q_t = np.zeros(0, np.float64)  # queued check-ins, sorted by time (host)
        self._q_account = np.zeros(0, np.int64)
        self._history: deque[tuple[float, np.ndarray, np.ndarray]] = deque()  # host

    @property
    def engine(self) -> str:
        """What runs :meth:`update`: ``"numba"`` (compiled, host) or ``"array"``."""
        return "array" if self._kernels is None else "numba"

    @property
    def _rows(self) -> dict:
        """The track table, one row per track, by column name (see :func:`_empty_rows`);
        on the numba engine, views of the rows in use of its preallocated columns."""
        if self._kernels is None:
            return self._table
        n = self._n
        return {name: col[:n] for name, col in zip(_COLUMNS, self._table, strict=True)}

    @_rows.setter
    def _rows(self, rows: dict) -> None:  # the array engine replaces its table
        self._table = rows

    @property
    def xp(self) -> ModuleType:
        """Array namespace of the track table: numpy or cupy."""
        return self._xp

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
        coasting (not lost), sorted by id: track_id (n,) int64, xy (n, 2) float64 [m], host
        numpy on either backend. Raises ValueError when frames go back in time.
        """
        t = float(frame.t)
        if self._t is not None and t < self._t:
            raise ValueError(
                f"frame {frame.frame} at t={t} s is earlier than the last ({self._t} s)"
            )
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        if self._kernels is None:
            ids, xy = self._update_arrays(frame, t, dt)
        else:
            ids, xy = self._update_compiled(frame, t, dt)
        self._history.append((t, ids, xy))
        horizon = t - self.config.history_s
        while self._history[0][0] < horizon:
            self._history.popleft()
        return Tracks(frame=int(frame.frame), t=t, track_id=ids, xy=xy)

    def _update_compiled(self, frame: CameraFrame, t: float, dt: float):
        """The numba engine's update: one kernel call (:func:`core._track_kernels.step`),
        then the check-in binding in Python when one is queued. Returns the confirmed
        ids (k,) int64 and xy (k, 2) float64 [m] by ascending id."""
        camera = frame.camera
        if self._n + camera.shape[0] > self._table[0].shape[0]:
            self._grow(self._n + camera.shape[0])
        q = self.config.accel_sigma_mps2**2
        n, self._next_id, ids, xy, ndep = self._kernels.step(
            self._table, self._n, camera, frame.xy, frame.conf, t, dt,
            q * dt**4 / 4.0, q * dt**3 / 2.0, q * dt**2,  # Q as _predict writes it
            self._par, self._next_id, *self._dep,
        )
        self._n = n
        if ndep:
            self._take_departures(ndep, t)
        if self._q_t.size:
            self._bind(t)
        return ids, xy

    def _grow(self, rows: int) -> None:
        """Room for at least ``rows`` rows in the numba engine's columns (doubling)."""
        n = self._n
        cap = max(2 * self._table[0].shape[0], rows)
        table = self._kernels.empty_table(cap)
        for new, old in zip(table, self._table, strict=True):
            new[:n] = old[:n]
        self._table = table
        self._dep = (np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, bool))

    def _take_departures(self, k: int, t: float) -> None:
        """Departures the numba engine wrote into its buffers (the first ``k``)."""
        tid, acc, certain = (a[:k].tolist() for a in self._dep)
        self._departures.extend(
            Departure(i, a, t, c) for i, a, c in zip(tid, acc, certain, strict=True)
        )

    def _update_arrays(self, frame: CameraFrame, t: float, dt: float):
        """The array engine's update (numpy or cupy). Returns the confirmed ids (k,) int64
        and xy (k, 2) float64 [m] by ascending id, host numpy."""
        cfg = self.config
        xp = self._xp
        camera = xp.asarray(frame.camera)
        if self._generic:
            fused = _fuse_generic(camera, xp.asarray(frame.xy), xp.asarray(frame.conf),
                                  cfg.fuse_radius_m, xp)
        else:
            fused = fuse_detections(frame.camera, frame.xy, frame.conf, cfg.fuse_radius_m)
        self._predict(dt)

        R = self._rows
        st = R["status"]
        stages = (
            xp.flatnonzero(st == _CONFIRMED),
            xp.flatnonzero(st == _TENTATIVE),
        )
        free = xp.arange(fused.xy.shape[0])
        m_rows, m_dets = [], []
        for rows in stages:
            if self._generic:
                r, c = _gated_assignment_generic(R["x"][rows, :2], fused.xy[free], cfg.gate_m, xp)
            else:
                r, c = _gated_assignment(R["x"][rows, :2], fused.xy[free], cfg.gate_m)
            taken = free[c]
            m_rows.append(rows[r])
            m_dets.append(taken)
            left = xp.ones(free.shape[0], dtype=bool)
            left[c] = False
            free = free[left]
            free = self._drop_duplicates(free, taken, fused, camera)
        rows = xp.concatenate(m_rows)
        dets = xp.concatenate(m_dets)
        self._correct(rows, fused.xy[dets], fused.count[dets])
        seen = xp.zeros(st.shape[0], dtype=bool)
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
        out = xp.flatnonzero(R["status"] == _CONFIRMED)
        out = out[xp.argsort(R["tid"][out], kind="stable")]
        # fresh host arrays (fancy indexing copies)
        return to_numpy(R["tid"][out]), to_numpy(R["x"][out, :2])

    def pop_departures(self) -> list[Departure]:
        """Departures declared since the last call, in time order (then by track id)."""
        out = sorted(self._departures, key=lambda d: (d.t, d.track_id))
        self._departures = []
        return out

    def active_with_account(self, account: int) -> bool:
        """True while a confirmed or lost (not yet departed) track is bound to ``account``."""
        R = self._rows
        return bool(self._xp.any((R["account"] == account) & (R["tid"] >= 0)))

    def account_of(self, track_id: int) -> int:
        """Account bound to a track (also after it departed); -1 if unbound or unknown."""
        return self._accounts.get(int(track_id), -1)

    def history(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Confirmed-track positions reported in ``[t0, t1]`` [s], as far back as
        ``history_s``.

        Returns track_id (m,) int64, t (m,) float64 [s], xy (m, 2) float64 [m], in frame order
        (host numpy).
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
        if self._kernels is None:
            self._expire(t, flushing=True)
        else:
            self._n, k = self._kernels.expire(self._table, self._n, t, self._par, True,
                                              *self._dep)
            self._take_departures(k, t)
        return self.pop_departures()

    # ------------------------------------------------------------------ internals

    def _predict(self, dt: float) -> None:
        """Constant-velocity prediction of every non-lost track over ``dt`` [s]."""
        if dt <= 0.0:
            return
        xp = self._xp
        R = self._rows
        rows = xp.flatnonzero(R["status"] != _LOST)
        if rows.size == 0:
            return
        F = np.eye(4)
        F[0, 2] = F[1, 3] = dt
        q = self.config.accel_sigma_mps2**2
        Q = np.zeros((4, 4))
        Q[[0, 1], [0, 1]] = q * dt**4 / 4.0
        Q[[0, 1, 2, 3], [2, 3, 0, 1]] = q * dt**3 / 2.0
        Q[[2, 3], [2, 3]] = q * dt**2
        F, Q = xp.asarray(F), xp.asarray(Q)
        R["x"][rows] = R["x"][rows] @ F.T
        R["P"][rows] = F @ R["P"][rows] @ F.T + Q

    def _correct(self, rows, z, count) -> None:
        """Kalman update of ``rows`` with fused measurements z (k, 2) [m] of ``count``
        (k,) detections each (measurement variance shrinks with the count)."""
        if rows.size == 0:
            return
        xp = self._xp
        R = self._rows
        x, P = R["x"][rows], R["P"][rows]
        var = self.config.meas_sigma_m**2 / xp.maximum(count, 1)
        S = P[:, :2, :2] + var[:, None, None] * xp.eye(2)
        K = P[:, :, :2] @ (np.linalg.inv(S) if xp is np else _inv2(S, xp))
        x = x + xp.einsum("kij,kj->ki", K, z - x[:, :2])
        P = P - K @ P[:, :2, :]
        P = 0.5 * (P + xp.swapaxes(P, 1, 2))
        speed = xp.linalg.norm(x[:, 2:], axis=1)
        x[:, 2:] *= xp.minimum(1.0, self.config.max_speed_mps / xp.maximum(speed, 1e-12))[:, None]
        R["x"][rows], R["P"][rows] = x, P

    def _drop_duplicates(self, free, taken, fused: FusedDetections, camera):
        """Remove from ``free`` the fused points that are a stray view of a matched one:
        within ``dup_radius_m`` of it and seen by none of its cameras."""
        if free.size == 0 or taken.size == 0:
            return free
        xp = self._xp
        if self._generic:
            i, j, _ = _pairs_within(fused.xy[free], fused.xy[taken], self.config.dup_radius_m, xp)
        else:
            e = cKDTree(fused.xy[free]).sparse_distance_matrix(
                cKDTree(fused.xy[taken]), self.config.dup_radius_m, output_type="ndarray"
            )
            i, j = e["i"].astype(np.int64), e["j"].astype(np.int64)
        if i.size == 0:
            return free
        distinct = _shares_camera(free[i], taken[j], fused.label, camera)
        dup = xp.zeros(free.shape[0], dtype=bool)
        dup[i[~distinct]] = True
        return free[~dup]

    def _spawn(self, z, t: float) -> None:
        """Start tentative tracks at fused points z (k, 2) [m]: births inside the entrance,
        re-identification candidates elsewhere."""
        k = z.shape[0]
        if k == 0:
            return
        xp = self._xp
        cfg = self.config
        P = xp.zeros((k, 4, 4))
        P[:, [0, 1], [0, 1]] = cfg.meas_sigma_m**2
        P[:, [2, 3], [2, 3]] = cfg.init_speed_sigma_mps**2
        new = {
            "tid": xp.full(k, -1, xp.int64),
            "status": xp.full(k, _TENTATIVE, xp.int8),
            "orphan": _rect_distance(z, self._entrance, xp) > 0.0,
            "x": xp.concatenate([z, xp.zeros((k, 2))], axis=1),
            "P": P,
            "hits": xp.ones(k, xp.int32),
            "miss": xp.zeros(k, xp.int32),
            "t_birth": xp.full(k, t),
            "xy_birth": z.copy(),
            "t_last": xp.full(k, t),
            "xy_last": z.copy(),
            "account": xp.full(k, -1, xp.int64),
        }
        self._rows = {name: xp.concatenate([col, new[name]]) for name, col in self._rows.items()}

    def _expire(self, t: float, flushing: bool) -> None:
        """Exit departures, confirmed -> lost, lost -> uncertain departures, and dropping
        tentative tracks missed too often. ``flushing``: no frame at ``t``, so no track
        is declared lost (only already-lost ones can time out)."""
        xp = self._xp
        cfg = self.config
        R = self._rows
        st = R["status"]
        gap = t - R["t_last"]
        unseen = R["t_last"] < t
        at_exit = _rect_distance(R["xy_last"], self._exit, xp) <= cfg.exit_margin_m
        confirmed_unseen = (st == _CONFIRMED) & unseen
        exits = confirmed_unseen & at_exit & (gap >= cfg.exit_linger_s)
        if not flushing:
            st[confirmed_unseen & ~at_exit & (gap >= cfg.max_missed_s)] = _LOST
        timeouts = (st == _LOST) & (gap >= cfg.reid_window_s)
        for rows, certain in ((xp.flatnonzero(exits), True), (xp.flatnonzero(timeouts), False)):
            if rows.size == 0:
                continue
            self._departures.extend(
                Departure(int(tid), int(acc), t, certain)
                for tid, acc in zip(
                    to_numpy(R["tid"][rows]), to_numpy(R["account"][rows]), strict=True
                )
            )
        drop = (st == _TENTATIVE) & (R["miss"] > cfg.tentative_max_misses)
        self._keep(~(exits | timeouts | drop))

    def _confirm(self, t: float) -> None:
        """Promote tentative tracks with enough hits: births get a new id; a
        re-identification candidate takes over the nearest compatible lost track
        (a small candidate x lost assignment, solved on the host)."""
        xp = self._xp
        cfg = self.config
        R = self._rows
        ready = (R["status"] == _TENTATIVE) & (R["hits"] >= cfg.confirm_hits)
        births = xp.flatnonzero(ready & ~R["orphan"])
        if births.size:
            births = births[xp.argsort(R["t_birth"][births], kind="stable")]
            R["tid"][births] = xp.arange(self._next_id, self._next_id + births.size)
            R["status"][births] = _CONFIRMED
            self._next_id += int(births.size)
        cand = xp.flatnonzero(ready & R["orphan"])
        lost = xp.flatnonzero(R["status"] == _LOST)
        if cand.size == 0 or lost.size == 0:
            return
        gap = R["t_birth"][cand][:, None] - R["t_last"][lost][None, :]
        dist = xp.linalg.norm(R["xy_birth"][cand][:, None, :] - R["xy_last"][lost][None], axis=2)
        ok = (gap > 0.0) & (gap <= cfg.reid_window_s)
        ok &= dist <= cfg.reid_speed_mps * gap + cfg.gate_m
        cost = xp.where(ok, dist + 1e-6 * gap, _BIG)  # nearest; ties: most recently lost
        r, c = linear_sum_assignment(to_numpy(cost))
        keep = to_numpy(ok)[r, c]
        if not keep.any():
            return
        src, dst = cand[xp.asarray(r[keep])], lost[xp.asarray(c[keep])]
        for name in ("x", "P", "miss", "hits", "t_last", "xy_last"):
            R[name][dst] = R[name][src]
        R["status"][dst] = _CONFIRMED
        alive = xp.ones(R["status"].shape[0], dtype=bool)
        alive[src] = False
        self._keep(alive)

    def _bind(self, t: float) -> None:
        """Bind unbound confirmed tracks, oldest birth first, to the earliest unconsumed
        check-in within ``checkin_window_s`` of their birth; forget stale check-ins. The
        few candidate tracks are matched on the host."""
        if self._q_t.size == 0:
            return
        xp = self._xp
        w = self.config.checkin_window_s
        R = self._rows
        cand = xp.flatnonzero(
            (R["tid"] >= 0)
            & (R["account"] < 0)
            & (R["t_birth"] >= float(self._q_t[0]) - w)
            & (R["t_birth"] <= float(self._q_t[-1]) + w)
        )
        used = np.zeros(self._q_t.size, dtype=bool)
        if cand.size:
            t_birth, tid = to_numpy(R["t_birth"][cand]), to_numpy(R["tid"][cand])
            bound, accounts = [], []
            for k in np.lexsort((tid, t_birth)):  # one pass per unbound track (few)
                ok = np.flatnonzero(~used & (np.abs(self._q_t - t_birth[k]) <= w))
                if ok.size:
                    j = ok[0]
                    used[j] = True
                    acc = int(self._q_account[j])
                    bound.append(k)
                    accounts.append(acc)
                    self._accounts[int(tid[k])] = acc
            if bound:
                R["account"][cand[xp.asarray(bound)]] = xp.asarray(accounts, dtype=xp.int64)
        keep = ~used & (self._q_t >= t - w - self._confirm_latency_s)
        self._q_t, self._q_account = self._q_t[keep], self._q_account[keep]

    def _keep(self, mask) -> None:
        if not bool(mask.all()):
            self._rows = {name: col[mask] for name, col in self._rows.items()}


# Track table columns, in the order of core._track_kernels' table tuple.
_COLUMNS = ("tid", "status", "orphan", "x", "P", "hits", "miss", "t_birth", "xy_birth",
            "t_last", "xy_last", "account")


def _pick_engine(engine: str | None, xp: ModuleType) -> ModuleType | None:
    """The compiled kernels module for engine ``"numba"``, None for ``"array"``; None picks
    numba on numpy where it imports. Raises ValueError for an unknown or impossible one."""
    if engine not in (None, "numba", "array"):
        raise ValueError(f"Tracker engine must be 'numba', 'array' or None, got {engine!r}")
    if engine == "array" or (engine is None and xp is not np):
        return None
    if xp is not np:
        raise ValueError(f"Tracker engine 'numba' runs on numpy only, not {xp.__name__}")
    try:
        from core import _track_kernels
    except ImportError as e:
        if engine is None:
            return None
        raise ValueError(f"Tracker engine 'numba' needs numba ({e})") from None
    return _track_kernels


def _empty_rows(xp: ModuleType = np) -> dict:
    """Track table columns (one row per track) on backend ``xp``: tid int64 (-1 until
    confirmed), status int8, orphan bool (re-identification candidate), x (n, 4) float64
    [m, m/s], P (n, 4, 4), hits/miss int32 frames, t_birth/t_last float64 [s],
    xy_birth/xy_last (n, 2) [m], account int64 (-1 unbound)."""
    return {
        "tid": xp.zeros(0, xp.int64),
        "status": xp.zeros(0, xp.int8),
        "orphan": xp.zeros(0, bool),
        "x": xp.zeros((0, 4)),
        "P": xp.zeros((0, 4, 4)),
        "hits": xp.zeros(0, xp.int32),
        "miss": xp.zeros(0, xp.int32),
        "t_birth": xp.zeros(0),
        "xy_birth": xp.zeros((0, 2)),
        "t_last": xp.zeros(0),
        "xy_last": xp.zeros((0, 2)),
        "account": xp.zeros(0, xp.int64),
    }


def _rect(a: np.ndarray, name: str) -> np.ndarray:
    r = np.asarray(a, dtype=np.float64).reshape(-1)
    if r.shape != (4,) or not (r[0] <= r[2] and r[1] <= r[3]):
        raise ValueError(f"StoreKnowledge.{name} must be (xmin, ymin, xmax, ymax), got {a!r}")
    return r
