"""What every verb of the command line shares: the one-line error and exit code 2, the
parser that reports that way, and the checks of flags several verbs take (--seed, --out,
--core, a store, id lists).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from params import SEED

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input: reported as one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code too)
        self.exit(EXIT_BAD_INPUT, f"storetwin: error: {message}\n")


def seed_arg(text: str) -> int:
    """``--seed``, checked here for every verb, by the one seed rule (``params.SEED``: an
    integer in [0, 2^63), what numpy's SeedSequence and an int64 column both hold)."""
    try:
        v = int(text)
    except ValueError:
        v = None
    if v is None or not SEED.ok(v):
        raise argparse.ArgumentTypeError(f"must be {SEED.allowed()}, got {text!r}")
    return v


def fmt(v, pct=False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if pct:
        return f"{100 * v:6.1f} %"
    if isinstance(v, float):
        return f"{v:,.3f}"
    return f"{v:,}"


def check_out(path: Path) -> None:
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise CliError(f"--out {path}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise CliError(f"--out {path}: {probe} is not writable")


def load_store_arg(ref: str, flag: str = "STORE"):
    """A preset name or a spec file, or a CliError naming every problem."""
    from scenes.presets import UnknownPresetError, load_store
    from scenes.spec import SpecError

    try:
        return load_store(ref)
    except UnknownPresetError as e:
        raise CliError(f"{flag} {e}") from None
    except SpecError as e:
        raise CliError("\n".join(e.lines())) from None


def core_failed(e, out: Path, core_name: str) -> int:
    """A core that raised, hung or broke the protocol: the run failed (exit 1), with the
    reason on one line and in ``OUT/failure.json``; not a crash."""
    from experiments.runs.outputs import write_failure

    first = str(e).splitlines()[0]
    where = write_failure(out, {"status": "failed", "core": core_name, "t": e.t,
                                "error": e.what})
    print(f"storetwin: run failed: {first}  (core {core_name}; {where})", file=sys.stderr)
    return 1


def use_core_process(choice: str) -> bool:
    """--core-process: on, off, or auto (on where this process may use 2+ CPU cores)."""
    if choice != "auto":
        return choice == "on"
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        n = os.cpu_count() or 1
    return n >= 2


def core_names(text: str) -> list[str]:
    from experiments.runs.cores import BUILTIN, check_spec

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or len(set(names)) != len(names):
        raise CliError(f"--core {text!r}: give one or more of {', '.join(BUILTIN)} or "
                       "package.module:Name, comma-separated, each once")
    for n in names:
        why = check_spec(n)
        if why is not None:
            raise CliError(f"--core: {why}")
    return names


def id_list(text: str | None, flag: str) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        ids = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise CliError(f"{flag} {text!r}: give comma-separated ids, e.g. 3,4,7") from None
    if any(i < 0 for i in ids):
        raise CliError(f"{flag} {text!r}: ids must be >= 0")
    return ids


def writable_file(path: str, flag: str) -> Path:
    out = Path(path)
    check_out(out.parent if str(out.parent) else Path("."))
    if out.is_dir():
        raise CliError(f"{flag} {out}: is a folder; expected a file name")
    return out

