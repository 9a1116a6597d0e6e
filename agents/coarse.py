"""The coarse graph over the floor grid, built once, for fast routes.

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

:meth:`CoarseGrid._chain` turns a coarse shortest path into a walk of cells whose consecutive
centres see each other; :mod:`agents.navigation` pulls it into a route.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy import ndimage
from scipy.sparse.csgraph import dijkstra

from agents.grid import symmetric
from agents.sight import SightGrid, int_ranges
from scenes.store import Store

# up to this many nodes, all-pairs distances are tabled at construction (float32; the
# supercenter's 4,194 nodes take 67 MB and ~2.5 s); above it, one cached Dijkstra per goal
_TABLE_MAX_NODES = 5000
_TREE_CACHE = 256    # coarse shortest-path trees kept per grid (by goal node), untabled


def corners(cells: np.ndarray, nx: int) -> np.ndarray:
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


class CoarseGrid(SightGrid):
    """The floor grid with its coarse graph (module docstring); macro: side of the macro
    cells [m] (rounded to a whole number of cells). Read-only once built but for a cache of
    coarse searches."""

    def __init__(self, store: Store, cell: float = 0.2, clearance: float = 0.3,
                 macro: float = 2.0) -> None:
        super().__init__(store, cell, clearance)
        self._build_coarse(max(1, int(round(macro / cell))))
        self._trees: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

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
        g = symmetric(a, b, w, n)
        dist, pred, _src = dijkstra(g, directed=True, indices=rep_cell, min_only=True,
                                    return_predecessors=True)
        del g, a, b, w
        self._to_rep = dist                  # (ny*nx,) [m] fine path length to the rep
        self._pred = pred.astype(np.int32)   # next cell towards the rep, < 0 at reps
        p, q, weight = self._border_edges(m)
        dp, dq = self._diagonal_edges(m, by, bx)
        p = np.concatenate([p, np.minimum(dp, dq)])
        q = np.concatenate([q, np.maximum(dp, dq)])
        weight = np.concatenate([weight, np.linalg.norm(self._rep[dp] - self._rep[dq], axis=1)])
        self._edges = np.stack([p, q], axis=1)   # (e, 2) int node pairs, p < q
        self._coarse = symmetric(p, q, weight, n_nodes)
        g = self._coarse
        self._adj = [list(zip(g.indices[g.indptr[k]:g.indptr[k + 1]].tolist(),
                              g.data[g.indptr[k]:g.indptr[k + 1]].tolist(), strict=True))
                     for k in range(n_nodes)]               # (neighbour, length [m]) per node
        self._rep_list = rep_cell.tolist()
        self._table = self._distance_table(n_nodes)

    def _diagonal_edges(self, m: int, by: int, bx: int) -> tuple[np.ndarray, np.ndarray]:
        """Shortcuts (node pairs dp, dq): nodes of diagonal-neighbour macro cells whose
        representatives see each other (they never change connectivity: the segment's cells
        are free and 4-connected)."""
        nx = self.free.shape[1]
        rep_cell = self._rep_cell
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
            r = int_ranges(np.zeros(b1.size, dtype=np.int64), k)
            dp.append(bstart[b1][pair] + r // n2[pair])
            dq.append(bstart[b2][pair] + r % n2[pair])
        dp, dq = np.concatenate(dp), np.concatenate(dq)
        seen = self._los_many(self._rep[dp], self._rep[dq])
        return dp[seen], dq[seen]

    def _distance_table(self, n_nodes: int) -> np.ndarray | None:
        """All-pairs coarse distances [m], float32, so that routes and walk_distances need no
        search; None above ``_TABLE_MAX_NODES`` nodes."""
        if n_nodes <= _TABLE_MAX_NODES:
            t = np.empty((n_nodes, n_nodes), dtype=np.float32)
            for k in range(0, n_nodes, 512):
                t[k:k + 512] = dijkstra(self._coarse, directed=True,
                                        indices=np.arange(k, min(n_nodes, k + 512)))
            np.minimum(t, t.T, out=t)
            return t
        return None

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
            path = corners(np.array(path, dtype=np.int64), nx)
            self._detour[(int(p[k]), int(q[k]))] = path[1:-1].tolist()
        return p, q, weight

    def _leg(self, cell: int) -> list[int]:
        """Flat cells from ``cell`` to its node's representative, both included."""
        out = [cell]
        pred = self._pred
        k = int(pred[cell])
        while k >= 0:
            out.append(k)
            k = int(pred[k])
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
        return corners(cells[keep], self.nx)

