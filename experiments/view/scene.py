"""The store the viewer draws: floor, walls, gates, fixtures, stock, bins, the ceiling cameras
with their view frusta, and the coverage floor map, as arrays for the page (boxes become
instanced meshes there: one draw call per layer, whatever the store's size).
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

from core.knowledge import Cameras
from experiments.view.blobs import blob
from scenes.meshes import fixture_colors, sku_colors, stock_boxes, wall_quads
from scenes.store import Store

# The coverage map's cell [m]: the planning tools' 0.25 m (twin/coverage.py) up to this many
# cells, coarser above (a supercenter at 0.25 m is ~270,000 cells: a minute of ray casts for
# a picture the viewer shows at a few pixels a cell).
COVERAGE_CELLS = 40_000
COVERAGE_MIN_CELL_M = 0.25
# A frustum edge that points at or above the horizon is drawn this many camera heights long.
FRUSTUM_MAX_HEIGHTS = 3.0


def frustum_corners(cams: Cameras) -> np.ndarray:
    """(c, 4, 3) float64: where the rays through each camera's four image corners meet the
    floor (z = 0) [m], in image order (0, 0), (w, 0), (w, h), (0, h); a ray that never
    reaches the floor stops :data:`FRUSTUM_MAX_HEIGHTS` camera heights away.

    Rotations are camera-to-store, OpenCV axes (x right, y down, z forward), as in
    core.knowledge.Cameras.
    """
    n = cams.camera.shape[0]
    if n == 0:
        return np.zeros((0, 4, 3))
    fx, fy, cx, cy = (cams.intrinsics[:, k] for k in range(4))
    w, h = cams.resolution[:, 0].astype(np.float64), cams.resolution[:, 1].astype(np.float64)
    u = np.stack([np.zeros(n), w, w, np.zeros(n)], axis=1)
    v = np.stack([np.zeros(n), np.zeros(n), h, h], axis=1)
    d_cam = np.stack([(u - cx[:, None]) / fx[:, None], (v - cy[:, None]) / fy[:, None],
                      np.ones((n, 4))], axis=2)                       # (c, 4, 3)
    d = np.einsum("cij,ckj->cki", cams.rotation, d_cam)
    d /= np.linalg.norm(d, axis=2, keepdims=True)
    pz = cams.position[:, 2:3]
    reach = FRUSTUM_MAX_HEIGHTS * np.maximum(pz, 0.1)
    s = np.where(d[:, :, 2] < -1e-9, pz / np.maximum(-d[:, :, 2], 1e-9), np.inf)
    s = np.minimum(s, reach)
    return cams.position[:, None, :] + s[:, :, None] * d


def coverage_map(store: Store, cams: Cameras) -> dict:
    """Cameras seeing each walkable floor cell (twin.coverage, the planning tools' rule) as a
    PNG the page lays on the floor: colours of twin.coverage.count_colors, transparent off
    the walkable floor; with the fractions seen by >= 1, 2 and 3 cameras."""
    from PIL import Image

    from twin.coverage import count_colors, coverage

    cell = max(COVERAGE_MIN_CELL_M, math.sqrt(store.area_m2 / COVERAGE_CELLS))
    rep = coverage(store, cams, cell=cell)
    rgba = np.zeros(rep.counts.shape + (4,), np.uint8)
    rgba[..., :3] = np.round(255 * count_colors(rep.counts))
    rgba[..., 3] = np.where(rep.walkable, 150, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba[::-1].copy(), "RGBA").save(buf, format="PNG", optimize=False)
    ny, nx = rep.counts.shape
    return {"origin": [float(rep.origin[0]), float(rep.origin[1])], "cell": float(rep.cell),
            "nx": int(nx), "ny": int(ny),
            "png": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "k1": rep.k_fraction(1), "k2": rep.k_fraction(2), "k3": rep.k_fraction(3)}


def _boxes(lo: np.ndarray, hi: np.ndarray) -> dict:
    """(n, 6) centre and size of boxes lo, hi (n, 3) [m], as float32."""
    lo, hi = np.asarray(lo, np.float64).reshape(-1, 3), np.asarray(hi, np.float64).reshape(-1, 3)
    return blob(np.hstack([0.5 * (lo + hi), hi - lo]), "f4")


def _walls(store: Store) -> dict:
    """Wall pieces as boxes: each quad of scenes.meshes.wall_quads is a rectangle, from the
    floor to the ceiling."""
    quads = [q for q in wall_quads(store).values() if len(q)]
    if not quads:
        return _boxes(np.zeros((0, 3)), np.zeros((0, 3)))
    q = np.concatenate(quads)                                          # (k, 4, 2)
    a, b, c = q[:, 0], q[:, 1], q[:, 2]
    centre = 0.5 * (a + c)
    along, across = b - a, c - b
    length = np.linalg.norm(along, axis=1)
    thick = np.linalg.norm(across, axis=1)
    angle = np.arctan2(along[:, 1], along[:, 0])
    hgt = np.full(len(q), store.ceiling_height)
    return blob(np.column_stack([centre, hgt / 2, length, thick, hgt, angle]), "f4")


def scene_data(store: Store, cams: Cameras, with_coverage: bool = True) -> dict:
    """Everything the page draws of the store and its cameras (see the module docstring)."""
    bins, cat = store.bins, store.catalogue
    lo, hi = store.fixture_boxes() if store.fixtures else (np.zeros((0, 3)), np.zeros((0, 3)))
    slo, shi = stock_boxes(store)
    stocked = np.flatnonzero((shi - slo).min(axis=1) > 0) if len(bins) else np.zeros(0, int)
    colors = sku_colors(cat)[:, :3]
    x0, y0, x1, y1 = store.bounds
    return {
        "name": store.name,
        "bounds": [x0, y0, x1, y1],
        "ceiling": float(store.ceiling_height),
        "area_m2": round(store.area_m2, 1),
        "outline": np.round(store.outline, 4).tolist(),
        "walls": _walls(store),
        "gates": [{"name": g.name, "kind": g.kind, "a": list(g.a), "b": list(g.b)}
                  for g in store.gates],
        "fixtures": {"box": _boxes(lo, hi), "color": blob(fixture_colors(store)[:, :3], "u1"),
                     "name": [f.name for f in store.fixtures]},
        "stock": {"box": _boxes(slo[stocked], shi[stocked]),
                  "color": blob(colors[bins.sku_index[stocked]], "u1"),
                  "fixture": blob(bins.fixture[stocked], "u4")},
        "bins": {"center": blob(bins.center, "f4"), "access": blob(bins.access_xy, "f4"),
                 "plate": blob(bins.plate, "u4"), "sku": blob(bins.sku_index, "u4")},
        "catalogue": {"sku": [str(s) for s in cat.sku], "name": [str(s) for s in cat.name],
                      "price_cents": [int(p) for p in cat.price_cents]},
        "cameras": {"id": blob(cams.camera, "i4"), "position": blob(cams.position, "f4"),
                    "floor": blob(frustum_corners(cams), "f4")},
        "coverage": coverage_map(store, cams) if with_coverage and len(cams.camera) else None,
    }
