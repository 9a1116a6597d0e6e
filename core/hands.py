"""Hand evidence: hands seen in shelf bins, frame by frame, with the confirmed tracks that
stood near each (:class:`HandLog`), and how far a hand is from where a person standing at a
track would have put it (:class:`BinFaces`: people reach into the part of a bin's face
nearest them, an arm's length from the body at most).
"""

from __future__ import annotations

from collections import deque

import numpy as np

# A hand stays this far inside a bin's side walls [m] (the hand's width; assumption).
HAND_SIDE_MARGIN_M = 0.05
# How far from the body's floor point a reaching hand can be [m]: arm ~0.65 m (shoulder to
# palm, ANSUR II adult mean ~0.6-0.7 m) plus the lean of a reach (assumption).
ARM_M = 0.9


class HandLog:
    """Hands seen in bins, frame by frame, with the confirmed tracks that stood near each.

    One row per (observation, nearby track): time [s], plate, bin, observation id, track id,
    floor distance track -> hand [m]; an observation with no track near has one row with
    track -1. Rows older than ``keep_s`` are dropped.
    """

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._chunks: deque[tuple[float, dict[str, np.ndarray]]] = deque()
        self._next_obs = 0

    def add(self, t: float, cols: dict[str, np.ndarray]) -> None:
        self._chunks.append((t, cols))
        while self._chunks and self._chunks[0][0] < t - self.keep_s:
            self._chunks.popleft()

    def new_obs_ids(self, n: int) -> np.ndarray:
        ids = np.arange(self._next_obs, self._next_obs + n)
        self._next_obs += n
        return ids

    def window(self, t0: float, t1: float, plate: int) -> dict[str, np.ndarray] | None:
        parts = [c for t, c in self._chunks if t0 <= t <= t1]
        if not parts:
            return None
        cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        sel = cols["plate"] == plate
        if not sel.any():
            return None
        return {k: v[sel] for k, v in cols.items()}


class BinFaces:
    """The faces of the store's bins: where a hand enters each bin, and which way along the
    shelf is "side".

    center: (b, 3) bin centres [m]; access_xy: (b, 2) where a shopper stands to reach each
    [m]; size: (b, 3) bin sizes [m] (their floor extents give the faces).
    """

    def __init__(self, center: np.ndarray, access_xy: np.ndarray, size: np.ndarray) -> None:
        c2 = np.asarray(center, dtype=np.float64)[:, :2]
        n = np.asarray(access_xy, dtype=np.float64) - c2
        n /= np.maximum(np.linalg.norm(n, axis=1), 1e-9)[:, None]
        self.normal, self.side = n, np.stack([-n[:, 1], n[:, 0]], axis=1)
        sz = np.abs(np.asarray(size, dtype=np.float64)[:, :2])
        half_d = 0.5 * (sz * np.abs(n)).sum(axis=1)
        half_w = 0.5 * (sz * np.abs(self.side)).sum(axis=1)
        self.face = c2 + n * half_d[:, None]
        self.room = np.maximum(half_w - HAND_SIDE_MARGIN_M, 0.0)

    def misfit(self, b: np.ndarray, hand: np.ndarray, body: np.ndarray) -> np.ndarray:
        """How far a hand seen in bin ``b`` is from where a person standing at ``body``
        would put it [m]: people reach into the part of a bin's face nearest them (a hand
        at the bin's edge belongs to someone standing beside the bin, not to someone in
        front of its middle), and an arm reaches ``ARM_M`` from the body.

        b: (k,) bin; hand: (k, 2) hand floor point [m]; body: (k, 2) track [m]. Returns (k,).
        """
        face, side, n = self.face[b], self.side[b], self.normal[b]
        room = self.room[b]
        along = ((body - face) * side).sum(axis=1)
        expect = np.clip(along, -room, room)
        lateral = ((hand - face) * side).sum(axis=1) - expect
        to_face = ((body - face) * n).sum(axis=1)
        reach = np.hypot(to_face, along - expect)
        return np.hypot(lateral, np.maximum(reach - ARM_M, 0.0))
