"""The naive pipeline: the baseline the full core must beat.

What a first attempt at a walk-out store does: the same people tracker and the same
weight-change events, then the planogram sku of the plate (weight only), billed to whoever
stood nearest the shelf when the load settled. No hands, no reach window, no put-back
reasoning from the cart, no blind-spot handling, no doubt: confidence comes only from how
well the weight fits whole units, and an event with nobody near is dropped into the ledger.
Departures and receipts are the full core's (:class:`core.store_core.StoreCore`), so the
two differ in billing alone.
"""

from __future__ import annotations

import numpy as np

from core.billing import infer_items
from core.ledger import Attribution
from core.records import CameraFrame, Tracks
from core.shelf import ShelfEvent
from core.store_core import StoreCore


class NaiveCore(StoreCore):
    """Implements :class:`core.protocol.Core`; ``attribution.reach_m`` bounds "nearest"."""

    #: how far back from an event's settling the nearest person is looked for [s] (one
    #: camera frame at 15 Hz is 0.067 s; half a second tolerates a missed frame or few)
    LOOK_BACK_S = 0.5

    def _see_hands(self, frame: CameraFrame, tracks: Tracks) -> None:
        return  # no vision evidence

    def _bill_event(self, ev: ShelfEvent) -> None:
        self.stats.shelf_events += 1
        guess = infer_items(ev, self.k.plates, self.k.catalogue)
        tid, _t, xy = self.tracker.history(ev.t_end - self.LOOK_BACK_S, ev.t_end)
        track = -1
        if tid.size:
            d = np.linalg.norm(xy - self._plate_access[ev.plate][None, :], axis=1)
            i = int(np.argmin(d))
            if d[i] <= self.attribution.reach_m:
                track = int(tid[i])
        if guess is None or track < 0:
            self._to_ledger(ev, guess)
            return
        self.stats.reach_attributions += 1
        self.carts.add(self._cart_key(track), guess, ev.t_end, 1.0)
        self.attributions.append(Attribution(ev, track, self.tracker.account_of(track),
                                             guess.sku_index, guess.quantity,
                                             guess.confidence, "nearest"))
