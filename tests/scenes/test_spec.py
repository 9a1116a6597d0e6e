"""Store specs (docs/store-spec.md): a hand-written shop built number by number, every check of
the format's "Checks" with its field path and what is allowed, the CLI's report of a broken
spec, floors that are not rectangles, and the TOML writer's round trip.

The shop is ``tests/scenes/data/corner-shop.toml``: 12 x 10 m, two 0.9 x 3.2 m gondolas 2.1 m
apart, an 8 m shelf along the back wall, a door in the front wall, an exit in the right wall and
five inline products. Each check test breaks one thing in a copy of it and expects exactly the
problems that thing causes.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from scenes.checks import MAX_PROBLEMS_SHOWN
from scenes.generate import PRESET_PARAMS, generate_spec
from scenes.spec import SpecError, build_store, load_spec, parse_spec
from scenes.spec_shell import MIN_GATE_M
from scenes.store import FACES, polygon_area
from scenes.tomlw import dumps
from scenes.walkable import MIN_AISLE_M

REPO = Path(__file__).resolve().parents[2]
SHOP = Path(__file__).parent / "data" / "corner-shop.toml"
RECT_WALLS = "front, right, back, left"


def shop() -> dict:
    """A fresh copy of the corner shop's document."""
    return tomllib.loads(SHOP.read_text())


def problems(doc: dict, base_dir: Path | None = None) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        build_store(doc, "shop.toml", base_dir)
    return e.value.problems


def only(doc: dict, base_dir: Path | None = None) -> tuple[str, str]:
    """The one problem of a spec that has exactly one."""
    ps = problems(doc, base_dir)
    assert len(ps) == 1, ps
    return ps[0]


def bin_at(store, fixture: str, face: str, slot: int, level: int) -> int:
    names = [f.name for f in store.fixtures]
    b = store.bins
    hit = np.flatnonzero((b.fixture == names.index(fixture)) & (b.face == FACES.index(face))
                         & (b.slot == slot) & (b.level == level))
    assert hit.size == 1, (fixture, face, slot, level, hit)
    return int(hit[0])


def item(sku: str, **kw) -> dict:
    it = {"sku": sku, "name": f"Item {sku}", "category": "test", "mass_g": 100,
          "price_cents": 100, "width_m": 0.1, "depth_m": 0.1, "height_m": 0.1}
    it.update(kw)
    return it


CSV_HEADER = ("sku,name,category,brand,mass_g,price_cents,width_m,depth_m,height_m,"
              "gluten_free,organic,vegan")


def shop_csv() -> str:
    """The shop's five inline products as a catalogue CSV."""
    rows = [CSV_HEADER]
    for it in shop()["catalogue"]["items"]:
        flags = [str(int(it.get(k, False))) for k in ("gluten_free", "organic", "vegan")]
        rows.append(",".join([it["sku"], it["name"], it["category"], it.get("brand", "-"),
                              str(it["mass_g"]), str(it["price_cents"]), str(it["width_m"]),
                              str(it["depth_m"]), str(it["height_m"]), *flags]))
    return "\n".join(rows) + "\n"


# ------------------------------------------------------------------------------ the shop


@pytest.fixture(scope="module")
def store():
    return load_spec(SHOP)


def test_shop_has_the_floor_walls_and_bin_count_written_by_hand(store) -> None:
    assert store.name == "corner-shop"
    assert store.area_m2 == pytest.approx(120.0)
    assert store.bounds == (0.0, 0.0, 12.0, 10.0)
    assert store.ceiling_height == 3.0
    assert [(w.name, w.a, w.b) for w in store.walls] == [
        ("front", (0.0, 0.0), (12.0, 0.0)), ("right", (12.0, 0.0), (12.0, 10.0)),
        ("back", (12.0, 10.0), (0.0, 10.0)), ("left", (0.0, 10.0), (0.0, 0.0))]
    # gondolas: 2 faces x 3 levels x floor(3.2 / 0.75) = 4 bins; back wall: 2 levels x 8
    assert len(store.bins) == 2 * (2 * 3 * 4) + 2 * 8 == 64
    assert store.aisle_width == pytest.approx(2.1)   # 6.0 - (3.0 + 0.9)
    assert len(store.catalogue) == 5


def test_bins_are_centred_on_the_face_between_decks_and_plates(store) -> None:
    b = store.bins
    # gondola-1's -x face, second bin from the low-y end, bottom level: 0.1 m spare at each
    # end of the 3.2 m face; half the 0.9 m depth; from the plate's top (0.1 + 0.02) to 1 cm
    # under the next deck (0.7)
    i = bin_at(store, "gondola-1", "-x", 1, 0)
    np.testing.assert_allclose(b.lo[i], [3.0, 3.85, 0.12])
    np.testing.assert_allclose(b.hi[i], [3.45, 4.6, 0.69])
    np.testing.assert_allclose(b.normal[i], [-1.0, 0.0])
    np.testing.assert_allclose(b.access_xy[i], [3.0 - 0.45, 4.225])
    # gondola-2's +x face, last bin, top level: up to 1 cm under the 2.0 m top
    i = bin_at(store, "gondola-2", "+x", 3, 2)
    np.testing.assert_allclose(b.lo[i], [6.45, 5.35, 1.32])
    np.testing.assert_allclose(b.hi[i], [6.9, 6.1, 1.99])
    np.testing.assert_allclose(b.access_xy[i], [6.9 + 0.45, 5.725])
    # the back wall's one face is its whole depth
    i = bin_at(store, "back-wall", "-y", 7, 1)
    np.testing.assert_allclose(b.lo[i], [9.0, 9.5, 0.92])
    np.testing.assert_allclose(b.hi[i], [10.0, 10.0, 1.99])
    np.testing.assert_allclose(b.normal[i], [0.0, -1.0])
    np.testing.assert_allclose(b.access_xy[i], [9.5, 9.5 - 0.45])


def test_planogram_rows_are_levels_and_columns_are_bins_from_the_low_end(store) -> None:
    sku = store.catalogue.sku[store.bins.sku_index]
    assert sku[bin_at(store, "gondola-1", "-x", 2, 0)] == "A004"   # row 0, column 2
    assert sku[bin_at(store, "gondola-1", "-x", 0, 1)] == "A005"   # row 1, column 0
    assert sku[bin_at(store, "gondola-1", "+x", 0, 0)] == "A004"
    assert sku[bin_at(store, "gondola-2", "+x", 2, 2)] == "A005"
    assert sku[bin_at(store, "back-wall", "-y", 6, 1)] == "A001"


def test_facings_and_deep_fill_the_bin_within_the_plate_or_follow_the_planogram(store) -> None:
    b = store.bins
    counts = {}
    for where in [("gondola-1", "-x", 0, 0),   # A002 rice, 2050 g: 3 across, 5 would fit
                  ("back-wall", "-y", 0, 0),   # A004 water, 9200 g: 2 fit the plate
                  ("gondola-1", "-x", 0, 1),   # A005 cereal, 500 g
                  ("gondola-1", "-x", 3, 1),   # { sku = "A003", facings = 2, deep = 3 }
                  ("back-wall", "-y", 6, 1)]:  # { sku = "A001", facings = 3 }
        i = bin_at(store, *where)
        counts[where[0], where[3], where[2]] = (int(b.facings[i]), int(b.rows[i]))
    # rice: floor(0.75 / 0.21) = 3 across, floor(0.45 / 0.09) = 5 deep capped at max_deep 4,
    # then the 20 kg plate takes floor(20000 / 2050) = 9 units: 3 x 3
    assert counts["gondola-1", 0, 0] == (3, 3)
    # water: 3 across and 2 deep fit, but 20 kg holds 2 packs of 9.2 kg: 2 x 1
    assert counts["back-wall", 0, 0] == (2, 1)
    assert counts["gondola-1", 1, 0] == (3, 4)
    assert counts["gondola-1", 1, 3] == (2, 3)
    assert counts["back-wall", 1, 6] == (3, 4)
    assert np.array_equal(b.count, b.facings * b.rows)
    mass = store.catalogue.mass_g[b.sku_index]
    assert np.all(b.count * mass <= 20_000)


def test_gates_have_their_openings_inward_normals_and_regions(store) -> None:
    door, out = store.gates
    assert (door.name, door.kind, door.wall) == ("door", "entrance", "front")
    assert (door.a, door.b, door.inward) == ((1.0, 0.0), (2.6, 0.0), (0.0, 1.0))
    assert (out.name, out.kind, out.wall) == ("way-out", "exit", "right")
    assert (out.a, out.b, out.inward) == ((12.0, 1.0), (12.0, 2.0), (-1.0, 0.0))
    assert store.entrance is door and store.exit is out
    assert store.entrance_region == pytest.approx((1.0, 0.0, 2.6, 1.5))
    assert store.exit_region == pytest.approx((10.5, 1.0, 12.0, 2.0))


def test_inline_items_keep_their_fields_and_optional_defaults(store) -> None:
    cat = store.catalogue
    i = cat.index()
    assert list(cat.sku) == ["A001", "A002", "A003", "A004", "A005"]
    assert cat.brand[i["A001"]] == "-" and cat.brand[i["A002"]] == "Paddy"
    assert cat.vegan[i["A001"]] and not cat.vegan[i["A002"]]
    assert cat.gluten_free[i["A003"]] and cat.organic[i["A005"]]
    assert cat.price_cents[i["A004"]] == 599
    np.testing.assert_allclose(cat.size_m[i["A002"]], [0.20, 0.08, 0.30])


def test_a_catalogue_csv_beside_the_spec_loads_like_the_inline_items(tmp_path, store) -> None:
    doc = shop()
    doc["catalogue"] = {"file": "products.csv"}
    (tmp_path / "products.csv").write_text(shop_csv())
    (tmp_path / "shop.toml").write_text(dumps(doc))
    other = load_spec(tmp_path / "shop.toml")
    assert list(other.catalogue.sku) == list(store.catalogue.sku)
    np.testing.assert_allclose(other.catalogue.size_m, store.catalogue.size_m)
    assert np.array_equal(other.bins.count, store.bins.count)


# ------------------------------------------------------------------ the acceptance case


def three_problem_shop() -> dict:
    """The shop with two overlapping tables, a shelf in a walled-off closet and an unknown
    sku: three problems, nothing else."""
    doc = shop()
    doc["fixtures"] += [
        {"name": "table-a", "kind": "table", "x_m": 9.0, "y_m": 3.0, "dx_m": 1.0, "dy_m": 1.0,
         "height_m": 0.9},
        {"name": "table-b", "kind": "table", "x_m": 9.5, "y_m": 3.5, "dx_m": 1.0, "dy_m": 1.0,
         "height_m": 0.9},
        # a 1.8 x 2.5 m closet in the back-left corner, closed by two partitions: its floor is
        # walkable but joins no entrance
        {"name": "closet-shelf", "kind": "wall_shelf", "x_m": 0.0, "y_m": 9.5, "dx_m": 1.0,
         "dy_m": 0.5, "height_m": 2.0, "faces": ["-y"], "levels_m": [0.1], "bin_width_m": 1.0},
    ]
    doc["walls"] = [{"name": "closet-front", "from_m": [0.0, 7.5], "to_m": [1.8, 7.5]},
                    {"name": "closet-side", "from_m": [1.8, 7.5], "to_m": [1.8, 10.0]}]
    doc["planogram"]["closet-shelf"] = {"-y": [["A001"]]}
    doc["planogram"]["gondola-1"]["-x"][0][2] = "ZZZ999"
    return doc


def test_overlap_unreachable_bin_and_unknown_sku_are_exactly_three_problems() -> None:
    ps = problems(three_problem_shop())
    assert len(ps) == 3, ps
    by_path = dict(ps)
    assert set(by_path) == {"fixtures[4]", "planogram.closet-shelf.-y[0][0]",
                            "planogram.gondola-1.-x[0][2]"}
    assert by_path["fixtures[4]"] == ("'table-b' overlaps 'table-a' (fixtures[3]) by 0.50 x "
                                      "0.50 m; expected fixtures apart or touching")
    msg = by_path["planogram.closet-shelf.-y[0][0]"]
    assert msg.startswith("bin is unreachable") and "(0.50, 9.05)" in msg
    assert f"at least {MIN_AISLE_M} m" in msg
    assert by_path["planogram.gondola-1.-x[0][2]"] == (
        "sku 'ZZZ999' is not in the catalogue; expected one of its 5 skus")


def test_cli_reports_the_three_problems_on_three_lines_and_exits_2(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(dumps(three_problem_shop()))
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "scene", "info", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 3, proc.stderr
    prefix = f"storetwin: error: {path}: "
    assert all(ln.startswith(prefix) for ln in lines), lines
    paths = sorted(ln[len(prefix):].split(": ", 1)[0] for ln in lines)
    assert paths == ["fixtures[4]", "planogram.closet-shelf.-y[0][0]",
                     "planogram.gondola-1.-x[0][2]"]


# ----------------------------------------------------------------------- one per check


def _set(path: str, value):
    """A mutation that sets a dotted path (``fixtures.1.x_m``) of the document."""
    def mutate(doc: dict) -> None:
        *head, last = path.split(".")
        node = doc
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


def _del(path: str):
    def mutate(doc: dict) -> None:
        *head, last = path.split(".")
        node = doc
        for k in head:
            node = node[int(k)] if isinstance(node, list) else node[k]
        del node[last]
    return mutate


FIXTURE_KEYS = "name, kind, x_m, y_m, dx_m, dy_m, height_m, faces, levels_m, bin_width_m"

# (mutation, field path, words the message must contain): each one problem, nothing else
ONE_PROBLEM = {
    # missing required keys
    "missing-name": (_del("name"), "name", ["is missing (required)"]),
    "missing-gate-width": (_del("gates.0.width_m"), "gates[0].width_m",
                           ["is missing (required)"]),
    "missing-fixture-height": (_del("fixtures.0.height_m"), "fixtures[0].height_m",
                               ["is missing (required)"]),
    "missing-item-price": (_del("catalogue.items.2.price_cents"),
                           "catalogue.items[2].price_cents", ["is missing (required)"]),
    # wrong types
    "ceiling-as-string": (_set("ceiling_height_m", "3.0"), "ceiling_height_m",
                          ["'3.0' is not allowed", "expected a number > 2 and <= 30 (m)"]),
    "floor-as-array": (_set("floor", [12, 10]), "floor",
                       ["is an array", "expected a table with keys width_m, depth_m, outline_m"]),
    "fixtures-as-table": (_set("fixtures", {"name": "x"}), "fixtures",
                          ["is a table", "expected an array"]),
    "flag-as-string": (_set("catalogue.items.0.vegan", "yes"), "catalogue.items[0].vegan",
                       ["'yes' is not allowed", "expected true or false"]),
    "price-as-float": (_set("catalogue.items.0.price_cents", 1.49),
                       "catalogue.items[0].price_cents", ["expected an integer >= 0"]),
    "bool-for-number": (_set("fixtures.0.x_m", True), "fixtures[0].x_m",
                        ["True is not allowed", "expected a number"]),
    "cell-as-number": (_set("planogram.gondola-2.+x.0.1", 7), "planogram.gondola-2.+x[0][1]",
                       ["= 7 is not allowed", "expected a sku string or { sku"]),
    "gate-kind": (_set("gates.1.kind", "out"), "gates[1].kind",
                  ["expected one of entrance, exit, both"]),
    "fixture-kind": (_set("fixtures.2.kind", "shelf"), "fixtures[2].kind",
                     ["expected one of gondola, wall_shelf, fridge, end_cap, table"]),
    "wrong-format": (_set("format", "storetwin-store/2"), "format",
                     ["expected 'storetwin-store/1'"]),
    # unknown keys, with the allowed ones
    "unknown-top-key": (_set("gate", []), "gate",
                        ["unknown key; allowed here: format, name, description, "
                         "ceiling_height_m, floor, shelves, walls, gates, catalogue, fixtures, "
                         "planogram"]),
    "unknown-fixture-key": (_set("fixtures.1.colour", "red"), "fixtures[1].colour",
                            [f"unknown key; allowed here: {FIXTURE_KEYS}"]),
    "unknown-cell-key": (_set("planogram.gondola-1.-x.1.3", {"sku": "A003", "facing": 2}),
                         "planogram.gondola-1.-x[1][3].facing",
                         ["unknown key; allowed here: sku, facings, deep"]),
    "unknown-shelves-key": (_set("shelves.plate_kg", 5), "shelves.plate_kg",
                            ["allowed here: plate_thickness_m, plate_capacity_kg"]),
    # the catalogue: positive masses and sizes, prices >= 0, unique skus
    "negative-mass": (_set("catalogue.items.1.mass_g", -2050), "catalogue.items[1].mass_g",
                      ["= -2050 is not allowed", "expected a number > 0", "(g)"]),
    "zero-mass": (_set("catalogue.items.1.mass_g", 0), "catalogue.items[1].mass_g",
                  ["expected a number > 0"]),
    "negative-price": (_set("catalogue.items.0.price_cents", -1),
                       "catalogue.items[0].price_cents",
                       ["= -1 is not allowed", "expected an integer >= 0"]),
    "zero-item-width": (_set("catalogue.items.2.width_m", 0), "catalogue.items[2].width_m",
                        ["= 0 is not allowed", "expected a number > 0 and <= 10 (m)"]),
    "negative-item-height": (_set("catalogue.items.2.height_m", -0.25),
                             "catalogue.items[2].height_m", ["expected a number > 0"]),
    "duplicate-inline-sku": (_set("catalogue.items.4.sku", "A001"), "catalogue",
                             ["sku 'A001' appears twice", "unique"]),
    "duplicate-sku-in-builtin": (_set("catalogue", {"source": "builtin",
                                                    "items": [item("SKU00001")]}),
                                 "catalogue", ["sku 'SKU00001' appears twice", "unique"]),
    "catalogue-source-and-file": (_set("catalogue", {"source": "builtin", "file": "x.csv"}),
                                  "catalogue", ["has source and file",
                                                "expected at most one of source, file, generate"]),
    "catalogue-unknown-source": (_set("catalogue", {"source": "shipped"}), "catalogue.source",
                                 ["'shipped' is not allowed", "expected one of builtin"]),
    "catalogue-empty": (_set("catalogue", {}), "catalogue",
                        ["is empty", 'expected source = "builtin", file = "x.csv"']),
    # negative or zero sizes
    "zero-floor-width": (_set("floor.width_m", 0), "floor.width_m",
                         ["= 0 is not allowed", "expected a number > 0 and <= 2000 (m)"]),
    "negative-floor-depth": (_set("floor.depth_m", -10.0), "floor.depth_m",
                             ["expected a number > 0"]),
    "zero-fixture-dx": (_set("fixtures.0.dx_m", 0), "fixtures[0].dx_m",
                        ["= 0 is not allowed", "expected a number > 0 and <= 500 (m)"]),
    "negative-fixture-dy": (_set("fixtures.1.dy_m", -3.2), "fixtures[1].dy_m",
                            ["expected a number > 0"]),
    "zero-fixture-height": (_set("fixtures.1.height_m", 0.0), "fixtures[1].height_m",
                            ["expected a number > 0"]),
    "negative-gate-offset": (_set("gates.0.offset_m", -1.0), "gates[0].offset_m",
                             ["expected a number >= 0"]),
    "narrow-gate": (_set("gates.1.width_m", 0.7), "gates[1].width_m",
                    ["= 0.7 is not allowed", f"expected a number >= {MIN_GATE_M:g} (m)"]),
    "zero-bin-width": (_set("fixtures.2.bin_width_m", 0), "fixtures[2].bin_width_m",
                       ["expected a number > 0.05"]),
    "negative-plate-capacity": (_set("shelves.plate_capacity_kg", -20), "shelves.plate_capacity_kg",
                    ["expected a number > 0 and <= 1000 (kg)"]),
    # fixtures: under the ceiling, shelves that fit
    "taller-than-ceiling": (_set("fixtures.2.height_m", 3.2), "fixtures[2].height_m",
                            ["= 3.2 reaches the ceiling (ceiling_height_m = 3)",
                             "expected a fixture lower than the ceiling"]),
    "as-tall-as-ceiling": (_set("fixtures.2.height_m", 3.0), "fixtures[2].height_m",
                           ["reaches the ceiling", "lower than the ceiling"]),
    "top-deck-too-high": (_set("fixtures.0.levels_m", [0.1, 0.7, 1.95]), "fixtures[0].levels_m",
                          ["from 0 up to 1.9 (0.1 m under the fixture top)"]),
    "levels-not-rising": (_set("fixtures.0.levels_m", [0.1, 1.3, 0.7]), "fixtures[0].levels_m",
                          ["rising"]),
    "decks-too-close": (_set("fixtures.0.levels_m", [0.1, 0.17, 0.7]), "fixtures[0].levels_m",
                        ["rising by at least 0.08 m (plate, 1 cm and 0.05 m for goods)"]),
    "faces-mixed-axes": (_set("fixtures.0.faces", ["-x", "+y"]), "fixtures[0].faces",
                         ["mixes axes", "expected faces on one axis"]),
    "unknown-face": (_set("fixtures.0.faces", ["left"]), "fixtures[0].faces",
                     ["expected unique faces from -x, +x, -y, +y"]),
    "levels-without-faces": (_set("fixtures.0.faces", []), "fixtures[0]",
                             ["has levels_m or bin_width_m but no faces",
                              "expected faces = [...] for a fixture with shelves"]),
    "bin-wider-than-face": (_set("fixtures.0.bin_width_m", 4.0), "fixtures[0].bin_width_m",
                            ["wider than the shelf face (3.2 m)", "expected at most 3.2"]),
    # gates
    "gate-on-missing-wall": (_set("gates.0.wall", "north"), "gates[0].wall",
                             ["'north' names no wall",
                              f"gates go in the floor's walls: {RECT_WALLS}"]),
    "gate-past-wall-end": (_set("gates.0.offset_m", 11.0), "gates[0].offset_m",
                           ["12.6 m runs past the end of wall 'front' (12 m long)",
                            "expected offset_m + width_m <= 12"]),
    "no-entrance": (_set("gates.0.kind", "exit"), "gates",
                    ["has no gate of kind entrance or both", "needs a way in"]),
    "no-exit": (_set("gates.1.kind", "entrance"), "gates",
                ["has no gate of kind exit or both", "needs a way out"]),
    "no-gates": (_set("gates", []), "gates",
                 ["is empty", "expected at least one entrance and one exit"]),
    # planogram
    "planogram-missing-fixture": (_del("planogram.gondola-2"), "planogram.gondola-2",
                                  ["is missing", "shelves on -x, +x"]),
    "planogram-unknown-fixture": (_set("planogram.gondola-9", {"-x": [["A001"]]}),
                                  "planogram.gondola-9",
                                  ["names no fixture", "expected the name of a fixture with "
                                   "shelves: gondola-1, gondola-2, back-wall"]),
    "planogram-unknown-face": (_set("planogram.gondola-1.-y", [["A001"] * 4] * 3),
                               "planogram.gondola-1.-y",
                               ["is not a shelf face of 'gondola-1'", "allowed: -x, +x"]),
    "planogram-missing-face": (_del("planogram.back-wall.-y"), "planogram.back-wall.-y",
                               ["is missing", "expected 2 levels x 8 bins"]),
    "planogram-too-few-levels": (_set("planogram.gondola-1.+x", [["A001"] * 4] * 2),
                                 "planogram.gondola-1.+x",
                                 ["has 2 level(s) of 4/4", "expected 3 levels (bottom first) of "
                                  "4 bins each (low y first)"]),
    "planogram-row-too-long": (_set("planogram.back-wall.-y.1", ["A001"] * 9),
                               "planogram.back-wall.-y",
                               ["has 2 level(s) of 8/9", "expected 2 levels (bottom first) of 8 "
                                "bins each (low x first)"]),
    "planogram-not-a-table": (_set("planogram", [1, 2]), "planogram",
                              ["is an array", "expected a table keyed by fixture name"]),
    "unknown-sku": (_set("planogram.back-wall.-y.0.3", "SKU99999"), "planogram.back-wall.-y[0][3]",
                    ["sku 'SKU99999' is not in the catalogue", "expected one of its 5 skus"]),
    # fit: facings and deep given explicitly must fit the bin; loads within the plate
    "facings-too-many": (_set("planogram.gondola-1.-x.1.3", {"sku": "A003", "facings": 5}),
                         "planogram.gondola-1.-x[1][3]",
                         ["facings = 5 of 0.180 m need 0.90 m", "the bin is 0.75 m wide",
                          "expected facings <= 4"]),
    "deep-too-many": (_set("planogram.gondola-1.-x.1.3", {"sku": "A003", "deep": 6}),
                      "planogram.gondola-1.-x[1][3]",
                      ["deep = 6 of 0.080 m need 0.48 m", "the bin is 0.45 m deep",
                       "expected deep <= 5"]),
    "plate-overload": (_set("planogram.back-wall.-y.0.0", {"sku": "A004", "facings": 2,
                                                            "deep": 2}),
                       "planogram.back-wall.-y[0][0]",
                       ["4 units of 9200 g weigh 36.8 kg", "the plate is rated 20 kg "
                        "(shelves.plate_capacity_kg)"]),
    "zero-facings": (_set("planogram.gondola-1.-x.1.3", {"sku": "A003", "facings": 0}),
                     "planogram.gondola-1.-x[1][3].facings", ["expected an integer >= 1"]),
}


@pytest.mark.parametrize("case", sorted(ONE_PROBLEM))
def test_each_check_reports_one_problem_with_its_path_and_what_is_allowed(case) -> None:
    mutate, path, words = ONE_PROBLEM[case]
    doc = shop()
    mutate(doc)
    got_path, msg = only(doc)
    assert got_path == path, msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_duplicate_fixture_name_is_reported_at_the_second_fixture() -> None:
    doc = shop()
    doc["fixtures"][1]["name"] = "gondola-1"
    del doc["planogram"]["gondola-2"]
    assert only(doc) == ("fixtures[1].name", "= 'gondola-1' is used by another fixture; names "
                                             "are unique")


def test_an_item_taller_than_its_bins_is_reported_at_every_bin_it_is_in() -> None:
    doc = shop()
    doc["catalogue"]["items"][4]["height_m"] = 0.65   # A005; bottom gondola bins are 0.57 m
    ps = problems(doc)
    # A005 sits on gondola levels 1 (0.57 m clear) and 2 (0.67 m): too tall only on level 1
    assert sorted(p for p, _ in ps) == sorted(
        [f"planogram.gondola-1.-x[1][{s}]" for s in (0, 1)]
        + [f"planogram.gondola-1.+x[1][{s}]" for s in (0, 3)]
        + [f"planogram.gondola-2.-x[1][{s}]" for s in range(4)])
    for _, msg in ps:
        assert msg == ("sku A005 is 0.65 m tall; the bin has 0.57 m under the shelf above; "
                       "expected items up to 0.57 m")


def test_an_item_heavier_than_a_plate_is_an_overload_even_one_unit_deep() -> None:
    doc = shop()
    doc["shelves"]["plate_capacity_kg"] = 5   # A004, 9.2 kg, cannot stand on it at all
    ps = problems(doc)
    assert len(ps) == 2 + 2 + 4 + 4, ps     # every A004 bin: gondola-1 2+2, gondola-2 4, back 4
    assert all("1 units of 9200 g weigh 9.2 kg; the plate is rated 5 kg" in m for _, m in ps)


# ---------------------------------------------------------------- aisles and fixtures


def post(x: float, y: float = 2.5, dx: float = 0.5, dy: float = 0.58) -> dict:
    """A shelf-less box: it blocks the floor and takes no planogram."""
    return {"name": "post", "kind": "table", "x_m": x, "y_m": y, "dx_m": dx, "dy_m": dy,
            "height_m": 1.0}


def test_a_gap_under_0_6_m_in_front_of_a_shelf_face_is_an_impassable_aisle() -> None:
    # a post 0.2 m in front of gondola-1's -x face, over its first 8 cm (the 0.1 m spare end:
    # no bin's access point is blocked, so the aisle is the only problem)
    doc = shop()
    doc["fixtures"].append(post(3.0 - 0.2 - 0.5))
    assert only(doc) == ("fixtures[3]", "the aisle between 'gondola-1' and 'post' is 0.20 m "
                         f"wide; expected at least {MIN_AISLE_M} m (a person's shoulder "
                         "breadth) or 0 (touching)")


@pytest.mark.parametrize("gap", [0.0, MIN_AISLE_M, 1.0])
def test_touching_or_a_walkable_gap_in_front_of_a_shelf_face_is_fine(gap) -> None:
    doc = shop()
    doc["fixtures"].append(post(3.0 - gap - 0.5))
    build_store(doc)


def test_a_narrow_gap_between_fixture_ends_with_no_shelves_facing_it_is_fine() -> None:
    doc = shop()
    # 0.2 m behind gondola-1's +y end, which carries no shelves; a table has none either
    doc["fixtures"].append(post(3.0, y=3.0 + 3.2 + 0.2, dx=0.9, dy=0.4))
    store = build_store(doc)
    assert len(store.fixtures) == 4


def test_gondolas_0_4_m_apart_are_an_aisle_problem_and_strand_the_bins_facing_it() -> None:
    doc = shop()
    doc["fixtures"][1]["x_m"] = 3.9 + 0.4
    ps = problems(doc)
    assert ps[0] == ("fixtures[1]", "the aisle between 'gondola-1' and 'gondola-2' is 0.40 m "
                                    f"wide; expected at least {MIN_AISLE_M} m (a person's "
                                    "shoulder breadth) or 0 (touching)")
    # the other problems, legitimately: every bin on the two faces into the gap
    rest = ps[1:]
    assert len(rest) == 2 * 3 * 4
    assert {p.split("[")[0] for p, _ in rest} == {"planogram.gondola-1.+x",
                                                  "planogram.gondola-2.-x"}
    assert all(m.startswith("bin is unreachable") for _, m in rest)


def test_a_shelf_facing_its_wall_across_0_3_m_is_an_aisle_problem() -> None:
    doc = shop()
    doc["fixtures"].append({"name": "side", "kind": "wall_shelf", "x_m": 0.3, "y_m": 3.0,
                            "dx_m": 0.5, "dy_m": 2.0, "height_m": 2.0, "faces": ["-x"],
                            "levels_m": [0.1], "bin_width_m": 1.0})
    doc["planogram"]["side"] = {"-x": [["A001", "A001"]]}
    ps = problems(doc)
    assert ps[0] == ("fixtures[3]", "the aisle between 'side''s shelves and wall 'left' is "
                                    f"0.30 m wide; expected at least {MIN_AISLE_M} m (a "
                                    "person's shoulder breadth)")
    # and its two bins' access points lie outside the floor
    assert [p for p, _ in ps[1:]] == ["planogram.side.-x[0][0]", "planogram.side.-x[0][1]"]
    # turned to face the room, the same shelf is fine
    doc["fixtures"][3]["faces"] = ["+x"]
    doc["planogram"]["side"] = {"+x": [["A001", "A001"]]}
    build_store(doc)


def test_fixtures_that_only_touch_do_not_overlap() -> None:
    doc = shop()
    doc["fixtures"] += [post(9.0, 3.0, 1.0, 1.0) | {"name": "t1"},
                        post(10.0, 3.0, 1.0, 1.0) | {"name": "t2"},
                        post(9.0, 4.0, 1.0, 1.0) | {"name": "t3"}]
    assert len(build_store(doc).fixtures) == 6


def test_a_planogram_for_a_fixture_without_shelves() -> None:
    doc = shop()
    doc["fixtures"].append(post(9.0, 3.0, 1.0, 1.0))
    doc["planogram"]["post"] = {"-x": [["A001"]]}
    assert only(doc) == ("planogram.post", "is a fixture without shelves (no faces); expected "
                                           "rows only for fixtures with faces")


# ------------------------------------------------------------------------ partitions


def test_a_fixture_crossed_by_a_partition() -> None:
    doc = shop()
    doc["walls"] = [{"name": "divider", "from_m": [2.9, 4.6], "to_m": [4.0, 4.6]}]
    assert only(doc) == ("fixtures[0]", "'gondola-1' is crossed by interior wall 'divider'")


def test_a_gate_in_a_partition_is_refused_naming_the_outline_walls() -> None:
    doc = shop()
    doc["walls"] = [{"name": "office", "from_m": [10.0, 6.0], "to_m": [12.0, 6.0]}]
    doc["gates"][1]["wall"] = "office"
    assert only(doc) == ("gates[1].wall", "= 'office' is an interior wall; gates go in the "
                                          f"floor's walls: {RECT_WALLS}")


def test_a_partition_leaving_the_floor() -> None:
    doc = shop()
    doc["walls"] = [{"name": "long", "from_m": [5.0, 8.0], "to_m": [15.0, 8.0]}]
    path, msg = only(doc)
    assert path == "walls[0]"
    assert "outside the floor outline; expected an interior wall inside the floor" in msg


def test_partition_names_are_unique_across_outline_walls() -> None:
    doc = shop()
    doc["walls"] = [{"name": "back", "from_m": [10.0, 6.0], "to_m": [12.0, 6.0]}]
    path, msg = only(doc)
    assert (path, msg) == ("walls", "wall name 'back' is used twice; wall names are unique")


def test_an_exit_walled_off_from_the_entrance() -> None:
    doc = shop()
    doc["walls"] = [{"name": "p1", "from_m": [10.0, 0.0], "to_m": [10.0, 3.0]},
                    {"name": "p2", "from_m": [10.0, 3.0], "to_m": [12.0, 3.0]}]
    assert only(doc) == ("gates[1]", "exit 'way-out' cannot be reached from any entrance; "
                                     "expected a walkable path through the store")


def test_a_door_opening_onto_a_fixture() -> None:
    doc = shop()
    doc["fixtures"].append(post(1.0, 0.0, 1.6, 2.0))
    assert only(doc) == ("gates[0]", "gate 'door' opens onto no walkable floor; expected free "
                                     "floor inside the door")


# ----------------------------------------------------------------------------- gates


def test_overlapping_gates_on_one_wall_are_refused_touching_ones_are_fine() -> None:
    doc = shop()
    doc["gates"].append({"name": "side-door", "kind": "both", "wall": "front", "offset_m": 2.0,
                         "width_m": 1.0})
    assert only(doc) == ("gates[2]", "overlaps gate 'door' on wall 'front'; expected separate "
                                     "openings")
    doc["gates"][2]["offset_m"] = 2.6   # the door ends at 2.6 m
    assert len(build_store(doc).gates) == 3


def test_gate_names_are_unique() -> None:
    doc = shop()
    doc["gates"][1]["name"] = "door"
    path, msg = only(doc)
    assert path == "gates[1].name" and "gate names are unique" in msg


# ------------------------------------------------------------- files, bytes and text


def test_invalid_toml_names_the_line() -> None:
    with pytest.raises(SpecError) as e:
        parse_spec('name = "x"\n\n[floor\nwidth_m = 3\n', "bad.toml")
    (path, msg), = e.value.problems
    assert path == "" and msg.startswith("is not valid TOML") and "line 3" in msg
    assert e.value.lines() == [f"bad.toml: {msg}"]


def test_a_file_that_is_not_utf8(tmp_path) -> None:
    p = tmp_path / "latin1.toml"
    p.write_bytes(SHOP.read_text().replace("Cola", "Caf\u00e9").encode("latin-1"))
    with pytest.raises(SpecError) as e:
        load_spec(p)
    assert e.value.problems == [("", "is not UTF-8 text; expected a TOML file")]
    assert str(e.value).startswith(str(p))


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_an_unreadable_path(tmp_path, kind) -> None:
    p = tmp_path / "nowhere.toml"
    if kind == "directory":
        p.mkdir()
    with pytest.raises(SpecError) as e:
        load_spec(p)
    (path, msg), = e.value.problems
    assert path == "" and msg.startswith("cannot be read (")
    assert str(e.value).startswith(f"{p}: cannot be read")


def test_a_missing_catalogue_file_is_named(tmp_path) -> None:
    doc = shop()
    doc["catalogue"] = {"file": "products.csv"}
    path, msg = only(doc, tmp_path)
    assert path == "catalogue.file"
    assert str(tmp_path / "products.csv") in msg and "cannot read" in msg


def test_a_catalogue_csv_with_a_bad_row_names_the_line_and_field(tmp_path) -> None:
    lines = shop_csv().splitlines()
    lines[3] = lines[3].replace(",60,", ",-60,")   # A003, line 4 of the file
    (tmp_path / "products.csv").write_text("\n".join(lines) + "\n")
    doc = shop()
    doc["catalogue"] = {"file": "products.csv"}
    path, msg = only(doc, tmp_path)
    assert path == "catalogue.file"
    assert msg == (f"{tmp_path / 'products.csv'}: line 4: field mass_g='-60' is not allowed; "
                   "expected a number > 0")


@pytest.mark.parametrize("content, words", [
    (CSV_HEADER + "\nA001,Cola,beverages,-,370\n",
     ": line 2: has fewer fields than the header; field(s) price_cents, width_m, depth_m, "
     "height_m, gluten_free, organic, vegan missing"),
    (CSV_HEADER + "\nA001,Cola,beverages,-,370,149,0.1,0.1,0.1,0,0,0,extra\n",
     ": line 2: has more fields than the header (12 columns: sku, name, category,"),
    ((CSV_HEADER + "\nA001,Caf\u00e9,x,-,370,149,0.1,0.1,0.1,0,0,0\n").encode("latin-1"),
     ": is not UTF-8 text (byte "),
    (CSV_HEADER + "\nA001," + "x" * 200_000 + ",x,-,370,149,0.1,0.1,0.1,0,0,0\n",
     ": is not a readable CSV (field larger than field limit"),
    (CSV_HEADER + "\nA001,Cola,x,-,370," + "9" * 30 + ",0.1,0.1,0.1,0,0,0\n",
     ": line 2: field price_cents='999999999999999999999999999999' is not allowed; expected "
     "an integer from 0 to 1000000000000"),
])
def test_a_catalogue_csv_the_csv_reader_chokes_on_is_a_problem_not_a_crash(
        tmp_path, content, words) -> None:
    f = tmp_path / "products.csv"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    doc = shop()
    doc["catalogue"] = {"file": "products.csv"}
    path, msg = only(doc, tmp_path)
    assert path == "catalogue.file"
    assert msg.startswith(f"{f}{words}"), msg


@pytest.mark.parametrize("text", [
    "name = " + "9" * 5000,                        # past Python's int-to-str digit limit
    "a = " + "[" * 5000 + "]" * 5000,              # deeper than the parser's recursion
    'name = "x"\nformat = ' + "1" * 4400,
])
def test_toml_the_parser_itself_cannot_take_is_a_spec_error(text) -> None:
    with pytest.raises(SpecError) as e:
        parse_spec(text, "odd.toml")
    assert str(e.value).startswith("odd.toml: ")


@pytest.mark.parametrize("key, digits", [
    ("ceiling_height_m", 400),                     # an int no float can hold
    ("format", 5000),                              # too long for repr()
    ("name", 5000),
])
def test_huge_integers_are_problems_not_crashes(key, digits) -> None:
    doc = shop()
    doc[key] = 10 ** digits
    path, msg = only(doc)
    assert path == key and "is not allowed" in msg


def test_a_huge_floor_is_refused_before_its_walkable_grid_is_built() -> None:
    doc = shop()
    doc["floor"] = {"width_m": 1500.0, "depth_m": 1120.0}   # a kiosk typed in cm / 10
    path, msg = only(doc)
    assert path == "floor"
    assert msg == ("spans 1500 x 1120 m; expected a floor whose bounding box is at most "
                   "250,000 m2")


# --------------------------------------------------------------------- floor outlines

L_OUTLINE = [[0, 0], [12, 0], [12, 6], [8, 6], [6, 10], [0, 10]]
L_NAMES = ["front", "right", "notch", "slant", "back", "left"]


def l_shop(outline=None, names=None) -> dict:
    """The shop on an L-shaped floor whose inner corner is cut by a slanted wall; the door is
    in the right wall and the exit in the slanted one."""
    doc = shop()
    doc["floor"] = {"outline_m": outline or L_OUTLINE, "wall_names": names or L_NAMES}
    back = doc["fixtures"][2]
    back["x_m"], back["dx_m"] = 1.0, 4.0
    doc["planogram"]["back-wall"]["-y"] = [row[:4] for row in doc["planogram"]["back-wall"]["-y"]]
    doc["gates"] = [
        {"name": "door", "kind": "entrance", "wall": "right", "offset_m": 1.0, "width_m": 1.2},
        {"name": "way-out", "kind": "exit", "wall": "slant", "offset_m": 1.0, "width_m": 1.0},
    ]
    return doc


def test_an_l_shaped_floor_with_gates_in_a_side_and_a_slanted_wall_loads() -> None:
    store = build_store(l_shop())
    # 12 x 6 below the notch, and a trapezoid 8 m wide at y = 6, 6 m at y = 10, above it
    assert store.area_m2 == pytest.approx(12 * 6 + (8 + 6) / 2 * 4)
    assert store.area_m2 == pytest.approx(abs(polygon_area(np.array(L_OUTLINE, float))))
    assert [w.name for w in store.walls] == L_NAMES
    door, out = store.gates
    assert (door.a, door.b, door.inward) == ((12.0, 1.0), (12.0, 2.2), (-1.0, 0.0))
    # the slanted wall runs from (8, 6) to (6, 10): along (-1, 2) / sqrt(5)
    u = np.array([-1.0, 2.0]) / np.sqrt(5.0)
    np.testing.assert_allclose(out.a, np.array([8.0, 6.0]) + 1.0 * u)
    np.testing.assert_allclose(out.b, np.array([8.0, 6.0]) + 2.0 * u)
    np.testing.assert_allclose(out.inward, [-u[1], u[0]])   # left of the wall: into the floor
    for g in store.gates:
        assert np.hypot(*g.inward) == pytest.approx(1.0)
        inside = store.contains(np.stack([g.inside(d) for d in (0.1, 0.5, 1.0)]))
        assert inside.all(), g
        assert not store.contains(g.inside(-0.1)[None])[0], g
    assert list(store.contains(np.array([[2.0, 8.0], [10.0, 8.0], [7.0, 7.0], [7.9, 7.0],
                                         [11.0, 5.0], [-0.5, 5.0], [5.0, 10.5]]))) == [
        True, False, True, False, True, False, False]


@pytest.mark.parametrize("box", [
    (9.0, 7.0, 1.0, 1.0),       # in the notch
    (7.8, 5.6, 1.0, 1.0),       # over the notch's corner
    (6.0, 8.5, 1.0, 0.5),       # across the slanted wall
    (-0.5, 4.0, 1.0, 1.0),      # through the left wall
])
def test_a_fixture_outside_an_l_shaped_floor(box) -> None:
    doc = l_shop()
    doc["fixtures"].append(post(*box) | {"name": "crate"})
    path, msg = only(doc)
    x, y, dx, dy = box
    assert path == "fixtures[3]"
    assert msg == (f"'crate' spans x {x:g}..{x + dx:g}, y {y:g}..{y + dy:g}, outside the floor "
                   "outline; expected a fixture on the floor")


def test_a_fixture_over_a_u_shaped_floors_gap_has_its_corners_inside_yet_is_outside() -> None:
    doc = shop()
    # a U: the floor is open from the top between x = 4.5 and 5.5 down to y = 8
    doc["floor"] = {"outline_m": [[0, 0], [12, 0], [12, 10], [5.5, 10], [5.5, 8], [4.5, 8],
                                  [4.5, 10], [0, 10]]}
    doc["fixtures"][2]["x_m"], doc["fixtures"][2]["dx_m"] = 6.0, 4.0
    doc["planogram"]["back-wall"]["-y"] = [row[:4] for row in doc["planogram"]["back-wall"]["-y"]]
    doc["gates"][1]["wall"] = "wall-2"
    doc["gates"][0]["wall"] = "wall-1"
    build_store(doc)
    doc["fixtures"].append(post(4.0, 7.5, 2.0, 2.0) | {"name": "bridge"})   # corners in both arms
    path, msg = only(doc)
    assert path == "fixtures[3]" and "outside the floor outline" in msg


@pytest.mark.parametrize("outline, words", [
    ([[0, 0], [10, 0], [10, 10], [5, -2], [0, 10]], "edges 1 and 3 cross; expected a simple "
                                                   "polygon (no self-intersections)"),
    ([[0, 0], [10, 0], [0, 10], [10, 10]], "encloses less than 1 m2"),   # a bow tie: area 0
    ([[0, 0], [10, 0]], "has 2 point(s); expected at least 3 [x, y]"),
    ([[0, 0], [10, 0], [10, 0], [0, 10]], "points 1 and 2 coincide"),
    ([[0, 0], [0.5, 0], [0.5, 0.5]], "encloses less than 1 m2"),
    ([[0, 0], [3000, 0], [0, 10]], "reaches beyond 2 km from the origin"),
    ([[0, 0], [10, 0], "ten"], None),
])
def test_a_bad_outline(outline, words) -> None:
    doc = shop()
    doc["floor"] = {"outline_m": outline}
    path, msg = only(doc)
    if words is None:
        assert path == "floor.outline_m[2]" and "expected a point [x, y] in metres" in msg
    else:
        assert path == "floor.outline_m" and words in msg


def test_wall_names_must_match_the_outline() -> None:
    doc = l_shop(names=L_NAMES[:5])
    (path, msg), *rest = problems(doc)
    assert path == "floor.wall_names" and "expected 6 unique non-empty names" in msg
    # the walls keep their default names, so the gates name walls that are not there
    assert rest == [
        ("gates[0].wall", "= 'right' names no wall; gates go in the floor's walls: wall-1, "
                          "wall-2, wall-3, wall-4, wall-5, wall-6"),
        ("gates[1].wall", "= 'slant' names no wall; gates go in the floor's walls: wall-1, "
                          "wall-2, wall-3, wall-4, wall-5, wall-6")]


def test_a_clockwise_outline_loads_the_same_store_with_the_same_named_walls() -> None:
    ccw = build_store(l_shop())
    # the same floor clockwise: wall i of the reversed list is the old wall k - 2 - i, run
    # backwards, so gate offsets are measured from its other end
    cw_outline = L_OUTLINE[::-1]
    cw_names = [L_NAMES[(len(L_NAMES) - 2 - i) % len(L_NAMES)] for i in range(len(L_NAMES))]
    doc = l_shop(cw_outline, cw_names)
    for g in doc["gates"]:
        wall = next(w for w in ccw.walls if w.name == g["wall"])
        g["offset_m"] = wall.length - g["offset_m"] - g["width_m"]
    cw = build_store(doc)
    assert cw.area_m2 == pytest.approx(ccw.area_m2)
    assert polygon_area(cw.outline) > 0   # stored counter-clockwise
    a = {w.name: {w.a, w.b} for w in ccw.walls}
    b = {w.name: {w.a, w.b} for w in cw.walls}
    assert a == b
    for g0, g1 in zip(ccw.gates, cw.gates, strict=True):
        np.testing.assert_allclose(sorted([g0.a, g0.b]), sorted([g1.a, g1.b]), atol=1e-12)
        np.testing.assert_allclose(g0.inward, g1.inward, atol=1e-12)
        assert g0.region() == pytest.approx(g1.region())
    for k in ("lo", "hi", "access_xy", "sku_index", "count"):
        np.testing.assert_array_equal(getattr(ccw.bins, k), getattr(cw.bins, k))


# --------------------------------------------------------------- many problems at once


def test_a_hundred_bad_cells_are_all_kept_and_lines_show_25_then_a_count() -> None:
    from scenes.presets import preset_text

    doc = tomllib.loads(preset_text("kiosk"))
    bad = []
    for fname, faces in doc["planogram"].items():
        for face, rows in faces.items():
            for lvl, row in enumerate(rows):
                for s in range(len(row)):
                    if len(bad) < 100:
                        row[s] = f"NOPE{len(bad):03d}"
                        bad.append(f"planogram.{fname}.{face}[{lvl}][{s}]")
    with pytest.raises(SpecError) as e:
        build_store(doc, "kiosk.toml")
    err = e.value
    assert sorted(p for p, _ in err.problems) == sorted(bad)
    lines = err.lines()
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1 == 26
    assert all(ln.startswith("kiosk.toml: planogram.") for ln in lines[:-1])
    assert lines[-1] == "kiosk.toml: ... and 75 more problem(s) like these"
    assert str(err) == "\n".join(lines)


def test_every_too_tall_bin_is_a_problem_not_only_the_first_25() -> None:
    doc = shop()
    for it in doc["catalogue"]["items"]:
        it["height_m"] = 1.5                 # taller than every bin (the most is 1.07 m)
    ps = problems(doc)
    assert len(ps) == 64 and len({p for p, _ in ps}) == 64
    assert all(" m tall; the bin has " in m for _, m in ps)


def test_every_unreachable_bin_is_a_problem_not_only_the_first_25() -> None:
    doc = shop()
    doc["walls"] = [{"name": "rope", "from_m": [0.0, 2.5], "to_m": [12.0, 2.5]}]
    ps = problems(doc)
    assert len(ps) == 64 and len({p for p, _ in ps}) == 64
    assert all(m.startswith("bin is unreachable") for _, m in ps)
    with pytest.raises(SpecError) as e:
        build_store(doc, "shop.toml")
    assert e.value.lines()[-1] == "shop.toml: ... and 39 more problem(s) like these"


# ------------------------------------------------------------------- the TOML writer


def test_the_writer_round_trips_a_generated_spec() -> None:
    doc = generate_spec(PRESET_PARAMS["kiosk"])
    assert tomllib.loads(dumps(doc)) == doc
    assert tomllib.loads(dumps(shop())) == shop()


def test_the_writer_round_trips_tricky_strings_and_keys() -> None:
    doc = {
        "quote": 'say "hi"', "single": "it's", "backslash": "C:\\path\\n",
        "newline": "a\nb\r\n", "tab": "a\tb", "control": "\x00\x01\x1f\x80\x9f",
        "unicode": "caf\u00e9 \u65e5\u672c \U0001F600", "empty": "",
        "-x": ["-x", "+x"], "+y": 1, "a.b": {"c.d": 1.5, "e f": [1, 2]},
        "": "empty key", "\u00e9": True, "1": -0.0,
        "floats": [1e-300, 1e300, 0.1, -2.5, 3.0], "ints": [0, -1, 2 ** 63 - 1],
        "nested": [[1, 2], [3]], "cells": [["A", {"sku": "B", "facings": 2}]],
        "tables": [{"name": "t1", "sub": {"x": 1}}, {"name": "t2"}],
        "deep": {"er": {"est": {"v": "w"}}},
    }
    assert tomllib.loads(dumps(doc)) == doc


def test_the_writer_escapes_delete_in_strings() -> None:
    doc = {"name": "rub\x7fout", "a\x7fb": {"k": "\x7f"}}
    assert tomllib.loads(dumps(doc)) == doc
