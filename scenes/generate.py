"""Procedural store specs: a few parameters to a full spec a planner can edit.

The layout is the common one of US grocery and convenience stores: an open front zone by the
doors, parallel gondola runs across the floor split into blocks by cross aisles (with end caps
at the block ends in larger stores), shelving or reach-in fridges along the back wall, and
shelving along the side walls. Dimensions are common retail practice (sources in
``docs/store-spec.md``):

- gondolas are 0.9 m (kiosk, two 18 in shelves back to back) to 1.2 m deep (grocery, two 24 in
  shelves), 2.0-2.1 m (78-84 in) tall with 5 shelves;
- aisles are at least 0.915 m (ADA 2010, 403.5.1); convenience stores run 1.2-1.8 m, grocery
  aisles 1.8-2.1 m (6-7 ft) so two carts pass, a supercenter's "action alley" cross aisles
  2.4-3.0 m (8-10 ft);
- doors are 1.6-2.4 m double doors.

``generate_spec`` is deterministic: the same parameters give the same document, byte for byte
once written.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from scenes.catalog import Catalogue, load_catalogue
from scenes.spec import FORMAT
from scenes.store import SQFT_PER_M2


class GenerationError(ValueError):
    pass


@dataclass(frozen=True)
class GenParams:
    """Parameters of the generator. Lengths in metres; ``skus = 0`` uses the shipped
    127-item catalogue as is."""

    name: str = "store"
    area_m2: float = 168.0
    aspect: float = 15.0 / 11.2          # floor width (along the front wall) over depth
    aisle_width_m: float = 1.6           # narrowest aisle between gondolas
    cross_aisle_m: float = 2.0           # between gondola blocks
    front_zone_m: float = 3.0            # open floor by the doors
    back_aisle_m: float = 1.7
    gondola_length_m: float = 7.5        # longest gondola run between cross aisles
    gondola_depth_m: float = 0.9
    gondola_height_m: float = 2.0
    levels: int = 5
    first_level_m: float = 0.1           # bottom shelf deck
    level_pitch_m: float = 0.37          # fits a 0.32 m item under the deck above
    bin_width_m: float = 0.75            # one load-cell plate per bin
    wall_shelf_depth_m: float = 0.5
    back_wall: str = "wall_shelf"        # or "fridge"
    fridge_depth_m: float = 0.8
    fridge_height_m: float = 2.1
    side_walls: bool = False             # shelving along the left and right walls
    end_caps: bool = False
    end_cap_depth_m: float = 0.45
    produce_tables: bool = False         # display tables in the front zone, produce on them
    table_length_m: float = 2.4
    table_depth_m: float = 1.2
    table_height_m: float = 1.2          # a display table with a riser: deck at 0.75 m
    door_width_m: float = 1.6
    ceiling_height_m: float = 3.6
    skus: int = 0
    seed: int = 0

    def check(self) -> None:
        bad = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "float" and not (isinstance(v, (int, float)) and math.isfinite(v)
                                          and v > 0):
                bad.append(f"{f.name.replace('_m2', '').replace('_m', '')} must be > 0 "
                           f"(got {v})")
        if self.levels < 1 or self.levels > 12:
            bad.append(f"levels must be 1..12 (got {self.levels})")
        if self.skus < 0 or self.skus > 99_999:
            bad.append(f"skus must be 0..99999 (got {self.skus})")
        if self.seed < 0:
            bad.append(f"seed must be >= 0 (got {self.seed})")
        if self.back_wall not in ("wall_shelf", "fridge"):
            bad.append(f"back_wall must be wall_shelf or fridge (got {self.back_wall!r})")
        if self.aisle_width_m < 0.915:
            bad.append(f"aisle width must be >= 0.915 m (ADA 2010 403.5.1; got "
                       f"{self.aisle_width_m})")
        top = self.first_level_m + (self.levels - 1) * self.level_pitch_m
        if top > self.gondola_height_m - 0.1:
            bad.append(f"{self.levels} levels of {self.level_pitch_m} m from "
                       f"{self.first_level_m} m reach {top:.2f} m; the gondola is "
                       f"{self.gondola_height_m} m tall (need 0.1 m above the top deck)")
        if bad:
            raise GenerationError("; ".join(bad))


_AREA = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]*)?)\s*(sq\s*ft|sqft|ft2|ft²|m2|m²|sqm)\s*$",
                   re.IGNORECASE)


def parse_area(text: str) -> float:
    """'10400sqft', '10,400 sq ft', '966m2' -> square metres."""
    m = _AREA.match(str(text))
    if not m:
        raise GenerationError(f"area {text!r} is not allowed; expected a number with a unit, "
                              "e.g. 10400sqft or 966m2")
    v = float(m.group(1).replace(",", "").replace("_", ""))
    unit = m.group(2).lower().replace(" ", "")
    m2 = v if unit in ("m2", "m²", "sqm") else v / SQFT_PER_M2
    if not 20.0 <= m2 <= 200_000.0:
        raise GenerationError(f"area {text!r} is {m2:.0f} m2; expected 20 to 200,000 m2")
    return m2


def _r(v: float) -> float:
    """Millimetre precision keeps the written spec short and exact."""
    return round(float(v), 3)


def _fixture(name, kind, x, y, dx, dy, h, faces, p: GenParams,
             levels: list[float] | None = None) -> dict:
    if levels is None:
        levels = [_r(p.first_level_m + i * p.level_pitch_m) for i in range(p.levels)]
    return {"name": name, "kind": kind, "x_m": _r(x), "y_m": _r(y), "dx_m": _r(dx),
            "dy_m": _r(dy), "height_m": _r(h), "faces": faces, "levels_m": levels,
            "bin_width_m": _r(p.bin_width_m)}


def _layout(p: GenParams) -> tuple[float, float, list[dict], list[dict]]:
    w = _r(math.sqrt(p.area_m2 * p.aspect))
    d = _r(p.area_m2 / w)
    bw = p.bin_width_m
    fixtures: list[dict] = []
    back_depth = p.fridge_depth_m if p.back_wall == "fridge" else p.wall_shelf_depth_m
    back_h = p.fridge_height_m if p.back_wall == "fridge" else p.gondola_height_m
    side = p.wall_shelf_depth_m if p.side_walls else 0.0
    run_y0 = p.front_zone_m
    run_y1 = d - back_depth - p.back_aisle_m
    run = run_y1 - run_y0
    if run < 2 * bw:
        raise GenerationError(f"a {w:g} x {d:g} m floor leaves {run:.2f} m for gondolas after "
                              "the front zone, back aisle and back wall; raise the area or "
                              "lower front_zone/back_aisle")
    # gondola columns with aisles between, the slack spread over the aisles
    avail = w - 2 * side
    n_cols = int(math.floor((avail - p.aisle_width_m) / (p.gondola_depth_m + p.aisle_width_m)))
    if n_cols < 1:
        raise GenerationError(f"a {w:g} m wide floor fits no gondola with "
                              f"{p.aisle_width_m} m aisles")
    aisle = (avail - n_cols * p.gondola_depth_m) / (n_cols + 1)
    n_blocks = max(1, math.ceil((run + p.cross_aisle_m) / (p.gondola_length_m
                                                            + p.cross_aisle_m)))
    block = (run - (n_blocks - 1) * p.cross_aisle_m) / n_blocks
    caps = p.end_caps and block > 2 * p.end_cap_depth_m + 2 * bw
    glen = block - (2 * p.end_cap_depth_m if caps else 0.0)
    n_slots = int(math.floor(glen / bw + 1e-9))
    if n_slots < 1:
        raise GenerationError(f"gondola blocks of {glen:.2f} m fit no {bw} m bin")
    for c in range(n_cols):
        x0 = side + aisle * (c + 1) + c * p.gondola_depth_m
        for b in range(n_blocks):
            b0 = run_y0 + b * (block + p.cross_aisle_m)
            y0 = b0 + (block - n_slots * bw) / 2
            tag = f"{c + 1}" if n_blocks == 1 else f"{c + 1}{chr(ord('a') + b)}" if (
                n_blocks <= 26) else f"{c + 1}-{b + 1}"
            if caps:
                fixtures.append(_fixture(f"endcap-{tag}-front", "end_cap", x0,
                                         y0 - p.end_cap_depth_m, p.gondola_depth_m,
                                         p.end_cap_depth_m, p.gondola_height_m, ["-y"], p))
            fixtures.append(_fixture(f"gondola-{tag}", "gondola", x0, y0, p.gondola_depth_m,
                                     n_slots * bw, p.gondola_height_m, ["-x", "+x"], p))
            if caps:
                fixtures.append(_fixture(f"endcap-{tag}-back", "end_cap", x0,
                                         y0 + n_slots * bw, p.gondola_depth_m,
                                         p.end_cap_depth_m, p.gondola_height_m, ["+y"], p))
    if p.produce_tables:
        # a row of tables across the front zone, an aisle behind them and 1.5 m of open
        # floor by the doors in front; none in front of the doors' approach
        ty1 = run_y0 - p.aisle_width_m
        ty0 = ty1 - p.table_depth_m
        if ty0 >= 1.5:
            pitch = p.table_length_m + max(p.aisle_width_m, 2.4)
            x_lo, x_hi = 1.0 + p.door_width_m + 2.0, w - 1.0 - p.door_width_m - 2.0
            n_t = int(math.floor((x_hi - x_lo + pitch - p.table_length_m) / pitch))
            x0 = x_lo + (x_hi - x_lo - (n_t * pitch - (pitch - p.table_length_m))) / 2
            for t in range(max(0, n_t)):
                fixtures.insert(t, _fixture(f"table-{t + 1}", "table", x0 + t * pitch, ty0,
                                            p.table_length_m, p.table_depth_m,
                                            p.table_height_m, ["-y", "+y"], p, [0.75]))
    if p.side_walls:
        n_side = int(math.floor(run / bw + 1e-9))
        y0 = run_y0 + (run - n_side * bw) / 2
        fixtures.append(_fixture("wall-left", "wall_shelf", 0.0, y0, side, n_side * bw,
                                 p.gondola_height_m, ["+x"], p))
        fixtures.append(_fixture("wall-right", "wall_shelf", w - side, y0, side, n_side * bw,
                                 p.gondola_height_m, ["-x"], p))
    # back wall last: chilled categories, placed last, go to its fridges when there are some
    n_back = int(math.floor((w - 0.6) / bw + 1e-9))
    if n_back >= 1:
        x0 = (w - n_back * bw) / 2
        fixtures.append(_fixture("back-wall", p.back_wall, x0, d - back_depth, n_back * bw,
                                 back_depth, back_h, ["-y"], p))
    dw = p.door_width_m
    gates = [{"name": "entrance", "kind": "entrance", "wall": "front", "offset_m": 1.0,
              "width_m": _r(dw)},
             {"name": "exit", "kind": "exit", "wall": "front", "offset_m": _r(w - 1.0 - dw),
              "width_m": _r(dw)}]
    return w, d, fixtures, gates


# Categories that live in reach-in fridges when the back wall is one.
CHILLED = ("dairy", "frozen", "deli", "beverages")


def _planogram(fixtures: list[dict], cat: Catalogue, chilled_last: bool,
               produce_first: bool = False) -> dict:
    """SKUs in category blocks (look-alikes adjacent) over the bins in fixture order; every
    SKU gets at least one bin; within a column the heavier items go lower."""
    cols = []   # (fixture index, face, n_slots, n_levels)
    for i, f in enumerate(fixtures):
        along = f["dy_m"] if f["faces"][0] in ("-x", "+x") else f["dx_m"]
        ns = int(math.floor(along / f["bin_width_m"] + 1e-9))
        for face in f["faces"]:
            cols.append((i, face, ns, len(f["levels_m"])))
    n = sum(ns * nl for _, _, ns, nl in cols)
    s = len(cat)
    if s > n:
        raise GenerationError(f"a catalogue of {s} skus needs at least {s} bins; this layout "
                              f"has {n}: lower skus, raise the area or narrow the bins")
    rank: dict[str, int] = {}
    for c in cat.category.tolist():   # categories in catalogue order
        rank.setdefault(c, len(rank))
    if chilled_last:
        for k, c in enumerate(CHILLED):
            rank[c] = len(rank) + k
    if produce_first and "produce" in rank:
        rank["produce"] = -1
    order = np.array(sorted(range(s), key=lambda i: (rank[str(cat.category[i])], i)))
    per = np.full(s, n // s)
    per[: n - per.sum()] += 1
    seq = np.repeat(order, per)
    mass = cat.mass_g
    out: dict[str, dict] = {}
    k = 0
    for fi, face, ns, nl in cols:
        grid = seq[k:k + ns * nl].reshape(ns, nl)
        # heaviest at the bottom of each column (level 0)
        grid = np.take_along_axis(grid, np.argsort(-mass[grid], axis=1, kind="stable"), axis=1)
        k += ns * nl
        out.setdefault(fixtures[fi]["name"], {})[face] = [
            [str(cat.sku[j]) for j in grid[:, lvl]] for lvl in range(nl)]
    return out


def generate_catalogue(p: GenParams) -> Catalogue:
    base = load_catalogue()
    if p.skus == 0:
        return base
    from scenes.catalog_gen import expand_catalogue
    return expand_catalogue(base, p.skus, p.seed)


def generate_spec(p: GenParams, description: str | None = None) -> dict:
    """A complete spec document (a dict ready for ``scenes.tomlw.dumps``)."""
    p.check()
    w, d, fixtures, gates = _layout(p)
    cat = generate_catalogue(p)
    catalogue = ({"source": "builtin"} if p.skus == 0
                 else {"generate": {"skus": p.skus, "seed": p.seed}})
    doc = {
        "format": FORMAT,
        "name": p.name,
        "description": description or (
            f"Generated by storetwin from {round(p.area_m2 * SQFT_PER_M2):,} sq ft "
            f"({p.area_m2:.0f} m2), seed {p.seed}."),
        "ceiling_height_m": _r(p.ceiling_height_m),
        "floor": {"width_m": w, "depth_m": d},
        "catalogue": catalogue,
        "gates": gates,
        "fixtures": fixtures,
        "planogram": _planogram(fixtures, cat, p.back_wall == "fridge", p.produce_tables),
    }
    return doc


def spec_header(p: GenParams) -> str:
    return ("storetwin store spec (format " + FORMAT + "); the format is documented in "
            "docs/store-spec.md.\nGenerated with: " + ", ".join(
                f"{k}={v}" for k, v in asdict(p).items()) + "\nEdit freely: "
            "`storetwin scene info FILE` checks it.")


# The presets (sources in docs/store-spec.md and REFERENCES.md): floor areas are the named
# stores'; the catalogue is scaled to the bins (one plate per SKU at least), since a real
# store's SKU count (Go Grocery ~5,000; a Walmart supercenter ~120,000 items) exceeds what
# one plate per SKU allows at these bin counts.
PRESET_PARAMS: dict[str, GenParams] = {
    # Amazon Go, Seattle, 2018: 1,800 sq ft (USA Today 2018-01-26).
    "kiosk": GenParams(name="kiosk"),
    # Amazon Go Grocery, Seattle, 2020: 10,400 sq ft.
    "grocery": GenParams(
        name="grocery", area_m2=10_400 / SQFT_PER_M2, aspect=1.5, aisle_width_m=1.8,
        cross_aisle_m=2.4, front_zone_m=5.0, back_aisle_m=2.4, gondola_length_m=9.0,
        gondola_depth_m=1.2, gondola_height_m=2.0, bin_width_m=0.6, back_wall="fridge",
        side_walls=True, end_caps=True, produce_tables=True, door_width_m=2.0,
        ceiling_height_m=4.5, skus=2_500),
    # The largest Just Walk Out stores: 40,000 sq ft (Amazon re:MARS 2022).
    "large": GenParams(
        name="large", area_m2=40_000 / SQFT_PER_M2, aspect=1.5, aisle_width_m=2.0,
        cross_aisle_m=2.7, front_zone_m=6.0, back_aisle_m=2.7, gondola_length_m=12.0,
        gondola_depth_m=1.2, gondola_height_m=2.1, bin_width_m=0.7, back_wall="fridge",
        side_walls=True, end_caps=True, produce_tables=True, door_width_m=2.4,
        ceiling_height_m=5.5, skus=9_000),
    # A Walmart supercenter: ~180,000 sq ft (Walmart corporate facts).
    "supercenter": GenParams(
        name="supercenter", area_m2=180_000 / SQFT_PER_M2, aspect=1.5, aisle_width_m=2.1,
        cross_aisle_m=3.0, front_zone_m=10.0, back_aisle_m=3.0, gondola_length_m=14.0,
        gondola_depth_m=1.2, gondola_height_m=2.1, bin_width_m=0.75, back_wall="fridge",
        side_walls=True, end_caps=True, produce_tables=True, door_width_m=2.4,
        ceiling_height_m=7.3, skus=30_000),
}


def params_for_area(area_m2: float, **overrides) -> GenParams:
    """Defaults from the preset nearest in area (on a log scale), at the given area, with the
    catalogue scaled to the area; ``overrides`` that are not None replace fields."""
    name = min(PRESET_PARAMS, key=lambda k: abs(math.log(PRESET_PARAMS[k].area_m2 / area_m2)))
    base = PRESET_PARAMS[name]
    # the catalogue scales with the floor (bins grow about linearly with area)
    skus = 0 if base.skus == 0 else max(50, round(base.skus * area_m2 / base.area_m2 * 0.9))
    p = replace(base, name="store", area_m2=area_m2, skus=skus)
    return replace(p, **{k: v for k, v in overrides.items() if v is not None})
