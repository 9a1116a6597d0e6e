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

Neighbours come from a uniform grid of buckets each step, so the cost grows with the people
within ``cutoff_m`` of each other, not with the square of the crowd; the wall force is a
lookup in the navigation grid's distance transform, so it does not depend on how many
fixtures there are (pysocialforce sums over every obstacle point for every person: see
tests/benchmarks/test_crowd_speed.py).

The step runs compiled (``agents/_motion_kernels.py``). Its array reference in numpy and
scipy, operation by operation, is the test oracle ``tests/motion_reference.py``.
"""

from __future__ import annotations

import numpy as np

from agents.navigation import NavGrid
from params import config, num


@config(frozen=True)
class MotionParams:
    """The social force model's parameters, each with its source."""

    radius: float = num(0.25, gt=0, unit="m")        # body radius: ANSUR II shoulder breadth
                                                     # ~0.47 m / 2
    speed_mean: float = num(1.34, gt=0, unit="m/s")  # free walking speed (Weidmann 1993),
                                                     # scripted shoppers
    social_a: float = num(2.0, ge=0, unit="m/s^2")   # repulsion strength (Helbing & Molnar
                                                     # 1995 scale)
    social_b: float = num(0.3, gt=0, unit="m")       # repulsion range (Helbing & Molnar 1995)
    anisotropy: float = num(0.35, ge=0, le=1)   # weight of people behind vs ahead (Helbing et
                                                # al. 2000: ~0.3)
    evasion: float = num(0.5, ge=0)             # sidestep force per unit of repulsion from
                                                # someone ahead
    relax_s: float = num(0.5, gt=0, unit="s")   # relaxation time (Helbing & Molnar 1995)
    wall_a: float = num(3.0, ge=0, unit="m/s^2")   # wall repulsion at the clearance line
    wall_b: float = num(0.1, gt=0, unit="m")       # wall repulsion range
    cutoff_m: float = num(2.0, gt=0, unit="m")     # people farther apart do not interact
    separation_passes: int = num(3, ge=0, le=20, integer=True)


def step_motion(xy: np.ndarray, vel: np.ndarray, desired: np.ndarray, vmax: np.ndarray,
                radius: np.ndarray, still: np.ndarray, dt: float, p: MotionParams,
                nav: NavGrid) -> tuple[np.ndarray, np.ndarray]:
    """One step of ``dt`` [s] for n people: positions (n, 2) [m], velocities (n, 2) [m/s],
    desired velocities (n, 2), speed caps (n,), body radii (n,), ``still`` (n,) bool for people
    standing at a shelf (they do not walk, and hold their ground). Returns new (xy, vel).

    Runs the compiled kernel (``agents/_motion_kernels.py``) in one call; it agrees with the
    array reference (``tests/motion_reference.py``) to float64 rounding."""
    from agents import _motion_kernels as mk

    f64 = np.float64
    return mk.step(np.ascontiguousarray(xy, f64), np.ascontiguousarray(vel, f64),
                   np.ascontiguousarray(desired, f64), np.ascontiguousarray(vmax, f64),
                   np.ascontiguousarray(radius, f64), np.ascontiguousarray(still, bool),
                   float(dt), float(p.social_a), float(p.social_b), float(p.anisotropy),
                   float(p.evasion), float(p.relax_s), float(p.wall_a), float(p.wall_b),
                   float(p.cutoff_m), int(p.separation_passes), *nav.kernel_grid)
