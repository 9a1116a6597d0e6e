"""Local motion of everyone at once: a social force model, vectorized.

Helbing & Molnar (1995) social force with the anisotropy of Helbing et al. (2000): each
walker relaxes towards its desired velocity and is pushed away from nearby people (more by
those ahead of it than behind) and from fixtures and walls. Two additions keep a dense
store moving and physical:

- evasion: a walker with someone ahead of it also steps aside: away from the side the other
  is on, or, dead ahead, to its right (Moussaid et al. 2009 measured a right-hand bias in
  most countries) unless a shelf is right there; this breaks the symmetric standstill a pure
  repulsion produces in a narrow aisle;
- bodies never overlap and never enter blocked floor: after the force step, overlapping pairs
  are pushed apart (someone standing at a shelf holds their ground against a walker) and a
  move into a fixture is cancelled along the blocked axis.

Neighbours come from a k-d tree (scipy) each step, so the cost grows with the people within
``cutoff_m`` of each other, not with the square of the crowd; the wall force is a lookup in
the navigation grid's distance transform, so it does not depend on how many fixtures there
are (pysocialforce sums over every obstacle point for every person: see
tests/benchmarks/test_crowd_speed.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from agents.navigation import NavGrid


@dataclass(frozen=True)
class MotionParams:
    radius: float = 0.25          # [m] body radius: ANSUR II shoulder breadth ~0.47 m / 2
    speed_mean: float = 1.34      # [m/s] free walking speed (Weidmann 1993), scripted shoppers
    social_a: float = 2.0         # [m/s^2] repulsion strength (Helbing & Molnar 1995 scale)
    social_b: float = 0.3         # [m] repulsion range (Helbing & Molnar 1995)
    anisotropy: float = 0.35      # weight of people behind vs ahead (Helbing et al. 2000: ~0.3)
    evasion: float = 0.5          # sidestep force per unit of repulsion from someone ahead
    relax_s: float = 0.5          # [s] relaxation time (Helbing & Molnar 1995)
    wall_a: float = 3.0           # [m/s^2] wall repulsion at the clearance line
    wall_b: float = 0.1           # [m] wall repulsion range
    cutoff_m: float = 2.0         # [m] people farther apart do not interact
    separation_passes: int = 3

    def __post_init__(self) -> None:
        for name in ("radius", "speed_mean", "social_b", "relax_s", "wall_b", "cutoff_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"MotionParams.{name} must be > 0, got {getattr(self, name)}")
        for name in ("social_a", "wall_a", "evasion"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"MotionParams.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.anisotropy <= 1:
            raise ValueError(f"MotionParams.anisotropy must be in [0, 1], got "
                             f"{self.anisotropy}")
        if not 0 <= self.separation_passes <= 20:
            raise ValueError("MotionParams.separation_passes must be in [0, 20]")


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


def step_motion(xy: np.ndarray, vel: np.ndarray, desired: np.ndarray, vmax: np.ndarray,
                radius: np.ndarray, still: np.ndarray, dt: float, p: MotionParams,
                nav: NavGrid) -> tuple[np.ndarray, np.ndarray]:
    """One step of ``dt`` [s] for n people: positions (n, 2) [m], velocities (n, 2) [m/s],
    desired velocities (n, 2), speed caps (n,), body radii (n,), ``still`` (n,) bool for people
    standing at a shelf (they do not walk, and hold their ground). Returns new (xy, vel).

    Runs the compiled kernel (``agents/_motion_kernels.py``), which agrees with
    :func:`step_motion_numpy`, the array reference, to float64 rounding, in one call."""
    from agents import _motion_kernels as mk

    f64 = np.float64
    return mk.step(np.ascontiguousarray(xy, f64), np.ascontiguousarray(vel, f64),
                   np.ascontiguousarray(desired, f64), np.ascontiguousarray(vmax, f64),
                   np.ascontiguousarray(radius, f64), np.ascontiguousarray(still, bool),
                   float(dt), float(p.social_a), float(p.social_b), float(p.anisotropy),
                   float(p.evasion), float(p.relax_s), float(p.wall_a), float(p.wall_b),
                   float(p.cutoff_m), int(p.separation_passes), *nav.kernel_grid)


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
