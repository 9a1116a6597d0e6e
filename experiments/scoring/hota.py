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


def score_hota(gt_frame: np.ndarray, gt_id: np.ndarray, gt_xy: np.ndarray,
               hy_frame: np.ndarray, hy_id: np.ndarray, hy_xy: np.ndarray,
               threshold_m: float = 1.0) -> HotaScores:
    """HOTA, DetA, AssA and LocA of hypothesis tracks against ground truth (rows as in
    :func:`experiments.scoring.tracking.score_tracking`).

    Per frame the pairs are matched one-to-one (Hungarian) maximising similarity weighted by
    the pair's global association score, as the HOTA paper prescribes, so that the
    matching favours pairs that belong together over the whole sequence; then for each
    alpha the matches with similarity >= alpha count as true positives.
    """
    if not threshold_m > 0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m!r}")
    gf, gi, gxy = as_track_rows(gt_frame, gt_id, gt_xy, "gt")
    hf, hi, hxy = as_track_rows(hy_frame, hy_id, hy_xy, "hyp")
    na = HOTA_ALPHAS.size
    if gf.size == 0 or hf.size == 0:
        return HotaScores(0.0, 0.0, 0.0, 1.0)
    g_u, g_ix = np.unique(gi, return_inverse=True)
    h_u, h_ix = np.unique(hi, return_inverse=True)
    frames = np.union1d(gf, hf)
    g_start = np.searchsorted(gf, frames)
    g_stop = np.searchsorted(gf, frames, side="right")
    h_start = np.searchsorted(hf, frames)
    h_stop = np.searchsorted(hf, frames, side="right")

    def sim(f: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gs, hs = slice(g_start[f], g_stop[f]), slice(h_start[f], h_stop[f])
        d = np.linalg.norm(gxy[gs, None, :] - hxy[None, hs, :], axis=2)
        return g_ix[gs], h_ix[hs], np.maximum(0.0, 1.0 - d / threshold_m)

    # global association: similarity-weighted potential matches per id pair
    potential = np.zeros((g_u.size, h_u.size))
    g_count = np.bincount(g_ix, minlength=g_u.size).astype(float)[:, None]
    h_count = np.bincount(h_ix, minlength=h_u.size).astype(float)[None, :]
    for f in range(frames.size):
        gids, hids, s = sim(f)
        if s.size == 0:
            continue
        denom = s.sum(0)[None, :] + s.sum(1)[:, None] - s
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(denom > np.finfo(float).eps, s / denom, 0.0)
        potential[gids[:, None], hids[None, :]] += iou
    align = potential / (g_count + h_count - potential)

    tp, loc = np.zeros(na), np.zeros(na)
    matches = np.zeros((na, g_u.size, h_u.size))
    eps = np.finfo(float).eps
    for f in range(frames.size):
        gids, hids, s = sim(f)
        if s.size == 0:
            continue
        r, c = linear_sum_assignment(-(align[gids[:, None], hids[None, :]] * s))
        ms = s[r, c]
        for a, alpha in enumerate(HOTA_ALPHAS):
            ok = ms >= alpha - eps
            tp[a] += ok.sum()
            loc[a] += ms[ok].sum()
            np.add.at(matches[a], (gids[r[ok]], hids[c[ok]]), 1.0)
    fn = gf.size - tp
    fp = hf.size - tp
    ass_j = matches / np.maximum(g_count[None] + h_count[None] - matches, 1.0)
    assa = (matches * ass_j).sum(axis=(1, 2)) / np.maximum(tp, 1.0)
    deta = tp / np.maximum(tp + fn + fp, 1.0)
    hota = np.sqrt(deta * assa)
    loca = np.where(tp > 0, loc / np.maximum(tp, 1.0), 1.0)
    return HotaScores(float(hota.mean()), float(deta.mean()), float(assa.mean()),
                      float(loca.mean()))
