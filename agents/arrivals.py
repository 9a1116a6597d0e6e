"""When shoppers come: hourly arrival shapes and a non-homogeneous Poisson arrival process.

Times are seconds, rates per second, clock hours 0-24.

Where the default numbers come from (``docs/shoppers.md`` has the full table): weekday grocery
shopping peaks 11:00-12:59 and 15:00-15:59 (USDA ERS, ATUS 2014-17, Zeballos & Ralston 2019)
and arrivals peak 16:00-17:00 (Time Use Institute 2008); convenience stores peak on the
commutes, 5-9 and 16-20 h (NPD Convenience Store Monitor 2011), with 12:00 the busiest single
hour, ~8 % of visits (GasBuddy Q3 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from params import Rule, check, check_value, config, fail, num

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


def check_hourly(owner: object, hourly: Sequence[float]) -> None:
    """Raise the one error (``params``) unless ``hourly`` is 24 finite rates >= 0, not all 0."""
    h = np.asarray(hourly, dtype=np.float64)
    check(owner, "hourly", h.shape == (24,) and bool(np.all(np.isfinite(h)))
          and not np.any(h < 0) and bool(h.max() > 0), "24 finite rates >= 0, not all 0",
          tuple(hourly))


def rate_for_crowd(shoppers_in_store: float, mean_trip_s: float) -> float:
    """Arrival rate [1/s] that keeps ``shoppers_in_store`` inside on average when a trip
    lasts ``mean_trip_s`` [s] (Little's law, L = lambda W)."""
    check_value("rate_for_crowd", "shoppers_in_store", shoppers_in_store, Rule(ge=0, le=1e6))
    check_value("rate_for_crowd", "mean_trip_s", mean_trip_s, Rule(gt=0, le=1e6, unit="s"))
    return float(shoppers_in_store) / float(mean_trip_s)


@config(frozen=True)
class ArrivalProcess:
    """Non-homogeneous Poisson arrivals with a piecewise-constant hourly profile.

    Run time t = 0 [s] is clock hour ``start_hour`` (0 <= h < 24, fractions allowed). The
    rate at clock hour h is ``rate_hz_at_start * hourly[floor(h)] / hourly[floor(start_hour)]``
    [1/s]; the profile repeats every 24 h. Sampled by thinning (Lewis & Shedler 1979).
    """

    rate_hz_at_start: float = num(ge=0, le=1e6, unit="1/s")
    start_hour: float = num(ge=0, lt=24, unit="h")
    hourly: tuple[float, ...] = DEFAULT_HOURLY

    def __post_init__(self) -> None:
        check_hourly(self, self.hourly)
        object.__setattr__(self, "hourly", tuple(float(x) for x in self.hourly))
        if self.rate_hz_at_start > 0 and self.hourly[int(self.start_hour)] == 0:
            fail(self, "start_hour", "in an hour whose hourly rate is > 0, for a "
                 "rate_hz_at_start > 0 to be scaled from it (start in an open hour, or pass "
                 "rate_hz_at_start=0)", self.start_hour)

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

