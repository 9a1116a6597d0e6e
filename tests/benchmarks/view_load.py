"""A viewer load the size of a 60-minute supercenter run with 600 shoppers inside (issue 25's
scale target), made from a real run folder of the supercenter (its store, cameras,
knowledge.json and config) by extending its tracks: ``shoppers`` people inside at every
moment for ``minutes``, each walking at 1.2 m/s between random points of the walkable floor
and standing 5-40 s at each (the dwell of agents/, roughly), staying ~25 minutes; the core's
tracks are the truth plus 8 cm of noise, each visit cut into 1-3 track ids (identity
switches), two thirds bound to the shopper's account. Shelf events, billed events and
receipts in the numbers such a run has (~1 pick a minute a shopper).

This is a load for the page (rows, segments, markers, receipts), not a simulation: the
store and cameras are the run's, the people are not (the walkers cross fixtures). A real
60-minute supercenter run takes ~30-60 minutes on 2 cores today (issue 26 is about that).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

WALK_MPS = 1.2          # a shopper's walking speed [m/s] (docs/REFERENCES: 1.2-1.4 m/s)
VISIT_S = 25 * 60       # a supercenter visit [s] (assumption; ~25-40 min in the literature)


def _walk(rng, pts: np.ndarray, t0: int, t1: int, hz: float) -> np.ndarray:
    """(t1 - t0, 2) positions at frames t0..t1-1: waypoints and dwells."""
    n = t1 - t0
    out = np.empty((n, 2))
    k, p = 0, pts[rng.integers(len(pts))]
    while k < n:
        q = pts[rng.integers(len(pts))]
        walk = max(1, int(np.linalg.norm(q - p) / WALK_MPS * hz))
        stay = int(rng.uniform(5, 40) * hz)
        u = np.linspace(0, 1, walk, endpoint=False)[:, None]
        seg = np.vstack([p + u * (q - p), np.repeat(q[None], stay, 0)])
        m = min(len(seg), n - k)
        out[k:k + m] = seg[:m]
        k += m
        p = q
    return out


def make_load(real_run: Path, out: Path, minutes: float = 60.0, shoppers: int = 600,
              seed: int = 0) -> Path:
    """Write the load folder ``out`` from the real supercenter run folder ``real_run``."""
    from scenes.presets import load_store
    from twin.coverage import floor_samples

    rng = np.random.default_rng(seed)
    shutil.rmtree(out, ignore_errors=True)
    (out / "ground_truth").mkdir(parents=True)
    for name in ("config.json", "knowledge.json"):
        shutil.copy(real_run / name, out / name)
    cfg = json.loads((real_run / "config.json").read_text())
    know = json.loads((real_run / "knowledge.json").read_text())
    hz = float(know["camera_hz"])
    store = load_store(cfg["store"])
    fs = floor_samples(store, cell=2.0)
    pts = fs.points[::len(fs.heights), :2]
    frames = int(minutes * 60 * hz)
    visit = int(VISIT_S * hz)
    # 'shoppers' lanes, each a chain of visits back to back: that many inside at every moment
    gt, hy, shop, events, billed, truth_r, issued_r = [], [], [], [], [], [], []
    sid = tid = 0
    bins = store.bins
    skus = [str(s) for s in store.catalogue.sku]
    for _lane in range(shoppers):
        t = -int(rng.integers(visit))
        while t < frames:
            a, b = max(t, 0), min(t + visit + int(rng.integers(-visit // 4, visit // 4)), frames)
            if b - a > 10:
                xy = _walk(rng, pts, a, b, hz)
                f = np.arange(a, b)
                acct = 1_000_000 + sid
                gt.append((f, np.full(f.size, sid), xy))
                cuts = np.sort(rng.integers(a + 1, b, rng.integers(0, 3)))
                for c0, c1 in zip(np.r_[a, cuts], np.r_[cuts, b], strict=True):
                    sl = slice(c0 - a, c1 - a)
                    hy.append((f[sl], np.full(c1 - c0, tid),
                               xy[sl] + rng.normal(0, 0.08, (c1 - c0, 2))))
                    tid += 1
                shop.append({"shopper_id": sid, "account": acct, "name": "", "visit": "list",
                             "enter_t": a / hz, "exit_t": b / hz})
                lines: dict[str, int] = {}
                for tt in np.sort(rng.uniform(a / hz, b / hz, max(1, (b - a) // int(60 * hz)))):
                    bi = int(rng.integers(len(bins)))
                    sku = skus[int(bins.sku_index[bi])]
                    events.append({"t": float(tt), "shopper_id": sid, "account": acct,
                                   "action": "pick", "bin": bi, "sku": sku, "quantity": 1,
                                   "other": -1})
                    billed.append({"plate": int(bins.plate[bi]), "t_start": round(float(tt), 4),
                                   "t_end": round(float(tt) + 1.2, 4), "delta_g": -300.0,
                                   "track": tid - 1, "account": acct, "sku": sku, "quantity": 1,
                                   "confidence": 0.97, "method": "hand", "misplaced": False,
                                   "cameras": [0], "doubt": ""})
                    lines[sku] = lines.get(sku, 0) + 1
                prods = [{"sku": s, "quantity": n} for s, n in sorted(lines.items())]
                truth_r.append({"account": acct, "products": prods, "total": 0})
                issued_r.append({"account": acct, "products": prods, "total": 0,
                                 "confidence": 0.97, "review": False, "reasons": []})
                sid += 1
            t = b + 1

    def table(parts, id_col):   # in frame order, as a run writes its tracks
        f = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        o = np.lexsort((ids, f))
        return pa.table({"frame": f[o], "t": f[o] / hz, id_col: ids[o],
                         "x": np.concatenate([p[2][:, 0] for p in parts])[o],
                         "y": np.concatenate([p[2][:, 1] for p in parts])[o]})

    pq.write_table(table(gt, "shopper_id"), out / "ground_truth" / "tracks.parquet")
    pq.write_table(table(hy, "track_id"), out / "tracks.parquet")
    pq.write_table(pa.Table.from_pylist(shop), out / "ground_truth" / "shoppers.parquet")
    pq.write_table(pa.Table.from_pylist(sorted(events, key=lambda e: e["t"])),
                   out / "ground_truth" / "events.parquet")
    (out / "ledger.json").write_text(json.dumps({"billed": billed, "track_accounts": {},
                                                 "hand_overs": [], "misplaced": [],
                                                 "unattributed": []}))
    (out / "receipts.json").write_text(json.dumps({"receipts": issued_r}))
    (out / "ground_truth" / "receipts.json").write_text(json.dumps({"receipts": truth_r}))
    return out
