"""Where a shopping list takes a shopper in this store: a bin for each line, the look-only
stops (at random, or where its tastes draw it), the order it visits them in (walking distance
from the door to the exit), and the actions that spells (:func:`agents.behaviour.trip_actions`).

A mixin of :class:`agents.crowd.Crowd`: it reads the store, its navigation grid and the
SKU-to-bins index set up in ``Crowd.__init__``.
"""

from __future__ import annotations

import numpy as np

from agents.actions import Action, Look
from agents.behaviour import trip_actions
from agents.tastes import ShopperPrefs, utility


class StopPlanning:
    """A list's stops on this store's shelves and their order (module docstring)."""

    def _trip_actions(self, lines, look_s, rng, start: np.ndarray | None = None,
                      prefs: ShopperPrefs | None = None) -> list[Action]:
        """Order a list's lines and look-only stops by walking distance from the door to the
        exit, and turn them into actions. Look stops are at random bins, or, with the
        population's ``look_taste`` > 0, at the bins of taste-driven choices
        (:meth:`_look_bins`)."""
        bins = [self._bin_for(ln.sku, rng) for ln in lines]
        firsts = [self._nearest_bin(ln.first_sku, self.store.bins.access_xy[b])
                  if ln.first_sku >= 0 else -1 for ln, b in zip(lines, bins, strict=True)]
        taste = self.config.population.look_taste
        if taste > 0 and prefs is not None and len(look_s):
            look_bins = self._look_bins(prefs, len(look_s), taste, rng)
        else:
            look_bins = rng.integers(len(self.store.bins), size=len(look_s)).tolist()
        stops = [*bins, *look_bins]
        order = self._visit_order(stops, start)
        steps: list = []
        line_bins, first_bins = [], []
        for i in order:
            if i < len(lines):
                steps.append(lines[i])
                line_bins.append(bins[i])
                first_bins.append(firsts[i])
            else:
                j = i - len(lines)
                steps.append(Look(int(look_bins[j]), float(look_s[j])))
        pop = self.config.population
        return trip_actions(steps, line_bins, pop.misplace_p, rng, pop.inspect_mean_s,
                            first_bins=first_bins)

    def _look_bins(self, prefs: ShopperPrefs, k: int, taste: float, rng) -> list[int]:
        """Bins of ``k`` look stops: each the bin (one at random when several hold it) of a
        logit choice among the stocked SKUs, utility x ``taste`` plus a Gumbel shock of the
        population's ``choice_scale``; distinct SKUs while there are enough."""
        skus = self._stocked
        u = taste * utility(prefs, skus, self.store.catalogue) + rng.gumbel(
            0.0, self.config.population.choice_scale, skus.size)
        top = np.resize(np.argsort(-u, kind="stable"), k)   # repeats only past every SKU
        return [self._bin_for(int(skus[j]), rng) for j in top.tolist()]

    def _bin_for(self, sku: int, rng) -> int:
        """A bin holding ``sku``: one at random when several do."""
        bins = self._sku_bins[int(sku)]
        return int(bins[int(rng.integers(len(bins)))]) if len(bins) > 1 else int(bins[0])

    def _visit_order(self, bins: list[int], start: np.ndarray | None = None) -> list[int]:
        """Nearest neighbour on walking distance from the door (or ``start``), then 2-opt with the exit as
        the fixed end: a sensible route, not an optimal one (people do not solve TSPs)."""
        k = len(bins)
        if k <= 1:
            return list(range(k))
        acc = self.store.bins.access_xy
        first = self.spawn_xy if start is None else start
        pts = np.vstack([first[None], acc[bins], self.exit_inside[None]])
        d = self.nav.walk_distances(pts)
        order, rest, cur = [], list(range(1, k + 1)), 0
        while rest:
            j = min(rest, key=lambda r: (d[cur, r], r))
            order.append(j)
            rest.remove(j)
            cur = j
        tour = [0, *order, k + 1]
        improved = True
        while improved:
            improved = False
            for i in range(1, k):
                for j in range(i + 1, k + 1):
                    a, b, c, e = tour[i - 1], tour[i], tour[j], tour[j + 1]
                    if d[a, c] + d[b, e] < d[a, b] + d[c, e] - 1e-9:
                        tour[i:j + 1] = tour[i:j + 1][::-1]
                        improved = True
        return [p - 1 for p in tour[1:-1]]

    def _nearest_bin(self, sku: int, at: np.ndarray) -> int:
        """The bin holding ``sku`` nearest to ``at`` [m] (-1 when none does)."""
        bins = self._sku_bins.get(int(sku))
        if not bins:
            return -1
        d = np.linalg.norm(self.store.bins.access_xy[bins] - at, axis=1)
        return int(bins[int(np.argmin(d))])

