"""``storetwin scenario``: the shipped library from the command line, as a tester runs it."""

from __future__ import annotations

import json

import pytest
from support import one_error, storetwin

from agents.scenario import library


@pytest.fixture(scope="module")
def hand_to(tmp_path_factory):
    out = tmp_path_factory.mktemp("scn") / "hand_to"
    proc = storetwin("scenario", "hand_to", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), out


def test_list_names_every_shipped_scenario() -> None:
    proc = storetwin("scenario", "--list", "--json")
    assert proc.returncode == 0, proc.stderr
    names = [r["name"] for r in json.loads(proc.stdout)["scenarios"]]
    assert names == library()
    assert {"two_baguettes", "swap", "three_at_one_shelf", "lookalikes_adjacent",
            "group_one_account", "bulk_qty", "misplace", "hand_to", "conceal",
            "put_back", "wait", "pick"} <= set(names)


def test_two_baguettes_prints_expected_truth_and_issued() -> None:
    proc = storetwin("scenario", "two_baguettes")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "expected (script)" in text and "ground truth" in text
    assert "issued (full core)" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("A "))
    assert row.count("SKU00001 x1") >= 2          # the script and the ground truth
    assert "ground truth matches the script" in text


def test_issued_receipts_are_the_cores_not_the_truth(hand_to) -> None:
    doc, out = hand_to
    assert doc["ran_as_written"] is True and doc["problems"] == []
    rows = {r["account"]: r for r in doc["rows"]}
    assert rows["B"]["truth"] == rows["B"]["expected"] == {"SKU00043": 1}
    assert rows["A"]["truth"] == rows["A"]["expected"] == {}
    # the "issued" column is exactly the core's receipts.json, which the core wrote from
    # the sensor streams alone
    core = json.loads((out / "receipts.json").read_text())["receipts"]
    issued = {r["account"]: {p["sku"]: p["quantity"] for p in r["products"]} for r in core}
    for r in doc["rows"]:
        assert r["issued"] == issued.get(r["account_id"]), r
    # and the ground truth the run folder holds is the script's
    gt = json.loads((out / "ground_truth" / "receipts.json").read_text())["receipts"]
    assert {g["account"]: {p["sku"]: p["quantity"] for p in g["products"]} for g in gt} == {
        r["account_id"]: r["expected"] for r in doc["rows"]}
    assert (out / "ground_truth" / "events.parquet").is_file()


def test_strict_fails_on_a_wrong_receipt(hand_to) -> None:
    doc, _ = hand_to
    proc = storetwin("scenario", "hand_to", "--strict", "--json")
    wrong = doc["billed_right"] < doc["accounts"]
    assert proc.returncode == (1 if wrong else 0), proc.stderr


@pytest.mark.parametrize(("args", "words"), [
    (("no_such_scenario",), ["no_such_scenario"]),
    (("--seed", "-1", "pick"), ["--seed"]),
    ((), ["FILE"]),
    (("pick", "--core", "clever"), ["--core", "clever", "full", "naive"]),
    (("pick", "--core", "full,full"), ["--core", "each once"]),
    (("pick", "--dead-cameras", "3,x"), ["--dead-cameras", "ids"]),
    (("pick", "--dead-cameras", "999"), ["--dead-cameras", "999", "out of range"]),
    (("--all", "pick"), ["--all", "FILE"]),
])
def test_bad_input_is_one_line_and_exit_2(args, words) -> None:
    one_error(storetwin("scenario", *args), *words)


def test_a_bad_scenario_file_names_file_field_and_allowed(tmp_path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('format = "storetwin-scenario/1"\nname = "x"\nstore = "kiosk"\n'
                 '[[shopper]]\nid = "a"\nactions = [{do = "pick", sku = "SKU00001", '
                 'qty = 0}]\n')
    line = one_error(storetwin("scenario", str(f)), "bad.toml", "qty")
    assert "1" in line and "50" in line


def test_misplace_with_both_cores_reports_each_on_the_same_records() -> None:
    """The full core takes the misplaced cola off the cart; the naive one bills it and can
    only flag the diet-cola put-back it cannot match."""
    proc = storetwin("scenario", "misplace", "--core", "full,naive", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["core"] == "full"
    full, naive = doc["rows"][0], doc["others"]["naive"][0]
    assert full["verdict"] == "ok" and full["issued"] == {}
    assert naive["issued"] == {"SKU00033": 1} and naive["verdict"] != "ok"
    assert doc["metrics"]["core"]["misplaced_units"] == 1
    text = storetwin("scenario", "misplace", "--core", "naive").stdout
    assert "issued (naive core)" in text
