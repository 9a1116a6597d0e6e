"""Rates with the counts behind them: how many receipts of how many a results row's rate
stands for, pooled over runs, and the 95 % interval of such a proportion.

The interval is Wilson's score interval (E. B. Wilson, "Probable inference, the law of
succession, and statistical inference", J. Am. Stat. Assoc. 22 (1927) 209-212), the one
L. D. Brown, T. T. Cai and A. DasGupta recommend for small n and for proportions near 0 or 1
("Interval estimation for a binomial proportion", Statistical Science 16 (2001) 101-133):
unlike the textbook p +- z sqrt(p (1 - p) / n) it stays inside [0, 1] and does not shrink
to a point at 0 of n or n of n. Receipts pooled over seeds are treated as independent
trials; a configuration whose seeds differ more than that allows has a wider true interval.

Only the rates below have counts in a row (``experiments/studies/results.py``); the others
the report shows (F1, HOTA, IDF1, coverage, next-visit accuracy) are means of scores or
shares of floor area, with no count behind them and no binomial interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from experiments.studies.report.groups import Group, Stat, as_float

#: the 97.5 % quantile of the standard normal: a two-sided 95 % interval
Z95 = 1.959963984540054

#: the rates a row holds the counts of, with the unit the rate is written in (a fraction,
#: or per 1,000)
COUNTED: dict[str, float] = {"exact_match": 1.0, "unflagged_exact": 1.0,
                             "review_per_1000": 1000.0}


def wilson_interval(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of the Wilson score interval of ``k`` successes in ``n`` trials.

    k, n: int or (m,) int arrays, 0 <= k <= n; z: the normal quantile (default 95 %
    two-sided). Returns fractions in [0, 1] (float, or (m,) float64 arrays): lo is 0 at
    k = 0 and hi is 1 at k = n; nan where n = 0 (nothing was counted). 6 of 8: 0.409 - 0.929.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError(f"k = {k} of n = {n}: expected 0 <= k <= n")
    with np.errstate(invalid="ignore", divide="ignore"):
        z2 = z * z
        centre = (k + z2 / 2) / (n + z2)
        half = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4)
        lo = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    lo, hi = np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


@dataclass(frozen=True)
class Count:
    """``k`` of ``n`` counted receipts (pooled over runs)."""

    k: int
    n: int

    @property
    def rate(self) -> float:
        """k / n; nan when nothing was counted."""
        return self.k / self.n if self.n else float("nan")

    def interval(self) -> tuple[float, float]:
        """The 95 % Wilson interval of the rate, fractions (nan when n = 0)."""
        return wilson_interval(self.k, self.n)


def row_count(row: dict, rate: str) -> Count | None:
    """The count behind ``rate`` (one of :data:`COUNTED`) in a results row, or None where
    the row holds none (a row written before the review counts, a scenario without
    receipts) or its rate is no share of it.

    exact_match: exact of ``receipts`` (the scored true receipts); unflagged_exact:
    ``receipts_unflagged - silent_wrong`` of ``receipts_unflagged``; review_per_1000:
    ``receipts_flagged`` of ``receipts_issued``."""
    if rate == "exact_match":
        n, x = as_float(row.get("receipts")), as_float(row.get("exact_match"))
        if not math.isfinite(n) or n < 0:
            return None
        if n == 0:
            return Count(0, 0)
        k = x * n
        # the rate is exact / receipts, so k is whole up to float rounding
        return Count(round(k), int(n)) if abs(k - round(k)) < 0.01 else None
    if rate == "unflagged_exact":
        n, w = as_float(row.get("receipts_unflagged")), as_float(row.get("silent_wrong"))
        return Count(int(n - w), int(n)) if math.isfinite(n) and 0 <= w <= n else None
    if rate == "review_per_1000":
        k, n = as_float(row.get("receipts_flagged")), as_float(row.get("receipts_issued"))
        return Count(int(k), int(n)) if math.isfinite(n) and 0 <= k <= n else None
    raise KeyError(f"{rate!r} has no count; counted rates: {', '.join(COUNTED)}")


def pooled_count(rows: list[dict], rate: str) -> Count | None:
    """The counts behind ``rate`` summed over ``rows``; None where no row has its count or
    a row with the rate lacks it (a sum over part of the runs would misstate the rate)."""
    counts = []
    for r in rows:
        c = row_count(r, rate)
        if c is None and math.isfinite(as_float(r.get(rate))):
            return None
        if c is not None:
            counts.append(c)
    if not counts:
        return None
    return Count(sum(c.k for c in counts), sum(c.n for c in counts))


def rate_stat(g: Group, rate: str) -> tuple[Stat, bool]:
    """(the group's ``rate`` as a :class:`Stat`, whether its span is an interval): the mean
    over the runs, with lo/hi the 95 % Wilson interval of the counts pooled over them (in
    the rate's unit) where the rows have them, else the min-max over the runs (False)."""
    st = g.stat(rate)
    c = pooled_count(g.rows, rate) if rate in COUNTED else None
    if st.n == 0 or c is None or c.n == 0:
        return st, False
    lo, hi = c.interval()
    unit = COUNTED[rate]
    return Stat(st.mean, unit * lo, unit * hi, st.n), True


def rate_bars(groups: list[Group], rate: str) -> tuple[list[Stat], bool]:
    """``rate`` of each of ``groups`` for error bars, and whether the bars are intervals:
    the 95 % Wilson intervals of :func:`rate_stat` where every group with the rate has its
    counts, else the min-max over each group's runs (one kind of bar per figure)."""
    stats = [rate_stat(g, rate) for g in groups]
    if any(st.n for st, _ in stats) and all(ok for st, ok in stats if st.n):
        return [st for st, _ in stats], True
    return [g.stat(rate) for g in groups], False
