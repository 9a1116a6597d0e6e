"""Benchmarks: always run, asserted on speed only when switched on (the ``speed`` fixture of
tests/benchmarks/conftest.py).

In the default suite (``--benchmark-disable`` in pyproject.toml) every benchmark runs once,
at a small size, as a smoke test of the code it times: its behaviour is asserted, its speed
targets are only recorded (``benchmark.extra_info["speed_targets"]``), so a slower or busy
machine cannot fail the suite. Switched on, with ``--benchmark-enable`` or
``STORETWIN_BENCH=1``, each runs at its full size and rounds and asserts its speed targets
(ratios against a peer in the same run, or the issue's figure)::

    STORETWIN_BENCH=1 .venv/bin/python -m pytest tests/benchmarks --benchmark-enable

Switched on, the run is in one process (tests/conftest.py turns pytest-xdist's workers off:
a timing taken beside another worker is not what it measures).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

ENV = "STORETWIN_BENCH"


def benchmarks_on(config: pytest.Config) -> bool:
    """Speed asserts and full sizes: ``--benchmark-enable`` or ``STORETWIN_BENCH=1``."""
    return bool(config.getoption("benchmark_enable", default=False)) or (
        os.environ.get(ENV) == "1")


@dataclass
class Speed:
    """The switch a benchmark reads: ``on`` (full size, speed asserted) or a smoke run."""

    on: bool
    info: dict = field(default_factory=dict)

    def size(self, full, smoke):
        """``full`` when switched on, else ``smoke`` (rounds, crowd sizes, steps)."""
        return full if self.on else smoke

    def target(self, name: str, met: bool, detail: object = "") -> None:
        """A speed target: asserted when switched on, recorded either way."""
        self.info.setdefault("speed_targets", {})[name] = bool(met)
        if self.on:
            assert met, f"speed target missed: {name} {detail}"
