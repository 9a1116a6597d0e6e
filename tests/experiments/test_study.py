"""Studies: the file, its expansion, the results store, resuming after SIGKILL, Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support import SMALL_STUDY

from experiments.cli import main
from experiments.studies.execute import execute, run_study
from experiments.studies.results import STATUS_FAILED, STATUS_OK, finished, load_results, write_row
from experiments.studies.spec import StudyError, load_study
from experiments.studies.sweep import expand, run_id

# the same two layouts for a minute, two seeds: four short runs to kill and resume
SHORT = (SMALL_STUDY.replace("seeds = [4]", "seeds = [4, 5]").replace("minutes = 6", "minutes = 1")
         .split("[[scenarios]]")[0])
METRICS = ("exact_match", "f1", "precision", "recall", "hota", "idf1", "mota", "id_switches",
           "receipts", "money_over_usd", "cameras", "plates", "floor_k2", "cost_total_usd",
           "mean_in_store", "ran_as_written")


def _write(tmp: Path, text: str, name: str = "study.toml") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def small(small_study):
    return small_study


def test_expand_crosses_every_axis_and_ids_are_stable(tmp_path):
    f = _write(tmp_path, """
format = "storetwin-study/1"
name = "axes"
seeds = 3
shoppers = [5, 10]
cores = ["full", "naive"]
[[stores]]
store = "kiosk"
bins_per_plate = [1, 3]
[[stores]]
store = "grocery"
shoppers = [40]
[[layouts]]
generator = "grid"
spacing_m = [2.0, 3.0]
[[layouts]]
generator = "shelf_facing"
stores = ["kiosk"]
[faults]
dead_camera_fraction = [0.0, 0.1]
[[scenarios]]
names = ["pick", "swap"]
shoppers_per_shelf = 2
""")
    study = load_study(f)
    specs = expand(study)
    # kiosk: 2 plates x 3 layouts x 2 crowds x 2 faults x 2 cores x 3 seeds
    # grocery: 1 x 2 grid layouts (shelf_facing is kiosk-only) x 1 crowd x 2 x 2 x 3
    # scenarios: 2 x 2 cores
    assert len(specs) == 2 * 3 * 2 * 2 * 2 * 3 + 2 * 1 * 2 * 2 * 3 + 2 * 2
    ids = [s.run_id for s in specs]
    assert len(set(ids)) == len(ids)
    assert ids == [s.run_id for s in expand(load_study(f))]     # same file, same ids
    assert {s.params.store for s in specs if s.params.scenario is None} == {
        "kiosk", "grocery"}
    assert all(s.params.shoppers == 40.0 for s in specs if s.params.store == "grocery")
    # ids hash the parameters, not where the study lives
    p = replace(specs[0].params, store_path="/elsewhere", layout_path="/elsewhere.toml")
    assert run_id(p) == specs[0].run_id
    assert run_id(replace(p, seed=p.seed + 1)) != specs[0].run_id


def test_bad_study_names_every_problem(tmp_path, capsys):
    f = _write(tmp_path, """
format = "storetwin-study/2"
name = "bad"
seeds = -1
shoppers = [5, "many"]
colour = "red"
[[stores]]
store = "hypermarket"
bins_per_plate = [0]
[[layouts]]
generator = "hexagons"
[[layouts]]
generator = "grid"
target = 0.9
[faults]
dead_camera_fraction = [1.5]
""")
    with pytest.raises(StudyError) as e:
        load_study(f)
    text = "\n".join(e.value.lines())
    for needle in ("format", "seeds", "shoppers[1]", "colour: unknown key",
                   "stores[0].store", "stores[0].bins_per_plate[0]",
                   "layouts[0].generator", "layouts[1].target",
                   "faults.dead_camera_fraction[0]"):
        assert needle in text, needle
    assert all(line.startswith(str(f)) for line in e.value.lines())
    assert main(["study", str(f)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "hypermarket" in err
    assert main(["study", str(tmp_path / "missing.toml")]) == 2
    assert "cannot be read" in capsys.readouterr().err


def test_study_rows_hold_parameters_metrics_cost_and_versions(small):
    _, res, out = small
    assert (out.total, out.skipped, out.done, out.failed) == (3, 0, 3, 0)
    rows = load_results(res).to_pylist()
    assert [r["layout"] for r in rows] == ["grid 2.5 m", "grid 4 m", None]
    scenario = rows.pop()
    assert scenario["scenario"] == "pick" and scenario["shoppers_per_shelf"] == 1
    assert scenario["ran_as_written"] and scenario["receipts"] == 1 and scenario["f1"] == 1.0
    for r in rows:
        assert r["status"] == STATUS_OK and r["error"] is None
        assert r["receipts"] > 0 and 0 <= r["exact_match"] <= 1
        assert 0 < r["f1"] <= 1 and 0 < r["hota"] <= 1 and r["idf1"] > 0
        assert r["real_time_factor"] > 0 and r["core_ms_per_tick"] > 0
        assert r["sim_s"] == 360.0 and r["storetwin_version"] and r["python"]
        stages = [r[k] for k in r if k.startswith("stage_")]
        assert all(v >= 0 for v in stages) and sum(stages) <= r["wall_s"] + 0.01
        assert r["cost_total_usd"] == pytest.approx(
            r["cost_cameras_usd"] + r["cost_plates_usd"] + r["cost_install_usd"])
        assert (res / r["layout_file"]).is_file()
    dense, sparse = rows
    # a 4 m grid has fewer cameras, costs less and sees less of the floor twice
    assert sparse["cameras"] < dense["cameras"]
    assert sparse["cost_total_usd"] < dense["cost_total_usd"]
    assert sparse["floor_k2"] < dense["floor_k2"]
    assert dense["plates"] == sparse["plates"] == 495


def test_study_rows_count_the_receipts_sent_to_review(small):
    _, res, _ = small
    rows = load_results(res).to_pylist()
    for col in ("receipts_issued", "receipts_flagged", "flagged_money_share",
                "money_flagged_usd", "money_true_usd", "receipts_unflagged", "silent_wrong"):
        assert col in rows[0], col
    for r in rows:
        n, f = r["receipts_issued"], r["receipts_flagged"]
        assert 0 <= f <= n and n > 0
        assert r["review_per_1000"] == pytest.approx(1000 * f / n)
        assert 0 <= r["money_flagged_usd"] <= r["money_true_usd"]
        assert r["flagged_money_share"] == pytest.approx(
            r["money_flagged_usd"] / r["money_true_usd"])
        u = r["receipts_unflagged"]
        assert 0 <= r["silent_wrong"] <= u <= r["receipts"]
        if u:
            assert r["unflagged_exact"] == pytest.approx((u - r["silent_wrong"]) / u)
        else:
            assert r["unflagged_exact"] is None     # every receipt went to review


def test_results_are_queryable_with_duckdb(small):
    duckdb = pytest.importorskip("duckdb")
    _, res, _ = small
    got = duckdb.sql(
        f"SELECT layout, cameras, exact_match FROM '{res / 'results.parquet'}' "
        "WHERE status = 'ok' AND scenario IS NULL ORDER BY cost_total_usd").fetchall()
    rows = sorted((r for r in load_results(res).to_pylist() if r["scenario"] is None),
                  key=lambda r: r["cost_total_usd"])
    assert got == [(r["layout"], r["cameras"], r["exact_match"]) for r in rows]


def test_restart_skips_finished_runs(small):
    f, res, _ = small
    before = {p.name: p.read_bytes() for p in (res / "runs").glob("*.parquet")}
    again = run_study(f, res, workers=2)
    assert (again.skipped, again.done, again.failed) == (3, 0, 0)
    assert {p.name: p.read_bytes() for p in (res / "runs").glob("*.parquet")} == before


def test_a_failed_run_is_a_row_and_does_not_stop_the_study(tmp_path):
    f = _write(tmp_path, SHORT.replace("seeds = [4, 5]", "seeds = [5]").replace(
        "spacing_m = [2.5, 4.0]", "spacing_m = [4.0]"))
    (spec,) = expand(load_study(f))
    row = execute(spec.params, {"store_file": str(tmp_path / "nowhere.toml"),
                                "layout_path": str(tmp_path / "none.toml"), "cameras": 1,
                                "plates": 1})
    assert row["status"] == STATUS_FAILED
    assert "nowhere.toml" in row["error"] and row["storetwin_version"]
    # a failed row in the store is skipped on restart, and rerun with retry_failed
    res = tmp_path / "results"
    write_row(res, {**spec.params.columns(), **row, "run_id": spec.run_id, "study": "small"})
    assert finished(res) == {spec.run_id: STATUS_FAILED}
    o = run_study(f, res, workers=2)
    assert (o.total, o.skipped, o.done, o.failed) == (1, 1, 0, 0)
    assert load_results(res).to_pylist()[0]["status"] == STATUS_FAILED
    o = run_study(f, res, workers=2, retry_failed=True)
    assert (o.skipped, o.done, o.failed) == (0, 1, 0)
    (r,) = load_results(res).to_pylist()
    assert r["run_id"] == spec.run_id and r["status"] == STATUS_OK and r["error"] is None


def test_sigkill_mid_study_then_restart_loses_and_repeats_nothing(tmp_path):
    f = _write(tmp_path, SHORT)
    res = tmp_path / "results"
    cmd = [sys.executable, "-m", "experiments.cli", "study", str(f), "--out", str(res),
           "--workers", "1", "--json"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((res / "runs").glob("*.parquet"))) >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the study ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)      # the driver and its workers, no clean-up
    proc.wait()
    first = {p.name: p.read_bytes() for p in (res / "runs").glob("*.parquet")}
    assert 1 <= len(first) < 4
    assert not (res / "results.parquet").exists()
    # what the store holds after a kill is readable, partial as it is
    assert load_results(res).num_rows == len(first)
    o = run_study(f, res, workers=2)
    assert o.skipped == len(first) and o.done == 4 - len(first) and o.failed == 0
    after = {p.name: p.read_bytes() for p in (res / "runs").glob("*.parquet")}
    assert all(after[k] == v for k, v in first.items())       # nothing finished was rerun
    rows = pq.read_table(res / "results.parquet").to_pylist()
    assert sorted(r["run_id"] for r in rows) == sorted(s.run_id for s in expand(load_study(f)))
    assert all(r["status"] == STATUS_OK for r in rows)


def test_ray_executor_gives_the_same_metrics(small, tmp_path):
    pytest.importorskip("ray")
    f, res, _ = small
    # the shared study's 2.5 m grid run alone (same parameters, same run id), on Ray
    one = _write(tmp_path, SMALL_STUDY.replace("spacing_m = [2.5, 4.0]", "spacing_m = [2.5]")
                 .split("[[scenarios]]")[0])
    o = run_study(one, tmp_path / "ray", executor="ray", workers=1)
    assert (o.done, o.failed) == (1, 0)
    local = {r["run_id"]: r for r in load_results(res).to_pylist()}
    (ray,) = load_results(tmp_path / "ray").to_pylist()
    assert ray["run_id"] in local and ray["receipts"] > 0
    assert {m: ray[m] for m in METRICS} == {m: local[ray["run_id"]][m] for m in METRICS}


def test_cli_study_dry_run_and_summary(tmp_path, capsys):
    f = _write(tmp_path, SMALL_STUDY)
    assert main(["study", str(f), "--dry-run", "--json"]) == 0
    import json
    doc = json.loads(capsys.readouterr().out)
    assert doc["study"] == "small" and len(doc["runs"]) == 3
    assert not any(k.startswith("_") for r in doc["runs"] for k in r)
    assert main(["study", str(f), "--address", "ray://x:10001"]) == 2
    assert "--executor ray" in capsys.readouterr().err


@pytest.mark.parametrize("name,runs", [("kiosk_layouts", 24), ("scale", 4), ("fidelity", 44),
                                       ("insights", 24), ("reliability", 12)])
def test_shipped_studies_load_and_expand(name, runs):
    f = Path(__file__).resolve().parents[2] / "experiments" / "studies" / f"{name}.toml"
    study = load_study(f)
    specs = expand(study)
    assert study.name == name and len(specs) == runs
    if name == "scale":
        assert [s.params.store for s in specs] == ["kiosk", "grocery", "large", "supercenter"]
        assert [s.params.shoppers for s in specs] == [20, 80, 250, 600]
        assert all(s.params.warm_start for s in specs)
        assert study.core_process and all(s.params.core_process for s in specs)
    if name == "insights":
        assert {(s.params.panel, s.params.look_taste) for s in specs} == {
            (40, 0.0), (40, 1.0)}
        assert {s.params.pseudonym_key for s in specs} == {"study:insights"}
    if name == "reliability":
        assert {s.params.faults for s in specs} == {None, "plates_stuck", "plates_nan",
                                                    "cameras_out", "network", "core_crash"}
    if name == "fidelity":
        assert {s.params.shoppers_per_shelf for s in specs} == {1, 2, 3}
        assert {s.params.core for s in specs} == {"full", "naive"}


def test_core_process_changes_no_run_id_and_must_be_a_boolean(tmp_path):
    plain = expand(load_study(_write(tmp_path, SMALL_STUDY, "a.toml")))
    piped = expand(load_study(_write(tmp_path, "core_process = true\n" + SMALL_STUDY, "b.toml")))
    assert [s.run_id for s in plain] == [s.run_id for s in piped]
    stores = [s for s in piped if s.params.scenario is None]
    assert stores and all(s.params.core_process for s in stores)
    assert not any(s.params.core_process for s in plain if s.params.scenario is None)
    with pytest.raises(StudyError, match="core_process"):
        load_study(_write(tmp_path, 'core_process = "yes"\n' + SMALL_STUDY, "c.toml"))


def test_a_bad_store_spec_named_by_a_study_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "mine.toml").write_text('format = "storetwin-store/1"\nname = "mine"\n')
    f = _write(tmp_path, SMALL_STUDY.replace('store = "kiosk"', 'store = "mine.toml"'))
    assert main(["study", str(f), "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "mine.toml" in err
    assert all(line.startswith("storetwin: error:") for line in err.splitlines()
               if not line.startswith("pybullet"))


INSIGHTS_STUDY = """
format = "storetwin-study/1"
name = "tiny_insights"
minutes = 3
seeds = [2]
shoppers = [8]
[[stores]]
store = "kiosk"
[[layouts]]
generator = "grid"
spacing_m = [2.5]
[insights]
panel = 4
look_taste = [1.0]
key_file = "secret.txt"
"""


def test_an_insights_study_keeps_its_key_out_of_ids_and_rows(tmp_path):
    (tmp_path / "secret.txt").write_text("a study secret\n")
    (tmp_path / "other.txt").write_text("another\n")
    f = _write(tmp_path, INSIGHTS_STUDY)
    specs = expand(load_study(f))
    assert specs[0].params.pseudonym_key == "a study secret"
    other = expand(load_study(_write(tmp_path, INSIGHTS_STUDY.replace("secret.txt",
                                                                      "other.txt"),
                                     "other.toml")))
    assert [s.run_id for s in specs] == [s.run_id for s in other]   # the key is no parameter
    plain = expand(load_study(_write(tmp_path, INSIGHTS_STUDY.split("[insights]")[0],
                                     "plain.toml")))
    assert "panel" not in plain[0].params.columns()   # other studies keep their run ids
    out = run_study(f, tmp_path / "res", workers=1)
    assert out.done == 1 and out.failed == 0
    row = load_results(tmp_path / "res").to_pylist()[0]
    assert row["panel"] == 4 and row["look_taste"] == 1.0
    assert row["visits_per_account"] >= 1 and row["looks"] > 0
    for p in (tmp_path / "res").rglob("*"):
        if p.is_file():
            assert b"a study secret" not in p.read_bytes(), p


@pytest.mark.parametrize("bad,field", [("panel = 0", "insights.panel"),
                                       ("look_taste = [-1.0]", "insights.look_taste"),
                                       ("colour = 1", "insights"),
                                       ("key_file", "insights.key_file")])
def test_bad_insights_tables_are_named(tmp_path, bad, field):
    text = INSIGHTS_STUDY.replace("panel = 4", bad) if "panel" in bad or "colour" in bad \
        else INSIGHTS_STUDY.replace("look_taste = [1.0]", bad)
    if "colour" in bad:
        text = INSIGHTS_STUDY + bad + "\n"
    if bad == "key_file":       # names a file that is not there
        text = INSIGHTS_STUDY
    with pytest.raises(StudyError, match=field.replace(".", r"\.")):
        load_study(_write(tmp_path, text))


def test_the_shipped_studies_keep_their_run_ids():
    """A results folder written by an earlier version resumes: the ids hash the same
    parameter columns (measured before the study parameters were typed, 2026-12-07)."""
    studies = Path(__file__).resolve().parents[2] / "experiments" / "studies"
    scale = [s.run_id for s in expand(load_study(studies / "scale.toml"))]
    assert scale == ["4604abd03e57e4c8", "aafd9f46ec55318e", "6f9f73a515e37960",
                     "e6a7ee8da6ea886e"]
    insights = [s.run_id for s in expand(load_study(studies / "insights.toml"))]
    assert insights[:3] == ["359b0300e62a0c94", "950b50f7be7abc22", "fc3c271dd4c23703"]


def test_temporary_files_of_killed_writers_are_cleaned_on_restart(tmp_path):
    """A row writer killed mid-write leaves runs/.<id>.<pid>.tmp; the next study in that
    folder removes it, but not one a live process is writing."""
    import os

    from experiments.studies.results import clean_stale_tmp

    res = tmp_path / "res"
    (res / "runs").mkdir(parents=True)
    dead = res / "runs" / ".abc.2147483646.tmp"     # (no such pid)
    mine = res / "runs" / f".def.{os.getpid()}.tmp"
    top = res / ".results.2147483646.tmp"
    for f in (dead, mine, top):
        f.write_text("partial")
    assert sorted(clean_stale_tmp(res)) == sorted([dead, top])
    assert mine.exists() and not dead.exists() and not top.exists()


def test_fault_files_are_an_axis_that_keeps_the_other_run_ids(tmp_path):
    (tmp_path / "stuck.toml").write_text('[[plates]]\nkind = "stuck"\nfraction = 0.3\n')
    plain = expand(load_study(_write(tmp_path, SMALL_STUDY, "a.toml")))
    axis = SMALL_STUDY.replace("[[scenarios]]", '[faults]\nfault_files = ["none", '
                               '"stuck.toml"]\n\n[[scenarios]]')
    swept = expand(load_study(_write(tmp_path, axis, "b.toml")))
    stores = [s for s in swept if s.params.scenario is None]
    assert len(stores) == 4 and {s.params.faults for s in stores} == {None, "stuck"}
    assert {s.run_id for s in plain} <= {s.run_id for s in swept}   # "none" keeps its ids
    doc = json.loads(next(s.params.faults_doc for s in stores if s.params.faults))
    assert doc["plates"][0]["kind"] == "stuck"
    (tmp_path / "bad.toml").write_text('[[plates]]\nkind = "melted"\nfraction = 0.3\n')
    with pytest.raises(StudyError) as e:
        load_study(_write(tmp_path, axis.replace("stuck.toml", "bad.toml"), "c.toml"))
    assert "faults.fault_files[1]" in str(e.value) and "'stuck'" in str(e.value)
