"""One run: the twin built (experiments/runs/assembly.py), the clock driven, every sensor
batch fed to the core (and to the recorder), ground truth kept on the side, then the scores
and the run folder.

``run(RunConfig(...), out=...)`` is what ``storetwin run``, a scenario, a study's run, the
benchmark suite and the pytest plugin call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.crowd import ScriptedShopper
from core.ledger import ledger_json
from core.protocol import Core
from core.records import Receipt
from core.store_core import StoreCore
from experiments.runs.assembly import Twin, build_twin
from experiments.runs.config import RunConfig, RunResult
from experiments.runs.guard import CoreFault, check_receipts, check_step
from experiments.runs.metrics import (
    billing_truth,
    core_metrics,
    run_metrics,
    run_timing,
    tracking_scores,
)
from experiments.runs.outputs import write_run_folder
from experiments.scoring.billing import score_billing
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
    gt_rows: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    hy_rows: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    tick_t: list[float] = field(default_factory=list)  # piped: each tick's time, to name one
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        ("detections", "plate_samples", "frames", "people"), 0))

    def collect(self, tracks, issued) -> None:
        self.receipts.extend(issued)
        for tr in tracks:
            self.hy_rows.append((np.full(tr.track_id.size, tr.frame),
                                 np.full(tr.track_id.size, tr.t), tr.track_id, tr.xy))

    def feed(self, b) -> None:
        """One batch to the recorder and the core (in this process, or sent to its own)."""
        c = self.counts
        for f in b.frames:
            c["detections"] += len(f)
        for p in b.plates:
            c["plate_samples"] += p.grams.size
        if self.recorder is not None:
            self.recorder.add(b)
        core = self.twin.core
        if core is not None:
            t1 = time.perf_counter()
            try:
                out_b = core.step(b)
            except Exception as e:  # noqa: BLE001 - the core's failure, with its tick
                raise CoreFault(b.t, f"{type(e).__name__}: {e}") from e
            self.core_s += time.perf_counter() - t1
            self.collect(*check_step(out_b, b.t, self.skus))
        else:
            self.twin.piped.submit(b)
            self.tick_t.append(b.t)

    def truth(self, tick) -> None:
        """The people in the store at a camera tick (warm-started ones left out)."""
        self.counts["frames"] += 1
        self.counts["people"] += tick.people_id.size
        pid, pxy = tick.people_id, tick.people_xy
        if self.warm_arr.size:
            keep = ~np.isin(pid, self.warm_arr)
            pid, pxy = pid[keep], pxy[keep]
        self.gt_rows.append((np.full(pid.size, tick.frame), np.full(pid.size, tick.batch.t),
                             pid, pxy))

    def finish(self, end: float, key: bytes):
        """The core's last receipts at ``end``: (stats, journeys, ledger, wait for the core)."""
        core, piped = self.twin.core, self.twin.piped
        if piped is None:
            stats = getattr(core, "stats", None)
            t1 = time.perf_counter()
            try:
                final = core.finish(end)
            except Exception as e:  # noqa: BLE001
                raise CoreFault(end, f"finish: {type(e).__name__}: {e}") from e
            self.receipts.extend(check_receipts(final, end, self.skus))
            self.core_s += time.perf_counter() - t1
            jt = getattr(core, "journeys", None)
            return stats, jt(key) if callable(jt) else None, ledger_json(core), None
        steps, final, self.core_s, summary = piped.finish(end)
        for t_b, out_b in zip(self.tick_t, steps, strict=True):
            self.collect(*check_step(out_b, t_b, self.skus))
        self.receipts.extend(check_receipts(final, end, self.skus))
        return summary.stats, summary.journeys, summary.ledger, piped.finish_wait_s

    def columns(self, rows) -> list[np.ndarray]:
        """(frames, times, ids, (n, 2) xy) of the collected rows."""
        cat = [np.concatenate([r[k] for r in rows]) if rows else np.zeros(0) for k in range(4)]
        cat[3] = cat[3].reshape(-1, 2)
        return cat


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


def run(config: RunConfig, out: str | Path | None = None, core: Core | None = None,
        progress: bool = False, scripted: tuple[ScriptedShopper, ...] = (),
        stop_after_scripted_s: float | None = None) -> RunResult:
    """Simulate ``config.minutes`` of the store and score the core's receipts and tracks.

    ``scripted``: shoppers with given actions (a scenario) beside the sampled crowd; with
    ``stop_after_scripted_s`` the run stops that many seconds after the last of them left
    (or at ``config.minutes``, whichever comes first)."""
    t_wall0 = time.perf_counter()
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
                 StreamRecorder(config.clock.plate_hz) if config.record_streams else None,
                 core_s=twin.core_start_s)
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
        raise
    if bar is not None:
        bar.close()
    twin.world.close()
    sim_wall = time.perf_counter() - t_wall0
    return _score(config, twin, loop, end, scripted, warm_accounts, len(warm_ids), out,
                  stats=stats, journeys=journeys, ledger=ledger, key=key,
                  times=(t_wall0, sim_wall, setup_s, core_wait_s))


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
    gt, hy = loop.columns(loop.gt_rows), loop.columns(loop.hy_rows)
    if latencies is None:
        exits = {e.account: e.t for e in crowd.truth if e.action == "exit"}
        latencies = [r.t_issued - exits[r.account] for r in receipts if r.account in exits]
    metrics = run_metrics(config, store, crowd, billing.as_dict(), tracking_scores(gt, hy),
                          core_metrics(stats, loop.counts, receipts, latencies), loop.counts,
                          len(twin.cameras.camera), store.bins.n_plates, len(scored), n_warm)
    timing = run_timing(wall=time.perf_counter() - t_wall0, end=end, sim_wall=sim_wall,
                        core_s=loop.core_s, counts=loop.counts, setup_s=setup_s,
                        stage_s=getattr(twin.sim, "stage_s", {}), core_wait_s=core_wait_s)
    insights = None
    if config.panel > 0 and journeys is not None:
        from experiments.scoring.insights import analyse
        latent = {r.account: r.preferences for r in crowd.roster.values() if r.preferences}
        insights = analyse(store, journeys, [v for v in visits if v[2] <= end], latent, key)
        metrics["insights"] = insights.metrics
    result = RunResult(metrics, timing, receipts, scored, crowd, end, journeys)
    if out is not None:
        write_run_folder(Path(out), config, store, result, ledger=ledger,
                         knowledge=twin.knowledge, gt=gt, hy=hy, visits=visits,
                         insights=insights, recorder=loop.recorder)
    return result
