"""Cross-camera fusion of one frame's detections, compiled (numba), for the compiled
tracker (:mod:`core._track_kernels`): :func:`fuse` is :func:`core.fusion.fuse_detections`
and :func:`split_cluster` its ``_split_cluster``.

Exactness: fusion sums in detection order as ``numpy.bincount``, so fused points are those
of :func:`core.fusion.fuse_detections` to float64 rounding (the same bytes on the machines
measured; fused confidences may differ in the last bit where numpy takes SIMD
``exp``/``log1p``).

Pinned dependencies: numba's cache checks this file only, yet the machine code it keeps for
these kernels holds that of the kernel modules they call (:mod:`core._assign_kernels` and
:mod:`core._graph_kernels`). ``_DEPENDS`` pins the SHA-256 of each of those files (and of
those they pin), and the kernels are cached only while every pin holds (``CACHE``): an edit
there changes this file too (its pin) or, the pin not updated, compiles these kernels afresh
in each process rather than run stale machine code. After editing a kernel module, refresh
the pins from the repository root: ``python -m tests.kernel_pins --update``
(``tests/test_architecture.py`` fails until then).

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from core._assign_kernels import linear_sum_assignment
from core._graph_kernels import _grid, components, group, pairs_within_self

# SHA-256 of the kernel modules whose code these kernels compile in (module docstring;
# refresh: python -m tests.kernel_pins --update)
_DEPENDS = {
    "_assign_kernels.py": "8bb1a27b2754a01f510f28a0792e3638743ee1189b833e5a39eb4eba8c983505",
    "_graph_kernels.py": "84187033ad9ba899f99024bfd3d2479e351c9a6bfab1d36199ba9c92b7f5df82",
}


def _pins_hold(file: str, pins: dict[str, str]) -> bool:
    """Whether each module named in ``pins``, beside ``file``, still has its pinned SHA-256
    (of its bytes, CRLF read as LF); False when one cannot be read."""
    folder = Path(file).parent
    try:
        texts = {name: (folder / name).read_bytes() for name in pins}
    except OSError:
        return False
    return all(hashlib.sha256(texts[name].replace(b"\r\n", b"\n")).hexdigest() == digest
               for name, digest in pins.items())


CACHE = _pins_hold(__file__, _DEPENDS)  # numba may cache these kernels (the pins hold)


@njit(cache=CACHE)
def split_cluster(cam, xy, w):
    """:func:`core.fusion._split_cluster`: the people of one crowded cluster.

    cam (q,) int64 camera of each detection; xy (q, 2) float64 [m]; w (q,) float64
    weights. Returns (q,) int64 person index in 0 .. k-1, k = most detections of one
    camera: seeds are the detections of the camera that saw the most (the lowest id on a
    tie), then three rounds of nearest centre, one-to-one per camera that saw several, and
    weighted centres."""
    q = cam.shape[0]
    first, counts, seed = _seed_camera(cam)
    k = counts[seed]
    centers = np.empty((k, 2))
    t = 0
    for v in range(q):
        if first[v] == seed:
            centers[t, 0] = xy[v, 0]
            centers[t, 1] = xy[v, 1]
            t += 1
    assign = np.zeros(q, np.int64)
    d = np.empty((q, k))
    new = np.empty((k, 2))
    for _ in range(3):
        for v in range(q):
            best = 0
            for c in range(k):
                dx = xy[v, 0] - centers[c, 0]
                dy = xy[v, 1] - centers[c, 1]
                d[v, c] = math.sqrt(dx * dx + dy * dy)
                if d[v, c] < d[v, best]:
                    best = c
            assign[v] = best
        _one_per_camera(first, counts, d, assign)
        if _weighted_centres(assign, w, xy, centers, new):
            break
        for c in range(k):
            centers[c, 0] = new[c, 0]
            centers[c, 1] = new[c, 1]
    return assign


@njit(cache=CACHE)
def _seed_camera(cam):
    """The cameras of a cluster's detections cam (q,) int64: first (q,) int64 each
    detection's camera as its camera's first member, counts (q,) int64 the detections of
    a camera at its first member, and the seed: the first member of the camera that saw the
    most (the lowest camera id on a tie)."""
    q = cam.shape[0]
    first = np.empty(q, np.int64)  # each detection's camera, as its camera's first member
    counts = np.zeros(q, np.int64)  # detections of a camera, at its first member
    for v in range(q):
        first[v] = v
        for u in range(v):
            if cam[u] == cam[v]:
                first[v] = u
                break
        counts[first[v]] += 1
    seed = -1
    for v in range(q):
        if first[v] == v and (
            seed < 0
            or counts[v] > counts[seed]
            or (counts[v] == counts[seed] and cam[v] < cam[seed])
        ):
            seed = v
    return first, counts, seed


@njit(cache=CACHE)
def _one_per_camera(first, counts, d, assign):
    """Reassign, one-to-one by :func:`linear_sum_assignment` on the distances d (q, k)
    [m], the detections of each camera that saw several (first, counts: :func:`_seed_camera`);
    assign (q,) int64 in place."""
    q, k = d.shape
    for cm in range(q):  # each camera that saw several (disjoint problems, any order)
        if first[cm] != cm or counts[cm] < 2:
            continue
        sel = np.empty(counts[cm], np.int64)
        sub = np.empty((counts[cm], k))
        t = 0
        for v in range(q):
            if first[v] == cm:
                sel[t] = v
                for c in range(k):
                    sub[t, c] = d[v, c]
                t += 1
        r, col = linear_sum_assignment(sub)
        for s in range(r.shape[0]):
            assign[sel[r[s]]] = col[s]


@njit(cache=CACHE)
def _weighted_centres(assign, w, xy, centers, new):
    """The w-weighted centres of the detections xy (q, 2) [m] assigned to each of the k
    people into new (k, 2) [m] (a person with none keeps its centre from centers (k, 2)).
    Returns True when new equals centers."""
    k = centers.shape[0]
    ws = np.zeros(k)
    sxs = np.zeros(k)
    sys = np.zeros(k)
    for v in range(assign.shape[0]):  # in detection order, as np.bincount
        ws[assign[v]] += w[v]
        sxs[assign[v]] += w[v] * xy[v, 0]
        sys[assign[v]] += w[v] * xy[v, 1]
    same = True
    for c in range(k):
        if ws[c] > 0:
            new[c, 0] = sxs[c] / max(ws[c], 1e-12)
            new[c, 1] = sys[c] / max(ws[c], 1e-12)
        else:
            new[c, 0] = centers[c, 0]
            new[c, 1] = centers[c, 1]
        same = same and new[c, 0] == centers[c, 0] and new[c, 1] == centers[c, 1]
    return same


@njit(cache=CACHE)
def fuse(camera, xy, conf, radius):
    """:func:`core.fusion.fuse_detections`: camera (n,) int64, xy (n, 2) float64 [m],
    conf (n,) float64 in [0, 1] (clipped), radius [m]. Returns the fused xy (m, 2) float64
    [m], conf (m,) float64, count (m,) int64 and label (n,) int64: those of the array
    path (to float64 rounding; conf where numpy takes SIMD exp and log1p)."""
    n = camera.shape[0]
    c = np.empty(n)
    w = np.empty(n)
    for i in range(n):
        c[i] = min(max(conf[i], 0.0), 1.0)
        w[i] = max(c[i], 1e-6)
    pi, pj = _cross_camera_pairs(camera, xy, radius)
    label, ncomp = components(n, pi, pj)
    m = _split_crowded(camera, xy, w, label, ncomp)
    # labels 0 .. m-1 are all used: np.unique's renumbering is the identity
    fxy, fconf, count = _fused_points(label, m, xy, w, c)
    return fxy, fconf, count, label


@njit(cache=CACHE)
def _cross_camera_pairs(camera, xy, radius):
    """The pairs (i < j) of detections of different cameras at most ``radius`` [m] apart
    (camera (n,) int64, xy (n, 2) float64 [m]): the cross-camera pairs of
    :func:`core._graph_kernels.pairs_within_self`, as a set (:func:`components` labels a
    set the same whatever its order). On :func:`_grid`'s cells (at least ``radius`` wide),
    each cell against itself and the four cells after it; the camera is compared first, and the distance's
    square root only taken near the radius (the same test, ``sqrt(dx^2 + dy^2) <=
    radius``). Returns i, j (k,) int64."""
    n = camera.shape[0]
    cap = max(16, 4 * n)
    pi = np.empty(cap, np.int64)
    pj = np.empty(cap, np.int64)
    if n < 2:
        return pi[:0], pj[:0]
    x0, y0, cell, nx, ny, start, order = _grid(xy, xy, radius)
    if nx == 0:                        # not every point finite: compare every pair
        a, b, _ = pairs_within_self(xy, radius)
        k = 0
        for e in range(a.shape[0]):
            if camera[a[e]] != camera[b[e]]:
                a[k] = a[e]
                b[k] = b[e]
                k += 1
        return a[:k], b[:k]
    near2 = radius * radius * (1.0 + 1e-9) + 1e-300
    k = 0
    for gx in range(nx):
        for gy in range(ny):
            g = gx * ny + gy
            for (ox, oy) in ((0, 0), (1, -1), (1, 0), (1, 1), (0, 1)):
                hx, hy = gx + ox, gy + oy
                if hx >= nx or hy < 0 or hy >= ny:
                    continue
                h = hx * ny + hy
                for s in range(start[g], start[g + 1]):
                    i = order[s]
                    s2 = start[h] if h != g else s + 1
                    for u in range(s2, start[h + 1]):
                        j = order[u]
                        if camera[i] == camera[j]:
                            continue
                        dx = xy[i, 0] - xy[j, 0]
                        dy = xy[i, 1] - xy[j, 1]
                        d2 = dx * dx + dy * dy
                        if d2 > near2 or math.sqrt(d2) > radius:
                            continue
                        if k == pi.shape[0]:
                            pi = np.concatenate((pi, np.empty(k, np.int64)))
                            pj = np.concatenate((pj, np.empty(k, np.int64)))
                        pi[k] = min(i, j)
                        pj[k] = max(i, j)
                        k += 1
    return pi[:k], pj[:k]


@njit(cache=CACHE)
def _split_crowded(camera, xy, w, label, ncomp):
    """:func:`core.fusion._split_crowded`: split each of the ``ncomp`` clusters of label
    (n,) int64 that holds two detections of one camera into people (:func:`split_cluster`;
    camera (n,) int64, xy (n, 2) float64 [m], w (n,) float64 weights), in place on label:
    the first person keeps the cluster's label, the others get new ones from ncomp on.
    Returns the number of labels now in use."""
    start, members = group(label, ncomp)
    nxt = ncomp
    for lab in range(ncomp):  # ascending, as np.unique lists the crowded clusters
        s0, s1 = start[lab], start[lab + 1]
        crowded = False
        for s in range(s0, s1):
            for s2 in range(s + 1, s1):
                crowded = crowded or camera[members[s]] == camera[members[s2]]
        if not crowded:
            continue
        mcam = np.empty(s1 - s0, np.int64)
        mxy = np.empty((s1 - s0, 2))
        mw = np.empty(s1 - s0)
        for s in range(s1 - s0):
            v = members[s0 + s]
            mcam[s] = camera[v]
            mxy[s, 0] = xy[v, 0]
            mxy[s, 1] = xy[v, 1]
            mw[s] = w[v]
        sub = split_cluster(mcam, mxy, mw)
        top = 0
        for s in range(s1 - s0):  # the first person keeps the label
            if sub[s] > 0:
                label[members[s0 + s]] = nxt + sub[s] - 1
                top = max(top, sub[s])
        nxt += top
    return nxt


@njit(cache=CACHE)
def _fused_points(label, m, xy, w, c):
    """:func:`core.fusion._fused_points`: the fused xy (m, 2) float64 [m], confidence
    ``1 - prod(1 - c)`` (m,) and count (m,) int64 of detections labelled label (n,) int64
    in 0 .. m-1, with weights w (n,) and confidences c (n,) in [0, 1]."""
    count = np.zeros(m, np.int64)
    wsum = np.zeros(m)
    fx = np.zeros(m)
    fy = np.zeros(m)
    log_miss = np.zeros(m)
    for i in range(label.shape[0]):  # in detection order, as np.bincount
        g = label[i]
        count[g] += 1
        wsum[g] += w[i]
        fx[g] += w[i] * xy[i, 0]
        fy[g] += w[i] * xy[i, 1]
        log_miss[g] += math.log1p(-min(c[i], 1.0 - 1e-12))
    fxy = np.empty((m, 2))
    fconf = np.empty(m)
    for g in range(m):
        fxy[g, 0] = fx[g] / wsum[g]
        fxy[g, 1] = fy[g] / wsum[g]
        fconf[g] = 1.0 - math.exp(log_miss[g])
    return fxy, fconf, count
