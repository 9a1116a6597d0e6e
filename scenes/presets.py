"""Procedural store layouts and the named presets.

``kiosk`` follows Amazon Go's first store: 1,800 sq ft (USA Today, 2018-01-26; see
REFERENCES.md). Aisle and fixture dimensions are common US retail practice: gondola run
depth 0.9 m (two 0.45 m shelves back to back), 1.8 m tall with 5 shelf levels, aisles 1.6 m
(ADA requires 0.91 m clear; small-format stores run 1.2-1.8 m), 0.75 m bins (a common
shelf-plate length; AiFi's ~12 plates per 1.2 m shelf module are narrower, we use one plate per
bin for the foundation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.catalog import Catalogue, load_catalogue
from scenes.store import Bins, Fixture, Store

SQFT_PER_M2 = 10.763910416709722


class UnknownPresetError(ValueError):
    pass


@dataclass(frozen=True)
class LayoutParams:
    """Parameters of the aisle-grid generator. Lengths in metres."""

    width: float = 15.0            # along the front wall
    depth: float = 11.2            # 15.0 x 11.2 = 168 m2 = 1,808 sq ft
    aisle_width: float = 1.6
    front_zone: float = 3.0        # open floor by the doors
    back_aisle: float = 1.7
    gondolas: int = 5
    gondola_depth: float = 0.9     # two 0.45 m faces back to back
    gondola_height: float = 2.0    # 78-84 in gondolas are common; 5 levels of 0.37 m
    wall_shelf_depth: float = 0.5
    levels: int = 5
    first_level_z: float = 0.1     # bottom shelf above the floor
    level_pitch: float = 0.37      # fits the tallest catalogue item (0.32 m) under the plate above
    bin_width: float = 0.75
    plate_thickness: float = 0.02
    ceiling_height: float = 3.6    # a typical retail drop ceiling (10-14 ft)
    door_width: float = 1.6
    max_rows: int = 4              # units front to back per bin
    max_facings: int = 4
    max_plate_load_g: float = 20000.0  # AiFi plates: 20 kg rated (REFERENCES.md)
    access_offset: float = 0.45    # a shopper reaching into a bin stands this far from its
                                   # face (forward arm reach ~0.6-0.7 m, ANSUR II)


def _bin_layout(cat: Catalogue, sku: int, width: float, depth: float, p: LayoutParams):
    w, d, _h = cat.size_m[sku]
    facings = int(max(1, min(p.max_facings, np.floor(width / (w + 0.01)))))
    rows = int(max(1, min(p.max_rows, np.floor(depth / (d + 0.01)))))
    max_units = max(1, int(p.max_plate_load_g // cat.mass_g[sku]))
    while facings * rows > max_units and rows > 1:
        rows -= 1
    while facings * rows > max_units and facings > 1:
        facings -= 1
    return facings, rows


def generate_grid_store(name: str, p: LayoutParams, catalogue: Catalogue | None = None) -> Store:
    """Gondolas in parallel aisles running away from the front wall, wall shelving on the back
    wall, doors in the front wall. Deterministic: no randomness."""
    cat = catalogue if catalogue is not None else load_catalogue()
    run_y0 = p.front_zone
    run_y1 = p.depth - p.wall_shelf_depth - p.back_aisle
    run_len = run_y1 - run_y0
    n_bins_run = int(np.floor(run_len / p.bin_width))
    fixtures: list[Fixture] = []
    bins: list[tuple] = []  # fixture, level, lo, hi, normal, access, width_axis
    level_z = [p.first_level_z + i * p.level_pitch for i in range(p.levels)]
    face = p.gondola_depth / 2
    used = p.gondolas * p.gondola_depth
    aisle = (p.width - used) / (p.gondolas + 1)
    for g in range(p.gondolas):
        x0 = aisle * (g + 1) + g * p.gondola_depth
        fi = len(fixtures)
        fixtures.append(Fixture(f"gondola-{g + 1}", "gondola", (x0, run_y0, 0.0),
                                (x0 + p.gondola_depth, run_y0 + n_bins_run * p.bin_width,
                                 p.gondola_height)))
        for side, (bx0, bx1, nx, ax) in enumerate((
            (x0, x0 + face, -1.0, x0 - p.access_offset),
            (x0 + face, x0 + p.gondola_depth, 1.0, x0 + p.gondola_depth + p.access_offset),
        )):
            del side
            for k in range(n_bins_run):
                y0 = run_y0 + k * p.bin_width
                for lv, z in enumerate(level_z):
                    bins.append((fi, lv, (bx0, y0, z + p.plate_thickness),
                                 (bx1, y0 + p.bin_width, z + p.level_pitch - 0.01),
                                 (nx, 0.0), (ax, y0 + p.bin_width / 2), "y"))
    # back wall shelving
    wy1 = p.depth
    wy0 = wy1 - p.wall_shelf_depth
    wx0, wx1 = 0.3, p.width - 0.3
    n_wall = int(np.floor((wx1 - wx0) / p.bin_width))
    wx0 = (p.width - n_wall * p.bin_width) / 2
    fi = len(fixtures)
    fixtures.append(Fixture("wall-back", "wall_shelf", (wx0, wy0, 0.0),
                            (wx0 + n_wall * p.bin_width, wy1, p.gondola_height)))
    for k in range(n_wall):
        x0 = wx0 + k * p.bin_width
        for lv, z in enumerate(level_z):
            bins.append((fi, lv, (x0, wy0, z + p.plate_thickness),
                         (x0 + p.bin_width, wy1, z + p.level_pitch - 0.01),
                         (0.0, -1.0), (x0 + p.bin_width / 2, wy0 - p.access_offset), "x"))
    n = len(bins)
    # Planogram: SKUs in catalogue order (grouped by category, look-alikes adjacent) fill the
    # bins run by run, bottom to top, in contiguous blocks; the heaviest items of each block
    # go low. Every SKU gets at least one bin.
    s = len(cat)
    per = np.full(s, n // s)
    per[: n - per.sum()] += 1
    sku_of_slot = np.repeat(np.arange(s), per)
    # order bins: fixture, column position along the face, level
    keys = []
    for i, b in enumerate(bins):
        lo = b[2]
        along = lo[1] if b[6] == "y" else lo[0]
        keys.append((b[0], b[4][0], round(along, 3), b[1], i))
    order = [k[-1] for k in sorted(keys)]
    sku_index = np.empty(n, dtype=np.int32)
    # within each column of `levels` bins, put the heavier SKU lower
    for c0 in range(0, n, p.levels):
        col = order[c0:c0 + p.levels]
        skus = sku_of_slot[c0:c0 + len(col)]
        skus = skus[np.argsort(-cat.mass_g[skus], kind="stable")]
        for bi, sk in zip(sorted(col, key=lambda i: bins[i][1]), skus, strict=True):
            sku_index[bi] = sk
    lo = np.array([b[2] for b in bins], dtype=np.float64)
    hi = np.array([b[3] for b in bins], dtype=np.float64)
    clearance = hi[:, 2] - lo[:, 2]
    too_tall = cat.size_m[sku_index, 2] > clearance
    if too_tall.any():
        i = int(np.flatnonzero(too_tall)[0])
        sk = int(sku_index[i])
        raise ValueError(
            f"store {name!r}: sku {cat.sku[sk]} ({cat.size_m[sk, 2]:.2f} m tall) does not fit "
            f"bin {i} ({clearance[i]:.2f} m under the plate above); raise level_pitch")
    facings = np.empty(n, dtype=np.int32)
    rows = np.empty(n, dtype=np.int32)
    for i, b in enumerate(bins):
        ext = hi[i] - lo[i]
        width, depth = (ext[1], ext[0]) if b[6] == "y" else (ext[0], ext[1])
        facings[i], rows[i] = _bin_layout(cat, int(sku_index[i]), width, depth, p)
    x0d, x1d = 1.0, 1.0 + p.door_width
    e0d, e1d = p.width - 1.0 - p.door_width, p.width - 1.0
    return Store(
        name=name,
        bounds=(0.0, 0.0, p.width, p.depth),
        ceiling_height=p.ceiling_height,
        entrance_gate=(x0d, x1d),
        exit_gate=(e0d, e1d),
        entrance_region=(x0d, 0.0, x1d, 1.5),
        exit_region=(e0d, 0.0, e1d, 1.5),
        fixtures=tuple(fixtures),
        bins=Bins(
            fixture=np.array([b[0] for b in bins], dtype=np.int32),
            level=np.array([b[1] for b in bins], dtype=np.int32),
            lo=lo,
            hi=hi,
            normal=np.array([b[4] for b in bins], dtype=np.float64),
            access_xy=np.array([b[5] for b in bins], dtype=np.float64),
            sku_index=sku_index,
            facings=facings,
            rows=rows,
            count=facings * rows,
        ),
        catalogue=cat,
        aisle_width=aisle,
    )


PRESETS: dict[str, LayoutParams] = {
    # Amazon Go, Seattle, 2018: 1,800 sq ft (USA Today 2018-01-26).
    "kiosk": LayoutParams(),
}


def load_preset(name: str) -> Store:
    """Build a named preset store."""
    if name not in PRESETS:
        raise UnknownPresetError(
            f"unknown store preset {name!r}; allowed: {', '.join(sorted(PRESETS))}"
        )
    return generate_grid_store(name, PRESETS[name])
