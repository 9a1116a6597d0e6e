"""The store spec's shell: the ``floor`` (a rectangle or an outline polygon, its perimeter
walls), the interior ``walls`` and the ``gates`` in the perimeter walls.

Each reader checks its section of a parsed spec (:mod:`scenes.spec`), reports every problem to
the :class:`scenes.checks.Reader` and returns what it could build.
"""

from __future__ import annotations

import math

import numpy as np

from scenes.checks import Reader, show
from scenes.store import (
    RECT_WALL_NAMES,
    Gate,
    Wall,
    outline_walls,
    points_in_polygon,
    polygon_area,
    rectangle,
)

GATE_KINDS = ("entrance", "exit", "both")
# ADA 2010 404.2.3: a door's clear opening is at least 32 in (0.815 m).
MIN_GATE_M = 0.8
# The reachability check walks a 0.1 m grid of the floor's bounding box: 250,000 m2 is 25 M
# cells (~1.5 GB while it runs), 15 supercenters; the generator makes floors up to 200,000 m2.
MAX_FLOOR_BOX_M2 = 250_000.0


def read_floor(r: Reader, doc: dict) -> tuple[np.ndarray, tuple[Wall, ...]] | None:
    f = r.table(doc.get("floor"), "floor",
                ("width_m", "depth_m", "outline_m", "wall_names", "wall_thickness_m"))
    if f is None:
        return None
    thick = r.number(f, "wall_thickness_m", "floor", gt=0, le=1.0, default=0.1)
    if "outline_m" in f:
        if "width_m" in f or "depth_m" in f:
            r.bad("floor", "give either outline_m or width_m and depth_m, not both")
            return None
        pts = r.array(f, "outline_m", "floor")
        if pts is None:
            return None
        xy = [r.point(p, f"floor.outline_m[{i}]") for i, p in enumerate(pts)]
        if any(p is None for p in xy):
            return None
        if len(xy) < 3:
            r.bad("floor.outline_m", f"has {len(xy)} point(s); expected at least 3 [x, y]")
            return None
        outline = np.array(xy, dtype=np.float64)
        problem = _polygon_problem(outline)
        if problem:
            r.bad("floor.outline_m", problem)
            return None
        names = tuple(f"wall-{i + 1}" for i in range(len(outline)))
    else:
        w = r.number(f, "width_m", "floor", gt=0, le=2000)
        d = r.number(f, "depth_m", "floor", gt=0, le=2000)
        if w is None or d is None:
            return None
        if w * d < 1.0:   # as for an outline; a 1e-300 m wall would divide by zero later
            r.bad("floor", f"is {w:g} x {d:g} m, under 1 m2; expected a floor of at least 1 m2")
            return None
        outline = rectangle(w, d)
        names = RECT_WALL_NAMES
    span = outline.max(axis=0) - outline.min(axis=0)
    if span[0] * span[1] > MAX_FLOOR_BOX_M2:
        r.bad("floor", f"spans {span[0]:g} x {span[1]:g} m; expected a floor whose bounding box "
              f"is at most {MAX_FLOOR_BOX_M2:,.0f} m2")
        return None
    if "wall_names" in f:
        wn = f["wall_names"]
        if (not isinstance(wn, list) or len(wn) != len(outline)
                or not all(isinstance(x, str) and x.strip() for x in wn)
                or len(set(wn)) != len(wn)):
            r.bad("floor.wall_names", f"= {show(wn)} is not allowed; expected {len(outline)} "
                  "unique non-empty names, one per outline edge (edge i runs from point i to "
                  "point i+1)")
        else:
            names = tuple(wn)
    walls = outline_walls(outline, names, thick if thick is not None else 0.1)
    if polygon_area(outline) < 0:   # store counter-clockwise; walls keep their geometry
        outline = outline[::-1].copy()
    return outline, walls


def _segments_cross(p1, p2, q1, q2) -> bool:
    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _polygon_problem(outline: np.ndarray) -> str | None:
    k = len(outline)
    if k > 1000:
        return f"has {k} points; at most 1000 are allowed"
    step = np.linalg.norm(np.roll(outline, -1, axis=0) - outline, axis=1)
    if np.any(step < 1e-6):
        i = int(np.flatnonzero(step < 1e-6)[0])
        return f"points {i} and {(i + 1) % k} coincide; expected distinct consecutive points"
    if abs(polygon_area(outline)) < 1.0:
        return "encloses less than 1 m2; expected a floor polygon"
    if np.abs(outline).max() > 2000:
        return "reaches beyond 2 km from the origin; expected metres"
    for i in range(k):
        for j in range(i + 2, k):
            if i == 0 and j == k - 1:
                continue
            if _segments_cross(outline[i], outline[(i + 1) % k], outline[j],
                               outline[(j + 1) % k]):
                return (f"edges {i + 1} and {j + 1} cross; expected a simple polygon "
                        "(no self-intersections)")
    return None


def read_interior_walls(r: Reader, doc: dict, outline: np.ndarray) -> list[Wall]:
    out: list[Wall] = []
    if "walls" not in doc:
        return out
    arr = r.array(doc, "walls", "")
    for i, w in enumerate(arr or []):
        p = f"walls[{i}]"
        t = r.table(w, p, ("name", "from_m", "to_m", "thickness_m"), ("name", "from_m", "to_m"))
        if t is None:
            continue
        name = r.string(t, "name", p)
        a = r.point(t["from_m"], f"{p}.from_m") if "from_m" in t else None
        b = r.point(t["to_m"], f"{p}.to_m") if "to_m" in t else None
        th = r.number(t, "thickness_m", p, gt=0, le=2.0, default=0.1)
        if name is None or a is None or b is None or th is None:
            continue
        if math.dist(a, b) < 1e-6:
            r.bad(f"{p}.to_m", "equals from_m; expected a wall of some length")
            continue
        ends = np.array([a, b])
        # the ends may touch the outline: test points just inside the segment
        probe = ends + 1e-3 * (ends[::-1] - ends) / math.dist(a, b)
        if not points_in_polygon(probe, outline).all():
            r.bad(p, f"runs from {list(a)} to {list(b)}, outside the floor outline; "
                  "expected an interior wall inside the floor")
            continue
        out.append(Wall(name, a, b, th, False))
    return out


def read_gates(r: Reader, doc: dict, walls: dict[str, Wall], outline: np.ndarray
           ) -> list[Gate]:
    out: list[Gate] = []
    arr = r.array(doc, "gates", "")
    if arr is None:
        return out
    names: set[str] = set()
    for i, g in enumerate(arr):
        p = f"gates[{i}]"
        t = r.table(g, p, ("name", "kind", "wall", "offset_m", "width_m"),
                    ("name", "kind", "wall", "offset_m", "width_m"))
        if t is None:
            continue
        name = r.string(t, "name", p)
        kind = r.string(t, "kind", p, choices=GATE_KINDS)
        wall = r.string(t, "wall", p)
        off = r.number(t, "offset_m", p, ge=0)
        width = r.number(t, "width_m", p, ge=MIN_GATE_M)
        if None in (name, kind, wall, off, width):
            continue
        if name in names:
            r.bad(f"{p}.name", f"= {name!r} is used by another gate; gate names are unique")
            continue
        names.add(name)
        perimeter = [w for w in walls.values() if w.perimeter]
        if wall not in walls or not walls[wall].perimeter:
            what = "is an interior wall" if wall in walls else "names no wall"
            r.bad(f"{p}.wall", f"= {wall!r} {what}; gates go in the floor's walls: "
                  f"{', '.join(w.name for w in perimeter)}")
            continue
        w = walls[wall]
        if off + width > w.length + 1e-9:
            r.bad(f"{p}.offset_m", f"+ width_m = {off + width:g} m runs past the end of wall "
                  f"{wall!r} ({w.length:g} m long); expected offset_m + width_m <= "
                  f"{w.length:g}")
            continue
        a, b = np.asarray(w.a), np.asarray(w.b)
        u = (b - a) / w.length
        n = np.array([-u[1], u[0]])
        ga, gb = a + off * u, a + (off + width) * u
        probe = 0.5 * (ga + gb) + 0.05 * n
        if not points_in_polygon(probe[None], outline)[0]:
            n = -n
        n = n + 0.0   # no negative zeros in the written normal
        out.append(Gate(name, kind, wall, (float(ga[0]), float(ga[1])),
                        (float(gb[0]), float(gb[1])), (float(n[0]), float(n[1]))))
    for i in range(len(out)):
        for j in range(i + 1, len(out)):
            gi, gj = out[i], out[j]
            if gi.wall != gj.wall:
                continue
            w = walls[gi.wall]
            a = np.asarray(w.a)
            s0 = sorted(np.linalg.norm(np.asarray(x) - a) for x in (gi.a, gi.b))
            s1 = sorted(np.linalg.norm(np.asarray(x) - a) for x in (gj.a, gj.b))
            if s0[0] < s1[1] - 1e-9 and s1[0] < s0[1] - 1e-9:
                r.bad(f"gates[{j}]", f"overlaps gate {gi.name!r} on wall {gi.wall!r}; "
                      "expected separate openings")
    n_bad = sum(path.startswith("gates[") for path, _ in r.problems)
    if not arr:
        r.bad("gates", "is empty; expected at least one entrance and one exit")
    elif not n_bad:
        for role in ("entrance", "exit"):
            if not any(g.admits(role) for g in out):
                r.bad("gates", f"has no gate of kind {role} or both; a store needs a way "
                      f"{'in' if role == 'entrance' else 'out'}")
    return out
