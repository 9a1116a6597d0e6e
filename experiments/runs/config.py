"""What one run is asked to do (:class:`RunConfig`) and what it gives back (:class:`RunResult`).

``RunConfig`` is the run's typed config: every field is checked on construction by the one
validation helper (``params``), with one error format. :meth:`RunConfig.twin` is the part the
assembly needs (experiments/runs/assembly.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from agents.crowd import Crowd, ScriptedShopper, ShopperConfig
from agents.population import DEFAULT_CONFIG as POPULATION
from core.records import Receipt
from experiments.runs.assembly import ConfigError, TwinConfig
from params import config, num, seed
from twin.faults import FaultSchedule
from twin.sim import Clock

# a run config (or the twin it asks for) outside what it allows: the name callers catch
RunConfigError = ConfigError


@config(frozen=True, error=RunConfigError)
class RunConfig:
    store: str = "kiosk"
    # simulated time: one simulated second (a camera frame and a plate message at least) to
    # a day
    minutes: float = num(10.0, ge=1 / 60, le=24 * 60, unit="min")
    shoppers: float = num(15.0, ge=0, le=10_000)   # target shoppers in store (steady crowd)
    seed: int = seed()
    # ceiling grid pitch [m], when no layout is given (experiments/runs/assembly.py)
    # (0.5-50 m, as `storetwin layout grid` allows: closer than 0.5 m is no ceiling camera
    # grid, and a near-zero pitch would ask for millions of cameras)
    camera_spacing_m: float = num(2.5, ge=0.5, le=50, unit="m")
    layout: str | None = None       # a camera layout .toml (docs/camera-layout.md)
    dead_cameras: tuple[int, ...] = ()
    dead_plates: tuple[int, ...] = ()
    record_streams: bool = True
    # warm start: ``shoppers`` sampled shoppers already inside at t = 0, mid-trip (a store at
    # its steady crowd without simulating the hours of arrivals that fill it; the scale
    # study's speed runs). The core never saw them enter: tracking is scored on the shoppers
    # who come in through the door only, and billing not at all (see the scoring below).
    warm_start: bool = False
    # the background crowd's own seed (a scenario's [crowd] seed); None: drawn from ``seed``
    crowd_seed: int | None = num(None, ge=0, le=2**63 - 1, integer=True, optional=True)
    # shoppers leaving in the last seconds are not scored
    unscored_tail_s: float = num(10.0, ge=0, unit="s")
    # run the core in its own process, fed while the twin simulates on (experiments.runs.
    # pipeline): on two or more CPU cores the wall time is about the slower of twin and core,
    # not their sum; tracks and receipts are the same either way. The core must be picklable.
    core_process: bool = False
    # a core that leaves a second of ticks unanswered this long [s] is stopped and the run
    # fails with that reason (runs the core in its own process: a hang cannot be cut short
    # in ours); None: no deadline
    core_deadline_s: float | None = num(None, gt=0, le=86400, unit="s", optional=True)
    # returning customers (agents.crowd.ShopperConfig.panel): every arrival one of this many
    # accounts; > 0 also scores the tastes recovered from the core's journeys against the
    # agents' latent ones (experiments.scoring.insights, metrics "insights")
    panel: int = num(0, ge=0, le=1_000_000, integer=True)
    # how much shoppers' tastes choose where they stop to look (agents.population
    # ShopperPopulationConfig.look_taste; 0: at random, as the v1 crowd)
    look_taste: float = num(0.0, ge=0, le=10)
    # the secret behind the journeys' pseudonymous account ids (experiments.scoring.insights
    # pseudonym_key); "": derived from the seed (reproducible, so not secret: give one to
    # share a dataset). Never written to the run folder.
    pseudonym_key: str = ""
    clock: Clock = field(default_factory=Clock)
    # sensors failing mid-run, late messages, skewed clocks, a core that restarts
    # (twin.faults, docs/faults.md); None: none
    faults: FaultSchedule | None = None

    def twin(self, scripted: tuple[ScriptedShopper, ...] = ()) -> TwinConfig:
        """The twin this run simulates: a steady crowd arriving until the end."""
        return TwinConfig(
            store=self.store, seed=self.seed, layout=self.layout,
            camera_spacing_m=self.camera_spacing_m, dead_cameras=self.dead_cameras,
            dead_plates=self.dead_plates, clock=self.clock,
            crowd=ShopperConfig(shoppers_in_store=self.shoppers, panel=self.panel,
                                population=replace(POPULATION,
                                                   look_taste=float(self.look_taste))),
            arrivals_until_s=self.minutes * 60.0, scripted=tuple(scripted),
            crowd_seed=self.crowd_seed,
            warm_start=int(round(self.shoppers)) if self.warm_start and self.shoppers >= 1
            else 0)


@dataclass
class RunResult:
    metrics: dict
    timing: dict
    receipts: list[Receipt]
    truth: dict[int, dict[str, int]]
    crowd: Crowd | None = None      # the ground truth's holder (events, roster, carts)
    end_s: float = 0.0              # simulated time when the run stopped [s]
    journeys: dict | None = None    # the core's journey rows (core.journeys), if it keeps them
