"""What a camera layout sees: the walkable floor at person heights and the shelf bins' fronts.

Definitions (documented in ``docs/camera-layout.md``):

- A **sample point is seen by a camera** when it lies at least ``MIN_DEPTH_M`` in front of the
  camera, projects inside its image, is imaged at no fewer than ``min_px_per_m`` pixels per
  metre (``min(fx, fy) / depth``; default 125 px/m, the "recognise" level of the DORI scale of
  EN 62676-4) and the straight segment from the camera to it crosses no fixture, interior
  partition or perimeter wall (one batched ray cast, embree-accelerated).
- **Floor**: the cells of :func:`scenes.walkable.walkable_grid` (where a person's centre may
  stand: ``BODY_RADIUS_M`` clear of fixtures and walls), sampled at every height in
  ``heights`` (default torso 1.0 m and head 1.7 m). A cell counts as seen by a camera only
  when the camera sees the point at *every* height: the conservative reading (the head alone
  is what a top-down tracker needs; pass ``heights=(1.7,)`` for that). k-coverage is the
  fraction of walkable cells seen by at least k cameras.
- **Bin faces**: a bin's front opening (the vertical rectangle on its fixture's face),
  sampled at its centre and four points a quarter in from its corners, each nudged
  ``FACE_NUDGE_M`` out along the bin normal so a ray does not end inside its own shelf. A
  sample is seen when, beyond the above, the camera is in front of the face and the ray meets
  it at most ``max_incidence_deg`` (default 75 deg) from its normal: a camera that sees the
  face edge-on sees no product. A face counts as seen by a camera when at least
  ``FACE_MIN_SAMPLES`` (3) of its 5 samples are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from core.knowledge import Cameras
from scenes.meshes import occluder_mesh, quads_mesh, wall_quads
from scenes.store import Store
from scenes.walkable import BODY_RADIUS_M, walkable_grid
from twin.camgeom import project

if TYPE_CHECKING:  # pragma: no cover
    from twin.layout import CameraLayout

HEIGHTS = (1.0, 1.7)            # torso and head of a standing adult [m]
MIN_DEPTH_M = 0.1               # nearer than this to the lens: not imaged [m]
MIN_PX_PER_M = 125.0            # DORI "recognise" (EN 62676-4) [px/m]
MAX_INCIDENCE_DEG = 75.0        # bin faces seen more obliquely than this do not count [deg]
FACE_NUDGE_M = 0.03             # bin-face samples sit this far in front of the face [m]
FACE_MIN_SAMPLES = 3            # of the 5 samples of a face
_FACE_UV = np.array([[0.5, 0.5], [0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]])
_PAIRS_PER_BLOCK = 2_000_000    # camera-point pairs projected at a time
_RAYS_PER_CAST = 4_000_000      # rays per ray-cast call (memory: ~100 bytes a ray)

# cameras per cell, 0 .. 5+: red (unseen), orange, yellow, light green, green, teal
COUNT_COLORS = np.array([[0.84, 0.15, 0.16], [0.99, 0.55, 0.24], [0.99, 0.85, 0.35],
                         [0.65, 0.84, 0.42], [0.20, 0.63, 0.17], [0.10, 0.45, 0.55]])
HEAT_ALPHA = 0.8


class RayCaster:
    """What blocks a view in a store: fixtures, interior partitions and the perimeter walls
    (these matter only where the outline is not convex). Built once, cast many times."""

    def __init__(self, store: Store) -> None:
        parts = []
        occ = occluder_mesh(store)
        if len(occ.faces):
            parts.append(occ)
        quads = wall_quads(store)
        outer = [quads[w.name] for w in store.walls if w.perimeter and w.name in quads]
        if outer:
            q = np.concatenate(outer)
            parts.append(quads_mesh(q, np.zeros(len(q)), np.full(len(q), store.ceiling_height)))
        self.mesh = (trimesh.Trimesh() if not parts else parts[0] if len(parts) == 1
                     else trimesh.util.concatenate(parts))
        self._ray = None
        if len(self.mesh.faces):
            try:
                from trimesh.ray.ray_pyembree import RayMeshIntersector
            except ImportError:  # pragma: no cover - embreex missing: slower rtree path
                from trimesh.ray.ray_triangle import RayMeshIntersector
            self._ray = RayMeshIntersector(self.mesh)
        self.rays_cast = 0

    def blocked(self, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(r,) bool: something lies strictly between origin and target, both (r, 3) [m]."""
        out = np.zeros(origins.shape[0], dtype=bool)
        if self._ray is None or origins.shape[0] == 0:
            return out
        mesh = self.mesh
        for s in range(0, origins.shape[0], _RAYS_PER_CAST):
            o = origins[s:s + _RAYS_PER_CAST]
            d = targets[s:s + _RAYS_PER_CAST] - o
            length = np.linalg.norm(d, axis=1)
            d = d / np.maximum(length, 1e-12)[:, None]
            # intersects_first: the nearest triangle per ray, -1 for none (see twin/cameras.py)
            tri = self._ray.intersects_first(o, d)
            self.rays_cast += o.shape[0]
            hit = np.flatnonzero(tri >= 0)
            if hit.size:
                n = mesh.face_normals[tri[hit]]
                v0 = mesh.vertices[mesh.faces[tri[hit], 0]]
                denom = np.einsum("ij,ij->i", n, d[hit])
                dist = np.einsum("ij,ij->i", n, v0 - o[hit]) / np.where(
                    np.abs(denom) > 1e-12, denom, 1e-12)
                out[s + hit[dist < length[hit] - 1e-3]] = True
        return out


def visibility_matrix(store: Store, cams: Cameras, points: np.ndarray,
                      normals: np.ndarray | None = None, *,
                      min_px_per_m: float = MIN_PX_PER_M,
                      max_incidence_deg: float = MAX_INCIDENCE_DEG,
                      caster: RayCaster | None = None) -> np.ndarray:
    """(c, m) bool: which camera sees which point (see the module docstring).

    points: (m, 3) float64 [m]; normals: (m, 3) float64 unit outward normals of the surface
    each point lies on, or None for points in free space (no incidence test);
    min_px_per_m: least image resolution at the point [px/m]; max_incidence_deg: with
    normals, the largest angle between the ray and the normal [deg]; caster: a
    :class:`RayCaster` of the store, to reuse one across calls.

    Cameras are taken in blocks of neighbours (floor tiles of 16 m), and each block projects
    only the points within its reach (the farthest distance at which its cameras still image
    ``min_px_per_m``); all in-image pairs then go to the ray caster together, in calls of up
    to 4 M rays.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    c, m = cams.camera.shape[0], points.shape[0]
    vis = np.zeros((c, m), dtype=bool)
    if c == 0 or m == 0:
        return vis
    caster = caster or RayCaster(store)
    cos_max = np.cos(np.radians(max_incidence_deg))
    reach = _reach(cams, min_px_per_m)
    # cameras in floor-tile order, so a block's cameras are near each other and only the
    # points within the block's reach need projecting
    tile = np.floor(cams.position[:, :2] / 16.0).astype(np.int64)
    order = np.lexsort((cams.position[:, 0], tile[:, 0], tile[:, 1]))
    step = max(8, _PAIRS_PER_BLOCK // m)
    ci_all, pi_all = [], []
    for c0 in range(0, c, step):
        sel = order[c0:c0 + step]
        pos = cams.position[sel]
        r = float(reach[sel].max())
        if np.isfinite(r):
            lo, hi = pos[:, :2].min(axis=0) - r, pos[:, :2].max(axis=0) + r
            near = np.flatnonzero(((points[:, :2] >= lo) & (points[:, :2] <= hi)).all(axis=1))
        else:
            near = np.arange(m)
        if near.size == 0:
            continue
        pts = points[near]
        sub = Cameras(cams.camera[sel], pos, cams.rotation[sel], cams.intrinsics[sel],
                      cams.resolution[sel])
        with np.errstate(invalid="ignore", divide="ignore"):
            u, v, z = project(sub, pts)
            w = sub.resolution[:, 0, None]
            h = sub.resolution[:, 1, None]
            f = np.minimum(sub.intrinsics[:, 0], sub.intrinsics[:, 1])[:, None]
            ok = (z > MIN_DEPTH_M) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
            ok &= f >= min_px_per_m * z
        if normals is not None:
            ray = pts[None, :, :] - pos[:, None, :]                         # (b, m', 3)
            dist = np.linalg.norm(ray, axis=2)
            cos_inc = -np.einsum("bmk,mk->bm", ray, normals[near]) / np.maximum(dist, 1e-12)
            ok &= cos_inc >= cos_max
        ci, pi = np.nonzero(ok)
        ci_all.append(sel[ci])
        pi_all.append(near[pi])
    if not ci_all:
        return vis
    ci = np.concatenate(ci_all)
    pi = np.concatenate(pi_all)
    free = ~caster.blocked(cams.position[ci], points[pi])
    vis[ci[free], pi[free]] = True
    return vis


def _reach(cams: Cameras, min_px_per_m: float) -> np.ndarray:
    """(c,) float64 farthest distance [m] at which each camera can image a point at
    ``min_px_per_m``: the depth limit min(fx, fy) / min_px_per_m stretched to the image's
    farthest corner (inf without a limit)."""
    if not min_px_per_m > 0:
        return np.full(cams.camera.shape[0], np.inf)
    fx, fy, cx, cy = cams.intrinsics.T
    w, h = cams.resolution[:, 0], cams.resolution[:, 1]
    tan2 = (np.maximum(cx, w - cx) / fx) ** 2 + (np.maximum(cy, h - cy) / fy) ** 2
    return np.minimum(fx, fy) / min_px_per_m * np.sqrt(1.0 + tan2)


@dataclass(frozen=True)
class FloorSamples:
    """The walkable floor as sample points.

    walkable: (ny, nx) bool cells where a person's centre may stand; origin: (2,) float64
    floor point of the grid's lower-left corner [m]; cell: cell size [m]; heights: sample
    heights [m]; points: (n * len(heights), 3) float64, cell-major (the heights of one cell
    are consecutive), n = walkable.sum() in row-major order.
    """

    walkable: np.ndarray
    origin: np.ndarray
    cell: float
    heights: tuple[float, ...]
    points: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.walkable.sum())


def floor_samples(store: Store, cell: float = 0.25,
                  heights: tuple[float, ...] = HEIGHTS) -> FloorSamples:
    """Sample points over the walkable floor: one per cell and height (see the module
    docstring). cell: grid pitch [m]; heights: [m] above the floor."""
    if not cell > 0:
        raise ValueError(f"coverage cell must be > 0 m, got {cell}")
    if not heights or any(not 0 <= h < store.ceiling_height for h in heights):
        raise ValueError(f"coverage heights must be in [0, {store.ceiling_height}) m, "
                         f"got {heights}")
    lo, hi = store.fixture_boxes()
    free, origin, cell = walkable_grid(store.outline, store.walls, store.gates, lo[:, :2],
                                       hi[:, :2], cell, BODY_RADIUS_M)
    jj, ii = np.nonzero(free)
    xy = origin + (np.stack([ii, jj], axis=1) + 0.5) * cell
    hz = np.asarray(heights, dtype=np.float64)
    pts = np.concatenate([np.repeat(xy, hz.size, axis=0), np.tile(hz, xy.shape[0])[:, None]],
                         axis=1)
    return FloorSamples(free, origin, float(cell), tuple(float(h) for h in heights), pts)


def face_samples(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """Sample points on every bin's front opening: (n * 5, 3) float64 points [m] (bin-major,
    centre first) and (n * 5, 3) float64 unit outward normals."""
    b = store.bins
    n = len(b)
    if n == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    face = b.face.astype(np.int64)
    along_x = face >= 2                          # -y / +y faces run along x
    neg = (face % 2) == 0
    plane = np.where(along_x, np.where(neg, b.lo[:, 1], b.hi[:, 1]),
                     np.where(neg, b.lo[:, 0], b.hi[:, 0]))
    a0 = np.where(along_x, b.lo[:, 0], b.lo[:, 1])
    a1 = np.where(along_x, b.hi[:, 0], b.hi[:, 1])
    s = a0[:, None] + _FACE_UV[None, :, 0] * (a1 - a0)[:, None]          # (n, 5)
    z = b.lo[:, 2, None] + _FACE_UV[None, :, 1] * (b.hi[:, 2] - b.lo[:, 2])[:, None]
    p = np.broadcast_to(plane[:, None], s.shape)
    pts = np.stack([np.where(along_x[:, None], s, p), np.where(along_x[:, None], p, s), z],
                   axis=2)
    nrm = np.zeros((n, 5, 3))
    nrm[:, :, :2] = b.normal[:, None, :]
    pts = pts + FACE_NUDGE_M * nrm
    return pts.reshape(-1, 3), nrm.reshape(-1, 3)


@dataclass(frozen=True)
class Visibility:
    """Per-camera visibility of a store's sample sets, the input to coverage and greedy.

    floor: (c, n_cells) bool cell seen at every height; faces: (c, n_bins) bool bin face seen
    (>= ``FACE_MIN_SAMPLES`` of its samples); samples: the floor grid.
    """

    floor: np.ndarray
    faces: np.ndarray
    samples: FloorSamples


def visibility(store: Store, cams: Cameras, cell: float = 0.25,
               heights: tuple[float, ...] = HEIGHTS, *, min_px_per_m: float = MIN_PX_PER_M,
               max_incidence_deg: float = MAX_INCIDENCE_DEG) -> Visibility:
    """Which camera sees which floor cell and which bin face (one ray caster for both)."""
    fs = floor_samples(store, cell, heights)
    caster = RayCaster(store)
    c = cams.camera.shape[0]
    vp = visibility_matrix(store, cams, fs.points, min_px_per_m=min_px_per_m, caster=caster)
    floor = vp.reshape(c, fs.n_cells, len(fs.heights)).all(axis=2)
    fp, fn = face_samples(store)
    vf = visibility_matrix(store, cams, fp, fn, min_px_per_m=min_px_per_m,
                           max_incidence_deg=max_incidence_deg, caster=caster)
    faces = vf.reshape(c, len(store.bins), _FACE_UV.shape[0]).sum(axis=2) >= FACE_MIN_SAMPLES
    return Visibility(floor, faces, fs)


@dataclass(frozen=True)
class CoverageReport:
    """How well a camera layout covers a store.

    store: store name; n_cameras; cost_usd: total list price [USD] (None for bare
    :class:`Cameras`); cell: floor cell [m]; heights: sample heights [m]; origin: (2,) float64
    lower-left corner of the grid [m]; walkable: (ny, nx) bool; counts: (ny, nx) int32 cameras
    seeing each cell (0 off the walkable floor); bin_counts: (n_bins,) int32 cameras seeing
    each bin face. Fractions are of walkable cells and of bin faces.
    """

    store: str
    n_cameras: int
    cost_usd: float | None
    cell: float
    heights: tuple[float, ...]
    origin: np.ndarray
    walkable: np.ndarray
    counts: np.ndarray
    bin_counts: np.ndarray

    def k_fraction(self, k: int) -> float:
        """Fraction of walkable floor cells seen by at least k cameras (nan: no floor)."""
        n = int(self.walkable.sum())
        return float((self.counts[self.walkable] >= k).sum() / n) if n else float("nan")

    def bin_k_fraction(self, k: int = 1) -> float:
        """Fraction of bin faces seen by at least k cameras (nan: no bins)."""
        n = self.bin_counts.shape[0]
        return float((self.bin_counts >= k).sum() / n) if n else float("nan")

    @property
    def floor_fraction(self) -> tuple[float, float, float]:
        """Fractions of the walkable floor seen by >= 1, 2 and 3 cameras."""
        return (self.k_fraction(1), self.k_fraction(2), self.k_fraction(3))

    @property
    def bin_fraction(self) -> float:
        """Fraction of bin faces seen by >= 1 camera."""
        return self.bin_k_fraction(1)

    @property
    def floor_area_m2(self) -> float:
        return float(self.walkable.sum()) * self.cell ** 2

    def to_dict(self, grid: bool = False) -> dict:
        """JSON-able summary (nan written as None); ``grid=True`` adds the per-cell counts
        (rows bottom to top, -1 off the walkable floor)."""
        def f(x: float) -> float | None:
            return None if x != x else round(x, 6)
        d = {
            "store": self.store,
            "cameras": self.n_cameras,
            "cost_usd": None if self.cost_usd is None else float(self.cost_usd),
            "cell_m": self.cell,
            "heights_m": list(self.heights),
            "floor_cells": int(self.walkable.sum()),
            "floor_area_m2": round(self.floor_area_m2, 3),
            "floor_k1": f(self.k_fraction(1)),
            "floor_k2": f(self.k_fraction(2)),
            "floor_k3": f(self.k_fraction(3)),
            "bin_faces": int(self.bin_counts.shape[0]),
            "bin_faces_k1": f(self.bin_k_fraction(1)),
            "bin_faces_k2": f(self.bin_k_fraction(2)),
        }
        if grid:
            d["origin_m"] = [float(x) for x in self.origin]
            d["counts"] = np.where(self.walkable, self.counts, -1).tolist()
        return d


def _as_cameras(layout: CameraLayout | Cameras) -> tuple[Cameras, float | None]:
    if isinstance(layout, Cameras):
        return layout, None
    return layout.cameras(), float(layout.total_cost)


def coverage(store: Store, layout: CameraLayout | Cameras, cell: float = 0.25,
             heights: tuple[float, ...] = HEIGHTS, *, min_px_per_m: float = MIN_PX_PER_M,
             max_incidence_deg: float = MAX_INCIDENCE_DEG) -> CoverageReport:
    """Coverage of the store's walkable floor and bin faces by a layout (or bare cameras).

    cell: floor grid pitch [m]; heights: person sample heights [m] (a cell is seen by a camera
    that sees all of them); min_px_per_m, max_incidence_deg: see :func:`visibility_matrix`.
    """
    cams, cost = _as_cameras(layout)
    vis = visibility(store, cams, cell, heights, min_px_per_m=min_px_per_m,
                     max_incidence_deg=max_incidence_deg)
    fs = vis.samples
    counts = np.zeros(fs.walkable.shape, dtype=np.int32)
    counts[fs.walkable] = vis.floor.sum(axis=0)
    return CoverageReport(store=store.name, n_cameras=int(cams.camera.shape[0]),
                          cost_usd=cost, cell=fs.cell, heights=fs.heights, origin=fs.origin,
                          walkable=fs.walkable, counts=counts,
                          bin_counts=vis.faces.sum(axis=0).astype(np.int32))


# ---------------------------------------------------------------------------------------------
# heatmap


def count_colors(counts: np.ndarray) -> np.ndarray:
    """(..., 3) float64 RGB in [0, 1] of camera counts (..., ) int: :data:`COUNT_COLORS`,
    5 and more sharing the last colour."""
    return COUNT_COLORS[np.clip(np.asarray(counts), 0, len(COUNT_COLORS) - 1)]


def heatmap_image(store: Store, report: CoverageReport, px_per_m: float = 20.0,
                  margin: float = 1.0) -> np.ndarray:
    """(H, W, 3) uint8 floor plan with the cameras-per-cell colours blended over the walkable
    floor, showing :func:`scenes.plan.plan_extent` edge to edge like
    :func:`scenes.plan.plan_image` (map points with :func:`scenes.plan.world_to_pixel`)."""
    from scenes.plan import plan_extent, plan_image

    img = plan_image(store, None, px_per_m=px_per_m, margin=margin).astype(np.float64) / 255.0
    x0, y0, x1, y1 = plan_extent(store, margin)
    h, w = img.shape[:2]
    xs = x0 + (np.arange(w) + 0.5) * (x1 - x0) / w
    ys = y1 - (np.arange(h) + 0.5) * (y1 - y0) / h
    ny, nx = report.walkable.shape
    i = np.floor((xs - report.origin[0]) / report.cell).astype(np.int64)
    j = np.floor((ys - report.origin[1]) / report.cell).astype(np.int64)
    iok = (i >= 0) & (i < nx)
    jok = (j >= 0) & (j < ny)
    jj, ii = np.meshgrid(np.clip(j, 0, ny - 1), np.clip(i, 0, nx - 1), indexing="ij")
    on = report.walkable[jj, ii] & jok[:, None] & iok[None, :]
    col = count_colors(report.counts[jj, ii])
    img[on] = (1 - HEAT_ALPHA) * img[on] + HEAT_ALPHA * col[on]
    return np.round(img * 255.0).astype(np.uint8)


def heatmap_png(store: Store, report: CoverageReport, path: str | Path,
                cameras: CameraLayout | Cameras | None = None, dpi: float = 150,
                title: str | None = None) -> None:
    """Write a cameras-per-cell heatmap over the floor plan as a PNG at ``path``: a colour
    bar (0 .. 5+ cameras), camera markers with a short tick along each camera's view
    direction, and a title with the k-coverage numbers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure

    from scenes.plan import CAMERA_COLOR, _figure_inches, plan_extent

    margin = 1.0
    img = heatmap_image(store, report, px_per_m=40.0, margin=margin)
    x0, y0, x1, y1 = plan_extent(store, margin)
    aw, ah = _figure_inches(store)
    fig = Figure(figsize=(aw + 1.5, ah + 0.9), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(img, extent=(x0, x1, y0, y1), origin="upper", interpolation="nearest")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    if cameras is not None:
        cams, _ = _as_cameras(cameras)
        if cams.camera.shape[0]:
            pos = cams.position
            axis = cams.rotation[:, :, 2]                      # optical axis in the world
            tick = 0.8 * axis[:, :2]                           # 0.8 m when level
            ax.quiver(pos[:, 0], pos[:, 1], tick[:, 0], tick[:, 1], angles="xy",
                      scale_units="xy", scale=1.0, width=0.003, color="black", zorder=6)
            ax.scatter(pos[:, 0], pos[:, 1], s=22, marker="^", facecolor=CAMERA_COLOR,
                       edgecolor="black", linewidths=0.5, zorder=7)
    k1, k2, k3 = report.floor_fraction
    cost = "" if report.cost_usd is None else f", ${report.cost_usd:,.0f}"
    bins = ("" if report.bin_counts.shape[0] == 0
            else f", bin faces seen {100 * report.bin_fraction:.1f}%")
    heading = title if title is not None else store.name
    ax.set_title(f"{heading}: {report.n_cameras} cameras{cost}\nfloor seen by >=1 / >=2 / >=3 "
                 f"cameras: {100 * k1:.1f}% / {100 * k2:.1f}% / {100 * k3:.1f}%{bins}",
                 fontsize=10)
    n = len(COUNT_COLORS)
    cmap = ListedColormap(COUNT_COLORS)
    norm = BoundaryNorm(np.arange(n + 1) - 0.5, n)
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, ticks=np.arange(n),
                      fraction=0.05, pad=0.02, shrink=0.9)
    cb.ax.set_yticklabels([str(i) for i in range(n - 1)] + [f"{n - 1}+"])
    cb.set_label("cameras seeing the cell")
    fig.savefig(path, format="png", dpi=dpi, facecolor="white", bbox_inches="tight",
                pad_inches=0.2)
