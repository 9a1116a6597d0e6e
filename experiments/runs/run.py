"""One run: the twin built (experiments/runs/assembly.py), the clock driven, every sensor
batch fed to the core (and to the recorder), ground truth kept on the side, then the scores
and the run folder.

``run(RunConfig(...), out=...)`` is what ``storetwin run``, a scenario, a study's run, the
benchmark suite and the pytest plugin call.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.crowd import ScriptedShopper
from core.checkpoint import checkpoint, restore
from core.ledger import ledger_json
from core.protocol import Core
from core.records import Receipt
from core.store_core import StoreCore
from experiments.runs.assembly import Twin, build_twin
from experiments.runs.config import RunConfig, RunResult
from experiments.runs.guard import CoreFault, check_accounted, check_receipts, check_step
from experiments.runs.metrics import (
    billing_truth,
    core_metrics,
    fault_metrics,
    run_metrics,
    run_timing,
)
from experiments.runs.outputs import commit_folder, partial_folder, write_run_folder
from experiments.scoring.billing import score_billing
from experiments.scoring.streaming import TrackRowWriter, tracking_scores_from_files
from twin.faults import Delivery, FaultInjector
from twin.streams import StreamRecorder


@dataclass
class _Loop:
    """What the tick loop collects: receipts, ground-truth and track rows, counts, core time.
    """
    twin: Twin
    skus: set[str]
    warm_arr: np.ndarray
    recorder: StreamRecorder | None
    core_s: float = 0.0
    receipts: list[Receipt] = field(default_factory=list)
    gt: TrackRowWriter | None = None     # ground truth and the core's tracks, to disk as
    hy: TrackRowWriter | None = None     # they come (memory flat in simulated time)
    tick_t: deque = field(default_factory=deque)  # piped: each unanswered tick's time
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        ("detections", "plate_samples", "frames", "people"), 0))
    faults: FaultInjector | None = None
    delivery: Delivery | None = None
    restart: _Restart | None = None
    health: dict | None = None          # the core's sensor_health(), when it has one

    def collect(self, tracks, issued) -> None:
        self.receipts.extend(issued)
        for tr in tracks:
            self.hy.add(tr.frame, tr.t, tr.track_id, tr.xy)

    def drain(self) -> None:
        """What the core in its own process answered so far (not kept till the end)."""
        for out_b in self.twin.piped.take():
            self.collect(*check_step(out_b, self.tick_t.popleft(), self.skus))

    def feed(self, b) -> None:
        """One batch through the faults (if any) to the recorder and the core (in this
        process, or sent to its own)."""
        if self.faults is not None:
            b = self.faults.apply(b)
        c = self.counts
        for f in b.frames:
            c["detections"] += len(f)
        for p in b.plates:
            c["plate_samples"] += p.grams.size
        if self.recorder is not None:
            self.recorder.add(b)
        if self.delivery is not None:
            b = self.delivery.push(b)
        self.deliver(b)

    def deliver(self, b) -> None:
        core = self.twin.core
        if core is not None:
            if self.restart is not None:
                self.restart.before(self, b)
                core = self.twin.core
            self.step(core, b)
        else:
            self.twin.piped.submit(b)
            self.tick_t.append(b.t)
            if len(self.tick_t) > 600:
                self.drain()

    def step(self, core, b) -> None:
        t1 = time.perf_counter()
        try:
            out_b = core.step(b)
        except Exception as e:  # noqa: BLE001 - the core's failure, with its tick
            raise CoreFault(b.t, f"{type(e).__name__}: {e}") from e
        self.core_s += time.perf_counter() - t1
        self.collect(*check_step(out_b, b.t, self.skus))

    def truth(self, tick) -> None:
        """The people in the store at a camera tick (warm-started ones left out)."""
        self.counts["frames"] += 1
        self.counts["people"] += tick.people_id.size
        pid, pxy = tick.people_id, tick.people_xy
        if self.warm_arr.size:
            keep = ~np.isin(pid, self.warm_arr)
            pid, pxy = pid[keep], pxy[keep]
        self.gt.add(tick.frame, tick.batch.t, pid, pxy)

    def finish(self, end: float, key: bytes):
        """The core's last receipts at ``end``: (stats, journeys, ledger, wait for the core)."""
        if self.delivery is not None:
            late = self.delivery.flush(end)
            if late is not None:
                self.deliver(late)
        core, piped = self.twin.core, self.twin.piped
        if piped is None:
            stats = getattr(core, "stats", None)
            t1 = time.perf_counter()
            try:
                final = core.finish(end)
            except Exception as e:  # noqa: BLE001
                raise CoreFault(end, f"finish: {type(e).__name__}: {e}") from e
            self.collect(list(getattr(core, "final_tracks", [])), [])
            self.receipts.extend(check_receipts(final, end, self.skus))
            self.core_s += time.perf_counter() - t1
            jt = getattr(core, "journeys", None)
            health = getattr(core, "sensor_health", None)
            self.health = health() if callable(health) else None
            return stats, jt(key) if callable(jt) else None, ledger_json(core), None
        steps, final, self.core_s, summary = piped.finish(end)
        for t_b, out_b in zip(list(self.tick_t), steps, strict=True):
            self.collect(*check_step(out_b, t_b, self.skus))
        self.tick_t.clear()
        self.collect(list(summary.final_tracks), [])
        self.receipts.extend(check_receipts(final, end, self.skus))
        self.health = summary.health
        return summary.stats, summary.journeys, summary.ledger, piped.finish_wait_s

    def tracking(self) -> dict:
        """The tracking scores, from the two track files (read back in chunks)."""
        self.gt.close()
        self.hy.close()
        return tracking_scores_from_files((self.gt.path, "shopper_id"),
                                          (self.hy.path, "track_id"), 1.0)


class _Restart:
    """The core's checkpoints and its crash (a fault schedule's ``[core]``): the core's
    state is pickled every ``every_s`` of simulated time; at ``crash_at_s`` the core is
    dropped (what it said since its last checkpoint is lost with it), a new one is
    unpickled from that checkpoint and the batches delivered since are fed to it again, as
    a store's message log would after a restart. What the lost core had issued since the
    checkpoint the new one issues again (receipts are idempotent per account and visit)."""

    def __init__(self, crash_at_s: float | None, every_s: float) -> None:
        self.crash_at_s = crash_at_s
        self.every_s = every_s
        self.next_t = 0.0
        self.state: bytes | None = None
        self.mark = 0                       # receipts issued at the checkpoint
        self.since: list = []               # batches delivered since the checkpoint
        self.crashed_at: float | None = None
        self.replayed = 0
        self.checkpoints = 0

    def before(self, loop: _Loop, b) -> None:
        if self.crash_at_s is not None and self.crashed_at is None and b.t >= self.crash_at_s:
            self.crash(loop, b.t)
        if b.t >= self.next_t:
            self.state = checkpoint(loop.twin.core)
            self.mark = len(loop.receipts)
            loop.hy.commit()             # the tracks so far are the checkpoint's
            self.since = []
            self.checkpoints += 1
            self.next_t = (math.floor(b.t / self.every_s + 1e-9) + 1) * self.every_s
        self.since.append(b)

    def crash(self, loop: _Loop, t: float) -> None:
        self.crashed_at = t
        if self.state is None:
            raise CoreFault(t, "the core crashed before its first checkpoint")
        del loop.receipts[self.mark:]
        loop.hy.discard()                # what the lost core tracked since
        loop.twin.core = restore(self.state)
        for old in self.since:
            loop.step(loop.twin.core, old)
        self.replayed = len(self.since)


def _drive(loop: _Loop, duration: float, stop_after_scripted_s: float | None, bar) -> float:
    """Run the clock to ``duration`` (or until the scripted shoppers are done, plus
    ``stop_after_scripted_s``); returns the simulated time it stopped at."""
    crowd = loop.twin.crowd
    end, done_at, last = duration, None, 0
    for tick in loop.twin.sim.run(duration):
        b = tick.batch
        if stop_after_scripted_s is not None:
            if done_at is None and crowd.done:
                done_at = b.t
            if done_at is not None and b.t >= done_at + stop_after_scripted_s:
                end = b.t
                break
        loop.feed(b)
        if tick.frame >= 0:
            loop.truth(tick)
        if bar is not None and int(b.t) > last:
            bar.update(int(b.t) - last)
            last = int(b.t)
    return end


def _faults(loop: _Loop, config: RunConfig, twin: Twin) -> None:
    """The run's fault schedule on the loop: the injector, the delivery, the restarts."""
    f = config.faults
    if f is None or f.empty:
        return
    loop.faults = f.resolve(len(twin.cameras.camera), twin.store.bins.n_plates, config.seed)
    if f.streams.late_s > 0:
        loop.delivery = Delivery(f.streams.late_s, config.seed)
    if f.core.crash_at_s is not None:
        if twin.core is None:
            from experiments.runs.assembly import ConfigError
            raise ConfigError("faults: [core] crash_at_s restarts the core in this process; "
                              "run it without --core-process / --core-deadline")
        loop.restart = _Restart(f.core.crash_at_s, f.core.checkpoint_s)


def run(config: RunConfig, out: str | Path | None = None, core: Core | None = None,
        progress: bool = False, scripted: tuple[ScriptedShopper, ...] = (),
        stop_after_scripted_s: float | None = None) -> RunResult:
    """Simulate ``config.minutes`` of the store and score the core's receipts and tracks.

    ``scripted``: shoppers with given actions (a scenario) beside the sampled crowd; with
    ``stop_after_scripted_s`` the run stops that many seconds after the last of them left
    (or at ``config.minutes``, whichever comes first).

    ``out``: the run folder. The run writes into a partial folder beside it (streams as they
    are produced) and puts it in place of ``out`` whole once complete: a run killed midway
    leaves the earlier folder as it was, never new files mixed with old."""
    t_wall0 = time.perf_counter()
    tmp = partial_folder(Path(out)) if out is not None else None
    try:
        result = _run(config, tmp, core, progress, scripted, stop_after_scripted_s, t_wall0)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if tmp is not None:
        commit_folder(tmp, Path(out))
    return result


def _run(config: RunConfig, out: Path | None, core: Core | None, progress: bool,
         scripted: tuple[ScriptedShopper, ...], stop_after_scripted_s: float | None,
         t_wall0: float) -> RunResult:
    from experiments.scoring.insights import pseudonym_key
    key = pseudonym_key(config.pseudonym_key or f"seed:{config.seed}")
    twin = build_twin(config.twin(scripted), core if core is not None else StoreCore(),
                      core_process=config.core_process,
                      core_deadline_s=config.core_deadline_s, journey_key=key)
    warm_ids = {int(i) for i in twin.crowd.ids} if twin.config.warm_start else set()
    warm_accounts = set(twin.crowd.carts) if twin.config.warm_start else set()
    setup_s = time.perf_counter() - t_wall0 - twin.core_start_s
    duration = config.minutes * 60.0
    loop = _Loop(twin, {str(x) for x in twin.store.catalogue.sku},
                 np.array(sorted(warm_ids), dtype=np.int64),
                 StreamRecorder(config.clock.plate_hz,
                                None if out is None else out / "streams")
                 if config.record_streams else None,
                 core_s=twin.core_start_s)
    try:
        _faults(loop, config, twin)
    except BaseException:
        twin.close()
        raise
    scratch = tempfile.TemporaryDirectory(prefix="storetwin-tracks-") if out is None else None
    base = Path(scratch.name) if scratch is not None else out
    loop.gt = TrackRowWriter(base / "ground_truth" / "tracks.parquet", "shopper_id")
    loop.hy = TrackRowWriter(base / "tracks.parquet", "track_id", hold=loop.restart is not None)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=int(duration), unit="sim s", desc=f"{config.store} seed {config.seed}",
                   leave=False)
    try:
        end = _drive(loop, duration, stop_after_scripted_s, bar)
        stats, journeys, ledger, core_wait_s = loop.finish(end, key)
    except BaseException:
        twin.close()
        if loop.recorder is not None:
            loop.recorder.close()
        raise
    if bar is not None:
        bar.close()
    twin.world.close()
    sim_wall = time.perf_counter() - t_wall0
    try:
        return _score(config, twin, loop, end, scripted, warm_accounts, len(warm_ids), out,
                      stats=stats, journeys=journeys, ledger=ledger, key=key,
                      times=(t_wall0, sim_wall, setup_s, core_wait_s))
    finally:
        if scratch is not None:
            scratch.cleanup()


def _score(config: RunConfig, twin: Twin, loop: _Loop, end: float, scripted, warm_accounts,
           n_warm: int, out, *, stats, journeys, ledger, key, times) -> RunResult:
    """Score a finished run against ground truth and write its folder (ground truth only
    from here on)."""
    t_wall0, sim_wall, setup_s, core_wait_s = times
    store, crowd, receipts = twin.store, twin.crowd, loop.receipts
    scored, issued, review, latencies, visits, alerts = billing_truth(
        crowd, receipts, end=end, unscored_tail_s=config.unscored_tail_s,
        scripted_accounts={s.account for s in scripted}, warm=bool(warm_accounts))
    billing = score_billing(scored, issued, store.catalogue.prices(), review, **alerts)
    tracking = loop.tracking()
    if latencies is None:
        exits = {e.account: e.t for e in crowd.truth if e.action == "exit"}
        latencies = [r.t_issued - exits[r.account] for r in receipts if r.account in exits]
    metrics = run_metrics(config, store, crowd, billing.as_dict(), tracking,
                          core_metrics(stats, loop.counts, receipts, latencies), loop.counts,
                          len(twin.cameras.camera), store.bins.n_plates, len(scored), n_warm)
    timing = run_timing(wall=time.perf_counter() - t_wall0, end=end, sim_wall=sim_wall,
                        core_s=loop.core_s, counts=loop.counts, setup_s=setup_s,
                        stage_s=getattr(twin.sim, "stage_s", {}), core_wait_s=core_wait_s)
    check_accounted(stats, end)
    if loop.health is not None:
        metrics["core"]["sensor_health"] = loop.health
    if loop.faults is not None:
        metrics["faults"] = fault_metrics(loop.faults, loop.restart, end)
    insights = None
    if config.panel > 0 and journeys is not None:
        from experiments.scoring.insights import analyse
        latent = {r.account: r.preferences for r in crowd.roster.values() if r.preferences}
        insights = analyse(store, journeys, [v for v in visits if v[2] <= end], latent, key)
        metrics["insights"] = insights.metrics
    result = RunResult(metrics, timing, receipts, scored, crowd, end, journeys)
    if out is not None:
        write_run_folder(Path(out), config, store, result, ledger=ledger,
                         knowledge=twin.knowledge, visits=visits,
                         insights=insights, recorder=loop.recorder,
                         fault_truth=loop.faults.truth(end) if loop.faults else None)
    return result
