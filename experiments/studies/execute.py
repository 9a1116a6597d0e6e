"""Executing a study: each run in a worker (:func:`execute` never raises: a failure is a
failed row), on a local process pool or on Ray, skipping the runs the results store
already holds (:func:`run_study`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from experiments.studies.results import (
    STATUS_FAILED,
    STATUS_OK,
    ResultsError,
    atomic_write_text,
    clean_stale_tmp,
    finished,
    gather,
    metrics_row,
    write_row,
)
from experiments.studies.spec import EXECUTORS, load_study
from experiments.studies.sweep import RunParams, RunSpec, expand, prepare


def pick_dead(rng_key: tuple[int, ...], n: int, fraction: float) -> tuple[int, ...]:
    k = int(round(fraction * n))
    if k <= 0:
        return ()
    rng = np.random.default_rng(list(rng_key))
    return tuple(int(i) for i in np.sort(rng.choice(n, size=min(k, n), replace=False)))


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    try:
        v = version("storetwin")
    except PackageNotFoundError:
        v = "unknown"
    return {"storetwin_version": v, "python": platform.python_version(),
            "numpy": np.__version__, "host_cpus": os.cpu_count() or 1}


def execute(params: RunParams, prepared: dict | None) -> dict:
    """Run one study line and return its row (never raises: a failure is a failed row)."""
    row = {"status": STATUS_OK, "error": None, **_versions(),
           "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        row.update(_execute(params, prepared or {}))
    except Exception as e:   # noqa: BLE001 - any failure of a run is that run's result
        tb = traceback.extract_tb(e.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        row.update(status=STATUS_FAILED, error=f"{type(e).__name__}: {e}{where}")
    return row


def _faults(p: RunParams):
    if not p.faults_doc:
        return None
    import json

    from twin.faults import faults_from_dict
    return faults_from_dict(json.loads(p.faults_doc), f"fault schedule {p.faults}")


def _execute(p: RunParams, prep: dict) -> dict:
    from experiments.runs.scenario import make_core
    if p.scenario is not None:
        from dataclasses import replace

        from agents.scenario import load_scenario
        from experiments.runs.scenario import run_scenario
        sc = load_scenario(p.scenario)
        if p.seed is not None:
            sc = replace(sc, seed=p.seed)
        out = prep.get("view_dir")     # storetwin study --view: the run's folder and viewer
        res = run_scenario(sc, out=out, core=make_core(p.core), core_name=p.core)
        if out is not None:
            from experiments.view.page import write_view
            write_view(out)
        m = metrics_row(res.run.metrics, res.run.timing)
        m["ran_as_written"] = bool(res.ran_as_written)
        m["store"] = res.run.metrics["run"]["store"]
        return m
    from experiments.runs.config import RunConfig
    from experiments.runs.run import run
    seed = p.seed
    cams, plates = prep["cameras"], prep["plates"]
    cfg = RunConfig(store=prep["store_file"], minutes=p.minutes, shoppers=p.shoppers,
                    seed=seed, layout=prep["layout_path"], record_streams=False,
                    panel=int(p.panel or 0), look_taste=float(p.look_taste or 0),
                    pseudonym_key=p.pseudonym_key,
                    warm_start=p.warm_start, core_process=p.core_process,
                    dead_cameras=pick_dead((seed, 1), cams, p.dead_camera_fraction),
                    dead_plates=pick_dead((seed, 2), plates, p.dead_plate_fraction),
                    faults=_faults(p))
    out = prep.get("view_dir")     # storetwin study --view: the run's folder and its viewer
    res = run(cfg, out=out, core=make_core(p.core))
    if out is not None:
        from experiments.view.page import write_view
        write_view(out)
    m = metrics_row(res.metrics, res.timing)
    m["peak_in_store"] = _peak_in_store(res.crowd)
    m.update({k: prep[k] for k in ("floor_k1", "floor_k2", "bins_k1", "cost_cameras_usd",
                                   "cost_plates_usd", "cost_install_usd", "cost_total_usd")})
    return m


def _peak_in_store(crowd) -> float | None:
    """The most shoppers inside at once (ground truth: entries and exits), for the sizing."""
    if crowd is None:
        return None
    import numpy as np

    from experiments.sizing.load import peak_occupancy
    recs = list(crowd.roster.values())
    return float(peak_occupancy(np.array([r.enter_t for r in recs], dtype=np.float64),
                                np.array([r.exit_t for r in recs], dtype=np.float64)))


@dataclass
class StudyOutcome:
    total: int
    skipped: int        # already in the store when the study started
    done: int           # finished ok in this call
    failed: int         # failed in this call
    results: Path
    wall_s: float


def _quiet_worker() -> None:
    """A worker's stdout goes nowhere: native libraries print banners there (pybullet), and
    a run reports through its row, not the terminal."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _pool(jobs: list[tuple[RunSpec, dict]], workers: int, on_row: Callable[[dict], None]
          ) -> list[tuple[RunSpec, dict]]:
    """Run ``jobs`` on a pool of spawned workers; returns the jobs lost to a worker that
    died (a dead worker breaks the whole pool, so which run killed it is not known)."""
    import multiprocessing as mp
    lost: list[tuple[RunSpec, dict]] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_quiet_worker) as pool:
        futs = {pool.submit(execute, spec.params, prep): (spec, prep) for spec, prep in jobs}
        todo = set(futs)
        while todo:
            done, todo = wait(todo, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    row = f.result()
                except BrokenProcessPool:
                    lost.append(futs[f])
                    continue
                on_row(futs[f][0], row)
    return lost


def _local(jobs: list[tuple[RunSpec, dict]], workers: int,
           on_row: Callable[[RunSpec, dict], None]) -> None:
    """A local process pool. Runs lost to a dying worker are rerun alone, each in a fresh
    one-worker pool: the one that kills its worker again is recorded as failed."""
    lost = _pool(jobs, workers, on_row)
    for job in lost:
        if _pool([job], 1, on_row):
            on_row(job[0], {"status": STATUS_FAILED, **_versions(),
                            "error": "the worker process died (killed, or crashed in native "
                                     "code) while running this run"})


def _ray(jobs: list[tuple[RunSpec, dict]], workers: int, address: str | None,
         on_row: Callable[[RunSpec, dict], None]) -> None:
    try:
        import ray
    except ImportError:
        raise ResultsError("--executor ray needs Ray: pip install 'storetwin[ray]' "
                           "(or pip install ray)") from None
    started = not ray.is_initialized()
    if started:
        kw = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False, **kw)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(execute)
        refs = {remote.remote(spec.params, prep): spec for spec, prep in jobs}
        todo = list(refs)
        while todo:
            done, todo = ray.wait(todo, num_returns=1)
            for ref in done:
                spec = refs[ref]
                try:
                    row = ray.get(ref)
                except Exception as e:   # noqa: BLE001 - a worker died or Ray failed the task
                    row = {"status": STATUS_FAILED, "error": f"ray task failed: "
                           f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                           **_versions()}
                on_row(spec, row)
    finally:
        if started:
            ray.shutdown()


def run_study(study_file: str | Path, results: str | Path, *, executor: str = "local",
              workers: int | None = None, address: str | None = None,
              retry_failed: bool = False, progress: bool = False, view: bool = False,
              log: Callable[[str], None] = lambda s: None) -> StudyOutcome:
    """Expand a study, run what the results store lacks, and gather ``results.parquet``.

    view: also keep each run's folder (no streams) at ``RESULTS/runs/RUN_ID/`` with its
    browser viewer (``storetwin view``) in ``view/``, which the report links to."""
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}: allowed {', '.join(EXECUTORS)}")
    t0 = time.perf_counter()
    study = load_study(study_file)
    res = Path(results)
    try:
        res.mkdir(parents=True, exist_ok=True)
        (res / "runs").mkdir(exist_ok=True)
    except OSError as e:
        raise ResultsError(f"{results}: cannot create the results folder ({e.strerror})"
                           ) from None
    for f in clean_stale_tmp(res):      # a writer killed mid-write left these
        log(f"removed {f.name}, left by a run killed while writing")
    atomic_write_text(res / "study.toml", study.text or Path(study_file).read_text())
    atomic_write_text(res / "prices.json", json.dumps(study.prices.as_dict(), indent=2) + "\n")
    specs = expand(study)
    # results.parquet is the gathered rows of a finished study: gone while this one runs, so
    # a reader of a study killed mid-way gets runs/*.parquet, never an older gathering
    (res / "results.parquet").unlink(missing_ok=True)
    have = finished(res)
    skip = {rid for rid, st in have.items() if st == STATUS_OK or not retry_failed}
    todo = [s for s in specs if s.run_id not in skip]
    prepared = prepare(todo, res, study, log)
    jobs = []
    for s in todo:
        prep = None
        if s.params.layout_file is not None:
            prep = {**prepared[s.params.layout_file],
                    "layout_path": str(res / s.params.layout_file)}
        if view:
            prep = {**(prep or {}), "view_dir": str(res / "runs" / s.run_id)}
        jobs.append((s, prep))
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    counts = {"done": 0, "failed": 0}
    n_old_ok = sum(1 for x in specs if have.get(x.run_id) == STATUS_OK)
    n_old_failed = sum(1 for x in specs if x.run_id in skip) - n_old_ok
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(specs), initial=len(specs) - len(todo), unit="run",
                   desc=study.name, file=sys.stderr)
        bar.set_postfix(done=n_old_ok, failed=n_old_failed, remaining=len(todo))

    def on_row(spec: RunSpec, row: dict) -> None:
        row = {**spec.params.columns(), **row, "run_id": spec.run_id, "study": study.name}
        if row.get("layout_file") and row["layout_file"] in prepared and row.get(
                "area_sqft") is None:
            row["area_sqft"] = prepared[row["layout_file"]]["area_sqft"]
        write_row(res, row)
        counts["done" if row["status"] == STATUS_OK else "failed"] += 1
        if row["status"] != STATUS_OK:
            log(f"run {row['run_id']} failed: {row['error']}")
        if bar is not None:
            bar.update(1)
            bar.set_postfix(done=n_old_ok + counts["done"],
                            failed=n_old_failed + counts["failed"],
                            remaining=len(todo) - counts["done"] - counts["failed"])

    try:
        if jobs:
            if executor == "ray":
                _ray(jobs, n_workers, address, on_row)
            else:
                _local(jobs, n_workers, on_row)
    finally:
        if bar is not None:
            bar.close()
    gather(res, [s.run_id for s in specs])
    return StudyOutcome(len(specs), len(specs) - len(todo), counts["done"], counts["failed"],
                        res, round(time.perf_counter() - t0, 3))
