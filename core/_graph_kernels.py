"""Pair searches, connected components and grouping for the compiled tracker
(:mod:`core._track_kernels`; numba, ``@njit(cache=True)``).

:func:`pairs_within` and :func:`pairs_within_self` find what a k-d tree finds
(``cKDTree.sparse_distance_matrix``, ``query_pairs``): every pair compared up to
``BRUTE_MAX`` candidate pairs, a uniform grid beyond. :func:`components` numbers connected
components as ``scipy.sparse.csgraph.connected_components`` does. :func:`group`,
:func:`indices` and :func:`argsort_stable` are the counting sort, ``flatnonzero`` and stable
sort that the other kernel modules share.

A leaf: it imports math, numpy and numba only, so numba's cache (which checks this file
alone) cannot go stale; the kernel modules that import it pin its text
(:mod:`core._assign_kernels`, :mod:`core._fusion_kernels`, :mod:`core._track_kernels`).

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BRUTE_MAX = 4096  # pair searches over at most this many pairs compare them all (else a grid)


@njit(cache=True)
def _find(parent, v):
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


@njit(cache=True)
def components(n, i, j):
    """Connected components of the undirected graph on ``n`` nodes with edges ``(i, j)``
    ((k,) int64 each), by union-find. Returns label (n,) int64 numbered by smallest node
    (as ``scipy.sparse.csgraph.connected_components``) and the number of components."""
    parent = np.arange(n)
    for e in range(i.shape[0]):
        a = _find(parent, i[e])
        b = _find(parent, j[e])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    label = np.empty(n, np.int64)
    lab_of = np.full(n, -1, np.int64)
    m = 0
    for v in range(n):
        r = _find(parent, v)  # the smallest node of its component
        if lab_of[r] < 0:
            lab_of[r] = m
            m += 1
        label[v] = lab_of[r]
    return label, m


@njit(cache=True)
def _push(pi, pj, pd, k, i, j, d):
    """Store pair (i, j, d) at k, doubling the buffers when full; returns them."""
    if k == pi.shape[0]:
        ni = np.empty(2 * k, np.int64)
        nj = np.empty(2 * k, np.int64)
        nd = np.empty(2 * k)
        for s in range(k):
            ni[s] = pi[s]
            nj[s] = pj[s]
            nd[s] = pd[s]
        pi, pj, pd = ni, nj, nd
    pi[k] = i
    pj[k] = j
    pd[k] = d
    return pi, pj, pd


@njit(cache=True)
def _grid(a, b, radius):
    """A uniform grid over ``b`` (q, 2) [m] to find the neighbours of ``a`` (p, 2) within
    ``radius`` [m] in 3 x 3 cells: cells at least ``radius`` wide (coarser on a sparse
    floor: at most ~4 (p + q) cells).

    Returns x0, y0 [m] (the corner), cell [m], nx, ny, start (nx ny + 1,) int64 offsets
    into order (q,) int64 (b's points by cell, ascending within one); nx = 0 when the
    points are not all finite (then every pair is compared)."""
    x0, y0, x1, y1 = a[0, 0], a[0, 1], a[0, 0], a[0, 1]
    finite = True      # (min and max pass a NaN by: test every point)
    for i in range(a.shape[0]):
        x0, y0 = min(x0, a[i, 0]), min(y0, a[i, 1])
        x1, y1 = max(x1, a[i, 0]), max(y1, a[i, 1])
        finite = finite and math.isfinite(a[i, 0]) and math.isfinite(a[i, 1])
    for i in range(b.shape[0]):
        x0, y0 = min(x0, b[i, 0]), min(y0, b[i, 1])
        x1, y1 = max(x1, b[i, 0]), max(y1, b[i, 1])
        finite = finite and math.isfinite(b[i, 0]) and math.isfinite(b[i, 1])
    sx, sy = x1 - x0, y1 - y0
    q = b.shape[0]
    if not (finite and math.isfinite(sx) and math.isfinite(sy)):
        return x0, y0, 1.0, 0, 0, np.zeros(1, np.int64), np.zeros(0, np.int64)
    cell = radius if radius > 0.0 else 1.0
    limit = 4.0 * (a.shape[0] + q) + 64.0
    while (sx / cell + 1.0) * (sy / cell + 1.0) > limit:  # sparse floor: coarser cells
        cell *= 2.0
    nx = int(sx / cell) + 1
    ny = int(sy / cell) + 1
    start = np.zeros(nx * ny + 1, np.int64)
    key = np.empty(q, np.int64)
    for j in range(q):
        cx = min(int((b[j, 0] - x0) / cell), nx - 1)
        cy = min(int((b[j, 1] - y0) / cell), ny - 1)
        key[j] = cx * ny + cy
        start[key[j] + 1] += 1
    for g in range(nx * ny):
        start[g + 1] += start[g]
    fill = np.empty(nx * ny, np.int64)
    for g in range(nx * ny):
        fill[g] = start[g]
    order = np.empty(q, np.int64)
    for j in range(q):  # counting sort
        order[fill[key[j]]] = j
        fill[key[j]] += 1
    return x0, y0, cell, nx, ny, start, order


@njit(cache=True)
def _pairs(a, b, radius, upper):
    """Pairs of points ``a`` (p, 2) and ``b`` (q, 2) [m] at most ``radius`` [m] apart;
    ``upper``: a is b, each unordered pair once (i < j). See :func:`pairs_within`."""
    p, q = a.shape[0], b.shape[0]
    pi = np.empty(max(16, p + q), np.int64)
    pj = np.empty(pi.shape[0], np.int64)
    pd = np.empty(pi.shape[0])
    k = 0
    if p == 0 or q == 0:
        return pi[:0], pj[:0], pd[:0]
    x0, y0, cell, nx, ny, start, order = 0.0, 0.0, 1.0, 0, 0, pi[:0], pi[:0]
    if p * q > BRUTE_MAX:
        x0, y0, cell, nx, ny, start, order = _grid(a, b, radius)
    for i in range(p):
        if nx == 0:  # one "cell" holding every point of b
            g0, g1, h0, h1 = 0, 1, 0, 1
        else:
            cx = min(int((a[i, 0] - x0) / cell), nx - 1)
            cy = min(int((a[i, 1] - y0) / cell), ny - 1)
            g0, g1, h0, h1 = max(cx - 1, 0), min(cx + 2, nx), max(cy - 1, 0), min(cy + 2, ny)
        for gx in range(g0, g1):
            for gy in range(h0, h1):
                if nx == 0:
                    s0, s1 = 0, q
                else:
                    s0, s1 = start[gx * ny + gy], start[gx * ny + gy + 1]
                for s in range(s0, s1):
                    j = s if nx == 0 else order[s]
                    if upper and j <= i:
                        continue
                    dx = a[i, 0] - b[j, 0]
                    dy = a[i, 1] - b[j, 1]
                    d = math.sqrt(dx * dx + dy * dy)
                    if d <= radius:
                        pi, pj, pd = _push(pi, pj, pd, k, i, j, d)
                        k += 1
    return pi[:k], pj[:k], pd[:k]


@njit(cache=True)
def pairs_within(a, b, radius):
    """Pairs of points ``a`` (p, 2) and ``b`` (q, 2) [m] at most ``radius`` [m] apart (as
    ``cKDTree.sparse_distance_matrix``).

    Up to ``BRUTE_MAX`` candidate pairs every pair is compared; beyond, ``b`` is binned on
    a uniform grid (:func:`_grid`) and each point of ``a`` looks in its 3 x 3 cells.
    Returns i (k,) int64 into a, j (k,) int64 into b and d (k,) float64 [m] (the distance
    as ``numpy.linalg.norm``), in no particular order.
    """
    return _pairs(a, b, radius, a.shape[0] < 0)  # (a non-literal False: one compilation)


@njit(cache=True)
def pairs_within_self(a, radius):
    """:func:`pairs_within` of ``a`` (n, 2) [m] with itself, each unordered pair once
    (i < j), as ``cKDTree.query_pairs``."""
    return _pairs(a, a, radius, a.shape[0] >= 0)  # (a non-literal True)


@njit(cache=True)
def group(label, m):
    """Members of each of ``m`` groups: start (m + 1,) int64 offsets into members (n,)
    int64, each group's members ascending (a counting sort of ``label`` (n,) int64)."""
    start = np.zeros(m + 1, np.int64)
    for v in range(label.shape[0]):
        start[label[v] + 1] += 1
    for g in range(m):
        start[g + 1] += start[g]
    fill = np.empty(m, np.int64)
    for g in range(m):
        fill[g] = start[g]
    members = np.empty(label.shape[0], np.int64)
    for v in range(label.shape[0]):
        members[fill[label[v]]] = v
        fill[label[v]] += 1
    return start, members


@njit(cache=True)
def indices(mask):
    """Indices where ``mask`` (m,) bool is True, ascending ((k,) int64)."""
    k = 0
    for d in range(mask.shape[0]):
        k += mask[d]
    out = np.empty(k, np.int64)
    k = 0
    for d in range(mask.shape[0]):
        if mask[d]:
            out[k] = d
            k += 1
    return out


@njit(cache=True)
def argsort_stable(order, key):
    """Sort ``order`` (k,) int64 in place by ``key[order]`` ascending, stable (insertion
    sort: fast on the nearly sorted ids and birth times it gets)."""
    for s in range(1, order.shape[0]):
        o = order[s]
        t = s
        while t > 0 and key[order[t - 1]] > key[o]:
            order[t] = order[t - 1]
            t -= 1
        order[t] = o
