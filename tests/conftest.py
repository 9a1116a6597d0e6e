"""Suite-wide hooks: benchmarks switched on run in one process."""

from __future__ import annotations

import pytest
from benchmarks.speed import benchmarks_on


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """The suite runs on one pytest-xdist worker per core (pyproject.toml); benchmarks that
    assert their speed (``--benchmark-enable`` or ``STORETWIN_BENCH=1``) must not share the
    machine with another worker, so switching them on also switches distribution off."""
    if benchmarks_on(config) and getattr(config.option, "dist", "no") != "no":
        config.option.dist = "no"
        config.option.tx = []
        config.option.numprocesses = 0
