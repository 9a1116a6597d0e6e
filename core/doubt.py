"""Where the full core doubts who is who and who holds what (issue 23): tracks that may
have swapped identities, shoppers who were out of every camera's sight together, and
shoppers who stood close enough for a hand-over no camera could see.

:class:`IdentityDoubt` is a part of :class:`core.store_core.StoreCore` (which keeps the
state it uses: ``_close``, ``_encounters``, ``_seen_*``, ``_gaps``, ``_unseen_pairs``,
``_close_doubted``, ``_hand_t``, ``_last_handover``, the tracker, the carts): per frame it
notes encounters (two tracks on different accounts within ``AttributionConfig.swap_m`` for
``swap_min_s``, with their looks then), their idle time together (hands out of the bins,
something in a cart) and shared unseen stretches; a shelf event billed after an encounter,
unless appearance re-identified the track, ``close_s`` idle together with no hand seen
between them, and a shared unseen stretch send both carts to review with the reason.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from core.records import Tracks
from core.shelf import ShelfEvent


class IdentityDoubt:
    """Identity-swap and unseen-together doubt of :class:`core.store_core.StoreCore`."""

    # -- identity swaps ----------------------------------------------------------------------
    def _see_encounters(self, t: float, tracks: Tracks) -> None:
        """Note each pair of tracks on different accounts that stays within ``swap_m`` for
        ``swap_min_s`` (once per approach), with both tracks' looks as they were when the
        approach began."""
        if tracks.track_id.size < 2:
            self._close = {}
            return
        a = self.attribution
        pairs = cKDTree(tracks.xy).query_pairs(a.swap_m, output_type="ndarray")
        now = {}
        for i, j in pairs.tolist():
            ti, tj = int(tracks.track_id[i]), int(tracks.track_id[j])
            if self._cart_key(ti) == self._cart_key(tj):
                continue                    # one account: a swap moves nothing
            pair = (min(ti, tj), max(ti, tj))
            if pair not in self._close:     # the approach begins: the looks as they are
                looks, got = self.tracker.looks(pair)
                now[pair] = [t, looks, got, False, False, 0.0, t]
                continue
            now[pair] = rec = self._close[pair]
            # idle together with something to hand over: neither has had a hand in a bin
            # lately (a hand there is busy), one of them holds an item
            h = self._hand_t
            if (min(t - h.get(ti, -np.inf), t - h.get(tj, -np.inf)) > a.lead_s
                    and (self.carts.quantities(self._cart_key(ti))
                         or self.carts.quantities(self._cart_key(tj)))):
                rec[5] += t - rec[6]
            rec[6] = t
            if not rec[4] and rec[5] >= a.close_s:
                rec[4] = True
                self._close_unseen(pair, rec[0], t, rec[5])
            if rec[3] or t - rec[0] < a.swap_min_s:
                continue
            rec[3] = True                   # close long enough: an encounter
            looks, got = rec[1], rec[2]
            if (looks.shape[1] and np.isfinite(looks).all() and got.min() > 0
                    and 0.5 * float(np.abs(looks[0] - looks[1]).sum()) >= a.swap_look_tv):
                continue                    # they look unlike: the tracker keeps them apart
            for k, (a_, b_) in enumerate((pair, pair[::-1])):
                self._encounters.setdefault(a_, []).append(
                    (rec[0], b_, looks[k], looks[1 - k], int(got[k])))
        self._close = now

    def _close_unseen(self, pair: tuple[int, int], t0: float, t: float, idle: float
                      ) -> None:
        """Tracks ``pair`` (different accounts) stayed within ``swap_m`` from ``t0`` to
        ``t``, ``idle`` seconds of it with their hands out of the bins and something in one
        of the carts: unless a hand was seen held out between them (a hand-over seen is
        billed as seen), both carts go to review, once per pair of accounts."""
        a = self.attribution
        ka, kb = self._cart_key(pair[0]), self._cart_key(pair[1])
        keys = (min(ka, kb), max(ka, kb))
        if (keys in self._close_doubted
                or self._last_handover.get(keys, -np.inf) >= t0 - a.handover_gap_s):
            return
        self._close_doubted.add(keys)
        why = (f"hand-over possible: within {a.swap_m:g} m of another account's shopper, "
               f"hands free, for {idle:.0f} s from t = {t0:.1f} s, no hand seen between them")
        for key in keys:
            if key not in self._billed:
                self.carts.doubt(key, a.swap_confidence, why)

    def _see_unseen(self, t: float, tracks: Tracks) -> None:
        """Two shoppers on different accounts unseen together (each track unseen for
        ``unseen_min_s`` or more over a common stretch of it, last seen within ``unseen_m``
        of each other) could have handed something over where no camera looks: both carts
        go to review, saying so. Per frame, array work on the tracks seen; Python only for
        the few that come back after a gap."""
        a = self.attribution
        ids = np.asarray(tracks.track_id, np.int64)
        sid, st, sxy = self._seen_ids, self._seen_t, self._seen_xy
        if sid.size:
            pos = np.minimum(np.searchsorted(sid, ids), sid.size - 1)
            known = sid[pos] == ids
            back = np.flatnonzero(known & (t - st[pos] >= a.unseen_min_s))
        else:
            pos, known = np.zeros(ids.size, np.int64), np.zeros(ids.size, bool)
            back = np.zeros(0, np.int64)
        gaps = [(int(ids[k]), float(st[pos[k]]), t, sxy[pos[k]].copy()) for k in back]
        st[pos[known]] = t
        sxy[pos[known]] = tracks.xy[known]
        if not known.all():
            sid = np.concatenate([sid, ids[~known]])
            order = np.argsort(sid, kind="stable")
            sid, st = sid[order], np.concatenate([st, np.full((~known).sum(), t)])[order]
            sxy = np.concatenate([sxy, tracks.xy[~known]])[order]
        if gaps:
            away = ~np.isin(sid, ids) & ~np.isin(sid, np.fromiter(self._departed, np.int64))
            self._gaps_meet(t, gaps, sid[away], st[away], sxy[away])
        horizon = t - self.tracker_config.reid_window_s
        g_keep = self._gaps[2] >= horizon
        if not g_keep.all():
            self._gaps = tuple(a[g_keep] for a in self._gaps)
        keep = st >= horizon
        self._seen_ids, self._seen_t, self._seen_xy = sid[keep], st[keep], sxy[keep]

    def _gaps_meet(self, t: float, gaps: list, away_id: np.ndarray, away_t: np.ndarray,
                   away_xy: np.ndarray) -> None:
        """Each track back after a gap ``gaps`` (track, t0, t, xy0), in turn, against the
        gaps of the window (``_gaps``: arrays of track, t0, t1 [s] and xy0 (g, 2) [m]; the
        ones back before it in this frame included, and kept there) and then the
        tracks still away (``away_*``: id, last seen [s], where (k, 2) [m]): the pairs whose
        shared stretch and distance qualify go to :meth:`_unseen_together` in that order.
        Array tests first (the same float operations), Python only for those pairs."""
        a = self.attribution
        g_id, g_t0, g_t1, g_xy = self._gaps
        n = g_id.size
        o_id, o_t0 = np.concatenate([g_id, away_id]), np.concatenate([g_t0, away_t])
        o_t1 = np.concatenate([g_t1, np.full(away_id.size, t)])
        o_xy = np.concatenate([g_xy, np.asarray(away_xy, np.float64).reshape(-1, 2)])
        for tid, t0, _t, xy0 in gaps:
            s0, s1 = np.maximum(t0, o_t0), np.minimum(t, o_t1)
            d = xy0 - o_xy
            ok = ((o_id != tid) & ~(s1 - s0 < a.unseen_min_s)
                  & ~(np.hypot(d[:, 0], d[:, 1]) > a.unseen_m))
            for k in np.flatnonzero(ok).tolist():
                self._unseen_together(tid, int(o_id[k]), float(s0[k]), float(s1[k]), xy0,
                                      o_xy[k])
            o_id, o_t0 = np.insert(o_id, n, tid), np.insert(o_t0, n, t0)
            o_t1, o_xy = np.insert(o_t1, n, t), np.insert(o_xy, n, xy0, axis=0)
            n += 1
        self._gaps = (o_id[:n], o_t0[:n], o_t1[:n], o_xy[:n])

    def _unseen_together(self, tid: int, o: int, s0: float, s1: float, xy0: np.ndarray,
                         xy_o: np.ndarray) -> None:
        """Doubt both carts once when tracks ``tid`` and ``o`` were unseen together from
        ``s0`` to ``s1``, last seen at ``xy0`` and ``xy_o``."""
        a = self.attribution
        pair = (min(o, tid), max(o, tid))
        if (o == tid or pair in self._unseen_pairs or s1 - s0 < a.unseen_min_s
                or np.hypot(*(xy0 - xy_o)) > a.unseen_m
                or self._cart_key(o) == self._cart_key(tid)):
            return
        self._unseen_pairs.add(pair)
        why = (f"hand-over possible: unseen together with another account's shopper "
               f"for {s1 - s0:.1f} s from t = {s0:.1f} s")
        for key in (self._cart_key(tid), self._cart_key(o)):
            if key not in self._billed:
                self.carts.doubt(key, a.swap_confidence, why)

    def _identity_doubt(self, track: int, ev: ShelfEvent, sku: int) -> str:
        """Why ``track``'s identity is in doubt for event ``ev`` ("" when it is not): it
        came within ``swap_m`` of a track on another account before the event ended and
        appearance has not re-identified it since. Both carts are doubted."""
        a = self.attribution
        why = ""
        for t_c, other, own0, other0, got0 in self._encounters.get(track, ()):
            if t_c > ev.t_end or self._reidentified(track, own0, other0, got0):
                continue
            why = (f"identity: within {a.swap_m:g} m of another account's track for "
                   f"{a.swap_min_s:g} s or more from t = {t_c:.1f} s, not re-identified since")
            ko = self._cart_key(other)
            if ko not in self._billed:
                self.carts.doubt(ko, a.swap_confidence, why)
            self.carts.doubt(self._cart_key(track), a.swap_confidence, why, sku)
        return why

    def _reidentified(self, track: int, own0: np.ndarray, other0: np.ndarray,
                      got0: int) -> bool:
        """Whether ``track``'s look, taken apart from others since an encounter, is now
        ``reid_margin`` nearer its own look before it (``own0``) than the other's
        (``other0``)."""
        a = self.attribution
        if own0.size == 0 or not (np.isfinite(own0).all() and np.isfinite(other0).all()):
            return False
        look, got = self.tracker.looks([track])
        if got[0] - got0 < a.reid_looks or not np.isfinite(look[0]).all():
            return False
        tv_own = 0.5 * float(np.abs(look[0] - own0).sum())
        tv_other = 0.5 * float(np.abs(look[0] - other0).sum())
        return tv_own + a.reid_margin <= tv_other

