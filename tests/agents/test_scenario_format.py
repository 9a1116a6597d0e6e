"""Scripted scenarios (docs/scenarios.md): every library scenario loads and implies the receipt
its description states; key receipts computed by hand; the actions each TOML line becomes;
the holdings rule; every check of a bad file reported with its field path and what is allowed;
canonical text that reads back to the same scenario.

Bin rows and SKUs are the kiosk's (``load_store("kiosk")``): Baguette SKU00001 fills bins 0-3
(gondola-1 -x, slot 0, levels 0-3), Gluten-Free Baguette SKU00002 bins 4, 7, 8, 9; bin 17 holds
White Sandwich Bread; bins 131 / 132 are Cola / Diet Cola one above the other.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from agents.actions import Conceal, Exit, HandTo, Inspect, Look, Pick, PutBack, Wait
from agents.scenario import (
    FORMAT,
    build_scenario,
    dumps_scenario,
    library,
    library_path,
    load_scenario,
    parse_scenario,
)
from agents.scenario_actions import MAX_QTY
from agents.scenario_types import ScenarioError, expected_receipts
from scenes.tomlw import dumps

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "tests" / "scenes" / "data" / "corner-shop.toml"
BAGUETTE, GF_BAGUETTE, COLA, DIET_COLA = 0, 1, 32, 33     # kiosk catalogue rows


def doc(*shoppers: dict, **top) -> dict:
    """A scenario document on the kiosk; by default Alice picks one baguette."""
    d = {"format": FORMAT, "name": "t", "store": "kiosk"}
    d.update(top)
    d["shopper"] = list(shoppers) or [shopper("alice", {"do": "pick", "sku": "SKU00001"})]
    return d


def shopper(sid: str, *actions: dict, **kw) -> dict:
    return {"id": sid, **kw, "actions": list(actions)}


def problems(d: dict, base_dir: Path | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        build_scenario(d, "scen.toml", base_dir)
    return e.value.problems


def only(d: dict, base_dir: Path | None = None) -> tuple[str, str]:
    ps = problems(d, base_dir)
    assert len(ps) == 1, ps
    return ps[0]


# --------------------------------------------------------------------------- the library


def test_the_library_is_the_shipped_files_and_every_one_loads_on_the_kiosk() -> None:
    files = sorted(p.stem for p in (REPO / "agents" / "scenarios").glob("*.toml"))
    assert library() == files
    assert len(files) >= 16
    for name in library():
        sc = load_scenario(name)
        assert sc.name == name and sc.store_ref == "kiosk" and sc.store.name == "kiosk"
        assert sc.source == str(library_path(name))
        assert len(sc.description) > 40, name
        for s in sc.shoppers:
            assert isinstance(s.actions[-1], Exit)
            assert sum(isinstance(a, Exit) for a in s.actions) == 1


RECEIPT = re.compile(r"([A-Za-z0-9_-]+) = (empty|\d+ x [A-Z0-9]+(?:, \d+ x [A-Z0-9]+)*)")


@pytest.mark.parametrize("name", library())
def test_each_library_description_states_the_receipts_its_script_implies(name) -> None:
    sc = load_scenario(name)
    _, sep, tail = sc.description.partition("Correct receipt")
    assert sep, f"{name}: the description must end with its correct receipt(s)"
    stated = {acct: {} if lines == "empty" else {
        sku: int(n) for n, sku in (x.split(" x ") for x in lines.split(", "))}
        for acct, lines in RECEIPT.findall(tail)}
    assert stated == expected_receipts(sc)


# receipts computed by hand from each file's script
HAND = {
    "pick": {"A": {"SKU00003": 1}},
    "put_back": {"A": {}},
    "misplace": {"A": {}},                       # a misplaced unit is back on a shelf
    "hand_to": {"A": {}, "B": {"SKU00043": 1}},  # the unit moves to the receiver's account
    "wait": {"A": {}},
    "conceal": {"A": {"SKU00122": 1}},           # hidden, still owed
    "exit_empty": {"A": {}},
    "two_baguettes": {"A": {"SKU00001": 1}},     # 2 picked - 1 put back
    "two_baguettes_gf": {"A": {"SKU00002": 1}},  # both picked, the plain one put back
    "swap": {"A": {"SKU00038": 1}, "B": {"SKU00036": 1}},
    "group_one_account": {"family": {"SKU00015": 1, "SKU00027": 1, "SKU00082": 1}},
    "bulk_qty": {"A": {"SKU00030": 6}},
    "crowd_mixture": {"A": {"SKU00001": 1, "SKU00002": 1}, "B": {"SKU00045": 1},
                      "C": {"SKU00043": 1, "SKU00122": 1}, "D": {}},
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_expected_receipts_of_the_key_scenarios_match_the_hand_computed_ones(name) -> None:
    got = expected_receipts(load_scenario(name))
    assert got == HAND[name]
    assert list(got) == list(HAND[name])      # accounts in order of first appearance


def test_library_scripts_become_the_actions_written_in_them() -> None:
    tb = load_scenario("two_baguettes").shoppers[0]
    assert (tb.name, tb.account, tb.enter_s) == ("alice", "A", 0.0)
    assert tb.actions == (Pick(BAGUETTE, 2, -1), Inspect(3.0), PutBack(BAGUETTE, 1, -1), Exit())
    mis = load_scenario("misplace").shoppers[0].actions
    assert mis[0] == Pick(COLA, 1, 131) and mis[2] == PutBack(COLA, 1, 132)
    alice, bob = load_scenario("swap").shoppers
    assert HandTo(1, 35, 1) in alice.actions and HandTo(0, 37, 1) in bob.actions
    mix = load_scenario("crowd_mixture")
    assert mix.crowd_shoppers == 12.0 and mix.max_duration_s == 600.0
    assert load_scenario("look").shoppers[0].actions == (Look(440, 5.0), Exit())
    hes = load_scenario("hesitate").shoppers[0].actions[0]
    assert (hes.browse_s, hes.hesitate_s) == (4.0, 3.0)
    assert load_scenario("conceal").shoppers[0].actions[1] == Conceal(121, 1)
    assert load_scenario("wait").shoppers[0].actions == (Wait(20.0), Exit())
    assert load_scenario("exit_empty").shoppers[0].actions == (Exit(),)


# --------------------------------------------------------------------------- the rules


def test_defaults_exit_appended_and_the_account_defaults_to_the_id() -> None:
    sc = build_scenario(doc())
    assert (sc.seed, sc.max_duration_s, sc.layout, sc.crowd_shoppers) == (0, 600.0, None, 0.0)
    assert sc.description == ""
    (s,) = sc.shoppers
    assert (s.name, s.account, s.enter_s) == ("alice", "alice", 0.0)
    assert s.actions == (Pick(BAGUETTE, 1, -1), Exit())
    empty = build_scenario(doc(shopper("bob")))
    assert empty.shoppers[0].actions == (Exit(),)
    assert expected_receipts(empty) == {"bob": {}}


def test_into_names_the_lowest_bin_row_of_the_sku_and_bin_names_any_bin() -> None:
    sc = build_scenario(doc(shopper(
        "a", {"do": "pick", "sku": "SKU00001", "qty": 3, "bin": 2},
        {"do": "put_back", "sku": "SKU00001", "into": "SKU00002"},   # bins 4, 7, 8, 9
        {"do": "put_back", "sku": "SKU00001", "bin": 17},
        {"do": "put_back", "sku": "SKU00001"},
        {"do": "look", "sku": "SKU00002", "s": 2})))
    assert sc.shoppers[0].actions[:5] == (
        Pick(BAGUETTE, 3, 2), PutBack(BAGUETTE, 1, 4), PutBack(BAGUETTE, 1, 17),
        PutBack(BAGUETTE, 1, -1), Look(4, 2.0))
    assert expected_receipts(sc) == {"a": {}}     # put back anywhere: not owed


def test_hand_to_moves_units_between_accounts_and_not_within_one() -> None:
    two = build_scenario(doc(
        shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 3},
                {"do": "hand_to", "shopper": "b", "sku": "SKU00001", "qty": 2}, account="X"),
        shopper("b", {"do": "wait", "s": 10}, account="Y")))
    assert expected_receipts(two) == {"X": {"SKU00001": 1}, "Y": {"SKU00001": 2}}
    group = build_scenario(doc(
        shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 3},
                {"do": "hand_to", "shopper": "b", "sku": "SKU00001", "qty": 2}, account="X"),
        shopper("b", {"do": "pick", "sku": "SKU00002"}, account="X")))
    assert expected_receipts(group) == {"X": {"SKU00001": 3, "SKU00002": 1}}
    assert group.accounts == ("X",)


def test_units_handed_in_count_only_from_a_shopper_listed_earlier() -> None:
    give = shopper("a", {"do": "pick", "sku": "SKU00001"},
                   {"do": "hand_to", "shopper": "b", "sku": "SKU00001"})
    use = shopper("b", {"do": "wait", "s": 5}, {"do": "put_back", "sku": "SKU00001"})
    sc = build_scenario(doc(give, use))
    assert expected_receipts(sc) == {"a": {}, "b": {}}
    path, msg = only(doc(use, give))    # the receiver first: it holds nothing in its script
    assert path == "shopper[0].actions[1].sku"
    assert "'b' holds no free unit" in msg and "hand-ins from shoppers listed earlier" in msg


def test_conceal_keeps_the_unit_owed_and_out_of_reach_of_later_put_backs() -> None:
    sc = build_scenario(doc(shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 2},
                                    {"do": "conceal", "sku": "SKU00001"})))
    assert sc.shoppers[0].actions[1] == Conceal(BAGUETTE, 1)
    assert expected_receipts(sc) == {"a": {"SKU00001": 2}}
    path, msg = only(doc(shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 2},
                                 {"do": "conceal", "sku": "SKU00001"},
                                 {"do": "put_back", "sku": "SKU00001", "qty": 2})))
    assert path == "shopper[0].actions[2].qty"
    assert msg.startswith("= 2 is more than 'a' holds here: 1 unit(s) of SKU00001 (Baguette); "
                          "expected qty <= 1")


def test_a_store_spec_path_is_relative_to_the_scenario_file(tmp_path) -> None:
    (tmp_path / "shop.toml").write_text(SHOP.read_text())
    sub = tmp_path / "cases"
    sub.mkdir()
    f = sub / "one.toml"
    f.write_text(dumps(doc(shopper("a", {"do": "pick", "sku": "A001"}), store="../shop.toml")))
    sc = load_scenario(f)
    assert sc.store_ref == str(tmp_path / "shop.toml")
    assert sc.store.catalogue.sku[0] == "A001"
    assert sc.source == str(f)


# --------------------------------------------------------------------------- bad files


def test_a_bad_file_reports_every_problem_with_its_file_field_and_what_is_allowed(
        tmp_path) -> None:
    d = doc(
        shopper("alice",
                {"do": "grab", "sku": "SKU00001"},
                {"do": "pick", "sku": "SKU0001", "qty": 0},
                {"do": "pick", "sku": "SKU00001", "qty": 2, "bin": 17},
                {"do": "pick", "sku": "SKU00001", "bin": 600},
                {"do": "put_back", "sku": "SKU00003"},
                {"do": "put_back", "sku": "SKU00001", "into": "SKU00002", "bin": 3},
                {"do": "hand_to", "shopper": "alice", "sku": "SKU00001"},
                {"do": "hand_to", "shopper": "zed", "sku": "SKU00001"},
                {"do": "wait", "seconds": 3},
                {"do": "conceal", "sku": "SKU00001", "qty": MAX_QTY + 1},
                {"do": "exit"},
                {"do": "wait", "s": 2},
                account="A", enter_s=-1),
        shopper("alice"),
        shopper("bob", "pick", {"sku": "SKU00001"}, {"do": "look", "s": 2}),
        format="storetwin-scenario/2", name="bad one", seed=-1, colour="red",
        crowd={"shoppers": -3})
    path = tmp_path / "bad.toml"
    path.write_text(dumps(d))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    lines = str(e.value).splitlines()
    assert all(ln.startswith(f"{path}: ") for ln in lines), lines
    got = dict(e.value.problems)
    assert [p for p, _ in e.value.problems] == [
        "colour", "format", "name", "seed", "crowd.shoppers", "shopper[0].enter_s",
        "shopper[0].actions[0].do", "shopper[0].actions[1].sku", "shopper[0].actions[1].qty",
        "shopper[0].actions[2].bin", "shopper[0].actions[3].bin", "shopper[0].actions[4].sku",
        "shopper[0].actions[5]", "shopper[0].actions[6].shopper",
        "shopper[0].actions[7].shopper", "shopper[0].actions[8].seconds",
        "shopper[0].actions[8].s", "shopper[0].actions[9].qty", "shopper[0].actions[11]",
        "shopper[1].id", "shopper[2].actions[0]", "shopper[2].actions[1].do",
        "shopper[2].actions[2]"]
    expect = {
        "colour": "unknown key; allowed here: format, name, description, store, seed, "
                  "max_duration_s, layout, crowd, shopper, faults",
        "format": "= 'storetwin-scenario/2' is not allowed; expected 'storetwin-scenario/1'",
        "name": "= 'bad one' is not allowed; expected 1 to 64 characters of A-Z, a-z, 0-9, _ "
                "and -",
        "crowd.shoppers": "= -3 is not allowed; expected a number >= 0 and <= 1000 (shoppers "
                          "in the store at once)",
        "shopper[0].enter_s": "= -1 is not allowed; expected a number >= 0 and <= 86400 (s)",
        "shopper[0].actions[0].do": "= 'grab' is not allowed; expected one of pick, put_back, "
                                    "hand_to, conceal, wait, look, inspect, exit, wait_until, "
                                    "follow, reach, stand",
        "shopper[0].actions[1].qty": "= 0 is not allowed; expected an integer >= 1 and <= 50",
        "shopper[0].actions[2].bin": "= 17 holds SKU00005 (White Sandwich Bread), not "
                                     "SKU00001; expected a bin of SKU00001: 0, 1, 2, 3",
        "shopper[0].actions[3].bin": "= 600 is not allowed; expected a bin row of store "
                                     "'kiosk', an integer >= 0 and <= 494",
        "shopper[0].actions[6].shopper": "= 'alice' is this shopper, who cannot hand over to itself; expected another "
                                         "shopper's id: bob",
        "shopper[0].actions[7].shopper": "= 'zed' names no shopper; expected another "
                                         "shopper's id: bob",
        "shopper[0].actions[8].seconds": "unknown key; allowed here: do, s, after",
        "shopper[0].actions[8].s": "is missing (required)",
        "shopper[0].actions[11]": "follows the exit at actions[10]; nothing may follow an exit "
                                  "(the shopper has left): remove the 1 action(s) after it",
        "shopper[1].id": "= 'alice' is used by shopper[0]; shopper ids are unique",
        "shopper[2].actions[1].do": "is missing (required); expected one of pick, put_back, "
                                    "hand_to, conceal, wait, look, inspect, exit, wait_until, "
                                    "follow, reach, stand",
        "shopper[2].actions[2]": "expected exactly one of sku (that sku's bin) and bin (a bin "
                                 "row) to look at",
    }
    for p, msg in expect.items():
        assert got[p] == msg, (p, got[p])
    assert got["seed"].startswith("= -1 is not allowed; expected an integer >= 0")
    assert got["shopper[0].actions[1].sku"].startswith(
        "= 'SKU0001' is not in the catalogue of store 'kiosk'")
    assert "expected one of its 127 skus" in got["shopper[0].actions[1].sku"]
    assert got["shopper[0].actions[4].sku"].startswith(
        "puts back SKU00003 (Sourdough Loaf), but 'alice' holds no free unit of it here")
    assert got["shopper[0].actions[5]"].startswith("has both bin and into; expected at most one")
    assert got["shopper[0].actions[9].qty"].startswith("= 51 is not allowed")
    assert got["shopper[2].actions[0]"].startswith("is a string; expected an inline table")


ONE_PROBLEM = {
    # case: (document, path, words in the message)
    "format-missing": (lambda: {k: v for k, v in doc().items() if k != "format"},
                       "format", ["is missing (required)", "storetwin-scenario/1"]),
    "store-missing": (lambda: {k: v for k, v in doc().items() if k != "store"},
                      "store", ["is missing (required)"]),
    "shopper-missing": (lambda: {k: v for k, v in doc().items() if k != "shopper"},
                        "shopper", ["is missing (required)", "at least one [[shopper]]"]),
    "shopper-empty": (lambda: {**doc(), "shopper": []}, "shopper",
                      ["is empty", "at least one [[shopper]]"]),
    "shopper-a-table": (lambda: {**doc(), "shopper": {"id": "a", "actions": []}}, "shopper",
                        ["is a table", "expected an array of tables ([[shopper]])"]),
    "store-unknown": (lambda: doc(store="kiosks"), "store",
                      ["= 'kiosks' is not a preset (kiosk, grocery, large, supercenter)",
                       "does not exist", "expected a preset name or a store spec .toml path "
                       "relative to this file"]),
    "duration-zero": (lambda: doc(max_duration_s=0), "max_duration_s",
                      ["= 0 is not allowed", "expected a number > 0 and <= 86400 (s)"]),
    "enter-after-the-end": (lambda: doc(shopper("a", enter_s=700.0)), "shopper[0].enter_s",
                            ["= 700 is not before max_duration_s = 600"]),
    "waits-past-the-end": (lambda: doc(shopper("a", {"do": "wait", "s": 300},
                                               {"do": "inspect", "s": 30}, enter_s=290.0)),
                           "shopper[0]", ["enters at 290 s and stands 330 s",
                                          "past max_duration_s = 600"]),
    "bad-id": (lambda: doc(shopper("al ice")), "shopper[0].id",
               ["= 'al ice' is not allowed", "A-Z, a-z, 0-9, _ and -"]),
    "id-missing": (lambda: doc({"actions": []}), "shopper[0].id", ["is missing (required)"]),
    "actions-missing": (lambda: doc({"id": "a"}), "shopper[0].actions",
                        ["is missing (required)"]),
    "unknown-shopper-key": (lambda: doc(shopper("a", when=3)), "shopper[0].when",
                            ["unknown key; allowed here: id, account, enter_s, actions"]),
    "unknown-action-key": (lambda: doc(shopper("a", {"do": "pick", "sku": "SKU00001",
                                                     "from": 3})),
                           "shopper[0].actions[0].from",
                           ["unknown key; allowed here: do, sku, qty, bin, browse_s, "
                            "hesitate_s"]),
    "pick-more-than-the-bin": (lambda: doc(shopper("a", {"do": "pick", "sku": "SKU00001",
                                                         "bin": 2, "qty": 5})),
                               "shopper[0].actions[0].qty",
                               ["= 5 is more than bin 2 holds (4 units of SKU00001 (Baguette) "
                                "at the start); expected qty <= 4"]),
    "pick-more-than-any-bin": (lambda: doc(shopper("a", {"do": "pick", "sku": "SKU00001",
                                                         "qty": 5})),
                               "shopper[0].actions[0].qty",
                               ["the fewest: 4 units", "expected qty <= 4, or several picks"]),
    "negative-wait": (lambda: doc(shopper("a", {"do": "wait", "s": -2})),
                      "shopper[0].actions[0].s", ["expected a number > 0 and <= 3600 (s)"]),
    "negative-hesitate": (lambda: doc(shopper("a", {"do": "pick", "sku": "SKU00001",
                                                    "hesitate_s": -1})),
                          "shopper[0].actions[0].hesitate_s",
                          ["expected a number >= 0 and <= 600 (s)"]),
    "qty-a-float": (lambda: doc(shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 1.5})),
                    "shopper[0].actions[0].qty", ["expected an integer >= 1 and <= 50"]),
    "hand-more-than-held": (lambda: doc(
        shopper("a", {"do": "pick", "sku": "SKU00001"},
                {"do": "hand_to", "shopper": "b", "sku": "SKU00001", "qty": 2}),
        shopper("b")), "shopper[0].actions[1].qty",
        ["= 2 is more than 'a' holds here: 1 unit(s) of SKU00001 (Baguette)"]),
    "hand-to-in-a-file-of-one": (lambda: doc(shopper(
        "a", {"do": "pick", "sku": "SKU00001"},
        {"do": "hand_to", "shopper": "b", "sku": "SKU00001"})),
        "shopper[0].actions[1].shopper",
        ["= 'b' names no shopper", "this file has no other shopper"]),
    "crowd-unknown-key": (lambda: doc(crowd={"size": 3}), "crowd.size",
                          ["unknown key; allowed here: shoppers"]),
    "layout-missing": (lambda: doc(layout="cams.toml"), "layout",
                       ["= 'cams.toml'", "does not exist", "expected a camera layout .toml "
                        "path relative to this file"]),
}


@pytest.mark.parametrize("case", sorted(ONE_PROBLEM))
def test_each_check_reports_one_problem_with_its_path_and_what_is_allowed(case) -> None:
    make, path, words = ONE_PROBLEM[case]
    got_path, msg = only(make())
    assert got_path == path, msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_mistake_in_a_pick_does_not_also_fail_the_put_back_of_that_sku() -> None:
    path, _ = only(doc(shopper("a", {"do": "pick", "sku": "SKU00001", "qty": 0},
                               {"do": "put_back", "sku": "SKU00001"})))
    assert path == "shopper[0].actions[0].qty"


def test_a_sku_in_the_catalogue_but_on_no_shelf_and_a_broken_store_spec(tmp_path) -> None:
    spec = tomllib.loads(SHOP.read_text())
    item = dict(spec["catalogue"]["items"][0], sku="Z999", name="Unshelved Thing")
    spec["catalogue"]["items"].append(item)
    (tmp_path / "shop.toml").write_text(dumps(spec))
    path, msg = only(doc(shopper("a", {"do": "pick", "sku": "Z999"}), store="shop.toml"),
                     tmp_path)
    assert path == "shopper[0].actions[0].sku"
    assert msg == ("= 'Z999' (Unshelved Thing) is in the catalogue but on no bin of store "
                   f"{spec['name']!r}; expected a sku the planogram places on a shelf")
    spec["fixtures"][0]["height_m"] = -1.0
    (tmp_path / "broken.toml").write_text(dumps(spec))
    ps = problems(doc(store="broken.toml"), tmp_path)
    assert ps and all(p == "store" for p, _ in ps), ps
    assert ps[0][1].startswith(f"names a spec with problems: {tmp_path / 'broken.toml'}: "
                               "fixtures[0].height_m")


def test_not_toml_and_an_unknown_library_name_are_one_line_each(tmp_path) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_scenario("name = = 1", "x.toml")
    assert len(e.value.problems) == 1 and str(e.value).startswith("x.toml: is not valid TOML")
    with pytest.raises(ScenarioError) as e:
        load_scenario("no_such_case")
    (line,) = str(e.value).splitlines()
    assert line.startswith("no_such_case: cannot be read") and "two_baguettes" in line
    with pytest.raises(ValueError, match="unknown library scenario"):
        library_path("no_such_case")


def test_a_camera_layout_is_checked_against_the_store_and_kept_as_an_absolute_path(
        tmp_path) -> None:
    from twin.layout_toml import dumps_layout
    from twin.placement import grid_layout

    sc = build_scenario(doc())
    (tmp_path / "cams.toml").write_text(dumps_layout(grid_layout(sc.store)))
    (tmp_path / "low.toml").write_text(
        'format = "storetwin-layout/1"\n[[cameras]]\nname = "c"\nmodel = "dome-4mp"\n'
        "position_m = [2.0, 2.0, 0.0]\npitch_deg = -90.0\n")
    ok = build_scenario(doc(layout="cams.toml"), "s.toml", tmp_path)
    assert ok.layout == str(tmp_path / "cams.toml")
    path, msg = only(doc(layout="low.toml"), tmp_path)
    assert path == "layout"
    assert msg.startswith(f"names a layout with problems: {tmp_path / 'low.toml'}: "
                          "cameras[0].position_m: has z = 0")


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", library())
def test_canonical_text_reads_back_to_the_same_scenario_and_the_same_text(name) -> None:
    sc = load_scenario(name)
    text = dumps_scenario(sc)
    back = parse_scenario(text, "copy.toml")
    assert back == sc
    assert dumps_scenario(back) == text
    assert expected_receipts(back) == expected_receipts(sc)
    assert load_scenario(name) == sc      # same file, same scenario


def test_canonical_text_writes_resolved_bins_and_absolute_paths(tmp_path) -> None:
    (tmp_path / "shop.toml").write_text(SHOP.read_text())
    f = tmp_path / "s.toml"
    f.write_text(dumps(doc(shopper("a", {"do": "pick", "sku": "A001"},
                                   {"do": "put_back", "sku": "A001", "into": "A003"}),
                           store="shop.toml", seed=7)))
    sc = load_scenario(f)
    text = dumps_scenario(sc)
    assert f"store = \"{tmp_path / 'shop.toml'}\"" in text
    assert "into" not in text and "bin = " in text
    assert parse_scenario(text, "elsewhere.toml", Path("/")) == sc
