"""``storetwin bench``: the versioned suite, its checked-in ground truth, and --compare.

Run as another team would: the example third-party core from a folder outside the
repository, through the installed ``storetwin`` command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.bench import suite as B

REPO = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "storetwin"


def _storetwin(*args, cwd):
    return subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_the_suite_file_is_the_cases_with_their_truth():
    doc = B.load_suite("v1")
    assert doc["suite"] == "v1"
    assert [{k: v for k, v in c.items() if k != "truth"} for c in doc["cases"]] == \
        [dict(c) for c in B.V1_CASES]
    for c in doc["cases"]:
        t = c["truth"]
        assert t["events"] > 0 and len(t["events_sha256"]) == 16 and t["receipts"]
    with pytest.raises(B.BenchError, match="no such suite; known: v1"):
        B.load_suite("v0")


def test_a_changed_world_is_refused_not_compared(tmp_path, monkeypatch):
    doc = B.load_suite("v1")
    case = next(c for c in doc["cases"] if c["id"] == "pick")
    case["truth"]["events_sha256"] = "0" * 16
    (tmp_path / "v1.json").write_text(json.dumps(doc))
    monkeypatch.setattr(B, "SUITES", tmp_path)
    with pytest.raises(B.BenchError, match="no longer produces the ground truth"):
        B.bench("full", "v1", ["pick"])


def test_compare_flags_a_planted_regression_and_passes_an_unchanged_rerun():
    a = B.bench("full", "v1", ["pick", "kiosk-crowd-12"])
    b = B.bench("full", "v1", ["pick", "kiosk-crowd-12"])
    assert all(c["status"] == "ok" for c in a["cases"])
    th = B.parse_thresholds(None, 0.0)
    rows, bad = B.compare(a, b, th)
    assert not bad and rows
    worse = json.loads(json.dumps(b))
    m = next(c for c in worse["cases"] if c["id"] == "kiosk-crowd-12")["metrics"]
    m["exact_match"] = m["exact_match"] - 0.05
    m["money_mae_cents"] = m["money_mae_cents"] + 30
    rows, bad = B.compare(a, worse, th)
    flagged = {(r["case"], r["metric"]) for r in rows if r["verdict"] == "REGRESSED"}
    assert bad and flagged == {("kiosk-crowd-12", "exact_match"),
                               ("kiosk-crowd-12", "money_mae_cents")}
    # a threshold above the fall lets it pass
    _, bad = B.compare(a, worse, B.parse_thresholds(["exact_match=0.1",
                                                     "money_mae_cents=50"], 0.0))
    assert not bad
    with pytest.raises(B.BenchError, match="unknown metric"):
        B.parse_thresholds(["speed=1"], 0.0)


def test_a_case_that_ran_and_now_fails_is_a_regression():
    doc = B.bench("experiments.bench.examples.nearest_core:NearestCore", "v1", ["pick"])
    assert doc["cases"][0]["status"] == "ok"
    bad = B.compare(doc, {**doc, "cases": [{"id": "pick", "status": "failed",
                                             "error": "ValueError: x"}]},
                    B.parse_thresholds(None, 0.0))
    assert bad[1] and bad[0][0]["verdict"] == "FAILED"


def test_a_team_benches_its_core_from_its_own_folder(tmp_path):
    theirs = tmp_path / "their_repo"
    theirs.mkdir()
    shutil.copy(REPO / "experiments" / "bench" / "examples" / "nearest_core.py", theirs / "their_core.py")
    (theirs / "broken.py").write_text(
        "from core.store_core import StoreCore\n"
        "class Broken(StoreCore):\n"
        "    def step(self, batch):\n"
        "        raise RuntimeError('planted')\n")
    p = _storetwin("bench", "--core", "their_core:NearestCore", "--case", "pick", "--case",
                   "two_baguettes", "--out", "base.json", cwd=theirs)
    assert p.returncode == 0, p.stderr
    base = json.loads((theirs / "base.json").read_text())
    assert base["suite"] == "v1" and base["core"] == "their_core:NearestCore"
    assert [c["id"] for c in base["cases"]] == ["pick", "two_baguettes"]
    # an unchanged rerun passes the comparison
    p = _storetwin("bench", "--core", "their_core:NearestCore", "--case", "pick", "--case",
                   "two_baguettes", "--compare", "base.json", cwd=theirs)
    assert p.returncode == 0, p.stdout + p.stderr
    # a planted regression: the old result claims better billing than the core has
    planted = json.loads(json.dumps(base))
    for c in planted["cases"]:
        c["metrics"]["receipt_f1"] = (c["metrics"]["receipt_f1"] or 0.0) + 0.5
    (theirs / "planted.json").write_text(json.dumps(planted))
    p = _storetwin("bench", "--core", "their_core:NearestCore", "--case", "pick",
                   "--compare", "planted.json", cwd=theirs)
    assert p.returncode == 1 and "REGRESSED" in p.stdout and "receipt_f1" in p.stdout
    # a broken core: its case fails with the reason, and against the base that is a failure
    p = _storetwin("bench", "--core", "broken:Broken", "--case", "pick", "--json",
                   "--compare", "base.json", cwd=theirs)
    assert p.returncode == 1
    (case,) = json.loads(p.stdout)["cases"]
    assert case["status"] == "failed" and "RuntimeError: planted" in case["error"]
    assert "FAILED" in p.stderr
    # bad input: one clear line, exit 2
    p = _storetwin("bench", "--suite", "v9", cwd=theirs)
    assert p.returncode == 2 and "no such suite" in p.stderr and "Traceback" not in p.stderr
