"""Pluggable cores (experiments/runs/cores.py): any importable class or factory, by name.

The example third-party core (experiments/bench/examples/nearest_core.py) is copied to a folder
outside the repository and run from there by the installed ``storetwin`` command, as
another team would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import one_error, storetwin

from experiments.runs.cores import BUILTIN, CoreSpecError, check_spec, make_core, resolve

REPO = Path(__file__).resolve().parents[2]


def test_builtin_names_are_import_paths_like_any_other():
    assert resolve("full") == "core.store_core:StoreCore" == BUILTIN["full"]
    from core.naive import NaiveCore
    from core.store_core import StoreCore
    assert type(make_core("full")) is StoreCore
    assert type(make_core("core.naive:NaiveCore")) is NaiveCore
    assert check_spec("experiments.bench.examples.nearest_core:NearestCore") is None


@pytest.mark.parametrize("spec,words", [
    ("nope", "expected full, naive or package.module:Name"),
    ("a b:C", "expected"),
    ("no_such_module_xyz:Core", "cannot import module 'no_such_module_xyz'"),
    ("experiments.runs.cores:Nope", "has no 'Nope'"),
    ("experiments.runs.cores:BUILTIN", "is not a class or factory"),
    ("builtins:object", "lacks start(), step(), finish()"),
])
def test_bad_core_names_say_what_is_wrong(spec, words):
    with pytest.raises(CoreSpecError, match=None) as e:
        make_core(spec)
    assert words in str(e.value) and spec in str(e.value)


def test_cli_bad_core_is_one_clear_error():
    one_error(storetwin("run", "--minutes", "0.1", "--core", "no_such_module_xyz:Core"),
              "--core", "cannot import")
    one_error(storetwin("scenario", "pick", "--core", "full,builtins:object"), "lacks start()")


def test_a_study_names_a_third_party_core_or_fails_clearly(tmp_path):
    from experiments.studies.spec import StudyError, load_study
    from experiments.studies.sweep import expand

    text = ('format = "storetwin-study/1"\nname = "c"\nminutes = 1\n'
            'cores = ["full", "experiments.bench.examples.nearest_core:NearestCore"]\n'
            '[[stores]]\nstore = "kiosk"\n[[layouts]]\ngenerator = "grid"\nspacing_m = 3.0\n')
    f = tmp_path / "s.toml"
    f.write_text(text)
    assert {s.params.core for s in expand(load_study(f))} == {
        "full", "experiments.bench.examples.nearest_core:NearestCore"}
    f.write_text(text.replace("nearest_core:NearestCore", "nearest_core:Missing"))
    with pytest.raises(StudyError, match="cores"):
        load_study(f)


def test_the_example_core_runs_from_another_teams_folder(tmp_path):
    theirs = tmp_path / "their_repo"
    theirs.mkdir()
    shutil.copy(REPO / "experiments" / "bench" / "examples" / "nearest_core.py", theirs / "their_core.py")
    exe = Path(sys.executable).parent / "storetwin"
    proc = subprocess.run([str(exe), "run", "--minutes", "3", "--shoppers", "10", "--core",
                           "their_core:NearestCore", "--json", "--out", str(tmp_path / "run")],
                          cwd=theirs, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    # a real, simple core: it tracks people and bills what they take
    assert m["tracking"]["hota"] > 0.5
    assert m["core"]["receipts"] > 0 and m["billing"]["receipt_f1"] > 0.0
    # the receipts scored are its own (it signs every one with confidence 0.5)
    issued = json.loads((tmp_path / "run" / "receipts.json").read_text())["receipts"]
    assert issued and {r["confidence"] for r in issued} == {0.5}


def test_cli_scenario_reports_a_broken_core_as_failed(tmp_path):
    (tmp_path / "raiser.py").write_text(
        "from core.store_core import StoreCore\n"
        "class Raiser(StoreCore):\n"
        "    def step(self, batch):\n"
        "        raise KeyError('boom')\n")
    exe = Path(sys.executable).parent / "storetwin"
    proc = subprocess.run([str(exe), "scenario", "pick", "--core", "raiser:Raiser"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "scenario pick failed: core failed at t=" in proc.stderr
    assert "KeyError: 'boom'" in proc.stderr
