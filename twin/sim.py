"""The clock and the simulation loop.

One base tick per plate sample (``plate_hz``). Each tick: the population acts (at
``policy_hz``), the world steps, every plate is sampled, and at ``camera_hz`` the cameras
see the people. The loop yields one :class:`Tick` per base tick with the sensor batch (what
the core may see) and, separately, the people's true positions (ground truth, for scoring).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.records import SensorBatch
from params import check, config, num
from twin.cameras import CameraSystem
from twin.sensors import EntryGate, PlateSensors
from twin.world import World


@config(frozen=True)
class Clock:
    """Rates [Hz]. ``plate_hz`` is the base tick; the others must divide it."""

    # pybullet steps (half its 240 Hz default; see twin.world)
    physics_hz: float = num(120.0, gt=0, unit="Hz")
    plate_hz: float = num(60.0, gt=0, unit="Hz")
    camera_hz: float = num(15.0, gt=0, unit="Hz")
    policy_hz: float = num(15.0, gt=0, unit="Hz")

    def __post_init__(self) -> None:
        for name in ("camera_hz", "policy_hz"):
            r = self.plate_hz / getattr(self, name)
            check(self, name, not abs(r - round(r)) > 1e-9,
                  f"a rate that divides plate_hz ({self.plate_hz:g} Hz)")
        r = self.physics_hz / self.plate_hz
        check(self, "physics_hz", not abs(r - round(r)) > 1e-9,
              f"a multiple of plate_hz ({self.plate_hz:g} Hz)")

    @property
    def camera_every(self) -> int:
        return int(round(self.plate_hz / self.camera_hz))

    @property
    def policy_every(self) -> int:
        return int(round(self.plate_hz / self.policy_hz))


class Population(Protocol):
    """What the twin needs from the shoppers (``agents`` implements it)."""

    def step(self, t: float, dt: float, world: World, gate: EntryGate) -> None:
        """Advance the shoppers to time ``t`` [s] by ``dt`` [s]: move, act on the world,
        scan at the gate."""

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(s,) int64 ids and (s, 2) float64 floor positions [m] of people in the store."""

    # Optional: ``hands() -> (s, 3)`` float64 hand positions [m] of people reaching into a
    # bin or holding something out to someone (NaN rows for the others), in the order of
    # ``positions``; cameras report them.
    # Optional: ``looks(ids) -> (s, 3, 3)`` uint8 top, bottoms and skin of people ``ids``;
    # cameras describe how each detection looks (twin.appearance).


@dataclass(frozen=True)
class Tick:
    batch: SensorBatch
    frame: int                      # camera frame index, or -1 when no camera fired
    people_id: np.ndarray | None    # ground truth at camera ticks
    people_xy: np.ndarray | None


STAGES = ("agents", "physics", "plates", "cameras", "gate")


class Simulation:
    def __init__(self, world: World, population: Population, cameras: CameraSystem,
                 plates: PlateSensors, gate: EntryGate, clock: Clock | None = None) -> None:
        self.world = world
        self.population = population
        self.cameras = cameras
        self.plates = plates
        self.gate = gate
        self.clock = clock or Clock()
        # Wall-clock seconds spent in each stage of :meth:`run`, accumulated over runs:
        # "agents" (population.step), "physics" (world.step and plate sums), "plates"
        # (plates.sample), "cameras" (positions, hands, cameras.detect), "gate" (flush).
        self.stage_s: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._looks_of: tuple[np.ndarray, np.ndarray] | None = None   # ids, their looks

    def _looks(self, ids: np.ndarray) -> np.ndarray | None:
        """(s, 3, 3) uint8 looks of people ``ids`` (s,) from the population (None: it has
        none), asked again only when the people in the store change."""
        ask = getattr(self.population, "looks", None)
        if ask is None:
            return None
        last = self._looks_of
        if last is None or not np.array_equal(last[0], ids):
            last = self._looks_of = (ids, np.asarray(ask(ids), np.uint8))
        return last[1]

    def run(self, duration_s: float) -> Iterator[Tick]:
        c = self.clock
        n = int(round(duration_s * c.plate_hz))
        dt = 1.0 / c.plate_hz
        frame = 0
        st = self.stage_s
        clk = time.perf_counter
        for i in range(n):
            t = (i + 1) * dt
            t0 = clk()
            if i % c.policy_every == 0:
                self.population.step(t, c.policy_every * dt, self.world, self.gate)
            t1 = clk()
            self.world.step(dt)
            sums = self.world.plate_sums_g()
            t2 = clk()
            msg = self.plates.sample(t, sums)
            t3 = clk()
            frames = ()
            pid = pxy = None
            fi = -1
            if i % c.camera_every == 0:
                pid, pxy = self.population.positions()
                hands = getattr(self.population, "hands", None)
                recv = getattr(self.population, "hand_receivers", None)
                frames = (self.cameras.detect(frame, t, pxy,
                                              hands() if hands is not None else None,
                                              self._looks(pid), pid,
                                              recv() if recv is not None else None),)
                fi = frame
                frame += 1
            t4 = clk()
            g = self.gate.flush()
            t5 = clk()
            st["agents"] += t1 - t0
            st["physics"] += t2 - t1
            st["plates"] += t3 - t2
            st["cameras"] += t4 - t3
            st["gate"] += t5 - t4
            yield Tick(
                SensorBatch(t, frames, (msg,) if msg is not None else (), (g,) if g else ()),
                fi, pid, pxy,
            )
