"""The independent point-detection stream (experiments/bench/pointstream.py) is what it says."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from experiments.bench.pointstream import Hall, PointStreamConfig, generate
from params import ParamError


@pytest.fixture(scope="module")
def stream():
    return generate(PointStreamConfig(shoppers=60, seconds=40.0, seed=3))


def test_same_seed_same_stream_other_seed_other_stream(stream) -> None:
    again = generate(PointStreamConfig(shoppers=60, seconds=40.0, seed=3))
    for f in ("frame", "xy", "conf", "gt_id", "gt_xy"):
        np.testing.assert_array_equal(getattr(stream, f), getattr(again, f))
    other = generate(PointStreamConfig(shoppers=60, seconds=40.0, seed=4))
    assert not np.array_equal(other.gt_xy[:60], stream.gt_xy[:60])


def test_the_stream_has_the_issue_s_noise_misses_and_false_positives(stream) -> None:
    s, cfg = stream, stream.cfg
    frames = s.frames
    assert frames == 400
    # the crowd stays at its size, and people come and go through the door
    assert np.all(np.bincount(s.gt_frame) == cfg.shoppers)
    assert np.unique(s.gt_id).size > cfg.shoppers
    hall = s.hall
    assert hall.width * hall.length == pytest.approx(10.0 * 60, rel=0.25)
    # per frame: detections matched to truth within 0.6 m are the true ones
    hits, errs, fps = 0, [], 0
    for f in range(0, frames, 4):
        g = s.gt_xy[s.gt_frame == f]
        d = s.xy[s.frame == f]
        c = cdist(g, d)
        r, k = linear_sum_assignment(c)
        ok = c[r, k] < 0.6
        hits += ok.sum()
        errs.append((d[k[ok]] - g[r[ok]]).ravel())
        fps += d.shape[0] - ok.sum()
    n = cfg.shoppers * len(range(0, frames, 4))
    assert hits / n == pytest.approx(0.9, abs=0.03)            # 10 % misses
    assert np.std(np.concatenate(errs)) == pytest.approx(0.15, abs=0.02)
    # false positives: the detections beyond the people seen, 2 a frame
    per_frame = s.frame.size / frames - (1 - cfg.miss) * cfg.shoppers
    assert per_frame == pytest.approx(2.0, abs=0.6)
    assert fps / len(range(0, frames, 4)) >= 1.5
    # confidences overlap: no threshold separates false from true detections
    assert 0.0 <= s.conf.min() and s.conf.max() <= 1.0


def test_walkers_move_at_a_shopping_pace_and_some_walk_in_pairs(stream) -> None:
    s = stream
    ids = s.gt_id.reshape(s.frames, -1)
    xy = s.gt_xy.reshape(s.frames, -1, 2)
    same = ids[1:] == ids[:-1]
    speed = np.linalg.norm(xy[1:] - xy[:-1], axis=2)[same] * s.cfg.hz
    moving = speed[speed > 0.3]
    assert 0.8 < np.median(moving) < 1.4
    assert (speed < 0.3).mean() > 0.2                 # dwelling at shelves
    # pairs: nearest neighbour distances pile up near the companion spacing
    nn = []
    for f in range(0, s.frames, 10):
        dd = cdist(xy[f], xy[f])
        np.fill_diagonal(dd, np.inf)
        nn.append(dd.min(axis=1))
    nn = np.concatenate(nn)
    assert ((nn > 0.5) & (nn < 1.0)).mean() > 0.1
    # bodies are solid: nobody walks through anybody (body_m = 0.4 m, up to a push's slack)
    assert np.quantile(nn, 0.01) > 0.37 and nn.min() > 0.3


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ParamError, match="miss"):
        PointStreamConfig(miss=1.0)
    with pytest.raises(ParamError, match="shoppers"):
        PointStreamConfig(shoppers=0)
    assert Hall.for_crowd(500, 10.0).aisles > Hall.for_crowd(20, 10.0).aisles
