"""The product catalogue: the shipped CSV and the loader's validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenes.catalog import COLUMNS, CatalogueError, load_catalogue

HEADER = ",".join(COLUMNS)
ROWS = [
    "A1,Baguette,bakery,Maison,250,299,0.6,0.08,0.08,0,0,1",
    "A2,Gluten-Free Baguette,bakery,Maison,240,449,0.58,0.08,0.08,1,0,1",
    "A3,Whole Milk 1 gal,dairy,Dairyland,3900,429,0.15,0.15,0.26,0,0,0",
]


def write(tmp_path: Path, lines: list[str], name: str = "cat.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def with_field(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


def test_shipped_catalogue_is_valid_and_unique() -> None:
    cat = load_catalogue()
    assert len(cat) >= 100
    assert len(set(cat.sku.tolist())) == len(cat)
    assert cat.mass_g.dtype == np.float64 and np.all(cat.mass_g > 0)
    assert cat.price_cents.dtype == np.int64 and np.all(cat.price_cents >= 0)
    assert cat.size_m.shape == (len(cat), 3) and np.all(cat.size_m > 0)
    assert cat.gluten_free.dtype == bool
    idx = cat.index()
    assert all(cat.sku[i] == s for s, i in idx.items())
    assert cat.prices()[str(cat.sku[0])] == int(cat.price_cents[0])


def test_loader_reads_a_small_csv(tmp_path) -> None:
    cat = load_catalogue(write(tmp_path, [HEADER, *ROWS]))
    assert cat.sku.tolist() == ["A1", "A2", "A3"]
    assert cat.mass_g.tolist() == [250.0, 240.0, 3900.0]
    assert cat.gluten_free.tolist() == [False, True, False]
    assert cat.size_m[2].tolist() == [0.15, 0.15, 0.26]


def find(cat, name: str) -> int:
    hits = np.flatnonzero(cat.name == name)
    assert hits.size == 1, name
    return int(hits[0])


@pytest.mark.parametrize(("a", "b", "attribute"), [
    ("Baguette", "Gluten-Free Baguette", "gluten_free"),
    ("Whole Milk 1 gal", "Skim Milk 1 gal", None),
])
def test_look_alike_pairs_barely_differ_in_mass(a, b, attribute) -> None:
    cat = load_catalogue()
    i, j = find(cat, a), find(cat, b)
    assert cat.sku[i] != cat.sku[j]
    assert cat.mass_g[i] != cat.mass_g[j]
    assert abs(cat.mass_g[i] - cat.mass_g[j]) / cat.mass_g[i] < 0.05
    if attribute is not None:
        assert getattr(cat, attribute)[i] != getattr(cat, attribute)[j]


@pytest.mark.parametrize(("column", "value", "line"), [
    ("mass_g", "-5", 3),
    ("mass_g", "0", 2),
    ("mass_g", "heavy", 4),
    ("mass_g", "", 3),
    ("price_cents", "1.99", 2),
    ("price_cents", "-1", 4),
    ("width_m", "0", 3),
    ("vegan", "yes", 2),
    ("sku", "", 4),
    ("mass_g", "inf", 3),
    pytest.param("mass_g", "nan", 3),
])
def test_bad_field_names_file_line_and_field(tmp_path, column, value, line) -> None:
    rows = list(ROWS)
    rows[line - 2] = with_field(rows[line - 2], column, value)
    p = write(tmp_path, [HEADER, *rows], name="bad.csv")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(p)
    msg = str(err.value)
    assert str(p) in msg
    assert f"line {line}" in msg
    assert column in msg


def test_missing_column_names_file_and_column(tmp_path) -> None:
    k = COLUMNS.index("mass_g")
    drop = [",".join(c for j, c in enumerate(r.split(",")) if j != k) for r in [HEADER, *ROWS]]
    p = write(tmp_path, drop, name="nomass.csv")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(p)
    assert str(p) in str(err.value)
    assert "mass_g" in str(err.value)
    assert "missing" in str(err.value)


def test_duplicate_sku_is_rejected(tmp_path) -> None:
    p = write(tmp_path, [HEADER, *ROWS, with_field(ROWS[2], "name", "Other")], name="dup.csv")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(p)
    assert str(p) in str(err.value)
    assert "sku" in str(err.value)


def test_duplicate_sku_error_names_line_and_value(tmp_path) -> None:
    p = write(tmp_path, [HEADER, *ROWS, with_field(ROWS[2], "name", "Other")], name="dup.csv")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(p)
    assert "line 5" in str(err.value)
    assert "A3" in str(err.value)


def test_empty_and_unreadable_files(tmp_path) -> None:
    p = write(tmp_path, [HEADER], name="empty.csv")
    with pytest.raises(CatalogueError, match="no rows") as err:
        load_catalogue(p)
    assert str(p) in str(err.value)
    missing = tmp_path / "absent.csv"
    with pytest.raises(CatalogueError) as err:
        load_catalogue(missing)
    assert str(missing) in str(err.value)
