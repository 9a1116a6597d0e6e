"""storetwin's full core: tracks people, detects shelf events, attributes them, bills.

Per tick, in a fixed order: gate check-ins reach the tracker; plate messages go through the
shelf-event detector; camera frames update the tracker, and the hands each frame shows in
shelf bins become *hand evidence* (which bin, and how far each confirmed track stood from
that hand); each closed shelf event is then attributed and billed; departures become
receipts. Nothing here reads simulator state.

Attribution of a shelf event (plate, ``[t_start - lead_s, t_end]``), first rule that applies:

1. **Hands.** Hands seen in the event's bins during the window vote for the tracks that
   stood near them: per observation a track has the log-likelihood
   ``-d**2 / (2 hand_sigma_m**2)``, where ``d`` is how far the hand is from where that
   person would have put it -- the point of the bin's face nearest the body, an arm's
   length away at most -- when the planogram gives bin sizes (the floor distance to the
   hand otherwise); tracks farther than ``hand_reach_m`` from the hand count as
   ``hand_reach_m`` off. Summed over at most ``hand_max_obs`` observations' worth (a hand
   seen by four cameras in one frame is not four independent facts), normalised over the
   candidates. The posterior of the winner is the attribution confidence. Votes per bin
   also weigh the skus of a plate that holds several (look-alikes side by side).
2. **Reach.** No hand seen: the track that came nearest to the bins' access point, within
   ``reach_m``; confidence from the margin to the runner-up (``margin_m`` for full
   confidence), at most ``reach_contested_confidence`` (below review) when the runner-up
   was within ``reach_m`` too and less than ``margin_m`` farther: with no hand seen,
   either could have reached.
3. **Blind.** Nobody visible within reach (cameras over that shelf down or blocked): the
   track that was last seen nearest the shelf before it went unseen, when it could have
   walked there (``reid_speed_mps`` of the tracker), gets the item with
   ``blind_confidence`` -- below the review threshold, so the receipt goes to a human
   instead of being silently wrong.

Anything else ends in the *ledger* (:attr:`StoreCore.ledger`): a change of load that fits
no whole number of units, or an event no track can be blamed for. Every shelf event ends
either in a cart (:attr:`StoreCore.attributions`) or in the ledger.

Hand-overs: a hand seen away from every bin, within an arm of two shoppers on different
accounts, means something changed hands (:attr:`StoreCore.hand_overs`). Both carts are
doubted (``handover_confidence``, below review); when only one holds anything, its latest
unit moves to the other.

Put-backs are explained by the putter's cart: a load gained on a plate may be the plate's
own sku or any sku in the cart (``misplace_prior`` relative weight when the planogram does
not put it there; the bin's own sku weighs ``not_in_cart_prior`` when the cart has none). A unit that lands in the wrong bin leaves the cart and is noted against
that bin (:attr:`StoreCore.misplaced`); a later pick of the same weight from that plate may
take it out again.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.spatial import cKDTree

from core.attribution_config import AttributionConfig
from core.billing import Carts, ItemGuess, infer_items
from core.departure import Departure
from core.doubt import IdentityDoubt
from core.handovers import HandOvers
from core.hands import BinFaces, HandLog
from core.health import HealthConfig
from core.intake import IntakeConfig
from core.journeys import JourneyConfig, JourneyLog
from core.knowledge import StoreKnowledge
from core.ledger import Attribution, CoreStats, HandOver, LedgerEntry, MisplacedNote
from core.records import NO_ACCOUNT, CameraFrame, Receipt, SensorBatch, Tracks
from core.sensor_doubt import SensorHealth
from core.shelf import ShelfEvent, ShelfEventConfig, ShelfEventDetector
from core.tracker_config import TrackerConfig
from core.tracking import Tracker

# The core tracks whoever is in view when its stream starts, wherever they stand, for this
# long (TrackerConfig.cold_start_s): a store already open when billing starts (a restart, a
# warm start) has shoppers inside whom no check-in binds, and untracked they would pull the
# tracks of those who do scan in onto themselves; tracked, their picks leave as alerts.
# Two seconds: thirty frames at the twin's 15 Hz, enough to confirm everyone in view [s].
COLD_START_S = 2.0


def _cameras(hands: dict[str, np.ndarray] | None) -> tuple[int, ...]:
    """The cameras that saw the hands of an event's window (its evidence, kept with the
    attribution for a person to audit)."""
    return () if hands is None else tuple(int(c) for c in np.unique(hands["camera"]))


class StoreCore(IdentityDoubt, SensorHealth, HandOvers):
    """Implements :class:`core.protocol.Core`."""

    def __init__(self, tracker: TrackerConfig | None = None,
                 shelf: ShelfEventConfig | None = None,
                 attribution: AttributionConfig | None = None, xp=None,
                 journey: JourneyConfig | None = None, health: HealthConfig | None = None,
                 intake: IntakeConfig | None = None) -> None:
        """xp: array backend of the tracker and the shelf detector (a module, "numpy",
        "cupy" or "auto"; None: ``STORETWIN_BACKEND``, see :mod:`core.backend`)."""
        self.xp = xp
        self.journey_config = journey or JourneyConfig()
        self.tracker_config = tracker or TrackerConfig(cold_start_s=COLD_START_S)
        self.shelf_config = shelf or ShelfEventConfig()
        self.attribution = attribution or AttributionConfig()
        self.health_config = health or HealthConfig()
        self.intake_config = intake or IntakeConfig()
        self.stats = CoreStats()
        self.attributions: list[Attribution] = []
        self.ledger: list[LedgerEntry] = []
        self.misplaced: list[MisplacedNote] = []
        self.hand_overs: list[HandOver] = []

    def start(self, knowledge: StoreKnowledge) -> None:
        self.k = knowledge
        self.tracker = Tracker(knowledge, self.tracker_config, xp=self.xp)
        pl = knowledge.plates
        plates, inv = np.unique(pl.plate, return_inverse=True)
        self.detector = ShelfEventDetector(plates, knowledge.plate_hz,
                                           knowledge.plate_noise_g, self.shelf_config,
                                           xp=self.xp)
        self.carts = Carts()
        # where a shopper stands to reach a plate: the middle of its bins' access points
        acc = np.zeros((plates.size, 2))
        np.add.at(acc, inv.reshape(-1), pl.access_xy)
        acc /= np.bincount(inv.reshape(-1))[:, None]
        self._plate_access = {int(p): acc[i] for i, p in enumerate(plates)}
        self._plate_skus = {int(p): set() for p in plates}
        for p, s in zip(pl.plate.tolist(), pl.sku_index.tolist(), strict=True):
            self._plate_skus[int(p)].add(int(s))
        self._bin_plate = np.asarray(pl.plate, dtype=np.int64)
        self._bin_sku = np.asarray(pl.sku_index, dtype=np.int64)
        self._bin_tree = cKDTree(np.asarray(pl.center, dtype=np.float64))
        # bin faces: where a hand enters each bin, and which way along the shelf is "side"
        self._bin_faces = (None if pl.size is None
                           else BinFaces(pl.center, pl.access_xy, pl.size))
        self._hands = HandLog(self.tracker_config.history_s)
        self._on_shelf: dict[int, Counter[int]] = {}   # plate -> misplaced sku -> units
        self._pending: dict[int, list[Departure]] = {}  # account -> departed tracks
        self._departed: set[int] = set()
        self._last_handover: dict[tuple[int, int], float] = {}  # cart-key pair -> time [s]
        self._last_pass: dict[tuple[int, int], float] = {}  # (giver, receiver) key -> time
        self._pending_handover: dict[tuple[int, int], float] = {}  # hand seen, no pass yet
        self._passes: list[tuple[float, int, int]] = []  # seen (t, giver, receiver), to move
        self._unbound: dict[int, float] = {}            # account -> check-in time, no track yet
        self._billed: set[int] = set()                  # accounts that got their receipt
        cfg = self.tracker_config
        # a check-in no confirmed track took within this long is an untracked shopper [s]:
        # the binding window, confirmation (a few frames) and a margin of a second
        self._unbound_after_s = (cfg.checkin_window_s + 1.0
                                 + (cfg.confirm_hits * (cfg.tentative_max_misses + 1) + 1)
                                 / knowledge.camera_hz)
        self._closed: list[ShelfEvent] = []              # events waiting for this tick's frames
        # identity swaps: pairs of tracks closer than swap_m at the last frame (-> since
        # when, their looks then, looks taken, counted), and per track its encounters (t,
        # other track, own look, other's look, own looks taken)
        self._close: dict[tuple[int, int], list] = {}
        # tracks seen lately: ids (sorted), when and where each was last seen [s], [m]
        self._seen_ids = np.zeros(0, np.int64)
        self._seen_t = np.zeros(0)
        self._seen_xy = np.zeros((0, 2))
        # the gaps of the re-id window: track, t0, t1 [s], xy0 (g, 2) [m] (core.doubt)
        self._gaps = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros((0, 2)))
        self._unseen_pairs: set[tuple[int, int]] = set()  # pairs already doubted for it
        self._close_doubted: set[tuple[int, int]] = set()  # cart pairs doubted for closeness
        self._hand_t: dict[int, float] = {}    # track -> when a hand in a bin was near it
        self._encounters: dict[int, list[tuple]] = {}
        self._journeys = JourneyLog(knowledge, self.journey_config)
        self._health_start(knowledge)
        self.final_tracks: list[Tracks] = []   # tracks of the frames ``finish`` processed

    # -- hands -------------------------------------------------------------------------------
    def _see_hands(self, frame: CameraFrame, tracks: Tracks) -> None:
        h = frame.hand_xyz
        if h.shape[0] == 0:
            return
        a = self.attribution
        d, b = self._bin_tree.query(h, distance_upper_bound=a.hand_bin_m)
        ok = np.isfinite(d)
        if not ok.all():
            passes = None if frame.hand_pass is None else frame.hand_pass[~ok]
            self._see_hand_overs(float(frame.t), h[~ok], tracks, passes)
        if not ok.any():
            return
        h, b, cam = h[ok], b[ok], frame.hand_camera[ok]
        n = h.shape[0]
        self.stats.hand_observations += n
        obs = self._hands.new_obs_ids(n)
        if tracks.track_id.size:
            dist = np.linalg.norm(h[:, None, :2] - tracks.xy[None, :, :], axis=2)  # (n, m)
            oi, tj = np.nonzero(dist <= a.hand_reach_m)
            if self._bin_faces is not None:
                dist = dist.copy()
                dist[oi, tj] = self._bin_faces.misfit(b[oi], h[oi, :2], tracks.xy[tj])
        else:
            dist = np.zeros((n, 0))
            oi = tj = np.zeros(0, np.int64)
        if oi.size:   # whose hand it most likely is (the best fit) is busy at a shelf
            fit = np.full((n, tracks.track_id.size), np.inf)
            fit[oi, tj] = dist[oi, tj]
            rows = np.unique(oi)
            for k in np.unique(tracks.track_id[np.argmin(fit[rows], axis=1)]).tolist():
                self._hand_t[k] = float(frame.t)
        lonely = np.setdiff1d(np.arange(n), oi)  # no track near: keep the sighting anyway
        rows_o = np.concatenate([oi, lonely])
        self._hands.add(float(frame.t), {
            "plate": self._bin_plate[b[rows_o]], "bin": b[rows_o], "obs": obs[rows_o],
            "camera": cam[rows_o],
            "track": np.concatenate([tracks.track_id[tj], np.full(lonely.size, -1)]),
            "d": np.concatenate([dist[oi, tj], np.full(lonely.size, np.inf)]),
        })

    # -- attribution -------------------------------------------------------------------------
    def _cart_key(self, track: int) -> int:
        acct = self.tracker.account_of(track)
        return acct if acct >= 0 else -(track + 1)

    def _hands_at(self, ev: ShelfEvent) -> dict[str, np.ndarray] | None:
        """The hands seen in the event's plate from ``lead_s`` before it to its end (None:
        none)."""
        return self._hands.window(ev.t_start - self.attribution.lead_s, ev.t_end, ev.plate)

    def _by_hands(self, w: dict[str, np.ndarray] | None
                  ) -> tuple[int, float, dict[int, float], list[int]]:
        """(track, confidence, bin -> sightings, the other tracks with a tenth of the
        posterior or more) from the hands ``w`` seen in an event's bins (:meth:`_hands_at`);
        track -1 when no hand was seen there, or none had a track near it."""
        a = self.attribution
        if w is None:
            return -1, 0.0, {}, []
        obs_u, oi = np.unique(w["obs"], return_inverse=True)
        bins = np.zeros(obs_u.size, np.int64)
        bins[oi] = w["bin"]
        votes = {int(k): float(v) for k, v in zip(*np.unique(bins, return_counts=True),
                                                   strict=True)}
        near = w["track"] >= 0
        if not near.any():
            return -1, 0.0, votes, []
        cand, cj = np.unique(w["track"][near], return_inverse=True)
        d = np.full((obs_u.size, cand.size), a.hand_reach_m)
        d[oi[near], cj] = np.minimum(w["d"][near], a.hand_reach_m)
        weight = min(1.0, a.hand_max_obs / obs_u.size)
        ll = -weight * (d * d).sum(axis=0) / (2.0 * a.hand_sigma_m**2)
        p = np.exp(ll - ll.max())
        p /= p.sum()
        best = int(np.argmax(p))
        others = [int(c) for k, c in enumerate(cand.tolist()) if k != best and p[k] >= 0.1]
        return int(cand[best]), float(p[best]), votes, others

    def _by_reach(self, ev: ShelfEvent) -> tuple[int, float, str, list[int]]:
        """Track nearest the plate's access point during the event, the confidence, why it
        is doubtful ("" when it is not) and the other tracks that could have made it."""
        a = self.attribution
        tid, _t, xy = self.tracker.history(ev.t_start - a.lead_s, ev.t_end)
        if tid.size == 0:
            return -1, 0.0, "", []
        at = self._plate_access[ev.plate]
        d = np.linalg.norm(xy - at[None, :], axis=1)
        ids, inv = np.unique(tid, return_inverse=True)
        best = np.full(ids.size, np.inf)
        np.minimum.at(best, inv, d)
        order = np.argsort(best, kind="stable")
        d1 = best[order[0]]
        if d1 > a.reach_m:
            return -1, 0.0, "", []
        d2 = best[order[1]] if ids.size > 1 else np.inf
        conf = float(np.clip((d2 - d1) / a.margin_m, 0.2, 1.0))
        why = ""
        if d2 <= a.reach_m and d2 - d1 < a.margin_m:  # no hand seen, another in reach
            conf = min(conf, a.reach_contested_confidence)
            n = int(np.count_nonzero(best <= a.reach_m))
            why = f"attribution: {n} tracks within reach, no hand seen"
        elif conf < a.review_threshold:
            why = "attribution: no hand seen, the nearest track by a small margin"
        others = [int(ids[k]) for k in order[1:]
                  if best[k] <= a.reach_m and best[k] - d1 < a.margin_m] if why else []
        return int(ids[order[0]]), conf, why, others

    def _by_absence(self, ev: ShelfEvent) -> int:
        """A track unseen during the event that could have been at the shelf: last seen
        (before the event) nearest it, within walking reach; -1 when none."""
        a, cfg = self.attribution, self.tracker_config
        t0 = ev.t_start - a.lead_s
        seen = set(self.tracker.history(t0, ev.t_end)[0].tolist())
        tid, t, xy = self.tracker.history(t0 - cfg.reid_window_s, t0)
        if tid.size == 0:
            return -1
        order = np.lexsort((t, tid))
        tid, t, xy = tid[order], t[order], xy[order]
        last = np.r_[tid[1:] != tid[:-1], True]
        tid, t, xy = tid[last], t[last], xy[last]
        at = self._plate_access[ev.plate]
        d = np.linalg.norm(xy - at[None, :], axis=1)
        ok = np.array([int(i) not in seen and int(i) not in self._departed
                       for i in tid.tolist()], dtype=bool)
        ok &= d <= a.reach_m + cfg.reid_speed_mps * (ev.t_end - t)
        if not ok.any():
            return -1
        return int(tid[ok][np.argmin(d[ok])])

    # -- billing -----------------------------------------------------------------------------
    def _prior(self, ev: ShelfEvent, key: int | None, votes: dict[int, float]
               ) -> dict[int, float]:
        """Candidate skus beyond the planogram, and hand votes between a plate's bins."""
        own = self._plate_skus[ev.plate]
        prior: dict[int, float] = {}
        if len(own) > 1 and votes:
            per_sku = Counter()
            for b, v in votes.items():
                per_sku[int(self._bin_sku[b])] += v
            prior = {s: per_sku.get(s, 0.0) + 0.5 for s in own}
        if ev.delta_g > 0 and key is not None:  # a put-back: maybe from the putter's cart
            cart = self.carts.quantities(key)
            for s in cart:
                if s not in own:
                    prior[s] = self.attribution.misplace_prior
            for s in own:  # the bin's own sku, which the putter never took: unlikely
                if s not in cart:
                    prior[s] = prior.get(s, 1.0) * self.attribution.not_in_cart_prior
        elif ev.delta_g < 0:                    # a pick: maybe a unit misplaced here
            for s, n in self._on_shelf.get(ev.plate, Counter()).items():
                if n > 0 and s not in own:
                    prior[s] = self.attribution.misplace_prior
        return prior

    def _bill_event(self, ev: ShelfEvent) -> None:
        a = self.attribution
        self.stats.shelf_events += 1
        hands = self._hands_at(ev)
        track, conf, votes, others = self._by_hands(hands)
        method, why = "hand", ""
        if track >= 0 and conf < a.review_threshold:
            why = f"attribution: hand seen between tracks (p = {conf:.2f})"
        if track < 0:
            track, conf, why, others = self._by_reach(ev)
            method = "reach"
        if track < 0:
            track, conf = self._by_absence(ev), a.blind_confidence
            method = "blind"
            why = "attribution: nobody seen at the shelf; the last seen near it"
        sensed = self._event_doubt(ev, method, conf)
        if sensed:
            conf *= self.health_config.doubt_confidence
        key = self._cart_key(track) if track >= 0 else None
        guess = infer_items(ev, self.k.plates, self.k.catalogue,
                            prior=self._prior(ev, key, votes))
        if guess is None or key is None:
            self._to_ledger(ev, guess)
            return
        setattr(self.stats, f"{method}_attributions",
                getattr(self.stats, f"{method}_attributions") + 1)
        misplaced = self._track_misplaced(ev, guess, key)
        swap = self._identity_doubt(track, ev, guess.sku_index)
        doubt = "; ".join(x for x in (why or swap, sensed) if x)
        self.carts.add(key, guess, ev.t_start, conf, doubt)   # taken when the hand went in
        for o in others if why else ():    # who else could have made it: their bill too
            ko = self._cart_key(o)
            if ko != key and ko not in self._billed:
                self.carts.doubt(ko, a.reach_contested_confidence,
                                 why + "; billed to another shopper")
        self.attributions.append(Attribution(ev, track, self.tracker.account_of(track),
                                             guess.sku_index, guess.quantity,
                                             guess.confidence * conf, method, misplaced,
                                             _cameras(hands), doubt))
        self._journeys.shelf(track, ev.t_start, ev.t_end, ev.plate, guess.sku_index,
                             guess.quantity, guess.confidence * conf)

    def _to_ledger(self, ev: ShelfEvent, guess: ItemGuess | None) -> None:
        """An event no cart takes: no whole unit explains it (``guess`` None), or nobody
        can be blamed for the unit it means."""
        self.stats.unattributed_events += 1
        self.ledger.append(LedgerEntry(
            ev, "no whole unit" if guess is None else "nobody in reach",
            None if guess is None else str(self.k.catalogue.sku[guess.sku_index]),
            0 if guess is None else guess.quantity))

    def _track_misplaced(self, ev: ShelfEvent, guess: ItemGuess, key: int) -> bool:
        if guess.sku_index in self._plate_skus[ev.plate]:
            return False
        shelf = self._on_shelf.setdefault(ev.plate, Counter())
        if guess.quantity < 0:  # a cart item into the wrong bin
            shelf[guess.sku_index] += -guess.quantity
            self.stats.misplaced_units += -guess.quantity
            self.misplaced.append(MisplacedNote(
                ev.plate, str(self.k.catalogue.sku[guess.sku_index]), -guess.quantity,
                ev.t_end, key))
            return True
        shelf[guess.sku_index] = max(0, shelf[guess.sku_index] - guess.quantity)
        return False

    # -- receipts ----------------------------------------------------------------------------
    def _depart(self, deps: list[Departure], ending: bool = False) -> list[Receipt]:
        """Receipts (and alerts) of departed tracks; ``ending``: ``deps`` are the tracks
        still in the store as the stream ends, each account's receipt after its last."""
        out = []
        last = {d.account: i for i, d in enumerate(deps)} if ending else {}
        for i, d in enumerate(deps):
            self._departed.add(d.track_id)
            self._encounters.pop(d.track_id, None)   # (it will bill nothing more)
            self._journeys.depart(d.track_id, d.t)
            key = d.account if d.account >= 0 else -(d.track_id + 1)
            self._pending.setdefault(key, []).append(d)
            if d.account >= 0 and (last[d.account] != i if ending
                                   else self.tracker.active_with_account(d.account)):
                continue  # a group member is still shopping: one receipt when all have left
            self._resolve_passes(d.t, {key})
            self._settle_hand_overs(d.t, {key})
            group = self._pending.pop(key)
            if d.account < 0:
                alert = self._alert(key, d)
                if alert is not None:
                    out.append(alert)
                continue
            n = self.tracker.ambiguous_bindings.get(key, 0)
            if n:
                self.carts.doubt(key, self.attribution.swap_confidence,
                                 f"check-in: {n} check-ins and new tracks at the gate as near "
                                 "in time; which shopper is this account is a guess")
            r = self.carts.receipt(key, d.t, self.k.catalogue, self.attribution.review_threshold)
            reasons = r.reasons
            if not all(g.certain for g in group):
                r = Receipt(r.account, r.products, r.total, r.confidence * 0.5, True, r.t_issued)
                reasons += ("departure: still in the store when the stream ended" if ending
                            else "departure: lost in the store, not seen leaving by the exit",)
            r = Receipt(r.account, r.products, r.total, r.confidence, r.review, r.t_issued,
                        tuple(g.track_id for g in group), reasons)
            self.carts.remove(key)
            self._billed.add(key)
            out.append(r)
            self._journeys.receipt(r)
        self.stats.receipts += sum(r.account != NO_ACCOUNT for r in out)
        return out

    def _alert(self, key: int, d: Departure, ending: bool = False) -> Receipt | None:
        """A shopper bound to no check-in leaves: when their cart holds something, an alert
        (a :data:`~core.records.NO_ACCOUNT` receipt, always to review) tells staff what
        left unbilled; an empty cart goes quietly."""
        r = self.carts.receipt(key, d.t, self.k.catalogue, self.attribution.review_threshold)
        self.carts.remove(key)
        if not r.products:
            return None
        self.stats.alerts += 1
        how = ("still in the store when the stream ended" if ending else
               "at the exit" if d.certain else "lost in the store")
        return Receipt(NO_ACCOUNT, r.products, r.total, 0.0, True, d.t, (d.track_id,),
                       (f"identity: a shopper bound to no check-in left ({how}) with these "
                        "items; nobody is charged (walked in behind someone, or the gate "
                        "message was lost)",))

    # -- protocol ----------------------------------------------------------------------------
    def _untracked(self, t: float) -> list[Receipt]:
        """Receipts for accounts that checked in but no track ever took: nothing is known
        of what they take, so the receipt is empty, zero confidence, and goes to review
        (never a silent empty bill). Group members of an account that is tracked do not
        count."""
        out = []
        for acct, t_in in list(self._unbound.items()):
            if self.tracker.active_with_account(acct) or acct in self._billed:
                del self._unbound[acct]
            elif t - t_in > self._unbound_after_s:
                del self._unbound[acct]
                self.stats.untracked_accounts += 1
                out.append(Receipt(acct, (), 0, 0.0, True, t, (),
                                   ("tracking: no track took this check-in",)))
                self._journeys.receipt(out[-1])
        return out

    def step(self, batch: SensorBatch) -> tuple[list[Tracks], list[Receipt]]:
        tracks, out = [], []
        for b in self._ordered(batch):     # in time order, late messages put back
            tr, o = self._step_one(b)
            tracks += tr
            out += o
        return tracks, out

    def _step_one(self, batch: SensorBatch) -> tuple[list[Tracks], list[Receipt]]:
        for g in batch.gate:
            self.tracker.check_in(g)
            for acct, t_in in zip(g.account.tolist(), g.t.tolist(), strict=True):
                self._billed.discard(int(acct))    # a returning account: a new visit
                self._unbound.setdefault(int(acct), float(t_in))
                self._journeys.check_in(t_in, acct)
        for p in batch.plates:
            self.stats.plate_samples += int(p.grams.size)
            self._closed.extend(self.detector.update(self._plate_in(p)))
        tracks = []
        for f in batch.frames:
            self.stats.detections += len(f)
            f = self._frame_in(f)        # frozen cameras' and unknown cameras' rows dropped
            tr = self.tracker.update(f)
            self._see_encounters(float(f.t), tr)
            self._see_unseen(float(f.t), tr)
            self._see_hands(f, tr)
            self._health_frame(f, tr)
            self._journeys.observe(tr)
            tracks.append(tr)
        # events are billed after this tick's frames: the hands and tracks up to t_end are in
        for ev in self._closed:
            self._bill_event(ev)
        self._closed = []
        self._resolve_passes(batch.t)
        self._settle_hand_overs(batch.t)
        out = self._depart(self.tracker.pop_departures())
        return tracks, out + self._untracked(batch.t)

    def finish(self, t: float) -> list[Receipt]:
        held = []
        for b in self.intake.flush():      # what was still waiting for late messages
            tr, o = self._step_one(b)
            self.final_tracks += tr
            held += o
        for ev in self._closed:
            self._bill_event(ev)
        self._closed = []
        self._resolve_passes(np.inf)
        self._settle_hand_overs(np.inf)
        out = self._depart(self.tracker.flush(t))
        # whoever the tracks say is still inside: every account's receipt goes out, to review
        # (a shopper whose track another took over has left unbilled otherwise)
        tid, acc = self.tracker.open_tracks()
        out += self._depart([Departure(k, a, float(t), False)
                             for k, a in zip(tid.tolist(), acc.tolist(), strict=True)], True)
        for key in [k for k in self.carts.accounts if k < 0 and self.carts.quantities(k)]:
            out.append(self._alert(key, Departure(-key - 1, -1, float(t), False), True))
        out += self._untracked(t)
        self._journeys.finish(t)
        self.stats.carts_left = sum(1 for k in self.carts.accounts if self.carts.quantities(k))
        return held + out

    def journeys(self, key: bytes) -> dict[str, list]:
        """Every visit seen so far as journey rows (:mod:`core.journeys`), accounts as
        pseudonyms under ``key``."""
        return self._journeys.table(self.tracker.account_of, key)
