"""Compiled window pass of the shelf-event detector on numpy (numba, ``@njit(cache=True)``):
steps 1-3 of :mod:`core.shelf` (median of 3, moving variance, idle baseline) for every plate
of one message, in one pass over each plate's samples instead of a dozen array calls over
all plates (the array code stays the cupy path and the reference).

It repeats the array code's arithmetic operation by operation, in the same order (each
cumulative sum is added sample after sample from a zero, the moving mean and variance are
differences of those sums divided by the window), so on a given processor the detector's
events are those of the array code. Tests compare the two within a stated tolerance.

Importing this module compiles nothing; the first call compiles (or loads numba's cache next
to this file).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_jit = njit(cache=True, error_model="numpy")
_inline = njit(cache=True, error_model="numpy", inline="always")


@_inline
def _lo(a, b):
    """``np.minimum`` of two floats (a NaN wins)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


@_inline
def _hi(a, b):
    """``np.maximum`` of two floats (a NaN wins)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


@_jit
def window_pass(grams, raw_prev, ring, baseline, base_var, active, w, thr_var, min_delta,
                beta, keep_var, add_var, busy, ext, quiet):
    """One message of ``k`` samples of every plate (``p`` of them), plate-major.

    grams (p, k) float32 in state order. State (float64, one row a plate): raw_prev (p, 2)
    the last two raw samples and ring (p, r) the last r filtered samples, both moved on in
    place; baseline (p,) [g] and its variance base_var (p,) [g^2], updated in place for the
    plates idle through the message; active (p,) bool an event open. w: the variance window
    [samples]; thr_var [g^2]: the quiet threshold; min_delta [g]: the departure that makes
    a sample loud; beta, keep_var, add_var: the idle baseline's update (``core.shelf``).

    Returns b, the number of busy plates (an event open, or a sample loud); their rows go
    to busy[:b] (ascending) and, row by row, their ring before the message then filtered
    samples minus the baseline [g] to ext[:b] (r + k wide), their quiet samples to
    quiet[:b] (k wide). Only those rows are written."""
    q, k = grams.shape
    r = ring.shape[1]
    seq = np.empty(r + k)
    c1 = np.empty(w + k)
    c2 = np.empty(w + k)
    qs = np.empty(k, dtype=np.bool_)
    b = 0
    for p in range(q):
        ref = baseline[p]
        # 1. median of 3, centred (raw samples: the two carried over, then the message's)
        a0, a1 = raw_prev[p, 0], raw_prev[p, 1]
        for i in range(r):
            seq[i] = ring[p, i]
        for i in range(k):
            a2 = np.float64(grams[p, i])
            seq[r + i] = _hi(_lo(a0, a1), _lo(_hi(a0, a1), a2))
            a0, a1 = a1, a2
        raw_prev[p, 0], raw_prev[p, 1] = a0, a1
        for i in range(r):
            ring[p, i] = seq[k + i]
        # 2. moving mean and variance over w samples, relative to the baseline
        c1[0] = 0.0
        c2[0] = 0.0
        e = seq[r - w + 1] - ref
        c1[1] = e
        c2[1] = e * e
        for i in range(1, w + k - 1):
            e = seq[r - w + 1 + i] - ref
            c1[i + 1] = c1[i] + e
            c2[i + 1] = c2[i] + e * e
        loud = active[p]
        for i in range(k):
            m1 = (c1[w + i] - c1[i]) / w
            var = (c2[w + i] - c2[i]) / w - m1 * m1
            qs[i] = var <= thr_var
            if not qs[i] or abs(seq[r + i] - ref) > min_delta:
                loud = True
        if loud:
            busy[b] = p
            for i in range(r + k):
                ext[b, i] = seq[i] - ref
            for i in range(k):
                quiet[b, i] = qs[i]
            b += 1
            baseline[p] = ref + 0.0
        else:
            # 3. a plate idle through the message follows the samples leaving the window
            baseline[p] = ref + beta * c1[k] / k
            base_var[p] = keep_var * base_var[p] + add_var
    return b
