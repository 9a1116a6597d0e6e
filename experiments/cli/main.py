"""The ``storetwin`` command: the parser of every verb, and ``main``."""

from __future__ import annotations

import argparse
import os
import sys

from experiments.cli import (
    bench,
    layout,
    render,
    replay,
    report,
    run,
    scenario,
    scene,
    size,
    study,
    track,
    view,
)
from experiments.cli import compile as compile_
from experiments.cli.common import EXIT_BAD_INPUT, CliError, Parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("storetwin")
    except PackageNotFoundError:   # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="storetwin", description="Digital twin of a walk-out (cashierless) store.")
    p.add_argument("--version", action="version", version=f"storetwin {_version()}")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser)
    for verb in (run, scenario, scene, layout, render, study, report, view, size, bench,
                 track, compile_, replay):   # the order --help lists them in
        verb.add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    if not getattr(a, "verb", None):
        verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        print(f"storetwin: error: name a verb ({', '.join(verbs.choices)}); see "
              "'storetwin --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    if a.verb == "layout" and not getattr(a, "layout_verb", None):
        print("storetwin: error: name a layout verb (grid, aisles, shelves, greedy, coverage); "
              "see 'storetwin layout --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    if a.verb == "scene" and not getattr(a, "scene_verb", None):
        print("storetwin: error: name a scene verb (new, info, plan, export); see "
              "'storetwin scene --help'", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return a.func(a)
    except CliError as e:
        for line in str(e).splitlines() or [""]:
            print(f"storetwin: error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("storetwin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # the reader went away (| head): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141

