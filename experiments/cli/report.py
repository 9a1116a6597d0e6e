"""storetwin report: a study's results as one HTML page."""

from __future__ import annotations

import argparse
import sys

from experiments.cli.common import (
    CliError,
)


def cmd_report(a: argparse.Namespace) -> int:
    from experiments.studies.report import ReportError, write_report
    from experiments.studies.results import ResultsError

    if a.target is not None and not 0 < a.target <= 1:
        raise CliError(f"--target must be in (0, 1], got {a.target:g}")
    skipped: list[str] = []
    try:
        path = write_report(a.results, a.out, target=a.target, skipped=skipped)
    except (ReportError, ResultsError) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"--out {a.out}: cannot write ({e.strerror})") from None
    for why in skipped:     # one bad row file costs its run, not the report
        print(f"storetwin report: skipped {why}", file=sys.stderr)
    print(f"report: {path}")
    return 0


def add(sub) -> None:
    """The ``report`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    rep = sub.add_parser(
        "report", help="an HTML report of a study's results",
        description="Write a self-contained HTML page (plots embedded, opens offline) from a "
                    "results folder: accuracy vs cost Pareto frontier per store with the "
                    "cheapest layout meeting the target, accuracy vs shoppers, real-time "
                    "factor and core time per tick vs store size with a fitted growth law, "
                    "where the time goes, coverage heatmaps, and every run.",
        epilog="example: storetwin report results/kiosk_layouts --out kiosk.html",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rep.add_argument("results", metavar="RESULTS", help="a folder 'storetwin study' wrote")
    rep.add_argument("--out", help="HTML file to write (default RESULTS/report.html)")
    rep.add_argument("--target", type=float, help="receipt exact-match target, 0-1 (default: "
                     "the study's target_exact, else 0.995)")
    rep.set_defaults(func=cmd_report)
