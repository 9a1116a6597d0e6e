"""The ``storetwin`` command line.

Every verb: ``--help`` with an example, ``--seed`` where randomness enters, ``--json`` where a
machine reads the answer, and exit code 2 with one clear line on bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code too)
        self.exit(EXIT_BAD_INPUT, f"storetwin: error: {message}\n")


def _fmt(v, pct=False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if pct:
        return f"{100 * v:6.1f} %"
    if isinstance(v, float):
        return f"{v:,.3f}"
    return f"{v:,}"


def _table(m: dict, timing: dict) -> str:
    b, t, cr, r = m["billing"], m["tracking"], m["crowd"], m["run"]
    rows = [
        ("store", f"{r['store']} ({r['area_sqft']:,} sq ft, {r['cameras']} cameras, "
                  f"{r['plates']} plates, {r['skus']} SKUs)"),
        ("simulated", f"{r['minutes']:g} min, seed {r['seed']}, "
                      f"{cr['entered']} shoppers entered, {cr['exited']} left, "
                      f"{cr['mean_in_store']:.1f} in store on average"),
        ("", ""),
        ("BILLING", f"{b['receipts_true']} receipts scored"),
        ("  receipt exact match", _fmt(b["exact_match"], pct=True)),
        ("  receipt F1 (AutoCheckout)", _fmt(b["receipt_f1"], pct=True)),
        ("  item precision / recall", f"{_fmt(b['item_precision'], True)} / "
                                      f"{_fmt(b['item_recall'], True)}"),
        ("  money error per receipt", f"${(b['money_mae_cents'] or 0) / 100:.2f} mean abs "
                                      f"(over ${b['overcharge_cents'] / 100:.2f}, "
                                      f"under ${b['undercharge_cents'] / 100:.2f})"),
        ("  missing / spurious", f"{b['receipts_missing']} / {b['receipts_spurious']}"),
        ("  sent to review", f"{_fmt(b['review_rate_per_1000'])} per 1,000"),
        ("TRACKING", ""),
        ("  IDF1", _fmt(t["idf1"], pct=True)),
        ("  MOTA", _fmt(t["mota"], pct=True)),
        ("  ID switches", _fmt(t["id_switches"])),
        ("THROUGHPUT", ""),
        ("  real-time factor", f"{timing['real_time_factor']:.1f}x "
                               f"({timing['wall_s']:.1f} s wall)"),
        ("  core", f"{_fmt(timing['core_detections_per_s'])} detections/s, "
                   f"{_fmt(timing['core_plate_samples_per_s'])} plate samples/s"),
    ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" if k else "" for k, v in rows)


def _check_out(path: Path) -> None:
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise CliError(f"--out {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise CliError(f"--out {path}: {probe} is not writable")


def cmd_run(a: argparse.Namespace) -> int:
    from experiments.run import RunConfig, RunConfigError, run
    from scenes.presets import PRESETS

    if a.store not in PRESETS:
        raise CliError(f"--store {a.store!r} is not a known preset; allowed: "
                       f"{', '.join(sorted(PRESETS))}")
    if not 0 < a.minutes <= 1440:
        raise CliError(f"--minutes must be in (0, 1440], got {a.minutes:g}")
    if not 0 <= a.shoppers <= 10_000:
        raise CliError(f"--shoppers must be in [0, 10000], got {a.shoppers:g}")
    if a.seed < 0:
        raise CliError(f"--seed must be >= 0, got {a.seed}")
    out = Path(a.out) if a.out else Path("runs") / f"{a.store}-seed{a.seed}"
    _check_out(out)
    try:
        cfg = RunConfig(store=a.store, minutes=a.minutes, shoppers=a.shoppers, seed=a.seed,
                        camera_spacing_m=a.camera_spacing)
    except RunConfigError as e:
        raise CliError(str(e)) from None
    progress = sys.stdout.isatty() and not a.json
    try:
        res = run(cfg, out=out, progress=progress)
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    if a.json:
        print(json.dumps({**res.metrics, "timing": res.timing, "out": str(out)},
                         sort_keys=True, allow_nan=False))
    else:
        print(_table(res.metrics, res.timing))
        print(f"\nrun folder: {out}  (receipts.json, ground_truth/, metrics.json, streams/)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="storetwin", description="Digital twin of a walk-out (cashierless) store.")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    r = sub.add_parser(
        "run", help="simulate a store with a sampled crowd through the whole pipeline",
        description="Simulate a store with a steady crowd: physics shelves, cameras and "
                    "plates feed the tracking and billing core; receipts are scored against "
                    "ground truth. Writes a run folder.",
        epilog="example: storetwin run --minutes 5 --seed 1 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--store", default="kiosk", help="preset name (default: kiosk)")
    r.add_argument("--minutes", type=float, default=10.0, help="simulated minutes (default 10)")
    r.add_argument("--shoppers", type=float, default=15.0,
                   help="target shoppers in the store at once (default 15)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--camera-spacing", type=float, default=2.5,
                   help="ceiling camera grid pitch in metres (default 2.5)")
    r.add_argument("--out", help="run folder (default runs/STORE-seedSEED)")
    r.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "verb", None):
        print("storetwin: error: name a verb (run); see 'storetwin --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return a.func(a)
    except CliError as e:
        print(f"storetwin: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("storetwin: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
