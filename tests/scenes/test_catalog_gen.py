"""Generated catalogues: base rows kept, ids, determinism, physics, look-alike pairs, CSV."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from scenes.catalog import COLUMNS, Catalogue, load_catalogue
from scenes.catalog_gen import (
    MAX_SKUS,
    catalogue_rows,
    expand_catalogue,
    lookalike_groups,
    write_catalogue_csv,
)

FIELDS = tuple(Catalogue.__dataclass_fields__)
MODIFIERS = {"Organic": "organic", "Gluten-Free": "gluten_free"}
# Shelf limits [m]: the kiosk's 0.34 m clearance, a 0.6 m bin, no side thinner than 3 cm.
MAX_HEIGHT_M, MAX_WIDTH_M, MIN_SIDE_M = 0.32, 0.6, 0.03


@pytest.fixture(scope="module")
def base() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def big(base) -> Catalogue:
    return expand_catalogue(base, 20_000, seed=3)


def same(a: Catalogue, b: Catalogue) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


def twin_rows(cat: Catalogue, start: int) -> list[tuple[int, str]]:
    """(i, modifier) where row i + 1 is row i's Organic / Gluten-Free twin by name."""
    names, brands = cat.name.tolist(), cat.brand.tolist()
    out = []
    for i in range(start, len(cat) - 1):
        b = brands[i]
        if brands[i + 1] != b or not names[i].startswith(b + " "):
            continue
        rest = names[i][len(b) + 1:]
        for word in MODIFIERS:
            if names[i + 1] == f"{b} {word} {rest}":
                out.append((i, word))
    return out


def test_base_rows_come_first_unchanged_and_ids_continue(base, big) -> None:
    k = len(base)
    assert len(big) == 20_000
    assert same(base, Catalogue(**{f: getattr(big, f)[:k] for f in FIELDS}))
    assert big.sku[k] == "SKU00128" and big.sku[-1] == "SKU20000"
    assert len(set(big.sku.tolist())) == len(big)
    assert all(re.fullmatch(r"SKU\d{5}", s) for s in big.sku.tolist())


def test_largest_catalogue_has_unique_ids(base) -> None:
    cat = expand_catalogue(base, MAX_SKUS, seed=1)
    assert len(cat) == MAX_SKUS
    assert len(set(cat.sku.tolist())) == MAX_SKUS
    assert cat.sku[-1] == f"SKU{MAX_SKUS:05d}"


def test_new_ids_wrap_into_free_numbers_below_the_highest(base) -> None:
    few = Catalogue(**{f: getattr(base, f)[:2] for f in FIELDS})
    few = Catalogue(**{**{f: getattr(few, f) for f in FIELDS},
                       "sku": np.array(["SKU00001", "SKU99998"])})
    cat = expand_catalogue(few, 5, seed=0)
    assert cat.sku.tolist() == ["SKU00001", "SKU99998", "SKU99999", "SKU00002", "SKU00003"]


@pytest.mark.parametrize("n", [0, -5, MAX_SKUS + 1, 1_000_000])
def test_n_out_of_range_is_refused(base, n) -> None:
    with pytest.raises(ValueError, match=r"n=-?\d+ is not allowed; expected 1 <= n <= 99999"):
        expand_catalogue(base, n)


def test_same_seed_same_arrays_other_seed_other_items(base) -> None:
    a = expand_catalogue(base, 3_000, seed=7)
    b = expand_catalogue(base, 3_000, seed=7)
    c = expand_catalogue(base, 3_000, seed=8)
    assert same(a, b)
    assert not np.array_equal(a.name, c.name)
    assert not np.array_equal(a.mass_g, c.mass_g)
    assert np.array_equal(a.sku, c.sku)


def test_generated_items_are_physically_plausible(base, big) -> None:
    g = slice(len(base), None)
    size, mass, price = big.size_m[g], big.mass_g[g], big.price_cents[g]
    assert big.size_m.dtype == np.float64 and big.size_m.shape == (len(big), 3)
    assert np.all(size[:, 2] <= MAX_HEIGHT_M) and np.all(size[:, 0] <= MAX_WIDTH_M)
    assert np.all(size >= MIN_SIDE_M)
    assert np.array_equal(np.round(size, 3), size)            # whole millimetres
    assert big.mass_g.dtype == np.float64 and np.all(mass > 0)
    assert np.array_equal(np.round(mass, 1), mass)            # tenths of a gram
    assert 20 <= mass.min() and mass.max() <= 6_000
    assert big.price_cents.dtype == np.int64 and np.all(price >= 1)
    assert 9 <= price.min() and price.max() <= 10_000
    # Bigger packs cost more but less per gram: price ~ mass ** 0.7 within a product.
    slope = np.polyfit(np.log(mass), np.log(price), 1)[0]
    assert 0.2 < slope < 1.0


def test_names_read_like_shelf_labels_and_are_varied(base, big) -> None:
    names = big.name[len(base):].tolist()
    assert all(n.strip() == n and len(n.split()) >= 3 for n in names)
    assert len(set(names)) / len(names) > 0.9
    assert len(set(big.name.tolist())) == len(big)          # unique below the line space
    assert all(n.startswith(b + " ") for n, b in zip(names, big.brand[len(base):].tolist(),
                                                      strict=True))
    assert any(re.search(r"\d+(\.\d+)?(oz|lb|ct|L|ml)\b|-pack\b", n) for n in names)
    assert len(set(big.brand.tolist())) > 100


def test_categories_come_from_the_base(base, big) -> None:
    assert set(big.category.tolist()) == set(base.category.tolist())


def test_attributes_are_plausible_for_the_category(big) -> None:
    names = big.name.tolist()
    plant = ("Oat Milk", "Almond Milk", "Soy Milk", "Plant-Based")
    dairy_vegan = [n for n, c, v in zip(names, big.category, big.vegan, strict=True)
                   if c == "dairy" and v]
    assert dairy_vegan and all(any(p in n for p in plant) for n in dairy_vegan)
    deli = big.category == "deli"
    assert big.vegan[deli].mean() < 0.4
    for cat in ("household", "personal"):
        assert not big.organic[big.category == cat].any()
    for word, attr in MODIFIERS.items():
        named = np.array([f" {word} " in n for n in names])
        assert named.any() and getattr(big, attr)[named].all()


def test_lookalike_pairs_differ_in_one_attribute_and_barely_in_mass(base, big) -> None:
    pairs = twin_rows(big, len(base))
    generated = len(big) - len(base)
    assert 0.10 <= 2 * len(pairs) / generated <= 0.15
    assert {w for _, w in pairs} == set(MODIFIERS)
    for i, word in pairs:
        j = i + 1
        assert big.category[i] == big.category[j] and big.brand[i] == big.brand[j]
        assert np.array_equal(big.size_m[i], big.size_m[j])
        diff = [a for a in ("gluten_free", "organic", "vegan")
                if getattr(big, a)[i] != getattr(big, a)[j]]
        assert diff == [MODIFIERS[word]]
        assert getattr(big, MODIFIERS[word])[j]
        rel = abs(big.mass_g[j] - big.mass_g[i]) / big.mass_g[i]
        assert 0.01 <= rel <= 0.05, (big.name[i], big.mass_g[i], big.mass_g[j])
        assert big.price_cents[j] > big.price_cents[i]


def test_lookalike_groups_of_the_shipped_items(base) -> None:
    g = lookalike_groups(base)
    row = {str(n): i for i, n in enumerate(base.name.tolist())}
    assert g.dtype == np.int64 and np.all(np.diff(g) >= 0)
    for a, b in [("Baguette", "Gluten-Free Baguette"), ("Whole Milk 1 gal", "Skim Milk 1 gal"),
                 ("Cola 20oz", "Diet Cola 20oz"), ("Bananas 1lb bunch",
                                                  "Organic Bananas 1lb bunch")]:
        assert g[row[a]] == g[row[b]], (a, b)
    for a, b in [("Cheddar Block 8oz", "Mozzarella Shredded 8oz"),
                 ("Diet Cola 20oz", "Lemon-Lime Soda 20oz"),
                 ("Skim Milk 1 gal", "Whole Milk 1/2 gal")]:
        assert g[row[a]] != g[row[b]], (a, b)


def split_groups(full: Catalogue, sub: Catalogue) -> int:
    g = lookalike_groups(full)
    kept = np.isin(full.sku, sub.sku)
    return sum(0 < kept[g == k].sum() < (g == k).sum() for k in np.unique(g))


@pytest.mark.parametrize("n", [1, 2, 40, 100, 126])
def test_small_n_is_a_subset_in_base_order_with_pairs_together(base, n) -> None:
    sub = expand_catalogue(base, n, seed=5)
    assert len(sub) == n
    rows = np.array([base.index()[s] for s in sub.sku.tolist()])
    assert np.all(np.diff(rows) > 0)
    assert same(sub, Catalogue(**{f: getattr(base, f)[rows] for f in FIELDS}))
    assert split_groups(base, sub) <= 1
    assert same(sub, expand_catalogue(base, n, seed=5))


def test_small_n_subsets_depend_on_the_seed(base) -> None:
    assert same(expand_catalogue(base, len(base), seed=9), base)
    subsets = {tuple(expand_catalogue(base, 50, seed=s).sku.tolist()) for s in range(5)}
    assert len(subsets) == 5


def test_subset_of_a_generated_catalogue_keeps_twins_together(base) -> None:
    full = expand_catalogue(base, 4_000, seed=2)
    sub = expand_catalogue(full, 1_500, seed=4)
    kept = set(sub.sku.tolist())
    pairs = twin_rows(full, len(base))
    assert pairs
    split = sum((full.sku[i] in kept) != (full.sku[i + 1] in kept) for i, _ in pairs)
    assert split <= 1


def test_unknown_categories_grow_from_their_own_rows(base) -> None:
    toys = Catalogue(
        sku=np.array(["T1", "T2"]), name=np.array(["Puzzle 500pc", "Kite"]),
        category=np.array(["toys", "toys"]), brand=np.array(["Playco", "Skyline"]),
        mass_g=np.array([450.0, 300.0]), price_cents=np.array([1299, 1999], dtype=np.int64),
        size_m=np.array([[0.3, 0.05, 0.2], [0.6, 0.02, 0.3]]),
        gluten_free=np.array([True, True]), organic=np.array([False, False]),
        vegan=np.array([True, True]),
    )
    cat = expand_catalogue(toys, 12, seed=0)
    assert cat.sku.tolist()[:3] == ["T1", "T2", "SKU00001"]
    assert set(cat.category.tolist()) == {"toys"}
    assert {n.split(" ", 1)[0] for n in cat.name[2:].tolist()} <= {"Playco", "Skyline", "Corner"}
    assert all(re.search(r"(Mini|Large|Family Size)$", n) for n in cat.name[2:].tolist())
    assert np.all(cat.size_m[2:, 1] >= MIN_SIDE_M) and np.all(cat.size_m[2:, 2] <= MAX_HEIGHT_M)
    # Past its 18 lines (2 items x 3 sizes x 3 brands) names repeat but ids stay unique.
    many = expand_catalogue(toys, 100, seed=0)
    assert len(set(many.sku.tolist())) == 100 and len(set(many.name[2:].tolist())) == 18


def test_catalogue_rows_have_the_csv_columns_as_native_types(big) -> None:
    rows = catalogue_rows(big)
    assert len(rows) == len(big)
    types = {"mass_g": float, "price_cents": int, "width_m": float, "depth_m": float,
             "height_m": float, "gluten_free": bool, "organic": bool, "vegan": bool}
    for r in (rows[0], rows[-1]):
        assert tuple(r) == COLUMNS
        for c in COLUMNS:
            assert type(r[c]) is types.get(c, str), c
    assert rows[-1]["sku"] == big.sku[-1] and rows[-1]["height_m"] == big.size_m[-1, 2]


def test_csv_round_trip_is_exact(tmp_path, base) -> None:
    cat = expand_catalogue(base, 3_000, seed=11)
    path = tmp_path / "catalog.csv"
    write_catalogue_csv(cat, path)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert same(load_catalogue(path), cat)
    write_catalogue_csv(base, tmp_path / "base.csv")
    assert same(load_catalogue(tmp_path / "base.csv"), base)


def test_fifty_thousand_skus(base, record_property) -> None:
    t0 = time.perf_counter()
    cat = expand_catalogue(base, 50_000, seed=0)
    record_property("expand_50000_s", round(time.perf_counter() - t0, 3))  # measured, no bound
    assert len(cat) == 50_000 and len(set(cat.sku.tolist())) == 50_000
