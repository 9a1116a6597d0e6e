"""The store spec's goods: the ``shelves`` settings, the ``catalogue``, the ``fixtures``
(gondolas, wall shelves, fridges, tables and their shelf decks) and the ``planogram`` that
puts one sku in each bin.

Each reader checks its section of a parsed spec (:mod:`scenes.spec`), reports every problem to
the :class:`scenes.checks.Reader` and returns what it could build.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenes.catalog import COLUMNS, MAX_PRICE_CENTS, Catalogue, CatalogueError, load_catalogue
from scenes.checks import Reader, is_real, kind_of, show
from scenes.store import FACES, FIXTURE_KINDS, Fixture


@dataclass
class Shelves:
    plate_thickness: float = 0.02     # aluminium load-cell plate
    plate_capacity_g: float = 20000.0  # AiFi plates are rated 20 kg (REFERENCES.md)
    access_offset: float = 0.45       # where a shopper stands to reach a bin: forward arm
                                      # reach is ~0.6-0.7 m (ANSUR II)
    max_facings: int = 4
    max_deep: int = 4
    bins_per_plate: int = 1           # adjacent bins of one shelf sharing a load-cell plate


def read_shelves(r: Reader, doc: dict) -> Shelves:
    s = Shelves()
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


_ITEM_KEYS = COLUMNS


def read_catalogue(r: Reader, doc: dict, base_dir: Path | None) -> Catalogue | None:
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
class FixtureSpec:
    fixture: Fixture
    path: str
    slots: int


# Least room between a plate's top and the deck above: a shelf must hold something.
MIN_BIN_CLEARANCE_M = 0.05


def read_fixtures(r: Reader, doc: dict, ceiling: float, plate: float) -> list[FixtureSpec]:
    out: list[FixtureSpec] = []
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
        out.append(FixtureSpec(Fixture(name, kind, (x, y, 0.0), (x + dx, y + dy, h), faces,
                                        levels, bw), p, slots))
    return out


def read_planogram(r: Reader, doc: dict, fx: list[FixtureSpec], geo: dict | None,
                   cat: Catalogue | None, sh: Shelves):
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
    _planogram_keys(r, doc, pg, fx)
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
            if _grid_shape_ok(r, p, grid, face, nl, ns):
                _planogram_cells(r, p, grid, nl, ns, cursor, index, cat, sku, fac, deep)
            cursor += nl * ns
    return sku, fac, deep


def _planogram_keys(r: Reader, doc: dict, pg: dict, fx: list[FixtureSpec]) -> None:
    """Planogram tables that name no fixture, or a fixture without shelves."""
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


def _grid_shape_ok(r: Reader, p: str, grid, face: str, nl: int, ns: int) -> bool:
    """Whether one face's grid is nl levels of ns bins; says what it is when not."""
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
    return shape_ok


def _planogram_cells(r: Reader, p: str, grid: list, nl: int, ns: int, cursor: int,
                     index: dict, cat: Catalogue | None, sku: np.ndarray, fac: np.ndarray,
                     deep: np.ndarray) -> None:
    """The cells of one face's grid into sku, fac, deep from bin ``cursor`` on."""
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
