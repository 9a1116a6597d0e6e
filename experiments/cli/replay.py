"""storetwin replay: a recorded run's streams fed to the core again."""

from __future__ import annotations

import argparse
import json

from experiments.cli.common import (
    CliError,
    writable_file,
)


def cmd_replay(a: argparse.Namespace) -> int:
    from experiments.runs.replay import ReplayError, replay

    try:
        res = replay(a.run_dir)
    except ReplayError as e:
        raise CliError(str(e)) from None
    same = res.same_as_live
    if a.out:
        out = writable_file(a.out, "--out")
        try:
            out.write_text(json.dumps(res.receipts_json(), indent=2, sort_keys=True) + "\n")
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    summary = {"run_dir": str(a.run_dir), "receipts": len(res.receipts),
               "same_as_live": same, "sim_s": res.sim_s, "wall_s": round(res.wall_s, 3),
               "real_time_factor": round(res.sim_s / res.wall_s, 1) if res.wall_s else None}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        verdict = {True: "identical to the live run's receipts.json",
                   False: "DIFFERENT from the live run's receipts.json",
                   None: "no live receipts.json to compare"}[same]
        print(f"replayed {res.sim_s:g} s of streams in {res.wall_s:.1f} s "
              f"({summary['real_time_factor']}x real time): {len(res.receipts)} receipts, "
              f"{verdict}")
    return 0 if same is not False else 1


def add(sub) -> None:
    """The ``replay`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    rp = sub.add_parser(
        "replay", help="feed a recorded run's streams to the core",
        description="Feed a run folder's recorded sensor streams (streams/) and store "
                    "knowledge (knowledge.json) to the core, as live, and compare the receipts "
                    "with the live run's. Exit 0 when identical (or nothing to compare), 1 when "
                    "they differ, 2 on bad input.",
        epilog="example: storetwin replay runs/kiosk-seed0 --out replayed.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rp.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'storetwin run'")
    rp.add_argument("--out", help="write the replayed receipts JSON here")
    rp.add_argument("--json", action="store_true", help="print the summary as JSON")
    rp.set_defaults(func=cmd_replay)
