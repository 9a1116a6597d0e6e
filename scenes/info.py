"""What a planner asks of a store before anything runs: sizes and counts.

Definitions (also in docs/store-spec.md):

- ``aisle_length_m``: the length of aisle in front of shelf faces, a two-sided aisle counted
  once: the summed length of all shelf faces less the stretches where two faces look at each
  other across a gap of at most ``FACING_GAP_M``.
- ``shelf_frontage_m``: the summed length of all shelf faces.
- ``shelf_face_area_m2``: the summed area of the shelf faces (face length x fixture height),
  what shelf-facing cameras must see.
- ``walkable_m2``: floor where a body's centre may stand (0.25 m from fixtures and walls), on
  a 0.1 m grid.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from scenes.store import FACES, Store
from scenes.walkable import walkable_grid

FACING_GAP_M = 3.05   # the widest aisle of the presets is a 3.0 m cross aisle


def _faces(store: Store):
    """(m,) fixture, face index, axis along, lo/hi along, plane coordinate, height."""
    rows = []
    for i, f in enumerate(store.fixtures):
        for face in f.faces:
            k = FACES.index(face)
            ax = 0 if face in ("-x", "+x") else 1
            al = 1 - ax
            plane = f.lo[ax] if face[0] == "-" else f.hi[ax]
            rows.append((i, k, ax, f.lo[al], f.hi[al], plane, f.hi[2]))
    return np.array(rows, dtype=np.float64).reshape(-1, 7)


def aisle_length(store: Store) -> tuple[float, float]:
    """(aisle length, shelf frontage) [m]."""
    fa = _faces(store)
    if not len(fa):
        return 0.0, 0.0
    length = fa[:, 4] - fa[:, 3]
    frontage = float(length.sum())
    shared = 0.0
    for ax, neg, pos in ((0, 0, 1), (1, 2, 3)):
        # a +axis face (pos) looks at a -axis face (neg) further along the axis
        p = fa[(fa[:, 1] == pos)]
        n = fa[(fa[:, 1] == neg)]
        if not len(p) or not len(n):
            continue
        gap = n[None, :, 5] - p[:, None, 5]
        ov = np.minimum(p[:, None, 4], n[None, :, 4]) - np.maximum(p[:, None, 3], n[None, :, 3])
        ok = (gap > 0) & (gap <= FACING_GAP_M) & (ov > 0)
        shared += float(ov[ok].sum())
    return frontage - shared, frontage


def store_info(store: Store) -> dict:
    """The numbers ``storetwin scene info`` prints."""
    b = store.bins
    aisle, frontage = aisle_length(store)
    fa = _faces(store)
    face_area = float(((fa[:, 4] - fa[:, 3]) * fa[:, 6]).sum()) if len(fa) else 0.0
    lo, hi = store.fixture_boxes()
    free, _origin, cell = walkable_grid(store.outline, store.walls, store.gates, lo[:, :2],
                                        hi[:, :2])
    kinds = Counter(f.kind for f in store.fixtures)
    cat = store.catalogue
    return {
        "name": store.name,
        "area_m2": round(store.area_m2, 1),
        "area_sqft": round(store.area_sqft),
        "bounds_m": [round(v, 3) for v in store.bounds],
        "ceiling_height_m": store.ceiling_height,
        "walkable_m2": round(float(free.sum()) * cell * cell, 1),
        "aisle_length_m": round(aisle, 1),
        "aisle_width_m": round(store.aisle_width, 2),
        "shelf_frontage_m": round(frontage, 1),
        "shelf_face_area_m2": round(face_area, 1),
        "fixtures": len(store.fixtures),
        "fixtures_by_kind": dict(sorted(kinds.items())),
        "gates": [{"name": g.name, "kind": g.kind, "wall": g.wall, "width_m": round(g.width, 2)}
                  for g in store.gates],
        "bins": len(b),
        "plates": len(b),
        "units": store.units_total(),
        "skus": len(cat),
        "skus_placed": int(np.unique(b.sku_index).size) if len(b) else 0,
        "categories": int(np.unique(cat.category).size),
        "lookalike_pairs": lookalike_pairs(store),
        "stock_value_usd": round(float((b.count * cat.price_cents[b.sku_index]).sum()) / 100, 2)
        if len(b) else 0.0,
    }


def lookalike_pairs(store: Store) -> int:
    """Look-alike groups among the placed SKUs: items of one category and name stem whose
    masses differ by under 6% (regular vs gluten-free baguette), the cases where a plate's
    weight change alone cannot tell which was taken (``scenes.catalog_gen.lookalike_groups``)."""
    from scenes.catalog_gen import lookalike_groups

    cat = store.catalogue
    placed = np.zeros(len(cat), dtype=bool)
    placed[store.bins.sku_index] = True
    g = lookalike_groups(cat)[placed]
    _, counts = np.unique(g, return_counts=True)
    return int(np.count_nonzero(counts >= 2))
