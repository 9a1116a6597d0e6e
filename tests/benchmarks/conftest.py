"""Fixtures of the benchmarks: ``speed`` (tests/benchmarks/speed.py says what it switches)."""

from __future__ import annotations

import pytest
from benchmarks.speed import Speed, benchmarks_on


@pytest.fixture
def speed(request, benchmark) -> Speed:
    s = Speed(benchmarks_on(request.config), benchmark.extra_info)
    benchmark.extra_info["speed_asserted"] = s.on
    return s
