"""The pytest plugin (entry point pytest11): another team's test file, in its own folder,
gets storetwin's bench cases as a fixture and the billing metrics in pytest-benchmark's
``extra_info``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from support import outside_env

REPO = Path(__file__).resolve().parents[2]

TEAM_TEST = '''
from their_core import NearestCore


def test_my_core(storetwin_case, benchmark):
    metrics = storetwin_case.bench(NearestCore, benchmark)
    assert metrics["hota"] > 0.5


def test_fed_a_recorded_stream(storetwin_stream, storetwin_store, storetwin_scenario):
    core = NearestCore()
    core.start(storetwin_stream.knowledge)
    tracked = sum(len(t.track_id) for b in storetwin_stream.batches for t in core.step(b)[0])
    assert tracked > 0
    assert storetwin_store("kiosk").name == "kiosk"
    assert storetwin_scenario("pick").name == "pick"
'''


def test_a_team_tests_its_core_with_the_plugin(tmp_path):
    theirs = tmp_path / "their_repo"
    theirs.mkdir()
    shutil.copy(REPO / "experiments" / "bench" / "examples" / "nearest_core.py", theirs / "their_core.py")
    (theirs / "test_their_core.py").write_text(TEAM_TEST)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--storetwin-case",
         "pick", "--storetwin-case", "two_baguettes", "--benchmark-json", "bench.json"],
        cwd=theirs, capture_output=True, text=True, timeout=600, env=outside_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
    runs = json.loads((theirs / "bench.json").read_text())["benchmarks"]
    by_case = {b["extra_info"]["case"]: b for b in runs}
    assert set(by_case) == {"pick", "two_baguettes"}
    for b in runs:
        info = b["extra_info"]
        assert info["suite"] == "v1" and 0.0 <= info["receipt_f1"] <= 1.0
        assert b["stats"]["rounds"] == 1 and b["stats"]["mean"] > 0
    # an unknown case is a usage error, not a silent empty run
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--storetwin-case", "nope"], cwd=theirs, capture_output=True,
                          text=True, timeout=300, env=outside_env())
    assert proc.returncode != 0 and "not in suite v1" in proc.stdout + proc.stderr
