"""Bounded look-ahead: track positions smoothed with what the next seconds show.

A billing core needs a shopper's receipt at the exit, not their position at the frame, so it
may wait a little for a better answer: the best published multi-camera trackers are offline
(AI City 2024: HOTA 81 offline against 67 online). This module spends a bounded wait,
``lookahead_s``, on position: each track's position at time t is its local linear fit
(least squares, uniform weights) to the tracker's own estimates of that track within
``[t - lookahead_s, t + lookahead_s]``. A walker's filtered position trails them; the fit
centred on t does not, and it averages the measurement noise over a second or so instead
of the filter's fraction of one.

- :func:`smooth_rows` smooths a whole recording's rows at once (``storetwin track``, the
  benchmarks). Each row's answer uses rows up to ``lookahead_s`` later only: the track
  latency is ``lookahead_s``.
- :class:`LookAhead` does the same online: feed it each frame's tracks, and it hands back
  the frame ``lookahead_s`` old, smoothed; :meth:`LookAhead.flush` hands back the rest.
  Row for row it equals :func:`smooth_rows` on the same frames (``tests/core/test_smoothing.py``).

Identities are not changed here: a track keeps the id the tracker gave it at each frame.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from core.records import Tracks


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
    _, first = np.unique(idsort, return_index=True)
    track_no = np.cumsum(np.isin(np.arange(n), first)) - 1
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


class LookAhead:
    """Online :func:`smooth_rows`: frames in, frames ``lookahead_s`` later out."""

    def __init__(self, lookahead_s: float) -> None:
        if not lookahead_s >= 0:
            raise ValueError(f"lookahead_s must be >= 0, got {lookahead_s!r}")
        self.lookahead_s = float(lookahead_s)
        self._frames: deque[Tracks] = deque()
        self._next = 0          # index in _frames of the next frame to hand back

    def push(self, tracks: Tracks) -> list[Tracks]:
        """Take one frame's tracks; return the frames now ``lookahead_s`` old, smoothed."""
        if self._frames and tracks.t < self._frames[-1].t:
            raise ValueError(f"LookAhead: frame at t={tracks.t} s is earlier than the last")
        self._frames.append(tracks)
        return self._emit(tracks.t - self.lookahead_s)

    def flush(self) -> list[Tracks]:
        """The frames not handed back yet (end of the stream)."""
        return self._emit(np.inf)

    def _emit(self, until: float) -> list[Tracks]:
        frames = self._frames
        ready = self._next
        while ready < len(frames) and frames[ready].t <= until + 1e-9:
            ready += 1
        if ready == self._next:
            return []
        rows = [f for f in frames]
        t = np.concatenate([np.full(f.track_id.size, f.t) for f in rows])
        ids = np.concatenate([f.track_id for f in rows])
        xy = np.concatenate([f.xy.reshape(-1, 2) for f in rows])
        sm = smooth_rows(t, ids, xy, self.lookahead_s)
        out, at = [], 0
        for k, f in enumerate(rows):
            m = f.track_id.size
            if self._next <= k < ready:
                out.append(Tracks(frame=f.frame, t=f.t, track_id=f.track_id,
                                  xy=sm[at:at + m]))
            at += m
        self._next = ready
        # keep what a later window can still reach: lookahead_s before the next frame out
        keep_from = frames[ready].t - self.lookahead_s if ready < len(frames) else np.inf
        while frames and frames[0].t < keep_from - 1e-9 and self._next > 0:
            frames.popleft()
            self._next -= 1
        return out
