"""The core in its own process (experiments.runs.pipeline): errors come back named, with the tick.

That a piped run gives the same bytes as one in process is tests/experiments/test_run.py's
``test_same_seed_same_bytes`` (its run "b" is piped).
"""

from __future__ import annotations

import os
import threading

import pytest

from core.store_core import StoreCore
from experiments.runs.config import RunConfig
from experiments.runs.guard import CoreFault
from experiments.runs.pipeline import CoreProcess, CoreProcessError, _context
from experiments.runs.run import run

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
    with pytest.raises(CoreProcessError, match=r"died \(exit code 3\)") as e:
        run(RunConfig(**TINY), core=FailingCore(at=2.0, how="exit"))
    # at the chunk (a second of ticks) it died in, not at the last tick the twin sent
    assert 1.0 <= e.value.t <= 2.0, str(e.value)


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


# --------------------------------------------------------------------------- broken cores


class BadReceiptCore(StoreCore):
    """Bills a SKU the store does not sell on the first receipt it issues."""

    def step(self, batch):
        tracks, receipts = super().step(batch)
        if batch.t >= 3.0:
            from core.records import ProductLine, Receipt
            receipts = [*receipts, Receipt(1, (ProductLine("NOPE", 1),), 100, 0.9, False)]
        return tracks, receipts


HANG_S = 600.0   # how long the hanging core sleeps: far past any deadline a test sets [s]


class HangingCore(StoreCore):
    """Stops answering at t = 2 s for ``HANG_S``; writes ``woke`` if it ever gets past it."""

    def __init__(self, woke):
        super().__init__()
        self.woke = woke

    def step(self, batch):
        if batch.t >= 2.0:
            import time
            time.sleep(HANG_S)
            self.woke.write_text("the run waited for the core")
        return super().step(batch)


@pytest.mark.parametrize("piped", [False, True])
def test_a_malformed_receipt_fails_the_run_naming_the_tick(piped):
    with pytest.raises(CoreFault) as e:
        run(RunConfig(**{**TINY, "core_process": piped}), core=BadReceiptCore())
    assert e.value.t == pytest.approx(3.0, abs=1 / 60 + 1e-9)
    assert "sku 'NOPE' is not in the catalogue" in str(e.value)


def test_a_core_raising_in_process_is_reported_with_the_tick_time():
    with pytest.raises(CoreFault, match=r"at t=5\.0000 s: ValueError: planted failure"):
        run(RunConfig(**{**TINY, "core_process": False}), core=FailingCore(at=5.0))


def test_a_hanging_core_is_stopped_at_its_deadline(tmp_path):
    woke = tmp_path / "woke"
    with pytest.raises(CoreFault, match=r"no answer within the 2 s deadline") as e:
        run(RunConfig(**{**TINY, "core_deadline_s": 2.0}), core=HangingCore(woke))
    assert 1.0 <= e.value.t <= 2.0, str(e.value)     # the chunk it hung in
    # the deadline cut the hang short: the run did not wait for the core to wake (no clock
    # read here, so a loaded machine cannot fail it)
    assert not woke.exists()


def test_cli_reports_a_broken_core_as_a_failed_run(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "broken.py").write_text(
        "from core.store_core import StoreCore\n"
        "class Broken(StoreCore):\n"
        "    def step(self, batch):\n"
        "        if batch.t > 1.0:\n"
        "            return 'oops'\n"
        "        return super().step(batch)\n")
    exe = Path(sys.executable).parent / "storetwin"
    proc = subprocess.run([str(exe), "run", "--minutes", "0.1", "--core", "broken:Broken",
                           "--out", str(tmp_path / "run")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("storetwin:")]
    assert len(line) == 1 and "run failed: core failed at t=1.0" in line[0]
    assert "expected (tracks, receipts)" in line[0]
    fail = json.loads((tmp_path / "run" / "failure.json").read_text())
    assert fail["status"] == "failed" and fail["core"] == "broken:Broken"
