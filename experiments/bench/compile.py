"""Compile the numba kernels for this processor, once, before the first run.

A run's hot loops are numba kernels: the crowd's motion (``agents/_motion_kernels.py``), the
load cells (``twin/_sensor_kernels.py``), the cameras (``twin/_camera_kernels.py``) and the
tracker (``core/_track_kernels.py`` and its parts, ``core/_assign_kernels.py``,
``core/_graph_kernels.py``, ``core/_fusion_kernels.py``) and the shelf detector
(``core/_shelf_kernels.py``). numba compiles each on its first call and keeps the machine
code in its cache (``__pycache__`` beside the module; where that folder is not writable,
the user's cache folder), so only the first run in a new checkout or
install pays: 25-80 s on 2 cores, against a few seconds for the run itself.
``storetwin compile`` pays it ahead (``.ci/setup`` calls it):

1. three groups compiled side by side, one process each (crowd and load cells, cameras,
   tracker), on real objects: a crowd, a camera system on the kiosk, a tracker and shelf
   detector on :mod:`experiments.bench.time_core`'s synthetic stream;
2. a one-minute kiosk run, which loads those and compiles whatever a run calls that the
   groups did not (so the cache holds exactly what a run uses, with a run's argument types).

Run again, it loads everything from the cache in a few seconds.

Stale code: numba keys a cached kernel by its module file's modification time and size, so
an edited kernel module is compiled afresh on its next call. A kernel module therefore
imports nothing of storetwin (``tests/test_architecture.py``): an edit elsewhere could not
invalidate it. The one exception, other kernel modules, it pins: it caches its kernels only
while each one's SHA-256 is the one written in it (``_DEPENDS``; ``tests/kernel_pins.py``).
Each cache entry is also keyed by the processor (name and features): a cache copied to
another machine is recompiled there, not run.
"""

from __future__ import annotations

import importlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

KERNEL_MODULES = ("agents._motion_kernels", "twin._sensor_kernels", "twin._camera_kernels",
                  "twin._cull_kernels", "twin._detect_kernels", "twin._appearance_kernels",
                  "core._graph_kernels",
                  "core._assign_kernels", "core._fusion_kernels", "core._track_kernels",
                  "core._shelf_kernels")


@dataclass(frozen=True)
class GroupReport:
    """One group's compilation: ``compiled`` signatures built now, ``loaded`` from the cache,
    over ``seconds`` of wall time [s]."""

    name: str
    compiled: int
    loaded: int
    seconds: float


def cache_counts(modules: tuple[str, ...] = KERNEL_MODULES) -> tuple[int, int]:
    """(compiled, loaded) signatures of the numba dispatchers defined in ``modules`` (not
    those they import from one another) in this process so far: compiled afresh (cache
    misses) and loaded from numba's cache (hits)."""
    from numba.core.registry import CPUDispatcher

    compiled = loaded = 0
    for name in modules:
        mod = importlib.import_module(name)
        for value in vars(mod).values():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == name:
                stats = value.stats
                compiled += sum(stats.cache_misses.values())
                loaded += sum(stats.cache_hits.values())
    return compiled, loaded


def _crowd() -> None:
    """The crowd's motion and the load cells, as Crowd and PlateSensors warm them."""
    from agents import _motion_kernels
    from twin import _sensor_kernels

    _motion_kernels.warm_up()
    _sensor_kernels.warm_up()


def _cameras() -> None:
    """A frame of the kiosk's default cameras: people in the aisles, one hand in a bin, each
    person described (appearance)."""
    import numpy as np

    from agents.crowd import ShopperConfig
    from experiments.runs.assembly import TwinConfig, build_twin

    with build_twin(TwinConfig(crowd=ShopperConfig(shoppers_in_store=0.0))) as twin:
        store = twin.store
        access = np.asarray(store.bins.access_xy, dtype=np.float64)[:4]
        hands = np.full((len(access), 3), np.nan)
        bin_lo = np.asarray(store.bins.lo, dtype=np.float64)
        bin_hi = np.asarray(store.bins.hi, dtype=np.float64)
        hands[0] = (bin_lo[0] + bin_hi[0]) / 2
        looks = np.full((len(access), 3, 3), 128, np.uint8)      # (appearance, too)
        twin.sim.cameras.detect(0, 0.0, access, hands, looks)


def _tracker() -> None:
    """The tracker and shelf detector on a small synthetic stream (people walking, picks)."""
    import numpy as np

    from experiments.bench.time_core import CoreTick, CoreTickSpec

    tick = CoreTick(CoreTickSpec(tracks=12, cameras=40, plates=60, floor_sqft=2_000.0), np)
    for _ in range(45):
        tick.step()


# longest first: ~13 / 10 / 9 s to compile on one core of the 2-core development machine
_GROUPS = {"tracker": _tracker, "crowd and load cells": _crowd, "cameras": _cameras}


def _group(name: str) -> GroupReport:
    t0 = time.perf_counter()
    _GROUPS[name]()
    return GroupReport(name, *cache_counts(), round(time.perf_counter() - t0, 2))


def _one_minute_run() -> GroupReport:
    from experiments.runs.config import RunConfig
    from experiments.runs.run import run

    t0 = time.perf_counter()
    run(RunConfig(minutes=1.0, shoppers=8.0, record_streams=False, core_process=False))
    return GroupReport("a one-minute run", *cache_counts(), round(time.perf_counter() - t0, 2))


def compile_kernels(workers: int | None = None) -> list[GroupReport]:
    """Compile (or load from numba's cache) every kernel a run calls; one report per group,
    the last one the one-minute run's. ``workers``: processes for the groups (default: one
    per group, whatever the cores: compiling is CPU work, so on 2 cores three processes
    finish the three groups in about half their summed time)."""
    n = workers or len(_GROUPS)
    # spawn: a fresh interpreter per worker (no forked numba or OpenMP state)
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(_group, _GROUPS))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports.append(pool.submit(_one_minute_run).result())
    return reports
