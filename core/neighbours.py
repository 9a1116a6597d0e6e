"""Which points are near which, with array ops of any backend (numpy or cupy, no scipy):
pairs of points within a radius, from dense distances computed a chunk at a time, and the
connected components of the graph those pairs make, by label propagation. The tracker's
device path builds fusion, gated assignment and duplicate removal on them.
"""

from __future__ import annotations

from types import ModuleType

_CHUNK = 1 << 22  # pairwise distances computed this many pairs at a time on the device


def _pairs_within(a, b, radius: float, xp: ModuleType, upper: bool = False):
    """Pairs of points ``a`` (p, 2) and ``b`` (q, 2) [m] at most ``radius`` [m] apart, from
    dense distances computed ``_CHUNK`` pairs at a time. ``upper``: ``a`` is ``b``; keep
    each unordered pair once (``i < j``).

    Returns i (k,) int64 into a, j (k,) int64 into b (row-major order), d (k,) float64 [m].
    """
    p, q = a.shape[0], b.shape[0]
    step = max(1, _CHUNK // max(q, 1))
    out_i, out_j, out_d = [], [], []
    for s in range(0, p, step):  # one pass for crowds up to a few thousand points
        diff = a[s : s + step, None, :] - b[None, :, :]
        d = xp.sqrt((diff * diff).sum(axis=2))  # (step, q) [m], as np.linalg.norm
        near = d <= radius
        if upper:
            near &= xp.arange(s, s + d.shape[0])[:, None] < xp.arange(q)[None, :]
        i, j = xp.nonzero(near)
        out_i.append(i.astype(xp.int64) + s)
        out_j.append(j.astype(xp.int64))
        out_d.append(d[i, j])
    if not out_i:
        return xp.zeros(0, xp.int64), xp.zeros(0, xp.int64), xp.zeros(0)
    if len(out_i) == 1:
        return out_i[0], out_j[0], out_d[0]
    return xp.concatenate(out_i), xp.concatenate(out_j), xp.concatenate(out_d)


def _components(n: int, i, j, xp: ModuleType):
    """Connected components of the undirected graph on ``n`` nodes with edges ``(i, j)``
    ((k,) int64 each), with array ops only: every node takes the smallest label among its
    neighbours, then jumps to its label's label, until nothing changes. Returns (n,) int64
    labels numbered by smallest node (as ``scipy.sparse.csgraph.connected_components``).
    """
    lab = xp.arange(n, dtype=xp.int64)
    if i.size == 0:
        return lab
    src = xp.concatenate([i, j])
    dst = xp.concatenate([j, i])
    while True:  # a few rounds: pointer jumping halves the distance to the root
        key = xp.sort(src * n + lab[dst])  # by node, then neighbour label
        node = key // n
        first = xp.ones(key.shape[0], dtype=bool)
        first[1:] = node[1:] != node[:-1]
        node, low = node[first], key[first] % n
        new = lab.copy()
        new[node] = xp.minimum(new[node], low)
        new = new[new]
        if bool((new == lab).all()):
            break
        lab = new
    return xp.unique(lab, return_inverse=True)[1].reshape(-1).astype(xp.int64)
