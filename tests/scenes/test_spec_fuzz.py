"""The spec loader under fuzzing: whatever text, bytes or document it gets, it builds a Store or
raises SpecError whose problems each name a field and say something; nothing else escapes.

Hypothesis runs derandomized (the same examples every run, so CI is deterministic) and keeps no
example database. The documents start from ``tests/scenes/data/corner-shop.toml``; a Store that
comes back from a mutated one is checked for the invariants the checks exist to guarantee.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from scenes.spec import SpecError, build_store, load_spec, parse_spec
from scenes.store import Store

SHOP = Path(__file__).parent / "data" / "corner-shop.toml"
SHOP_TEXT = SHOP.read_text()
SHOP_DOC = tomllib.loads(SHOP_TEXT)
SOURCE = "fuzz.toml"

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def checked(call) -> Store | None:
    """Run a load: a Store, or None after checking the SpecError it raised."""
    try:
        store = call()
    except SpecError as e:
        assert e.problems, "a SpecError without problems"
        for path, msg in e.problems:
            assert isinstance(path, str), (path, msg)
            assert isinstance(msg, str) and msg.strip(), (path, msg)
        assert str(e).startswith(f"{e.source}: "), str(e)[:200]
        return None
    assert isinstance(store, Store)
    return store


# ------------------------------------------------------------------------- strategies

KEYS = sorted({"format", "name", "floor", "gates", "catalogue", "fixtures", "planogram",
               "walls", "shelves", "width_m", "depth_m", "outline_m", "wall_names", "kind",
               "wall", "offset_m", "x_m", "y_m", "dx_m", "dy_m", "height_m", "faces",
               "levels_m", "bin_width_m", "sku", "facings", "deep", "items", "source", "file",
               "generate", "skus", "seed", "from_m", "to_m", "-x", "+x", "-y", "+y",
               "gondola-1", "back-wall"})
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
HUGE_INTS = [2 ** 63, -(2 ** 63) - 1, 10 ** 400, -(10 ** 400)]
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.sampled_from(HUGE_INTS),
    st.integers(4400, 4500).map(lambda digits: 10 ** digits),   # past repr()'s digit limit
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.05, 0.6, 0.8, 1e-300, 1e300, math.inf, -math.inf, math.nan]),
    st.text(max_size=12),
    st.sampled_from(["-x", "+x", "-y", "+y", "front", "right", "builtin", "A001", "ZZZ",
                     "gondola-1", "entrance", "exit", "both", "table", "storetwin-store/1",
                     "products.csv", ""]),
    st.dates(), st.times(), st.datetimes(),   # TOML's date and time values
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def paths(node, prefix=()) -> list[tuple]:
    """Every place in a document: a tuple of keys and list indexes."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out.extend(paths(v, prefix + (k,)))
    return out


def parent(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    return node


SHOP_PATHS = paths(SHOP_DOC)
NUMBER_PATHS = [p for p in SHOP_PATHS
                if isinstance(parent(SHOP_DOC, p)[p[-1]], (int, float))
                and not isinstance(parent(SHOP_DOC, p)[p[-1]], bool)]
TABLE_PATHS = [()] + [p for p in SHOP_PATHS if isinstance(parent(SHOP_DOC, p)[p[-1]], dict)]


def test_the_fuzzed_spec_is_valid_and_has_places_to_mutate() -> None:
    assert checked(lambda: build_store(copy.deepcopy(SHOP_DOC), SOURCE)) is not None
    assert len(NUMBER_PATHS) > 50 and len(TABLE_PATHS) >= 20


# ---------------------------------------------------------------------- text and bytes


@FUZZ
@given(st.text())
def test_any_text_is_a_store_or_a_spec_error(text) -> None:
    checked(lambda: parse_spec(text, SOURCE))


@FUZZ
@given(st.data())
def test_the_shop_text_with_a_few_characters_changed(data) -> None:
    text = SHOP_TEXT
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 8)))
        new = data.draw(st.one_of(st.just(""), st.sampled_from(list("[]{}=\"'.,#\n0-9e+")),
                                  st.text(max_size=4)))
        text = text[:i] + new + text[j:]
    checked(lambda: parse_spec(text, SOURCE))


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300),
                     st.builds(lambda b, i: SHOP_TEXT.encode()[:i] + b + SHOP_TEXT.encode()[i:],
                               st.binary(min_size=1, max_size=4),
                               st.integers(0, len(SHOP_TEXT)))))
def test_any_bytes_in_a_file_are_a_store_or_a_spec_error(spec_dir, raw) -> None:
    path = spec_dir / "fuzz.toml"
    path.write_bytes(raw)
    checked(lambda: load_spec(path))


# ------------------------------------------------------------------------- documents


@FUZZ
@given(st.dictionaries(keys, toml_values, max_size=8))
def test_any_document_is_a_store_or_a_spec_error(doc) -> None:
    checked(lambda: build_store(doc, SOURCE))


@FUZZ
@given(st.data())
def test_one_key_of_the_shop_replaced_deleted_or_added(data) -> None:
    doc = copy.deepcopy(SHOP_DOC)
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "add":
        where = data.draw(st.sampled_from(TABLE_PATHS))
        node = parent(doc, where + (None,))
        node[data.draw(keys)] = data.draw(toml_values)
    else:
        where = data.draw(st.sampled_from(SHOP_PATHS))
        node = parent(doc, where)
        if action == "delete":
            del node[where[-1]]
        else:
            node[where[-1]] = data.draw(toml_values)
    checked(lambda: build_store(doc, SOURCE))


def _mutate(v, op: str):
    if op == "negate":
        return -v
    if op == "zero":
        return 0 if isinstance(v, int) else 0.0
    if op == "huge":
        return 1e300 if isinstance(v, float) else 10 ** 30
    if op == "tiny":
        return 1e-300
    if op == "as-float":
        return float(v)
    if op == "nudge":
        return v + 0.05
    return v * float(op)   # a scale factor


@FUZZ
@given(st.data())
def test_numbers_of_the_shop_scaled_negated_zeroed_or_huge(data) -> None:
    doc = copy.deepcopy(SHOP_DOC)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(NUMBER_PATHS))
        op = data.draw(st.sampled_from(["negate", "zero", "huge", "tiny", "as-float", "nudge",
                                        "0.5", "0.9", "1.1", "2", "10", "100", "1e6"]))
        node = parent(doc, where)
        node[where[-1]] = _mutate(node[where[-1]], op)
    store = checked(lambda: build_store(doc, SOURCE))
    event("built a Store" if store is not None else "raised SpecError")
    if store is not None:
        assert_invariants(store, doc)


def assert_invariants(store: Store, doc: dict) -> None:
    """What a Store that passed its checks must satisfy."""
    eps = 1e-9
    b = store.bins
    lo, hi = store.fixture_boxes()
    x0, y0, x1, y1 = store.bounds
    # fixtures on the floor, under the ceiling
    assert np.all(lo[:, 0] >= x0 - eps) and np.all(hi[:, 0] <= x1 + eps)
    assert np.all(lo[:, 1] >= y0 - eps) and np.all(hi[:, 1] <= y1 + eps)
    assert np.all(hi[:, 2] < store.ceiling_height) and np.all(lo < hi)
    # bins inside their fixtures, above their plates, with room for what they hold
    assert np.all(b.lo >= lo[b.fixture] - eps) and np.all(b.hi <= hi[b.fixture] + eps)
    assert np.all(b.lo[:, 2] > 0) and np.all(b.hi > b.lo)
    cat = store.catalogue
    assert np.all((b.sku_index >= 0) & (b.sku_index < len(cat)))
    size = cat.size_m[b.sku_index]
    assert np.all(size[:, 2] <= b.hi[:, 2] - b.lo[:, 2] + eps)
    assert np.all(b.count == b.facings * b.rows) and np.all(b.count >= 1)
    capacity_g = 1000.0 * doc.get("shelves", {}).get("plate_capacity_kg", 20)
    assert np.all(b.count * cat.mass_g[b.sku_index] <= capacity_g + 1e-6)
    # a shopper stands on the floor in front of every bin
    assert store.contains(b.access_xy).all()
    # gates open into the floor
    for g in store.gates:
        assert math.isclose(math.hypot(*g.inward), 1.0)
        assert store.contains(g.inside(0.1)[None])[0]


def test_dates_and_times_are_values_of_the_wrong_type_not_crashes() -> None:
    doc = copy.deepcopy(SHOP_DOC)
    doc["ceiling_height_m"] = dt.date(2024, 1, 1)
    doc["fixtures"][0]["x_m"] = dt.time(12, 0)
    with pytest.raises(SpecError) as e:
        build_store(doc, SOURCE)
    assert [p for p, _ in e.value.problems] == ["ceiling_height_m", "fixtures[0].x_m"]
