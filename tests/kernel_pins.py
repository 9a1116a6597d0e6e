"""The pins of the compiled kernel modules on one another: checked, and refreshed.

numba's cache (``cache=True``) stamps a kernel's own module file only (numba 0.68's cache
locator: its modification time and size), yet the machine code it keeps holds the code of
every compiled function the kernel calls, those of other kernel modules included. So a kernel
module that imports another one (``core._track_kernels`` imports ``core._fusion_kernels``)
pins, in its ``_DEPENDS``, the SHA-256 of that module's file and of every kernel module that
one pins, and caches its kernels only while every pin holds (``@njit(cache=CACHE)`` with
``CACHE = _pins_hold(__file__, _DEPENDS)``):

- pins current: an edit of a dependency changes the dependent's file too (its pin), and
  numba's own stamp compiles the dependent afresh;
- a pin left stale: caching is off for that module (correct code, compiled afresh in each
  process), and ``tests/test_architecture.py`` fails, naming the pin.

From the repository root::

    python -m tests.kernel_pins            # list the stale pins (exit status 1 if any)
    python -m tests.kernel_pins --update   # refresh them (dependencies first)
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("params", "scenes", "twin", "agents", "core", "experiments")
UPDATE = "python -m tests.kernel_pins --update"


def source_digest(path: Path) -> str:
    """The SHA-256 of a module file as the modules' ``_pins_hold`` takes it (its bytes, CRLF
    read as LF)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def pins_of(text: str) -> dict[str, str]:
    """A module's pins: its top-level ``_DEPENDS`` (file name beside it -> SHA-256), or {}."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_DEPENDS" for t in node.targets):
            return dict(ast.literal_eval(node.value))
    return {}


def pinned_modules() -> list[Path]:
    """Every storetwin module that pins others (a top-level ``_DEPENDS``)."""
    return [p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))
            if "_DEPENDS" in (text := p.read_text()) and pins_of(text)]


def _stale(path: Path) -> dict[str, tuple[str, str]]:
    """The stale pins of one module: file name -> (pinned, actual) SHA-256 ("missing" for a
    file that is not there)."""
    out = {}
    for name, pinned in pins_of(path.read_text()).items():
        dep = path.parent / name
        actual = source_digest(dep) if dep.is_file() else "missing"
        if actual != pinned:
            out[name] = (pinned, actual)
    return out


def stale_pins() -> list[str]:
    """One line per stale pin, naming the module, the pinned file and how to refresh it."""
    return [f"{path.relative_to(REPO)} pins {name} at {pinned[:12]}..., which is now "
            f"{actual[:12]}...: run {UPDATE}"
            for path in pinned_modules() for name, (pinned, actual) in _stale(path).items()]


def update_pins() -> list[Path]:
    """Rewrite every stale pin in place, until none is left (a refreshed pin changes its
    module, which others may pin in turn). Returns the modules rewritten."""
    changed: list[Path] = []
    for _ in range(len(pinned_modules()) + 1):
        round_changed = []
        for path in pinned_modules():
            stale = _stale(path)
            if not stale:
                continue
            text = path.read_text()
            for name, (pinned, actual) in stale.items():
                if actual == "missing":
                    raise FileNotFoundError(f"{path.relative_to(REPO)} pins {name}, "
                                            f"which is not beside it")
                pattern = re.compile(rf'("{re.escape(name)}"\s*:\s*")({re.escape(pinned)})(")')
                text, n = pattern.subn(rf"\g<1>{actual}\g<3>", text)
                if n != 1:
                    raise ValueError(f"{path.relative_to(REPO)}: cannot find the pin of "
                                     f"{name} in _DEPENDS")
            path.write_text(text)
            round_changed.append(path)
        if not round_changed:
            return changed
        changed += [p for p in round_changed if p not in changed]
    raise RuntimeError("the pins do not settle: do kernel modules pin one another in a cycle?")


def main(argv: list[str]) -> int:
    if argv == ["--update"]:
        for path in update_pins():
            sys.stdout.write(f"updated {path.relative_to(REPO)}\n")
        return 0
    if argv:
        sys.stderr.write(f"usage: {UPDATE.removesuffix(' --update')} [--update]\n")
        return 2
    stale = stale_pins()
    sys.stdout.write("".join(line + "\n" for line in stale) or "every pin is current\n")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
