"""Store specs: the ``storetwin-store/1`` TOML format a planner writes, and the Store it builds.

The format is documented key by key in ``docs/store-spec.md``. Lengths are metres and masses
grams unless a key says otherwise (``_m``, ``_g``, ``_kg``).

:func:`build_store` reads a parsed spec section by section (:mod:`scenes.spec_shell`: floor,
walls, gates; :mod:`scenes.spec_fixtures`: shelves, catalogue, fixtures, planogram), checks
its geometry (:mod:`scenes.walkable`), then lays out the bins, stocks them and puts them on
load-cell plates.

Every problem in a spec is reported, one line each, naming the file, the field path (e.g.
``fixtures[3].height_m``, ``planogram.gondola-2.-x[1][4]``) and what is allowed; a spec with
problems raises :class:`SpecError` holding all of them and nothing else escapes the loader.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from scenes.catalog import Catalogue
from scenes.checks import ProblemsError, Reader, kind_of, parse_toml, read_text, show
from scenes.spec_fixtures import (
    FixtureSpec,
    Shelves,
    read_catalogue,
    read_fixtures,
    read_planogram,
    read_shelves,
)
from scenes.spec_shell import read_floor, read_gates, read_interior_walls
from scenes.store import FACE_NORMALS, FACES, Bins, Store
from scenes.walkable import check_geometry, check_reachability

FORMAT = "storetwin-store/1"
TOP_KEYS = ("format", "name", "description", "ceiling_height_m", "floor", "shelves", "walls",
            "gates", "catalogue", "fixtures", "planogram")


class SpecError(ProblemsError):
    """A store spec with problems: ``problems`` is a list of (field path, message)."""


# ---------------------------------------------------------------------------------------------
# the bins: geometry, stock, plates


def _bins(fx: list[FixtureSpec], sh: Shelves):
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


def _stock(r: Reader, geo: dict, cat: Catalogue, sku: np.ndarray, fac: np.ndarray,
           deep: np.ndarray, sh: Shelves, cell_path) -> tuple[np.ndarray, np.ndarray]:
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
# entry points


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
    fl = read_floor(r, doc) if "floor" in doc else None
    sh = read_shelves(r, doc)
    cat = read_catalogue(r, doc, base_dir) if "catalogue" in doc else None
    if fl is None:
        raise SpecError(source, r.problems or [("floor", "is missing (required)")])
    outline, perimeter = fl
    walls = list(perimeter) + read_interior_walls(r, doc, outline)
    seen: set[str] = set()
    for w in walls:
        if w.name in seen:
            r.bad("walls", f"wall name {w.name!r} is used twice; wall names are unique")
        seen.add(w.name)
    gates = read_gates(r, doc, {w.name: w for w in walls}, outline)
    fx = read_fixtures(r, doc, ceiling if ceiling is not None else 3.6, sh.plate_thickness)
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

    sku, fac, deep = read_planogram(r, doc, fx, geo, cat, sh)
    aisle = check_geometry(r, outline, walls, gates, fx)
    check_reachability(r, outline, walls, gates, fx, geo, cell_path)
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
