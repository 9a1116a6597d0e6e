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
without hitting a fixture or interior wall (embree ray cast on
:func:`scenes.meshes.occluder_mesh`) or another person's cylinder (analytic). The visible
fraction is the visible samples' area over the whole silhouette's area. **The part of the
silhouette outside the image counts as hidden**: the denominator is the full, unclipped
silhouette, so a person half out of the picture is at most 0.5 visible. This is what the
rendered segmentation says when its person pixels are divided by the pixels of that person
rendered alone on an unbounded image (see :mod:`twin.render` and ``tests/twin/test_render.py``,
which checks the two agree).

The visible fraction and distance set the detection probability, the floor-position noise
and the confidence; false positives are sprinkled per camera. Hands reaching into shelf bins
are reported in 3-D by every camera that sees them. Detections are sorted by camera and x, so
their order carries no identity.

Cost: only camera-person pairs whose silhouette's bounding box overlaps the image are
sampled; rays go to the fixture mesh only for pairs whose line-of-sight corridor can cross a
fixture's or wall's bounding box, and each person is tested only against the people whose
image boxes overlap theirs in the same camera. Everything is batched over pairs (no Python
loop over people or cameras).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.knowledge import Cameras
from core.records import CameraFrame
from scenes.meshes import occluder_mesh, wall_quads
from scenes.store import Store

# The visible-fraction computation culls camera-person pairs in plan (see
# ``CameraSystem._culling``) once cameras x people^2 exceeds this; below it the dense
# (camera, person, person) arrays are cheaper. Both paths give identical results.
_CULL_ABOVE = 200_000
_CULL_CELL_M = 2.0     # grid cell of the plan-view culling [m]
_CULL_PAD_M = 1.0      # people up to this far outside the store bounds use the culled path


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


@dataclass(frozen=True)
class DetectionModel:
    """Parameters of the geometric detection model.

    The detection figures are assumptions: a modern person detector on a ceiling view finds
    an unoccluded person nearly always (p ~0.95) and localises the foot point to ~5-10 cm
    near the camera's nadir, worse with distance and occlusion; below ~20% visible it rarely
    fires. The visible fraction they depend on is calibrated against rendered segmentation
    masks (``tests/twin/test_render.py``): with the default sampling it agrees with the
    mask within 0.05 on >= 95% of person-camera pairs.
    """

    p_max: float = 0.95             # detection probability of a fully visible, near person
    min_visible: float = 0.2        # below this visible fraction: never detected
    full_range_m: float = 4.0       # horizontal distance up to which p is not reduced [m]
    range_scale_m: float = 4.0      # e-folding of p beyond full_range_m [m]
    sigma0_m: float = 0.05          # foot-point noise at the nadir [m]
    sigma_per_m: float = 0.02       # added noise per metre of horizontal distance [m/m]
    fp_per_frame: float = 0.005     # false positives per camera per frame (Poisson mean)
    body_radius: float = 0.25       # person as a vertical cylinder [m] (shoulder half-width)
    body_height: float = 1.7        # [m] (US adult mean ~1.69 m, CDC NHANES)
    # Surface sampling of the visible fraction (a golden-ratio lattice on the side, a
    # sunflower on the top disc). 64 + 24 points keep the model within 0.05 of the rendered
    # mask on >= 95% of pairs (measured, tests/twin/test_render.py); fewer is faster and
    # coarser.
    side_samples: int = 64          # points on the camera-facing half of the side
    top_samples: int = 24           # points on the top disc (cameras above the head)
    near_m: float = 0.1             # nearest depth a camera images [m] (lens near plane)
    # Hands in shelf bins (assumptions, not calibrated): a hand detector/keypoint model finds
    # a visible hand most of the time and, triangulated or lifted with depth, places it to a
    # few centimetres.
    p_hand: float = 0.8             # probability a camera that sees a hand reports it
    sigma_hand_m: float = 0.03      # 3-D position noise of a reported hand, per axis [m]
    bin_margin_m: float = 0.02      # a hand this close to a bin's box counts as in the bin [m]

    def __post_init__(self) -> None:
        if not 0 < self.p_max <= 1:
            raise ValueError(f"DetectionModel.p_max must be in (0, 1], got {self.p_max}")
        if not 0 <= self.min_visible < 1:
            raise ValueError(f"DetectionModel.min_visible must be in [0, 1), got {self.min_visible}")
        if not 0 <= self.p_hand <= 1:
            raise ValueError(f"DetectionModel.p_hand must be in [0, 1], got {self.p_hand}")
        for name in ("sigma0_m", "sigma_per_m", "fp_per_frame", "sigma_hand_m", "bin_margin_m"):
            if getattr(self, name) < 0:
                raise ValueError(f"DetectionModel.{name} must be >= 0")
        for name in ("body_radius", "body_height", "near_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"DetectionModel.{name} must be > 0")
        for name in ("side_samples", "top_samples"):
            if not 1 <= getattr(self, name) <= 1024:
                raise ValueError(f"DetectionModel.{name} must be in [1, 1024], "
                                 f"got {getattr(self, name)}")

    @property
    def samples_per_pair(self) -> int:
        """Surface samples of one person in one camera."""
        return self.side_samples + self.top_samples


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


def _cylinder_hits(o: np.ndarray, d: np.ndarray, cxy: np.ndarray, radius: float,
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
        # axis-aligned bounds of every occluder, to skip rays that cannot reach one
        boxes = [np.zeros((0, 3))], [np.zeros((0, 3))]
        if store.fixtures:
            lo, hi = store.fixture_boxes()
            boxes[0].append(lo)
            boxes[1].append(hi)
        quads = wall_quads(store)
        for w in store.walls:
            if not w.perimeter and w.name in quads and len(quads[w.name]):
                q = quads[w.name]
                boxes[0].append(np.column_stack([q.min(axis=1), np.zeros(len(q))]))
                boxes[1].append(np.column_stack([q.max(axis=1),
                                                 np.full(len(q), store.ceiling_height)]))
        self._box_lo = np.concatenate(boxes[0])
        self._box_hi = np.concatenate(boxes[1])
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
        self._outline_cam = np.matmul(self._outline[None], cams.rotation)     # (c, 16, 3)
        self._cull: dict | None = None        # plan-view culling tables, built on first use

    # -- plan-view culling (large stores) ---------------------------------------------

    def _culling(self) -> dict | None:
        """Tables for culling camera-person pairs in plan, built once.

        For each camera a plan box ``core`` (xlo, ylo, xhi, yhi) [m] holding the camera and
        every body position whose image box can overlap the image (a necessary condition:
        the body's bounding sphere meets each image side's half-space and the half-space in
        front of the near plane, or straddles the near plane; 1 cm of slack), and ``ext``,
        ``core`` grown by two body radii: every body that can stand across a sight line from
        the camera to a body in ``core``. A grid over the store lists the cameras whose
        ``ext`` touches each cell; ``boxes`` lists per camera the occluder boxes (grown by a
        body radius) that touch ``core``. Pairs outside these are exactly the pairs the
        dense computation rejects, so culling changes no result."""
        if self._cull is not None:
            return self._cull or None
        cams, m = self.cams, self.model
        c = cams.camera.shape[0]
        x0, y0, x1, y1 = self.store.bounds
        pad = _CULL_PAD_M
        rect = [np.array(v, dtype=np.float64) for v in
                ((x0 - pad, y0 - pad), (x1 + pad, y0 - pad), (x1 + pad, y1 + pad),
                 (x0 - pad, y1 + pad))]
        rr = m.body_radius / np.cos(np.pi / 8)
        rb = float(np.hypot(rr, m.body_height / 2)) + 0.01     # bounding sphere + slack
        core = np.empty((c, 4))
        for i in range(c):
            rot = cams.rotation[i]
            cpos = cams.position[i]
            fx, fy, cx, cy = cams.intrinsics[i]
            w, h = cams.resolution[i]
            mid = np.array([0.0, 0.0, m.body_height / 2])

            def half(n_cam, delta, sign=1.0, rot=rot, cpos=cpos, mid=mid):
                # sphere centre (x, y, h/2) with sign * n . (X - C) > delta - rb, as a . p >= b
                n = rot @ np.asarray(n_cam, dtype=np.float64)
                n = sign * n / np.linalg.norm(n)
                return n[:2], float(delta - rb + n @ cpos - n @ mid)

            sides = [half((-fx, 0.0, w - cx), 0.0), half((fx, 0.0, cx), 0.0),
                     half((0.0, -fy, h - cy), 0.0), half((0.0, fy, cy), 0.0),
                     half((0.0, 0.0, 1.0), m.near_m)]
            strip = [half((0.0, 0.0, 1.0), m.near_m),
                     half((0.0, 0.0, 1.0), -m.near_m, sign=-1.0)]
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
        ext = core + np.array([-1.0, -1.0, 1.0, 1.0]) * (2 * m.body_radius + 0.01)
        # grid: cell -> cameras whose ext touches it
        cs = _CULL_CELL_M
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
        # camera -> occluder boxes (grown by a body radius) that touch its core box
        r = m.body_radius
        blo = self._box_lo[:, :2] - r - 0.01
        bhi = self._box_hi[:, :2] + r + 0.01
        touch = ((blo[None, :, 0] <= core[:, None, 2]) & (bhi[None, :, 0] >= core[:, None, 0])
                 & (blo[None, :, 1] <= core[:, None, 3]) & (bhi[None, :, 1] >= core[:, None, 1]))
        bc, bb = np.nonzero(touch)
        rot = cams.rotation
        aligned = (np.isin(rot, (-1.0, 0.0, 1.0)).all(axis=(1, 2))
                   & (np.abs(rot).sum(axis=1) == 1).all(axis=1)
                   & (np.abs(rot).sum(axis=2) == 1).all(axis=1))
        general = np.flatnonzero(~aligned)
        gen_pos = np.full(c, -1, dtype=np.int64)
        gen_pos[general] = np.arange(general.size)
        self._cull = {
            "core": core, "ext": ext, "origin": (gx0, gy0), "cell": cs, "nx": nx, "ny": ny,
            "cell_start": cell_start, "cell_cams": camof[order],
            "box_start": np.searchsorted(bc, np.arange(c + 1)), "boxes": bb,
            "general": general, "gen_pos": gen_pos,
            "bounds": (x0 - pad, y0 - pad, x1 + pad, y1 + pad),
        }
        return self._cull

    def _pair_image_boxes(self, cc: np.ndarray, pp: np.ndarray, xy: np.ndarray):
        """:meth:`_image_boxes` for the pairs (camera ``cc``, body ``pp``) only, element
        for element the same values: box (n, 4), anyf (n,), over (n,)."""
        m = self.model
        cams = self.cams
        cu = self._cull
        feet = np.column_stack([xy, np.zeros(xy.shape[0])])
        base = np.empty((cc.size, 3))
        gp = cu["gen_pos"][cc]
        g = gp >= 0
        if g.any():    # general rotations: the dense product, camera by camera, as there
            gen = cu["general"]
            full = np.matmul(feet[None] - cams.position[gen, None, :], cams.rotation[gen])
            base[g] = full[gp[g], pp[g]]
        a = ~g
        if a.any():    # signed permutations: every product and sum is exact
            d = feet[pp[a]] - cams.position[cc[a]]
            rot = cams.rotation[cc[a]]
            base[a] = (d[:, 0, None] * rot[:, 0, :] + d[:, 1, None] * rot[:, 1, :]
                       + d[:, 2, None] * rot[:, 2, :])
        pc = base[:, None, :] + self._outline_cam[cc]                       # (n, 16, 3)
        z = pc[..., 2]
        front = z > m.near_m
        zs = np.where(front, z, np.inf)
        fx, fy, cx, cy = (cams.intrinsics[cc, k, None] for k in range(4))
        u = fx * pc[..., 0] / zs
        v = fy * pc[..., 1] / zs
        allf = front.all(axis=1)
        box = np.stack([np.where(front, u, np.inf).min(axis=1),
                        np.where(front, v, np.inf).min(axis=1),
                        np.where(front, u, -np.inf).max(axis=1),
                        np.where(front, v, -np.inf).max(axis=1)], axis=1)
        box += np.concatenate([cx, cy, cx, cy], axis=1)
        box[~allf] = [-np.inf, -np.inf, np.inf, np.inf]
        anyf = front.any(axis=1)
        w = cams.resolution[cc, 0]
        h = cams.resolution[cc, 1]
        over = anyf & (box[:, 0] < w) & (box[:, 2] >= 0) & (box[:, 1] < h) & (box[:, 3] >= 0)
        return box, anyf, over

    def _pairs_culled(self, xy: np.ndarray, live: np.ndarray):
        """The candidate pairs (ci, pi) and the occlusion triples (tc, tj, tk) of
        :meth:`_visibility`, in the same order, from the plan-view culling tables; None
        when a body stands outside the culling grid (the dense path handles it)."""
        cu = self._cull
        bx0, by0, bx1, by1 = cu["bounds"]
        if not ((xy[:, 0] >= bx0).all() and (xy[:, 0] <= bx1).all()
                and (xy[:, 1] >= by0).all() and (xy[:, 1] <= by1).all()):
            return None
        gx0, gy0 = cu["origin"]
        ix = np.minimum(((xy[:, 0] - gx0) // cu["cell"]).astype(np.int64), cu["nx"] - 1)
        iy = np.minimum(((xy[:, 1] - gy0) // cu["cell"]).astype(np.int64), cu["ny"] - 1)
        cell = ix * cu["ny"] + iy
        st = cu["cell_start"]
        cnt = st[cell + 1] - st[cell]
        tot = int(cnt.sum())
        pp = np.repeat(np.arange(xy.shape[0]), cnt)
        off = np.repeat(st[cell] - (np.cumsum(cnt) - cnt), cnt) + np.arange(tot)
        cc = cu["cell_cams"][off]
        ext = cu["ext"][cc]
        inside = ((xy[pp, 0] >= ext[:, 0]) & (xy[pp, 0] <= ext[:, 2])
                  & (xy[pp, 1] >= ext[:, 1]) & (xy[pp, 1] <= ext[:, 3]))
        cc, pp = cc[inside], pp[inside]
        order = np.lexsort((pp, cc))
        cc, pp = cc[order], pp[order]
        box, anyf, over = self._pair_image_boxes(cc, pp, xy)
        cand = over & live[cc]
        a = np.flatnonzero(cand)
        # every candidate pair against every pair of the same camera, in (c, j, k) order
        gs = np.searchsorted(cc, np.arange(self.cams.camera.shape[0] + 1))
        ca = cc[a]
        n = gs[ca + 1] - gs[ca]
        ta = np.repeat(a, n)
        tb = np.repeat(gs[ca] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        bj, bk = box[ta], box[tb]
        ok = ((pp[ta] != pp[tb]) & anyf[tb]
              & (bj[:, 0] <= bk[:, 2]) & (bk[:, 0] <= bj[:, 2])
              & (bj[:, 1] <= bk[:, 3]) & (bk[:, 1] <= bj[:, 3]))
        ta, tb = ta[ok], tb[ok]
        return cc[a], pp[a], cc[ta], pp[ta], pp[tb]

    def _corridor_culled(self, ci: np.ndarray, pxy: np.ndarray) -> np.ndarray:
        """:meth:`_corridor_may_hit_box` for camera indices ``ci`` (p,) and bodies at
        ``pxy`` (p, 2) [m] in the cameras' core boxes, testing only the occluder boxes the
        culling tables list for each camera (the others cannot be reached): (p,) bool."""
        cu = self._cull
        out = np.zeros(ci.size, dtype=bool)
        bs = cu["box_start"]
        n = bs[ci + 1] - bs[ci]
        if not n.any():
            return out
        pa = np.repeat(np.arange(ci.size), n)
        bx = cu["boxes"][np.repeat(bs[ci] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))]
        cpos = self.cams.position[ci[pa]]
        r = self.model.body_radius
        o = cpos[:, :2]
        d = pxy[pa] - cpos[:, :2]
        lo = self._box_lo[bx, :2] - r
        hi = self._box_hi[bx, :2] + r
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (lo - o) / d
            t2 = (hi - o) / d
        flat = np.abs(d) < 1e-12
        inside = (o >= lo) & (o <= hi)
        tmin = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
        tmax = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
        t_in = np.maximum(tmin.max(axis=1), 0.0)
        t_out = np.minimum(tmax.min(axis=1), 1.0)
        low = cpos[:, 2] * (1.0 - t_out)
        out[pa[(t_in <= t_out) & (low <= self._box_hi[bx, 2])]] = True
        return out

    # -- ray tests ----------------------------------------------------------------------

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
        """(r,) bool: another person's cylinder lies between origin and target.

        origins, targets: (r, 3) [m]; owner: (r,) int index into xy of the person the target
        belongs to (its own cylinder does not count; -1: none); xy: (s, 2) [m]."""
        m = self.model
        if xy.shape[0] == 0 or origins.shape[0] == 0:
            return np.zeros(origins.shape[0], dtype=bool)
        hit = _cylinder_hits(origins[:, None, :], (targets - origins)[:, None, :],
                             xy[None, :, :], m.body_radius, m.body_height)
        own = owner >= 0
        hit[np.flatnonzero(own), owner[own]] = False
        return hit.any(axis=1)

    def _corridor_may_hit_box(self, cpos: np.ndarray, pxy: np.ndarray) -> np.ndarray:
        """(p,) bool: some line of sight from camera ``cpos`` (p, 3) to a point of the body
        standing at ``pxy`` (p, 2) may cross an occluder's bounding box (conservative).

        The sight line to a body point at fraction t of its length lies within t * radius of
        the line to the body axis in plan, and no lower than cz * (1 - t); a box is out of
        reach when the axis line never comes within the radius of its footprint, or only
        where every sight line is still above its top."""
        b = self._box_lo.shape[0]
        if b == 0 or cpos.shape[0] == 0:
            return np.zeros(cpos.shape[0], dtype=bool)
        r = self.model.body_radius
        o = cpos[:, None, :2]
        d = (pxy - cpos[:, :2])[:, None, :]                              # (p, 1, 2)
        lo = self._box_lo[None, :, :2] - r
        hi = self._box_hi[None, :, :2] + r
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (lo - o) / d
            t2 = (hi - o) / d
        flat = np.abs(d) < 1e-12
        inside = (o >= lo) & (o <= hi)
        tmin = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
        tmax = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
        t_in = np.maximum(tmin.max(axis=2), 0.0)
        t_out = np.minimum(tmax.min(axis=2), 1.0)
        low = cpos[:, 2, None] * (1.0 - t_out)
        return ((t_in <= t_out) & (low <= self._box_hi[None, :, 2])).any(axis=1)

    def _may_block(self, tc: np.ndarray, tj: np.ndarray, tk: np.ndarray,
                   xy: np.ndarray) -> np.ndarray:
        """(t,) bool: body ``tk`` may lie across a sight line from camera ``tc`` to body
        ``tj`` (conservative; same corridor argument as :meth:`_corridor_may_hit_box`, with
        body ``tk`` as a disc of the body radius grown by the radius)."""
        m = self.model
        cpos = self.cams.position[tc]
        o = cpos[:, :2]
        d = xy[tj] - o
        f = o - xy[tk]
        a = (d * d).sum(1)
        b = 2 * (f * d).sum(1)
        c = (f * f).sum(1) - (2 * m.body_radius) ** 2
        disc = b * b - 4 * a * c
        ok = disc > 0
        sq = np.sqrt(np.where(ok, disc, 0.0))
        a2 = np.where(a > 1e-12, 2 * a, 1.0)
        t_in = np.maximum((-b - sq) / a2, 0.0)
        t_out = np.minimum((-b + sq) / a2, 1.0)
        inside = c <= 0            # the camera stands over the grown disc
        t_in = np.where(inside, 0.0, t_in)
        t_out = np.where(inside, np.maximum(t_out, 0.0), t_out)
        return (ok | inside) & (t_in <= t_out) & (cpos[:, 2] * (1.0 - t_out) <= m.body_height)

    # -- the visible fraction -----------------------------------------------------------

    def _image_boxes(self, xy: np.ndarray):
        """Image bounding boxes of every body in every camera.

        Returns box (c, s, 4) umin, vmin, umax, vmax [px] (infinite for bodies that cross
        the near plane), in_front (c, s) bool (some of the body is in front of the near
        plane) and overlaps (c, s) bool (the box overlaps the image)."""
        m = self.model
        cams = self.cams
        feet = np.column_stack([xy, np.zeros(xy.shape[0])])
        base = np.matmul(feet[None] - cams.position[:, None, :], cams.rotation)  # (c, s, 3)
        pc = base[:, :, None, :] + self._outline_cam[:, None, :, :]             # (c, s, 16, 3)
        z = pc[..., 2]
        front = z > m.near_m
        zs = np.where(front, z, np.inf)
        fx, fy, cx, cy = (cams.intrinsics[:, k, None, None] for k in range(4))
        u = fx * pc[..., 0] / zs
        v = fy * pc[..., 1] / zs
        allf = front.all(axis=2)
        box = np.stack([np.where(front, u, np.inf).min(axis=2),
                        np.where(front, v, np.inf).min(axis=2),
                        np.where(front, u, -np.inf).max(axis=2),
                        np.where(front, v, -np.inf).max(axis=2)], axis=2)
        box += np.stack([cx, cy, cx, cy], axis=2)[..., 0]
        box[~allf] = [-np.inf, -np.inf, np.inf, np.inf]
        anyf = front.any(axis=2)
        w = cams.resolution[:, 0, None]
        h = cams.resolution[:, 1, None]
        over = anyf & (box[..., 0] < w) & (box[..., 2] >= 0) & (box[..., 1] < h) & (box[..., 3] >= 0)
        return box, anyf, over

    def _samples(self, ci: np.ndarray, pxy: np.ndarray):
        """Camera-facing surface samples of the body at ``pxy`` (p, 2) [m] seen by camera
        ``ci`` (p,) int.

        Returns area (p, k) [px^2] the image area of each sample's patch (0 for patches
        facing away), in_image (p, k) bool, and a function that gives the samples' world
        positions (q, k, 3) [m] for a subset (q,) of the pairs."""
        m = self.model
        cams = self.cams
        r, hgt = m.body_radius, m.body_height
        n = m.side_samples
        cpos = cams.position[ci]
        rot = cams.rotation[ci]                                           # (p, 3, 3)
        dxy = cpos[:, :2] - pxy
        rho = np.hypot(dxy[:, 0], dxy[:, 1])
        e = np.where(rho[:, None] > 1e-12, dxy / np.maximum(rho, 1e-12)[:, None], [1.0, 0.0])
        ep = np.stack([-e[:, 1], e[:, 0]], axis=1)
        sinmax = np.sqrt(1.0 - np.clip(r / np.maximum(rho, 1e-12), 0.0, 1.0) ** 2)
        sphi = self._s_side[None, :] * sinmax[:, None]                    # (p, n)
        cphi = np.sqrt(1.0 - sphi * sphi)
        facing = np.clip(rho[:, None] * cphi - r, 0.0, None)               # n . (C - X)
        # patch area r dphi dz, dphi = 2 sinmax / cos(phi) / n per unit of dz / hgt
        side_num = (2 * r * hgt / n) * sinmax[:, None] / cphi * facing     # dA n.(C-X)
        nt = self._top_off.shape[0]
        top_num = np.pi * r * r / nt * np.clip(cpos[:, 2] - hgt, 0.0, None)
        num = np.concatenate([side_num, np.repeat(top_num[:, None], nt, axis=1)], axis=1)
        # camera-frame coordinates without building world points: the foot point's, plus
        # offsets along e (towards the camera), ep (across) and z
        base = np.matmul((np.column_stack([pxy, np.zeros(len(ci))]) - cpos)[:, None, :],
                         rot)[:, 0, :]                                     # (p, 3)
        ue = e[:, 0, None] * rot[:, 0, :] + e[:, 1, None] * rot[:, 1, :]
        up = ep[:, 0, None] * rot[:, 0, :] + ep[:, 1, None] * rot[:, 1, :]
        uz = rot[:, 2, :]
        rc, rs = r * cphi, r * sphi
        tx, ty = self._top_off[:, 0], self._top_off[:, 1]
        comp = []
        for k in range(3):
            side = (base[:, k, None] + rc * ue[:, k, None] + rs * up[:, k, None]
                    + self._z_side[None, :] * uz[:, k, None])
            top = (base[:, k, None] + hgt * uz[:, k, None] + tx[None, :] * rot[:, 0, k, None]
                   + ty[None, :] * rot[:, 1, k, None])
            comp.append(np.concatenate([side, top], axis=1))
        x, y, z = comp
        fx, fy, cx, cy = (cams.intrinsics[ci, k, None] for k in range(4))
        zs = np.maximum(z, m.near_m)
        area = (fx * fy) * num / (zs * zs * zs)
        w = cams.resolution[ci, 0, None]
        h = cams.resolution[ci, 1, None]
        # 0 <= fx x / z + cx < w without dividing (z > 0)
        fxx, fyy = fx * x, fy * y
        inimg = ((z > m.near_m) & (fxx >= -cx * zs) & (fxx < (w - cx) * zs)
                 & (fyy >= -cy * zs) & (fyy < (h - cy) * zs))

        def world(q: np.ndarray) -> np.ndarray:
            nq = q.shape[0]
            out = np.empty((nq, n + nt, 3))
            for k in range(2):
                out[:, :n, k] = pxy[q, k, None] + rc[q] * e[q, k, None] + rs[q] * ep[q, k, None]
                out[:, n:, k] = pxy[q, k, None] + self._top_off[None, :, k]
            out[:, :n, 2] = self._z_side
            out[:, n:, 2] = hgt
            return out

        return area, inimg, world

    def _visibility(self, xy: np.ndarray, live: np.ndarray) -> np.ndarray:
        """(c, s) float64 visible fraction of every body in every live camera (0 in dead
        ones)."""
        m = self.model
        c = self.cams.camera.shape[0]
        s = xy.shape[0]
        visible = np.zeros((c, s))
        if s == 0:
            return visible
        culled = c * s * s > _CULL_ABOVE and self._culling() is not None
        if culled:
            got = self._pairs_culled(xy, live)
            if got is None:
                culled = False
        if culled:
            ci, pi, tc, tj, tk = got
            if ci.size == 0:
                return visible
        else:
            box, anyf, over = self._image_boxes(xy)
            cand = over & live[:, None]
            ci, pi = np.nonzero(cand)
            if ci.size == 0:
                return visible
            # other people: only those whose image boxes overlap in the same camera ...
            ov = ((box[:, :, None, 0] <= box[:, None, :, 2])
                  & (box[:, None, :, 0] <= box[:, :, None, 2])
                  & (box[:, :, None, 1] <= box[:, None, :, 3])
                  & (box[:, None, :, 1] <= box[:, :, None, 3]))
            ov &= cand[:, :, None] & anyf[:, None, :]
            ov[:, np.arange(s), np.arange(s)] = False
            tc, tj, tk = np.nonzero(ov)
        area, inimg, world = self._samples(ci, xy[pi])
        hidden = ~inimg
        cpos = self.cams.position[ci]
        if tc.size:   # ... and in plan within reach of the sight lines, below them
            keep = self._may_block(tc, tj, tk, xy)
            tc, tj, tk = tc[keep], tj[keep], tk[keep]
        # fixtures: only where a box may lie across the corridor
        if culled:
            need = self._corridor_culled(ci, xy[pi])
        else:
            need = self._corridor_may_hit_box(cpos, xy[pi])
        pid = np.full((c, s), -1, dtype=np.int64)
        pid[ci, pi] = np.arange(ci.size)
        tp = pid[tc, tj]
        q = np.flatnonzero(need | np.isin(np.arange(ci.size), tp))   # pairs needing rays
        if q.size:
            qpos = np.full(ci.size, -1, dtype=np.int64)
            qpos[q] = np.arange(q.size)
            pts = world(q)                                              # (q, k, 3)
            if tp.size:
                o = cpos[tp][:, None, :]
                t3 = pts[qpos[tp]]
                hit = _cylinder_hits(o, t3 - o, xy[tk][:, None, :], m.body_radius, m.body_height)
                np.logical_or.at(hidden, tp, hit)
            rq, rk = np.nonzero(need[q, None] & ~hidden[q] & (area[q] > 0))
            if rq.size:
                hidden[q[rq], rk] = self._fixture_blocked(cpos[q[rq]], pts[rq, rk])
        total = area.sum(axis=1)
        seen = np.where(hidden, 0.0, area).sum(axis=1)
        visible[ci, pi] = np.where(total > 0, seen / np.where(total > 0, total, 1.0), 0.0)
        return visible

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
        cams = self.cams
        hands = np.asarray(hands, dtype=np.float64).reshape(-1, 3)
        c = cams.camera.shape[0]
        seen = np.zeros((c, hands.shape[0]), dtype=bool)
        ok = np.isfinite(hands).all(axis=1)
        if not ok.any():
            return seen
        hv = hands[ok]
        u, v, z = project(cams, hv)
        w = cams.resolution[:, 0, None]
        h = cams.resolution[:, 1, None]
        with np.errstate(invalid="ignore"):
            inimg = (z > m.near_m) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
        inimg &= ~self.dead[:, None]
        ci, hi = np.nonzero(inimg)
        if ci.size == 0:
            return seen
        cpos = cams.position[ci]
        target = hv[hi]
        vis = np.ones(ci.size, dtype=bool)
        # which bin (if any) holds each hand
        bins = self.store.bins
        b = np.full(hv.shape[0], -1, dtype=np.int64)
        if len(bins):
            tol = m.bin_margin_m
            inside = np.all((hv[:, None, :] >= bins.lo[None] - tol)
                            & (hv[:, None, :] <= bins.hi[None] + tol), axis=2)
            has = inside.any(axis=1)
            b[has] = np.argmax(inside[has], axis=1)
        bi = b[hi]
        inbin = bi >= 0
        if inbin.any():
            k = bi[inbin]
            n = bins.normal[k]
            lo, hi3 = bins.lo[k], bins.hi[k]
            ctr = 0.5 * (lo + hi3)
            off = (n * ctr[:, :2]).sum(1) + 0.5 * (np.abs(n) * (hi3 - lo)[:, :2]).sum(1)
            o = cpos[inbin]
            d = target[inbin] - o
            den = (n * d[:, :2]).sum(1)
            oc = (n * o[:, :2]).sum(1)
            tf = (off - oc) / np.where(np.abs(den) > 1e-12, den, 1e-12)
            face = o + tf[:, None] * d
            tol = m.bin_margin_m + 1e-9
            through = ((oc > off) & (den < 0) & (tf > 0) & (tf <= 1 + 1e-9)
                       & np.all((face >= lo - tol) & (face <= hi3 + tol), axis=1))
            vis[inbin] = through
            target = target.copy()
            target[np.flatnonzero(inbin)] = face
        if self._ray is not None and vis.any():
            idx = np.flatnonzero(vis)
            vis[idx] = ~self._fixture_blocked(cpos[idx], target[idx])
        if xy.shape[0] and vis.any():
            # a hand inside a body's cylinder (none, normally) is not hidden by that body
            gap = np.linalg.norm(hv[:, None, :2] - xy[None], axis=2)
            owner = np.where(gap.min(axis=1) < m.body_radius, gap.argmin(axis=1), -1)
            idx = np.flatnonzero(vis)
            vis[idx] = ~self._people_blocked(cpos[idx], hv[hi[idx]], owner[hi[idx]], xy)
        okidx = np.flatnonzero(ok)
        seen[ci[vis], okidx[hi[vis]]] = True
        return seen

    # -- detections ---------------------------------------------------------------------

    def detect(self, frame: int, t: float, xy: np.ndarray,
               hands: np.ndarray | None = None) -> CameraFrame:
        """Detections of people standing at ``xy`` (s, 2) [m] at time ``t`` [s].

        hands: (s, 3) float64 hand of each person reaching into a bin [m], NaN rows for
        people not reaching (None: nobody). Each camera that sees a hand
        (:meth:`hands_visible`) reports it with probability ``p_hand`` and per-axis noise
        ``sigma_hand_m``, sorted by camera then x."""
        m = self.model
        cams = self.cams
        rng = self.rng
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        c = cams.camera.shape[0]
        s = xy.shape[0]
        det_cam: list[np.ndarray] = []
        det_xy: list[np.ndarray] = []
        det_conf: list[np.ndarray] = []
        if s:
            visible = self._visibility(xy, ~self.dead)
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
        hand_cam = hand_xyz = None
        if hands is not None:
            hands = np.asarray(hands, dtype=np.float64).reshape(-1, 3)
            if hands.shape[0] != s:
                raise ValueError(f"detect: hands has {hands.shape[0]} rows for {s} people")
            hc, hh = np.nonzero(self.hands_visible(hands, xy))
            keep = rng.random(hc.size) < m.p_hand
            hc, hh = hc[keep], hh[keep]
            hxyz = hands[hh] + rng.normal(size=(hh.size, 3)) * m.sigma_hand_m
            order = np.lexsort((hxyz[:, 0], hc))
            hand_cam, hand_xyz = hc[order].astype(np.int32), hxyz[order]
        if det_cam:
            cam = np.concatenate(det_cam)
            dxy = np.concatenate(det_xy)
            conf = np.concatenate(det_conf)
            order = np.lexsort((dxy[:, 0], cam))
            return CameraFrame(frame, t, cam[order], dxy[order], conf[order], hand_cam, hand_xyz)
        return CameraFrame(frame, t, np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0),
                           hand_cam, hand_xyz)
