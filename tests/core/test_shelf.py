"""Shelf-event detection on synthetic plate signals, scripted pick/put-back scenarios.

The signal model follows what the twin's plates produce: load from the items on the plate,
white noise (2 g), random-walk drift (3 g/sqrt(min)), 0.5 g quantisation, a hand transient
before a pick (pressing/jostling, tens to hundreds of grams for 0.1-1 s) and an impact
transient at a put-back, ringing that settles in ~0.1 s, and sleeping-shelf wake outliers
(one sample at -99 % of the load). Messages carry 12 samples of every plate at 60 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from core.billing import Carts, infer_items
from core.knowledge import Catalogue, Plates
from core.records import PlateSamples
from core.shelf import ShelfEvent, ShelfEventConfig, ShelfEventDetector

HZ = 60.0
K = 12
NOISE_G = 2.0
DRIFT_G_PER_SQRT_MIN = 3.0
T0 = 1000.0  # stream start [s]


@dataclass(frozen=True)
class Action:
    """A scripted shelf action: ``units`` > 0 taken, < 0 put back, at ``t`` [s] after T0.

    hand_s: duration of the hand transient before the load changes [s].
    """

    row: int
    t: float
    units: int
    hand_s: float = 0.5


def make_store(masses_g: np.ndarray) -> tuple[Plates, Catalogue]:
    """One plate per sku, plate ids 100, 101, ...; prices 100 + 10 * row cents."""
    p = masses_g.shape[0]
    cat = Catalogue(
        sku=np.array([f"SKU{i:04d}" for i in range(p)]),
        name=np.array([f"item {i}" for i in range(p)]),
        price_cents=(100 + 10 * np.arange(p)).astype(np.int64),
        mass_g=masses_g.astype(np.float64),
    )
    plates = Plates(
        plate=(100 + np.arange(p)).astype(np.int32),
        sku_index=np.arange(p, dtype=np.int32),
        center=np.zeros((p, 3)),
        access_xy=np.zeros((p, 2)),
    )
    return plates, cat


def synth(
    rng: np.random.Generator,
    masses_g: np.ndarray,
    duration_s: float,
    actions: tuple[Action, ...] = (),
    outliers: tuple[tuple[int, int], ...] = (),
    units0: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Plate readings. Returns t (n,) float64 [s] and grams (p, n) float32 [g].

    outliers: (row, sample index) pairs where a waking shelf reads 1 % of its load.
    """
    p = masses_g.shape[0]
    n = int(round(duration_s * HZ)) // K * K
    t = T0 + np.arange(n) / HZ
    tare = rng.uniform(300.0, 900.0, p)
    load = np.repeat((tare + units0 * masses_g)[:, None], n, axis=1)
    for a in actions:
        m = masses_g[a.row]
        i0 = int(round(a.t * HZ))
        i1 = i0 + max(1, int(round(a.hand_s * HZ)))
        tt = (np.arange(i0, i1) - i0) / HZ
        # hand: a press of tens to hundreds of grams with a jostle on top
        press = rng.uniform(40.0, 300.0) * np.sin(np.pi * tt / a.hand_s) ** 2
        jostle = rng.normal(0.0, rng.uniform(5.0, 40.0), tt.size)
        load[a.row, i0:i1] += press + jostle
        load[a.row, i1:] -= a.units * m
        # release (pick) or impact (put-back): damped ringing, settled in ~0.1-0.2 s
        tr = np.arange(n - i1) / HZ
        amp = 0.4 * a.units * m if a.units > 0 else -rng.uniform(60.0, 300.0)
        load[a.row, i1:] += amp * np.exp(-tr / 0.04) * np.cos(2 * np.pi * 9.0 * tr)
    step = DRIFT_G_PER_SQRT_MIN / np.sqrt(60.0 * HZ)
    drift = np.cumsum(rng.normal(0.0, step, (p, n)), axis=1)
    grams = load + drift + rng.normal(0.0, NOISE_G, (p, n))
    grams = np.round(grams / 0.5) * 0.5
    for row, i in outliers:
        grams[row, i] *= 0.01
    return t, grams.astype(np.float32)


def run_detector(
    t: np.ndarray, grams: np.ndarray, plates: Plates, config: ShelfEventConfig | None = None
) -> list[ShelfEvent]:
    det = ShelfEventDetector(plates.plate, HZ, NOISE_G, config or ShelfEventConfig())
    events: list[ShelfEvent] = []
    for i in range(0, t.shape[0], K):
        events += det.update(PlateSamples(t[i : i + K], plates.plate, grams[:, i : i + K]))
    return events


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_single_picks_of_one_and_three_units(seed: int) -> None:
    rng = np.random.default_rng(seed)
    masses = np.array([30.0, 120.0, 355.0, 500.0, 980.0, 2000.0, 75.0, 250.0])
    plates, cat = make_store(masses)
    actions = (
        Action(row=0, t=3.0, units=3, hand_s=0.8),
        Action(row=2, t=4.1, units=1, hand_s=0.2),
        Action(row=4, t=6.0, units=1, hand_s=1.0),
        Action(row=5, t=7.3, units=3, hand_s=0.4),
        Action(row=6, t=9.0, units=1, hand_s=0.1),
    )
    t, grams = synth(rng, masses, 14.0, actions)
    events = run_detector(t, grams, plates)
    assert sorted(e.plate for e in events) == sorted(100 + a.row for a in actions)
    for a in actions:
        (ev,) = [e for e in events if e.plate == 100 + a.row]
        truth = -a.units * masses[a.row]
        assert abs(ev.delta_g - truth) < 3.0 * ev.sigma_g, (ev, truth)
        assert 0.2 < ev.sigma_g < 2.0
        assert T0 + a.t - 0.1 <= ev.t_start <= T0 + a.t + a.hand_s
        assert ev.t_end > T0 + a.t + a.hand_s
        guess = infer_items(ev, plates, cat)
        assert guess is not None
        assert (guess.sku_index, guess.quantity) == (a.row, a.units)
        assert guess.confidence > 0.95


def bill(events: list[ShelfEvent], plates: Plates, cat: Catalogue, account: int = 7) -> Carts:
    carts = Carts()
    for ev in events:
        guess = infer_items(ev, plates, cat)
        if guess is not None:
            carts.add(account, guess, ev.t_end)
    return carts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pick_two_put_one_back_nets_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    masses = np.array([410.0, 90.0, 1200.0])
    plates, cat = make_store(masses)
    actions = (
        Action(row=1, t=2.0, units=2, hand_s=0.6),
        Action(row=1, t=5.0, units=-1, hand_s=0.3),  # 3 s later
    )
    t, grams = synth(rng, masses, 10.0, actions)
    events = run_detector(t, grams, plates)
    assert len(events) == 2  # separated by a quiet gap: two events
    carts = bill(events, plates, cat)
    assert carts.quantities(7) == {1: 1}
    rec = carts.receipt(7, t[-1], cat)
    assert [(p.sku, p.quantity) for p in rec.products] == [("SKU0001", 1)]
    assert rec.total == 110
    assert not rec.review


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rapid_pick_and_put_back_nets_to_nothing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    masses = np.array([410.0, 90.0, 1200.0])
    plates, cat = make_store(masses)
    actions = (
        Action(row=2, t=2.0, units=1, hand_s=0.4),
        Action(row=2, t=2.7, units=-1, hand_s=0.2),  # back 0.3 s after lifting it
    )
    t, grams = synth(rng, masses, 8.0, actions)
    events = run_detector(t, grams, plates)
    assert all(infer_items(e, plates, cat) is None for e in events)
    assert bill(events, plates, cat).quantities(7) == {}


def test_noise_and_drift_for_ten_minutes_give_no_event() -> None:
    rng = np.random.default_rng(11)
    masses = rng.uniform(30.0, 2000.0, 50)
    plates, _ = make_store(masses)
    t, grams = synth(rng, masses, 600.0)
    assert run_detector(t, grams, plates) == []


def test_wake_outliers_give_no_event() -> None:
    rng = np.random.default_rng(5)
    masses = rng.uniform(30.0, 2000.0, 6)
    plates, _ = make_store(masses)
    # inside a message, first and last sample of a message, and at the very first sample
    outliers = ((0, 300), (1, 12 * 40), (2, 12 * 41 - 1), (3, 0), (4, 1), (5, 12 * 70 + 5))
    t, grams = synth(rng, masses, 20.0, outliers=outliers)
    assert grams[0, 300] < 0.05 * grams[0, 299]
    assert run_detector(t, grams, plates) == []


def test_events_on_two_plates_in_the_same_message_are_both_found() -> None:
    rng = np.random.default_rng(9)
    masses = np.array([200.0, 640.0, 55.0, 300.0])
    plates, cat = make_store(masses)
    actions = (
        Action(row=1, t=3.0, units=1, hand_s=0.5),
        Action(row=3, t=3.0, units=-2, hand_s=0.5),
    )
    t, grams = synth(rng, masses, 8.0, actions, units0=5)
    events = run_detector(t, grams, plates)
    assert sorted(e.plate for e in events) == [101, 103]
    ends = {int((e.t_end - T0) * HZ) // K for e in events}
    assert len(ends) == 1  # closed in the same message too
    guesses = {e.plate: infer_items(e, plates, cat) for e in events}
    assert guesses[101].quantity == 1
    assert guesses[103].quantity == -2


def test_messages_with_plates_in_another_order() -> None:
    rng = np.random.default_rng(4)
    masses = np.array([200.0, 640.0, 55.0, 300.0])
    plates, _ = make_store(masses)
    t, grams = synth(rng, masses, 6.0, (Action(row=2, t=2.0, units=2),))
    perm = np.array([3, 0, 2, 1])
    det = ShelfEventDetector(plates.plate, HZ, NOISE_G)
    events = []
    for i in range(0, t.shape[0], K):
        msg = PlateSamples(t[i : i + K], plates.plate[perm], grams[perm, i : i + K])
        events += det.update(msg)
    assert [e.plate for e in events] == [102]
    assert abs(events[0].delta_g + 110.0) < 3 * events[0].sigma_g
    with pytest.raises(ValueError, match="plate"):
        det.update(PlateSamples(t[:K], plates.plate[:3], grams[:3, :K]))


def test_same_input_twice_gives_identical_events() -> None:
    masses = np.array([200.0, 640.0, 55.0, 300.0, 1500.0])
    plates, _ = make_store(masses)
    actions = (
        Action(row=0, t=1.5, units=2),
        Action(row=4, t=2.0, units=1, hand_s=0.9),
        Action(row=0, t=6.0, units=-1),
    )
    t, grams = synth(np.random.default_rng(21), masses, 10.0, actions)
    first = run_detector(t, grams, plates)
    second = run_detector(t, grams, plates)
    assert len(first) == 3
    assert first == second


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("window_s", 0.0),
        ("window_s", -1.0),
        ("var_threshold_sigma", 0.5),
        ("settle_s", 0.0),
        ("settle_s", 11.0),
        ("min_delta_g", 0.0),
        ("baseline_tau_s", -2.0),
        ("drift_g_per_sqrt_min", -0.1),
        ("window_s", float("nan")),
    ],
)
def test_invalid_config_names_the_field(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"ShelfEventConfig.{name} must be a number in"):
        ShelfEventConfig(**{name: value})


def test_invalid_detector_arguments() -> None:
    ids = np.arange(4)
    with pytest.raises(ValueError, match="window_s"):
        ShelfEventDetector(ids, HZ, NOISE_G, ShelfEventConfig(window_s=0.02))
    with pytest.raises(ValueError, match="plate_hz"):
        ShelfEventDetector(ids, 0.0, NOISE_G)
    with pytest.raises(ValueError, match="noise_g"):
        ShelfEventDetector(ids, HZ, -1.0)
    with pytest.raises(ValueError, match="duplicates"):
        ShelfEventDetector(np.array([1, 1]), HZ, NOISE_G)


def test_500_plates_3000_messages_runs() -> None:
    """A kiosk's plates for 10 minutes (not timed here; see tests/benchmarks)."""
    rng = np.random.default_rng(3)
    p, n_msg = 500, 3000
    ids = np.arange(p, dtype=np.int32)
    det = ShelfEventDetector(ids, HZ, NOISE_G)
    level = rng.uniform(500.0, 15_000.0, p)
    picks = {500: (17, 250.0), 1500: (333, 800.0), 2500: (499, 45.0)}  # message: plate, g
    base = rng.normal(0.0, NOISE_G, (p, K)).astype(np.float32)  # reused: speed, not realism
    events = []
    for m in range(n_msg):
        if m in picks:
            row, mass = picks[m]
            level[row] -= mass
        grams = level[:, None] + np.roll(base, m, axis=0)
        t = T0 + (m * K + np.arange(K)) / HZ
        events += det.update(PlateSamples(t, ids, grams))
    assert [(e.plate, round(e.delta_g)) for e in events] == [(17, -250), (333, -800), (499, -45)]


def test_short_settle_closes_and_reopens_within_one_message() -> None:
    """settle and window shorter than a message: several transitions per message."""
    masses = np.array([100.0, 100.0])
    plates, _ = make_store(masses)
    rng = np.random.default_rng(8)
    n = 12 * 30
    t = T0 + np.arange(n) / HZ
    grams = np.full((2, n), 1000.0) + rng.normal(0.0, NOISE_G, (2, n))
    grams[0, 100:] -= 100.0  # clean steps, 0.25 s apart
    grams[0, 115:] -= 200.0
    grams[0, 130:] += 100.0
    cfg = ShelfEventConfig(window_s=0.05, settle_s=0.05)
    events = run_detector(t, grams.astype(np.float32), plates, cfg)
    assert [e.plate for e in events] == [100, 100, 100]
    assert [round(e.delta_g / 100.0) for e in events] == [-1, -2, 1]
    assert all(a.t_end < b.t_start for a, b in zip(events, events[1:], strict=False))


@pytest.mark.kernels
@pytest.mark.parametrize("permuted", [False, True])
def test_compiled_window_pass_matches_the_array_code(permuted: bool) -> None:
    """core._shelf_kernels.window_pass against the array code it replaces on numpy: 300
    plates, 40 s, picks, put-backs and wake outliers, plates in message order or not. Same
    events (plates, times), grams within 1e-9 g; the same state after."""
    rng = np.random.default_rng(11)
    p = 300
    masses = rng.uniform(40.0, 900.0, p)
    plates, _ = make_store(masses)
    acts = tuple(Action(row=int(rng.integers(p)), t=float(rng.uniform(1.0, 36.0)),
                        units=int(rng.choice([-2, -1, 1, 2, 3])),
                        hand_s=float(rng.uniform(0.2, 0.9))) for _ in range(60))
    outl = tuple((int(rng.integers(p)), int(rng.integers(40 * int(HZ)))) for _ in range(20))
    t, grams = synth(rng, masses, 40.0, acts, outl)
    order = rng.permutation(p) if permuted else np.arange(p)
    dets = [ShelfEventDetector(plates.plate, HZ, NOISE_G, compiled=c) for c in (True, False)]
    found: list[list[ShelfEvent]] = [[], []]
    for i in range(0, t.shape[0], K):
        msg = PlateSamples(t[i : i + K], plates.plate[order], grams[order, i : i + K])
        for d, out in zip(dets, found, strict=True):
            out += d.update(msg)
    fast, ref = found
    assert len(ref) > 30
    assert [(e.plate, e.t_start, e.t_end) for e in fast] == \
        [(e.plate, e.t_start, e.t_end) for e in ref]
    np.testing.assert_allclose([e.delta_g for e in fast], [e.delta_g for e in ref], atol=1e-9)
    np.testing.assert_allclose([e.sigma_g for e in fast], [e.sigma_g for e in ref], atol=1e-9)
    a, b = dets
    np.testing.assert_allclose(a._baseline, b._baseline, atol=1e-9)
    np.testing.assert_allclose(a._ring.T, b._ring, atol=1e-9)      # plate-major
    np.testing.assert_array_equal(a.active, b.active)


def test_compiled_needs_numpy() -> None:
    import types

    assert ShelfEventDetector(np.arange(3), HZ, NOISE_G, xp=np)._compiled
    with pytest.raises(ValueError, match="compiled=True needs the numpy backend"):
        ShelfEventDetector(np.arange(3), HZ, NOISE_G, xp=types.ModuleType("other"),
                           compiled=True)
