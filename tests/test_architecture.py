"""The wall and the one-way imports of DESIGN.md, checked on the source with ``ast``.

``core/`` sees only sensor records and store knowledge: it must import nothing from
``scenes``, ``twin``, ``agents`` or ``experiments``, not even through ``importlib`` or
``__import__`` strings. The other layers import one way (scenes <- twin <- agents <-
experiments), only ``core/backend.py`` imports cupy, and importing any module does nothing
(no prints, no physics connection, no environment writes).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("params", "scenes", "twin", "agents", "core", "experiments")


# --------------------------------------------------------------------------- the scanner


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str | None, level: int, importer: str, is_package: bool) -> str:
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([module] if module else []))


def imports_of(source: str, importer: str = "pkg.mod", is_package: bool = False
               ) -> list[tuple[str, int]]:
    """Every module a source file imports: ``(dotted name, line)``.

    Covers ``import a.b``, ``from a.b import c`` (relative ones resolved against
    ``importer``), ``importlib.import_module("a.b")`` / ``import_module(...)`` and
    ``__import__("a.b")``. A dynamic import whose name is not a string literal is reported
    as ``"<dynamic>"``: nobody can prove it respects the wall.
    """
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = (_resolve_relative(node.module, node.level, importer, is_package)
                    if node.level else node.module or "")
            if node.module is None:  # ``from .. import x``: each name may be a module
                out.extend((f"{name}.{a.name}".lstrip("."), node.lineno) for a in node.names)
            else:
                out.append((name, node.lineno))
        elif isinstance(node, ast.Call):
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if fname in ("import_module", "__import__"):
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.append((arg.value, node.lineno))
                else:
                    out.append(("<dynamic>", node.lineno))
    return out


def _sources(package: str) -> list[Path]:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no Python files found under {package}/"
    return files


def _offenders(package: str, banned: set[str]) -> list[str]:
    bad = []
    for path in _sources(package):
        names = imports_of(path.read_text(), _module_name(path), path.name == "__init__.py")
        for name, line in names:
            if name.split(".")[0] in banned:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return bad


# --------------------------------------------------------------------------- scanner self-test


def test_scanner_sees_every_kind_of_import():
    src = (
        "import twin\n"
        "import numpy as np, agents.crowd\n"
        "from scenes.store import Store\n"
        "from .. import experiments\n"
        "import importlib\n"
        "importlib.import_module('twin.world')\n"
        "__import__('agents')\n"
        "name = 'sce' + 'nes'\n"
        "importlib.import_module(name)\n"
        "def f():\n"
        "    from experiments.runs.run import run\n"
    )
    got = {n for n, _ in imports_of(src, "core.tracking")}
    assert {"twin", "agents.crowd", "scenes.store", "experiments", "twin.world", "agents",
            "<dynamic>", "experiments.runs.run"} <= got


def test_scanner_resolves_relative_imports():
    assert imports_of("from .records import X", "core.tracking") == [("core.records", 1)]
    assert imports_of("from . import records", "core", is_package=True) == [("core.records", 1)]
    assert imports_of("from ..twin import world", "core.x") == [("twin", 1)]


# --------------------------------------------------------------------------- the layers


def test_core_imports_none_of_the_other_layers():
    """The wall: core sees what a real store's computers see, nothing of the simulator."""
    assert _offenders("core", {"scenes", "twin", "agents", "experiments"}) == []


def test_core_has_no_dynamic_imports():
    """An import by computed name cannot be checked against the wall."""
    assert _offenders("core", {"<dynamic>"}) == []


def test_params_imports_nothing_of_storetwin():
    """The one validation helper for config dataclasses is a leaf: every package may import
    it, so it may import none of them."""
    assert _offenders("params", {"scenes", "twin", "agents", "core", "experiments",
                                 "<dynamic>"}) == []


def test_scenes_imports_none_of_the_other_layers():
    assert _offenders("scenes", {"twin", "agents", "core", "experiments"}) == []


def test_twin_imports_neither_agents_nor_experiments():
    """The twin drives a population interface that agents implement; it never imports it."""
    assert _offenders("twin", {"agents", "experiments", "<dynamic>"}) == []


def test_twin_takes_only_the_wall_contract_from_core():
    """The twin produces the record types and the store knowledge of core; it may not
    reach into the core's algorithms (tracking, billing, ...)."""
    allowed = {"core", "core.records", "core.knowledge"}
    bad = []
    for path in _sources("twin"):
        for name, line in imports_of(path.read_text(), _module_name(path)):
            if name.split(".")[0] == "core" and name not in allowed:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert bad == []


def test_agents_import_neither_experiments_nor_core():
    """Shoppers act on the world and write ground truth; they never read sensor streams."""
    assert _offenders("agents", {"experiments", "core", "<dynamic>"}) == []


def _import_graph() -> dict[str, set[str]]:
    """storetwin's modules and the storetwin modules each imports (anywhere in the file,
    ``TYPE_CHECKING`` blocks and function bodies included); a module's own package is left
    out (importing ``a.b`` runs ``a`` first anyway)."""
    mods = {_module_name(p): p for pkg in PACKAGES for p in _sources(pkg)}
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for imp, _ in imports_of(path.read_text(), name, path.name == "__init__.py"):
            parts = imp.split(".")
            while parts and ".".join(parts) not in mods:
                parts.pop()
            dep = ".".join(parts)
            if dep and dep != name and not name.startswith(dep + "."):
                deps.add(dep)
        graph[name] = deps
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` as a path (first module repeated at the end), or []."""
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    path: list[str] = []

    def visit(v: str) -> list[str]:
        state[v] = 1
        path.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        path.pop()
        state[v] = 2
        return []

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return []


def test_scanner_finds_an_import_cycle():
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_back_a_module_that_imports_it():
    """Imports go one way between modules too, not only between packages: e.g. the layout
    generators that need coverage (twin/placement.py) import it; coverage and the layout
    format do not import them."""
    graph = _import_graph()
    assert "twin.coverage" in graph["twin.placement"]
    assert "twin.layout" in graph["twin.placement"]
    assert _a_cycle(graph) == []


def _kernel_modules() -> dict[str, tuple[Path, str]]:
    """Every module whose numba kernels numba caches on disk (``cache=True``, or
    ``cache=CACHE`` behind pins: tests/kernel_pins.py): name -> (path, source)."""
    out = {}
    for package in PACKAGES:
        for path in _sources(package):
            text = path.read_text()
            if "cache=True" in text or "cache=CACHE" in text:
                out[_module_name(path)] = (path, text)
    return out


def test_numba_kernel_modules_import_nothing_of_storetwin():
    """numba recompiles a cached kernel when its own module file changes, not when a module
    it imports does (experiments/bench/compile.py): a kernel module that imported storetwin code
    could run stale machine code after an edit there. Every module with cached kernels imports
    math, hashlib, pathlib, os, numpy and numba, and other kernel modules only where it pins
    them (tests/kernel_pins.py): each kernel module it imports, and each one that one pins, is
    a file beside it named in its ``_DEPENDS``, and its kernels are cached only while the pins
    hold (``CACHE = _pins_hold(__file__, _DEPENDS)``, ``cache=CACHE``, never ``cache=True``)."""
    from kernel_pins import pins_of

    allowed = {"__future__", "math", "hashlib", "pathlib", "os", "numpy", "numba"}
    kernels = _kernel_modules()
    bad = []
    for name, (path, text) in kernels.items():
        where, pins = path.relative_to(REPO), pins_of(text)
        for imp, line in imports_of(text, name):
            if imp in kernels:
                dep_path, dep_text = kernels[imp]
                unpinned = sorted({dep_path.name, *pins_of(dep_text)} - set(pins))
                if dep_path.parent != path.parent or unpinned:
                    bad.append(f"{where}:{line} imports {imp} without pinning "
                               f"{unpinned or 'it (not beside it)'}")
            elif imp.split(".")[0] not in allowed:
                bad.append(f"{where}:{line} imports {imp}")
        if pins and ("cache=True" in text or "CACHE = _pins_hold(__file__, _DEPENDS)" not in text):
            bad.append(f"{where} pins kernel modules: its kernels take cache=CACHE, "
                       f"CACHE = _pins_hold(__file__, _DEPENDS)")
    assert {"agents._motion_kernels", "twin._sensor_kernels", "twin._camera_kernels",
            "core._graph_kernels", "core._assign_kernels", "core._fusion_kernels",
            "core._track_kernels"} <= set(kernels)
    assert bad == []


def test_every_kernel_pin_is_current():
    """A kernel module's pins (``_DEPENDS``) are the SHA-256 of the kernel modules it pins as
    they are now; a stale one switches its caching off (correct code, compiled afresh in each
    process). After editing a kernel module: ``python -m tests.kernel_pins --update``."""
    from kernel_pins import pinned_modules, stale_pins

    assert {"core/_assign_kernels.py", "core/_fusion_kernels.py", "core/_track_kernels.py"} <= {
        p.relative_to(REPO).as_posix() for p in pinned_modules()}
    assert stale_pins() == []


def test_a_stale_pin_turns_caching_off(tmp_path):
    """The pins at work, on copies of a kernel module and the one it pins: as they are, its
    kernels are cached; once the pinned module changes (its pin left as it was) or is
    missing, they are not."""
    import importlib.util

    from numba.core.caching import NullCache

    for name in ("_graph_kernels.py", "_assign_kernels.py"):
        (tmp_path / name).write_bytes((REPO / "core" / name).read_bytes())

    def load(tag: str):
        spec = importlib.util.spec_from_file_location(f"_pin_probe_{tag}",
                                                      tmp_path / "_assign_kernels.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    fresh = load("fresh")
    assert fresh.CACHE is True
    assert not isinstance(fresh.linear_sum_assignment._cache, NullCache)
    graph = tmp_path / "_graph_kernels.py"
    text = graph.read_text()
    assert text.count("BRUTE_MAX = 4096") == 1
    graph.write_text(text.replace("BRUTE_MAX = 4096", "BRUTE_MAX = 1024"))
    stale = load("stale")
    assert stale.CACHE is False
    assert isinstance(stale.linear_sum_assignment._cache, NullCache)
    assert isinstance(stale.gated_assignment._cache, NullCache)
    graph.unlink()
    assert stale._pins_hold(stale.__file__, stale._DEPENDS) is False


def test_only_the_backend_module_imports_cupy():
    hits = []
    for package in PACKAGES:
        for path in _sources(package):
            for name, line in imports_of(path.read_text(), _module_name(path)):
                if name.split(".")[0] == "cupy":
                    hits.append(str(path.relative_to(REPO)))
    assert set(hits) <= {"core/backend.py"}, hits


# --------------------------------------------------------------------------- nothing at import

_PROBE = r"""
import importlib, json, os, sys
import gymnasium  # sets PYGAME_HIDE_SUPPORT_PROMPT when imported: its write, not ours
before = dict(os.environ)
for name in sys.argv[2:]:
    importlib.import_module(name)
pb = sys.modules.get("pybullet")
connected = bool(pb is not None and any(pb.isConnected(physicsClientId=i) for i in range(8)))
with open(sys.argv[1], "w") as f:
    json.dump({"env_changed": sorted(set(os.environ.items()) ^ set(before.items())),
               "pybullet_connected": connected}, f)
"""


def _all_modules() -> list[str]:
    return [_module_name(p) for pkg in PACKAGES for p in _sources(pkg)]


def _import_everything(tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(report), *_all_modules()],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"})
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(report.read_text())


def test_importing_every_module_does_nothing(tmp_path):
    """STYLE 9: no prints (pybullet's banner included), no physics connection, no
    environment writes at import."""
    proc, report = _import_everything(tmp_path)
    assert proc.stdout == ""
    assert proc.stderr == ""
    assert report["pybullet_connected"] is False
    assert report["env_changed"] == []


# --------------------------------------------------------------------------- sizes a reader can hold

MAX_MODULE_LINES = 600   # aim at 400 (docs/architecture.md)
MAX_FUNCTION_LINES = 80


def _is_compiled_kernel(node: ast.FunctionDef) -> bool:
    """A numba kernel (``@njit``, ``@numba.njit(...)``, ``@jit``, ``@guvectorize``...)."""
    for d in node.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in ("njit", "jit", "vectorize", "guvectorize"):
            return True
    return False


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method over ``limit`` lines that is not a
    compiled kernel."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > limit and not _is_compiled_kernel(node):
                out.append((node.name, n))
    return out


def test_the_size_scanner_sees_long_functions_and_spares_kernels():
    body = "".join(f"    x{i} = {i}\n" for i in range(90))
    src = f"def long():\n{body}\n@njit(cache=True)\ndef kernel():\n{body}\n"
    assert long_functions(src) == [("long", 91)]


def test_no_module_a_reader_cannot_hold():
    """Issue 21: no module over 600 lines, no function over 80 (compiled kernels aside,
    and those split where a part has a name)."""
    big, long = [], []
    for pkg in PACKAGES:
        for path in _sources(pkg):
            text = path.read_text()
            n = len(text.splitlines())
            if n > MAX_MODULE_LINES:
                big.append(f"{path.relative_to(REPO)}: {n} lines")
            long += [f"{path.relative_to(REPO)}: {name} {k} lines"
                     for name, k in long_functions(text)]
    assert big == []
    assert long == []


# --------------------------------------------------------------------------- the one assembly

_TWIN_PARTS = {"World", "Crowd", "CameraSystem", "Simulation"}


def _constructs(source: str) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in _TWIN_PARTS:
                out.add(name)
    return out


def test_only_the_assembly_builds_a_twin():
    """run, render, scenario, study, bench, the envs and compile all build their twin with
    ``experiments.runs.assembly.build_twin``: nothing else in experiments/ constructs its
    parts, so the same options give the same twin everywhere."""
    builders = {}
    for path in _sources("experiments"):
        made = _constructs(path.read_text())
        if made:
            builders[str(path.relative_to(REPO))] = made
    assert builders == {"experiments/runs/assembly.py": _TWIN_PARTS}


# --------------------------------------------------------------------------- experiments' rooms

# which rooms of experiments/ each room may import (docs/architecture.md); the CLI all of them
ROOMS = {
    "scoring": set(),
    "runs": {"scoring"},
    "studies": {"runs", "scoring", "view", "sizing"},
    "bench": {"runs", "scoring"},
    "envs": {"runs", "scoring"},
    "view": {"runs"},
    "sizing": {"runs", "scoring"},
    "cli": {"runs", "scoring", "studies", "bench", "envs", "view", "sizing"},
}


def test_experiments_rooms_import_one_way():
    rooms = {p.name for p in (REPO / "experiments").iterdir()
             if p.is_dir() and (p / "__init__.py").exists()}
    assert rooms == set(ROOMS)
    bad = []
    for room, allowed in ROOMS.items():
        for path in _sources(f"experiments/{room}"):
            for name, line in imports_of(path.read_text(), _module_name(path),
                                         path.name == "__init__.py"):
                parts = name.split(".")
                if parts[0] == "experiments" and len(parts) > 1 and parts[1] != room \
                        and parts[1] not in allowed:
                    bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert bad == []
