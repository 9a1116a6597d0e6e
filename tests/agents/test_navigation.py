"""The occupancy grid and its routes, on the kiosk and on hand-built floors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from agents.navigation import NavGrid, NoPathError
from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.store import Fixture, Store, open_floor


def hand_store(fixtures: tuple[Fixture, ...], width: float = 6.0, depth: float = 6.0) -> Store:
    """An open rectangle of floor with the given fixtures and no bins."""
    return open_floor(fixtures, load_catalogue(), width, depth, ceiling_height=3.0)


def polyline_points(start: np.ndarray, route: list[np.ndarray], step: float = 0.05):
    pts = [np.asarray(start, dtype=np.float64)] + [np.asarray(p) for p in route]
    out = []
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = int(np.ceil(np.linalg.norm(b - a) / step)) + 1
        out.append(a[None] + np.linspace(0, 1, n)[:, None] * (b - a)[None])
    return np.concatenate(out)


def length(start, route) -> float:
    pts = np.array([start] + list(route))
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def nav(kiosk):
    return NavGrid(kiosk, clearance=0.3)


def test_grid_blocks_fixtures_with_clearance_and_walls(kiosk, nav) -> None:
    lo, hi = kiosk.fixture_boxes()
    ys, xs = np.nonzero(nav.free)
    centres = nav.origin + (np.stack([xs, ys], axis=1) + 0.5) * nav.cell
    for a, b in zip(lo, hi, strict=True):
        inside = np.all((centres > a[:2] - nav.clearance) & (centres < b[:2] + nav.clearance),
                        axis=1)
        assert not inside.any()
    # fixture interiors and the outside are not walkable, the aisles are
    centre = (lo[:, :2] + hi[:, :2]) / 2
    assert not nav.is_free(centre).any()
    assert not nav.is_free(np.array([[-1.0, 5.0], [20.0, 5.0], [7.0, -1.0], [7.0, 12.0]])).any()
    g = next(i for i, f in enumerate(kiosk.fixtures) if f.kind == "gondola")
    x0 = lo[g, 0] - kiosk.aisle_width / 2
    assert nav.is_free(np.column_stack([np.full(20, x0), np.linspace(3.0, 9.0, 20)])).all()
    # the doors are open to the front wall line, the rest of the front is not
    assert nav.is_free(kiosk.entrance.inside(0.1)[None]).all()
    assert not nav.is_free(np.array([[7.5, 0.1]])).any()


def test_routes_avoid_fixtures(kiosk, nav) -> None:
    rng = np.random.default_rng(17)
    ys, xs = np.nonzero(nav.free)
    cells = rng.choice(len(xs), size=(40, 2), replace=False)
    for i, j in cells:
        a = nav.origin + (np.array([xs[i], ys[i]]) + 0.5) * nav.cell
        b = nav.origin + (np.array([xs[j], ys[j]]) + 0.5) * nav.cell
        route = nav.route(a, b)
        assert np.allclose(route[-1], b)
        pts = polyline_points(a, route)
        assert nav.is_free(pts).all(), (a, b)
        # string pulling only shortens the grid's shortest path
        grid = dijkstra(nav._graph, directed=False, indices=ys[i] * nav.nx + xs[i])
        assert np.linalg.norm(b - a) - 1e-9 <= length(a, route)
        assert length(a, route) <= grid[ys[j] * nav.nx + xs[j]] + 1e-9


def test_route_goes_around_a_gondola(kiosk, nav) -> None:
    lo, hi = kiosk.fixture_boxes()
    a = np.array([lo[1, 0] - 0.8, 6.0])     # aisle left of gondola-2
    b = np.array([hi[1, 0] + 0.8, 6.0])     # aisle right of it
    route = nav.route(a, b)
    assert len(route) >= 2
    assert nav.is_free(polyline_points(a, route)).all()
    # it has to go round an end of the run: past y < 3.0 - clearance or y > 9.0 + clearance
    ys = np.array([p[1] for p in route])
    assert (ys.min() < lo[1, 1] - nav.clearance + 1e-9) or (ys.max() > hi[1, 1] + nav.clearance
                                                              - 1e-9)
    assert length(a, route) > np.linalg.norm(b - a) + 2.0


def test_straight_route_when_in_sight(nav) -> None:
    a, b = np.array([3.0, 1.5]), np.array([12.0, 1.8])
    assert len(nav.route(a, b)) == 1
    assert np.allclose(nav.route(a, b)[0], b)


def test_route_from_the_entrance_to_every_bin(kiosk, nav) -> None:
    start = kiosk.entrance.inside(0.35)
    assert nav.is_free(start).all()
    for acc in np.unique(kiosk.bins.access_xy, axis=0):
        route = nav.route(start, acc)
        assert np.allclose(route[-1], acc)
        assert nav.is_free(polyline_points(start, route)).all()


def test_unreachable_goal_raises_no_path() -> None:
    # a full-width counter splits the floor in two
    wall = Fixture("counter", "wall_shelf", (-0.5, 3.0, 0.0), (6.5, 3.5, 1.0))
    nav = NavGrid(hand_store((wall,)))
    assert nav.route(np.array([2.0, 1.5]), np.array([4.5, 2.0]))
    with pytest.raises(NoPathError, match="no walkable path"):
        nav.route(np.array([2.0, 1.5]), np.array([2.0, 5.0]))


def test_points_in_fixtures_snap_to_the_nearest_free_cell() -> None:
    g = Fixture("g", "gondola", (2.0, 2.0, 0.0), (4.0, 4.0, 1.8))
    nav = NavGrid(hand_store((g,)), clearance=0.3)
    p = nav.nearest_free(np.array([2.1, 3.0]))
    assert nav.is_free(p).all()
    assert p[0] < 2.0 - 0.3 + nav.cell and abs(p[1] - 3.0) <= nav.cell
    route = nav.route(np.array([1.0, 1.0]), np.array([3.0, 3.0]))
    assert nav.is_free(polyline_points(np.array([1.0, 1.0]), route)).all()
    free = np.array([1.0, 1.0])
    assert np.array_equal(nav.nearest_free(free), free)


def test_empty_floor_is_free_inside_the_wall_margin() -> None:
    nav = NavGrid(hand_store(()), cell=0.2, clearance=0.3)
    assert nav.free.shape == (30, 30)
    assert nav.is_free(np.array([[3.0, 3.0], [0.35, 5.65], [5.65, 0.35]])).all()
    assert not nav.is_free(np.array([[0.05, 3.0], [3.0, 5.95], [5.95, 3.0]])).any()
