"""Compiled coverage bookkeeping of :class:`experiments.envs.placement.SensorPlacementEnv`
(numba, ``@njit(cache=True)``).

A module of its own, importing nothing of storetwin: numba recompiles a cached kernel when
this file changes (experiments/bench/compile.py). Importing it compiles nothing; the first call
compiles (or loads numba's cache next to this file).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def add_camera(a, cell_ptr, cells, bin_ptr, bins, count, bin_seen, bin_weighed, walk_idx,
               cov, k):
    """Camera ``a`` joins: its cells' and bins' counts go up by one. Returns the changes of
    (sum of min(count, k), cells seen by >= 1, cells seen by >= k, bins seen and weighed)."""
    out = np.zeros(4, dtype=np.int64)
    for q in range(cell_ptr[a], cell_ptr[a + 1]):
        i = cells[q]
        old = count[i]
        count[i] = old + 1
        if old < k:
            out[0] += 1
            cov[walk_idx[i]] = (old + 1) / k
        if old == 0:
            out[1] += 1
        if old == k - 1:
            out[2] += 1
    for q in range(bin_ptr[a], bin_ptr[a + 1]):
        b = bins[q]
        if bin_seen[b] == 0 and bin_weighed[b] > 0:
            out[3] += 1
        bin_seen[b] += 1
    return out
