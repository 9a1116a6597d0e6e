"""Cross-camera fusion: the detections of one person by several overlapping cameras of one
frame become one fused point.

Detections of different cameras within a radius are linked; linked detections form
connected components. A camera sees a person at most once, so a component holding two
detections of one camera is two (or more) people standing close together: it is split one
to one (:func:`_split_cluster`). On numpy the pairs come from a k-d tree and the components
from ``scipy.sparse.csgraph``; on other backends (cupy) from array ops only
(:mod:`core.neighbours`), with the same clusters, labels and fused points.
"""

from __future__ import annotations

from types import ModuleType
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from core.backend import to_numpy, xp_of
from core.neighbours import _components, _pairs_within


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
    xp = xp_of(xy)
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
    xp = xp_of(label)
    if a.size == 0:
        return xp.zeros(0, dtype=bool)
    _, ci = xp.unique(camera, return_inverse=True)
    ci = ci.reshape(-1)
    present = xp.zeros((int(label.max()) + 1, int(ci.max()) + 1), dtype=bool)
    present[label, ci] = True  # (fused point, camera) seen
    return (present[a] & present[b]).any(axis=1)
