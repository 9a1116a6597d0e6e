"""A classical person detector on rendered pixels, and its comparison with the detection model.

The detector is what a simple camera pipeline does with a static camera:

1. **Background subtraction** against the empty store rendered from the same camera
   (:meth:`twin.render.Renderer.background`): a pixel is foreground when some colour channel
   differs by more than ``diff_threshold``; a 3 x 3 opening removes specks.
2. **People from foreground**, by camera kind:

   - *down-looking* cameras (optical axis within ``down_max_deg`` of straight down, above the
     head): a head is the widest part of a person's silhouette (the top of the body is the
     nearest to the camera, so the largest in the image), and the top disc of a body of
     radius R at height H images as a circle of radius ``r_head = fx R / (cz - H)`` pixels
     wherever it is. Peaks of the foreground's distance transform (the image's edge counts
     as background) at least ``min_head_frac * r_head`` deep are head candidates, strongest
     first. A candidate is dropped when it lies on the predicted silhouette of a person
     already found (a body's own ridge), within ``nms_frac * r_head`` of one, or when the
     same body (foreground of the candidate's chromaticity) goes on past it away from the
     nadir (a body part whose head is further out); one weaker than ``strong_frac`` also
     needs foreground along its body's predicted axis and its outer side inside the image.
     Each head's pixel ray meets the plane z = H at the person's floor position. This
     splits blobs of touching people.
   - Foreground no head explains that runs off the image is a body whose head the edge cut
     off: it is placed by its feet (below) when a body standing there would run off the
     image and the blob covers at least ``min_blob_frac`` of that body's in-image area.
   - *oblique* cameras, and cut-off bodies: a blob's foot is its pixel whose ray meets the
     floor nearest to the camera (the near side of the feet); the person stands ``R``
     further away. With the empty store's depth map, a foot pixel where a fixture stands in
     front of the floor is hidden, and the blob is not placed.

3. **Merging**: detections of one camera whose floor positions are closer than ``merge_m``
   are one person (a body cut in two by an occluder); the stronger is kept.

Detections come as a :class:`core.records.CameraFrame` (camera, floor xy, confidence: the
head peak's depth over ``r_head``, or the blob's area over the expected body area), sorted
by camera then x like the model's.

:func:`compare_detectors` runs the detector and :class:`twin.cameras.CameraSystem` on the same
rendered frames and scores both against the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from scipy.spatial import ConvexHull

from core.knowledge import Cameras
from core.records import CameraFrame
from params import config, num
from scenes.store import Store
from twin.cameras import CameraSystem, DetectionModel
from twin.camgeom import ceiling_grid


@config(frozen=True)
class PixelDetectorConfig:
    """Parameters of the classical detector (chosen by hand on rendered kiosk frames)."""

    # foreground: some channel differs by more [0..255]
    diff_threshold: int = num(24, ge=0, lt=255, integer=True)
    down_max_deg: float = 30.0    # optical axis this close to straight down: head method [deg]
    # a head peak is at least this share of r_head deep
    min_head_frac: float = num(0.6, ge=0)
    strong_frac: float = 0.85     # weaker peaks need a body (foreground) along their axis
    max_peaks: int = 200          # peaks examined per image, strongest first
    chroma_tol: float = 0.08      # same body: normalised r, g, b within this of the head's
    # peaks closer than this many r_head to a stronger one: same
    nms_frac: float = num(1.5, ge=0)
    # head peaks at least this many r_head inside the image
    edge_frac: float = num(0.0, ge=0)
    # detections of one camera closer than this: one person [m]
    merge_m: float = num(0.3, ge=0, unit="m")
    # blobs under this share of a body's in-image area: noise
    min_blob_frac: float = num(0.6, ge=0)


def pixel_rays(cams: Cameras, i: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(n, 3) world directions (not unit) of the rays through pixel coordinates u, v (n,)
    [px] of camera ``i`` (pixel centres are at integer + 0.5)."""
    fx, fy, cx, cy = cams.intrinsics[i]
    d = np.column_stack([(u - cx) / fx, (v - cy) / fy, np.ones(u.shape[0])])
    return d @ cams.rotation[i].T


def rays_to_plane(cams: Cameras, i: int, u: np.ndarray, v: np.ndarray,
                  z: float) -> np.ndarray:
    """(n, 2) floor xy [m] where the rays through pixels u, v (n,) of camera ``i`` meet the
    horizontal plane at height ``z`` [m] (NaN for rays that do not reach it)."""
    d = pixel_rays(cams, i, u, v)
    c = cams.position[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (z - c[2]) / d[:, 2]
    t = np.where(t > 0, t, np.nan)
    return c[:2] + t[:, None] * d[:, :2]


def _hull_mask(hull: tuple[np.ndarray, np.ndarray], h: int, w: int) -> np.ndarray:
    """(h, w) bool pixels whose centres lie in a convex hull (half-planes, points)."""
    eq, pts = hull
    mask = np.zeros((h, w), dtype=bool)
    u0, v0 = np.floor(np.clip(pts.min(axis=0) - 1, 0, [w, h])).astype(int)
    u1, v1 = np.ceil(np.clip(pts.max(axis=0) + 1, 0, [w, h])).astype(int)
    if u1 <= u0 or v1 <= v0:
        return mask
    uu, vv = np.meshgrid(np.arange(u0, u1) + 0.5, np.arange(v0, v1) + 0.5)
    inside = np.ones(uu.shape, dtype=bool)
    for a, b, c in eq:
        inside &= a * uu + b * vv + c <= 0
    mask[v0:v1, u0:u1] = inside
    return mask


class PixelDetector:
    """Background subtraction and person finding for every camera of ``cams``.

    backgrounds: one (h, w, 3) uint8 empty-store image per camera (e.g. from
    :meth:`twin.render.Renderer.background`); model: the body size the detector assumes;
    background_depths: optionally one (h, w) float32 depth map [m] of the empty store per
    camera (a calibrated static camera knows its scene): a foot placed on a pixel where the
    empty store shows a fixture in front of the floor is hidden, so its blob is not placed
    by its feet.
    """

    def __init__(self, cams: Cameras, backgrounds: list[np.ndarray],
                 model: DetectionModel | None = None,
                 config: PixelDetectorConfig | None = None,
                 background_depths: list[np.ndarray] | None = None) -> None:
        if len(backgrounds) != len(cams.camera):
            raise ValueError(f"PixelDetector: {len(backgrounds)} backgrounds for "
                             f"{len(cams.camera)} cameras")
        if background_depths is not None and len(background_depths) != len(backgrounds):
            raise ValueError("PixelDetector: one background depth per background")
        self.cams = cams
        self.backgrounds = [np.asarray(b, dtype=np.int16) for b in backgrounds]
        self.background_depths = background_depths
        self.model = model or DetectionModel()
        self.config = config or PixelDetectorConfig()
        axis = cams.rotation[:, :, 2]                         # optical axes in the world
        m = self.model
        self.down = ((-axis[:, 2] >= np.cos(np.radians(self.config.down_max_deg)))
                     & (cams.position[:, 2] > m.body_height + 0.1))
        self.r_head = cams.intrinsics[:, 0] * m.body_radius / np.maximum(
            cams.position[:, 2] - m.body_height, 1e-6)

    def foreground(self, i: int, rgb: np.ndarray) -> np.ndarray:
        """(h, w) bool foreground of camera ``i``'s image (h, w, 3) uint8."""
        diff = np.abs(rgb.astype(np.int16) - self.backgrounds[i]).max(axis=2)
        fg = diff > self.config.diff_threshold
        return ndimage.binary_opening(fg, structure=np.ones((3, 3), bool))

    def detect_image(self, i: int, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """People in camera ``i``'s image (h, w, 3) uint8: floor xy (n, 2) [m] and
        confidence (n,) in [0, 1]."""
        fg = self.foreground(i, rgb)
        if not fg.any():
            return np.zeros((0, 2)), np.zeros(0)
        if self.down[i]:
            xy, conf, hulls = self._heads(i, fg, rgb)
            cut_xy, cut_conf = self._cut_bodies(i, fg, hulls)
            xy, conf = np.concatenate([xy, cut_xy]), np.concatenate([conf, cut_conf])
        else:
            xy, conf = self._feet(i, fg)
        return self._merge(xy, conf)

    def _heads(self, i: int, fg: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        m = self.model
        rh = float(self.r_head[i])
        # outside the image counts as background: a head cut by the edge is only as deep
        # as its visible part
        dt = ndimage.distance_transform_edt(np.pad(fg, 1))[1:-1, 1:-1]
        size = max(3, int(2 * round(0.5 * rh) + 1))
        peak = (dt == ndimage.maximum_filter(dt, size=size)) & (dt >= cfg.min_head_frac * rh)
        r, c = np.nonzero(peak)
        h, w = fg.shape
        e = cfg.edge_frac * rh
        inner = (r + 0.5 >= e) & (r + 0.5 <= h - e) & (c + 0.5 >= e) & (c + 0.5 <= w - e)
        r, c = r[inner], c[inner]
        if r.size == 0:
            return np.zeros((0, 2)), np.zeros(0), []
        val = dt[r, c]
        order = np.argsort(-val, kind="stable")[:cfg.max_peaks]
        r, c, val = r[order], c[order], val[order]
        xy = rays_to_plane(self.cams, i, c + 0.5, r + 0.5, m.body_height)
        keep: list[int] = []
        hulls: list[np.ndarray] = []
        for k in range(r.size):          # strongest first; a handful of peaks per image
            if not np.isfinite(xy[k]).all():
                continue
            pt = np.array([c[k] + 0.5, r[k] + 0.5, 1.0])
            if any((hl[0] @ pt <= 0).all() for hl in hulls):
                continue                 # on a body already found: its own ridge
            if any((r[k] - r[j]) ** 2 + (c[k] - c[j]) ** 2 <= (cfg.nms_frac * rh) ** 2
                   for j in keep):
                continue
            beyond = self._beyond_head(i, fg, rgb, r[k], c[k], rh)
            if beyond == 1:
                continue                 # the body goes on past this "head": not its top
            if val[k] < cfg.strong_frac * rh and (
                    beyond == -1 or self._axis_support(i, fg, xy[k]) < 0.5):
                continue                 # a weak peak at the edge, or with no body below it
            keep.append(k)
            hulls.append(self._silhouette_hull(i, xy[k]))
        kk = np.array(keep, dtype=np.int64)
        return xy[kk], np.clip(val[kk] / rh, 0.0, 1.0), hulls

    def _cut_bodies(self, i: int, fg: np.ndarray, hulls: list) -> tuple[np.ndarray, np.ndarray]:
        """People whose head the image's edge cuts off (down-looking cameras): foreground
        that no head explains and that runs off the image is placed by its feet (as
        :meth:`_feet` does), when a body standing there would indeed run off the image
        and the blob covers at least ``min_blob_frac`` of that body's in-image area."""
        h, w = fg.shape
        rest = fg.copy()
        for hl in hulls:
            rest &= ~_hull_mask(hl, h, w)
        lab, n = ndimage.label(rest)
        if n == 0:
            return np.zeros((0, 2)), np.zeros(0)
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
        edge = edge[edge > 0]
        if edge.size == 0:
            return np.zeros((0, 2)), np.zeros(0)
        xy, _ = self._feet_of(i, np.where(np.isin(lab, edge), lab, 0), edge.max())
        area = np.bincount(lab.ravel(), minlength=n + 1)
        out, conf = [], []
        rh = float(self.r_head[i])
        for b in edge:
            p = xy[b - 1]
            if not np.isfinite(p).all():
                continue
            u, v = self._body_points(i, p, heights=(self.model.body_height,)).mean(axis=0)
            if rh <= u < w - rh and rh <= v < h - rh:
                continue                 # its head would be in the picture: not cut off
            expect = int(_hull_mask(self._silhouette_hull(i, p), h, w).sum())
            frac = area[b] / max(expect, 1)
            if frac >= self.config.min_blob_frac:
                out.append(p)
                conf.append(min(frac, 1.0))
        return np.array(out).reshape(-1, 2), np.array(conf)

    def _beyond_head(self, i: int, fg: np.ndarray, rgb: np.ndarray, r: int, c: int,
                     rh: float) -> int:
        """Whether the same body goes on past a head candidate at pixel (r, c), away from
        the camera's nadir (a head's silhouette ends there; a body part's goes on to its
        head): 1 yes, 0 no, -1 unknown (the image ends first). "The same body" is
        foreground of the candidate's chromaticity (another person touching it differs)."""
        cams = self.cams
        nadir = cams.position[i] - [0.0, 0.0, 1.0]
        pc = (nadir - cams.position[i]) @ cams.rotation[i]
        fx, fy, cx, cy = cams.intrinsics[i]
        d = np.array([c + 0.5 - (fx * pc[0] / pc[2] + cx), r + 0.5 - (fy * pc[1] / pc[2] + cy)])
        nd = float(np.hypot(*d))
        if nd < 1.0:
            return 0
        t = np.arange(0.0, 1.3 * rh + 1.0)
        u = np.floor(c + 0.5 + t * d[0] / nd).astype(np.int64)
        v = np.floor(r + 0.5 + t * d[1] / nd).astype(np.int64)
        h, w = fg.shape
        inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        u, v = u[inside], v[inside]
        col = rgb[v, u].astype(np.float64) + 1.0
        chroma = col / col.sum(axis=1, keepdims=True)
        same = fg[v, u] & (np.abs(chroma - chroma[0]).max(axis=1) < self.config.chroma_tol)
        run = int(np.argmin(same)) if not same.all() else same.size
        if run < same.size:
            return 0                     # the body ended (or someone else began)
        return 1 if inside.all() else -1

    def _body_points(self, i: int, xy: np.ndarray, n: int = 16,
                     heights=(0.0, None)) -> np.ndarray:
        """(k, 2) image points [px] of rings around a body at ``xy`` (2,) [m]."""
        m = self.model
        a = np.linspace(0, 2 * np.pi, n, endpoint=False)
        ring = xy + m.body_radius * np.column_stack([np.cos(a), np.sin(a)])
        pts = np.concatenate([np.column_stack([ring, np.full(n, m.body_height if z is None
                                                             else z)]) for z in heights])
        pc = (pts - self.cams.position[i]) @ self.cams.rotation[i]
        fx, fy, cx, cy = self.cams.intrinsics[i]
        z = np.maximum(pc[:, 2], 1e-3)
        return np.column_stack([fx * pc[:, 0] / z + cx, fy * pc[:, 1] / z + cy])

    def _silhouette_hull(self, i: int, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The image of a body at ``xy`` (2,) [m]: (f, 3) half-planes (a, b, c: a u + b v + c
        <= 0 inside, grown by a pixel) and the (k, 2) image points [px] they hull."""
        pts = self._body_points(i, xy)
        eq = ConvexHull(pts).equations.copy()
        eq[:, 2] -= 1.0
        return eq, pts

    def _axis_support(self, i: int, fg: np.ndarray, xy: np.ndarray) -> float:
        """Share of a body's axis (feet to head, at ``xy`` (2,) [m]) that lands on
        foreground, among its points inside the image (0 if none is)."""
        m = self.model
        hs = np.linspace(0.0, m.body_height, 9)
        pts = np.column_stack([np.tile(xy, (hs.size, 1)), hs])
        pc = (pts - self.cams.position[i]) @ self.cams.rotation[i]
        fx, fy, cx, cy = self.cams.intrinsics[i]
        z = np.maximum(pc[:, 2], 1e-3)
        u = np.floor(fx * pc[:, 0] / z + cx).astype(np.int64)
        v = np.floor(fy * pc[:, 1] / z + cy).astype(np.int64)
        h, w = fg.shape
        ok = (u >= 0) & (u < w) & (v >= 0) & (v < h)
        return float(fg[v[ok], u[ok]].mean()) if ok.any() else 0.0

    def _feet_of(self, i: int, lab: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Floor position (n, 2) [m] and pixel area (n,) of each labelled blob 1..n of
        ``lab`` (h, w) int: its pixel whose ray meets the floor nearest to the camera is the
        near side of the feet; the body's axis is ``body_radius`` further away (NaN for a
        label with no pixel)."""
        cams = self.cams
        xy = np.full((n, 2), np.nan)
        r, c = np.nonzero(lab)
        if r.size == 0:
            return xy, np.zeros(n, np.int64)
        blob = lab[r, c] - 1
        floor = rays_to_plane(cams, i, c + 0.5, r + 0.5, 0.0)
        dist = np.linalg.norm(floor - cams.position[i, :2], axis=1)
        dist = np.where(np.isfinite(dist), dist, np.inf)
        area = np.bincount(blob, minlength=n)
        order = np.lexsort((dist, blob))
        present = np.flatnonzero(area > 0)
        first = order[np.searchsorted(blob[order], present)]
        foot = floor[first]
        if self.background_depths is not None:
            # the floor must show at the foot pixel in the empty store, or the feet are hidden
            bd = self.background_depths[i][r[first], c[first]]
            ray = pixel_rays(cams, i, c[first] + 0.5, r[first] + 0.5)
            t = (0.0 - cams.position[i, 2]) / ray[:, 2]
            floor_depth = t * (ray @ cams.rotation[i][:, 2])
            foot[(bd > 0) & (bd < floor_depth - 0.05)] = np.nan
        away = foot - cams.position[i, :2]
        away /= np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-9)
        xy[present] = foot + self.model.body_radius * away
        return xy, area

    def _feet(self, i: int, fg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cams = self.cams
        m = self.model
        lab, n = ndimage.label(fg)
        if n == 0:
            return np.zeros((0, 2)), np.zeros(0)
        xy, area = self._feet_of(i, lab, n)
        # expected body area there: a body's frontal area at its distance
        depth = np.maximum(np.linalg.norm(np.column_stack([xy, np.full(n, m.body_height / 2)])
                                          - cams.position[i], axis=1), 1e-6)
        expect = (cams.intrinsics[i, 0] * cams.intrinsics[i, 1]
                  * 2 * m.body_radius * m.body_height / depth ** 2)
        conf = np.clip(area / expect, 0.0, 1.0)
        ok = np.isfinite(xy).all(axis=1) & (conf >= self.config.min_blob_frac)
        return xy[ok], conf[ok]

    def _merge(self, xy: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = np.isfinite(xy).all(axis=1)
        xy, conf = xy[ok], conf[ok]
        if xy.shape[0] < 2:
            return xy, conf
        order = np.argsort(-conf, kind="stable")
        xy, conf = xy[order], conf[order]
        d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
        keep = np.ones(xy.shape[0], dtype=bool)
        for k in range(xy.shape[0]):
            if keep[k]:
                later = np.arange(xy.shape[0]) > k
                keep[later & (d[k] < self.config.merge_m)] = False
        return xy[keep], conf[keep]

    def detect(self, frame: int, t: float, images: list[np.ndarray | None]) -> CameraFrame:
        """All cameras' detections at one tick: images holds one (h, w, 3) uint8 image per
        camera (None: the camera sent nothing)."""
        cam, xy, conf = [], [], []
        for i, img in enumerate(images):
            if img is None:
                continue
            p, c = self.detect_image(i, img)
            cam.append(np.full(p.shape[0], i, np.int32))
            xy.append(p)
            conf.append(c)
        if not cam:
            return CameraFrame(frame, t, np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0))
        cam_a, xy_a, conf_a = np.concatenate(cam), np.concatenate(xy), np.concatenate(conf)
        order = np.lexsort((xy_a[:, 0], cam_a))
        return CameraFrame(frame, t, cam_a[order], xy_a[order], conf_a[order])


# -- comparison with the detection model ----------------------------------------------------

@dataclass(frozen=True)
class DetectorScore:
    """How one detector did on a set of frames.

    pairs: camera-person pairs that should be found (visible fraction >= the threshold);
    missed: how many of them no detection matched; median_err_m, p90_err_m: floor error of
    the matched ones [m]; false_pos: detections matched to nobody.
    """

    pairs: int
    missed: int
    median_err_m: float
    p90_err_m: float
    false_pos: int
    detections: int

    @property
    def miss_rate(self) -> float:
        return self.missed / self.pairs if self.pairs else float("nan")


def score_frame(fr: CameraFrame, xy: np.ndarray, visible: np.ndarray, min_visible: float,
                match_m: float) -> tuple[int, int, list[float], int]:
    """Score one frame of detections against people at ``xy`` (s, 2) [m] with visible
    fractions ``visible`` (c, s): per camera, detections and people are paired by the
    Hungarian method on floor distance (no pair over ``match_m``). Returns (eligible pairs,
    missed eligible pairs, errors of matched eligible pairs [m], unmatched detections)."""
    eligible = missed = fp = 0
    errs: list[float] = []
    for i in range(visible.shape[0]):
        want = visible[i] >= min_visible
        det = fr.xy[fr.camera == i]
        eligible += int(want.sum())
        if det.shape[0] == 0 or xy.shape[0] == 0:
            missed += int(want.sum())
            fp += det.shape[0]
            continue
        d = np.linalg.norm(det[:, None] - xy[None], axis=2)
        big = 1e6
        rr, cc = linear_sum_assignment(np.where(d <= match_m, d, big))
        ok = d[rr, cc] <= match_m
        rr, cc = rr[ok], cc[ok]
        fp += det.shape[0] - rr.size
        matched = np.zeros(xy.shape[0], dtype=bool)
        matched[cc] = True
        missed += int((want & ~matched).sum())
        errs.extend(d[rr, cc][want[cc]].tolist())
    return eligible, missed, errs, fp


def _summary(parts: list[tuple[int, int, list[float], int]], detections: int) -> DetectorScore:
    errs = np.array([e for p in parts for e in p[2]])
    return DetectorScore(
        pairs=sum(p[0] for p in parts), missed=sum(p[1] for p in parts),
        median_err_m=float(np.median(errs)) if errs.size else float("nan"),
        p90_err_m=float(np.quantile(errs, 0.9)) if errs.size else float("nan"),
        false_pos=sum(p[3] for p in parts), detections=detections)


def compare_detectors(store: Store, crowds: list[np.ndarray],
                      resolutions: tuple[tuple[int, int], ...] = ((1280, 960), (640, 480),
                                                                  (320, 240)),
                      hfovs: tuple[float, ...] = (90.0, 120.0), spacing: float = 2.5,
                      model: DetectionModel | None = None,
                      config: PixelDetectorConfig | None = None, min_visible: float = 0.5,
                      match_m: float = 0.5, seed: int = 0, renderer=None) -> list[dict]:
    """The pixel detector and the detection model on the same frames, per lens and
    resolution of a ceiling grid.

    crowds: one (s, 2) float64 array of people's floor positions [m] per frame. For every
    hfov x resolution, both detectors see every frame; a camera-person pair counts when the
    model's visible fraction (calibrated against rendered masks) is >= ``min_visible``.
    Returns one row per (hfov, resolution, detector) with pairs, miss rate, median and 90th
    percentile floor error [m] and false positives per camera-frame.
    """
    from twin.render import Renderer

    model = model or DetectionModel()
    own = renderer is None
    r = Renderer(store, model=model) if own else renderer
    rows = []
    try:
        for hfov in hfovs:
            for res in resolutions:
                cams = ceiling_grid(store, spacing=spacing, hfov_deg=hfov, resolution=res)
                nc = len(cams.camera)
                bgs = [r.background(cams, i) for i in range(nc)]
                det = PixelDetector(cams, [b[0] for b in bgs], model, config,
                                    [b[1] for b in bgs])
                cs = CameraSystem(store, cams, model, np.random.default_rng(seed))
                parts = {"pixels": [], "model": []}
                ndet = {"pixels": 0, "model": 0}
                for f, xy in enumerate(crowds):
                    ids = np.arange(xy.shape[0])
                    imgs = [r.render(cams, i, xy, ids, seg=False)[0] for i in range(nc)]
                    vis = cs.visible_fraction(xy)
                    for name, fr in (("pixels", det.detect(f, f / 15.0, imgs)),
                                     ("model", cs.detect(f, f / 15.0, xy))):
                        parts[name].append(score_frame(fr, xy, vis, min_visible, match_m))
                        ndet[name] += len(fr)
                for name in ("pixels", "model"):
                    sc = _summary(parts[name], ndet[name])
                    rows.append({"hfov_deg": hfov, "resolution": f"{res[0]}x{res[1]}",
                                 "detector": name, "pairs": sc.pairs,
                                 "miss_rate": round(sc.miss_rate, 4),
                                 "median_err_m": round(sc.median_err_m, 4),
                                 "p90_err_m": round(sc.p90_err_m, 4),
                                 "fp_per_cam_frame": round(sc.false_pos / (nc * len(crowds)), 4)})
    finally:
        if own:
            r.close()
    return rows


def format_table(rows: list[dict]) -> str:
    """The rows of :func:`compare_detectors` as a Markdown table."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)
