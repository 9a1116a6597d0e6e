"""Limits that protect the user (issue 24, part 7): flags and study fields out of range
fail before anything runs, with one line and exit 2; a failed study run makes the study
exit 1. Nothing here simulates."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli.main import main
from experiments.studies import execute


@pytest.mark.parametrize(("args", "says"), [
    (["--camera-spacing", "0.01"], "--camera-spacing must be in [0.5, 50] m"),
    (["--camera-spacing", "1e9"], "--camera-spacing must be in [0.5, 50] m"),
    (["--minutes", "1e-6"], "--minutes must be in [0.0167 (one simulated second), 1440]"),
])
def test_run_refuses_what_would_hang_or_run_nothing(args, says, tmp_path, capsys) -> None:
    assert main(["run", *args, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def _study(tmp: Path, name: str = "small", seeds: str = "1") -> Path:
    f = tmp / "s.toml"
    f.write_text(f'format = "storetwin-study/1"\nname = "{name}"\nseeds = {seeds}\n'
                 'shoppers = [5, 10]\n[[stores]]\nstore = "kiosk"\n')
    return f


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", ".hidden", "a/b"])
def test_a_study_name_is_a_name_not_a_path(name, tmp_path, capsys) -> None:
    assert main(["study", str(_study(tmp_path, name)), "--dry-run"]) == 2
    assert "name: = " in capsys.readouterr().err


def test_a_huge_study_needs_yes(tmp_path, capsys) -> None:
    f = _study(tmp_path, seeds="10000")          # 2 crowds x 10,000 seeds
    assert main(["study", str(f), "--dry-run"]) == 2
    assert "expands to 20,000 runs, more than 10,000; give --yes" in capsys.readouterr().err
    assert main(["study", str(f), "--dry-run", "--yes", "--json"]) == 0
    assert '"run_id"' in capsys.readouterr().out
    assert main(["study", str(_study(tmp_path, seeds="3")), "--dry-run"]) == 0


def test_a_study_with_a_failed_run_exits_1(tmp_path, monkeypatch, capsys) -> None:
    def fake(path, out, **kw):
        return execute.StudyOutcome(total=2, skipped=0, done=1, failed=fail, results=out,
                                    wall_s=0.1)

    monkeypatch.setattr(execute, "run_study", fake)
    f = _study(tmp_path)
    for fail, code in ((1, 1), (0, 0)):
        assert main(["study", str(f), "--out", str(tmp_path / "res")]) == code
    assert "1 of 2 runs failed" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "says"), [
    (["run", "--core-deadline", "1e12"], "--core-deadline must be in (0, 86400] s"),
    (["render", "--shoppers", "-1"], "--shoppers must be in [0, 10000]"),
    (["render", "--shoppers", "nan"], "--shoppers must be in [0, 10000]"),
    (["render", "--camera-spacing", "inf"], "--camera-spacing must be in [0.5, 50] m"),
    (["scene", "plan", "kiosk", "--png", "{tmp}/p.png", "--camera-spacing", "1e12"],
     "--camera-spacing must be in [0.5, 50] m"),
    (["layout", "greedy", "--store", "kiosk", "--out", "{tmp}/l.toml", "--budget", "inf"],
     "--budget must be in (0, 1e9] USD"),
    (["track", "{tmp}/none.csv", "--out", "{tmp}/t.csv", "--hz", "1e12"],
     "--hz must be a frame rate in (0, 1000]"),
    (["track", "{tmp}/none.csv", "--out", "{tmp}/t.csv", "--cold-start", "1e12"],
     "--cold-start must be in [0, 86400]"),
])
def test_numeric_flags_have_ranges(argv, says, tmp_path, capsys) -> None:
    """Found by feeding nan, inf, -1 and 1e12 to every numeric flag of every verb: each
    of these ran (or raised a traceback) before."""
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] in ("run", "render"):
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_version_and_layout_grid_default_match_run(capsys) -> None:
    """A first-time user's asks (issue 25): ``storetwin --version``; ``layout grid``'s
    default pitch is ``run``'s, so the layout a planner draws is the one a run uses."""
    from importlib.metadata import version

    from experiments.cli.main import build_parser
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"storetwin {version('storetwin')}"
    p = build_parser()
    grid = p.parse_args(["layout", "grid", "--out", "x.toml"])
    run = p.parse_args(["run"])
    assert grid.spacing == run.camera_spacing == 2.5
