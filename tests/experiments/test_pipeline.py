"""The core in its own process (experiments.pipeline): errors come back named, with the tick.

That a piped run gives the same bytes as one in process is tests/experiments/test_run.py's
``test_same_seed_same_bytes`` (its run "b" is piped).
"""

from __future__ import annotations

import os
import threading

import pytest

from core.store_core import StoreCore
from experiments.pipeline import CoreProcess, CoreProcessError, _context
from experiments.run import RunConfig, run

TINY = dict(minutes=0.25, shoppers=3, record_streams=False, core_process=True)


class FailingCore(StoreCore):
    """Raises on the first tick at or after ``at`` [s] (module level: spawn can import it)."""

    def __init__(self, at: float, how: str = "raise") -> None:
        super().__init__()
        self.at = at
        self.how = how

    def step(self, batch):
        if batch.t >= self.at:
            if self.how == "exit":
                os._exit(3)
            raise ValueError("planted failure")
        return super().step(batch)


class FailingStart(StoreCore):
    def start(self, knowledge):
        raise RuntimeError("cannot start")


def test_a_core_that_raises_is_reported_with_the_tick_time():
    with pytest.raises(CoreProcessError) as e:
        run(RunConfig(**TINY), core=FailingCore(at=5.0))
    msg = str(e.value)
    assert "at t=5.0" in msg and "ValueError: planted failure" in msg


def test_a_core_process_that_dies_is_reported_not_waited_for():
    with pytest.raises(CoreProcessError, match=r"died \(exit code 3\)"):
        run(RunConfig(**TINY), core=FailingCore(at=2.0, how="exit"))


def test_a_core_that_cannot_start_is_reported():
    with pytest.raises(CoreProcessError, match="while starting: RuntimeError: cannot start"):
        run(RunConfig(**TINY), core=FailingStart())


def test_spawn_is_used_when_this_process_runs_threads():
    """fork with threads running can deadlock the child; then a fresh interpreter."""
    assert _context().get_start_method() in ("fork", "spawn")
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert _context().get_start_method() == "spawn"
        # and a spawned core still works: the module-level core class imports in the child
        res = run(RunConfig(**TINY), core=FailingCore(at=1e9))
        assert res.timing["core_process"] and res.metrics["core"]["detections"] > 0
    finally:
        stop.set()
        t.join()


def test_chunk_must_be_positive():
    with pytest.raises(ValueError, match="chunk"):
        CoreProcess(StoreCore(), None, chunk=0)
