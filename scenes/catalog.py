"""The product catalogue: columns of SKU attributes.

The shipped ``scenes/data/catalog.csv`` holds 127 real-looking grocery and convenience
items. Masses are typical US net package masses (label weight plus packaging, e.g. a 20 oz
soda bottle ~620 g, a gallon of whole milk ~3.9 kg); prices are typical 2024 US
convenience/grocery shelf prices in cents. It includes look-alike pairs that differ in an
attribute and barely in mass (regular vs gluten-free baguette 250 g vs 240 g, whole vs skim
milk 3,900 g vs 3,860 g), which are what make weight-based billing hard.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

COLUMNS = (
    "sku", "name", "category", "brand", "mass_g", "price_cents",
    "width_m", "depth_m", "height_m", "gluten_free", "organic", "vegan",
)


MAX_PRICE_CENTS = 10**12   # $10 billion: far past any product, inside int64


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Catalogue:
    """s SKUs as columns.

    sku, name, category, brand: (s,) str; mass_g: (s,) float64 [g]; price_cents: (s,) int64;
    size_m: (s, 3) float64 width (along the shelf face), depth, height [m];
    gluten_free, organic, vegan: (s,) bool.
    """

    sku: np.ndarray
    name: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    mass_g: np.ndarray
    price_cents: np.ndarray
    size_m: np.ndarray
    gluten_free: np.ndarray
    organic: np.ndarray
    vegan: np.ndarray

    def __len__(self) -> int:
        return int(self.sku.shape[0])

    def index(self) -> dict[str, int]:
        return {str(s): i for i, s in enumerate(self.sku)}

    def prices(self) -> dict[str, int]:
        return {str(s): int(p) for s, p in zip(self.sku, self.price_cents, strict=True)}

    @functools.cached_property
    def brand_shares(self) -> tuple[tuple[str, ...], tuple[str, ...],
                                    list[tuple[np.ndarray, np.ndarray]]]:
        """Categories and brands (sorted names), and per category the brands present in it
        (int64 indices into the brands) with their share of its SKUs (float64, sums to 1).
        Computed once per catalogue: a crowd samples its shoppers' favourite brands from it
        one shopper at a time."""
        cats, cat_idx = np.unique(self.category, return_inverse=True)
        brands, brand_idx = np.unique(self.brand, return_inverse=True)
        counts = np.zeros((cats.size, brands.size), dtype=np.int64)
        np.add.at(counts, (cat_idx, brand_idx), 1)
        per_cat = []
        for k in range(cats.size):
            have = np.flatnonzero(counts[k])
            per_cat.append((have, counts[k, have] / counts[k, have].sum()))
        return tuple(str(x) for x in cats), tuple(str(x) for x in brands), per_cat


def _parse(rows: list[dict[str, str]], source: str) -> Catalogue:
    if not rows:
        raise CatalogueError(f"{source}: no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise CatalogueError(f"{source}: missing column(s) {', '.join(missing)}")
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for line, r in enumerate(rows, start=2):
        if None in r:
            raise CatalogueError(f"{source}: line {line}: has more fields than the header "
                                 f"({len(COLUMNS)} columns: {', '.join(COLUMNS)})")
        short = [c for c in COLUMNS if r[c] is None]
        if short:
            raise CatalogueError(f"{source}: line {line}: has fewer fields than the header; "
                                 f"field(s) {', '.join(short)} missing")
        for c in COLUMNS:
            v = r[c]
            try:
                if c in ("mass_g", "width_m", "depth_m", "height_m"):
                    x = float(v)
                    if not (math.isfinite(x) and x > 0):
                        raise ValueError
                    cols[c].append(x)
                elif c == "price_cents":
                    x = int(v)
                    if not 0 <= x <= MAX_PRICE_CENTS:
                        raise ValueError
                    cols[c].append(x)
                elif c in ("gluten_free", "organic", "vegan"):
                    if v not in ("0", "1"):
                        raise ValueError
                    cols[c].append(v == "1")
                else:
                    if not v:
                        raise ValueError
                    cols[c].append(v)
            except ValueError:
                allowed = {
                    "price_cents": f"an integer from 0 to {MAX_PRICE_CENTS}",
                    "gluten_free": "0 or 1", "organic": "0 or 1", "vegan": "0 or 1",
                }.get(c, "a number > 0" if c.endswith(("_g", "_m")) else "a non-empty string")
                raise CatalogueError(
                    f"{source}: line {line}: field {c}={v!r} is not allowed; expected {allowed}"
                ) from None
    skus = cols["sku"]
    first: dict[str, int] = {}
    for line, v in enumerate(skus, start=2):
        if v in first:
            raise CatalogueError(f"{source}: line {line}: field sku={v!r} duplicates line "
                                 f"{first[v]}; sku values must be unique")
        first[v] = line
    return Catalogue(
        sku=np.array(skus, dtype=str),
        name=np.array(cols["name"], dtype=str),
        category=np.array(cols["category"], dtype=str),
        brand=np.array(cols["brand"], dtype=str),
        mass_g=np.array(cols["mass_g"], dtype=np.float64),
        price_cents=np.array(cols["price_cents"], dtype=np.int64),
        size_m=np.stack(
            [np.array(cols["width_m"]), np.array(cols["depth_m"]), np.array(cols["height_m"])],
            axis=1,
        ),
        gluten_free=np.array(cols["gluten_free"], dtype=bool),
        organic=np.array(cols["organic"], dtype=bool),
        vegan=np.array(cols["vegan"], dtype=bool),
    )


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read a catalogue CSV (columns :data:`COLUMNS`); the shipped one when ``path`` is None."""
    if path is None:
        text = resources.files("scenes").joinpath("data/catalog.csv").read_text()
        source = "scenes/data/catalog.csv"
    else:
        source = str(path)
        try:
            raw = Path(path).read_bytes()
        except (OSError, ValueError) as e:   # ValueError: a NUL in the path
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise CatalogueError(f"{source}: cannot read ({why})") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CatalogueError(f"{source}: is not UTF-8 text (byte {e.start}); expected a "
                                 "UTF-8 CSV file") from None
    try:
        rows = list(csv.DictReader(text.splitlines()))
    except csv.Error as e:   # e.g. a field past csv's size limit
        raise CatalogueError(f"{source}: is not a readable CSV ({e})") from None
    return _parse(rows, source)
