"""The crowd in the kiosk: motion, spacing, speeds, check-ins, picks and ground truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pytest

from agents.crowd import Crowd, ShopperConfig
from scenes import load_preset
from scenes.store import Store
from twin.sensors import EntryGate
from twin.world import World

POLICY_HZ = 15.0


@dataclass
class Run:
    store: Store
    crowd: Crowd
    world: World
    checkins: list[tuple[float, int]] = field(default_factory=list)
    xy: list[np.ndarray] = field(default_factory=list)              # per step (s, 2) [m]
    ids: list[np.ndarray] = field(default_factory=list)
    speed: list[np.ndarray] = field(default_factory=list)           # |velocity| [m/s]
    state: list[list[str]] = field(default_factory=list)
    desired: dict[int, float] = field(default_factory=dict)         # shopper -> [m/s]


def simulate(store: Store, config: ShopperConfig, seed: int, seconds: float,
             arrivals_until_s: float | None = None) -> Run:
    """World + gate + crowd, stepped at the policy rate (no cameras, no plates)."""
    world = World(store)
    gate = EntryGate()
    crowd = Crowd(store, config, np.random.default_rng(seed), arrivals_until_s)
    run = Run(store, crowd, world)
    dt = 1.0 / POLICY_HZ
    for k in range(int(round(seconds * POLICY_HZ))):
        t = (k + 1) * dt
        crowd.step(t, dt, world, gate)
        world.step(dt)
        rec = gate.flush()
        if rec is not None:
            run.checkins += list(zip(rec.t.tolist(), rec.account.tolist(), strict=True))
        ids, xy = crowd.positions()
        run.ids.append(ids)
        run.xy.append(xy)
        run.speed.append(np.linalg.norm(crowd.vel, axis=1))
        run.state.append([crowd.shoppers[int(s)].state for s in ids])
        for s in ids:
            run.desired[int(s)] = crowd.shoppers[int(s)].speed
    world.close()
    return run


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def three_minutes(kiosk) -> Run:
    return simulate(kiosk, ShopperConfig(), seed=3, seconds=180.0)


def net_by(events, key) -> dict:
    out: dict = defaultdict(int)
    for e in events:
        if e.action == "pick":
            out[key(e)] += e.quantity
        elif e.action == "put_back":
            out[key(e)] -= e.quantity
    return out


def test_the_store_fills_up(three_minutes) -> None:
    actions = Counter(e.action for e in three_minutes.crowd.truth)
    assert actions["enter"] >= 10
    assert actions["pick"] >= 10
    assert max(len(i) for i in three_minutes.ids) >= 8


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
    assert np.median(per_shopper) == pytest.approx(1.34, abs=0.2)
    assert 0.85 <= np.median(ratio) <= 1.05
    desired = np.array(list(run.desired.values()))
    assert desired.mean() == pytest.approx(1.34, abs=0.15)
    assert np.all((desired >= 0.8) & (desired <= 1.8))


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
    accounts = [a for _t, a in three_minutes.checkins]
    assert len(accounts) == len(set(accounts)) == len(enters) == crowd._next_id
    assert sorted(accounts) == sorted(e.account for e in enters)
    times = dict((a, t) for t, a in three_minutes.checkins)
    for e in enters:
        assert times[e.account] == pytest.approx(e.t)


def test_every_action_is_by_someone_inside(three_minutes) -> None:
    crowd = three_minutes.crowd
    t_in, t_out = {}, {}
    for e in crowd.truth:
        if e.action == "enter":
            assert e.account not in t_in
            t_in[e.account] = e.t
        elif e.action == "exit":
            t_out[e.account] = e.t
    assert set(t_out) == set(crowd.exited)
    for e in crowd.truth:
        if e.action in ("pick", "put_back"):
            assert e.quantity > 0 and e.bin >= 0
            assert e.sku == str(crowd.store.catalogue.sku[crowd.store.bins.sku_index[e.bin]])
            assert t_in[e.account] <= e.t <= t_out.get(e.account, np.inf)


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
    net = net_by(three_minutes.crowd.truth, lambda e: e.bin)
    expected = store.bins.count.copy()
    for b, n in net.items():
        expected[b] -= n
    assert np.array_equal(world.count, expected)
    assert (store.bins.count - world.count).sum() > 0


# -- small runs ---------------------------------------------------------------------------

BUSY = dict(shoppers_in_store=12.0, mean_trip_s=40.0, browse_mean_s=4.0, look_stops_poisson=0.0)


def test_pick_two_put_one_back(kiosk) -> None:
    cfg = ShopperConfig(p_take_extra_put_back=1.0, p_change_mind=0.0, **BUSY)
    run = simulate(kiosk, cfg, seed=8, seconds=60.0)
    truth = run.crowd.truth
    backs = [e for e in truth if e.action == "put_back"]
    assert len(backs) >= 3
    for e in backs:
        pick = [p for p in truth if p.action == "pick" and p.shopper == e.shopper
                and p.bin == e.bin and p.t < e.t][-1]
        assert e.quantity == 1
        assert pick.quantity >= 2          # the unit wanted plus the one inspected
        assert e.t - pick.t == pytest.approx(cfg.inspect_s, abs=1.5 / POLICY_HZ)
        assert run.crowd.carts[e.account].get(e.sku, 0) >= pick.quantity - 1
    # every pick of the run comes with its put-back once inspected
    picks = [e for e in truth if e.action == "pick"]
    assert len(backs) >= len(picks) - len(run.crowd.shoppers)
    net = net_by(truth, lambda e: e.bin)
    for b, n in net.items():
        assert run.world.count[b] == kiosk.bins.count[b] - n


def test_changing_mind_takes_one_and_puts_it_back(kiosk) -> None:
    cfg = ShopperConfig(p_take_extra_put_back=0.0, p_change_mind=1.0, **BUSY)
    run = simulate(kiosk, cfg, seed=9, seconds=45.0)
    truth = run.crowd.truth
    picks = [e for e in truth if e.action == "pick"]
    backs = [(e.shopper, e.bin, e.t) for e in truth if e.action == "put_back"]
    assert len(picks) >= 3 and all(e.quantity == 1 for e in picks)
    end = 45.0
    for e in picks:
        if e.t < end - cfg.inspect_s - 2 / POLICY_HZ:
            assert any(s == e.shopper and b == e.bin and t > e.t for s, b, t in backs)
    # only units still being inspected are in anyone's hands
    pending = sum(sum(c.values()) for c in run.crowd.carts.values())
    assert pending == len(picks) - len(backs)
    assert all(run.crowd.carts[a] == {} for a in run.crowd.exited)


def test_same_seed_same_truth(kiosk) -> None:
    cfg = ShopperConfig(**BUSY)
    a = simulate(kiosk, cfg, seed=21, seconds=40.0)
    b = simulate(kiosk, cfg, seed=21, seconds=40.0)
    assert len(a.crowd.truth) > 5
    assert a.crowd.truth == b.crowd.truth
    assert all(np.array_equal(x, y) for x, y in zip(a.xy, b.xy, strict=True))
    c = simulate(kiosk, cfg, seed=22, seconds=40.0)
    assert c.crowd.truth != a.crowd.truth


def test_no_arrivals_after_the_cutoff(kiosk) -> None:
    run = simulate(kiosk, ShopperConfig(**BUSY), seed=5, seconds=30.0, arrivals_until_s=8.0)
    enters = [e.t for e in run.crowd.truth if e.action == "enter"]
    assert enters and max(enters) <= 8.0
    free = simulate(kiosk, ShopperConfig(**BUSY), seed=5, seconds=30.0)
    assert max(e.t for e in free.crowd.truth if e.action == "enter") > 8.0


def test_nobody_comes_when_the_target_crowd_is_zero(kiosk) -> None:
    cfg = ShopperConfig(shoppers_in_store=0.0)
    assert cfg.arrival_rate_hz == 0.0
    run = simulate(kiosk, cfg, seed=1, seconds=5.0)
    assert run.crowd.truth == [] and run.checkins == []


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"shoppers_in_store": -1.0}, "shoppers_in_store"),
    ({"mean_trip_s": 0.0}, "mean_trip_s"),
    ({"speed_mean": -1.34}, "speed_mean"),
    ({"max_list": 0}, "max_list"),
    ({"max_list": 51}, "max_list"),
    ({"qty_probs": (0.5, 0.3, 0.1)}, "qty_probs"),
])
def test_shopper_config_validation_names_the_field(kwargs, field) -> None:
    with pytest.raises(ValueError, match=f"ShopperConfig.*{field}"):
        ShopperConfig(**kwargs)


@pytest.mark.parametrize("kwargs", [
    {"p_take_extra_put_back": 1.5}, {"p_change_mind": -0.1}, {"speed_sd": -0.1},
])
def test_shopper_config_rejects_out_of_range_probabilities(kwargs) -> None:
    (field,) = kwargs
    with pytest.raises(ValueError, match=f"ShopperConfig.{field}"):
        ShopperConfig(**kwargs)


def test_arrival_rate_follows_littles_law() -> None:
    assert ShopperConfig(shoppers_in_store=15.0, mean_trip_s=170.0).arrival_rate_hz == (
        pytest.approx(15.0 / 170.0))
