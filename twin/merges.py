"""Merges and splits of body detections, as a pixel detector makes them (issue 22, part 3).

A real detector sees blobs, not people: two people whose silhouettes overlap in the image
may come out as one detection (a *merge*), and one person may come out as two (a *split*:
a body cut by an occluder or a head and a shoulder both taken for heads). The rates are
fitted to :mod:`twin.pixdetect` on rendered kiosk crowds (``experiments/bench/merges.py``,
docs/sensing.md, "Merges, splits, misses and position error measured"):

- the *image overlap* of two people in one camera is the IoU of their silhouettes'
  bounding boxes (:func:`image_boxes`: the body cylinder's outline at feet and head,
  projected, clipped to the image); the pixel script and the model use the same boxes;
- a pair of detected people with overlap ``o > 0`` merges with probability
  ``1 / (1 + exp(-(merge_logit0 + merge_logit_slope * o)))`` (pairs taken by decreasing
  overlap; a detection merges once): one detection at the more visible one's point, the
  mean of the two descriptors, the higher confidence;
- every detection left splits with probability ``split_rate``: a second detection
  ``split_offset_m`` away in a uniform direction, with the person's descriptor.

The draws come from a stream of their own (spawned from the camera system's generator: one
integer drawn once, with the frame number, keys a counter-based hash,
:func:`twin._detect_kernels.merge_split`), so
no other draw moves; with ``split_rate`` 0 and ``merge_logit0`` at :data:`MERGE_OFF` (-60) nothing is drawn.
"""

from __future__ import annotations

import numpy as np

from core.knowledge import Cameras

MERGE_OFF = -60.0     # merge_logit0 at (or below) this: no merges, no draws


def body_outline(radius: float, height: float) -> np.ndarray:
    """(16, 3) points around a body [m] relative to its foot point: an octagon that
    circumscribes its circle, at the feet and at the head (as the camera kernels take it)."""
    ang = np.arange(8) * np.pi / 4
    rr = radius / np.cos(np.pi / 8)
    ring = np.stack([rr * np.cos(ang), rr * np.sin(ang)], axis=1)
    return np.concatenate([np.column_stack([ring, np.zeros(8)]),
                           np.column_stack([ring, np.full(8, height)])])


def image_boxes(cams: Cameras, cam: np.ndarray, xy: np.ndarray, outline: np.ndarray,
                near_m: float) -> np.ndarray:
    """(n, 4) float64 u0, v0, u1, v1 [px]: the image box of the body at ``xy`` (n, 2) [m]
    in camera ``cam`` (n,) int, the projected ``outline`` (k, 3) [m] (points around the body
    at the feet and the head, relative to its foot point), clipped to the image (empty,
    u1 <= u0, where it misses the image; points nearer than ``near_m`` are dropped).
    Compiled (:func:`twin._detect_kernels.image_boxes`)."""
    from twin import _detect_kernels as k

    f = np.ascontiguousarray
    return k.image_boxes(f(cam, np.int64), f(xy, np.float64).reshape(-1, 2),
                         f(cams.position, np.float64), f(cams.rotation, np.float64),
                         f(cams.intrinsics, np.float64), f(cams.resolution, np.int64),
                         f(outline, np.float64), float(near_m))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...) IoU of boxes a, b (..., 4) u0, v0, u1, v1 (0 where either is empty)."""
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h

    def area(x):
        return (np.clip(x[..., 2] - x[..., 0], 0, None)
                * np.clip(x[..., 3] - x[..., 1], 0, None))

    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def camera_pairs(cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j of rows with the same camera, for rows sorted by camera."""
    cam = np.asarray(cam)
    n = cam.size
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    start = np.flatnonzero(np.r_[True, cam[1:] != cam[:-1]])
    size = np.diff(np.r_[start, n])
    cnt = np.repeat(start + size, size) - np.arange(n) - 1     # later rows of its camera
    i = np.repeat(np.arange(n, dtype=np.int64), cnt)
    j = i + 1 + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return i, j.astype(np.int64)


def merge_split(rng: np.random.Generator, model, boxes: np.ndarray, cam: np.ndarray,
                vis: np.ndarray, dxy: np.ndarray, conf: np.ndarray):
    """Merges and splits of one frame's body detections (camera ``cam`` (n,), sorted, visible
    fraction ``vis``, point ``dxy`` (n, 2), confidence ``conf``, image ``boxes`` (n, 4)).

    Returns rows (m,) int64 (the detection each output comes from), partner (m,) int64 (the
    detection merged into it, -1 none), xy (m, 2), conf (m,): the surviving detections in
    their order, then the split parts. One draw of ``rng`` keys the frame's uniforms
    (:func:`twin._detect_kernels.merge_split`, compiled)."""
    from twin import _detect_kernels as k

    f = np.ascontiguousarray
    key = int(rng.integers(0, 2 ** 63, dtype=np.int64))
    return k.merge_split(f(cam, np.int64), f(boxes, np.float64), f(vis, np.float64),
                         f(dxy, np.float64).reshape(-1, 2), f(conf, np.float64),
                         float(model.merge_logit0), float(model.merge_logit_slope),
                         bool(model.merge_logit0 > MERGE_OFF), float(model.split_rate),
                         float(model.split_offset_m), np.uint64(key))


class Merger:
    """Merges and splits of a camera system's body detections, drawn from a stream of their
    own (spawned from ``rng``: it is not advanced)."""

    def __init__(self, model, cams: Cameras, rng: np.random.Generator | None) -> None:
        self.model = model
        self.cams = cams
        self.rng = rng.spawn(1)[0] if rng is not None else None
        # one draw keys every frame's uniforms (with the frame number): nothing per frame
        self.key = (int(self.rng.integers(0, 2 ** 63, dtype=np.int64))
                    if self.rng is not None else 0)
        self.outline = body_outline(model.body_radius, model.body_height)
        f = np.ascontiguousarray
        self._geom = (f(cams.position, np.float64), f(cams.rotation, np.float64),
                      f(cams.intrinsics, np.float64), f(cams.resolution, np.int64),
                      self.outline, float(model.near_m))

    @property
    def on(self) -> bool:
        return self.model.merge_logit0 > MERGE_OFF or self.model.split_rate > 0

    def apply(self, cc: np.ndarray, ss: np.ndarray, vis: np.ndarray, dxy: np.ndarray,
              conf: np.ndarray, xy: np.ndarray, app: np.ndarray | None, frame: int = 0):
        """Merge and split the body detections (camera ``cc``, person ``ss`` (n,) of people
        at ``xy``, in (camera, person) order) and their descriptors ``app`` (n + f, D) (body
        rows, then f false positives' rows; None: none). Returns camera, xy, confidence and
        descriptors of the outcome (false positives' rows kept at the end)."""
        if not self.on or cc.size == 0:
            return cc, dxy, conf, app
        from twin import _detect_kernels as k

        m = self.model
        key = np.uint64((self.key + (int(frame) & 0xFFFFFFFF) * 0x2545F4914F6CDD1D)
                        % 2 ** 64)
        rows, part, nxy, ncf = k.merge_split_frame(
            cc, ss, xy, vis, dxy, conf, *self._geom, m.merge_logit0, m.merge_logit_slope,
            m.merge_logit0 > MERGE_OFF, m.split_rate, m.split_offset_m, key)
        if rows.size == cc.size and not (part >= 0).any():
            return cc, nxy, ncf, app            # nothing merged or split
        if app is not None:
            body = app[:cc.size]
            a = body[rows].copy()
            merged = part >= 0
            a[merged] = 0.5 * (body[rows[merged]] + body[part[merged]])
            app = np.concatenate([a, app[cc.size:]])
        return cc[rows], nxy, ncf, app
