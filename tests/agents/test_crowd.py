"""The crowd in the kiosk: motion, spacing, speeds, check-ins, picks and ground truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pytest
from support import POLICY_HZ, CrowdRun, simulate

from agents.actions import Exit, HandTo, Pick, PutBack, Wait
from agents.crowd import ScriptedShopper, ShopperConfig
from agents.population import DEFAULT_CONFIG
from agents.visits import CONVENIENCE
from scenes import load_preset


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def three_minutes(kiosk) -> CrowdRun:
    return simulate(kiosk, ShopperConfig(), seed=3, seconds=180.0)


def net_by(events, key) -> dict:
    """Units owed, summed by ``key(event)``: picks and hand-ins add, put-backs, misplacements
    and hand-outs remove."""
    sign = {"pick": 1, "hand_in": 1, "put_back": -1, "misplace": -1, "hand_out": -1}
    out: dict = defaultdict(int)
    for e in events:
        if e.action in sign:
            out[key(e)] += sign[e.action] * e.quantity
    return out


def test_the_store_fills_up(three_minutes) -> None:
    actions = Counter(e.action for e in three_minutes.crowd.truth)
    assert actions["enter"] >= 10
    assert actions["pick"] >= 10
    assert max(len(i) for i in three_minutes.ids) >= 6


def test_nobody_is_ever_inside_a_fixture(three_minutes) -> None:
    xy = np.concatenate(three_minutes.xy)
    assert three_minutes.crowd.nav.is_free(xy).all()
    lo, hi = three_minutes.store.fixture_boxes()
    for a, b in zip(lo, hi, strict=True):
        inside = np.all((xy > a[:2] - 0.15) & (xy < b[:2] + 0.15), axis=1)
        assert not inside.any()
    x0, y0, x1, y1 = three_minutes.store.bounds
    assert np.all((xy >= [x0, y0]) & (xy <= [x1, y1]))


def test_people_keep_apart(three_minutes) -> None:
    nn = []
    for xy in three_minutes.xy:
        if xy.shape[0] < 2:
            continue
        d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
        np.fill_diagonal(d, np.inf)
        nn.append(d.min(axis=1))
    nn = np.concatenate(nn)
    assert nn.size > 1000
    assert np.percentile(nn, 5) > 0.3
    assert nn.min() > 0.2


def test_walkers_cruise_near_their_desired_speed(three_minutes) -> None:
    run = three_minutes
    dt = 1.0 / POLICY_HZ
    leg_start: dict[int, int] = {}
    cruise: dict[int, list[float]] = defaultdict(list)
    for k, (ids, sp, st) in enumerate(zip(run.ids, run.speed, run.state, strict=True)):
        for s, v, state in zip(ids.tolist(), sp, st, strict=True):
            if state != "walk":
                leg_start.pop(s, None)
                continue
            k0 = leg_start.setdefault(s, k)
            assert v <= 1.3 * run.desired[s] + 1e-9   # the crowd's speed cap
            if (k - k0) * dt > 1.5:                      # past the start-up acceleration
                cruise[s].append(float(v))
    per_shopper = np.array([np.median(v) for v in cruise.values()])
    ratio = np.array([np.median(v) / run.desired[s] for s, v in cruise.items()])
    assert len(per_shopper) >= 10
    # each walker cruises near its own desired speed (the population's speeds are
    # behaviour's: tests/agents/test_behaviour.py checks their 1.34 m/s mean on many draws)
    assert 0.9 <= np.median(ratio) <= 1.02
    assert np.percentile(ratio, 10) >= 0.6
    assert 1.0 <= np.median(per_shopper) <= 1.6
    desired = np.array(list(run.desired.values()))
    assert desired.mean() == pytest.approx(1.34, abs=0.2)
    for sid, rec in run.crowd.roster.items():   # Weidmann's clip, times the visit's factor
        f = run.crowd.profile.visit(rec.visit).speed_factor
        assert 0.8 * f - 1e-9 <= rec.speed_mps <= 1.8 * f + 1e-9, (sid, rec)


def test_walkers_keep_making_progress(three_minutes) -> None:
    run = three_minutes
    window = int(10 * POLICY_HZ)
    walking_since: dict[int, int] = {}
    where: dict[int, list[np.ndarray]] = defaultdict(list)
    stuck = set()
    for k, (ids, xy, st) in enumerate(zip(run.ids, run.xy, run.state, strict=True)):
        for s, p, state in zip(ids.tolist(), xy, st, strict=True):
            if state != "walk":
                walking_since.pop(s, None)
                where.pop(s, None)
                continue
            walking_since.setdefault(s, k)
            where[s].append(p)
            if k - walking_since[s] >= window and np.linalg.norm(p - where[s][-window - 1]) < 0.5:
                stuck.add(s)
    assert not stuck, f"shoppers walking but < 0.5 m in 10 s: {sorted(stuck)}"


def test_each_shopper_checks_in_exactly_once(three_minutes) -> None:
    crowd = three_minutes.crowd
    enters = [e for e in crowd.truth if e.action == "enter"]
    assert len({e.shopper for e in enters}) == len(enters) == len(crowd.roster)
    # one scan per person at the gate, with the account of the person's party
    assert sorted(three_minutes.checkins) == sorted((e.t, e.account) for e in enters)


def test_every_action_is_by_someone_inside(three_minutes) -> None:
    crowd = three_minutes.crowd
    t_in, t_out = {}, {}
    for e in crowd.truth:
        if e.action == "enter":
            assert e.shopper not in t_in
            t_in[e.shopper] = e.t
        elif e.action == "exit":
            t_out[e.shopper] = e.t
    assert {crowd.roster[s].account for s in t_out} >= set(crowd.exited)
    sku_of = crowd.store.catalogue.sku[crowd.store.bins.sku_index]
    for e in crowd.truth:
        if e.action in ("pick", "put_back", "misplace", "look"):
            assert e.bin >= 0
        if e.action in ("pick", "put_back"):
            assert e.quantity > 0 and e.sku == str(sku_of[e.bin])
        if e.action == "misplace":
            assert e.quantity > 0 and e.sku != str(sku_of[e.bin])
        assert t_in[e.shopper] <= e.t <= t_out.get(e.shopper, np.inf)


def test_truth_receipts_are_picks_minus_put_backs(three_minutes) -> None:
    crowd = three_minutes.crowd
    net = net_by(crowd.truth, lambda e: (e.account, e.sku))
    expect: dict[int, dict[str, int]] = defaultdict(dict)
    for (acct, sku), n in net.items():
        assert n >= 0
        if n:
            expect[acct][sku] = n
    for acct, cart in crowd.carts.items():
        assert cart == expect.get(acct, {})
    receipts = crowd.truth_receipts()
    assert sorted(receipts) == sorted(crowd.exited)
    assert receipts
    for acct, lines in receipts.items():
        assert lines == dict(sorted(expect.get(acct, {}).items()))


def test_world_counts_drop_by_the_net_units_taken(three_minutes) -> None:
    store, world = three_minutes.store, three_minutes.world
    own = [e for e in three_minutes.crowd.truth if e.action in ("pick", "put_back")]
    net = net_by(own, lambda e: e.bin)
    expected = store.bins.count.copy()
    for b, n in net.items():
        expected[b] -= n
    assert np.array_equal(world.count, expected)
    assert (store.bins.count - world.count).sum() > 0
    # misplaced units sit on the bin they were dropped in
    idx = store.catalogue.index()
    mis = net_by([e for e in three_minutes.crowd.truth if e.action == "misplace"],
                 lambda e: (e.bin, idx[e.sku]))
    assert {(b, s): n for b, u in world.foreign.items() for s, n in u.items()} == {
        k: -n for k, n in mis.items()}


# -- small runs ---------------------------------------------------------------------------

def busy(**population) -> ShopperConfig:
    """Short trips (4 s browsing, no look stops) so a few simulated seconds show a lot."""
    prof = CONVENIENCE
    prof = replace(prof, mean_trip_s=40.0, visit_types=tuple(
        replace(v, browse_mean_s=4.0, look_stops_mean=0.0) for v in prof.visit_types))
    return ShopperConfig(shoppers_in_store=12.0, profile=prof, hourly_profile=False,
                         population=replace(DEFAULT_CONFIG, **population))


def test_pick_two_put_one_back(kiosk) -> None:
    run = simulate(kiosk, busy(p_take_extra=1.0, p_change_mind=0.0, swap_max_p=0.0),
                   seed=2, seconds=60.0)
    truth = run.crowd.truth
    picks = [e for e in truth if e.action == "pick"]
    backs = [e for e in truth if e.action == "put_back"]
    assert len(picks) >= 8
    for b in backs:          # one unit back into the bin it came from, after a pick there
        assert b.quantity == 1
        assert any(p.bin == b.bin and p.shopper == b.shopper and p.t < b.t for p in picks)
    # everyone who finished put one back per line
    assert len(backs) >= len(picks) - len(run.crowd.shoppers)
    for acct, cart in run.crowd.truth_receipts().items():
        assert all(n >= 1 for n in cart.values())


def test_changing_mind_takes_one_and_puts_it_back(kiosk) -> None:
    run = simulate(kiosk, busy(p_take_extra=0.0, p_change_mind=1.0, swap_max_p=0.0),
                   seed=4, seconds=90.0)
    truth = run.crowd.truth
    picks = [e for e in truth if e.action == "pick"]
    assert len(picks) >= 5
    assert all(p.quantity == 1 for p in picks)
    assert all(run.crowd.carts[a] == {} for a in run.crowd.exited)
    assert run.crowd.exited


def test_swaps_put_the_first_choice_back_and_take_a_substitute(kiosk) -> None:
    run = simulate(kiosk, busy(swap_max_p=1.0, swap_scale_util=100.0, misplace_p=0.0,
                               p_take_extra=0.0, p_change_mind=0.0),
                   seed=6, seconds=90.0)
    truth = run.crowd.truth
    groups = run.crowd._groups
    idx = kiosk.catalogue.index()
    swaps = 0
    for b in (e for e in truth if e.action == "put_back"):
        later = [e for e in truth if e.action == "pick" and e.shopper == b.shopper
                 and e.t > b.t]
        if not later:            # the run ended before the next pick
            assert b.t > 90.0 - 10.0, b
            continue
        nxt = min(later, key=lambda e: e.t)
        if nxt.sku != b.sku:
            assert groups[idx[nxt.sku]] == groups[idx[b.sku]]
            swaps += 1
    assert swaps >= 2


def test_misplaced_units_stay_on_the_wrong_plate(kiosk) -> None:
    run = simulate(kiosk, busy(swap_max_p=1.0, swap_scale_util=100.0, misplace_p=1.0,
                               p_take_extra=0.0, p_change_mind=0.0),
                   seed=6, seconds=90.0)
    mis = [e for e in run.crowd.truth if e.action == "misplace"]
    assert mis
    idx = kiosk.catalogue.index()
    placed: dict = defaultdict(int)
    for e in mis:
        assert kiosk.catalogue.sku[kiosk.bins.sku_index[e.bin]] != e.sku
        placed[(e.bin, idx[e.sku])] += e.quantity
    world = {(b, s): n for b, units in run.world.foreign.items() for s, n in units.items()}
    assert world == dict(placed)


def test_same_seed_same_truth(kiosk) -> None:
    a = simulate(kiosk, busy(), seed=7, seconds=30.0)
    b = simulate(kiosk, busy(), seed=7, seconds=30.0)
    assert len(a.crowd.truth) > 5
    assert a.crowd.truth == b.crowd.truth
    assert all(np.array_equal(x, y) for x, y in zip(a.xy, b.xy, strict=True))
    c = simulate(kiosk, busy(), seed=8, seconds=30.0)
    assert c.crowd.truth != a.crowd.truth


def test_no_arrivals_after_the_cutoff(kiosk) -> None:
    run = simulate(kiosk, busy(), seed=5, seconds=30.0, arrivals_until_s=8.0)
    enters = [e.t for e in run.crowd.truth if e.action == "enter"]
    assert enters and max(enters) <= 8.0 + 3.0    # the door queue may hold the last ones
    free = simulate(kiosk, busy(), seed=5, seconds=30.0)
    assert max(e.t for e in free.crowd.truth if e.action == "enter") > 11.0


def test_nobody_comes_when_the_target_crowd_is_zero(kiosk) -> None:
    run = simulate(kiosk, ShopperConfig(shoppers_in_store=0.0), seed=1, seconds=20.0)
    assert run.crowd.truth == [] and run.checkins == []


def test_groups_share_one_account_and_leave_together(kiosk) -> None:
    run = simulate(kiosk, replace(busy(), p_group=1.0), seed=9, seconds=120.0)
    crowd = run.crowd
    members: dict = defaultdict(list)
    for rec in crowd.roster.values():
        members[rec.account].append(rec)
    assert any(len(m) == 2 for m in members.values())
    for acct, m in members.items():
        checkins = [a for _t, a in run.checkins if a == acct]
        assert len(checkins) == len(m)       # each member scans the account at the gate
        if acct in crowd.exited:
            assert crowd.exited[acct] == max(r.exit_t for r in m)
            assert all(np.isfinite(r.exit_t) for r in m)


# -- scripted shoppers ------------------------------------------------------------------

def scripted_run(store, shoppers, seconds: float, seed: int = 0) -> CrowdRun:
    return simulate(store, ShopperConfig(shoppers_in_store=0.0), seed, seconds,
                    scripted=shoppers, until_done=True)


def test_a_hand_over_moves_the_units_between_accounts(kiosk) -> None:
    idx = kiosk.catalogue.index()
    bread = idx["SKU00001"]
    run = scripted_run(kiosk, [
        ScriptedShopper("giver", 11, 0.0, (Pick(bread, 2), HandTo(1, bread, 1), Exit())),
        ScriptedShopper("taker", 22, 2.0, (Wait(25.0), Exit())),
    ], seconds=120.0)
    crowd = run.crowd
    assert crowd.done and not crowd.problems
    assert crowd.truth_receipts() == {11: {"SKU00001": 1}, 22: {"SKU00001": 1}}
    out = [e for e in crowd.truth if e.action == "hand_out"]
    inn = [e for e in crowd.truth if e.action == "hand_in"]
    assert len(out) == len(inn) == 1
    assert (out[0].shopper, out[0].other, inn[0].shopper, inn[0].other) == (0, 1, 1, 0)
    # the giver's hand is held out halfway to the taker for a moment, in no shelf bin
    held = [(ids, xy, h) for ids, xy, h in zip(run.ids, run.xy, run.hands, strict=True)
            if np.isfinite(h[:, 2]).any() and np.any(h[:, 2] == crowd.HAND_OVER_Z_M)]
    assert held, "no hand held out"
    b = kiosk.bins
    for ids, xy, h in held:
        k = int(np.flatnonzero(ids == 0)[0])
        r = int(np.flatnonzero(ids == 1)[0])
        np.testing.assert_allclose(h[k, :2], 0.5 * (xy[k] + xy[r]))
        assert not np.any(np.all((h[k] >= b.lo) & (h[k] <= b.hi), axis=1))
    assert len(held) <= round(crowd.config.settle_s * POLICY_HZ) + 1


def test_a_put_back_into_another_bin_is_a_misplacement(kiosk) -> None:
    idx = kiosk.catalogue.index()
    a, b = idx["SKU00001"], idx["SKU00013"]
    far = int(np.flatnonzero(kiosk.bins.sku_index == b)[0])
    run = scripted_run(kiosk, [ScriptedShopper("x", 5, 0.0, (
        Pick(a, 1), PutBack(a, 1, bin=far), Exit()))], seconds=120.0)
    ev = [e for e in run.crowd.truth if e.action == "misplace"]
    assert len(ev) == 1 and ev[0].bin == far and ev[0].sku == "SKU00001"
    assert run.world.foreign == {far: {a: 1}}
    assert run.crowd.truth_receipts() == {5: {}}


def test_a_script_that_cannot_be_done_is_reported_not_hidden(kiosk) -> None:
    idx = kiosk.catalogue.index()
    a = idx["SKU00001"]
    run = scripted_run(kiosk, [ScriptedShopper("x", 5, 0.0, (
        PutBack(a, 1), Exit()))], seconds=60.0)
    assert run.crowd.problems and "holds 0" in run.crowd.problems[0]
    assert run.crowd.truth_receipts() == {5: {}}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"shoppers_in_store": -1.0}, "shoppers_in_store"),
    ({"mean_trip_s": 0.0}, "mean_trip_s"),
    ({"start_hour": 24.0}, "start_hour"),
    ({"p_group": 1.5}, "p_group"),
    ({"reach_s": -1.0}, "reach_s"),
    ({"handoff_m": 0.0}, "handoff_m"),
])
def test_shopper_config_validation_names_the_field(kwargs, field) -> None:
    with pytest.raises(ValueError, match=f"ShopperConfig.{field}"):
        ShopperConfig(**kwargs)


def test_a_hand_in_a_bin_is_on_its_face_on_the_side_of_the_body(kiosk) -> None:
    """Two shoppers take from one 0.75 m wide bin, one after the other, from where they
    stand: each hand is on the bin's front face, inside its side walls, at the point of the
    face nearest the body (what a pose model gives a core to tell reachers apart)."""
    bin_ = 51
    sku = int(kiosk.bins.sku_index[bin_])
    scripted = tuple(ScriptedShopper(n, 1001 + k, 0.5 * k, (Pick(sku, 1, bin_), Exit()))
                     for k, n in enumerate(("alice", "bob")))
    run = simulate(kiosk, ShopperConfig(shoppers_in_store=0.0), 0, 60.0, 0.0, scripted,
                   until_done=True)
    b = kiosk.bins
    n = b.normal[bin_]
    side = np.array([-n[1], n[0]])
    size = np.abs(b.hi[bin_, :2] - b.lo[bin_, :2])
    room = 0.5 * size @ np.abs(side) - 0.05
    face = b.center[bin_, :2] + n * 0.5 * (size @ np.abs(n))
    seen = set()
    for ids, xy, hands in zip(run.ids, run.xy, run.hands, strict=True):
        for k in np.flatnonzero(np.isfinite(hands[:, 0])):
            h = hands[k]
            assert abs((h[:2] - face) @ n) < 1e-9                       # on the front face
            along = (h[:2] - face) @ side
            assert along == pytest.approx(np.clip((xy[k] - face) @ side, -room, room))
            assert b.lo[bin_, 2] < h[2] < b.hi[bin_, 2]
            seen.add((int(ids[k]), round(float(along), 2)))
    assert {s for s, _ in seen} == {0, 1}                  # both reached
    assert len({a for _, a in seen}) >= 2                   # not one fixed point per bin


def test_a_controlled_shopper_waits_for_commands_instead_of_leaving(kiosk) -> None:
    """The hook the Adversary env drives: an empty queue means 'await', not 'exit'."""
    from agents.crowd import Crowd
    from twin.sensors import EntryGate
    from twin.world import World

    idx = kiosk.catalogue.index()
    bread = idx["SKU00001"]
    world, gate = World(kiosk), EntryGate()
    crowd = Crowd(kiosk, ShopperConfig(shoppers_in_store=0.0), np.random.default_rng(0),
                  scripted=[ScriptedShopper("me", 7, 0.0, (), controlled=True)])
    dt = 1.0 / POLICY_HZ
    t = 0.0

    def run(seconds: float) -> None:
        nonlocal t
        for _ in range(int(round(seconds * POLICY_HZ))):
            t += dt
            crowd.step(t, dt, world, gate)
            world.step(dt)

    run(30.0)                                   # in, and standing by the door, not gone
    assert crowd.awaiting(0) and 0 in crowd.shoppers and not crowd.exited
    with pytest.raises(ValueError, match="not controlled"):
        crowd.command(1, Exit(), t)
    crowd.command(0, Pick(bread, 2), t)
    assert not crowd.awaiting(0)
    with pytest.raises(ValueError, match="not waiting"):
        crowd.command(0, Exit(), t)
    run(60.0)
    assert crowd.awaiting(0) and crowd.held(0) == {bread: 2}
    crowd.command(0, Exit(), t)
    run(60.0)
    world.close()
    assert 0 not in crowd.shoppers and crowd.truth_receipts() == {7: {"SKU00001": 2}}
