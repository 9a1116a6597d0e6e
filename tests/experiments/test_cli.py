"""The ``storetwin`` command line, run as a user runs it: in a subprocess.

``sys.executable -m experiments.cli`` works without the console script; one test checks the
console script itself is installed next to the interpreter. Runs are 1 simulated minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO, storetwin

RUN = ("run", "--minutes", "1", "--seed", "3")


@pytest.fixture(scope="module")
def json_runs(tmp_path_factory) -> list[tuple[dict, Path]]:
    """Two ``run --json`` calls with the same seed into different folders."""
    root = tmp_path_factory.mktemp("cli")
    out = []
    for name in ("a", "b"):
        proc = storetwin(*RUN, "--json", "--out", str(root / name))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "", "a run prints nothing but its answer (no pybullet banner)"
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, f"--json must print one line, got {proc.stdout!r}"
        out.append((json.loads(lines[0]), root / name))
    return out


# --------------------------------------------------------------------------- run


def test_run_json_prints_one_object_with_the_headline_numbers(json_runs):
    doc, folder = json_runs[0]
    assert isinstance(doc, dict)
    for block, key in (("billing", "exact_match"), ("billing", "receipt_f1"),
                       ("tracking", "idf1"), ("timing", "real_time_factor")):
        assert key in doc[block], f"{block}.{key} missing"
    assert isinstance(doc["tracking"]["idf1"], float)
    assert doc["timing"]["real_time_factor"] > 0
    assert doc["run"]["minutes"] == 1 and doc["run"]["seed"] == 3
    assert doc["out"] == str(folder)
    # the run folder holds the same metrics
    assert json.loads((folder / "metrics.json").read_text()) == {
        k: v for k, v in doc.items() if k not in ("timing", "out")}
    assert (folder / "receipts.json").is_file()
    assert (folder / "streams" / "detections.parquet").is_file()


def test_run_json_is_reproducible_except_timing(json_runs):
    (a, _), (b, _) = json_runs
    assert a["out"] != b["out"]

    def strip(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in ("timing", "out")}

    assert strip(a) == strip(b)


def test_run_prints_a_table_for_people(tmp_path):
    proc = storetwin(*RUN, "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "receipt exact match" in proc.stdout
    assert "IDF1" in proc.stdout
    assert str(tmp_path / "run") in proc.stdout
    assert (tmp_path / "run" / "metrics.json").is_file()
    # the review lines state their counts, as metrics.json holds them
    b = json.loads((tmp_path / "run" / "metrics.json").read_text())["billing"]
    lines = proc.stdout.splitlines()
    sent = next(ln for ln in lines if ln.strip().startswith("sent to review"))
    assert f"({b['receipts_flagged']} of {b['receipts_issued']}" in sent
    assert f"of ${b['money_true_cents'] / 100:,.2f}" in sent
    unflagged = next(ln for ln in lines if ln.strip().startswith("exact among unflagged"))
    assert f"({b['receipts_unflagged_exact']} of {b['receipts_unflagged']}" in unflagged
    assert unflagged.endswith(f"silent wrong {b['silent_wrong']}")
    assert b["receipts_unflagged"] - b["silent_wrong"] == b["receipts_unflagged_exact"]
    assert "nan" not in sent + unflagged


# --------------------------------------------------------------------------- bad input

def _bad_inputs(tmp: Path) -> dict[str, list[str]]:
    a_file = tmp / "a_file"
    a_file.write_text("not a folder\n")
    return {
        "unknown_store": ["--store", "nowhere"],
        "negative_minutes": ["--minutes", "-1"],
        "minutes_not_a_number": ["--minutes", "abc"],
        "nan_minutes": ["--minutes", "nan"],
        "negative_seed": ["--seed", "-1"],
        "seed_not_an_int": ["--seed", "1.5"],
        "seed_past_int64": ["--seed", str(2**63)],
        "zero_camera_spacing": ["--camera-spacing", "0"],
        "out_is_a_file": ["--out", str(a_file)],
        "out_under_a_file": ["--out", str(a_file / "run")],
        "out_deep_under_a_file": ["--out", str(a_file / "x" / "run")],
    }


_CASES = ["unknown_store", "negative_minutes", "minutes_not_a_number", "nan_minutes",
          "negative_seed", "seed_not_an_int", "seed_past_int64", "zero_camera_spacing",
          "out_is_a_file", "out_under_a_file", "out_deep_under_a_file"]


@pytest.mark.parametrize("case", _CASES)
def test_bad_input_exits_2_with_one_error_line(case, tmp_path):
    proc = storetwin("run", *_bad_inputs(tmp_path)[case], "--json")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("storetwin: error:"), proc.stderr
    assert not (tmp_path / "a_file" / "run").exists()


@pytest.mark.parametrize("case", _CASES)
def test_bad_input_stderr_is_exactly_that_line(case, tmp_path):
    proc = storetwin("run", *_bad_inputs(tmp_path)[case])
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("storetwin: error:"), proc.stderr


def test_out_in_a_read_only_folder_is_bad_input(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; the 'parent is a file' cases cover --out")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        proc = storetwin("run", "--out", str(ro / "run"))
    finally:
        ro.chmod(0o755)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("storetwin: error:")
    assert "not writable" in lines[0]


def test_unknown_verb_is_bad_input():
    proc = storetwin("fly")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("storetwin: error:")


# --------------------------------------------------------------------------- help


def test_help_exits_0():
    proc = storetwin("--help")
    assert proc.returncode == 0
    assert "run" in proc.stdout
    assert proc.stderr == ""


def test_run_help_shows_an_example():
    proc = storetwin("run", "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout
    assert "storetwin run --minutes 60 --panel 40" in proc.stdout.split("examples:", 1)[1]
    for flag in ("--minutes", "--seed", "--json", "--out", "--store", "--panel",
                 "--look-taste", "--pseudonym-key-file"):
        assert flag in proc.stdout


def test_console_script_is_installed_next_to_the_interpreter():
    script = Path(sys.executable).parent / ("storetwin.exe" if os.name == "nt" else "storetwin")
    assert script.is_file(), f"{script} missing: pip install -e . creates it"
    assert os.access(script, os.X_OK)
    proc = subprocess.run([str(script), "run", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "examples:" in proc.stdout


def test_no_verb_is_one_error_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "experiments.cli"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "storetwin: error: name a verb (run, scenario, scene, layout, render, study, report, "
        "view, size, bench, track, compile, replay); see 'storetwin --help'"]


def test_warm_start_begins_with_the_crowd_inside(tmp_path):
    """run --warm-start (issue 26): the target crowd is inside, mid-trip, at t = 0, so a short
    run measures a full store; without it the store fills from empty."""
    runs = {}
    for flag in ("--warm-start", None):
        p = storetwin("run", "--minutes", "0.2", "--shoppers", "9", "--core-process", "off",
                      "--json", "--out", str(tmp_path / str(flag)), *([flag] if flag else []))
        assert p.returncode == 0, p.stderr
        runs[flag] = json.loads(p.stdout)["crowd"]
    assert runs["--warm-start"]["warm_start"] == 9 and runs[None]["warm_start"] == 0
    assert runs["--warm-start"]["mean_in_store"] > 8 > runs[None]["mean_in_store"]
