"""The one assembly: a twin (store, cameras, clock, world, crowd, plates, gate) and its core,
built from one typed config (:class:`TwinConfig`) by :func:`build_twin`.

Every verb that simulates calls it: ``run`` (and through it scenario, study, bench and the
pytest plugin), ``render``, the Gymnasium envs and ``storetwin compile``. Nothing else in
experiments/ constructs a ``World``, ``Crowd``, ``CameraSystem`` or ``Simulation``
(tests/test_architecture.py), so the same options give the same twin everywhere.

Randomness: one ``SeedSequence(seed)`` spawned into independent streams for the crowd, the
cameras and the plates, so the same seed gives the same bytes (with ``crowd_seed``, the
crowd's stream is the one that seed's ``SeedSequence`` spawns first instead).

Cameras: a layout file when one is given, else :func:`default_cameras`, the one camera
default of storetwin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.crowd import Crowd, ScriptedShopper, ShopperConfig
from agents.navigation import NavGrid
from core.knowledge import Cameras, StoreKnowledge
from core.protocol import Core
from experiments.runs.guard import CoreFault
from experiments.runs.knowledge import store_knowledge
from experiments.runs.pipeline import CoreProcess
from params import ParamError, config, num, seed
from scenes.presets import load_store
from scenes.store import Store
from twin.cameras import CameraSystem, DetectionModel
from twin.sensors import EntryGate, LoadCellModel, PlateSensors
from twin.sim import Clock, Simulation
from twin.world import PhysicsConfig, World


class ConfigError(ParamError):
    """A run's or a twin's config outside what it allows (``RunConfigError``)."""


def default_cameras(store: Store, spacing_m: float = 2.5) -> Cameras:
    """storetwin's one camera default: the ``dome-4mp`` model (2688x1520 px, 100 degrees
    across, f = 1128 px; twin/layout.py) looking down from a square ceiling grid of pitch
    ``spacing_m`` [m], 0.2 m under the ceiling, none inside a fixture: the cameras of
    ``storetwin layout grid`` and of a study's ``generator = "grid"`` at the same pitch.

    Until issue 21 ``storetwin run`` built 1280x960 px, 90-degree cameras here (f = 640 px),
    so a study row could not be reproduced with ``storetwin run``; the named, priced model
    the planning tools use won. The old cameras, as a layout file, gave the old runs byte for
    byte (docs/camera-layout.md) until issue 22 measured the hands."""
    from twin.layout import DEFAULT_MODEL
    from twin.placement import grid_layout
    return grid_layout(store, spacing=spacing_m, model=DEFAULT_MODEL).cameras()


def load_cameras(store: Store, layout: str | Path | None, spacing_m: float = 2.5) -> Cameras:
    """The cameras of a layout file, or the default grid at ``spacing_m`` without one."""
    if layout is None:
        return default_cameras(store, spacing_m)
    from twin.layout_toml import load_layout
    return load_layout(layout, store).cameras()


@config(frozen=True, error=ConfigError)
class TwinConfig:
    """One twin: which store, which cameras, which crowd, which faults, which seed."""
    store: str = "kiosk"            # a preset name or a store spec .toml
    seed: int = seed()
    layout: str | None = None       # a camera layout .toml; None: default_cameras
    camera_spacing_m: float = num(2.5, gt=0, unit="m")   # the default grid's pitch
    dead_cameras: tuple[int, ...] = ()   # camera indices that deliver nothing
    dead_plates: tuple[int, ...] = ()    # plate indices that deliver nothing
    crowd: ShopperConfig = field(default_factory=ShopperConfig)
    arrivals_until_s: float | None = num(None, ge=0, unit="s", optional=True)  # None: no end
    scripted: tuple[ScriptedShopper, ...] = ()   # a scenario's shoppers, beside the crowd
    warm_start: int = num(0, ge=0, integer=True)  # sampled shoppers inside, mid-trip, at t=0
    # the crowd's own seed: its stream is then spawned from this seed instead (the cameras
    # and plates keep ``seed``'s), so crowd and sensor noise vary independently
    crowd_seed: int | None = num(None, ge=0, le=2**63 - 1, integer=True, optional=True)
    clock: Clock = field(default_factory=Clock)


@dataclass
class Twin:
    """A built twin: its parts, the store knowledge its core starts from, and the core (in
    this process, ``core``, or in its own, ``piped``). Close it (or use ``with``)."""
    config: TwinConfig
    store: Store
    cameras: Cameras
    loadcell: LoadCellModel
    knowledge: StoreKnowledge
    world: World
    crowd: Crowd
    sim: Simulation
    core: Core | None = None
    piped: CoreProcess | None = None
    core_start_s: float = 0.0       # wall seconds the in-process core took to start

    @property
    def clock(self) -> Clock:
        return self.config.clock

    def close(self) -> None:
        if self.piped is not None:
            self.piped.close()
        self.world.close()

    def __enter__(self) -> Twin:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _masks(cfg: TwinConfig, n_cams: int, n_plates: int) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, ids, n in (("dead_cameras", cfg.dead_cameras, n_cams),
                         ("dead_plates", cfg.dead_plates, n_plates)):
        bad = [i for i in ids if not 0 <= i < n]
        if bad:
            raise ConfigError(f"{name}: ids {bad} out of range [0, {n - 1}]")
        mask = np.zeros(n, dtype=bool)
        mask[list(ids)] = True
        out.append(mask)
    return out[0], out[1]


def build_twin(cfg: TwinConfig, core: Core | None = None, *, core_process: bool = False,
               core_deadline_s: float | None = None, journey_key: bytes | None = None,
               store: Store | None = None, cameras: Cameras | None = None,
               nav: NavGrid | None = None) -> Twin:
    """Build the twin ``cfg`` describes, and start ``core`` (if given) on its knowledge: in
    its own process with ``core_process`` or a ``core_deadline_s`` (started before the world
    is built, so its imports overlap the building), else in this one.

    ``store``, ``cameras``, ``nav``: parts already built from the same config (an env that
    resets keeps them); by default they are built from ``cfg``."""
    store = load_store(cfg.store) if store is None else store
    ss = np.random.SeedSequence(cfg.seed)
    rng_crowd, rng_cam, rng_plate = (np.random.default_rng(s) for s in ss.spawn(3))
    if cfg.crowd_seed is not None:
        rng_crowd = np.random.default_rng(np.random.SeedSequence(cfg.crowd_seed).spawn(3)[0])
    clock = cfg.clock
    cams = load_cameras(store, cfg.layout, cfg.camera_spacing_m) if cameras is None else cameras
    loadcell = LoadCellModel(plate_hz=clock.plate_hz)
    dead_c, dead_p = _masks(cfg, len(cams.camera), store.bins.n_plates)
    knowledge = store_knowledge(store, cams, clock, loadcell)
    piped = None
    if core is not None and (core_process or core_deadline_s is not None):
        piped = CoreProcess(core, knowledge, deadline_s=core_deadline_s, journey_key=journey_key)
    world: World | None = None
    try:
        world = World(store, PhysicsConfig(physics_hz=clock.physics_hz))
        crowd = Crowd(store, cfg.crowd, rng_crowd, arrivals_until_s=cfg.arrivals_until_s,
                      scripted=cfg.scripted, nav=nav)
        if cfg.warm_start:
            crowd.populate(cfg.warm_start)
        sim = Simulation(world, crowd, CameraSystem(store, cams, DetectionModel(), rng_cam,
                                                    dead_c),
                         PlateSensors(store.bins.n_plates, loadcell, rng_plate, dead_p),
                         EntryGate(), clock)
        twin = Twin(cfg, store, cams, loadcell, knowledge, world, crowd, sim,
                    core=None if piped is not None else core, piped=piped)
        if twin.core is not None:
            t0 = time.perf_counter()
            try:
                twin.core.start(knowledge)
            except Exception as e:  # noqa: BLE001 - the core's failure, reported as such
                raise CoreFault(None, f"{type(e).__name__}: {e}") from e
            twin.core_start_s = time.perf_counter() - t0
    except BaseException:
        if piped is not None:
            piped.close()
        if world is not None:
            world.close()
        raise
    return twin
