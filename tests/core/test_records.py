"""The sensor records: frozen, read-only arrays, here and after a trip through pickle (the
core's own process receives them that way: experiments/runs/pipeline.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core.records import CameraFrame, GateCheckIns, PlateSamples, SensorBatch


def _batch() -> SensorBatch:
    frame = CameraFrame(3, 0.2, [0, 1], [[1.0, 2.0], [1.1, 2.1]], [0.9, 0.8],
                        hand_camera=[1], hand_xyz=[[1.0, 2.5, 1.2]])
    plates = PlateSamples(np.arange(1, 5) / 60.0, [0, 1], np.ones((2, 4)))
    gate = GateCheckIns([0.1], [0], [1234])
    return SensorBatch(0.2, (frame,), (plates,), (gate,))


def _arrays(batch: SensorBatch) -> list[np.ndarray]:
    f, p, g = batch.frames[0], batch.plates[0], batch.gate[0]
    return [f.camera, f.xy, f.conf, f.hand_camera, f.hand_xyz, p.t, p.plate, p.grams, g.t,
            g.gate, g.account]


def test_records_come_back_from_pickle_read_only_with_their_dtypes():
    here = _batch()
    there = pickle.loads(pickle.dumps(here))
    for a, b in zip(_arrays(here), _arrays(there), strict=True):
        assert not a.flags.writeable and not b.flags.writeable
        assert b.dtype == a.dtype and b.flags.c_contiguous
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        there.frames[0].xy[0, 0] = 5.0


def test_an_unpickled_record_is_validated_like_a_built_one():
    good = _batch().frames[0]
    state = dict(vars(good), conf=np.ones(3, np.float32))    # 2 detections, 3 confidences
    bad = CameraFrame.__new__(CameraFrame)
    with pytest.raises(ValueError, match="same length"):
        bad.__setstate__(state)


def test_a_frame_carries_appearance_of_one_row_per_detection_or_none():
    f = _batch().frames[0]
    assert f.appearance.shape == (2, 0) and f.appearance.dtype == np.float32   # none given
    app = np.arange(2 * 24, dtype=np.float64).reshape(2, 24) / 100
    g = CameraFrame(3, 0.2, [0, 1], [[1.0, 2.0], [1.1, 2.1]], [0.9, 0.8], appearance=app)
    assert g.appearance.dtype == np.float32 and not g.appearance.flags.writeable
    there = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(there.appearance, g.appearance)
    assert not there.appearance.flags.writeable
    with pytest.raises(ValueError, match="appearance"):
        CameraFrame(3, 0.2, [0, 1], [[1.0, 2.0], [1.1, 2.1]], [0.9, 0.8], appearance=app[:1])
    with pytest.raises(ValueError, match="appearance"):
        CameraFrame(3, 0.2, [0, 1], [[1.0, 2.0], [1.1, 2.1]], [0.9, 0.8],
                    appearance=np.zeros(2))
    # a record pickled before the field existed comes back with none
    state = {k: v for k, v in vars(f).items() if k != "appearance"}
    old = CameraFrame.__new__(CameraFrame)
    old.__setstate__(state)
    assert old.appearance.shape == (2, 0)
