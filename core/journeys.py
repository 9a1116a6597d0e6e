"""Journeys: what the core learns about each account's visit, one row per event.

A walk-out store sees more than its till: where each shopper went and for how long, what it
took and put back and when, which item it swapped for which, how long it stood at a shelf
before taking something, and where it stopped to look without taking anything. The
:class:`JourneyLog` collects that from the core's own outputs only -- confirmed tracks (their
gate binding), shelf events as attributed to carts, and receipts -- and
:meth:`JourneyLog.table` writes it as columns with pseudonymous account ids.

Events (column ``event``), each with its time ``t`` [s] and the track's floor point ``x, y``:

- ``enter``: the account checked in at the gate.
- ``dwell``: a stay in one zone of ``duration_s`` (``zone``: the department of the nearest
  bin's sku within ``zone_m``, else ``aisle``; ``entrance`` / ``exit`` in those regions);
  stays shorter than ``dwell_min_s`` (walking past) are not rows. ``t`` is its start.
- ``look``: a stop of ``duration_s`` (the track stayed within ``stop_radius_m`` for at least
  ``stop_min_s``) in front of a shelf (a bin access point within ``bin_m``) with nothing
  taken or put back there; ``sku`` is the nearest bin's. Which bins were in reach follows
  from ``x, y`` and the planogram.
- ``pick`` / ``put_back``: a shelf event billed to the account (``quantity`` units of
  ``sku``, ``confidence`` of the attribution); a pick's ``duration_s`` is its *hesitation*:
  from the start of the stop it was taken in (reaching the shelf) to the first load change
  (NaN when the track was not standing still).
- ``substitution``: ``other_sku`` put back and ``sku`` (same department when the catalogue
  gives departments) taken by the same account within ``substitute_window_s`` of each other,
  ``other_sku`` having been taken first: a revealed preference of ``sku`` over
  ``other_sku``. ``t`` is the later of the two, ``duration_s`` the time between them.
- ``purchase``: a receipt line (``quantity`` of ``sku``); ``exit``: the receipt's time.

``account`` is :func:`pseudonym` of the gate's account id under the caller's key and
``visit`` that of (account, check-in time): the table never holds a raw id, and the same
key links one account's visits across runs (a study's key; another key, another study,
cannot be linked to it).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from core.knowledge import StoreKnowledge
from core.records import Receipt, Tracks
from params import config, num

EVENTS = ("enter", "dwell", "look", "pick", "put_back", "substitution", "purchase", "exit")

#: the table's columns, in order
COLUMNS = ("account", "visit", "t", "event", "zone", "sku", "other_sku", "quantity",
           "duration_s", "x", "y", "confidence")


def pseudonym(value: object, key: bytes, n: int = 16) -> str:
    """The first ``n`` hex digits of HMAC-SHA256(key, str(value)): a stable pseudonym under
    one key that cannot be inverted or linked across keys without the key."""
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise ValueError("pseudonym: key must be non-empty bytes")
    return hmac.new(bytes(key), str(value).encode(), hashlib.sha256).hexdigest()[:n]


@config(frozen=True)
class JourneyConfig:
    # Track positions are looked at this often for zones and stops [Hz] (a shopper walks
    # 0.7 m between samples; the zones and stops it resolves are metres and seconds).
    sample_hz: float = num(2.0, gt=0, unit="Hz")
    # A stop: the track stays within this of where it stopped [m] (tracking jitter ~0.1 m
    # plus the sway of someone standing and reaching; assumption)...
    stop_radius_m: float = num(0.5, gt=0, unit="m")
    # ...for at least this long [s] (assumption: longer than waiting for someone to pass,
    # shorter than the kiosk's 20 s mean look, agents.visits)
    stop_min_s: float = num(4.0, gt=0, unit="s")
    # a stop is in front of the bins whose access point is this near [m] (bays 0.75 m
    # apart along an aisle: half a bay plus tracking error)
    bin_m: float = num(0.6, gt=0, unit="m")
    # a point belongs to the department of a bin this near [m]
    zone_m: float = num(1.5, gt=0, unit="m")
    # shorter zone stays are walking past, not rows [s]
    dwell_min_s: float = num(2.0, ge=0, unit="s")
    # put back A and take B within this [s]: a substitution (assumption: one decision at a
    # shelf, inspecting both, takes well under a minute; Dickson & Sawyer 1990 average 12 s)
    substitute_window_s: float = num(60.0, gt=0, unit="s")


@dataclass
class _Open:
    """A track's current zone stay and current stop."""
    zone: str
    zone_t0: float
    zone_sum: np.ndarray
    zone_n: int
    anchor: np.ndarray
    stop_t0: float
    stop_sum: np.ndarray
    stop_n: int
    last_t: float


@dataclass(frozen=True)
class _Span:
    track: int
    t0: float
    t1: float
    xy: tuple[float, float]
    zone: str = ""


@dataclass(frozen=True)
class _Shelf:
    track: int
    t: float
    t_end: float
    plate: int
    sku_index: int
    quantity: int
    confidence: float


class JourneyLog:
    """Collects a core's view of every visit; :meth:`table` turns it into journey rows.

    Feed it in time order: :meth:`check_in` for gate check-ins, :meth:`observe` for every
    frame's confirmed tracks, :meth:`shelf` for every shelf event billed to a track,
    :meth:`depart` when tracks leave and :meth:`receipt` for every receipt.
    """

    def __init__(self, knowledge: StoreKnowledge, config: JourneyConfig | None = None) -> None:
        self.config = config or JourneyConfig()
        self.k = knowledge
        pl = knowledge.plates
        acc = np.asarray(pl.access_xy, dtype=np.float64)
        self._access = acc
        self._tree = cKDTree(acc) if len(acc) else None
        self._bin_sku = np.asarray(pl.sku_index, dtype=np.int64)
        self._bin_plate = np.asarray(pl.plate, dtype=np.int64)
        cat = knowledge.catalogue.category
        self._dept = (np.asarray(cat, dtype=str)[self._bin_sku] if cat is not None
                      else np.full(len(acc), "shelf"))
        self._sku_dept = np.asarray(cat, dtype=str) if cat is not None else None
        self._next_t = -math.inf
        self._open: dict[int, _Open] = {}
        self.dwells: list[_Span] = []
        self.stops: list[_Span] = []
        self.shelf_events: list[_Shelf] = []
        self.check_ins: list[tuple[float, int]] = []
        self.receipts: list[Receipt] = []

    # -- feeding -----------------------------------------------------------------------------
    def check_in(self, t: float, account: int) -> None:
        self.check_ins.append((float(t), int(account)))

    def _zones(self, xy: np.ndarray) -> np.ndarray:
        out = np.full(xy.shape[0], "aisle", dtype=object)
        if self._tree is not None and xy.shape[0]:
            d, i = self._tree.query(xy)
            near = d <= self.config.zone_m
            out[near] = self._dept[i[near]]
        for name, r in (("entrance", self.k.entrance), ("exit", self.k.exit)):
            inside = ((xy[:, 0] >= r[0]) & (xy[:, 0] <= r[2]) & (xy[:, 1] >= r[1])
                      & (xy[:, 1] <= r[3]))
            out[inside] = name
        return out

    def observe(self, tracks: Tracks) -> None:
        """One frame's confirmed tracks (looked at ``sample_hz`` times a second)."""
        t = float(tracks.t)
        if t < self._next_t:
            return
        self._next_t = t + 1.0 / self.config.sample_hz
        ids = np.asarray(tracks.track_id, dtype=np.int64)
        if ids.size == 0:
            return
        xy = np.asarray(tracks.xy, dtype=np.float64).reshape(-1, 2)
        zones = self._zones(xy)
        r = self.config.stop_radius_m
        for tid, p, z in zip(ids.tolist(), xy, zones.tolist(), strict=True):
            o = self._open.get(tid)
            if o is None:
                self._open[tid] = _Open(z, t, p.copy(), 1, p.copy(), t, p.copy(), 1, t)
                continue
            if z != o.zone:
                self._close_zone(tid, o, t)
                o.zone, o.zone_t0, o.zone_sum, o.zone_n = z, t, p.copy(), 1
            else:
                o.zone_sum += p
                o.zone_n += 1
            if float(np.hypot(*(p - o.anchor))) > r:
                self._close_stop(tid, o, o.last_t)
                o.anchor, o.stop_t0, o.stop_sum, o.stop_n = p.copy(), t, p.copy(), 1
            else:
                o.stop_sum += p
                o.stop_n += 1
            o.last_t = t

    def _close_zone(self, tid: int, o: _Open, t: float) -> None:
        if t - o.zone_t0 >= self.config.dwell_min_s:
            m = o.zone_sum / o.zone_n
            self.dwells.append(_Span(tid, o.zone_t0, t, (float(m[0]), float(m[1])), o.zone))

    def _close_stop(self, tid: int, o: _Open, t: float) -> None:
        if t - o.stop_t0 >= self.config.stop_min_s:
            m = o.stop_sum / o.stop_n
            self.stops.append(_Span(tid, o.stop_t0, t, (float(m[0]), float(m[1]))))

    def shelf(self, track: int, t_start: float, t_end: float, plate: int, sku_index: int,
              quantity: int, confidence: float) -> None:
        """A shelf event billed to ``track``: +n taken, -n put back."""
        self.shelf_events.append(_Shelf(int(track), float(t_start), float(t_end), int(plate),
                                        int(sku_index), int(quantity), float(confidence)))

    def depart(self, track: int, t: float) -> None:
        o = self._open.pop(int(track), None)
        if o is not None:
            end = max(o.last_t, min(float(t), o.last_t + 1.0 / self.config.sample_hz))
            self._close_zone(int(track), o, end)
            self._close_stop(int(track), o, o.last_t)

    def receipt(self, r: Receipt) -> None:
        self.receipts.append(r)

    def finish(self, t: float) -> None:
        for tid in sorted(self._open):
            self.depart(tid, t)

    # -- the table ---------------------------------------------------------------------------
    def table(self, account_of, key: bytes) -> dict[str, list]:
        """Journey rows as columns (:data:`COLUMNS`), sorted by account pseudonym, visit,
        time and event. ``account_of(track) -> account`` (-1: never bound; such tracks' rows
        are left out: nobody to say they belong to)."""
        c = self.config
        skus = self.k.catalogue.sku
        rows: list[tuple] = []
        visits: dict[int, list[float]] = {}
        for t, a in sorted(self.check_ins):
            visits.setdefault(a, []).append(t)

        def visit_of(a: int, t: float) -> str:
            ts = visits.get(a)
            if not ts:
                return pseudonym(f"{a}/untracked", key, 12)
            i = max(0, int(np.searchsorted(ts, t + 1e-9)) - 1)
            return pseudonym(f"{a}/{ts[i]:.3f}", key, 12)

        def row(a, t, event, zone="", sku="", other="", qty=0, dur=math.nan,
                xy=(math.nan, math.nan), conf=math.nan):
            rows.append((pseudonym(a, key), visit_of(a, t), round(float(t), 4), event, zone,
                         sku, other, int(qty), float(dur), float(xy[0]), float(xy[1]),
                         float(conf)))

        for t, a in self.check_ins:
            row(a, t, "enter")
        for s in self.dwells:
            a = account_of(s.track)
            if a >= 0:
                row(a, s.t0, "dwell", zone=s.zone, dur=s.t1 - s.t0, xy=s.xy)
        # shelf events by track, for stops and hesitations
        by_track: dict[int, list[_Shelf]] = {}
        for e in self.shelf_events:
            by_track.setdefault(e.track, []).append(e)
        hes: dict[int, float] = {}            # id(shelf event) -> hesitation [s]
        grace = 2.0 / c.sample_hz + 1.0       # the stop closes a sample or two after a pick
        for s in self.stops:
            a = account_of(s.track)
            evs = [e for e in by_track.get(s.track, ())
                   if s.t0 - 1.0 <= e.t <= s.t1 + grace]
            for e in evs:
                if e.quantity > 0 and id(e) not in hes:
                    hes[id(e)] = max(0.0, e.t - s.t0)
            if evs or a < 0 or self._tree is None:
                continue
            d, i = self._tree.query(np.asarray(s.xy))
            if d > c.bin_m:
                continue
            row(a, s.t0, "look", zone=str(self._dept[i]), sku=str(skus[self._bin_sku[i]]),
                dur=s.t1 - s.t0, xy=s.xy)
        per_acct: dict[int, list[_Shelf]] = {}
        for e in self.shelf_events:
            a = account_of(e.track)
            if a < 0:
                continue
            per_acct.setdefault(a, []).append(e)
            xy = self._plate_xy(e.plate)
            row(a, e.t, "pick" if e.quantity > 0 else "put_back",
                zone=self._sku_zone(e.sku_index), sku=str(skus[e.sku_index]),
                qty=abs(e.quantity), dur=hes.get(id(e), math.nan), xy=xy, conf=e.confidence)
        for a, evs in per_acct.items():
            for t, b, other, gap, xy in self._substitutions(evs):
                row(a, t, "substitution", zone=self._sku_zone(b), sku=str(skus[b]),
                    other=str(skus[other]), qty=1, dur=gap, xy=xy)
        for r in self.receipts:
            for p in r.products:
                row(r.account, r.t_issued, "purchase", sku=p.sku, qty=p.quantity,
                    conf=r.confidence)
            row(r.account, r.t_issued, "exit", conf=r.confidence)
        order = {e: i for i, e in enumerate(EVENTS)}
        rows.sort(key=lambda x: (x[0], x[2], order[x[3]], x[5], x[6], x[1]))
        return {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}

    def _plate_xy(self, plate: int) -> tuple[float, float]:
        m = self._bin_plate == plate
        if not m.any():
            return (math.nan, math.nan)
        p = self._access[m].mean(axis=0)
        return (float(p[0]), float(p[1]))

    def _sku_zone(self, sku_index: int) -> str:
        return "" if self._sku_dept is None else str(self._sku_dept[sku_index])

    def _substitutions(self, evs: list[_Shelf]):
        """(t, sku taken, sku put back, gap [s], xy) for every put-back of a unit taken
        before, matched to the nearest-in-time pick of another sku of the same department
        within the window (each pick matched once)."""
        c = self.config
        evs = sorted(evs, key=lambda e: e.t)
        used: set[int] = set()
        out = []
        for i, back in enumerate(evs):
            if back.quantity >= 0:
                continue
            a = back.sku_index
            if not any(e.quantity > 0 and e.sku_index == a and e.t < back.t for e in evs[:i]):
                continue
            best, best_gap = -1, math.inf
            for j, e in enumerate(evs):
                if (j in used or e.quantity <= 0 or e.sku_index == a
                        or self._sku_zone(e.sku_index) != self._sku_zone(a)):
                    continue
                if not any(f.sku_index == a and f.quantity > 0 and f.t < e.t for f in evs):
                    continue   # B taken before A ever was: no change of mind from A to B
                gap = abs(e.t - back.t)
                if gap <= c.substitute_window_s and gap < best_gap:
                    best, best_gap = j, gap
            if best >= 0:
                used.add(best)
                b = evs[best]
                out.append((max(b.t, back.t), b.sku_index, a, best_gap,
                            self._plate_xy(b.plate)))
        return out
