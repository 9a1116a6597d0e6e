"""A finished run's scores: which visits are scored, what was bought and billed, and the
metrics.json and timing.json a run writes (ground truth is read here, after the run, only).
"""

from __future__ import annotations

import numpy as np

from core.records import NO_ACCOUNT, Receipt
from experiments.scoring.billing import match_alerts


def per_visit(visits, receipts: list[Receipt], scored_until: float):
    """Billing truth, issued receipts, review flags (keyed by (account, exit time)) and
    receipt latencies when accounts come back (a panel): each receipt belongs to its
    account's visit that began last before it was issued; a second receipt for one visit
    adds to the first (its errors count), one for no visit is spurious, one for an unscored
    visit is left out."""
    scored = {(a, x): cart for a, _, x, cart in visits if x <= scored_until}
    per: dict[int, list[tuple[float, float]]] = {}
    for a, e, x, _ in visits:
        per.setdefault(a, []).append((e, x))
    issued: dict = {}
    review: dict = {}
    latencies = []
    for r in sorted(receipts, key=lambda r: (r.t_issued, r.account)):
        began = [(e, x) for e, x in per.get(r.account, []) if e <= r.t_issued]
        k = (r.account, max(began)[1]) if began else (r.account, -r.t_issued)
        if began:
            latencies.append(r.t_issued - k[1])
            if k not in scored:
                continue
        line = issued.setdefault(k, {})
        for p in r.products:
            line[p.sku] = line.get(p.sku, 0) + p.quantity
        review[k] = review.get(k, False) or r.review
    return scored, issued, review, latencies


def billing_truth(crowd, receipts: list[Receipt], *, end: float, unscored_tail_s: float,
                  scripted_accounts: set[int], warm: bool):
    """(scored truth, issued, review flags, latencies or None, visits, alerts) of a run that
    stopped at ``end``; alerts: the core's :data:`~core.records.NO_ACCOUNT` receipts as
    keyword arguments of ``score_billing`` (the unbilled visits they stand for, how many).

    A warm start bills nothing: the core, started with people already inside whom it never
    saw enter, cannot bill them (their picks come out as alerts at best), so no receipt of
    such a run says anything about the core. Tracking is scored on door shoppers.
    """
    alert_t = [r.t_issued for r in receipts if r.account == NO_ACCOUNT]
    receipts = [r for r in receipts if r.account != NO_ACCOUNT]
    truth_all = crowd.truth_receipts()
    scored = {} if warm else {
        a: r for a, r in truth_all.items()
        if crowd.exited[a] <= end - unscored_tail_s or a in scripted_accounts}
    unscored = set(crowd.carts) - set(scored)
    issued = {r.account: {p.sku: p.quantity for p in r.products} for r in receipts
              if r.account not in unscored}
    review = {r.account: r.review for r in receipts if r.account not in unscored}
    visits = crowd.truth_visits()
    latencies = None
    if not warm and len({v[0] for v in visits}) < len(visits):
        scored, issued, review, latencies = per_visit(visits, receipts, end - unscored_tail_s)
        exits = {k: k[1] for k in scored}
    else:
        exits = {a: crowd.exited[a] for a in scored}
    alerts = {"alerted": match_alerts(alert_t, exits, set(scored) - set(issued)),
              "alerts": len(alert_t)}
    return scored, issued, review, latencies, visits, alerts


def _latency(latencies: list[float], q: float | None) -> float | None:
    if not latencies:
        return None
    return round(float(np.mean(latencies) if q is None else np.percentile(latencies, q)), 4)


def core_metrics(stats, counts: dict, receipts: list[Receipt],
                 latencies: list[float]) -> dict:
    """The core's own counts (its ``stats``, where it keeps them) and receipt latencies."""
    return {
        "detections": counts["detections"], "plate_samples": counts["plate_samples"],
        "receipts": sum(r.account != NO_ACCOUNT for r in receipts),
        **{k: getattr(stats, k, None) for k in (
            "shelf_events", "unattributed_events", "hand_attributions", "blind_attributions",
            "misplaced_units", "untracked_accounts", "hand_overs", "alerts")},
        "receipt_latency_s_mean": _latency(latencies, None),
        "receipt_latency_s_p95": _latency(latencies, 95),
    }


def fault_metrics(faults, restart, end: float) -> dict:
    """metrics.json ``faults``: what the schedule broke (ground truth) and the restarts."""
    truth = faults.truth(end)
    out = {"cameras_failed": len({i for k, i in zip(truth["target"], truth["id"],
                                                     strict=True) if k == "camera"}),
           "plates_failed": len({i for k, i in zip(truth["target"], truth["id"],
                                                    strict=True) if k == "plate"}),
           "camera_frames_dropped": faults.dropped}
    if restart is not None:
        out.update(core_crashed_at_s=restart.crashed_at, checkpoints=restart.checkpoints,
                   batches_replayed=restart.replayed)
    return out


def run_metrics(config, store, crowd, billing_dict: dict, tracking: dict, core: dict,
                counts: dict, n_cams: int, n_plates: int, n_scored: int, n_warm: int) -> dict:
    """metrics.json: what was run, the crowd, billing, tracking and the core."""
    return {
        "run": {
            "store": store.name, "minutes": config.minutes, "shoppers": config.shoppers,
            "seed": config.seed, "cameras": n_cams, "dead_cameras": len(config.dead_cameras),
            "plates": n_plates, "dead_plates": len(config.dead_plates),
            "skus": len(store.catalogue), "area_sqft": round(store.area_sqft),
        },
        "crowd": {
            "entered": sum(1 for e in crowd.truth if e.action == "enter"),
            "exited": len(crowd.exited) + len(crowd.past_visits),
            "scored_receipts": n_scored,
            "picks": sum(e.quantity for e in crowd.truth if e.action == "pick"),
            "put_backs": sum(e.quantity for e in crowd.truth if e.action == "put_back"),
            "mean_in_store": round(counts["people"] / counts["frames"]
                                   if counts["frames"] else 0.0, 3),
            "warm_start": n_warm,
        },
        "billing": billing_dict,
        "tracking": tracking,
        "core": core,
    }


def _stages(setup_s: float, twin: dict[str, float], core_s: float, sim_wall: float,
            core_wait_s: float | None = None) -> dict[str, float]:
    """Wall seconds per stage. In process the stages take turns and "other" is the loop's
    remainder; with the core in its own process ("core" overlaps the twin's stages) "other"
    is the remainder after set-up, the twin's stages and ``core_wait_s``, the time the twin
    waited for the core at the end."""
    out = {"setup": setup_s, **twin, "core": core_s}
    spent = sum(out.values()) if core_wait_s is None else (
        setup_s + sum(twin.values()) + core_wait_s)
    out["other"] = max(0.0, sim_wall - spent)
    return {k: round(v, 3) for k, v in out.items()}


def run_timing(*, wall: float, end: float, sim_wall: float, core_s: float, counts: dict,
               setup_s: float, stage_s: dict, core_wait_s: float | None) -> dict:
    """timing.json: wall and simulated time, the core's throughput, time per stage."""
    det, plates, frames = counts["detections"], counts["plate_samples"], counts["frames"]
    return {
        "wall_s": round(wall, 3),
        "sim_s": round(end, 3),
        "real_time_factor": round(end / sim_wall, 2),
        "core_s": round(core_s, 3),
        "core_detections_per_s": round(det / core_s) if core_s > 0 else None,
        "core_plate_samples_per_s": round(plates / core_s) if core_s > 0 else None,
        "core_real_time_factor": round(end / core_s, 1) if core_s > 0 else None,
        "frames": frames,
        "core_ms_per_tick": round(1000.0 * core_s / frames, 4) if frames else None,
        # wall seconds per stage: building the world, then each stage of the loop (the
        # twin's, from Simulation.stage_s, and the core's); "other" is the loop's remainder
        # (recording, ground truth, the progress bar)
        "stage_s": _stages(setup_s, stage_s, core_s, sim_wall, core_wait_s),
        "core_process": core_wait_s is not None,
    }
