"""The appearance model (twin/appearance.py, twin._appearance_kernels.appearance): descriptors as
a camera sees a shopper's clothes, carried by CameraFrame, without moving any other draw."""

from __future__ import annotations

import numpy as np
import pytest

from core.knowledge import Cameras
from scenes import load_preset
from twin import _appearance_kernels
from twin.appearance import (
    BINS,
    AppearanceModel,
    D,
    false_positive_descriptors,
    kernel_table,
    pixel_descriptors,
    soft_assign,
)
from twin.cameras import CameraSystem
from twin.camgeom import ceiling_grid, look_at

RED = np.array([[170, 35, 40], [55, 75, 115], [224, 172, 130]], np.uint8)     # top, bottoms, skin
BLACK = np.array([[28, 28, 30], [28, 28, 30], [141, 85, 54]], np.uint8)


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


def _two_views(kiosk) -> Cameras:
    """A ceiling camera straight above (7.5, 5.0) and an oblique wall camera looking at it."""
    pos = np.array([[7.5, 5.0, 3.4], [1.0, 5.0, 2.8]])
    rot = np.stack([look_at(pos[0], np.array([7.5, 5.01, 0.0])),
                    look_at(pos[1], np.array([7.5, 5.0, 0.9]))])
    return Cameras(np.arange(2, dtype=np.int32), pos, rot,
                   np.tile([320.0, 320.0, 320.0, 240.0], (2, 1)),
                   np.tile([640, 480], (2, 1)).astype(np.int32))


def test_soft_assignment_kernel_matches_the_reference():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 255, size=(200, 3))
    rgb[:5] = [[0, 0, 0], [255, 255, 255], [28, 28, 30], [255, 0, 0], [1, 2, 3]]
    tab = kernel_table(AppearanceModel(), 0.1, 0.25, 1.7)
    protos, consts = tab[26:].reshape(-1, 3), tab[12:17]
    got = np.zeros((rgb.shape[0], BINS))
    for k in range(rgb.shape[0]):
        _appearance_kernels._soft_add(*rgb[k], 1.0, protos, consts, got[k], 0, np.empty(BINS))
    np.testing.assert_allclose(got, soft_assign(rgb), atol=1e-9)
    assert np.allclose(got.sum(axis=1), 1.0)


def test_what_a_camera_sees_of_a_shopper_depends_on_its_view(kiosk):
    cs = CameraSystem(kiosk, _two_views(kiosk))
    xy = np.array([[7.5, 5.0]])
    z = cs.appearance_of([0, 1], [0, 0], [1.0, 1.0], xy, RED[None])
    assert z.shape == (2, D) and z.dtype == np.float32
    assert np.allclose(z.sum(axis=1), 1.0, atol=1e-5) and (z >= 0).all()
    share = z.reshape(2, 3, BINS).sum(axis=2)          # legs, torso, head
    assert share[0, 2] > 0.6                            # from above: mostly the head
    assert share[1, 0] > 0.4 and share[1, 2] < 0.25    # from the side: mostly the legs
    # from the side, the red top shows in the torso's red bin, denim in the legs' blue one
    assert z[1, BINS + 4] > 0.5 * share[1, 1] > 0.05
    assert z[1, 3] > 0.3 * share[1, 0]
    # hidden by half: the legs go first (kappa_legs > kappa_torso)
    half = cs.appearance_of([1], [0], [0.5], xy, RED[None])
    assert half.reshape(3, BINS).sum(axis=1)[0] < share[1, 0] - 0.05


def test_shoppers_dressed_alike_come_out_close(kiosk):
    cs = CameraSystem(kiosk, _two_views(kiosk))
    xy = np.array([[7.5, 5.0], [7.5, 5.0], [7.5, 5.0]])
    looks = np.stack([RED, RED, BLACK])
    z = cs.appearance_of([1, 1, 1], [0, 1, 2], [1.0, 1.0, 1.0], xy, looks)
    assert np.array_equal(z[0], z[1])                   # noise-free: the same clothes
    assert np.linalg.norm(z[0] - z[2]) > 0.3
    rng = np.random.default_rng(1)
    noisy = cs.appearance_of([1] * 3, [0, 1, 2], [1.0] * 3, xy, looks,
                             rng.normal(size=(3, 3 + D)))
    assert np.linalg.norm(noisy[0] - noisy[1]) < np.linalg.norm(noisy[0] - noisy[2])
    with pytest.raises(ValueError, match="noise"):
        cs.appearance_of([1], [0], [1.0], xy, looks, np.zeros((1, D)))


def test_detect_adds_appearance_without_moving_any_other_draw(kiosk):
    cams = ceiling_grid(kiosk)
    rng = np.random.default_rng(5)
    xy = np.column_stack([rng.uniform(2, 13, 12), rng.uniform(1.5, 9.5, 12)])
    looks = np.stack([RED, BLACK] * 6)
    a = CameraSystem(kiosk, cams, rng=np.random.default_rng(9))
    b = CameraSystem(kiosk, cams, rng=np.random.default_rng(9))
    c = CameraSystem(kiosk, cams, rng=np.random.default_rng(9))
    for f in range(5):
        fa = a.detect(f, f / 15, xy, None, looks)
        fb = b.detect(f, f / 15, xy)
        fc = c.detect(f, f / 15, xy, None, looks)
        assert len(fa) > 10
        for name in ("camera", "xy", "conf", "hand_camera", "hand_xyz"):
            assert np.array_equal(getattr(fa, name), getattr(fb, name))
        assert fa.appearance.shape == (len(fa), D) and fb.appearance.shape == (len(fb), 0)
        assert fa.appearance.tobytes() == fc.appearance.tobytes()      # same seed, same bytes
    with pytest.raises(ValueError, match="looks"):
        a.detect(9, 0.6, xy, None, looks[:3])


def test_kept_view_draws_are_the_bits_drawn_afresh(kiosk):
    """The Describer keeps each view's keyed draws (shopper, camera, floor cell) between
    frames: descriptors from the cache, from a cache whose slots another view took and
    without a cache are the same bytes."""
    cams = ceiling_grid(kiosk)
    cs = CameraSystem(kiosk, cams, rng=np.random.default_rng(3))
    d = cs._describer
    rng = np.random.default_rng(4)
    n = 400
    cam = rng.integers(0, len(cams.camera), n)
    body = rng.integers(0, 30, n)
    xy = np.column_stack([rng.uniform(2, 13, 30), rng.uniform(1.5, 9.5, 30)])
    looks = np.stack([RED, BLACK, RED] * 10)
    ids = np.arange(100, 130)
    noise = rng.normal(size=(n, 3 + D))
    vis = rng.uniform(0.2, 1, n)
    fresh = d.describe(cam, body, vis, xy, looks, noise, ids=ids)
    first = d.describe(cam, body, vis, xy, looks, noise, ids=ids, cached=True)
    kept = d.describe(cam, body, vis, xy, looks, noise, ids=ids, cached=True)
    assert fresh.tobytes() == first.tobytes() == kept.tobytes()
    cache_id = d._cache[0]
    taken = cache_id[:, 0] >= 0
    assert taken.sum() > 300                      # ~400 views (a few share a slot)
    cache_id[taken, 1] += 1          # every slot now holds another camera's view
    again = d.describe(cam, body, vis, xy, looks, noise, ids=ids, cached=True)
    assert again.tobytes() == fresh.tobytes()
    moved = d.describe(cam, body, vis, xy + 1.0, looks, noise, ids=ids, cached=True)
    assert moved.tobytes() == d.describe(cam, body, vis, xy + 1.0, looks, noise,
                                         ids=ids).tobytes() != fresh.tobytes()


def test_false_positives_look_like_background():
    z = false_positive_descriptors(np.random.default_rng(0), 50, 0.015)
    assert z.shape == (50, D) and np.allclose(z.sum(axis=1), 1.0, atol=1e-5)
    grey = z.reshape(50, 3, BINS)[:, :, :3].sum(axis=(1, 2))     # black, grey, white bins
    assert (grey > 0.5).all()
    assert false_positive_descriptors(np.random.default_rng(0), 0, 0.015).shape == (0, D)


def test_pixel_descriptor_cuts_zones_by_height():
    """A camera looking straight down on a 2 x 2 px person: pixels at 1.6 m (head), 1.0 m
    (torso) and 0.3 m (legs) land in their zones, coloured as painted."""
    pos, rot = np.array([0.0, 0.0, 3.0]), look_at(np.array([0.0, 0.0, 3.0]),
                                                  np.array([0.0, 0.01, 0.0]))
    seg = np.full((2, 2), -1, np.int32)
    seg[0, 0] = seg[0, 1] = seg[1, 0] = 7
    depth = np.array([[1.4, 2.0], [2.7, 0.0]], np.float32)
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0], rgb[0, 1], rgb[1, 0] = (224, 172, 130), (170, 35, 40), (55, 75, 115)
    desc, npx = pixel_descriptors(rgb, seg, depth, pos, rot, np.array([1000.0, 1000.0, 1, 1]),
                                  np.array([3, 7]), 1.7)
    assert npx.tolist() == [0, 3] and (desc[0] == 0).all()
    share = desc[1].reshape(3, BINS).sum(axis=1)
    np.testing.assert_allclose(share, [1 / 3, 1 / 3, 1 / 3])
    assert desc[1, BINS + 4] > 0.3 and desc[1, 3] > 0.15     # red torso, denim legs
