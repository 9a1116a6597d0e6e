"""Scoring: hand-computed billing and tracking cases, plus a py-motmetrics cross-check."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from experiments.scoring.billing import (
    BillingScores,
    match_alerts,
    receipt_f1,
    review_lines,
    score_billing,
)
from experiments.scoring.tracking import TrackingScores, score_tracking

PRICES = {"a": 100, "b": 250, "c": 40}


# --------------------------------------------------------------------------- billing


def test_identical_receipts_score_perfectly():
    truth = {1: {"a": 2}, 2: {"b": 1, "c": 3}}
    s = score_billing(truth, {1: {"a": 2}, 2: {"c": 3, "b": 1}}, PRICES)
    assert (s.receipts_true, s.receipts_issued, s.receipts_missing, s.receipts_spurious) == (
        2,
        2,
        0,
        0,
    )
    assert s.exact_match == 1.0
    assert s.receipt_f1 == 1.0
    assert s.item_precision == 1.0 and s.item_recall == 1.0
    assert s.money_mae_cents == 0.0
    assert s.overcharge_cents == 0 and s.undercharge_cents == 0


def test_partial_receipt_f1_by_hand():
    # true {a:2, b:1} (3 units), issued {a:1, c:1} (2 units); matched = min(2,1) = 1 unit
    # P = 1/2, R = 1/3, F1 = 2PR/(P+R) = (1/3)/(5/6) = 0.4
    assert receipt_f1({"a": 2, "b": 1}, {"a": 1, "c": 1}) == pytest.approx(0.4)
    s = score_billing({7: {"a": 2, "b": 1}}, {7: {"a": 1, "c": 1}}, PRICES)
    assert s.receipt_f1 == pytest.approx(0.4)
    assert s.item_precision == pytest.approx(1 / 2)
    assert s.item_recall == pytest.approx(1 / 3)
    assert s.exact_match == 0.0
    # true total 2*100 + 250 = 450, issued 100 + 40 = 140: undercharged 310
    assert s.money_mae_cents == 310.0
    assert (s.overcharge_cents, s.undercharge_cents) == (0, 310)


def test_missing_and_spurious_receipts():
    truth = {1: {"a": 1}, 2: {"b": 2}}
    issued = {1: {"a": 1}, 3: {"c": 1}}
    s = score_billing(truth, issued, PRICES)
    assert (s.receipts_missing, s.receipts_spurious) == (1, 1)
    assert s.exact_match == 0.5  # account 2 missing = not matched
    assert s.receipt_f1 == 0.5  # (1 + 0) / 2
    assert s.item_precision == 0.5  # matched 1 / issued units 2 (spurious c included)
    assert s.item_recall == pytest.approx(1 / 3)  # matched 1 / true units 3
    assert s.money_mae_cents == 250.0  # (0 + |0 - 500|) / 2 true receipts
    assert s.overcharge_cents == 40  # the spurious receipt
    assert s.undercharge_cents == 500  # the missing one


def test_empty_receipts():
    assert receipt_f1({}, {}) == 1.0
    assert receipt_f1({}, {"a": 1}) == 0.0
    assert receipt_f1({"a": 1}, {}) == 0.0
    assert receipt_f1({}, None) == 0.0  # missing receipt scores 0
    s = score_billing({1: {}}, {1: {}}, PRICES)
    assert s.exact_match == 1.0 and s.receipt_f1 == 1.0
    assert math.isnan(s.item_precision) and math.isnan(s.item_recall)


def test_overcharge_and_undercharge_signs():
    truth = {1: {"a": 2}, 2: {"b": 2}}
    issued = {1: {"a": 3}, 2: {"b": 1}}  # +100 on account 1, -250 on account 2
    s = score_billing(truth, issued, PRICES)
    assert (s.overcharge_cents, s.undercharge_cents) == (100, 250)
    assert s.money_mae_cents == 175.0


def test_review_rate_and_unflagged_exact_match():
    truth = {1: {"a": 1}, 2: {"a": 1}, 3: {"b": 1}, 4: {"c": 1}, 5: {"c": 2}}
    issued = {1: {"a": 1}, 2: {"b": 1}, 3: {"b": 1}, 4: {"c": 1}}  # 5 missing
    review = {2: True, 3: False, 9: True}  # 9 has no receipt: ignored
    s = score_billing(truth, issued, PRICES, review)
    assert s.review_rate_per_1000 == 250.0  # 1 of 4 issued receipts flagged
    # unflagged true receipts: 1, 3, 4 (exact) and 5 (missing, reaches no reviewer)
    assert s.unflagged_exact_match == 0.75
    assert s.exact_match == 0.6
    none = score_billing(truth, issued, PRICES)
    assert math.isnan(none.review_rate_per_1000)
    assert none.unflagged_exact_match == none.exact_match


def test_review_counts_money_and_silent_wrong_by_hand():
    # prices a 100, b 250, c 40 [cents]
    truth = {1: {"a": 2}, 2: {"b": 1}, 3: {"c": 1}, 4: {"a": 1, "c": 1}, 5: {"b": 2}}
    issued = {1: {"a": 2},          # right, flagged
              2: {"a": 1},          # wrong, flagged
              3: {"c": 1},          # right, unflagged
              4: {"a": 1},          # wrong, unflagged: silent
              6: {"c": 3}}          # spurious, flagged; 5 missing: silent
    review = {1: True, 2: True, 3: False, 6: True}
    s = score_billing(truth, issued, PRICES, review)
    assert (s.receipts_flagged, s.receipts_issued) == (3, 5)
    assert s.review_rate_per_1000 == 600.0
    # true totals: 200, 250, 40, 140, 500 = 1130; flagged true receipts 1 and 2 = 450
    assert (s.money_flagged_cents, s.money_true_cents) == (450, 1130)
    assert s.flagged_money_share == pytest.approx(450 / 1130)
    # unflagged true receipts 3 (right), 4 (wrong), 5 (missing)
    assert (s.receipts_unflagged, s.receipts_unflagged_exact, s.silent_wrong) == (3, 1, 2)
    assert s.unflagged_exact_match == pytest.approx(1 / 3)
    sent, unflagged = review_lines(s.as_dict())
    assert sent == "600 per 1,000 (3 of 5), $4.50 of $11.30 (39.8 %)"
    assert unflagged == "33.3 % (1 of 3), silent wrong 2"


def test_review_none_flagged_is_zero_of_n():
    truth = {1: {"a": 1}, 2: {"b": 1}}
    s = score_billing(truth, {1: {"a": 1}, 2: {"a": 1}}, PRICES, {1: False, 2: False})
    assert (s.receipts_flagged, s.review_rate_per_1000) == (0, 0.0)
    assert (s.money_flagged_cents, s.flagged_money_share) == (0, 0.0)
    assert (s.receipts_unflagged, s.silent_wrong) == (2, 1)
    sent, unflagged = review_lines(s.as_dict())
    assert sent == "0 per 1,000 (0 of 2), $0.00 of $3.50 (0.0 %)"
    assert unflagged == "50.0 % (1 of 2), silent wrong 1"


def test_an_alert_takes_the_unbilled_visit_that_left_nearest_in_time():
    """Each alert stands for the one unbilled visit that left closest to it, within 5 s;
    billed visits, far ones and a second alert for a taken visit stand for nothing."""
    exits = {1: 100.0, 2: 103.0, 3: 200.0, 4: 101.0}
    assert match_alerts([102.6], exits, {1, 2, 3}) == {2}
    assert match_alerts([102.6, 101.0], exits, {1, 2, 3}) == {1, 2}
    assert match_alerts([150.0], exits, {1, 2, 3}) == set()
    assert match_alerts([101.0], exits, {1, 2, 3}) == {1}           # 4 was billed
    assert match_alerts([103.0, 103.2], exits, {2}) == {2}
    assert match_alerts([], exits, {1, 2}) == set()


def test_a_missing_receipt_an_alert_stands_for_is_flagged_not_silent():
    """Shopper 2 left unbilled: without an alert that is a silent wrong; with one it counts
    as flagged (its value among the money to check), still missing and not exact."""
    truth = {1: {"a": 1}, 2: {"b": 2}}
    issued = {1: {"a": 1}}
    silent = score_billing(truth, issued, PRICES, {1: False})
    assert (silent.silent_wrong, silent.receipts_unflagged, silent.money_flagged_cents) == \
        (1, 2, 0)
    told = score_billing(truth, issued, PRICES, {1: False}, alerted={2, 1, 9}, alerts=2)
    assert (told.silent_wrong, told.receipts_unflagged, told.money_flagged_cents) == (0, 1, 500)
    assert (told.receipts_missing, told.exact_match, told.receipts_flagged) == (1, 0.5, 0)
    assert (told.alerts, told.receipts_alerted) == (2, 1)        # billed 1 and unknown 9 not
    sent, unflagged = review_lines(told.as_dict())
    assert sent.endswith("2 alert(s) of a shopper on no account leaving with items "
                         "(1 for a missing receipt), $5.00 of $6.00 (83.3 %)")
    assert unflagged == "100.0 % (1 of 1), silent wrong 0"


def test_review_all_flagged_leaves_unflagged_exact_undefined():
    truth = {1: {"a": 1}, 2: {"b": 1}}
    s = score_billing(truth, {1: {"a": 1}, 2: {"c": 1}}, PRICES, {1: True, 2: True})
    assert (s.receipts_flagged, s.review_rate_per_1000, s.flagged_money_share) == (2, 1000.0,
                                                                                    1.0)
    assert (s.receipts_unflagged, s.receipts_unflagged_exact, s.silent_wrong) == (0, 0, 0)
    assert math.isnan(s.unflagged_exact_match)
    d = s.as_dict()
    assert d["unflagged_exact_match"] is None
    json.dumps(d, allow_nan=False)
    sent, unflagged = review_lines(d)
    assert sent == "1,000 per 1,000 (2 of 2), $3.50 of $3.50 (100.0 %)"
    assert unflagged == "n/a (0 of 0: every receipt went to review), silent wrong 0"
    assert "nan" not in sent + unflagged


def test_review_with_no_receipts_divides_by_nothing():
    d = score_billing({}, {}, PRICES, {}).as_dict()
    json.dumps(d, allow_nan=False)
    assert (d["receipts_flagged"], d["money_true_cents"], d["silent_wrong"]) == (0, 0, 0)
    assert d["review_rate_per_1000"] is None and d["flagged_money_share"] is None
    sent, unflagged = review_lines(d)
    assert sent == "n/a (0 of 0: no receipts issued), $0.00 of $0.00 (n/a)"
    assert unflagged == "n/a (0 of 0: no receipts scored), silent wrong 0"


def test_review_lines_read_an_older_billing_block():
    # metrics.json written before the review counts: rate and fraction alone
    old = {"review_rate_per_1000": 222.2222, "unflagged_exact_match": 0.9}
    assert review_lines(old) == ("222 per 1,000", "90.0 %")


def test_no_receipts_at_all_is_nan_not_error():
    s = score_billing({}, {}, PRICES, {})
    assert s.receipts_true == 0
    assert math.isnan(s.exact_match) and math.isnan(s.receipt_f1)
    assert math.isnan(s.money_mae_cents) and math.isnan(s.review_rate_per_1000)
    d = s.as_dict()
    assert d["exact_match"] is None and d["overcharge_cents"] == 0
    json.dumps(d)


def test_billing_rejects_bad_input():
    with pytest.raises(ValueError, match="positive integer"):
        score_billing({1: {"a": 0}}, {}, PRICES)
    with pytest.raises(ValueError, match="no price"):
        score_billing({1: {"a": 1}}, {1: {"zzz": 1}}, PRICES)


def test_billing_as_dict_is_plain_json():
    d = score_billing({1: {"a": 1}}, {1: {"a": 1}}, PRICES).as_dict()
    assert set(d) == {f for f in BillingScores.__dataclass_fields__}
    assert all(type(v) in (int, float) or v is None for v in d.values())
    json.dumps(d)


# --------------------------------------------------------------------------- tracking


def _rows(tracks):
    """tracks: list of (frame, id, x, y) -> (frame, id, xy) arrays."""
    a = np.array(tracks, dtype=np.float64).reshape(-1, 4)
    return a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2:4]


def _two_walkers(n_frames=10):
    """Shopper 1 walks along y = 0, shopper 2 along y = 5 (never within 1 m)."""
    return [(f, 1, 0.3 * f, 0.0) for f in range(n_frames)] + [
        (f, 2, 0.3 * f, 5.0) for f in range(n_frames)
    ]


def test_perfect_tracking():
    gt = _two_walkers()
    hy = [(f, 100 + i, x, y) for f, i, x, y in gt]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert s.mota == 1.0 and s.idf1 == 1.0 and s.idp == 1.0 and s.idr == 1.0
    assert s.motp_m == 0.0
    assert (s.num_gt, s.num_hyp, s.matches, s.misses, s.false_positives, s.id_switches) == (
        20,
        20,
        20,
        0,
        0,
        0,
    )
    assert (s.num_gt_ids, s.num_hyp_ids) == (2, 2)


def test_one_identity_changes_halfway():
    # Shopper 1 is tracked as 10 for frames 0-4 and as 30 for frames 5-9; shopper 2 is 20.
    # CLEAR: 20 gt rows, all matched, one ID switch (frame 5) -> MOTA = 1 - 1/20 = 0.95.
    # IDF1: co-occurrence (1,10)=5, (1,30)=5, (2,20)=10; best one-to-one 1-10, 2-20 ->
    # IDTP = 15, IDF1 = 2*15 / (20 + 20) = 0.75, IDP = IDR = 15/20.
    gt = _two_walkers()
    hy = [(f, (10 if f < 5 else 30) if i == 1 else 20, x, y) for f, i, x, y in gt]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert s.id_switches == 1
    assert s.mota == pytest.approx(0.95)
    assert s.idf1 == pytest.approx(0.75)
    assert s.idp == pytest.approx(0.75) and s.idr == pytest.approx(0.75)


def test_two_tracks_swap_labels_halfway():
    # Hyps 10 and 20 exchange shoppers at frame 5: both gt objects switch -> IDSW = 2,
    # MOTA = 1 - 2/20 = 0.9. Co-occurrence is 5 frames for each of the 4 id pairs, so
    # IDTP = 10 and IDF1 = 20/40 = 0.5.
    gt = _two_walkers()
    hy = [(f, (10 if (i == 1) == (f < 5) else 20), x, y) for f, i, x, y in gt]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert s.id_switches == 2
    assert s.mota == pytest.approx(0.9)
    assert s.idf1 == pytest.approx(0.5)


def test_missed_object_and_false_positive():
    # 3 frames x 2 shoppers = 6 gt rows. Shopper 2 is not detected in frame 1; a ghost
    # track 99 appears far from everyone in frame 2. Hyp rows = 5 + 1 = 6, matches = 5.
    # FN = 1, FP = 1, MOTA = 1 - 2/6. IDTP = 3 (1-10) + 2 (2-20) = 5, IDF1 = 10/12.
    gt = _two_walkers(3)
    hy = [(f, 10 * i, x, y) for f, i, x, y in gt if not (f == 1 and i == 2)]
    hy.append((2, 99, 50.0, 50.0))
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert (s.matches, s.misses, s.false_positives, s.id_switches) == (5, 1, 1, 0)
    assert s.mota == pytest.approx(1 - 2 / 6)
    assert s.idf1 == pytest.approx(10 / 12)


def test_distance_beyond_threshold_does_not_match():
    gt = [(0, 1, 0.0, 0.0)]
    far = score_tracking(*_rows(gt), *_rows([(0, 5, 1.5, 0.0)]), threshold_m=1.0)
    assert (far.matches, far.misses, far.false_positives) == (0, 1, 1)
    assert far.mota == -1.0  # 1 - (1 + 1) / 1
    assert far.idf1 == 0.0 and math.isnan(far.motp_m)
    near = score_tracking(*_rows(gt), *_rows([(0, 5, 1.5, 0.0)]), threshold_m=2.0)
    assert near.matches == 1 and near.motp_m == pytest.approx(1.5)
    edge = score_tracking(*_rows(gt), *_rows([(0, 5, 0.5, 0.0)]), threshold_m=0.5)
    assert edge.matches == 1  # distance == threshold may pair


def test_continuity_beats_a_closer_hypothesis():
    # Frame 0: shopper 1 matched to 10. Frame 1: 10 is 0.9 m away (still valid) and 20 is
    # 0.1 m away; CLEAR keeps 10 (no switch) and 20 is a false positive. MOTP = 0.9 / 2.
    gt = [(0, 1, 0.0, 0.0), (1, 1, 0.0, 0.0)]
    hy = [(0, 10, 0.0, 0.0), (1, 10, 0.9, 0.0), (1, 20, 0.1, 0.0)]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert (s.matches, s.false_positives, s.id_switches) == (2, 1, 0)
    assert s.motp_m == pytest.approx(0.45)


def test_switch_is_against_last_match_ever():
    # Matched to 10, missed for a frame, then 10 again: not a switch. Then 20: a switch.
    gt = [(f, 1, 0.0, 0.0) for f in range(4)]
    hy = [(0, 10, 0.0, 0.0), (2, 10, 0.0, 0.0), (3, 20, 0.0, 0.0)]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert (s.matches, s.misses, s.id_switches) == (3, 1, 1)


def test_assignment_maximises_matches_before_distance():
    # gt 1 at 0 could take hyp a (0.1 m) alone, but gt 1 - b (0.95 m) plus gt 2 - a
    # (0.95 m) pairs two objects; motmetrics' solve prefers the larger matching.
    gt = [(0, 1, 0.0, 0.0), (0, 2, 1.05, 0.0)]
    hy = [(0, 7, 0.1, 0.0), (0, 8, -0.95, 0.0)]
    s = score_tracking(*_rows(gt), *_rows(hy))
    assert (s.matches, s.misses, s.false_positives) == (2, 0, 0)
    assert s.motp_m == pytest.approx(0.95)


def test_row_order_does_not_matter():
    rng = np.random.default_rng(3)
    gt = _two_walkers()
    hy = [(f, 10 * i, x + 0.2, y) for f, i, x, y in gt if (f + i) % 4]
    a = score_tracking(*_rows(gt), *_rows(hy))
    p, q = rng.permutation(len(gt)), rng.permutation(len(hy))
    gf, gi, gxy = _rows(gt)
    hf, hi, hxy = _rows(hy)
    b = score_tracking(gf[p], gi[p], gxy[p], hf[q], hi[q], hxy[q])
    assert a == b


def test_empty_inputs_are_well_defined():
    none = score_tracking(*_rows([]), *_rows([]))
    assert none.num_gt == none.num_hyp == none.matches == 0
    assert all(math.isnan(v) for v in (none.mota, none.motp_m, none.idf1, none.idp, none.idr))
    d = none.as_dict()
    assert d["mota"] is None and d["num_gt"] == 0
    json.dumps(d)

    gt_only = score_tracking(*_rows(_two_walkers(2)), *_rows([]))
    assert gt_only.misses == 4 and gt_only.mota == 0.0
    assert gt_only.idf1 == 0.0 and gt_only.idr == 0.0 and math.isnan(gt_only.idp)

    hy_only = score_tracking(*_rows([]), *_rows(_two_walkers(2)))
    assert hy_only.false_positives == 4 and math.isnan(hy_only.mota)
    assert hy_only.idf1 == 0.0 and hy_only.idp == 0.0


def test_tracking_rejects_bad_input():
    gt = _rows([(0, 1, 0.0, 0.0), (0, 1, 1.0, 0.0)])
    with pytest.raises(ValueError, match="appears twice"):
        score_tracking(*gt, *_rows([]))
    with pytest.raises(ValueError, match="threshold_m"):
        score_tracking(*_rows([]), *_rows([]), threshold_m=-1.0)
    with pytest.raises(ValueError, match="same length"):
        score_tracking(np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros((2, 2)), *_rows([]))


def test_tracking_as_dict_is_plain_json():
    gt = _two_walkers(3)
    d = score_tracking(*_rows(gt), *_rows(gt)).as_dict()
    assert set(d) == set(TrackingScores.__dataclass_fields__)
    assert all(type(v) in (int, float) or v is None for v in d.values())
    json.dumps(d)


# --------------------------------------------------------------------------- motmetrics


def _noisy_scenario(rng, n_obj=6, n_frames=60, extent_m=6.0):
    """Random walkers; hyps with 0.5 m noise, misses, label swaps, new ids and ghosts."""
    gf, gi, gxy, hf, hi, hxy = [], [], [], [], [], []
    pos = rng.uniform(0.0, extent_m, (n_obj, 2))
    vel = rng.normal(0.0, 0.15, (n_obj, 2))
    label = np.arange(n_obj) + 100
    next_label = 200
    for f in range(n_frames):
        pos = pos + vel + rng.normal(0.0, 0.03, pos.shape)
        if rng.random() < 0.08:  # two tracks exchange identities
            a, b = rng.choice(n_obj, 2, replace=False)
            label[[a, b]] = label[[b, a]]
        if rng.random() < 0.05:  # a track is re-born under a new id
            label[rng.integers(n_obj)] = next_label
            next_label += 1
        for k in np.flatnonzero(rng.random(n_obj) < 0.9):
            gf.append(f)
            gi.append(k)
            gxy.append(pos[k])
            if rng.random() < 0.85:
                hf.append(f)
                hi.append(label[k])
                hxy.append(pos[k] + rng.normal(0.0, 0.5, 2))
        for ghost in rng.choice(5, min(int(rng.poisson(0.7)), 5), replace=False):
            hf.append(f)
            hi.append(900 + ghost)
            hxy.append(rng.uniform(0.0, extent_m, 2))
    return (
        np.array(gf, np.int64),
        np.array(gi, np.int64),
        np.array(gxy).reshape(-1, 2),
        np.array(hf, np.int64),
        np.array(hi, np.int64),
        np.array(hxy).reshape(-1, 2),
    )


@pytest.mark.parametrize("seed", range(6))
def test_matches_py_motmetrics(seed):
    mm = pytest.importorskip("motmetrics")
    threshold = (0.3, 1.0, 2.5)[seed % 3]
    gf, gi, gxy, hf, hi, hxy = _noisy_scenario(np.random.default_rng(seed))
    acc = mm.MOTAccumulator(auto_id=False)
    for f in np.unique(np.concatenate([gf, hf])):
        g, h = np.flatnonzero(gf == f), np.flatnonzero(hf == f)
        g, h = g[np.argsort(gi[g])], h[np.argsort(hi[h])]
        d2 = mm.distances.norm2squared_matrix(gxy[g], hxy[h], max_d2=threshold**2)
        acc.update(gi[g], hi[h], np.sqrt(d2), frameid=int(f))
    names = ["mota", "motp", "idf1", "idp", "idr", "num_switches"]
    names += ["num_false_positives", "num_misses", "num_detections"]
    ref = mm.metrics.create().compute(acc, metrics=names, name="ref").iloc[0]

    s = score_tracking(gf, gi, gxy, hf, hi, hxy, threshold_m=threshold)
    assert s.id_switches > 0 and s.false_positives > 0 and s.misses > 0  # a real test
    assert s.id_switches == ref["num_switches"]
    assert s.false_positives == ref["num_false_positives"]
    assert s.misses == ref["num_misses"]
    assert s.matches == ref["num_detections"]
    for mine, theirs in [
        (s.mota, "mota"),
        (s.motp_m, "motp"),
        (s.idf1, "idf1"),
        (s.idp, "idp"),
        (s.idr, "idr"),
    ]:
        assert mine == pytest.approx(ref[theirs], rel=1e-12, abs=1e-12)
