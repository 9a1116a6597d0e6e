"""Catalogues of any size, grown from the shipped items by seeded sampling.

A kiosk stocks the 127 shipped items; a supercenter stocks tens of thousands of SKUs.
:func:`expand_catalogue` keeps the base items and adds *variants*: the same kinds of
products from other brands, in other varieties (flavours, scents, cuts) and package sizes,
named like shelf labels ("Brookfield Greek Yogurt Vanilla 32oz").

Where the numbers come from
---------------------------
Two shipped tables under ``scenes/data/`` drive the variants:

- ``products.csv``: one row per product type and category, with its varieties, its package
  sizes as ``label=mass_g`` (gross mass: typical US net contents plus packaging, e.g. a
  20 oz soda bottle ~620 g, a 5 lb bag of flour ~2,270 g), and the typical 2024 US
  grocery shelf price [cents] and box size (width along the shelf face, depth, height [m])
  of its first size. They are typical values read off common US package sizes and
  2024 shelf prices, consistent with ``catalog.csv``; they are not any retailer's
  prices or any manufacturer's packages. The row also says whether the product is
  gluten-free and vegan, and whether Organic or Gluten-Free versions of it are sold.
- ``brands.csv``: fictional brand names per category (``*``: every category; the first
  such row is the store brand) with a price factor (store brand 0.78, premium brands up to
  1.3).

A variant of size mass ``M`` of a product whose first size has mass ``M0``, price
``P0`` and box ``(w0, d0, h0)`` gets

- mass ``M`` times a uniform jitter of +-3 % (recipes and packaging differ), in 0.1 g;
- price ``P0 (M / M0) ** 0.7`` times the brand factor times a lognormal spread
  (sigma 0.08), as a shelf price ending in 9 [cents]; bigger packs cost less per gram;
- box ``(w0, d0, h0) (M / M0) ** (1/3)``; a box taller than :data:`MAX_HEIGHT_M` is
  made lower and wider at the same volume, then width and depth are capped at
  :data:`MAX_WIDTH_M` and :data:`MAX_DEPTH_M` and every side is at least :data:`MIN_SIDE_M`,
  in 1 mm.

About :data:`PAIR_FRACTION` of the variants come as look-alike pairs: a regular item
directly followed by its Organic or Gluten-Free twin of the same brand, variety and
box, 1-5 % apart in mass and 20-60 % dearer. These are what make weight-based billing hard.
A few lines are sold only in their Organic or Gluten-Free version (no twin).

Categories absent from ``products.csv`` still grow: each base item of such a category
gets Mini, Large and Family Size versions from its category's brands and the store
brand (no Organic or Gluten-Free versions).
"""

from __future__ import annotations

import csv
import functools
import math
import operator
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from scenes.catalog import COLUMNS, Catalogue

MAX_SKUS = 99_999          # SKU ids are "SKU%05d"
PAIR_FRACTION = 0.12       # share of generated items that belong to a look-alike pair
ONLY_MODIFIED = 0.05       # share of unpaired eligible lines sold only as Organic/GF
PRICE_EXPONENT = 0.7       # price ~ mass ** 0.7
MAX_HEIGHT_M = 0.32        # shelf clearance is 0.34 m in the kiosk
MAX_WIDTH_M = 0.6
MAX_DEPTH_M = 0.4          # gondola faces are 0.45 m deep
MIN_SIDE_M = 0.03
LOOKALIKE_MASS = 0.06      # adjacent rows within 6 % in mass may be look-alikes

_ORGANIC, _GLUTEN_FREE = 1, 2
_MODIFIER = ("", "Organic", "Gluten-Free")
_FALLBACK_SIZES = (("Mini", 0.5), ("Large", 1.5), ("Family Size", 2.5))
_SKU = re.compile(r"SKU(\d{5})")
_UNIT_WORDS = frozenset(
    "oz lb lbs gal qt pt ml l ct pk pack bag bunch can cans carton pc sq ft".split())
_MODIFIER_WORDS = frozenset({"organic", "gluten-free", "gluten", "free", "&", "and", "with"})


@dataclass(frozen=True)
class _LineSpace:
    """Every (product, brand, size, variety) a store could stock, as flat arrays.

    Per product (p,): category str; product str; variety_first, gluten_free, vegan, organic,
    organic_ok, gf_ok bool; ref_mass [g], ref_price [cents] float64 of the first size;
    ref_size (p, 3) [m]; n_var, n_size, n_brand, var_off, size_off, brand_off int64;
    start (p + 1,) int64 first line of each product. Flat: variety (V,) str; size_label (S,)
    str; size_mass (S,) float64 [g]; brand (B,) str; brand_factor (B,) float64.
    """

    category: np.ndarray
    product: np.ndarray
    variety_first: np.ndarray
    gluten_free: np.ndarray
    vegan: np.ndarray
    organic: np.ndarray
    organic_ok: np.ndarray
    gf_ok: np.ndarray
    ref_mass: np.ndarray
    ref_price: np.ndarray
    ref_size: np.ndarray
    n_var: np.ndarray
    n_size: np.ndarray
    n_brand: np.ndarray
    var_off: np.ndarray
    size_off: np.ndarray
    brand_off: np.ndarray
    start: np.ndarray
    variety: np.ndarray
    size_label: np.ndarray
    size_mass: np.ndarray
    brand: np.ndarray
    brand_factor: np.ndarray

    @property
    def total(self) -> int:
        return int(self.start[-1])


def _read_shipped(name: str) -> list[dict[str, str]]:
    text = resources.files("scenes").joinpath(f"data/{name}").read_text()
    return list(csv.DictReader(text.splitlines()))


def _bad(source: str, line: int, field: str, value: str, expected: str) -> ValueError:
    return ValueError(f"{source}: line {line}: field {field}={value!r} is not allowed; "
                      f"expected {expected}")


@functools.cache
def _shipped_products() -> tuple[dict, ...]:
    source = "scenes/data/products.csv"
    out = []
    for line, r in enumerate(_read_shipped("products.csv"), start=2):
        sizes = []
        for part in r["sizes"].split("|"):
            label, _, mass = part.rpartition("=")
            try:
                m = float(mass)
            except ValueError:
                m = float("nan")
            if not label or not (math.isfinite(m) and m > 0):
                raise _bad(source, line, "sizes", r["sizes"], "label=mass_g|... with mass > 0")
            sizes.append((label, m))
        row = {
            "category": r["category"], "product": r["product"],
            "variety_first": r["variety_first"] == "1",
            "varieties": tuple(r["varieties"].split("|")),
            "sizes": tuple(sizes),
        }
        for c in ("price_cents", "width_m", "depth_m", "height_m"):
            try:
                row[c] = float(r[c])
                if not row[c] > 0:
                    raise ValueError
            except ValueError:
                raise _bad(source, line, c, r[c], "a number > 0") from None
        for c in ("gluten_free", "vegan", "organic", "organic_ok", "gf_ok"):
            if r[c] not in ("0", "1"):
                raise _bad(source, line, c, r[c], "0 or 1")
            row[c] = r[c] == "1"
        out.append(row)
    return tuple(out)


@functools.cache
def _shipped_brands() -> tuple[tuple[str, tuple[str, ...], float], ...]:
    """(brand, categories or ("*",), price factor); the first ``*`` row is the store brand."""
    out = []
    for line, r in enumerate(_read_shipped("brands.csv"), start=2):
        try:
            factor = float(r["price_factor"])
            if not 0.1 <= factor <= 10:
                raise ValueError
        except ValueError:
            raise _bad("scenes/data/brands.csv", line, "price_factor", r["price_factor"],
                       "a number in [0.1, 10]") from None
        out.append((r["brand"], tuple(r["categories"].split("|")), factor))
    return tuple(out)


def _line_space(base: Catalogue) -> _LineSpace:
    """The products, brands, sizes and varieties of the base's categories."""
    categories = list(dict.fromkeys(base.category.tolist()))
    known = {p["category"] for p in _shipped_products()}
    brands = _shipped_brands()
    store = next(b for b in brands if b[1] == ("*",))
    cat_brands: dict[str, list[tuple[str, float]]] = {}
    for c in categories:
        if c in known:
            lst = [(b, f) for b, cats, f in brands if c in cats and cats != ("*",)]
        else:
            lst = [(b, 1.0) for b in dict.fromkeys(base.brand[base.category == c].tolist())
                   if b != store[0]]
        cat_brands[c] = [*lst, (store[0], store[2])]

    products = [p for p in _shipped_products() if p["category"] in cat_brands]
    for i in np.flatnonzero(~np.isin(base.category, list(known))):
        mass = float(base.mass_g[i])
        w, d, h = base.size_m[i].tolist()
        products.append({
            "category": str(base.category[i]), "product": str(base.name[i]),
            "variety_first": False, "varieties": ("",),
            "sizes": tuple((label, mass * f) for label, f in _FALLBACK_SIZES),
            "ref_mass": mass,
            "price_cents": max(float(base.price_cents[i]), 1.0),
            "width_m": w, "depth_m": d, "height_m": h,
            "gluten_free": bool(base.gluten_free[i]), "vegan": bool(base.vegan[i]),
            "organic": bool(base.organic[i]), "organic_ok": False, "gf_ok": False,
        })

    brand_names, brand_factor, cat_off = [], [], {}
    for c, lst in cat_brands.items():
        cat_off[c] = len(brand_names)
        brand_names += [b for b, _ in lst]
        brand_factor += [f for _, f in lst]

    def col(key: str, dtype) -> np.ndarray:
        return np.array([p[key] for p in products], dtype=dtype)

    n_var = np.array([len(p["varieties"]) for p in products], dtype=np.int64)
    n_size = np.array([len(p["sizes"]) for p in products], dtype=np.int64)
    n_brand = np.array([len(cat_brands[p["category"]]) for p in products], dtype=np.int64)
    sizes = [s for p in products for s in p["sizes"]]
    return _LineSpace(
        category=col("category", str), product=col("product", str),
        variety_first=col("variety_first", bool), gluten_free=col("gluten_free", bool),
        vegan=col("vegan", bool), organic=col("organic", bool),
        organic_ok=col("organic_ok", bool), gf_ok=col("gf_ok", bool),
        ref_mass=np.array([p.get("ref_mass", p["sizes"][0][1]) for p in products]),
        ref_price=col("price_cents", np.float64),
        ref_size=np.stack([col("width_m", np.float64), col("depth_m", np.float64),
                           col("height_m", np.float64)], axis=1),
        n_var=n_var, n_size=n_size, n_brand=n_brand,
        var_off=np.cumsum(n_var) - n_var, size_off=np.cumsum(n_size) - n_size,
        brand_off=np.array([cat_off[p["category"]] for p in products], dtype=np.int64),
        start=np.concatenate([[0], np.cumsum(n_var * n_size * n_brand)]),
        variety=np.array([v for p in products for v in p["varieties"]], dtype=str),
        size_label=np.array([s[0] for s in sizes], dtype=str),
        size_mass=np.array([s[1] for s in sizes], dtype=np.float64),
        brand=np.array(brand_names, dtype=str),
        brand_factor=np.array(brand_factor, dtype=np.float64),
    )


def _shelf_price(cents: np.ndarray) -> np.ndarray:
    """(k,) float64 [cents] -> (k,) int64 shelf prices ending in 9, at least 9 cents."""
    return np.maximum(np.round(cents / 10.0) * 10 - 1, 9).astype(np.int64)


def _fit_shelf(size: np.ndarray) -> np.ndarray:
    """(k, 3) boxes [m] made to fit a shelf: lower-and-wider above MAX_HEIGHT_M, capped, 1 mm."""
    over = np.maximum(size[:, 2] / MAX_HEIGHT_M, 1.0)
    out = size * np.stack([np.sqrt(over), np.sqrt(over), 1.0 / over], axis=1)
    out = np.minimum(out, [MAX_WIDTH_M, MAX_DEPTH_M, MAX_HEIGHT_M])
    return np.round(np.maximum(out, MIN_SIDE_M), 3)


def _new_skus(base_sku: np.ndarray, count: int) -> np.ndarray:
    """(count,) str ids "SKU%05d" after the base's highest, then in its gaps; never a base id."""
    free = np.ones(MAX_SKUS + 1, dtype=bool)
    free[0] = False
    used = [int(m.group(1)) for s in base_sku.tolist() if (m := _SKU.fullmatch(s))]
    free[used] = False
    top = max(used, default=0)
    free = np.concatenate([np.flatnonzero(free[top:]) + top, np.flatnonzero(free[:top])])
    if free.size < count:
        raise ValueError(f"expand_catalogue: only {free.size} SKU ids are free under "
                         f"SKU{MAX_SKUS:05d}; {count} are needed")
    return np.array([f"SKU{i:05d}" for i in free[:count].tolist()], dtype=str)


def _pick_lines(space: _LineSpace, m: int, can_pair: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines to make items of, sorted (product, brand, size, variety): lines (k,) in the
    line space, p (k,) their product, pair (k,) whether a line also gets a modified twin
    (k lines plus their twins make m items)."""
    total = space.total
    # Lines without replacement; past the whole space, another pass (names then repeat).
    if m <= total:
        lines = rng.choice(total, size=m, replace=False)
    else:
        passes = -(-m // total)
        lines = np.concatenate([rng.permutation(total) for _ in range(passes)])[:m]

    p = np.searchsorted(space.start, lines, side="right") - 1
    # Pairs per line so that PAIR_FRACTION of the items are in pairs: P/L = f / (2 - f).
    per_product = np.diff(space.start)
    eligible_share = per_product[can_pair].sum() / max(total, 1)
    q = min(1.0, PAIR_FRACTION / (2 - PAIR_FRACTION) / eligible_share) if eligible_share else 0
    pair = can_pair[p] & (rng.random(m) < q)
    count = np.cumsum(1 + pair)
    keep = int(np.searchsorted(count, m)) + 1          # count[keep - 1] >= m
    lines, p, pair = lines[:keep], p[:keep], pair[:keep]
    if count[keep - 1] > m:                            # the last line would overshoot
        pair[-1] = False

    order = np.argsort(lines, kind="stable")           # product, brand, size, variety
    return lines[order], p[order], pair[order]


def _variants(base: Catalogue, m: int, rng: np.random.Generator) -> Catalogue:
    """m generated items from the line space of the base's categories (no base rows)."""
    space = _line_space(base)
    can_pair = space.organic_ok | space.gf_ok
    lines, p, pair = _pick_lines(space, m, can_pair, rng)
    local = lines - space.start[p]
    v = local % space.n_var[p]
    local //= space.n_var[p]
    s = local % space.n_size[p]
    b = local // space.n_size[p]
    n_lines = lines.size
    var_i, size_i, brand_i = space.var_off[p] + v, space.size_off[p] + s, space.brand_off[p] + b

    only_modified = can_pair[p] & ~pair & (rng.random(n_lines) < ONLY_MODIFIED)
    organic_first = rng.random(n_lines) < 0.5
    kind = np.where(space.organic_ok[p] & (organic_first | ~space.gf_ok[p]),
                    _ORGANIC, _GLUTEN_FREE)

    label_mass = space.size_mass[size_i]
    mass = np.maximum(np.round(label_mass * rng.uniform(0.97, 1.03, n_lines), 1), 0.1)
    ratio = label_mass / space.ref_mass[p]
    price = (space.ref_price[p] * ratio**PRICE_EXPONENT * space.brand_factor[brand_i]
             * np.exp(rng.normal(0.0, 0.08, n_lines)))
    premium = np.where(kind == _ORGANIC, rng.uniform(1.2, 1.5, n_lines),
                       rng.uniform(1.25, 1.6, n_lines))
    size = _fit_shelf(space.ref_size[p] * np.cbrt(ratio)[:, None])

    # One item per line, a twin after each pair line.
    copies = 1 + pair
    first = np.cumsum(copies) - copies
    twin = first[pair] + 1
    mod = np.repeat(np.where(only_modified, kind, 0), copies)
    mod[twin] = kind[pair]

    item_mass = np.repeat(mass, copies)
    rel = rng.uniform(0.0125, 0.0475, n_lines)
    lighter = rng.random(n_lines) < np.where(kind == _GLUTEN_FREE, 0.7, 0.5)
    delta = np.round(mass * rel, 1)
    delta = np.clip(delta, np.ceil(mass * 0.0101 * 10) / 10, np.floor(mass * 0.0499 * 10) / 10)
    item_mass[twin] = np.round(mass + np.where(lighter, -delta, delta), 1)[pair]

    regular_price = _shelf_price(price)
    modified_price = np.maximum(_shelf_price(price * premium), regular_price + 10)
    item_price = np.repeat(np.where(only_modified, modified_price, regular_price), copies)
    item_price[twin] = modified_price[pair]

    pi = np.repeat(p, copies)
    gluten_free = space.gluten_free[pi] | (mod == _GLUTEN_FREE)
    organic = space.organic[pi] | (mod == _ORGANIC)
    brand = space.brand[np.repeat(brand_i, copies)]

    names = _names(space, brand, mod, np.repeat(var_i, copies), np.repeat(size_i, copies))

    return Catalogue(
        sku=_new_skus(base.sku, m),
        name=np.array(names, dtype=str),
        category=space.category[pi],
        brand=brand,
        mass_g=item_mass,
        price_cents=item_price,
        size_m=np.repeat(size, copies, axis=0),
        gluten_free=gluten_free,
        organic=organic,
        vegan=space.vegan[pi].copy(),
    )


def _names(space: _LineSpace, brand: np.ndarray, mod: np.ndarray, var_i: np.ndarray,
           size_i: np.ndarray) -> list[str]:
    """Item names "Brand [Organic|Gluten-Free] Product Variety Size" (or "... Variety
    Product ...") from each item's brand, modifier, variety and size."""
    stem = [f"{var} {prod}".strip() if vf else f"{prod} {var}".strip()
            for var, prod, vf in zip(space.variety.tolist(),
                                     np.repeat(space.product, space.n_var).tolist(),
                                     np.repeat(space.variety_first, space.n_var).tolist(),
                                     strict=True)]
    label = [f" {x}" if x else "" for x in space.size_label.tolist()]
    modifier = [f" {x} " if x else " " for x in _MODIFIER]
    return [f"{br}{modifier[md]}{stem[vi]}{label[si]}" for br, md, vi, si in zip(
        brand.tolist(), mod.tolist(), var_i.tolist(), size_i.tolist(), strict=True)]


def _name_words(name: str, brand: str) -> frozenset[str]:
    drop = set(brand.lower().split()) | _UNIT_WORDS | _MODIFIER_WORDS
    return frozenset(w for w in name.lower().split()
                     if w not in drop and not any(ch.isdigit() for ch in w))


def lookalike_groups(cat: Catalogue) -> np.ndarray:
    """(s,) int64 group id per row, ascending; look-alike rows share one.

    Rows i and i + 1 are look-alikes when they are in the same category, their masses are
    within :data:`LOOKALIKE_MASS` of the larger, and their names share a word other than
    the brand, a size or Organic/Gluten-Free ("Baguette" / "Gluten-Free Baguette",
    "Whole Milk 1 gal" / "Skim Milk 1 gal"). Chains of such rows form one group.
    """
    s = len(cat)
    if s == 0:
        return np.zeros(0, dtype=np.int64)
    words = [_name_words(n, b) for n, b in zip(cat.name.tolist(), cat.brand.tolist(),
                                               strict=True)]
    m = cat.mass_g
    close = (np.abs(np.diff(m)) <= LOOKALIKE_MASS * np.maximum(m[:-1], m[1:])) & (
        cat.category[:-1] == cat.category[1:])
    link = np.array([bool(close[i]) and not words[i].isdisjoint(words[i + 1])
                     for i in range(s - 1)], dtype=bool)
    return np.concatenate([[0], np.cumsum(~link)]).astype(np.int64)


def _subset(base: Catalogue, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) int64 sorted row indices of base: whole look-alike groups where they fit."""
    groups = lookalike_groups(base)
    sizes = np.bincount(groups)
    order = rng.permutation(sizes.size)
    take = np.zeros(sizes.size, dtype=bool)
    filled = 0
    for g in order.tolist():
        if filled + sizes[g] <= n:
            take[g] = True
            filled += int(sizes[g])
            if filled == n:
                break
    rows = np.flatnonzero(take[groups])
    if filled < n:                                     # no whole group fits the remainder
        rest = np.concatenate([np.flatnonzero(groups == g) for g in order if not take[g]])
        rows = np.concatenate([rows, rest[: n - filled]])
    return np.sort(rows)


def _take(cat: Catalogue, rows: np.ndarray) -> Catalogue:
    return Catalogue(**{f: getattr(cat, f)[rows] for f in Catalogue.__dataclass_fields__})


def _concat(a: Catalogue, b: Catalogue) -> Catalogue:
    return Catalogue(**{f: np.concatenate([getattr(a, f), getattr(b, f)])
                        for f in Catalogue.__dataclass_fields__})


def expand_catalogue(base: Catalogue, n: int, seed: int = 0) -> Catalogue:
    """A catalogue of exactly ``n`` SKUs grown from (or cut from) ``base``.

    n <= len(base): a seeded subset of base rows in base order that keeps look-alike groups
    (:func:`lookalike_groups`) whole where it can. n > len(base): every base row unchanged,
    then ``n - len(base)`` generated variants of the base's categories with fresh ids
    ``SKU%05d`` after the base's highest (see the module docstring). Names are unique until
    the variants exhaust the line space (about 80,000 for the shipped catalogue).

    Same (base, n, seed), same arrays. Raises ValueError when n is not in [1, 99999] or
    base is empty.
    """
    n = operator.index(n)
    if not 1 <= n <= MAX_SKUS:
        raise ValueError(f"expand_catalogue: n={n} is not allowed; expected 1 <= n <= "
                         f"{MAX_SKUS} (SKU ids are SKU00001..SKU{MAX_SKUS:05d})")
    if len(base) == 0:
        raise ValueError("expand_catalogue: base catalogue is empty")
    rng = np.random.default_rng(seed)
    if n <= len(base):
        return _take(base, _subset(base, n, rng))
    return _concat(base, _variants(base, n - len(base), rng))


def catalogue_rows(cat: Catalogue) -> list[dict]:
    """One dict per SKU with keys :data:`scenes.catalog.COLUMNS`, as str, float, int, bool."""
    cols = {
        "sku": cat.sku.tolist(), "name": cat.name.tolist(), "category": cat.category.tolist(),
        "brand": cat.brand.tolist(), "mass_g": cat.mass_g.astype(float).tolist(),
        "price_cents": cat.price_cents.astype(np.int64).tolist(),
        "width_m": cat.size_m[:, 0].tolist(), "depth_m": cat.size_m[:, 1].tolist(),
        "height_m": cat.size_m[:, 2].tolist(),
        "gluten_free": cat.gluten_free.astype(bool).tolist(),
        "organic": cat.organic.astype(bool).tolist(), "vegan": cat.vegan.astype(bool).tolist(),
    }
    return [dict(zip(COLUMNS, vals, strict=True))
            for vals in zip(*(cols[c] for c in COLUMNS), strict=True)]


def _cell(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        r = repr(v)                                    # shortest text that reads back exactly
        return r[:-2] if r.endswith(".0") else r
    return str(v)


def write_catalogue_csv(cat: Catalogue, path: str | Path) -> None:
    """Write ``cat`` in the format :func:`scenes.catalog.load_catalogue` reads, exactly."""
    with Path(path).open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for row in catalogue_rows(cat):
            w.writerow([_cell(row[c]) for c in COLUMNS])
