"""Scoring of a core's receipts and tracks against simulator ground truth.

Pure functions over plain containers and numpy arrays; nothing here knows how a run was
produced.

Billing (:func:`score_billing`) uses the AutoCheckout per-receipt F1 on (sku, quantity)
units (AutoCheckout-CMU/AutoCheckout evaluation notes, see ``REFERENCES.md``) plus exact
match, pooled item precision/recall, money error and a human-review rate.

Tracking (:func:`score_tracking`) is CLEAR MOT (Bernardin & Stiefelhagen 2008) and the ID
measures (Ristani et al. 2016) on the floor plane, computed the way py-motmetrics computes
them: a gt/hypothesis pair may match only when its Euclidean distance is ``<= threshold_m``
(motmetrics' ``nan`` = may not pair); per frame the previous frame's correspondences are
kept while still valid, the rest are assigned by a Hungarian solve that first maximises the
number of matches and then minimises the summed distance; an ID switch is a gt object
matched to a hypothesis other than the one it was last matched to (ever).

Undefined ratios (zero denominators) are ``nan`` in the dataclasses and ``None`` in
``as_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

# --------------------------------------------------------------------------- helpers


def _ratio(num: float, den: float) -> float:
    """``num / den`` as a float, ``nan`` when ``den == 0``."""
    return float(num) / float(den) if den else math.nan


def _plain(value: object) -> object:
    """A json-ready scalar: python int/float, ``nan`` -> ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) else v
    return value


class _AsDict:
    """Mixin: ``as_dict()`` for frozen dataclasses of scalars."""

    def as_dict(self) -> dict[str, int | float | None]:
        """Field name -> plain int/float (``nan`` -> ``None``), ready for ``json.dumps``."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


# --------------------------------------------------------------------------- billing

Receipt = Mapping[str, int]
"""One receipt: sku -> quantity (units, > 0). An empty mapping is a receipt with no items."""


@dataclass(frozen=True)
class BillingScores(_AsDict):
    """Billing accuracy of issued receipts against true receipts.

    receipts_true: number of true receipts (shopper accounts that left the store).
    receipts_issued: number of receipts the core issued.
    receipts_missing: true accounts with no issued receipt.
    receipts_spurious: issued receipts for accounts not in the truth.
    exact_match: fraction of true receipts whose issued receipt is identical (same skus and
        quantities); a missing receipt does not match. ``nan`` if there are no true receipts.
    receipt_f1: mean over true receipts of the AutoCheckout per-receipt F1 on units
        (see :func:`receipt_f1`); a missing receipt scores 0. ``nan`` if no true receipts.
    item_precision: matched units / issued units, pooled over all issued receipts
        (spurious receipts included). ``nan`` if nothing was issued.
    item_recall: matched units / true units, pooled over all true receipts. ``nan`` if the
        truth holds no units.
    money_mae_cents: mean over true receipts of ``|issued total - true total|`` [cents]; a
        missing receipt counts as an issued total of 0. ``nan`` if no true receipts.
    overcharge_cents: sum over all accounts of ``max(issued - true, 0)`` [cents]; a
        spurious receipt is all overcharge.
    undercharge_cents: sum over all accounts of ``max(true - issued, 0)`` [cents]; a
        missing receipt is all undercharge.
    review_rate_per_1000: issued receipts flagged for human review per 1,000 issued
        receipts. ``nan`` when no review map was given or nothing was issued.
    unflagged_exact_match: exact-match fraction over the true receipts that did not go to
        review (no issued receipt, or an issued one not flagged; a missing receipt reaches
        no reviewer and counts as unflagged and wrong). Equals ``exact_match`` when no
        review map was given. ``nan`` if there are no such receipts.
    """

    receipts_true: int
    receipts_issued: int
    receipts_missing: int
    receipts_spurious: int
    exact_match: float
    receipt_f1: float
    item_precision: float
    item_recall: float
    money_mae_cents: float
    overcharge_cents: int
    undercharge_cents: int
    review_rate_per_1000: float
    unflagged_exact_match: float


def _check_receipt(account: int, receipt: Receipt, prices: Mapping[str, int], what: str) -> None:
    for sku, qty in receipt.items():
        if int(qty) != qty or qty <= 0:
            raise ValueError(
                f"{what} receipt of account {account}: quantity of sku {sku!r} must be a "
                f"positive integer, got {qty!r}"
            )
        if sku not in prices:
            raise ValueError(f"{what} receipt of account {account}: sku {sku!r} has no price")


def _matched_units(true: Receipt, issued: Receipt) -> int:
    """Units common to both receipts: sum over skus of ``min(q_true, q_issued)``."""
    return sum(min(int(q), int(issued.get(sku, 0))) for sku, q in true.items())


def _units(receipt: Receipt) -> int:
    return sum(int(q) for q in receipt.values())


def _total(receipt: Receipt, prices: Mapping[str, int]) -> int:
    """Receipt total [cents] from the price map."""
    return sum(int(q) * int(prices[sku]) for sku, q in receipt.items())


def receipt_f1(true: Receipt, issued: Receipt | None) -> float:
    """AutoCheckout per-receipt F1 on (sku, quantity) units.

    matched = sum over skus of ``min(q_true, q_issued)``; precision = matched / issued
    units; recall = matched / true units; F1 their harmonic mean. Both receipts empty -> 1;
    exactly one empty -> 0; ``issued is None`` (no receipt issued) -> 0.

    Example: true ``{a: 2, b: 1}``, issued ``{a: 1, c: 1}`` -> P = 1/2, R = 1/3, F1 = 0.4.
    """
    if issued is None:
        return 0.0
    n_true, n_issued = _units(true), _units(issued)
    if n_true == 0 and n_issued == 0:
        return 1.0
    if n_true == 0 or n_issued == 0:
        return 0.0
    matched = _matched_units(true, issued)
    # F1 = 2PR/(P+R) = 2 matched / (n_true + n_issued)
    return 2.0 * matched / (n_true + n_issued)


def score_billing(
    truth: Mapping[int, Receipt],
    issued: Mapping[int, Receipt],
    prices: Mapping[str, int],
    review: Mapping[int, bool] | None = None,
) -> BillingScores:
    """Score issued receipts against the true ones.

    truth: account -> true receipt (sku -> units > 0), one entry per shopper account that
        left the store.
    issued: account -> receipt the core issued.
    prices: sku -> unit price [cents]; every sku on either side must have one.
    review: optional account -> flagged-for-human-review; accounts absent are unflagged;
        entries for accounts without an issued receipt are ignored.

    Raises ValueError on a non-positive or non-integer quantity or an unpriced sku.
    See :class:`BillingScores` for each score's definition and when it is ``nan``.
    """
    for account, receipt in truth.items():
        _check_receipt(account, receipt, prices, "true")
    for account, receipt in issued.items():
        _check_receipt(account, receipt, prices, "issued")

    flagged = {a for a, f in (review or {}).items() if f and a in issued}
    n_true = len(truth)
    n_issued = len(issued)
    missing = sum(1 for a in truth if a not in issued)
    spurious = sum(1 for a in issued if a not in truth)

    exact = 0
    f1_sum = 0.0
    matched_units = 0
    true_units = 0
    abs_err = 0
    unflagged = 0
    unflagged_exact = 0
    over = 0
    under = 0
    for account, t in truth.items():
        i = issued.get(account)
        is_exact = i is not None and dict(t) == dict(i)
        exact += is_exact
        f1_sum += receipt_f1(t, i)
        true_units += _units(t)
        diff = (_total(i, prices) if i is not None else 0) - _total(t, prices)
        abs_err += abs(diff)
        over += max(diff, 0)
        under += max(-diff, 0)
        if i is not None:
            matched_units += _matched_units(t, i)
        if account not in flagged:
            unflagged += 1
            unflagged_exact += is_exact
    issued_units = 0
    for account, i in issued.items():
        issued_units += _units(i)
        if account not in truth:
            over += _total(i, prices)

    return BillingScores(
        receipts_true=n_true,
        receipts_issued=n_issued,
        receipts_missing=missing,
        receipts_spurious=spurious,
        exact_match=_ratio(exact, n_true),
        receipt_f1=_ratio(f1_sum, n_true),
        item_precision=_ratio(matched_units, issued_units),
        item_recall=_ratio(matched_units, true_units),
        money_mae_cents=_ratio(abs_err, n_true),
        overcharge_cents=int(over),
        undercharge_cents=int(under),
        review_rate_per_1000=(
            math.nan if review is None else 1000.0 * _ratio(len(flagged), n_issued)
        ),
        unflagged_exact_match=_ratio(unflagged_exact, unflagged),
    )


# --------------------------------------------------------------------------- tracking


@dataclass(frozen=True)
class TrackingScores(_AsDict):
    """CLEAR MOT and ID measures of hypothesis tracks against ground-truth tracks.

    mota: ``1 - (misses + false_positives + id_switches) / num_gt``; ``nan`` if num_gt == 0.
    motp_m: mean distance of matched pairs [m] (lower is better); ``nan`` if no matches.
    idf1: ``2 IDTP / (num_gt + num_hyp)``; ``nan`` if both are 0.
    idp: ``IDTP / num_hyp``; ``nan`` if num_hyp == 0.
    idr: ``IDTP / num_gt``; ``nan`` if num_gt == 0.
    num_gt: ground-truth rows (object-frames).
    num_hyp: hypothesis rows (track-frames).
    matches: matched gt/hyp pairs, ID switches included, so ``num_gt = matches + misses``
        and ``num_hyp = matches + false_positives`` (motmetrics' ``num_detections``; its
        ``num_matches`` is ``matches - id_switches``).
    false_positives: hypothesis rows left unmatched.
    misses: gt rows left unmatched.
    id_switches: matches whose hypothesis differs from the gt object's previous match.
    num_gt_ids: distinct gt ids.
    num_hyp_ids: distinct hypothesis ids.
    """

    mota: float
    motp_m: float
    idf1: float
    idp: float
    idr: float
    num_gt: int
    num_hyp: int
    matches: int
    false_positives: int
    misses: int
    id_switches: int
    num_gt_ids: int
    num_hyp_ids: int


def _as_track_rows(
    frame: np.ndarray, ids: np.ndarray, xy: np.ndarray, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate, then sort rows by (frame, id); raise on a repeated id within a frame."""
    frame = np.asarray(frame, dtype=np.int64).reshape(-1)
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    xy = np.asarray(xy, dtype=np.float64)
    if xy.size == 0:
        xy = xy.reshape(0, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"{what}_xy must have shape (n, 2), got {xy.shape}")
    n = frame.shape[0]
    if ids.shape[0] != n or xy.shape[0] != n:
        raise ValueError(
            f"{what}_frame, {what}_id and {what}_xy must have the same length, "
            f"got {n}, {ids.shape[0]}, {xy.shape[0]}"
        )
    if not np.isfinite(xy).all():
        raise ValueError(f"{what}_xy must be finite")
    order = np.lexsort((ids, frame))
    frame, ids, xy = frame[order], ids[order], xy[order]
    dup = (frame[1:] == frame[:-1]) & (ids[1:] == ids[:-1])
    if dup.any():
        k = int(np.flatnonzero(dup)[0])
        raise ValueError(f"{what} id {ids[k]} appears twice in frame {frame[k]}")
    return frame, ids, xy


def _candidate_pairs(
    g_frame: np.ndarray,
    g_xy: np.ndarray,
    h_frame: np.ndarray,
    h_xy: np.ndarray,
    threshold_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All same-frame gt/hyp pairs within ``threshold_m``, by spatial hashing.

    g_frame: (n,) int64 dense frame index; g_xy: (n, 2) float64 [m]; likewise h_*.
    Returns (gt row (p,) int64, hyp row (p,) int64, squared distance (p,) float64 [m^2]),
    sorted by gt row then hyp row. Cost grows with the number of pairs in neighbouring
    grid cells (cell size >= threshold), not with n x m.
    """
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if g_frame.size == 0 or h_frame.size == 0:
        return empty
    both = np.concatenate([g_xy, h_xy])
    lo = both.min(axis=0)
    span = float((both.max(axis=0) - lo).max())
    if not math.isfinite(threshold_m):
        cell = span + 1.0  # one cell: every same-frame pair is a candidate
    else:
        # >= threshold so that neighbours within 1 cell hold every valid pair; capped
        # at ~1024 cells a side so the integer keys cannot overflow.
        cell = max(threshold_m, span / 1024.0)
        if cell <= 0.0:
            cell = 1.0
    g_c = np.floor((g_xy - lo) / cell).astype(np.int64) + 1
    h_c = np.floor((h_xy - lo) / cell).astype(np.int64) + 1
    nx = int(max(g_c[:, 0].max(), h_c[:, 0].max())) + 2
    ny = int(max(g_c[:, 1].max(), h_c[:, 1].max())) + 2
    h_key = (h_frame * nx + h_c[:, 0]) * ny + h_c[:, 1]
    h_order = np.argsort(h_key, kind="stable")
    h_key = h_key[h_order]
    thr2 = threshold_m * threshold_m
    g_rows = np.arange(g_frame.size, dtype=np.int64)
    out_g, out_h, out_d2 = [], [], []
    for dx in (-1, 0, 1):
        # cells (cx+dx, cy-1..cy+1) have consecutive keys: one contiguous run of h_key
        mid = (g_frame * nx + (g_c[:, 0] + dx)) * ny + g_c[:, 1]
        first = np.searchsorted(h_key, mid - 1, side="left")
        count = np.searchsorted(h_key, mid + 1, side="right") - first
        total = int(count.sum())
        if total == 0:
            continue
        gi = np.repeat(g_rows, count)
        offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        hj = h_order[np.repeat(first, count) + offset]
        d2 = np.sum((g_xy[gi] - h_xy[hj]) ** 2, axis=1)
        ok = d2 <= thr2
        out_g.append(gi[ok])
        out_h.append(hj[ok])
        out_d2.append(d2[ok])
    if not out_g:
        return empty
    gi, hj, d2 = np.concatenate(out_g), np.concatenate(out_h), np.concatenate(out_d2)
    order = np.lexsort((hj, gi))
    return gi[order], hj[order], d2[order]


def _max_idtp(
    o: np.ndarray, h: np.ndarray, count: np.ndarray, n_gt_ids: int, n_hyp_ids: int
) -> int:
    """Largest total co-occurrence over one-to-one gt-id/hyp-id assignments.

    o, h: (e,) int64 dense gt / hyp id indices of the distinct id pairs that co-occur;
    count: (e,) int64 frames in which the pair is within threshold. Solved as a sparse
    min-cost full matching of the gt ids against the hyp ids plus one private "unmatched"
    column per gt id (cost ``c - count`` for a real pair, ``c`` for the dummy, ``c`` above
    every count), which has the same optimum as motmetrics' (G+H) x (G+H) problem with
    fp/fn dummy nodes.
    """
    if o.size == 0:
        return 0
    c = float(count.max()) + 1.0
    gt_rows = np.arange(n_gt_ids, dtype=np.int64)
    graph = scipy.sparse.csr_array(
        (
            np.concatenate([c - count.astype(np.float64), np.full(n_gt_ids, c)]),
            (np.concatenate([o, gt_rows]), np.concatenate([h, n_hyp_ids + gt_rows])),
        ),
        shape=(n_gt_ids, n_hyp_ids + n_gt_ids),
    )
    r, k = min_weight_full_bipartite_matching(graph)
    real = k < n_hyp_ids
    key = o * n_hyp_ids + h  # sorted, as (o, h) come from np.unique of this key
    at = np.searchsorted(key, r[real].astype(np.int64) * n_hyp_ids + k[real])
    return int(count[at].sum())


def score_tracking(
    gt_frame: np.ndarray,
    gt_id: np.ndarray,
    gt_xy: np.ndarray,
    hy_frame: np.ndarray,
    hy_id: np.ndarray,
    hy_xy: np.ndarray,
    threshold_m: float = 1.0,
) -> TrackingScores:
    """CLEAR MOT (MOTA, MOTP) and IDF1/IDP/IDR of floor-plane tracks, as py-motmetrics.

    gt_frame: (n,) int64 frame index of each ground-truth row.
    gt_id: (n,) int64 shopper id; unique within a frame.
    gt_xy: (n, 2) float64 floor position [m].
    hy_frame, hy_id, hy_xy: (m,), (m,), (m, 2) the same for hypothesis (track) rows.
    threshold_m: a gt/hyp pair may match only when their distance is ``<= threshold_m``
        [m] (compared squared, like ``motmetrics.distances.norm2squared_matrix`` with
        ``max_d2 = threshold_m**2``); ``inf`` lets any same-frame pair match.

    Per frame (in increasing frame order): a gt object keeps the hypothesis it was last
    matched to if that hypothesis is present and within threshold (ties for one
    hypothesis go to the lowest gt id); the remaining valid pairs are assigned by
    ``linear_sum_assignment``, maximising the number of matches, then minimising summed
    distance; a match to a hypothesis other than the object's last match is an ID switch.
    IDF1 matches gt ids to hyp ids once, globally, maximising IDTP = the number of frames
    in which matched ids are within threshold.

    Rows are sorted by (frame, id) internally, so input row order does not matter.
    Cost: one vectorised spatial-hash join for the candidate pairs, then a loop over
    frames that have one, touching only those pairs (~1-3 s per 10^6 rows).

    Empty inputs give zero counts and ``nan`` for undefined ratios (see
    :class:`TrackingScores`). Raises ValueError on mismatched lengths,
    non-finite positions, a negative or nan threshold, or an id repeated within a frame.
    """
    threshold_m = float(threshold_m)
    if math.isnan(threshold_m) or threshold_m < 0.0:
        raise ValueError(f"threshold_m must be >= 0, got {threshold_m}")
    gf, gi, gxy = _as_track_rows(gt_frame, gt_id, gt_xy, "gt")
    hf, hi, hxy = _as_track_rows(hy_frame, hy_id, hy_xy, "hy")
    num_gt, num_hyp = int(gf.size), int(hf.size)

    g_ids, g_idx = np.unique(gi, return_inverse=True)
    h_ids, h_idx = np.unique(hi, return_inverse=True)
    frames = np.unique(np.concatenate([gf, hf]))
    g_fidx = np.searchsorted(frames, gf)
    h_fidx = np.searchsorted(frames, hf)

    pg, ph, pd2 = _candidate_pairs(g_fidx, gxy, h_fidx, hxy, threshold_m)
    po = g_idx[pg]  # gt id index of each valid pair
    pho = h_idx[ph]  # hyp id index of each valid pair
    pdist = np.sqrt(pd2)
    pframe = g_fidx[pg]

    # ---- CLEAR MOT: only frames with a valid pair can change state or match anything.
    n_gid, n_hid = g_ids.size, h_ids.size
    last = np.full(n_gid, -1, dtype=np.int64)  # hyp id index each gt id was last matched to
    n_last = np.zeros(n_hid, dtype=np.int64)  # how many gt ids have each hyp as last match
    g_used = np.zeros(n_gid, dtype=bool)
    h_used = np.zeros(n_hid, dtype=bool)
    matches = 0
    switches = 0
    dist_sum = 0.0
    bounds = np.flatnonzero(np.diff(pframe)) + 1
    starts = np.concatenate([[0], bounds]).tolist() if pframe.size else []
    ends = np.concatenate([bounds, [pframe.size]]).tolist() if pframe.size else []
    for s, e in zip(starts, ends, strict=True):
        o, h, d = po[s:e], pho[s:e], pdist[s:e]
        # 1. keep last correspondences still within threshold
        keep = last[o] == h
        n_keep = int(np.count_nonzero(keep))
        if n_keep:
            all_keep = n_keep == o.size
            ko, kh, kd = (o, h, d) if all_keep else (o[keep], h[keep], d[keep])
            if n_keep > 1 and (n_last[kh] > 1).any():
                _, first = np.unique(kh, return_index=True)
                if first.size < kh.size:  # one hyp claimed by several gts: lowest gt id
                    first.sort()
                    ko, kh, kd = ko[first], kh[first], kd[first]
            matches += ko.size
            dist_sum += float(kd.sum())
            if all_keep:  # every pair touches a claimed gt or hyp: nothing left
                continue
            g_used[ko] = True
            h_used[kh] = True
            rest = ~(g_used[o] | h_used[h])
            g_used[ko] = False
            h_used[kh] = False
            o, h, d = o[rest], h[rest], d[rest]
        if o.size == 0:
            continue
        # 2. assign the rest: max cardinality, then min summed distance
        if o.size == 1 or (
            np.all(o[1:] != o[:-1]) and np.unique(h).size == h.size
        ):  # pairs are disjoint: all of them match
            mo, mh, md = o, h, d
        else:
            uo, ri = np.unique(o, return_inverse=True)
            uh, ci = np.unique(h, return_inverse=True)
            # motmetrics' add_expensive_edges: an invalid edge costs more than any
            # assignment of valid ones, so the solve maximises the number of matches first
            big = 2.0 * min(uo.size, uh.size) * (float(d.max()) + 1.0) + 1.0
            cost = np.full((uo.size, uh.size), big)
            cost[ri, ci] = d
            valid = np.zeros(cost.shape, dtype=bool)
            valid[ri, ci] = True
            r, c = linear_sum_assignment(cost)
            ok = valid[r, c]
            r, c = r[ok], c[ok]
            mo, mh, md = uo[r], uh[c], cost[r, c]
        prev = last[mo]
        switches += int(np.count_nonzero((prev >= 0) & (prev != mh)))
        np.subtract.at(n_last, prev[prev >= 0], 1)
        np.add.at(n_last, mh, 1)
        last[mo] = mh
        matches += mo.size
        dist_sum += float(md.sum())

    # ---- ID measures: co-occurrence (frames within threshold) of each id pair
    if po.size:
        key = po * n_hid + pho
        ukey, count = np.unique(key, return_counts=True)
        idtp = _max_idtp(ukey // n_hid, ukey % n_hid, count, n_gid, n_hid)
    else:
        idtp = 0

    misses = num_gt - matches
    false_positives = num_hyp - matches
    return TrackingScores(
        mota=1.0 - _ratio(misses + false_positives + switches, num_gt),
        motp_m=_ratio(dist_sum, matches),
        idf1=_ratio(2 * idtp, num_gt + num_hyp),
        idp=_ratio(idtp, num_hyp),
        idr=_ratio(idtp, num_gt),
        num_gt=num_gt,
        num_hyp=num_hyp,
        matches=int(matches),
        false_positives=int(false_positives),
        misses=int(misses),
        id_switches=int(switches),
        num_gt_ids=int(n_gid),
        num_hyp_ids=int(n_hid),
    )


# --------------------------------------------------------------------------- HOTA

#: localisation thresholds HOTA averages over (Luiten et al., IJCV 2021: 0.05, 0.10, ... 0.95)
HOTA_ALPHAS = np.arange(0.05, 0.96, 0.05)


@dataclass(frozen=True)
class HotaScores(_AsDict):
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
    :func:`score_tracking`).

    Per frame the pairs are matched one-to-one (Hungarian) maximising similarity weighted by
    the pair's global association score, as the HOTA paper prescribes, so that the
    matching favours pairs that belong together over the whole sequence; then for each
    alpha the matches with similarity >= alpha count as true positives.
    """
    if not threshold_m > 0:
        raise ValueError(f"threshold_m must be > 0, got {threshold_m!r}")
    gf, gi, gxy = _as_track_rows(gt_frame, gt_id, gt_xy, "gt")
    hf, hi, hxy = _as_track_rows(hy_frame, hy_id, hy_xy, "hyp")
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
