"""Billing scores: a core's receipts against the true receipts.

:func:`score_billing` uses the AutoCheckout per-receipt F1 on (sku, quantity) units
(AutoCheckout-CMU/AutoCheckout evaluation notes, see ``REFERENCES.md``) plus exact match,
pooled item precision/recall, money error and a human-review rate.

Pure functions over plain containers; nothing here knows how a run was produced. Undefined
ratios (zero denominators) are ``nan`` in :class:`BillingScores` and ``None`` in
``as_dict()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from experiments.scoring.common import AsDict, ratio

Receipt = Mapping[str, int]
"""One receipt: sku -> quantity (units, > 0). An empty mapping is a receipt with no items."""


@dataclass(frozen=True)
class BillingScores(AsDict):
    """Billing accuracy of issued receipts against true receipts.

    receipts_true: number of true receipts (shopper accounts that left the store).
    receipts_issued: number of receipts the core issued.
    receipts_missing: true accounts with no issued receipt.
    receipts_spurious: issued receipts for accounts not in the truth.
    exact_match: fraction of true receipts whose issued receipt is identical (same skus and
        quantities); a missing receipt does not match. ``nan`` if there are no true receipts.
    receipt_f1: mean over true receipts of the AutoCheckout per-receipt F1 on units
        (see :func:`receipt_f1`); a missing receipt scores 0. ``nan`` if no true receipts.
    item_precision: matched units / issued units, pooled over all issued receipts
        (spurious receipts included). ``nan`` if nothing was issued.
    item_recall: matched units / true units, pooled over all true receipts. ``nan`` if the
        truth holds no units.
    money_mae_cents: mean over true receipts of ``|issued total - true total|`` [cents]; a
        missing receipt counts as an issued total of 0. ``nan`` if no true receipts.
    overcharge_cents: sum over all accounts of ``max(issued - true, 0)`` [cents]; a
        spurious receipt is all overcharge.
    undercharge_cents: sum over all accounts of ``max(true - issued, 0)`` [cents]; a
        missing receipt is all undercharge.
    review_rate_per_1000: issued receipts flagged for human review per 1,000 issued
        receipts. ``nan`` when no review map was given or nothing was issued.
    unflagged_exact_match: exact-match fraction over the true receipts that did not go to
        review (no issued receipt, or an issued one not flagged; a missing receipt reaches
        no reviewer and counts as unflagged and wrong). Equals ``exact_match`` when no
        review map was given. ``nan`` if there are no such receipts (every receipt went to
        review): undefined, ``None`` in ``as_dict()``, never a number.
    receipts_flagged: issued receipts flagged for review (the numerator of
        ``review_rate_per_1000``; its denominator is ``receipts_issued``). 0 without a
        review map.
    money_true_cents: value of all true receipts at catalogue prices [cents].
    money_flagged_cents: value at catalogue prices of the true receipts whose issued
        receipt went to review [cents]: the sales a reviewer has to check (a flagged
        spurious receipt counts in ``receipts_flagged`` but has no true value).
    flagged_money_share: ``money_flagged_cents / money_true_cents``; ``nan`` when the true
        receipts are worth nothing.
    receipts_unflagged: true receipts that did not go to review (the denominator of
        ``unflagged_exact_match``; missing receipts included).
    receipts_unflagged_exact: of those, exactly right (its numerator).
    silent_wrong: ``receipts_unflagged - receipts_unflagged_exact``: receipts charged
        wrong with no one checking (missing receipts included).
    alerts: alerts the core raised (shoppers bound to no account who left with items, see
        ``core.records.NO_ACCOUNT``); 0 when none were given.
    receipts_alerted: true receipts with no issued receipt that an alert stands for
        (:func:`match_alerts`): staff were told, so they count as flagged, not silent
        (their value is in ``money_flagged_cents``), though still missing and unmatched.
    """

    receipts_true: int
    receipts_issued: int
    receipts_missing: int
    receipts_spurious: int
    exact_match: float
    receipt_f1: float
    item_precision: float
    item_recall: float
    money_mae_cents: float
    overcharge_cents: int
    undercharge_cents: int
    review_rate_per_1000: float
    unflagged_exact_match: float
    receipts_flagged: int
    money_true_cents: int
    money_flagged_cents: int
    flagged_money_share: float
    receipts_unflagged: int
    receipts_unflagged_exact: int
    silent_wrong: int
    alerts: int = 0
    receipts_alerted: int = 0


def _check_receipt(account: int, receipt: Receipt, prices: Mapping[str, int], what: str) -> None:
    for sku, qty in receipt.items():
        if int(qty) != qty or qty <= 0:
            raise ValueError(
                f"{what} receipt of account {account}: quantity of sku {sku!r} must be a "
                f"positive integer, got {qty!r}"
            )
        if sku not in prices:
            raise ValueError(f"{what} receipt of account {account}: sku {sku!r} has no price")


def _matched_units(true: Receipt, issued: Receipt) -> int:
    """Units common to both receipts: sum over skus of ``min(q_true, q_issued)``."""
    return sum(min(int(q), int(issued.get(sku, 0))) for sku, q in true.items())


def _units(receipt: Receipt) -> int:
    return sum(int(q) for q in receipt.values())


def _total(receipt: Receipt, prices: Mapping[str, int]) -> int:
    """Receipt total [cents] from the price map."""
    return sum(int(q) * int(prices[sku]) for sku, q in receipt.items())


def receipt_f1(true: Receipt, issued: Receipt | None) -> float:
    """AutoCheckout per-receipt F1 on (sku, quantity) units.

    matched = sum over skus of ``min(q_true, q_issued)``; precision = matched / issued
    units; recall = matched / true units; F1 their harmonic mean. Both receipts empty -> 1;
    exactly one empty -> 0; ``issued is None`` (no receipt issued) -> 0.

    Example: true ``{a: 2, b: 1}``, issued ``{a: 1, c: 1}`` -> P = 1/2, R = 1/3, F1 = 0.4.
    """
    if issued is None:
        return 0.0
    n_true, n_issued = _units(true), _units(issued)
    if n_true == 0 and n_issued == 0:
        return 1.0
    if n_true == 0 or n_issued == 0:
        return 0.0
    matched = _matched_units(true, issued)
    # F1 = 2PR/(P+R) = 2 matched / (n_true + n_issued)
    return 2.0 * matched / (n_true + n_issued)


def match_alerts(alert_times: list[float], exits: Mapping, unbilled: set,
                 within_s: float = 5.0) -> set:
    """Which unbilled true receipts the core's alerts stand for: each alert (the time the
    shopper bound to no account left [s]) takes the unbilled visit (a key of ``exits``,
    the time it left [s]) that left nearest in time, within ``within_s``; each visit is
    taken once, the closest pairs first. (Staff told "someone just left with these items"
    look at the exit then: the time is how the alert names a shopper.)"""
    pairs = sorted((abs(t - exits[k]), i, k) for i, t in enumerate(alert_times)
                   for k in unbilled if k in exits and abs(t - exits[k]) <= within_s)
    used, taken = set(), set()
    for _, i, k in pairs:
        if i not in used and k not in taken:
            used.add(i)
            taken.add(k)
    return taken


def _tally_truth(truth: Mapping[int, Receipt], issued: Mapping[int, Receipt],
                 prices: Mapping[str, int], flagged: set[int]) -> dict:
    """Sums over the true receipts: exact, F1, units, money (errors, over, under, true,
    flagged) and the unflagged ones (exact among them)."""
    c = dict.fromkeys(("exact", "f1_sum", "matched_units", "true_units", "abs_err",
                       "unflagged", "unflagged_exact", "over", "under", "money_true",
                       "money_flagged"), 0)
    for account, t in truth.items():
        i = issued.get(account)
        is_exact = i is not None and dict(t) == dict(i)
        c["exact"] += is_exact
        c["f1_sum"] += receipt_f1(t, i)
        c["true_units"] += _units(t)
        true_total = _total(t, prices)
        c["money_true"] += true_total
        diff = (_total(i, prices) if i is not None else 0) - true_total
        c["abs_err"] += abs(diff)
        c["over"] += max(diff, 0)
        c["under"] += max(-diff, 0)
        if i is not None:
            c["matched_units"] += _matched_units(t, i)
        if account in flagged:
            c["money_flagged"] += true_total
        else:
            c["unflagged"] += 1
            c["unflagged_exact"] += is_exact
    return c


def score_billing(
    truth: Mapping[int, Receipt],
    issued: Mapping[int, Receipt],
    prices: Mapping[str, int],
    review: Mapping[int, bool] | None = None,
    alerted: set | frozenset = frozenset(),
    alerts: int = 0,
) -> BillingScores:
    """Score issued receipts against the true ones.

    truth: account -> true receipt (sku -> units > 0), one entry per shopper account that
        left the store.
    issued: account -> receipt the core issued.
    prices: sku -> unit price [cents]; every sku on either side must have one.
    review: optional account -> flagged-for-human-review; accounts absent are unflagged;
        entries for accounts without an issued receipt are ignored.
    alerted: true accounts with no issued receipt that an alert stands for
        (:func:`match_alerts`); they count as flagged. alerts: how many alerts were raised.

    Raises ValueError on a non-positive or non-integer quantity or an unpriced sku.
    See :class:`BillingScores` for each score's definition and when it is ``nan``.
    """
    for account, receipt in truth.items():
        _check_receipt(account, receipt, prices, "true")
    for account, receipt in issued.items():
        _check_receipt(account, receipt, prices, "issued")

    flagged = {a for a, f in (review or {}).items() if f and a in issued}
    n_true = len(truth)
    n_issued = len(issued)
    missing = sum(1 for a in truth if a not in issued)
    spurious = sum(1 for a in issued if a not in truth)

    alerted = {a for a in alerted if a in truth and a not in issued}
    c = _tally_truth(truth, issued, prices, flagged | alerted)
    issued_units = 0
    for account, i in issued.items():
        issued_units += _units(i)
        if account not in truth:
            c["over"] += _total(i, prices)
    unflagged, unflagged_exact = c["unflagged"], int(c["unflagged_exact"])

    return BillingScores(
        receipts_true=n_true,
        receipts_issued=n_issued,
        receipts_missing=missing,
        receipts_spurious=spurious,
        exact_match=ratio(c["exact"], n_true),
        receipt_f1=ratio(c["f1_sum"], n_true),
        item_precision=ratio(c["matched_units"], issued_units),
        item_recall=ratio(c["matched_units"], c["true_units"]),
        money_mae_cents=ratio(c["abs_err"], n_true),
        overcharge_cents=int(c["over"]),
        undercharge_cents=int(c["under"]),
        review_rate_per_1000=(
            math.nan if review is None else 1000.0 * ratio(len(flagged), n_issued)
        ),
        unflagged_exact_match=ratio(unflagged_exact, unflagged),
        receipts_flagged=len(flagged),
        money_true_cents=int(c["money_true"]),
        money_flagged_cents=int(c["money_flagged"]),
        flagged_money_share=ratio(c["money_flagged"], c["money_true"]),
        receipts_unflagged=unflagged,
        receipts_unflagged_exact=unflagged_exact,
        silent_wrong=unflagged - unflagged_exact,
        alerts=int(alerts),
        receipts_alerted=len(alerted),
    )


def _usd(cents: float) -> str:
    return f"${cents / 100:,.2f}"


def review_lines(b: Mapping[str, object]) -> tuple[str, str]:
    """The review figures of a billing block (``BillingScores.as_dict()``, as in
    metrics.json) as two lines of text, each with its counts:

    ``"222 per 1,000 (8 of 36), $41.20 of $180.50 (22.8 %)"`` (sent to review) and
    ``"96.4 % (27 of 28), silent wrong 1"`` (exact among unflagged).

    An undefined figure reads ``n/a`` with the reason, never ``nan``. A block written before
    the counts existed (no ``receipts_flagged``) gives the rate and fraction alone.
    """
    rate, frac = b.get("review_rate_per_1000"), b.get("unflagged_exact_match")

    def undefined(v) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    if "receipts_flagged" not in b:       # an older metrics.json
        return ("n/a" if undefined(rate) else f"{rate:,.0f} per 1,000",
                "n/a" if undefined(frac) else f"{100 * frac:.1f} %")
    flagged, issued = int(b["receipts_flagged"]), int(b["receipts_issued"])
    if undefined(rate):
        review = (f"n/a ({flagged} of {issued}: no receipts issued)" if issued == 0
                  else f"n/a (0 of {issued}: no review flags given)")
    else:
        review = f"{rate:,.0f} per 1,000 ({flagged} of {issued})"
    share = b.get("flagged_money_share")
    money = (f"{_usd(int(b['money_flagged_cents']))} of {_usd(int(b['money_true_cents']))}"
             + (" (n/a)" if undefined(share) else f" ({100 * share:.1f} %)"))
    n, k = int(b["receipts_unflagged"]), int(b["receipts_unflagged_exact"])
    if undefined(frac):
        exact = ("n/a (0 of 0: every receipt went to review)" if b.get("receipts_true")
                 else "n/a (0 of 0: no receipts scored)")
    else:
        exact = f"{100 * frac:.1f} % ({k} of {n})"
    if b.get("alerts"):
        review += (f", {int(b['alerts'])} alert(s) of a shopper on no account leaving with "
                   f"items ({int(b.get('receipts_alerted', 0))} for a missing receipt)")
    return f"{review}, {money}", f"{exact}, silent wrong {int(b['silent_wrong'])}"
