"""Run a scripted scenario (docs/scenarios.md) through the whole pipeline and compare, per
account, what the script says it owes, what the simulated shoppers actually owed (ground
truth), and what the core billed.

The scripted shoppers share the store with an optional sampled background crowd; the run
stops ``TAIL_S`` after the last scripted shopper left (receipts are issued at the exit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.crowd import ScriptedShopper
from agents.scenario_types import Scenario, expected_receipts
from core.protocol import Core
from core.records import NO_ACCOUNT, Receipt, SensorBatch, Tracks
from core.store_core import StoreCore
from experiments.runs.config import RunConfig, RunResult
from experiments.runs.run import run
from experiments.scoring.billing import BillingScores, match_alerts, review_lines, score_billing

TAIL_S = 10.0
FIRST_ACCOUNT = 1001      # scripted accounts are numbered from here, in order of appearance

def make_core(name: str) -> Core:
    """A fresh core by name: ``full``, ``naive`` or ``package.module:Name``
    (:mod:`experiments.runs.cores`)."""
    from experiments.runs.cores import make_core as make

    return make(name)


@dataclass(frozen=True)
class AccountRow:
    account: str                   # the scenario's account name
    account_id: int                # what the gate and the core saw
    expected: dict[str, int]       # from the script alone
    truth: dict[str, int] | None   # owed by the simulated shoppers (None: never all left)
    issued: dict[str, int] | None  # the core's receipt (None: none issued)
    confidence: float | None
    review: bool | None
    alerted: bool = False          # no receipt, but the core alerted staff as this one left

    @property
    def ran_as_written(self) -> bool:
        return self.truth == self.expected

    @property
    def billed_right(self) -> bool:
        return self.issued is not None and self.issued == self.expected

    @property
    def verdict(self) -> str:
        """"ok" (right), "flagged" (not right, but sent to review, or no receipt but an
        alert as the shopper left) or "wrong" (not right and not flagged, or no receipt and
        no alert: a silent error)."""
        if self.billed_right:
            return "ok"
        return "flagged" if self.review or (self.issued is None and self.alerted) else "wrong"

    def as_dict(self) -> dict:
        return {"account": self.account, "account_id": self.account_id,
                "expected": self.expected, "truth": self.truth, "issued": self.issued,
                "confidence": self.confidence, "review": self.review, "alerted": self.alerted,
                "ran_as_written": self.ran_as_written, "billed_right": self.billed_right,
                "verdict": self.verdict}


@dataclass
class ScenarioResult:
    scenario: Scenario
    rows: list[AccountRow]
    problems: list[str]            # scripted actions the crowd could not carry out
    run: RunResult
    core: str = "full"
    others: dict[str, list[AccountRow]] = field(default_factory=dict)  # same run, other cores

    @property
    def ran_as_written(self) -> bool:
        return not self.problems and all(r.ran_as_written for r in self.rows)

    @property
    def billed_right(self) -> int:
        return sum(r.billed_right for r in self.rows)

    def review(self, core: str | None = None) -> BillingScores:
        """The review figures of ``core``'s receipts (default the main core) against the
        script's: :func:`review_scores` at the store's prices."""
        rows = self.rows if core in (None, self.core) else self.others[core]
        return review_scores(rows, self.run.crowd.store.catalogue.prices())

    def as_dict(self) -> dict:
        s = self.scenario
        return {"scenario": s.name, "store": s.store_ref, "seed": s.seed,
                "ran_as_written": self.ran_as_written,
                "billed_right": self.billed_right, "accounts": len(self.rows),
                "rows": [r.as_dict() for r in self.rows], "problems": self.problems,
                "end_s": round(self.run.end_s, 3), "metrics": self.run.metrics,
                "timing": self.run.timing, "core": self.core,
                "others": {k: [r.as_dict() for r in v] for k, v in self.others.items()},
                "review": {c: self.review(c).as_dict() for c in (self.core, *self.others)}}


def review_scores(rows: list[AccountRow], prices: dict[str, int]) -> BillingScores:
    """Billing scores of a scenario's accounts with the script's receipts as the truth, for
    their review figures: receipts sent to review (``receipts_flagged`` of
    ``receipts_issued``), the money in them (script's receipts at ``prices`` [cents]) and
    exact match among the unflagged (its ``silent_wrong`` is the "wrong" verdicts)."""
    truth = {r.account_id: r.expected for r in rows}
    issued = {r.account_id: r.issued for r in rows if r.issued is not None}
    review = {r.account_id: bool(r.review) for r in rows if r.issued is not None}
    alerted = {r.account_id for r in rows if r.issued is None and r.alerted}
    return score_billing(truth, issued, prices, review, alerted, len(alerted))


def review_text(b: BillingScores | dict) -> str:
    """One line: sent to review with its counts and money, exact among unflagged."""
    sent, unflagged = review_lines(b if isinstance(b, dict) else b.as_dict())
    return f"sent to review {sent}; exact among unflagged {unflagged}"


def verdicts(rows: list[AccountRow]) -> dict[str, int]:
    """Accounts per verdict: ok, flagged, wrong."""
    out = {"ok": 0, "flagged": 0, "wrong": 0}
    for r in rows:
        out[r.verdict] += 1
    return out


class _Tee:
    """Feeds one run's sensor batches to a main core and to others; answers with the main
    core's tracks and receipts and keeps the others' receipts (one simulation, several
    cores on the very same records)."""

    def __init__(self, main: Core, others: dict[str, Core]) -> None:
        self.main, self.others = main, others
        self.receipts: dict[str, list[Receipt]] = {k: [] for k in others}
        self.stats = getattr(main, "stats", None)

    @property
    def ledger(self):
        return getattr(self.main, "ledger", None)

    def __getattr__(self, name: str):
        """What else the run reads of a core (its knowledge, attributions, tracker for the
        ledger's evidence): the main core's."""
        if name in ("main", "others") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.main, name)

    @property
    def misplaced(self):
        return getattr(self.main, "misplaced", [])

    def start(self, knowledge) -> None:
        self.main.start(knowledge)
        for c in self.others.values():
            c.start(knowledge)

    def step(self, batch: SensorBatch) -> tuple[list[Tracks], list[Receipt]]:
        for k, c in self.others.items():
            self.receipts[k].extend(c.step(batch)[1])
        return self.main.step(batch)

    def finish(self, t: float) -> list[Receipt]:
        for k, c in self.others.items():
            self.receipts[k].extend(c.finish(t))
        return self.main.finish(t)


def scripted_shoppers(s: Scenario) -> tuple[tuple[ScriptedShopper, ...], dict[str, int]]:
    """The crowd's view of a scenario's shoppers, and account name -> account id."""
    ids = {name: FIRST_ACCOUNT + i for i, name in enumerate(s.accounts)}
    return tuple(ScriptedShopper(sh.name, ids[sh.account], sh.enter_s, sh.actions,
                                 checkin_delay_s=sh.checkin_delay_s, checkin=sh.checkin)
                 for sh in s.shoppers), ids


def run_scenario(s: Scenario, out: str | Path | None = None, core: Core | None = None,
                 progress: bool = False, *, core_name: str = "full",
                 others: dict[str, Core] | None = None,
                 dead_cameras: tuple[int, ...] = ()) -> ScenarioResult:
    """Run ``s`` with ``core`` (default: a new full core) and score it per account.

    others: more cores fed the same sensor records in the same run (name -> core); their
    rows are in ``ScenarioResult.others``. dead_cameras: camera ids (of the ceiling grid or
    the scenario's layout) that deliver nothing, as in ``storetwin run --dead-cameras``.
    """
    scripted, ids = scripted_shoppers(s)
    cfg = RunConfig(store=s.store_ref, minutes=s.max_duration_s / 60.0,
                    shoppers=s.crowd_shoppers, seed=s.seed, layout=s.layout,
                    record_streams=out is not None, dead_cameras=tuple(dead_cameras),
                    warm_start=s.crowd_warm_start, crowd_seed=s.crowd_seed,
                    faults=s.faults)
    main = core if core is not None else StoreCore()
    tee = _Tee(main, dict(others or {})) if others else None
    res = run(cfg, out=out, core=tee or main, progress=progress, scripted=scripted,
              stop_after_scripted_s=TAIL_S)
    crowd = res.crowd
    expected = expected_receipts(s)

    def rows_for(receipts: list[Receipt]) -> list[AccountRow]:
        by_acct = {r.account: r for r in receipts if r.account != NO_ACCOUNT}
        exits = {a: crowd.exited[a] for a in ids.values() if a in crowd.exited}
        alerted = match_alerts([r.t_issued for r in receipts if r.account == NO_ACCOUNT],
                               exits, set(exits) - set(by_acct))
        rows = []
        for name, acct in ids.items():
            truth = dict(sorted(crowd.carts.get(acct, {}).items())) if acct in crowd.exited \
                else None
            r = by_acct.get(acct)
            issued = {p.sku: p.quantity for p in r.products} if r is not None else None
            rows.append(AccountRow(name, acct, dict(sorted(expected[name].items())), truth,
                                   dict(sorted(issued.items())) if issued is not None else None,
                                   round(float(r.confidence), 4) if r is not None else None,
                                   bool(r.review) if r is not None else None,
                                   acct in alerted))
        return rows

    problems = list(crowd.problems)
    if not crowd.done:
        problems.append(f"not every scripted shopper had left by max_duration_s = "
                        f"{s.max_duration_s:g} s")
    other_rows = {k: rows_for(v) for k, v in tee.receipts.items()} if tee else {}
    return ScenarioResult(s, rows_for(res.receipts), problems, res, core_name, other_rows)


def pooled_review(scores: list[BillingScores]) -> dict:
    """The review figures of several scenarios' :class:`BillingScores` pooled (counts and
    cents summed, ratios recomputed), in ``as_dict()`` form (undefined ratios ``None``)."""
    keys = ("receipts_true", "receipts_issued", "receipts_flagged", "money_true_cents",
            "money_flagged_cents", "receipts_unflagged", "receipts_unflagged_exact",
            "silent_wrong")
    d = {k: sum(getattr(s, k) for s in scores) for k in keys}

    def part(num: int, den: int, scale: float = 1.0) -> float | None:
        return scale * num / den if den else None
    d["review_rate_per_1000"] = part(d["receipts_flagged"], d["receipts_issued"], 1000.0)
    d["flagged_money_share"] = part(d["money_flagged_cents"], d["money_true_cents"])
    d["unflagged_exact_match"] = part(d["receipts_unflagged_exact"], d["receipts_unflagged"])
    return d


def _cart(c: dict[str, int] | None) -> str:
    if c is None:
        return "-"
    return ", ".join(f"{k} x{v}" for k, v in c.items()) or "(nothing)"


def format_result(r: ScenarioResult) -> str:
    s = r.scenario
    head = [f"scenario {s.name}  (store {Path(s.store_ref).name}, seed {s.seed}, "
            f"{r.run.end_s:.0f} s simulated)"]
    if s.description:
        head.append(f"  {s.description}")
    cols = ["account", "expected (script)", "ground truth", f"issued ({r.core} core)", "conf",
            "verdict"]
    body = []
    for row in r.rows:
        verdict = "ok" if row.billed_right else ("no receipt" if row.issued is None
                                                  else "WRONG")
        if row.review:
            verdict += ", review"
        elif row.issued is None and row.alerted:
            verdict += ", alert"
        if not row.ran_as_written:
            verdict += ", truth != script"
        body.append([row.account, _cart(row.expected), _cart(row.truth), _cart(row.issued),
                     "-" if row.confidence is None else f"{row.confidence:.2f}", verdict])
    w = [max(len(x) for x in col) for col in zip(cols, *body, strict=True)]
    lines = head + ["", "  ".join(c.ljust(k) for c, k in zip(cols, w, strict=True))]
    lines += ["  ".join(c.ljust(k) for c, k in zip(b, w, strict=True)) for b in body]
    lines.append("")
    lines.append(f"billed right: {r.billed_right}/{len(r.rows)} accounts; ground truth "
                 f"{'matches' if r.ran_as_written else 'DOES NOT match'} the script")
    lines.append(f"{r.core} core: {review_text(r.review())}")
    for name, rows in r.others.items():
        v = verdicts(rows)
        lines.append(f"{name} core on the same sensor records: {v['ok']}/{len(rows)} right, "
                     f"{v['flagged']} flagged, {v['wrong']} wrong; "
                     f"{review_text(r.review(name))}")
    for p in r.problems:
        lines.append(f"  problem: {p}")
    return "\n".join(lines)


def format_library(results: list[ScenarioResult]) -> str:
    """One line per scenario and core: accounts right / flagged for review / silently wrong."""
    if not results:
        return "(no scenarios)"
    cores = [results[0].core, *results[0].others]
    cols = ["scenario", "accounts"] + [f"{c}: ok/flagged/wrong" for c in cores]
    body, tot = [], {c: {"ok": 0, "flagged": 0, "wrong": 0} for c in cores}
    for r in results:
        row = [r.scenario.name, str(len(r.rows))]
        for c in cores:
            v = verdicts(r.rows if c == r.core else r.others[c])
            for k in v:
                tot[c][k] += v[k]
            row.append(f"{v['ok']}/{v['flagged']}/{v['wrong']}")
        body.append(row)
    n = sum(len(r.rows) for r in results)
    body.append(["total", str(n)] + [f"{t['ok']}/{t['flagged']}/{t['wrong']}"
                                     for t in tot.values()])
    w = [max(len(x) for x in col) for col in zip(cols, *body, strict=True)]
    lines = ["  ".join(c.ljust(k) for c, k in zip(cols, w, strict=True))]
    lines += ["  ".join(c.ljust(k) for c, k in zip(b, w, strict=True)) for b in body]
    lines.append("")
    for c in cores:
        lines.append(f"{c} core, all scenarios: "
                     f"{review_text(pooled_review([r.review(c) for r in results]))}")
    lines.append("")
    lines.append("ok: receipt equals the script's; flagged: not equal, sent to review; "
                 "wrong: not equal and not flagged, or no receipt")
    return "\n".join(lines)
