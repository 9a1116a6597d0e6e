"""Camera layout generators for a store: shelf faces and aisles found from the fixtures, a
ceiling grid, camera pairs at the aisle ends, cameras facing each shelf face, the candidate
set of the placement env, and the greedy coverage placer.

Imports go one way: placement -> coverage (what a layout sees) -> layout (layouts as data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scenes.store import FACE_NORMALS, FACES, Store
from scenes.walkable import MIN_AISLE_M
from twin.camgeom import focal_from_hfov, look_at_angles
from twin.coverage import HEIGHTS, visibility
from twin.layout import (
    DEFAULT_MODEL,
    DEFAULT_MODELS,
    MOUNT_BELOW_CEILING_M,
    CameraLayout,
    CameraModel,
    make_layout,
)

# ---------------------------------------------------------------------------------------------
# shelf faces and aisles


@dataclass(frozen=True)
class ShelfFace:
    """One fixture side that carries shelves.

    fixture: index into ``store.fixtures``; face: one of :data:`scenes.store.FACES`;
    normal: (2,) unit floor vector into the aisle; plane: the face's x (``-x``/``+x``) or y
    coordinate [m]; a0, a1: its extent along the face (y for x faces, x for y faces) [m];
    z0, z1: bottom and top of its bins (or the fixture) [m]; depth: free floor in front of
    it, to the nearest fixture or wall (the least over five points along it) [m]; opposite:
    index of that fixture, -1 for the wall.
    """

    fixture: int
    face: str
    normal: tuple[float, float]
    plane: float
    a0: float
    a1: float
    z0: float
    z1: float
    depth: float
    opposite: int

    @property
    def axis(self) -> int:
        """0: the face looks along x (runs along y); 1: it looks along y."""
        return 0 if self.face in ("-x", "+x") else 1

    @property
    def length(self) -> float:
        return self.a1 - self.a0

    def point(self, along: float, off: float, z: float) -> np.ndarray:
        """(3,) world point ``along`` the face, ``off`` metres out from it, at height z."""
        xy = [0.0, 0.0]
        xy[self.axis] = self.plane + off * self.normal[self.axis]
        xy[1 - self.axis] = along
        return np.array([xy[0], xy[1], z])


def _ray_outline(store: Store, o: np.ndarray, d: np.ndarray) -> float:
    """Distance [m] from floor point o (2,) along unit d (2,) to the outline (inf if none)."""
    a = store.outline
    b = np.roll(a, -1, axis=0)
    e = b - a
    den = d[0] * e[:, 1] - d[1] * e[:, 0]
    w = a - o
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / den
        s = (w[:, 0] * d[1] - w[:, 1] * d[0]) / den
    ok = (np.abs(den) > 1e-12) & (t > 1e-9) & (s >= -1e-9) & (s <= 1 + 1e-9)
    return float(t[ok].min()) if ok.any() else float("inf")


def shelf_faces(store: Store) -> list[ShelfFace]:
    """Every shelf face of the store, in fixture order, with the free depth in front of it."""
    lo, hi = store.fixture_boxes()
    b = store.bins
    out = []
    for fi, f in enumerate(store.fixtures):
        for face in f.faces:
            k = FACES.index(face)
            n = FACE_NORMALS[k]
            axis = 0 if k < 2 else 1
            plane = f.hi[axis] if n[axis] > 0 else f.lo[axis]
            a0, a1 = f.lo[1 - axis], f.hi[1 - axis]
            mine = (b.fixture == fi) & (b.face == k)
            z0, z1 = ((float(b.lo[mine, 2].min()), float(b.hi[mine, 2].max())) if mine.any()
                      else (0.0, float(f.hi[2])))
            depth, opp = float("inf"), -1
            for t in (0.1, 0.3, 0.5, 0.7, 0.9):
                s = a0 + t * (a1 - a0)
                o = np.zeros(2)
                o[axis], o[1 - axis] = plane, s
                dw = _ray_outline(store, o, n)
                best, who = dw, -1
                # fixtures whose span across the ray contains s and that lie in front
                span = (lo[:, 1 - axis] < s) & (hi[:, 1 - axis] > s)
                near = lo[:, axis] if n[axis] > 0 else hi[:, axis]
                gap = (near - plane) * n[axis]
                cand = span & (gap >= -1e-6)
                cand[fi] = False
                if cand.any():
                    j = int(np.flatnonzero(cand)[np.argmin(gap[cand])])
                    if gap[j] < best:
                        best, who = float(max(gap[j], 0.0)), j
                if best < depth:
                    depth, opp = best, who
            out.append(ShelfFace(fi, face, (float(n[0]), float(n[1])), float(plane), float(a0),
                                 float(a1), z0, z1, depth, opp))
    return out


@dataclass(frozen=True)
class Aisle:
    """A walkway in front of shelf faces.

    axis: 0 if the aisle runs along y (between x faces), 1 if it runs along x; mid: its
    centre line's x (axis 0) or y (axis 1) [m]; a0, a1: its extent along its length [m];
    width [m]; faces: indices into :func:`shelf_faces` of the faces it serves (two for an
    aisle between facing shelves, one for a shelf facing a wall).
    """

    axis: int
    mid: float
    a0: float
    a1: float
    width: float
    faces: tuple[int, ...]

    @property
    def length(self) -> float:
        return self.a1 - self.a0

    def point(self, along: float, z: float) -> np.ndarray:
        """(3,) world point on the centre line at ``along`` and height z [m]."""
        xy = [0.0, 0.0]
        xy[self.axis] = self.mid
        xy[1 - self.axis] = along
        return np.array([xy[0], xy[1], z])


def find_aisles(store: Store, max_width: float = 4.0, min_length: float = 1.5,
                single_sided: bool = True) -> list[Aisle]:
    """The store's aisles: the gaps between facing shelf faces (faces of two fixtures that
    look at each other across 0.6 .. ``max_width`` metres with no fixture between them, over
    a common run of at least ``min_length`` metres) and, with ``single_sided``, the gaps
    between a shelf face and the wall it faces over its whole run. Sorted by position."""
    faces = shelf_faces(store)
    lo, hi = store.fixture_boxes()
    out: list[Aisle] = []
    for i, a in enumerate(faces):
        for j, b in enumerate(faces):
            if j <= i or a.axis != b.axis or a.normal[a.axis] + b.normal[b.axis] != 0:
                continue
            gap = (b.plane - a.plane) * a.normal[a.axis]
            s0, s1 = max(a.a0, b.a0), min(a.a1, b.a1)
            if not (MIN_AISLE_M <= gap <= max_width and s1 - s0 >= min_length):
                continue
            x = a.axis
            g0, g1 = sorted((a.plane, b.plane))
            between = ((lo[:, x] < g1 - 1e-6) & (hi[:, x] > g0 + 1e-6)
                       & (lo[:, 1 - x] < s1 - 1e-6) & (hi[:, 1 - x] > s0 + 1e-6))
            if between.any():
                continue
            out.append(Aisle(x, 0.5 * (g0 + g1), s0, s1, gap, (i, j)))
    if single_sided:
        for i, a in enumerate(faces):
            if a.opposite != -1 or not MIN_AISLE_M <= a.depth <= max_width or (
                    a.length < min_length):
                continue
            mid = a.plane + 0.5 * a.depth * a.normal[a.axis]
            out.append(Aisle(a.axis, mid, a.a0, a.a1, a.depth, (i,)))
    out.sort(key=lambda s: (s.axis, round(s.mid, 6), round(s.a0, 6)))
    return out


# ---------------------------------------------------------------------------------------------
# generators


def _model(model: str | CameraModel) -> CameraModel:
    if isinstance(model, CameraModel):
        return model
    if model not in DEFAULT_MODELS:
        raise ValueError(f"unknown camera model {model!r}; allowed: "
                         f"{', '.join(DEFAULT_MODELS)} or a CameraModel")
    return DEFAULT_MODELS[model]


def _height(store: Store, height: float | None) -> float:
    h = store.ceiling_height - MOUNT_BELOW_CEILING_M if height is None else float(height)
    if not 0 < h <= store.ceiling_height:
        raise ValueError(f"camera height must be in (0, {store.ceiling_height:g}] m, got {h:g}")
    return h


def _keep_free(store: Store, pos: np.ndarray) -> np.ndarray:
    """(c,) bool: positions (c, 3) over the floor and outside every fixture."""
    ok = store.contains(pos[:, :2]) if len(pos) else np.zeros(0, bool)
    lo, hi = store.fixture_boxes()
    if len(lo) and len(pos):
        inside = ((pos[:, None, :] > lo[None]) & (pos[:, None, :] < hi[None])).all(axis=2)
        ok &= ~inside.any(axis=1)
    return ok


def _grid_xy(store: Store, spacing: float) -> np.ndarray:
    """(n, 2) cell centres of a square grid of pitch ~``spacing`` over the store's bounds,
    inside the outline (as :func:`twin.camgeom.ceiling_grid`)."""
    if not spacing > 0:
        raise ValueError(f"grid spacing must be > 0 m, got {spacing}")
    x0, y0, x1, y1 = store.bounds
    nx = max(1, int(np.ceil((x1 - x0) / spacing - 1e-9)))
    ny = max(1, int(np.ceil((y1 - y0) / spacing - 1e-9)))
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    xy = np.round(np.stack([gx.ravel(), gy.ravel()], axis=1), 6)
    return xy[store.contains(xy)]


def grid_layout(store: Store, spacing: float = 3.0, height: float | None = None,
                hfov_deg: float | None = None, model: str | CameraModel = DEFAULT_MODEL
                ) -> CameraLayout:
    """Down-looking cameras on a square ceiling grid, only over the floor.

    spacing: grid pitch [m] (the bounds are split into equal cells no larger than it);
    height: mounting height [m] (default 0.2 m under the ceiling); hfov_deg: field of view
    [deg] (default the model's); model: a built-in model name or a :class:`CameraModel`.
    Cameras face yaw 90 (image top toward +y), pitch -90.
    """
    m = _model(model)
    h = _height(store, height)
    xy = _grid_xy(store, spacing)
    pos = np.column_stack([xy, np.full(len(xy), h)])
    pos = pos[_keep_free(store, pos)]
    n = len(pos)
    return make_layout(store.name, [f"grid-{i + 1}" for i in range(n)], pos,
                 np.tile([90.0, -90.0, 0.0], (n, 1)), m, hfov_deg)


def aisle_pairs(store: Store, height: float | None = None, aim_height: float = 1.0,
                model: str | CameraModel = DEFAULT_MODEL, max_width: float = 4.0,
                min_length: float = 1.5, single_sided: bool = True) -> CameraLayout:
    """Two cameras per aisle (:func:`find_aisles`), one over each end of its centre line,
    high, each looking down the aisle at the far end's centre ``aim_height`` metres up.

    Names: ``aisle-<i>-a`` (at the low-coordinate end) and ``aisle-<i>-b``."""
    m = _model(model)
    h = _height(store, height)
    names, pos, ang = [], [], []
    for i, a in enumerate(find_aisles(store, max_width, min_length, single_sided)):
        ends = (a.point(a.a0, h), a.point(a.a1, h))
        for tag, (p, q) in (("a", ends), ("b", ends[::-1])):
            p = np.round(p, 6)
            target = q.copy()
            target[2] = aim_height
            yaw, pitch = look_at_angles(p, target)
            names.append(f"aisle-{i + 1}-{tag}")
            pos.append(p)
            ang.append((round(yaw, 4), round(pitch, 4), 0.0))
    lay = make_layout(store.name, names, np.array(pos).reshape(-1, 3), ang, m)
    return lay.take(_keep_free(store, lay.position))


def shelf_facing(store: Store, height: float | None = None,
                 model: str | CameraModel = DEFAULT_MODEL, max_standoff: float = 2.5,
                 inset: float = 0.15, overlap: float = 0.2) -> CameraLayout:
    """For every shelf face, cameras over the far side of the aisle in front of it (``inset``
    metres short of the opposite fixture or wall, at most ``max_standoff`` metres out),
    looking square at the face with its bins centred vertically in the image, spaced along
    it so neighbouring views overlap by ``overlap`` of their width at the face.

    Names: ``shelf-<fixture>-<face>-<j>``. Faces with less than 0.6 m free in front get none.
    """
    m = _model(model)
    h = _height(store, height)
    w, hh = m.resolution
    f = focal_from_hfov(w, m.hfov_deg)
    names, pos, ang = [], [], []
    for sf in shelf_faces(store):
        if sf.depth < MIN_AISLE_M:
            continue
        off = min(sf.depth - inset, max_standoff)
        up = math.degrees(math.atan2(h - sf.z1, off))      # down-angle to the top of the bins
        lo_ = math.degrees(math.atan2(h - sf.z0, off))     # ... and to their bottom
        pitch = -round(0.5 * (up + lo_), 4)
        # the view's width at the face: the nearest face point along the optical axis
        ax = np.array([math.cos(math.radians(pitch)), math.sin(math.radians(pitch))])
        depth_top = float(ax @ np.array([off, sf.z1 - h]))
        depth_bot = float(ax @ np.array([off, sf.z0 - h]))
        half = max(min(depth_top, depth_bot), 0.3) * (w / 2) / f
        step = max(2 * half * (1 - overlap), 0.3)
        n = max(1, int(math.ceil(sf.length / step - 1e-9)))
        yaw = round(math.degrees(math.atan2(-sf.normal[1], -sf.normal[0])), 4)
        fname = store.fixtures[sf.fixture].name
        for j in range(n):
            along = sf.a0 + (j + 0.5) * sf.length / n
            p = np.round(sf.point(along, off, h), 6)
            names.append(f"shelf-{fname}-{sf.face}-{j + 1}")
            pos.append(p)
            ang.append((yaw, pitch, 0.0))
    lay = make_layout(store.name, names, np.array(pos).reshape(-1, 3), ang, m)
    return lay.take(_keep_free(store, lay.position))


def candidate_layout(store: Store, spacing: float = 1.0, height: float | None = None,
                     tilts: tuple[float, ...] = (-60.0,), yaws: tuple[float, ...] = (
                         0.0, 90.0, 180.0, 270.0), model: str | CameraModel = DEFAULT_MODEL,
                     shelf: bool = True) -> CameraLayout:
    """The default candidate set of :func:`greedy_layout`: at every point of a fine ceiling
    grid (pitch ``spacing`` [m]) one down-looking camera and one per tilt [deg] x yaw [deg],
    plus (``shelf``) the :func:`shelf_facing` cameras."""
    m = _model(model)
    h = _height(store, height)
    xy = _grid_xy(store, spacing)
    pos = np.column_stack([xy, np.full(len(xy), h)])
    pos = pos[_keep_free(store, pos)]
    poses = [(90.0, -90.0)] + [(y, t) for t in tilts for y in yaws]
    n = len(pos)
    names = [f"cand-{i + 1}-{j + 1}" for j in range(len(poses)) for i in range(n)]
    allpos = np.tile(pos, (len(poses), 1))
    ang = np.repeat(np.array([(y, t, 0.0) for y, t in poses]), n, axis=0)
    parts = [make_layout(store.name, names, allpos, ang, m)]
    if shelf:
        parts.append(shelf_facing(store, height, m))
    return CameraLayout.concat(parts, store.name)


@dataclass(frozen=True)
class GreedyResult:
    """What :func:`greedy_layout` chose and how coverage grew.

    layout: the chosen cameras in the order they were added; trace: (n,) float64 fraction of
    walkable floor cells seen by >= k cameras after each camera; bin_trace: (n,) float64
    fraction of bin faces seen after each camera; cost: (n,) float64 cumulative price [USD];
    stopped: why it stopped: ``target``, ``budget``, ``no gain`` or ``max cameras``;
    candidates: how many candidates it chose from.
    """

    layout: CameraLayout
    trace: np.ndarray
    bin_trace: np.ndarray
    cost: np.ndarray
    stopped: str
    candidates: int


def greedy_layout(store: Store, target: float = 0.95, k: int = 2,
                  candidates: CameraLayout | None = None, budget_usd: float | None = None, *,
                  cell: float = 0.25, heights: tuple[float, ...] | None = None,
                  bin_weight: float = 0.0, bin_target: float | None = None,
                  max_cameras: int | None = None) -> GreedyResult:
    """Greedy camera placement for k-coverage per dollar.

    From ``candidates`` (default :func:`candidate_layout`), repeatedly add the camera with the
    largest gain per dollar in the objective sum over floor cells of min(cameras seeing it, k)
    plus ``bin_weight`` x the number of bin faces newly seen (coverage as in
    :mod:`twin.coverage`, on a ``cell`` [m] grid at ``heights`` [m]), until the fraction of
    cells seen by >= k cameras reaches ``target`` (and, with ``bin_target``, the fraction of
    bin faces seen reaches it), the next camera would pass ``budget_usd`` [USD], no candidate
    adds anything, or ``max_cameras`` are placed. The visibility of every candidate is
    computed once; each step is one matrix-vector product. Deterministic: ties go to the
    earlier candidate.
    """
    if not 0 < target <= 1:
        raise ValueError(f"greedy target must be in (0, 1], got {target}")
    if k < 1:
        raise ValueError(f"greedy k must be >= 1, got {k}")
    cand = candidate_layout(store) if candidates is None else candidates
    vis = visibility(store, cand.cameras(), cell, HEIGHTS if heights is None else heights)
    floor = vis.floor.astype(np.float32)                  # (C, n_cells)
    faces = vis.faces.astype(np.float32)                  # (C, n_bins)
    nc, nb = floor.shape[1], faces.shape[1]
    count = np.zeros(nc, dtype=np.int64)
    bcount = np.zeros(nb, dtype=np.int64)
    cost = np.maximum(cand.cost_usd, 1e-9)
    used = np.zeros(len(cand), dtype=bool)
    chosen: list[int] = []
    trace, btrace, spent = [], [], []
    total = 0.0
    stopped = "no gain"

    def done() -> bool:
        fl = (count >= k).sum() / nc if nc else 1.0
        bn = (bcount >= 1).sum() / nb if nb else 1.0
        return fl >= target and (bin_target is None or bn >= bin_target)

    while True:
        if done():
            stopped = "target"
            break
        if max_cameras is not None and len(chosen) >= max_cameras:
            stopped = "max cameras"
            break
        gain = floor @ (count < k).astype(np.float32)
        if bin_weight and nb:
            gain = gain + bin_weight * (faces @ (bcount < 1).astype(np.float32))
        gain[used] = 0.0
        afford = np.ones(len(cand), dtype=bool) if budget_usd is None else (
            total + cand.cost_usd <= budget_usd + 1e-9)
        useful = gain > 0
        if not (useful & afford).any():
            stopped = "budget" if useful.any() else "no gain"
            break
        score = np.where(useful & afford, gain / cost, -1.0)
        j = int(np.argmax(score))
        used[j] = True
        chosen.append(j)
        count += vis.floor[j]
        bcount += vis.faces[j]
        total += float(cand.cost_usd[j])
        trace.append((count >= k).sum() / nc if nc else float("nan"))
        btrace.append((bcount >= 1).sum() / nb if nb else float("nan"))
        spent.append(total)
    lay = cand.take(np.array(chosen, dtype=np.int64))
    return GreedyResult(lay, np.array(trace, dtype=np.float64),
                        np.array(btrace, dtype=np.float64), np.array(spent, dtype=np.float64),
                        stopped, len(cand))
