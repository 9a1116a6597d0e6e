"""Compiled plan-view culling of a large store's camera-body pairs (numba,
``@njit(cache=True)``): :func:`cull_lists` turns the plan grid of :mod:`twin.culling` into
the bodies each camera considers (:func:`twin._camera_kernels.visibility` takes the lists).

Importing this module compiles nothing; the first call compiles (or loads numba's cache next
to this file).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")


@_inline
def _plan_cell(x, y, origin, cell, nx, ny):
    """The plan-grid cell of floor point (x, y), clipped to the grid's high edges."""
    ix = min(int(math.floor((x - origin[0]) / cell)), nx - 1)
    iy = min(int(math.floor((y - origin[1]) / cell)), ny - 1)
    return ix * ny + iy


@_inline
def _in_box(x, y, box):
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


@_jit
def cull_lists(xy, origin, cell, nx, ny, cell_start, cell_cams, ext, n_cams):
    """Per camera, the bodies standing in its ``ext`` box, from the plan grid (see
    ``twin.culling``): start (c + 1,) int64 and body (n,) int64, bodies ascending
    within each camera. Two passes over the bodies: count per camera, then fill."""
    s = xy.shape[0]
    cnt = np.zeros(n_cams + 1, dtype=np.int64)
    for p in range(s):
        g = _plan_cell(xy[p, 0], xy[p, 1], origin, cell, nx, ny)
        for q in range(cell_start[g], cell_start[g + 1]):
            if _in_box(xy[p, 0], xy[p, 1], ext[cell_cams[q]]):
                cnt[cell_cams[q] + 1] += 1
    start = np.cumsum(cnt)
    fill = start[:-1].copy()
    body = np.empty(start[-1], dtype=np.int64)
    for p in range(s):
        g = _plan_cell(xy[p, 0], xy[p, 1], origin, cell, nx, ny)
        for q in range(cell_start[g], cell_start[g + 1]):
            c = cell_cams[q]
            if _in_box(xy[p, 0], xy[p, 1], ext[c]):
                body[fill[c]] = p
                fill[c] += 1
    return start, body
