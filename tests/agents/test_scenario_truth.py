"""Every shipped scenario, acted out by the crowd in the physics store: the ground truth it
leaves (events and what each account owes) is what its script says, computed independently
from the file (``expected_receipts``); the crowd reports nothing it could not do."""

from __future__ import annotations

import numpy as np
import pytest
from support import simulate

from agents.crowd import ShopperConfig
from agents.scenario import library, load_scenario
from agents.scenario_types import expected_receipts
from experiments.runs.scenario import scripted_shoppers


def act_out(name: str):
    sc = load_scenario(name)
    scripted, ids = scripted_shoppers(sc)
    rng = np.random.default_rng(np.random.SeedSequence(sc.seed).spawn(3)[0])  # as a run's
    run = simulate(sc.store, ShopperConfig(shoppers_in_store=sc.crowd_shoppers), rng,
                   sc.max_duration_s, scripted=scripted, until_done=True)
    return sc, run.crowd, ids


@pytest.mark.parametrize("name", library())
def test_the_ground_truth_is_the_script(name) -> None:
    sc, crowd, ids = act_out(name)
    assert crowd.done, f"{name}: scripted shoppers still inside at {sc.max_duration_s} s"
    assert crowd.problems == []
    expected = expected_receipts(sc)
    got = {acct: crowd.truth_receipts()[i] for acct, i in ids.items()}
    assert got == expected
    # every scripted action left its event: picks, put-backs, hand-overs, conceals
    by = {i: s for i, s in enumerate(sc.shoppers)}
    from agents.actions import Conceal, HandTo, Pick, PutBack
    want = {"pick": 0, "put_back": 0, "misplace": 0, "hand_out": 0, "conceal": 0}
    for s in by.values():
        for a in s.actions:
            if isinstance(a, Pick):
                want["pick"] += a.qty
            elif isinstance(a, PutBack):
                own = a.bin < 0 or int(sc.store.bins.sku_index[a.bin]) == a.sku
                want["put_back" if own else "misplace"] += a.qty
            elif isinstance(a, HandTo):
                want["hand_out"] += a.qty
            elif isinstance(a, Conceal):
                want["conceal"] += a.qty
    scripted_ids = set(range(len(sc.shoppers)))
    have = dict.fromkeys(want, 0)
    for e in crowd.truth:
        if e.shopper in scripted_ids and e.action in have:
            have[e.action] += e.quantity
    assert have == want
    # each scripted shopper entered once, no earlier than its entry time, and left
    for i, s in by.items():
        enters = [e for e in crowd.truth if e.shopper == i and e.action == "enter"]
        exits = [e for e in crowd.truth if e.shopper == i and e.action == "exit"]
        assert len(enters) == len(exits) == 1
        assert enters[0].t >= s.enter_s - 1e-9
