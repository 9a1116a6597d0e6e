"""Bounded look-ahead: track positions smoothed with what the next seconds show.

A billing core needs a shopper's receipt at the exit, not their position at the frame, so it
may wait a little for a better answer: the best published multi-camera trackers are offline
(AI City 2024: HOTA 81 offline against 67 online). This module spends a bounded wait,
``lookahead_s``, on position: each track's position at time t is its local linear fit
(least squares, uniform weights) to the tracker's own estimates of that track within
``[t - lookahead_s, t + lookahead_s]``. A walker's filtered position trails them; the fit
centred on t does not, and it averages the measurement noise over a second or so instead
of the filter's fraction of one.

:func:`smooth_rows` smooths a whole recording's rows at once (``storetwin track``, the
benchmarks). Each row's answer uses rows up to ``lookahead_s`` later only
(``tests/core/test_smoothing.py``): the track latency is ``lookahead_s``, so a live core
could run it on a window of the last ``2 * lookahead_s`` of frames.

Identities are not changed here: a track keeps the id the tracker gave it at each frame.
"""

from __future__ import annotations

import numpy as np


def smooth_rows(t: np.ndarray, ids: np.ndarray, xy: np.ndarray, lookahead_s: float
                ) -> np.ndarray:
    """(n, 2) smoothed positions [m] of track rows t (n,) [s], ids (n,), xy (n, 2) [m]:
    each row's track fitted by a line within ``lookahead_s`` of its time, evaluated at it.

    Rows may come in any order; one track has at most one row per time. A row alone in its
    window keeps its position."""
    t = np.asarray(t, np.float64)
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    if not lookahead_s >= 0:
        raise ValueError(f"lookahead_s must be >= 0, got {lookahead_s!r}")
    n = t.shape[0]
    if n == 0 or lookahead_s == 0:
        return xy.copy()
    order = np.lexsort((t, ids))
    ts, idsort, xs = t[order], np.asarray(ids)[order], xy[order]
    # a time axis where tracks lie far apart: one searchsorted finds every window
    track_no = np.unique(idsort, return_inverse=True)[1]
    span = float(ts.max() - ts.min()) + 4.0 * lookahead_s + 1.0
    key = ts + track_no * span
    lo = np.searchsorted(key, key - lookahead_s - 1e-9, side="left")
    hi = np.searchsorted(key, key + lookahead_s + 1e-9, side="right")
    tau = ts - ts.min()                      # (fits are centred below: no cancellation)

    def window(v: np.ndarray) -> np.ndarray:
        c = np.concatenate([np.zeros((1,) + v.shape[1:]), np.cumsum(v, axis=0)])
        return c[hi] - c[lo]

    cnt = (hi - lo).astype(np.float64)
    s_t = window(tau)
    mean_t = s_t / cnt
    s_tt = window(tau * tau) - s_t * mean_t                     # sum (t - mean)^2
    mean_x = window(xs) / cnt[:, None]
    s_tx = window(tau[:, None] * xs) - s_t[:, None] * mean_x    # sum (t - mean)(x - mean)
    ok = s_tt > 1e-12 * np.maximum(cnt, 1)
    slope = np.where(ok[:, None], s_tx / np.where(ok, s_tt, 1.0)[:, None], 0.0)
    fit = mean_x + slope * (tau - mean_t)[:, None]
    out = np.empty_like(xy)
    out[order] = np.where((cnt > 1)[:, None], fit, xs)
    return out
