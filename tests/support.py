"""Helpers shared by test modules (on pytest's ``pythonpath``; not a test file).

``storetwin(...)`` runs the CLI as a user does, in a subprocess; ``one_error`` asserts the bad-input contract (exit 2, one
``storetwin: error:`` line naming the given words, no traceback); ``walkable_crowd`` puts
people in a store's aisles; ``simulate`` steps a crowd in a physics store without sensors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def outside_env(**extra: str) -> dict[str, str]:
    """This process's environment as a user's shell has it: without the variables pytest-xdist
    sets in its workers (a pytest started from a test would take itself for an xdist worker,
    and pytest-benchmark would switch itself off)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST_", "PYTEST_CURRENT_TEST"))}
    return {**env, **extra}


def storetwin(*args: str, timeout: float = 300, cwd: Path = REPO,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def one_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("storetwin: error: "), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def walkable_crowd(store, n: int, rng: np.random.Generator, gap: float = 0.6) -> np.ndarray:
    """(n, 2) people in the aisles: 0.3 m clear of fixtures, ``gap`` apart (no overlap)."""
    lo, hi = store.fixture_boxes()
    x0, y0, x1, y1 = store.bounds
    out: list[np.ndarray] = []
    while len(out) < n:
        p = rng.uniform([x0 + 0.3, y0 + 0.3], [x1 - 0.3, y1 - 0.8])
        if np.any(np.all((p > lo[:, :2] - 0.3) & (p < hi[:, :2] + 0.3), axis=1)):
            continue
        if out and np.min(np.linalg.norm(np.array(out) - p, axis=1)) < gap:
            continue
        out.append(p)
    return np.array(out)


POLICY_HZ = 15.0


@dataclass
class CrowdRun:
    """What :func:`simulate` saw, per policy step."""
    store: object
    crowd: object
    world: object
    checkins: list[tuple[float, int]] = field(default_factory=list)
    xy: list[np.ndarray] = field(default_factory=list)              # per step (s, 2) [m]
    ids: list[np.ndarray] = field(default_factory=list)
    speed: list[np.ndarray] = field(default_factory=list)           # |velocity| [m/s]
    state: list[list[str]] = field(default_factory=list)
    hands: list[np.ndarray] = field(default_factory=list)           # per step (s, 3) [m]
    desired: dict[int, float] = field(default_factory=dict)         # shopper -> [m/s]


def simulate(store, config, seed: int | np.random.Generator, seconds: float,
             arrivals_until_s: float | None = None, scripted=(),
             until_done: bool = False) -> CrowdRun:
    """World + gate + crowd stepped at the policy rate (no cameras, no plates); with
    ``until_done`` it stops once every scripted shopper has left."""
    from agents.crowd import Crowd
    from twin.sensors import EntryGate
    from twin.world import World

    world, gate = World(store), EntryGate()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    crowd = Crowd(store, config, rng, arrivals_until_s, scripted=scripted)
    run = CrowdRun(store, crowd, world)
    dt = 1.0 / POLICY_HZ
    for k in range(int(round(seconds * POLICY_HZ))):
        t = (k + 1) * dt
        crowd.step(t, dt, world, gate)
        world.step(dt)
        rec = gate.flush()
        if rec is not None:
            run.checkins += list(zip(rec.t.tolist(), rec.account.tolist(), strict=True))
        ids, xy = crowd.positions()
        run.ids.append(ids)
        run.xy.append(xy)
        run.speed.append(np.linalg.norm(crowd.vel, axis=1))
        run.state.append([crowd.shoppers[int(s)].state for s in ids])
        run.hands.append(crowd.hands())
        for s in ids:
            run.desired[int(s)] = crowd.shoppers[int(s)].speed
        if until_done and crowd.done:
            break
    world.close()
    return run


# A small real study shared by tests/experiments/test_study.py and test_report.py (run once
# per session by the ``small_study`` fixture of tests/experiments/conftest.py): two ceiling
# grids on the kiosk for six minutes (enough for a few shoppers to leave and be billed) and
# one scripted scenario; about 15 s a run on 2 cores.
SMALL_STUDY = """
format = "storetwin-study/1"
name = "small"
description = "Two grids on the kiosk."
minutes = 6
seeds = [4]
shoppers = [6]
cores = ["full"]
target_exact = 0.9
metrics = ["hota", "floor_k2"]

[[stores]]
store = "kiosk"

[[layouts]]
generator = "grid"
spacing_m = [2.5, 4.0]

[[scenarios]]
names = ["pick"]
shoppers_per_shelf = 1
"""
