"""Checking parsed TOML documents (store specs, camera layouts, scenarios, studies).

A :class:`Reader` walks a parsed tree and records every problem as (field path, message)
instead of raising at the first; a document with problems raises a :class:`ProblemsError`
subclass holding all of them, shown one line each: ``SOURCE: PATH: message naming what is
allowed``.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

MAX_PROBLEMS_SHOWN = 25


class ProblemsError(ValueError):
    """A document with problems: ``problems`` is a list of (field path, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        shown = [f"{self.source}: {p}: {m}" if p else f"{self.source}: {m}"
                 for p, m in self.problems[:MAX_PROBLEMS_SHOWN]]
        extra = len(self.problems) - MAX_PROBLEMS_SHOWN
        if extra > 0:
            shown.append(f"{self.source}: ... and {extra} more problem(s) like these")
        return shown


def kind_of(v) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(v), type(v).__name__)


def show(v) -> str:
    try:
        s = repr(v)
    except (ValueError, RecursionError):   # an int past 4,300 digits; nesting too deep
        return f"<{kind_of(v)} too large to show>"
    return s if len(s) <= 40 else s[:37] + "..."


def is_real(v) -> bool:
    """A finite int or float (not a bool) that fits a float."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:   # an int too large for a float
        return False


class Reader:
    """Typed access to a parsed TOML tree that records problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self._seen: set[tuple[str, str]] = set()

    def bad(self, path: str, msg: str) -> None:
        if (path, msg) not in self._seen:   # e.g. a required key both table() and
            self._seen.add((path, msg))      # number() find missing: one problem
            self.problems.append((path, msg))

    @staticmethod
    def _path(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def _missing(self, p: str, default):
        """An absent key: its default, or a problem when it has none (required)."""
        if default is None:
            self.bad(p, "is missing (required)")
        return default

    def table(self, v, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
              ) -> dict | None:
        if not isinstance(v, dict):
            self.bad(path, f"is {kind_of(v)}; expected a table with keys {', '.join(allowed)}")
            return None
        for k in v:
            if k not in allowed:
                self.bad(f"{path}.{k}" if path else k,
                         f"unknown key; allowed here: {', '.join(allowed)}")
        for k in required:
            if k not in v:
                self.bad(f"{path}.{k}" if path else k, "is missing (required)")
        return v

    def number(self, d: dict, key: str, path: str, *, gt: float | None = None,
               ge: float | None = None, le: float | None = None, default=None,
               unit: str = "m") -> float | None:
        p = self._path(path, key)
        if key not in d:
            return self._missing(p, default)
        v = d[key]
        ok = is_real(v)
        want = []
        if gt is not None:
            want.append(f"> {gt:g}")
        if ge is not None:
            want.append(f">= {ge:g}")
        if le is not None:
            want.append(f"<= {le:g}")
        allowed = "a number" + (" " + " and ".join(want) if want else "") + f" ({unit})"
        if ok:
            if (gt is not None and not v > gt) or (ge is not None and not v >= ge) or (
                    le is not None and not v <= le):
                ok = False
        if not ok:
            self.bad(p, f"= {show(v)} is not allowed; expected {allowed}")
            return None
        return float(v)

    def integer(self, d: dict, key: str, path: str, *, ge: int = 0, le: int | None = None,
                default=None) -> int | None:
        p = self._path(path, key)
        if key not in d:
            return self._missing(p, default)
        v = d[key]
        ok = isinstance(v, int) and not isinstance(v, bool) and v >= ge and (
            le is None or v <= le)
        if not ok:
            rng = f">= {ge}" + (f" and <= {le}" if le is not None else "")
            self.bad(p, f"= {show(v)} is not allowed; expected an integer {rng}")
            return None
        return int(v)

    def string(self, d: dict, key: str, path: str, *, choices: tuple[str, ...] | None = None,
               default=None) -> str | None:
        p = self._path(path, key)
        if key not in d:
            return self._missing(p, default)
        v = d[key]
        if not isinstance(v, str) or not v.strip():
            what = f"one of {', '.join(choices)}" if choices else "a non-empty string"
            self.bad(p, f"= {show(v)} is not allowed; expected {what}")
            return None
        if choices is not None and v not in choices:
            self.bad(p, f"= {show(v)} is not allowed; expected one of {', '.join(choices)}")
            return None
        return v

    def boolean(self, d: dict, key: str, path: str, default: bool) -> bool:
        if key not in d:
            return default
        v = d[key]
        if not isinstance(v, bool):
            self.bad(f"{path}.{key}", f"= {show(v)} is not allowed; expected true or false")
            return default
        return v

    def point(self, v, path: str) -> tuple[float, float] | None:
        if (isinstance(v, list) and len(v) == 2
                and all(is_real(x) for x in v)):
            return (float(v[0]), float(v[1]))
        self.bad(path, f"= {show(v)} is not allowed; expected a point [x, y] in metres")
        return None

    def array(self, d: dict, key: str, path: str, *, required: bool = True) -> list | None:
        p = f"{path}.{key}" if path else key
        if key not in d:
            if required:
                self.bad(p, "is missing (required)")
            return None
        v = d[key]
        if not isinstance(v, list):
            self.bad(p, f"is {kind_of(v)}; expected an array")
            return None
        return v


def parse_toml(text: str, source: str, error: type[ProblemsError], what: str) -> dict:
    """The TOML document in ``text``; a document that is not TOML raises ``error`` naming
    ``source`` and ``what`` was expected (e.g. "a store spec")."""
    try:
        return tomllib.loads(text)
    except ValueError as e:   # TOMLDecodeError, or an integer past 4,300 digits
        raise error(source, [("", f"is not valid TOML: {e}")]) from None
    except RecursionError:
        raise error(source, [("", f"nests arrays or tables too deeply; expected {what}")]
                    ) from None


def read_text(path: str | Path, error: type[ProblemsError], hint: str = "") -> str:
    """A document file's UTF-8 text; an unreadable file raises ``error`` naming it (with
    ``hint``, what was expected, appended to the message)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise error(str(path), [("", f"cannot be read ({e.strerror or e}){hint}")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(str(path), [("", "is not UTF-8 text; expected a TOML file")]) from None
