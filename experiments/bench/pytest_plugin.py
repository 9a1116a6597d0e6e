"""storetwin's pytest plugin (entry point ``pytest11``: loaded wherever storetwin is
installed): fixtures that put a team's core through storetwin's stores and cases.

    # test_my_core.py, in the team's own repository
    from mypkg.tracking import MyCore

    def test_my_core(storetwin_case, benchmark):
        metrics = storetwin_case.bench(MyCore, benchmark)   # one run, timed by pytest-benchmark
        assert metrics["receipt_f1"] >= 0.5

``storetwin_case`` is parametrized over the cases of the bench suite (``--storetwin-suite``,
default v1; ``--storetwin-case ID`` repeatable to pick some). ``bench`` makes a fresh core
from the class or factory, runs the case, checks the world produced the suite's ground
truth, and returns the metrics ``storetwin bench`` reports, also put in
``benchmark.extra_info``. Other fixtures:

- ``storetwin_store(name)``: a store (preset or spec file), ``scenes.store.Store``;
- ``storetwin_stream``: a recorded 1-minute kiosk run, ``.knowledge`` and ``.batches``
  (the sensor batches in order), to feed a core directly (session-scoped);
- ``storetwin_scenario(name)``: a shipped scripted scenario, ``agents.scenario_types.Scenario``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


def pytest_addoption(parser) -> None:
    g = parser.getgroup("storetwin")
    g.addoption("--storetwin-suite", default="v1", help="bench suite for storetwin_case")
    g.addoption("--storetwin-case", action="append", default=None,
                help="a case of the suite to test (repeatable; default: every case)")


def pytest_generate_tests(metafunc) -> None:
    if "storetwin_case" not in metafunc.fixturenames:
        return
    from experiments.bench.suite import load_suite

    cfg = metafunc.config
    suite = load_suite(cfg.getoption("--storetwin-suite"))
    chosen = cfg.getoption("--storetwin-case")
    ids = [c["id"] for c in suite["cases"] if not chosen or c["id"] in chosen]
    if chosen and len(ids) != len(set(chosen)):
        raise pytest.UsageError(f"--storetwin-case: {sorted(set(chosen) - set(ids))} not in "
                                f"suite {suite['suite']}")
    metafunc.parametrize("storetwin_case", ids, indirect=True)


@dataclass
class StoretwinCase:
    """One case of the bench suite (its parameters and its ground truth)."""

    suite: str
    id: str
    params: dict

    def run(self, core_factory) -> dict:
        """Run the case with a fresh core; the bench metrics. Raises
        ``experiments.bench.suite.BenchError`` if the world no longer gives the suite's truth."""
        from experiments.bench.suite import BenchError, run_case

        r = run_case(self.params, core_factory())
        if r.truth != self.params["truth"]:
            raise BenchError(f"suite {self.suite}, case {self.id}: the twin no longer "
                             "produces the suite's ground truth")
        return r.metrics

    def bench(self, core_factory, benchmark=None) -> dict:
        """:meth:`run` timed by pytest-benchmark (one round), metrics in ``extra_info``."""
        if benchmark is None:
            return self.run(core_factory)
        out: dict = {}
        benchmark.pedantic(lambda: out.update(self.run(core_factory)), rounds=1, iterations=1)
        benchmark.extra_info.update({"suite": self.suite, "case": self.id, **out})
        return out


@pytest.fixture
def storetwin_case(request) -> StoretwinCase:
    from experiments.bench.suite import load_suite

    suite = load_suite(request.config.getoption("--storetwin-suite"))
    case = next(c for c in suite["cases"] if c["id"] == request.param)
    return StoretwinCase(suite["suite"], case["id"], case)


@pytest.fixture
def storetwin_store():
    from scenes.presets import load_store

    return load_store


@pytest.fixture
def storetwin_scenario():
    from agents.scenario import load_scenario

    return load_scenario


@dataclass
class RecordedStream:
    knowledge: object
    batches: list


@pytest.fixture(scope="session")
def storetwin_stream(tmp_path_factory) -> RecordedStream:
    import json

    from experiments.runs.config import RunConfig
    from experiments.runs.knowledge import knowledge_from_json
    from experiments.runs.run import run
    from twin.streams import read_streams

    out = tmp_path_factory.mktemp("storetwin_stream")
    run(RunConfig(store="kiosk", minutes=1.0, shoppers=10, seed=7), out=out)
    knowledge = knowledge_from_json(json.loads((out / "knowledge.json").read_text()))
    return RecordedStream(knowledge, list(read_streams(out / "streams")))
