"""storetwin scenario: a scripted scenario; expected, true and issued receipts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.cli.common import (
    CliError,
    check_out,
    core_names,
    id_list,
    seed_arg,
)


def cmd_scenario(a: argparse.Namespace) -> int:
    from agents.scenario import library, library_path, load_scenario
    from agents.scenario_types import ScenarioError

    if a.list:
        rows = []
        for name in library():
            sc = load_scenario(library_path(name))
            rows.append({"name": name, "store": sc.store_ref, "shoppers": len(sc.shoppers),
                         "description": sc.description})
        if a.json:
            print(json.dumps({"scenarios": rows}, sort_keys=True))
        else:
            w = max(len(r["name"]) for r in rows)
            for r in rows:
                print(f"{r['name'].ljust(w)}  {r['description']}")
        return 0
    cores = core_names(a.core or ("full,naive" if a.all else "full"))
    dead = id_list(a.dead_cameras, "--dead-cameras")
    if a.all and (a.file or a.out):
        raise CliError("--all runs every shipped scenario: give no FILE and no --out")
    if not a.file and not a.all:
        raise CliError("name a scenario FILE (a .toml, or a library name; see "
                       "'storetwin scenario --list'), or --all")
    try:
        scs = [load_scenario(library_path(n)) for n in library()] if a.all \
            else [load_scenario(a.file)]
    except ScenarioError as e:
        raise CliError("\n".join(e.lines())) from None
    if a.seed is not None:
        from dataclasses import replace
        scs = [replace(sc, seed=a.seed) for sc in scs]
    out = Path(a.out) if a.out else None
    if out is not None:
        check_out(out)
    from experiments.runs.config import RunConfigError
    from experiments.runs.guard import CoreFault
    from experiments.runs.scenario import (
        format_library,
        format_result,
        make_core,
        pooled_review,
        run_scenario,
    )
    results = []
    for sc in scs:
        try:
            results.append(run_scenario(
                sc, out=out, core=make_core(cores[0]), core_name=cores[0],
                others={c: make_core(c) for c in cores[1:]}, dead_cameras=dead,
                progress=sys.stdout.isatty() and not a.json and not a.all))
        except RunConfigError as e:
            raise CliError(f"--dead-cameras: {e}") from None
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        except CoreFault as e:
            print(f"storetwin: scenario {sc.name} failed: {str(e).splitlines()[0]}",
                  file=sys.stderr)
            return 1
    if a.json:
        doc = ({"scenarios": [r.as_dict() for r in results],
                "review": {c: pooled_review([r.review(c) for r in results]) for c in cores}}
               if a.all else results[0].as_dict())
        print(json.dumps(doc, sort_keys=True, allow_nan=False))
    elif a.all:
        print(format_library(results))
    else:
        print(format_result(results[0]))
        if out is not None:
            print(f"\nrun folder: {out}")
    if a.strict and any(not r.ran_as_written or r.billed_right < len(r.rows)
                        for r in results):
        return 1
    return 0


def add(sub) -> None:
    """The ``scenario`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    sn = sub.add_parser(
        "scenario", help="run a scripted scenario; expected vs issued receipts",
        description="Run a scripted scenario (docs/scenarios.md) through the whole pipeline: "
                    "the scripted shoppers (and any background crowd) act in the physics "
                    "store, the core bills them from the sensors alone. Prints, per account, "
                    "the receipt the script implies, the ground truth and the core's receipt. "
                    "Exit 0; with --strict, 1 when any receipt is wrong or the script could "
                    "not be carried out; 2 on bad input.",
        epilog="examples: storetwin scenario --list\n"
               "          storetwin scenario two_baguettes\n"
               "          storetwin scenario my_case.toml --json --strict\n"
               "          storetwin scenario --all --core full,naive",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sn.add_argument("file", metavar="FILE", nargs="?",
                    help="a scenario .toml, or the name of a shipped one")
    sn.add_argument("--list", action="store_true", help="list the shipped scenarios")
    sn.add_argument("--all", action="store_true",
                    help="run every shipped scenario; one summary line each")
    sn.add_argument("--core", help="core(s) that bill the run, comma-separated, the first "
                    "one reported in full: full (storetwin's core), naive (the baseline: "
                    "weight only, nearest person); default full, with --all full,naive")
    sn.add_argument("--dead-cameras", metavar="IDS",
                    help="camera ids that deliver nothing, e.g. 3,4 (a blind spot)")
    sn.add_argument("--seed", type=seed_arg, help="override the scenario's seed")
    sn.add_argument("--out", help="also write a run folder (streams, ground truth, receipts)")
    sn.add_argument("--strict", action="store_true",
                    help="exit 1 unless every receipt matches the script")
    sn.add_argument("--json", action="store_true", help="print the result as JSON")
    sn.set_defaults(func=cmd_scenario)
