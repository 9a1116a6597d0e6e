"""``storetwin scene new / info / plan / export`` and ``run --store FILE``, run as a user runs
them: in a subprocess."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from support import one_error, storetwin


@pytest.fixture(scope="module")
def new_spec(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scene") / "go-grocery.toml"
    proc = storetwin("scene", "new", "--area", "10400sqft", "--name", "go-grocery",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "wrote" in proc.stderr and "10,400 sq ft" in proc.stderr
    return out


def test_scene_new_writes_an_editable_spec_of_the_asked_area(new_spec) -> None:
    text = new_spec.read_text()
    assert text.startswith("# storetwin store spec")
    doc = tomllib.loads(text)
    assert doc["name"] == "go-grocery" and doc["format"] == "storetwin-store/1"
    proc = storetwin("scene", "info", str(new_spec), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["area_sqft"] == pytest.approx(10_400, rel=0.05)
    assert info["bins"] > 1000 and info["skus_placed"] == info["skus"]


def test_scene_new_is_deterministic_and_the_seed_matters(new_spec) -> None:
    again = storetwin("scene", "new", "--area", "10400sqft", "--name", "go-grocery")
    assert again.returncode == 0
    assert again.stdout == new_spec.read_text()
    other = storetwin("scene", "new", "--area", "10400sqft", "--name", "go-grocery",
                      "--seed", "7")
    assert other.stdout != again.stdout


def test_scene_new_parameters_shape_the_store() -> None:
    a = tomllib.loads(storetwin("scene", "new", "--area", "3000sqft").stdout)
    b = tomllib.loads(storetwin("scene", "new", "--area", "3000sqft", "--levels", "4",
                                "--bin-width", "0.9", "--aisle-width", "1.0").stdout)
    assert all(len(f["levels_m"]) == 4 and f["bin_width_m"] == 0.9 for f in b["fixtures"])
    assert len(a["fixtures"][0]["levels_m"]) == 5
    gx = sorted({f["x_m"] for f in b["fixtures"] if f["kind"] == "gondola"})
    dx = next(f["dx_m"] for f in b["fixtures"] if f["kind"] == "gondola")
    aisles = np.diff(gx) - dx
    assert aisles.min() >= 1.0 - 1e-6
    ga = sorted({f["x_m"] for f in a["fixtures"] if f["kind"] == "gondola"})
    assert len(gx) > len(ga)   # narrower aisles fit more gondola runs


@pytest.mark.parametrize("args,words", [
    (["--area", "10400"], ["area", "10400sqft"]),
    (["--area", "10sqft"], ["20 to 200,000 m2"]),
    (["--area", "1000m2", "--levels", "0"], ["levels"]),
    (["--area", "1000m2", "--aisle-width", "0.5"], ["0.915", "ADA"]),
    (["--area", "300m2", "--skus", "5000"], ["5000 skus", "bins"]),
    (["--area", "1000m2", "--out", "/proc/nope/x.toml"], ["--out"]),
])
def test_scene_new_bad_parameters_are_one_error_line(args, words) -> None:
    one_error(storetwin("scene", "new", *args), *words)


def test_scene_info_prints_sizes_and_counts() -> None:
    proc = storetwin("scene", "info", "kiosk")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for word in ("1,808 sq ft", "aisles", "shelf faces", "495", "127", "entrance"):
        assert word in out, out


def test_scene_info_json_of_the_supercenter() -> None:
    proc = storetwin("scene", "info", "supercenter", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["area_sqft"] == pytest.approx(180_000, rel=0.05)
    assert info["skus"] >= 20_000 and info["bins"] >= 40_000
    assert info["aisle_length_m"] > 1_000
    assert info["shelf_face_area_m2"] > 5_000


@pytest.mark.parametrize("ref,words", [
    ("walmart", ["walmart", "kiosk, grocery, large, supercenter"]),
    ("missing.toml", ["missing.toml", "cannot be read"]),
])
def test_scene_info_of_an_unknown_store_is_one_error_line(ref, words) -> None:
    one_error(storetwin("scene", "info", ref), *words)


def test_scene_without_a_verb_is_bad_input() -> None:
    one_error(storetwin("scene"), "new, info, plan, export")


def test_scene_plan_draws_the_store_and_cameras(tmp_path) -> None:
    import matplotlib.image as mpimg
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert storetwin("scene", "plan", "kiosk", "--png", str(a)).returncode == 0
    proc = storetwin("scene", "plan", "kiosk", "--png", str(b), "--camera-spacing", "3")
    assert proc.returncode == 0, proc.stderr
    ia, ib = mpimg.imread(a), mpimg.imread(b)
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ia.shape == ib.shape and ia.shape[0] > 300 and ia.shape[1] > 300
    # a plan is not blank, and the camera overlay changes it
    assert np.unique(ia.reshape(-1, ia.shape[-1]), axis=0).shape[0] > 10
    assert np.any(ia != ib)
    one_error(storetwin("scene", "plan", "kiosk", "--png", str(tmp_path)), "folder")
    one_error(storetwin("scene", "plan", "kiosk", "--png", str(a), "--camera-spacing", "0"),
               "--camera-spacing")


def test_scene_export_glb_loads_back_with_trimesh(tmp_path) -> None:
    import trimesh
    out = tmp_path / "kiosk.glb"
    proc = storetwin("scene", "export", "kiosk", "--glb", str(out))
    assert proc.returncode == 0, proc.stderr
    scene = trimesh.load(out)
    assert isinstance(scene, trimesh.Scene)
    names = set(scene.graph.nodes_geometry)
    assert {"floor", "plates", "gondola-1", "back-wall"} <= names
    assert any(n.startswith("products/") for n in names)


def test_run_takes_a_spec_file_with_the_door_in_a_side_wall(tmp_path) -> None:
    """A planner's own store: the kiosk with its entrance moved to the left wall, run through
    the whole pipeline."""
    from scenes.presets import preset_text
    from scenes.tomlw import dumps
    doc = tomllib.loads(preset_text("kiosk"))
    doc["name"] = "side-door"
    doc["gates"][0] = {"name": "side", "kind": "entrance", "wall": "left", "offset_m": 1.0,
                       "width_m": 1.6}
    spec = tmp_path / "side-door.toml"
    spec.write_text(dumps(doc))
    out = tmp_path / "run"
    proc = storetwin("run", "--store", str(spec), "--minutes", "1.5", "--seed", "2", "--json",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["run"]["store"] == "side-door"
    assert m["crowd"]["entered"] >= 1
    # shoppers came in through the side door: the first ground-truth positions are by it.
    # The left wall runs counter-clockwise from the back corner (0, 11.2) to (0, 0), so the
    # opening spans y 10.2..8.6
    import pyarrow.parquet as pq
    t = pq.read_table(out / "ground_truth" / "tracks.parquet").to_pandas()
    first = t.sort_values("t").groupby("shopper_id").first()
    assert np.all(first["x"] < 1.2), first
    assert np.all((first["y"] > 8.6) & (first["y"] < 10.2)), first


def test_run_with_a_bad_spec_is_an_error_per_problem_and_no_run(tmp_path) -> None:
    from scenes.presets import preset_text
    spec = tmp_path / "bad.toml"
    spec.write_text(preset_text("kiosk").replace('wall = "front"', 'wall = "north"', 1))
    proc = storetwin("run", "--store", str(spec), "--out", str(tmp_path / "run"))
    line = one_error(proc, str(spec), "gates[0].wall", "'north'", "front, right, back, left")
    assert "names no wall" in line
    assert not (tmp_path / "run").exists()


def test_scene_new_can_write_the_catalogue_as_an_editable_csv(tmp_path) -> None:
    spec = tmp_path / "shop.toml"
    proc = storetwin("scene", "new", "--area", "5000sqft", "--out", str(spec),
                     "--catalogue-csv")
    assert proc.returncode == 0, proc.stderr
    csv = tmp_path / "shop.catalog.csv"
    assert tomllib.loads(spec.read_text())["catalogue"] == {"file": "shop.catalog.csv"}
    from scenes import load_spec
    s = load_spec(spec)
    # the same products as the generate rule would give
    inline = tomllib.loads(storetwin("scene", "new", "--area", "5000sqft").stdout)
    assert "generate" in inline["catalogue"]
    assert len(s.catalogue) == inline["catalogue"]["generate"]["skus"]
    # a planner's edit to the CSV reaches the store; a broken edit is named by line and field
    rows = csv.read_text().splitlines()
    rows[1] = rows[1].replace(",299,", ",349,", 1)
    csv.write_text("\n".join(rows) + "\n")
    assert load_spec(spec).catalogue.price_cents[0] == 349
    rows[2] = rows[2].replace(",240,", ",-240,", 1)
    csv.write_text("\n".join(rows) + "\n")
    one_error(storetwin("scene", "info", str(spec)), "catalogue.file", "line 3", "mass_g")
    one_error(storetwin("scene", "new", "--area", "5000sqft", "--catalogue-csv"), "--out")


def test_a_store_with_shelf_segment_plates_runs_and_bills(tmp_path) -> None:
    """Three bins to a plate: the plates stream has a third as many plates and the core still
    bills from it, choosing among each plate's skus by weight."""
    from scenes.presets import preset_text
    from scenes.tomlw import dumps
    doc = tomllib.loads(preset_text("kiosk"))
    doc["name"] = "segments"
    doc["shelves"] = {"bins_per_plate": 3, "plate_capacity_kg": 60.0}
    spec = tmp_path / "segments.toml"
    spec.write_text(dumps(doc))
    out = tmp_path / "run"
    proc = storetwin("run", "--store", str(spec), "--minutes", "3", "--seed", "1", "--json",
                     "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert 165 <= m["run"]["plates"] < 200          # 495 bins in threes, odd ends alone
    import pyarrow.parquet as pq
    plates = pq.read_table(out / "streams" / "plates.parquet").column("plate").to_numpy()
    assert np.unique(plates).size == m["run"]["plates"]
    k = json.loads((out / "knowledge.json").read_text())
    assert len(k["plates"]["plate"]) == 495 and len(set(k["plates"]["plate"])) == m["run"]["plates"]
    assert m["core"]["shelf_events"] > 0
    assert m["billing"]["item_recall"] is not None and m["billing"]["item_recall"] > 0.3
