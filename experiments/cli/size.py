"""storetwin size: the compute, network and storage a real deployment of a store's sensing
pipeline needs, from a run folder or a short warm-started run (docs/sizing.md)."""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

from experiments.cli.common import CliError, check_out, load_store_arg, seed_arg


def _names(text: str, flag: str, allowed: list[str]) -> tuple[str, ...]:
    """A comma-separated list of names, each one of ``allowed``."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in allowed]
    if not names or bad:
        raise CliError(f"{flag} {text!r}: give one or more of {', '.join(allowed)}, "
                       "comma-separated")
    return names


def _check_numbers(a: argparse.Namespace) -> None:
    checks = (("--headroom", a.headroom, 0 <= a.headroom <= 10, "in [0, 10] (0.3 = 30 %)"),
              ("--hours", a.hours, 0 < a.hours <= 24, "in (0, 24] h"),
              ("--retention-days", a.retention_days, 0 <= a.retention_days <= 3650,
               "in [0, 3650] days"),
              ("--detect-every", a.detect_every, 1 <= a.detect_every <= 1000,
               "an integer in [1, 1000]"),
              ("--minutes", a.minutes, 1 / 60 <= a.minutes <= 60, "in [0.0167, 60]"),
              ("--shoppers", a.shoppers, 0 <= a.shoppers <= 10_000, "in [0, 10000]"),
              ("--camera-spacing", a.camera_spacing, 0.5 <= a.camera_spacing <= 50,
               "in [0.5, 50] m"))
    for flag, v, ok, allowed in checks:
        if not (isinstance(v, (int, float)) and math.isfinite(v) and ok):
            raise CliError(f"{flag} must be {allowed}, got {v:g}")


def _options(a: argparse.Namespace, table):
    from experiments.sizing.model import Options
    return Options(
        headroom=a.headroom, hours=a.hours, retention_days=a.retention_days,
        detector=_names(a.detector, "--detector", table.models("detect")),
        pose=_names(a.pose, "--pose", table.models("pose")),
        reid=_names(a.reid, "--reid", table.models("appearance")),
        detect_every=a.detect_every,
        groups=_names(a.hardware, "--hardware", table.groups()) if a.hardware else ())


def _short_run(a: argparse.Namespace, out: Path) -> None:
    """A warm-started run of ``--minutes`` with ``--shoppers`` inside from t = 0, its
    streams recorded, into ``out``."""
    from experiments.runs.config import RunConfig, RunConfigError
    from experiments.runs.run import run

    load_store_arg(a.store, "--store")   # a bad store fails here, before any simulation
    if a.layout is not None:
        from twin.layout_toml import LayoutError, load_layout
        try:
            load_layout(a.layout, load_store_arg(a.store, "--store"))
        except LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
    try:
        cfg = RunConfig(store=a.store, minutes=a.minutes, shoppers=a.shoppers, seed=a.seed,
                        camera_spacing_m=a.camera_spacing, layout=a.layout, warm_start=True,
                        record_streams=True)
    except RunConfigError as e:
        raise CliError(str(e)) from None
    try:
        run(cfg, out=out)
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None


def _load(a: argparse.Namespace):
    from experiments.sizing.load import LoadError, load_from_run
    if (a.run_dir is None) == (a.store is None):
        got = "neither" if a.run_dir is None else "both"
        raise CliError("give a run folder (storetwin size RUN_DIR) or --store STORE "
                       f"--shoppers N (a short warm-started run), one of the two; got {got}")
    try:
        if a.run_dir is not None:
            return load_from_run(a.run_dir)
        if a.out:
            out = Path(a.out)
            check_out(out)
            _short_run(a, out)
            return load_from_run(out)
        with tempfile.TemporaryDirectory(prefix="storetwin-size-") as tmp:
            _short_run(a, Path(tmp) / "run")
            load = load_from_run(Path(tmp) / "run")
        what = (f"a warm-started run made for this sizing: {a.store}, {a.shoppers:g} shoppers "
                f"inside from t = 0, {a.minutes:g} simulated min, seed {a.seed} (folder "
                "removed; --out keeps it)")
        return replace(load, notes=(what, *(n.replace(str(Path(tmp) / "run"), "RUN")
                                           for n in load.notes)))
    except LoadError as e:
        raise CliError(str(e)) from None


def cmd_size(a: argparse.Namespace) -> int:
    from experiments.sizing.model import size
    from experiments.sizing.table import CostTableError, load_costs
    from experiments.sizing.text import format_sizing

    _check_numbers(a)
    try:
        table = load_costs(a.costs)
    except CostTableError as e:
        raise CliError(f"--costs: {e}") from None
    opt = _options(a, table)
    result = size(_load(a), table, opt)
    if a.json:
        print(json.dumps(result, sort_keys=True, allow_nan=False, default=str))
    else:
        print(format_sizing(result))
    return 0


def add(sub) -> None:
    """The ``size`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    r = sub.add_parser(
        "size", help="compute, network and storage a real deployment needs",
        description="Size a real deployment's sensing pipeline (video decode, person "
                    "detection, pose and hands, appearance embedding, tracking and billing) "
                    "for a run's cameras and its peak crowd, from a table of cited per-unit "
                    "costs (docs/sizing.md). Give a run folder, or --store and --shoppers for "
                    "a short warm-started run made for the purpose.",
        epilog="examples: storetwin size runs/kiosk-seed0\n"
               "          storetwin size --store kiosk --shoppers 20 --hardware a100,cpu --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                   help="a run folder from 'storetwin run' (knowledge.json, timing.json, "
                        "metrics.json; streams/ and ground_truth/ give the peaks)")
    r.add_argument("--store", help="without RUN_DIR: preset (kiosk, grocery, large, "
                                   "supercenter) or a store spec .toml")
    r.add_argument("--shoppers", type=float, default=15.0,
                   help="without RUN_DIR: shoppers inside from t = 0 (default 15)")
    r.add_argument("--minutes", type=float, default=1.0,
                   help="without RUN_DIR: simulated minutes of the short run (default 1)")
    r.add_argument("--camera-spacing", type=float, default=2.5,
                   help="without RUN_DIR: ceiling camera grid pitch in metres (default 2.5)")
    r.add_argument("--layout", help="without RUN_DIR: camera layout .toml (default: a grid "
                                    "at --camera-spacing)")
    r.add_argument("--seed", type=seed_arg, default=0, help="without RUN_DIR: seed (default 0)")
    r.add_argument("--out", help="without RUN_DIR: keep the short run's folder here "
                                 "(default: a temporary folder, removed)")
    r.add_argument("--hardware", help="hardware choices, comma-separated (default: every one "
                                      "in the cost table: cpu, a100, jetson-orin-nano, "
                                      "jetson-agx-orin-64gb)")
    r.add_argument("--detector", default="yolov8s",
                   help="person detector(s) in order of preference (default yolov8s)")
    r.add_argument("--pose", default="rtmpose-m-wholebody,yolov8s-pose",
                   help="pose/hand model(s) in order of preference (default "
                        "rtmpose-m-wholebody,yolov8s-pose)")
    r.add_argument("--reid", default="osnet_x1_0",
                   help="appearance model(s) in order of preference (default osnet_x1_0)")
    r.add_argument("--detect-every", type=int, default=1, metavar="N",
                   help="run the detector on one camera frame in N (default 1: every frame)")
    r.add_argument("--headroom", type=float, default=0.3,
                   help="spare capacity over the peak (default 0.3 = 30 %%)")
    r.add_argument("--hours", type=float, default=16.0,
                   help="opening hours a day, for storage (default 16)")
    r.add_argument("--retention-days", type=float, default=30.0,
                   help="days of video kept (default 30)")
    r.add_argument("--costs", metavar="FILE.toml",
                   help="another cost table in the storetwin-costs/1 format (default: the "
                        "shipped experiments/sizing/costs.toml)")
    r.add_argument("--json", action="store_true", help="print the sizing as JSON on stdout")
    r.set_defaults(func=cmd_size)
