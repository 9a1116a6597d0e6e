"""Gated assignment: which track takes which fused point of a frame.

A one-to-one pairing of predicted track positions and fused points with the most pairs
closer than the gate, and among those the least total distance. On numpy: a dense cost
matrix and ``scipy.optimize.linear_sum_assignment`` for small problems, the gated pairs
(k-d tree) and ``min_weight_full_bipartite_matching`` for large ones. On other backends
(cupy): the gated pairs on the device, every pair alone in its row and column kept there,
only the competing pairs solved on the host, for the same optimum.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from core.backend import to_numpy, xp_of
from core.neighbours import _pairs_within

_BIG = 1.0e6  # cost of a pair that may not be matched (finite: scipy rejects infeasible inf)
_DENSE_MAX = 4096  # assignment problems up to this many pairs use a dense cost matrix


def _gated_assignment(a: np.ndarray, b: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairing of points ``a`` (p, 2) and ``b`` (q, 2) [m]: the most pairs closer
    than ``gate`` [m], and among those the least total distance.

    Returns index arrays into a and b, (k,) int64 each. Small problems use a dense cost
    matrix with ``linear_sum_assignment``; large ones only the gated pairs (k-d tree) and
    the sparse solver, with one dummy column per row so a full matching always exists.
    cupy inputs take :func:`_gated_assignment_generic` (same optimum).
    """
    xp = xp_of(a)
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


def _look_tv(la, lb, xp: ModuleType):
    """Total variation distance (half the L1 distance) between rows of la and lb, (k, D)
    each, row by row: (k,)."""
    return 0.5 * xp.abs(la - lb).sum(axis=1)


def _gated_assignment_looks(a, b, gate: float, la, has, lb, weight: float, xp: ModuleType,
                            generic: bool = False):
    """:func:`_gated_assignment` where a pair's cost is its distance plus ``weight`` [m]
    times the total variation between the row's look ``la`` (p, D) (where ``has`` (p,))
    and the column's ``lb`` (q, D): the most pairs within ``gate``, then the least total
    cost, solved on the gated pairs (:func:`_edge_matching`; the compiled engine's
    ``core._assign_kernels.gated_assignment_looks``). Without looks (D = 0 or weight 0) it
    is :func:`_gated_assignment`. Returns (k,) int64 indices into a and b on ``xp``, by
    ascending row. ``generic``: array ops only (the cupy path, also on numpy)."""
    if weight <= 0.0 or lb.shape[1] == 0 or la.shape[1] != lb.shape[1]:
        if generic:
            return _gated_assignment_generic(a, b, gate, xp)
        return _gated_assignment(a, b, gate)
    none = xp.zeros(0, xp.int64)
    if a.shape[0] == 0 or b.shape[0] == 0:
        return none, none
    if not generic:
        e = cKDTree(a).sparse_distance_matrix(cKDTree(b), gate, output_type="ndarray")
        i, j, d = e["i"].astype(np.int64), e["j"].astype(np.int64), e["v"]
    else:
        i, j, d = _pairs_within(a, b, gate, xp)
    if i.size == 0:
        return none, none
    cost = d + xp.where(has[i], weight * _look_tv(la[i], lb[j], xp), 0.0)
    r, c = _edge_matching(to_numpy(i), to_numpy(j), to_numpy(cost))
    order = np.argsort(r, kind="stable")
    return xp.asarray(r[order]), xp.asarray(c[order])
