"""The kiosk preset: size, planogram, geometry of fixtures, bins and access points."""

from __future__ import annotations

import numpy as np
import pytest

from agents.navigation import NavGrid
from scenes import PRESETS, UnknownPresetError, load_preset
from scenes.generate import PRESET_PARAMS, GenerationError, GenParams, generate_spec


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


def test_kiosk_is_about_1800_sqft(kiosk) -> None:
    assert kiosk.area_sqft == pytest.approx(1800.0, rel=0.02)
    x0, y0, x1, y1 = kiosk.bounds
    assert kiosk.area_m2 == pytest.approx((x1 - x0) * (y1 - y0))
    assert kiosk.area_m2 * 10.763910416709722 == pytest.approx(kiosk.area_sqft, rel=1e-9)


def test_kiosk_places_at_least_100_skus_every_one_from_the_catalogue(kiosk) -> None:
    b = kiosk.bins
    cat = kiosk.catalogue
    assert np.all((b.sku_index >= 0) & (b.sku_index < len(cat)))
    placed = np.unique(b.sku_index)
    assert placed.size >= 100
    # every catalogue SKU has at least one bin, and every bin holds at least one unit
    assert placed.size == len(cat)
    assert np.all(b.count >= 1)
    assert np.array_equal(b.count, b.facings * b.rows)


def test_bins_lie_inside_their_fixture_footprint_and_above_the_floor(kiosk) -> None:
    b = kiosk.bins
    lo, hi = kiosk.fixture_boxes()
    flo, fhi = lo[b.fixture], hi[b.fixture]
    eps = 1e-9
    assert np.all(b.lo[:, :2] >= flo[:, :2] - eps)
    assert np.all(b.hi[:, :2] <= fhi[:, :2] + eps)
    assert np.all(b.lo[:, 2] > 0.0)
    assert np.all(b.hi > b.lo)
    # a bin's plate top is within its fixture's height
    assert np.all(b.lo[:, 2] < fhi[:, 2])


def test_bins_of_one_fixture_do_not_overlap(kiosk) -> None:
    b = kiosk.bins
    eps = 1e-9
    for f in np.unique(b.fixture):
        idx = np.flatnonzero(b.fixture == f)
        lo, hi = b.lo[idx], b.hi[idx]
        inter = np.minimum(hi[:, None], hi[None]) - np.maximum(lo[:, None], lo[None])
        overlap = np.all(inter > eps, axis=2)
        np.fill_diagonal(overlap, False)
        assert not overlap.any(), f"fixture {f}: overlapping bins"


def test_access_points_are_on_walkable_floor_in_front_of_their_bin(kiosk) -> None:
    b = kiosk.bins
    nav = NavGrid(kiosk, clearance=0.3)
    assert nav.is_free(b.access_xy).all()
    d = b.access_xy - b.center[:, :2]
    assert np.all(np.linalg.norm(d, axis=1) <= 1.5)
    # the access point lies on the aisle side the bin faces
    assert np.all(np.einsum("ij,ij->i", d, b.normal) > 0.3)
    assert np.allclose(np.linalg.norm(b.normal, axis=1), 1.0)


def test_no_two_fixtures_overlap_and_all_stand_inside_the_store(kiosk) -> None:
    lo, hi = kiosk.fixture_boxes()
    inter = np.minimum(hi[:, None], hi[None]) - np.maximum(lo[:, None], lo[None])
    overlap = np.all(inter > 0, axis=2)
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    x0, y0, x1, y1 = kiosk.bounds
    assert np.all(lo[:, :2] >= [x0, y0]) and np.all(hi[:, :2] <= [x1, y1])
    assert np.all(hi[:, 2] < kiosk.ceiling_height)
    # aisles between gondolas are wide enough to walk (ADA: 0.91 m clear)
    assert kiosk.aisle_width >= 0.91


def test_plate_loads_stay_within_the_20_kg_rating(kiosk) -> None:
    b = kiosk.bins
    load = b.count * kiosk.catalogue.mass_g[b.sku_index]
    assert load.max() <= 20000.0
    assert load.min() > 0.0


def test_units_fit_the_bin_face_and_depth(kiosk) -> None:
    b = kiosk.bins
    size = kiosk.catalogue.size_m[b.sku_index]
    along_y = np.abs(b.normal[:, 0]) > 0.5
    ext = b.hi - b.lo
    face = np.where(along_y, ext[:, 1], ext[:, 0])
    depth = np.where(along_y, ext[:, 0], ext[:, 1])
    # single oversize units get one facing; several side by side must fit
    multi = b.facings > 1
    assert np.all(b.facings[multi] * size[multi, 0] <= face[multi] + 1e-9)
    multi = b.rows > 1
    assert np.all(b.rows[multi] * (size[multi, 1] + 0.01) <= depth[multi] + 1e-9)


def test_units_fit_under_the_plate_above(kiosk) -> None:
    b = kiosk.bins
    height = kiosk.catalogue.size_m[b.sku_index, 2]
    clearance = b.hi[:, 2] - b.lo[:, 2]
    too_tall = np.flatnonzero(height > clearance)
    names = sorted({str(kiosk.catalogue.name[b.sku_index[i]]) for i in too_tall})
    assert too_tall.size == 0, f"{too_tall.size} bins hold units taller than the bin: {names}"


def test_heavier_skus_sit_lower_in_each_column(kiosk) -> None:
    b = kiosk.bins
    mass = kiosk.catalogue.mass_g[b.sku_index]
    along = np.where(np.abs(b.normal[:, 0]) > 0.5, b.lo[:, 1], b.lo[:, 0])
    keys = np.stack([b.fixture, np.sign(b.normal[:, 0] + b.normal[:, 1]),
                     np.round(along, 3)], axis=1)
    cols = 0
    for key in np.unique(keys, axis=0):
        idx = np.flatnonzero(np.all(keys == key, axis=1))
        idx = idx[np.argsort(b.level[idx])]
        assert np.array_equal(b.level[idx], np.arange(idx.size))
        assert np.all(np.diff(mass[idx]) <= 0), f"column {key}: masses {mass[idx]}"
        cols += 1
    assert cols * PRESET_PARAMS["kiosk"].levels == len(b)


def test_preset_is_deterministic(kiosk) -> None:
    again = load_preset("kiosk")
    for name in ("fixture", "level", "lo", "hi", "normal", "access_xy", "sku_index", "count"):
        assert np.array_equal(getattr(kiosk.bins, name), getattr(again.bins, name)), name
    assert again.fixtures == kiosk.fixtures


def test_doors_are_in_the_front_wall_and_inside_the_floor(kiosk) -> None:
    x0, _y0, x1, _y1 = kiosk.bounds
    (e0, e1), (q0, q1) = [(g.a[0], g.b[0]) for g in (kiosk.entrance, kiosk.exit)]
    assert kiosk.entrance.wall == kiosk.exit.wall == "front"
    assert kiosk.entrance.a[1] == kiosk.exit.a[1] == _y0
    assert x0 <= e0 < e1 <= x1 and x0 <= q0 < q1 <= x1
    assert e1 <= q0 or q1 <= e0  # separate openings
    assert e1 - e0 >= 0.91


def test_unknown_preset_lists_allowed_names() -> None:
    with pytest.raises(UnknownPresetError) as err:
        load_preset("hypermarket")
    msg = str(err.value)
    assert "hypermarket" in msg
    for name in PRESETS:
        assert name in msg
    assert isinstance(err.value, ValueError)


def test_a_floor_too_small_for_the_catalogue_is_refused_with_the_numbers() -> None:
    with pytest.raises(GenerationError, match=r"catalogue of 127 skus needs at least 127 bins; "
                       r"this layout has \d+"):
        generate_spec(GenParams(name="tiny", area_m2=42.0, aspect=6.0 / 7.0, front_zone_m=2.0,
                                back_aisle_m=1.5))


# --------------------------------------------------------------------------- all four presets

TARGET_SQFT = {"kiosk": 1_800, "grocery": 10_400, "large": 40_000, "supercenter": 180_000}
# DESIGN.md's scale table: plates per preset (~500, ~3,000, ~12,000, ~50,000)
PLATES = {"kiosk": (400, 650), "grocery": (2_500, 4_000), "large": (9_000, 15_000),
          "supercenter": (40_000, 60_000)}


@pytest.fixture(scope="module")
def stores():
    return {name: load_preset(name) for name in PRESETS}


@pytest.fixture(scope="module")
def infos(stores):
    from scenes.info import store_info
    return {name: store_info(s) for name, s in stores.items()}


def test_the_four_presets_are_shipped() -> None:
    assert PRESETS == ("kiosk", "grocery", "large", "supercenter")


@pytest.mark.parametrize("name", list(TARGET_SQFT))
def test_preset_floor_area_within_5_percent_of_its_store(name, infos) -> None:
    assert infos[name]["area_sqft"] == pytest.approx(TARGET_SQFT[name], rel=0.05)


@pytest.mark.parametrize("name", list(TARGET_SQFT))
def test_preset_sizes_are_realistic(name, stores, infos) -> None:
    s, i = stores[name], infos[name]
    lo_b, hi_b = PLATES[name]
    assert lo_b <= i["bins"] <= hi_b
    # every SKU has a bin, every bin a SKU from the catalogue
    assert i["skus_placed"] == i["skus"] == len(s.catalogue)
    assert np.all((s.bins.sku_index >= 0) & (s.bins.sku_index < len(s.catalogue)))
    # aisles at least ADA's 0.915 m; shelves 1.8-2.2 m tall, under the ceiling
    assert s.aisle_width >= 0.915
    lo, hi = s.fixture_boxes()
    table = np.array([f.kind == "table" for f in s.fixtures])
    assert np.all((hi[~table, 2] >= 1.8) & (hi[~table, 2] <= 2.2))
    assert np.all((hi[table, 2] >= 0.7) & (hi[table, 2] <= 1.5))
    assert np.all(hi[:, 2] < s.ceiling_height)
    # walkable floor is a real share of the floor, and aisles add up
    assert 0.4 * i["area_m2"] < i["walkable_m2"] < 0.9 * i["area_m2"]
    assert 0 < i["aisle_length_m"] < i["shelf_frontage_m"]


def test_bigger_stores_carry_more(infos) -> None:
    names = list(TARGET_SQFT)
    for key in ("bins", "skus", "fixtures", "aisle_length_m", "shelf_face_area_m2"):
        vals = [infos[n][key] for n in names]
        assert vals == sorted(vals) and len(set(vals)) == 4, key
    # a supercenter carries tens of thousands of SKUs
    assert infos["supercenter"]["skus"] >= 20_000


def test_grocery_and_up_have_fridges_with_chilled_goods_and_produce_tables(stores) -> None:
    for name in ("grocery", "large", "supercenter"):
        s = stores[name]
        tables = [i for i, f in enumerate(s.fixtures) if f.kind == "table"]
        assert tables, name
        on = np.isin(s.bins.fixture, tables)
        assert np.all(s.catalogue.category[s.bins.sku_index[on]] == "produce"), name
        fridge = [i for i, f in enumerate(s.fixtures) if f.kind == "fridge"]
        assert fridge, name
        on = np.isin(s.bins.fixture, fridge)
        cats = s.catalogue.category[s.bins.sku_index[on]]
        chilled = np.isin(cats, ["dairy", "frozen", "deli", "beverages"])
        assert chilled.mean() > 0.9, (name, chilled.mean())


@pytest.mark.parametrize("name", list(TARGET_SQFT))
def test_shipped_spec_is_what_the_generator_makes(name) -> None:
    """A change to the generator or to a preset file must be deliberate: regenerate with
    ``python -c "import scenes.presets as p; p.main()"``."""
    from scenes.presets import preset_text, render_preset
    assert preset_text(name) == render_preset(name)


def test_generation_is_deterministic_for_a_seed() -> None:
    from dataclasses import replace

    from scenes.generate import params_for_area
    from scenes.tomlw import dumps
    p = params_for_area(700.0)
    assert p.skus > 0
    a, b = dumps(generate_spec(p)), dumps(generate_spec(p))
    assert a == b
    c = dumps(generate_spec(replace(p, seed=1)))
    assert c != a


def test_area_strings_and_nearest_preset_defaults() -> None:
    from scenes.generate import params_for_area, parse_area
    assert parse_area("10400sqft") == pytest.approx(966.19, abs=0.01)
    assert parse_area("10,400 sq ft") == parse_area("10400sqft")
    assert parse_area("966m2") == 966.0
    for bad in ("10400", "ten sqft", "-5m2", "5m2", "1e9sqft", ""):
        with pytest.raises(GenerationError):
            parse_area(bad)
    assert params_for_area(900.0).gondola_depth_m == PRESET_PARAMS["grocery"].gondola_depth_m
    assert params_for_area(150.0).aisle_width_m == PRESET_PARAMS["kiosk"].aisle_width_m
    assert params_for_area(150.0, levels=4).levels == 4


def test_store_loads_by_name_or_path(tmp_path) -> None:
    from scenes import load_store
    from scenes.presets import preset_text
    f = tmp_path / "mine.toml"
    f.write_text(preset_text("kiosk").replace('name = "kiosk"', 'name = "mine"'))
    s = load_store(str(f))
    assert s.name == "mine" and len(s.bins) == len(load_store("kiosk").bins)
    with pytest.raises(UnknownPresetError, match="kiosk, grocery, large, supercenter"):
        load_store("walmart")


def test_grocery_bins_are_reachable_on_the_crowds_grid(stores) -> None:
    s = stores["grocery"]
    nav = NavGrid(s, clearance=0.3)
    assert nav.is_free(s.bins.access_xy).all()
    start = s.entrance.inside(0.35)
    far = s.bins.access_xy[np.argmax(np.linalg.norm(s.bins.access_xy - start, axis=1))]
    path = nav.route(start, far)
    assert np.linalg.norm(path[-1] - far) < 0.3


def test_bins_can_share_a_plate_per_shelf_segment() -> None:
    import tomllib

    from scenes.presets import preset_text
    from scenes.spec import SpecError, build_store
    doc = tomllib.loads(preset_text("kiosk"))
    one = build_store(doc)
    doc["shelves"] = {"bins_per_plate": 2, "plate_capacity_kg": 40.0}
    two = build_store(doc)
    b = two.bins
    assert np.array_equal(one.bins.plate, np.arange(len(one.bins)))
    # pairs of neighbouring bins on one shelf share a plate; a shelf's odd bin has its own
    assert one.bins.n_plates == 495 and 248 <= b.n_plates < 495
    for pl in range(b.n_plates):
        i = np.flatnonzero(b.plate == pl)
        assert 1 <= i.size <= 2
        assert len({(b.fixture[k], b.face[k], b.level[k]) for k in i}) == 1
        assert np.ptp(b.slot[i]) <= 1
    assert np.all(np.diff(b.plate[np.sort(np.unique(b.plate, return_index=True)[1])]) == 1)
    # filled bins take their share of the plate's rating: the same stock as one per bin
    assert np.array_equal(b.count, one.bins.count)
    # the rating is the plate's: explicit counts that overload it are named
    row = doc["planogram"]["gondola-1"]["+x"][0]
    milk = "SKU00013"    # a gallon, 3.9 kg: 6 units are 23.4 kg, fine alone on 40 kg
    row[2] = {"sku": milk, "facings": 3, "deep": 2}
    row[3] = {"sku": milk, "facings": 3, "deep": 2}
    with pytest.raises(SpecError) as err:
        build_store(doc)
    assert err.value.problems == [(
        "planogram.gondola-1.+x[0][2]", "the 2 bins on this plate weigh 46.8 kg; the plate is "
        "rated 40 kg (shelves.plate_capacity_kg); expected fewer units or fewer "
        "bins_per_plate")]
