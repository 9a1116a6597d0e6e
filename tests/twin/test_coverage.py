"""Coverage (docs/camera-layout.md): on a hand-built one-gondola floor the seen cells are
exactly what the geometry says; an L-shaped floor's walls block views around the corner;
pixel density and incidence limits; denser grids see more; shelf-facing cameras see the
kiosk's bin faces and a sparse down-looking grid does not; the heatmap."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.knowledge import Cameras
from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.plan import plan_extent, plan_image, world_to_pixel
from scenes.store import Bins, Fixture, Store, open_floor, outline_walls
from twin.camgeom import project, rotation_from_angles
from twin.coverage import (
    COUNT_COLORS,
    HEAT_ALPHA,
    RayCaster,
    coverage,
    face_samples,
    floor_samples,
    heatmap_image,
    heatmap_png,
    visibility_matrix,
)
from twin.layout import DEFAULT_MODELS, make_layout
from twin.placement import grid_layout, shelf_facing

GONDOLA = Fixture("g", "gondola", (3.6, 1.5, 0.0), (4.4, 4.5, 2.0))


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def one_gondola() -> Store:
    """8 x 6 m of open floor with one 2 m gondola across the middle (no bins)."""
    return open_floor((GONDOLA,), load_catalogue(), width=8.0, depth=6.0, ceiling_height=3.6)


def cameras(poses, hfov_deg: float = 120.0, resolution=(1280, 960)) -> Cameras:
    """Cameras from (x, y, z, yaw, pitch) rows."""
    p = np.asarray(poses, dtype=np.float64).reshape(-1, 5)
    n = p.shape[0]
    w, h = resolution
    fx = (w / 2) / np.tan(np.radians(hfov_deg) / 2)
    return Cameras(np.arange(n, dtype=np.int32), p[:, :3],
                   np.stack([rotation_from_angles(y, pt) for y, pt in p[:, 3:]]),
                   np.tile([fx, fx, w / 2, h / 2], (n, 1)),
                   np.tile([w, h], (n, 1)).astype(np.int32))


def segment_hits_box(a: np.ndarray, b: np.ndarray, lo, hi) -> np.ndarray:
    """(m,) bool: the segments a (3,) -> b (m, 3) pass through the box (slab test)."""
    d = b - a
    t0 = np.zeros(len(b))
    t1 = np.ones(len(b))
    for k in range(3):
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (lo[k] - a[k]) / d[:, k]
            tb = (hi[k] - a[k]) / d[:, k]
        lo_t = np.where(d[:, k] == 0, np.where((a[k] > lo[k]) & (a[k] < hi[k]), -np.inf, np.inf),
                        np.minimum(ta, tb))
        hi_t = np.where(d[:, k] == 0, np.where((a[k] > lo[k]) & (a[k] < hi[k]), np.inf, -np.inf),
                        np.maximum(ta, tb))
        t0 = np.maximum(t0, lo_t)
        t1 = np.minimum(t1, hi_t)
    return t0 < t1


def expected_counts(store: Store, cams: Cameras, cell: float, heights) -> np.ndarray:
    """Per walkable cell, how many cameras see it at every height: image bounds and the
    gondola box by hand, nothing from twin.coverage's ray caster."""
    fs = floor_samples(store, cell, heights)
    pts = fs.points
    u, v, z = project(cams, pts)
    w, h = cams.resolution[:, 0, None], cams.resolution[:, 1, None]
    with np.errstate(invalid="ignore"):
        inimg = (z > 0.1) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    blocked = np.stack([segment_hits_box(c, pts, GONDOLA.lo, GONDOLA.hi) for c in cams.position])
    seen = (inimg & ~blocked).reshape(len(cams.camera), fs.n_cells, len(heights)).all(axis=2)
    return seen.sum(axis=0)


# -- exact geometry on a hand-built floor ----------------------------------------------------

def test_a_camera_cannot_see_the_floor_behind_the_gondola(one_gondola) -> None:
    # 1.9 m up on the left, level, looking at the gondola (+x): it hides the floor behind it
    cams = cameras([(1.0, 2.0, 1.9, 0.0, 0.0)])
    rep = coverage(one_gondola, cams, cell=0.25, min_px_per_m=0.0)
    fs = floor_samples(one_gondola, 0.25, rep.heights)
    want = expected_counts(one_gondola, cams, 0.25, rep.heights)
    assert np.array_equal(rep.counts[fs.walkable], want)
    assert rep.k_fraction(1) == pytest.approx(want.mean())
    assert 0.2 < rep.k_fraction(1) < 0.8 and rep.k_fraction(2) == 0.0
    assert rep.n_cameras == 1 and rep.cost_usd is None

    def seen(x, y):
        j, i = np.floor((np.array([y, x]) - rep.origin[::-1]) / rep.cell).astype(int)
        return rep.counts[j, i]

    assert seen(2.5, 3.0) == 1              # in front of the gondola
    assert seen(6.0, 3.0) == 0              # right behind it
    assert seen(6.0, 0.6) == 1              # past its end, still in the view


def test_two_cameras_on_either_side_give_two_fold_coverage_exactly(one_gondola) -> None:
    cams = cameras([(1.0, 3.0, 3.4, 0.0, -50.0), (7.0, 3.0, 3.4, 180.0, -50.0)])
    rep = coverage(one_gondola, cams, cell=0.25, min_px_per_m=0.0)
    fs = floor_samples(one_gondola, 0.25, rep.heights)
    want = expected_counts(one_gondola, cams, 0.25, rep.heights)
    assert np.array_equal(rep.counts[fs.walkable], want)
    assert rep.k_fraction(2) == pytest.approx((want >= 2).mean()) and rep.k_fraction(2) > 0.1
    # head only: never fewer cells than torso and head together
    head = coverage(one_gondola, cams, cell=0.25, heights=(1.7,), min_px_per_m=0.0)
    assert np.all(head.counts >= rep.counts) and np.any(head.counts > rep.counts)


def test_batched_visibility_casts_one_ray_per_in_image_pair(one_gondola) -> None:
    cams = cameras([(1.0, 3.0, 3.4, 0.0, -50.0), (7.0, 3.0, 3.4, 180.0, -50.0),
                    (4.0, 0.5, 3.4, 90.0, -90.0)])
    pts = floor_samples(one_gondola, 0.5, (1.0,)).points
    caster = RayCaster(one_gondola)
    vis = visibility_matrix(one_gondola, cams, pts, min_px_per_m=0.0, caster=caster)
    u, v, z = project(cams, pts)
    with np.errstate(invalid="ignore"):
        inimg = (z > 0.1) & (u >= 0) & (u < 1280) & (v >= 0) & (v < 960)
    assert caster.rays_cast == inimg.sum()
    for c in range(3):                       # same as one camera at a time
        one = Cameras(*(a[c:c + 1] for a in (cams.camera, cams.position, cams.rotation,
                                            cams.intrinsics, cams.resolution)))
        assert np.array_equal(visibility_matrix(one_gondola, one, pts, min_px_per_m=0.0)[0],
                              vis[c])


def test_pixel_density_limits_how_far_a_camera_sees(one_gondola) -> None:
    cams = cameras([(0.5, 5.5, 1.5, 0.0, 0.0)])      # level, along the back of the floor
    pts = np.array([[2.0, 5.5, 1.5], [7.5, 5.5, 1.5]])
    f = cams.intrinsics[0, 0]                        # 369.5 px: 125 px/m up to 2.96 m
    assert visibility_matrix(one_gondola, cams, pts, min_px_per_m=0.0)[0].tolist() == [True, True]
    assert visibility_matrix(one_gondola, cams, pts)[0].tolist() == [True, False]
    assert visibility_matrix(one_gondola, cams, pts, min_px_per_m=f / 7.0 - 1)[0].all()


def test_an_l_shaped_floors_walls_block_views_around_the_corner() -> None:
    outline = np.array([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]], dtype=np.float64)
    store = Store("L", outline, 3.6, outline_walls(outline), (), (), Bins.empty(),
                  load_catalogue(), 2.0)
    cams = cameras([(8.0, 2.0, 3.0, 135.0, -10.0)], hfov_deg=150.0)
    pts = np.array([[2.0, 8.0, 1.0], [2.0, 2.0, 1.0], [7.0, 3.0, 1.0]])
    assert visibility_matrix(store, cams, pts, min_px_per_m=0.0)[0].tolist() == [
        False, True, True]


# -- bin faces -------------------------------------------------------------------------------

def test_face_samples_sit_on_the_bin_fronts_nudged_out(kiosk) -> None:
    pts, nrm = face_samples(kiosk)
    b = kiosk.bins
    assert pts.shape == (5 * len(b), 3) and np.allclose(np.linalg.norm(nrm, axis=1), 1)
    centre = pts[::5]
    # the centre: half way up the bin, 3 cm in front of the face it opens onto
    assert np.allclose(centre[:, 2], b.center[:, 2])
    front = np.where(b.normal[:, 0] < -0.5, b.lo[:, 0], np.where(b.normal[:, 0] > 0.5,
                                                                 b.hi[:, 0], np.nan))
    xs = ~np.isnan(front)
    assert np.allclose(centre[xs, 0], front[xs] + 0.03 * b.normal[xs, 0])
    lo, hi = kiosk.fixture_boxes()
    inside = ((pts[:, None, :] > lo[None]) & (pts[:, None, :] < hi[None])).all(axis=2)
    assert not inside.any()


def test_a_camera_behind_a_face_does_not_see_it(kiosk) -> None:
    pts, nrm = face_samples(kiosk)
    i = 0                                         # a bin on gondola-1's -x face (x = 1.75)
    assert kiosk.bins.normal[i, 0] == -1.0
    p = pts[5 * i]
    front = cameras([(p[0] - 1.5, p[1], 2.5, 0.0, -20.0)])
    edge_on = cameras([(p[0] - 0.05, p[1] - 2.0, p[2], 90.0, 0.0)])
    vis = visibility_matrix(kiosk, front, pts[5 * i:5 * i + 1], nrm[5 * i:5 * i + 1])
    assert vis[0, 0]
    assert not visibility_matrix(kiosk, edge_on, pts[5 * i:5 * i + 1], nrm[5 * i:5 * i + 1])[0, 0]
    assert visibility_matrix(kiosk, edge_on, pts[5 * i:5 * i + 1])[0, 0]   # no normal: seen


def test_shelf_facing_sees_the_kiosks_bin_faces_and_a_sparse_grid_does_not(kiosk) -> None:
    shelf = coverage(kiosk, shelf_facing(kiosk), cell=0.5)
    sparse = coverage(kiosk, grid_layout(kiosk, spacing=4.0), cell=0.5)
    assert shelf.bin_fraction >= 0.99
    assert sparse.bin_fraction < 0.6
    assert shelf.cost_usd == pytest.approx(shelf.n_cameras * DEFAULT_MODELS["dome-4mp"].cost_usd)


# -- grids -----------------------------------------------------------------------------------

def test_denser_grids_cover_more(kiosk) -> None:
    reps = [coverage(kiosk, grid_layout(kiosk, s), cell=0.5) for s in (4.0, 3.0, 2.5, 2.0)]
    n = [r.n_cameras for r in reps]
    k1 = [r.k_fraction(1) for r in reps]
    k2 = [r.k_fraction(2) for r in reps]
    assert n == sorted(n) and len(set(n)) == 4
    assert k1 == sorted(k1) and k1[-1] == 1.0
    assert k2 == sorted(k2) and k2[-1] > 2 * k2[0] + 0.5
    for r in reps:
        assert r.k_fraction(1) >= r.k_fraction(2) >= r.k_fraction(3)


def test_the_report_is_json_able(kiosk, one_gondola) -> None:
    rep = coverage(kiosk, grid_layout(kiosk, 3.0), cell=0.5)
    d = json.loads(json.dumps(rep.to_dict(grid=True)))
    assert d["cameras"] == rep.n_cameras and d["cost_usd"] == rep.cost_usd
    assert d["floor_k1"] == pytest.approx(rep.k_fraction(1))
    assert d["bin_faces"] == 495 and d["bin_faces_k1"] == pytest.approx(rep.bin_fraction)
    grid = np.array(d["counts"])
    assert grid.shape == rep.walkable.shape and (grid[~rep.walkable] == -1).all()
    bare = coverage(one_gondola, cameras([(1.0, 3.0, 3.4, 0.0, -50.0)]), cell=0.5).to_dict()
    assert bare["bin_faces"] == 0 and bare["bin_faces_k1"] is None and bare["cost_usd"] is None
    assert "counts" not in bare


# -- heatmap ---------------------------------------------------------------------------------

def test_heatmap_colours_cells_by_camera_count(one_gondola, tmp_path) -> None:
    cams = cameras([(1.0, 3.0, 1.9, 0.0, 0.0)])
    rep = coverage(one_gondola, cams, cell=0.25, min_px_per_m=0.0)
    img = heatmap_image(one_gondola, rep, px_per_m=20.0)
    plan = plan_image(one_gondola, None, px_per_m=20.0)
    assert img.shape == plan.shape
    ext = plan_extent(one_gondola, 1.0)

    def px(x, y):
        r, c = world_to_pixel(np.array([[x, y]]), ext, img.shape)[0]
        return img[r, c].astype(float), plan[r, c].astype(float)

    for (x, y), k in (((2.5, 3.0), 1), ((6.1, 3.1), 0)):
        got, under = px(x, y)
        want = (1 - HEAT_ALPHA) * under + HEAT_ALPHA * 255 * COUNT_COLORS[k]
        assert np.allclose(got, want, atol=1.5), (x, y, got, want)
    got, under = px(4.0, 3.0)                    # the gondola: not floor, drawn as the plan
    assert np.array_equal(got, under)
    path = tmp_path / "heat.png"
    lay = make_layout("hand", ["c"], cams.position, [(0.0, 0.0, 0.0)], DEFAULT_MODELS["dome-4mp"])
    heatmap_png(one_gondola, rep, path, cameras=lay)
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 10_000
    from matplotlib.image import imread

    rgb = imread(path)[..., :3]
    for k in (0, 1):                              # both colours made it into the file
        blend = (1 - HEAT_ALPHA) * np.array([232, 226, 210]) / 255 + HEAT_ALPHA * COUNT_COLORS[k]
        assert (np.abs(rgb - blend).max(axis=2) < 0.02).sum() > 500, k
