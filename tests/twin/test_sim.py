"""The simulation loop's per-stage wall-clock accounting (``Simulation.stage_s``)."""

from __future__ import annotations

import numpy as np

from scenes import load_preset
from twin.cameras import CameraSystem, DetectionModel
from twin.camgeom import ceiling_grid
from twin.sensors import EntryGate, PlateSensors
from twin.sim import STAGES, Clock, Simulation
from twin.world import World


class Stroller:
    """One shopper walking along a line and checking in once (a minimal population)."""

    def __init__(self) -> None:
        self.xy = np.array([1.8, 0.4])
        self.checked_in = False

    def step(self, t: float, dt: float, world: World, gate: EntryGate) -> None:
        if not self.checked_in:
            gate.check_in(t, 7)
            self.checked_in = True
        self.xy = self.xy + np.array([0.0, 1.0]) * dt

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([0], np.int64), self.xy[None].copy()


def test_stage_seconds_start_at_zero_and_grow() -> None:
    store = load_preset("kiosk")
    world = World(store)
    ss = np.random.SeedSequence(5).spawn(2)
    sim = Simulation(world, Stroller(),
                     CameraSystem(store, ceiling_grid(store), DetectionModel(),
                                  rng=np.random.default_rng(ss[0])),
                     PlateSensors(len(store.bins), rng=np.random.default_rng(ss[1])),
                     EntryGate(), Clock())
    try:
        assert set(sim.stage_s) == {"agents", "physics", "plates", "cameras", "gate"}
        assert set(STAGES) == set(sim.stage_s)
        assert all(v == 0.0 for v in sim.stage_s.values())
        n = sum(1 for _ in sim.run(1.0))
        assert n == 60
        first = dict(sim.stage_s)
        assert all(v >= 0.0 for v in first.values())
        assert first["physics"] > 0.0 and first["cameras"] > 0.0 and first["agents"] > 0.0
        for _ in sim.run(0.5):      # accumulated across runs, never reset
            pass
        assert all(sim.stage_s[k] >= first[k] for k in STAGES)
        assert sum(sim.stage_s.values()) > sum(first.values())
    finally:
        world.close()
