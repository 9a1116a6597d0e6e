"""The shelf-event detector gives the same events on every array backend.

Each test runs once per backend (the ``xp`` fixture: numpy always, cupy where a GPU
answers) on the noisy plate signals of ``test_shelf.py`` (picks, put-backs, hand and impact
transients, drift, quantisation, wake outliers) and compares the events with those of the
numpy detector: same plates, same start and end times, ``delta_g`` and ``sigma_g`` within
1e-6 g (cupy may sum in another order).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from core.backend import to_numpy
from core.records import PlateSamples
from core.shelf import ShelfEvent, ShelfEventConfig, ShelfEventDetector


def _shelf_cases():
    """tests/core/test_shelf.py as a module, for its signal generators (loaded by path:
    test folders are not packages)."""
    name = "_storetwin_shelf_cases"
    if name not in sys.modules:
        path = Path(__file__).with_name("test_shelf.py")
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # before exec: its dataclasses look themselves up here
        spec.loader.exec_module(mod)
    return sys.modules[name]


cases = _shelf_cases()
HZ, NOISE_G, T0, Action = cases.HZ, cases.NOISE_G, cases.T0, cases.Action
TOL_G = 1e-6

SHORT = ShelfEventConfig(window_s=0.05, settle_s=0.05)  # several transitions per message


def _store_signal(seed: int, p: int = 24, duration_s: float = 20.0):
    """A noisy multi-plate stream: 30 scripted picks and put-backs with hand and impact
    transients (some on the same plate close together), drift, quantisation and wake
    outliers. Returns plates, t (n,) [s], grams (p, n) float32 [g], actions."""
    rng = np.random.default_rng(seed)
    masses = rng.uniform(30.0, 2000.0, p)
    plates, _ = cases.make_store(masses)
    actions = tuple(
        Action(
            row=int(rng.integers(p)),
            t=float(rng.uniform(0.5, duration_s - 3.0)),
            units=int(rng.choice([-2, -1, 1, 1, 2, 3])),
            hand_s=float(rng.uniform(0.05, 1.0)),
        )
        for _ in range(30)
    )
    n = int(round(duration_s * HZ))
    outliers = tuple((int(rng.integers(p)), int(rng.integers(0, n - 1))) for _ in range(8))
    outliers += ((0, 0), (1, 12 * 5), (2, 12 * 6 - 1))  # first sample, message edges
    t, grams = cases.synth(rng, masses, duration_s, actions, outliers)
    return plates, t, grams, actions


def _run(xp, ids, t, grams, k, config, order=None) -> tuple[list[ShelfEvent], np.ndarray]:
    """Events of a detector on backend ``xp`` fed ``k``-sample messages, and its final
    active flags. order: permutation of the message rows (None: state order)."""
    det = ShelfEventDetector(ids, HZ, NOISE_G, config, xp=xp)
    rows = np.arange(ids.size) if order is None else order
    events: list[ShelfEvent] = []
    for i in range(0, t.shape[0], k):
        events += det.update(PlateSamples(t[i : i + k], ids[rows], grams[rows, i : i + k]))
    return events, det.active


def _assert_same(got: list[ShelfEvent], want: list[ShelfEvent]) -> None:
    assert [(e.plate, e.t_start, e.t_end) for e in got] == [
        (e.plate, e.t_start, e.t_end) for e in want
    ]
    for g, w in zip(got, want, strict=True):
        assert abs(g.delta_g - w.delta_g) <= TOL_G, (g, w)
        assert abs(g.sigma_g - w.sigma_g) <= TOL_G, (g, w)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("k", [12, 4, 1])
@pytest.mark.parametrize("config", [ShelfEventConfig(), SHORT], ids=["default", "short"])
def test_same_events_as_numpy(xp, seed: int, k: int, config: ShelfEventConfig) -> None:
    plates, t, grams, actions = _store_signal(seed)
    want, want_active = _run(np, plates.plate, t, grams, k, config)
    got, got_active = _run(xp, plates.plate, t, grams, k, config)
    assert len(want) >= 15  # the signal really exercises the state machine
    _assert_same(got, want)
    assert np.array_equal(got_active, want_active)


def test_planted_picks_found_on_each_backend(xp) -> None:
    """Not only the same as numpy: right. Every isolated pick is one event of its mass."""
    rng = np.random.default_rng(7)
    masses = np.array([30.0, 120.0, 355.0, 500.0, 980.0, 2000.0, 75.0, 250.0])
    plates, cat = cases.make_store(masses)
    actions = (
        Action(row=0, t=3.0, units=3, hand_s=0.8),
        Action(row=2, t=4.1, units=1, hand_s=0.2),
        Action(row=4, t=6.0, units=-1, hand_s=1.0),
        Action(row=5, t=7.3, units=2, hand_s=0.4),
        Action(row=6, t=9.0, units=1, hand_s=0.1),
    )
    t, grams = cases.synth(rng, masses, 14.0, actions, outliers=((1, 200), (3, 400)))
    events, active = _run(xp, plates.plate, t, grams, 12, ShelfEventConfig())
    assert sorted(e.plate for e in events) == sorted(100 + a.row for a in actions)
    for a in actions:
        (ev,) = [e for e in events if e.plate == 100 + a.row]
        assert abs(ev.delta_g + a.units * masses[a.row]) < 3.0 * ev.sigma_g, ev
    assert not active.any()


def test_plates_in_another_order(xp) -> None:
    plates, t, grams, _ = _store_signal(3, p=10, duration_s=12.0)
    order = np.random.default_rng(0).permutation(10)
    want, _ = _run(np, plates.plate, t, grams, 12, ShelfEventConfig())
    got, _ = _run(xp, plates.plate, t, grams, 12, ShelfEventConfig(), order=order)
    assert want
    _assert_same(got, want)


def test_many_plates_few_picks(xp) -> None:
    """2,000 plates, 200 messages: the busy plates are a few columns of a wide state."""
    rng = np.random.default_rng(3)
    p, n_msg, k = 2000, 200, 12
    ids = (5000 + np.arange(p)).astype(np.int32)
    level = rng.uniform(500.0, 15_000.0, p)
    picks = {20: (17, 250.0), 60: (1333, 800.0), 61: (1999, -45.0), 120: (0, 1500.0)}
    det_np = ShelfEventDetector(ids, HZ, NOISE_G, xp=np)
    det_xp = ShelfEventDetector(ids, HZ, NOISE_G, xp=xp)
    want, got = [], []
    for m in range(n_msg):
        if m in picks:
            row, mass = picks[m]
            level[row] -= mass
        grams = level[:, None] + rng.normal(0.0, NOISE_G, (p, k))
        msg = PlateSamples(T0 + (m * k + np.arange(k)) / HZ, ids, grams)
        want += det_np.update(msg)
        got += det_xp.update(msg)
    assert [e.plate for e in want] == [5017, 6333, 6999, 5000]
    truth = [-250.0, -800.0, 45.0, -1500.0]
    assert all(abs(e.delta_g - d) < 3.0 * e.sigma_g for e, d in zip(want, truth, strict=True))
    _assert_same(got, want)


def test_state_on_backend_and_events_on_host(xp) -> None:
    plates, t, grams, _ = _store_signal(5, p=6, duration_s=8.0)
    det = ShelfEventDetector(plates.plate, HZ, NOISE_G, xp=xp)
    assert det.xp is xp
    events = []
    for i in range(0, t.shape[0], 12):
        events += det.update(PlateSamples(t[i : i + 12], plates.plate, grams[:, i : i + 12]))
        assert isinstance(det.active, np.ndarray) and det.active.dtype == bool
    assert events
    for e in events:
        assert type(e.plate) is int
        assert all(type(v) is float for v in (e.t_start, e.t_end, e.delta_g, e.sigma_g))
    # every per-plate array of the state is the backend's
    for name in ("_ring", "_raw_prev", "_baseline", "_base_var", "_active", "_quiet",
                 "_t_start"):
        assert isinstance(getattr(det, name), xp.ndarray), name
    assert to_numpy(det._baseline).shape == (6,)


def test_backend_by_name_and_default(monkeypatch) -> None:
    ids = np.arange(3)
    assert ShelfEventDetector(ids, HZ, NOISE_G, xp="numpy").xp is np
    monkeypatch.setenv("STORETWIN_BACKEND", "numpy")
    assert ShelfEventDetector(ids, HZ, NOISE_G).xp is np
    with pytest.raises(ValueError, match="STORETWIN_BACKEND"):
        ShelfEventDetector(ids, HZ, NOISE_G, xp="tpu")
