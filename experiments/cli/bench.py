"""storetwin bench: the versioned benchmark suite against any core."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.cli.common import (
    CliError,
    core_names,
)


def cmd_bench(a: argparse.Namespace) -> int:
    from experiments.bench.suite import (
        BenchError,
        bench,
        compare,
        format_compare,
        parse_thresholds,
        regenerate,
    )

    try:
        if a.regenerate:
            print(f"suite written: {regenerate(a.suite)}")
            return 0
        (core,) = core_names(a.core)
        old = None
        if a.compare:
            try:
                old = json.loads(Path(a.compare).read_text())
            except (OSError, ValueError) as e:
                raise CliError(f"--compare {a.compare}: cannot read a bench result ({e})"
                               ) from None
            if not isinstance(old, dict) or "cases" not in old:
                raise CliError(f"--compare {a.compare}: not a bench result (no 'cases')")
        thresholds = parse_thresholds(a.max_drop, 0.0)
        res = bench(core, a.suite, a.case)
        if a.out:
            Path(a.out).write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
        if a.json:
            print(json.dumps(res, sort_keys=True))
        else:
            for c in res["cases"]:
                m = c.get("metrics", {})
                print(f"{c['id']:<18} {c['status']:<7} exact {m.get('exact_match')}  "
                      f"F1 {m.get('receipt_f1')}  HOTA {m.get('hota')}" if c["status"] == "ok"
                      else f"{c['id']:<18} failed  {c['error']}")
        if old is not None:
            rows, regressed = compare(old, res, thresholds)
            print(format_compare(rows), file=sys.stderr if a.json else sys.stdout)
            if regressed:
                print("storetwin bench: regressions against " + a.compare, file=sys.stderr)
                return 1
    except BenchError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"--out {a.out}: cannot write ({e.strerror})") from None
    return 0


def add(sub) -> None:
    """The ``bench`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    bn = sub.add_parser(
        "bench", help="the versioned benchmark suite against any core",
        description="Run a fixed, versioned suite of short cases (sampled crowds and scripted "
                    "scenarios on the kiosk, ground truth checked into the package) against a "
                    "core; write one JSON result with every metric per case. With --compare, "
                    "flag the metrics that fell past a threshold against an earlier result "
                    "and exit 1 if any did.",
        epilog="example: storetwin bench --core mypkg.mod:MyCore --out new.json "
               "--compare old.json --max-drop 0.02 --max-drop hota=0.01",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bn.add_argument("--core", default="full", help="full, naive or package.module:Name "
                    "(docs/core-protocol.md); default full")
    bn.add_argument("--suite", default="v1", help="suite version (default v1)")
    bn.add_argument("--case", action="append", help="run only this case (repeatable)")
    bn.add_argument("--out", help="write the result JSON here")
    bn.add_argument("--compare", metavar="OLD", help="an earlier result JSON to compare with")
    bn.add_argument("--max-drop", action="append", metavar="[METRIC=]X",
                    help="a fall larger than X in a metric (a rise, for lower-is-better ones) "
                         "is a regression; default 0 for every metric but speed")
    bn.add_argument("--json", action="store_true", help="print the result JSON")
    bn.add_argument("--regenerate", action="store_true",
                    help="(maintainers) rewrite the suite file from its seeds")
    bn.set_defaults(func=cmd_bench)
