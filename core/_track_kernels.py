"""Compiled CPU engine of :class:`core.tracking.Tracker` (numba, ``@njit(cache=True)``).

:func:`step` runs one whole :meth:`Tracker.update` (fuse, predict, associate, correct,
spawn, expire, confirm) in one call on a track table kept in preallocated columns; it
mirrors the array engine (``core/track_arrays.py``) operation by operation, in the same row
order, so both give the same tracks. Only the check-in binding stays in Python (it is idle
unless a check-in is queued).

The table is a tuple of columns, ``capacity`` rows each, of which the first ``n`` are
tracks (as ``core.track_arrays._empty_rows``): tid (cap,) int64 (-1 until confirmed), status
(cap,) int8, orphan (cap,) bool, x (cap, 4) float64 [m, m/s], P (cap, 4, 4) float64,
hits/miss (cap,) int32 frames, t_birth (cap,) float64 [s], xy_birth (cap, 2) [m], t_last
(cap,) [s], xy_last (cap, 2) [m], account (cap,) int64. The caller keeps
``capacity >= n + detections`` (a frame spawns at most one row per detection).

Exactness: :func:`linear_sum_assignment` is scipy's shortest augmenting path solver
(Crouse; ``scipy/optimize/rectangular_lsap``) step for step, so on the same cost matrix it
returns scipy's assignment, ties included. Fusion sums in detection order as
``numpy.bincount``, so fused points are those of :func:`core.fusion.fuse_detections` to
float64 rounding (the same bytes on the machines measured; fused confidences may differ in
the last bit where numpy takes SIMD ``exp``/``log1p``). The Kalman filter differs from numpy's batched matrix
products (BLAS, LAPACK) by float64 rounding only.

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TENTATIVE = 0  # as core.track_arrays
CONFIRMED = 1
LOST = 2

BIG = 1.0e6  # cost of a pair that may not be matched, as core.association._BIG
DENSE_MAX = 4096  # as core.association._DENSE_MAX: up to this many pairs, one dense problem
BRUTE_MAX = 4096  # pair searches over at most this many pairs compare them all (else a grid)

# Indices into the parameter vector made by :func:`params`.
FUSE_R, GATE, CONFIRM_HITS, MAX_MISSED, REID_WINDOW, REID_SPEED, EXIT_LINGER = range(7)
EXIT_MARGIN, DUP_R, BIRTH_CONF, TENT_MAX_MISSES, MEAS_VAR, INIT_POS_VAR, INIT_VEL_VAR = range(
    7, 14
)
MAX_SPEED, ENTRANCE, EXIT = 14, 15, 19  # ENTRANCE, EXIT: 4 values each
N_PARAMS = 23


def params(config, entrance: np.ndarray, exit: np.ndarray) -> np.ndarray:
    """The parameter vector of :func:`step`: (N_PARAMS,) float64 from a
    :class:`core.tracker_config.TrackerConfig` and the entrance and exit rectangles (4,) [m].
    Squares are taken here as the array path takes them (Python floats)."""
    c = config
    p = np.zeros(N_PARAMS)
    p[[FUSE_R, GATE, CONFIRM_HITS, MAX_MISSED, REID_WINDOW, REID_SPEED, EXIT_LINGER]] = (
        c.fuse_radius_m, c.gate_m, c.confirm_hits, c.max_missed_s, c.reid_window_s,
        c.reid_speed_mps, c.exit_linger_s,
    )
    p[[EXIT_MARGIN, DUP_R, BIRTH_CONF, TENT_MAX_MISSES, MAX_SPEED]] = (
        c.exit_margin_m, c.dup_radius_m, c.birth_min_conf, c.tentative_max_misses,
        c.max_speed_mps,
    )
    p[MEAS_VAR] = c.meas_sigma_m**2
    p[INIT_POS_VAR] = c.meas_sigma_m**2
    p[INIT_VEL_VAR] = c.init_speed_sigma_mps**2
    p[ENTRANCE : ENTRANCE + 4] = entrance
    p[EXIT : EXIT + 4] = exit
    return p


def empty_table(capacity: int) -> tuple:
    """Table columns for ``capacity`` rows (see the module docstring)."""
    return (
        np.full(capacity, -1, np.int64),
        np.zeros(capacity, np.int8),
        np.zeros(capacity, np.bool_),
        np.zeros((capacity, 4)),
        np.zeros((capacity, 4, 4)),
        np.zeros(capacity, np.int32),
        np.zeros(capacity, np.int32),
        np.zeros(capacity),
        np.zeros((capacity, 2)),
        np.zeros(capacity),
        np.zeros((capacity, 2)),
        np.full(capacity, -1, np.int64),
    )


# --------------------------------------------------------------------------- assignment


@njit(cache=True)
def linear_sum_assignment(cost):
    """``scipy.optimize.linear_sum_assignment`` of a finite cost matrix (p, q) float64.

    Returns row (k,) int64 ascending and col (k,) int64, k = min(p, q): scipy's shortest
    augmenting path algorithm with its tie rules (a tall matrix is solved transposed)."""
    nr0, nc0 = cost.shape
    if nr0 == 0 or nc0 == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    transpose = nc0 < nr0
    nr, nc = (nc0, nr0) if transpose else (nr0, nc0)
    c = np.empty((nr, nc))
    for i in range(nr):
        for j in range(nc):
            c[i, j] = cost[j, i] if transpose else cost[i, j]
    u = np.zeros(nr)
    v = np.zeros(nc)
    spc = np.empty(nc)  # shortest path costs
    path = np.full(nc, -1, np.int64)
    col4row = np.full(nr, -1, np.int64)
    row4col = np.full(nc, -1, np.int64)
    sr = np.zeros(nr, np.bool_)
    sc = np.zeros(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    for cur in range(nr):
        sink, min_val = _augmenting_path(c, cur, u, v, spc, path, row4col, sr, sc, remaining)
        if sink == -1:  # infeasible (cannot happen with finite costs)
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        # dual update
        u[cur] += min_val
        for i in range(nr):
            if sr[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - spc[j]
        # augment
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            prev = col4row[i]
            col4row[i] = j
            j = prev
            if i == cur:
                break
    if transpose:
        return _by_original_row(col4row, nr, nc)
    return np.arange(nr), col4row


@njit(cache=True)
def _augmenting_path(c, cur, u, v, spc, path, row4col, sr, sc, remaining):
    """The shortest augmenting path from row ``cur`` of :func:`linear_sum_assignment`
    (scipy's ``augmenting_path``): fills the shortest path costs spc, the path, and the
    rows sr and columns sc it scanned, given the duals u, v and the current row4col;
    remaining: (nc,) int64 scratch. Returns the sink column and the path's cost
    (-1, inf when no path exists)."""
    nr, nc = c.shape
    min_val = 0.0
    num_rem = nc
    for it in range(nc):
        remaining[it] = nc - it - 1
    for i in range(nr):
        sr[i] = False
    for j in range(nc):
        sc[j] = False
        spc[j] = np.inf
    sink = -1
    i = cur
    while sink == -1:
        index = -1
        lowest = np.inf
        sr[i] = True
        for it in range(num_rem):
            j = remaining[it]
            r = min_val + c[i, j] - u[i] - v[j]
            if r < spc[j]:
                path[j] = i
                spc[j] = r
            if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1):
                lowest = spc[j]
                index = it
        min_val = lowest
        if min_val == np.inf:
            return -1, min_val
        j = remaining[index]
        if row4col[j] == -1:
            sink = j
        else:
            i = row4col[j]
        sc[j] = True
        num_rem -= 1
        remaining[index] = remaining[num_rem]
    return sink, min_val


@njit(cache=True)
def _by_original_row(col4row, nr, nc):
    """The assignment of a transposed problem (nr rows, the original's columns; col4row
    (nr,) int64) reported by original row: rows (nr,) int64 ascending and their columns."""
    col_of = np.full(nc, -1, np.int64)
    for i in range(nr):
        col_of[col4row[i]] = i
    rows = np.empty(nr, np.int64)
    cols = np.empty(nr, np.int64)
    k = 0
    for j in range(nc):
        if col_of[j] >= 0:
            rows[k] = j
            cols[k] = col_of[j]
            k += 1
    return rows, cols


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
    for i in range(a.shape[0]):
        x0, y0 = min(x0, a[i, 0]), min(y0, a[i, 1])
        x1, y1 = max(x1, a[i, 0]), max(y1, a[i, 1])
    for i in range(b.shape[0]):
        x0, y0 = min(x0, b[i, 0]), min(y0, b[i, 1])
        x1, y1 = max(x1, b[i, 0]), max(y1, b[i, 1])
    sx, sy = x1 - x0, y1 - y0
    q = b.shape[0]
    if not (math.isfinite(sx) and math.isfinite(sy)):
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
def _group(label, m):
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
def _indices(mask):
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
def _argsort_stable(order, key):
    """Sort ``order`` (k,) int64 in place by ``key[order]`` ascending, stable (insertion
    sort: fast on the nearly sorted ids and birth times it gets)."""
    for s in range(1, order.shape[0]):
        o = order[s]
        t = s
        while t > 0 and key[order[t - 1]] > key[o]:
            order[t] = order[t - 1]
            t -= 1
        order[t] = o


@njit(cache=True)
def gated_assignment(a, b, gate):
    """:func:`core.association._gated_assignment`: a one-to-one pairing of points ``a``
    (p, 2) and ``b`` (q, 2) [m] with the most pairs closer than ``gate`` [m], then the
    least total distance.

    Up to ``DENSE_MAX`` pairs: scipy's problem exactly (dense distances, ``BIG`` beyond the
    gate, :func:`linear_sum_assignment`), hence scipy's pairs, ties included. Larger: the
    gated pairs (:func:`pairs_within`) split into connected components, each solved the
    same way on its own rows and columns (the optimum decomposes over components: the same
    optimum as the array path's sparse solver). Returns (k,) int64 indices into a and b,
    by ascending a.
    """
    p, q = a.shape[0], b.shape[0]
    if p == 0 or q == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if p * q > DENSE_MAX:
        ei, ej, ed = pairs_within(a, b, gate)
        return edge_matching(p, q, ei, ej, ed)
    d = np.empty((p, q))
    cost = np.empty((p, q))
    for i in range(p):
        for j in range(q):
            dx = a[i, 0] - b[j, 0]
            dy = a[i, 1] - b[j, 1]
            d[i, j] = math.sqrt(dx * dx + dy * dy)
            cost[i, j] = d[i, j] if d[i, j] <= gate else BIG
    r, c = linear_sum_assignment(cost)
    k = 0
    for t in range(r.shape[0]):
        if d[r[t], c[t]] <= gate:
            r[k] = r[t]
            c[k] = c[t]
            k += 1
    return r[:k], c[:k]


@njit(cache=True)
def _distinct_sorted(v, sel, at):
    """The distinct values of v[sel] ascending ((k,) int64); sets at[value] to the value's
    place among them (at: int64 scratch indexed by value)."""
    k = 0
    for s in range(sel.shape[0]):
        at[v[sel[s]]] = -1
    out = np.empty(sel.shape[0], np.int64)
    for s in range(sel.shape[0]):
        if at[v[sel[s]]] == -1:
            at[v[sel[s]]] = 0
            out[k] = v[sel[s]]
            k += 1
    for s in range(1, k):  # insertion sort (a component is small)
        o = out[s]
        t = s
        while t > 0 and out[t - 1] > o:
            out[t] = out[t - 1]
            t -= 1
        out[t] = o
    for t in range(k):
        at[out[t]] = t
    return out[:k]


@njit(cache=True)
def edge_matching(p, q, ei, ej, ed):
    """Most pairs, then least total cost, among the edges (ei, ej) of cost ed ((k,) each)
    between p rows and q columns: one dense ``BIG``-padded :func:`linear_sum_assignment`
    per connected component of the edges (a lone edge is kept as it is). Returns the
    matched rows and columns ((m,) int64), by ascending row."""
    mate = np.full(p, -1, np.int64)  # column of each row
    ne = ei.shape[0]
    if ne > 0:
        ejp = np.empty(ne, np.int64)
        for e in range(ne):
            ejp[e] = ej[e] + p
        comp, ncomp = components(p + q, ei, ejp)
        ecomp = np.empty(ne, np.int64)
        for e in range(ne):
            ecomp[e] = comp[ei[e]]
        start, order = _group(ecomp, ncomp)
        row_at = np.empty(p, np.int64)
        col_at = np.empty(q, np.int64)
        for g in range(ncomp):
            s0, s1 = start[g], start[g + 1]
            if s1 - s0 == 1:  # a pair alone in its row and column: in every optimum
                mate[ei[order[s0]]] = ej[order[s0]]
            if s1 - s0 < 2:
                continue
            rows = _distinct_sorted(ei, order[s0:s1], row_at)
            cols = _distinct_sorted(ej, order[s0:s1], col_at)
            cost = np.full((rows.shape[0], cols.shape[0]), BIG)
            for s in range(s0, s1):
                e = order[s]
                cost[row_at[ei[e]], col_at[ej[e]]] = ed[e]
            r, c = linear_sum_assignment(cost)
            for t in range(r.shape[0]):
                if cost[r[t], c[t]] < BIG:
                    mate[rows[r[t]]] = cols[c[t]]
    rows = _indices(mate >= 0)
    cols = np.empty(rows.shape[0], np.int64)
    for t in range(rows.shape[0]):
        cols[t] = mate[rows[t]]
    return rows, cols


# --------------------------------------------------------------------------- fusion


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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
    pi, pj, _ = pairs_within_self(xy, radius)
    k = 0
    for e in range(pi.shape[0]):  # cross-camera pairs only
        if camera[pi[e]] != camera[pj[e]]:
            pi[k] = pi[e]
            pj[k] = pj[e]
            k += 1
    label, ncomp = components(n, pi[:k], pj[:k])
    m = _split_crowded(camera, xy, w, label, ncomp)
    # labels 0 .. m-1 are all used: np.unique's renumbering is the identity
    fxy, fconf, count = _fused_points(label, m, xy, w, c)
    return fxy, fconf, count, label


@njit(cache=True)
def _split_crowded(camera, xy, w, label, ncomp):
    """:func:`core.fusion._split_crowded`: split each of the ``ncomp`` clusters of label
    (n,) int64 that holds two detections of one camera into people (:func:`split_cluster`;
    camera (n,) int64, xy (n, 2) float64 [m], w (n,) float64 weights), in place on label:
    the first person keeps the cluster's label, the others get new ones from ncomp on.
    Returns the number of labels now in use."""
    start, members = _group(label, ncomp)
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


@njit(cache=True)
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


# --------------------------------------------------------------------------- the tracker


@njit(cache=True)
def _rect_distance(x, y, rect):
    """Distance [m] from (x, y) [m] to the rectangle ``rect`` (xmin, ymin, xmax, ymax)
    [m] (0 inside)."""
    dx = max(max(rect[0] - x, x - rect[2]), 0.0)
    dy = max(max(rect[1] - y, y - rect[3]), 0.0)
    return math.hypot(dx, dy)


@njit(cache=True)
def _take_over(table, src, dst):
    """Row dst takes row src's state (x, P, miss, hits, t_last, xy_last): a re-identified
    lost track goes on from its candidate's."""
    x, P, hits, miss, t_last, xy_last = table[3], table[4], table[5], table[6], table[9], table[10]
    for i in range(4):
        x[dst, i] = x[src, i]
        for j in range(4):
            P[dst, i, j] = P[src, i, j]
    miss[dst] = miss[src]
    hits[dst] = hits[src]
    t_last[dst] = t_last[src]
    xy_last[dst, 0] = xy_last[src, 0]
    xy_last[dst, 1] = xy_last[src, 1]


@njit(cache=True)
def _compact(table, n, keep):
    """Keep the rows r < n where keep[r], in order; returns the new row count."""
    tid, status, orphan, t_birth, xy_birth, account = (
        table[0], table[1], table[2], table[7], table[8], table[11],
    )
    k = 0
    for r in range(n):
        if not keep[r]:
            continue
        if k != r:
            _take_over(table, r, k)
            tid[k] = tid[r]
            status[k] = status[r]
            orphan[k] = orphan[r]
            t_birth[k] = t_birth[r]
            xy_birth[k, 0] = xy_birth[r, 0]
            xy_birth[k, 1] = xy_birth[r, 1]
            account[k] = account[r]
        k += 1
    return k


@njit(cache=True)
def _predict(table, n, dt, q4, q3, q2):
    """Constant-velocity prediction over dt [s] of every row r < n not lost: x = F x,
    P = F P F' + Q, Q's entries q4 (position), q3 (position x velocity), q2 (velocity)."""
    status, x, P = table[1], table[3], table[4]
    F = np.zeros((4, 4))
    for i in range(4):
        F[i, i] = 1.0
    F[0, 2] = dt
    F[1, 3] = dt
    Q = np.zeros((4, 4))
    Q[0, 0] = Q[1, 1] = q4
    Q[0, 2] = Q[1, 3] = Q[2, 0] = Q[3, 1] = q3
    Q[2, 2] = Q[3, 3] = q2
    xs = np.empty(4)
    FP = np.empty((4, 4))
    for r in range(n):
        if status[r] == LOST:
            continue
        for i in range(4):
            s = 0.0
            for j in range(4):
                s += x[r, j] * F[i, j]
            xs[i] = s
        for i in range(4):
            x[r, i] = xs[i]
        for i in range(4):
            for j in range(4):
                s = 0.0
                for k in range(4):
                    s += F[i, k] * P[r, k, j]
                FP[i, j] = s
        for i in range(4):
            for j in range(4):
                s = 0.0
                for k in range(4):
                    s += FP[i, k] * F[j, k]
                P[r, i, j] = s + Q[i, j]


@njit(cache=True)
def _correct(table, r, zx, zy, count, par):
    """Kalman update of row r with a fused measurement (zx, zy) [m] of ``count``
    detections (variance meas_sigma^2 / count), then the speed clip."""
    x, P = table[3], table[4]
    var = par[MEAS_VAR] / max(count, 1)
    s00 = P[r, 0, 0] + var
    s01 = P[r, 0, 1] + 0.0
    s10 = P[r, 1, 0] + 0.0
    s11 = P[r, 1, 1] + var
    det = s00 * s11 - s01 * s10
    i00, i01, i10, i11 = s11 / det, -s01 / det, -s10 / det, s00 / det
    K = np.empty((4, 2))
    for i in range(4):
        K[i, 0] = P[r, i, 0] * i00 + P[r, i, 1] * i10
        K[i, 1] = P[r, i, 0] * i01 + P[r, i, 1] * i11
    e0 = zx - x[r, 0]
    e1 = zy - x[r, 1]
    for i in range(4):
        x[r, i] = x[r, i] + (K[i, 0] * e0 + K[i, 1] * e1)
    Pn = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            Pn[i, j] = P[r, i, j] - (K[i, 0] * P[r, 0, j] + K[i, 1] * P[r, 1, j])
    for i in range(4):
        for j in range(4):
            P[r, i, j] = 0.5 * (Pn[i, j] + Pn[j, i])
    speed = math.sqrt(x[r, 2] * x[r, 2] + x[r, 3] * x[r, 3])
    f = min(1.0, par[MAX_SPEED] / max(speed, 1e-12))
    x[r, 2] *= f
    x[r, 3] *= f


@njit(cache=True)
def _shares_camera(f, g, start, members, camera):
    """Does a camera see both fused points f and g? start, members: the raw detections of
    each fused point (:func:`_group`); camera (n,) of each raw detection."""
    for s in range(start[f], start[f + 1]):
        for s2 in range(start[g], start[g + 1]):
            if camera[members[s]] == camera[members[s2]]:
                return True
    return False


@njit(cache=True)
def expire(table, n, t, par, flushing, dep_tid, dep_acc, dep_certain):
    """:meth:`core.track_arrays.ArrayEngine._expire` at time t [s]: exit departures,
    confirmed -> lost, lost -> uncertain departures, dropping tentative rows missed too
    often; ``flushing``: no frame at t, so no row becomes lost. Departures go to dep_tid, dep_acc, dep_certain (exits,
    then timeouts, each in row order). Returns the new row count and departure count."""
    tid, status, miss, t_last, xy_last, account = (
        table[0], table[1], table[6], table[9], table[10], table[11],
    )
    ex = par[EXIT : EXIT + 4]
    exits = np.zeros(n, np.bool_)
    timeouts = np.zeros(n, np.bool_)
    keep = np.ones(n, np.bool_)
    for r in range(n):
        gap = t - t_last[r]
        at_exit = _rect_distance(xy_last[r, 0], xy_last[r, 1], ex) <= par[EXIT_MARGIN]
        confirmed_unseen = status[r] == CONFIRMED and t_last[r] < t
        exits[r] = confirmed_unseen and at_exit and gap >= par[EXIT_LINGER]
        if not flushing and confirmed_unseen and not at_exit and gap >= par[MAX_MISSED]:
            status[r] = LOST
        timeouts[r] = status[r] == LOST and gap >= par[REID_WINDOW]
        drop = status[r] == TENTATIVE and miss[r] > par[TENT_MAX_MISSES]
        keep[r] = not (exits[r] or timeouts[r] or drop)
    k = 0
    for r in range(n):
        if exits[r]:
            dep_tid[k], dep_acc[k], dep_certain[k] = tid[r], account[r], True
            k += 1
    for r in range(n):
        if timeouts[r]:
            dep_tid[k], dep_acc[k], dep_certain[k] = tid[r], account[r], False
            k += 1
    return _compact(table, n, keep), k


@njit(cache=True)
def _confirm(table, n, par, next_id):
    """:meth:`core.track_arrays.ArrayEngine._confirm`: ready births get ids in t_birth
    order (ties in row order); ready re-identification candidates take over lost tracks by
    a :func:`linear_sum_assignment` on dist + 1e-6 gap (``BIG`` where not compatible).
    Returns the new row count and next id."""
    tid, status, orphan, hits, t_birth, xy_birth, t_last, xy_last = (
        table[0], table[1], table[2], table[5], table[7], table[8], table[9], table[10],
    )
    ready = np.zeros(n, np.bool_)
    for r in range(n):
        ready[r] = status[r] == TENTATIVE and hits[r] >= par[CONFIRM_HITS]
    births = _indices(ready & ~orphan[:n])
    _argsort_stable(births, t_birth)
    for k in range(births.shape[0]):
        tid[births[k]] = next_id + k
        status[births[k]] = CONFIRMED
    next_id += births.shape[0]
    cand = _indices(ready & orphan[:n])
    lost = _indices(status[:n] == LOST)
    nc, nl = cand.shape[0], lost.shape[0]
    if nc == 0 or nl == 0:
        return n, next_id
    cost = np.empty((nc, nl))
    ok = np.zeros((nc, nl), np.bool_)
    for a in range(nc):
        for b in range(nl):
            gap = t_birth[cand[a]] - t_last[lost[b]]
            dx = xy_birth[cand[a], 0] - xy_last[lost[b], 0]
            dy = xy_birth[cand[a], 1] - xy_last[lost[b], 1]
            dist = math.sqrt(dx * dx + dy * dy)
            ok[a, b] = (
                gap > 0.0
                and gap <= par[REID_WINDOW]
                and dist <= par[REID_SPEED] * gap + par[GATE]
            )
            cost[a, b] = dist + 1e-6 * gap if ok[a, b] else BIG
    r, c = linear_sum_assignment(cost)
    keep = np.ones(n, np.bool_)
    for s in range(r.shape[0]):
        if ok[r[s], c[s]]:
            src, dst = cand[r[s]], lost[c[s]]
            _take_over(table, src, dst)
            status[dst] = CONFIRMED
            keep[src] = False
    return _compact(table, n, keep), next_id


@njit(cache=True)
def step(table, n, camera, dxy, dconf, t, dt, q4, q3, q2, par, next_id,
         dep_tid, dep_acc, dep_certain):
    """One :meth:`Tracker.update` on the first ``n`` rows of ``table``, in place.

    camera (d,) int, dxy (d, 2) float64 [m], dconf (d,) float: the frame's raw detections
    (``table`` has room for n + d rows); t: the frame's time [s]; dt: time since the last
    frame [s] (0: no prediction); q4, q3, q2: the process noise (:func:`_predict`); par:
    :func:`params`; next_id: the next public id. Departures go to the dep_tid (int64),
    dep_acc (int64) and dep_certain (bool) buffers, as long as the table.

    Returns (n, next_id, ids, xy, ndep): the new row count and next id, the confirmed
    tracks by ascending id (ids (k,) int64, xy (k, 2) float64 [m], fresh arrays) and the
    number of departures written.
    """
    cam, xy, conf = _own_copies(camera, dxy, dconf)
    fxy, fconf, fcount, label = fuse(cam, xy, conf, par[FUSE_R])
    if dt > 0.0:
        _predict(table, n, dt, q4, q3, q2)
    free, match_row, match_det, nm = _associate(table, n, fxy, label, cam, par)
    _count_matches(table, n, match_row, match_det, nm, fxy, fconf, fcount, t, par)
    n = _spawn(table, n, fxy, fconf, free, t, par)
    n, ndep = expire(table, n, t, par, dt < 0.0, dep_tid, dep_acc, dep_certain)  # (False)
    n, next_id = _confirm(table, n, par, next_id)
    ids, out = _confirmed(table, n)
    return n, next_id, ids, out, ndep


@njit(cache=True)
def _own_copies(camera, dxy, dconf):
    """The frame's detections as int64 cameras (d,), xy (d, 2) and conf (d,) float64 of
    their own: the kernels below see one type."""
    nd = camera.shape[0]
    cam = np.empty(nd, np.int64)
    xy = np.empty((nd, 2))
    conf = np.empty(nd)
    for i in range(nd):
        cam[i] = camera[i]
        xy[i, 0] = dxy[i, 0]
        xy[i, 1] = dxy[i, 1]
        conf[i] = dconf[i]
    return cam, xy, conf


@njit(cache=True)
def _associate(table, n, fxy, label, cam, par):
    """Gated assignment of the fused points fxy (m, 2) [m] to the rows r < n: all
    confirmed rows in one problem, then the tentative ones; leftovers that are a stray
    view of a matched point (near it, no camera shared; label (n_det,) int64 fused point
    and cam (n_det,) int64 camera of each raw detection) are dropped.

    Returns free (m,) bool (the fused points still unmatched), match_row and match_det
    (int64; the first nm pairs are the matches, in stage order) and nm."""
    status, x = table[1], table[3]
    m = fxy.shape[0]
    dstart, dmembers = _group(label, m)
    free = np.ones(m, np.bool_)
    match_row = np.empty(min(n, m), np.int64)
    match_det = np.empty(min(n, m), np.int64)
    nm = 0
    for stage in (CONFIRMED, TENTATIVE):
        rows = _indices(status[:n] == stage)
        dets = _indices(free)
        a = np.empty((rows.shape[0], 2))
        for s in range(rows.shape[0]):
            a[s, 0] = x[rows[s], 0]
            a[s, 1] = x[rows[s], 1]
        b = np.empty((dets.shape[0], 2))
        for s in range(dets.shape[0]):
            b[s, 0] = fxy[dets[s], 0]
            b[s, 1] = fxy[dets[s], 1]
        r, c = gated_assignment(a, b, par[GATE])
        if r.shape[0] == 0:
            continue
        taken = np.empty((r.shape[0], 2))
        for s in range(r.shape[0]):
            match_row[nm] = rows[r[s]]
            match_det[nm] = dets[c[s]]
            free[dets[c[s]]] = False
            taken[s, 0] = fxy[dets[c[s]], 0]
            taken[s, 1] = fxy[dets[c[s]], 1]
            nm += 1
        # leftovers that are a stray view of a matched point: near it, no camera shared
        left = _indices(free)
        fl = np.empty((left.shape[0], 2))
        for s in range(left.shape[0]):
            fl[s, 0] = fxy[left[s], 0]
            fl[s, 1] = fxy[left[s], 1]
        pi, pj, _ = pairs_within(fl, taken, par[DUP_R])
        for e in range(pi.shape[0]):
            f, g = left[pi[e]], dets[c[pj[e]]]
            if not _shares_camera(f, g, dstart, dmembers, cam):
                free[f] = False
    return free, match_row, match_det, nm


@njit(cache=True)
def _count_matches(table, n, match_row, match_det, nm, fxy, fconf, fcount, t, par):
    """Correct each matched row with its fused point (:func:`_correct`) and count hits (a
    tentative row only for a strong point) and misses (every unmatched row not lost)."""
    status, x, hits, miss, t_last, xy_last = (
        table[1], table[3], table[5], table[6], table[9], table[10],
    )
    seen = np.zeros(n, np.bool_)
    for s in range(nm):
        r, d = match_row[s], match_det[s]
        _correct(table, r, fxy[d, 0], fxy[d, 1], fcount[d], par)
        seen[r] = True
        if status[r] != TENTATIVE or fconf[d] >= par[BIRTH_CONF]:
            hits[r] += 1
        miss[r] = 0
        t_last[r] = t
        xy_last[r, 0] = x[r, 0]
        xy_last[r, 1] = x[r, 1]
    for r in range(n):
        if not seen[r] and status[r] != LOST:
            miss[r] += 1


@njit(cache=True)
def _spawn(table, n, fxy, fconf, free, t, par):
    """Strong leftover fused points (free, confidence at least ``birth_min_conf``) start
    tentative rows from row n on (orphans outside the entrance). Returns the new row
    count."""
    tid, status, orphan, x, P, hits, miss, t_birth, xy_birth, t_last, xy_last, account = table
    ent = par[ENTRANCE : ENTRANCE + 4]
    for d in range(fxy.shape[0]):
        if not free[d] or fconf[d] < par[BIRTH_CONF]:
            continue
        zx, zy = fxy[d, 0], fxy[d, 1]
        tid[n] = -1
        status[n] = TENTATIVE
        orphan[n] = _rect_distance(zx, zy, ent) > 0.0
        x[n, 0], x[n, 1], x[n, 2], x[n, 3] = zx, zy, 0.0, 0.0
        for i in range(4):
            for j in range(4):
                P[n, i, j] = 0.0
        P[n, 0, 0] = P[n, 1, 1] = par[INIT_POS_VAR]
        P[n, 2, 2] = P[n, 3, 3] = par[INIT_VEL_VAR]
        hits[n] = 1
        miss[n] = 0
        t_birth[n] = t
        xy_birth[n, 0], xy_birth[n, 1] = zx, zy
        t_last[n] = t
        xy_last[n, 0], xy_last[n, 1] = zx, zy
        account[n] = -1
        n += 1
    return n


@njit(cache=True)
def _confirmed(table, n):
    """The confirmed rows r < n by ascending id: ids (k,) int64 and xy (k, 2) float64 [m],
    fresh arrays."""
    tid, status, x = table[0], table[1], table[3]
    rows = _indices(status[:n] == CONFIRMED)
    _argsort_stable(rows, tid)  # by id (rows are nearly in id order already)
    ids = np.empty(rows.shape[0], np.int64)
    out = np.empty((rows.shape[0], 2))
    for s in range(rows.shape[0]):
        ids[s] = tid[rows[s]]
        out[s, 0] = x[rows[s], 0]
        out[s, 1] = x[rows[s], 1]
    return ids, out
