"""Review figures of scripted scenarios: receipts sent to review per 1,000 with their
counts, the money in them and exact match among the unflagged, per scenario and core, on
hand-built account rows and on one real scenario run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from support import storetwin

from experiments.runs.scenario import (
    AccountRow,
    ScenarioResult,
    format_library,
    pooled_review,
    review_scores,
    verdicts,
)

PRICES = {"a": 100, "b": 250, "c": 40}   # [cents]


def _row(acct: int, expected, issued, review) -> AccountRow:
    return AccountRow(f"S{acct}", acct, expected, expected, issued,
                      None if issued is None else 0.5, review)


# full core: right+flagged, wrong+flagged, right, wrong unflagged (silent), no receipt
FULL = [_row(1, {"a": 2}, {"a": 2}, True), _row(2, {"b": 1}, {"a": 1}, True),
        _row(3, {"c": 1}, {"c": 1}, False), _row(4, {"a": 1, "c": 1}, {"a": 1}, False),
        _row(5, {"b": 2}, None, None)]
# naive core on the same accounts: nothing flagged
NAIVE = [_row(1, {"a": 2}, {"a": 2}, False), _row(2, {"b": 1}, {"a": 1}, False),
         _row(3, {"c": 1}, {"c": 1}, False), _row(4, {"a": 1, "c": 1}, {"a": 1}, False),
         _row(5, {"b": 2}, {"b": 2}, False)]


def test_review_scores_of_hand_built_rows() -> None:
    s = review_scores(FULL, PRICES)
    assert (s.receipts_flagged, s.receipts_issued) == (2, 4)
    assert s.review_rate_per_1000 == 500.0
    # script totals 200, 250, 40, 140, 500 = 1130; flagged accounts 1 and 2 hold 450
    assert (s.money_flagged_cents, s.money_true_cents) == (450, 1130)
    assert (s.receipts_unflagged, s.receipts_unflagged_exact) == (3, 1)
    # the silent wrongs are the "wrong" verdicts: account 4 and the missing receipt 5
    assert s.silent_wrong == verdicts(FULL)["wrong"] == 2
    n = review_scores(NAIVE, PRICES)
    assert (n.receipts_flagged, n.review_rate_per_1000, n.flagged_money_share) == (0, 0.0, 0.0)
    assert (n.receipts_unflagged, n.silent_wrong) == (5, 2)


def test_all_flagged_scenario_has_no_unflagged_fraction() -> None:
    rows = [_row(1, {"a": 1}, {"a": 1}, True), _row(2, {"b": 1}, {}, True)]
    d = review_scores(rows, PRICES).as_dict()
    assert d["unflagged_exact_match"] is None and d["receipts_unflagged"] == 0
    json.dumps(d, allow_nan=False)


def test_pooled_review_sums_counts_and_recomputes_ratios() -> None:
    a, b = review_scores(FULL, PRICES), review_scores(NAIVE, PRICES)
    d = pooled_review([a, b])
    assert (d["receipts_flagged"], d["receipts_issued"]) == (2, 9)
    assert d["review_rate_per_1000"] == pytest.approx(2000 / 9)
    assert (d["money_flagged_cents"], d["money_true_cents"]) == (450, 2260)
    assert (d["receipts_unflagged"], d["receipts_unflagged_exact"], d["silent_wrong"]) == (
        8, 4, 4)
    assert d["unflagged_exact_match"] == 0.5
    empty = pooled_review([])
    assert empty["review_rate_per_1000"] is None and empty["unflagged_exact_match"] is None


def _result(name: str) -> ScenarioResult:
    prices = SimpleNamespace(prices=lambda: PRICES)
    run = SimpleNamespace(crowd=SimpleNamespace(store=SimpleNamespace(catalogue=prices)))
    return ScenarioResult(SimpleNamespace(name=name), FULL, [], run, "full",
                          {"naive": NAIVE})


def test_library_table_states_review_with_counts_per_core() -> None:
    text = format_library([_result("one"), _result("two")])
    full = next(ln for ln in text.splitlines() if ln.startswith("full core, all scenarios"))
    naive = next(ln for ln in text.splitlines() if ln.startswith("naive core, all scenarios"))
    # two copies of FULL: 4 of 8 issued flagged, 900 of 2,260 cents
    assert "sent to review 500 per 1,000 (4 of 8), $9.00 of $22.60 (39.8 %)" in full
    assert "exact among unflagged 33.3 % (2 of 6), silent wrong 4" in full
    assert "sent to review 0 per 1,000 (0 of 10)" in naive
    assert "exact among unflagged 60.0 % (6 of 10), silent wrong 4" in naive
    assert "nan" not in text


def test_a_real_scenario_reports_review_per_core() -> None:
    proc = storetwin("scenario", "two_baguettes", "--core", "full,naive", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    for core, rows in (("full", doc["rows"]), ("naive", doc["others"]["naive"])):
        rv = doc["review"][core]
        issued = [r for r in rows if r["issued"] is not None]
        assert rv["receipts_issued"] == len(issued)
        assert rv["receipts_flagged"] == sum(bool(r["review"]) for r in issued)
        assert rv["silent_wrong"] == sum(r["verdict"] == "wrong" for r in rows)
        assert rv["receipts_unflagged"] == len(rows) - rv["receipts_flagged"]
        assert rv["money_true_cents"] > 0        # the script's baguettes have a price
    text = storetwin("scenario", "two_baguettes", "--core", "full,naive").stdout
    line = next(ln for ln in text.splitlines() if ln.startswith("full core: sent to review"))
    assert " of " in line and "silent wrong" in line
    assert "naive core on the same sensor records" in text


def test_all_scenarios_json_pools_review_per_core() -> None:
    proc = storetwin("scenario", "--all", "--core", "full", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    pooled, per = doc["review"]["full"], [s["review"]["full"] for s in doc["scenarios"]]
    for k in ("receipts_issued", "receipts_flagged", "money_flagged_cents",
              "receipts_unflagged", "silent_wrong"):
        assert pooled[k] == sum(p[k] for p in per), k
    assert pooled["silent_wrong"] == sum(r["verdict"] == "wrong" for s in doc["scenarios"]
                                         for r in s["rows"])
    assert pooled["review_rate_per_1000"] == pytest.approx(
        1000 * pooled["receipts_flagged"] / pooled["receipts_issued"])
