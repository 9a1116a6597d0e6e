"""The array reference of the crowd's local motion (a test oracle, not library code).

:func:`step_motion_numpy` is :func:`agents.motion.step_motion` in numpy and scipy, operation
by operation: neighbour pairs from a k-d tree in lexicographic order, per-person sums with
``numpy.bincount``, the sidestep, the slide along fixtures and the separation passes. The
compiled kernel (``agents/_motion_kernels.py``) mirrors it; ``tests/agents/test_motion.py``
holds the two together within a stated tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from agents.motion import MotionParams
from agents.navigation import NavGrid


def _pairs(xy: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    if xy.shape[0] < 2:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    p = cKDTree(xy).query_pairs(r, output_type="ndarray")
    if p.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e
    p = p[np.lexsort((p[:, 1], p[:, 0]))]        # a fixed order: same input, same bytes
    return p[:, 0].astype(np.int64), p[:, 1].astype(np.int64)


def _scatter(n: int, i: np.ndarray, j: np.ndarray, fi: np.ndarray, fj: np.ndarray) -> np.ndarray:
    """Sum per-pair forces (p, 2) onto people: ``fi`` onto i, ``fj`` onto j."""
    out = np.empty((n, 2))
    for ax in (0, 1):
        out[:, ax] = (np.bincount(i, fi[:, ax], minlength=n)
                      + np.bincount(j, fj[:, ax], minlength=n))
    return out


def _side(xy: np.ndarray, e: np.ndarray, to_other: np.ndarray, nav: NavGrid) -> np.ndarray:
    """Unit sidestep for walkers at ``xy`` heading ``e`` (p, 2) with someone in direction
    ``to_other``: away from the side the other is on (dead ahead: to the right), unless
    there is no floor half a metre that way and there is the other way."""
    left = np.column_stack([-e[:, 1], e[:, 0]])
    off = (to_other * left).sum(axis=1)             # > 0: the other is on my left
    sign = np.where(off > 0.1, -1.0, np.where(off < -0.1, 1.0, -1.0))
    room_l = nav.is_free(xy + 0.55 * left)
    room_r = nav.is_free(xy - 0.55 * left)
    blocked = np.where(sign > 0, ~room_l & room_r, ~room_r & room_l)
    sign = np.where(blocked, -sign, sign)
    return left * sign[:, None]


def step_motion_numpy(xy: np.ndarray, vel: np.ndarray, desired: np.ndarray, vmax: np.ndarray,
                      radius: np.ndarray, still: np.ndarray, dt: float, p: MotionParams,
                      nav: NavGrid) -> tuple[np.ndarray, np.ndarray]:
    """:func:`step_motion` in numpy and scipy (the reference of the compiled kernel)."""
    n = xy.shape[0]
    if n == 0:
        return xy, vel
    walk = ~still
    acc = (desired - vel) / p.relax_s
    sp = np.hypot(desired[:, 0], desired[:, 1])
    e = np.where(sp[:, None] > 1e-9, desired / np.maximum(sp, 1e-9)[:, None], 0.0)
    i, j = _pairs(xy, p.cutoff_m)
    if i.size:
        d = xy[i] - xy[j]
        dist = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
        u = d / dist[:, None]                            # from j to i
        mag = p.social_a * np.exp((radius[i] + radius[j] - dist) / p.social_b)
        cos_i = -(e[i] * u).sum(axis=1)                  # > 0: j is ahead of i
        cos_j = (e[j] * u).sum(axis=1)                   # > 0: i is ahead of j
        lam = p.anisotropy
        w_i = lam + (1 - lam) * (1 + cos_i) / 2
        w_j = lam + (1 - lam) * (1 + cos_j) / 2
        ahead_i, ahead_j = cos_i > 0, cos_j > 0          # only those matter: save lookups
        side_i = np.zeros_like(u)
        side_j = np.zeros_like(u)
        if ahead_i.any():
            side_i[ahead_i] = _side(xy[i[ahead_i]], e[i[ahead_i]], -u[ahead_i], nav)
        if ahead_j.any():
            side_j[ahead_j] = _side(xy[j[ahead_j]], e[j[ahead_j]], u[ahead_j], nav)
        f_i = (w_i * mag)[:, None] * u + (p.evasion * mag * np.clip(cos_i, 0, None))[:, None] \
            * side_i
        f_j = -(w_j * mag)[:, None] * u + (p.evasion * mag * np.clip(cos_j, 0, None))[:, None] \
            * side_j
        acc += _scatter(n, i, j, f_i, f_j)
    dw, away = nav.obstacle_distance(xy)
    acc += (p.wall_a * np.exp(-dw / p.wall_b))[:, None] * away
    vel = np.where(walk[:, None], vel + acc * dt, 0.0)
    s = np.hypot(vel[:, 0], vel[:, 1])
    vel *= np.minimum(1.0, vmax / np.maximum(s, 1e-9))[:, None]
    new = xy + vel * dt
    ok = nav.is_free(new)
    if not ok.all():
        # against a shelf or wall: slide along it, towards where one wants to go, at no
        # less than half one's speed (so nobody sticks at a corner the route cuts close)
        b = np.flatnonzero(~ok)
        sp_b = np.hypot(vel[b, 0], vel[b, 1])
        want = np.where(sp[b, None] > 1e-9, desired[b], vel[b])
        slide = np.zeros((b.size, 2, 2))               # [person, axis tried, xy velocity]
        for ax in (0, 1):
            s_ax = np.sign(want[:, ax])
            slide[:, ax, ax] = s_ax * np.maximum(np.abs(vel[b, ax]), 0.5 * sp_b * (s_ax != 0))
        cand = xy[b, None, :] + slide * dt             # (m, 2 axes, 2)
        free = nav.is_free(cand.reshape(-1, 2)).reshape(-1, 2) & (np.abs(slide).sum(2) > 0)
        # the axis one mostly wants to go along first
        first = np.argmax(np.abs(want), axis=1)
        pick = np.where(free[np.arange(b.size), first], first,
                        np.where(free[np.arange(b.size), 1 - first], 1 - first, -1))
        moved = pick >= 0
        vb = np.zeros((b.size, 2))
        vb[moved] = slide[np.flatnonzero(moved), pick[moved]]
        new[b] = np.where(moved[:, None], xy[b] + vb * dt, xy[b])
        vel[b] = vb
    return separate(new, radius, still, p, nav), vel


def separate(xy: np.ndarray, radius: np.ndarray, still: np.ndarray, p: MotionParams,
             nav: NavGrid) -> np.ndarray:
    """Push overlapping bodies apart, keeping every move on free floor. Between two walkers
    (or two standing people) each takes half the overlap; a walker against someone standing
    takes all of it."""
    n = xy.shape[0]
    if n < 2 or p.separation_passes == 0:
        return xy
    i, j = _pairs(xy, 2 * float(radius.max()) + 0.05)
    if i.size == 0:
        return xy
    share_i = np.where(still[j] & ~still[i], 1.0, np.where(still[i] & ~still[j], 0.0, 0.5))
    share_j = 1.0 - share_i
    for _ in range(p.separation_passes):
        d = xy[i] - xy[j]
        dist = np.hypot(d[:, 0], d[:, 1])
        over = np.clip(radius[i] + radius[j] - dist, 0.0, None)
        if not over.any():
            break
        # coincident people: apart along x, by index order
        u = np.where(dist[:, None] > 1e-9, d / np.maximum(dist, 1e-9)[:, None],
                     np.array([1.0, 0.0]))
        push = _scatter(n, i, j, (share_i * over)[:, None] * u, -(share_j * over)[:, None] * u)
        cand = xy + push
        ok = nav.is_free(cand)
        if not ok.all():   # against a shelf: slide along it instead
            cx = np.column_stack([cand[:, 0], xy[:, 1]])
            cy = np.column_stack([xy[:, 0], cand[:, 1]])
            cand = np.where(ok[:, None], cand, np.where(nav.is_free(cx)[:, None], cx,
                                                        np.where(nav.is_free(cy)[:, None],
                                                                 cy, xy)))
        xy = cand
    return xy
