"""Sampled shopper behaviour: visit types, arrivals, tastes, substitutes, choices, trips.

Statistics are drawn with fixed seeds and checked against the documented ranges
(docs/shoppers.md) with tolerances a few standard errors wide.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from agents.actions import Exit, Inspect, Look, Pick, PutBack
from agents.arrivals import CONVENIENCE_HOURLY, GROCERY_HOURLY, ArrivalProcess, rate_for_crowd
from agents.behaviour import (
    Line,
    choose,
    hesitation_mean_s,
    look_stops,
    sample_speed,
    sample_trip,
    stock_index,
    swap_probability,
    trip_actions,
)
from agents.population import DEFAULT_CONFIG, ShopperPopulationConfig
from agents.tastes import ShopperPrefs, sample_preferences, utility
from agents.visits import (
    CART,
    CONVENIENCE,
    GRAB,
    HAND,
    SUPERMARKET,
    BehaviourProfile,
    VisitType,
    profile_for_area,
)
from scenes.catalog import load_catalogue
from scenes.catalog_gen import expand_catalogue
from scenes.presets import load_store
from scenes.substitutes import substitute_groups


@pytest.fixture(scope="module")
def kiosk():
    return load_store("kiosk")


@pytest.fixture(scope="module")
def cat(kiosk):
    return kiosk.catalogue


@pytest.fixture(scope="module")
def groups(cat):
    return substitute_groups(cat)


def row(cat, sku: str) -> int:
    return cat.index()[sku]


NEUTRAL = ShopperPrefs(0.0, 0.0, 0.0, 0.9, 0.0, {})


# --------------------------------------------------------------------------- visit types


def test_profile_for_area_splits_kiosk_from_grocery(kiosk):
    assert profile_for_area(kiosk.area_m2) is CONVENIENCE
    assert profile_for_area(966.0) is SUPERMARKET
    assert profile_for_area(499.9) is CONVENIENCE and profile_for_area(500.0) is SUPERMARKET
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="area_m2"):
            profile_for_area(bad)


def test_kiosk_list_sizes_and_visit_shares(cat, groups, kiosk):
    rng = np.random.default_rng(1)
    prefs = sample_preferences(rng, 4000, cat)
    idx = stock_index(groups, kiosk.bins.sku_index)
    trips = [sample_trip(rng, CONVENIENCE, prefs.row(i), cat, groups, idx) for i in range(4000)]
    n = np.array([len(t.lines) for t in trips])
    assert 2.6 <= n.mean() <= 4.0                       # c-store basket 2.6-3.0 (US), ~4 (UK)
    assert n.min() >= 1
    shares = Counter(t.visit.name for t in trips)
    assert shares["grab"] / 4000 == pytest.approx(0.80, abs=0.025)
    assert shares["basket"] / 4000 == pytest.approx(0.20, abs=0.025)


def test_supermarket_visit_shares_follow_larsen():
    rng = np.random.default_rng(2)
    from agents.behaviour import sample_visit
    names = Counter(sample_visit(rng, SUPERMARKET).name for _ in range(20000))
    for name, share in (("hand", 0.51), ("basket", 0.28), ("cart", 0.20)):
        assert names[name] / 20000 == pytest.approx(share / 0.99, abs=0.012)


def test_supermarket_units_per_trip_near_published():
    base = load_catalogue()
    cat = expand_catalogue(base, 3000, seed=3)
    g = substitute_groups(cat)
    idx = stock_index(g, np.arange(len(cat)))
    rng = np.random.default_rng(3)
    prefs = sample_preferences(rng, 800, cat)
    trips = [sample_trip(rng, SUPERMARKET, prefs.row(i), cat, g, idx) for i in range(800)]
    units = np.array([sum(ln.qty for ln in t.lines) for t in trips])
    assert 8.5 <= units.mean() <= 13.0                  # 10.7 units a trip (VideoMining GSI)
    assert 0.4 <= (units <= 5).mean() <= 0.7            # half the trips 5 items or fewer
    cart_lines = [ln for t in trips if t.visit is CART for ln in t.lines]
    big = np.mean([ln.qty >= 5 for ln in cart_lines])
    assert 0.02 <= big <= 0.10                          # 5+ of one SKU now and then in carts


def test_walking_speeds():
    rng = np.random.default_rng(4)
    hand = np.array([sample_speed(rng, HAND) for _ in range(20000)])
    assert hand.mean() == pytest.approx(1.34, abs=0.01)  # Weidmann 1993
    assert 0.22 <= hand.std() <= 0.27
    assert hand.min() >= 0.8 and hand.max() <= 1.8
    cart = np.array([sample_speed(rng, CART) for _ in range(20000)])
    assert cart.mean() == pytest.approx(1.34 * CART.speed_factor, abs=0.01)
    assert CART.radius_m > HAND.radius_m


def test_look_stops_mean():
    rng = np.random.default_rng(5)
    assert np.mean([look_stops(rng, GRAB) for _ in range(20000)]) == pytest.approx(
        GRAB.look_stops_mean, abs=0.03)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("field, value", [
    ("gf_strict_share", 1.5), ("p_take_extra", -0.1), ("price_median_per_dollar", 0.0),
    ("speed_max", 0.5), ("hesitate_tie_s", 0.1), ("misplace_p", math.nan),
])
def test_config_rejects_out_of_range(field, value):
    with pytest.raises(ValueError, match=field):
        ShopperPopulationConfig(**{field: value})


def test_config_rejects_shares_over_one():
    with pytest.raises(ValueError, match="organic_most_share"):
        ShopperPopulationConfig(organic_most_share=0.5, organic_some_share=0.4,
                                organic_avoid_share=0.2)
    with pytest.raises(ValueError, match="p_take_extra"):
        ShopperPopulationConfig(p_take_extra=0.6, p_change_mind=0.5)


def test_visit_type_and_profile_validation():
    with pytest.raises(ValueError, match="qty_probs"):
        VisitType("x", 1.0, 2.0, 5, 1.0, 10.0, 1.0, 0.25, (0.5, 0.4))
    with pytest.raises(ValueError, match="list_max"):
        VisitType("x", 1.0, 2.0, 0, 1.0, 10.0, 1.0, 0.25, (1.0,))
    with pytest.raises(ValueError, match="shares"):
        BehaviourProfile("p", (GRAB,), 100.0)                 # one type with share 0.8
    with pytest.raises(ValueError, match="hourly"):
        BehaviourProfile("p", (CONVENIENCE.visit_types), 100.0, hourly=(1.0,) * 23)


# --------------------------------------------------------------------------- arrivals


def test_rate_for_crowd_is_littles_law():
    assert rate_for_crowd(15, 170.0) == pytest.approx(15 / 170)
    with pytest.raises(ValueError, match="mean_trip_s"):
        rate_for_crowd(15, 0.0)


def test_arrival_rate_follows_the_hourly_profile():
    p = ArrivalProcess(0.02, 6.5, GROCERY_HOURLY)
    assert p.rate_at(0.0) == pytest.approx(0.02)            # the start rate is honoured
    assert p.rate_at(1799.0) == pytest.approx(0.02)         # still 06:xx
    assert p.rate_at(1801.0) == pytest.approx(0.02 * GROCERY_HOURLY[7] / GROCERY_HOURLY[6])
    assert p.rate_at(86400.0) == pytest.approx(0.02)        # the profile repeats daily
    t = np.array([0.0, 3600.0 * 5.5])                       # 06:30 and 12:00
    assert p.rate_at(t) == pytest.approx(0.02 * np.array([1.0, GROCERY_HOURLY[12]
                                                          / GROCERY_HOURLY[6]]))


def test_nhpp_counts_per_hour_match_profile():
    """10 days of arrivals: counts per clock hour against the expected counts (chi-square)."""
    p = ArrivalProcess(0.01, 6.0, CONVENIENCE_HOURLY)
    rng = np.random.default_rng(6)
    days = 10
    t = p.arrivals(0.0, days * 86400.0, rng)
    hour = ((6.0 + t / 3600.0) % 24).astype(int)
    obs = np.bincount(hour, minlength=24)
    exp = np.array([days * 3600 * 0.01 * h / CONVENIENCE_HOURLY[6] for h in CONVENIENCE_HOURLY])
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    assert chi2 < 51.2                                      # df 24, p = 0.001
    assert obs.sum() == pytest.approx(exp.sum(), rel=0.03)
    assert np.all(np.diff(t) > 0)


def test_nhpp_start_rate_honoured_over_replicates():
    p = ArrivalProcess(0.02, 9.0)                           # default (grocery) profile
    rng = np.random.default_rng(7)
    counts = [p.arrivals(0.0, 600.0, rng).size for _ in range(600)]
    assert np.mean(counts) == pytest.approx(0.02 * 600, rel=0.04)


def test_arrival_process_edge_cases():
    rng = np.random.default_rng(8)
    assert ArrivalProcess(0.0, 3.0).next_after(0.0, rng) == math.inf
    closed = (0.0,) * 8 + (1.0,) * 14 + (0.0,) * 2          # open 08:00-21:59
    p = ArrivalProcess(0.05, 20.0, closed)
    t = p.arrivals(0.0, 86400.0, rng)
    clock = (20.0 + t / 3600.0) % 24
    assert np.all((clock >= 8) & (clock < 22))
    with pytest.raises(ValueError, match="start_hour"):
        ArrivalProcess(0.05, 3.0, closed)
    with pytest.raises(ValueError, match="start_hour"):
        ArrivalProcess(0.05, 24.0)
    with pytest.raises(ValueError, match="hourly"):
        ArrivalProcess(0.05, 3.0, (1.0,) * 12)


# --------------------------------------------------------------------------- preferences


def test_population_shares(cat):
    prefs = sample_preferences(np.random.default_rng(9), 40000, cat)
    assert len(prefs) == 40000
    strong_gf = (prefs.gluten_free >= DEFAULT_CONFIG.gf_avoid_weight).mean()
    assert 0.015 <= strong_gf <= 0.03                       # 0.4 % celiac + 1.7 % avoiders
    assert 0.36 <= (prefs.organic > 0).mean() <= 0.44       # 6 % most + 34 % some (Pew)
    assert 0.13 <= (prefs.organic < 0).mean() <= 0.17       # 15 % avoid (Gallup)
    assert 0.01 <= (prefs.vegan > 0).mean() <= 0.03
    assert np.median(prefs.price_per_dollar) == pytest.approx(0.9, rel=0.03)
    assert np.all(prefs.price_per_dollar > 0)
    # favourites are brands sold in that category
    r = prefs.row(0)
    assert set(r.favourite) == set(np.unique(cat.category))
    for c, b in r.favourite.items():
        assert np.any((cat.category == c) & (cat.brand == b))


def test_preferences_deterministic(cat):
    a = sample_preferences(np.random.default_rng(10), 50, cat)
    b = sample_preferences(np.random.default_rng(10), 50, cat)
    for f in ("gluten_free", "organic", "vegan", "price_per_dollar", "brand_weight",
              "favourite"):
        assert np.array_equal(getattr(a, f), getattr(b, f))


# --------------------------------------------------------------------------- substitutes


def test_substitute_groups_kiosk(cat, groups):
    assert groups.shape == (len(cat),) and groups.dtype == np.int64
    g = {str(s): int(x) for s, x in zip(cat.sku, groups, strict=True)}
    assert g["SKU00001"] == g["SKU00002"]                   # baguette / gluten-free baguette
    milk = [g[f"SKU{i:05d}"] for i in range(13, 18)]        # whole, skim, 2 %, organic
    assert len(set(milk)) == 1
    assert g["SKU00018"] != milk[0]                         # oat milk is its own product
    assert g["SKU00052"] == g["SKU00053"]                   # granola bars (look-alike twins)
    assert g["SKU00064"] == g["SKU00065"]                   # bananas / organic bananas
    assert g["SKU00001"] != g["SKU00003"]                   # baguette is not a sourdough loaf
    assert len({g["SKU00089"], g["SKU00090"], g["SKU00091"]}) == 3  # peas, berries, burritos
    assert groups[0] == 0 and np.all(np.diff(np.maximum.accumulate(groups)) <= 1)


def test_substitute_groups_generated_catalogue_keeps_twins_together():
    cat = expand_catalogue(load_catalogue(), 30000, seed=0)
    g = substitute_groups(cat)
    assert g.shape == (30000,)
    names = cat.name.tolist()
    twins = 0
    for i in range(1, len(names)):
        plain = names[i].replace(" Organic ", " ").replace(" Gluten-Free ", " ")
        if plain != names[i] and plain == names[i - 1]:
            twins += 1
            assert g[i] == g[i - 1], (names[i - 1], names[i])
    assert twins > 1000
    # groups ignore brand and size but never cross categories
    for k in np.unique(g)[:200]:
        assert np.unique(cat.category[g == k]).size == 1


# --------------------------------------------------------------------------- choice


def test_utility_terms(cat):
    c = np.array([row(cat, "SKU00001"), row(cat, "SKU00002")])
    u = utility(ShopperPrefs(2.0, 0.0, 0.0, 1.0, 0.5, {"bakery": "Maison"}), c, cat)
    assert u == pytest.approx([0.5 - 2.99, 2.0 + 0.5 - 4.49])


def test_gluten_free_shopper_picks_gf_baguette(cat):
    rng = np.random.default_rng(11)
    c = np.array([row(cat, "SKU00001"), row(cat, "SKU00002")])
    gf = ShopperPrefs(DEFAULT_CONFIG.gf_strict_weight, 0.0, 0.0, 0.9, 0.0, {})
    finals = [choose(rng, gf, c, cat).final for _ in range(2000)]
    assert np.mean(np.array(finals) == c[1]) > 0.97
    thrifty = ShopperPrefs(0.0, 0.0, 0.0, 3.0, 0.0, {})
    finals = [choose(rng, thrifty, c, cat).final for _ in range(2000)]
    assert np.mean(np.array(finals) == c[0]) > 0.95         # the $1.50 cheaper one


def test_only_stocked_candidates_count(cat):
    rng = np.random.default_rng(12)
    gf = ShopperPrefs(8.0, 0.0, 0.0, 0.9, 0.0, {})
    only = np.array([row(cat, "SKU00001")])                 # the GF baguette is not stocked
    for _ in range(50):
        ch = choose(rng, gf, only, cat)
        assert ch.final == ch.first == only[0] and not ch.swapped


def test_hesitation_and_swaps_grow_for_close_calls(cat):
    rng = np.random.default_rng(13)
    close = np.array([row(cat, "SKU00021"), row(cat, "SKU00022")])  # same price, same brand
    far = np.array([row(cat, "SKU00001"), row(cat, "SKU00002")])
    thrifty = ShopperPrefs(0.0, 0.0, 0.0, 4.0, 0.0, {})     # $1.50 apart: utility gap 6
    cl = [choose(rng, NEUTRAL, close, cat) for _ in range(4000)]
    fa = [choose(rng, thrifty, far, cat) for _ in range(4000)]
    h_close = np.mean([c.hesitate_s for c in cl])
    h_far = np.mean([c.hesitate_s for c in fa])
    assert h_close > 2.0 * h_far
    s_close = np.mean([c.swapped for c in cl])
    s_far = np.mean([c.swapped for c in fa])
    assert 0.03 < s_close < 0.10 and s_far < 0.01
    for c in cl:
        assert c.swapped == (c.first != c.final)
        assert c.final in close and c.first in close


def test_hesitation_and_swap_laws():
    gaps = np.array([0.0, 0.5, 1.0, 2.0, 4.0, math.inf])
    h = hesitation_mean_s(gaps)
    assert h[0] == pytest.approx(DEFAULT_CONFIG.hesitate_tie_s)
    assert h[-1] == pytest.approx(DEFAULT_CONFIG.hesitate_base_s)
    assert np.all(np.diff(h) < 0)
    p = swap_probability(gaps)
    assert p[0] == pytest.approx(DEFAULT_CONFIG.swap_max_p) and p[-1] == 0.0
    assert np.all(np.diff(p) < 0)


# --------------------------------------------------------------------------- trips


def test_trips_are_deterministic(cat, groups, kiosk):
    prefs = sample_preferences(np.random.default_rng(14), 20, cat)

    def run(seed):
        rng = np.random.default_rng(seed)
        return [sample_trip(rng, CONVENIENCE, prefs.row(i), cat, groups, kiosk.bins.sku_index)
                for i in range(20)]

    assert run(15) == run(15)
    assert run(15) != run(16)


def test_trip_lines_are_consistent(cat, groups, kiosk):
    rng = np.random.default_rng(17)
    stocked = np.unique(kiosk.bins.sku_index)[::2]           # half the catalogue on shelves
    prefs = sample_preferences(rng, 2000, cat)
    lines = []
    for i in range(2000):
        t = sample_trip(rng, CONVENIENCE, prefs.row(i), cat, groups, stocked)
        assert t.speed_mps > 0 and t.radius_m == t.visit.radius_m
        assert len({int(groups[ln.sku]) for ln in t.lines}) == len(t.lines)
        assert all(s >= 0 for s in t.look_s)
        lines += t.lines
    skus = np.array([ln.sku for ln in lines])
    assert np.isin(skus, stocked).all()
    for ln in lines:
        assert ln.qty >= 0 and ln.extra in (0, 1) and ln.taken >= 1
        assert ln.hesitate_s > 0 and ln.browse_s >= 0
        if ln.swapped:
            assert ln.first_sku != ln.sku and groups[ln.first_sku] == groups[ln.sku]
            assert ln.first_sku in stocked
    changed = np.mean([ln.qty == 0 for ln in lines])
    extra = np.mean([ln.qty > 0 and ln.extra == 1 for ln in lines])
    assert changed == pytest.approx(DEFAULT_CONFIG.p_change_mind, abs=0.012)
    assert extra == pytest.approx(DEFAULT_CONFIG.p_take_extra, abs=0.015)


def _units(actions):
    held = Counter()
    for a in actions:
        if isinstance(a, Pick):
            held[a.sku] += a.qty
        elif isinstance(a, PutBack):
            held[a.sku] -= a.qty
            assert held[a.sku] >= 0
    return +held


def test_trip_actions_expand_lines():
    lines = [Line(5, 2, -1, 1, 1.5, 10.0),                 # take 3, put 1 back
             Line(7, 1, 8, 0, 2.0, 5.0),                   # swap: 8 first, then 7
             Line(9, 0, -1, 1, 0.5, 3.0)]                  # changed its mind
    steps = [Look(3, 4.0), lines[0], lines[1], Look(4, 2.0), lines[2]]
    acts = trip_actions(steps, [10, 11, 12], 0.0, np.random.default_rng(18))
    assert isinstance(acts[0], Look) and acts[0] == Look(3, 4.0)
    assert isinstance(acts[-1], Exit)
    assert acts[1] == Pick(5, 3, 10, 10.0, 1.5)
    assert isinstance(acts[2], Inspect) and acts[2].seconds > 0
    assert acts[3] == PutBack(5, 1, -1)
    assert acts[4] == Pick(8, 1, -1, 5.0, 2.0)             # the first impression
    assert isinstance(acts[5], Inspect)
    assert acts[6] == PutBack(8, 1, -1)
    assert acts[7] == Pick(7, 1, 11, 0.0, 0.0)             # then the preferred one
    assert acts[8] == Look(4, 2.0)
    assert acts[9] == Pick(9, 1, 12, 3.0, 0.5)
    assert acts[11] == PutBack(9, 1, -1)
    assert _units(acts) == Counter({5: 2, 7: 1})
    for a in acts:
        assert isinstance(a, (Look, Pick, Inspect, PutBack, Exit))


def test_trip_actions_misplacement():
    lines = [Line(7, 1, 8, 0, 2.0, 5.0), Line(5, 1, -1, 0, 1.0, 4.0)]
    acts = trip_actions(lines, [11, 10], 1.0, np.random.default_rng(19), first_bins=[20, 10])
    puts = [a for a in acts if isinstance(a, PutBack)]
    assert puts == [PutBack(8, 1, 10)]                     # dropped at the next shelf
    assert acts.index(puts[0]) > acts.index(Pick(5, 1, 10, 4.0, 1.0))
    assert _units(acts) == Counter({7: 1, 5: 1})
    # the last line has nowhere later to drop it: put back where it came from
    acts = trip_actions(lines[::-1], [10, 11], 1.0, np.random.default_rng(19))
    assert [a for a in acts if isinstance(a, PutBack)] == [PutBack(8, 1, -1)]
    # misplacements happen at about misplace_p of swaps
    rng = np.random.default_rng(20)
    n = sum(any(isinstance(a, PutBack) and a.bin == 10 for a in
                trip_actions(lines, [11, 10], 0.15, rng)) for _ in range(4000))
    assert n / 4000 == pytest.approx(0.15, abs=0.02)


def test_trip_actions_from_sampled_trips_are_valid(cat, groups, kiosk):
    rng = np.random.default_rng(21)
    prefs = sample_preferences(rng, 300, cat)
    sku_bin = {int(s): i for i, s in enumerate(kiosk.bins.sku_index)}
    for i in range(300):
        t = sample_trip(rng, CONVENIENCE, prefs.row(i), cat, groups, kiosk.bins.sku_index)
        steps = list(t.lines) + [Look(0, s) for s in t.look_s]
        acts = trip_actions(steps, [sku_bin[ln.sku] for ln in t.lines],
                            DEFAULT_CONFIG.misplace_p, rng)
        assert isinstance(acts[-1], Exit) and sum(isinstance(a, Exit) for a in acts) == 1
        kept = Counter({ln.sku: ln.qty for ln in t.lines if ln.qty})
        assert _units(acts) == kept


def test_trip_actions_rejects_bad_input():
    rng = np.random.default_rng(22)
    with pytest.raises(ValueError, match="bins_for_line"):
        trip_actions([Line(1, 1)], [], 0.0, rng)
    with pytest.raises(ValueError, match="misplace_p"):
        trip_actions([Line(1, 1)], [3], 1.5, rng)
    with pytest.raises(ValueError, match="takes no units"):
        trip_actions([Line(1, 0)], [3], 0.0, rng)
