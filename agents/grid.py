"""The walkable floor as an occupancy grid: a store's floor rasterised, its distance
transforms, and the point queries on it.

:class:`FloorGrid` rasterises a store's floor (fixtures grown by a clearance, walls, door
openings) into a fine grid, ``free[ny, nx]`` (``cell`` metres a side), and keeps two distance
transforms of it: the nearest blocked cell of every cell (:meth:`FloorGrid.obstacle_distance`,
the wall force of the motion model) and the nearest free cell (:meth:`FloorGrid.nearest_free`).
Line of sight on it is :mod:`agents.sight`, the coarse graph :mod:`agents.coarse`, routes
:mod:`agents.navigation`.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.spatial import cKDTree

from scenes.store import Store


class NoPathError(RuntimeError):
    """No walkable path between two points (or no free cell at all)."""


# the 8 moves of the fine grid as (di, dj); diagonals only where both orthogonal cells are free
_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _segment_distance(gx: np.ndarray, gy: np.ndarray, a, b) -> np.ndarray:
    """Distance [m] from each grid point to the segment a-b."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    L2 = dx * dx + dy * dy
    t = np.clip(((gx - ax) * dx + (gy - ay) * dy) / L2, 0.0, 1.0) if L2 > 0 else 0.0
    return np.hypot(gx - ax - t * dx, gy - ay - t * dy)


def grid_edges(free: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges of the 8-connected grid of ``free`` (h, w) bool, no corner cutting past a blocked
    cell, each once: flat cell indices a, b (e,) int64 and lengths (e,) float64 [m]."""
    ny, nx = free.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    f = free.ravel()
    rows, cols, w = [], [], []
    for dy, dx in _STEPS:
        j0, j1 = max(0, -dx), nx - max(0, dx)
        a = idx[0:ny - dy, j0:j1].ravel()
        b = idx[dy:ny, j0 + dx:j1 + dx].ravel()
        ok = f[a] & f[b]
        if dx and dy:  # no corner cutting past a blocked cell
            ok &= f[idx[dy:ny, j0:j1].ravel()] & f[idx[0:ny - dy, j0 + dx:j1 + dx].ravel()]
        rows.append(a[ok])
        cols.append(b[ok])
        w.append(np.full(int(ok.sum()), np.hypot(dx, dy) * cell))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(w)


def symmetric(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """(n, n) sparse graph with both directions of the edges a-b of lengths w."""
    return coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                      shape=(n, n)).tocsr()


class FloorGrid:
    """Occupancy grid of the floor (module docstring).

    cell: grid pitch [m]; clearance: how far a body's centre stays from fixtures and walls [m]
    (a body radius plus a margin). ``free``: (ny, nx) bool, True where a centre may stand; row
    i, column j is the square from ``origin + (j, i) * cell`` to ``origin + (j + 1, i + 1) *
    cell``. Door openings (gates) are free across the wall line, so people can walk in and
    out. Read-only once built.

    Any floor point is a valid input to the queries: points off the free floor (in a fixture's
    clearance) are first moved to the nearest free cell's centre (:meth:`nearest_free`).
    """

    def __init__(self, store: Store, cell: float = 0.2, clearance: float = 0.3) -> None:
        self.store = store
        self.cell = cell
        self.clearance = clearance
        x0, y0, x1, y1 = store.bounds
        self.origin = np.array([x0, y0])
        self._ox, self._oy = float(x0), float(y0)
        self.nx = int(np.ceil((x1 - x0) / cell))
        self.ny = int(np.ceil((y1 - y0) / cell))
        cx = x0 + (np.arange(self.nx) + 0.5) * cell
        cy = y0 + (np.arange(self.ny) + 0.5) * cell
        gx, gy = np.meshgrid(cx, cy, indexing="xy")
        free = np.ones((self.ny, self.nx), dtype=bool)
        lo, hi = store.fixture_boxes()
        for a, b in zip(lo, hi, strict=True):
            # only the window of cells the grown box can cover
            j0 = max(int(np.floor((a[0] - clearance - x0) / cell)) - 1, 0)
            j1 = min(int(np.ceil((b[0] + clearance - x0) / cell)) + 1, self.nx)
            i0 = max(int(np.floor((a[1] - clearance - y0) / cell)) - 1, 0)
            i1 = min(int(np.ceil((b[1] + clearance - y0) / cell)) + 1, self.ny)
            if j0 >= j1 or i0 >= i1:
                continue
            wx, wy = gx[i0:i1, j0:j1], gy[i0:i1, j0:j1]
            free[i0:i1, j0:j1] &= ~((wx > a[0] - clearance) & (wx < b[0] + clearance)
                                    & (wy > a[1] - clearance) & (wy < b[1] + clearance))
        wall = 0.25
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        inside = store.contains(pts).reshape(free.shape)
        near_wall = np.zeros_like(free)
        for w in store.walls:
            near_wall |= _segment_distance(gx, gy, w.a, w.b) < wall + w.thickness / 2 * (
                not w.perimeter)
        in_door = np.zeros_like(free)
        for g in store.gates:
            # the opening, less a jamb margin at each end, and a strip either side of the wall
            a, b, n = np.asarray(g.a), np.asarray(g.b), np.asarray(g.inward)
            u = (b - a) / max(g.width, 1e-9)
            rx, ry = gx - a[0], gy - a[1]
            along = rx * u[0] + ry * u[1]
            across = rx * n[0] + ry * n[1]
            in_door |= (along > wall) & (along < g.width - wall) & (np.abs(across) < 2 * wall)
        free &= (inside & ~near_wall) | in_door
        self.free = free
        self._build_distances()

    # ----------------------------------------------------------------------------- building

    def _fine_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected fine-grid edges (a, b, length [m]) between free cells, each once."""
        return grid_edges(self.free, self.cell)

    @cached_property
    def _graph(self) -> csr_matrix:
        """The whole fine grid as a sparse graph (upper triangle; use ``directed=False``).
        Built on first use only: the routes do not need it."""
        a, b, w = self._fine_edges()
        n = self.ny * self.nx
        return coo_matrix((w, (a, b)), shape=(n, n)).tocsr()

    def _build_distances(self) -> None:
        """Distance transforms: nearest blocked cell of every cell (obstacle_distance) and
        nearest free cell of every cell (nearest_free)."""
        blocked = ~self.free
        # line-of-sight tables, with a blocked border for off the grid: ``_gap``, from each
        # free cell's square to the nearest blocked square [cells] (-1 on blocked ones: the
        # distance between cell centres less one cell along each axis is the distance to the
        # 3 x 3 dilation of the blocked cells); ``_code`` (bytes, for the Python path):
        # 0 blocked, 1 within a cell of a blocked one, 2 farther
        pad = np.zeros((self.ny + 2, self.nx + 2), dtype=bool)
        pad[1:-1, 1:-1] = self.free
        near = ndimage.binary_dilation(~pad, structure=np.ones((3, 3), dtype=bool))
        gap = np.where(pad, ndimage.distance_transform_edt(~near), -1.0)
        self._gap = gap.astype(np.float32).ravel()
        self._code = np.where(~pad, 0, np.where(gap < 1.0, 1, 2)).astype(np.uint8).tobytes()
        self._any_blocked = bool(blocked.any())
        self._any_free = bool(self.free.any())
        if self._any_blocked:
            d, ind = ndimage.distance_transform_edt(self.free, return_indices=True)
            self._clear = d.astype(np.float32)          # [cells] to the nearest blocked cell
            self._near_blocked = ind.astype(np.int32)   # (2, ny, nx) its (i, j)
        else:
            self._clear = np.full(self.free.shape, np.inf, dtype=np.float32)
            self._near_blocked = np.zeros((2,) + self.free.shape, dtype=np.int32)
        if self._any_free and self._any_blocked:
            ind = ndimage.distance_transform_edt(blocked, return_distances=False,
                                                 return_indices=True)
            self._near_free = ind.astype(np.int32)      # (2, ny, nx) nearest free (i, j)
        else:
            ii, jj = np.indices(self.free.shape, dtype=np.int32)
            self._near_free = np.stack([ii, jj])

    # ------------------------------------------------------------------------- helpers

    def _centres(self, cells: np.ndarray) -> np.ndarray:
        """(k, 2) float64 centres [m] of flat cell indices (k,)."""
        i, j = np.divmod(np.asarray(cells, dtype=np.int64), self.nx)
        return self.origin + (np.stack([j, i], axis=-1) + 0.5) * self.cell

    def _cells_of(self, xy: np.ndarray) -> np.ndarray:
        """(m,) flat cell of each point (m, 2), clipped to the grid."""
        jj = np.clip(np.floor((xy[:, 0] - self.origin[0]) / self.cell), 0, self.nx - 1)
        ii = np.clip(np.floor((xy[:, 1] - self.origin[1]) / self.cell), 0, self.ny - 1)
        return ii.astype(np.int64) * self.nx + jj.astype(np.int64)

    def _snap(self, xy: np.ndarray) -> np.ndarray:
        """:meth:`nearest_free` of each point (m, 2)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        c = self._cells_of(xy)
        ok = self.free.ravel()[c]
        if ok.all():
            return xy.copy()
        if not self._any_free:
            raise NoPathError("the grid has no free cell")
        out = xy.copy()
        ii, jj = np.divmod(c[~ok], self.nx)
        fi, fj = self._near_free[0, ii, jj], self._near_free[1, ii, jj]
        out[~ok] = self.origin + (np.stack([fj, fi], axis=1) + 0.5) * self.cell
        return out

    # -------------------------------------------------------------------------- queries

    @cached_property
    def kernel_grid(self) -> tuple:
        """The grid as the compiled motion kernel takes it (``agents/_motion_kernels.py``):
        free (ny, nx) bool, near_blocked (2, ny, nx) int32, any_blocked, origin x, y [m],
        cell [m]."""
        return (np.ascontiguousarray(self.free), np.ascontiguousarray(self._near_blocked),
                self._any_blocked, self._ox, self._oy, float(self.cell))

    def to_cell(self, xy: np.ndarray) -> tuple[int, int]:
        j, i = np.floor((np.asarray(xy) - self.origin) / self.cell).astype(int)
        return int(np.clip(i, 0, self.ny - 1)), int(np.clip(j, 0, self.nx - 1))

    def is_free(self, xy: np.ndarray) -> np.ndarray:
        """(m,) bool for points (m, 2) [m]."""
        xy = np.atleast_2d(xy)
        jj = np.floor((xy[:, 0] - self.origin[0]) / self.cell).astype(int)
        ii = np.floor((xy[:, 1] - self.origin[1]) / self.cell).astype(int)
        inside = (ii >= 0) & (ii < self.ny) & (jj >= 0) & (jj < self.nx)
        out = np.zeros(xy.shape[0], dtype=bool)
        out[inside] = self.free[ii[inside], jj[inside]]
        return out

    def nearest_free(self, xy: np.ndarray) -> np.ndarray:
        """(2,) float64 [m]: ``xy`` itself when its cell is free, else the centre of the
        nearest free cell (points off the grid are first clipped to its border cells)."""
        i, j = self.to_cell(xy)
        if self.free[i, j]:
            return np.asarray(xy, dtype=np.float64)
        if not self._any_free:
            raise NoPathError("the grid has no free cell")
        fi, fj = self._near_free[:, i, j]
        return self.origin + (np.array([fj, fi]) + 0.5) * self.cell

    def _center(self, node: int) -> np.ndarray:
        i, j = divmod(node, self.nx)
        return self.origin + (np.array([j, i]) + 0.5) * self.cell

    def obstacle_distance(self, xy: np.ndarray, reach: float = 5.0) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        """Distance to the nearest blocked cell, for a wall and fixture repulsion force.

        xy: (m, 2) float64 [m]; reach [m]. Returns dist: (m,) float64 [m], from each point to
        the nearest non-free cell of the grid (to its square), and away: (m, 2) float64, the
        unit vector from that square's nearest point towards the point. ``away`` is zero
        where that distance exceeds ``reach``; both are zero at points on blocked cells or off
        the grid. Only cells of the grid count: beyond its border (where door openings lead
        out) there is nothing to push against. A grid without a blocked cell gives
        ``dist = inf``.

        ``free`` is already grown by ``clearance``, so the distance from a body centre to the
        real fixture or wall surface is about ``dist + clearance`` (within half a cell, as the
        grown boxes are rounded to cells). The nearest blocked cell is the one nearest to the
        point's cell centre (a distance transform computed at construction; two table
        look-ups per point), so ``dist`` may exceed the exact distance by up to a cell.
        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        m = xy.shape[0]
        dist = np.zeros(m)
        away = np.zeros((m, 2))
        jj = np.floor((xy[:, 0] - self.origin[0]) / self.cell).astype(np.int64)
        ii = np.floor((xy[:, 1] - self.origin[1]) / self.cell).astype(np.int64)
        ok = (ii >= 0) & (ii < self.ny) & (jj >= 0) & (jj < self.nx)
        ok[ok] = self.free[ii[ok], jj[ok]]
        if not self._any_blocked:
            dist[ok] = np.inf
            return dist, away
        bi = self._near_blocked[0, ii[ok], jj[ok]]
        bj = self._near_blocked[1, ii[ok], jj[ok]]
        lo = self.origin + np.stack([bj, bi], axis=1) * self.cell
        q = np.clip(xy[ok], lo, lo + self.cell)
        v = xy[ok] - q
        d = np.hypot(v[:, 0], v[:, 1])
        near = (d > 0.0) & (d <= reach)
        v[near] /= d[near, None]
        v[~near] = 0.0
        dist[ok] = d
        away[ok] = v
        return dist, away

    def random_free(self, rng: np.random.Generator, n: int, min_gap: float = 0.6) -> np.ndarray:
        """(n, 2) float64 points [m] on free floor, pairwise at least ``min_gap`` [m] apart
        (to seed a crowd).

        Random sequential placement: candidates uniform over the free cells (each within the
        middle 80 % of its cell), drawn in batches from ``rng``; a candidate is kept when no
        earlier kept point is closer than ``min_gap``. The same generator state gives the same
        points. Raises ValueError, naming ``n``, ``min_gap`` and the free area, when the
        points cannot fit (an area bound) or did not (after ``30 n + 1000`` candidates).
        """
        n = int(n)
        g = float(min_gap)
        if n <= 0:
            return np.zeros((0, 2))
        fi = np.flatnonzero(self.free.ravel())
        area = fi.size * self.cell ** 2
        if fi.size == 0 or n * np.pi * g * g / 4 > (self.nx * self.cell + g) * (
                self.ny * self.cell + g):
            raise ValueError(f"cannot place {n} points {g} m apart on {area:.1f} m2 of free "
                             f"floor")
        budget = 30 * n + 1000
        kept = np.zeros((0, 2))
        drawn = 0
        while kept.shape[0] < n and drawn < budget:
            want = n - kept.shape[0]
            chunk = min(budget - drawn, max(2 * want, 64))
            cand = self._centres(fi[rng.integers(fi.size, size=chunk)]) + rng.uniform(
                -0.4, 0.4, size=(chunk, 2)) * self.cell
            drawn += chunk
            if g > 0.0 and kept.shape[0]:
                d, _ = cKDTree(kept).query(cand, distance_upper_bound=g)
                cand = cand[~(d < g)]
            if g > 0.0 and cand.shape[0] > 1:
                # among the candidates themselves, earlier ones win
                pairs = cKDTree(cand).query_pairs(g, output_type="ndarray")
                close = np.linalg.norm(cand[pairs[:, 0]] - cand[pairs[:, 1]], axis=1) < g
                pairs = np.sort(pairs[close], axis=1)
                later: list[list[int]] = [[] for _ in range(cand.shape[0])]
                for i, j in pairs.tolist():
                    later[i].append(j)
                out = np.zeros(cand.shape[0], dtype=bool)
                dead = np.zeros(cand.shape[0], dtype=bool)
                for i in range(cand.shape[0]):
                    if not dead[i]:
                        out[i] = True
                        dead[later[i]] = True
                cand = cand[out]
            kept = np.concatenate([kept, cand[:want]])
        if kept.shape[0] < n:
            raise ValueError(f"placed only {kept.shape[0]} of {n} points {g} m apart on "
                             f"{area:.1f} m2 of free floor ({drawn} candidates)")
        return kept
