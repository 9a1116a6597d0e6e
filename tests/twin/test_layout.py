"""Camera layouts (docs/camera-layout.md): the TOML format's round trip, every check with its
field path and what is allowed, the orientation convention, and the generators (ceiling grid,
aisle pairs, shelf facing, greedy) on the kiosk preset."""

from __future__ import annotations

import math
import re
import tomllib

import numpy as np
import pytest

from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.store import FACES, Bins, Store, outline_walls
from scenes.tomlw import dumps
from twin.camgeom import angles_from_rotation, ceiling_grid, project, rotation_from_angles
from twin.coverage import coverage, visibility
from twin.layout import DEFAULT_MODELS, CameraLayout
from twin.layout_toml import (
    FORMAT,
    LayoutError,
    build_layout,
    dumps_layout,
    load_layout,
    parse_layout,
)
from twin.placement import (
    aisle_pairs,
    candidate_layout,
    find_aisles,
    greedy_layout,
    grid_layout,
    shelf_faces,
    shelf_facing,
)


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


def base() -> dict:
    """A small valid layout document: one camera per orientation and intrinsics form."""
    return {
        "format": FORMAT,
        "store": "kiosk",
        "defaults": {"model": "dome-4mp", "pitch_deg": -90.0},
        "models": {"cheap": {"resolution": [1280, 960], "hfov_deg": 90.0, "fps": 15.0,
                             "cost_usd": 120.0}},
        "cameras": [
            {"name": "down", "position_m": [3.0, 2.0, 3.4]},
            {"name": "tilted", "model": "cheap", "position_m": [5.0, 1.0, 3.4],
             "yaw_deg": 90.0, "pitch_deg": -45.0, "roll_deg": 5.0},
            {"name": "aimed", "position_m": [1.0, 1.0, 3.0], "look_at_m": [4.0, 5.0, 0.0],
             "fx_px": 1000.0, "fy_px": 1010.0, "cx_px": 1300.5, "cy_px": 770.25},
        ],
    }


def problems(doc: dict, store=None) -> list[tuple[str, str]]:
    with pytest.raises(LayoutError) as e:
        build_layout(doc, "layout.toml", store)
    return e.value.problems


def only(doc: dict, store=None) -> tuple[str, str]:
    ps = problems(doc, store)
    assert len(ps) == 1, ps
    return ps[0]


# -- the format ----------------------------------------------------------------------------

def test_the_base_document_loads_with_models_and_defaults_filled_in() -> None:
    lay = build_layout(base())
    assert list(lay.name) == ["down", "tilted", "aimed"]
    assert list(lay.model) == ["dome-4mp", "cheap", "dome-4mp"]
    dome = DEFAULT_MODELS["dome-4mp"]
    assert tuple(lay.resolution[0]) == dome.resolution
    assert lay.fps[0] == dome.fps and lay.cost_usd[0] == dome.cost_usd
    assert lay.intrinsics[0, 0] == pytest.approx(dome.resolution[0] / 2
                                                 / math.tan(math.radians(dome.hfov_deg) / 2))
    assert tuple(lay.resolution[1]) == (1280, 960) and lay.cost_usd[1] == 120.0
    assert lay.total_cost == pytest.approx(2 * dome.cost_usd + 120.0)
    assert np.allclose(lay.intrinsics[2], [1000.0, 1010.0, 1300.5, 770.25])
    assert lay.store == "kiosk" and len(lay) == 3
    cams = lay.cameras()
    assert list(cams.camera) == [0, 1, 2] and cams.resolution.dtype == np.int32


def test_a_camera_value_beats_its_model_which_beats_the_defaults() -> None:
    doc = base()
    doc["defaults"].update({"fps": 7.0, "cost_usd": 1.0})
    doc["cameras"][0]["cost_usd"] = 99.0
    doc["cameras"].append({"name": "bare", "position_m": [2.0, 2.0, 3.0], "model": "x",
                           "hfov_deg": 80.0})
    doc["models"]["x"] = {"resolution": [640, 480]}
    lay = build_layout(doc)
    assert lay.cost_usd[0] == 99.0                            # camera
    assert lay.fps[0] == DEFAULT_MODELS["dome-4mp"].fps       # model over defaults
    assert lay.fps[3] == 7.0 and lay.cost_usd[3] == 1.0       # model "x" lacks them
    assert lay.intrinsics[3, 0] == pytest.approx(320 / math.tan(math.radians(40)))


def test_round_trip_is_exact_for_every_orientation_and_intrinsics_form(tmp_path) -> None:
    lay = build_layout(base())
    text = dumps_layout(lay)
    assert text.startswith("# storetwin camera layout: 3 cameras")
    assert parse_layout(text) == lay
    p = tmp_path / "l.toml"
    p.write_text(text)
    assert load_layout(p) == lay
    assert dumps_layout(load_layout(p)) == text
    doc = tomllib.loads(text)
    assert doc["format"] == FORMAT and doc["store"] == "kiosk"
    assert set(doc["models"]) == {"dome-4mp", "cheap"}


def test_generated_layouts_round_trip_as_readable_angles(kiosk) -> None:
    for lay in (grid_layout(kiosk), aisle_pairs(kiosk), shelf_facing(kiosk),
                CameraLayout.empty("kiosk")):
        text = dumps_layout(lay)
        assert parse_layout(text, store=kiosk) == lay
        assert "rotation" not in text and "fx_px" not in text
    doc = tomllib.loads(dumps_layout(grid_layout(kiosk)))
    assert doc["models"]["dome-4mp"]["hfov_deg"] == 100.0
    assert doc["cameras"][0]["pitch_deg"] == -90.0 and doc["cameras"][0]["yaw_deg"] == 90.0


def test_a_rotation_no_angles_rebuild_exactly_is_written_as_a_matrix() -> None:
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    lay = build_layout(base())
    lay = CameraLayout(lay.name, lay.position, np.stack([q, q, q]), lay.intrinsics,
                       lay.resolution, lay.fps, lay.model, lay.cost_usd, lay.store)
    assert parse_layout(dumps_layout(lay)) == lay


# -- the orientation convention -------------------------------------------------------------

def test_yaw_pitch_roll_follow_the_documented_convention(kiosk) -> None:
    r = rotation_from_angles(0.0, 0.0, 0.0)          # level, looking along +x
    assert np.allclose(r[:, 2], [1, 0, 0]) and np.allclose(r[:, 0], [0, -1, 0])
    assert np.allclose(r[:, 1], [0, 0, -1])          # image y points down
    r = rotation_from_angles(90.0, 0.0, 0.0)
    assert np.allclose(r[:, 2], [0, 1, 0])
    r = rotation_from_angles(30.0, -90.0, 0.0)       # straight down
    assert np.allclose(r[:, 2], [0, 0, -1])
    assert np.allclose(-r[:, 1], [math.cos(math.radians(30)), math.sin(math.radians(30)), 0])
    assert np.allclose(rotation_from_angles(90.0, -90.0), ceiling_grid(kiosk).rotation[0])
    r0, r1 = rotation_from_angles(10.0, -20.0, 0.0), rotation_from_angles(10.0, -20.0, 90.0)
    assert np.allclose(r1[:, 0], r0[:, 1]) and np.allclose(r1[:, 2], r0[:, 2])
    for r in (r0, r1):
        assert np.allclose(r.T @ r, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)


def test_angles_invert_the_rotation() -> None:
    rng = np.random.default_rng(0)
    for y, p, r in zip(rng.uniform(-180, 180, 50), rng.uniform(-89, 89, 50),
                       rng.uniform(-179, 179, 50), strict=True):
        assert np.allclose(angles_from_rotation(rotation_from_angles(y, p, r)), (y, p, r))


def test_look_at_puts_the_target_on_the_principal_point() -> None:
    lay = build_layout(base())
    u, v, z = project(lay.cameras(), np.array([[4.0, 5.0, 0.0]]))
    assert u[2, 0] == pytest.approx(1300.5) and v[2, 0] == pytest.approx(770.25)
    assert z[2, 0] == pytest.approx(math.dist((1, 1, 3), (4, 5, 0)))


# -- every check -----------------------------------------------------------------------------

def edit(fn) -> dict:
    doc = base()
    fn(doc)
    return doc


CHECKS = [
    (lambda d: d.update(bogus=1), "bogus", "unknown key; allowed here: format, store"),
    (lambda d: d.update(format="x/1"), "format", "expected 'storetwin-layout/1'"),
    (lambda d: d.pop("cameras"), "cameras", "is missing (required)"),
    (lambda d: d["cameras"][0].update(hfov_deg=200), "cameras[0].hfov_deg",
     "expected a number > 0 and <= 170 (deg)"),
    (lambda d: d["cameras"][0].update(pitch_deg=-100), "cameras[0].pitch_deg",
     "expected a number >= -90 and <= 90 (deg)"),
    (lambda d: d["cameras"][0].update(yaw_deg="north"), "cameras[0].yaw_deg",
     "expected a number >= -360 and <= 360 (deg)"),
    (lambda d: d["cameras"][0].update(fps=0), "cameras[0].fps",
     "expected a number > 0 and <= 1000 (frames per second)"),
    (lambda d: d["cameras"][0].update(cost_usd=-5), "cameras[0].cost_usd",
     "expected a number >= 0 and <= 1e+06 (USD)"),
    (lambda d: d["cameras"][0].update(resolution=[1280]), "cameras[0].resolution",
     "expected [width, height], two integers >= 16"),
    (lambda d: d["cameras"][0].update(model="dome-4pm"), "cameras[0].model",
     "expected one of bullet-4mp, cheap, dome-4mp, fisheye-12mp"),
    (lambda d: d["cameras"][1].update(name="down"), "cameras[1].name",
     "is also the name of cameras[0]; expected unique camera names"),
    (lambda d: d["cameras"][0].pop("name"), "cameras[0].name", "is missing (required)"),
    (lambda d: d["cameras"][0].update(name=""), "cameras[0].name", "expected a non-empty string"),
    (lambda d: d["cameras"][0].pop("position_m"), "cameras[0].position_m",
     "is missing (required)"),
    (lambda d: d["cameras"][0].update(position_m=[1, 2]), "cameras[0].position_m",
     "expected a point [x, y, z] in metres"),
    (lambda d: d["cameras"][0].update(position_m=[1, 2, -1]), "cameras[0].position_m",
     "expected a camera above the floor, 0 < z <= 30 (m)"),
    (lambda d: d["cameras"][0].update(zoom=2), "cameras[0].zoom",
     "unknown key; allowed here: name, model, position_m, look_at_m, rotation"),
    (lambda d: d["cameras"][1].update(look_at_m=[0, 0, 0]), "cameras[1]",
     "expected look_at_m (with an optional roll_deg), rotation, or yaw_deg/pitch_deg/roll_deg"),
    (lambda d: d["cameras"][2].update(look_at_m=[1.0, 1.0, 3.001]), "cameras[2].look_at_m",
     "is within 1 cm of position_m"),
    (lambda d: d["cameras"][0].update(rotation=[[1, 0, 0], [0, 1, 0], [0, 0, 2]]),
     "cameras[0].rotation", "expected a 3 x 3 rotation matrix"),
    (lambda d: d["defaults"].pop("pitch_deg"), "cameras[0].pitch_deg",
     "give look_at_m, rotation or pitch_deg here, or pitch_deg in [defaults]"),
    (lambda d: d["cameras"][2].update(hfov_deg=90.0), "cameras[2]",
     "gives hfov_deg and fx_px/fy_px/cx_px/cy_px; expected one of them"),
    (lambda d: d["cameras"][2].pop("cy_px"), "cameras[2]",
     "gives cx_px, fx_px, fy_px without cy_px; expected all four"),
    (lambda d: d["cameras"][2].update(cx_px=3000.0), "cameras[2].cx_px",
     "lies outside the image (2688 px); expected 0 <= cx_px <= 2688"),
    (lambda d: d["defaults"].update(shutter=1), "defaults.shutter",
     "unknown key; allowed here: model, yaw_deg"),
    (lambda d: d["models"]["cheap"].update(fps=-1), "models.cheap.fps",
     "expected a number > 0 and <= 1000 (frames per second)"),
    (lambda d: d.update(models=3), "models", "expected a table of camera models"),
]


@pytest.mark.parametrize("fn, path, msg", CHECKS, ids=[c[1] for c in CHECKS])
def test_each_check_reports_one_line_naming_the_field_and_what_is_allowed(fn, path, msg) -> None:
    doc = edit(fn)
    p, m = only(doc)
    assert p == path and msg in m, (p, m)
    with pytest.raises(LayoutError) as e:
        build_layout(doc, "layout.toml")
    assert e.value.lines() == [f"layout.toml: {p}: {m}"]


def test_a_camera_without_a_model_needs_every_value() -> None:
    cam = {"name": "a", "position_m": [1.0, 1.0, 3.0], "pitch_deg": -90.0, "hfov_deg": 90.0,
           "resolution": [640, 480], "cost_usd": 1.0}
    p, m = only({"cameras": [cam]})
    assert p == "cameras[0].fps"
    assert m == "is missing (required): give it here, in the camera's model or in [defaults]"
    lay = build_layout({"cameras": [dict(cam, fps=10)]})
    assert list(lay.model) == [""] and parse_layout(dumps_layout(lay)) == lay


def test_store_checks_name_the_store_and_what_is_allowed(kiosk) -> None:
    doc = base()
    doc["cameras"][0]["position_m"] = [20.0, 2.0, 3.0]        # outside the floor
    doc["cameras"][1]["position_m"] = [5.0, 1.0, 4.0]         # above the 3.6 m ceiling
    doc["cameras"][2]["position_m"] = [2.0, 5.0, 1.0]         # inside gondola-1
    ps = problems(doc, kiosk)
    assert [p for p, _ in ps] == [f"cameras[{i}].position_m" for i in range(3)]
    assert "outside the floor outline of store 'kiosk' (x 0..15, y 0..11.2)" in ps[0][1]
    assert "above the ceiling of store 'kiosk'; expected 0 < z <= 3.6 (m)" in ps[1][1]
    assert "inside fixture 'gondola-1'; expected a camera in free space" in ps[2][1]
    assert build_layout(base(), store=kiosk) == build_layout(base())   # fine without them


def test_all_problems_are_reported_together(tmp_path) -> None:
    doc = base()
    doc["cameras"][0]["hfov_deg"] = 0
    doc["cameras"][1]["fps"] = "fast"
    doc["cameras"][2]["name"] = "down"
    p = tmp_path / "bad.toml"
    p.write_text(dumps(doc))
    with pytest.raises(LayoutError) as e:
        load_layout(p)
    lines = e.value.lines()
    assert len(lines) == 3 and all(line.startswith(f"{p}: cameras[") for line in lines)
    assert str(e.value) == "\n".join(lines)


def test_unreadable_and_broken_files_are_one_line_each(tmp_path) -> None:
    cases = {"missing.toml": None, "binary.toml": b"\xff\xfe\x00", "broken.toml": b"[cameras"}
    for name, raw in cases.items():
        p = tmp_path / name
        if raw is not None:
            p.write_bytes(raw)
        with pytest.raises(LayoutError) as e:
            load_layout(p)
        assert len(e.value.lines()) == 1 and e.value.lines()[0].startswith(str(p))
    with pytest.raises(LayoutError, match="expected a table"):
        build_layout({"cameras": [3]})
    with pytest.raises(LayoutError, match="expected a TOML document"):
        build_layout([])  # type: ignore[arg-type]


def test_the_shipped_example_in_the_docs_loads(kiosk) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "camera-layout.md").read_text()
    block = text.split("```toml\n", 1)[1].split("```", 1)[0]
    lay = parse_layout(block, "docs/camera-layout.md", kiosk)
    assert len(lay) >= 3


# -- generators ------------------------------------------------------------------------------

def test_grid_layout_stays_inside_the_outline_and_matches_ceiling_grid(kiosk) -> None:
    lay = grid_layout(kiosk, spacing=2.5)
    ref = ceiling_grid(kiosk, spacing=2.5)
    assert np.allclose(lay.position, ref.position)
    assert np.allclose(lay.rotation, ref.rotation)
    assert list(lay.name[:2]) == ["grid-1", "grid-2"]
    assert grid_layout(kiosk, spacing=2.5) == lay                  # deterministic
    with pytest.raises(ValueError, match="spacing"):
        grid_layout(kiosk, spacing=0)


def test_grid_layout_leaves_out_cells_off_an_l_shaped_floor() -> None:
    outline = np.array([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]], dtype=np.float64)
    store = Store("L", outline, 3.6, outline_walls(outline), (), (), Bins.empty(),
                  load_catalogue(), 2.0)
    lay = grid_layout(store, spacing=2.0)
    assert len(lay) == 25 - 9                                       # the notch's 3 x 3 cells
    assert store.contains(lay.position[:, :2]).all()


def test_aisles_are_the_gaps_between_facing_shelves(kiosk) -> None:
    both = find_aisles(kiosk, single_sided=False)
    assert len(both) == 4                                           # between 5 gondolas
    assert all(len(a.faces) == 2 and a.axis == 0 and a.width == pytest.approx(1.75)
               for a in both)
    allx = find_aisles(kiosk)
    assert len(allx) == 6                                           # + the two by the walls
    assert sorted(a.mid for a in allx)[0] == pytest.approx(0.875)
    faces = shelf_faces(kiosk)
    assert len(faces) == 11 and faces[-1].face == "-y"
    assert faces[-1].depth == pytest.approx(1.7)                    # back shelf to gondola ends


def test_aisle_pairs_put_one_pair_per_aisle_looking_along_it_at_each_other(kiosk) -> None:
    aisles = find_aisles(kiosk)
    lay = aisle_pairs(kiosk)
    assert len(lay) == 2 * len(aisles)
    for i, a in enumerate(aisles):
        ia = list(lay.name).index(f"aisle-{i + 1}-a")
        ib = list(lay.name).index(f"aisle-{i + 1}-b")
        pa, pb = lay.position[ia], lay.position[ib]
        assert pa[a.axis] == pytest.approx(a.mid) and pb[a.axis] == pytest.approx(a.mid)
        assert pa[1 - a.axis] == pytest.approx(a.a0) and pb[1 - a.axis] == pytest.approx(a.a1)
        for j, (p, q) in ((ia, (pa, pb)), (ib, (pb, pa))):
            axis = lay.rotation[j][:, 2]
            along = (q - p)[:2] / np.linalg.norm((q - p)[:2])
            h = axis[:2] / np.linalg.norm(axis[:2])
            assert h @ along == pytest.approx(1.0)                  # looks down the aisle
            assert -60 < math.degrees(math.asin(axis[2])) < -10     # high, tilted down


def test_shelf_facing_cameras_see_their_own_face(kiosk) -> None:
    lay = shelf_facing(kiosk)
    faces = shelf_faces(kiosk)
    fixtures = [f.name for f in kiosk.fixtures]
    assert len(lay) >= len(faces)
    vis = visibility(kiosk, lay.cameras(), cell=1.0)
    b = kiosk.bins
    for j, n in enumerate(lay.name):
        fixture, face = re.fullmatch(r"shelf-(.+)-([+-][xy])-\d+", n).groups()
        mine = (b.fixture == fixtures.index(fixture)) & (b.face == FACES.index(face))
        assert vis.faces[j, mine].mean() > 0.3, n                  # sees a good part of it
        sf = next(f for f in faces if f.fixture == fixtures.index(fixture) and f.face == face)
        assert np.dot(lay.rotation[j][:2, 2], sf.normal) < -0.5    # looks back at the face
    assert vis.faces.any(axis=0).all()                             # together: every bin face


def test_greedy_reaches_its_target_with_no_more_cameras_than_a_grid(kiosk) -> None:
    cell = 0.5
    target = 0.9
    grids = [grid_layout(kiosk, s) for s in (2.5, 2.0, 1.75, 1.5, 1.25)]
    fr = [coverage(kiosk, g, cell=cell).k_fraction(2) for g in grids]
    assert fr[-1] >= target, fr
    grid_n = len(grids[next(i for i, f in enumerate(fr) if f >= target)])
    cand = candidate_layout(kiosk, spacing=1.5)
    res = greedy_layout(kiosk, target=target, k=2, candidates=cand, cell=cell)
    assert res.stopped == "target" and res.trace[-1] >= target
    assert len(res.layout) <= grid_n, (len(res.layout), grid_n)
    assert np.all(np.diff(res.trace) >= 0) and np.all(np.diff(res.cost) > 0)
    # its trace is what coverage() says of the chosen cameras
    rep = coverage(kiosk, res.layout, cell=cell)
    assert rep.k_fraction(2) == pytest.approx(res.trace[-1])
    assert rep.cost_usd == pytest.approx(res.cost[-1])
    # deterministic, and the candidates' names survive
    again = greedy_layout(kiosk, target=target, k=2, candidates=cand, cell=cell)
    assert again.layout == res.layout
    assert set(res.layout.name) <= set(cand.name)


def test_greedy_respects_a_budget_and_can_weigh_bin_faces(kiosk) -> None:
    cand = candidate_layout(kiosk, spacing=2.0)
    res = greedy_layout(kiosk, target=1.0, k=3, candidates=cand, budget_usd=3000.0, cell=0.5)
    assert res.stopped == "budget"
    assert res.layout.total_cost <= 3000.0 and len(res.layout) == 7   # $400 domes
    capped = greedy_layout(kiosk, target=1.0, k=3, candidates=cand, cell=0.5, max_cameras=3)
    assert capped.stopped == "max cameras" and len(capped.layout) == 3
    assert capped.layout == res.layout.take(np.arange(3))             # a prefix of the same run
    plain = greedy_layout(kiosk, target=0.8, k=1, candidates=cand, cell=0.5)
    shelves = greedy_layout(kiosk, target=0.8, k=1, candidates=cand, cell=0.5,
                            bin_weight=2.0, bin_target=0.95)
    assert shelves.bin_trace[-1] >= 0.95 > plain.bin_trace[-1]
