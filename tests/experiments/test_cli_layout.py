"""``storetwin layout grid / aisles / shelves / greedy / coverage`` and ``run --layout``, run as
a planner runs them: in a subprocess."""

from __future__ import annotations

import json
import tomllib

import pytest
from support import one_error, storetwin


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """The issue's two layouts for the kiosk, each with its report and heatmap."""
    root = tmp_path_factory.mktemp("layouts")
    out = {}
    for name, args in (("grid", ("grid", "--spacing", "3")),
                       ("greedy", ("greedy", "--target", "0.95", "--k", "2"))):
        toml, png = root / f"{name}.toml", root / f"{name}.png"
        proc = storetwin("layout", *args, "--out", str(toml), "--heatmap", str(png), "--json")
        assert proc.returncode == 0, proc.stderr
        out[name] = (json.loads(proc.stdout), toml, png)
    return out


def test_grid_and_greedy_layouts_come_with_reports_and_heatmaps(made) -> None:
    for name, (rep, toml, png) in made.items():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        doc = tomllib.loads(toml.read_text())
        assert doc["format"] == "storetwin-layout/1" and len(doc["cameras"]) == rep["cameras"]
        assert 0 <= rep["floor_k3"] <= rep["floor_k2"] <= rep["floor_k1"] <= 1
        assert rep["cost_usd"] > 0 and rep["bin_faces"] == 495
    grid, greedy = made["grid"][0], made["greedy"][0]
    assert grid["cameras"] == 20                      # a 3 m pitch over 15 x 11.2 m
    # the greedy placer meets its target, which the 3 m grid does not
    assert greedy["stopped"] == "target" and greedy["floor_k2"] >= 0.95
    assert grid["floor_k2"] < 0.95
    assert greedy["trace"] == sorted(greedy["trace"])


def test_coverage_of_a_written_layout_is_the_same_report(made) -> None:
    rep, toml, _ = made["greedy"]
    proc = storetwin("layout", "coverage", str(toml), "--json")
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    for k in ("cameras", "cost_usd", "floor_k1", "floor_k2", "floor_k3", "bin_faces_k1"):
        assert again[k] == rep[k], k
    text = storetwin("layout", "coverage", str(toml)).stdout
    assert "floor seen by >= 2" in text and "bin faces seen" in text


def test_shelf_facing_cameras_see_more_bin_faces_than_a_sparse_grid() -> None:
    shelves = json.loads(storetwin("layout", "shelves", "--json").stdout)
    grid = json.loads(storetwin("layout", "grid", "--spacing", "4", "--json").stdout)
    assert shelves["bin_faces_k1"] > 0.95 > grid["bin_faces_k1"]
    aisles = json.loads(storetwin("layout", "aisles", "--json").stdout)
    assert aisles["cameras"] % 2 == 0 and aisles["cameras"] > 0


def test_run_uses_a_layout_file(made, tmp_path) -> None:
    _, toml, _ = made["greedy"]
    proc = storetwin("run", "--layout", str(toml), "--minutes", "0.5", "--json",
                     "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["run"]["cameras"] == made["greedy"][0]["cameras"]
    k = json.loads((tmp_path / "run" / "knowledge.json").read_text())
    assert len(k["cameras"]["camera"]) == m["run"]["cameras"]


@pytest.mark.parametrize("args, words", [
    (["grid", "--spacing", "0"], ["--spacing"]),
    (["grid", "--model", "potato"], ["--model", "dome-4mp"]),
    (["grid", "--height", "9"], ["--height", "ceiling"]),
    (["greedy", "--target", "1.5"], ["--target"]),
    (["greedy", "--k", "0"], ["--k"]),
    (["grid", "--store", "walmart"], ["--store", "walmart"]),
    (["coverage", "missing.toml"], ["missing.toml"]),
    ([], ["grid, aisles, shelves, greedy, coverage"]),
])
def test_bad_layout_input_is_one_error_line(args, words) -> None:
    one_error(storetwin("layout", *args), *words)


def test_a_layout_with_a_camera_outside_the_store_is_named(made, tmp_path) -> None:
    _, toml, _ = made["grid"]
    bad = tmp_path / "bad.toml"
    bad.write_text(toml.read_text().replace("position_m = [1.5, 1.4, 3.4]",
                                            "position_m = [-4.0, 1.4, 3.4]", 1))
    line = one_error(storetwin("layout", "coverage", str(bad)), str(bad), "cameras[0]")
    assert "outside" in line
    proc = storetwin("run", "--layout", str(bad), "--minutes", "0.5")
    one_error(proc, "cameras[0]")
