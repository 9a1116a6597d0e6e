"""Per-tick cost of the twin and of the core on the kiosk with a crowd walking.

Benchmarks measure and record (``extra_info``); they assert no wall-clock time. With the
default ``--benchmark-disable`` each runs its target once, as a cheap smoke test; run
``pytest tests/benchmarks --benchmark-enable`` for the numbers.

One module-scoped simulation is warmed up for 60 simulated seconds with a crowd arriving
fast enough to have ~15 people walking; the warm-up's sensor batches are kept for the core.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from agents.crowd import Crowd, ShopperConfig
from core.records import SensorBatch
from core.store_core import StoreCore
from experiments.runs.knowledge import store_knowledge
from scenes.presets import load_preset
from scenes.store import Store
from twin.cameras import CameraSystem, DetectionModel
from twin.camgeom import ceiling_grid
from twin.sensors import EntryGate, LoadCellModel, PlateSensors
from twin.sim import Clock, Simulation, Tick
from twin.world import PhysicsConfig, World

WARMUP_S = 60.0        # simulated warm-up [s]
CORE_ROUNDS = 20       # benchmarked core ticks, each on its own recorded batch
# arrivals at 15 / 48 s: ~15 people in the kiosk after a minute (a steady 15 would take ~3 min)
CROWD = ShopperConfig(shoppers_in_store=15.0, mean_trip_s=48.0)


@dataclass
class Warm:
    store: Store
    clock: Clock
    world: World
    crowd: Crowd
    sim: Simulation
    ticks: object                 # the running Iterator[Tick]
    batches: list[SensorBatch]    # every batch of the warm-up, in order
    loadcell: LoadCellModel
    cams: object
    people_after_warmup: int

    @property
    def cycle(self) -> int:
        """Base ticks after which cameras, policy and plate messages all line up."""
        c = self.clock
        return math.lcm(c.camera_every, c.policy_every, self.loadcell.samples_per_message)


@pytest.fixture(scope="module")
def warm() -> Iterator[Warm]:
    store = load_preset("kiosk")
    clock = Clock()
    rng_crowd, rng_cam, rng_plate = (np.random.default_rng(s)
                                     for s in np.random.SeedSequence(11).spawn(3))
    cams = ceiling_grid(store)
    loadcell = LoadCellModel(plate_hz=clock.plate_hz)
    world = World(store, PhysicsConfig(physics_hz=clock.physics_hz))
    crowd = Crowd(store, CROWD, rng_crowd)
    sim = Simulation(world, crowd, CameraSystem(store, cams, DetectionModel(), rng_cam),
                     PlateSensors(len(store.bins), loadcell, rng_plate), EntryGate(), clock)
    ticks = sim.run(3600.0)
    batches = [next(ticks).batch for _ in range(int(WARMUP_S * clock.plate_hz))]
    yield Warm(store, clock, world, crowd, sim, ticks, batches, loadcell, cams, len(crowd.ids))
    world.close()


def _merge_plates_into_frames(batches: list[SensorBatch]) -> list[SensorBatch]:
    """The clock never puts a plate message and a camera frame in the same tick (messages
    close on ticks 11, 23, ..., frames fire on 0, 4, 8, ...), so fold every batch without
    a frame into the next batch that has one: the core sees the same records, in the same
    order, with a plate message riding on every third frame."""
    out, held = [], []
    for b in batches:
        held.append(b)
        if b.frames:
            out.append(SensorBatch(
                b.t, frames=b.frames,
                plates=tuple(p for h in held for p in h.plates),
                gate=tuple(g for h in held for g in h.gate)))
            held = []
    return out


def test_twin_tick(benchmark, warm):
    """World + crowd + cameras + plates: one cycle of base ticks (3 camera frames, 3
    policy steps, 1 plate message) with the crowd already in the store."""
    n = warm.cycle
    seen: list[Tick] = []

    def advance() -> None:
        for _ in range(n):
            seen.append(next(warm.ticks))

    benchmark.pedantic(advance, rounds=30, warmup_rounds=1)
    frames = [f for tk in seen for f in tk.batch.frames]
    people = [tk.people_id.size for tk in seen if tk.people_id is not None]
    assert frames and min(people) >= 5, "the crowd should be in the store by now"
    benchmark.extra_info.update(
        ticks_per_round=n,
        people_in_store=round(float(np.mean(people)), 1),
        detections_per_frame=round(float(np.mean([len(f) for f in frames])), 1),
        cameras=int(len(warm.cams.camera)),
        plates=len(warm.store.bins),
        awake_bins=len(warm.world.awake_bins),
    )
    if benchmark.stats is not None:  # --benchmark-enable
        per_round = benchmark.stats.stats.mean
        benchmark.extra_info["ms_per_tick"] = round(1e3 * per_round / n, 4)
        benchmark.extra_info["real_time_factor"] = round(n / warm.clock.plate_hz / per_round, 1)


def test_core_tick(benchmark, warm):
    """StoreCore.step on a recorded batch carrying a camera frame and a plate message
    (see :func:`_merge_plates_into_frames`).

    The core first consumes the warm-up up to the last ``CORE_ROUNDS`` such batches; each
    benchmark round then feeds (untimed) the batches before the next one and times the step
    on it, so every timed step sees fresh data in time order."""
    batches = _merge_plates_into_frames(warm.batches)
    targets = [i for i, b in enumerate(batches) if b.frames and b.plates][-CORE_ROUNDS:]
    assert len(targets) == CORE_ROUNDS
    core = StoreCore()
    core.start(store_knowledge(warm.store, warm.cams, warm.clock, warm.loadcell))
    for b in batches[:targets[0]]:
        core.step(b)
    state = {"next": targets[0]}
    queue = iter(targets)

    def setup():
        i = next(queue)
        for b in batches[state["next"]:i]:
            core.step(b)
        state["next"] = i + 1
        return (batches[i],), {}

    benchmark.pedantic(core.step, setup=setup, rounds=CORE_ROUNDS if benchmark.enabled else 1)
    timed = [batches[i] for i in targets]
    dets = [len(f) for b in timed for f in b.frames]
    benchmark.extra_info.update(
        detections_per_frame=round(float(np.mean(dets)), 1),
        plates=int(timed[0].plates[0].plate.size),
        plate_samples_per_message=int(timed[0].plates[0].grams.size),
        people_in_store=warm.people_after_warmup,
        confirmed_tracks=int(np.unique(core.tracker.history(timed[-1].t, timed[-1].t)[0]).size),
    )
    if benchmark.stats is not None:
        benchmark.extra_info["ms_per_step"] = round(1e3 * benchmark.stats.stats.mean, 4)
