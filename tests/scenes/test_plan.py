"""Floor plans: PNG output, and pixels of the top view where the floor, fixtures, bins, walls,
gates and cameras are."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.meshes import FLOOR_COLOR, KIND_COLORS, sku_colors
from scenes.plan import (
    BACKGROUND,
    WALL_INK,
    draw_plan,
    plan_extent,
    plan_image,
    world_to_pixel,
)
from scenes.store import Bins, Fixture, Gate, Store, Wall, open_floor, outline_walls

PX_PER_M = 40.0
L_OUTLINE = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 4.0], [6.0, 4.0], [6.0, 8.0],
                      [1.0, 8.0], [0.0, 7.0]])   # notch: x in (6, 10), y in (4, 8)


def l_store() -> Store:
    cat = load_catalogue()
    bakery = int(np.flatnonzero(cat.category == "bakery")[0])
    drinks = int(np.flatnonzero(cat.category == "beverages")[0])
    walls = outline_walls(L_OUTLINE) + (Wall("partition", (0.0, 5.5), (3.0, 5.5), 0.1, False),)
    gates = (Gate("entrance", "entrance", "wall-1", (2.0, 0.0), (3.5, 0.0), (0.0, 1.0)),
             Gate("exit", "exit", "wall-2", (10.0, 1.0), (10.0, 2.5), (-1.0, 0.0)))
    fixtures = (
        Fixture("gondola-a", "gondola", (2.0, 1.5, 0.0), (2.9, 3.0, 1.8), ("-x",), (0.1, 0.48),
                0.75),
        Fixture("fridge-a", "fridge", (7.0, 2.5, 0.0), (8.5, 3.2, 2.0), ("-y",), (0.1,), 0.75),
        Fixture("table-a", "table", (3.5, 6.0, 0.0), (5.0, 7.0, 0.8)),
    )
    # one column of two bins (bakery low, beverages above) on the gondola's -x face
    lo = np.array([[2.0, 1.5, 0.12], [2.0, 1.5, 0.5]])
    hi = np.array([[2.45, 2.25, 0.46], [2.45, 2.25, 0.84]])
    normal = np.array([[-1.0, 0.0], [-1.0, 0.0]])
    one = np.ones(2, np.int32)
    bins = Bins(fixture=np.zeros(2, np.int32), level=np.array([0, 1], np.int32), lo=lo, hi=hi,
                normal=normal, access_xy=lo[:, :2] - [0.45, 0.0],
                sku_index=np.array([bakery, drinks], np.int32), facings=one, rows=one,
                count=one)
    return Store("l-shape", L_OUTLINE, 3.0, walls, gates, fixtures, bins, cat, 1.6)


@pytest.fixture(scope="module")
def lshape():
    return l_store()


@pytest.fixture(scope="module")
def image(lshape):
    return plan_image(lshape, px_per_m=PX_PER_M)


def rgb(c) -> np.ndarray:
    c = np.asarray(c, dtype=float)
    return np.round(c[:3] * (255.0 if c.max() <= 1.0 else 1.0)).astype(int)


def pixel(store: Store, img: np.ndarray, xy) -> np.ndarray:
    r, c = world_to_pixel(np.asarray(xy, float)[None], plan_extent(store), img.shape)[0]
    return img[r, c].astype(int)


def window(store: Store, img: np.ndarray, xy, half: int = 2) -> np.ndarray:
    r, c = world_to_pixel(np.asarray(xy, float)[None], plan_extent(store), img.shape)[0]
    return img[r - half:r + half + 1, c - half:c + half + 1].reshape(-1, 3).astype(int)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_draw_plan_writes_a_png_of_sensible_size(tmp_path) -> None:
    kiosk = load_preset("kiosk")
    path = tmp_path / "kiosk.png"
    draw_plan(kiosk, path, cameras_xy=np.array([[3.0, 2.0]]), title="Kiosk")
    w, h = png_size(path)
    assert 800 <= w <= 4000 and 500 <= h <= 4000
    assert w > h                                           # a wide store, a wide plan


def test_a_supercenter_plan_keeps_aisles_legible(tmp_path) -> None:
    big = open_floor((), load_catalogue(), width=180.0, depth=110.0)
    path = tmp_path / "big.png"
    draw_plan(big, path, dpi=150)
    w, h = png_size(path)
    assert w >= 15 * 180 and h >= 15 * 110                 # >= 15 px per metre
    assert w <= 6000 and h <= 4500


def test_world_to_pixel_maps_the_extent_edge_to_edge(lshape, image) -> None:
    x0, y0, x1, y1 = plan_extent(lshape)
    assert (x0, y0, x1, y1) == (-1.0, -1.0, 11.0, 9.0)
    h, w, _ = image.shape
    assert abs(w - 12 * PX_PER_M) <= 1 and abs(h - 10 * PX_PER_M) <= 1
    px = world_to_pixel(np.array([[x0 + 1e-6, y1 - 1e-6], [x1 - 1e-6, y0 + 1e-6]]),
                        (x0, y0, x1, y1), image.shape)
    assert px.tolist() == [[0, 0], [h - 1, w - 1]]


def test_fixtures_are_filled_with_their_kind_colour(lshape, image) -> None:
    for f in lshape.fixtures:
        centre = 0.5 * (np.asarray(f.lo[:2]) + np.asarray(f.hi[:2]))
        assert np.abs(pixel(lshape, image, centre) - rgb(KIND_COLORS[f.kind])).max() <= 1, f.name


def test_floor_is_shaded_inside_the_outline_only(lshape, image) -> None:
    floor = rgb(FLOOR_COLOR)
    assert np.array_equal(pixel(lshape, image, (4.5, 4.5)), floor)
    assert np.array_equal(pixel(lshape, image, (8.0, 1.0)), floor)
    notch = pixel(lshape, image, (8.0, 6.0))
    assert not np.array_equal(notch, floor)
    assert np.array_equal(notch, rgb(BACKGROUND))


def test_walls_are_dark_with_gaps_at_the_gates(lshape, image) -> None:
    ink = rgb(WALL_INK)
    for xy in [(1.0, -0.05), (10.05, 3.2), (8.0, 4.05), (6.05, 6.0), (0.5, 8.05 - 0.5),
               (1.5, 5.5)]:
        assert np.abs(pixel(lshape, image, xy) - ink).max() <= 2, xy
    for gate in lshape.gates:
        out = gate.mid - 0.05 * np.asarray(gate.inward)    # where the wall would be
        near_ink = np.abs(window(lshape, image, out) - ink).max(axis=1) <= 30
        assert not near_ink.any(), gate.name


def test_bin_ticks_carry_the_bottom_bins_sku_colour(lshape, image) -> None:
    b = lshape.bins
    want = sku_colors(lshape.catalogue)[b.sku_index[0], :3].astype(int)
    got = window(lshape, image, (2.0 - 0.05, 1.875), half=0)[0]
    assert np.abs(got - want).max() <= 3
    other = sku_colors(lshape.catalogue)[b.sku_index[1], :3].astype(int)
    assert np.abs(other - want).max() > 10


def test_cameras_mark_their_positions_only(lshape, image) -> None:
    cams = np.array([[4.5, 4.5], [8.0, 1.0]])
    marked = plan_image(lshape, cameras_xy=cams, px_per_m=PX_PER_M)
    assert marked.shape == image.shape
    for xy in cams:
        assert not np.array_equal(pixel(lshape, marked, xy), pixel(lshape, image, xy))
    changed = np.any(marked != image, axis=2)
    assert changed.mean() < 0.01
    f = lshape.fixtures[0]
    centre = 0.5 * (np.asarray(f.lo[:2]) + np.asarray(f.hi[:2]))
    assert np.array_equal(pixel(lshape, marked, centre), pixel(lshape, image, centre))


def test_an_empty_store_draws(tmp_path) -> None:
    empty = open_floor((), load_catalogue())
    img = plan_image(empty, cameras_xy=np.zeros((0, 2)))
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    draw_plan(empty, tmp_path / "empty.png", cameras_xy=np.zeros((0, 2)))
    assert png_size(tmp_path / "empty.png")[0] > 0
