"""Plan-view culling of camera-person pairs, for large stores.

The visible fraction (:class:`twin.cameras.CameraSystem`) looks at every camera-body pair and,
for each, at every other body that may stand across its sight lines: cameras x people^2
pairs. In a large store most cameras see few of the people, so above a size the camera system
looks only at the pairs these tables list, built once per camera system:

- per camera a plan box ``core`` (xlo, ylo, xhi, yhi) [m] holding the camera and every body
  position whose image box can overlap the image (a necessary condition: the body's bounding
  sphere meets each image side's half-space and the half-space in front of the near plane,
  or straddles the near plane; 1 cm of slack), and ``ext``, ``core`` grown by two body
  radii: every body that can stand across a sight line from the camera to a body in
  ``core``;
- a grid over the store listing the cameras whose ``ext`` touches each cell (each frame,
  :func:`twin._camera_kernels.cull_lists` turns it into the bodies each camera considers);
- per camera the occluder boxes (grown by a body radius) that touch ``core``.

Pairs outside these are exactly the pairs the dense computation rejects, so culling changes
no result (``tests/twin/test_cameras.py`` checks the two paths agree bit for bit).
"""

from __future__ import annotations

import numpy as np

from core.knowledge import Cameras

CELL_M = 2.0     # grid cell of the plan-view culling [m]
PAD_M = 1.0      # people up to this far outside the store bounds use the culled path


def culling_tables(cams: Cameras, bounds: tuple[float, float, float, float], radius: float,
                   height: float, near: float, box_lo: np.ndarray, box_hi: np.ndarray,
                   grown: np.ndarray) -> dict:
    """The culling tables (module docstring) of cameras ``cams`` over a store whose plan
    ``bounds`` are (xlo, ylo, xhi, yhi) [m], for bodies of ``radius`` and ``height`` [m] and
    cameras imaging from ``near`` [m] on. box_lo, box_hi (b, 3) [m]: the occluders'
    bounding boxes; grown (b, 5) [m]: their footprints grown by the body radius, and tops."""
    c = cams.camera.shape[0]
    x0, y0, x1, y1 = bounds
    pad = PAD_M
    core = _core_boxes(cams, bounds, radius, height, near)
    ext = core + np.array([-1.0, -1.0, 1.0, 1.0]) * (2 * radius + 0.01)
    gx0, gy0, nx, ny, cell_start, cell_cams = _camera_grid(ext, bounds)
    bc, bb = _boxes_near(core, radius, box_lo, box_hi)
    return {
        "core": core, "ext": ext, "origin": np.array([gx0, gy0]), "cell": float(CELL_M),
        "nx": nx, "ny": ny, "cell_start": cell_start.astype(np.int64),
        "cell_cams": cell_cams.astype(np.int64),
        "box_start": np.searchsorted(bc, np.arange(c + 1)).astype(np.int64),
        "boxes": bb.astype(np.int64), "boxes_grown": grown[bb],
        "bounds": (x0 - pad, y0 - pad, x1 + pad, y1 + pad),
        "bounds_arr": np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad]),
    }


def _clip_half_plane(poly: list[np.ndarray], a: np.ndarray, beta: float) -> list[np.ndarray]:
    """The part of the convex polygon ``poly`` (list of (2,) vertices) where a . p >= beta."""
    out: list[np.ndarray] = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        fp, fq = float(a @ p) - beta, float(a @ q) - beta
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            out.append(p + (fp / (fp - fq)) * (q - p))
    return out


def _core_boxes(cams: Cameras, bounds: tuple[float, float, float, float], radius: float,
                height: float, near: float) -> np.ndarray:
    """(c, 4) each camera's ``core`` plan box (module docstring) [m]."""
    c = cams.camera.shape[0]
    x0, y0, x1, y1 = bounds
    pad = PAD_M
    rect = [np.array(v, dtype=np.float64) for v in
            ((x0 - pad, y0 - pad), (x1 + pad, y0 - pad), (x1 + pad, y1 + pad),
             (x0 - pad, y1 + pad))]
    rr = radius / np.cos(np.pi / 8)
    rb = float(np.hypot(rr, height / 2)) + 0.01     # bounding sphere + slack
    core = np.empty((c, 4))
    for i in range(c):
        rot = cams.rotation[i]
        cpos = cams.position[i]
        fx, fy, cx, cy = cams.intrinsics[i]
        w, h = cams.resolution[i]
        mid = np.array([0.0, 0.0, height / 2])

        def half(n_cam, delta, sign=1.0, rot=rot, cpos=cpos, mid=mid):
            # sphere centre (x, y, h/2) with sign * n . (X - C) > delta - rb, as a . p >= b
            n = rot @ np.asarray(n_cam, dtype=np.float64)
            n = sign * n / np.linalg.norm(n)
            return n[:2], float(delta - rb + n @ cpos - n @ mid)

        sides = [half((-fx, 0.0, w - cx), 0.0), half((fx, 0.0, cx), 0.0),
                 half((0.0, -fy, h - cy), 0.0), half((0.0, fy, cy), 0.0),
                 half((0.0, 0.0, 1.0), near)]
        strip = [half((0.0, 0.0, 1.0), near),
                 half((0.0, 0.0, 1.0), -near, sign=-1.0)]
        pts = [cpos[:2]]
        for planes in (sides, strip):
            poly = list(rect)
            for a, beta in planes:
                if np.hypot(*a) < 1e-9:      # a horizontal plane: all or nothing
                    poly = poly if 0.0 >= beta else []
                else:
                    poly = _clip_half_plane(poly, a, beta)
                if not poly:
                    break
            pts.extend(poly)
        pts = np.array(pts)
        core[i] = [*(pts.min(axis=0) - 0.01), *(pts.max(axis=0) + 0.01)]
    return core


def _camera_grid(ext: np.ndarray, bounds: tuple[float, float, float, float]):
    """The plan grid: its origin gx0, gy0 [m], size nx, ny [cells], and per cell
    (``ix * ny + iy``) the cameras whose ``ext`` touches it: cell_start (nx * ny + 1,) into
    cell_cams."""
    c = ext.shape[0]
    x0, y0, x1, y1 = bounds
    pad = PAD_M
    # grid: cell -> cameras whose ext touches it
    cs = CELL_M
    gx0, gy0 = x0 - pad, y0 - pad
    nx = int(np.ceil((x1 + pad - gx0) / cs)) + 1
    ny = int(np.ceil((y1 + pad - gy0) / cs)) + 1
    # (one cell of slack each side: a body on a cell edge may round into either cell)
    ix0 = np.clip(np.floor((ext[:, 0] - gx0) / cs) - 1, 0, nx - 1).astype(np.int64)
    ix1 = np.clip(np.floor((ext[:, 2] - gx0) / cs) + 1, 0, nx - 1).astype(np.int64)
    iy0 = np.clip(np.floor((ext[:, 1] - gy0) / cs) - 1, 0, ny - 1).astype(np.int64)
    iy1 = np.clip(np.floor((ext[:, 3] - gy0) / cs) + 1, 0, ny - 1).astype(np.int64)
    cell_l, cam_l = [], []
    for i in range(c):
        gx, gy = np.meshgrid(np.arange(ix0[i], ix1[i] + 1), np.arange(iy0[i], iy1[i] + 1))
        cell_l.append((gx * ny + gy).ravel())
        cam_l.append(np.full(gx.size, i, dtype=np.int64))
    cells = np.concatenate(cell_l) if cell_l else np.zeros(0, np.int64)
    camof = np.concatenate(cam_l) if cam_l else np.zeros(0, np.int64)
    order = np.lexsort((camof, cells))
    cell_start = np.searchsorted(cells[order], np.arange(nx * ny + 1))
    return gx0, gy0, nx, ny, cell_start, camof[order]


def _boxes_near(core: np.ndarray, radius: float, box_lo: np.ndarray, box_hi: np.ndarray):
    """(camera, box) index pairs, camera ascending: the occluder boxes (grown by a body
    radius) that touch each camera's core box."""
    # camera -> occluder boxes (grown by a body radius) that touch its core box
    r = radius
    blo = box_lo[:, :2] - r - 0.01
    bhi = box_hi[:, :2] + r + 0.01
    touch = ((blo[None, :, 0] <= core[:, None, 2]) & (bhi[None, :, 0] >= core[:, None, 0])
             & (blo[None, :, 1] <= core[:, None, 3]) & (bhi[None, :, 1] >= core[:, None, 1]))
    return np.nonzero(touch)
