"""Run a scripted scenario (docs/scenarios.md) through the whole pipeline and compare, per
account, what the script says it owes, what the simulated shoppers actually owed (ground
truth), and what the core billed.

The scripted shoppers share the store with an optional sampled background crowd; the run
stops ``TAIL_S`` after the last scripted shopper left (receipts are issued at the exit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agents.crowd import ScriptedShopper
from agents.scenario import Scenario, expected_receipts
from core.protocol import Core
from experiments.run import RunConfig, RunResult, run

TAIL_S = 10.0
FIRST_ACCOUNT = 1001      # scripted accounts are numbered from here, in order of appearance


@dataclass(frozen=True)
class AccountRow:
    account: str                   # the scenario's account name
    account_id: int                # what the gate and the core saw
    expected: dict[str, int]       # from the script alone
    truth: dict[str, int] | None   # owed by the simulated shoppers (None: never all left)
    issued: dict[str, int] | None  # the core's receipt (None: none issued)
    confidence: float | None
    review: bool | None

    @property
    def ran_as_written(self) -> bool:
        return self.truth == self.expected

    @property
    def billed_right(self) -> bool:
        return self.issued is not None and self.issued == self.expected

    def as_dict(self) -> dict:
        return {"account": self.account, "account_id": self.account_id,
                "expected": self.expected, "truth": self.truth, "issued": self.issued,
                "confidence": self.confidence, "review": self.review,
                "ran_as_written": self.ran_as_written, "billed_right": self.billed_right}


@dataclass
class ScenarioResult:
    scenario: Scenario
    rows: list[AccountRow]
    problems: list[str]            # scripted actions the crowd could not carry out
    run: RunResult

    @property
    def ran_as_written(self) -> bool:
        return not self.problems and all(r.ran_as_written for r in self.rows)

    @property
    def billed_right(self) -> int:
        return sum(r.billed_right for r in self.rows)

    def as_dict(self) -> dict:
        s = self.scenario
        return {"scenario": s.name, "store": s.store_ref, "seed": s.seed,
                "ran_as_written": self.ran_as_written,
                "billed_right": self.billed_right, "accounts": len(self.rows),
                "rows": [r.as_dict() for r in self.rows], "problems": self.problems,
                "end_s": round(self.run.end_s, 3), "metrics": self.run.metrics,
                "timing": self.run.timing}


def scripted_shoppers(s: Scenario) -> tuple[tuple[ScriptedShopper, ...], dict[str, int]]:
    """The crowd's view of a scenario's shoppers, and account name -> account id."""
    ids = {name: FIRST_ACCOUNT + i for i, name in enumerate(s.accounts)}
    return tuple(ScriptedShopper(sh.name, ids[sh.account], sh.enter_s, sh.actions)
                 for sh in s.shoppers), ids


def run_scenario(s: Scenario, out: str | Path | None = None, core: Core | None = None,
                 progress: bool = False) -> ScenarioResult:
    scripted, ids = scripted_shoppers(s)
    cfg = RunConfig(store=s.store_ref, minutes=s.max_duration_s / 60.0,
                    shoppers=s.crowd_shoppers, seed=s.seed, layout=s.layout,
                    record_streams=out is not None)
    res = run(cfg, out=out, core=core, progress=progress, scripted=scripted,
              stop_after_scripted_s=TAIL_S)
    crowd = res.crowd
    expected = expected_receipts(s)
    receipts = {r.account: r for r in res.receipts}
    rows = []
    for name, acct in ids.items():
        truth = dict(sorted(crowd.carts.get(acct, {}).items())) if acct in crowd.exited \
            else None
        r = receipts.get(acct)
        issued = {p.sku: p.quantity for p in r.products} if r is not None else None
        rows.append(AccountRow(name, acct, dict(sorted(expected[name].items())), truth,
                               dict(sorted(issued.items())) if issued is not None else None,
                               round(float(r.confidence), 4) if r is not None else None,
                               bool(r.review) if r is not None else None))
    problems = list(crowd.problems)
    if not crowd.done:
        problems.append(f"not every scripted shopper had left by max_duration_s = "
                        f"{s.max_duration_s:g} s")
    return ScenarioResult(s, rows, problems, res)


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
    cols = ["account", "expected (script)", "ground truth", "issued (core)", "conf", "verdict"]
    body = []
    for row in r.rows:
        verdict = "ok" if row.billed_right else ("no receipt" if row.issued is None
                                                  else "WRONG")
        if row.review:
            verdict += ", review"
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
    for p in r.problems:
        lines.append(f"  problem: {p}")
    return "\n".join(lines)
