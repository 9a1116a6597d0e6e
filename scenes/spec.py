"""Store specs: the TOML format a planner writes, its checks, and the Store it builds.

The format (``format = "storetwin-store/1"``) is documented key by key in ``docs/store-spec.md``.
Lengths are metres and masses grams unless a key says otherwise (``_m``, ``_g``, ``_kg``).

Every problem in a spec is reported, one line each, naming the file, the field path (e.g.
``fixtures[3].height_m``, ``planogram.gondola-2.-x[1][4]``) and what is allowed; a spec with
problems raises :class:`SpecError` holding all of them and nothing else escapes the loader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from scenes.catalog import COLUMNS, MAX_PRICE_CENTS, Catalogue, CatalogueError, load_catalogue
from scenes.checks import ProblemsError, Reader, is_real, kind_of, parse_toml, read_text, show
from scenes.store import (
    FACE_NORMALS,
    FACES,
    FIXTURE_KINDS,
    RECT_WALL_NAMES,
    Bins,
    Fixture,
    Gate,
    Store,
    Wall,
    outline_walls,
    points_in_polygon,
    polygon_area,
    rectangle,
)

FORMAT = "storetwin-store/1"
GATE_KINDS = ("entrance", "exit", "both")
# A person's body: 95th-percentile bideltoid (shoulder) breadth is ~0.53 m (ANSUR II, 2012);
# with a little clearance an aisle under 0.6 m cannot be walked. ADA 2010 (403.5.1) asks for
# 0.915 m clear, which the generator's aisles respect; the checker only rejects the impassable.
MIN_AISLE_M = 0.6
BODY_RADIUS_M = 0.25
# ADA 2010 404.2.3: a door's clear opening is at least 32 in (0.815 m).
MIN_GATE_M = 0.8
# The reachability check walks a 0.1 m grid of the floor's bounding box: 250,000 m2 is 25 M
# cells (~1.5 GB while it runs), 15 supercenters; the generator makes floors up to 200,000 m2.
MAX_FLOOR_BOX_M2 = 250_000.0


class SpecError(ProblemsError):
    """A store spec with problems: ``problems`` is a list of (field path, message)."""


# ---------------------------------------------------------------------------------------------
# parts of a spec


@dataclass
class _Shelves:
    plate_thickness: float = 0.02     # aluminium load-cell plate
    plate_capacity_g: float = 20000.0  # AiFi plates are rated 20 kg (REFERENCES.md)
    access_offset: float = 0.45       # where a shopper stands to reach a bin: forward arm
                                      # reach is ~0.6-0.7 m (ANSUR II)
    max_facings: int = 4
    max_deep: int = 4
    bins_per_plate: int = 1           # adjacent bins of one shelf sharing a load-cell plate


def _floor(r: Reader, doc: dict) -> tuple[np.ndarray, tuple[Wall, ...]] | None:
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


def _shelves(r: Reader, doc: dict) -> _Shelves:
    s = _Shelves()
    if "shelves" not in doc:
        return s
    t = r.table(doc["shelves"], "shelves", ("plate_thickness_m", "plate_capacity_kg",
                                            "access_offset_m", "max_facings", "max_deep",
                                            "bins_per_plate"))
    if t is None:
        return s
    v = r.number(t, "plate_thickness_m", "shelves", gt=0, le=0.2, default=s.plate_thickness)
    s.plate_thickness = v if v is not None else s.plate_thickness
    v = r.number(t, "plate_capacity_kg", "shelves", gt=0, le=1000, default=20.0, unit="kg")
    s.plate_capacity_g = 1000.0 * (v if v is not None else 20.0)
    v = r.number(t, "access_offset_m", "shelves", gt=0, le=2.0, default=s.access_offset)
    s.access_offset = v if v is not None else s.access_offset
    v = r.integer(t, "max_facings", "shelves", ge=1, le=100, default=s.max_facings)
    s.max_facings = v if v is not None else s.max_facings
    v = r.integer(t, "max_deep", "shelves", ge=1, le=100, default=s.max_deep)
    s.max_deep = v if v is not None else s.max_deep
    v = r.integer(t, "bins_per_plate", "shelves", ge=1, le=100, default=s.bins_per_plate)
    s.bins_per_plate = v if v is not None else s.bins_per_plate
    return s


def _interior_walls(r: Reader, doc: dict, outline: np.ndarray) -> list[Wall]:
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


def _gates(r: Reader, doc: dict, walls: dict[str, Wall], outline: np.ndarray
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


_ITEM_KEYS = COLUMNS


def _catalogue(r: Reader, doc: dict, base_dir: Path | None) -> Catalogue | None:
    t = r.table(doc.get("catalogue"), "catalogue", ("source", "file", "generate", "items"))
    if t is None:
        return None
    given = [k for k in ("source", "file", "generate") if k in t]
    if len(given) > 1:
        r.bad("catalogue", f"has {' and '.join(given)}; expected at most one of source, file, "
              "generate")
        return None
    parts: list[Catalogue] = []
    if "source" in t:
        if r.string(t, "source", "catalogue", choices=("builtin",)) is None:
            return None
        parts.append(load_catalogue())
    elif "file" in t:
        name = r.string(t, "file", "catalogue")
        if name is None:
            return None
        path = Path(name) if base_dir is None or Path(name).is_absolute() else base_dir / name
        try:
            parts.append(load_catalogue(path))
        except CatalogueError as e:
            r.bad("catalogue.file", str(e))
            return None
    elif "generate" in t:
        g = r.table(t["generate"], "catalogue.generate", ("skus", "seed"), ("skus",))
        if g is None:
            return None
        n = r.integer(g, "skus", "catalogue.generate", ge=1, le=99_999)
        seed = r.integer(g, "seed", "catalogue.generate", ge=0, default=0)
        if n is None or seed is None:
            return None
        from scenes.catalog_gen import expand_catalogue
        parts.append(expand_catalogue(load_catalogue(), n, seed))
    if "items" in t:
        items = r.array(t, "items", "catalogue")
        inline = _items(r, items or [])
        if inline is None:
            return None
        parts.append(inline)
    cat = None if not parts else parts[0] if len(parts) == 1 else _concat(parts)
    if cat is None or not len(cat):   # items = [] alone is no catalogue either
        r.bad("catalogue", "is empty; expected source = \"builtin\", file = \"x.csv\", "
              "generate = { skus = N } or [[catalogue.items]]")
        return None
    seen: dict[str, int] = {}
    for i, s in enumerate(cat.sku):
        if s in seen:
            r.bad("catalogue", f"sku {str(s)!r} appears twice; sku values must be unique")
            return None
        seen[s] = i
    return cat


def _items(r: Reader, items: list) -> Catalogue | None:
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    n0 = len(r.problems)
    for i, it in enumerate(items):
        p = f"catalogue.items[{i}]"
        t = r.table(it, p, _ITEM_KEYS, ("sku", "name", "category", "mass_g", "price_cents",
                                        "width_m", "depth_m", "height_m"))
        if t is None:
            continue
        cols["sku"].append(r.string(t, "sku", p))
        cols["name"].append(r.string(t, "name", p))
        cols["category"].append(r.string(t, "category", p))
        cols["brand"].append(r.string(t, "brand", p, default="-"))
        cols["mass_g"].append(r.number(t, "mass_g", p, gt=0, le=1e6, unit="g"))
        cols["price_cents"].append(r.integer(t, "price_cents", p, ge=0, le=MAX_PRICE_CENTS))
        for c in ("width_m", "depth_m", "height_m"):
            cols[c].append(r.number(t, c, p, gt=0, le=10))
        for c in ("gluten_free", "organic", "vegan"):
            cols[c].append(r.boolean(t, c, p, False))
    if len(r.problems) > n0:
        return None
    return Catalogue(
        sku=np.array(cols["sku"], dtype=str), name=np.array(cols["name"], dtype=str),
        category=np.array(cols["category"], dtype=str), brand=np.array(cols["brand"], dtype=str),
        mass_g=np.array(cols["mass_g"], dtype=np.float64),
        price_cents=np.array(cols["price_cents"], dtype=np.int64),
        size_m=np.array([cols["width_m"], cols["depth_m"], cols["height_m"]],
                        dtype=np.float64).T.reshape(-1, 3),
        gluten_free=np.array(cols["gluten_free"], dtype=bool),
        organic=np.array(cols["organic"], dtype=bool),
        vegan=np.array(cols["vegan"], dtype=bool))


def _concat(parts: list[Catalogue]) -> Catalogue:
    f = Catalogue.__dataclass_fields__
    return Catalogue(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in f})


@dataclass
class _FixtureSpec:
    fixture: Fixture
    path: str
    slots: int


# Least room between a plate's top and the deck above: a shelf must hold something.
MIN_BIN_CLEARANCE_M = 0.05


def _fixtures(r: Reader, doc: dict, ceiling: float, plate: float) -> list[_FixtureSpec]:
    out: list[_FixtureSpec] = []
    arr = r.array(doc, "fixtures", "")
    if arr is None:
        return out
    names: set[str] = set()
    keys = ("name", "kind", "x_m", "y_m", "dx_m", "dy_m", "height_m", "faces", "levels_m",
            "bin_width_m")
    for i, fx in enumerate(arr):
        p = f"fixtures[{i}]"
        t = r.table(fx, p, keys, ("name", "kind", "x_m", "y_m", "dx_m", "dy_m", "height_m"))
        if t is None:
            continue
        n0 = len(r.problems)
        name = r.string(t, "name", p)
        kind = r.string(t, "kind", p, choices=FIXTURE_KINDS)
        x = r.number(t, "x_m", p, ge=-2000, le=2000)
        y = r.number(t, "y_m", p, ge=-2000, le=2000)
        dx = r.number(t, "dx_m", p, gt=0, le=500)
        dy = r.number(t, "dy_m", p, gt=0, le=500)
        h = r.number(t, "height_m", p, gt=0)
        if h is not None and h >= ceiling:
            r.bad(f"{p}.height_m", f"= {h:g} reaches the ceiling (ceiling_height_m = "
                  f"{ceiling:g}); expected a fixture lower than the ceiling")
            h = None
        faces: tuple[str, ...] = ()
        if "faces" in t:
            fv = t["faces"]
            if (not isinstance(fv, list) or not all(isinstance(v, str) and v in FACES
                                                    for v in fv) or len(set(fv)) != len(fv)):
                r.bad(f"{p}.faces", f"= {show(fv)} is not allowed; expected unique faces "
                      f"from {', '.join(FACES)} (the directions the shelves face)")
            elif len({v[1] for v in fv}) > 1:
                r.bad(f"{p}.faces", f"= {show(fv)} mixes axes; expected faces on one axis "
                      "(-x/+x or -y/+y)")
            else:
                faces = tuple(sorted(fv, key=FACES.index))
        levels: tuple[float, ...] = ()
        bw = 0.0
        if faces:
            lv = r.array(t, "levels_m", p)
            if lv is not None:
                gap = plate + 0.01 + MIN_BIN_CLEARANCE_M   # plate, 1 cm, room for goods
                ok = lv and all(is_real(v) for v in lv)
                if ok and (lv[0] < 0 or any(b - a < gap - 1e-9
                                            for a, b in zip(lv, lv[1:], strict=False))
                           or (h is not None and lv[-1] > h - 0.1)):
                    ok = False
                if not ok:
                    top = f"{h - 0.1:g}" if h is not None else "height_m - 0.1"
                    r.bad(f"{p}.levels_m", f"= {show(lv)} is not allowed; expected shelf deck "
                          f"heights in metres, rising by at least {gap:.2f} m (plate, 1 cm and "
                          f"{MIN_BIN_CLEARANCE_M} m for goods), from 0 up to {top} (0.1 m under "
                          "the fixture top)")
                else:
                    levels = tuple(float(v) for v in lv)
            b = r.number(t, "bin_width_m", p, gt=0.05, le=5.0)
            bw = b if b is not None else 0.0
        elif ("levels_m" in t or "bin_width_m" in t) and t.get("faces", []) == []:
            r.bad(p, "has levels_m or bin_width_m but no faces; expected faces = [...] for a "
                  "fixture with shelves")
        if len(r.problems) > n0 or None in (name, kind, x, y, dx, dy, h):
            continue
        if name in names:
            r.bad(f"{p}.name", f"= {name!r} is used by another fixture; names are unique")
            continue
        names.add(name)
        slots = 0
        if faces:
            along = dy if faces[0] in ("-x", "+x") else dx
            slots = int(math.floor(along / bw + 1e-9))
            if slots < 1:
                r.bad(f"{p}.bin_width_m", f"= {bw:g} is wider than the shelf face ({along:g} m);"
                      f" expected at most {along:g}")
                continue
        out.append(_FixtureSpec(Fixture(name, kind, (x, y, 0.0), (x + dx, y + dy, h), faces,
                                        levels, bw), p, slots))
    return out


def _bins(fx: list[_FixtureSpec], sh: _Shelves):
    """Geometry of every bin, in fixture, face, slot, level order."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "fixture", "face", "level", "slot", "lo", "hi", "normal", "access", "width", "depth")}
    for fi, f in enumerate(fx):
        fix = f.fixture
        if not fix.faces:
            continue
        lo, hi = np.asarray(fix.lo), np.asarray(fix.hi)
        lv = np.asarray(fix.levels)
        nl, ns = len(lv), f.slots
        z0 = lv + sh.plate_thickness
        z1 = np.append(lv[1:], hi[2]) - 0.01
        for face in fix.faces:
            fc = FACES.index(face)
            ax = 0 if face in ("-x", "+x") else 1          # axis of the face normal
            al = 1 - ax                                     # axis along the face
            two = len(fix.faces) == 2
            ext = (hi[ax] - lo[ax]) / (2 if two else 1)
            off = (hi[al] - lo[al] - ns * fix.bin_width) / 2
            s = np.arange(ns)
            a0 = lo[al] + off + s * fix.bin_width
            if face[0] == "-":
                n0, n1, plane = lo[ax], lo[ax] + ext, lo[ax]
            else:
                n0, n1, plane = hi[ax] - ext, hi[ax], hi[ax]
            S, L = np.meshgrid(s, np.arange(nl), indexing="ij")   # slot-major, level inner
            S, L = S.ravel(), L.ravel()
            m = S.size
            blo = np.empty((m, 3))
            bhi = np.empty((m, 3))
            blo[:, al], bhi[:, al] = a0[S], a0[S] + fix.bin_width
            blo[:, ax], bhi[:, ax] = n0, n1
            blo[:, 2], bhi[:, 2] = z0[L], z1[L]
            nrm = np.tile(FACE_NORMALS[fc], (m, 1))
            acc = np.empty((m, 2))
            acc[:, al] = a0[S] + fix.bin_width / 2
            acc[:, ax] = plane + nrm[:, ax] * sh.access_offset
            cols["fixture"].append(np.full(m, fi, np.int32))
            cols["face"].append(np.full(m, fc, np.int8))
            cols["level"].append(L.astype(np.int32))
            cols["slot"].append(S.astype(np.int32))
            cols["lo"].append(blo)
            cols["hi"].append(bhi)
            cols["normal"].append(nrm)
            cols["access"].append(acc)
            cols["width"].append(np.full(m, fix.bin_width))
            cols["depth"].append(np.full(m, ext))
    if not cols["fixture"]:
        return None
    return {k: np.concatenate(v) for k, v in cols.items()}


def _planogram(r: Reader, doc: dict, fx: list[_FixtureSpec], geo: dict | None,
               cat: Catalogue | None, sh: _Shelves):
    """sku_index, facings (0 = fill), deep (0 = fill) per bin; problems recorded."""
    n = 0 if geo is None else len(geo["fixture"])
    sku = np.full(n, -1, np.int32)
    fac = np.zeros(n, np.int32)
    deep = np.zeros(n, np.int32)
    pg = doc.get("planogram")
    if pg is None:
        if n:
            r.bad("planogram", "is missing; expected [planogram.<fixture>] with one sku per bin")
        return sku, fac, deep
    if not isinstance(pg, dict):
        r.bad("planogram", f"is {kind_of(pg)}; expected a table keyed by fixture name")
        return sku, fac, deep
    by_name = {f.fixture.name: (i, f) for i, f in enumerate(fx)}
    # fixtures with problems of their own are not in fx; their rows are not also "unknown"
    raw = doc.get("fixtures")
    declared = {t["name"] for t in raw if isinstance(t, dict) and isinstance(t.get("name"), str)
                } if isinstance(raw, list) else None   # None: no fixtures array to check by
    shelved = [f.fixture.name for f in fx if f.fixture.faces]
    allowed = ", ".join(shelved[:10]) + (f" and {len(shelved) - 10} more" if len(shelved) > 10
                                         else "")
    for k in pg:
        if k not in by_name:
            if declared is not None and k not in declared:
                r.bad(f"planogram.{k}", "names no fixture; expected the name of a fixture with "
                      f"shelves: {allowed or 'none has faces'}")
        elif not by_name[k][1].fixture.faces:
            r.bad(f"planogram.{k}", "is a fixture without shelves (no faces); expected rows "
                  "only for fixtures with faces")
    index = cat.index() if cat is not None else {}
    cursor = 0
    for fi, f in enumerate(fx):
        fix = f.fixture
        if not fix.faces:
            continue
        nl, ns = len(fix.levels), f.slots
        pf = pg.get(fix.name)
        if pf is None:
            r.bad(f"planogram.{fix.name}", f"is missing; fixture {fix.name!r} has shelves on "
                  f"{', '.join(fix.faces)}")
            cursor += len(fix.faces) * nl * ns
            continue
        if not isinstance(pf, dict):
            r.bad(f"planogram.{fix.name}", f"is {kind_of(pf)}; expected a table keyed by face "
                  f"({', '.join(fix.faces)})")
            cursor += len(fix.faces) * nl * ns
            continue
        for k in pf:
            if k not in fix.faces:
                r.bad(f"planogram.{fix.name}.{k}", f"is not a shelf face of {fix.name!r}; "
                      f"allowed: {', '.join(fix.faces)}")
        for face in fix.faces:
            p = f"planogram.{fix.name}.{face}"
            grid = pf.get(face)
            shape_ok = (isinstance(grid, list) and len(grid) == nl
                        and all(isinstance(row, list) and len(row) == ns for row in grid))
            if not shape_ok:
                if grid is None:
                    r.bad(p, f"is missing; expected {nl} levels x {ns} bins of skus")
                else:
                    got = (f"{len(grid)} level(s) of "
                           + "/".join(str(len(x)) if isinstance(x, list) else kind_of(x)
                                      for x in grid[:nl + 1])
                           if isinstance(grid, list) else kind_of(grid))
                    r.bad(p, f"has {got}; expected {nl} levels (bottom first) of {ns} bins "
                          f"each (low {'y' if face in ('-x', '+x') else 'x'} first)")
                cursor += nl * ns
                continue
            for s in range(ns):
                for lvl in range(nl):
                    cell = grid[lvl][s]
                    cp = f"{p}[{lvl}][{s}]"
                    i = cursor + s * nl + lvl
                    if isinstance(cell, dict):
                        t = r.table(cell, cp, ("sku", "facings", "deep"), ("sku",))
                        if t is None:
                            continue
                        name = r.string(t, "sku", cp)
                        fv = r.integer(t, "facings", cp, ge=1, le=1000, default=0)
                        dv = r.integer(t, "deep", cp, ge=1, le=1000, default=0)
                        fac[i] = fv or 0
                        deep[i] = dv or 0
                    elif isinstance(cell, str) and cell:
                        name = cell
                    else:
                        r.bad(cp, f"= {show(cell)} is not allowed; expected a sku string or "
                              "{ sku = \"...\", facings = n, deep = n }")
                        continue
                    if name is None:
                        continue
                    j = index.get(name)
                    if j is None:
                        if cat is not None:
                            r.bad(cp, f"sku {name!r} is not in the catalogue; expected one of "
                                  f"its {len(cat)} skus")
                        continue
                    sku[i] = j
            cursor += nl * ns
    return sku, fac, deep


def _stock(r: Reader, geo: dict, cat: Catalogue, sku: np.ndarray, fac: np.ndarray,
           deep: np.ndarray, sh: _Shelves, cell_path) -> tuple[np.ndarray, np.ndarray]:
    """Facings and rows per bin (fill the bin where the planogram does not say), checked
    against the bin's size and the plate's rating."""
    ok = sku >= 0
    j = np.where(ok, sku, 0)
    w, d, h = cat.size_m[j, 0], cat.size_m[j, 1], cat.size_m[j, 2]
    mass = cat.mass_g[j]
    width, depth = geo["width"], geo["depth"]
    clear = geo["hi"][:, 2] - geo["lo"][:, 2]
    auto_f = np.clip(np.floor(width / (w + 0.01)), 1, sh.max_facings).astype(np.int64)
    auto_r = np.clip(np.floor(depth / (d + 0.01)), 1, sh.max_deep).astype(np.int64)
    # clipped before the cast: a 1e-300 g item must not wrap int64
    # a bin filled by the rule takes at most its share of a plate shared by several bins
    share = sh.plate_capacity_g / sh.bins_per_plate
    max_units = np.clip(np.floor(share / mass), 1, 1e9).astype(np.int64)
    f = np.where(fac > 0, fac, auto_f)
    rows = np.where(deep > 0, deep, np.maximum(1, np.minimum(auto_r, max_units // f)))
    f = np.where(fac > 0, f, np.maximum(1, np.minimum(f, max_units // rows)))
    checks = (
        (h > clear + 1e-9, lambda i: f"sku {cat.sku[j[i]]} is {h[i]:.2f} m tall; the bin has "
         f"{clear[i]:.2f} m under the shelf above; expected items up to {clear[i]:.2f} m"),
        (w > width + 1e-9, lambda i: f"sku {cat.sku[j[i]]} is {w[i]:.2f} m wide; expected "
         f"items up to the bin width {width[i]:.2f} m"),
        (d > depth + 1e-9, lambda i: f"sku {cat.sku[j[i]]} is {d[i]:.2f} m deep; expected "
         f"items up to the bin depth {depth[i]:.2f} m"),
        ((fac > 0) & (f * w > width + 1e-9), lambda i: f"facings = {f[i]} of "
         f"{w[i]:.3f} m need {f[i] * w[i]:.2f} m; the bin is {width[i]:.2f} m wide; expected "
         f"facings <= {max(1, int(width[i] // w[i]))}"),
        ((deep > 0) & (rows * d > depth + 1e-9), lambda i: f"deep = {rows[i]} of {d[i]:.3f} m "
         f"need {rows[i] * d[i]:.2f} m; the bin is {depth[i]:.2f} m deep; expected deep <= "
         f"{max(1, int(depth[i] // d[i]))}"),
        (f * rows * mass > sh.plate_capacity_g + 1e-6, lambda i: f"{f[i] * rows[i]} units of "
         f"{mass[i]:g} g weigh {f[i] * rows[i] * mass[i] / 1000:.1f} kg; the plate is rated "
         f"{sh.plate_capacity_g / 1000:g} kg (shelves.plate_capacity_kg)"),
    )
    for bad, msg in checks:   # all of them: SpecError.lines() shows the first few
        for i in np.flatnonzero(bad & ok):
            r.bad(cell_path(int(i)), msg(int(i)))
    return f.astype(np.int32), rows.astype(np.int32)


def _plates(geo: dict, per: int) -> np.ndarray:
    """(n,) int32 plate of each bin: runs of ``per`` adjacent bins of one shelf (fixture,
    face, level) share a plate, numbered in bin order."""
    key = np.stack([geo["fixture"], geo["face"], geo["level"], geo["slot"] // per], axis=1)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inv.reshape(-1)].astype(np.int32)


# ---------------------------------------------------------------------------------------------
# geometry checks


def _geometry(r: Reader, outline: np.ndarray, walls: list[Wall], gates: list[Gate],
              fx: list[_FixtureSpec]) -> float:
    """Fixtures inside the floor, not overlapping, no impassable gaps. Returns the aisle width
    (narrowest gap between facing fixtures)."""
    if not fx:
        return float("inf")
    lo = np.array([f.fixture.lo[:2] for f in fx])
    hi = np.array([f.fixture.hi[:2] for f in fx])
    # inside the outline: corners (nudged inward) inside and no outline vertex inside the box
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
    # interior walls through fixtures
    for w in walls:
        if w.perimeter:
            continue
        t = np.linspace(0, 1, max(2, int(w.length / 0.05) + 1))
        pts = np.asarray(w.a)[None] + t[:, None] * (np.asarray(w.b) - np.asarray(w.a))[None]
        hit = ((pts[None, :, 0] > lo[:, None, 0]) & (pts[None, :, 0] < hi[:, None, 0])
               & (pts[None, :, 1] > lo[:, None, 1]) & (pts[None, :, 1] < hi[:, None, 1]))
        for i in np.flatnonzero(hit.any(axis=1)):
            r.bad(fx[i].path, f"{fx[i].fixture.name!r} is crossed by interior wall {w.name!r}")
    aisle = float("inf")
    n = len(fx)
    face = np.array([[k in f.fixture.faces for k in FACES] for f in fx], dtype=bool)
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
    # fixtures against axis-aligned perimeter walls
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
    return aisle if math.isfinite(aisle) else float("inf")


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


def _reachability(r: Reader, outline, walls, gates, fx: list[_FixtureSpec], geo: dict | None,
                  cell_path) -> None:
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


# ---------------------------------------------------------------------------------------------
# entry points

TOP_KEYS = ("format", "name", "description", "ceiling_height_m", "floor", "shelves", "walls",
            "gates", "catalogue", "fixtures", "planogram")


def build_store(doc: dict, source: str = "<spec>", base_dir: Path | None = None) -> Store:
    """Check a parsed spec and build its Store; raise :class:`SpecError` listing every
    problem."""
    r = Reader()
    if not isinstance(doc, dict):
        raise SpecError(source, [("", f"is {kind_of(doc)}; expected a TOML document")])
    r.table(doc, "", TOP_KEYS, ("name", "floor", "gates", "catalogue", "fixtures"))
    if "format" in doc and doc["format"] != FORMAT:
        r.bad("format", f"= {show(doc['format'])} is not allowed; expected {FORMAT!r}")
    name = r.string(doc, "name", "") if "name" in doc else None
    if "description" in doc and not isinstance(doc["description"], str):
        r.bad("description", f"is {kind_of(doc['description'])}; expected a string")
    ceiling = r.number(doc, "ceiling_height_m", "", gt=2.0, le=30.0, default=3.6)
    fl = _floor(r, doc) if "floor" in doc else None
    sh = _shelves(r, doc)
    cat = _catalogue(r, doc, base_dir) if "catalogue" in doc else None
    if fl is None:
        raise SpecError(source, r.problems or [("floor", "is missing (required)")])
    outline, perimeter = fl
    walls = list(perimeter) + _interior_walls(r, doc, outline)
    seen: set[str] = set()
    for w in walls:
        if w.name in seen:
            r.bad("walls", f"wall name {w.name!r} is used twice; wall names are unique")
        seen.add(w.name)
    gates = _gates(r, doc, {w.name: w for w in walls}, outline)
    fx = _fixtures(r, doc, ceiling if ceiling is not None else 3.6, sh.plate_thickness)
    geo = _bins(fx, sh)
    order = []   # (fixture spec, face, first bin index) to name a bin's cell path
    cursor = 0
    for f in fx:
        for face in f.fixture.faces:
            order.append((cursor, f.fixture.name, face, len(f.fixture.levels)))
            cursor += len(f.fixture.levels) * f.slots
    starts = np.array([o[0] for o in order], dtype=np.int64)

    def cell_path(i: int) -> str:
        k = int(np.searchsorted(starts, i, side="right") - 1)
        s0, fname, face, nl = order[k]
        s, lvl = divmod(i - s0, nl)
        return f"planogram.{fname}.{face}[{lvl}][{s}]"

    sku, fac, deep = _planogram(r, doc, fx, geo, cat, sh)
    aisle = _geometry(r, outline, walls, gates, fx)
    _reachability(r, outline, walls, gates, fx, geo, cell_path)
    if geo is not None and cat is not None:
        facings, rows = _stock(r, geo, cat, sku, fac, deep, sh, cell_path)
        plate = _plates(geo, sh.bins_per_plate)
        if sh.bins_per_plate > 1 and not r.problems:
            load = np.bincount(plate, facings * rows * cat.mass_g[sku])
            for pl in np.flatnonzero(load > sh.plate_capacity_g + 1e-6):
                i = int(np.flatnonzero(plate == pl)[0])
                r.bad(cell_path(i), f"the {sh.bins_per_plate} bins on this plate weigh "
                      f"{load[pl] / 1000:.1f} kg; the plate is rated "
                      f"{sh.plate_capacity_g / 1000:g} kg (shelves.plate_capacity_kg); "
                      "expected fewer units or fewer bins_per_plate")
    if r.problems:
        raise SpecError(source, r.problems)
    if geo is None:
        bins = Bins.empty()
    else:
        bins = Bins(fixture=geo["fixture"], level=geo["level"], lo=geo["lo"], hi=geo["hi"],
                    normal=geo["normal"], access_xy=geo["access"], sku_index=sku,
                    facings=facings, rows=rows, count=facings * rows, face=geo["face"],
                    slot=geo["slot"], plate=plate)
    if not math.isfinite(aisle):
        b = outline.max(axis=0) - outline.min(axis=0)
        aisle = float(b.min())
    return Store(name=name, outline=outline, ceiling_height=ceiling, walls=tuple(walls),
                 gates=tuple(gates), fixtures=tuple(f.fixture for f in fx), bins=bins,
                 catalogue=cat, aisle_width=aisle, plate_thickness=sh.plate_thickness)


def parse_spec(text: str, source: str = "<spec>", base_dir: Path | None = None) -> Store:
    """Build a Store from TOML text."""
    return build_store(parse_toml(text, source, SpecError, "a store spec"), source, base_dir)


def load_spec(path: str | Path) -> Store:
    """Read and build a store spec file (``.toml``)."""
    p = Path(path)
    text = read_text(path, SpecError)
    return parse_spec(text, str(path), p.parent)
