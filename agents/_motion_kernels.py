"""Compiled local motion (numba, ``@njit(cache=True)``): :func:`step` is one whole
:func:`agents.motion.step_motion` (social forces, walls, sliding along fixtures, separation
passes) in one call.

It mirrors the array reference (the test oracle ``tests/motion_reference.py``) operation by
operation (same pairs in the same lexicographic order, per-person sums accumulated in pair
order as ``numpy.bincount``), so both agree to float64 rounding: the same bytes where numpy's
``exp`` and ``hypot`` are the C library's, a few ulps apart where numpy dispatches to its SIMD
versions (AVX-512); ``tests/agents/test_motion.py`` checks it within a stated tolerance.
Neighbour pairs come from a uniform grid of buckets instead of a k-d tree: a pair is in when ``dx * dx + dy * dy <= r * r``, the test
scipy's ``cKDTree.query_pairs`` makes.

The navigation grid comes in as arrays: ``free`` (ny, nx) bool, ``near_blocked`` (2, ny, nx)
int32 (row, column of each cell's nearest blocked cell), its ``origin`` [m] and ``cell`` [m].

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

REACH_M = 5.0   # as NavGrid.obstacle_distance's default reach [m]


@njit(cache=True)
def is_free(x: float, y: float, free: np.ndarray, ox: float, oy: float, cell: float) -> bool:
    """As ``NavGrid.is_free`` for one point [m]."""
    fj = math.floor((x - ox) / cell)
    fi = math.floor((y - oy) / cell)
    if fi >= 0 and fi < free.shape[0] and fj >= 0 and fj < free.shape[1]:
        return free[int(fi), int(fj)]
    return False


@njit(cache=True)
def pairs(xy: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs i < j of points (n, 2) [m] with ``dx * dx + dy * dy <= r * r``, sorted by
    (i, j): (p,) int64 each."""
    n = xy.shape[0]
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r2 = r * r
    x0, y0 = xy[0, 0], xy[0, 1]
    x1, y1 = x0, y0
    for k in range(1, n):
        x0 = min(x0, xy[k, 0])
        x1 = max(x1, xy[k, 0])
        y0 = min(y0, xy[k, 1])
        y1 = max(y1, xy[k, 1])
    if not (math.isfinite(x0) and math.isfinite(x1) and math.isfinite(y0)
            and math.isfinite(y1)):
        return _pairs_brute(xy, r2)
    gx, gy, cx, cy, start, members = _buckets(xy, r, x0, y0, x1, y1)
    return _bucket_pairs(xy, r2, gx, gy, cx, cy, start, members)


@njit(cache=True)
def _buckets(xy: np.ndarray, r: float, x0: float, y0: float, x1: float, y1: float
             ) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The uniform grid of buckets of :func:`pairs` over the points (n, 2) [m] in the box
    (x0, y0)-(x1, y1): its size gx x gy, each point's bucket column and row (cx, cy), and
    the points by bucket (bucket c holds ``members[start[c]:start[c + 1]]``, ascending)."""
    n = xy.shape[0]
    # buckets at least r wide (with a margin for the rounding of the division), so that a
    # pair is never more than one bucket apart
    size = max(r * (1.0 + 1e-9), 1e-6, (x1 - x0) / 4096.0, (y1 - y0) / 4096.0)
    gx = int((x1 - x0) / size) + 1
    gy = int((y1 - y0) / size) + 1
    while gx * gy > 4 * n + 64:          # a sparse crowd: bigger buckets
        size *= 2.0
        gx = int((x1 - x0) / size) + 1
        gy = int((y1 - y0) / size) + 1
    cx = np.empty(n, np.int64)
    cy = np.empty(n, np.int64)
    start = np.zeros(gx * gy + 1, np.int64)
    for k in range(n):
        cx[k] = min(int((xy[k, 0] - x0) / size), gx - 1)
        cy[k] = min(int((xy[k, 1] - y0) / size), gy - 1)
        start[cy[k] * gx + cx[k] + 1] += 1
    for c in range(gx * gy):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    members = np.empty(n, np.int64)
    for k in range(n):                   # ascending within each bucket
        c = cy[k] * gx + cx[k]
        members[fill[c]] = k
        fill[c] += 1
    return gx, gy, cx, cy, start, members


@njit(cache=True)
def _bucket_pairs(xy: np.ndarray, r2: float, gx: int, gy: int, cx: np.ndarray, cy: np.ndarray,
                  start: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of :func:`pairs` from its buckets (:func:`_buckets`): each point against
    the later points of its own and the 8 neighbouring buckets, sorted by (i, j)."""
    n = xy.shape[0]
    cap = 16 * n
    oi = np.empty(cap, np.int64)
    oj = np.empty(cap, np.int64)
    m = 0
    near = np.empty(n, np.int64)
    for a in range(n):
        cnt = 0
        for dyc in range(-1, 2):
            yy = cy[a] + dyc
            if yy < 0 or yy >= gy:
                continue
            for dxc in range(-1, 2):
                xx = cx[a] + dxc
                if xx < 0 or xx >= gx:
                    continue
                c = yy * gx + xx
                for q in range(start[c], start[c + 1]):
                    b = members[q]
                    if b <= a:
                        continue
                    dx = xy[a, 0] - xy[b, 0]
                    dy = xy[a, 1] - xy[b, 1]
                    if dx * dx + dy * dy <= r2:
                        near[cnt] = b
                        cnt += 1
        if cnt == 0:
            continue
        near[:cnt].sort()
        if m + cnt > cap:
            cap = 2 * (m + cnt)
            ni = np.empty(cap, np.int64)
            nj = np.empty(cap, np.int64)
            ni[:m] = oi[:m]
            nj[:m] = oj[:m]
            oi, oj = ni, nj
        for q in range(cnt):
            oi[m] = a
            oj[m] = near[q]
            m += 1
    return oi[:m].copy(), oj[:m].copy()


@njit(cache=True)
def _pairs_brute(xy: np.ndarray, r2: float) -> tuple[np.ndarray, np.ndarray]:
    n = xy.shape[0]
    oi = []
    oj = []
    for a in range(n):
        for b in range(a + 1, n):
            dx = xy[a, 0] - xy[b, 0]
            dy = xy[a, 1] - xy[b, 1]
            if dx * dx + dy * dy <= r2:
                oi.append(a)
                oj.append(b)
    return np.array(oi, np.int64), np.array(oj, np.int64)


@njit(cache=True)
def _side(x: float, y: float, ex: float, ey: float, tx: float, ty: float,
          free: np.ndarray, ox: float, oy: float, cell: float) -> tuple[float, float]:
    """As ``_side`` of the array reference (``tests/motion_reference.py``) for one walker at (x, y) heading (ex, ey) with someone in
    direction (tx, ty)."""
    lx, ly = -ey, ex
    off = tx * lx + ty * ly
    sign = -1.0 if off > 0.1 else (1.0 if off < -0.1 else -1.0)
    room_l = is_free(x + 0.55 * lx, y + 0.55 * ly, free, ox, oy, cell)
    room_r = is_free(x - 0.55 * lx, y - 0.55 * ly, free, ox, oy, cell)
    if sign > 0:
        blocked = (not room_l) and room_r
    else:
        blocked = (not room_r) and room_l
    if blocked:
        sign = -sign
    return lx * sign, ly * sign


@njit(cache=True)
def _sign(v: float) -> float:
    if v > 0:
        return 1.0
    if v < 0:
        return -1.0
    if v == 0:
        return 0.0
    return v


@njit(cache=True)
def step(xy: np.ndarray, vel: np.ndarray, desired: np.ndarray, vmax: np.ndarray,
         radius: np.ndarray, still: np.ndarray, dt: float,
         social_a: float, social_b: float, anisotropy: float, evasion: float,
         relax_s: float, wall_a: float, wall_b: float, cutoff_m: float,
         separation_passes: int, free: np.ndarray, near_blocked: np.ndarray,
         any_blocked: bool, ox: float, oy: float, cell: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """``agents.motion.step_motion`` (its docstring), with the parameters and the grid
    unpacked. Returns new (xy, vel) arrays."""
    n = xy.shape[0]
    if n == 0:
        return xy.copy(), vel.copy()
    acc, e, sp = _relax(desired, vel, relax_s)
    _social(acc, xy, e, radius, cutoff_m, social_a, social_b, anisotropy, evasion,
            free, ox, oy, cell)
    _walls(acc, xy, wall_a, wall_b, free, near_blocked, any_blocked, ox, oy, cell)
    new, vout = _advance(xy, vel, acc, desired, sp, vmax, still, dt, free, ox, oy, cell)
    return separate(new, radius, still, separation_passes, free, ox, oy, cell), vout


@njit(cache=True)
def _relax(desired: np.ndarray, vel: np.ndarray, relax_s: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of :func:`step`: the acceleration (n, 2) relaxing each velocity towards the desired
    one, the desired directions (n, 2) (zero when standing) and speeds (n,)."""
    n = desired.shape[0]
    acc = np.empty((n, 2))
    e = np.empty((n, 2))
    sp = np.empty(n)
    for k in range(n):
        acc[k, 0] = (desired[k, 0] - vel[k, 0]) / relax_s
        acc[k, 1] = (desired[k, 1] - vel[k, 1]) / relax_s
        s = math.hypot(desired[k, 0], desired[k, 1])
        sp[k] = s
        if s > 1e-9:
            m = max(s, 1e-9)
            e[k, 0] = desired[k, 0] / m
            e[k, 1] = desired[k, 1] / m
        else:
            e[k, 0] = 0.0
            e[k, 1] = 0.0
    return acc, e, sp


@njit(cache=True)
def _social(acc: np.ndarray, xy: np.ndarray, e: np.ndarray, radius: np.ndarray,
            cutoff_m: float, social_a: float, social_b: float, anisotropy: float,
            evasion: float, free: np.ndarray, ox: float, oy: float, cell: float) -> None:
    """Of :func:`step`: the social forces of the pairs within ``cutoff_m`` (repulsion,
    weighted by who is ahead, and evasion to the side), added to ``acc`` in place."""
    n = xy.shape[0]
    pi, pj = pairs(xy, cutoff_m)
    if pi.size:
        si = np.zeros((n, 2))
        sj = np.zeros((n, 2))
        lam = anisotropy
        for q in range(pi.size):
            i, j = pi[q], pj[q]
            dx = xy[i, 0] - xy[j, 0]
            dy = xy[i, 1] - xy[j, 1]
            dist = max(math.hypot(dx, dy), 1e-9)
            ux, uy = dx / dist, dy / dist
            mag = social_a * math.exp((radius[i] + radius[j] - dist) / social_b)
            cos_i = -(e[i, 0] * ux + e[i, 1] * uy)
            cos_j = e[j, 0] * ux + e[j, 1] * uy
            w_i = lam + (1 - lam) * (1 + cos_i) / 2
            w_j = lam + (1 - lam) * (1 + cos_j) / 2
            sxi = syi = sxj = syj = 0.0
            if cos_i > 0:
                sxi, syi = _side(xy[i, 0], xy[i, 1], e[i, 0], e[i, 1], -ux, -uy,
                                 free, ox, oy, cell)
            if cos_j > 0:
                sxj, syj = _side(xy[j, 0], xy[j, 1], e[j, 0], e[j, 1], ux, uy,
                                 free, ox, oy, cell)
            ci = cos_i if cos_i > 0 else 0.0
            cj = cos_j if cos_j > 0 else 0.0
            if math.isnan(cos_i):
                ci = cos_i
            if math.isnan(cos_j):
                cj = cos_j
            a_i = w_i * mag
            b_i = evasion * mag * ci
            a_j = -(w_j * mag)
            b_j = evasion * mag * cj
            si[i, 0] += a_i * ux + b_i * sxi
            si[i, 1] += a_i * uy + b_i * syi
            sj[j, 0] += a_j * ux + b_j * sxj
            sj[j, 1] += a_j * uy + b_j * syj
        for k in range(n):
            acc[k, 0] += si[k, 0] + sj[k, 0]
            acc[k, 1] += si[k, 1] + sj[k, 1]


@njit(cache=True)
def _walls(acc: np.ndarray, xy: np.ndarray, wall_a: float, wall_b: float, free: np.ndarray,
           near_blocked: np.ndarray, any_blocked: bool, ox: float, oy: float, cell: float
           ) -> None:
    """Of :func:`step`: the force of walls and fixtures (``NavGrid.obstacle_distance``),
    added to ``acc`` in place."""
    n = xy.shape[0]
    ny, nx = free.shape
    # walls and fixtures: NavGrid.obstacle_distance
    for k in range(n):
        x, y = xy[k, 0], xy[k, 1]
        fj = math.floor((x - ox) / cell)
        fi = math.floor((y - oy) / cell)
        dw = 0.0
        awx = awy = 0.0
        if fi >= 0 and fi < ny and fj >= 0 and fj < nx and free[int(fi), int(fj)]:
            if not any_blocked:
                dw = np.inf
            else:
                bi = near_blocked[0, int(fi), int(fj)]
                bj = near_blocked[1, int(fi), int(fj)]
                lox = ox + bj * cell
                loy = oy + bi * cell
                qx = min(max(x, lox), lox + cell)
                qy = min(max(y, loy), loy + cell)
                vx, vy = x - qx, y - qy
                d = math.hypot(vx, vy)
                if d > 0.0 and d <= REACH_M:
                    awx, awy = vx / d, vy / d
                dw = d
        f = wall_a * math.exp(-dw / wall_b)
        acc[k, 0] += f * awx
        acc[k, 1] += f * awy


@njit(cache=True)
def _advance(xy: np.ndarray, vel: np.ndarray, acc: np.ndarray, desired: np.ndarray,
             sp: np.ndarray, vmax: np.ndarray, still: np.ndarray, dt: float,
             free: np.ndarray, ox: float, oy: float, cell: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Of :func:`step`: new velocities (capped at ``vmax``; zero for those standing still)
    and positions; a move into blocked floor slides along it (:func:`_slide`). Returns
    (positions, velocities), before the separation passes."""
    n = xy.shape[0]
    vout = np.empty((n, 2))
    new = np.empty((n, 2))
    for k in range(n):
        if still[k]:
            vx = vy = 0.0
        else:
            vx = vel[k, 0] + acc[k, 0] * dt
            vy = vel[k, 1] + acc[k, 1] * dt
        s = math.hypot(vx, vy)
        c = vmax[k] / max(s, 1e-9)
        if not c < 1.0 and not math.isnan(c):
            c = 1.0
        vx *= c
        vy *= c
        nxp = xy[k, 0] + vx * dt
        nyp = xy[k, 1] + vy * dt
        if not is_free(nxp, nyp, free, ox, oy, cell):
            vx, vy, nxp, nyp = _slide(xy[k, 0], xy[k, 1], vx, vy, desired[k, 0],
                                      desired[k, 1], sp[k], dt, free, ox, oy, cell)
        vout[k, 0], vout[k, 1] = vx, vy
        new[k, 0], new[k, 1] = nxp, nyp
    return new, vout


@njit(cache=True)
def _slide(x: float, y: float, vx: float, vy: float, dx: float, dy: float, speed: float,
           dt: float, free: np.ndarray, ox: float, oy: float, cell: float
           ) -> tuple[float, float, float, float]:
    """Of :func:`_advance`: a walker at (x, y) whose move at (vx, vy) [m/s] would end on
    blocked floor, against a shelf or wall: slide along it (``agents.motion.step_motion``),
    along the axis its desired velocity (dx, dy) (its speed ``speed``), or else its velocity,
    favours, or stop. Returns the new velocity and position (vx, vy, x, y)."""
    # against a shelf or wall: slide along it (agents.motion.step_motion)
    sp_b = math.hypot(vx, vy)
    if speed > 1e-9:
        wx, wy = dx, dy
    else:
        wx, wy = vx, vy
    s0, s1 = _sign(wx), _sign(wy)
    sl0 = s0 * max(abs(vx), 0.5 * sp_b * (1.0 if s0 != 0 else 0.0))
    sl1 = s1 * max(abs(vy), 0.5 * sp_b * (1.0 if s1 != 0 else 0.0))
    # axis 0 moves along x only, axis 1 along y only
    c0x, c0y = x + sl0 * dt, y + 0.0 * dt
    c1x, c1y = x + 0.0 * dt, y + sl1 * dt
    f0 = is_free(c0x, c0y, free, ox, oy, cell) and (abs(sl0) + abs(0.0) > 0)
    f1 = is_free(c1x, c1y, free, ox, oy, cell) and (abs(0.0) + abs(sl1) > 0)
    first = 0 if abs(wx) >= abs(wy) or math.isnan(wx) else 1
    fr = f0 if first == 0 else f1
    ot = f1 if first == 0 else f0
    pick = first if fr else (1 - first if ot else -1)
    if pick == 0:
        vx, vy = sl0, 0.0
        nxp, nyp = x + vx * dt, y + vy * dt
    elif pick == 1:
        vx, vy = 0.0, sl1
        nxp, nyp = x + vx * dt, y + vy * dt
    else:
        vx = vy = 0.0
        nxp, nyp = x, y
    return vx, vy, nxp, nyp


@njit(cache=True)
def separate(xy: np.ndarray, radius: np.ndarray, still: np.ndarray, passes: int,
             free: np.ndarray, ox: float, oy: float, cell: float) -> np.ndarray:
    """``separate`` of the array reference (``tests/motion_reference.py``); returns ``xy``
    itself when nothing moves."""
    n = xy.shape[0]
    if n < 2 or passes == 0:
        return xy
    pi, pj = pairs(xy, 2 * radius.max() + 0.05)
    if pi.size == 0:
        return xy
    m = pi.size
    share_i = np.empty(m)
    for q in range(m):
        i, j = pi[q], pj[q]
        if still[j] and not still[i]:
            share_i[q] = 1.0
        elif still[i] and not still[j]:
            share_i[q] = 0.0
        else:
            share_i[q] = 0.5
    over = np.empty(m)
    si = np.empty((n, 2))
    sj = np.empty((n, 2))
    for _ in range(passes):
        anyover = False
        for q in range(m):
            i, j = pi[q], pj[q]
            dx = xy[i, 0] - xy[j, 0]
            dy = xy[i, 1] - xy[j, 1]
            o = radius[i] + radius[j] - math.hypot(dx, dy)
            if not o > 0.0 and not math.isnan(o):
                o = 0.0
            over[q] = o
            if o != 0.0:
                anyover = True
        if not anyover:
            break
        si[:] = 0.0
        sj[:] = 0.0
        for q in range(m):
            i, j = pi[q], pj[q]
            dx = xy[i, 0] - xy[j, 0]
            dy = xy[i, 1] - xy[j, 1]
            dist = math.hypot(dx, dy)
            if dist > 1e-9:
                dd = max(dist, 1e-9)
                ux, uy = dx / dd, dy / dd
            else:
                ux, uy = 1.0, 0.0
            a = share_i[q] * over[q]
            b = -((1.0 - share_i[q]) * over[q])
            si[i, 0] += a * ux
            si[i, 1] += a * uy
            sj[j, 0] += b * ux
            sj[j, 1] += b * uy
        cand = np.empty((n, 2))
        for k in range(n):
            cx = xy[k, 0] + (si[k, 0] + sj[k, 0])
            cy = xy[k, 1] + (si[k, 1] + sj[k, 1])
            if not is_free(cx, cy, free, ox, oy, cell):
                if is_free(cx, xy[k, 1], free, ox, oy, cell):
                    cy = xy[k, 1]
                elif is_free(xy[k, 0], cy, free, ox, oy, cell):
                    cx = xy[k, 0]
                else:
                    cx, cy = xy[k, 0], xy[k, 1]
            cand[k, 0], cand[k, 1] = cx, cy
        xy = cand
    return xy


# -- the crowd's per-step array work (agents.walking.Walking._move) -------------------------

@njit(cache=True)
def progress(target: np.ndarray, xy: np.ndarray, best: np.ndarray, stalled: np.ndarray,
             walking: np.ndarray, last: np.ndarray, dt: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Progress of each walker (n,) towards its waypoint ``target`` (n, 2) [m]: updates the
    best distance so far ``best`` [m] and the time without progress ``stalled`` [s] in place;
    returns the distance (n,) [m] and whether the waypoint counts as reached (n,) bool."""
    n = xy.shape[0]
    dist = np.empty(n)
    reached = np.zeros(n, np.bool_)
    for k in range(n):
        d = math.hypot(target[k, 0] - xy[k, 0], target[k, 1] - xy[k, 1])
        dist[k] = d
        better = d < best[k] - 0.02
        if better:
            best[k] = d
        stalled[k] = 0.0 if (better or not walking[k]) else stalled[k] + dt
        if walking[k]:
            reached[k] = ((d < 0.1) or ((not last[k]) and d < 0.3)
                          or (last[k] and stalled[k] > 0.8 and d < 0.9))
    return dist, reached


@njit(cache=True)
def anchors(xy: np.ndarray, anchor: np.ndarray, anchor_t: np.ndarray, walking: np.ndarray,
            t: float, blocked_s: float) -> np.ndarray:
    """Where (n, 2) [m] and when (n,) [s] each walker was last 0.5 m away from where it is
    now, updated in place (non-walkers: here and now); returns the walkers held up longer
    than ``blocked_s`` [s] (n,) bool."""
    n = xy.shape[0]
    out = np.zeros(n, np.bool_)
    for k in range(n):
        moved = math.hypot(xy[k, 0] - anchor[k, 0], xy[k, 1] - anchor[k, 1]) > 0.5
        if moved or not walking[k]:
            anchor[k, 0] = xy[k, 0]
            anchor[k, 1] = xy[k, 1]
            anchor_t[k] = t
        out[k] = walking[k] and (t - anchor_t[k] > blocked_s)
    return out


@njit(cache=True)
def move(xy: np.ndarray, vel: np.ndarray, target: np.ndarray, anchor_t: np.ndarray,
         speed: np.ndarray, radius0: np.ndarray, squeezed: np.ndarray, walking: np.ndarray,
         last: np.ndarray, t: float, dt: float, squeeze_s: float, squeeze_radius: float,
         social_a: float, social_b: float, anisotropy: float, evasion: float,
         relax_s: float, wall_a: float, wall_b: float, cutoff_m: float,
         separation_passes: int, free: np.ndarray, near_blocked: np.ndarray,
         any_blocked: bool, ox: float, oy: float, cell: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """Desired velocities (towards the waypoint, slowing into the last one), who squeezes
    past people (``squeezed`` (n,) bool, updated in place) and one :func:`step`. Returns new
    (xy, vel)."""
    n = xy.shape[0]
    desired = np.empty((n, 2))
    tiny_dt = max(dt, 1e-9)
    for k in range(n):
        dx = target[k, 0] - xy[k, 0]
        dy = target[k, 1] - xy[k, 1]
        dist = max(math.hypot(dx, dy), 1e-9)
        v = speed[k]
        if last[k]:
            c = dist / tiny_dt
            if c < v or math.isnan(c):
                v = c
        if walking[k]:
            desired[k, 0] = dx / dist * v
            desired[k, 1] = dy / dist * v
        else:
            desired[k, 0] = 0.0
            desired[k, 1] = 0.0
    anysq = False
    for k in range(n):
        anysq = anysq or squeezed[k]
    if n > 1 and anysq:
        # keep squeezing while the nearest other is within one's radius + 0.3 m (the nearest
        # neighbour's distance is the root of the smallest dx * dx + dy * dy)
        near = np.zeros(n, np.bool_)
        reach = radius0.max() + 0.31
        pi, pj = pairs(xy, reach)
        for q in range(pi.size):
            i, j = pi[q], pj[q]
            dx = xy[i, 0] - xy[j, 0]
            dy = xy[i, 1] - xy[j, 1]
            g = math.sqrt(dx * dx + dy * dy)
            if g < radius0[i] + 0.3:
                near[i] = True
            if g < radius0[j] + 0.3:
                near[j] = True
        for k in range(n):
            squeezed[k] = squeezed[k] and near[k]
    radius = np.empty(n)
    still = np.empty(n, np.bool_)
    vmax = np.empty(n)
    for k in range(n):
        if walking[k] and (t - anchor_t[k] > squeeze_s) and radius0[k] <= 0.3:
            squeezed[k] = True
        radius[k] = squeeze_radius if squeezed[k] else radius0[k]
        still[k] = not walking[k]
        vmax[k] = 1.3 * speed[k]
    return step(xy, vel, desired, vmax, radius, still, dt, social_a, social_b, anisotropy,
                evasion, relax_s, wall_a, wall_b, cutoff_m, separation_passes, free,
                near_blocked, any_blocked, ox, oy, cell)


def warm_up() -> None:
    """Compile (or load from numba's cache) the kernels the crowd calls, on a tiny input, so
    that the cost falls on construction and not on the first step."""
    free = np.ones((4, 4), np.bool_)
    nb = np.zeros((2, 4, 4), np.int32)
    xy = np.array([[0.3, 0.3], [0.5, 0.3]])
    z = np.zeros((2, 2))
    on = np.ones(2, np.bool_)
    f = np.full(2, 0.25)
    progress(xy, xy, f.copy(), f.copy(), on, on, 0.1)
    anchors(xy, xy.copy(), f.copy(), on, 0.0, 6.0)
    move(xy, z, xy, f, f, f, on.copy(), on, on, 0.0, 0.1, 2.0, 0.15, 2.0, 0.3, 0.35, 0.5,
         0.5, 3.0, 0.1, 2.0, 3, free, nb, False, 0.0, 0.0, 0.2)
