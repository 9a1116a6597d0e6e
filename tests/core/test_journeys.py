"""Journeys from what the core sees: zones, stops, looks, hesitations, substitutions,
pseudonyms. The log is fed by hand, the way :class:`core.store_core.StoreCore` feeds it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.journeys import COLUMNS, JourneyConfig, JourneyLog, pseudonym
from core.knowledge import Cameras, Catalogue, Plates, StoreKnowledge
from core.records import ProductLine, Receipt, Tracks

KEY = b"test-key"
# Two bays 2 m apart along y at x = 5: bread (plates 0, 1) and milk (plate 2); a shopper
# reaches them from x = 4.3.
CAT = Catalogue(sku=np.array(["BAG", "GFBAG", "MILK"]), name=np.array(["b", "gf b", "m"]),
                price_cents=np.array([299, 449, 399], np.int64),
                mass_g=np.array([250.0, 240.0, 1000.0]),
                category=np.array(["bakery", "bakery", "dairy"]))
CENTERS = np.array([[5.0, 3.0, 1.0], [5.0, 3.75, 1.0], [5.0, 6.0, 1.0]])
PLATES = Plates(plate=np.arange(3, dtype=np.int32), sku_index=np.arange(3, dtype=np.int32),
                center=CENTERS, access_xy=CENTERS[:, :2] - [0.7, 0.0])


def knowledge(cat: Catalogue = CAT) -> StoreKnowledge:
    return StoreKnowledge(
        name="t", bounds=np.array([0.0, 0.0, 10.0, 10.0]),
        entrance=np.array([0.0, 0.0, 2.0, 1.0]), exit=np.array([8.0, 0.0, 10.0, 1.0]),
        catalogue=cat, plates=PLATES,
        cameras=Cameras(np.zeros(0, np.int32), np.zeros((0, 3)), np.zeros((0, 3, 3)),
                        np.zeros((0, 4)), np.zeros((0, 2), np.int32)),
        camera_hz=10.0, plate_hz=60.0, plate_noise_g=2.0)


def walk(log: JourneyLog, track: int, keys: list[tuple[float, float, float]],
         hz: float = 10.0) -> None:
    """Feed one track along piecewise-linear (t, x, y) keys at ``hz``."""
    k = np.asarray(keys)
    for t in np.arange(k[0, 0], k[-1, 0] + 1e-9, 1.0 / hz):
        xy = np.array([[np.interp(t, k[:, 0], k[:, 1]), np.interp(t, k[:, 0], k[:, 2])]])
        log.observe(Tracks(int(round(t * hz)), float(t), np.array([track]), xy))


def rows(table: dict) -> list[dict]:
    return [dict(zip(COLUMNS, r, strict=True)) for r in zip(*(table[c] for c in COLUMNS),
                                                          strict=True)]


def visit(log: JourneyLog, stops: list[tuple[float, float, float, float]], t_exit: float
          ) -> None:
    """Track 7 (account 4242) enters at t=0 and stands at each (t0, t1, x, y), then exits."""
    log.check_in(0.0, 4242)
    keys = [(0.0, 1.0, 0.5)]
    for t0, t1, x, y in stops:
        keys += [(t0, x, y), (t1, x, y)]
    keys += [(t_exit, 9.0, 0.5)]
    walk(log, 7, keys)


def table(log: JourneyLog, key: bytes = KEY) -> list[dict]:
    return rows(log.table(lambda tr: 4242 if tr == 7 else -1, key))


def test_a_stop_with_nothing_taken_is_a_look_and_a_stop_with_a_pick_its_hesitation() -> None:
    log = JourneyLog(knowledge())
    visit(log, [(5.0, 15.0, 4.3, 3.0), (18.0, 30.0, 4.3, 6.0)], 36.0)
    log.shelf(7, 26.0, 27.0, 2, 2, 1, 0.95)                  # milk taken 8 s after arriving
    log.depart(7, 36.0)
    log.receipt(Receipt(4242, (ProductLine("MILK", 1),), 399, 0.95, False, 37.0))
    r = table(log)
    looks = [x for x in r if x["event"] == "look"]
    assert [(x["sku"], x["zone"]) for x in looks] == [("BAG", "bakery")]
    assert looks[0]["duration_s"] == pytest.approx(10.0, abs=1.0)   # sampled at 2 Hz
    pick = next(x for x in r if x["event"] == "pick")
    assert (pick["sku"], pick["quantity"], pick["zone"]) == ("MILK", 1, "dairy")
    assert pick["duration_s"] == pytest.approx(8.0, abs=1.0)     # from the stop start
    assert pick["confidence"] == pytest.approx(0.95)
    dwell = {x["zone"] for x in r if x["event"] == "dwell"}
    assert {"bakery", "dairy"} <= dwell
    assert [x["event"] for x in r][0] == "enter" and r[-1]["event"] == "exit"
    assert [(x["sku"], x["quantity"]) for x in r if x["event"] == "purchase"] == [("MILK", 1)]
    assert len({x["visit"] for x in r}) == 1


def test_put_back_one_take_another_is_a_substitution_but_not_a_unit_of_the_same() -> None:
    log = JourneyLog(knowledge())
    visit(log, [(5.0, 25.0, 4.3, 3.4)], 32.0)
    log.shelf(7, 8.0, 9.0, 0, 0, 1, 0.9)       # baguette
    log.shelf(7, 10.0, 11.0, 1, 1, 1, 0.9)     # gluten-free baguette
    log.shelf(7, 16.0, 17.0, 0, 0, -1, 0.9)    # the baguette back
    log.shelf(7, 19.0, 20.0, 2, 2, 2, 0.9)     # two milks ...
    log.shelf(7, 22.0, 23.0, 2, 2, -1, 0.9)    # ... one back: no substitution
    subs = [x for x in table(log) if x["event"] == "substitution"]
    assert [(s["other_sku"], s["sku"]) for s in subs] == [("BAG", "GFBAG")]
    assert subs[0]["duration_s"] == pytest.approx(6.0)


def test_substitutions_need_the_window_the_department_and_the_order() -> None:
    far = JourneyLog(knowledge(), JourneyConfig(substitute_window_s=5.0))
    visit(far, [(5.0, 40.0, 4.3, 3.4)], 45.0)
    far.shelf(7, 8.0, 9.0, 0, 0, 1, 0.9)
    far.shelf(7, 10.0, 11.0, 0, 0, -1, 0.9)
    far.shelf(7, 30.0, 31.0, 1, 1, 1, 0.9)     # 20 s later: outside a 5 s window
    assert not [x for x in table(far) if x["event"] == "substitution"]
    other_dept = JourneyLog(knowledge())
    visit(other_dept, [(5.0, 40.0, 4.3, 4.5)], 45.0)
    other_dept.shelf(7, 8.0, 9.0, 0, 0, 1, 0.9)
    other_dept.shelf(7, 10.0, 11.0, 0, 0, -1, 0.9)
    other_dept.shelf(7, 12.0, 13.0, 2, 2, 1, 0.9)   # milk is no substitute for bread
    assert not [x for x in table(other_dept) if x["event"] == "substitution"]
    before = JourneyLog(knowledge())
    visit(before, [(5.0, 40.0, 4.3, 3.4)], 45.0)
    before.shelf(7, 8.0, 9.0, 1, 1, 1, 0.9)          # B taken before A ever was
    before.shelf(7, 10.0, 11.0, 0, 0, 1, 0.9)
    before.shelf(7, 12.0, 13.0, 0, 0, -1, 0.9)
    assert not [x for x in table(before) if x["event"] == "substitution"]


def test_no_raw_account_id_and_keys_do_not_link() -> None:
    log = JourneyLog(knowledge())
    visit(log, [(5.0, 15.0, 4.3, 3.0)], 20.0)
    log.receipt(Receipt(4242, (), 0, 1.0, False, 21.0))
    a, b = log.table(lambda tr: 4242, KEY), log.table(lambda tr: 4242, b"other")
    assert set(a["account"]) == {pseudonym(4242, KEY)}
    assert set(a["account"]).isdisjoint(b["account"])
    assert set(a["visit"]).isdisjoint(b["visit"])
    text = repr(a)
    assert "4242" not in text
    assert all(len(x) == 16 for x in a["account"])
    with pytest.raises(ValueError, match="key"):
        pseudonym(4242, b"")


def test_unbound_tracks_are_left_out_and_departments_are_optional() -> None:
    bare = Catalogue(CAT.sku, CAT.name, CAT.price_cents, CAT.mass_g)     # no departments
    log = JourneyLog(knowledge(bare))
    visit(log, [(5.0, 15.0, 4.3, 3.0)], 20.0)
    r = rows(log.table(lambda tr: -1, KEY))
    assert [x["event"] for x in r] == ["enter"]          # the check-in; nothing of the track
    r = rows(log.table(lambda tr: 4242, KEY))
    look = next(x for x in r if x["event"] == "look")
    assert look["zone"] == "shelf" and look["sku"] == "BAG"
    assert all(math.isfinite(x["t"]) for x in r)


def test_walking_past_is_not_a_stop_or_a_dwell() -> None:
    log = JourneyLog(knowledge())
    log.check_in(0.0, 4242)
    walk(log, 7, [(0.0, 4.3, 0.5), (9.0, 4.3, 9.5)])   # 1 m/s along the shelves, no stop
    log.finish(9.0)
    r = table(log)
    assert not [x for x in r if x["event"] == "look"]
    assert not [x for x in r if x["event"] == "dwell" and x["duration_s"] < 2.0]


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="stop_min_s"):
        JourneyConfig(stop_min_s=0.0)
