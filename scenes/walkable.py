"""Where a person can walk: the walkable grid of a floor, and the store spec's checks built on
it: fixtures on the floor and apart, aisles at least a shoulder breadth wide, every bin
reachable from an entrance.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from scenes.checks import Reader
from scenes.store import FACES, Gate, Wall, points_in_polygon

if TYPE_CHECKING:  # pragma: no cover
    from scenes.spec_fixtures import FixtureSpec

# A person's body: 95th-percentile bideltoid (shoulder) breadth is ~0.53 m (ANSUR II, 2012);
# with a little clearance an aisle under 0.6 m cannot be walked. ADA 2010 (403.5.1) asks for
# 0.915 m clear, which the generator's aisles respect; the checker only rejects the impassable.
MIN_AISLE_M = 0.6
BODY_RADIUS_M = 0.25


def walkable_grid(outline: np.ndarray, walls: list[Wall] | tuple[Wall, ...],
                  gates: list[Gate] | tuple[Gate, ...], lo: np.ndarray, hi: np.ndarray,
                  cell: float = 0.1, radius: float = BODY_RADIUS_M):
    """Where a body's centre may stand: (free (ny, nx) bool, origin (2,), cell)."""
    x0, y0 = outline.min(axis=0) - 1.0
    x1, y1 = outline.max(axis=0) + 1.0
    nx = int(np.ceil((x1 - x0) / cell))
    ny = int(np.ceil((y1 - y0) / cell))
    cx = x0 + (np.arange(nx) + 0.5) * cell
    cy = y0 + (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy, indexing="xy")
    free = points_in_polygon(np.stack([gx.ravel(), gy.ravel()], axis=1), outline).reshape(
        ny, nx)
    for w in walls:
        a, b = np.asarray(w.a), np.asarray(w.b)
        pad = radius + (0 if w.perimeter else w.thickness / 2)
        i0 = max(0, int((min(a[0], b[0]) - pad - x0) / cell))
        i1 = min(nx, int((max(a[0], b[0]) + pad - x0) / cell) + 2)
        j0 = max(0, int((min(a[1], b[1]) - pad - y0) / cell))
        j1 = min(ny, int((max(a[1], b[1]) + pad - y0) / cell) + 2)
        sx, sy = gx[j0:j1, i0:i1], gy[j0:j1, i0:i1]
        d = b - a
        t = np.clip(((sx - a[0]) * d[0] + (sy - a[1]) * d[1]) / float(d @ d), 0, 1)
        near = np.hypot(sx - a[0] - t * d[0], sy - a[1] - t * d[1]) < pad
        if w.perimeter:
            for g in gates:
                if g.wall != w.name:
                    continue
                ga, gb = np.asarray(g.a), np.asarray(g.b)
                u = (gb - ga) / g.width
                along = (sx - ga[0]) * u[0] + (sy - ga[1]) * u[1]
                near &= ~((along > radius) & (along < g.width - radius))
        free[j0:j1, i0:i1] &= ~near
    for a, b in zip(lo, hi, strict=True):
        i0 = max(0, int(np.floor((a[0] - radius - x0) / cell)))
        i1 = min(nx, int(np.ceil((b[0] + radius - x0) / cell)))
        j0 = max(0, int(np.floor((a[1] - radius - y0) / cell)))
        j1 = min(ny, int(np.ceil((b[1] + radius - y0) / cell)))
        free[j0:j1, i0:i1] = False
    return free, np.array([x0, y0]), cell


def check_geometry(r: Reader, outline: np.ndarray, walls: list[Wall], gates: list[Gate],
                   fx: list[FixtureSpec]) -> float:
    """Fixtures inside the floor, not overlapping, no impassable gaps. Returns the aisle width
    (narrowest gap between facing fixtures)."""
    if not fx:
        return float("inf")
    lo = np.array([f.fixture.lo[:2] for f in fx])
    hi = np.array([f.fixture.hi[:2] for f in fx])
    _outside_the_floor(r, outline, fx, lo, hi)
    _crossed_by_walls(r, walls, fx, lo, hi)
    face = np.array([[k in f.fixture.faces for k in FACES] for f in fx], dtype=bool)
    aisle = _between_fixtures(r, fx, lo, hi, face)
    _against_walls(r, walls, fx, lo, hi, face)
    return aisle if math.isfinite(aisle) else float("inf")


def _outside_the_floor(r: Reader, outline: np.ndarray, fx: list[FixtureSpec], lo: np.ndarray,
                       hi: np.ndarray) -> None:
    """Fixtures off the floor: inside the outline means corners (nudged inward) inside and no
    outline vertex inside the box."""
    c = np.stack([lo, np.c_[hi[:, 0], lo[:, 1]], hi, np.c_[lo[:, 0], hi[:, 1]]], axis=1)
    nudged = c + 1e-6 * np.sign((lo + hi)[:, None, :] / 2 - c)
    inside = points_in_polygon(nudged.reshape(-1, 2), outline).reshape(-1, 4).all(axis=1)
    v_in = ((outline[None, :, 0] > lo[:, None, 0] + 1e-9)
            & (outline[None, :, 0] < hi[:, None, 0] - 1e-9)
            & (outline[None, :, 1] > lo[:, None, 1] + 1e-9)
            & (outline[None, :, 1] < hi[:, None, 1] - 1e-9)).any(axis=1)
    for i in np.flatnonzero(~inside | v_in):
        f = fx[i].fixture
        r.bad(fx[i].path, f"{f.name!r} spans x {f.lo[0]:g}..{f.hi[0]:g}, y {f.lo[1]:g}.."
              f"{f.hi[1]:g}, outside the floor outline; expected a fixture on the floor")


def _crossed_by_walls(r: Reader, walls: list[Wall], fx: list[FixtureSpec], lo: np.ndarray,
                      hi: np.ndarray) -> None:
    """Fixtures an interior wall runs through."""
    for w in walls:
        if w.perimeter:
            continue
        t = np.linspace(0, 1, max(2, int(w.length / 0.05) + 1))
        pts = np.asarray(w.a)[None] + t[:, None] * (np.asarray(w.b) - np.asarray(w.a))[None]
        hit = ((pts[None, :, 0] > lo[:, None, 0]) & (pts[None, :, 0] < hi[:, None, 0])
               & (pts[None, :, 1] > lo[:, None, 1]) & (pts[None, :, 1] < hi[:, None, 1]))
        for i in np.flatnonzero(hit.any(axis=1)):
            r.bad(fx[i].path, f"{fx[i].fixture.name!r} is crossed by interior wall {w.name!r}")


def _between_fixtures(r: Reader, fx: list[FixtureSpec], lo: np.ndarray, hi: np.ndarray,
                      face: np.ndarray) -> float:
    """Fixtures that overlap, and aisles between shelf faces narrower than a person; returns
    the narrowest gap between facing fixtures (inf: none)."""
    aisle = float("inf")
    n = len(fx)
    # pairwise in blocks so a supercenter's ~2,000 fixtures stay a few MB at a time
    block = 512
    for s0 in range(0, n, block):
        a_lo, a_hi = lo[s0:s0 + block], hi[s0:s0 + block]
        a_face = face[s0:s0 + block]
        gx = np.maximum(lo[None, :, 0] - a_hi[:, None, 0], a_lo[:, None, 0] - hi[None, :, 0])
        gy = np.maximum(lo[None, :, 1] - a_hi[:, None, 1], a_lo[:, None, 1] - hi[None, :, 1])
        ii = np.arange(s0, s0 + len(a_lo))[:, None]
        jj = np.arange(n)[None, :]
        upper = jj > ii
        overlap = upper & (gx < -1e-6) & (gy < -1e-6)
        for i, j in zip(*np.nonzero(overlap), strict=True):
            i += s0
            a, b = fx[i].fixture, fx[j].fixture
            r.bad(fx[j].path, f"{b.name!r} overlaps {a.name!r} ({fx[i].path}) by "
                  f"{-gx[i - s0, j]:.2f} x {-gy[i - s0, j]:.2f} m; expected fixtures apart or "
                  "touching")
        # an aisle is a gap in front of a shelf face: across x (overlap in y) where the
        # side of either fixture facing the gap carries shelves, or across y
        shelf_x = a_face[:, None, 1] & (a_lo[:, None, 0] < lo[None, :, 0]) | (
            face[None, :, 0] & (a_lo[:, None, 0] < lo[None, :, 0])) | (
            a_face[:, None, 0] & (a_lo[:, None, 0] > lo[None, :, 0])) | (
            face[None, :, 1] & (a_lo[:, None, 0] > lo[None, :, 0]))
        shelf_y = a_face[:, None, 3] & (a_lo[:, None, 1] < lo[None, :, 1]) | (
            face[None, :, 2] & (a_lo[:, None, 1] < lo[None, :, 1])) | (
            a_face[:, None, 2] & (a_lo[:, None, 1] > lo[None, :, 1])) | (
            face[None, :, 3] & (a_lo[:, None, 1] > lo[None, :, 1]))
        narrow_x = upper & shelf_x & (gy < -0.05) & (gx > 1e-6) & (gx < MIN_AISLE_M)
        narrow_y = upper & shelf_y & (gx < -0.05) & (gy > 1e-6) & (gy < MIN_AISLE_M)
        for i, j in zip(*np.nonzero(narrow_x | narrow_y), strict=True):
            g = gx[i, j] if narrow_x[i, j] else gy[i, j]
            a, b = fx[i + s0].fixture, fx[j].fixture
            r.bad(fx[j].path, f"the aisle between {a.name!r} and {b.name!r} is {g:.2f} m wide; "
                  f"expected at least {MIN_AISLE_M} m (a person's shoulder breadth) or 0 "
                  "(touching)")
        facing_x = upper & (gy < -0.5) & (gx >= MIN_AISLE_M)
        facing_y = upper & (gx < -0.5) & (gy >= MIN_AISLE_M)
        if facing_x.any():
            aisle = min(aisle, float(gx[facing_x].min()))
        if facing_y.any():
            aisle = min(aisle, float(gy[facing_y].min()))
    return aisle


def _against_walls(r: Reader, walls: list[Wall], fx: list[FixtureSpec], lo: np.ndarray,
                   hi: np.ndarray, face: np.ndarray) -> None:
    """Aisles narrower than a person between shelves and an axis-aligned perimeter wall."""
    for w in walls:
        if not w.perimeter:
            continue
        (ax, ay), (bx, by) = w.a, w.b
        if abs(ay - by) < 1e-9:   # horizontal wall at y = ay
            ov = np.minimum(hi[:, 0], max(ax, bx)) - np.maximum(lo[:, 0], min(ax, bx))
            above = lo[:, 1] >= ay
            g = np.where(above, lo[:, 1] - ay, ay - hi[:, 1])
            shelf = np.where(above, face[:, 2], face[:, 3])
        elif abs(ax - bx) < 1e-9:
            ov = np.minimum(hi[:, 1], max(ay, by)) - np.maximum(lo[:, 1], min(ay, by))
            right = lo[:, 0] >= ax
            g = np.where(right, lo[:, 0] - ax, ax - hi[:, 0])
            shelf = np.where(right, face[:, 0], face[:, 1])
        else:
            continue
        for i in np.flatnonzero(shelf & (ov > 0.05) & (g > 1e-6) & (g < MIN_AISLE_M)):
            r.bad(fx[i].path, f"the aisle between {fx[i].fixture.name!r}'s shelves and wall "
                  f"{w.name!r} is {g[i]:.2f} m wide; expected at least {MIN_AISLE_M} m (a "
                  "person's shoulder breadth)")


def check_reachability(r: Reader, outline, walls, gates, fx: list[FixtureSpec],
                       geo: dict | None, cell_path) -> None:
    if not gates:
        return
    lo = np.array([f.fixture.lo[:2] for f in fx]).reshape(-1, 2)
    hi = np.array([f.fixture.hi[:2] for f in fx]).reshape(-1, 2)
    free, origin, cell = walkable_grid(outline, walls, gates, lo, hi)
    labels, _ = ndimage.label(free, structure=np.ones((3, 3), bool))
    ny, nx = free.shape

    def cell_of(xy):
        ij = np.floor((np.asarray(xy).reshape(-1, 2) - origin) / cell).astype(np.int64)
        return np.clip(ij[:, 1], 0, ny - 1), np.clip(ij[:, 0], 0, nx - 1)

    def component(g: Gate) -> int:
        # the first free cell walking in from the gate's middle
        for d in np.arange(0.05, 1.5, cell / 2):
            j, i = cell_of(g.inside(d))
            if labels[j[0], i[0]]:
                return int(labels[j[0], i[0]])
        return 0

    ins = [(g, component(g)) for g in gates if g.admits("entrance")]
    outs = [(g, component(g)) for g in gates if g.admits("exit")]
    reach = {c for _, c in ins if c}
    for g, c in ins:
        if not c:
            r.bad(f"gates[{gates.index(g)}]", f"gate {g.name!r} opens onto no walkable floor; "
                  "expected free floor inside the door")
    for g, c in outs:
        if c and reach and c not in reach:
            r.bad(f"gates[{gates.index(g)}]", f"exit {g.name!r} cannot be reached from any "
                  "entrance; expected a walkable path through the store")
    if geo is None or not reach:
        return
    ok = np.isin(labels, list(reach))
    ok = ndimage.binary_dilation(ok, structure=np.ones((3, 3), bool), iterations=2)
    j, i = cell_of(geo["access"])
    bad = np.flatnonzero(~ok[j, i])
    for k in bad:   # all of them: SpecError.lines() shows the first few
        a = geo["access"][k]
        r.bad(cell_path(int(k)), f"bin is unreachable: no walkable floor at its access point "
              f"({a[0]:.2f}, {a[1]:.2f}) connects to an entrance; expected an aisle of at least "
              f"{MIN_AISLE_M} m in front of every shelf face")
