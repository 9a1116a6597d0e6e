"""Walkable floor as an occupancy grid, with shortest paths on it."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from scenes.store import Store


class NoPathError(RuntimeError):
    pass


def _segment_distance(gx: np.ndarray, gy: np.ndarray, a, b) -> np.ndarray:
    """Distance [m] from each grid point to the segment a-b."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    L2 = dx * dx + dy * dy
    t = np.clip(((gx - ax) * dx + (gy - ay) * dy) / L2, 0.0, 1.0) if L2 > 0 else 0.0
    return np.hypot(gx - ax - t * dx, gy - ay - t * dy)


class NavGrid:
    """Occupancy grid of the floor.

    cell: grid pitch [m]; clearance: how far a body's centre stays from fixtures and walls [m]
    (a body radius plus a margin). ``free``: (ny, nx) bool, True where a centre may stand.
    Door openings (gates) are free across the wall line, so people can walk in and out.
    """

    def __init__(self, store: Store, cell: float = 0.2, clearance: float = 0.3) -> None:
        self.store = store
        self.cell = cell
        self.clearance = clearance
        x0, y0, x1, y1 = store.bounds
        self.origin = np.array([x0, y0])
        self.nx = int(np.ceil((x1 - x0) / cell))
        self.ny = int(np.ceil((y1 - y0) / cell))
        cx = x0 + (np.arange(self.nx) + 0.5) * cell
        cy = y0 + (np.arange(self.ny) + 0.5) * cell
        gx, gy = np.meshgrid(cx, cy, indexing="xy")
        free = np.ones((self.ny, self.nx), dtype=bool)
        lo, hi = store.fixture_boxes()
        for a, b in zip(lo, hi, strict=True):
            free &= ~((gx > a[0] - clearance) & (gx < b[0] + clearance)
                      & (gy > a[1] - clearance) & (gy < b[1] + clearance))
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
        self._graph = self._build_graph()

    def _build_graph(self):
        ny, nx = self.free.shape
        idx = np.arange(ny * nx).reshape(ny, nx)
        f = self.free.ravel()
        rows, cols, w = [], [], []
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            j0, j1 = max(0, -dx), nx - max(0, dx)
            a = idx[0:ny - dy, j0:j1].ravel()
            b = idx[dy:ny, j0 + dx:j1 + dx].ravel()
            ok = f[a] & f[b]
            if dx and dy:  # no corner cutting past a blocked cell
                ok &= f[idx[dy:ny, j0:j1].ravel()] & f[idx[0:ny - dy, j0 + dx:j1 + dx].ravel()]
            rows.append(a[ok])
            cols.append(b[ok])
            w.append(np.full(int(ok.sum()), np.hypot(dx, dy) * self.cell))
        n = ny * nx
        return coo_matrix((np.concatenate(w), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n)).tocsr()

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
        i, j = self.to_cell(xy)
        if self.free[i, j]:
            return np.asarray(xy, dtype=np.float64)
        fi, fj = np.nonzero(self.free)
        k = np.argmin((fi - i) ** 2 + (fj - j) ** 2)
        return self.origin + (np.array([fj[k], fi[k]]) + 0.5) * self.cell

    def _center(self, node: int) -> np.ndarray:
        i, j = divmod(node, self.nx)
        return self.origin + (np.array([j, i]) + 0.5) * self.cell

    def line_of_sight(self, a: np.ndarray, b: np.ndarray) -> bool:
        """True when the straight segment a-b [m] stays on free floor."""
        return self._los(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))

    def _los(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Exact: the segment touches no blocked cell (slab test against every blocked cell
        in its bounding box; touching a blocked cell's edge counts as blocked)."""
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        j0, i0 = np.floor((lo - self.origin) / self.cell).astype(int) - 1
        j1, i1 = np.floor((hi - self.origin) / self.cell).astype(int) + 1
        if j0 < 0 or i0 < 0 or j1 >= self.nx or i1 >= self.ny:
            pad = np.zeros((self.ny + 4, self.nx + 4), dtype=bool)
            pad[2:-2, 2:-2] = self.free
            sub = pad[i0 + 2:i1 + 3, j0 + 2:j1 + 3]
        else:
            sub = self.free[i0:i1 + 1, j0:j1 + 1]
        bi, bj = np.nonzero(~sub)
        if bi.size == 0:
            return True
        eps = 1e-9
        cx0 = self.origin[0] + (bj + j0) * self.cell - eps
        cy0 = self.origin[1] + (bi + i0) * self.cell - eps
        cx1 = cx0 + self.cell + 2 * eps
        cy1 = cy0 + self.cell + 2 * eps
        d = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            tx0 = np.where(d[0] != 0, (cx0 - a[0]) / d[0], np.where(
                (a[0] >= cx0) & (a[0] <= cx1), -np.inf, np.inf))
            tx1 = np.where(d[0] != 0, (cx1 - a[0]) / d[0], np.where(
                (a[0] >= cx0) & (a[0] <= cx1), np.inf, -np.inf))
            ty0 = np.where(d[1] != 0, (cy0 - a[1]) / d[1], np.where(
                (a[1] >= cy0) & (a[1] <= cy1), -np.inf, np.inf))
            ty1 = np.where(d[1] != 0, (cy1 - a[1]) / d[1], np.where(
                (a[1] >= cy0) & (a[1] <= cy1), np.inf, -np.inf))
        tmin = np.maximum(np.minimum(tx0, tx1), np.minimum(ty0, ty1))
        tmax = np.minimum(np.maximum(tx0, tx1), np.maximum(ty0, ty1))
        hit = (tmin <= tmax) & (tmax >= 0) & (tmin <= 1)
        return not bool(hit.any())

    def route(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Waypoints [m] from ``a`` to ``b`` on free floor (excluding ``a``, ending at ``b``)."""
        a = self.nearest_free(a)
        b = self.nearest_free(b)
        if self._los(a, b):
            return [b]
        ia, ja = self.to_cell(a)
        ib, jb = self.to_cell(b)
        s, g = ia * self.nx + ja, ib * self.nx + jb
        _d, pred = dijkstra(self._graph, directed=False, indices=s, return_predecessors=True)
        if pred[g] < 0 and g != s:
            raise NoPathError(f"no walkable path from {a.round(2)} to {b.round(2)}")
        nodes = [g]
        while nodes[-1] != s:
            nodes.append(int(pred[nodes[-1]]))
        pts = [a] + [self._center(n) for n in reversed(nodes[1:-1])] + [b]
        # string pulling: keep a point only when the straight line past it is blocked
        out: list[np.ndarray] = []
        cur = pts[0]
        k = 1
        while k < len(pts):
            far = k
            while far + 1 < len(pts) and self._los(cur, pts[far + 1]):
                far += 1
            out.append(pts[far])
            cur = pts[far]
            k = far + 1
        return out
