"""The core's intake (late messages back in order) and sensor health (core/intake.py,
core/health.py): in-order streams pass untouched; late ones are put back or dropped and
counted; broken plates and cameras are noticed, healthy ones never."""

from __future__ import annotations

import numpy as np
import pytest

from core.health import CameraHealth, HealthConfig, PlateHealth
from core.intake import Intake, IntakeConfig
from core.knowledge import Cameras
from core.records import CameraFrame, GateCheckIns, PlateSamples, SensorBatch

HZ, K, NOISE = 60.0, 12, 2.0


def _msg(i: int, p: int = 8, rng=None, base: float = 800.0) -> PlateSamples:
    rng = rng or np.random.default_rng(i)
    t = (i * K + 1 + np.arange(K)) / HZ
    g = base + rng.normal(0, NOISE, (p, K))
    return PlateSamples(t, np.arange(p), np.round(g * 2) / 2)   # 0.5 g quantisation


def _tick_batches(n: int) -> list[SensorBatch]:
    """Ticks at 60 Hz: a frame every 4th, a plate message every 12th, check-ins now and
    then, as the twin makes them."""
    out = []
    for i in range(n):
        t = (i + 1) / HZ
        frames = (CameraFrame(i // 4, t, [0], [[1.0, 1.0]], [0.9]),) if i % 4 == 0 else ()
        plates = ()
        if i % K == K - 1:
            plates = (PlateSamples(t - (K - 1 - np.arange(K)) / HZ, [0], np.zeros((1, K))),)
        gate = (GateCheckIns([t], [0], [i]),) if i % 25 == 3 else ()
        out.append(SensorBatch(t, frames, plates, gate))
    return out


def test_intake_passes_an_in_order_stream_untouched():
    it = Intake()
    for b in _tick_batches(300):
        out = it.push(b)
        assert len(out) == 1 and out[0] is b
    assert it.window == 0.0 and it.late == 0 and it.flush() == []


def test_intake_puts_late_messages_back_in_order():
    batches = _tick_batches(600)
    rng = np.random.default_rng(0)
    msgs = [(b.t + rng.uniform(0, 0.5), m) for b in batches for m in b.frames + b.plates]
    ticks = [b.t for b in batches] + [10.0 + (i + 1) / HZ for i in range(40)]
    it = Intake(IntakeConfig(max_reorder_s=2.0))
    seen = []
    k = 0
    msgs.sort(key=lambda x: x[0])
    for t in ticks:
        arrived = []
        while k < len(msgs) and msgs[k][0] <= t:
            arrived.append(msgs[k][1])
            k += 1
        b = SensorBatch(t, tuple(m for m in arrived if isinstance(m, CameraFrame)),
                        tuple(m for m in arrived if isinstance(m, PlateSamples)))
        seen += it.push(b)
    seen += it.flush()
    times = [b.t for b in seen]
    assert times == sorted(times)
    frames = [f.frame for b in seen for f in b.frames]
    dropped = it.dropped["frames"]
    assert frames == sorted(frames)                       # in order
    assert len(frames) + dropped == 150                   # nothing vanished uncounted
    assert dropped <= 3                                   # only while the window grew
    assert 0.5 < it.window <= 0.75 + 1e-9


def test_intake_drops_what_is_older_than_processed_and_reports_plates():
    it = Intake(IntakeConfig(max_reorder_s=0.0))
    it.push(SensorBatch(1.0, (CameraFrame(15, 1.0, [], np.zeros((0, 2)), []),)))
    late = PlateSamples([0.5, 0.6], [3, 4], np.zeros((2, 2)))
    out = it.push(SensorBatch(1.1, (CameraFrame(14, 0.9, [], np.zeros((0, 2)), []),),
                              (late,), (GateCheckIns([0.8], [0], [7]),)))
    assert it.dropped == {"frames": 1, "plates": 1}
    assert [g.account.tolist() for b in out for g in b.gate] == [[7]]   # a check-in counts
    t0, t1, plates = it.lost_plates[0]
    assert (t0, t1) == (0.5, 0.6) and plates.tolist() == [3, 4]


def _run_plates(ph: PlateHealth, msgs) -> list[PlateSamples]:
    return [ph.check(m) for m in msgs]


def test_healthy_plates_are_never_doubted():
    ph = PlateHealth(np.arange(8), HZ, NOISE, HealthConfig())
    rng = np.random.default_rng(1)
    msgs = []
    for i in range(3000):              # ten minutes, with drift as the twin's cells have
        m = _msg(i, rng=rng, base=800.0 + 0.3 * np.sqrt(i / 5.0))
        if i % 200 == 100:             # a pick of a 12 g item now and then
            g = np.array(m.grams)
            g[3, 6:] -= 12.0
            m = PlateSamples(m.t, m.plate, g)
        msgs.append(m)
    _run_plates(ph, msgs)
    assert ph.events == []


@pytest.mark.parametrize(("fault", "why"), [
    ("stuck", "stuck"), ("nan", "invalid"), ("range", "invalid"), ("missing", "silent"),
    ("noisy", "noisy"), ("drift", "drifting")])
def test_broken_plates_are_doubted(fault, why):
    ph = PlateHealth(np.arange(8), HZ, NOISE, HealthConfig())
    out = []
    for i in range(150):
        m = _msg(i)
        g = np.array(m.grams, dtype=np.float64)
        t = m.t
        plate = m.plate
        if i >= 50:
            if fault == "stuck":
                g[2] = 801.5
            elif fault == "nan":
                g[2, 3] = np.nan
            elif fault == "range":
                g[2] = 1e7
            elif fault == "noisy":
                g[2] += np.random.default_rng(i).normal(0, 30, K)
            elif fault == "drift":
                g[2] += 5.0 * (t - 50 * K / HZ)
            elif fault == "missing":
                plate, g = plate[plate != 2], g[plate != 2]
        out.append(ph.check(PlateSamples(t, plate, g)))
    plates = {p for p, _s, _w in ph.events}
    assert plates == {2}, ph.events
    assert why in ph.events[0][2]
    assert 10.0 - 0.5 <= ph.events[0][1] <= 10.0 + 12    # since about when it broke
    assert ph.reason(2, 20.0, 21.0).startswith("sensing: plate 2 ")
    assert ph.reason(3, 20.0, 21.0) == ""
    last = out[-1]                                        # what the detector sees: finite,
    assert last.plate.tolist() == list(range(8))          # every plate, held where bad
    assert np.isfinite(last.grams).all()
    if fault in ("range", "missing"):
        assert np.ptp(last.grams[2]) == 0


def test_a_plate_that_recovers_is_trusted_again():
    cfg = HealthConfig(recover_s=2.0)
    ph = PlateHealth(np.arange(4), HZ, NOISE, cfg)
    for i in range(100):
        m = _msg(i, p=4)
        if 20 <= i < 40:
            g = np.array(m.grams)
            g[1] = np.nan
            m = PlateSamples(m.t, m.plate, g)
        ph.check(m)
    assert not ph.any_doubt and len(ph.events) == 1
    assert "was in doubt until" in ph.reason(1, ph.until[1] + 1.0, ph.until[1] + 2.0)
    assert ph.reason(1, ph.until[1] + 10.0, ph.until[1] + 11.0) == ""


def _cameras(n: int = 4) -> Cameras:
    """Cameras 3 m up, looking straight down, on a 2.5 m grid."""
    pos = np.array([[1.25 + 2.5 * (i % 2), 1.25 + 2.5 * (i // 2), 3.0] for i in range(n)])
    rot = np.repeat(np.diag([1.0, -1.0, -1.0])[None], n, axis=0)
    return Cameras(np.arange(n, dtype=np.int32) * 10, pos, rot,
                   np.repeat([[400.0, 400.0, 320.0, 240.0]], n, axis=0),
                   np.repeat([[640, 480]], n, axis=0).astype(np.int32))


def test_camera_silent_with_people_in_view_and_frozen_rows_dropped():
    ch = CameraHealth(_cameras(), HealthConfig(), camera_hz=15.0)
    pi, ci = ch.inside(np.array([[1.25, 1.25], [3.75, 3.75], [50.0, 50.0]]))
    assert sorted(zip(pi.tolist(), ch.ids[ci].tolist())) == [(0, 0), (1, 30)]
    people = np.array([[1.2, 1.3], [3.7, 1.2]])          # under cameras 0 and 10
    rng = np.random.default_rng(0)
    frozen_xy = np.array([[3.7, 3.7]])
    for i in range(120):
        t = i / 15.0
        xy = people + rng.normal(0, 0.02, people.shape)
        cams = [0, 10] if t < 3.0 else [0]                # camera 10 goes silent at 3 s
        rows = [xy[0], xy[1]][:len(cams)] + [frozen_xy[0]]
        f = ch.check(CameraFrame(i, t, cams + [30], np.array(rows), np.full(len(rows), 0.9)))
        if i >= 1:
            assert 30 not in f.camera.tolist()            # a repeated frame is dropped
        if i % 15 == 0:
            ch.watch(t, people)
    kinds = {(c, w) for c, _s, w in ch.events}
    assert kinds == {(10, "silent"), (30, "frozen")}, ch.events
    since = {c: s for c, s, _w in ch.events}
    assert 2.9 <= since[10] <= 3.1
    assert ch.reason(np.array([1]), 7.0, 7.5).startswith("sensing: 1 of the 1 cameras")
    assert ch.reason(np.array([0]), 7.0, 7.5) == ""
