"""Fault schedules (twin/faults.py): reading with clear errors, and what each fault does to
the sensor records, seeded."""

from __future__ import annotations

import numpy as np
import pytest

from core.records import CameraFrame, GateCheckIns, PlateSamples, SensorBatch
from twin.faults import Delivery, FaultFileError, faults_from_dict, load_faults


def _frame(i: int, t: float, cams=(0, 1, 2, 3)) -> CameraFrame:
    rng = np.random.default_rng(i)
    cams = np.asarray(cams, np.int32)
    n = cams.size
    return CameraFrame(i, t, cams, rng.uniform(0, 5, (n, 2)), np.full(n, 0.9, np.float32),
                       hand_camera=cams[:2], hand_xyz=rng.uniform(0, 2, (2, 3)))


def _plates(t: float, p: int = 10, k: int = 12, base: float = 500.0) -> PlateSamples:
    rng = np.random.default_rng(int(t * 1000))
    ts = t - (k - 1 - np.arange(k)) / 60.0
    return PlateSamples(ts, np.arange(p), base + rng.normal(0, 2, (p, k)))


def _batch(i: int) -> SensorBatch:
    t = (i + 1) / 15.0
    return SensorBatch(t, (_frame(i, t),), (_plates(t),) if i % 3 == 2 else (),
                       (GateCheckIns([t], [0], [100 + i]),) if i % 10 == 0 else ())


@pytest.mark.parametrize(("doc", "words"), [
    ({"plates": [{"kind": "melted", "fraction": 0.1}]}, ("[[plates]][0].kind", "'stuck'")),
    ({"plates": [{"kind": "stuck"}]}, ("[[plates]][0]", "exactly one of 'ids'")),
    ({"plates": [{"kind": "stuck", "fraction": 1.5}]}, ("fraction", "[0, 1]", "1.5")),
    ({"cameras": [{"ids": [1, -2]}]}, ("[[cameras]][0].ids[1]", ">= 0")),
    ({"cameras": [{"fraction": 0.2, "start_s": 300, "end_s": 100}]}, ("end_s", "(300,")),
    ({"streams": {"late_s": 1e9}}, ("[streams].late_s", "[0, 60]")),
    ({"streams": {"lag": 1}}, ("[streams]", "unknown key 'lag'", "late_s")),
    ({"clock": {"cameras_s": float("nan")}}, ("[clock].cameras_s",)),
    ({"core": {"crash_at_s": 0}}, ("[core].crash_at_s", "(0,")),
    ({"plates": [{"kind": "stuck", "fraction": 0.1, "g_per_s": 3}]}, ("g_per_s", "drift")),
    ({"sensors": []}, ("unknown key 'sensors'",)),
    ({"plates": {"kind": "nan"}}, ("[[plates]]", "array of tables")),
])
def test_bad_schedules_name_the_field(doc, words):
    with pytest.raises(FaultFileError) as e:
        faults_from_dict(doc, "f.toml")
    msg = str(e.value)
    assert msg.startswith("f.toml")
    for w in words:
        assert w in msg, msg


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(FaultFileError, match="no such fault file"):
        load_faults(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[plates]\nkind=")
    with pytest.raises(FaultFileError, match="bad.toml: not valid TOML"):
        load_faults(bad)


def test_round_trip_and_ids_beyond_the_store():
    doc = {"cameras": [{"ids": [3, 1], "start_s": 10.0}],
           "plates": [{"kind": "drift", "fraction": 0.5, "g_per_s": 2.0, "end_s": 20.0},
                      {"kind": "noisy", "ids": [0], "sigma_g": 30.0}],
           "streams": {"late_s": 1.5, "drop_frames": 0.1}, "clock": {"plates_s": -0.2},
           "core": {"crash_at_s": 100.0, "checkpoint_s": 10.0}}
    s = faults_from_dict(doc)
    assert faults_from_dict(s.to_dict()) == s
    with pytest.raises(FaultFileError, match=r"camera 3 does not exist \(this store has "
                                             r"cameras 0-2\)"):
        s.resolve(3, 10, seed=0)


def test_fractions_are_seeded():
    s = faults_from_dict({"plates": [{"kind": "stuck", "fraction": 0.3}]})
    a, b, c = (s.resolve(4, 100, seed=k).plate_sets[0] for k in (0, 0, 1))
    assert a.size == 30 and np.array_equal(a, b) and not np.array_equal(a, c)


def test_camera_outage_only_inside_its_interval():
    s = faults_from_dict({"cameras": [{"ids": [1, 2], "start_s": 1.0, "end_s": 2.0}]})
    inj = s.resolve(4, 10, seed=0)
    for i in range(45):
        b = inj.apply(_batch(i))
        f = b.frames[0]
        down = 1.0 <= b.t < 2.0
        assert (not np.isin(f.camera, [1, 2]).any()) == down
        assert (not np.isin(f.hand_camera, [1, 2]).any()) == down
        assert len(f) == (2 if down else 4)
    truth = inj.truth(3.0)
    assert truth["id"] == [1, 2] and truth["start_s"] == [1.0, 1.0] and truth["end_s"] == [2.0, 2.0]


def test_frozen_camera_repeats_its_last_frame():
    s = faults_from_dict({"cameras": [{"kind": "frozen", "ids": [0], "start_s": 1.0}]})
    inj = s.resolve(4, 10, seed=0)
    rows = []
    for i in range(30):
        f = inj.apply(_batch(i)).frames[0]
        rows.append(f.xy[f.camera == 0])
    before = [r for r, i in zip(rows, range(30), strict=True) if (i + 1) / 15 < 1.0]
    after = [r for r, i in zip(rows, range(30), strict=True) if (i + 1) / 15 >= 1.0]
    assert all(np.array_equal(r, before[-1]) for r in after)
    assert not np.array_equal(before[-1], before[-2])


@pytest.mark.parametrize("kind", ["dead", "stuck", "drift", "noisy", "nan", "unloaded"])
def test_plate_faults(kind):
    s = faults_from_dict({"plates": [{"kind": kind, "ids": [2, 5], "start_s": 1.0,
                                      **({"g_per_s": 50.0} if kind == "drift" else {}),
                                      **({"sigma_g": 100.0} if kind == "noisy" else {})}]})
    inj = s.resolve(4, 10, seed=0)
    clean = [_plates(t) for t in np.arange(1, 16) * 0.2]
    out = [inj.apply(SensorBatch(m.t[-1], (), (m,))).plates[0] for m in clean]
    extra = []
    for m, o in zip(clean, out, strict=True):
        on = m.t >= 1.0
        other = ~np.isin(m.plate, [2, 5])
        if kind == "dead":
            assert np.array_equal(o.plate, m.plate if not on.any() else m.plate[other])
            continue
        assert np.array_equal(o.grams[other], m.grams[other])
        g, g0 = o.grams[[2, 5]], m.grams[[2, 5]]
        assert np.array_equal(g[:, ~on], g0[:, ~on])
        if not on.any():
            continue
        if kind == "nan":
            assert np.isnan(g[:, on]).all()
        elif kind == "stuck":
            assert (g[:, on] == g[:, on][:, :1]).all()
        elif kind == "unloaded":     # its last reading, alive with the cell's noise
            extra.append((g[:, on] - g[:, on].mean(axis=1, keepdims=True)).ravel())
        elif kind == "drift":
            np.testing.assert_allclose(g[:, on] - g0[:, on],
                                       np.broadcast_to(50.0 * (m.t[on] - 1.0), (2, on.sum())),
                                       atol=1e-3)
        else:
            extra.append((g[:, on] - g0[:, on]).ravel())
    if kind == "noisy":
        assert 80 < np.std(np.concatenate(extra)) < 120
    if kind == "unloaded":
        assert 1.5 < np.std(np.concatenate(extra)) < 2.5
        assert abs(float(out[-1].grams[2].mean()) - float(out[-3].grams[2].mean())) < 3
    # stuck: the value the plate read just before it stuck, to the end
    if kind == "stuck":
        first = next(k for k, m in enumerate(clean) if (m.t >= 1.0).any())
        m = clean[first]
        j = int(np.argmax(m.t >= 1.0))
        want = m.grams[[2, 5], j - 1] if j else clean[first - 1].grams[[2, 5], -1]
        np.testing.assert_array_equal(out[-1].grams[[2, 5], -1], want)


def test_clock_skew_and_dropped_frames():
    s = faults_from_dict({"clock": {"cameras_s": 0.1, "plates_s": -0.2, "gate_s": 0.05},
                          "streams": {"drop_frames": 0.25}})
    inj = s.resolve(4, 10, seed=3)
    kept = 0
    for i in range(300):
        b0 = _batch(i)
        b = inj.apply(b0)
        assert b.frames[0].t == pytest.approx(b0.t + 0.1)
        for p, p0 in zip(b.plates, b0.plates, strict=True):
            np.testing.assert_allclose(p.t, p0.t - 0.2)
        for g, g0 in zip(b.gate, b0.gate, strict=True):
            np.testing.assert_allclose(g.t, g0.t + 0.05)
        kept += len(b.frames[0])
    assert inj.dropped == 1200 - kept
    assert 0.2 < inj.dropped / 1200 < 0.3


def test_delivery_late_and_out_of_order_but_complete():
    d = Delivery(1.0, seed=0)
    sent = [_batch(i) for i in range(150)]
    got = []
    for b in sent:
        o = d.push(b)
        assert o.t == b.t
        got.append(o)
    tail = d.flush(11.0)
    frames = [f.frame for b in got + [tail] for f in b.frames]
    assert sorted(frames) == list(range(150))          # nothing lost
    assert frames != sorted(frames)                     # overtaken
    for b in got:                                        # never early
        assert all(f.t <= b.t for f in b.frames)
    again = Delivery(1.0, seed=0)
    assert [f.frame for b in sent for f in again.push(b).frames] == frames[:sum(
        len(b.frames) for b in got)]
    assert Delivery(0.0, 0).push(sent[0]) is sent[0]
