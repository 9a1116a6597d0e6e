"""The ``storetwin-scenario/1`` extensions of issue 23 (docs/scenarios.md): ``after`` timing,
``wait_until``, ``follow``, ``reach``, ``stand`` (a point, a camera's blind spot, a spot that
blocks the only camera on a bin), per-shopper ``checkin_delay_s`` / ``checkin``, and
``[crowd] warm_start`` / ``seed``: what each key becomes, each check with its file, table and
key, and canonical text that reads back. What they do in the simulation is
``test_scenario_acting2.py``.

Kiosk bins: 3 Baguette (level 3), 8 Gluten-Free Baguette, 86 Cheddar (level 1), 87 Greek
Yogurt Strawberry; 407 Gluten-Free Oats (level 2) is seen by one camera of the default grid.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.actions import After, Exit, Follow, Pick, Reach, Stand, Wait, WaitUntil
from agents.scenario import (
    FORMAT,
    build_scenario,
    dumps_scenario,
    library,
    load_scenario,
    parse_scenario,
)
from agents.scenario_places import BLOCK_CLEAR_M, BLOCK_LEFT, Places
from agents.scenario_types import ScenarioError, expected_receipts
from scenes.tomlw import dumps

NEW = ("follower_shadows_group", "follower_blind_pick", "handover_after_pick", "swap_timed", "reach_no_take",
       "late_checkin", "no_checkin", "warm_crowd_pick", "blind_spot_pick",
       "hidden_by_second_shopper", "three_adjacent_near_equal_weight", "swap_in_blind_spot")


def doc(*shoppers: dict, **top) -> dict:
    """A scenario document on the kiosk; by default Alice picks one baguette."""
    d = {"format": FORMAT, "name": "t", "store": "kiosk", **top}
    d["shopper"] = list(shoppers) or [shopper("alice", {"do": "pick", "sku": "SKU00001"})]
    return d


def shopper(sid: str, *actions: dict, **kw) -> dict:
    return {"id": sid, **kw, "actions": list(actions)}


def problems(d: dict) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        build_scenario(d, "scen.toml")
    return e.value.problems


def only(d: dict) -> tuple[str, str]:
    ps = problems(d)
    assert len(ps) == 1, ps
    return ps[0]


def two(a_actions, b_actions=({"do": "wait", "s": 5},), **top) -> dict:
    return doc(shopper("alice", *a_actions), shopper("bob", *b_actions), **top)


# --------------------------------------------------------------------------- what keys become


def test_every_new_key_becomes_its_action_or_field() -> None:
    d = two([{"do": "pick", "sku": "SKU00001", "bin": 3},
             {"do": "wait_until", "t_s": 40},
             {"do": "reach", "bin": 86, "s": 3},
             {"do": "reach", "sku": "SKU00002"},
             {"do": "stand", "at": [2.0, 3.5], "s": 4}],
            [{"do": "follow", "shopper": "alice", "distance_m": 0.5, "s": 30},
             {"do": "pick", "sku": "SKU00002", "after": "alice.pick#1 + 3"},
             {"do": "wait", "s": 2, "after": "alice.enter"},
             {"do": "wait", "s": 1, "after": " alice.reach#2+0.5 s "}],
            crowd={"shoppers": 4, "warm_start": True, "seed": 7})
    d["shopper"][1].update(checkin_delay_s=1.5)
    d["shopper"].append(shopper("uma", checkin=False))
    sc = build_scenario(d, "s.toml")
    a, b, u = sc.shoppers
    assert a.actions == (Pick(0, 1, 3), WaitUntil(40.0), Reach(86, 3.0), Reach(4, 2.0),
                         Stand(2.0, 3.5, 4.0), Exit())
    assert b.actions == (Follow(0, 0.5, 30.0), After(0, "pick", 1, 3.0), Pick(1, 1, -1),
                         After(0, "enter", 1, 0.0), Wait(2.0), After(0, "reach", 2, 0.5),
                         Wait(1.0), Exit())
    assert (a.checkin_delay_s, a.checkin, b.checkin_delay_s, b.checkin) == (0, True, 1.5, True)
    assert (u.checkin_delay_s, u.checkin) == (0.0, False)
    assert (sc.crowd_shoppers, sc.crowd_warm_start, sc.crowd_seed) == (4.0, True, 7)
    # a reach takes nothing and an after is no action: the receipts are the picks'
    assert expected_receipts(sc) == {"alice": {"SKU00001": 1}, "bob": {"SKU00002": 1},
                                     "uma": {}}


def test_an_old_file_gets_the_old_defaults() -> None:
    sc = load_scenario("crowd_mixture")
    assert (sc.crowd_warm_start, sc.crowd_seed) == (False, None)
    assert all(s.checkin and s.checkin_delay_s == 0 for s in sc.shoppers)
    assert not any(isinstance(a, (After, WaitUntil, Follow, Reach, Stand))
                   for s in sc.shoppers for a in s.actions)


def test_an_after_may_wait_for_an_earlier_action_of_ones_own() -> None:
    sc = build_scenario(doc(shopper("a", {"do": "pick", "sku": "SKU00001"},
                                    {"do": "wait", "s": 1, "after": "a.pick + 2"})), "s.toml")
    assert sc.shoppers[0].actions[1] == After(0, "pick", 1, 2.0)


# --------------------------------------------------------------------------- places


@pytest.fixture(scope="module")
def places() -> Places:
    return Places.of(load_scenario("pick").store, None)


def test_the_blind_spot_of_a_camera_is_a_walkable_cell_it_does_not_see(places) -> None:
    sc = build_scenario(doc(shopper("a", {"do": "stand", "at": "blind_spot", "camera": 9,
                                          "s": 5},
                                    {"do": "stand", "at": "blind_spot", "s": 5})), "s.toml")
    s9, s_any = sc.shoppers[0].actions[:2]
    count = places.floor.sum(axis=0)
    k9 = int(np.argmin(np.hypot(*(places.cells - [s9.x, s9.y]).T)))
    assert np.hypot(*(places.cells[k9] - [s9.x, s9.y])) < 1e-9
    assert not places.floor[9, k9]
    assert count[k9] == count[~places.floor[9]].min()
    k = int(np.argmin(np.hypot(*(places.cells - [s_any.x, s_any.y]).T)))
    assert count[k] == count.min()


def test_a_block_spot_hides_the_hand_from_the_only_camera_on_the_bin(places) -> None:
    seen = places.hand_seen(407)
    assert np.count_nonzero(seen) == 1 and seen.max() > 0.1       # one camera sees it
    cam = int(np.argmax(seen))
    sc = build_scenario(doc(shopper("a", {"do": "stand", "at": "block", "bin": 407,
                                          "s": 5})), "s.toml")
    st = sc.shoppers[0].actions[0]
    p = np.array([st.x, st.y])
    assert places.free(p)
    assert np.hypot(*(p - sc.store.bins.access_xy[407])) >= BLOCK_CLEAR_M - 1e-9
    assert places.hand_seen(407, p)[cam] <= BLOCK_LEFT * seen[cam]
    # the same spot named by its camera
    sc2 = build_scenario(doc(shopper("a", {"do": "stand", "at": "block", "bin": 407,
                                           "camera": cam, "s": 5})), "s.toml")
    assert sc2.shoppers[0].actions[0] == st


# --------------------------------------------------------------------------- checks

ONE_PROBLEM = {
    "after-not-a-string": (lambda: two([{"do": "wait", "s": 1, "after": 3}]),
                           "shopper[0].actions[0].after", ["= 3 is not allowed",
                                                           "SHOPPER.KIND[#N]"]),
    "after-bad-grammar": (lambda: two([{"do": "wait", "s": 1, "after": "bob pick 2"}]),
                          "shopper[0].actions[0].after",
                          ["= 'bob pick 2' is not allowed", "e.g. \"alice.pick#2 + 3\""]),
    "after-unknown-shopper": (lambda: two([{"do": "wait", "s": 1, "after": "zed.pick"}]),
                              "shopper[0].actions[0].after",
                              ["names no shopper 'zed'", "alice, bob"]),
    "after-unknown-kind": (lambda: two([{"do": "wait", "s": 1, "after": "bob.grab#1"}]),
                           "shopper[0].actions[0].after",
                           ["'grab' is not an action kind", "enter, pick"]),
    "after-occurrence-0": (lambda: two([{"do": "wait", "s": 1, "after": "bob.wait#0"}]),
                           "shopper[0].actions[0].after", ["occurrence #0 is not allowed"]),
    "after-negative": (lambda: two([{"do": "wait", "s": 1, "after": "bob.wait - 2"}]),
                       "shopper[0].actions[0].after",
                       ["a negative offset is not allowed", "does not look ahead"]),
    "after-missing-occurrence": (lambda: two([{"do": "wait", "s": 1,
                                               "after": "bob.wait#2"}]),
                                 "shopper[0].actions[0].after",
                                 ["waits for wait #2 of 'bob', whose script has 1 wait",
                                  "expected an occurrence 1 .. 1"]),
    "after-kind-it-never-does": (lambda: two([{"do": "wait", "s": 1,
                                               "after": "bob.pick"}]),
                                 "shopper[0].actions[0].after",
                                 ["waits for a pick of 'bob', whose script has none"]),
    "after-cycle": (lambda: two([{"do": "wait", "s": 1, "after": "bob.wait#1"}],
                                [{"do": "wait", "s": 1, "after": "alice.wait#1"}]),
                    "shopper[0].actions[0].after",
                    ["waits for wait #1 of 'bob', which itself comes after this wait of "
                     "'alice'", "the script can never go on"]),
    "after-cycle-of-three": (lambda: doc(
        shopper("a", {"do": "wait", "s": 1, "after": "b.wait"}),
        shopper("b", {"do": "pick", "sku": "SKU00001"},
                {"do": "wait", "s": 1, "after": "c.pick"}),
        shopper("c", {"do": "wait", "s": 2},
                {"do": "pick", "sku": "SKU00001", "after": "a.wait"})),
        "shopper[0].actions[0].after", ["can never go on"]),
    "after-own-later-action": (lambda: two([{"do": "wait", "s": 1, "after": "alice.wait#2"},
                                            {"do": "wait", "s": 1}]),
                               "shopper[0].actions[0].after", ["can never go on"]),
    "wait-until-past-the-end": (lambda: two([{"do": "wait_until", "t_s": 300}],
                                            max_duration_s=300),
                                "shopper[0].actions[0].t_s",
                                ["= 300 is not before max_duration_s = 300"]),
    "wait-until-negative": (lambda: two([{"do": "wait_until", "t_s": -1}]),
                            "shopper[0].actions[0].t_s", ["expected a number >= 0"]),
    "follow-oneself": (lambda: two([{"do": "follow", "shopper": "alice", "s": 3}]),
                       "shopper[0].actions[0].shopper",
                       ["= 'alice' is this shopper, who cannot follow itself",
                        "another shopper's id: bob"]),
    "follow-distance": (lambda: two([{"do": "follow", "shopper": "bob", "s": 3,
                                      "distance_m": 0}]),
                        "shopper[0].actions[0].distance_m",
                        ["= 0 is not allowed; expected a number > 0 and <= 10 (m)"]),
    "follow-unknown-key": (lambda: two([{"do": "follow", "shopper": "bob", "s": 3,
                                         "gap": 1}]),
                           "shopper[0].actions[0].gap",
                           ["unknown key; allowed here: do, shopper, distance_m, s, after"]),
    "reach-both": (lambda: two([{"do": "reach", "bin": 3, "sku": "SKU00001"}]),
                   "shopper[0].actions[0]", ["expected exactly one of sku", "to reach into"]),
    "reach-zero-s": (lambda: two([{"do": "reach", "bin": 3, "s": 0}]),
                     "shopper[0].actions[0].s", ["expected a number > 0 and <= 600 (s)"]),
    "stand-bad-word": (lambda: two([{"do": "stand", "at": "corner", "s": 2}]),
                       "shopper[0].actions[0].at",
                       ["= 'corner' is not allowed", "'blind_spot', 'block'"]),
    "stand-outside": (lambda: two([{"do": "stand", "at": [99.0, 1.0], "s": 2}]),
                      "shopper[0].actions[0].at", ["is outside store 'kiosk'"]),
    "stand-point-with-camera": (lambda: two([{"do": "stand", "at": [1.0, 1.0], "camera": 2,
                                              "s": 2}]),
                                "shopper[0].actions[0].camera",
                                ["is not allowed with at = [x, y]"]),
    "stand-block-without-bin": (lambda: two([{"do": "stand", "at": "block", "s": 2}]),
                                "shopper[0].actions[0].bin",
                                ["is missing (required with at = \"block\")"]),
    "stand-camera-out-of-range": (lambda: two([{"do": "stand", "at": "blind_spot",
                                                "camera": 30, "s": 2}]),
                                  "shopper[0].actions[0].camera",
                                  ["default ceiling grid, an integer >= 0 and <= 29"]),
    "stand-block-a-bin-no-camera-sees": (lambda: two([{"do": "stand", "at": "block",
                                                       "bin": 82, "s": 2}]),
                                         "shopper[0].actions[0].bin",
                                         ["no camera sees a hand in this bin"]),
    "stand-block-a-high-bin": (lambda: two([{"do": "stand", "at": "block", "bin": 3,
                                             "s": 2}]),
                               "shopper[0].actions[0].bin",
                               ["no free floor spot between them hides a hand"]),
    "checkin-delay-negative": (lambda: doc(shopper("a", checkin_delay_s=-1)),
                               "shopper[0].checkin_delay_s",
                               ["expected a number >= 0 and <= 600 (s)"]),
    "checkin-not-a-bool": (lambda: doc(shopper("a", checkin="no")),
                           "shopper[0].checkin", ["expected true or false"]),
    "checkin-false-with-delay": (lambda: doc(shopper("a", checkin=False,
                                                     checkin_delay_s=2)),
                                 "shopper[0].checkin_delay_s",
                                 ["is not allowed with checkin = false"]),
    "crowd-warm-without-shoppers": (lambda: doc(crowd={"warm_start": True}),
                                    "crowd.warm_start", ["no one to put in the store"]),
    "crowd-seed-negative": (lambda: doc(crowd={"shoppers": 2, "seed": -1}), "crowd.seed",
                            ["= -1 is not allowed; expected an integer >= 0"]),
    "crowd-unknown-key": (lambda: doc(crowd={"warm": True}), "crowd.warm",
                          ["unknown key; allowed here: shoppers, warm_start, seed"]),
}


@pytest.mark.parametrize("case", sorted(ONE_PROBLEM))
def test_each_new_check_reports_one_problem_with_its_path(case) -> None:
    make, path, words = ONE_PROBLEM[case]
    got_path, msg = only(make())
    assert got_path == path, msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_file_with_several_new_problems_names_the_file_table_and_key_of_each(
        tmp_path) -> None:
    d = two([{"do": "follow", "shopper": "alice", "s": 3},
             {"do": "wait", "s": 1, "after": "bob.pick"},
             {"do": "reach", "bin": 3, "s": 2, "hand": "left"},
             {"do": "wait_until", "t_s": 900}], max_duration_s=600,
            crowd={"shoppers": 1, "warm_start": "yes"})
    path = tmp_path / "bad.toml"
    path.write_text(dumps(d))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    lines = str(e.value).splitlines()
    assert all(ln.startswith(f"{path}: ") for ln in lines), lines
    assert [p for p, _ in e.value.problems] == [
        "crowd.warm_start", "shopper[0].actions[0].shopper", "shopper[0].actions[2].hand",
        "shopper[0].actions[3].t_s", "shopper[0].actions[1].after"]


def test_problems_in_an_after_and_its_action_are_both_reported() -> None:
    ps = problems(two([{"do": "wait", "s": -1, "after": "nobody.pick"}]))
    assert [p for p, _ in ps] == ["shopper[0].actions[0].after", "shopper[0].actions[0].s"]


# --------------------------------------------------------------------------- canonical text


@pytest.mark.parametrize("name", NEW)
def test_each_new_library_file_uses_the_new_format_and_reads_back(name) -> None:
    sc = load_scenario(name)
    assert name in library()
    text = dumps_scenario(sc)
    back = parse_scenario(text, "copy.toml")
    assert back == sc
    assert dumps_scenario(back) == text
    assert expected_receipts(back) == expected_receipts(sc)


def test_canonical_text_writes_the_new_keys_resolved() -> None:
    d = two([{"do": "pick", "sku": "SKU00001", "bin": 3},
             {"do": "reach", "sku": "SKU00002", "s": 1.5},
             {"do": "stand", "at": "block", "bin": 407, "s": 3}],
            [{"do": "follow", "shopper": "alice", "s": 9},
             {"do": "wait", "s": 2, "after": "alice.pick"}],
            crowd={"shoppers": 3, "warm_start": True, "seed": 11})
    d["shopper"][0].update(checkin_delay_s=1.5)
    d["shopper"][1].update(checkin=False)
    sc = build_scenario(d, "s.toml")
    text = dumps_scenario(sc)
    assert "[crowd]\nshoppers = 3.0\nwarm_start = true\nseed = 11\n" in text
    assert "checkin_delay_s = 1.5\n" in text and "checkin = false\n" in text
    assert '{ do = "reach", bin = 4, s = 1.5 }' in text          # the sku's lowest bin
    assert '{ do = "follow", shopper = "alice", distance_m = 1.0, s = 9.0 }' in text
    assert '{ do = "wait", s = 2.0, after = "alice.pick#1 + 0.0" }' in text
    st = sc.shoppers[0].actions[2]
    assert f'{{ do = "stand", at = [{st.x!r}, {st.y!r}], s = 3.0 }}' in text
    assert parse_scenario(text, "copy.toml") == sc
    # an old file's canonical text has none of the new keys
    old = dumps_scenario(load_scenario("crowd_mixture"))
    for key in ("warm_start", "checkin", "after", "seed = 5"):
        assert key not in old


def test_a_faults_table_becomes_the_scenarios_schedule_and_a_bad_one_is_one_problem() -> None:
    s = build_scenario(doc(faults={"plates": [{"kind": "stuck", "ids": [0], "start_s": 5}],
                               "core": {"crash_at_s": 20}}), "scen.toml")
    assert s.faults is not None and s.faults.plates[0].kind == "stuck"
    assert s.faults.core.crash_at_s == 20.0
    assert build_scenario(doc(), "scen.toml").faults is None
    path, msg = only(doc(faults={"plates": [{"kind": "molten", "ids": [0]}]}))
    assert path == "faults" and "[[plates]][0].kind" in msg and "'stuck'" in msg
