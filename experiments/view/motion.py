"""Who walked where: ground-truth shoppers and the core's tracks as the page plays them, and
the identity switches between them.

Tracks are cut into *segments* (an id's rows with no gap longer than the sampling step),
sampled every ``step`` camera frames (every frame for a kiosk; coarser so a long
supercenter run stays within :data:`ROW_BUDGET` rows a side), and rows where a shopper
stands still are dropped between the first and the last (the page interpolates linearly, so
a still shopper is drawn where it stood). Positions are uint16 over the store's bounds (2 mm
a step at supercenter size), frames uint32.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from experiments.view.blobs import blob, quantize

# Rows of a side (ground truth or core) the page gets at most, before still rows are
# dropped: 4 M rows is ~24 MB raw, ~10 MB deflated (a 60-minute supercenter at 2 Hz).
ROW_BUDGET = 4_000_000
# The matching distance of the tracking scores (experiments/scoring/tracking.py) [m].
MATCH_M = 1.0


def read_tracks(path: Path, id_col: str) -> dict[str, np.ndarray]:
    """frame, id, x, y of a tracks Parquet file (ground_truth/tracks.parquet: shopper_id;
    tracks.parquet: track_id), sorted by (id, frame)."""
    t = pq.read_table(path, columns=["frame", id_col, "x", "y"])
    f = t.column("frame").to_numpy().astype(np.int64)
    i = t.column(id_col).to_numpy().astype(np.int64)
    x = t.column("x").to_numpy().astype(np.float64)
    y = t.column("y").to_numpy().astype(np.float64)
    order = np.lexsort((f, i))
    return {"frame": f[order], "id": i[order], "x": x[order], "y": y[order]}


# Rows read at a time (five arrays of them in memory, ~100 MB): a long run's tracks are
# sampled while they are read, so memory follows the page's rows, not the run's.
BATCH_ROWS = 2_000_000


def read_sampled(path: Path, id_col: str, step: int,
                 batch_rows: int = BATCH_ROWS) -> dict[str, np.ndarray]:
    """The rows of a tracks Parquet file that :func:`track_data` can keep at ``step`` (every
    ``step``-th frame, and the first and last row of every segment), sorted by (id, frame),
    with ``brk``: True where a segment starts (the id is new, or was missing more than
    :data:`GAP_FRAMES` frames, judged on all rows). Read ``batch_rows`` at a time; a file
    whose frames go back in time (not written as produced) is read whole instead."""
    pf = pq.ParquetFile(path)
    seen_id = np.zeros(0, np.int64)      # sorted ids of earlier batches, and their last frame
    seen_f = np.zeros(0, np.int64)
    parts, top = [], -1
    for b in pf.iter_batches(batch_size=batch_rows, columns=["frame", id_col, "x", "y"]):
        f = b.column("frame").to_numpy().astype(np.int64)
        if f.size == 0:
            continue
        if f.min() < top:
            full = read_tracks(path, id_col)
            full["brk"] = np.diff(_segments(full), prepend=-1) != 0
            return full
        top = int(f.max())
        i = b.column(id_col).to_numpy().astype(np.int64)
        o = np.lexsort((f, i))
        f, i = f[o], i[o]
        new = np.r_[True, i[1:] != i[:-1]]
        gap = np.zeros(f.size, bool)
        gap[1:] = ~new[1:] & (f[1:] - f[:-1] > GAP_FRAMES)
        brk = gap.copy()
        brk[new] = _starts(i[new], f[new], seen_id, seen_f)
        last = np.r_[new[1:], True]
        keep = (f % step == 0) | new | last | brk | np.r_[gap[1:], False]
        x = b.column("x").to_numpy().astype(np.float64)[o]
        y = b.column("y").to_numpy().astype(np.float64)[o]
        parts.append((f[keep], i[keep], x[keep], y[keep], brk[keep]))
        ids, frames = np.concatenate([seen_id, i[last]]), np.concatenate([seen_f, f[last]])
        order = np.lexsort((frames, ids))
        ids, frames = ids[order], frames[order]
        final = np.r_[ids[1:] != ids[:-1], True]          # each id's latest frame
        seen_id, seen_f = ids[final], frames[final]
    if not parts:
        z = np.zeros(0, np.int64)
        return {"frame": z, "id": z, "x": z.astype(float), "y": z.astype(float),
                "brk": z.astype(bool)}
    f, i, x, y, brk = (np.concatenate([p[c] for p in parts]) for c in range(5))
    o = np.lexsort((f, i))
    return {"frame": f[o], "id": i[o], "x": x[o], "y": y[o], "brk": brk[o]}


def _starts(ids: np.ndarray, frames: np.ndarray, seen_id: np.ndarray,
            seen_f: np.ndarray) -> np.ndarray:
    """Whether each id's first row of a batch (at ``frames``) starts a segment: the id was
    not seen in earlier batches (sorted ``seen_id``, last seen at ``seen_f``) or not within
    :data:`GAP_FRAMES` frames."""
    if seen_id.size == 0:
        return np.ones(ids.size, bool)
    k = np.minimum(np.searchsorted(seen_id, ids), seen_id.size - 1)
    known = seen_id[k] == ids
    return ~known | (frames - seen_f[k] > GAP_FRAMES)


def sampling_step(rows: int) -> int:
    """Camera frames between samples: 1 up to :data:`ROW_BUDGET` rows, then the smallest
    step that fits."""
    return max(1, math.ceil(rows / ROW_BUDGET))


# Frames an id may be missing and still be one segment (a track that coasts through a frame
# with no row is drawn across it; a longer absence is a gap the page does not bridge).
GAP_FRAMES = 2


def _segments(tr: dict[str, np.ndarray]) -> np.ndarray:
    """(n,) int64 segment number of every row: a new one where the id changes or it was
    missing more than :data:`GAP_FRAMES` frames (``tr["brk"]`` where the rows carry it:
    judged on rows :func:`read_sampled` left out)."""
    if "brk" in tr:
        return np.cumsum(tr["brk"]).astype(np.int64)
    f, i = tr["frame"], tr["id"]
    brk = np.zeros(f.size, np.int64)
    if f.size:
        brk[1:] = np.cumsum((i[1:] != i[:-1]) | (f[1:] - f[:-1] > GAP_FRAMES))
    return brk


def _keep(tr: dict[str, np.ndarray], seg: np.ndarray, step: int, qx: np.ndarray,
          qy: np.ndarray) -> np.ndarray:
    """Rows sampled at ``step``, with each segment's first and last row, less the rows whose
    quantised position (``qx``, ``qy``) equals both sampled neighbours' (someone standing
    still: linear interpolation between the kept rows gives them back exactly), as indices
    into ``tr``."""
    n = seg.size
    if n == 0:
        return np.zeros(0, np.int64)
    first = np.r_[True, seg[1:] != seg[:-1]]
    last = np.r_[seg[1:] != seg[:-1], True]
    idx = np.flatnonzero((tr["frame"] % step == 0) | first | last)
    x, y = qx[idx], qy[idx]
    still = np.zeros(idx.size, bool)
    if idx.size > 2:
        same = (x[1:] == x[:-1]) & (y[1:] == y[:-1])
        still[1:-1] = same[:-1] & same[1:]
    return idx[~still | first[idx] | last[idx]]


def track_data(tr: dict[str, np.ndarray], step: int, bounds: tuple[float, ...],
               accounts: dict[int, int]) -> dict:
    """One side's tracks for the page: segments (id, account, first row, rows) and rows
    (frame, x, y). ``accounts``: id -> account (-1 absent: an unbound track)."""
    x0, y0, x1, y1 = bounds
    qx, qy = quantize(tr["x"], x0, x1), quantize(tr["y"], y0, y1)
    seg = _segments(tr)
    idx = _keep(tr, seg, step, qx, qy)
    s = seg[idx]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if idx.size else np.zeros(0, int)
    counts = np.diff(np.r_[starts, idx.size])
    ids = tr["id"][idx][starts]
    acct = np.array([accounts.get(int(k), -1) for k in ids.tolist()], np.int64)
    return {"step": int(step), "segments": int(starts.size),
            "seg_id": blob(ids, "i4"), "seg_account": blob(acct, "i4"),
            "seg_start": blob(starts, "u4"), "seg_rows": blob(counts, "u4"),
            "frame": blob(tr["frame"][idx], "u4", delta=True),
            "x": blob(qx[idx], "u2", delta=True), "y": blob(qy[idx], "u2", delta=True)}


def identity_switches(gt: dict[str, np.ndarray], hy: dict[str, np.ndarray], step: int,
                      hz: float) -> list[dict]:
    """Where a shopper's matched track changed, on the sampled frames: per frame a shopper
    keeps the track it was last matched to while that is within :data:`MATCH_M`; the others
    are matched by least summed distance within it (the CLEAR MOT rule of
    experiments/scoring/tracking.py, on every ``step``-th frame only). A switch is a new
    match after an earlier, different one."""
    frames = np.union1d(gt["frame"][gt["frame"] % step == 0], hy["frame"][hy["frame"] % step == 0])
    g_order, h_order = np.argsort(gt["frame"], kind="stable"), np.argsort(hy["frame"], kind="stable")
    gf, hf = gt["frame"][g_order], hy["frame"][h_order]
    last: dict[int, int] = {}
    out: list[dict] = []
    for fr in frames.tolist():
        ga, gb = np.searchsorted(gf, fr), np.searchsorted(gf, fr, "right")
        ha, hb = np.searchsorted(hf, fr), np.searchsorted(hf, fr, "right")
        if ga == gb or ha == hb:
            continue
        gi, hi = g_order[ga:gb], h_order[ha:hb]
        gxy = np.column_stack([gt["x"][gi], gt["y"][gi]])
        hxy = np.column_stack([hy["x"][hi], hy["y"][hi]])
        g_ids, h_ids = gt["id"][gi], hy["id"][hi]
        for g, h, xy in _match(g_ids, gxy, h_ids, hxy, last):
            prev = last.get(g)
            if prev is not None and prev != h:
                out.append({"t": round(fr / hz, 4), "frame": int(fr), "shopper": g,
                            "from": prev, "to": h, "x": round(float(xy[0]), 3),
                            "y": round(float(xy[1]), 3)})
            last[g] = h
    return out


def _match(g_ids, gxy, h_ids, hxy, last):
    """(shopper, track, shopper's xy) matches of one frame (see identity_switches)."""
    tree = cKDTree(hxy)
    pos = {int(h): k for k, h in enumerate(h_ids.tolist())}
    taken_g, taken_h, pairs = set(), set(), []
    for k, g in enumerate(g_ids.tolist()):
        h = last.get(g)
        j = pos.get(h) if h is not None else None
        if j is not None and j not in taken_h and np.hypot(*(gxy[k] - hxy[j])) <= MATCH_M:
            taken_g.add(k)
            taken_h.add(j)
            pairs.append((g, h, gxy[k]))
    rest_g = [k for k in range(len(g_ids)) if k not in taken_g]
    if not rest_g:
        return pairs
    near = tree.query_ball_point(gxy[rest_g], MATCH_M)
    cand = sorted({j for js in near for j in js if j not in taken_h})
    if not cand:
        return pairs
    d = np.linalg.norm(gxy[rest_g][:, None, :] - hxy[cand][None, :, :], axis=2)
    cost = np.where(d <= MATCH_M, d, 1e6)
    r, c = linear_sum_assignment(cost)
    for a, b in zip(r.tolist(), c.tolist(), strict=True):
        if cost[a, b] < 1e6:
            pairs.append((int(g_ids[rest_g[a]]), int(h_ids[cand[b]]), gxy[rest_g[a]]))
    return pairs
