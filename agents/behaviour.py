"""The shopper's decisions: which product of a list line, how many, how long at the shelf,
what the trip is, and the actions it spells.

Which catalogue rows are one product (a list line's substitutes) is read off the names by
:mod:`scenes.substitutes`; how people shop in each store (visit types) is
:mod:`agents.visits`, what they like :mod:`agents.tastes`, the tunables
:mod:`agents.population`.

Pure sampling functions: a ``numpy.random.Generator`` in, plain data out. Nothing here moves
a body or touches the world; the crowd (``agents.crowd``) routes the lines a trip samples and
carries out the actions :func:`trip_actions` spells. Same generator state, same output.

SKUs are catalogue row numbers, bins ``store.bins`` row numbers (as in ``agents.actions``);
times are seconds, speeds m/s, lengths m, utilities per US dollar.

Where the default numbers come from (``docs/shoppers.md`` has the full table; REFERENCES.md
is ``shared/REFERENCES.md``):

- walking speed N(1.34, 0.26) m/s (Weidmann 1993, REFERENCES.md).
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
from agents.population import DEFAULT_CONFIG, ShopperPopulationConfig
from agents.tastes import ShopperPrefs, utility
from agents.visits import BehaviourProfile, VisitType
from params import Rule, check_value
from scenes.catalog import Catalogue

# --------------------------------------------------------------------------- choice


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
    check_value("trip_actions", "misplace_p", misplace_p, Rule(ge=0, le=1))
    check_value("trip_actions", "inspect_mean_s", inspect_mean_s, Rule(ge=0, le=600, unit="s"))
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
    "Choice", "Line", "StockIndex", "Trip", "choose", "hesitation_mean_s", "look_seconds",
    "look_stops", "sample_list_size", "sample_speed", "sample_trip", "sample_visit",
    "stock_index", "swap_probability", "trip_actions",
]
