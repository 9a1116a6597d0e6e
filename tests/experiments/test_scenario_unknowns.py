"""Shoppers the core never saw check in, through the whole pipeline (issue 23): one who
walks in without scanning, and a crowd already inside when the run starts."""

from __future__ import annotations

import json

from agents.scenario import load_scenario
from core.records import NO_ACCOUNT
from experiments.runs.scenario import run_scenario


def test_a_shopper_who_never_checked_in_is_alerted_not_billed_to_another(tmp_path) -> None:
    """no_checkin: Ann's receipt is right and hers alone; Uma's batteries leave with an
    alert (to review) as she goes out, which the scorer counts as flagged for her, not as a
    silent missing receipt; receipts.json holds the alert."""
    res = run_scenario(load_scenario("no_checkin"), out=tmp_path / "run")
    rows = {r.account: r for r in res.rows}
    assert rows["A"].verdict == "ok"
    u = rows["U"]
    assert u.issued is None and u.alerted and u.verdict == "flagged"
    alerts = [r for r in res.run.receipts if r.account == NO_ACCOUNT]
    assert len(alerts) == 1 and [p.sku for p in alerts[0].products] == ["SKU00122"]
    rv = res.review()
    assert (rv.silent_wrong, rv.receipts_alerted) == (0, 1)
    doc = json.loads((tmp_path / "run" / "receipts.json").read_text())
    al = [r for r in doc["receipts"] if r["account"] == NO_ACCOUNT]
    assert len(al) == 1 and al[0]["review"] and al[0]["reasons"]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["core"]["alerts"] == 1


def test_a_crowd_inside_at_the_start_does_not_take_a_newcomers_check_in() -> None:
    """warm_crowd_pick: someone of the warm crowd stands at the door at t = 0; Ann scans in
    2 s later. Her check-in binds her own track, so her receipt comes out right at the exit
    (it used to bind the one at the door and leave Ann's picks on no account)."""
    res = run_scenario(load_scenario("warm_crowd_pick"))
    (row,) = res.rows
    assert row.verdict == "ok" and not row.review
