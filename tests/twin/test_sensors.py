"""Load-cell plates, the entry gate, and the simulation clock."""

from __future__ import annotations

import numpy as np
import pytest

from twin.sensors import EntryGate, LoadCellModel, PlateSensors
from twin.sim import Clock

# the compiled load cells (twin/_sensor_kernels.py) behind the plate tests: .ci/run runs them
# again for other processors (tests/cpu_target.py)
pytestmark = pytest.mark.kernels

HZ = 60.0


def feed(sensors: PlateSensors, loads_g: np.ndarray, ticks: int, t0: float = 0.0):
    """Sample a constant load ``ticks`` times; the messages that came out."""
    out = []
    for k in range(ticks):
        msg = sensors.sample(t0 + (k + 1) / HZ, loads_g)
        if msg is not None:
            out.append(msg)
    return out


def test_a_message_every_12_samples_with_the_sample_times() -> None:
    p = 7
    s = PlateSensors(p, rng=np.random.default_rng(0))
    loads = np.linspace(100.0, 5000.0, p)
    msgs = []
    for k in range(60):
        m = s.sample((k + 1) / HZ, loads)
        assert (m is None) == ((k + 1) % 12 != 0)
        if m is not None:
            msgs.append(m)
    assert len(msgs) == 5
    for j, m in enumerate(msgs):
        assert m.grams.shape == (p, 12) and m.grams.dtype == np.float32
        assert np.array_equal(m.plate, np.arange(p))
        assert np.allclose(m.t, (12 * j + np.arange(1, 13)) / HZ)


def test_noise_and_quantisation() -> None:
    model = LoadCellModel(noise_g=2.0, drift_g_per_sqrt_s=0.0, offset_g=0.0, resolution_g=0.5)
    p = 200
    s = PlateSensors(p, model, rng=np.random.default_rng(1))
    loads = np.random.default_rng(2).uniform(0, 15000, p)
    g = np.concatenate([m.grams for m in feed(s, loads, 12 * 20)], axis=1).astype(np.float64)
    assert np.allclose(g / 0.5, np.round(g / 0.5))
    resid = g - loads[:, None]
    assert abs(resid.mean()) < 0.05
    assert resid.std() == pytest.approx(np.hypot(2.0, 0.5 / np.sqrt(12)), rel=0.03)


def test_each_plate_has_its_own_zero_offset() -> None:
    model = LoadCellModel(noise_g=0.0, drift_g_per_sqrt_s=0.0, resolution_g=0.0, offset_g=50.0)
    p = 400
    s = PlateSensors(p, model, rng=np.random.default_rng(3))
    loads = np.full(p, 1000.0)
    msgs = feed(s, loads, 36)
    first = msgs[0].grams[:, 0].astype(np.float64) - 1000.0
    assert first.std() == pytest.approx(50.0, rel=0.1)
    # noise-free and drift-free: the reading never moves
    for m in msgs:
        assert np.array_equal(m.grams, msgs[0].grams[:, :1].repeat(12, axis=1))


def test_drift_is_a_random_walk_of_the_stated_size() -> None:
    drift = 0.3  # [g/sqrt(s)]
    model = LoadCellModel(noise_g=0.0, drift_g_per_sqrt_s=drift, resolution_g=0.0, offset_g=0.0)
    p = 500
    s = PlateSensors(p, model, rng=np.random.default_rng(4))
    load = np.full(p, 2500.0)
    seconds = 60
    g = np.concatenate([m.grams for m in feed(s, load, int(seconds * HZ))], axis=1)
    wander = g.astype(np.float64) - 2500.0
    # after a minute the level has wandered drift * sqrt(60 s) ~ 2.3 g (rms over plates)
    assert np.sqrt((wander[:, -1] ** 2).mean()) == pytest.approx(drift * np.sqrt(seconds),
                                                                 rel=0.1)
    # tick to tick it moves only by the tiny drift step (float32 readings: allow 1 ulp-ish)
    step = np.diff(wander, axis=1)
    assert step.std() == pytest.approx(drift / np.sqrt(HZ), rel=0.1)
    assert np.abs(step).max() < 8 * drift / np.sqrt(HZ)


def test_drift_leaves_changes_of_load_intact() -> None:
    model = LoadCellModel(noise_g=0.0, resolution_g=0.0, offset_g=0.0)
    s = PlateSensors(3, model, rng=np.random.default_rng(5))
    before = feed(s, np.array([1000.0, 500.0, 250.0]), 120)[-1].grams[:, -1]
    after = feed(s, np.array([1000.0, 0.0, 500.0]), 36)[-1].grams[:, -1]   # settled
    assert np.allclose(after - before, [0.0, -500.0, 250.0], atol=0.5)


def test_dead_plates_repeat_their_first_reading() -> None:
    p = 6
    dead = np.array([False, True, False, False, True, False])
    s = PlateSensors(p, rng=np.random.default_rng(6), dead=dead)
    rng = np.random.default_rng(60)
    msgs = []
    for k in range(12 * 10):
        m = s.sample((k + 1) / HZ, rng.uniform(0, 3000, p))
        if m is not None:
            msgs.append(m)
    g = np.concatenate([m.grams for m in msgs], axis=1)
    assert np.all(g[dead] == g[dead][:, :1])
    assert np.all(g[~dead].std(axis=1) > 100.0)


def test_same_seed_same_readings() -> None:
    loads = np.linspace(0, 9000, 9)
    a = feed(PlateSensors(9, rng=np.random.default_rng(7)), loads, 120)
    b = feed(PlateSensors(9, rng=np.random.default_rng(7)), loads, 120)
    assert all(np.array_equal(x.grams, y.grams) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("field", "value"), [
    ("plate_hz", 0.0), ("samples_per_message", 0), ("noise_g", -1.0),
    ("drift_g_per_sqrt_s", -0.1), ("resolution_g", -0.5), ("offset_g", -2.0),
    ("settle_hz", 0.0), ("settle_hz", 31.0), ("damping", 0.0), ("capacity_g", -1.0),
    ("overload", 0.5),
])
def test_load_cell_model_validation_names_the_field(field, value) -> None:
    with pytest.raises(ValueError, match=f"LoadCellModel.{field}"):
        LoadCellModel(**{field: value})


def _clean(**kw) -> LoadCellModel:
    return LoadCellModel(noise_g=0.0, resolution_g=0.0, offset_g=0.0, drift_g_per_sqrt_s=0.0,
                         **kw)


def test_a_step_of_load_rings_then_settles_on_the_new_weight() -> None:
    s = PlateSensors(1, _clean(), rng=np.random.default_rng(0))
    feed(s, np.array([5000.0]), 60)
    trace = np.concatenate([m.grams[0] for m in feed(s, np.array([4500.0]), 60)])
    # underdamped (zeta 0.5): it overshoots below the new weight by ~16% of the step ...
    assert 4500.0 - trace.min() == pytest.approx(0.16 * 500.0, rel=0.25)
    assert trace[0] > 4500.0 + 100.0          # the first sample is still on its way
    # ... and settles within 2% of the step by ~0.2 s, exactly after a second
    settled = int(0.25 * HZ)
    assert np.all(np.abs(trace[settled:] - 4500.0) < 0.02 * 500.0)
    assert trace[-1] == pytest.approx(4500.0, abs=0.01)


def test_a_critically_damped_cell_does_not_overshoot() -> None:
    s = PlateSensors(1, _clean(damping=1.0), rng=np.random.default_rng(0))
    feed(s, np.array([1000.0]), 12)
    trace = np.concatenate([m.grams[0] for m in feed(s, np.array([1500.0]), 60)])
    assert trace.max() <= 1500.0 + 1e-6 and np.all(np.diff(trace) >= -1e-9)


def test_readings_saturate_above_the_rated_capacity() -> None:
    s = PlateSensors(2, _clean(capacity_g=20000.0, overload=1.5), rng=np.random.default_rng(0))
    g = feed(s, np.array([19000.0, 45000.0]), 24)[-1].grams
    assert np.allclose(g[0], 19000.0)
    assert np.allclose(g[1], 30000.0)


def test_entry_gate_reports_each_check_in_once() -> None:
    gate = EntryGate()
    assert gate.flush() is None
    gate.check_in(1.5, 1234567)
    gate.check_in(2.25, 7654321)
    rec = gate.flush()
    assert rec.t.tolist() == [1.5, 2.25]
    assert rec.account.tolist() == [1234567, 7654321]
    assert rec.account.dtype == np.int64
    assert rec.gate.tolist() == [0, 0]
    assert gate.flush() is None
    gate.check_in(3.0, 42)
    assert gate.flush().account.tolist() == [42]


# -- the clock ----------------------------------------------------------------------------

def test_default_clock_rates() -> None:
    c = Clock()
    assert c.camera_every == 4 and c.policy_every == 4
    assert Clock(plate_hz=60.0, camera_hz=60.0, policy_hz=10.0).policy_every == 6


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"camera_hz": 25.0}, "camera_hz"),
    ({"camera_hz": 120.0}, "camera_hz"),
    ({"policy_hz": 7.0}, "policy_hz"),
    ({"physics_hz": 100.0}, "physics_hz"),
    ({"physics_hz": 30.0}, "physics_hz"),
    ({"plate_hz": 0.0}, "plate_hz"),
    ({"camera_hz": -15.0}, "camera_hz"),
])
def test_clock_rejects_rates_that_do_not_divide(kwargs, field) -> None:
    with pytest.raises(ValueError, match=f"Clock.{field}"):
        Clock(**kwargs)


def test_plates_without_a_generator_are_an_error_not_a_hidden_seed() -> None:
    with pytest.raises(ValueError, match="PlateSensors needs rng"):
        PlateSensors(3, LoadCellModel(plate_hz=HZ))
