"""storetwin study: a capacity-planning sweep into a results folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.cli.common import (
    CliError,
    check_out,
)

# more runs than this need --yes: a typo in a seed range or an axis should not start (or
# list) a million runs
MAX_RUNS = 10_000


def cmd_study(a: argparse.Namespace) -> int:
    from experiments.studies.execute import run_study
    from experiments.studies.results import ResultsError
    from experiments.studies.spec import StudyError, load_study
    from experiments.studies.sweep import count_runs, expand
    from scenes.checks import ProblemsError

    try:
        study = load_study(a.file)
    except StudyError as e:
        raise CliError("\n".join(e.lines())) from None
    if a.workers is not None and a.workers < 1:
        raise CliError(f"--workers must be >= 1, got {a.workers}")
    if a.address and a.executor != "ray":
        raise CliError("--address names a Ray cluster: give it with --executor ray")
    out = Path(a.out) if a.out else Path("results") / study.name
    n = count_runs(study)
    if n > MAX_RUNS and not a.yes:
        raise CliError(f"{a.file}: the study expands to {n:,} runs, more than {MAX_RUNS:,}; "
                       "give --yes to run (or list) that many")
    if a.dry_run:
        specs = expand(study)
        rows = [{"run_id": s.run_id, **s.params.columns()} for s in specs]
        if a.json:
            print(json.dumps({"study": study.name, "runs": rows}, sort_keys=True))
        else:
            print(f"study {study.name}: {len(rows)} runs -> {out}")
            for r in rows:
                what = r["scenario"] or (f"{r['store']} bpp={r['bins_per_plate']} "
                                         f"{r['layout']} shoppers={r['shoppers']:g} "
                                         f"seed={r['seed']}")
                if r.get("panel"):
                    what += f" panel={r['panel']} look_taste={r['look_taste']:g}"
                if r.get("faults"):
                    what += f" faults={r['faults']}"
                print(f"  {r['run_id']}  {what}  core={r['core']}")
        return 0
    check_out(out)
    progress = sys.stderr.isatty() and not a.json
    try:
        o = run_study(a.file, out, executor=a.executor, workers=a.workers, address=a.address,
                      retry_failed=a.retry_failed, progress=progress, view=a.view,
                      log=(lambda m: print(f"storetwin study: {m}", file=sys.stderr))
                      if not a.json else (lambda m: None))
    except ProblemsError as e:   # the study file, or a store spec or layout file it names
        raise CliError("\n".join(e.lines())) from None
    except ResultsError as e:
        raise CliError(str(e)) from None
    summary = {"study": study.name, "runs": o.total, "skipped": o.skipped, "done": o.done,
               "failed": o.failed, "results": str(o.results / "results.parquet"),
               "wall_s": o.wall_s, "executor": a.executor}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"study {study.name}: {o.total} runs; {o.skipped} already in {o.results}, "
              f"{o.done} ran, {o.failed} failed ({o.wall_s:.1f} s)")
        print(f"results: {o.results / 'results.parquet'}  (one row per run; "
              f"'storetwin report {o.results}' draws them)")
    if o.failed:
        print(f"storetwin study: {o.failed} of {o.total} runs failed (each row's 'error' "
              "says why; --retry-failed runs them again)", file=sys.stderr)
        return 1
    return 0


def add(sub) -> None:
    """The ``study`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    st = sub.add_parser(
        "study", help="run a capacity-planning study (a sweep) into a results store",
        description="Expand a study file (docs/studies.md: stores, layouts, crowd levels, "
                    "faults, seeds, cores, scenarios) into runs and execute the ones the "
                    "results folder lacks, on a local process pool or on Ray. One Parquet row "
                    "per run (parameters, metrics, timings, versions) in RESULTS/runs/, "
                    "gathered into RESULTS/results.parquet. Killed and restarted, it skips "
                    "finished runs; a run that crashes is recorded as failed, and the "
                    "study exits 1.",
        epilog="examples: storetwin study experiments/studies/kiosk_layouts.toml\n"
               "          storetwin study my.toml --out results/my --executor ray\n"
               "          storetwin study my.toml --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("file", metavar="FILE", help="a study .toml")
    st.add_argument("--out", help="results folder (default results/<study name>)")
    st.add_argument("--executor", choices=("local", "ray"), default="local",
                    help="local process pool (default) or Ray")
    st.add_argument("--address", help="a Ray cluster to join (with --executor ray; default: "
                    "start Ray on this machine)")
    st.add_argument("--workers", type=int, help="parallel runs (default: all cores)")
    st.add_argument("--retry-failed", action="store_true",
                    help="run again the runs recorded as failed")
    st.add_argument("--view", action="store_true",
                    help="keep each run's folder (no streams) under RESULTS/runs/RUN_ID/ with "
                         "its browser viewer; the report's table of every run links to it")
    st.add_argument("--dry-run", action="store_true", help="list the runs; run nothing")
    st.add_argument("--yes", action="store_true",
                    help=f"run a study of more than {MAX_RUNS:,} runs")
    st.add_argument("--json", action="store_true", help="print the summary as JSON")
    st.set_defaults(func=cmd_study)
