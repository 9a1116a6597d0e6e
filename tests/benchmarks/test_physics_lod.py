"""Physics level of detail: a step's cost grows with activity, not with inventory.

Two kiosk worlds, one with half the planogram's stock in every bin (rounded up) and one fully
stocked, about twice the items, go through the same activity: shoppers at 12 bins picking and
putting back, so those bins stay awake. The issue's target: doubling the
items changes the step time by under 10%. Both are timed in the same process, interleaved,
best of several rounds, and the *ratio* is asserted when benchmarks are switched on
(tests/benchmarks/conftest.py); the absolute times are recorded only. The default suite runs
one round and asserts what does not depend on the clock: about the same bodies are simulated
either way, and the plates still weigh everything.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from scenes.presets import load_preset
from twin.world import World

TICK = 1.0 / 60.0
BINS = (3, 40, 77, 120, 160, 201, 250, 300, 333, 380, 420, 470)


def _halved(store):
    b = store.bins
    return dataclasses.replace(store, bins=dataclasses.replace(b, count=(b.count + 1) // 2))


def _session(store) -> tuple[World, float]:
    """A world with the same activity; returns it and the seconds of 2 s of steps."""
    w = World(store)
    for i in BINS:
        w.wake(i)
    for _ in range(30):            # settle in
        w.step(TICK)
    t0 = time.perf_counter()
    for k in range(120):
        if k % 20 == 0:
            for j, i in enumerate(BINS):
                if (k // 20 + j) % 2:
                    w.pick(i, 1)
                else:
                    w.put_back(i, 1)
        w.step(TICK)
        w.plate_loads_g()          # plates are read at 60 Hz, as in a run
    return w, time.perf_counter() - t0


def test_doubling_the_stock_leaves_the_step_time_alone(benchmark, speed) -> None:
    double = load_preset("kiosk")
    base = _halved(double)
    assert double.units_total() >= 1.9 * base.units_total()
    times: dict[str, list[float]] = {"base": [], "double": []}
    bodies = {}
    for _ in range(speed.size(7, 1)):  # interleaved rounds: the machine's load hits both alike
        for name, store in (("base", base), ("double", double)):
            w, s = _session(store)
            bodies[name] = sum(len(a.bodies) for a in w._awake.values())
            # the plates still weigh everything, front row and aggregated units alike
            loads = w.plate_loads_g()
            assert loads[list(BINS)] == pytest.approx(
                w.count[list(BINS)] * w._mass_g[list(BINS)], rel=0.02)
            w.close()
            times[name].append(s)
    ratio = min(times["double"]) / min(times["base"])
    benchmark.extra_info.update({
        "step_ms_base": round(1000 * min(times["base"]) / 120, 3),
        "step_ms_double": round(1000 * min(times["double"]) / 120, 3),
        "ratio": round(ratio, 3), "live_bodies_base": bodies["base"],
        "live_bodies_double": bodies["double"]})
    benchmark.pedantic(lambda: _session(double)[0].close(), rounds=1, iterations=1)
    # about the same bodies are simulated either way (the front rows; a half-empty bin has
    # a thinner front row); the rest is a constant on the plate
    assert bodies["double"] <= 1.2 * bodies["base"]
    assert np.isfinite(ratio)
    speed.target("step time with twice the stock < 1.10x", ratio < 1.10, times)
