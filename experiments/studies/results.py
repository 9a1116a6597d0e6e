"""A study's results store: one Parquet row per run (``runs/<run_id>.parquet``, written to
a temporary name and renamed, so a SIGKILL loses at most the runs in flight), its columns,
and ``results.parquet`` gathered from them (queryable with DuckDB).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.runs.outputs import pid_alive

STATUS_OK, STATUS_FAILED = "ok", "failed"


class ResultsError(ValueError):
    """A results folder that cannot be read or written (names the file)."""


PARAM_COLUMNS: dict[str, pa.DataType] = {
    "store": pa.string(), "store_ref": pa.string(), "bins_per_plate": pa.int64(),
    "layout": pa.string(), "layout_generator": pa.string(), "layout_param": pa.float64(),
    "layout_model": pa.string(),
    "layout_file": pa.string(), "shoppers": pa.float64(), "minutes": pa.float64(),
    "warm_start": pa.bool_(),
    "seed": pa.int64(), "core": pa.string(), "dead_camera_fraction": pa.float64(),
    "dead_plate_fraction": pa.float64(), "scenario": pa.string(),
    "shoppers_per_shelf": pa.int64(), "panel": pa.int64(), "look_taste": pa.float64(),
    "faults": pa.string(),
}


#: metric columns of a run's row (fractions 0-1 unless the name says a unit)
METRIC_COLUMNS: dict[str, pa.DataType] = {
    # billing
    "receipts": pa.int64(), "exact_match": pa.float64(), "f1": pa.float64(),
    "precision": pa.float64(), "recall": pa.float64(), "money_abs_mean_usd": pa.float64(),
    "money_over_usd": pa.float64(), "money_under_usd": pa.float64(),
    "review_per_1000": pa.float64(), "unflagged_exact": pa.float64(),
    # review counts: receipts_flagged of receipts_issued went to review; the money in them
    # (true receipts at catalogue prices) over all; unflagged receipts, wrong among them
    "receipts_issued": pa.int64(), "receipts_flagged": pa.int64(),
    "flagged_money_share": pa.float64(), "money_flagged_usd": pa.float64(),
    "money_true_usd": pa.float64(), "receipts_unflagged": pa.int64(),
    "silent_wrong": pa.int64(),
    # alerts of shoppers on no account leaving with items; the missing receipts they cover
    "alerts": pa.int64(), "receipts_alerted": pa.int64(),
    "ran_as_written": pa.bool_(),
    # tracking
    "hota": pa.float64(), "deta": pa.float64(), "assa": pa.float64(), "idf1": pa.float64(),
    "mota": pa.float64(), "id_switches": pa.int64(),
    # throughput and latency
    "wall_s": pa.float64(), "sim_s": pa.float64(), "real_time_factor": pa.float64(),
    "core_process": pa.bool_(), "core_s": pa.float64(), "core_ms_per_tick": pa.float64(),
    "core_real_time_factor": pa.float64(), "detections_per_s": pa.float64(),
    "plate_samples_per_s": pa.float64(), "receipt_latency_s_mean": pa.float64(),
    "receipt_latency_s_p95": pa.float64(), "mean_in_store": pa.float64(),
    "area_sqft": pa.float64(),
    # the load a real pipeline would carry (experiments.sizing, docs/sizing.md): detections
    # delivered (person crops, all cameras) and the most shoppers inside at once
    "detections": pa.int64(), "peak_in_store": pa.float64(),
    # where the wall time went [s]
    "stage_setup_s": pa.float64(), "stage_agents_s": pa.float64(),
    "stage_physics_s": pa.float64(), "stage_plates_s": pa.float64(),
    "stage_cameras_s": pa.float64(), "stage_gate_s": pa.float64(),
    "stage_core_s": pa.float64(), "stage_other_s": pa.float64(),
    # coverage and cost
    "cameras": pa.int64(), "plates": pa.int64(), "floor_k1": pa.float64(),
    "floor_k2": pa.float64(), "bins_k1": pa.float64(), "cost_cameras_usd": pa.float64(),
    "cost_plates_usd": pa.float64(), "cost_install_usd": pa.float64(),
    "cost_total_usd": pa.float64(),
    # behaviour insights (experiments.scoring.insights): Spearman rho of recovered vs latent tastes
    # (mean over organic, price, brand, and each), after 1, 2, 4, 8 visits, and next-visit
    # choice accuracy and mean log-probability, from the journeys and from the till's
    # baskets alone
    **{f"pref_rho_{s}": pa.float64() for s in ("journeys", "receipts")},
    **{f"pref_rho_{a}_{s}": pa.float64() for a in ("organic", "price", "brand")
       for s in ("journeys", "receipts")},
    **{f"pref_rho_{s}_v{k}": pa.float64() for s in ("journeys", "receipts")
       for k in (1, 2, 4, 8)},
    **{f"next_visit_acc_{s}": pa.float64() for s in ("journeys", "receipts", "population")},
    **{f"next_visit_logp_{s}": pa.float64() for s in ("journeys", "receipts", "population")},
    "visits_per_account": pa.float64(), "substitutions": pa.int64(), "looks": pa.int64(),
    # {"put back SKU>taken SKU": count} of the run's journeys, as JSON text
    "substitution_pairs": pa.string(),
}


OTHER_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.string(), "study": pa.string(), "status": pa.string(), "error": pa.string(),
    "storetwin_version": pa.string(), "python": pa.string(), "numpy": pa.string(),
    "host_cpus": pa.int64(), "started_at": pa.string(),
}


SCHEMA = pa.schema([*((k, t) for k, t in OTHER_COLUMNS.items() if k in (
    "run_id", "study", "status", "error")), *PARAM_COLUMNS.items(), *METRIC_COLUMNS.items(),
    *((k, t) for k, t in OTHER_COLUMNS.items() if k not in (
        "run_id", "study", "status", "error"))])


def metrics_row(metrics: dict, timing: dict) -> dict:
    b, t, c = metrics["billing"], metrics["tracking"], metrics["core"]

    def usd(cents):
        return None if cents is None else round(cents / 100.0, 4)
    st = timing.get("stage_s", {})
    return {
        "receipts": b["receipts_true"], "exact_match": b["exact_match"], "f1": b["receipt_f1"],
        "precision": b["item_precision"], "recall": b["item_recall"],
        "money_abs_mean_usd": usd(b["money_mae_cents"]),
        "money_over_usd": usd(b["overcharge_cents"]),
        "money_under_usd": usd(b["undercharge_cents"]),
        "review_per_1000": b["review_rate_per_1000"],
        "unflagged_exact": b["unflagged_exact_match"],
        # absent from a billing block written before the review counts
        "receipts_issued": b.get("receipts_issued"), "receipts_flagged": b.get("receipts_flagged"),
        "flagged_money_share": b.get("flagged_money_share"),
        "money_flagged_usd": usd(b.get("money_flagged_cents")),
        "money_true_usd": usd(b.get("money_true_cents")),
        "receipts_unflagged": b.get("receipts_unflagged"), "silent_wrong": b.get("silent_wrong"),
        "alerts": b.get("alerts"), "receipts_alerted": b.get("receipts_alerted"),
        "hota": t["hota"], "deta": t["deta"], "assa": t["assa"], "idf1": t["idf1"],
        "mota": t["mota"], "id_switches": t["id_switches"],
        "wall_s": timing["wall_s"], "sim_s": timing["sim_s"],
        "real_time_factor": timing["real_time_factor"],
        "core_process": bool(timing.get("core_process", False)), "core_s": timing["core_s"],
        "core_ms_per_tick": timing.get("core_ms_per_tick"),
        "core_real_time_factor": timing["core_real_time_factor"],
        "detections_per_s": timing["core_detections_per_s"],
        "plate_samples_per_s": timing["core_plate_samples_per_s"],
        "receipt_latency_s_mean": c["receipt_latency_s_mean"],
        "receipt_latency_s_p95": c.get("receipt_latency_s_p95"),
        "mean_in_store": metrics["crowd"]["mean_in_store"],
        "detections": c.get("detections"),
        "area_sqft": float(metrics["run"]["area_sqft"]),
        "cameras": metrics["run"]["cameras"], "plates": metrics["run"]["plates"],
        **{f"stage_{k}_s": v for k, v in st.items() if f"stage_{k}_s" in METRIC_COLUMNS},
        **_insight_columns(metrics.get("insights")),
    }


def _insight_columns(m: dict | None) -> dict:
    if not m:
        return {}
    out = {}
    for s in ("journeys", "receipts"):
        out[f"pref_rho_{s}"] = m[s]["rho"]["mean"]
        for a in ("organic", "price", "brand"):
            out[f"pref_rho_{a}_{s}"] = m[s]["rho"][a]
        for k, v in m["by_visits"].items():
            out[f"pref_rho_{s}_v{k}"] = v[s]
    for s in (*("journeys", "receipts"), "population"):
        out[f"next_visit_acc_{s}"] = m[s]["next_visit_accuracy"]
        out[f"next_visit_logp_{s}"] = m[s]["next_visit_log_prob"]
    out["visits_per_account"] = m["visits_per_account"]
    out["substitutions"] = m["substitutions"]
    out["substitution_pairs"] = json.dumps(m.get("substitution_pairs", {}), sort_keys=True)
    out["looks"] = m["observations"]["journeys"].get("look", 0)
    return out


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _row_table(rows: list[dict]) -> pa.Table:
    cols = {}
    for f in SCHEMA:
        vals = [r.get(f.name) for r in rows]
        if pa.types.is_floating(f.type):
            vals = [None if v is None or (isinstance(v, float) and v != v) else float(v)
                    for v in vals]
        cols[f.name] = pa.array(vals, f.type)
    return pa.table(cols, schema=SCHEMA)


def write_row(results: Path, row: dict) -> Path:
    """One run's row, durably: a temporary file, fsync, then an atomic rename."""
    d = results / "runs"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{row['run_id']}.parquet"
    tmp = d / f".{row['run_id']}.{os.getpid()}.tmp"
    pq.write_table(_row_table([row]), tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def finished(results: Path) -> dict[str, str]:
    """run_id -> status of the runs already in the store (unreadable files are ignored:
    they are rerun)."""
    out: dict[str, str] = {}
    for f in sorted((results / "runs").glob("*.parquet")):
        try:
            t = pq.read_table(f, columns=["run_id", "status"])
        except (OSError, pa.ArrowException):
            continue
        for rid, st in zip(t["run_id"].to_pylist(), t["status"].to_pylist(), strict=True):
            out[rid] = st
    return out


def clean_stale_tmp(results: Path) -> list[Path]:
    """Remove the temporary files (``.*.<pid>.tmp``) that writers killed mid-write left in a
    results folder (its ``runs/`` and itself); a live process's are kept. Returns those
    removed."""
    gone = []
    for f in [*results.glob(".*.tmp"), *(results / "runs").glob(".*.tmp")]:
        pid = f.name.rsplit(".", 2)[-2]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        f.unlink(missing_ok=True)
        gone.append(f)
    return gone


def load_results(results: str | Path, skipped: list[str] | None = None) -> pa.Table:
    """All rows of a results folder: ``results.parquet`` when the study finished, else the
    ``runs/*.parquet`` written so far. A run file that cannot be read is left out and named
    in ``skipped`` (path: why) when a list is given (else it is an error); a whole folder
    of unreadable files is always one."""
    d = Path(results)
    if not d.is_dir():
        raise ResultsError(f"{results}: no such results folder; expected the folder a "
                           "'storetwin study' wrote")
    whole = d / "results.parquet"
    files = [whole] if whole.is_file() else sorted((d / "runs").glob("*.parquet"))
    if not files:
        raise ResultsError(f"{results}: holds no results.parquet and no runs/*.parquet; "
                           "expected the folder a 'storetwin study' wrote")
    tables = []
    for f in files:
        try:
            tables.append(pq.read_table(f))
        except (OSError, pa.ArrowException) as e:
            if skipped is None or f == whole:
                raise ResultsError(f"{f}: cannot be read as Parquet ({e})") from None
            skipped.append(f"{f}: cannot be read as Parquet ({e})")
    if not tables:
        raise ResultsError(f"{results}: none of its {len(files)} run files can be read "
                           f"({skipped[0] if skipped else ''})")
    try:
        return pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as e:
        raise ResultsError(f"{results}: run files do not share one schema ({e})") from None


def gather(results: Path, run_ids: Iterable[str]) -> Path:
    """``results.parquet``: the rows of ``run_ids`` (in that order) that are in the store."""
    rows = []
    for rid in run_ids:
        f = results / "runs" / f"{rid}.parquet"
        if f.is_file():
            rows.append(pq.read_table(f))
    table = pa.concat_tables(rows, promote_options="default") if rows else SCHEMA.empty_table()
    tmp = results / f".results.{os.getpid()}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, results / "results.parquet")
    return results / "results.parquet"
