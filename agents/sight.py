"""Exact line of sight on the floor grid: does a straight segment touch a blocked cell?

:class:`SightGrid` adds to the occupancy grid (:class:`agents.grid.FloorGrid`) one test,
batched over many segments (:meth:`SightGrid._los_many`): samples at most a cell apart are
looked up in a clearance table (one on a blocked cell rejects the segment; one far enough
from every blocked cell clears its stretch), and the stretches left are walked exactly,
column by column. Cells may be grown by a margin (the routes keep some slack from fixtures).
"""

from __future__ import annotations

import math

import numpy as np

from agents.grid import FloorGrid

EPS = 1e-9          # [m] a segment within this of a blocked cell touches it
# line-of-sight tests
_COARSE = 6          # [cells] spacing of the first samples of long segments, that only reject
_FINE = 0.5          # [cells] spacing of the samples that clear the stretches around them
_PY_SAMPLES = 24     # single segments shorter than this many cells are tested in Python
_PY_CELLS = 24       # unsure stretches this short in all [~cells] are walked in Python


def int_ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenated integer ranges ``start[k] .. start[k] + count[k] - 1`` (count >= 0)."""
    total = int(count.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return np.repeat(start, count) + offs


class SightGrid(FloorGrid):
    """The floor grid with exact line-of-sight tests (module docstring)."""

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
        e = EPS / self.cell
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

    def _los_many(self, a: np.ndarray, b: np.ndarray, grow: np.ndarray | float = EPS
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
        j = int_ranges(j0, nc)
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
        ii = int_ranges(i0, nr)
        inside = (ii >= 0) & (ii < self.ny) & (jj >= 0) & (jj < self.nx)
        ok = np.zeros(ii.size, dtype=bool)
        ok[inside] = self.free[ii[inside], jj[inside]]
        return np.bincount(seg[~ok], minlength=s) == 0

