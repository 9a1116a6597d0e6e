"""storetwin's full core: tracks people, detects shelf events, attributes them, bills.

Per tick, in a fixed order: gate check-ins reach the tracker; plate messages go through the
shelf-event detector, each closed event becomes an item guess (planogram + catalogue
masses) attributed to the track nearest the bin during the event; camera frames update the
tracker; departures become receipts. Nothing here reads simulator state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.billing import Carts, infer_items
from core.knowledge import StoreKnowledge
from core.records import Receipt, SensorBatch, Tracks
from core.shelf import ShelfEvent, ShelfEventConfig, ShelfEventDetector
from core.tracking import Departure, Tracker, TrackerConfig


@dataclass(frozen=True)
class AttributionConfig:
    reach_m: float = 1.6        # a shopper farther than this from a bin's access point never
                                # made its event [m] (arm reach + half an aisle)
    margin_m: float = 0.8       # runner-up this much farther: full attribution confidence [m]
    lead_s: float = 1.5         # look this far before the event's first active sample [s]
    review_threshold: float = 0.5  # receipts below this confidence go to a human

    def __post_init__(self) -> None:
        for name in ("reach_m", "margin_m", "lead_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"AttributionConfig.{name} must be > 0, got "
                                 f"{getattr(self, name)}")
        if not 0 <= self.review_threshold <= 1:
            raise ValueError("AttributionConfig.review_threshold must be in [0, 1]")


@dataclass
class CoreStats:
    detections: int = 0
    plate_samples: int = 0
    shelf_events: int = 0
    unattributed_events: int = 0
    receipts: int = 0


class StoreCore:
    """Implements :class:`core.protocol.Core`."""

    def __init__(self, tracker: TrackerConfig | None = None,
                 shelf: ShelfEventConfig | None = None,
                 attribution: AttributionConfig | None = None) -> None:
        self.tracker_config = tracker or TrackerConfig()
        self.shelf_config = shelf or ShelfEventConfig()
        self.attribution = attribution or AttributionConfig()
        self.stats = CoreStats()
        self.events: list[tuple[ShelfEvent, int, int, float]] = []  # event, track, sku, qty

    def start(self, knowledge: StoreKnowledge) -> None:
        self.k = knowledge
        self.tracker = Tracker(knowledge, self.tracker_config)
        plates, inv = np.unique(knowledge.plates.plate, return_inverse=True)
        self.detector = ShelfEventDetector(plates, knowledge.plate_hz,
                                           knowledge.plate_noise_g, self.shelf_config)
        self.carts = Carts()
        # where a shopper stands to reach a plate: the middle of its bins' access points
        acc = np.zeros((plates.size, 2))
        np.add.at(acc, inv.reshape(-1), knowledge.plates.access_xy)
        acc /= np.bincount(inv.reshape(-1))[:, None]
        self._plate_access = {int(p): acc[i] for i, p in enumerate(plates)}
        self._pending: dict[int, list[Departure]] = {}  # account -> departed tracks

    # -- attribution -------------------------------------------------------------------------
    def _cart_key(self, track: int) -> int:
        acct = self.tracker.account_of(track)
        return acct if acct >= 0 else -(track + 1)

    def _attribute(self, ev: ShelfEvent) -> tuple[int, float]:
        """Track most likely to have made ``ev`` and the confidence of that choice."""
        a = self.attribution
        tid, _t, xy = self.tracker.history(ev.t_start - a.lead_s, ev.t_end)
        if tid.size == 0:
            return -1, 0.0
        at = self._plate_access[ev.plate]
        d = np.linalg.norm(xy - at[None, :], axis=1)
        ids, inv = np.unique(tid, return_inverse=True)
        best = np.full(ids.size, np.inf)
        np.minimum.at(best, inv, d)
        order = np.argsort(best, kind="stable")
        d1 = best[order[0]]
        if d1 > a.reach_m:
            return -1, 0.0
        d2 = best[order[1]] if ids.size > 1 else np.inf
        conf = float(np.clip((d2 - d1) / a.margin_m, 0.2, 1.0))
        return int(ids[order[0]]), conf

    def _bill(self, events: list[ShelfEvent]) -> None:
        for ev in events:
            self.stats.shelf_events += 1
            guess = infer_items(ev, self.k.plates, self.k.catalogue)
            if guess is None:
                continue
            track, conf = self._attribute(ev)
            if track < 0:
                self.stats.unattributed_events += 1
                continue
            self.carts.add(self._cart_key(track), guess, ev.t_end, conf)
            self.events.append((ev, track, guess.sku_index, guess.quantity))

    # -- receipts ----------------------------------------------------------------------------
    def _depart(self, deps: list[Departure]) -> list[Receipt]:
        out = []
        for d in deps:
            key = d.account if d.account >= 0 else -(d.track_id + 1)
            self._pending.setdefault(key, []).append(d)
            if d.account >= 0 and self.tracker.active_with_account(d.account):
                continue  # a group member is still shopping: one receipt when all have left
            group = self._pending.pop(key)
            if d.account < 0:
                continue  # nobody to charge: the cart is lost (counted in stats)
            r = self.carts.receipt(key, d.t, self.k.catalogue, self.attribution.review_threshold)
            if not all(g.certain for g in group):
                r = Receipt(r.account, r.products, r.total, r.confidence * 0.5, True, r.t_issued)
            r = Receipt(r.account, r.products, r.total, r.confidence, r.review, r.t_issued,
                        tuple(g.track_id for g in group))
            self.carts.remove(key)
            out.append(r)
        self.stats.receipts += len(out)
        return out

    # -- protocol ----------------------------------------------------------------------------
    def step(self, batch: SensorBatch) -> tuple[list[Tracks], list[Receipt]]:
        for g in batch.gate:
            self.tracker.check_in(g)
        for p in batch.plates:
            self.stats.plate_samples += int(p.grams.size)
            self._bill(self.detector.update(p))
        tracks = []
        for f in batch.frames:
            self.stats.detections += len(f)
            tracks.append(self.tracker.update(f))
        return tracks, self._depart(self.tracker.pop_departures())

    def finish(self, t: float) -> list[Receipt]:
        return self._depart(self.tracker.flush(t))
