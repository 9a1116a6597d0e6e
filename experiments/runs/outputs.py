"""A run's folder: every file ``storetwin run`` writes, and the ground-truth tables.

The files (README.md, "Run folder and file formats", says what each holds): receipts.json,
ledger.json, metrics.json, timing.json, config.json, knowledge.json, tracks.parquet,
journeys.parquet, insights/, ground_truth/ (receipts.json, tracks.parquet, events.parquet,
shoppers.parquet, visits.parquet) and streams/.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from agents.crowd import Crowd
from core.records import Receipt
from experiments.runs.knowledge import knowledge_to_json


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (its temporary files are not stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def partial_folder(out: Path) -> Path:
    """A fresh, empty folder beside ``out`` (``.NAME.partial-PID``) that a run writes into;
    :func:`commit_folder` puts it in place of ``out`` once complete. Partial folders of
    runs killed earlier (their process gone) are removed. An unwritable place raises
    OSError here, before anything is simulated."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for old in out.parent.glob(f".{out.name}.partial-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    probe = tmp / ".probe"
    probe.write_text("")
    probe.unlink()
    return tmp


def commit_folder(tmp: Path, out: Path) -> None:
    """``tmp`` becomes ``out``, replacing whatever folder was there whole (nothing of an
    earlier run stays beside the new one); a kill leaves either the old folder or the new."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def write_failure(out: Path, doc: dict) -> Path:
    """A failed run's folder: ``failure.json`` alone, in place of ``out`` (an earlier run's
    results are not left beside it to be taken for this run's)."""
    tmp = partial_folder(out)
    dump(tmp / "failure.json", doc)
    commit_folder(tmp, out)
    return Path(out) / "failure.json"


def receipts_json(receipts: list[Receipt]) -> dict:
    return {"receipts": [r.to_json() for r in sorted(receipts, key=lambda r: r.account)]}


def dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def shoppers_table(crowd: Crowd) -> pa.Table:
    """One row per shopper who entered: id, account, name (scripted), visit type, desired
    speed, body radius, entry and exit times (NaN while inside) and the latent preference
    weights (columns ``pref_*``; NaN for scripted shoppers)."""
    recs = [crowd.roster[k] for k in sorted(crowd.roster)]
    keys = sorted({k for r in recs for k in r.preferences})
    cols = {
        "shopper_id": pa.array([r.sid for r in recs], pa.int64()),
        "account": pa.array([r.account for r in recs], pa.int64()),
        "name": pa.array([r.name for r in recs], pa.string()),
        "visit": pa.array([r.visit for r in recs], pa.string()),
        "speed_mps": pa.array([r.speed_mps for r in recs], pa.float64()),
        "radius_m": pa.array([r.radius_m for r in recs], pa.float64()),
        "enter_t": pa.array([r.enter_t for r in recs], pa.float64()),
        "exit_t": pa.array([r.exit_t for r in recs], pa.float64()),
    }
    for k in keys:
        cols[f"pref_{k}"] = pa.array([float(r.preferences.get(k, np.nan)) for r in recs],
                                     pa.float64())
    return pa.table(cols)


FAULT_SCHEMA = pa.schema([
    ("target", pa.string()), ("id", pa.int64()), ("kind", pa.string()),
    ("start_s", pa.float64()), ("end_s", pa.float64()), ("value", pa.float64())])

JOURNEY_SCHEMA = pa.schema([
    ("account", pa.string()), ("visit", pa.string()), ("t", pa.float64()),
    ("event", pa.string()), ("zone", pa.string()), ("sku", pa.string()),
    ("other_sku", pa.string()), ("quantity", pa.int32()), ("duration_s", pa.float64()),
    ("x", pa.float64()), ("y", pa.float64()), ("confidence", pa.float64())])


def write_journeys(journeys: dict, path: Path) -> None:
    """The core's journey rows (core.journeys.COLUMNS) as Parquet, schema
    :data:`JOURNEY_SCHEMA` (docs/insights.md)."""
    pq.write_table(pa.table({f.name: pa.array(journeys[f.name], f.type)
                             for f in JOURNEY_SCHEMA}, schema=JOURNEY_SCHEMA), path,
                   compression="zstd")


def visits_table(visits) -> pa.Table:
    """Every finished visit's basket (ground truth), one row per SKU kept (an empty
    basket: one row with sku "" and quantity 0): account, enter_t, exit_t, sku, quantity."""
    rows = [(a, e, x, s, q) for a, e, x, cart in visits
            for s, q in (sorted(cart.items()) or [("", 0)])]
    return pa.table({
        "account": pa.array([r[0] for r in rows], pa.int64()),
        "enter_t": pa.array([r[1] for r in rows], pa.float64()),
        "exit_t": pa.array([r[2] for r in rows], pa.float64()),
        "sku": pa.array([r[3] for r in rows], pa.string()),
        "quantity": pa.array([r[4] for r in rows], pa.int32())})


def _truth_receipts(store, scored: dict) -> dict:
    price = store.catalogue.price_cents
    index = store.catalogue.index()
    return {"receipts": [
        {**({"account": a[0], "exit_t": round(a[1], 4)} if isinstance(a, tuple)
            else {"account": a}),
         "products": [{"sku": s, "quantity": q} for s, q in r.items()],
         "total": int(sum(price[index[s]] * q for s, q in r.items()))}
        for a, r in scored.items()]}


def _events_table(crowd: Crowd) -> pa.Table:
    ev = crowd.truth
    return pa.table({
        "t": pa.array([e.t for e in ev], pa.float64()),
        "shopper_id": pa.array([e.shopper for e in ev], pa.int64()),
        "account": pa.array([e.account for e in ev], pa.int64()),
        "action": pa.array([e.action for e in ev], pa.string()),
        "bin": pa.array([e.bin for e in ev], pa.int32()),
        "sku": pa.array([e.sku for e in ev], pa.string()),
        "quantity": pa.array([e.quantity for e in ev], pa.int32()),
        "other": pa.array([e.other for e in ev], pa.int64()),
    })


def _write_insights(insights, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    pq.write_table(pa.table(insights.accounts), folder / "accounts.parquet",
                   compression="zstd")
    sub = insights.substitutions
    pq.write_table(pa.table({
        "from_sku": pa.array(sub["from_sku"], pa.string()),
        "to_sku": pa.array(sub["to_sku"], pa.string()),
        "count": pa.array(sub["count"], pa.int64()),
        "share_of_put_backs": pa.array(sub["share_of_put_backs"], pa.float64())}),
        folder / "substitutions.parquet", compression="zstd")


def write_run_folder(out: Path, config, store, result, *, ledger: dict | None, knowledge,
                     visits, insights, recorder, fault_truth: dict | None = None) -> None:
    """Write a finished run's folder ``out``: what the core said, the scores, the config
    (never the pseudonym key), the store knowledge, ground truth and the sensor streams
    (the track tables and the streams went there as the run made them)."""
    (out / "ground_truth").mkdir(parents=True, exist_ok=True)
    dump(out / "receipts.json", receipts_json(result.receipts))
    if ledger is not None:   # shelf events no cart took, and units left in wrong bins
        dump(out / "ledger.json", ledger)
    dump(out / "ground_truth" / "receipts.json", _truth_receipts(store, result.truth))
    dump(out / "metrics.json", result.metrics)
    dump(out / "timing.json", result.timing)
    cfg = {k: (("(given)" if v else "") if k == "pseudonym_key" else v)
           for k, v in asdict(config).items()}
    if config.faults is not None:
        cfg["faults"] = config.faults.to_dict()
    dump(out / "config.json", cfg)
    if fault_truth is not None:   # what failed when
        pq.write_table(pa.table(fault_truth, schema=FAULT_SCHEMA),
                       out / "ground_truth" / "faults.parquet", compression="zstd")
    if result.journeys is not None:
        write_journeys(result.journeys, out / "journeys.parquet")
    if insights is not None:
        _write_insights(insights, out / "insights")
    (out / "knowledge.json").write_text(json.dumps(knowledge_to_json(knowledge),
                                                   allow_nan=False) + "\n")
    crowd = result.crowd
    pq.write_table(_events_table(crowd), out / "ground_truth" / "events.parquet",
                   compression="zstd")
    pq.write_table(shoppers_table(crowd), out / "ground_truth" / "shoppers.parquet",
                   compression="zstd")
    pq.write_table(visits_table(visits), out / "ground_truth" / "visits.parquet",
                   compression="zstd")
    if recorder is not None:
        recorder.write(out / "streams")
