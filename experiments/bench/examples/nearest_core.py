"""A third-party core, written only against storetwin's core protocol: a template.

Nearest-person attribution, the simplest billing there is: people are followed by joining
each frame's detections to the nearest track; the gate's check-ins name new tracks at the
entrance; a plate whose settled reading moves by whole units of its SKU bills them to the
track standing nearest its bins; a track that vanishes by the exit gets its receipt.

Run it as another team would, from any folder where this module imports:

    storetwin run --core experiments.bench.examples.nearest_core:NearestCore
    storetwin bench --core experiments.bench.examples.nearest_core:NearestCore   (issue 9)

It imports nothing from storetwin but the record types and the knowledge it is handed.
"""

from __future__ import annotations

import numpy as np

from core.records import ProductLine, Receipt, Tracks

JOIN_M = 1.0        # a detection this close to a track continues it [m]
MERGE_M = 0.5       # detections of one person by several cameras lie this close [m]
SMOOTH = 0.5       # a track moves this share of the way to its new point each frame
LOST_S = 2.0        # a track unseen this long has left (or is lost) [s]
SETTLE_S = 0.5      # how long a plate's new reading must hold before it counts [s]


def _inside(xy, box) -> bool:
    return box[0] <= xy[0] <= box[2] and box[1] <= xy[1] <= box[3]


class NearestCore:
    def start(self, knowledge) -> None:
        k = self.k = knowledge
        self.tracks: dict[int, dict] = {}     # id -> {"xy", "seen", "account", "cart"}
        self.next_id = 0
        self.waiting: list[int] = []           # accounts checked in, not yet on a track
        pl = k.plates
        n = int(pl.plate.max()) + 1
        self.plate_xy = np.zeros((n, 2))
        np.add.at(self.plate_xy, pl.plate, pl.access_xy)
        self.plate_xy /= np.maximum(np.bincount(pl.plate, minlength=n), 1)[:, None]
        self.plate_sku = np.zeros(n, dtype=np.int64)
        self.plate_sku[pl.plate] = pl.sku_index
        self.unit = k.catalogue.mass_g[self.plate_sku]      # one unit's weight per plate [g]
        self.level: np.ndarray | None = None    # settled reading per plate [g]
        self.last = np.zeros(n)                 # the previous message's mean [g]
        self.held = np.zeros(n)                 # how long a new reading has held [s]

    def step(self, batch):
        out, done = [], []
        for g in batch.gate:
            self.waiting += [int(a) for a in g.account]
        for f in batch.frames:
            out.append(self._frame(f))
        for p in batch.plates:
            self._plates(p)
        for tid in [t for t, tr in self.tracks.items() if batch.t - tr["seen"] > LOST_S]:
            tr = self.tracks.pop(tid)
            if tr["account"] is not None and _inside(tr["xy"], self.k.exit):
                done.append(self._receipt(tr, batch.t))
        return out, done

    def _frame(self, f) -> Tracks:
        groups: list[list[int]] = []           # merge the cameras' views of one person
        for i, xy in enumerate(f.xy):
            g = next((g for g in groups if np.hypot(*(xy - f.xy[g[0]])) < MERGE_M), None)
            if g is None:
                groups.append([i])
            else:
                g.append(i)
        # each person where the views agree: their confidence-weighted mean
        people = [np.average(f.xy[g], axis=0, weights=np.maximum(f.conf[g], 1e-6))
                  for g in groups]
        free = set(self.tracks)
        for xy in people:
            near = min(free, key=lambda t: np.hypot(*(self.tracks[t]["xy"] - xy)), default=None)
            if near is not None and np.hypot(*(self.tracks[near]["xy"] - xy)) < JOIN_M:
                tr = self.tracks[near]          # smoothed: the views are noisy
                tr.update(xy=(1 - SMOOTH) * tr["xy"] + SMOOTH * xy, seen=f.t)
                free.discard(near)
            elif _inside(xy, self.k.entrance):  # someone new at the door
                acct = self.waiting.pop(0) if self.waiting else None
                self.tracks[self.next_id] = {"xy": xy, "seen": f.t, "account": acct, "cart": {}}
                self.next_id += 1
        ids = np.array(sorted(self.tracks), dtype=np.int64)
        xy = np.array([self.tracks[i]["xy"] for i in ids]).reshape(-1, 2)
        return Tracks(f.frame, f.t, ids, xy)

    def _plates(self, msg) -> None:
        """A plate whose mean reading left its level by half a unit and held still for
        ``SETTLE_S`` has changed by whole units: bill them to the nearest track."""
        m = np.zeros_like(self.last)
        m[msg.plate] = msg.grams.mean(axis=1)
        if self.level is None:
            self.level, self.last = m.copy(), m.copy()
            return
        off = np.abs(m - self.level) >= 0.5 * self.unit
        still = np.abs(m - self.last) < 0.25 * self.unit
        self.held = np.where(off & still, self.held + msg.t.size / self.k.plate_hz, 0.0)
        self.last = m
        for plate in np.flatnonzero(self.held >= SETTLE_S).tolist():
            units = int(round((self.level[plate] - m[plate]) / self.unit[plate]))
            self.level[plate], self.held[plate] = m[plate], 0.0
            if units and self.tracks:
                near = min(self.tracks, key=lambda i: np.hypot(*(self.tracks[i]["xy"]
                                                                - self.plate_xy[plate])))
                cart = self.tracks[near]["cart"]
                sku = int(self.plate_sku[plate])
                cart[sku] = max(0, cart.get(sku, 0) + units)

    def _receipt(self, tr: dict, t: float) -> Receipt:
        cat = self.k.catalogue
        lines = tuple(ProductLine(str(cat.sku[s]), n) for s, n in sorted(tr["cart"].items()) if n)
        total = int(sum(cat.price_cents[s] * n for s, n in tr["cart"].items()))
        return Receipt(tr["account"], lines, total, 0.5, False, t_issued=t)

    def finish(self, t: float):
        return [self._receipt(tr, t) for tr in self.tracks.values()
                if tr["account"] is not None and _inside(tr["xy"], self.k.exit)]
