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
def window_pass(grams, rows, raw_prev, ring, baseline, base_var, active, w, thr_var,
                min_delta, beta, keep_var, add_var, filt, quiet, busy, new_ring, new_raw):
    """One message of ``k`` samples of every plate (``p`` of them).

    grams (q, k) float32, message order; rows (q,) int64 the state row of each message row
    (empty: the same order). State, time-major (float64): raw_prev (2, p) the last two raw
    samples, ring (r, p) the last filtered samples, baseline (p,) [g] and its variance
    base_var (p,) [g^2] (both updated in place for the plates idle through the message),
    active (p,) bool an event open. w: the variance window [samples]; thr_var [g^2]: the
    quiet threshold; min_delta [g]: the departure that makes a sample loud; beta, keep_var,
    add_var: the idle baseline's update (``core.shelf``).

    Writes filt (k, p) the filtered samples, quiet (k, p) bool, busy (p,) bool, new_ring
    (r, p) and new_raw (2, p) the state after the message."""
    q, k = grams.shape
    r = ring.shape[0]
    seq = np.empty(r + k)            # one plate's ring then new filtered samples, absolute
    c1 = np.empty(w + k)
    c2 = np.empty(w + k)
    same = rows.shape[0] == 0
    for m in range(q):
        p = m if same else rows[m]
        ref = baseline[p]
        # 1. median of 3, centred (raw samples: the two carried over, then the message's)
        a0, a1 = raw_prev[0, p], raw_prev[1, p]
        for i in range(r):
            seq[i] = ring[i, p]
        for i in range(k):
            a2 = np.float64(grams[m, i])
            f = _hi(_lo(a0, a1), _lo(_hi(a0, a1), a2))
            filt[i, p] = f
            seq[r + i] = f
            a0, a1 = a1, a2
        new_raw[0, p], new_raw[1, p] = a0, a1
        for i in range(r):
            new_ring[i, p] = seq[k + i]
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
            qi = var <= thr_var
            quiet[i, p] = qi
            if not qi or abs(seq[r + i] - ref) > min_delta:
                loud = True
        busy[p] = loud
        # 3. a plate idle through the message follows the samples leaving the window
        if loud:
            baseline[p] = ref + 0.0
        else:
            baseline[p] = ref + beta * c1[k] / k
            base_var[p] = keep_var * base_var[p] + add_var
