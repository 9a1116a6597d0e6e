"""The occupancy grid and its routes, on the kiosk, the grocery and hand-built floors: the old
behaviour, then the fast routes by contract (line of sight checked by brute force, lengths
against the fine grid's Dijkstra path), walk distances, obstacle distances, crowd seeding."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from agents import coarse
from agents.grid import NoPathError
from agents.navigation import NavGrid
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


# ------------------------------------------------------------------ the fast routes, by contract


def slab_los(nav: NavGrid, a: np.ndarray, b: np.ndarray, grow: float = 1e-9) -> bool:
    """Brute force: does the segment a-b [m] miss every blocked cell (grown by ``grow`` [m])
    in its bounding box, off the grid counting as blocked? One slab test per cell."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    lo = np.floor((np.minimum(a, b) - nav.origin) / nav.cell).astype(int) - 1
    hi = np.floor((np.maximum(a, b) - nav.origin) / nav.cell).astype(int) + 1
    jj, ii = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
    jj, ii = jj.ravel(), ii.ravel()
    inside = (ii >= 0) & (ii < nav.ny) & (jj >= 0) & (jj < nav.nx)
    blocked = ~inside
    blocked[inside] = ~nav.free[ii[inside], jj[inside]]
    box0 = nav.origin + np.stack([jj[blocked], ii[blocked]], axis=1) * nav.cell - grow
    box1 = box0 + nav.cell + 2 * grow
    tmin, tmax = np.full(len(box0), -np.inf), np.full(len(box0), np.inf)
    d = b - a
    for k in range(2):
        if d[k] != 0:
            t0, t1 = (box0[:, k] - a[k]) / d[k], (box1[:, k] - a[k]) / d[k]
            tmin = np.maximum(tmin, np.minimum(t0, t1))
            tmax = np.minimum(tmax, np.maximum(t0, t1))
        else:
            out = (a[k] < box0[:, k]) | (a[k] > box1[:, k])
            tmin[out], tmax[out] = np.inf, -np.inf
    return not bool(np.any((tmin <= tmax) & (tmax >= 0) & (tmin <= 1)))


def legs_see_each_other(nav: NavGrid, start, route) -> bool:
    pts = [nav.nearest_free(start)] + list(route)
    return all(slab_los(nav, p, q) for p, q in zip(pts[:-1], pts[1:], strict=True))


def grid_path_length(nav: NavGrid, a, b) -> float:
    """The fine grid's Dijkstra path [m] between the cells of a and b, plus the offsets of a
    and b from their cell centres."""
    ca, cb = nav.to_cell(a), nav.to_cell(b)
    d = dijkstra(nav._graph, directed=False, indices=ca[0] * nav.nx + ca[1])
    return float(d[cb[0] * nav.nx + cb[1]] + np.linalg.norm(a - nav._center(ca[0] * nav.nx + ca[1]))
                 + np.linalg.norm(b - nav._center(cb[0] * nav.nx + cb[1])))


def random_pairs(nav: NavGrid, store: Store, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2, 2): half pairs of bins' access points, half of random free points."""
    acc = np.unique(store.bins.access_xy, axis=0)
    a = acc[rng.integers(len(acc), size=(n - n // 2, 2))]
    b = nav.random_free(rng, 2 * (n // 2), min_gap=0.0).reshape(-1, 2, 2)
    return np.concatenate([a, b])


@pytest.fixture(scope="module")
def grocery():
    return load_preset("grocery")


@pytest.fixture(scope="module")
def gnav(grocery):
    return NavGrid(grocery, clearance=0.3)


def test_line_of_sight_matches_a_brute_force_test(gnav) -> None:
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = gnav.store.bounds
    a, b = [], []
    for n, length_m in ((150, 0.3), (150, 2.0), (150, 8.0), (60, 40.0)):
        p = rng.uniform([x0 - 1, y0 - 1], [x1 + 1, y1 + 1], size=(n, 2))
        ang = rng.uniform(0, 2 * np.pi, n)
        a.append(p)
        b.append(p + length_m * np.stack([np.cos(ang), np.sin(ang)], axis=1))
    # along cell edges, through cell corners, centre to centre: the grazing cases
    free = np.flatnonzero(gnav.free.ravel())
    c = gnav._centres(free[rng.integers(free.size, size=300)])
    p = c + 0.5 * gnav.cell * rng.integers(-1, 2, size=(300, 2))
    a.append(p)
    b.append(p + gnav.cell * rng.integers(-15, 16, size=(300, 2)) * rng.choice([0.5, 1.0],
                                                                                size=(300, 1)))
    a, b = np.concatenate(a), np.concatenate(b)
    ref = np.array([slab_los(gnav, p, q) for p, q in zip(a, b, strict=True)])
    assert 0.2 < ref.mean() < 0.8                      # both answers are exercised
    assert np.array_equal(gnav._los_many(a, b), ref)
    assert [gnav.line_of_sight(p, q) for p, q in zip(a, b, strict=True)] == ref.tolist()
    # the routes' shortcuts keep a margin: cells grown by up to half a cell
    grow = rng.choice([0.0, 0.02, 0.1], size=len(a))
    ref = np.array([slab_los(gnav, p, q, g + 1e-9) for p, q, g in zip(a, b, grow, strict=True)])
    assert np.array_equal(gnav._los_many(a, b, grow + 1e-9), ref)


@pytest.mark.parametrize("preset", ["kiosk", "grocery"])
def test_every_leg_of_a_route_is_line_of_sight(preset, kiosk, grocery) -> None:
    store = kiosk if preset == "kiosk" else grocery
    nav = NavGrid(store, clearance=0.3)
    for a, b in random_pairs(nav, store, np.random.default_rng(11), 80):
        route = nav.route(a, b)
        assert np.allclose(route[-1], nav.nearest_free(b))
        assert legs_see_each_other(nav, a, route), (a, b)
        assert all(p.shape == (2,) and p.dtype == np.float64 for p in route)


def test_routes_are_close_to_the_fine_grid_shortest_path(gnav, grocery) -> None:
    ratios = []
    for a, b in random_pairs(gnav, grocery, np.random.default_rng(5), 40):
        a, b = gnav.nearest_free(a), gnav.nearest_free(b)
        got = length(a, gnav.route(a, b))
        assert got >= np.linalg.norm(b - a) - 1e-9
        ratios.append(got / max(grid_path_length(gnav, a, b), 1e-9))
    ratios = np.array(ratios)
    assert ratios.max() <= 1.2, ratios.max()
    assert ratios.mean() <= 1.05, ratios.mean()


def test_same_inputs_give_the_same_route(grocery, gnav) -> None:
    other = NavGrid(grocery, clearance=0.3)
    for a, b in random_pairs(gnav, grocery, np.random.default_rng(8), 20):
        r1, r2, r3 = gnav.route(a, b), gnav.route(a, b), other.route(a, b)
        assert len(r1) == len(r2) == len(r3)
        assert all(np.array_equal(p, q) and np.array_equal(p, s)
                   for p, q, s in zip(r1, r2, r3, strict=True))


def test_routes_without_the_coarse_distance_table(grocery, monkeypatch) -> None:
    # big stores fall back to one (cached) coarse Dijkstra per goal; same contract
    monkeypatch.setattr(coarse, "_TABLE_MAX_NODES", 0)
    nav = NavGrid(grocery, clearance=0.3)
    assert nav._table is None
    for a, b in random_pairs(nav, grocery, np.random.default_rng(13), 24):
        a, b = nav.nearest_free(a), nav.nearest_free(b)
        route = nav.route(a, b)
        assert legs_see_each_other(nav, a, route)
        assert length(a, route) <= 1.2 * grid_path_length(nav, a, b) + 1e-9
    w = nav.walk_distances(np.unique(grocery.bins.access_xy, axis=0)[::97])
    assert np.isfinite(w).all() and np.array_equal(w, w.T)


def test_walk_distances_are_walking_lengths(gnav, grocery) -> None:
    rng = np.random.default_rng(21)
    acc = np.unique(grocery.bins.access_xy, axis=0)
    pts = np.concatenate([acc[rng.choice(len(acc), 14, replace=False)],
                          gnav.random_free(rng, 6, min_gap=0.0),
                          grocery.entrance.inside(0.35)[None],
                          acc[:1] + [0.3, 0.0]])             # a near twin of the first point
    w = gnav.walk_distances(pts)
    snapped = np.array([gnav.nearest_free(p) for p in pts])
    straight = np.linalg.norm(snapped[:, None] - snapped[None], axis=2)
    assert w.shape == (len(pts), len(pts)) and w.dtype == np.float64
    assert np.array_equal(w, w.T) and np.all(np.diag(w) == 0.0)
    assert np.all(w >= straight - 1e-9)
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            if slab_los(gnav, snapped[i], snapped[j]):
                assert w[i, j] == pytest.approx(straight[i, j])
            walked = length(snapped[i], gnav.route(snapped[i], snapped[j]))
            # the estimate is the walk the route string-pulls: never shorter, not much longer
            assert walked - 1e-3 <= w[i, j] <= 1.6 * walked + 1.0, (i, j, walked, w[i, j])


def test_walk_distances_across_a_partition_are_infinite() -> None:
    wall = Fixture("counter", "wall_shelf", (-0.5, 3.0, 0.0), (6.5, 3.5, 1.0))
    nav = NavGrid(hand_store((wall,)))
    w = nav.walk_distances(np.array([[1.0, 1.0], [4.5, 2.0], [2.0, 5.0], [5.0, 5.2]]))
    assert np.isfinite(w[:2, :2]).all() and np.isfinite(w[2:, 2:]).all()
    assert np.isinf(w[:2, 2:]).all() and np.isinf(w[2:, :2]).all()
    with pytest.raises(NoPathError, match="no walkable path"):
        nav.route(np.array([3.0, 2.5]), np.array([3.0, 4.0]))   # close, but across the counter


def brute_obstacle_distance(nav: NavGrid, p: np.ndarray) -> float:
    bi, bj = np.nonzero(~nav.free)
    lo = nav.origin + np.stack([bj, bi], axis=1) * nav.cell
    q = np.clip(p, lo, lo + nav.cell)
    return float(np.linalg.norm(p - q, axis=1).min())


def test_obstacle_distance_matches_a_brute_force_search(gnav) -> None:
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = gnav.store.bounds
    pts = np.concatenate([rng.uniform([x0, y0], [x1, y1], size=(150, 2)),
                          gnav.random_free(rng, 100, min_gap=0.0)])
    dist, away = gnav.obstacle_distance(pts)
    assert dist.shape == (250,) and away.shape == (250, 2)
    free = gnav.is_free(pts)
    assert np.all(dist[~free] == 0.0) and np.all(away[~free] == 0.0)
    for p, d, v in zip(pts[free], dist[free], away[free], strict=True):
        ref = brute_obstacle_distance(gnav, p)
        # the nearest blocked cell is looked up for the point's cell: at most a cell off
        assert ref - 1e-9 <= d <= ref + gnav.cell, (p, d, ref)
        if d <= 5.0:
            assert np.linalg.norm(v) == pytest.approx(1.0)
            # stepping back along ``away`` by ``dist`` lands on a blocked cell's edge
            assert brute_obstacle_distance(gnav, p - d * v) < 1e-9
    # nothing within reach: no push
    d2, v2 = gnav.obstacle_distance(pts[free], reach=0.3)
    assert np.array_equal(d2, dist[free])
    assert np.all(v2[d2 > 0.3] == 0.0) and np.all(np.linalg.norm(v2[d2 <= 0.3], axis=1) > 0.99)


def test_random_free_points_keep_their_gap_and_their_seed(gnav) -> None:
    pts = gnav.random_free(np.random.default_rng(4), 400, min_gap=0.6)
    assert pts.shape == (400, 2) and gnav.is_free(pts).all()
    gaps = np.linalg.norm(pts[:, None] - pts[None], axis=2) + np.eye(400) * 1e9
    assert gaps.min() >= 0.6
    assert np.array_equal(pts, gnav.random_free(np.random.default_rng(4), 400, min_gap=0.6))
    assert not np.array_equal(pts, gnav.random_free(np.random.default_rng(5), 400, min_gap=0.6))
    assert gnav.random_free(np.random.default_rng(4), 0).shape == (0, 2)


def test_random_free_says_when_the_points_do_not_fit(nav) -> None:
    with pytest.raises(ValueError, match=r"cannot place 5000 points 0.6 m apart on \d+"):
        nav.random_free(np.random.default_rng(0), 5000, min_gap=0.6)
    with pytest.raises(ValueError, match=r"placed only \d+ of 400 points 0.6 m apart"):
        nav.random_free(np.random.default_rng(0), 400, min_gap=0.6)


def test_nearest_free_is_a_nearest_free_cell(gnav) -> None:
    rng = np.random.default_rng(9)
    x0, y0, x1, y1 = gnav.store.bounds
    fi, fj = np.nonzero(gnav.free)
    for p in rng.uniform([x0 - 0.5, y0 - 0.5], [x1 + 0.5, y1 + 0.5], size=(60, 2)):
        q = gnav.nearest_free(p)
        assert gnav.is_free(q).all()
        i, j = gnav.to_cell(p)
        qi, qj = gnav.to_cell(q)
        best = ((fi - i) ** 2 + (fj - j) ** 2).min()
        assert (qi - i) ** 2 + (qj - j) ** 2 == best
        if gnav.free[i, j]:
            assert np.array_equal(q, p)
    snapped = gnav._snap(np.array([[x0 - 1.0, y0 - 1.0], [x1 / 2, y1 / 2]]))
    assert np.array_equal(snapped, [gnav.nearest_free(np.array([x0 - 1.0, y0 - 1.0])),
                                    gnav.nearest_free(np.array([x1 / 2, y1 / 2]))])
