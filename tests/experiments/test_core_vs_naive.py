"""The full core against the naive baseline on the twin: the same simulated sensor records
billed by both (one run, both cores fed every batch), scored per account against the
scenario script."""

from __future__ import annotations

import numpy as np
import pytest

from agents.scenario import library_path, load_scenario, parse_scenario
from experiments.runs.scenario import make_core, run_scenario, verdicts
from scenes.presets import load_preset
from twin.cameras import CameraSystem
from twin.camgeom import ceiling_grid

# The library's cases where billing takes more than the planogram and the nearest person
# (misplace) and cases both must get right; together with their accounts (one run each).
CASES = ["misplace", "two_baguettes", "put_back", "lookalikes_adjacent", "three_at_one_shelf"]


@pytest.fixture(scope="module")
def library_runs():
    out = []
    for name in CASES:
        r = run_scenario(load_scenario(library_path(name)), core=make_core("full"),
                         others={"naive": make_core("naive")})
        out.append(r)
    return out


def test_full_core_beats_naive_on_scripted_scenarios(library_runs) -> None:
    full = {"ok": 0, "flagged": 0, "wrong": 0}
    naive = dict(full)
    for r in library_runs:
        assert r.ran_as_written, (r.scenario.name, r.problems)
        for k, v in verdicts(r.rows).items():
            full[k] += v
        for k, v in verdicts(r.others["naive"]).items():
            naive[k] += v
    assert full["ok"] > naive["ok"], (full, naive)
    assert full["wrong"] <= naive["wrong"], (full, naive)
    by = {r.scenario.name: r for r in library_runs}
    assert by["misplace"].rows[0].verdict == "ok"
    assert by["misplace"].others["naive"][0].verdict != "ok"


BLIND = """
format = "storetwin-scenario/1"
name = "blind_pick"
description = "one pick mid-store, at a shelf whose cameras are all down"
store = "kiosk"
seed = 0
max_duration_s = 300

[[shopper]]
id = "alice"
account = "A"
enter_s = 0.0
actions = [{ do = "pick", sku = "SKU00056" }, { do = "exit" }]
"""


def test_dead_cameras_over_a_shelf_flag_the_receipt_instead_of_billing_it_wrong() -> None:
    """Every ceiling camera that sees anyone within 1 m of the shelf's access point is
    dead: nobody is seen taking the item. The full core still bills the shopper who went
    unseen near that shelf, and sends the receipt to review; the naive one issues an empty
    receipt with full confidence."""
    store = load_preset("kiosk")
    b = store.bins
    i = int(np.flatnonzero(store.catalogue.sku[b.sku_index] == "SKU00056")[0])
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 9)), -1)
    pts = grid.reshape(-1, 2) + b.access_xy[i]
    vis = CameraSystem(store, ceiling_grid(store, spacing=2.5)).visible_fraction(pts)
    dead = tuple(np.flatnonzero(vis.max(axis=1) > 0).tolist())
    assert 0 < len(dead) < 10

    def go(dead_cameras):
        return run_scenario(parse_scenario(BLIND, "blind_pick.toml"), core=make_core("full"),
                            others={"naive": make_core("naive")}, dead_cameras=dead_cameras)

    seen, blind = go(()), go(dead)
    assert seen.rows[0].verdict == "ok" and not seen.rows[0].review
    assert seen.others["naive"][0].verdict == "ok"
    full, naive = blind.rows[0], blind.others["naive"][0]
    assert blind.run.metrics["run"]["dead_cameras"] == len(dead)
    assert full.review and full.verdict in ("ok", "flagged")
    assert full.issued == {"SKU00056": 1}
    assert naive.verdict == "wrong" and naive.issued == {}


def test_library_table_has_a_line_per_scenario_and_the_totals(library_runs) -> None:
    from experiments.runs.scenario import format_library

    text = format_library(library_runs)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["scenario", "accounts"] and "naive:" in lines[0]
    for r in library_runs:
        row = next(ln for ln in lines if ln.startswith(r.scenario.name + " "))
        v, n = verdicts(r.rows), verdicts(r.others["naive"])
        assert f"{v['ok']}/{v['flagged']}/{v['wrong']}" in row
        assert row.split()[-1] == f"{n['ok']}/{n['flagged']}/{n['wrong']}"
    total = next(ln for ln in lines if ln.startswith("total "))
    assert total.split()[1] == str(sum(len(r.rows) for r in library_runs))
