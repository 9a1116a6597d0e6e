"""Tracking scores: CLEAR MOT (Bernardin & Stiefelhagen 2008) and the ID measures
(Ristani et al. 2016) of a core's tracks against the true tracks, on the floor plane.

:func:`score_tracking` computes them the way py-motmetrics does: a gt/hypothesis pair may
match only when its Euclidean distance is ``<= threshold_m`` (motmetrics' ``nan`` = may not
pair); per frame the previous frame's correspondences are kept while still valid, the rest
are assigned by a Hungarian solve that first maximises the number of matches and then
minimises the summed distance; an ID switch is a gt object matched to a hypothesis other
than the one it was last matched to (ever). The parts: the candidate pairs (a spatial-hash
join), the matching frame by frame (the CLEAR counts), and the global id assignment (IDTP).

Also the track rows' validation, which HOTA (:mod:`experiments.scoring.hota`) shares. Pure
functions over numpy arrays; undefined ratios are ``nan`` in :class:`TrackingScores` and
``None`` in ``as_dict()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from experiments.scoring.common import AsDict, ratio


@dataclass(frozen=True)
class TrackingScores(AsDict):
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


def as_track_rows(
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
    gf, gi, gxy = as_track_rows(gt_frame, gt_id, gt_xy, "gt")
    hf, hi, hxy = as_track_rows(hy_frame, hy_id, hy_xy, "hy")
    acc = ClearAccumulator(np.unique(gi), np.unique(hi), threshold_m)
    acc.add((gf, gi, gxy, hf, hi, hxy))
    return acc.result()


class ClearAccumulator:
    """CLEAR MOT and the ID measures over rows given in chunks of whole frames, in frame
    order (:func:`score_tracking` gives all rows as one chunk; experiments.scoring.
    streaming feeds them from disk): the matching state carries from chunk to chunk, the
    id pairs' co-occurrence counts add up. ``g_ids``, ``h_ids``: every gt and hyp id of the
    sequence, sorted unique (their order breaks ties, as in one pass)."""

    def __init__(self, g_ids: np.ndarray, h_ids: np.ndarray, threshold_m: float) -> None:
        self.g_ids, self.h_ids = np.asarray(g_ids, np.int64), np.asarray(h_ids, np.int64)
        self.thr = float(threshold_m)
        self.state = ClearState.new(self.g_ids.size, self.h_ids.size)
        self.num_gt = self.num_hyp = 0
        self.keys, self.counts = np.zeros(0, np.int64), np.zeros(0, np.int64)

    def add(self, rows) -> None:
        gf, gi, gxy, hf, hi, hxy = rows
        self.num_gt += int(gf.size)
        self.num_hyp += int(hf.size)
        n_gid, n_hid = self.g_ids.size, self.h_ids.size
        po, pho, pdist, pframe, _, _ = _valid_pairs(gf, gi, gxy, hf, hi, hxy, self.thr,
                                                    (self.g_ids, self.h_ids))
        _clear_counts(po, pho, pdist, pframe, n_gid, n_hid, self.state)
        if po.size:
            k, n = np.unique(po * n_hid + pho, return_counts=True)
            allk = np.union1d(self.keys, k)
            c = np.zeros(allk.size, np.int64)
            c[np.searchsorted(allk, self.keys)] += self.counts
            c[np.searchsorted(allk, k)] += n
            self.keys, self.counts = allk, c

    def result(self) -> TrackingScores:
        st, n_hid = self.state, max(1, self.h_ids.size)
        matches, switches, dist_sum = st.matches, st.switches, st.dist_sum
        idtp = (_max_idtp(self.keys // n_hid, self.keys % n_hid, self.counts,
                          self.g_ids.size, self.h_ids.size) if self.keys.size else 0)
        num_gt, num_hyp = self.num_gt, self.num_hyp
        n_gid, n_hid = self.g_ids.size, self.h_ids.size
        misses = num_gt - matches
        false_positives = num_hyp - matches
        return TrackingScores(
            mota=1.0 - ratio(misses + false_positives + switches, num_gt),
            motp_m=ratio(dist_sum, matches),
            idf1=ratio(2 * idtp, num_gt + num_hyp),
            idp=ratio(idtp, num_hyp),
            idr=ratio(idtp, num_gt),
            num_gt=num_gt,
            num_hyp=num_hyp,
            matches=int(matches),
            false_positives=int(false_positives),
            misses=int(misses),
            id_switches=int(switches),
            num_gt_ids=int(n_gid),
            num_hyp_ids=int(n_hid),
        )


# --------------------------------------------------------------------------- candidate pairs


def _valid_pairs(
    gf: np.ndarray,
    gi: np.ndarray,
    gxy: np.ndarray,
    hf: np.ndarray,
    hi: np.ndarray,
    hxy: np.ndarray,
    threshold_m: float,
    ids: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The same-frame gt/hyp pairs within ``threshold_m`` of sorted track rows (see
    :func:`as_track_rows`), by dense ids (indices into ``ids``, the sorted unique gt and
    hyp ids of the whole sequence; default: of these rows).

    Returns (gt id index (p,) int64, hyp id index (p,) int64, distance (p,) float64 [m],
    dense frame index (p,) int64, number of gt ids, number of hyp ids); pairs sorted by gt
    row then hyp row, so by frame.
    """
    if ids is None:
        g_ids, g_idx = np.unique(gi, return_inverse=True)
        h_ids, h_idx = np.unique(hi, return_inverse=True)
    else:
        g_ids, h_ids = ids
        g_idx, h_idx = np.searchsorted(g_ids, gi), np.searchsorted(h_ids, hi)
    frames = np.unique(np.concatenate([gf, hf]))
    g_fidx = np.searchsorted(frames, gf)
    h_fidx = np.searchsorted(frames, hf)

    pg, ph, pd2 = _candidate_pairs(g_fidx, gxy, h_fidx, hxy, threshold_m)
    po = g_idx[pg]  # gt id index of each valid pair
    pho = h_idx[ph]  # hyp id index of each valid pair
    pdist = np.sqrt(pd2)
    pframe = g_fidx[pg]
    return po, pho, pdist, pframe, g_ids.size, h_ids.size


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


# --------------------------------------------------------------------------- CLEAR MOT


@dataclass
class ClearState:
    """The CLEAR matching's state between frames (and chunks of frames)."""

    last: np.ndarray      # (G,) hyp id index each gt id was last matched to (-1: none)
    n_last: np.ndarray    # (H,) how many gt ids have each hyp as last match
    g_used: np.ndarray
    h_used: np.ndarray
    matches: int = 0
    switches: int = 0
    dist_sum: float = 0.0

    @classmethod
    def new(cls, n_gid: int, n_hid: int) -> ClearState:
        return cls(np.full(n_gid, -1, dtype=np.int64), np.zeros(n_hid, dtype=np.int64),
                   np.zeros(n_gid, dtype=bool), np.zeros(n_hid, dtype=bool))


def _clear_counts(
    po: np.ndarray,
    pho: np.ndarray,
    pdist: np.ndarray,
    pframe: np.ndarray,
    n_gid: int,
    n_hid: int,
    state: ClearState | None = None,
) -> tuple[int, int, float]:
    """The CLEAR MOT matching, frame by frame: (matches, ID switches, summed distance of
    the matches [m]).

    po, pho, pdist, pframe: the valid pairs of :func:`_valid_pairs`. Only frames with a
    valid pair can change state or match anything, so only those are visited. Per frame,
    the correspondences of before are kept while still valid (one gt id per hypothesis,
    :func:`_one_gt_per_hyp`), and the pairs left over are assigned (:func:`_assign_rest`).
    """
    st = state if state is not None else ClearState.new(n_gid, n_hid)
    last, n_last, g_used, h_used = st.last, st.n_last, st.g_used, st.h_used
    matches, switches, dist_sum = st.matches, st.switches, st.dist_sum
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
            ko, kh, kd = _one_gt_per_hyp(ko, kh, kd, n_last)
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
        mo, mh, md = _assign_rest(o, h, d)
        prev = last[mo]
        switches += int(np.count_nonzero((prev >= 0) & (prev != mh)))
        np.subtract.at(n_last, prev[prev >= 0], 1)
        np.add.at(n_last, mh, 1)
        last[mo] = mh
        matches += mo.size
        dist_sum += float(md.sum())
    st.matches, st.switches, st.dist_sum = matches, switches, dist_sum
    return matches, switches, dist_sum


def _one_gt_per_hyp(
    ko: np.ndarray, kh: np.ndarray, kd: np.ndarray, n_last: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept correspondences of one frame with each hypothesis once: one claimed by
    several gt ids goes to the lowest gt id.

    ko, kh, kd: (k,) gt id index (ascending), hyp id index and distance [m] of the pairs
    that are their gt's last match; n_last: (H,) int64, how many gt ids have each hyp as
    their last match.
    """
    if ko.size > 1 and (n_last[kh] > 1).any():
        _, first = np.unique(kh, return_index=True)
        if first.size < kh.size:  # one hyp claimed by several gts: lowest gt id
            first.sort()
            ko, kh, kd = ko[first], kh[first], kd[first]
    return ko, kh, kd


def _assign_rest(
    o: np.ndarray, h: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches among a frame's pairs left after the kept ones: the most matches, then
    the least summed distance. o, h, d: (e,) gt id index, hyp id index, distance [m], sorted
    by gt; returns the matched (gt id index, hyp id index, distance)."""
    if o.size == 1 or (
        np.all(o[1:] != o[:-1]) and np.unique(h).size == h.size
    ):  # pairs are disjoint: all of them match
        return o, h, d
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
    return uo[r], uh[c], cost[r, c]


# --------------------------------------------------------------------------- ID measures


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
