"""storetwin run: one simulated run of a store through the whole pipeline, scored."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.cli.common import (
    CliError,
    check_out,
    core_failed,
    core_names,
    fmt,
    load_store_arg,
    seed_arg,
    use_core_process,
)


def _table(m: dict, timing: dict) -> str:
    from experiments.scoring.billing import review_lines

    b, t, cr, r = m["billing"], m["tracking"], m["crowd"], m["run"]
    review, unflagged = review_lines(b)
    rows = [
        ("store", f"{r['store']} ({r['area_sqft']:,} sq ft, {r['cameras']} cameras, "
                  f"{r['plates']} plates, {r['skus']} SKUs)"),
        ("simulated", f"{r['minutes']:g} min, seed {r['seed']}, "
                      f"{cr['entered']} shoppers entered, {cr['exited']} left, "
                      f"{cr['mean_in_store']:.1f} in store on average"),
        ("", ""),
        ("BILLING", f"{b['receipts_true']} receipts scored"),
        ("  receipt exact match", fmt(b["exact_match"], pct=True)),
        ("  receipt F1 (AutoCheckout)", fmt(b["receipt_f1"], pct=True)),
        ("  item precision / recall", f"{fmt(b['item_precision'], True)} / "
                                      f"{fmt(b['item_recall'], True)}"),
        ("  money error per receipt", f"${(b['money_mae_cents'] or 0) / 100:.2f} mean abs "
                                      f"(over ${b['overcharge_cents'] / 100:.2f}, "
                                      f"under ${b['undercharge_cents'] / 100:.2f})"),
        ("  missing / spurious", f"{b['receipts_missing']} / {b['receipts_spurious']}"),
        ("  sent to review", review),
        ("  exact among unflagged", unflagged),
        ("TRACKING", ""),
        ("  HOTA (DetA x AssA)", fmt(t.get("hota"), pct=True)),
        ("  IDF1", fmt(t["idf1"], pct=True)),
        ("  MOTA", fmt(t["mota"], pct=True)),
        ("  ID switches", fmt(t["id_switches"])),
        ("THROUGHPUT", ""),
        ("  real-time factor", f"{timing['real_time_factor']:.1f}x "
                               f"({timing['wall_s']:.1f} s wall)"),
        ("  core", f"{fmt(timing['core_detections_per_s'])} detections/s, "
                   f"{fmt(timing['core_plate_samples_per_s'])} plate samples/s"),
    ]
    ins = m.get("insights")
    if ins:
        j, t_ = ins["journeys"], ins["receipts"]

        def rho(x):
            return "n/a" if x is None else f"{x:+.2f}"
        rows += [
            ("INSIGHTS", f"{ins['accounts']} returning accounts, "
                         f"{ins['visits_per_account']:.1f} visits each"),
            ("  taste recovery (rho)", f"journeys {rho(j['rho']['mean'])}, "
                                       f"till {rho(t_['rho']['mean'])}"),
            ("  next-visit choice", f"journeys {fmt(j['next_visit_accuracy'], True)}, "
                                    f"till {fmt(t_['next_visit_accuracy'], True)}, "
                                    f"population "
                                    f"{fmt(ins['population']['next_visit_accuracy'], True)}"),
            ("  substitutions seen", fmt(ins["substitutions"])),
        ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" if k else "" for k, v in rows)


def _pseudonym_key(path: str) -> str:
    """The secret of ``--pseudonym-key-file``: its one line."""
    try:
        key = Path(path).read_text().strip()
    except OSError as e:
        raise CliError(f"--pseudonym-key-file {path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise CliError(f"--pseudonym-key-file {path}: not a text file; expected the secret "
                       "on one line") from None
    if not key:
        raise CliError(f"--pseudonym-key-file {path}: is empty; expected the secret on one "
                       "line")
    return key


def cmd_run(a: argparse.Namespace) -> int:
    from experiments.runs.config import RunConfig, RunConfigError
    from experiments.runs.run import run

    load_store_arg(a.store, "--store")   # a bad store fails here, before any simulation
    if not 1 / 60 <= a.minutes <= 1440:
        raise CliError(f"--minutes must be in [0.0167 (one simulated second), 1440], got "
                       f"{a.minutes:g}")
    if a.layout is None and not 0.5 <= a.camera_spacing <= 50:
        raise CliError(f"--camera-spacing must be in [0.5, 50] m (as 'storetwin layout "
                       f"grid --spacing'), got {a.camera_spacing:g}")
    if not 0 <= a.shoppers <= 10_000:
        raise CliError(f"--shoppers must be in [0, 10000], got {a.shoppers:g}")
    if a.core_deadline is not None and not 0 < a.core_deadline <= 86400:
        raise CliError(f"--core-deadline must be in (0, 86400] s, got {a.core_deadline:g}")
    if a.layout is not None:
        from twin.layout_toml import LayoutError, load_layout
        try:
            load_layout(a.layout, load_store_arg(a.store, "--store"))
        except LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
    out = Path(a.out) if a.out else Path("runs") / f"{Path(a.store).stem}-seed{a.seed}"
    check_out(out)
    if not 0 <= a.panel <= 1_000_000:
        raise CliError(f"--panel must be in [0, 1000000], got {a.panel}")
    if not 0 <= a.look_taste <= 10:
        raise CliError(f"--look-taste must be in [0, 10], got {a.look_taste:g}")
    faults = None
    if a.faults is not None:
        from twin.faults import FaultFileError, load_faults
        try:
            faults = load_faults(a.faults)
        except FaultFileError as e:
            raise CliError(str(e)) from None
    restarts = faults is not None and faults.core.crash_at_s is not None
    if restarts and (a.core_process == "on" or a.core_deadline is not None):
        raise CliError(f"--faults {a.faults}: [core] crash_at_s restarts the core in this "
                       "process; drop --core-process on / --core-deadline")
    key = "" if a.pseudonym_key_file is None else _pseudonym_key(a.pseudonym_key_file)
    try:
        cfg = RunConfig(store=a.store, minutes=a.minutes, shoppers=a.shoppers, seed=a.seed,
                        camera_spacing_m=a.camera_spacing, layout=a.layout,
                        core_process=use_core_process(a.core_process) and not restarts,
                        core_deadline_s=a.core_deadline, panel=a.panel,
                        look_taste=a.look_taste, pseudonym_key=key, faults=faults,
                        warm_start=a.warm_start)
        (core_name,) = core_names(a.core)
    except RunConfigError as e:
        raise CliError(str(e)) from None
    progress = sys.stdout.isatty() and not a.json
    from experiments.runs.cores import make_core
    from experiments.runs.guard import CoreFault
    from twin.faults import FaultFileError
    try:
        res = run(cfg, out=out, progress=progress, core=make_core(core_name))
    except FaultFileError as e:       # ids beyond this store's cameras or plates
        raise CliError(f"--faults {a.faults}: {e}") from None
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    except CoreFault as e:
        return core_failed(e, out, core_name)
    if a.json:
        print(json.dumps({**res.metrics, "timing": res.timing, "out": str(out)},
                         sort_keys=True, allow_nan=False))
    else:
        print(_table(res.metrics, res.timing))
        print(f"\nrun folder: {out}  (receipts.json, journeys.parquet, ground_truth/, "
              f"metrics.json, streams/)\nsee it:     storetwin view {out} --serve")
    return 0


def add(sub) -> None:
    """The ``run`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    r = sub.add_parser(
        "run", help="simulate a store with a sampled crowd through the whole pipeline",
        description="Simulate a store with a steady crowd: physics shelves, cameras and "
                    "plates feed the tracking and billing core; receipts are scored against "
                    "ground truth. Writes a run folder.",
        epilog="examples: storetwin run --minutes 5 --seed 1 --json\n"
               "          storetwin run --minutes 60 --panel 40 --look-taste 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--store", default="kiosk",
                   help="preset (kiosk, grocery, large, supercenter) or a store spec .toml "
                        "(default: kiosk)")
    r.add_argument("--minutes", type=float, default=10.0, help="simulated minutes (default 10)")
    r.add_argument("--shoppers", type=float, default=15.0,
                   help="target shoppers in the store at once (default 15)")
    r.add_argument("--warm-start", action="store_true",
                   help="start with --shoppers shoppers already inside, mid-trip (as the scale "
                        "study does): a one-minute run then measures a full store")
    r.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    r.add_argument("--camera-spacing", type=float, default=2.5,
                   help="ceiling camera grid pitch in metres (default 2.5)")
    r.add_argument("--layout", help="camera layout .toml (from 'storetwin layout'); default: "
                   "a ceiling grid at --camera-spacing")
    r.add_argument("--out", help="run folder (default runs/STORE-seedSEED)")
    r.add_argument("--faults", metavar="FILE.toml",
                   help="a fault schedule: cameras and plates failing mid-run, late and "
                        "dropped messages, skewed clocks, a core crash (docs/faults.md)")
    r.add_argument("--core", default="full",
                   help="the core that bills the run: full (storetwin's), naive (the "
                        "baseline) or package.module:Name, any importable class or factory of "
                        "a core (docs/core-protocol.md); default full")
    r.add_argument("--core-deadline", type=float, metavar="S",
                   help="fail the run when the core leaves a second of ticks unanswered for S "
                        "seconds (runs it in its own process); default: no deadline")
    r.add_argument("--core-process", choices=("auto", "on", "off"), default="auto",
                   help="run the core in its own process beside the twin (same receipts, "
                        "less wall time on 2+ CPU cores); auto: on where there are 2+ cores")
    r.add_argument("--panel", type=int, default=0, metavar="N",
                   help="returning customers: every arrival is one of N accounts, and the "
                        "tastes the core's journeys reveal are scored against the agents' "
                        "(docs/insights.md); default 0: every arrival a new account")
    r.add_argument("--look-taste", type=float, default=0.0, metavar="X",
                   help="how much shoppers' tastes choose where they stop to look, 0-10 "
                        "(default 0: at random; 1: as much as what they buy)")
    r.add_argument("--pseudonym-key-file", metavar="FILE",
                   help="a text file holding the secret behind the journeys' pseudonymous "
                        "account ids (default: derived from --seed, so not secret)")
    r.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    r.set_defaults(func=cmd_run)
