"""HOTA of floor tracks against TrackEval's own implementation (the ``trackeval`` package)
fed the same similarity matrices: the same HOTA, DetA, AssA and LocA."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.scoring.hota import HOTA_ALPHAS, score_hota

trackeval = pytest.importorskip("trackeval", reason="pip install -e '.[dev]'")


def trackeval_hota(gf, gi, gxy, hf, hi, hxy, threshold_m: float) -> dict:
    """TrackEval's HOTA on our rows: its per-timestep data dict, with the floor similarity
    ``max(0, 1 - d / threshold)`` as ``similarity_scores``."""
    g_u, h_u = np.unique(gi), np.unique(hi)
    frames = np.union1d(gf, hf)
    data = {"gt_ids": [], "tracker_ids": [], "similarity_scores": [],
            "num_gt_dets": int(gf.size), "num_tracker_dets": int(hf.size),
            "num_gt_ids": int(g_u.size), "num_tracker_ids": int(h_u.size)}
    for f in frames:
        gs, hs = gf == f, hf == f
        d = np.linalg.norm(gxy[gs][:, None] - hxy[hs][None], axis=2)
        data["gt_ids"].append(np.searchsorted(g_u, gi[gs]))
        data["tracker_ids"].append(np.searchsorted(h_u, hi[hs]))
        data["similarity_scores"].append(np.maximum(0.0, 1.0 - d / threshold_m))
    res = trackeval.metrics.HOTA().eval_sequence(data)
    return {k: float(np.mean(res[k])) for k in ("HOTA", "DetA", "AssA", "LocA")}


def walkers(rng: np.random.Generator, n_people: int, n_frames: int, swap_every: int,
            miss: float, fp: int):
    """Ground truth: people on random walks; hypothesis: noisy copies that miss some rows,
    swap ids now and then, and add false tracks."""
    start = rng.uniform(0, 10, (n_people, 2))
    steps = rng.normal(0, 0.1, (n_frames, n_people, 2))
    pos = start[None] + np.cumsum(steps, axis=0)
    gf, gi, gxy, hf, hi, hxy = [], [], [], [], [], []
    for f in range(n_frames):
        for p in range(n_people):
            gf.append(f), gi.append(p), gxy.append(pos[f, p])
            if rng.random() > miss:
                tid = p if (f // swap_every) % 2 == 0 or p > 1 else 1 - p
                hf.append(f), hi.append(100 + tid), hxy.append(pos[f, p] + rng.normal(0, 0.2, 2))
        for k in range(fp):
            hf.append(f), hi.append(900 + k), hxy.append(rng.uniform(0, 10, 2))
    a = (np.array(gf), np.array(gi), np.array(gxy), np.array(hf), np.array(hi), np.array(hxy))
    return a


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold_m", [0.5, 1.0])
def test_hota_equals_trackevals(seed, threshold_m) -> None:
    rng = np.random.default_rng(seed)
    rows = walkers(rng, n_people=6, n_frames=60, swap_every=17, miss=0.1, fp=1)
    ours = score_hota(*rows, threshold_m=threshold_m)
    ref = trackeval_hota(*rows, threshold_m=threshold_m)
    assert ours.hota == pytest.approx(ref["HOTA"], abs=1e-9)
    assert ours.deta == pytest.approx(ref["DetA"], abs=1e-9)
    assert ours.assa == pytest.approx(ref["AssA"], abs=1e-9)
    assert ours.loca == pytest.approx(ref["LocA"], abs=1e-9)
    assert 0.0 < ours.hota < 1.0


def test_hota_is_one_for_perfect_tracks_and_falls_with_id_swaps() -> None:
    rng = np.random.default_rng(7)
    gf, gi, gxy, *_ = walkers(rng, n_people=5, n_frames=40, swap_every=10**9, miss=0, fp=0)
    assert score_hota(gf, gi, gxy, gf, gi + 50, gxy).hota == pytest.approx(1.0)
    swapped = np.where((gf >= 20) & (gi < 2), 1 - gi, gi)
    s = score_hota(gf, gi, gxy, gf, swapped, gxy)
    assert s.deta == pytest.approx(1.0) and s.assa < 0.9
    assert len(HOTA_ALPHAS) == 19
