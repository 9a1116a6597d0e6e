"""1,000 shoppers in the supercenter: our crowd step against pysocialforce's, same crowd,
same obstacles, same process.

The crowd is populated once (``Crowd.populate``: 1,000 sampled shoppers standing on free
floor, each starting its trip). pysocialforce (Helbing's social force with groups, numpy
and numba) gets the same positions, velocities and current waypoints as goals, and every
fixture and wall as line obstacles (its default 10 points per metre). Both are timed over a
few steps (ours: best of two rounds around the peer's), and the issue's target, at least 10x the agent-steps
per second, is asserted as a ratio when benchmarks are switched on (tests/benchmarks/conftest.py;
in the default suite the same comparison runs once with 50 shoppers and records the ratio);
absolute figures go to ``benchmark.extra_info``.

Ours does more per step than pysocialforce: the whole shopper (state machine, routes,
re-planning, picks on the physics shelves); pysocialforce only moves people.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import time

import numpy as np
import pytest

from agents.crowd import Crowd, ShopperConfig
from scenes.presets import load_preset
from twin.sensors import EntryGate
from twin.world import World


def _import_peer(tmp_path, monkeypatch):
    """pysocialforce sets the root logger to DEBUG and opens ``file.log`` in the working
    directory when imported: import it from a scratch folder and undo its logging."""
    if importlib.util.find_spec("pysocialforce") is None:
        # .ci/setup installs it: under CI a missing peer is a failure, not a skip
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
            "pysocialforce is not installed (pip install -e '.[dev]')")
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module("pysocialforce")
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    return mod

N = 1000                 # shoppers; 50 in the default suite's smoke run
DT = 1.0 / 15.0          # the twin's policy rate
OURS_STEPS = 30          # 3 in the smoke run
PEER_STEPS = 1           # one pysocialforce step of this crowd takes ~16 s here


def _obstacles(store) -> list[tuple[float, float, float, float]]:
    """Every fixture's four sides and every wall, as pysocialforce's (x1, x2, y1, y2)."""
    out = []
    lo, hi = store.fixture_boxes()
    for a, b in zip(lo, hi, strict=True):
        x0, y0, x1, y1 = float(a[0]), float(a[1]), float(b[0]), float(b[1])
        out += [(x0, x1, y0, y0), (x0, x1, y1, y1), (x0, x0, y0, y1), (x1, x1, y0, y1)]
    for w in store.walls:
        out.append((float(w.a[0]), float(w.b[0]), float(w.a[1]), float(w.b[1])))
    return out


@pytest.fixture(scope="module")
def supercenter():
    return load_preset("supercenter")


def test_crowd_of_1000_steps_10x_faster_than_pysocialforce(supercenter, benchmark, speed,
                                                            tmp_path, monkeypatch) -> None:
    pysocialforce = _import_peer(tmp_path, monkeypatch)
    store = supercenter
    n, ours_steps = speed.size(N, 50), speed.size(OURS_STEPS, 3)
    crowd = Crowd(store, ShopperConfig(shoppers_in_store=0.0), np.random.default_rng(0))
    crowd.populate(n)
    world, gate = World(store), EntryGate()
    assert crowd.xy.shape == (n, 2)
    t = [0.0]

    def ours(steps: int) -> float:
        t0 = time.perf_counter()
        for _ in range(steps):
            t[0] += DT
            crowd.step(t[0], DT, world, gate)
        return time.perf_counter() - t0

    ours(3)                                           # routes planned, caches warm
    state = np.column_stack([crowd.xy, crowd.vel, crowd._target]).astype(np.float64)
    obstacles = _obstacles(store)
    # numba compiles on the first step: do it on a tiny scene
    pysocialforce.Simulator(state[:2].copy(), obstacles=obstacles[:1]).step(1)
    peer = pysocialforce.Simulator(state.copy(), obstacles=obstacles)

    def theirs(steps: int) -> float:
        t0 = time.perf_counter()
        peer.step(steps)
        return time.perf_counter() - t0

    best_ours = ours(ours_steps) / ours_steps
    best_peer = theirs(PEER_STEPS) / PEER_STEPS
    best_ours = min(best_ours, ours(ours_steps) / ours_steps)  # the peer's slow step between
    ratio = best_peer / best_ours
    benchmark.extra_info.update({
        "shoppers": n, "obstacle_segments": len(obstacles),
        "ours_step_ms": round(1000 * best_ours, 2),
        "pysocialforce_step_ms": round(1000 * best_peer, 2),
        "ours_agent_steps_per_s": round(n / best_ours),
        "pysocialforce_agent_steps_per_s": round(n / best_peer),
        "ratio": round(ratio, 1)})
    benchmark.pedantic(lambda: ours(1), rounds=speed.size(3, 1), iterations=1)
    world.close()
    # nobody went through a fixture or a wall on the way
    assert crowd.nav.is_free(crowd.xy).all()
    assert np.isfinite(ratio) and ratio > 0
    speed.target("ours >= 10x pysocialforce agent-steps/s", ratio >= 10.0, benchmark.extra_info)
