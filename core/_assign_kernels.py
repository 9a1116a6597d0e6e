"""Assignment solvers of the compiled tracker (:mod:`core._track_kernels`; numba).

:func:`linear_sum_assignment` is scipy's shortest augmenting path solver (Crouse;
``scipy/optimize/rectangular_lsap``) step for step, so on the same cost matrix it returns
scipy's assignment, ties included. :func:`gated_assignment` is
:func:`core.association._gated_assignment` (most pairs within a gate, then least total
distance), and :func:`edge_matching` the same optimum on a sparse set of edges, one
connected component at a time.

Pinned dependencies: numba's cache checks this file only, yet the machine code it keeps for
these kernels holds that of the kernel modules they call (:mod:`core._graph_kernels`).
``_DEPENDS`` pins the SHA-256 of each of those files (and of those they pin), and the
kernels are cached only while every pin holds (``CACHE``): an edit there changes this file
too (its pin) or, the pin not updated, compiles these kernels afresh in each process rather
than run stale machine code. After editing a kernel module, refresh the pins from the
repository root: ``python -m tests.kernel_pins --update`` (``tests/test_architecture.py``
fails until then).

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from core._graph_kernels import components, group, indices, pairs_within

# SHA-256 of the kernel modules whose code these kernels compile in (module docstring;
# refresh: python -m tests.kernel_pins --update)
_DEPENDS = {
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

BIG = 1.0e6  # cost of a pair that may not be matched, as core.association._BIG
DENSE_MAX = 4096  # as core.association._DENSE_MAX: up to this many pairs, one dense problem


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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
        start, order = group(ecomp, ncomp)
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
    rows = indices(mate >= 0)
    cols = np.empty(rows.shape[0], np.int64)
    for t in range(rows.shape[0]):
        cols[t] = mate[rows[t]]
    return rows, cols


@njit(cache=CACHE)
def look_tv(la, r, lb, j):
    """Total variation distance (half the L1 distance) between row r of la (p, D) and
    row j of lb (q, D)."""
    s = 0.0
    for k in range(la.shape[1]):
        s += abs(la[r, k] - lb[j, k])
    return 0.5 * s


@njit(cache=CACHE)
def gated_assignment_looks(a, b, gate, la, has, lb, weight):
    """:func:`gated_assignment` where a pair's cost is its distance plus ``weight`` [m]
    times the total variation between the row's look ``la`` (p, D) (where ``has``) and
    the column's ``lb`` (q, D): the most pairs within ``gate`` of each other, then the
    least total cost, solved on the gated edges (:func:`edge_matching`). Without looks
    (D = 0 or weight 0) it is :func:`gated_assignment`."""
    if weight <= 0.0 or lb.shape[1] == 0 or la.shape[1] != lb.shape[1]:
        return gated_assignment(a, b, gate)
    p, q = a.shape[0], b.shape[0]
    if p == 0 or q == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ei, ej, ed = pairs_within(a, b, gate)
    for e in range(ei.shape[0]):
        if has[ei[e]]:
            ed[e] += weight * look_tv(la, ei[e], lb, ej[e])
    return edge_matching(p, q, ei, ej, ed)
