"""The compiled motion kernel against the array reference, step after step.

The two are different code paths: numba's machine code against numpy, which dispatches to
SIMD versions of ``exp`` and ``hypot`` by processor (AVX-512 ones where it finds them), so
they agree to rounding, not byte for byte. Measured on an AVX-512 Xeon: at most 1.1e-16 m/s
apart in velocity (0 in position) over these 480 steps; with numpy's AVX-512 dispatch
switched off (``NPY_DISABLE_CPU_FEATURES``), identical. The tolerance below is 10,000x that
and still 1e-12 m, far below anything a step resolves (positions are centimetres apart).
"""

from __future__ import annotations

import numpy as np
import pytest
from motion_reference import _pairs, step_motion_numpy
from scipy.spatial import cKDTree

from agents import _motion_kernels as mk
from agents.motion import MotionParams, step_motion
from agents.navigation import NavGrid
from scenes import load_preset

pytestmark = pytest.mark.kernels

TOL = 1e-12   # [m] and [m/s]: kernel against reference, absolute (values near 0 have no ulps)


@pytest.fixture(scope="module")
def nav():
    return NavGrid(load_preset("kiosk"), clearance=0.3)


@pytest.mark.parametrize("n", [1, 2, 25, 70])
def test_kernel_steps_are_the_reference_to_rounding(nav, n) -> None:
    p = MotionParams()
    rng = np.random.default_rng(n)
    xy = nav.random_free(rng, n, 0.3)
    vel = np.zeros((n, 2))
    radius = rng.choice([0.15, 0.25, 0.3, 0.35], n)
    goal = nav.random_free(rng, n, 0.0)
    for it in range(120):
        if it % 40 == 0:
            goal = nav.random_free(rng, n, 0.0)
        still = rng.random(n) < 0.3
        d = goal - xy
        dist = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
        desired = np.where(still[:, None], 0.0, d / dist[:, None] * 1.3)
        vmax = np.full(n, 1.7)
        want = step_motion_numpy(xy, vel, desired, vmax, radius, still, 1 / 15, p, nav)
        got = step_motion(xy, vel, desired, vmax, radius, still, 1 / 15, p, nav)
        np.testing.assert_allclose(got[0], want[0], rtol=0.0, atol=TOL, err_msg=f"xy, step {it}")
        np.testing.assert_allclose(got[1], want[1], rtol=0.0, atol=TOL, err_msg=f"vel, step {it}")
        xy, vel = want


def test_pairs_are_the_kd_trees_in_its_order() -> None:
    rng = np.random.default_rng(4)
    for n, spread in ((2, 1.0), (50, 5.0), (400, 40.0), (300, 1.0)):
        xy = rng.uniform(0, spread, (n, 2))
        xy[n // 2] = xy[0]                         # a coincident pair
        for r in (0.55, 2.0):
            i, j = mk.pairs(xy, r)
            ri, rj = _pairs(xy, r)
            assert np.array_equal(i, ri) and np.array_equal(j, rj)


def test_squeezed_walkers_keep_squeezing_while_someone_is_near() -> None:
    rng = np.random.default_rng(9)
    xy = rng.uniform(0, 4, (60, 2))
    radius = rng.choice([0.25, 0.3], 60)
    gap = cKDTree(xy).query(xy, k=2)[0][:, 1]
    want = gap < radius + 0.3
    got = np.ones(60, dtype=bool)
    free = np.ones((40, 40), dtype=bool)
    nb = np.zeros((2, 40, 40), np.int32)
    none = np.zeros(60, dtype=bool)
    mk.move(xy, np.zeros((60, 2)), xy, np.zeros(60), np.ones(60), radius, got, none, none,
            0.0, 0.1, 2.0, 0.15, 2.0, 0.3, 0.35, 0.5, 0.5, 3.0, 0.1, 2.0, 3, free, nb, False,
            -1.0, -1.0, 0.2)
    assert np.array_equal(got, want)
