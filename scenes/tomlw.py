"""A small TOML writer for storetwin's own documents (specs, layouts, scenarios).

``tomllib`` reads TOML but does not write it, and general writers put every array element on
its own line, which makes a 50,000-bin planogram unreadable. This writer keeps scalar arrays
inline, writes arrays of arrays one inner array per line, sub-tables as ``[a.b]`` sections and
lists of tables as ``[[a]]`` blocks. Floats are written with ``repr`` (shortest round trip), so
``tomllib.loads(dumps(d)) == d`` for the types it accepts: str, int, float (finite), bool,
list, dict.
"""

from __future__ import annotations

import json
import math
import re

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else _value(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML writer: non-finite float {v!r}")
        r = repr(v)
        return r if ("." in r or "e" in r or "n" in r) else r + ".0"
    if isinstance(v, str):
        # JSON escapes the other control characters; TOML also forbids a raw DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (list, tuple)) for x in v):
            inner = ",\n".join("  " + _value(x) for x in v)
            return "[\n" + inner + ",\n]"
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"TOML writer: cannot write {type(v).__name__}")


def value(v) -> str:
    """One TOML value written inline (str, int, finite float, bool, list, dict)."""
    return _value(v)


def _is_table_list(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(path: list[str], d: dict, out: list[str]) -> None:
    for k, v in d.items():
        if not isinstance(v, dict) and not _is_table_list(v):
            out.append(f"{_key(k)} = {_value(v)}")
    for k, v in d.items():
        p = path + [k]
        name = ".".join(_key(x) for x in p)
        if isinstance(v, dict):
            plain = any(not isinstance(x, dict) and not _is_table_list(x) for x in v.values())
            if plain or not v:
                out.append("")
                out.append(f"[{name}]")
            _table(p, v, out)
        elif _is_table_list(v):
            for item in v:
                out.append("")
                out.append(f"[[{name}]]")
                _table(p, item, out)


def dumps(doc: dict, header: str = "") -> str:
    """The TOML text of ``doc``, after ``header`` (each line written as a ``#`` comment)."""
    out: list[str] = [("# " + line).rstrip() for line in header.splitlines()]
    _table([], doc, out)
    return "\n".join(out).lstrip("\n") + "\n"
