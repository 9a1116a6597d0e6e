"""Helpers shared by test modules (on pytest's ``pythonpath``; not a test file).

``storetwin(...)`` runs the CLI as a user does, in a subprocess; ``stderr_lines`` drops
pybullet's banner; ``one_error`` asserts the bad-input contract (exit 2, one
``storetwin: error:`` line naming the given words, no traceback); ``walkable_crowd`` puts
people in a store's aisles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PYBULLET_BANNER = "pybullet build time:"


def storetwin(*args: str, timeout: float = 300, cwd: Path = REPO,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def stderr_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """stderr without pybullet's banner (printed when the first World connects)."""
    return [ln for ln in proc.stderr.splitlines() if not ln.startswith(PYBULLET_BANNER)]


def one_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = stderr_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("storetwin: error: "), proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def walkable_crowd(store, n: int, rng: np.random.Generator, gap: float = 0.6) -> np.ndarray:
    """(n, 2) people in the aisles: 0.3 m clear of fixtures, ``gap`` apart (no overlap)."""
    lo, hi = store.fixture_boxes()
    x0, y0, x1, y1 = store.bounds
    out: list[np.ndarray] = []
    while len(out) < n:
        p = rng.uniform([x0 + 0.3, y0 + 0.3], [x1 - 0.3, y1 - 0.8])
        if np.any(np.all((p > lo[:, :2] - 0.3) & (p < hi[:, :2] + 0.3), axis=1)):
            continue
        if out and np.min(np.linalg.norm(np.array(out) - p, axis=1)) < gap:
            continue
        out.append(p)
    return np.array(out)
