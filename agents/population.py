"""The tunables of a population of shoppers: tastes, choices, put-backs and walking.

:class:`ShopperPopulationConfig` holds them, each default with its source (``docs/shoppers.md``
has the full table); :data:`DEFAULT_CONFIG` is the one every sampler takes by default.
"""

from __future__ import annotations

from params import check, config, fail, num


@config(frozen=True)
class ShopperPopulationConfig:
    """Tunables of tastes, choices, put-backs and walking; every default is sourced in
    ``docs/shoppers.md``. Weights are utilities (logit units, Gumbel scale ``choice_scale``);
    price sensitivity is utility per US dollar."""

    # gluten: Choung et al. 2017 (NHANES 2009-14): celiac 0.7 %, of which 0.3 % undiagnosed,
    # so ~0.4 % on a strict diet; people avoiding gluten without celiac 1.7 % (2013-14)
    gf_strict_share: float = num(0.004, ge=0, le=1)
    gf_strict_weight: float = num(8.0, ge=-50, le=50)   # assumption: e^8 ~ 3,000:1, never
                                                        # the gluten item
    gf_avoid_share: float = num(0.017, ge=0, le=1)
    gf_avoid_weight: float = num(3.0, ge=-50, le=50)    # assumption: pays ~$3 more at median
                                                        # price sensitivity
    # organic: Pew 2016: 6 % say most, 34 % some of their food is organic; Gallup 2014: 15 %
    # actively avoid organic food
    organic_most_share: float = num(0.06, ge=0, le=1)
    organic_most_median: float = num(2.5, gt=0, le=100)  # assumption: ~$2.80 premium at
                                                         # median price sensitivity
    organic_some_share: float = num(0.34, ge=0, le=1)
    organic_some_median: float = num(0.8, gt=0, le=100)  # assumption: ~$0.90 premium
    organic_sigma: float = num(0.5, ge=0, le=10)   # assumption: log-normal spread of the two
                                                   # weights
    organic_avoid_share: float = num(0.15, ge=0, le=1)
    organic_avoid_weight: float = num(-0.5, ge=-50, le=50)
    # vegan: Gallup 2018 3 %, 2023 1 %
    vegan_share: float = num(0.02, ge=0, le=1)
    vegan_weight: float = num(5.0, ge=-50, le=50)  # assumption: strong, but food outside the
                                                   # diet is rare
    # price: logit own-price elasticity -b p (1 - s); the meta-analytic mean -2.62 (Bijmolt,
    # van Heerde & Pieters 2005) at a $4 item with 30 % share gives b ~ 0.94 per dollar
    price_median_per_dollar: float = num(0.9, gt=0, le=100)
    price_sigma: float = num(0.5, ge=0, le=10)     # assumption: log-normal, 90 % of shoppers
                                                   # 0.4-2.0 /$
    # brand: a favourite brand per category, affinity Exp(mean); assumption: half the
    # shoppers care less than 0.55 (a 1.7:1 odds boost), one in seven more than 1.6 (5:1)
    brand_weight_mean: float = num(0.8, ge=0, le=10)
    # choice (McFadden 1974 logit): idiosyncratic Gumbel taste shock of this scale
    choice_scale: float = num(1.0, gt=0, le=100)
    # hesitation: drift-diffusion mean decision time (Ratcliff 1978; Krajbich et al. 2010)
    # t0 + (a / (k d)) tanh(a k d), a^2 = hesitate_tie_s - t0, d = utility gap of the best two
    # t0: a clear choice, hand straight in
    hesitate_base_s: float = num(0.5, ge=0, le=600, unit="s")
    # mean at a dead heat (12 s average at the shelf, 25 % over 15 s: Dickson & Sawyer 1990,
    # browsing included); at least hesitate_base_s
    hesitate_tie_s: float = num(6.0, ge=0, le=600, unit="s")
    hesitate_drift_per_util: float = num(1.0, gt=0, le=100)  # k [1/s per utility]
    hesitate_sigma: float = num(0.35, ge=0, le=10)   # log-normal spread of one hesitation,
                                                     # mean kept (assumption)
    # swap (pick the first impression, inspect, put back, take the best): probability
    # swap_max_p * exp(-d / swap_scale_util); assumption: 6 % of choices between two equally
    # liked items, ~1.5 % of kiosk lines, ~7 % of lines among a supercenter's hundreds
    swap_max_p: float = num(0.25, ge=0, le=1)
    swap_scale_util: float = num(0.5, gt=0, le=100)
    # put-backs of the same SKU (the crowd's assumptions, agents.crowd)
    p_take_extra: float = num(0.10, ge=0, le=1)   # one unit too many taken, inspected, put back
    p_change_mind: float = num(0.05, ge=0, le=1)  # one unit taken, inspected, put back; nothing
                                                  # kept
    # holding an item before putting it back
    inspect_mean_s: float = num(2.5, ge=0, le=600, unit="s")
    # misplacement: of swapped items, the share carried on and dropped at a later shelf
    misplace_p: float = num(0.15, ge=0, le=1)     # assumption: a few per thousand lines
    # look-only stops: how much the shopper's tastes pick the shelf it stops at. 0: a bin at
    # random (the v1 crowd, kept as the default so benchmark suite v1 stays reproducible);
    # 1: the bin of a logit choice over every stocked SKU with the same utility as a list
    # line (attention follows preference: eye-tracked shoppers look longest at the brands
    # they use, Chandon, Hutchinson, Bradlow & Young 2009, J. Marketing 73(6); unplanned
    # considerations at the shelf, Hui, Huang, Suher & Inman 2013, JMR 50(4)). Utilities are
    # multiplied by it, so values between scale the attention down. The insights study
    # varies it (experiments/studies/insights.toml).
    look_taste: float = num(0.0, ge=0, le=10)
    # walking speed (Weidmann 1993), clipped to [speed_min, speed_max] x speed_factor;
    # speed_max at least speed_min
    speed_mean: float = num(1.34, gt=0, le=100, unit="m/s")
    speed_sd: float = num(0.26, ge=0, le=10, unit="m/s")
    speed_min: float = num(0.8, gt=0, le=5, unit="m/s")
    speed_max: float = num(1.8, gt=0, le=5, unit="m/s")

    def __post_init__(self) -> None:
        check(self, "hesitate_tie_s", self.hesitate_tie_s >= self.hesitate_base_s,
              f"in [hesitate_base_s = {self.hesitate_base_s:g}, 600] [s]")
        check(self, "speed_max", self.speed_max >= self.speed_min,
              f"in [speed_min = {self.speed_min:g}, 5] [m/s]")
        for a, b in (("gf_strict_share", "gf_avoid_share"),
                     ("p_take_extra", "p_change_mind")):
            total = getattr(self, a) + getattr(self, b)
            if total > 1:
                fail(self, f"{a} + {b}", "in [0, 1]", total)
        org = self.organic_most_share + self.organic_some_share + self.organic_avoid_share
        if org > 1:
            fail(self, "organic_most_share + organic_some_share + organic_avoid_share",
                 "in [0, 1]", org)


DEFAULT_CONFIG = ShopperPopulationConfig()
