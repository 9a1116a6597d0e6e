"""Camera geometry as data: poses from yaw, pitch and roll or from a point to look at,
pinhole intrinsics from a field of view, projection into every camera, and the ceiling grid
of downward cameras. Pure functions on arrays; the detection model is :mod:`twin.cameras`.

Orientation convention (yaw, pitch, roll in degrees):

- yaw: heading of the optical axis on the floor, counter-clockwise from +x (0 looks toward
  +x, 90 toward +y);
- pitch: elevation of the optical axis above the horizontal (0 level, -90 straight down);
- roll: turn of the image about the optical axis, positive turning the image's x axis toward
  its y axis (clockwise as seen from behind the camera).

At roll 0 the image's x axis is horizontal, to the right of the heading, and its y axis
points as far down as it can; for a down-looking camera (pitch -90) the top of the image
faces the yaw direction, so yaw 90, pitch -90 is :func:`ceiling_grid`'s pose.
"""

from __future__ import annotations

import math

import numpy as np

from core.knowledge import Cameras
from scenes.store import Store

# ---------------------------------------------------------------------------------------------
# orientation and intrinsics (scalar math, so the same angles always give the same bits)


def rotation_from_angles(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0
                         ) -> np.ndarray:
    """(3, 3) float64 world-from-camera rotation (columns: the camera's x, y, z axes in the
    world) of a camera with the given yaw, pitch and roll [deg] (module docstring)."""
    y, p, r = math.radians(yaw_deg), math.radians(pitch_deg), math.radians(roll_deg)
    cy, sy, cp, sp, cr, sr = (math.cos(y), math.sin(y), math.cos(p), math.sin(p),
                              math.cos(r), math.sin(r))
    z = (cp * cy, cp * sy, sp)
    x0 = (sy, -cy, 0.0)
    y0 = (z[1] * x0[2] - z[2] * x0[1], z[2] * x0[0] - z[0] * x0[2],
          z[0] * x0[1] - z[1] * x0[0])                              # z x x0
    x = [cr * a + sr * b for a, b in zip(x0, y0, strict=True)]
    yy = [-sr * a + cr * b for a, b in zip(x0, y0, strict=True)]
    return np.array([x, yy, list(z)], dtype=np.float64).T


def angles_from_rotation(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) [deg] of a world-from-camera rotation (3, 3); for a camera looking
    straight up or down, yaw is taken from the image x axis and roll is 0."""
    rot = np.asarray(rot, dtype=np.float64)
    z = rot[:, 2]
    x = rot[:, 0]
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(z[2])))))
    if math.hypot(z[0], z[1]) < 1e-6:
        return math.degrees(math.atan2(float(x[0]), float(-x[1]))), pitch, 0.0
    yaw = math.degrees(math.atan2(float(z[1]), float(z[0])))
    r0 = rotation_from_angles(yaw, pitch, 0.0)
    roll = math.degrees(math.atan2(float(x @ r0[:, 1]), float(x @ r0[:, 0])))
    return yaw, pitch, roll


def look_at_angles(position, target) -> tuple[float, float]:
    """(yaw, pitch) [deg] of a camera at ``position`` (3,) looking at ``target`` (3,) [m]."""
    d = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    n = float(np.linalg.norm(d))
    h = math.hypot(float(d[0]), float(d[1]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(d[2]) / n))))
    yaw = 90.0 if h < 1e-9 * n else math.degrees(math.atan2(float(d[1]), float(d[0])))
    return yaw, pitch


def focal_from_hfov(width_px: int, hfov_deg: float) -> float:
    """Focal length [px] of a pinhole ``width_px`` wide with horizontal field ``hfov_deg``."""
    return (width_px / 2) / math.tan(math.radians(hfov_deg) / 2)


def intrinsics_from_hfov(resolution: tuple[int, int], hfov_deg: float) -> np.ndarray:
    """(4,) float64 fx, fy, cx, cy [px]: square pixels, principal point at the centre."""
    w, h = resolution
    f = focal_from_hfov(w, hfov_deg)
    return np.array([f, f, w / 2, h / 2], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# cameras as arrays (core.knowledge.Cameras)


def ceiling_grid(store: Store, spacing: float = 2.5, height: float | None = None,
                 hfov_deg: float = 90.0, resolution: tuple[int, int] = (1280, 960)) -> Cameras:
    """Cameras looking straight down on a square grid covering the floor.

    spacing: grid pitch [m]; height: mounting height [m] (default: 0.2 m under the ceiling);
    hfov_deg: horizontal field of view [deg]; resolution: (width, height) [px].
    """
    if not spacing > 0:
        raise ValueError(f"camera grid spacing must be > 0 m, got {spacing}")
    x0, y0, x1, y1 = store.bounds
    h = store.ceiling_height - 0.2 if height is None else height
    nx = max(1, int(np.ceil((x1 - x0) / spacing)))
    ny = max(1, int(np.ceil((y1 - y0) / spacing)))
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    pos = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, h)], axis=1)
    pos = pos[store.contains(pos[:, :2])]   # a floor that is not a rectangle: none outside
    # camera +z looks down (-world z), camera x = world x, camera y = world -y
    rot = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
    w, hh = resolution
    fx = (w / 2) / np.tan(np.radians(hfov_deg) / 2)
    n = pos.shape[0]
    return Cameras(
        camera=np.arange(n, dtype=np.int32),
        position=pos,
        rotation=np.repeat(rot[None], n, axis=0),
        intrinsics=np.tile([fx, fx, w / 2, hh / 2], (n, 1)).astype(np.float64),
        resolution=np.tile([w, hh], (n, 1)).astype(np.int32),
    )


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(3, 3) world-from-camera rotation of a camera at ``position`` (3,) [m] looking at
    ``target`` (3,) [m] with no roll (image x stays horizontal). Not for a camera looking
    straight up or down (use :func:`ceiling_grid`'s rotation for those)."""
    z = np.asarray(target, np.float64) - np.asarray(position, np.float64)
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    nx = np.linalg.norm(x)
    if nx < 1e-9:
        raise ValueError("look_at: the view direction is vertical; the roll is undefined")
    x /= nx
    y = np.cross(z, x)            # image y points down in the world
    return np.stack([x, y, z], axis=1)


def project(cams: Cameras, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project world points into every camera.

    points: (m, 3) [m]. Returns u, v: (c, m) float64 [px] (nan behind the camera) and
    depth: (c, m) along the optical axis [m].
    """
    rel = points[None, :, :] - cams.position[:, None, :]           # (c, m, 3)
    pc = np.matmul(rel, cams.rotation)                             # camera frame
    z = pc[..., 2]
    zs = np.where(z > 1e-6, z, np.nan)
    fx, fy, cx, cy = (cams.intrinsics[:, k, None] for k in range(4))
    return fx * pc[..., 0] / zs + cx, fy * pc[..., 1] / zs + cy, z


def cylinder_hits(o: np.ndarray, d: np.ndarray, cxy: np.ndarray, radius: float,
                  height: float) -> np.ndarray:
    """Which segments o + s d, s in [0, 1], cross a closed vertical cylinder (floor to
    ``height``) around ``cxy``. o, d, cxy broadcast: (..., 3), (..., 3), (..., 2). Returns
    (...) bool."""
    f = o[..., :2] - cxy
    a = d[..., 0] ** 2 + d[..., 1] ** 2
    b = 2 * (f[..., 0] * d[..., 0] + f[..., 1] * d[..., 1])
    c = f[..., 0] ** 2 + f[..., 1] ** 2 - radius ** 2
    disc = b * b - 4 * a * c
    ok = (disc > 0) & (a > 1e-12)
    sq = np.sqrt(np.where(ok, disc, 0.0))
    a2 = np.where(a > 1e-12, 2 * a, 1.0)
    s1 = np.clip((-b - sq) / a2, 0.0, 1.0)
    s2 = np.clip((-b + sq) / a2, 0.0, 1.0)
    # the segment's part inside the infinite cylinder, [s1, s2], must reach [0, height] in z
    z1 = o[..., 2] + s1 * d[..., 2]
    z2 = o[..., 2] + s2 * d[..., 2]
    return ok & (s2 > s1) & (np.minimum(z1, z2) < height) & (np.maximum(z1, z2) > 0.0)
