"""Appearance cues: what a camera's re-identification descriptor says about how a shopper
looks, and the same descriptor measured from rendered pixels (issue 22, part 4).

The descriptor
--------------
A body detection carries ``D = 24`` floats: a *zone colour histogram*, the classic
re-identification feature of horizontal stripes of a person, each a colour histogram (Gray &
Tao 2008, ELF; Farenzena et al. 2010, SDALF). The body is cut into three zones by height
(Drillis & Contini 1966, as :mod:`twin.people` paints it): legs (below the hip, 0.530 H),
torso (to the shoulder, 0.818 H) and head (above it). Each zone's pixels are soft-assigned
to :data:`PROTOTYPES`, 8 colour prototypes, in a lighting-robust colour space
(:func:`colour_features`): chromaticity r = R / (R + G + B), g = G / (R + G + B), which a
change of light level leaves alone, and a compressed brightness ``BRIGHTNESS_W * ln(v +
V_EPS)``, v = (R + G + B) / 765, so black and white still differ but a shaded side and a
lit top of one shirt stay close. A pixel's weight on prototype j is proportional to
exp(-|f - p_j|^2 / (2 TAU^2)), normalised over j. Zone z's 8 entries are its mean soft
assignment times its share of the person's seen pixels, so the whole vector sums to 1 and
says both which colours a camera sees and where on the body. Entries: legs 0-7, torso 8-15,
head 16-23; prototype order as in :data:`PROTOTYPES`.

What the camera sees
--------------------
The model (:func:`twin._appearance_kernels.appearance`, one compiled call per frame) builds the
same vector from a shopper's looks (:mod:`agents.looks`: bottoms on the legs, top on the
torso, skin on the head) as the camera sees them: the projected image area of each zone of
the body cylinder's camera-facing surface (side bands and the top disc, as the visible
fraction's samples weigh them), the lights of :class:`twin.lighting.Lighting` on each zone's
faces, and occlusion, which hides the low zones first (zone z keeps its area times
``vis ** kappa_z``, vis the body's visible fraction). Then noise: the zones' shares get log-normal noise of sigma ``sigma_zone0 +
sigma_zone_hidden * (1 - vis)``, each histogram entry normal noise ``sigma_colour``, is
clipped at 0, and the vector is normalised again. A rendered view's error repeats while the
view stays (shading, the body's edge, the arm over the torso), so each standard normal draw is
``sqrt(1 - rho)`` times a fresh one of this frame plus ``sqrt(rho)`` times one keyed by
(run, shopper, camera, floor cell of ``view_cell_m``) through a counter-based hash, the same
every frame (rho: ``persistent_share``; :class:`Describer`). A tracker that averages a
shopper's descriptors over frames removes only the fresh part, as it would from the pixels.
The zone exponents and the noise are fitted to rendered pixels
(:mod:`experiments.bench.appearance`; docs/sensing.md).

What it does not model: real lighting's colour casts and shadows, camera white balance,
textures and logos, carried bags, pose (arms are ignored): the renders have none of them
either, so a real store's descriptors are noisier than these.
"""

from __future__ import annotations

import functools

import numpy as np

from params import config, num
from twin.lighting import Lighting
from twin.people import HIP, SHOULDER

ZONES = ("legs", "torso", "head")
# (name, sRGB) of the colour prototypes: the neutrals and hues of agents.looks' palette
# (blacks, greys, whites; navy and denim; reds and pinks; greens; beige, khaki and light skin;
# brown and dark skin). An assumption, as a re-identification codebook is.
PROTOTYPES: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (24, 24, 26)),
    ("grey", (110, 110, 112)),
    ("white", (220, 220, 216)),
    ("blue", (40, 60, 130)),
    ("red", (170, 50, 60)),
    ("green", (60, 115, 60)),
    ("light warm", (215, 175, 135)),
    ("dark warm", (110, 72, 48)),
)
BINS = len(PROTOTYPES)
D = len(ZONES) * BINS          # 24 floats per detection
NOISE_DRAWS = len(ZONES) + D   # normal draws per detection: the zones' shares, the entries
# slots of a Describer's cache of keyed draws (a power of two; ~14,000 views are in sight at
# once in a supercenter of 600 shoppers and 2,752 cameras)
CACHE_SLOTS = 1 << 16
BRIGHTNESS_W = 0.15            # weight of ln-brightness against chromaticity (assumption)
V_EPS = 0.02                   # brightness floor of the logarithm (assumption)
TAU = 0.08                     # soft-assignment width in feature units (assumption)
CUTS = (0.0, HIP, SHOULDER, 1.0)   # zone boundaries as fractions of stature


@config(frozen=True)
class AppearanceModel:
    """How a camera's appearance descriptor departs from the shopper's clothes: occlusion
    hides low zones first, and the descriptor is noisy, more so when little of the body is
    seen. Defaults: fitted to rendered kiosk crowds, seed 0 (``python -m
    experiments.bench.appearance --fit``, docs/sensing.md)."""

    # zone z keeps its projected area times vis ** kappa_z (vis: the body's visible fraction)
    # (fitted: legs 2.0, head 0.0: fixtures and people hide legs first, a head last)
    kappa_legs: float = num(2.005, ge=0, le=10)
    kappa_torso: float = num(1.0, ge=0, le=10)      # held at 1: only the differences count
    kappa_head: float = num(0.0, ge=0, le=10)
    # log-normal noise of the zones' shares: sigma of a fully seen body, and added per unit
    # of the body hidden (fitted: the pixels' RMS error per bin of vis, 0.1173 and 0.315,
    # times the gain 2.5 that brings re-identification nearest the pixels' with the AUC within
    # 0.02 of theirs: their errors follow the view, which independent noise does not)
    sigma_zone0: float = num(0.2932, ge=0, le=5)
    sigma_zone_hidden: float = num(0.7875, ge=0, le=5)
    # normal noise of each entry of a zone's colour histogram, then clipped at 0 and
    # normalised (fitted)
    sigma_colour: float = num(0.0148, ge=0, le=1)
    # share of each draw's variance that persists while a shopper stays in one camera's view
    # from one floor cell (a draw keyed by run, shopper, camera and cell), the rest drawn
    # afresh each frame (fitted on 2 s of consecutive frames: the share of the error that is
    # fresh each frame, 0.29 in the pixels)
    persistent_share: float = num(0.83, ge=0, le=1)
    # side of the floor cells [m] over which a view's persistent error holds (assumption: a
    # shopper walking at ~1 m/s changes view, and the pixels' error with it, in about a second)
    view_cell_m: float = num(1.0, gt=0, le=100, unit="m")
    # azimuth steps of the body's side when the zones' areas and shades are summed
    azimuths: int = num(8, ge=4, le=64, integer=True)

    def table(self) -> np.ndarray:
        """(8,) float64 kappa_legs, kappa_torso, kappa_head, sigma_zone0, sigma_zone_hidden,
        sigma_colour, persistent_share, view_cell_m."""
        return np.array([self.kappa_legs, self.kappa_torso, self.kappa_head, self.sigma_zone0,
                         self.sigma_zone_hidden, self.sigma_colour, self.persistent_share,
                         self.view_cell_m])


def colour_features(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) float64 chromaticity r, g and weighted ln-brightness of sRGB colours (n, 3)
    (0-255, any dtype)."""
    c = np.asarray(rgb, np.float64).reshape(-1, 3)
    s = c.sum(axis=1)
    safe = np.where(s > 0, s, 1.0)
    r = np.where(s > 0, c[:, 0] / safe, 1.0 / 3.0)
    g = np.where(s > 0, c[:, 1] / safe, 1.0 / 3.0)
    return np.column_stack([r, g, BRIGHTNESS_W * np.log(s / 765.0 + V_EPS)])


PROTOTYPE_FEATURES = colour_features(np.array([p[1] for p in PROTOTYPES]))


def soft_assign(rgb: np.ndarray) -> np.ndarray:
    """(n, BINS) float64 soft assignment of sRGB colours (n, 3) to the prototypes (rows sum
    to 1)."""
    f = colour_features(rgb)
    d2 = ((f[:, None, :] - PROTOTYPE_FEATURES[None]) ** 2).sum(axis=2)
    w = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2 * TAU * TAU))
    return w / w.sum(axis=1, keepdims=True)


def kernel_table(model: AppearanceModel, near_m: float, radius_m: float, height_m: float,
                 lighting: Lighting | None = None) -> np.ndarray:
    """(26 + 3 BINS,) float64 everything :func:`twin._appearance_kernels.appearance` takes
    besides the pairs: the lens' near plane and the body cylinder [m], the model's azimuth
    steps and :meth:`AppearanceModel.table`, the descriptor's constants (BRIGHTNESS_W,
    V_EPS, TAU, HIP, SHOULDER), the lights of ``lighting`` (default :class:`Lighting`) and
    the prototypes' features."""
    return np.concatenate([[near_m, radius_m, height_m, model.azimuths], model.table(),
                           [BRIGHTNESS_W, V_EPS, TAU, HIP, SHOULDER],
                           (lighting or Lighting()).table(), PROTOTYPE_FEATURES.reshape(-1)])


def zone_albedo(looks: np.ndarray) -> np.ndarray:
    """(s, 3, 3) float64 albedo [0-255] of each shopper's zones (legs, torso, head) from their
    looks (s, 3, 3) uint8 (agents.looks rows top, bottoms, skin)."""
    lk = np.asarray(looks, np.float64).reshape(-1, 3, 3)
    return np.ascontiguousarray(lk[:, [1, 0, 2]])


def pixel_descriptors(rgb: np.ndarray, seg: np.ndarray, depth: np.ndarray,
                      position: np.ndarray, rotation: np.ndarray, intrinsics: np.ndarray,
                      ids: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
    """The descriptor measured from one rendered view: for each person id (s,), its pixels in
    ``seg`` (h, w) int32 cut into zones by the height of the surface they show (from
    ``depth`` (h, w) [m] along the optical axis and the camera's ``position`` (3,) [m],
    ``rotation`` (3, 3) world-from-camera, ``intrinsics`` fx, fy, cx, cy [px]; stature
    ``height`` [m]), their ``rgb`` (h, w, 3) uint8 soft-assigned and summed per zone.

    Returns (s, D) float64 descriptors (zeros for a person with no pixel) and (s,) int64
    pixels of each person."""
    ids = np.asarray(ids, np.int64).reshape(-1)
    out = np.zeros((ids.size, D))
    npx = np.zeros(ids.size, np.int64)
    rows, cols = np.nonzero(seg >= 0)
    if rows.size == 0 or ids.size == 0:
        return out, npx
    who = seg[rows, cols].astype(np.int64)
    order = np.argsort(ids)
    k = np.clip(np.searchsorted(ids[order], who), 0, ids.size - 1)
    ok = ids[order][k] == who
    rows, cols, k = rows[ok], cols[ok], order[k[ok]]
    fx, fy, cx, cy = (float(x) for x in intrinsics)
    z = depth[rows, cols].astype(np.float64)
    # world height of each pixel's surface point: C + R p, p = ((u - cx) z / fx, ...)
    pc = np.column_stack([(cols + 0.5 - cx) * z / fx, (rows + 0.5 - cy) * z / fy, z])
    hz = position[2] + pc @ np.asarray(rotation, np.float64)[2]
    zone = np.searchsorted(np.array(CUTS[1:-1]) * height, hz, side="right")
    soft = soft_assign(rgb[rows, cols])
    col = zone[:, None] * BINS + np.arange(BINS)[None]
    np.add.at(out, (np.repeat(k, BINS), col.reshape(-1)), soft.reshape(-1))
    npx = np.bincount(k, minlength=ids.size).astype(np.int64)
    out /= np.maximum(npx, 1)[:, None]
    return out, npx


@functools.lru_cache(maxsize=1)
def _grey_table() -> np.ndarray:
    """(256, D) descriptors of a uniform grey patch of each level, over the three zones."""
    g = np.arange(256, dtype=np.float64)
    out = np.tile(soft_assign(np.repeat(g[:, None], 3, axis=1)) / 3.0, (1, len(ZONES)))
    out.flags.writeable = False
    return out


def false_positive_descriptors(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """(n, D) float32 descriptors of false positives: a patch of background (a random grey
    floor or fixture, 60-200 of 255, spread over the three zones), with noise ``sigma``."""
    base = _grey_table()[rng.integers(60, 201, size=n)]
    out = np.clip(base + sigma * rng.normal(size=(n, D)), 0.0, None)
    s = out.sum(axis=1, keepdims=True)
    out = np.where(s > 0, out / np.where(s > 0, s, 1.0), 1.0 / D)
    return out.astype(np.float32)


def persistent_key(rng: np.random.Generator | int | None) -> np.ndarray:
    """(2,) uint64 key of the persistent draws, a hash of the seed of ``rng`` (its
    SeedSequence, with a tag of its own: nothing is drawn from ``rng``, nothing spawned) or of
    an int seed; (0,) for None (no persistent draws)."""
    if rng is None:
        return np.zeros(0, np.uint64)
    if isinstance(rng, np.random.Generator):
        ss = rng.bit_generator.seed_seq
        seq = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 0xA99E))
    else:
        seq = np.random.SeedSequence(int(rng), spawn_key=(0xA99E,))
    return seq.generate_state(2, np.uint64)


class Describer:
    """A camera system's appearance descriptors: the cameras as
    :func:`twin._appearance_kernels.appearance` takes them, the kernel table, the run's key
    of the persistent draws and the zone albedo of the last looks."""

    def __init__(self, model: AppearanceModel, cams, near_m: float, radius_m: float,
                 height_m: float, rng: np.random.Generator | None) -> None:
        self.model = model
        self._shape = (near_m, radius_m, height_m)
        self.table = kernel_table(model, near_m, radius_m, height_m)
        # frame draws from a stream of their own (spawned: rng is not advanced), persistent
        # ones keyed by the seed: describing how people look moves no other draw
        self.rng = rng.spawn(1)[0] if rng is not None else None
        self.key = persistent_key(self.rng)
        rot = np.asarray(cams.rotation, np.float64)
        self.cams = np.ascontiguousarray(np.column_stack(
            [cams.position, rot[:, :, 0], rot[:, :, 1], rot[:, :, 2], cams.intrinsics,
             cams.resolution, np.full(len(cams.camera), near_m)]), dtype=np.float64)
        self._albedo_of: tuple[np.ndarray, np.ndarray] | None = None
        # the keyed draws of the views seen lately (a view's draws are the same every frame
        # its shopper stays in the cell: kept, not drawn again; ~16 MB, made on first use)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def describe(self, cam, body, vis, xy, looks, noise=None, model=None, ids=None,
                 key=None, cached: bool = False) -> np.ndarray:
        """(n, D) float32 descriptors of bodies ``body`` (n,) int (rows of ``xy`` (s, 2) [m],
        dressed in ``looks`` (s, 3, 3) uint8, shopper ids ``ids`` (s,), None: the rows) seen
        by cameras ``cam`` (n,) int with visible fractions ``vis`` (n,): one kernel call.
        noise: (n, 3 + D) standard normal draws of this frame (None: the noise-free
        descriptor, no persistent part either); model: another :class:`AppearanceModel` (a
        fit tries many); key: of the persistent draws (:func:`persistent_key`; None: this
        system's); cached: keep and reuse this system's keyed draws of each view (the same
        bits; only with this system's key)."""
        from twin import _appearance_kernels

        cam = np.ascontiguousarray(cam)
        n = cam.shape[0]
        shape = (n, NOISE_DRAWS)
        if noise is None:
            noise, key = np.zeros(shape), np.zeros(0, np.uint64)
        noise = np.ascontiguousarray(noise, np.float64)
        if noise.shape != shape:
            raise ValueError(f"appearance_of: noise must be {shape}, got {noise.shape}")
        xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
        ids = np.arange(xy.shape[0]) if ids is None else ids
        out = np.empty((n, D), np.float32)
        table = self.table if model is None else kernel_table(model, *self._shape)
        cache_id, cache_draws = np.zeros((0, 4), np.int64), np.zeros((0, NOISE_DRAWS))
        if cached and key is None:
            if self._cache is None:
                self._cache = (np.full((CACHE_SLOTS, 4), -1, np.int64),
                               np.zeros((CACHE_SLOTS, NOISE_DRAWS)))
            cache_id, cache_draws = self._cache
        if n:
            _appearance_kernels.appearance(
                cam, np.ascontiguousarray(body), np.ascontiguousarray(vis, dtype=np.float64),
                xy, self._albedo(looks), self.cams, table, noise,
                np.ascontiguousarray(ids, dtype=np.int64),
                self.key if key is None else np.asarray(key, np.uint64), out, cache_id,
                cache_draws)
        return out

    def _albedo(self, looks: np.ndarray) -> np.ndarray:
        """:func:`zone_albedo` of ``looks``, kept while the same array (not changed in place:
        the simulation passes a new one when the people change) comes."""
        if self._albedo_of is None or self._albedo_of[0] is not looks:
            self._albedo_of = (looks, zone_albedo(looks))
        return self._albedo_of[1]

    def frame(self, cc, ss, vis, xy, looks, ids, n_fp: int) -> np.ndarray:
        """(n + n_fp, D) float32 descriptors of a frame's body detections (frame draws from
        the appearance stream, persistent ones keyed by shopper ``ids``), then of ``n_fp``
        false positives."""
        out = np.zeros((0, D), np.float32)
        if cc.size:
            out = self.describe(cc, ss, vis, xy, looks,
                                self.rng.normal(size=(cc.size, NOISE_DRAWS)), ids=ids,
                                cached=True)
        if n_fp:
            out = np.concatenate([out, false_positive_descriptors(
                self.rng, n_fp, self.model.sigma_colour)])
        return out
