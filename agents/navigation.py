"""Walkable floor as an occupancy grid, with fast shortest paths on it: route planning.

:class:`NavGrid` is the occupancy grid of a store's floor (:mod:`agents.grid`), with exact
line of sight (:mod:`agents.sight`) and a coarse graph built once over it
(:mod:`agents.coarse`); this module plans the routes on them.

:meth:`NavGrid.route`: the straight segment when the ends see each other; else the coarse
shortest path expanded to a polyline whose consecutive points see each other (or, for ends
under ``_LOCAL_M`` apart, a fine-grid Dijkstra inside a window around them when that is
shorter), string-pulled as a shortest path over a batch of exact line-of-sight tests, with
its corners cut once. Shortcuts keep ``_MARGIN`` cells from blocked cells, as cell centres do,
so that walkers have some slack; the legs leaving the start and reaching the goal need only
touch no blocked cell.

Measured on a 2-core machine, ``macro=2.0``: supercenter (418,176 cells, 4,194 coarse nodes):
construction 2.6-3.2 s, +160 MB resident (+230 MB at the peak; 84 MB of arrays kept, 67 MB of
them the distance table); a route between random bins' access points 2.2-2.7 ms on average,
p95 3.4-4.2 ms; ``walk_distances`` of 40 points 2-3 ms; ``obstacle_distance`` of 1,000 points
0.3 ms; ``random_free`` of 1,000 shoppers 6 ms. Route length over the fine grid's Dijkstra
path (8-connected, no corner cutting; the polyline takes any angle, so it is often shorter),
random pairs of access points: supercenter mean 0.98, p95 1.01, worst 1.04 of 100; pairs under
15 m apart mean 0.97, worst 1.06; grocery mean 0.97, worst 1.05 of 150 (under 15 m: 1.10).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from agents.coarse import CoarseGrid, corners
from agents.grid import NoPathError, grid_edges, symmetric
from agents.sight import EPS

# routes
_LOCAL_M = 12.0      # [m] ends closer than this try a fine-grid search in a window first,
_LOCAL_MARGIN = 4.0  # [m] the window: their bounding box grown by this
_JUMPS = ((2, 4), (5, 8), (9, 16), (17, 32))   # string pulling's shortcuts, over 2-4 points,
#                                                then 5-8 from where 4 worked, and so on
_MARGIN = 0.45       # [cells] shortcuts keep this far from blocked cells, as cell centres do
_TAUT_ROUNDS = 1     # corner cutting passes after string pulling
_TURN = np.radians(8.0)  # corners turning less than this are not worth cutting
_SLIDE = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2])   # [m] how far back a cut may start


class NavGrid(CoarseGrid):
    """Occupancy grid of the floor, with a coarse graph for fast routes (module docstring).

    cell: grid pitch [m]; clearance: how far a body's centre stays from fixtures and walls [m]
    (a body radius plus a margin); macro: side of the coarse graph's macro cells [m] (rounded
    to a whole number of cells). ``free``: (ny, nx) bool, True where a centre may stand; row i,
    column j is the square from ``origin + (j, i) * cell`` to ``origin + (j + 1, i + 1) *
    cell``. Door openings (gates) are free across the wall line, so people can walk in and
    out. Built once per store and clearance (seconds on a supercenter), then read-only but for
    a cache of coarse searches.

    Any floor point is a valid input to the queries: points off the free floor (in a fixture's
    clearance) are first moved to the nearest free cell's centre (:meth:`nearest_free`).
    """

    def _pull(self, pts: np.ndarray, jumps: tuple[tuple[int, int], ...] = _JUMPS
              ) -> np.ndarray:
        """String pulling of a polyline (k, 2) [m] whose consecutive points see each other:
        the shortest polyline through a subsequence of its points (first and last kept) whose
        legs are line-of-sight. Shortcuts over j points, j in the first range of ``jumps``,
        are tested from every point in one batch; those in the next range only from points
        whose longest shortcut so far was seen; then a shortest path over that visibility
        DAG."""
        k = pts.shape[0]
        if k <= 2:
            return pts
        los, his = [], []
        start = np.arange(k)
        for j0, j1 in jumps:
            lo = np.repeat(start, j1 - j0 + 1)
            hi = lo + np.tile(np.arange(j0, j1 + 1), start.size)
            ok = hi < k
            lo, hi = lo[ok], hi[ok]
            if lo.size == 0:
                break
            # shortcuts keep a margin from blocked cells, except to leave a or reach b
            grow = np.where((lo == 0) | (hi == k - 1), EPS, _MARGIN * self.cell)
            seen = self._los_many(pts[lo], pts[hi], grow)
            los.append(lo[seen])
            his.append(hi[seen])
            start = lo[seen & (hi == lo + j1)]
            if start.size == 0:
                break
        if not los:
            return pts
        lo, hi = np.concatenate(los).tolist(), np.concatenate(his).tolist()
        jump = np.linalg.norm(pts[hi] - pts[lo], axis=1).tolist() if lo else []
        step = np.linalg.norm(np.diff(pts, axis=0), axis=1).tolist()
        into: list[list[tuple[int, float]]] = [[] for _ in range(k)]
        for i, j, d in zip(lo, hi, jump, strict=True):
            into[j].append((i, d))
        dist = [0.0] * k
        prev = [0] * k
        for j in range(1, k):
            best, arg = dist[j - 1] + step[j - 1], j - 1
            for i, d in into[j]:
                if dist[i] + d < best:
                    best, arg = dist[i] + d, i
            dist[j], prev[j] = best, arg
        keep = [k - 1]
        while keep[-1] != 0:
            keep.append(prev[keep[-1]])
        return pts[keep[::-1]]

    def _taut(self, path: np.ndarray, rounds: int) -> np.ndarray:
        """Tighten a string-pulled path (k, 2) [m]: each corner turning by more than
        ``_TURN`` is cut by the longest chamfer (its ends ``_SLIDE`` metres back along both
        legs, under half of either leg) that keeps the margin. ``rounds`` times, or until no
        corner can be cut."""
        for _ in range(rounds):
            k = path.shape[0]
            if k <= 2:
                break
            corner = path[1:-1]
            back = path[:-2] - corner                # (c, 2) along the incoming leg
            ahead = path[2:] - corner                # along the outgoing leg
            lb = np.linalg.norm(back, axis=1)
            la = np.linalg.norm(ahead, axis=1)
            bent = np.einsum("ij,ij->i", back, ahead) > -np.cos(_TURN) * lb * la
            ci, fi = np.nonzero((_SLIDE[None, :] < np.minimum(lb, la)[:, None] / 2)
                                & bent[:, None])
            if ci.size == 0:
                break
            f = _SLIDE[fi]
            p = corner[ci] + (f / lb[ci])[:, None] * back[ci]
            q = corner[ci] + (f / la[ci])[:, None] * ahead[ci]
            seen = self._los_many(p, q, _MARGIN * self.cell)
            if not seen.any():
                break
            best = np.full(k - 2, -1)
            np.maximum.at(best, ci[seen], fi[seen])
            cut = best >= 0
            n_pts = np.where(cut, 2, 1)
            at = 1 + np.cumsum(n_pts) - n_pts          # where each corner's points go
            new = np.empty((n_pts.sum() + 2, 2))
            new[0], new[-1] = path[0], path[-1]
            new[at[~cut]] = corner[~cut]
            f = _SLIDE[best[cut]]
            new[at[cut]] = corner[cut] + (f / lb[cut])[:, None] * back[cut]
            new[at[cut] + 1] = corner[cut] + (f / la[cut])[:, None] * ahead[cut]
            path = new
        return path

    def _local(self, ca: int, cb: int, limit: float) -> tuple[np.ndarray, float] | None:
        """Shortest fine-grid walk from cell ca to cell cb inside their bounding box grown by
        ``_LOCAL_MARGIN``: (flat cells (k,), length [m]), or None when there is none shorter
        than ``limit`` [m] in the window."""
        ia, ja = divmod(ca, self.nx)
        ib, jb = divmod(cb, self.nx)
        mg = int(round(_LOCAL_MARGIN / self.cell))
        i0, i1 = max(min(ia, ib) - mg, 0), min(max(ia, ib) + mg + 1, self.ny)
        j0, j1 = max(min(ja, jb) - mg, 0), min(max(ja, jb) + mg + 1, self.nx)
        h, w = i1 - i0, j1 - j0
        g = symmetric(*grid_edges(self.free[i0:i1, j0:j1], self.cell), h * w)
        src, dst = (ia - i0) * w + ja - j0, (ib - i0) * w + jb - j0
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True,
                              limit=limit)
        if not dist[dst] < limit:
            return None
        path = [dst]
        while path[-1] != src:
            path.append(int(pred[path[-1]]))
        r, c = np.divmod(np.array(path[::-1], dtype=np.int64), w)
        return corners((r + i0) * self.nx + c + j0, self.nx), float(dist[dst])

    def route(self, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        """Waypoints [m] from ``a`` to ``b`` on free floor (excluding ``a``, ending at ``b``).

        a, b: (2,) [m], any floor points: both are first moved to free floor
        (:meth:`nearest_free`), and the route ends at ``nearest_free(b)``. Returns a list of
        (2,) float64 arrays. Contract: every leg, from ``nearest_free(a)`` through the
        waypoints, is line-of-sight on the fine grid (:meth:`line_of_sight`: a body centre
        following the polyline never enters a blocked cell), provided both ends lie on the
        grid (inside ``store.bounds``); the same inputs give the same waypoints. A single
        waypoint when ``a`` sees ``b``. Raises :class:`NoPathError` when ``b`` cannot be
        reached from ``a``. How, and how long against the fine grid's shortest path: see the
        module docstring.
        """
        a = self.nearest_free(a)
        b = self.nearest_free(b)
        if self._los(a, b):
            return [b]
        ca, cb = (int(c) for c in self._cells_of(np.stack([a, b])))
        dc = self._coarse_distance(int(self._node.flat[ca]), int(self._node.flat[cb]))
        if not np.isfinite(dc):
            raise NoPathError(f"no walkable path from {a.round(2)} to {b.round(2)}")
        cells = None
        if np.linalg.norm(b - a) <= _LOCAL_M:
            coarse = self._to_rep[ca] + dc + self._to_rep[cb]
            local = self._local(ca, cb, coarse)
            if local is not None:
                cells = local[0]
        if cells is None:
            cells = self._chain(ca, cb)
        pts = np.concatenate([a[None], self._centres(cells), b[None]])
        return list(self._taut(self._pull(pts), _TAUT_ROUNDS)[1:])

    def walk_distances(self, points: np.ndarray) -> np.ndarray:
        """(k, k) float64 walking distances [m] between the points (k, 2) [m], to order a
        shopping list.

        The straight-line distance where two points see each other; else the length of the
        walk :meth:`route` starts from: each point's fine path to its coarse node's
        representative plus the coarse graph distance between the two nodes. So never less
        than the route's length (which string-pulls that walk, or finds a shorter one nearby),
        on average ~6 % more on the supercenter, up to ~50 % more for short hops round a
        fixture. Symmetric, zero on the diagonal, ``inf`` between points with no walkable
        path. Points off the free floor count from :meth:`nearest_free`.
        """
        p = self._snap(points)
        k = p.shape[0]
        if k == 0:
            return np.zeros((0, 0))
        c = self._cells_of(p)
        nodes = self._node.ravel()[c]
        legs = np.linalg.norm(p - self._centres(c), axis=1) + self._to_rep[c]
        un, inv = np.unique(nodes, return_inverse=True)
        if self._table is not None:
            dn = self._table[np.ix_(un, un)].astype(np.float64)
        else:
            dn = dijkstra(self._coarse, directed=True, indices=un)[:, un]
        w = legs[:, None] + dn[inv][:, inv] + legs[None, :]
        w = np.minimum(w, w.T)
        straight = np.linalg.norm(p[:, None] - p[None], axis=2)
        iu, ju = np.triu_indices(k, 1)
        cand = w[iu, ju] > straight[iu, ju]
        iu, ju = iu[cand], ju[cand]
        if iu.size:
            seen = self._los_many(p[iu], p[ju])
            iu, ju = iu[seen], ju[seen]
            w[iu, ju] = w[ju, iu] = straight[iu, ju]
        np.fill_diagonal(w, 0.0)
        return w
