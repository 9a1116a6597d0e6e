"""Compiled CPU engine of :class:`core.tracking.Tracker` (numba).

:func:`step` runs one whole :meth:`Tracker.update` (fuse, predict, associate, correct,
spawn, expire, confirm) in one call on a track table kept in preallocated columns; it
mirrors the array engine (``core/track_arrays.py``) operation by operation, in the same row
order, so both give the same tracks. Only the check-in binding stays in Python (it is idle
unless a check-in is queued). Its parts: the assignment solvers (:mod:`core._assign_kernels`),
pair searches and grouping (:mod:`core._graph_kernels`), fusion
(:mod:`core._fusion_kernels`) and the tracks' looks (:mod:`core._look_kernels`); this module
holds the tracking step itself.

The table is a tuple of columns, ``capacity`` rows each, of which the first ``n`` are
tracks (as ``core.track_arrays._empty_rows``): tid (cap,) int64 (-1 until confirmed), status
(cap,) int8, orphan (cap,) bool, x (cap, 4) float64 [m, m/s], P (cap, 4, 4) float64,
hits/miss (cap,) int32 frames, t_birth (cap,) float64 [s], xy_birth (cap, 2) [m], t_last
(cap,) [s], xy_last (cap, 2) [m], account (cap,) int64. The caller keeps
``capacity >= n + detections`` (a frame spawns at most one row per detection).

Exactness: assignments are scipy's, ties included (:mod:`core._assign_kernels`), and fused
points the array path's to float64 rounding (:mod:`core._fusion_kernels`). The Kalman
filter differs from numpy's batched matrix products (BLAS, LAPACK) by float64 rounding only.

Pinned dependencies: numba's cache checks this file only, yet the machine code it keeps for
these kernels holds that of the kernel modules they call (:mod:`core._assign_kernels`,
:mod:`core._fusion_kernels`, :mod:`core._graph_kernels` and :mod:`core._look_kernels`). ``_DEPENDS`` pins the SHA-256
of each of those files (and of those they pin), and the kernels are cached only while every
pin holds (``CACHE``): an edit there changes this file too (its pin) or, the pin not
updated, compiles these kernels afresh in each process rather than run stale machine code.
After editing a kernel module, refresh the pins from the repository root: ``python -m
tests.kernel_pins --update`` (``tests/test_architecture.py`` fails until then).

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from core._assign_kernels import (
    BIG,
    gated_assignment_looks,
    linear_sum_assignment,
    look_tv,
)
from core._fusion_kernels import fuse
from core._graph_kernels import argsort_stable, group, indices, pairs_within
from core._look_kernels import fused_looks, see_looks

# SHA-256 of the kernel modules whose code these kernels compile in (module docstring;
# refresh: python -m tests.kernel_pins --update)
_DEPENDS = {
    "_assign_kernels.py": "8bb1a27b2754a01f510f28a0792e3638743ee1189b833e5a39eb4eba8c983505",
    "_fusion_kernels.py": "ffe735b0fc712a0de3b2e5e58bff3158d06334bb296a61d9cf059a6c05ce3bd7",
    "_graph_kernels.py": "84187033ad9ba899f99024bfd3d2479e351c9a6bfab1d36199ba9c92b7f5df82",
    "_look_kernels.py": "e5b206a844ac1d29d72aca785896a11f0ae3d64c13822acfe6820fcfb17f13a6",
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

TENTATIVE = 0  # as core.track_arrays
CONFIRMED = 1
LOST = 2

# Indices into the parameter vector made by :func:`params`.
FUSE_R, GATE, CONFIRM_HITS, MAX_MISSED, REID_WINDOW, REID_SPEED, EXIT_LINGER = range(7)
EXIT_MARGIN, DUP_R, BIRTH_CONF, TENT_MAX_MISSES, MEAS_VAR, INIT_POS_VAR, INIT_VEL_VAR = range(
    7, 14
)
MAX_SPEED, ENTRANCE, EXIT = 14, 15, 19  # ENTRANCE, EXIT: 4 values each
APP_W, APP_ALPHA, APP_REID, APP_R = 23, 24, 25, 26
N_PARAMS = 27


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
    p[[APP_W, APP_ALPHA, APP_REID, APP_R]] = (
        c.appearance_weight_m, c.appearance_alpha, c.appearance_reid_m, c.look_radius_m,
    )
    return p


def empty_table(capacity: int, dim: int = 0) -> tuple:
    """Table columns for ``capacity`` rows (see the module docstring); looks of ``dim``
    floats."""
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
        np.zeros((capacity, dim)),
        np.zeros(capacity, np.int32),
    )


@njit(cache=CACHE)
def _rect_distance(x, y, rect):
    """Distance [m] from (x, y) [m] to the rectangle ``rect`` (xmin, ymin, xmax, ymax)
    [m] (0 inside)."""
    dx = max(max(rect[0] - x, x - rect[2]), 0.0)
    dy = max(max(rect[1] - y, y - rect[3]), 0.0)
    return math.hypot(dx, dy)


@njit(cache=CACHE)
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


@njit(cache=CACHE)
def _compact(table, n, keep):
    """Keep the rows r < n where keep[r], in order; returns the new row count."""
    tid, status, orphan, t_birth, xy_birth, account, look, look_n = (
        table[0], table[1], table[2], table[7], table[8], table[11], table[12], table[13],
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
            for j in range(look.shape[1]):
                look[k, j] = look[r, j]
            look_n[k] = look_n[r]
        k += 1
    return k


@njit(cache=CACHE)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
def _shares_camera(f, g, start, members, camera):
    """Does a camera see both fused points f and g? start, members: the raw detections of
    each fused point (:func:`group`); camera (n,) of each raw detection."""
    for s in range(start[f], start[f + 1]):
        for s2 in range(start[g], start[g + 1]):
            if camera[members[s]] == camera[members[s2]]:
                return True
    return False


@njit(cache=CACHE)
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


@njit(cache=CACHE)
def _confirm(table, n, par, next_id):
    """:meth:`core.track_arrays.ArrayEngine._confirm`: ready births get ids in t_birth
    order (ties in row order); ready re-identification candidates take over lost tracks by
    a :func:`linear_sum_assignment` on dist + 1e-6 gap (``BIG`` where not compatible).
    Returns the new row count and next id."""
    tid, status, orphan, hits, t_birth, xy_birth, t_last, xy_last = (
        table[0], table[1], table[2], table[5], table[7], table[8], table[9], table[10],
    )
    look, look_n = table[12], table[13]
    ready = np.zeros(n, np.bool_)
    for r in range(n):
        ready[r] = status[r] == TENTATIVE and hits[r] >= par[CONFIRM_HITS]
    births = indices(ready & ~orphan[:n])
    argsort_stable(births, t_birth)
    for k in range(births.shape[0]):
        tid[births[k]] = next_id + k
        status[births[k]] = CONFIRMED
    next_id += births.shape[0]
    cand = indices(ready & orphan[:n])
    lost = indices(status[:n] == LOST)
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
            if ok[a, b] and look_n[cand[a]] > 0 and look_n[lost[b]] > 0:
                cost[a, b] += par[APP_REID] * look_tv(look, cand[a], look, lost[b])
    r, c = linear_sum_assignment(cost)
    keep = np.ones(n, np.bool_)
    for s in range(r.shape[0]):
        if ok[r[s], c[s]]:
            src, dst = cand[r[s]], lost[c[s]]
            _take_over(table, src, dst)
            status[dst] = CONFIRMED
            keep[src] = False
    return _compact(table, n, keep), next_id


@njit(cache=CACHE)
def step(table, n, camera, dxy, dconf, app, t, dt, q4, q3, q2, par, next_id,
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
    fapp = fused_looks(app, label, fxy.shape[0], table[12].shape[1])
    if dt > 0.0:
        _predict(table, n, dt, q4, q3, q2)
    free, match_row, match_det, nm = _associate(table, n, fxy, fapp, label, cam, par)
    _count_matches(table, n, match_row, match_det, nm, fxy, fconf, fcount, t, par)
    see_looks(table[1], table[3], table[12], table[13], n, match_row, match_det, nm, fapp,
              par[APP_R], par[APP_ALPHA], LOST)
    n = _spawn(table, n, fxy, fconf, fapp, free, t, par)
    n, ndep = expire(table, n, t, par, dt < 0.0, dep_tid, dep_acc, dep_certain)  # (False)
    n, next_id = _confirm(table, n, par, next_id)
    ids, out = _confirmed(table, n)
    return n, next_id, ids, out, ndep


@njit(cache=CACHE)
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


@njit(cache=CACHE)
def _associate(table, n, fxy, fapp, label, cam, par):
    """Gated assignment of the fused points fxy (m, 2) [m] to the rows r < n: all
    confirmed rows in one problem, then the tentative ones; leftovers that are a stray
    view of a matched point (near it, no camera shared; label (n_det,) int64 fused point
    and cam (n_det,) int64 camera of each raw detection) are dropped.

    Returns free (m,) bool (the fused points still unmatched), match_row and match_det
    (int64; the first nm pairs are the matches, in stage order) and nm."""
    status, x, look, look_n = table[1], table[3], table[12], table[13]
    m = fxy.shape[0]
    dstart, dmembers = group(label, m)
    free = np.ones(m, np.bool_)
    match_row = np.empty(min(n, m), np.int64)
    match_det = np.empty(min(n, m), np.int64)
    nm = 0
    for stage in (CONFIRMED, TENTATIVE):
        rows = indices(status[:n] == stage)
        dets = indices(free)
        a = np.empty((rows.shape[0], 2))
        for s in range(rows.shape[0]):
            a[s, 0] = x[rows[s], 0]
            a[s, 1] = x[rows[s], 1]
        b = np.empty((dets.shape[0], 2))
        for s in range(dets.shape[0]):
            b[s, 0] = fxy[dets[s], 0]
            b[s, 1] = fxy[dets[s], 1]
        la = np.empty((rows.shape[0], fapp.shape[1]))
        has = np.empty(rows.shape[0], np.bool_)
        for s in range(rows.shape[0]):
            has[s] = look_n[rows[s]] > 0
            for k in range(fapp.shape[1]):
                la[s, k] = look[rows[s], k]
        lb = np.empty((dets.shape[0], fapp.shape[1]))
        for s in range(dets.shape[0]):
            for k in range(fapp.shape[1]):
                lb[s, k] = fapp[dets[s], k]
        r, c = gated_assignment_looks(a, b, par[GATE], la, has, lb, par[APP_W])
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
        left = indices(free)
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


@njit(cache=CACHE)
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


@njit(cache=CACHE)
def _spawn(table, n, fxy, fconf, fapp, free, t, par):
    """Strong leftover fused points (free, confidence at least ``birth_min_conf``) start
    tentative rows from row n on (orphans outside the entrance). Returns the new row
    count."""
    tid, status, orphan, x, P, hits, miss, t_birth, xy_birth, t_last, xy_last, account = (
        table[:12]
    )
    look, look_n = table[12], table[13]
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
        look_n[n] = 1 if fapp.shape[1] > 0 else 0
        for k in range(fapp.shape[1]):
            look[n, k] = fapp[d, k]
        n += 1
    return n


@njit(cache=CACHE)
def _confirmed(table, n):
    """The confirmed rows r < n by ascending id: ids (k,) int64 and xy (k, 2) float64 [m],
    fresh arrays."""
    tid, status, x = table[0], table[1], table[3]
    rows = indices(status[:n] == CONFIRMED)
    argsort_stable(rows, tid)  # by id (rows are nearly in id order already)
    ids = np.empty(rows.shape[0], np.int64)
    out = np.empty((rows.shape[0], 2))
    for s in range(rows.shape[0]):
        ids[s] = tid[rows[s]]
        out[s, 0] = x[rows[s], 0]
        out[s, 1] = x[rows[s], 1]
    return ids, out
