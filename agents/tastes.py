"""What shoppers like: latent tastes drawn for a population, and the utility of a SKU to one
shopper.

Pure sampling functions: a ``numpy.random.Generator`` in, plain data out; same generator
state, same output. SKUs are catalogue row numbers; prices US cents in the catalogue and
utilities per US dollar here.

Where the default numbers come from (:mod:`agents.population`; ``docs/shoppers.md``): celiac
disease 0.7 % of the US population, 0.3 % undiagnosed, people avoiding gluten without it 1.7 %
(Choung et al. 2017, Mayo Clin. Proc., NHANES 2009-14); 6 % say most and 34 % some of their
food is organic (Pew 2016), 15 % actively avoid organic (Gallup 2014); 3 % vegan (Gallup 2018;
1 % in 2023); mean price elasticity -2.62 over 1,851 estimates (Bijmolt, van Heerde & Pieters
2005).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.population import DEFAULT_CONFIG, ShopperPopulationConfig
from params import Rule, check_value
from scenes.catalog import Catalogue


@dataclass(frozen=True)
class ShopperPrefs:
    """One shopper's tastes: utilities of a gluten-free, organic, vegan item and of its
    favourite brand (``brand_weight``), ``price_per_dollar`` utility lost per US dollar;
    ``favourite`` maps category -> brand."""

    gluten_free: float
    organic: float
    vegan: float
    price_per_dollar: float
    brand_weight: float
    favourite: dict[str, str]


@dataclass(frozen=True)
class Preferences:
    """Latent tastes of n shoppers.

    gluten_free, organic, vegan, price_per_dollar, brand_weight: (n,) float64 utilities
    (price: per US dollar, > 0); categories: (k,) category names; brands: (b,) brand names;
    favourite: (n, k) int64 index into ``brands`` of each shopper's favourite brand in each
    category.
    """

    gluten_free: np.ndarray
    organic: np.ndarray
    vegan: np.ndarray
    price_per_dollar: np.ndarray
    brand_weight: np.ndarray
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    favourite: np.ndarray

    def __len__(self) -> int:
        return int(self.gluten_free.shape[0])

    def row(self, i: int) -> ShopperPrefs:
        fav = {c: self.brands[int(b)] for c, b in zip(self.categories, self.favourite[i],
                                                      strict=True) if b >= 0}
        return ShopperPrefs(float(self.gluten_free[i]), float(self.organic[i]),
                            float(self.vegan[i]), float(self.price_per_dollar[i]),
                            float(self.brand_weight[i]), fav)


def sample_preferences(rng: np.random.Generator, n: int, catalogue: Catalogue,
                       config: ShopperPopulationConfig = DEFAULT_CONFIG) -> Preferences:
    """Tastes of ``n`` independent shoppers (traits drawn independently of each other).

    Gluten-free: ``gf_strict_share`` at ``gf_strict_weight``, ``gf_avoid_share`` at
    ``gf_avoid_weight``, the rest 0. Organic: ``organic_most_share`` log-normal around
    ``organic_most_median``, ``organic_some_share`` around ``organic_some_median`` (sigma
    ``organic_sigma``), ``organic_avoid_share`` at ``organic_avoid_weight``, the rest 0.
    Vegan: ``vegan_share`` at ``vegan_weight``. Price: log-normal, median
    ``price_median_per_dollar``, sigma ``price_sigma``. Brand: weight Exp(``brand_weight_mean``);
    the favourite brand of each category drawn in proportion to the brand's SKUs there.
    """
    n = int(n)
    check_value("sample_preferences", "n", n, Rule(ge=0, integer=True))
    c = config
    u = rng.random((3, n))
    gf = np.where(u[0] < c.gf_strict_share, c.gf_strict_weight,
                  np.where(u[0] < c.gf_strict_share + c.gf_avoid_share, c.gf_avoid_weight, 0.0))
    z = rng.standard_normal(n)
    most = c.organic_most_median * np.exp(c.organic_sigma * z)
    some = c.organic_some_median * np.exp(c.organic_sigma * z)
    t1 = c.organic_most_share
    t2 = t1 + c.organic_some_share
    t3 = t2 + c.organic_avoid_share
    org = np.where(u[1] < t1, most, np.where(u[1] < t2, some,
                                              np.where(u[1] < t3, c.organic_avoid_weight, 0.0)))
    vegan = np.where(u[2] < c.vegan_share, c.vegan_weight, 0.0)
    price = c.price_median_per_dollar * np.exp(c.price_sigma * rng.standard_normal(n))
    brand_w = rng.exponential(c.brand_weight_mean, n) if c.brand_weight_mean > 0 \
        else np.zeros(n)

    cats, brands, per_cat = catalogue.brand_shares
    fav = np.full((n, len(cats)), -1, dtype=np.int64)
    for k, (have, p) in enumerate(per_cat):
        fav[:, k] = have[rng.choice(have.size, size=n, p=p)]
    return Preferences(gf.astype(np.float64), org.astype(np.float64), vegan.astype(np.float64),
                       price, brand_w, cats, brands, fav)


def utility(prefs_row: ShopperPrefs, candidates: np.ndarray | Sequence[int],
            catalogue: Catalogue) -> np.ndarray:
    """(c,) float64 systematic utility of each candidate SKU (catalogue rows) to one shopper:
    gluten_free * GF + organic * organic + vegan * vegan + brand_weight * [favourite brand]
    - price_per_dollar * price [$]."""
    c = np.asarray(candidates, dtype=np.int64)
    fav = prefs_row.favourite
    is_fav = np.array([fav.get(cat) == br for cat, br in
                       zip(catalogue.category[c].tolist(), catalogue.brand[c].tolist(),
                           strict=True)], dtype=bool)
    return (prefs_row.gluten_free * catalogue.gluten_free[c]
            + prefs_row.organic * catalogue.organic[c]
            + prefs_row.vegan * catalogue.vegan[c]
            + prefs_row.brand_weight * is_fav
            - prefs_row.price_per_dollar * catalogue.price_cents[c] / 100.0)

