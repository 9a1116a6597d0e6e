"""Sampled shopper behaviour: visit types, arrivals, tastes, choices and trips.

Which catalogue rows are one product (a list line's substitutes) is read off the names by
:mod:`scenes.substitutes`.

Pure sampling functions: a ``numpy.random.Generator`` in, plain data out. Nothing here moves
a body or touches the world; the crowd (``agents.crowd``) routes the lines a trip samples and
carries out the actions :func:`trip_actions` spells. Same generator state, same output.

SKUs are catalogue row numbers, bins ``store.bins`` row numbers (as in ``agents.actions``);
times are seconds, speeds m/s, lengths m, prices US cents in the catalogue and utilities per
US dollar here.

Where the default numbers come from (``docs/shoppers.md`` has the full table; REFERENCES.md
is ``shared/REFERENCES.md``):

- visit types: convenience trips ~2 min 52 s with 2.6-3.0 items (US), ~4 (UK)
  (VideoMining; industry reports, REFERENCES.md); supermarket carrying 20 % carts, 28 %
  baskets, 51 % none of 3,540 shoppers (Larsen et al. 2020, REFERENCES.md); 10.7 units per
  grocery trip and half the trips 5 items or fewer (VideoMining GSI Tracker, reported by
  CSP Daily News 2022); 25 s at the shelf per category and 26 min per supermarket trip
  (Shopperpedia observations, reported by News Corp Australia); carts pushed at 3-5 km/h
  (UK survey of 800 shoppers, press report).
- walking speed N(1.34, 0.26) m/s (Weidmann 1993, REFERENCES.md).
- arrivals: weekday grocery shopping peaks 11:00-12:59 and 15:00-15:59 (USDA ERS, ATUS
  2014-17, Zeballos & Ralston 2019) and arrivals peak 16:00-17:00 (Time Use Institute 2008);
  convenience stores peak on the commutes, 5-9 and 16-20 h (NPD Convenience Store Monitor
  2011), with 12:00 the busiest single hour, ~8 % of visits (GasBuddy Q3 2018).
- tastes: celiac disease 0.7 % of the US population, 0.3 % undiagnosed, people avoiding
  gluten without it 1.7 % (Choung et al. 2017, Mayo Clin. Proc., NHANES 2009-14); 6 % say
  most and 34 % some of their food is organic (Pew 2016), 15 % actively avoid organic
  (Gallup 2014); 3 % vegan (Gallup 2018; 1 % in 2023); mean price elasticity -2.62 over
  1,851 estimates (Bijmolt, van Heerde & Pieters 2005).
- choice: multinomial logit, drawn as Gumbel-max (McFadden 1974); time at the shelf grows as
  a drift-diffusion decision's does when the two best options are close (Ratcliff 1978;
  Krajbich, Armel & Rangel 2010); shoppers spend ~12 s choosing, 42 % 5 s or less (Dickson
  & Sawyer 1990).
- put-backs: 10 % of picks take one unit too many and put it back, 5 % take one and put it
  back (the crowd's assumption, ``agents.crowd``); swaps and misplacements: assumptions,
  each reasoned where it is set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.actions import Action, Exit, Inspect, Look, Pick, PutBack
from scenes.catalog import Catalogue

# --------------------------------------------------------------------------- validation


def _check(owner: str, name: str, value: float, lo: float, hi: float,
           lo_open: bool = False, hi_open: bool = False) -> None:
    """Raise ValueError naming ``owner.name`` unless value is a finite number in the range
    (``lo_open`` / ``hi_open``: that end excluded)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open
                                                                    else v <= hi)
    if not ok:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{owner}.{name} must be in {left}{lo}, {hi}{right}, got {value!r}")


def _check_probs(owner: str, name: str, probs: Sequence[float]) -> None:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) \
            or abs(float(p.sum()) - 1.0) > 1e-6:
        raise ValueError(f"{owner}.{name} must be a non-empty sequence of probabilities >= 0 "
                         f"summing to 1, got {tuple(probs)!r}")


# --------------------------------------------------------------------------- visit types


@dataclass(frozen=True)
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
    share: float
    list_mean: float
    list_max: int
    speed_factor: float
    browse_mean_s: float
    look_stops_mean: float
    radius_m: float
    qty_probs: tuple[float, ...]
    list_shape: float = 0.0
    look_mean_s: float = 10.0

    def __post_init__(self) -> None:
        o = f"VisitType({self.name!r})"
        if not self.name:
            raise ValueError("VisitType.name must be a non-empty string")
        _check(o, "share", self.share, 0.0, 1.0)
        _check(o, "list_mean", self.list_mean, 1.0, 500.0)
        if not isinstance(self.list_max, (int, np.integer)) or not 1 <= self.list_max <= 1000:
            raise ValueError(f"{o}.list_max must be an integer in [1, 1000], got "
                             f"{self.list_max!r}")
        _check(o, "list_shape", self.list_shape, 0.0, 1e6)
        _check(o, "speed_factor", self.speed_factor, 0.2, 2.0)
        _check(o, "browse_mean_s", self.browse_mean_s, 0.0, 3600.0)
        _check(o, "look_stops_mean", self.look_stops_mean, 0.0, 100.0)
        _check(o, "look_mean_s", self.look_mean_s, 0.0, 3600.0)
        _check(o, "radius_m", self.radius_m, 0.1, 1.5)
        _check_probs(o, "qty_probs", self.qty_probs)
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

# --------------------------------------------------------------------------- time of day

# Relative arrival rates by hour (index 0 = 00:00-00:59), weekday.
# Grocery: shaped after ATUS 2014-17 (USDA ERS, Zeballos & Ralston 2019): peaks 11:00-12:59
# and 15:00-15:59; arrivals high 15-17 h (Time Use Institute 2008); night hours an
# assumption (a 24 h store, near empty 1-4 h). The peak hour is ~8 % of a day's arrivals.
GROCERY_HOURLY: tuple[float, ...] = (
    0.10, 0.05, 0.03, 0.03, 0.05, 0.15, 0.35, 0.60, 0.90, 1.15, 1.40, 1.60,
    1.60, 1.45, 1.45, 1.60, 1.60, 1.50, 1.25, 0.95, 0.65, 0.40, 0.25, 0.15,
)
# Convenience: commute peaks 5-9 h and 16-20 h (NPD Convenience Store Monitor 2011), noon the
# busiest hour with ~8 % of visits (GasBuddy Q3 2018; here 8.5 %); the three peaks (6:30-9,
# 11:30-13:30, 17:30-19:30) hold 45 % of visits (NPD, reported as "nearly 50 %").
CONVENIENCE_HOURLY: tuple[float, ...] = (
    0.30, 0.18, 0.12, 0.12, 0.20, 0.50, 1.05, 1.65, 1.50, 1.00, 0.90, 1.30,
    1.90, 1.30, 0.95, 1.05, 1.35, 1.70, 1.70, 1.20, 0.85, 0.65, 0.50, 0.40,
)
DEFAULT_HOURLY = GROCERY_HOURLY


def _check_hourly(owner: str, hourly: Sequence[float]) -> None:
    h = np.asarray(hourly, dtype=np.float64)
    if h.shape != (24,) or not np.all(np.isfinite(h)) or np.any(h < 0) or not h.max() > 0:
        raise ValueError(f"{owner}.hourly must be 24 finite rates >= 0, not all 0, got "
                         f"{tuple(hourly)!r}")


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class BehaviourProfile:
    """The visit types of one kind of store, its mean trip [s] and its hourly arrival shape."""

    name: str
    visit_types: tuple[VisitType, ...]
    mean_trip_s: float
    hourly: tuple[float, ...] = DEFAULT_HOURLY

    def __post_init__(self) -> None:
        o = f"BehaviourProfile({self.name!r})"
        object.__setattr__(self, "visit_types", tuple(self.visit_types))
        if not self.visit_types or not all(isinstance(v, VisitType) for v in self.visit_types):
            raise ValueError(f"{o}.visit_types must hold at least one VisitType")
        _check_probs(o, "visit_types shares", [v.share for v in self.visit_types])
        _check(o, "mean_trip_s", self.mean_trip_s, 0.0, 86400.0, lo_open=True)
        _check_hourly(o, self.hourly)
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
    if not (isinstance(area_m2, (int, float, np.integer, np.floating))
            and math.isfinite(area_m2) and area_m2 >= 0):
        raise ValueError(f"profile_for_area: area_m2 must be a finite number >= 0, got "
                         f"{area_m2!r}")
    return CONVENIENCE if area_m2 < CONVENIENCE_MAX_M2 else SUPERMARKET


# --------------------------------------------------------------------------- tunables


@dataclass(frozen=True)
class ShopperPopulationConfig:
    """Tunables of tastes, choices, put-backs and walking; every default is sourced in
    ``docs/shoppers.md``. Weights are utilities (logit units, Gumbel scale ``choice_scale``);
    price sensitivity is utility per US dollar."""

    # gluten: Choung et al. 2017 (NHANES 2009-14): celiac 0.7 %, of which 0.3 % undiagnosed,
    # so ~0.4 % on a strict diet; people avoiding gluten without celiac 1.7 % (2013-14)
    gf_strict_share: float = 0.004
    gf_strict_weight: float = 8.0     # assumption: e^8 ~ 3,000:1, never the gluten item
    gf_avoid_share: float = 0.017
    gf_avoid_weight: float = 3.0      # assumption: pays ~$3 more at median price sensitivity
    # organic: Pew 2016: 6 % say most, 34 % some of their food is organic; Gallup 2014: 15 %
    # actively avoid organic food
    organic_most_share: float = 0.06
    organic_most_median: float = 2.5  # assumption: ~$2.80 premium at median price sensitivity
    organic_some_share: float = 0.34
    organic_some_median: float = 0.8  # assumption: ~$0.90 premium
    organic_sigma: float = 0.5        # assumption: log-normal spread of the two weights
    organic_avoid_share: float = 0.15
    organic_avoid_weight: float = -0.5
    # vegan: Gallup 2018 3 %, 2023 1 %
    vegan_share: float = 0.02
    vegan_weight: float = 5.0         # assumption: strong, but food outside the diet is rare
    # price: logit own-price elasticity -b p (1 - s); the meta-analytic mean -2.62 (Bijmolt,
    # van Heerde & Pieters 2005) at a $4 item with 30 % share gives b ~ 0.94 per dollar
    price_median_per_dollar: float = 0.9
    price_sigma: float = 0.5          # assumption: log-normal, 90 % of shoppers 0.4-2.0 /$
    # brand: a favourite brand per category, affinity Exp(mean); assumption: half the
    # shoppers care less than 0.55 (a 1.7:1 odds boost), one in seven more than 1.6 (5:1)
    brand_weight_mean: float = 0.8
    # choice (McFadden 1974 logit): idiosyncratic Gumbel taste shock of this scale
    choice_scale: float = 1.0
    # hesitation: drift-diffusion mean decision time (Ratcliff 1978; Krajbich et al. 2010)
    # t0 + (a / (k d)) tanh(a k d), a^2 = hesitate_tie_s - t0, d = utility gap of the best two
    hesitate_base_s: float = 0.5      # t0 [s]: a clear choice, hand straight in
    hesitate_tie_s: float = 6.0       # [s] mean at a dead heat (12 s average at the shelf,
                                      # 25 % over 15 s: Dickson & Sawyer 1990, browsing included)
    hesitate_drift_per_util: float = 1.0  # k [1/s per utility]
    hesitate_sigma: float = 0.35      # log-normal spread of one hesitation, mean kept
                                      # (assumption)
    # swap (pick the first impression, inspect, put back, take the best): probability
    # swap_max_p * exp(-d / swap_scale_util); assumption: 6 % of choices between two equally
    # liked items, ~1.5 % of kiosk lines, ~7 % of lines among a supercenter's hundreds
    swap_max_p: float = 0.25
    swap_scale_util: float = 0.5
    # put-backs of the same SKU (the crowd's assumptions, agents.crowd)
    p_take_extra: float = 0.10        # one unit too many taken, inspected, put back
    p_change_mind: float = 0.05       # one unit taken, inspected, put back; nothing kept
    inspect_mean_s: float = 2.5       # [s] holding an item before putting it back
    # misplacement: of swapped items, the share carried on and dropped at a later shelf
    misplace_p: float = 0.15          # assumption: a few per thousand lines
    # look-only stops: how much the shopper's tastes pick the shelf it stops at. 0: a bin at
    # random (the v1 crowd, kept as the default so benchmark suite v1 stays reproducible);
    # 1: the bin of a logit choice over every stocked SKU with the same utility as a list
    # line (attention follows preference: eye-tracked shoppers look longest at the brands
    # they use, Chandon, Hutchinson, Bradlow & Young 2009, J. Marketing 73(6); unplanned
    # considerations at the shelf, Hui, Huang, Suher & Inman 2013, JMR 50(4)). Utilities are
    # multiplied by it, so values between scale the attention down. The insights study
    # varies it (experiments/studies/insights.toml).
    look_taste: float = 0.0
    # walking speed (Weidmann 1993), clipped to [speed_min, speed_max] x speed_factor
    speed_mean: float = 1.34
    speed_sd: float = 0.26
    speed_min: float = 0.8
    speed_max: float = 1.8

    def __post_init__(self) -> None:
        o = "ShopperPopulationConfig"
        unit = ("gf_strict_share", "gf_avoid_share", "organic_most_share",
                "organic_some_share", "organic_avoid_share", "vegan_share", "swap_max_p",
                "p_take_extra", "p_change_mind", "misplace_p")
        for f in unit:
            _check(o, f, getattr(self, f), 0.0, 1.0)
        _check(o, "look_taste", self.look_taste, 0.0, 10.0)
        for f in ("gf_strict_weight", "gf_avoid_weight", "organic_avoid_weight",
                  "vegan_weight"):
            _check(o, f, getattr(self, f), -50.0, 50.0)
        for f in ("organic_most_median", "organic_some_median", "price_median_per_dollar",
                  "choice_scale", "swap_scale_util", "hesitate_drift_per_util", "speed_mean"):
            _check(o, f, getattr(self, f), 0.0, 100.0, lo_open=True)
        for f in ("organic_sigma", "price_sigma", "hesitate_sigma", "brand_weight_mean",
                  "speed_sd"):
            _check(o, f, getattr(self, f), 0.0, 10.0)
        _check(o, "hesitate_base_s", self.hesitate_base_s, 0.0, 600.0)
        _check(o, "hesitate_tie_s", self.hesitate_tie_s, self.hesitate_base_s, 600.0)
        _check(o, "inspect_mean_s", self.inspect_mean_s, 0.0, 600.0)
        _check(o, "speed_min", self.speed_min, 0.0, 5.0, lo_open=True)
        _check(o, "speed_max", self.speed_max, self.speed_min, 5.0)
        for a, b in (("gf_strict_share", "gf_avoid_share"),
                     ("p_take_extra", "p_change_mind")):
            if getattr(self, a) + getattr(self, b) > 1:
                raise ValueError(f"{o}.{a} + {b} must be in [0, 1], got "
                                 f"{getattr(self, a) + getattr(self, b)}")
        org = self.organic_most_share + self.organic_some_share + self.organic_avoid_share
        if org > 1:
            raise ValueError(f"{o}.organic_most_share + organic_some_share + "
                             f"organic_avoid_share must be in [0, 1], got {org}")


DEFAULT_CONFIG = ShopperPopulationConfig()

# --------------------------------------------------------------------------- arrivals


def rate_for_crowd(shoppers_in_store: float, mean_trip_s: float) -> float:
    """Arrival rate [1/s] that keeps ``shoppers_in_store`` inside on average when a trip
    lasts ``mean_trip_s`` [s] (Little's law, L = lambda W)."""
    _check("rate_for_crowd", "shoppers_in_store", shoppers_in_store, 0.0, 1e6)
    _check("rate_for_crowd", "mean_trip_s", mean_trip_s, 0.0, 1e6, lo_open=True)
    return float(shoppers_in_store) / float(mean_trip_s)


@dataclass(frozen=True)
class ArrivalProcess:
    """Non-homogeneous Poisson arrivals with a piecewise-constant hourly profile.

    Run time t = 0 [s] is clock hour ``start_hour`` (0 <= h < 24, fractions allowed). The
    rate at clock hour h is ``rate_hz_at_start * hourly[floor(h)] / hourly[floor(start_hour)]``
    [1/s]; the profile repeats every 24 h. Sampled by thinning (Lewis & Shedler 1979).
    """

    rate_hz_at_start: float
    start_hour: float
    hourly: tuple[float, ...] = DEFAULT_HOURLY

    def __post_init__(self) -> None:
        _check("ArrivalProcess", "rate_hz_at_start", self.rate_hz_at_start, 0.0, 1e6)
        _check("ArrivalProcess", "start_hour", self.start_hour, 0.0, 24.0, hi_open=True)
        _check_hourly("ArrivalProcess", self.hourly)
        object.__setattr__(self, "hourly", tuple(float(x) for x in self.hourly))
        if self.rate_hz_at_start > 0 and self.hourly[int(self.start_hour)] == 0:
            raise ValueError(f"ArrivalProcess.start_hour {self.start_hour} falls in an hour "
                             f"whose hourly rate is 0; a rate_hz_at_start > 0 cannot be scaled "
                             f"from it (start in an open hour, or pass rate_hz_at_start=0)")

    @property
    def scale_hz(self) -> float:
        """[1/s] per unit of relative hourly rate."""
        h0 = self.hourly[int(self.start_hour)]
        return self.rate_hz_at_start / h0 if h0 > 0 else 0.0

    @property
    def max_rate_hz(self) -> float:
        return self.scale_hz * max(self.hourly)

    def rate_at(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """Arrival rate [1/s] at run time ``t_s`` [s] (scalar or array)."""
        if np.ndim(t_s) == 0:
            hour = int(math.floor((self.start_hour + float(t_s) / 3600.0) % 24.0)) % 24
            return self.scale_hz * self.hourly[hour]
        t = np.asarray(t_s, dtype=np.float64)
        hour = np.floor(np.mod(self.start_hour + t / 3600.0, 24.0)).astype(np.int64) % 24
        return self.scale_hz * np.asarray(self.hourly)[hour]

    def next_after(self, t_s: float, rng: np.random.Generator) -> float:
        """The first arrival after run time ``t_s`` [s] (``inf`` when the rate is 0)."""
        lam = self.max_rate_hz
        if lam <= 0:
            return math.inf
        t = float(t_s)
        while True:
            t += float(rng.exponential(1.0 / lam))
            if rng.random() * lam < self.rate_at(t):
                return t

    def arrivals(self, t0_s: float, t1_s: float, rng: np.random.Generator) -> np.ndarray:
        """(k,) float64 every arrival time in (t0_s, t1_s] [s], ascending."""
        out = []
        t = self.next_after(t0_s, rng)
        while t <= t1_s:
            out.append(t)
            t = self.next_after(t, rng)
        return np.array(out, dtype=np.float64)


# --------------------------------------------------------------------------- preferences


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
    if n < 0:
        raise ValueError(f"sample_preferences: n must be >= 0, got {n}")
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


# --------------------------------------------------------------------------- choice


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


@dataclass(frozen=True)
class Choice:
    """first: SKU taken first (its quick first impression); final: SKU kept; hesitate_s: time
    deciding with the hand near the shelf [s]; swapped: first != final (first taken, inspected,
    put back)."""

    first: int
    final: int
    hesitate_s: float
    swapped: bool


def hesitation_mean_s(gap: float | np.ndarray,
                      config: ShopperPopulationConfig = DEFAULT_CONFIG) -> float | np.ndarray:
    """Mean hesitation [s] when the best two utilities differ by ``gap`` (>= 0; inf for a
    single candidate): t0 + (a / (k gap)) tanh(a k gap), a^2 = hesitate_tie_s - t0, the mean
    time of a drift-diffusion decision with drift k gap, unit noise and bounds +-a; it falls
    from ``hesitate_tie_s`` at a dead heat to ``hesitate_base_s`` for a clear choice."""
    c = config
    a = math.sqrt(max(c.hesitate_tie_s - c.hesitate_base_s, 0.0))
    if np.ndim(gap) == 0:
        v = c.hesitate_drift_per_util * max(float(gap), 0.0)
        ddm = 0.0 if math.isinf(v) else a / v * math.tanh(a * v) if v > 1e-9 else a * a
        return c.hesitate_base_s + ddm
    g = np.asarray(gap, dtype=np.float64)
    v = c.hesitate_drift_per_util * np.maximum(g, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ddm = np.where(v > 1e-9, a / np.where(v > 1e-9, v, 1.0) * np.tanh(a * v), a * a)
    ddm = np.where(np.isinf(v), 0.0, ddm)
    out = c.hesitate_base_s + ddm
    return float(out) if out.ndim == 0 else out


def swap_probability(gap: float | np.ndarray,
                     config: ShopperPopulationConfig = DEFAULT_CONFIG) -> float | np.ndarray:
    """P(first impression != final choice) when the best two utilities differ by ``gap``:
    swap_max_p exp(-gap / swap_scale_util) (0 for a single candidate, gap = inf)."""
    if np.ndim(gap) == 0:
        return config.swap_max_p * math.exp(-max(float(gap), 0.0) / config.swap_scale_util)
    g = np.asarray(gap, dtype=np.float64)
    out = config.swap_max_p * np.exp(-np.maximum(g, 0.0) / config.swap_scale_util)
    return float(out) if out.ndim == 0 else out


def choose(rng: np.random.Generator, prefs_row: ShopperPrefs,
           candidates: np.ndarray | Sequence[int], catalogue: Catalogue,
           config: ShopperPopulationConfig = DEFAULT_CONFIG) -> Choice:
    """One logit choice among ``candidates`` (catalogue rows of SKUs present in the store).

    The shopper keeps the candidate with the highest utility plus a Gumbel taste shock of
    scale ``choice_scale`` (multinomial logit). With gap d between the best two totals, it
    hesitates :func:`hesitation_mean_s` (d) times a log-normal factor (mean 1, sigma
    ``hesitate_sigma``), and with :func:`swap_probability` (d) first takes the runner-up,
    inspects it and puts it back. Always draws c Gumbels, one normal and one uniform.
    """
    c = np.asarray(candidates, dtype=np.int64)
    if c.ndim != 1 or c.size == 0:
        raise ValueError("choose: candidates must be a non-empty 1-D sequence of SKUs")
    total = utility(prefs_row, c, catalogue) + rng.gumbel(0.0, config.choice_scale, c.size)
    z = float(rng.standard_normal())
    u = float(rng.random())
    if c.size == 1:
        best, second, gap = 0, 0, math.inf
    else:
        order = np.argsort(-total, kind="stable")
        best, second = int(order[0]), int(order[1])
        gap = float(total[best] - total[second])
    sig = config.hesitate_sigma
    hes = hesitation_mean_s(gap, config) * math.exp(sig * z - 0.5 * sig * sig)
    swapped = c.size > 1 and u < swap_probability(gap, config)
    first = int(c[second]) if swapped else int(c[best])
    return Choice(first, int(c[best]), float(hes), bool(swapped))


# --------------------------------------------------------------------------- trips


@dataclass(frozen=True)
class Line:
    """One list line as carried out.

    sku: SKU kept (catalogue row); qty: units kept (0: the shopper changed its mind);
    first_sku: -1, or the SKU taken first, inspected and put back before ``sku`` (a swap);
    extra: units of ``sku`` taken too many, inspected and put back; hesitate_s: deciding at
    the shelf [s]; browse_s: looking over the shelf before it [s].
    """

    sku: int
    qty: int
    first_sku: int = -1
    extra: int = 0
    hesitate_s: float = 0.0
    browse_s: float = 0.0

    @property
    def swapped(self) -> bool:
        return self.first_sku >= 0

    @property
    def taken(self) -> int:
        """Units of ``sku`` taken off the shelf (kept plus put back)."""
        return self.qty + self.extra


@dataclass(frozen=True)
class Trip:
    """visit: its VisitType; speed_mps: desired walking speed [m/s]; radius_m: body radius
    [m]; lines: the list lines in list (not visit) order; look_s: seconds of each look-only
    stop (the crowd picks their bins)."""

    visit: VisitType
    speed_mps: float
    radius_m: float
    lines: tuple[Line, ...]
    look_s: tuple[float, ...] = ()


def sample_visit(rng: np.random.Generator, profile: BehaviourProfile) -> VisitType:
    """A visit type drawn by its share."""
    k = int(rng.choice(len(profile.visit_types), p=profile.shares / profile.shares.sum()))
    return profile.visit_types[k]


def sample_speed(rng: np.random.Generator, visit: VisitType,
                 config: ShopperPopulationConfig = DEFAULT_CONFIG) -> float:
    """Desired walking speed [m/s]: N(speed_mean, speed_sd) x speed_factor, clipped to
    [speed_min, speed_max] x speed_factor (Weidmann 1993)."""
    f = visit.speed_factor
    v = rng.normal(config.speed_mean, config.speed_sd) * f
    return float(np.clip(v, config.speed_min * f, config.speed_max * f))


def sample_list_size(rng: np.random.Generator, visit: VisitType) -> int:
    """Lines on the list: 1 + Poisson(list_mean - 1), or gamma-Poisson with shape
    ``list_shape`` when > 0, clipped to [1, list_max]."""
    m = visit.list_mean - 1.0
    if visit.list_shape > 0 and m > 0:
        m = rng.gamma(visit.list_shape, m / visit.list_shape)
    return int(min(visit.list_max, 1 + rng.poisson(m)))


def look_stops(rng: np.random.Generator, visit: VisitType) -> int:
    """Number of look-only stops on a trip: Poisson(look_stops_mean)."""
    return int(rng.poisson(visit.look_stops_mean))


def look_seconds(rng: np.random.Generator, visit: VisitType, k: int) -> np.ndarray:
    """(k,) float64 seconds of each look-only stop: Exp(look_mean_s)."""
    return rng.exponential(visit.look_mean_s, int(k)) if visit.look_mean_s > 0 \
        else np.zeros(int(k))


@dataclass(frozen=True)
class StockIndex:
    """The stocked SKUs of a store by substitute group: ``skus[start[k]:start[k] + count[k]]``
    (int64 catalogue rows, ascending) are the stocked members of group ``group[k]``."""

    group: np.ndarray
    start: np.ndarray
    count: np.ndarray
    skus: np.ndarray


def stock_index(groups: np.ndarray, stocked_skus: np.ndarray | Sequence[int]) -> StockIndex:
    """Index the stocked SKUs (catalogue rows present in the store; repeats ignored) by their
    :func:`scenes.substitutes.substitute_groups` group, once per store, for :func:`sample_trip`."""
    stocked = np.unique(np.asarray(stocked_skus, dtype=np.int64))
    g = np.asarray(groups, dtype=np.int64)[stocked]
    order = np.argsort(g, kind="stable")
    grp, start, count = np.unique(g[order], return_index=True, return_counts=True)
    return StockIndex(grp, start, count, stocked[order])


def sample_trip(rng: np.random.Generator, profile: BehaviourProfile, prefs_row: ShopperPrefs,
                catalogue: Catalogue, groups: np.ndarray,
                stocked_skus: np.ndarray | Sequence[int] | StockIndex,
                config: ShopperPopulationConfig = DEFAULT_CONFIG,
                visit: VisitType | None = None) -> Trip:
    """One shopper's trip.

    groups: (s,) int64 :func:`scenes.substitutes.substitute_groups` of the catalogue; stocked_skus: (k,) int64
    catalogue rows present in the store (only they are candidates), or their
    :func:`stock_index` (faster for big stores: build it once). The visit type is drawn from
    ``profile`` unless given; the list holds :func:`sample_list_size` distinct substitute
    groups (at most as many as are stocked), drawn uniformly among stocked groups; each line
    is a :func:`choose` among its group's stocked SKUs with ``qty`` from ``qty_probs``;
    ``p_change_mind`` of lines keep nothing (one unit taken and put back), ``p_take_extra``
    take one unit more and put it back; ``browse_s`` ~ Exp(browse_mean_s); the look-only
    stops are :func:`look_stops` and :func:`look_seconds`.
    """
    visit = sample_visit(rng, profile) if visit is None else visit
    speed = sample_speed(rng, visit, config)
    index = stocked_skus if isinstance(stocked_skus, StockIndex) \
        else stock_index(groups, stocked_skus)
    n = sample_list_size(rng, visit)
    lines: list[Line] = []
    if index.group.size:
        pick = rng.choice(index.group.size, size=min(n, index.group.size), replace=False)
        qty_p = np.asarray(visit.qty_probs)
        for k in pick.tolist():
            cands = index.skus[index.start[k]:index.start[k] + index.count[k]]
            ch = choose(rng, prefs_row, cands, catalogue, config)
            qty = 1 + int(rng.choice(qty_p.size, p=qty_p))
            u = float(rng.random())
            browse = float(rng.exponential(visit.browse_mean_s)) if visit.browse_mean_s > 0 \
                else 0.0
            first = ch.first if ch.swapped else -1
            extra = 0
            if u < config.p_change_mind:
                qty, extra, first = 0, 1, -1
            elif u < config.p_change_mind + config.p_take_extra:
                extra = 1
            lines.append(Line(ch.final, qty, first, extra, ch.hesitate_s, browse))
    looks = look_seconds(rng, visit, look_stops(rng, visit))
    return Trip(visit, speed, visit.radius_m, tuple(lines), tuple(float(x) for x in looks))


def trip_actions(steps: Sequence[Line | Look], bins_for_line: Sequence[int],
                 misplace_p: float, rng: np.random.Generator,
                 inspect_mean_s: float = DEFAULT_CONFIG.inspect_mean_s,
                 first_bins: Sequence[int] | None = None) -> list[Action]:
    """The ``agents.actions`` of a trip whose lines are in visit order, ending with Exit.

    steps: Lines in the order the shopper visits them, with ``Look`` stops interleaved (passed
    through as they are); bins_for_line: one bin per Line (Looks skipped) holding its ``sku``,
    -1 to let the crowd choose; first_bins: the same for each swapped line's ``first_sku``
    (default -1). A line becomes Pick(sku, qty + extra, bin, browse_s, hesitate_s), then
    Inspect and PutBack(sku, extra) when extra > 0. A swap becomes Pick(first_sku, 1) with the
    browsing and hesitation, Inspect, PutBack(first_sku, 1) to its own bin, then the pick of
    ``sku`` with no further delay; with probability ``misplace_p`` the shopper instead keeps
    the first item and drops it at the next line with a known bin (PutBack to that line's
    bin, which holds another SKU: a misplacement), when there is one. Inspect times are
    Gamma(shape 4) with mean ``inspect_mean_s`` [s].
    """
    _check("trip_actions", "misplace_p", misplace_p, 0.0, 1.0)
    _check("trip_actions", "inspect_mean_s", inspect_mean_s, 0.0, 600.0)
    n_lines = sum(isinstance(s, Line) for s in steps)
    if len(bins_for_line) != n_lines:
        raise ValueError(f"trip_actions: bins_for_line has {len(bins_for_line)} entries for "
                         f"{n_lines} lines; give one bin (or -1) per Line")
    if first_bins is not None and len(first_bins) != n_lines:
        raise ValueError(f"trip_actions: first_bins has {len(first_bins)} entries for "
                         f"{n_lines} lines; give one bin (or -1) per Line")
    bins = [int(b) for b in bins_for_line]
    # index of the next line (after each line) with a known bin: where a carried item goes
    next_known = [-1] * n_lines
    nxt = -1
    for j in range(n_lines - 1, -1, -1):
        next_known[j] = nxt
        if bins[j] >= 0:
            nxt = j

    def inspect() -> Inspect:
        s = float(rng.gamma(4.0, inspect_mean_s / 4.0)) if inspect_mean_s > 0 else 0.0
        return Inspect(s)

    out: list[Action] = []
    carried: dict[int, list[int]] = {}    # line index -> SKUs to drop at that line's bin
    j = -1
    for step in steps:
        if isinstance(step, Look):
            out.append(step)
            continue
        if not isinstance(step, Line):
            raise TypeError(f"trip_actions: steps must be Line or Look, got {type(step)!r}")
        j += 1
        line, b = step, bins[j]
        if line.qty < 0 or line.extra < 0 or line.taken == 0:
            raise ValueError(f"trip_actions: line {j} takes no units ({line!r})")
        if line.swapped:
            fb = -1 if first_bins is None else int(first_bins[j])
            out.append(Pick(line.first_sku, 1, fb, line.browse_s, line.hesitate_s))
            out.append(inspect())
            if next_known[j] >= 0 and rng.random() < misplace_p:
                carried.setdefault(next_known[j], []).append(line.first_sku)
            else:
                out.append(PutBack(line.first_sku, 1, -1))
            out.append(Pick(line.sku, line.taken, b, 0.0, 0.0))
        else:
            out.append(Pick(line.sku, line.taken, b, line.browse_s, line.hesitate_s))
        if line.extra:
            out.append(inspect())
            out.append(PutBack(line.sku, line.extra, -1))
        for sku in carried.pop(j, []):
            out.append(PutBack(sku, 1, b))
    out.append(Exit())
    return out


__all__ = [
    "BASKET", "CART", "CONVENIENCE", "CONVENIENCE_HOURLY", "CONVENIENCE_MAX_M2", "C_BASKET",
    "DEFAULT_CONFIG", "DEFAULT_HOURLY", "GRAB", "GROCERY_HOURLY", "HAND", "SUPERMARKET",
    "ArrivalProcess", "BehaviourProfile", "Choice", "Line", "Preferences",
    "ShopperPopulationConfig", "ShopperPrefs", "StockIndex", "Trip", "VisitType", "choose",
    "hesitation_mean_s", "look_seconds", "look_stops", "profile_for_area", "rate_for_crowd",
    "sample_list_size", "sample_preferences", "sample_speed", "sample_trip", "sample_visit",
    "stock_index", "swap_probability", "trip_actions", "utility",
]
