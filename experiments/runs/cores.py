"""Which core bills a run: storetwin's own by name, or anyone's by import path.

A core is named ``package.module:Name`` (``Name`` may be dotted: a class, or any callable
that returns a fresh core when called with no arguments); storetwin's two cores are
``full`` = ``core.store_core:StoreCore`` and ``naive`` = ``core.naive:NaiveCore``, and the
twin treats them like any other. What a core must do is :class:`core.protocol.Core` (the
protocol, with what it is given and must return, is docs/core-protocol.md).

Modules import from the installed packages and from the current folder (as ``python -m``
does). Bad names fail with one :class:`CoreSpecError` line saying what was wrong: not of the form,
module not importable, no such attribute, not callable, or the object made lacks the
protocol's methods.
"""

from __future__ import annotations

import importlib
import os
import re
import sys

from core.protocol import Core

#: storetwin's own cores by short name
BUILTIN = {"full": "core.store_core:StoreCore", "naive": "core.naive:NaiveCore"}

_SPEC = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
METHODS = ("start", "step", "finish")


class CoreSpecError(ValueError):
    pass


def resolve(spec: str) -> str:
    """The import path of a core name (``full``, ``naive`` or ``module:Name``)."""
    spec = str(spec).strip()
    if spec in BUILTIN:
        return BUILTIN[spec]
    if not _SPEC.match(spec):
        raise CoreSpecError(f"core {spec!r}: expected {', '.join(BUILTIN)} or "
                            "package.module:Name (an importable class or factory)")
    return spec


def load_factory(spec: str):
    """The class or factory a core name points to (imported, not called)."""
    path = resolve(spec)
    mod_name, attr = path.split(":", 1)
    cwd = os.getcwd()
    if cwd not in sys.path:     # a team's module in the folder it runs from, as python -m does
        sys.path.insert(0, cwd)
    try:
        obj = importlib.import_module(mod_name)
    except Exception as e:  # noqa: BLE001 - any import failure is the user's core's
        raise CoreSpecError(f"core {spec!r}: cannot import module {mod_name!r} "
                            f"({type(e).__name__}: {e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise CoreSpecError(f"core {spec!r}: module {mod_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise CoreSpecError(f"core {spec!r}: {attr!r} is not a class or factory")
    return obj


def make_core(spec: str) -> Core:
    """A fresh core from its name; checks it has ``start``, ``step`` and ``finish``."""
    factory = load_factory(spec)
    try:
        core = factory()
    except Exception as e:  # noqa: BLE001 - reported with the core's name
        raise CoreSpecError(f"core {spec!r}: making it failed ({type(e).__name__}: {e})"
                            ) from None
    missing = [m for m in METHODS if not callable(getattr(core, m, None))]
    if missing:
        raise CoreSpecError(f"core {spec!r}: not a core, it lacks "
                            f"{', '.join(m + '()' for m in missing)} (core/protocol.py)")
    return core


def check_spec(spec: str) -> str | None:
    """None when ``spec`` makes a core (one is made and dropped), else the reason (for
    input validation)."""
    try:
        make_core(spec)
    except CoreSpecError as e:
        return str(e)
    return None
