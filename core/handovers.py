"""Hand-overs between shoppers: a part of :class:`core.store_core.StoreCore` (which keeps
the state; the module doc there says what a hand-over does to the carts).
"""

from __future__ import annotations

import numpy as np

from core.billing import ItemGuess
from core.hands import ARM_M
from core.ledger import HandOver
from core.records import Tracks


class HandOvers:
    """Hand-overs seen, passes resolved and settled, of :class:`core.store_core.StoreCore`."""

    def _see_hand_overs(self, t: float, hands: np.ndarray, tracks: Tracks,
                        passes: np.ndarray | None = None) -> None:
        """Hands in no bin. Where a camera saw who gave and who took (``passes`` rows: giver
        x, y, receiver x, y), the giver's unit moves to the receiver, billed as seen. Where
        a hand is only within an arm of two shoppers on different accounts, something
        changed hands unseen: decided ``handover_gap_s`` later unless a camera saw that pass
        meanwhile (``AttributionConfig.handover_confidence``)."""
        if tracks.track_id.size < 2:
            return
        a = self.attribution
        if passes is not None:
            for row in passes[np.isfinite(passes).all(axis=1)]:
                g = self._nearest_track(row[:2], tracks)
                r = self._nearest_track(row[2:], tracks, not_track=g)
                if g < 0 or r < 0 or self._cart_key(g) == self._cart_key(r):
                    continue
                kg, kr = self._cart_key(g), self._cart_key(r)
                pair = (min(kg, kr), max(kg, kr))
                if t - self._pending_handover.get(pair, -np.inf) < a.handover_gap_s:
                    del self._pending_handover[pair]     # that hand was this pass
                self._settle_hand_overs(t, {kg, kr})     # an earlier one, unseen
                if t - self._last_pass.get((kg, kr), -np.inf) < a.handover_gap_s:
                    self._last_pass[(kg, kr)] = t
                    continue
                self._last_pass[(kg, kr)] = t
                self._last_handover[pair] = t
                self._passes.append((t, kg, kr))      # moved once the giver's pick is billed
        d = np.linalg.norm(hands[:, None, :2] - tracks.xy[None, :, :], axis=2)  # (h, m)
        for row in d:  # a hand-over is a few sightings a minute at most
            near = np.argsort(row, kind="stable")
            near = near[row[near] <= ARM_M]
            keys = list(dict.fromkeys(self._cart_key(int(tracks.track_id[j])) for j in near))
            if len(keys) < 2:
                continue
            pair = (min(keys[:2]), max(keys[:2]))
            if t - self._last_handover.get(pair, -np.inf) < a.handover_gap_s:
                self._last_handover[pair] = t
                continue
            self._last_handover[pair] = t
            self._pending_handover.setdefault(pair, t)

    def _resolve_passes(self, now: float, keys: set[int] | None = None) -> None:
        """Hand-overs a camera saw (giver -> receiver at t), in order: the giver's unit taken
        by then moves. A pick's shelf event is billed a few seconds after the hand left the
        bin, so a pass waits for it up to ``pass_wait_s`` (or until one of ``keys`` is
        billed); with nothing in the giver's cart by then, both carts go to review."""
        a = self.attribution
        left = []
        for t, kg, kr in self._passes:
            sku = self.carts.hand_over(kg, kr, t)
            if sku is None and now - t < a.pass_wait_s and not (keys and {kg, kr} & keys):
                left.append((t, kg, kr))
                continue
            self.stats.hand_overs += 1
            pair = (min(kg, kr), max(kg, kr))
            self.hand_overs.append(HandOver(t, pair, kg, kr, -1 if sku is None else sku))
            if sku is None:
                why = "hand-over: seen, but what passed is unknown (the giver held nothing known)"
                for k in (kg, kr):
                    self.carts.doubt(k, a.handover_confidence, why)
        self._passes = left

    def _nearest_track(self, xy: np.ndarray, tracks: Tracks, not_track: int = -1) -> int:
        """The track nearest ``xy`` within ``pass_match_m`` (other than ``not_track``); -1
        when none."""
        d = np.linalg.norm(tracks.xy - xy[None, :], axis=1)
        d[tracks.track_id == not_track] = np.inf
        k = int(np.argmin(d))
        return int(tracks.track_id[k]) if d[k] <= self.attribution.pass_match_m else -1

    def _settle_hand_overs(self, t: float, keys: set[int] | None = None) -> None:
        """Hand-overs seen as a hand only, ``handover_gap_s`` ago with no pass seen since (or
        involving ``keys``: about to be billed, or in a pass seen now): decided as unseen
        (:meth:`_hand_over`)."""
        for pair, t0 in list(self._pending_handover.items()):
            if t - t0 >= self.attribution.handover_gap_s or (keys and set(pair) & keys):
                del self._pending_handover[pair]
                self._hand_over(t0, *pair)

    def _hand_over(self, t: float, ka: int, kb: int) -> None:
        """A hand-over nobody saw the direction of: both carts doubted; when only one holds
        anything, its latest unit moves to the other."""
        a = self.attribution
        self.stats.hand_overs += 1
        full = [k for k in (ka, kb) if self.carts.quantities(k)]
        giver = receiver = sku = -1
        if len(full) == 1:
            giver = full[0]
            receiver = kb if giver == ka else ka
            sku = self.carts.last_taken(giver)
            self.carts.add(giver, ItemGuess(sku, -1, 1.0), t)
            self.carts.add(receiver, ItemGuess(sku, 1, 1.0), t)
        why = ("hand-over: seen between two accounts; what passed is unknown" if giver < 0
               else "hand-over: seen between two accounts; one unit moved to the receiver")
        for k in (ka, kb):
            self.carts.doubt(k, a.handover_confidence, why)
        self.hand_overs.append(HandOver(t, (ka, kb), giver, receiver, sku))
