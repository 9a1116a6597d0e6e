"""How people shop in each kind of store: visit types, behaviour profiles, the profile of a
store by its floor area.

A visit type says what a shopper carries, how much it buys and how it moves; a behaviour
profile holds the visit types of one kind of store with their shares, its mean trip and its
hourly arrival shape (:mod:`agents.arrivals`). Times are seconds, lengths m.

Where the default numbers come from (``docs/shoppers.md`` has the full table; REFERENCES.md
is ``shared/REFERENCES.md``): convenience trips ~2 min 52 s with 2.6-3.0 items (US), ~4 (UK)
(VideoMining; industry reports, REFERENCES.md); supermarket carrying 20 % carts, 28 %
baskets, 51 % none of 3,540 shoppers (Larsen et al. 2020, REFERENCES.md); 10.7 units per
grocery trip and half the trips 5 items or fewer (VideoMining GSI Tracker, reported by CSP
Daily News 2022); 25 s at the shelf per category and 26 min per supermarket trip
(Shopperpedia observations, reported by News Corp Australia); carts pushed at 3-5 km/h (UK
survey of 800 shoppers, press report); free walking (Weidmann 1993, REFERENCES.md).
"""

from __future__ import annotations

import numpy as np

from agents.arrivals import CONVENIENCE_HOURLY, DEFAULT_HOURLY, GROCERY_HOURLY, check_hourly
from params import Rule, check, check_value, config, fail, num

# --------------------------------------------------------------------------- visit types


@config(frozen=True)
class VisitType:
    """One way of shopping: what the shopper carries, how much it buys, how it moves.

    share: fraction of visits of this type in its profile; list_mean: mean number of list
    lines (distinct SKUs wanted) before clipping to [1, list_max]; list_shape: gamma shape k
    of a gamma-Poisson (negative binomial) list size, variance m + m^2/k for m = list_mean - 1,
    0 for a plain Poisson; speed_factor: walking speed multiplier; browse_mean_s: mean
    (exponential) time looking over the shelf before a pick [s]; look_stops_mean: mean
    (Poisson) number of look-only stops; look_mean_s: mean (exponential) time of one [s];
    radius_m: body (plus cart or basket) radius for crowd spacing [m]; qty_probs: P(qty = 1),
    P(qty = 2), ... units kept of one SKU.
    """

    name: str
    share: float = num(ge=0, le=1)
    list_mean: float = num(ge=1, le=500)
    list_max: int = num(ge=1, le=1000, integer=True)
    speed_factor: float = num(ge=0.2, le=2)
    browse_mean_s: float = num(ge=0, le=3600, unit="s")
    look_stops_mean: float = num(ge=0, le=100)
    radius_m: float = num(ge=0.1, le=1.5, unit="m")
    qty_probs: tuple[float, ...]
    list_shape: float = num(0.0, ge=0, le=1e6)
    look_mean_s: float = num(10.0, ge=0, le=3600, unit="s")

    def __post_init__(self) -> None:
        check(self, "name", isinstance(self.name, str) and bool(self.name),
              "a non-empty string")
        p = np.asarray(self.qty_probs, dtype=np.float64)
        check(self, "qty_probs", p.ndim == 1 and p.size != 0 and bool(np.all(np.isfinite(p)))
              and not np.any(p < 0) and not abs(float(p.sum()) - 1.0) > 1e-6,
              "a non-empty sequence of probabilities >= 0 summing to 1", tuple(self.qty_probs))
        object.__setattr__(self, "qty_probs", tuple(float(x) for x in self.qty_probs))

    @property
    def mean_qty(self) -> float:
        """Mean units kept per line (before put-backs and changes of mind)."""
        return float(np.dot(np.arange(1, len(self.qty_probs) + 1), self.qty_probs))


# Convenience store ("kiosk"): Amazon Go style, 1,800 sq ft. Two ways to shop.
GRAB = VisitType(
    name="grab", share=0.80,       # assumption: most c-store shoppers carry by hand
    list_mean=2.6,                 # c-store basket 2.6-3.0 items (US), REFERENCES.md
    list_max=6,                    # assumption: two hands
    speed_factor=1.0,              # free walking (Weidmann 1993)
    browse_mean_s=40.0,            # calibrated: ~3 lines x (40 s + ~1.5 s deciding + 1 s
                                   # reach) + ~25 s walking + one 20 s look ~ 2 min 52 s
                                   # (VideoMining, REFERENCES.md)
    look_stops_mean=1.0,           # the crowd's assumption (agents.crowd)
    look_mean_s=20.0,              # the crowd's browse_mean_s / 2
    radius_m=0.25,                 # body radius, the crowd's default (shoulders ~0.46 m)
    qty_probs=(0.85, 0.12, 0.03),  # assumption: grab trips mostly single units
)
C_BASKET = VisitType(
    name="basket", share=0.20,     # assumption; with GRAB the mean list is 0.8 x 2.6 + 0.2 x 5
                                   # = 3.1 items, between 2.6-3.0 (US) and ~4 (UK)
    list_mean=5.0, list_max=12,    # assumption: a hand basket holds ~10-15 items
    speed_factor=0.95,             # assumption: a loaded basket slows a little
    browse_mean_s=40.0, look_stops_mean=1.5, look_mean_s=20.0,
    radius_m=0.30,                 # assumption: body plus a basket at the side
    qty_probs=(0.80, 0.15, 0.05),  # the crowd's assumption (agents.crowd)
)

# Supermarket (grocery and bigger). Shares: Larsen et al. 2020, 20 % carts, 28 % baskets,
# 51 % none (3,540 shoppers; the 1 % left over is spread pro rata).
HAND = VisitType(
    name="hand", share=0.51 / 0.99,
    list_mean=2.5, list_max=8,     # with BASKET and CART: ~10 units a trip and ~60 % of trips
                                   # 5 units or fewer (VideoMining GSI: 10.7, half <= 5)
    speed_factor=1.0,              # free walking (Weidmann 1993)
    browse_mean_s=25.0,            # 25 s at the shelf per category (Shopperpedia)
    look_stops_mean=1.0,           # assumption
    look_mean_s=8.0,               # assumption: a glance along a shelf
    radius_m=0.25,
    qty_probs=(0.85, 0.12, 0.03),
)
BASKET = VisitType(
    name="basket", share=0.28 / 0.99,
    list_mean=7.0, list_max=25, list_shape=3.0,   # assumption (see HAND); overdispersed
    speed_factor=0.95,             # assumption
    browse_mean_s=25.0, look_stops_mean=2.0, look_mean_s=8.0,
    radius_m=0.30,
    qty_probs=(0.78, 0.15, 0.05, 0.02),
)
CART = VisitType(
    name="cart", share=0.20 / 0.99,
    list_mean=20.0, list_max=80, list_shape=2.0,  # stock-up trips: > 15 items (VideoMining)
    speed_factor=0.83,             # carts pushed at 3-5 km/h (UK survey, press): 4 / 3.6 / 1.34
    browse_mean_s=25.0, look_stops_mean=4.0, look_mean_s=8.0,
    radius_m=0.45,                 # assumption: a 0.55 x 0.95 m cart with its pusher
    qty_probs=(0.65, 0.18, 0.07, 0.04, 0.03, 0.03),  # assumption: 5+ of one SKU ~6 % of lines
)

# --------------------------------------------------------------------------- profiles


@config(frozen=True)
class BehaviourProfile:
    """The visit types of one kind of store, its mean trip [s] and its hourly arrival shape."""

    name: str
    visit_types: tuple[VisitType, ...]
    mean_trip_s: float = num(gt=0, le=86400, unit="s")
    hourly: tuple[float, ...] = DEFAULT_HOURLY

    def __post_init__(self) -> None:
        object.__setattr__(self, "visit_types", tuple(self.visit_types))
        if not self.visit_types or not all(isinstance(v, VisitType) for v in self.visit_types):
            fail(self, "visit_types", "at least one VisitType", self.visit_types)
        shares = [v.share for v in self.visit_types]
        p = np.asarray(shares, dtype=np.float64)
        check(self, "visit_types", not abs(float(p.sum()) - 1.0) > 1e-6,
              "visit types whose shares sum to 1", tuple(shares))
        check_hourly(self, self.hourly)
        object.__setattr__(self, "hourly", tuple(float(x) for x in self.hourly))

    @property
    def shares(self) -> np.ndarray:
        """(v,) float64 share of each visit type."""
        return np.array([v.share for v in self.visit_types])

    @property
    def mean_list(self) -> float:
        """Mean list lines per trip (share-weighted list_mean, before clipping)."""
        return float(sum(v.share * v.list_mean for v in self.visit_types))

    def visit(self, name: str) -> VisitType:
        for v in self.visit_types:
            if v.name == name:
                return v
        raise KeyError(f"{self.name}: no visit type {name!r}; have "
                       f"{', '.join(v.name for v in self.visit_types)}")


CONVENIENCE = BehaviourProfile(
    name="convenience", visit_types=(GRAB, C_BASKET),
    mean_trip_s=172.0,             # ~2 min 52 s (VideoMining, REFERENCES.md)
    hourly=CONVENIENCE_HOURLY,
)
SUPERMARKET = BehaviourProfile(
    name="supermarket", visit_types=(HAND, BASKET, CART),
    mean_trip_s=26 * 60.0,         # 26 min average supermarket shop (Shopperpedia)
    hourly=GROCERY_HOURLY,
)

CONVENIENCE_MAX_M2 = 500.0
"""Stores below this floor area [m2] get :data:`CONVENIENCE`, others :data:`SUPERMARKET`.
REFERENCES.md puts Just Walk Out stores from 1,800 sq ft (167 m2, Amazon Go) to 40,000 sq ft;
Amazon Go Grocery is 10,400 sq ft (966 m2). 500 m2 (5,380 sq ft) splits the kiosk-sized
formats (Go, Standard Cognition 1,900 sq ft, the 4,000 sq ft Tesco/Trigo store) from
grocery-sized ones; the presets fall on either side (kiosk 168 m2, grocery 966 m2)."""


def profile_for_area(area_m2: float) -> BehaviourProfile:
    """:data:`CONVENIENCE` below :data:`CONVENIENCE_MAX_M2` of floor area [m2], else
    :data:`SUPERMARKET`. Raises ValueError for a non-finite or negative area."""
    check_value("profile_for_area", "area_m2", area_m2, Rule(ge=0, unit="m2"))
    return CONVENIENCE if area_m2 < CONVENIENCE_MAX_M2 else SUPERMARKET


