"""The look-ahead smoothing (core/smoothing.py) and the tracker's cold start."""

from __future__ import annotations

import numpy as np
import pytest

from core.records import CameraFrame
from core.smoothing import smooth_rows
from core.tracker_config import TrackerConfig
from core.tracking import Tracker


def _walkers(rng, frames=80, hz=10.0, noise=0.15):
    """Two people walking straight lines (one stops halfway) with noisy estimates."""
    t = np.arange(frames) / hz
    a = np.column_stack([1.0 + 1.2 * t, 2.0 + 0 * t])
    b = np.column_stack([5.0 + 0 * t, 1.0 + 0.8 * np.minimum(t, 4.0)])
    truth = np.concatenate([a, b])
    tt = np.concatenate([t, t])
    ids = np.repeat([7, 3], frames)
    return tt, ids, truth, truth + rng.normal(0, noise, truth.shape)


def test_smoothing_takes_out_noise_and_keeps_a_walker_on_time() -> None:
    tt, ids, truth, noisy = _walkers(np.random.default_rng(0))
    sm = smooth_rows(tt, ids, noisy, 0.8)
    err_raw = np.linalg.norm(noisy - truth, axis=1).mean()
    err_sm = np.linalg.norm(sm - truth, axis=1).mean()
    assert err_sm < 0.55 * err_raw, (err_raw, err_sm)
    # a clean straight walk stays on the line, ends included (a line fits it exactly)
    clean = smooth_rows(tt[:80], ids[:80], truth[:80], 0.8)
    np.testing.assert_allclose(clean, truth[:80], atol=1e-9)


def test_smoothing_reads_no_further_ahead_than_its_look_ahead() -> None:
    tt, ids, _, noisy = _walkers(np.random.default_rng(1))
    base = smooth_rows(tt, ids, noisy, 0.5)
    moved = noisy.copy()
    late = tt >= 6.0
    moved[late] += 3.0                       # change everything from t = 6 s on
    sm = smooth_rows(tt, ids, moved, 0.5)
    early = tt < 6.0 - 0.5 - 1e-6
    # (equal but for float rounding: the window sums are differences of running sums)
    np.testing.assert_allclose(sm[early], base[early], atol=1e-9)
    assert not np.allclose(sm[(tt > 5.6) & (tt < 6.0)], base[(tt > 5.6) & (tt < 6.0)])
    # no look-ahead: positions as given; rows keep their own track's fit
    np.testing.assert_array_equal(smooth_rows(tt, ids, noisy, 0.0), noisy)
    with pytest.raises(ValueError, match="lookahead_s"):
        smooth_rows(tt, ids, noisy, -1.0)


def _frame(k: int, xy) -> CameraFrame:
    xy = np.asarray(xy, float).reshape(-1, 2)
    return CameraFrame(k, k / 10.0, np.zeros(len(xy), np.int32), xy, np.full(len(xy), 0.9))


@pytest.mark.parametrize("engine", ["numba", "array"])
def test_cold_start_births_anywhere_only_at_the_start(engine) -> None:
    door = np.array([0.0, 0.0, 1.0, 1.0])
    inside = [[5.0, 5.0], [8.0, 3.0]]
    late = [[5.0, 5.0], [8.0, 3.0], [2.0, 8.0]]      # a third appears mid-floor at 5 s

    def ids(cold_s: float) -> list[set]:
        tr = Tracker.on_floor(door, door, 10.0, TrackerConfig(cold_start_s=cold_s),
                              engine=engine)
        return [set(tr.update(_frame(k, inside if k < 50 else late)).track_id.tolist())
                for k in range(80)]

    warm, cold = ids(0.0), ids(2.0)
    assert warm[-1] == set()                  # the store opens empty: nobody is born inside
    assert len(cold[10]) == 2                 # the people inside at the start
    assert cold[-1] == cold[10]               # but the one appearing later is no birth
