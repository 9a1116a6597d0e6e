"""Behaviour insights: shoppers' tastes recovered from journeys, or from receipts alone.

The core writes each visit as journey rows (:mod:`core.journeys`, pseudonymous accounts).
This module turns them into discrete-choice observations, fits each account's taste weights,
and scores them against the agents' latent preferences -- which only a twin knows -- beside
the same fit from what an ordinary till sees (the exact baskets, nothing else).

**Model** (McFadden's conditional logit; the agents choose by the same form, so the fit is
well specified and what it recovers is limited by what each source observes). The utility of
SKU j to account a is ``x_j . b_a`` with features ``x_j`` = gluten-free, organic, vegan (0/1),
minus the price [$], and "the account's usual brand in j's category" (1 when j's brand is
the one the account chose most often there in its *other* observations: brand loyalty
without knowing anyone's favourite). Observations:

- a **basket line** (till and journeys): the SKU kept, chosen among the stocked SKUs of its
  substitute group (:func:`scenes.substitutes.substitute_groups`: what the store's product
  hierarchy says replaces what; groups of one SKU say nothing and are skipped);
- a **change of mind** (journeys): a SKU picked and put back with nothing kept in its group:
  the shopper's first choice there, among the same group;
- a **substitution** (journeys): ``other_sku`` put back for ``sku``: the kept one was chosen
  first (the basket line), and ``other_sku`` is the best of the rest (the second stage of a
  rank-ordered, "exploded" logit, Beggs, Cardell & Hausman 1981);
- a **look** (journeys): a stop in front of a shelf with nothing taken: the shopper chose to
  look at one of the SKUs within reach of where it stood (bins whose access point is within
  ``reach_m``) out of every stocked SKU, likelihood ``sum_{j in reach} e^u_j / sum_all e^u_k``.

Each account's weights are the maximum a posteriori fit under a normal prior centred on the
pooled fit of all accounts of that source (ridge shrinkage, so one visit gives a cautious
estimate rather than an extreme one) with standard deviations :data:`PRIOR_SD` (assumption:
a diet rule is worth a few dollars, an organic or brand taste about one, price sensitivity
half a unit per dollar either side of the median -- the spread of docs/shoppers.md, rounded).

**Scores**: Spearman rank correlation across accounts between recovered and latent weights,
per attribute (NaN where the latent weights do not vary, e.g. no vegan in a small panel) and
their mean over organic, price and brand (the tastes most shoppers have); and next-visit
prediction, prequential: every visit after an account's first is predicted by a fit on the
visits before it; the share of its basket lines (groups of two or more) whose kept SKU is
the one the fit rates highest, beside the pooled fit with no personal weights
("population").
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree
from scipy.stats import spearmanr

from core.journeys import pseudonym
from scenes.store import Store

FEATURES = ("gluten_free", "organic", "vegan", "price", "brand")
#: latent preference (agents' ShopperRecord.preferences key) behind each feature
LATENT = {"gluten_free": "gluten_free", "organic": "organic", "vegan": "vegan",
          "price": "price_per_dollar", "brand": "brand_weight"}
#: prior standard deviation of each account's weight about the pooled fit (see above)
PRIOR_SD = np.array([2.0, 1.0, 2.0, 0.5, 1.0])
#: the attributes the headline recovery averages (held by most shoppers, so ranks exist)
HEADLINE = ("organic", "price", "brand")
SOURCES = ("journeys", "receipts")


def pseudonym_key(secret: str) -> bytes:
    """The pseudonym key of a run or a study, from its secret text."""
    import hashlib
    return hashlib.sha256(f"storetwin-pseudonym/1:{secret}".encode()).digest()


@dataclass(frozen=True)
class Obs:
    """One choice: ``chosen`` catalogue rows (one SKU, or the set within reach of a look)
    among ``cands``; ``visit``: the account's visit number (0 first); ``kind``: basket,
    change, second or look."""
    account: str
    visit: int
    t: float
    kind: str
    chosen: tuple[int, ...]
    cands: np.ndarray


class ChoiceData:
    """The store side of the model: features of every SKU, substitute groups, stocked
    SKUs, where each bin is reached."""

    def __init__(self, store: Store, reach_m: float = 0.6) -> None:
        from scenes.substitutes import substitute_groups
        cat = store.catalogue
        self.catalogue = cat
        self.sku_row = cat.index()
        self.X = np.stack([cat.gluten_free, cat.organic, cat.vegan,
                           -cat.price_cents / 100.0], axis=1).astype(np.float64)
        self.category = np.asarray(cat.category, dtype=str)
        self.brand = np.asarray(cat.brand, dtype=str)
        groups = substitute_groups(cat)
        self.stocked = np.unique(np.asarray(store.bins.sku_index, dtype=np.int64))
        g = groups[self.stocked]
        self.group_of = groups
        self.members = {int(k): self.stocked[g == k] for k in np.unique(g)}
        self.access = np.asarray(store.bins.access_xy, dtype=np.float64)
        self.bin_sku = np.asarray(store.bins.sku_index, dtype=np.int64)
        self.tree = cKDTree(self.access)
        self.reach_m = reach_m

    def group(self, row: int) -> np.ndarray:
        return self.members.get(int(self.group_of[row]), np.zeros(0, dtype=np.int64))

    def in_reach(self, x: float, y: float) -> tuple[int, ...]:
        idx = self.tree.query_ball_point([x, y], self.reach_m)
        return tuple(sorted({int(self.bin_sku[i]) for i in idx}))


def till_observations(data: ChoiceData, visits: list[tuple[str, float, dict[str, int]]]
                      ) -> list[Obs]:
    """Basket lines of (account pseudonym, visit start [s], {sku: units}) visits."""
    out = []
    order = _visit_numbers([(a, t) for a, t, _ in visits])
    for a, t, basket in visits:
        for sku in sorted(basket):
            r = data.sku_row[sku]
            c = data.group(r)
            if c.size >= 2:
                out.append(Obs(a, order[(a, t)], t, "basket", (r,), c))
    return out


def _visit_numbers(keys: list[tuple[str, float]]) -> dict[tuple[str, float], int]:
    per: dict[str, list[float]] = {}
    for a, t in keys:
        per.setdefault(a, []).append(t)
    return {(a, t): i for a, ts in per.items() for i, t in enumerate(sorted(set(ts)))}


def journey_observations(data: ChoiceData, journeys: dict[str, list]) -> list[Obs]:
    """Choices in journey rows (columns of :data:`core.journeys.COLUMNS`)."""
    rows = list(zip(*(journeys[k] for k in ("account", "visit", "t", "event", "sku",
                                           "other_sku", "quantity", "x", "y")), strict=True))
    starts: dict[tuple[str, str], float] = {}
    for a, v, t, *_ in rows:
        starts[(a, v)] = min(t, starts.get((a, v), math.inf))
    num = _visit_numbers(list({(a, t) for (a, _), t in starts.items()}))
    vnum = {k: num[(k[0], t)] for k, t in starts.items()}
    per_visit: dict[tuple[str, str], list] = {}
    for r in rows:
        per_visit.setdefault((r[0], r[1]), []).append(r)
    out: list[Obs] = []
    for (a, v), rs in sorted(per_visit.items()):
        n, t0 = vnum[(a, v)], starts[(a, v)]
        kept = {data.sku_row[r[4]] for r in rs if r[3] == "purchase" and r[4] in data.sku_row}
        kept_groups = {int(data.group_of[k]) for k in kept}
        for k in sorted(kept):
            c = data.group(k)
            if c.size >= 2:
                out.append(Obs(a, n, t0, "basket", (k,), c))
        seconds = set()
        for r in rs:
            if r[3] == "substitution" and r[4] in data.sku_row and r[5] in data.sku_row:
                b, o = data.sku_row[r[4]], data.sku_row[r[5]]
                c = data.group(b)
                if b in kept and o in c and (b, o) not in seconds:
                    seconds.add((b, o))
                    rest = c[c != b]
                    if rest.size >= 2:
                        out.append(Obs(a, n, r[2], "second", (o,), rest))
        picked = {data.sku_row[r[4]] for r in rs if r[3] == "pick" and r[4] in data.sku_row}
        for p in sorted(picked - kept):
            g = int(data.group_of[p])
            c = data.group(p)
            if g not in kept_groups and c.size >= 2:
                kept_groups.add(g)     # one change of mind per group and visit
                out.append(Obs(a, n, t0, "change", (p,), c))
        for r in rs:
            if r[3] == "look" and not (math.isnan(r[7]) or math.isnan(r[8])):
                s = data.in_reach(r[7], r[8])
                if s:
                    out.append(Obs(a, n, r[2], "look", s, data.stocked))
    return out


# ------------------------------------------------------------------------------ the fit


class _Design:
    """An account's observations as flat arrays for a vectorised log-likelihood; looks'
    utilities are multiplied by the attention scale ``theta``."""

    def __init__(self, data: ChoiceData, obs: list[Obs], brand_of) -> None:
        feats, seg, chosen, look = [], [], [], []
        for i, o in enumerate(obs):
            c = o.cands
            f = np.empty((c.size, len(FEATURES)))
            f[:, :4] = data.X[c]
            fav = brand_of(o)
            f[:, 4] = [1.0 if fav.get(k) == b else 0.0
                       for k, b in zip(data.category[c].tolist(), data.brand[c].tolist(),
                                       strict=True)]
            feats.append(f)
            seg.append(np.full(c.size, i))
            chosen.append(np.isin(c, o.chosen))
            look.append(np.full(c.size, o.kind == "look"))
        k = len(FEATURES)
        self.F = np.concatenate(feats) if feats else np.zeros((0, k))
        self.seg = np.concatenate(seg) if seg else np.zeros(0, dtype=np.int64)
        self.chosen = np.concatenate(chosen) if chosen else np.zeros(0, dtype=bool)
        self.look = np.concatenate(look) if look else np.zeros(0, dtype=bool)
        self.n = len(obs)

    def nll(self, b: np.ndarray, theta: float = 1.0) -> tuple[float, np.ndarray, float]:
        """Negative log-likelihood, its gradient in ``b`` and its derivative in ``theta``."""
        if self.n == 0:
            return 0.0, np.zeros_like(b), 0.0
        v = self.F @ b
        scale = np.where(self.look, theta, 1.0)
        u = scale * v
        m = np.full(self.n, -np.inf)
        np.maximum.at(m, self.seg, u)
        e = np.exp(u - m[self.seg])
        z_all = np.bincount(self.seg, e, self.n)
        ec = np.where(self.chosen, e, 0.0)
        z_ch = np.bincount(self.seg, ec, self.n)
        ll = float(np.sum(np.log(z_ch) - np.log(z_all)))
        w = ec / z_ch[self.seg] - e / z_all[self.seg]
        grad = (w * scale) @ self.F
        d_theta = float(np.sum((w * v)[self.look]))
        return -ll, -grad, -d_theta


def _brand_counts(data: ChoiceData, obs: list[Obs]) -> dict[str, Counter]:
    """Per account, (category, brand) -> times chosen, over single-SKU choices."""
    out: dict[str, Counter] = {}
    for o in obs:
        if o.kind in ("basket", "change") and len(o.chosen) == 1:
            k = o.chosen[0]
            out.setdefault(o.account, Counter())[(data.category[k], data.brand[k])] += 1
    return out


def _favourites(data: ChoiceData, counts: dict[str, Counter]):
    """brand_of(obs) -> {category: the account's most chosen brand there, leaving out the
    observation's own choice} (ties: none)."""
    def brand_of(o: Obs) -> dict[str, str]:
        cnt = Counter(counts.get(o.account, Counter()))
        if o.kind in ("basket", "change") and len(o.chosen) == 1:
            k = o.chosen[0]
            cnt[(data.category[k], data.brand[k])] -= 1
        best: dict[str, tuple[int, str, bool]] = {}
        for (cat, br), n in cnt.items():
            if n <= 0:
                continue
            cur = best.get(cat)
            if cur is None or n > cur[0]:
                best[cat] = (n, br, True)
            elif n == cur[0]:
                best[cat] = (n, cur[1], False)
        return {c: br for c, (_, br, unique) in best.items() if unique}
    return brand_of


@dataclass(frozen=True)
class Fit:
    accounts: tuple[str, ...]
    weights: np.ndarray          # (accounts, FEATURES)
    pooled: np.ndarray           # (FEATURES,)
    n_obs: np.ndarray            # (accounts,) observations used
    brand_counts: dict
    look_scale: float = 1.0      # fitted attention of looks to taste (0: none)


def fit(data: ChoiceData, obs: list[Obs], accounts: list[str]) -> Fit:
    """Pooled fit, then each account's MAP weights about it (see the module's notes)."""
    counts = _brand_counts(data, obs)
    brand_of = _favourites(data, counts)
    by: dict[str, list[Obs]] = {a: [] for a in accounts}
    for o in obs:
        if o.account in by:
            by[o.account].append(o)
    designs = {a: _Design(data, by[a], brand_of) for a in accounts}
    k = len(FEATURES)
    ridge = 1e-3

    def pooled_nll(p):
        b, theta = p[:k], p[k]
        tot, g, gt = ridge * 0.5 * float(b @ b), ridge * b, 0.0
        for d in designs.values():
            f, gr, dt = d.nll(b, theta)
            tot += f
            g = g + gr
            gt += dt
        return tot, np.append(g, gt)

    # the attention scale of looks is fitted with the pooled weights (0: looks say nothing
    # of taste, and are then ignored), then held for every account
    p0 = np.append(np.zeros(k), 1.0)
    bounds = [(None, None)] * k + [(0.0, 5.0)]
    best = minimize(pooled_nll, p0, jac=True, method="L-BFGS-B", bounds=bounds).x
    pooled, theta = best[:k], float(best[k])
    lam = 1.0 / PRIOR_SD ** 2
    W = np.empty((len(accounts), k))
    for i, a in enumerate(accounts):
        d = designs[a]

        def nll(b, d=d):
            f, g, _ = d.nll(b, theta)
            r = b - pooled
            return f + 0.5 * float(lam @ (r * r)), g + lam * r
        W[i] = minimize(nll, pooled, jac=True, method="L-BFGS-B").x if d.n else pooled
    return Fit(tuple(accounts), W, pooled, np.array([designs[a].n for a in accounts]), counts,
               theta)


def recovery(fitted: Fit, latent: dict[str, dict[str, float]]) -> dict[str, float | None]:
    """Spearman rho of recovered vs latent weights across accounts, per attribute (None where
    the latent weights do not vary), and ``mean`` over :data:`HEADLINE`."""
    out: dict[str, float | None] = {}
    for j, f in enumerate(FEATURES):
        true = np.array([latent[a][LATENT[f]] for a in fitted.accounts])
        est = fitted.weights[:, j]
        if np.unique(true).size < 2 or np.unique(est).size < 2:
            out[f] = None
        else:
            out[f] = round(float(spearmanr(est, true)[0]), 4)
    vals = [out[f] for f in HEADLINE if out[f] is not None]
    out["mean"] = round(float(np.mean(vals)), 4) if vals else None
    return out


def history(obs: list[Obs], tests: list[Obs]) -> list[Obs]:
    """The observations each tested account made before its tested visit. Journeys number
    visits by what the core saw (a visit it never saw shifts them), so the cut is the tested
    visit's start time, less a second: journey times are rounded to 0.1 ms and an account's
    visits are minutes apart, so the tested visit itself is never in the fit."""
    cut = {o.account: o.t - 1.0 for o in tests}
    return [o for o in obs if o.t < cut.get(o.account, -math.inf)]


def predict_accuracy(data: ChoiceData, fitted: Fit, tests: list[Obs],
                     personal: bool = True) -> tuple[float | None, float | None]:
    """(share of test basket lines whose kept SKU the fit rates highest, mean log-probability
    of the kept SKU); ``personal=False``: the pooled fit for everyone."""
    hits, lls = _predict(data, fitted, tests, personal)
    if not hits:
        return None, None
    return round(float(np.mean(hits)), 4), round(float(np.mean(lls)), 4)


def _predict(data: ChoiceData, fitted: Fit, tests: list[Obs], personal: bool = True
             ) -> tuple[list[float], list[float]]:
    index = {a: i for i, a in enumerate(fitted.accounts)}
    brand_of = _favourites(data, fitted.brand_counts)
    hits, lls = [], []
    for o in tests:
        b = fitted.weights[index[o.account]] if personal and o.account in index \
            else fitted.pooled
        d = _Design(data, [o], brand_of if personal else (lambda _o: {}))
        u = d.F @ b
        hits.append(float(o.cands[int(np.argmax(u))] == o.chosen[0]))
        m = u.max()
        lls.append(float(u[d.chosen][0] - m - math.log(np.exp(u - m).sum())))
    return hits, lls


# ------------------------------------------------------------------------------ a run


@dataclass(frozen=True)
class Insights:
    metrics: dict
    accounts: dict[str, list]        # per account: pseudonym, visits, weights per source
    substitutions: dict[str, list]   # from_sku, to_sku, count, share of from_sku's put-backs


def substitution_table(journeys: dict[str, list]) -> dict[str, list]:
    """Store-level item-to-item substitutions: how often each SKU was put back for which."""
    pairs = Counter((o, s) for e, s, o in zip(journeys["event"], journeys["sku"],
                                              journeys["other_sku"], strict=True)
                    if e == "substitution")
    backs = Counter(s for e, s in zip(journeys["event"], journeys["sku"], strict=True)
                    if e == "put_back")
    rows = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    return {"from_sku": [a for (a, _), _ in rows], "to_sku": [b for (_, b), _ in rows],
            "count": [n for _, n in rows],
            "share_of_put_backs": [round(n / backs[a], 4) if backs[a] else None
                                   for (a, _), n in rows]}


def analyse(store: Store, journeys: dict[str, list],
            visits: list[tuple[int, float, float, dict[str, int]]],
            latent: dict[int, dict[str, float]], key: bytes,
            visit_counts: tuple[int, ...] = (1, 2, 4, 8)) -> Insights:
    """Tastes from ``journeys`` (the core's rows) and from the till's exact baskets
    (``visits``: (account, enter, exit, basket) from the ground truth), scored against
    ``latent`` (account -> latent weights). Raw account ids stay inside this function: every
    output names accounts by :func:`core.journeys.pseudonym` under ``key``."""
    data = ChoiceData(store)
    pseudo = {a: pseudonym(a, key) for a in {v[0] for v in visits} | set(latent)}
    truth = {pseudo[a]: w for a, w in latent.items()}
    till = till_observations(data, [(pseudo[a], e, b) for a, e, _, b in visits])
    jobs = journey_observations(data, journeys)
    n_visits = Counter(pseudo[a] for a, *_ in visits)
    accounts = sorted(a for a in n_visits if a in truth)
    obs = {"journeys": jobs, "receipts": till}
    m: dict = {"accounts": len(accounts),
               "visits_per_account": round(float(np.mean([n_visits[a] for a in accounts])), 3)
               if accounts else 0.0,
               "observations": {s: Counter(o.kind for o in obs[s]) for s in SOURCES}}
    fits = {s: fit(data, obs[s], accounts) for s in SOURCES}
    for s in SOURCES:
        m[s] = {"rho": recovery(fits[s], truth)}
    m["journeys"]["look_scale"] = round(fits["journeys"].look_scale, 4)
    # recovery after each account's first k visits
    m["by_visits"] = {}
    for k in visit_counts:
        m["by_visits"][str(k)] = {
            s: recovery(fit(data, [o for o in obs[s] if o.visit < k], accounts), truth)["mean"]
            for s in SOURCES}
    # next visit, prequentially: every visit after an account's first is predicted from a
    # fit on what came before it (all accounts' earlier visits: the k-th visits are
    # predicted by one fit on everyone's visits before their k-th)
    preds: dict[str, tuple[list, list]] = {s: ([], []) for s in (*SOURCES, "population")}
    for k in range(1, max(n_visits.values(), default=0)):
        tests = [o for o in till if o.visit == k and o.account in truth]
        if not tests:
            continue
        for s in SOURCES:
            f = fit(data, history(obs[s], tests), accounts)
            h, ll = _predict(data, f, tests)
            preds[s][0].extend(h)
            preds[s][1].extend(ll)
            if s == "receipts":
                h, ll = _predict(data, f, tests, personal=False)
                preds["population"][0].extend(h)
                preds["population"][1].extend(ll)
    m["population"] = {}
    for s, (h, ll) in preds.items():
        acc = round(float(np.mean(h)), 4) if h else None
        lp = round(float(np.mean(ll)), 4) if ll else None
        m[s]["next_visit_accuracy"], m[s]["next_visit_log_prob"] = acc, lp
    m["next_visit_lines"] = len(preds["receipts"][0])
    subs = substitution_table(journeys)
    m["substitutions"] = int(sum(subs["count"]))
    m["substitution_pairs"] = {f"{a}>{b}": n for a, b, n in zip(
        subs["from_sku"], subs["to_sku"], subs["count"], strict=True)}
    m["observations"] = {s: dict(sorted(c.items())) for s, c in m["observations"].items()}
    acc_table: dict[str, list] = {"account": accounts,
                                  "visits": [n_visits[a] for a in accounts]}
    for s in SOURCES:
        acc_table[f"{s}_observations"] = fits[s].n_obs.tolist()
        for j, f in enumerate(FEATURES):
            acc_table[f"{s}_{f}"] = [round(float(x), 6) for x in fits[s].weights[:, j]]
    return Insights(m, acc_table, subs)


def analyse_folder(run_dir, key: bytes | None = None) -> Insights:
    """:func:`analyse` of a run folder (``journeys.parquet`` and ``ground_truth/``); ``key``:
    the pseudonym key the run used (None: the run's default, from its seed)."""
    import json
    from pathlib import Path

    import pyarrow.parquet as pq

    from scenes.presets import load_store
    d = Path(run_dir)
    cfg = json.loads((d / "config.json").read_text())
    if key is None:
        if cfg.get("pseudonym_key"):
            raise ValueError(f"{d / 'config.json'}: the run was given a pseudonym key; pass "
                             "the same key")
        key = pseudonym_key(f"seed:{cfg['seed']}")
    journeys = pq.read_table(d / "journeys.parquet").to_pydict()
    v = pq.read_table(d / "ground_truth" / "visits.parquet").to_pydict()
    baskets: dict[tuple[int, float, float], dict[str, int]] = {}
    for a, e, x, sku, q in zip(v["account"], v["enter_t"], v["exit_t"], v["sku"],
                               v["quantity"], strict=True):
        b = baskets.setdefault((a, e, x), {})
        if sku:
            b[sku] = q
    sh = pq.read_table(d / "ground_truth" / "shoppers.parquet").to_pydict()
    latent = {}
    for i, a in enumerate(sh["account"]):
        w = {LATENT[f]: sh[f"pref_{LATENT[f]}"][i] for f in FEATURES
             if f"pref_{LATENT[f]}" in sh}
        if w and not any(x != x for x in w.values()):
            latent[a] = w
    store = load_store(cfg["store"])
    return analyse(store, journeys, [(a, e, x, b) for (a, e, x), b in baskets.items()],
                   latent, key)
