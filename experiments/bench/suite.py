"""``storetwin bench``: a fixed, versioned suite of short cases against any core.

Suite ``v1`` (``experiments/bench/suites/v1.json``, checked in): sampled crowds on the kiosk
at two crowd levels and two camera grids, and scripted scenarios from one shopper to three
at a shelf. The file holds every case's parameters and its ground truth (what each account
really took, a digest of the true tracks), generated once from the seeds with
``storetwin bench --regenerate``. A run re-simulates each case and checks its ground truth
against the file before scoring the core: if the twin has changed what happens in a case,
the bench refuses (exit 2) rather than compare a core across different worlds. A new
suite version is then a deliberate change.

Results are one JSON document: the suite version, the core, storetwin's version, and per
case the billing, tracking and speed metrics. ``--compare OLD.json`` prints, per case and
metric, the old and new values and flags every metric that fell by more than its threshold
(``--max-drop``, per metric ``--max-drop exact_match=0.02``); any such regression exits 1,
like pytest-benchmark's ``--benchmark-compare-fail``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

SUITES = Path(__file__).resolve().parent / "suites"
LATEST = "v1"

#: the cases of suite v1: what regenerating it runs (the file holds them with their truth)
V1_CASES = (
    {"id": "kiosk-crowd-12", "kind": "crowd", "store": "kiosk", "minutes": 4.0, "shoppers": 12,
     "seed": 101, "camera_spacing_m": 2.5},
    {"id": "kiosk-crowd-20", "kind": "crowd", "store": "kiosk", "minutes": 4.0, "shoppers": 20,
     "seed": 102, "camera_spacing_m": 2.5},
    {"id": "kiosk-sparse-12", "kind": "crowd", "store": "kiosk", "minutes": 4.0,
     "shoppers": 12, "seed": 103, "camera_spacing_m": 4.0},
    {"id": "pick", "kind": "scenario", "scenario": "pick"},
    {"id": "two_baguettes", "kind": "scenario", "scenario": "two_baguettes"},
    {"id": "swap", "kind": "scenario", "scenario": "swap"},
    {"id": "three_pass", "kind": "scenario", "scenario": "three_pass"},
)

#: metrics a bench result holds per case; True: higher is better
METRICS = {"exact_match": True, "receipt_f1": True, "item_precision": True,
           "item_recall": True, "money_mae_cents": False, "review_rate_per_1000": False,
           "hota": True, "idf1": True, "id_switches": False, "core_ms_per_tick": False}
SPEED = ("core_ms_per_tick",)       # not compared by default: machines differ


class BenchError(ValueError):
    pass


@dataclass(frozen=True)
class CaseRun:
    metrics: dict
    truth: dict


def _truth(res) -> dict:
    """What a run's world did, independent of the core: true receipts and a digest of the
    true positions."""
    crowd = res.crowd
    receipts = {str(a): r for a, r in sorted(crowd.truth_receipts().items())}
    ev = [(round(e.t, 4), e.shopper, e.action, e.bin, e.sku, e.quantity) for e in crowd.truth]
    digest = hashlib.sha256(json.dumps(ev).encode()).hexdigest()[:16]
    return {"receipts": receipts, "events": len(ev), "events_sha256": digest}


def run_case(case: dict, core) -> CaseRun:
    from experiments.runs.config import RunConfig
    from experiments.runs.run import run

    if case["kind"] == "crowd":
        res = run(RunConfig(store=case["store"], minutes=case["minutes"],
                            shoppers=case["shoppers"], seed=case["seed"],
                            camera_spacing_m=case["camera_spacing_m"], record_streams=False),
                  core=core)
    else:
        from agents.scenario import load_scenario
        from experiments.runs.scenario import run_scenario
        res = run_scenario(load_scenario(case["scenario"]), core=core).run
    b, t = res.metrics["billing"], res.metrics["tracking"]
    m = {k: b.get(k) for k in ("exact_match", "receipt_f1", "item_precision", "item_recall",
                               "money_mae_cents", "review_rate_per_1000")}
    m.update({k: t.get(k) for k in ("hota", "idf1", "id_switches")})
    m["receipts"] = b.get("receipts_true")
    m["core_ms_per_tick"] = res.timing.get("core_ms_per_tick")
    return CaseRun({k: (None if v is None or (isinstance(v, float) and v != v) else v)
                    for k, v in m.items()}, _truth(res))


def load_suite(name: str = LATEST) -> dict:
    path = SUITES / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in SUITES.glob("*.json"))
        raise BenchError(f"--suite {name!r}: no such suite; known: {', '.join(known)}")
    return json.loads(path.read_text())


def regenerate(name: str = LATEST) -> Path:
    """Write the suite file from its cases, the ground truth from a run with the full core
    (the truth does not depend on the core)."""
    from experiments.runs.cores import make_core

    if name != "v1":
        raise BenchError(f"only suite v1 is defined here, not {name!r}")
    cases = []
    for c in V1_CASES:
        cases.append({**c, "truth": run_case(c, make_core("full")).truth})
    path = SUITES / f"{name}.json"
    path.write_text(json.dumps({"suite": name, "cases": cases}, indent=1, sort_keys=True) +
                    "\n")
    return path


def _versions() -> dict:
    try:
        v = version("storetwin")
    except PackageNotFoundError:  # pragma: no cover
        v = "unknown"
    return {"storetwin": v, "python": platform.python_version(), "numpy": np.__version__}


def bench(core_spec: str, suite: str = LATEST, cases: list[str] | None = None,
          progress=None) -> dict:
    """Run a suite's cases against a core; the result document (see the module doc)."""
    from experiments.runs.cores import make_core

    doc = load_suite(suite)
    chosen = doc["cases"]
    if cases:
        known = {c["id"] for c in chosen}
        bad = [c for c in cases if c not in known]
        if bad:
            raise BenchError(f"--case {', '.join(bad)}: not in suite {suite} "
                             f"(cases: {', '.join(sorted(known))})")
        chosen = [c for c in chosen if c["id"] in cases]
    out = []
    for c in chosen:
        t0 = time.perf_counter()
        try:
            r = run_case(c, make_core(core_spec))
        except Exception as e:  # noqa: BLE001 - a failing core fails its case, reported
            out.append({"id": c["id"], "status": "failed",
                        "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"})
            continue
        if r.truth != c["truth"]:
            raise BenchError(f"suite {suite}, case {c['id']}: the twin no longer produces the "
                             "ground truth the suite was made with (this storetwin simulates "
                             "differently); results would not compare: use the suite of this "
                             "version or regenerate a new one deliberately")
        out.append({"id": c["id"], "status": "ok", "metrics": r.metrics,
                    "wall_s": round(time.perf_counter() - t0, 3)})
        if progress is not None:
            progress(out[-1])
    return {"format": "storetwin-bench/1", "suite": suite, "core": core_spec,
            "versions": _versions(), "cases": out}


def parse_thresholds(items: list[str] | None, default: float) -> dict[str, float]:
    th = {k: default for k in METRICS if k not in SPEED}
    for it in items or []:
        if "=" not in it:
            try:
                v = float(it)
            except ValueError:
                raise BenchError(f"--max-drop {it!r}: give a number or METRIC=NUMBER") from None
            th = {k: v for k in th}
            continue
        k, v = it.split("=", 1)
        if k not in METRICS:
            raise BenchError(f"--max-drop {it!r}: unknown metric {k!r}; "
                             f"known: {', '.join(METRICS)}")
        try:
            th[k] = float(v)
        except ValueError:
            raise BenchError(f"--max-drop {it!r}: {v!r} is not a number") from None
    return th


def compare(old: dict, new: dict, thresholds: dict[str, float]) -> tuple[list[dict], bool]:
    """Rows (case, metric, old, new, change, verdict) and whether any metric regressed:
    fell (rose, for lower-is-better metrics) by more than its threshold, or a case that
    ran before failed now."""
    if old.get("suite") != new.get("suite"):
        raise BenchError(f"--compare: suite {old.get('suite')!r} against {new.get('suite')!r}:"
                         " results of different suites do not compare")
    before = {c["id"]: c for c in old.get("cases", [])}
    rows, bad = [], False
    for c in new["cases"]:
        o = before.get(c["id"])
        if o is None:
            continue
        if c["status"] != "ok" or o["status"] != "ok":
            verdict = "FAILED" if c["status"] != "ok" and o["status"] == "ok" else "-"
            bad |= verdict == "FAILED"
            rows.append({"case": c["id"], "metric": "status", "old": o["status"],
                         "new": c["status"], "change": None, "verdict": verdict})
            continue
        for k, higher in METRICS.items():
            a, b = o["metrics"].get(k), c["metrics"].get(k)
            if a is None or b is None:
                continue
            d = float(b) - float(a)
            worse = -d if higher else d
            if k in thresholds and worse > thresholds[k] + 1e-12:
                verdict = "REGRESSED"
                bad = True
            elif (d > 0) == higher and d != 0:
                verdict = "better"
            elif d == 0:
                verdict = "same"
            else:
                verdict = "worse"
            rows.append({"case": c["id"], "metric": k, "old": a, "new": b,
                         "change": round(d, 6), "verdict": verdict})
    return rows, bad


def format_compare(rows: list[dict]) -> str:
    def f(v):
        return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
    lines = [f"{'case':<18}{'metric':<22}{'old':>10}{'new':>10}{'change':>10}  verdict"]
    for r in rows:
        if r["verdict"] in ("same",):
            continue
        lines.append(f"{r['case']:<18}{r['metric']:<22}{f(r['old']):>10}{f(r['new']):>10}"
                     f"{f(r['change']):>10}  {r['verdict']}")
    return "\n".join(lines)
