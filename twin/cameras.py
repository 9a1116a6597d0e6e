"""Ceiling cameras as data, and the default-fidelity detection model.

A camera is a calibrated pinhole (pose + intrinsics + resolution). A person is a vertical
cylinder (``body_radius`` x ``body_height``) standing on the floor. Each camera tick the model
finds, for every camera-person pair, the *visible fraction*: the share of the person's
projected silhouette area that the camera sees.

How the visible fraction is computed
------------------------------------
The silhouette of a convex body is the projection of its camera-facing surface, so the
model samples that surface: ``side_samples`` points on the camera-facing half of the
cylinder's side (between the two limb lines, spread so each covers about the same image area,
on a golden-ratio lattice so that no occluding edge lines up with a row of them), plus
``top_samples`` equal-area points on the top disc when the camera is above the head. Each
sample carries the image area of its surface patch,

    area [px^2] = fx * fy * dA * (n . (C - X)) / depth^3,

(dA the patch's surface area, n its outward normal, C the camera centre, X the sample, depth
along the optical axis), so the weights sum to the full silhouette area. A sample counts as
visible when it projects inside the image and the line of sight from the camera reaches it
without hitting a fixture or interior wall (the bodies of :func:`scenes.meshes.occluder_mesh`,
convex vertical prisms, intersected exactly in float64: the first surface hit must lie more
than 1 mm before the sample) or another person's cylinder (analytic). The visible fraction
is the visible samples' area over the whole silhouette's area. **The part of the silhouette
outside the image counts as hidden**: the denominator is the full, unclipped
silhouette, so a person half out of the picture is at most 0.5 visible. This is what the
rendered segmentation says when its person pixels are divided by the pixels of that person
rendered alone on an unbounded image (see :mod:`twin.render` and ``tests/twin/test_render.py``,
which checks the two agree).

The visible fraction and distance set the detection probability, the floor-position noise
and the confidence; false positives are sprinkled per camera. Hands reaching into shelf bins
are reported in 3-D by every camera that sees them. Given the people's looks, each detection
carries an appearance descriptor (:mod:`twin.appearance`, one more compiled call). Detections
are sorted by camera and x, so their order carries no identity. People whose silhouettes
overlap in a camera's image may come out as one detection, and one person as two, at rates
fitted to the pixel detector (:mod:`twin.merges`, one more small compiled call).

Cost: one compiled call per frame (:mod:`twin._camera_kernels`, numba; hands and detections:
:mod:`twin._detect_kernels`; the first call in a fresh process loads the machine code numba
caches beside those modules, ~0.5 s, or compiles it once, ~15-20 s). Only camera-person
pairs whose silhouette's bounding box overlaps the image are sampled; sight lines go to an
occluder only for pairs whose line-of-sight corridor can cross its bounding box, and each
person is tested only against the people whose image boxes overlap theirs in the same camera
and who may stand across the corridor. A body wholly inside the picture with nothing in its
corridor is fully visible (1) without sampling. In large stores a plan-view grid lists the
people each camera can see (:mod:`twin.culling`). On the kiosk (30 cameras, 20 shoppers) a
frame costs ~0.3 ms.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from core.knowledge import Cameras
from core.records import CameraFrame
from params import check, config, num
from scenes.meshes import stock_boxes, wall_quads
from scenes.store import Store
from twin.appearance import AppearanceModel, Describer
from twin.camgeom import cylinder_hits
from twin.culling import culling_tables
from twin.handover import hand_passes
from twin.merges import Merger
from twin.people import ARM_RADIUS_M, HAND_RADIUS_M, shoulder_point

# The visible-fraction computation culls camera-person pairs with a plan-view grid
# (:mod:`twin.culling`) once cameras x people^2 exceeds this; below it every camera scans
# every person (against its plan box). Both paths give identical results.
_CULL_ABOVE = 200_000


_NONE = np.zeros(0, dtype=np.int64)   # "no list" for the kernels' optional tables
_KERNELS = None                       # twin._camera_kernels, once imported
_DETECT = None                        # twin._detect_kernels, once imported


def _kernels():
    """The compiled visible-fraction kernels (:mod:`twin._camera_kernels`), imported on first
    use so that importing this module loads no numba."""
    global _KERNELS
    if _KERNELS is None:
        # a large store's frames run on numba's OpenMP threads; spinning idle between frames
        # they take the CPU the core's process needs, so waiting threads sleep (2 cores,
        # supercenter beside its core process: 1.24x real time passive, 1.10x spinning);
        # set OMP_WAIT_POLICY before the first frame to choose otherwise
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from twin import _camera_kernels
        _KERNELS = _camera_kernels
    return _KERNELS


def _detect():
    """The compiled kernels of single sight lines, hands and detections
    (:mod:`twin._detect_kernels`), imported on first use."""
    global _DETECT
    if _DETECT is None:
        from twin import _detect_kernels
        _DETECT = _detect_kernels
    return _DETECT


def _prism_table(corners: np.ndarray, zr: np.ndarray) -> np.ndarray:
    """(b, 14) float64 convex vertical prisms as the kernels take them: the outward
    half-planes nx, ny, off (inside: nx x + ny y <= off) of the plan quadrilaterals
    ``corners`` (b, 4, 2) [m] (either direction), then zlo, zhi [m] from ``zr`` (b, 2)."""
    p = np.asarray(corners, dtype=np.float64)
    q = np.roll(p, -1, axis=1)
    ccw = ((p[:, :, 0] * q[:, :, 1] - q[:, :, 0] * p[:, :, 1]).sum(axis=1) > 0)[:, None]
    e = q - p
    n = np.where(ccw[..., None], np.stack([e[..., 1], -e[..., 0]], axis=2),
                 np.stack([-e[..., 1], e[..., 0]], axis=2))
    n /= np.maximum(np.linalg.norm(n, axis=2, keepdims=True), 1e-300)
    planes = np.concatenate([n, (n * p).sum(axis=2)[..., None]], axis=2)
    return np.ascontiguousarray(np.concatenate([planes.reshape(-1, 12), zr], axis=1))


@config(frozen=True)
class DetectionModel:
    """Parameters of the geometric detection model.

    The visible fraction the detection probability depends on is calibrated against rendered
    segmentation masks (``tests/twin/test_render.py``): with the default sampling it agrees
    with the mask within 0.05 on >= 95% of person-camera pairs. The detection probability
    and the foot-point noise are fitted to the shipped pixel detector
    (:mod:`twin.pixdetect`) on rendered kiosk crowds of 10 / 20 / 40 shoppers (seeds 1-2,
    320 x 240 px, ``python -m experiments.bench.merges --fit``; docs/sensing.md, "Merges,
    splits, misses and position error measured"): maximum likelihood over camera-person
    pairs whose image box no other person's overlaps. False positives stay an assumption.
    """

    # detection probability: p_max x a ramp in the visible fraction (0 at min_visible, 1 at
    # full_visible) x exp(-(d - full_range_m) / range_scale_m) beyond full_range_m of
    # horizontal distance d. Fitted: the pixel detector fires on 50-75 % of lone people at
    # any visible fraction above ~0.2 (it finds a head at the image's edge as readily as a
    # whole body) and on fewer farther out (0.75 at 0-1 m, 0.38 at 2-3 m)
    p_max: float = num(0.679, gt=0, le=1)
    min_visible: float = num(0.0, ge=0, lt=1)   # at or below this visible fraction: never
    full_visible: float = num(0.236, gt=0, le=1)
    full_range_m: float = num(7.3, ge=0, unit="m")     # [m] p not reduced up to here
    range_scale_m: float = num(37.3, gt=0, unit="m")   # e-folding of p beyond it [m]
    # per-axis foot-point noise (sigma0_m + sigma_per_m d) (2 - visible fraction) [m]
    # (fitted: the pixel detector's paired errors over (2 - vis), RMS per distance bin, to
    # 3 m; per axis 0.04 m at 0-1 m, 0.10-0.17 m at 1-2 m, 0.14-0.21 m at 2-3 m)
    sigma0_m: float = num(0.0169, ge=0, unit="m")
    sigma_per_m: float = num(0.0483, ge=0, unit="m/m")
    # false positives per camera per frame (Poisson mean)
    fp_per_frame: float = num(0.005, ge=0)
    # person as a vertical cylinder [m] (shoulder half-width)
    body_radius: float = num(0.25, gt=0, unit="m")
    body_height: float = num(1.7, gt=0, unit="m")      # [m] (US adult mean ~1.69 m, CDC NHANES)
    # Surface sampling of the visible fraction (a golden-ratio lattice on the side, a
    # sunflower on the top disc). 64 + 24 points keep the model within 0.05 of the rendered
    # mask on >= 95% of pairs (measured, tests/twin/test_render.py); fewer is faster and
    # coarser.
    # points on the camera-facing half of the side
    side_samples: int = num(64, ge=1, le=1024, integer=True)
    # points on the top disc (cameras above the head)
    top_samples: int = num(24, ge=1, le=1024, integer=True)
    # nearest depth a camera images [m] (lens near plane)
    near_m: float = num(0.1, gt=0, unit="m")
    # Hands. How much of a hand a camera sees is measured (hand_fractions: the hand ball at
    # the end of its arm, hidden by the stock as rendered: within 0.05 of the rendered hand on
    # 97.7-100 % of pairs on four seeds,
    # docs/sensing.md). What a hand detector / keypoint model does with it is an assumption,
    # as for bodies: it finds a hand with probability rising linearly from 0 at
    # hand_min_visible to p_hand at hand_full_visible of the hand seen (half a hand: as much
    # as a hand in a stocked bin shows from the aisle), and, triangulated or lifted with
    # depth, places it to a few centimetres.
    p_hand: float = num(0.8, ge=0, le=1)     # probability of reporting a well-seen hand
    hand_min_visible: float = num(0.1, ge=0, lt=1)     # below this share seen: never
    hand_full_visible: float = num(0.5, gt=0, le=1)    # from this share seen: p_hand
    # 3-D position noise of a reported hand, per axis [m]
    sigma_hand_m: float = num(0.03, ge=0, unit="m")
    # a hand this close to a bin's box counts as in the bin [m]
    bin_margin_m: float = num(0.02, ge=0, unit="m")
    # A camera that reports a hand held out between two people (a hand-over) and sees at
    # least this share of both bodies reports who gave and who took, as an action-recognition
    # model on a pose would (assumption: a quarter of each body shows the arm's direction)
    pass_min_visible: float = num(0.25, ge=0, le=1)

    # Merges and splits (twin.merges), fitted to the pixel detector on rendered kiosk crowds
    # (experiments/bench/merges.py, seeds 1-2, docs/sensing.md "Merges, splits, misses"):
    # two detected people whose image boxes overlap (IoU o > 0) come out as one detection
    # with probability 1 / (1 + exp(-(merge_logit0 + merge_logit_slope o)))
    # (fit: 0.07 at the least overlap, 0.16 at IoU 0.25, 0.35 at 0.5; -60: no merges)
    merge_logit0: float = num(-2.61, ge=-60, le=20)
    merge_logit_slope: float = num(3.39, ge=0, le=100)     # [1 / IoU]
    # a detection comes out twice with this probability, the second split_offset_m away
    # (assumed: between the pixel detector's merge_m, 0.3 m, and the 0.8 m a split is
    # counted within). Fitted: 0.0217 pooled over 10-40 shoppers (the pixels' is 0.2-0.3 %
    # at 10-20, ~4 % at 40); off by default: a constant rate misfits that density
    # dependence
    split_rate: float = num(0.0, ge=0, le=1)
    split_offset_m: float = num(0.4, ge=0, unit="m")

    def __post_init__(self) -> None:
        check(self, "hand_full_visible", self.hand_full_visible > self.hand_min_visible,
              f"above hand_min_visible ({self.hand_min_visible:g})")
        check(self, "full_visible", self.full_visible > self.min_visible,
              f"above min_visible ({self.min_visible:g})")

    def p_hand_seen(self, fraction: np.ndarray) -> np.ndarray:
        """Probability that a camera seeing ``fraction`` of a hand reports it."""
        ramp = (np.asarray(fraction, np.float64) - self.hand_min_visible) / (
            self.hand_full_visible - self.hand_min_visible)
        return self.p_hand * np.clip(ramp, 0.0, 1.0)

    @property
    def samples_per_pair(self) -> int:
        """Surface samples of one person in one camera."""
        return self.side_samples + self.top_samples


@functools.lru_cache(maxsize=8)
def _sunflower(n: int) -> np.ndarray:
    """(n, 2) points of the unit disk, uniform in area (a sunflower), read-only."""
    q = np.arange(n, dtype=np.float64)
    r = np.sqrt((q + 0.5) / n)
    th = q * np.pi * (3.0 - np.sqrt(5.0))
    out = np.column_stack([r * np.cos(th), r * np.sin(th)])
    out.flags.writeable = False
    return out


class CameraSystem:
    """All cameras of a store; turns people positions into a :class:`CameraFrame`."""

    def __init__(self, store: Store, cams: Cameras, model: DetectionModel | None = None,
                 rng: np.random.Generator | None = None,
                 dead: np.ndarray | None = None,
                 appearance: AppearanceModel | None = None) -> None:
        self.store = store
        self.cams = cams
        self.model = model or DetectionModel()
        # None: geometry only (visibility, coverage); detect() needs a generator and says so,
        # rather than drawing from a hidden fixed seed
        self.rng = rng
        # appearance draws come from a stream of their own, or are keyed by the seed
        # (twin.appearance.Describer): describing how people look moves no other draw
        self.appearance = appearance or AppearanceModel()
        self._describer = Describer(self.appearance, cams, self.model.near_m,
                                    self.model.body_radius, self.model.body_height, rng)
        # merges and splits (twin.merges): a stream of their own, spawned after the describer's
        self._merger = Merger(self.model, cams, rng)
        self.dead = np.zeros(len(cams.camera), dtype=bool) if dead is None else dead.astype(bool)
        self.rays_cast = 0
        # occluders (fixtures, then interior wall pieces) as convex vertical prisms (plan
        # corners (b, 4, 2), z range (b, 2)) and their axis-aligned bounds lo, hi (b, 3)
        corners, zr = [np.zeros((0, 4, 2))], [np.zeros((0, 2))]
        if store.fixtures:
            lo, hi = store.fixture_boxes()
            corners.append(np.stack([lo[:, :2], np.column_stack([hi[:, 0], lo[:, 1]]),
                                     hi[:, :2], np.column_stack([lo[:, 0], hi[:, 1]])], axis=1))
            zr.append(np.column_stack([lo[:, 2], hi[:, 2]]))
        quads = wall_quads(store)
        for w in store.walls:
            if not w.perimeter and w.name in quads and len(quads[w.name]):
                q = np.asarray(quads[w.name], dtype=np.float64)
                corners.append(q)
                zr.append(np.tile([0.0, store.ceiling_height], (len(q), 1)))
        corners = np.concatenate(corners)
        zr = np.concatenate(zr)
        self._box_lo = np.column_stack([corners.min(axis=1), zr[:, 0]])
        self._box_hi = np.column_stack([corners.max(axis=1), zr[:, 1]])
        self._prisms = _prism_table(corners, zr)
        # footprints grown by the body radius, and tops (b, 5) [m]: the corridor test's boxes
        r = self.model.body_radius
        self._grown = np.ascontiguousarray(np.column_stack(
            [self._box_lo[:, :2] - r, self._box_hi[:, :2] + r, self._box_hi[:, 2]]))
        # what blocks a view (scenes.meshes.occluder_mesh's bodies); None: nothing does
        self._ray = (self._prisms, self._box_lo, self._box_hi) if len(corners) else None
        # unit sample layout (see the module docstring): sample j of n on the side sits at
        # ((j + 1/2) / n, frac(1/2 + j g)) of (across, up), g the golden ratio's fraction, so
        # no two share a row or a column and an occluding edge in any direction cuts the set
        # evenly; the top disc gets a sunflower (Vogel) spiral of equal-area points.
        m = self.model
        g = (np.sqrt(5.0) - 1) / 2
        j = np.arange(m.side_samples)
        self._s_side = 2 * (j + 0.5) / m.side_samples - 1                 # in (-1, 1)
        self._z_side = ((0.5 + j * g) % 1.0) * m.body_height
        k = np.arange(m.top_samples)
        r = m.body_radius * np.sqrt((k + 0.5) / m.top_samples)
        a = k * np.pi * (3 - np.sqrt(5.0))
        self._top_off = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)   # (t, 2)
        # each body's outline at the feet and the head, for image bounding boxes: a polygon
        # circumscribing the circle (its projection contains the circle's)
        ang = np.arange(8) * np.pi / 4
        rr = m.body_radius / np.cos(np.pi / 8)
        ring = np.stack([rr * np.cos(ang), rr * np.sin(ang)], axis=1)
        self._outline = np.concatenate([np.column_stack([ring, np.zeros(8)]),
                                        np.column_stack([ring, np.full(8, m.body_height)])])
        self._outline_cam = np.ascontiguousarray(
            np.matmul(self._outline[None], cams.rotation))                    # (c, 16, 3)
        # the camera tables as the kernels take them (contiguous float64)
        self._cam_pos = np.ascontiguousarray(cams.position, dtype=np.float64)
        self._cam_rot = np.ascontiguousarray(cams.rotation, dtype=np.float64)
        self._intr = np.ascontiguousarray(cams.intrinsics, dtype=np.float64)
        self._res = np.ascontiguousarray(cams.resolution, dtype=np.float64)
        b = store.bins
        self._bins = tuple(np.ascontiguousarray(a, dtype=np.float64).reshape(-1, k) for a, k in
                           ((b.lo, 3), (b.hi, 3), (b.normal, 2)))
        # each bin's stock as rendered (standing proud of the face): what hides a hand in it
        self._stock = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in stock_boxes(store))
        self._cull: dict | None = None        # plan-view culling tables, built on first use

    # -- plan-view culling (large stores) ---------------------------------------------

    def _culling(self) -> dict:
        """Tables for culling camera-person pairs in plan (:func:`twin.culling.culling_tables`),
        built once."""
        if self._cull is None:
            m = self.model
            self._cull = culling_tables(self.cams, self.store.bounds, m.body_radius,
                                        m.body_height, m.near_m, self._box_lo, self._box_hi,
                                        self._grown)
        return self._cull

    # -- ray tests ----------------------------------------------------------------------

    def _fixture_blocked(self, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(r,) bool: a fixture or interior wall lies between origin and target (r, 3) [m]
        (its first surface hit on the way is more than 1 mm before the target)."""
        if self._ray is None or origins.shape[0] == 0:
            return np.zeros(origins.shape[0], dtype=bool)
        self.rays_cast += origins.shape[0]
        return _detect().segments_blocked(np.ascontiguousarray(origins, dtype=np.float64),
                                          np.ascontiguousarray(targets, dtype=np.float64),
                                          *self._ray)

    def _people_blocked(self, origins, targets, owner, xy) -> np.ndarray:
        """(r,) bool: another person's cylinder lies between origin and target.

        origins, targets: (r, 3) [m]; owner: (r,) int index into xy of the person the target
        belongs to (its own cylinder does not count; -1: none); xy: (s, 2) [m]."""
        m = self.model
        if xy.shape[0] == 0 or origins.shape[0] == 0:
            return np.zeros(origins.shape[0], dtype=bool)
        hit = cylinder_hits(origins[:, None, :], (targets - origins)[:, None, :],
                             xy[None, :, :], m.body_radius, m.body_height)
        own = owner >= 0
        hit[np.flatnonzero(own), owner[own]] = False
        return hit.any(axis=1)

    # -- the visible fraction -----------------------------------------------------------

    def _samples(self, ci: np.ndarray, pxy: np.ndarray):
        """Camera-facing surface samples of the body at ``pxy`` (p, 2) [m] seen by camera
        ``ci`` (p,) int.

        Returns area (p, k) [px^2] the image area of each sample's patch (0 for patches
        facing away), in_image (p, k) bool, and a function that gives the samples' world
        positions (q, k, 3) [m] for a subset (q,) of the pairs."""
        m = self.model
        area, inimg, pts = _kernels().samples(
            np.ascontiguousarray(ci, dtype=np.int64),
            np.ascontiguousarray(pxy, dtype=np.float64).reshape(-1, 2), self._cam_pos,
            self._cam_rot, self._intr, self._res, self._s_side, self._z_side, self._top_off,
            m.body_radius, m.body_height, m.near_m)
        return area, inimg, lambda q: pts[q]

    def _visibility(self, xy: np.ndarray, live: np.ndarray, dense: bool = True):
        """The visible fraction of every body in every live camera (0 in dead ones): one
        call of :func:`twin._camera_kernels.visibility`, over every camera-body pair or over
        the pairs the plan-view culling lists. dense: a (c, s) float64 matrix; else the
        seen pairs only, (camera, body, fraction) arrays in (camera, body) order."""
        m = self.model
        c = self.cams.camera.shape[0]
        s = xy.shape[0]
        visible = np.zeros((c, s) if dense else (0, 0))
        if s == 0 or not live.any():
            return visible if dense else (np.zeros(0, np.int64), np.zeros(0, np.int64),
                                          np.zeros(0))
        xy = np.ascontiguousarray(xy)
        cu = self._culling()
        start = body = _NONE
        box_start, box_list = cu["box_start"], cu["boxes"]
        if c * s * s > _CULL_ABOVE:
            bx0, by0, bx1, by1 = cu["bounds"]
            if (xy[:, 0].min() >= bx0 and xy[:, 0].max() <= bx1 and xy[:, 1].min() >= by0
                    and xy[:, 1].max() <= by1):
                from twin._cull_kernels import cull_lists
                start, body = cull_lists(
                    xy, cu["origin"], cu["cell"], cu["nx"], cu["ny"], cu["cell_start"],
                    cu["cell_cams"], cu["ext"], c)
        cap = body.shape[0] if start.shape[0] else c * s
        pc = np.empty(cap, np.int64)
        pj = np.empty(cap, np.int64)
        pv = np.empty(cap)
        rays, n = _kernels().visibility(
            xy, np.ascontiguousarray(live, dtype=bool), self._cam_pos, self._cam_rot,
            self._intr, self._res, self._outline_cam, self._s_side, self._z_side,
            self._top_off, m.body_radius, m.body_height, m.near_m, cu["ext"],
            cu["bounds_arr"], start, body, box_start, box_list, cu["boxes_grown"], self._grown,
            self._prisms, visible, pc, pj, pv)
        self.rays_cast += rays
        return visible if dense else (pc[:n], pj[:n], pv[:n])

    def visible_fraction(self, xy: np.ndarray) -> np.ndarray:
        """(c, s) float64 share of each person's projected silhouette that each camera sees.

        xy: (s, 2) float64 people's floor positions [m]. The silhouette is the full,
        unclipped projection of the body cylinder; what falls outside the image counts as
        hidden, as do parts behind fixtures, interior walls and other people. Dead cameras
        see nothing (0)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return self._visibility(xy, ~self.dead)

    # -- hands --------------------------------------------------------------------------

    def hands_visible(self, hands: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """(c, h) bool: which live cameras see each hand.

        hands: (h, 3) float64 hand positions [m] (NaN rows: no hand); xy: (s, 2) people [m].
        A hand must project into the image and be reachable by a line of sight that no
        fixture and no body (the reaching person's own included, unless the hand is inside
        it) interrupts. A hand inside a shelf bin (its box grown by ``bin_margin_m``) is
        seen only through the bin's open front: the sight line must enter the bin's aisle
        face inside the opening, from the aisle side; fixtures are tested up to that face.
        """
        m = self.model
        hands = np.ascontiguousarray(hands, dtype=np.float64).reshape(-1, 3)
        xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
        seen = np.zeros((self.cams.camera.shape[0], hands.shape[0]), dtype=bool)
        bins = self._bins
        prisms, lo, hi = self._prisms, self._box_lo, self._box_hi
        self.rays_cast += _detect().hands_visible(
            hands, xy, ~self.dead, self._cam_pos, self._cam_rot, self._intr, self._res,
            m.near_m, bins[0], bins[1], bins[2], m.bin_margin_m, m.body_radius,
            m.body_height, prisms, lo, hi, seen)
        return seen

    def hand_fractions(self, hands: np.ndarray, xy: np.ndarray, samples: int = 128
                       ) -> np.ndarray:
        """(c, s) float64 share of each person's hand silhouette each live camera sees.

        hands: (s, 3) float64 hand of each person [m] (NaN rows: none), in the order of
        ``xy`` (s, 2) [m]. The hand is a ball (``twin.people.HAND_RADIUS_M``) at the end of
        an arm from the person's shoulder (:mod:`twin.people`, as rendered); ``samples``
        points of its silhouette, uniform in image area, are each hidden by: the stocked
        bin the hand is in (its box), fixtures and interior walls, every body (the
        reaching person's own included) and every arm. A hand whose centre is outside the
        image, or behind the camera, gets 0 (as a body's centre does not: a hand is small).
        """
        hands = np.ascontiguousarray(hands, dtype=np.float64).reshape(-1, 3)
        xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
        if hands.shape[0] != xy.shape[0]:
            raise ValueError(f"hand_fractions: {hands.shape[0]} hands for {xy.shape[0]} people")
        rows = np.flatnonzero(np.isfinite(hands).all(axis=1))
        out = np.zeros((self.cams.camera.shape[0], hands.shape[0]))
        out[:, rows] = self._hand_fractions_of(hands, xy, rows, samples)
        return out

    def _hand_fractions_of(self, hands: np.ndarray, xy: np.ndarray, rows: np.ndarray,
                           samples: int = 128) -> np.ndarray:
        """(c, r) :meth:`hand_fractions` of the hands of people ``rows`` (r,) only (each row
        a finite hand of ``hands`` (s, 3) [m]), the rest of the store as it is."""
        m = self.model
        arm_a = np.zeros((rows.size, 3))
        arm_b = np.zeros((rows.size, 3))
        for j, k in enumerate(rows):
            s_ = shoulder_point(xy[k], hands[k], m.body_radius, m.body_height)
            d = hands[k] - s_
            n = float(np.linalg.norm(d))
            arm_a[j] = s_
            arm_b[j] = hands[k] - d / n * HAND_RADIUS_M if n > HAND_RADIUS_M else s_
        disk = _sunflower(samples)
        out = np.zeros((self.cams.camera.shape[0], rows.size))
        bins = self._bins
        self.rays_cast += _detect().hand_fractions(
            np.ascontiguousarray(hands[rows]), xy, ~self.dead, self._cam_pos, self._cam_rot, self._intr, self._res,
            m.near_m, bins[0], bins[1], *self._stock, m.bin_margin_m, m.body_radius,
            m.body_height, self._prisms, self._box_lo, self._box_hi, arm_a, arm_b, ARM_RADIUS_M,
            HAND_RADIUS_M, disk, out)
        return out

    # -- detections ---------------------------------------------------------------------

    def detect(self, frame: int, t: float, xy: np.ndarray, hands: np.ndarray | None = None,
               looks: np.ndarray | None = None, ids: np.ndarray | None = None,
               receivers: np.ndarray | None = None) -> CameraFrame:
        """Detections of people standing at ``xy`` (s, 2) [m] at time ``t`` [s].

        hands: (s, 3) float64 hand of each person reaching into a bin [m], NaN rows for
        people not reaching (None: nobody). Each camera reports a hand with a probability
        of how much of it it sees (:meth:`hand_fractions`, ``DetectionModel.p_hand_seen``)
        and per-axis noise ``sigma_hand_m``, sorted by camera then x.

        looks: (s, 3, 3) uint8 each person's top, bottoms and skin (:mod:`agents.looks`);
        given, every detection carries an appearance descriptor (n, D) as that camera sees
        the person (:mod:`twin.appearance`; false positives: a patch of background), drawn
        from a stream of its own so that no other draw moves; None: appearance (n, 0).
        ids: (s,) each person's id, which keys the descriptors' persistent error (None: the
        rows). receivers: (s,) for a person holding a hand out to another (a hand-over), the
        receiver's row, -1 for the others (None: nobody): a camera that reports such a hand
        and sees both people (each ``pass_min_visible`` or more) reports where they stand,
        giver then receiver (``CameraFrame.hand_pass``), with body noise from a stream keyed
        by the frame (no other draw moves)."""
        if self.rng is None:
            raise ValueError("CameraSystem.detect draws misses, noise and false positives: "
                             "construct the CameraSystem with rng=<numpy Generator>")
        xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
        s = xy.shape[0]
        if looks is not None and np.shape(looks) != (s, 3, 3):
            raise ValueError(f"detect: looks must be {(s, 3, 3)}, got {np.shape(looks)}")
        cc, ss, vis, dxy, conf = self._body_detections(xy)
        fc, fxy, fconf = self._false_positives()
        hand_cam = hand_xyz = hand_pass = None
        if hands is not None:
            hand_cam, hand_xyz, owner = self._hand_detections(hands, xy)
            if receivers is not None:
                hand_pass = hand_passes(self.model, self._cam_pos[:, :2], self.visible_fraction,
                                        self._merger.key, frame, hand_cam, owner, xy,
                                        receivers)
        app = None
        if looks is not None:
            app = self._describer.frame(cc, ss, vis, xy, looks, ids, fc.size)
        cc, dxy, conf, app = self._merger.apply(cc, ss, vis, dxy, conf, xy, app, frame)
        if fc.size:
            cc, dxy, conf = (np.concatenate(p) for p in ((cc, fc), (dxy, fxy), (conf, fconf)))
        order = np.lexsort((dxy[:, 0], cc))
        return CameraFrame(frame, t, cc[order], dxy[order], conf[order], hand_cam, hand_xyz,
                           None if app is None else app[order], hand_pass)

    def _body_detections(self, xy: np.ndarray):
        """The people the cameras report: camera (n,) int32, body (n,) int64, visible
        fraction (n,), noisy foot point (n, 2) [m] and confidence (n,), in (camera, body)
        order (one uniform per pair that may fire, then the noise)."""
        m = self.model
        rng = self.rng
        if xy.shape[0] == 0:
            return (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2)),
                    np.zeros(0))
        kern = _detect()
        cc, ss, dist, vis, p = kern.detection_hits(
            *self._visibility(xy, ~self.dead, dense=False), xy, self._cam_pos, m.p_max,
            m.min_visible, m.full_visible, m.full_range_m, m.range_scale_m)
        hit = rng.random(cc.size) < p
        cc, ss, dist, vis = cc[hit], ss[hit], dist[hit], vis[hit]
        # (arguments evaluate left to right: the (n, 2) noise is drawn first)
        dxy, conf = kern.detection_points(xy, ss, dist, vis, rng.normal(size=(cc.size, 2)),
                                          rng.normal(size=cc.size), m.sigma0_m, m.sigma_per_m)
        return cc, ss, vis, dxy, conf

    def _false_positives(self):
        """False positives inside each live camera's floor footprint: camera (f,) int32,
        floor point (f, 2) [m], confidence (f,)."""
        m = self.model
        rng = self.rng
        live = ~self.dead
        nfp = rng.poisson(m.fp_per_frame, size=live.size) * live
        if not nfp.any():
            return np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0)
        fc = np.repeat(np.arange(live.size), nfp)
        r = 2.0 * np.sqrt(rng.random(fc.size))
        a = rng.random(fc.size) * 2 * np.pi
        fxy = self.cams.position[fc, :2] + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        x0, y0, x1, y1 = self.store.bounds
        fxy = np.clip(fxy, [x0, y0], [x1, y1])
        return fc.astype(np.int32), fxy, 0.1 + 0.4 * rng.random(fc.size)

    def _hand_detections(self, hands: np.ndarray, xy: np.ndarray):
        """The hands the cameras report: camera (h,) int32, noisy position (h, 3) [m] and
        whose hand (h,) int64 (a row of ``xy``), sorted by camera then x (no draws when no
        camera may see a hand)."""
        m = self.model
        rng = self.rng
        s = xy.shape[0]
        hands = np.ascontiguousarray(hands, dtype=np.float64).reshape(-1, 3)
        if hands.shape[0] != s:
            raise ValueError(f"detect: hands has {hands.shape[0]} rows for {s} people")
        rows = np.flatnonzero(np.isfinite(hands).all(axis=1))
        none = np.zeros(0, np.int32), np.zeros((0, 3)), np.zeros(0, np.int64)
        if not rows.size:   # (no draws for no hands: the stream is the same either way)
            return none
        # only the columns of people reaching: the same pairs in the same (camera, person)
        # order as over every person, as rows ascends
        p_seen = m.p_hand_seen(self._hand_fractions_of(hands, xy, rows))
        hc, hr = np.nonzero(p_seen > 0.0)
        if not hc.size:
            return none
        hh = rows[hr]
        p_seen = p_seen[hc, hr]
        keep = rng.random(hc.size) < p_seen
        hc, hh = hc[keep], hh[keep]
        hxyz = hands[hh] + rng.normal(size=(hh.size, 3)) * m.sigma_hand_m
        order = np.lexsort((hxyz[:, 0], hc))
        return hc[order].astype(np.int32), hxyz[order], hh[order].astype(np.int64)

    def appearance_of(self, cam, body, vis, xy, looks, noise=None, model=None, ids=None,
                      key=None) -> np.ndarray:
        """:meth:`twin.appearance.Describer.describe` of this system's cameras."""
        return self._describer.describe(cam, body, vis, xy, looks, noise, model, ids, key)
