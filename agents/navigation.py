"""Walkable floor as an occupancy grid, with fast shortest paths on it.

:class:`NavGrid` rasterises a store's floor (fixtures grown by a clearance, walls, door
openings) into a fine grid, ``free[ny, nx]`` (``cell`` metres a side), and builds once a coarse
graph over it:

* nodes: the floor is cut into square macro cells of ``macro`` metres; one node per
  4-connected component of free cells inside a macro cell, at a representative free cell (the
  component's roomiest cell nearest its centroid). Every cell knows its shortest fine-grid path
  to its node's representative (a tree inside the macro cell, from one multi-source Dijkstra).
* edges: between the nodes of 4-neighbour macro cells whose cells touch across the border,
  each with a walkable polyline and its length (the straight segment when the two
  representatives see each other, else the fine path through the best border crossing); and
  between nodes of diagonal neighbours whose representatives see each other.
* all-pairs coarse distances (float32), when there are at most ``_TABLE_MAX_NODES`` nodes; a
  bigger floor runs one cached coarse Dijkstra per goal instead.

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

import math
from collections import OrderedDict
from functools import cached_property

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from scenes.store import Store


class NoPathError(RuntimeError):
    pass


_EPS = 1e-9          # [m] a segment within this of a blocked cell touches it
# coarse graph: up to this many nodes, all-pairs distances are tabled at construction (float32;
# the supercenter's 4,194 nodes take 67 MB and ~2.5 s); above it, one cached Dijkstra per goal
_TABLE_MAX_NODES = 5000
_TREE_CACHE = 256    # coarse shortest-path trees kept per NavGrid (by goal node), untabled
# routes
_LOCAL_M = 12.0      # [m] ends closer than this try a fine-grid search in a window first,
_LOCAL_MARGIN = 4.0  # [m] the window: their bounding box grown by this
_JUMPS = ((2, 4), (5, 8), (9, 16), (17, 32))   # string pulling's shortcuts, over 2-4 points,
#                                                then 5-8 from where 4 worked, and so on
_MARGIN = 0.45       # [cells] shortcuts keep this far from blocked cells, as cell centres do
_TAUT_ROUNDS = 1     # corner cutting passes after string pulling
_TURN = np.radians(8.0)  # corners turning less than this are not worth cutting
_SLIDE = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2])   # [m] how far back a cut may start
# line-of-sight tests
_COARSE = 6          # [cells] spacing of the first samples of long segments, that only reject
_FINE = 0.5          # [cells] spacing of the samples that clear the stretches around them
_PY_SAMPLES = 24     # single segments shorter than this many cells are tested in Python
_PY_CELLS = 24       # unsure stretches this short in all [~cells] are walked in Python
# the 8 moves of the fine grid as (di, dj); diagonals only where both orthogonal cells are free
_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _segment_distance(gx: np.ndarray, gy: np.ndarray, a, b) -> np.ndarray:
    """Distance [m] from each grid point to the segment a-b."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    L2 = dx * dx + dy * dy
    t = np.clip(((gx - ax) * dx + (gy - ay) * dy) / L2, 0.0, 1.0) if L2 > 0 else 0.0
    return np.hypot(gx - ax - t * dx, gy - ay - t * dy)


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenated integer ranges ``start[k] .. start[k] + count[k] - 1`` (count >= 0)."""
    total = int(count.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offs


def _corners(cells: np.ndarray, nx: int) -> np.ndarray:
    """Flat cells (k,) int of a polyline through cell centres, less the points inside its
    straight runs (where the direction, an exact integer test, does not change): a straight
    run is the union of its pieces, so a run whose pieces see their ends sees its own."""
    if cells.size <= 2:
        return cells
    i, j = np.divmod(np.asarray(cells, dtype=np.int64), nx)
    di, dj = np.diff(i), np.diff(j)
    cross = di[:-1] * dj[1:] - dj[:-1] * di[1:]
    dot = di[:-1] * di[1:] + dj[:-1] * dj[1:]
    keep = np.concatenate([[True], (cross != 0) | (dot <= 0), [True]])
    return cells[keep]


def _grid_edges(free: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _symmetric(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """(n, n) sparse graph with both directions of the edges a-b of lengths w."""
    return coo_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                      shape=(n, n)).tocsr()


class NavGrid:
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

    def __init__(self, store: Store, cell: float = 0.2, clearance: float = 0.3,
                 macro: float = 2.0) -> None:
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
        self._build_coarse(max(1, int(round(macro / cell))))
        self._trees: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    # ----------------------------------------------------------------------------- building

    def _fine_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected fine-grid edges (a, b, length [m]) between free cells, each once."""
        return _grid_edges(self.free, self.cell)

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

    def _build_coarse(self, m: int) -> None:
        """Coarse nodes, their representatives and in-block trees, edges, distance table."""
        ny, nx = self.free.shape
        n = ny * nx
        self.macro_cells = m
        by, bx = -(-ny // m), -(-nx // m)
        pad = np.zeros((by * m, bx * m), dtype=bool)
        pad[:ny, :nx] = self.free
        blocks = pad.reshape(by, m, bx, m).transpose(0, 2, 1, 3).reshape(by * bx, m, m)
        structure = np.zeros((3, 3, 3), dtype=bool)
        structure[1] = ndimage.generate_binary_structure(2, 1)   # 4-connected, per block
        labels, n_nodes = ndimage.label(blocks, structure=structure)
        node = (labels.reshape(by, bx, m, m).transpose(0, 2, 1, 3)
                .reshape(by * m, bx * m)[:ny, :nx].astype(np.int32) - 1)
        self._node = node                   # (ny, nx) coarse node of each cell, -1 blocked
        self.n_nodes = int(n_nodes)
        cells = np.flatnonzero(node.ravel() >= 0)
        nid = node.ravel()[cells]
        ci, cj = np.divmod(cells, nx)
        # representative: clearance (capped, so open floor ties) first, then the centroid
        cnt = np.bincount(nid, minlength=n_nodes).astype(np.float64)
        mi = np.bincount(nid, ci, minlength=n_nodes) / np.maximum(cnt, 1)
        mj = np.bincount(nid, cj, minlength=n_nodes) / np.maximum(cnt, 1)
        clear = np.minimum(self._clear.ravel()[cells], 3.0)
        d2 = (ci - mi[nid]) ** 2 + (cj - mj[nid]) ** 2
        order = np.lexsort((cells, d2, -clear, nid))
        first = np.ones(order.size, dtype=bool)
        first[1:] = nid[order[1:]] != nid[order[:-1]]
        rep_cell = cells[order[first]]      # (n_nodes,) sorted by node id
        self._rep_cell = rep_cell
        self._rep = self._centres(rep_cell)  # (n_nodes, 2) [m]
        # the tree inside each macro cell: shortest fine path from every cell to its rep
        a, b, w = self._fine_edges()
        blk = (a // nx // m) * bx + (a % nx) // m
        same = blk == (b // nx // m) * bx + (b % nx) // m
        a, b, w = a[same], b[same], w[same]
        g = _symmetric(a, b, w, n)
        dist, pred, _src = dijkstra(g, directed=True, indices=rep_cell, min_only=True,
                                    return_predecessors=True)
        del g, a, b, w
        self._to_rep = dist                  # (ny*nx,) [m] fine path length to the rep
        self._pred = pred.astype(np.int32)   # next cell towards the rep, < 0 at reps
        p, q, weight = self._border_edges(m)
        # shortcuts: nodes of diagonal-neighbour macro cells whose representatives see each
        # other (they never change connectivity: the segment's cells are free and 4-connected)
        block_of = (rep_cell // nx // m) * bx + (rep_cell % nx) // m
        bstart = np.searchsorted(block_of, np.arange(by * bx + 1))
        dp, dq = [], []
        for di, dj in ((1, 1), (1, -1)):
            bi, bj = np.divmod(np.arange(by * bx), bx)
            ok = (bi + di < by) & (bj + dj >= 0) & (bj + dj < bx)
            b1 = np.flatnonzero(ok)
            b2 = b1 + di * bx + dj
            n1, n2 = bstart[b1 + 1] - bstart[b1], bstart[b2 + 1] - bstart[b2]
            k = n1 * n2                      # every node pair of the two blocks
            pair = np.repeat(np.arange(b1.size), k)
            r = _ranges(np.zeros(b1.size, dtype=np.int64), k)
            dp.append(bstart[b1][pair] + r // n2[pair])
            dq.append(bstart[b2][pair] + r % n2[pair])
        dp, dq = np.concatenate(dp), np.concatenate(dq)
        seen = self._los_many(self._rep[dp], self._rep[dq])
        dp, dq = dp[seen], dq[seen]
        p = np.concatenate([p, np.minimum(dp, dq)])
        q = np.concatenate([q, np.maximum(dp, dq)])
        weight = np.concatenate([weight, np.linalg.norm(self._rep[dp] - self._rep[dq], axis=1)])
        self._edges = np.stack([p, q], axis=1)   # (e, 2) int node pairs, p < q
        self._coarse = _symmetric(p, q, weight, n_nodes)
        g = self._coarse
        self._adj = [list(zip(g.indices[g.indptr[k]:g.indptr[k + 1]].tolist(),
                              g.data[g.indptr[k]:g.indptr[k + 1]].tolist(), strict=True))
                     for k in range(n_nodes)]               # (neighbour, length [m]) per node
        self._rep_list = rep_cell.tolist()
        self._table = None
        if n_nodes <= _TABLE_MAX_NODES:
            # all-pairs coarse distances [m], float32: routes and walk_distances need no search
            t = np.empty((n_nodes, n_nodes), dtype=np.float32)
            for k in range(0, n_nodes, 512):
                t[k:k + 512] = dijkstra(self._coarse, directed=True,
                                        indices=np.arange(k, min(n_nodes, k + 512)))
            np.minimum(t, t.T, out=t)
            self._table = t

    def _border_edges(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges (p, q, length [m]) between the nodes of 4-neighbour macro cells whose cells
        touch across the border; each with the fine path through its best crossing (stored in
        ``_detour`` as corner cells when the representatives do not see each other)."""
        ny, nx = self.free.shape
        idx = np.arange(ny * nx).reshape(ny, nx)
        pa_, pb_ = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        if nx > m:
            js = np.arange(m - 1, nx - 1, m)
            pa_.append(idx[:, js].ravel())
            pb_.append(idx[:, js + 1].ravel())
        if ny > m:
            is_ = np.arange(m - 1, ny - 1, m)
            pa_.append(idx[is_, :].ravel())
            pb_.append(idx[is_ + 1, :].ravel())
        pa, pb = np.concatenate(pa_), np.concatenate(pb_)
        f = self.free.ravel()
        ok = f[pa] & f[pb]
        pa, pb = pa[ok], pb[ok]
        node = self._node.ravel()
        p, q = node[pa].astype(np.int64), node[pb].astype(np.int64)  # p < q: block order
        cost = self._to_rep[pa] + self.cell + self._to_rep[pb]
        key = p * self.n_nodes + q
        order = np.lexsort((pa, cost, key))
        first = np.ones(order.size, dtype=bool)
        first[1:] = key[order[1:]] != key[order[:-1]]
        sel = order[first]
        p, q, pa, pb, cost = p[sel], q[sel], pa[sel], pb[sel], cost[sel]
        seen = self._los_many(self._rep[p], self._rep[q])
        weight = np.where(seen, np.linalg.norm(self._rep[p] - self._rep[q], axis=1), cost)
        self._detour: dict[tuple[int, int], list[int]] = {}
        for k in np.flatnonzero(~seen):
            # rep(p) .. crossing cell in p, crossing cell in q .. rep(q)
            path = self._leg(int(pa[k]))[::-1] + self._leg(int(pb[k]))
            path = _corners(np.array(path, dtype=np.int64), nx)
            self._detour[(int(p[k]), int(q[k]))] = path[1:-1].tolist()
        return p, q, weight

    # ------------------------------------------------------------------------- helpers

    def _centres(self, cells: np.ndarray) -> np.ndarray:
        """(k, 2) float64 centres [m] of flat cell indices (k,)."""
        i, j = np.divmod(np.asarray(cells, dtype=np.int64), self.nx)
        return self.origin + (np.stack([j, i], axis=-1) + 0.5) * self.cell

    def _leg(self, cell: int) -> list[int]:
        """Flat cells from ``cell`` to its node's representative, both included."""
        out = [cell]
        pred = self._pred
        k = int(pred[cell])
        while k >= 0:
            out.append(k)
            k = int(pred[k])
        return out

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

    def _tree(self, goal: int) -> tuple[np.ndarray, np.ndarray]:
        """Coarse shortest-path tree rooted at node ``goal``: (dist [m], pred) per node."""
        hit = self._trees.get(goal)
        if hit is not None:
            self._trees.move_to_end(goal)
            return hit
        dist, pred = dijkstra(self._coarse, directed=True, indices=goal,
                              return_predecessors=True)
        hit = (dist, pred.astype(np.int32))
        self._trees[goal] = hit
        if len(self._trees) > _TREE_CACHE:
            self._trees.popitem(last=False)
        return hit

    def _node_path(self, na: int, nb: int) -> list[int] | None:
        """Coarse nodes of a shortest path from ``na`` to ``nb``, or None when none."""
        if na == nb:
            return [na]
        if self._table is not None:
            row = self._table[nb]            # distances to nb (the table is symmetric)
            if not np.isfinite(row[na]):
                return None
            # descend: the neighbour on a shortest path (first of equals, CSR order)
            to_nb = row.tolist()
            adj = self._adj
            path = [na]
            n = na
            while n != nb and len(path) <= self.n_nodes:
                best, n = min((w + to_nb[m], m) for m, w in adj[n])
                path.append(n)
            if n == nb:
                return path
        dist, pred = self._tree(nb)         # no table, or rounding defeated the descent
        if not np.isfinite(dist[na]):
            return None
        path = [na]
        while path[-1] != nb:
            path.append(int(pred[path[-1]]))
        return path

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

    def line_of_sight(self, a: np.ndarray, b: np.ndarray) -> bool:
        """True when the straight segment a-b [m] stays on free floor: it touches no blocked
        cell, nor the outside of the grid (exact, up to 1e-9 m)."""
        return self._los(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))

    def _los(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Exact: the segment a-b [m] touches no blocked cell (touching a blocked cell's edge
        counts as blocked; off the grid counts as blocked)."""
        ic = 1.0 / self.cell
        ax, ay = (float(a[0]) - self._ox) * ic, (float(a[1]) - self._oy) * ic
        dx, dy = (float(b[0]) - self._ox) * ic - ax, (float(b[1]) - self._oy) * ic - ay
        if max(abs(dx), abs(dy)) < _PY_SAMPLES:
            return self._los_py(ax, ay, dx, dy)
        return bool(self._los_many(np.reshape(a, (1, 2)), np.reshape(b, (1, 2)))[0])

    def _los_py(self, ax: float, ay: float, dx: float, dy: float) -> bool:
        """:meth:`_los_many` for one segment (ax + t dx, ay + t dy) in grid units, cells grown
        by 1e-9 m, in Python."""
        code, w, nx, ny = self._code, self.nx + 2, self.nx, self.ny
        ns = int(max(abs(dx), abs(dy)) + 2.0)
        step = 1.0 / (ns - 1)
        unsure = []
        for k in range(ns):
            t = k * step
            i = min(max(math.floor(ay + t * dy), -1), ny)
            j = min(max(math.floor(ax + t * dx), -1), nx)
            c = code[(i + 1) * w + j + 1]
            if c == 0:
                return False
            if c == 1:
                unsure.append(t)
        e = _EPS / self.cell
        for t in unsure:
            t0, t1 = max(t - 0.5 * step, 0.0), min(t + 0.5 * step, 1.0)
            if not self._walk_py(ax + t0 * dx, ay + t0 * dy, (t1 - t0) * dx, (t1 - t0) * dy, e):
                return False
        return True

    def _walk_py(self, ax: float, ay: float, dx: float, dy: float, e: float) -> bool:
        """:meth:`_los_walk` for one segment, cells grown by ``e`` [cells], in Python."""
        code, w, nx, ny = self._code, self.nx + 2, self.nx, self.ny
        u1 = ax + dx
        for j in range(math.ceil(min(ax, u1) - 1.0 - e), math.floor(max(ax, u1) + e) + 1):
            if dx == 0.0:
                tlo, thi = 0.0, 1.0
            else:
                ta = (j - e - ax) / dx
                tb = (j + 1.0 + e - ax) / dx
                tlo, thi = max(min(ta, tb), 0.0), min(max(ta, tb), 1.0)
                if tlo > thi:
                    continue
            v0, v1 = ay + tlo * dy, ay + thi * dy
            jc = min(max(j, -1), nx) + 1
            for i in range(math.ceil(min(v0, v1) - 1.0 - e), math.floor(max(v0, v1) + e) + 1):
                if code[(min(max(i, -1), ny) + 1) * w + jc] == 0:
                    return False
        return True

    def _los_many(self, a: np.ndarray, b: np.ndarray, grow: np.ndarray | float = _EPS
                  ) -> np.ndarray:
        """(s,) bool: segment a[k]-b[k] (a: (s, 2) or (1, 2), b: (s, 2) [m]) touches no
        blocked cell grown by ``grow`` [m] (a scalar or (s,) float64, at most half a cell).

        Exact (with the default 1e-9 m, grazing an edge or a corner counts as touching; off
        the grid counts as blocked). Samples at most a cell apart are looked up in a
        clearance table: one on a blocked cell rejects the segment; one far enough from every
        blocked cell clears its stretch (half-way to its neighbours); the stretches left are
        walked exactly, column by column (:meth:`_los_walk`)."""
        a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
        s = b.shape[0]
        ic = 1.0 / self.cell
        ax = (a[:, 0] - self._ox) * ic           # grid units: x -> column j, y -> row i
        ay = (a[:, 1] - self._oy) * ic
        dx = (b[:, 0] - self._ox) * ic - ax
        dy = (b[:, 1] - self._oy) * ic - ay
        e = np.broadcast_to(np.asarray(grow, dtype=np.float64) * ic, (s,))
        if ax.size != s:
            ax, ay = np.broadcast_to(ax, (s,)), np.broadcast_to(ay, (s,))
        span = np.maximum(np.abs(dx), np.abs(dy))
        out = np.ones(s, dtype=bool)
        live = None
        if span.sum() > 16 * _COARSE:
            # coarse rejection first, a sample every _COARSE cells
            ns = (span * (1.0 / _COARSE) + 2.0).astype(np.int64)
            seg = np.repeat(np.arange(s), ns)
            t = (np.arange(seg.size) - (np.cumsum(ns) - ns)[seg]) / (ns - 1)[seg]
            out[seg[self._gap[self._flat(ax, ay, dx, dy, seg, t)] < 0]] = False
            live = np.flatnonzero(out)
            if live.size == 0:
                return out
            if live.size < s:
                ax, ay, dx, dy, span, e = (v[live] for v in (ax, ay, dx, dy, span, e))
            else:
                live = None
        res = self._los_fine(ax, ay, dx, dy, span, e)
        if live is None:
            return res
        out[live] = res
        return out

    def _flat(self, ax: np.ndarray, ay: np.ndarray, dx: np.ndarray, dy: np.ndarray,
              seg: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Index into the padded tables of the cell of each sample ``seg``, ``t``."""
        w = self.nx + 2
        x = ax[seg] + t * dx[seg]
        y = ay[seg] + t * dy[seg]
        if (x.min() >= 0.0 and y.min() >= 0.0 and x.max() < self.nx
                and y.max() < self.ny):        # on the grid (the usual case): truncation floors
            return y.astype(np.int64) * w + x.astype(np.int64) + (w + 1)
        i = np.clip(np.floor(y), -1, self.ny).astype(np.int64)
        j = np.clip(np.floor(x), -1, self.nx).astype(np.int64)
        return (i + 1) * w + j + 1

    def _los_fine(self, ax: np.ndarray, ay: np.ndarray, dx: np.ndarray, dy: np.ndarray,
                  span: np.ndarray, e: np.ndarray) -> np.ndarray:
        """The sample-and-walk test of :meth:`_los_many` on segments in grid units (s,),
        cells grown by ``e`` (s,) [cells]."""
        s = ax.size
        ns = (span * (1.0 / _FINE) + 2.0).astype(np.int64)  # >= 2, _FINE cells apart
        seg = np.repeat(np.arange(s), ns)
        step = 1.0 / (ns - 1)
        t = (np.arange(seg.size) - (np.cumsum(ns) - ns)[seg]) * step[seg]
        gap = self._gap[self._flat(ax, ay, dx, dy, seg, t)]
        out = np.ones(s, dtype=bool)
        out[seg[gap < 0]] = False
        # a stretch reaches at most 0.7072 _FINE from its sample (samples _FINE apart in x, y)
        # (cells grown by e reach e * sqrt(2) from the square at their corners)
        unsure = np.flatnonzero((gap <= 0.7072 * _FINE + 1.4143 * e[seg]) & out[seg])
        if unsure.size:
            # the stretch of each run of unsure samples: half-way to the samples around it
            cut = np.flatnonzero((np.diff(unsure) != 1) | (np.diff(seg[unsure]) != 0))
            first = unsure[np.concatenate([[0], cut + 1])]
            last = unsure[np.concatenate([cut, [unsure.size - 1]])]
            k = seg[first]
            t0 = np.maximum(t[first] - 0.5 * step[k], 0.0)
            t1 = np.minimum(t[last] + 0.5 * step[k], 1.0)
            sx, sy = ax[k] + t0 * dx[k], ay[k] + t0 * dy[k]
            ex, ey = (t1 - t0) * dx[k], (t1 - t0) * dy[k]
            if last.size + (last - first).sum() <= _PY_CELLS:   # short work: Python is quicker
                for m in range(k.size):
                    if out[k[m]] and not self._walk_py(float(sx[m]), float(sy[m]), float(ex[m]),
                                                       float(ey[m]), float(e[k[m]])):
                        out[k[m]] = False
            else:
                ok = self._los_walk(np.stack([sx, sy], axis=1), np.stack([ex, ey], axis=1),
                                    e[k])
                out[k[~ok]] = False
        return out

    def _los_walk(self, ua: np.ndarray, d: np.ndarray, e: np.ndarray) -> np.ndarray:
        """The column walk of :meth:`_los_many`: (s,) bool, segments ua + t d, t in [0, 1],
        in grid units (s, 2), miss every blocked cell grown by ``e`` (s,) [cells]."""
        s = ua.shape[0]
        umin = np.minimum(ua[:, 0], ua[:, 0] + d[:, 0])
        umax = np.maximum(ua[:, 0], ua[:, 0] + d[:, 0])
        j0 = np.ceil(umin - 1.0 - e).astype(np.int64)
        nc = np.floor(umax + e).astype(np.int64) - j0 + 1
        seg = np.repeat(np.arange(s), nc)
        j = _ranges(j0, nc)
        e = e[seg]
        au, av, du, dv = ua[seg, 0], ua[seg, 1], d[seg, 0], d[seg, 1]
        vert = du == 0.0
        safe = np.where(vert, 1.0, du)
        ta = (j - e - au) / safe
        tb = (j + 1.0 + e - au) / safe
        tlo = np.where(vert, 0.0, np.maximum(np.minimum(ta, tb), 0.0))
        thi = np.where(vert, 1.0, np.minimum(np.maximum(ta, tb), 1.0))
        v0, v1 = av + tlo * dv, av + thi * dv
        i0 = np.ceil(np.minimum(v0, v1) - 1.0 - e).astype(np.int64)
        nr = np.where(tlo <= thi, np.floor(np.maximum(v0, v1) + e).astype(np.int64) - i0 + 1, 0)
        nr = np.maximum(nr, 0)
        seg = np.repeat(seg, nr)
        jj = np.repeat(j, nr)
        ii = _ranges(i0, nr)
        inside = (ii >= 0) & (ii < self.ny) & (jj >= 0) & (jj < self.nx)
        ok = np.zeros(ii.size, dtype=bool)
        ok[inside] = self.free[ii[inside], jj[inside]]
        return np.bincount(seg[~ok], minlength=s) == 0

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
            grow = np.where((lo == 0) | (hi == k - 1), _EPS, _MARGIN * self.cell)
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

    def _coarse_distance(self, na: int, nb: int) -> float:
        """Coarse graph distance [m] between two nodes (inf when not connected)."""
        if self._table is not None:
            return float(self._table[na, nb])
        return float(self._tree(nb)[0][na])

    def _chain(self, ca: int, cb: int) -> np.ndarray:
        """Flat cells (k,) of a walk from cell ca to cell cb whose consecutive cell centres
        see each other: ca up its tree to its node's representative, the coarse path's edge
        polylines, then down cb's tree (straight runs merged)."""
        nodes = self._node_path(int(self._node.flat[ca]), int(self._node.flat[cb]))
        cells = self._leg(ca)
        detour, rep = self._detour, self._rep_list
        for p, q in zip(nodes[:-1], nodes[1:], strict=True):
            if p < q:
                cells.extend(detour.get((p, q), ()))
            else:
                cells.extend(reversed(detour.get((q, p), ())))
            cells.append(rep[q])
        cells.extend(reversed(self._leg(cb)))
        cells = np.array(cells, dtype=np.int64)
        keep = np.ones(cells.size, dtype=bool)
        keep[1:] = cells[1:] != cells[:-1]
        return _corners(cells[keep], self.nx)

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
        g = _symmetric(*_grid_edges(self.free[i0:i1, j0:j1], self.cell), h * w)
        src, dst = (ia - i0) * w + ja - j0, (ib - i0) * w + jb - j0
        dist, pred = dijkstra(g, directed=True, indices=src, return_predecessors=True,
                              limit=limit)
        if not dist[dst] < limit:
            return None
        path = [dst]
        while path[-1] != src:
            path.append(int(pred[path[-1]]))
        r, c = np.divmod(np.array(path[::-1], dtype=np.int64), w)
        return _corners((r + i0) * self.nx + c + j0, self.nx), float(dist[dst])

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
