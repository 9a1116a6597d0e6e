"""HOTA of floor-plane tracks (Luiten et al., "HOTA: A Higher Order Metric for Evaluating
Multi-Object Tracking", IJCV 2021): detection, association and localisation accuracy of a
core's tracks against the true tracks, averaged over localisation thresholds.

Rows as in :mod:`experiments.scoring.tracking` (whose validation this shares); a pair's
similarity on the floor is ``max(0, 1 - d / threshold_m)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from experiments.scoring.common import AsDict
from experiments.scoring.tracking import as_track_rows

#: localisation thresholds HOTA averages over (Luiten et al., IJCV 2021: 0.05, 0.10, ... 0.95)
HOTA_ALPHAS = np.arange(0.05, 0.96, 0.05)


@dataclass(frozen=True)
class HotaScores(AsDict):
    """HOTA of floor-plane tracks (Luiten et al., "HOTA: A Higher Order Metric for
    Evaluating Multi-Object Tracking", IJCV 2021), averaged over ``HOTA_ALPHAS``.

    hota: ``sqrt(DetA * AssA)``; deta: detection accuracy ``TP / (TP + FN + FP)``; assa:
    association accuracy (mean over true positives of the matched id pair's association
    Jaccard); loca: mean similarity of matched pairs. Similarity of a gt/hyp pair on the
    floor is ``max(0, 1 - d / threshold_m)`` (1 at the same point, 0 at the threshold).
    """

    hota: float
    deta: float
    assa: float
    loca: float


def _merge(keys: np.ndarray, vals: np.ndarray, new: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``keys`` (with ``vals``) grown by the distinct ``new`` keys (values 0)."""
    add = np.setdiff1d(new, keys)
    if not add.size:
        return keys, vals
    k = np.concatenate([keys, add])
    order = np.argsort(k, kind="stable")
    v = np.concatenate([vals, np.zeros(add.size)])
    return k[order], v[order]


class HotaAccumulator:
    """HOTA over rows given in chunks of whole frames, in frame order, in two passes
    (:meth:`potential` over every chunk, then :meth:`match` over every chunk again), with
    the id pairs kept sparse: memory grows with the pairs that ever met, not with gt ids x
    hyp ids. ``g_ids``, ``h_ids``: every gt and hyp id of the sequence, sorted unique.
    Per pair the sums run frame by frame, as a dense matrix would add them."""

    def __init__(self, g_ids: np.ndarray, h_ids: np.ndarray, threshold_m: float) -> None:
        self.g_ids, self.h_ids = np.asarray(g_ids, np.int64), np.asarray(h_ids, np.int64)
        self.thr = float(threshold_m)
        self.nh = max(1, self.h_ids.size)
        self.g_count = np.zeros(self.g_ids.size)
        self.h_count = np.zeros(self.h_ids.size)
        self.pot_k, self.pot_v = np.zeros(0, np.int64), np.zeros(0)   # pair -> potential
        self.align: np.ndarray | None = None
        na = HOTA_ALPHAS.size
        self.tp, self.loc = np.zeros(na), np.zeros(na)
        self.m_k, self.m_v = np.zeros(0, np.int64), np.zeros(0)       # (alpha, pair) -> n
        self.n_gt = self.n_hy = 0

    def _frames(self, rows):
        """Per frame of sorted rows (gf, gi, gxy, hf, hi, hxy): dense gt and hyp ids and
        the (g, h) similarity matrix."""
        gf, gi, gxy, hf, hi, hxy = rows
        gx = np.searchsorted(self.g_ids, gi)
        hx = np.searchsorted(self.h_ids, hi)
        frames = np.union1d(gf, hf)
        g0, g1 = np.searchsorted(gf, frames), np.searchsorted(gf, frames, side="right")
        h0, h1 = np.searchsorted(hf, frames), np.searchsorted(hf, frames, side="right")
        for f in range(frames.size):
            gs, hs = slice(g0[f], g1[f]), slice(h0[f], h1[f])
            d = np.linalg.norm(gxy[gs, None, :] - hxy[None, hs, :], axis=2)
            yield gx[gs], hx[hs], np.maximum(0.0, 1.0 - d / self.thr)

    def potential(self, rows) -> None:
        """Pass 1: the global association (similarity-weighted potential matches)."""
        gf, gi, _gxy, hf, hi, _hxy = rows
        self.n_gt += gf.size
        self.n_hy += hf.size
        self.g_count += np.bincount(np.searchsorted(self.g_ids, gi), minlength=self.g_ids.size)
        self.h_count += np.bincount(np.searchsorted(self.h_ids, hi), minlength=self.h_ids.size)
        keys, vals = [], []
        for gids, hids, s in self._frames(rows):
            if s.size == 0:
                continue
            denom = s.sum(0)[None, :] + s.sum(1)[:, None] - s
            with np.errstate(divide="ignore", invalid="ignore"):
                iou = np.where(denom > np.finfo(float).eps, s / denom, 0.0)
            nz = iou > 0
            keys.append((gids[:, None] * self.nh + hids[None, :])[nz])
            vals.append(iou[nz])
        if keys:
            k, v = np.concatenate(keys), np.concatenate(vals)
            self.pot_k, self.pot_v = _merge(self.pot_k, self.pot_v, np.unique(k))
            np.add.at(self.pot_v, np.searchsorted(self.pot_k, k), v)   # in frame order

    def match(self, rows) -> None:
        """Pass 2: per frame the Hungarian match on similarity x association, counted per
        alpha."""
        if self.align is None:
            g, h = self.pot_k // self.nh, self.pot_k % self.nh
            self.align = self.pot_v / (self.g_count[g] + self.h_count[h] - self.pot_v)
        eps = np.finfo(float).eps
        keys = []
        for gids, hids, s in self._frames(rows):
            if s.size == 0:
                continue
            k = gids[:, None] * self.nh + hids[None, :]
            at = np.minimum(np.searchsorted(self.pot_k, k), max(self.pot_k.size - 1, 0))
            a = (np.where(self.pot_k[at] == k, self.align[at], 0.0) if self.pot_k.size
                 else np.zeros(k.shape))
            r, c = linear_sum_assignment(-(a * s))
            ms = s[r, c]
            pair = k[r, c]
            for ai, alpha in enumerate(HOTA_ALPHAS):
                ok = ms >= alpha - eps
                self.tp[ai] += ok.sum()
                self.loc[ai] += ms[ok].sum()
                keys.append(ai * (self.g_ids.size * self.nh) + pair[ok])
        if keys:
            u, n = np.unique(np.concatenate(keys), return_counts=True)
            self.m_k, self.m_v = _merge(self.m_k, self.m_v, u)
            self.m_v[np.searchsorted(self.m_k, u)] += n

    def result(self) -> HotaScores:
        if self.n_gt == 0 or self.n_hy == 0:
            return HotaScores(0.0, 0.0, 0.0, 1.0)
        tp = self.tp
        fn, fp = self.n_gt - tp, self.n_hy - tp
        per = self.g_ids.size * self.nh
        a, pair = self.m_k // per, self.m_k % per
        g, h = pair // self.nh, pair % self.nh
        m = self.m_v
        ass_j = m / np.maximum(self.g_count[g] + self.h_count[h] - m, 1.0)
        assa = np.bincount(a, weights=m * ass_j, minlength=HOTA_ALPHAS.size) / np.maximum(tp, 1.0)
        deta = tp / np.maximum(tp + fn + fp, 1.0)
        hota = np.sqrt(deta * assa)
        loca = np.where(tp > 0, self.loc / np.maximum(tp, 1.0), 1.0)
        return HotaScores(float(hota.mean()), float(deta.mean()), float(assa.mean()),
                          float(loca.mean()))


def score_hota(gt_frame: np.ndarray, gt_id: np.ndarray, gt_xy: np.ndarray,
               hy_frame: np.ndarray, hy_id: np.ndarray, hy_xy: np.ndarray,
               threshold_m: float = 1.0) -> HotaScores:
    """HOTA, DetA, AssA and LocA of hypothesis tracks against ground truth (rows as in
    :func:`experiments.scoring.tracking.score_tracking`).

    Per frame the pairs are matched one-to-one (Hungarian) maximising similarity weighted by
    the pair's global association score, as the HOTA paper prescribes, so that the
    matching favours pairs that belong together over the whole sequence; then for each
    alpha the matches with similarity >= alpha count as true positives. (All rows as one
    chunk of :class:`HotaAccumulator`; experiments.scoring.streaming feeds it from disk.)
    """
    if not threshold_m > 0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m!r}")
    gf, gi, gxy = as_track_rows(gt_frame, gt_id, gt_xy, "gt")
    hf, hi, hxy = as_track_rows(hy_frame, hy_id, hy_xy, "hyp")
    acc = HotaAccumulator(np.unique(gi), np.unique(hi), threshold_m)
    rows = (gf, gi, gxy, hf, hi, hxy)
    acc.potential(rows)
    acc.match(rows)
    return acc.result()
