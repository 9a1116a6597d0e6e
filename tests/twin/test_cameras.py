"""Ceiling cameras and the detection model: coverage, noise, occlusion, false positives."""

from __future__ import annotations

import numpy as np
import pytest

from core.knowledge import Cameras
from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.store import Fixture, Store, open_floor
from twin.cameras import CameraSystem, DetectionModel
from twin.camgeom import ceiling_grid, look_at, project

# the compiled camera engine (twin/_camera_kernels.py) behind every test here: .ci/run runs
# them again for other processors (tests/cpu_target.py)
pytestmark = pytest.mark.kernels

# camera +z looks down, x along world x, y along world -y
DOWN = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


def hand_store(fixtures: tuple[Fixture, ...], width: float = 11.0, depth: float = 6.0) -> Store:
    """An open rectangle of floor with the given fixtures and no bins."""
    return open_floor(fixtures, load_catalogue(), width, depth, ceiling_height=3.6)


def down_cameras(positions, hfov_deg: float = 120.0, resolution=(1280, 960)) -> Cameras:
    pos = np.asarray(positions, dtype=np.float64)
    n = pos.shape[0]
    w, h = resolution
    fx = (w / 2) / np.tan(np.radians(hfov_deg) / 2)
    return Cameras(
        camera=np.arange(n, dtype=np.int32),
        position=pos,
        rotation=np.repeat(DOWN[None], n, axis=0),
        intrinsics=np.tile([fx, fx, w / 2, h / 2], (n, 1)),
        resolution=np.tile([w, h], (n, 1)).astype(np.int32),
    )


def in_image(cams: Cameras, pts: np.ndarray) -> np.ndarray:
    u, v, z = project(cams, pts)
    w = cams.resolution[:, 0, None]
    h = cams.resolution[:, 1, None]
    with np.errstate(invalid="ignore"):
        return (z > 0.1) & (u >= 0) & (u < w) & (v >= 0) & (v < h)


def in_image_any(cams: Cameras, xy: np.ndarray, model: DetectionModel | None = None,
                 n: int = 64) -> np.ndarray:
    """(c, s) bool: some point of each body cylinder (a dense ring at the feet, the head
    and in between) projects into each camera's image."""
    m = model or DetectionModel()
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = m.body_radius * np.column_stack([np.cos(a), np.sin(a)])
    hs = np.linspace(0, m.body_height, 9)
    s = xy.shape[0]
    pts = np.concatenate([np.column_stack([np.repeat(xy, n, axis=0) + np.tile(ring, (s, 1)),
                                           np.full(s * n, z)]) for z in hs])
    return in_image(cams, pts).reshape(len(cams.camera), len(hs), s, n).any(axis=(1, 3))


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def open_store():
    return hand_store(())


# -- the camera grid ---------------------------------------------------------------------

def test_ceiling_grid_sees_every_floor_and_head_point_of_the_kiosk(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    x0, y0, x1, y1 = kiosk.bounds
    assert np.all(cams.position[:, 2] == pytest.approx(kiosk.ceiling_height - 0.2))
    gx, gy = np.meshgrid(np.linspace(x0, x1, 76), np.linspace(y0, y1, 57))
    for z in (0.0, 1.7):
        pts = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z)], axis=1)
        seen = in_image(cams, pts).sum(axis=0)
        assert seen.min() >= 1, f"floor points at z={z} m seen by no camera"


def test_project_maps_the_nadir_to_the_principal_point(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    below = np.column_stack([cams.position[:, :2], np.zeros(len(cams.camera))])
    u, v, z = project(cams, below)
    k = np.arange(len(cams.camera))
    assert np.allclose(u[k, k], cams.intrinsics[:, 2])
    assert np.allclose(v[k, k], cams.intrinsics[:, 3])
    assert np.allclose(z[k, k], cams.position[:, 2])
    # one metre towards +x moves right in the image by fx / depth pixels
    step = below + [1.0, 0.0, 0.0]
    u2, _v2, _ = project(cams, step)
    assert np.allclose(u2[k, k] - u[k, k], cams.intrinsics[:, 0] / cams.position[:, 2])


def test_ceiling_grid_validates_spacing(kiosk) -> None:
    with pytest.raises(ValueError, match="spacing"):
        ceiling_grid(kiosk, spacing=0.0)
    assert len(ceiling_grid(kiosk, spacing=5.0).camera) < len(ceiling_grid(kiosk).camera)


@pytest.mark.parametrize(("field", "value"), [
    ("p_max", 0.0), ("p_max", 1.5), ("min_visible", 1.0), ("sigma0_m", -0.1),
    ("fp_per_frame", -1.0), ("full_visible", 0.0), ("full_range_m", -1.0),
])
def test_detection_model_validation_names_the_field(field, value) -> None:
    with pytest.raises(ValueError, match=f"DetectionModel.{field}"):
        DetectionModel(**{field: value})


# -- detections of people ----------------------------------------------------------------

# Detection figures these tests of the model's mechanics are sized for (a detector that
# nearly always finds a well-seen person and places it to ~5 cm; the shipped defaults,
# fitted to the pixel detector, miss a third: tests/twin/test_merges.py checks those)
SURE = dict(p_max=0.95, min_visible=0.2, full_visible=1.0, full_range_m=4.0, range_scale_m=4.0,
            sigma0_m=0.05, sigma_per_m=0.02)

def test_person_in_the_open_is_found_with_sigma_sized_error(open_store) -> None:
    cams = ceiling_grid(open_store)
    model = DetectionModel(fp_per_frame=0.0, split_rate=0.0, **SURE)   # (splits: test_merges.py)
    cs = CameraSystem(open_store, cams, model, rng=np.random.default_rng(11))
    person = np.array([[4.3, 2.9]])
    # nothing blocks in an open store: the visible fraction is the share of the silhouette
    # inside each camera's image, and the noise grows as (2 - visible)
    visible = cs.visible_fraction(person)[:, 0]
    assert visible.max() == 1.0 and 0 < visible[visible < 1].max()   # whole and cut views
    assert np.array_equal(visible > 0, in_image_any(cams, person)[:, 0])
    z_all, err_all, n_det = [], [], []
    for f in range(300):
        fr = cs.detect(f, f / 15.0, person)
        n_det.append(len(fr))
        d = fr.xy - person
        dist = np.linalg.norm(cams.position[fr.camera, :2] - person, axis=1)
        sigma = (model.sigma0_m + model.sigma_per_m * dist) * (2.0 - visible[fr.camera])
        z_all.append(d / sigma[:, None])
        err_all.append(np.linalg.norm(d, axis=1))
    z = np.concatenate(z_all)
    err = np.concatenate(err_all)
    assert min(n_det) >= 1
    assert err.mean() < 0.2
    assert np.abs(z.mean(axis=0)).max() < 0.1
    assert z.std(axis=0) == pytest.approx([1.0, 1.0], rel=0.1)
    # each camera fires at its model probability
    dist = np.linalg.norm(cams.position[:, :2] - person, axis=1)
    p = model.p_max * np.clip((visible - model.min_visible)
                              / (model.full_visible - model.min_visible), 0, 1)
    p *= np.exp(-np.clip(dist - model.full_range_m, 0, None) / model.range_scale_m)
    expect = 300 * p.sum()
    assert sum(n_det) == pytest.approx(expect, rel=0.08)


def test_person_in_the_kiosk_front_zone_is_located(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    cs = CameraSystem(kiosk, cams, DetectionModel(fp_per_frame=0.0),
                      rng=np.random.default_rng(5))
    person = np.array([[7.5, 1.5]])
    errs = [np.linalg.norm(cs.detect(f, f / 15.0, person).xy - person, axis=1)
            for f in range(200)]
    assert sum(e.size > 0 for e in errs) >= 195
    assert np.concatenate(errs).mean() < 0.2


def gondola_between() -> tuple[Store, Store, Cameras, np.ndarray]:
    """Camera A at x=1 and camera B at x=10 (3.4 m up); a person at x=5.5 is 4.5 m from both.
    A tall (2.4 m) gondola at x 3.55-4.45 stands between A and the person only: no part of
    the person shows over it."""
    g = Fixture("gondola-1", "gondola", (3.55, 1.0, 0.0), (4.45, 5.0, 2.4))
    cams = down_cameras([[1.0, 3.0, 3.4], [10.0, 3.0, 3.4]], hfov_deg=140.0)
    return hand_store((g,)), hand_store(()), cams, np.array([[5.5, 3.0]])


def count_per_camera(cs: CameraSystem, xy: np.ndarray, frames: int) -> np.ndarray:
    n = np.zeros(len(cs.cams.camera), dtype=int)
    for f in range(frames):
        fr = cs.detect(f, f / 15.0, xy)
        np.add.at(n, fr.camera, 1)
    return n


def test_gondola_hides_a_person_in_the_next_aisle() -> None:
    store, empty, cams, person = gondola_between()
    model = DetectionModel(fp_per_frame=0.0, **SURE)
    # both cameras have (nearly) the whole person in the picture; the gondola hides it from A
    clear_v = CameraSystem(empty, cams, model).visible_fraction(person)[:, 0]
    assert clear_v.min() > 0.95 and clear_v[0] == pytest.approx(clear_v[1])
    hidden_v = CameraSystem(store, cams, model).visible_fraction(person)[:, 0]
    assert hidden_v[0] == 0.0 and hidden_v[1] == clear_v[1]
    hidden = count_per_camera(CameraSystem(store, cams, model, np.random.default_rng(2)),
                              person, 400)
    clear = count_per_camera(CameraSystem(empty, cams, model, np.random.default_rng(2)),
                             person, 400)
    # camera B's view does not cross the gondola: same rate with or without it
    assert hidden[1] == pytest.approx(clear[1], rel=0.15)
    assert clear[0] > 0.7 * 400
    assert hidden[0] < 0.1 * clear[0]
    assert hidden[0] < 0.1 * hidden[1]


def test_fixture_rays_stop_only_at_fixtures() -> None:
    store, _empty, cams, _person = gondola_between()
    cs = CameraSystem(store, cams)
    a = [1.0, 3.0, 3.4]
    o = np.array([a, a, a, [4.0, 5.5, 3.4], [4.0, 3.0, 3.4], [9.0, 3.0, 3.4]])
    t = np.array([[5.5, 3.0, 0.15],    # through the gondola
                  [5.5, 3.0, 2.6],     # over it
                  [3.0, 3.0, 0.15],    # in front of it
                  [4.0, 5.5, 0.1],     # straight down past its end (it ends at y=5)
                  [4.0, 3.0, 1.0],     # straight down into its top
                  [5.0, 3.0, 0.1]])    # from the other side, stopping short of it
    assert cs._fixture_blocked(o, t).tolist() == [True, False, False, False, True, False]
    assert cs.rays_cast == 6


def test_people_block_low_oblique_lines_of_sight(open_store) -> None:
    cs = CameraSystem(open_store, down_cameras([[0.0, 0.0, 2.0]]))
    xy = np.array([[4.0, 0.0], [2.0, 0.0]])  # the target, and someone half way
    cam = np.array([0.0, 0.0, 2.0])
    origins = np.repeat(cam[None], 2, axis=0)
    targets = np.array([[4.0, 0.0, 0.9], [4.0, 0.0, 1.6]])
    owner = np.array([0, 0])
    # the low point's ray passes the other person at ~1.45 m: blocked; the head's at ~1.8 m
    assert cs._people_blocked(origins, targets, owner, xy).tolist() == [True, False]
    # not blocked by people beside the line, behind the target or behind the camera
    for other in ([2.0, 0.6], [5.0, 0.0], [-1.0, 0.0]):
        xy2 = np.array([[4.0, 0.0], other])
        assert not cs._people_blocked(origins[:1], targets[:1], owner[:1], xy2).any(), other
    # alone, nobody is blocked (their own cylinder does not count)
    assert not cs._people_blocked(origins, targets, owner, xy[:1]).any()


def test_a_person_between_lowers_detections_of_the_one_behind(open_store) -> None:
    # a camera 2 m up on a wall, looking along +x (image x = world -y, image y = world -z)
    side = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    cams = Cameras(camera=np.array([0], np.int32), position=np.array([[0.5, 3.0, 2.0]]),
                   rotation=side[None], intrinsics=np.array([[640.0, 640.0, 640.0, 480.0]]),
                   resolution=np.array([[1280, 960]], np.int32))
    model = DetectionModel(fp_per_frame=0.0, **SURE)
    far = np.array([[4.5, 3.0]])
    with_blocker = np.array([[4.5, 3.0], [2.5, 3.0]])
    assert CameraSystem(open_store, cams, model).visible_fraction(far)[0, 0] == 1.0
    assert CameraSystem(open_store, cams, model).visible_fraction(with_blocker)[0, 0] < 0.5
    alone = count_per_camera(CameraSystem(open_store, cams, model, np.random.default_rng(4)),
                             far, 300)
    cs = CameraSystem(open_store, cams, model, np.random.default_rng(4))
    near_hits = 0
    for f in range(300):
        fr = cs.detect(f, f / 15.0, with_blocker)
        near_hits += int((np.abs(fr.xy[:, 0] - 4.5) < 0.8).sum())
    assert alone[0] > 0.8 * 300
    assert near_hits < 0.5 * alone[0]


# -- false positives, dead cameras, order, determinism -------------------------------------

def test_false_positives_come_at_the_configured_rate(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    rate = 0.2
    cs = CameraSystem(kiosk, cams, DetectionModel(fp_per_frame=rate),
                      rng=np.random.default_rng(8))
    frames = 500
    per_cam = np.zeros(len(cams.camera), dtype=int)
    x0, y0, x1, y1 = kiosk.bounds
    for f in range(frames):
        fr = cs.detect(f, f / 15.0, np.zeros((0, 2)))
        np.add.at(per_cam, fr.camera, 1)
        assert np.all((fr.xy >= [x0, y0]) & (fr.xy <= [x1, y1]))
        assert np.all(np.linalg.norm(fr.xy - cams.position[fr.camera, :2], axis=1) <= 2.0 + 1e-9)
        assert np.all((fr.conf >= 0.1) & (fr.conf <= 0.5))
    expected = rate * frames * len(cams.camera)
    assert per_cam.sum() == pytest.approx(expected, rel=0.06)
    assert per_cam.min() > 0.5 * rate * frames


def test_dead_cameras_emit_nothing(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    dead = np.zeros(len(cams.camera), dtype=bool)
    dead[::3] = True
    cs = CameraSystem(kiosk, cams, DetectionModel(fp_per_frame=0.5),
                      rng=np.random.default_rng(3), dead=dead)
    rng = np.random.default_rng(30)
    seen = set()
    for f in range(100):
        people = rng.uniform([0.5, 0.5], [14.5, 2.5], size=(4, 2))
        fr = cs.detect(f, f / 15.0, people)
        seen |= set(fr.camera.tolist())
    assert not seen & set(np.flatnonzero(dead).tolist())
    assert seen  # the live ones still work


def test_detections_are_sorted_by_camera_then_x(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    cs = CameraSystem(kiosk, cams, DetectionModel(fp_per_frame=0.3),
                      rng=np.random.default_rng(6))
    rng = np.random.default_rng(60)
    for f in range(30):
        people = rng.uniform([0.5, 0.5], [14.5, 2.8], size=(6, 2))
        fr = cs.detect(f, f / 15.0, people)
        assert len(fr) > 0
        key = list(zip(fr.camera.tolist(), fr.xy[:, 0].tolist(), strict=True))
        assert key == sorted(key)


def test_person_order_does_not_change_the_frame(open_store) -> None:
    cams = ceiling_grid(open_store)
    exact = DetectionModel(p_max=1.0, sigma0_m=0.0, sigma_per_m=0.0, fp_per_frame=0.0,
                           full_range_m=20.0)
    people = np.array([[2.0, 1.5], [8.0, 4.0], [5.0, 3.0], [9.5, 1.0]])
    perm = np.random.default_rng(1).permutation(len(people))
    a = CameraSystem(open_store, cams, exact, rng=np.random.default_rng(0)).detect(0, 0.0, people)
    b = CameraSystem(open_store, cams, exact, rng=np.random.default_rng(0)).detect(
        0, 0.0, people[perm])
    assert len(a) > len(people)
    assert np.array_equal(a.camera, b.camera)
    assert np.array_equal(a.xy, b.xy)


def test_same_seed_gives_identical_frames(kiosk) -> None:
    cams = ceiling_grid(kiosk)
    model = DetectionModel(fp_per_frame=0.05)
    out = []
    for _ in range(2):
        cs = CameraSystem(kiosk, cams, model, rng=np.random.default_rng(123))
        path = np.random.default_rng(7)
        frames = [cs.detect(f, f / 15.0, path.uniform([0.5, 0.5], [14.5, 10.0], size=(5, 2)))
                  for f in range(40)]
        out.append(frames)
    for fa, fb in zip(*out, strict=True):
        assert fa.frame == fb.frame and fa.t == fb.t
        assert np.array_equal(fa.camera, fb.camera)
        assert np.array_equal(fa.xy, fb.xy)
        assert np.array_equal(fa.conf, fb.conf)
    assert sum(len(f) for f in out[0]) > 0


def test_an_interior_wall_hides_what_is_behind_it_even_over_its_top_height() -> None:
    """A partition (a spec's [[walls]]) runs floor to ceiling: a ray over a gondola's height
    that crosses it is blocked; one that passes its end is not."""
    import dataclasses

    from scenes.store import Wall
    store = hand_store(())
    walled = dataclasses.replace(store, walls=store.walls + (
        Wall("partition", (5.0, 0.0), (5.0, 4.0), 0.1, False),))
    cs = CameraSystem(walled, down_cameras([[2.0, 2.0, 3.4]]))
    o = np.array([[2.0, 2.0, 3.4], [2.0, 5.0, 3.4], [2.0, 2.0, 3.4]])
    t = np.array([[8.0, 2.0, 2.5],     # through the partition, higher than any shelf
                  [8.0, 5.0, 1.0],     # past its end (it stops at y=4)
                  [4.5, 2.0, 1.0]])    # short of it
    assert cs._fixture_blocked(o, t).tolist() == [True, False, False]
    # the bare floor has nothing to block
    assert CameraSystem(store, down_cameras([[2.0, 2.0, 3.4]]))._ray is None


def test_ceiling_grid_of_an_l_shaped_floor_puts_no_camera_over_the_notch() -> None:
    from scenes.spec import parse_spec
    spec = """
name = "ell"
fixtures = []
[floor]
outline_m = [[0, 0], [12, 0], [12, 5], [5, 5], [5, 10], [0, 10]]
[catalogue]
source = "builtin"
[[gates]]
name = "door"
kind = "both"
wall = "wall-1"
offset_m = 1.0
width_m = 1.6
"""
    store = parse_spec(spec, "ell.toml")
    cams = ceiling_grid(store, spacing=2.0)
    xy = cams.position[:, :2]
    assert store.contains(xy).all()
    notch = (xy[:, 0] > 5) & (xy[:, 1] > 5)
    assert not notch.any()
    # the grid still covers both arms of the L
    assert (xy[:, 0] > 8).any() and (xy[:, 1] > 8).any()


# -- the visible fraction (area of the silhouette) ---------------------------------------

def silhouette_area(cams: Cameras, i: int, xy: np.ndarray, model: DetectionModel,
                    n: int = 720) -> float:
    """[px^2] area of the convex hull of a densely sampled body's projection (unclipped)."""
    from scipy.spatial import ConvexHull
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = xy + model.body_radius * np.column_stack([np.cos(a), np.sin(a)])
    pts = np.concatenate([np.column_stack([ring, np.zeros(n)]),
                          np.column_stack([ring, np.full(n, model.body_height)])])
    u, v, _ = project(cams, pts)
    return float(ConvexHull(np.column_stack([u[i], v[i]])).volume)


@pytest.mark.parametrize("xy", [(2.0, 2.0), (3.1, 2.4), (5.5, 1.0), (7.0, 3.5)])
def test_sample_areas_add_up_to_the_projected_silhouette(open_store, xy) -> None:
    """The samples' image areas sum to the silhouette's area (a straight-down camera sees
    the top disc and a sliver of the side; an off-axis one mostly the side)."""
    model = DetectionModel()
    cams = down_cameras([[2.0, 2.0, 3.4], [6.0, 3.0, 2.5]], hfov_deg=150.0)
    cs = CameraSystem(open_store, cams, model)
    person = np.array([xy])
    for i in range(2):
        area, _inimg, _world = cs._samples(np.array([i]), person)
        assert area.sum() == pytest.approx(silhouette_area(cams, i, person[0], model), rel=0.01)


def test_a_body_cut_in_half_by_the_image_edge_is_half_visible(open_store) -> None:
    """The silhouette's part off the image counts as hidden. With the principal point on
    the image's left edge, a person on the vertical through it is cut along the silhouette's
    mirror axis."""
    cams = down_cameras([[3.0, 3.0, 3.4]])
    cams = Cameras(cams.camera, cams.position, cams.rotation,
                   np.array([[369.5, 369.5, 0.0, 480.0]]), cams.resolution)
    cs = CameraSystem(open_store, cams)
    for y in (1.5, 2.5, 3.0, 4.0):
        assert cs.visible_fraction(np.array([[3.0, y]]))[0, 0] == pytest.approx(0.5, abs=0.03)
    # fully in the picture, or fully out of it
    assert cs.visible_fraction(np.array([[4.5, 3.0]]))[0, 0] == 1.0
    assert cs.visible_fraction(np.array([[1.0, 3.0]]))[0, 0] == 0.0


def test_visible_fraction_is_per_pair_and_follows_the_people(kiosk) -> None:
    """Batched over cameras and people: permuting people permutes columns, and a person
    far from everyone else has the same fraction alone as in the crowd."""
    cams = ceiling_grid(kiosk)
    cs = CameraSystem(kiosk, cams)
    people = np.array([[0.8, 1.0], [1.3, 5.0], [6.2, 1.4], [6.5, 1.7], [11.5, 6.0], [14.2, 9.9]])
    v = cs.visible_fraction(people)
    perm = np.array([3, 0, 5, 1, 4, 2])
    assert np.array_equal(cs.visible_fraction(people[perm]), v[:, perm])
    assert np.array_equal(cs.visible_fraction(people[4:5])[:, 0], v[:, 4])
    assert np.all((v >= 0) & (v <= 1))
    # the two people 0.42 m apart hide parts of each other from some camera
    alone = np.stack([cs.visible_fraction(people[k:k + 1])[:, 0] for k in (2, 3)], axis=1)
    assert np.all(v[:, 2:4] <= alone + 1e-12) and (v[:, 2:4] < alone - 0.05).any()
    dead = np.zeros(len(cams.camera), dtype=bool)
    dead[3] = True
    assert not CameraSystem(kiosk, cams, dead=dead).visible_fraction(people)[3].any()


def test_detection_model_validates_the_sampling() -> None:
    with pytest.raises(ValueError, match="DetectionModel.side_samples"):
        DetectionModel(side_samples=0)
    with pytest.raises(ValueError, match="DetectionModel.p_hand"):
        DetectionModel(p_hand=1.5)
    assert DetectionModel().samples_per_pair == 88


# -- hands in shelf bins -------------------------------------------------------------------

def bin_hand(store: Store, k: int, depth: float = 0.01) -> np.ndarray:
    """(3,) a hand ``depth`` metres inside bin ``k``'s open front, mid-height, mid-width."""
    b = store.bins
    n = b.normal[k]
    c = b.center[k].copy()
    half = 0.5 * float(np.abs(n) @ (b.hi[k] - b.lo[k])[:2])
    c[:2] += n * (half - depth)
    return c


def test_a_hand_in_a_bin_is_seen_from_the_aisle_not_through_the_shelf(kiosk) -> None:
    b = kiosk.bins
    k = int(np.flatnonzero((b.fixture == 0) & (b.face == 0) & (b.level == 1))[0])   # "-x"
    hand = bin_hand(kiosk, k)
    y = hand[1]
    # one camera in the aisle, beside the shopper, low, looking at the hand; one over the
    # gondola's far aisle, looking at it through the shelf (from straight above the
    # shopper's own arm covers a hand this low: tests/experiments/test_hands.py)
    near, far = np.array([1.2, y - 1.575, 1.6]), np.array([2.6, y, 2.0])
    cams = Cameras(np.arange(2, dtype=np.int32), np.stack([near, far]),
                   np.stack([look_at(q, hand) for q in (near, far)]),
                   np.tile([640.0, 640.0, 640.0, 480.0], (2, 1)),
                   np.tile([1280, 960], (2, 1)).astype(np.int32))
    # every hand seen at all is reported (p = 1 from 1 % of it seen)
    model = DetectionModel(p_hand=1.0, hand_min_visible=0.0, hand_full_visible=0.01,
                           sigma_hand_m=0.0, fp_per_frame=0.0)
    person = b.access_xy[k][None]
    cs = CameraSystem(kiosk, cams, model, np.random.default_rng(0))
    assert in_image(cams, hand[None]).all()
    assert cs.hands_visible(hand[None], person)[:, 0].tolist() == [True, False]
    frac = cs.hand_fractions(hand[None], person)[:, 0]
    assert frac[0] > 0.1 and frac[1] == 0.0        # the same verdict, as a share of the hand
    fr = cs.detect(0, 0.0, person, hands=hand[None])
    assert fr.hand_camera.tolist() == [0]
    assert np.array_equal(fr.hand_xyz, hand[None])
    # deep in the bin, the shelf above hides it even from the aisle camera
    deep = bin_hand(kiosk, k, depth=0.2)[None]
    assert not cs.hands_visible(deep, person).any()
    assert not cs.hand_fractions(deep, person).any()
    # nobody reaching: NaN rows, no hands
    assert len(cs.detect(1, 0.1, person, hands=np.full((1, 3), np.nan)).hand_camera) == 0
    with pytest.raises(ValueError, match="hands"):
        cs.detect(2, 0.2, person, hands=np.zeros((2, 3)))


def test_the_reaching_person_hides_their_own_hand_from_behind(kiosk) -> None:
    b = kiosk.bins
    k = int(np.flatnonzero((b.fixture == 0) & (b.face == 0) & (b.level == 2))[0])
    hand = bin_hand(kiosk, k)
    person = b.access_xy[k][None]
    # a low camera straight behind the shopper, looking at the shelf, and one off to the side
    behind = np.array([person[0, 0] - 2.0, hand[1], 1.6])
    side = np.array([person[0, 0] - 0.8, hand[1] - 2.5, 2.2])
    rots = [look_at(p, hand) for p in (behind, side)]
    cams = Cameras(np.arange(2, dtype=np.int32), np.stack([behind, side]), np.stack(rots),
                   np.tile([640.0, 640.0, 640.0, 480.0], (2, 1)),
                   np.tile([1280, 960], (2, 1)).astype(np.int32))
    cs = CameraSystem(kiosk, cams)
    assert in_image(cams, hand[None])[:, 0].all()
    assert cs.hands_visible(hand[None], person)[:, 0].tolist() == [False, True]
    assert cs.hands_visible(hand[None], np.zeros((0, 2)))[:, 0].tolist() == [True, True]
    # another shopper half way between the side camera and the hand hides it too
    blocker = 0.5 * (side[:2] + hand[:2])
    assert not cs.hands_visible(hand[None], np.stack([person[0], blocker])).any()


def test_hands_come_as_often_as_they_are_seen_with_sigma_noise_sorted_by_camera(kiosk
                                                                              ) -> None:
    cams = ceiling_grid(kiosk)
    b = kiosk.bins
    front = np.flatnonzero(b.face == 0)[:40:4]
    hands = np.stack([bin_hand(kiosk, int(k)) for k in front])
    people = b.access_xy[front]
    model = DetectionModel(p_hand=0.6, sigma_hand_m=0.04, fp_per_frame=0.0)
    cs = CameraSystem(kiosk, cams, model, np.random.default_rng(9))
    p_seen = model.p_hand_seen(cs.hand_fractions(hands, people))
    seen = p_seen > 0
    assert seen.sum() >= 5 and (p_seen[seen] < 0.6).any()   # partly seen: less often
    n, errs = 0, []
    for f in range(300):
        fr = cs.detect(f, f / 15.0, people, hands=hands)
        key = list(zip(fr.hand_camera.tolist(), fr.hand_xyz[:, 0].tolist(), strict=True))
        assert key == sorted(key)
        assert set(fr.hand_camera.tolist()) <= set(np.flatnonzero(seen.any(axis=1)).tolist())
        n += len(fr.hand_camera)
        # match each report to the nearest true hand seen by that camera
        for c, p in zip(fr.hand_camera, fr.hand_xyz, strict=True):
            cand = hands[seen[c]]
            errs.append(cand[np.argmin(np.linalg.norm(cand - p, axis=1))] - p)
    assert n == pytest.approx(300 * p_seen.sum(), rel=0.06)
    assert np.std(np.array(errs), axis=0) == pytest.approx([0.04] * 3, rel=0.1)


def test_hands_do_not_change_the_people_detections(kiosk) -> None:
    """Hands draw their randomness after everything else: the same seed gives the same
    people detections with or without hands, and the same hands twice."""
    cams = ceiling_grid(kiosk)
    b = kiosk.bins
    k = int(np.flatnonzero(b.face == 0)[5])
    people = np.array([b.access_xy[k], [7.5, 1.5]])
    hands = np.stack([bin_hand(kiosk, k), np.full(3, np.nan)])
    frames = [CameraSystem(kiosk, cams, rng=np.random.default_rng(4)).detect(0, 0.0, people, h)
              for h in (None, hands, hands)]
    assert np.array_equal(frames[0].xy, frames[1].xy)
    assert np.array_equal(frames[1].hand_xyz, frames[2].hand_xyz)
    assert len(frames[0].hand_camera) == 0


@pytest.mark.parametrize("layout", ["grid", "low_grid", "shelf_facing"])
def test_plan_culling_gives_the_dense_results_bit_for_bit(layout, monkeypatch) -> None:
    """The culled path (large stores) and the dense path see the same: identical visible
    fractions and the same rays cast, for downward, low and tilted cameras, crowds
    clustered and spread, and people just outside the floor."""
    import twin.cameras as tcam
    from twin.placement import shelf_facing

    store = load_preset("kiosk")
    cams = {"grid": lambda: ceiling_grid(store),
            "low_grid": lambda: ceiling_grid(store, spacing=4.0, height=1.9),
            "shelf_facing": lambda: shelf_facing(store).cameras()}[layout]()
    cs = CameraSystem(store, cams)
    cs.dead[::5] = True
    rng = np.random.default_rng(4)
    x0, y0, x1, y1 = store.bounds
    for trial in range(3):
        xy = np.column_stack([rng.uniform(x0 - 0.3, x1 + 0.3, 25),
                              rng.uniform(y0 - 0.3, y1 + 0.3, 25)])
        if trial == 0:
            xy = xy[:1] + rng.normal(0.0, 0.6, (25, 2))
        out = []
        for above in (10**18, -1):
            monkeypatch.setattr(tcam, "_CULL_ABOVE", above)
            cs.rays_cast = 0
            out.append((cs.visible_fraction(xy), cs.rays_cast))
        assert (out[0][0] > 0).any()
        assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1]


# -- the compiled engine (twin._camera_kernels, twin._detect_kernels) ---------------------

def test_both_kernel_modules_block_at_the_same_slack() -> None:
    """Each kernel module keeps its own copy of the occluder test's 1 mm slack (a kernel
    module imports no other storetwin module); the copies agree."""
    from twin import _camera_kernels, _detect_kernels

    assert _camera_kernels.HIT_SLACK_M == _detect_kernels.HIT_SLACK_M == 1e-3


def test_exact_occluder_test_agrees_with_a_mesh_ray_cast(kiosk) -> None:
    """Sight lines against the fixture prisms, intersected exactly, say what a ray cast on
    the occluder mesh (nearest hit more than 1 mm before the target) says, but for lines
    that graze an edge within the ray tracer's float32 precision."""
    from trimesh.ray.ray_triangle import RayMeshIntersector

    from scenes.meshes import occluder_mesh
    cs = CameraSystem(kiosk, ceiling_grid(kiosk))
    rng = np.random.default_rng(7)
    n = 3000
    x0, y0, x1, y1 = kiosk.bounds
    o = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), np.full(n, 3.4)])
    t = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n),
                         rng.uniform(0.0, 1.7, n)])
    got = cs._fixture_blocked(o, t)
    mesh = occluder_mesh(kiosk)
    d = t - o
    length = np.linalg.norm(d, axis=1)
    loc, ray, _ = RayMeshIntersector(mesh).intersects_location(o, d / length[:, None])
    first = np.full(n, np.inf)
    np.minimum.at(first, ray, np.linalg.norm(loc - o[ray], axis=1))
    ref = first < length - 1e-3
    assert 0.2 < ref.mean() < 0.8
    assert (got != ref).sum() <= 3
    assert cs.rays_cast == n


@pytest.mark.parametrize("reverse", [False, True])
def test_a_diagonal_partition_blocks_what_crosses_it_whichever_way_its_corners_run(
        reverse) -> None:
    """Interior walls are prisms over rotated quadrilaterals: a sight line through a
    diagonal wall is blocked, one past its end or short of it is not, for corners given
    clockwise or counter-clockwise."""
    import dataclasses

    from scenes.store import Wall
    store = hand_store(())
    a, b = (3.0, 1.0), (7.0, 5.0)
    wall = Wall("diagonal", b if reverse else a, a if reverse else b, 0.2, False)
    cs = CameraSystem(dataclasses.replace(store, walls=store.walls + (wall,)),
                      down_cameras([[2.0, 4.0, 3.4]]))
    o = np.array([[2.0, 4.0, 3.4]] * 3)
    t = np.array([[8.0, 2.0, 1.0],     # through the middle of the wall
                  [9.0, 7.5, 1.0],     # past its far end
                  [4.0, 3.5, 1.0]])    # short of it
    assert cs._fixture_blocked(o, t).tolist() == [True, False, False]


def test_visible_fraction_is_the_same_in_a_fresh_process(kiosk) -> None:
    """The compiled engine gives the same bytes in another process (numba's cached machine
    code, or a fresh compile) as in this one."""
    import pickle
    import subprocess
    import sys

    cams = ceiling_grid(kiosk)
    xy = np.array([[0.8, 1.0], [1.3, 5.0], [6.2, 1.4], [6.5, 1.7], [11.5, 6.0], [14.2, 9.9]])
    here = CameraSystem(kiosk, cams).visible_fraction(xy)
    code = ("import pickle, sys, numpy as np\n"
            "from scenes import load_preset\n"
            "from twin.cameras import CameraSystem\n"
            "from twin.camgeom import ceiling_grid\n"
            "k = load_preset('kiosk')\n"
            f"xy = np.array({xy.tolist()!r})\n"
            "sys.stdout.buffer.write(pickle.dumps(CameraSystem(k, ceiling_grid(k))"
            ".visible_fraction(xy)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert np.array_equal(pickle.loads(out.stdout), here)
    assert (here > 0).any()


def test_detect_without_a_generator_is_an_error_geometry_is_not(kiosk) -> None:
    """No hidden fixed seed: a camera system built without ``rng`` answers geometry
    (visibility) but refuses to draw detections."""
    cs = CameraSystem(kiosk, ceiling_grid(kiosk))
    xy = np.array([[1.3, 5.0]])
    assert (cs.visible_fraction(xy) > 0).any()
    with pytest.raises(ValueError, match="rng=<numpy Generator>"):
        cs.detect(0, 0.0, xy)
