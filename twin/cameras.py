"""Ceiling cameras as data, and the default-fidelity detection model.

A camera is a calibrated pinhole (pose + intrinsics + resolution). Each camera tick, every
person is sampled at ``body_heights`` along the body axis; a sample counts as visible when it
projects inside the image and the ray from the camera reaches it without hitting a fixture
(trimesh ray cast, embree-accelerated) or another person (vertical cylinders, analytic). The
visible fraction and distance set the detection probability, the floor-position noise and the
confidence; false positives are sprinkled per camera. Detections are sorted by camera and x,
so their order carries no identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.knowledge import Cameras
from core.records import CameraFrame
from scenes.meshes import occluder_mesh
from scenes.store import Store


@dataclass(frozen=True)
class DetectionModel:
    """Parameters of the geometric detection model.

    These are assumptions, to be calibrated against rendered frames (issue 4): a modern
    person detector on a ceiling view finds an unoccluded person nearly always (p ~0.95) and
    localises the foot point to ~5-10 cm near the camera's nadir, worse with distance and
    occlusion; below ~20% visible it rarely fires.
    """

    p_max: float = 0.95             # detection probability of a fully visible, near person
    min_visible: float = 0.2        # below this visible fraction: never detected
    full_range_m: float = 4.0       # horizontal distance up to which p is not reduced [m]
    range_scale_m: float = 4.0      # e-folding of p beyond full_range_m [m]
    sigma0_m: float = 0.05          # foot-point noise at the nadir [m]
    sigma_per_m: float = 0.02       # added noise per metre of horizontal distance [m/m]
    fp_per_frame: float = 0.005     # false positives per camera per frame (Poisson mean)
    body_heights: tuple[float, ...] = (0.15, 0.5, 0.9, 1.3, 1.6)  # sample points [m]
    body_radius: float = 0.25       # person as a vertical cylinder [m] (shoulder half-width)
    body_height: float = 1.7        # [m] (US adult mean ~1.69 m, CDC NHANES)

    def __post_init__(self) -> None:
        if not 0 < self.p_max <= 1:
            raise ValueError(f"DetectionModel.p_max must be in (0, 1], got {self.p_max}")
        if not 0 <= self.min_visible < 1:
            raise ValueError(f"DetectionModel.min_visible must be in [0, 1), got {self.min_visible}")
        for name in ("sigma0_m", "sigma_per_m", "fp_per_frame"):
            if getattr(self, name) < 0:
                raise ValueError(f"DetectionModel.{name} must be >= 0")


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


def project(cams: Cameras, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project world points into every camera.

    points: (m, 3) [m]. Returns u, v: (c, m) float64 [px] and depth: (c, m) along the optical
    axis [m].
    """
    rel = points[None, :, :] - cams.position[:, None, :]           # (c, m, 3)
    pc = np.einsum("cji,cmj->cmi", cams.rotation, rel)             # camera frame
    z = pc[..., 2]
    zs = np.where(z > 1e-6, z, np.nan)
    fx, fy, cx, cy = (cams.intrinsics[:, k, None] for k in range(4))
    return fx * pc[..., 0] / zs + cx, fy * pc[..., 1] / zs + cy, z


class CameraSystem:
    """All cameras of a store; turns people positions into a :class:`CameraFrame`."""

    def __init__(self, store: Store, cams: Cameras, model: DetectionModel | None = None,
                 rng: np.random.Generator | None = None,
                 dead: np.ndarray | None = None) -> None:
        self.store = store
        self.cams = cams
        self.model = model or DetectionModel()
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.dead = np.zeros(len(cams.camera), dtype=bool) if dead is None else dead.astype(bool)
        mesh = occluder_mesh(store)   # fixtures and interior walls
        self._ray = None
        if len(mesh.faces):
            try:
                from trimesh.ray.ray_pyembree import RayMeshIntersector
            except ImportError:  # pragma: no cover - embreex missing: slower rtree path
                from trimesh.ray.ray_triangle import RayMeshIntersector
            self._ray = RayMeshIntersector(mesh)
        self._mesh = mesh
        self.rays_cast = 0

    def _fixture_blocked(self, origins: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(r,) bool: a fixture lies between origin and target."""
        blocked = np.zeros(origins.shape[0], dtype=bool)
        if self._ray is None or origins.shape[0] == 0:
            return blocked
        d = targets - origins
        length = np.linalg.norm(d, axis=1)
        d = d / length[:, None]
        # intersects_first: the nearest triangle per ray (-1 for none). (embreex's
        # intersects_id with multiple_hits=False returns wrong ray indices with trimesh 4/5.)
        tri = self._ray.intersects_first(origins, d)
        self.rays_cast += origins.shape[0]
        hit = tri >= 0
        if hit.any():
            mesh = self._mesh
            n = mesh.face_normals[tri[hit]]
            v0 = mesh.vertices[mesh.faces[tri[hit], 0]]
            denom = np.einsum("ij,ij->i", n, d[hit])
            dist = np.einsum("ij,ij->i", n, v0 - origins[hit]) / np.where(
                np.abs(denom) > 1e-12, denom, 1e-12)
            blocked[np.flatnonzero(hit)[dist < length[hit] - 1e-3]] = True
        return blocked

    def _people_blocked(self, origins, targets, owner, xy) -> np.ndarray:
        """(r,) bool: another person's cylinder lies between origin and target."""
        m = self.model
        if xy.shape[0] < 2 or origins.shape[0] == 0:
            return np.zeros(origins.shape[0], dtype=bool)
        o = origins[:, None, :2]
        d = (targets - origins)[:, None, :]
        f = o - xy[None, :, :]                                      # (r, s, 2)
        a = (d[..., :2] ** 2).sum(-1)
        b = 2 * (f * d[..., :2]).sum(-1)
        c = (f ** 2).sum(-1) - m.body_radius ** 2
        disc = b * b - 4 * a * c
        ok = (disc > 0) & (a > 1e-12)
        sq = np.sqrt(np.where(ok, disc, 0.0))
        a2 = np.where(a > 1e-12, 2 * a, 1.0)
        s1 = (-b - sq) / a2
        s2 = (-b + sq) / a2
        # entry into the cylinder's horizontal disc between camera and target, below its top
        s_in = np.clip(s1, 0.0, None)
        z_in = origins[:, None, 2] + s_in * d[..., 2]
        z_out = origins[:, None, 2] + np.clip(s2, 0.0, 1.0) * d[..., 2]
        hit = ok & (s2 > 0) & (s1 < 1) & (np.minimum(z_in, z_out) < m.body_height)
        hit[np.arange(origins.shape[0]), owner] = False
        return hit.any(axis=1)

    def detect(self, frame: int, t: float, xy: np.ndarray) -> CameraFrame:
        """Detections of people standing at ``xy`` (s, 2) [m] at time ``t`` [s]."""
        m = self.model
        cams = self.cams
        rng = self.rng
        c = cams.camera.shape[0]
        s = xy.shape[0]
        k = len(m.body_heights)
        det_cam: list[np.ndarray] = []
        det_xy: list[np.ndarray] = []
        det_conf: list[np.ndarray] = []
        if s:
            hz = np.asarray(m.body_heights)
            pts = np.concatenate(
                [np.repeat(xy, k, axis=0), np.tile(hz, s)[:, None]], axis=1)  # (s*k, 3)
            u, v, z = project(cams, pts)
            w = cams.resolution[:, 0, None]
            h = cams.resolution[:, 1, None]
            inimg = (z > 0.1) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
            inimg &= ~self.dead[:, None]
            ci, pi = np.nonzero(inimg)
            origins = cams.position[ci]
            targets = pts[pi]
            owner = pi // k
            vis = ~self._fixture_blocked(origins, targets)
            vis &= ~self._people_blocked(origins, targets, owner, xy)
            visible = np.zeros((c, s), dtype=np.float64)
            np.add.at(visible, (ci, owner), vis.astype(np.float64))
            visible /= k
            dist = np.linalg.norm(cams.position[:, None, :2] - xy[None, :, :], axis=2)
            p = m.p_max * np.clip((visible - m.min_visible) / (1 - m.min_visible), 0, 1)
            p *= np.exp(-np.clip(dist - m.full_range_m, 0, None) / m.range_scale_m)
            hit = rng.random((c, s)) < p
            cc, ss = np.nonzero(hit)
            sig = (m.sigma0_m + m.sigma_per_m * dist[cc, ss]) * (2.0 - visible[cc, ss])
            noise = rng.normal(size=(cc.size, 2)) * sig[:, None]
            conf = np.clip(0.45 + 0.5 * visible[cc, ss] - 0.03 * dist[cc, ss]
                           + 0.05 * rng.normal(size=cc.size), 0.05, 1.0)
            det_cam.append(cc.astype(np.int32))
            det_xy.append(xy[ss] + noise)
            det_conf.append(conf)
        # false positives inside each live camera's floor footprint
        nfp = rng.poisson(m.fp_per_frame, size=c) * (~self.dead)
        if nfp.sum():
            fc = np.repeat(np.arange(c), nfp)
            r = 2.0 * np.sqrt(rng.random(fc.size))
            a = rng.random(fc.size) * 2 * np.pi
            fxy = cams.position[fc, :2] + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
            x0, y0, x1, y1 = self.store.bounds
            fxy = np.clip(fxy, [x0, y0], [x1, y1])
            det_cam.append(fc.astype(np.int32))
            det_xy.append(fxy)
            det_conf.append(0.1 + 0.4 * rng.random(fc.size))
        if det_cam:
            cam = np.concatenate(det_cam)
            dxy = np.concatenate(det_xy)
            conf = np.concatenate(det_conf)
            order = np.lexsort((dxy[:, 0], cam))
            return CameraFrame(frame, t, cam[order], dxy[order], conf[order])
        return CameraFrame(frame, t, np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0))
