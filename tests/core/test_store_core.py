"""The full core and the naive baseline on hand-made sensor streams of a 12 x 10 m store.

Each case scripts people (floor paths, visibility, hands in bins) and shelf plates (loads
that step when something is taken or put back, with noise and a hand transient) and feeds
the resulting records, tick by tick, to a core: nothing but the records reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from core.attribution_config import AttributionConfig
from core.knowledge import Cameras, Catalogue, Plates, StoreKnowledge
from core.ledger import ledger_json
from core.naive import NaiveCore
from core.protocol import Core
from core.records import CameraFrame, GateCheckIns, PlateSamples, Receipt, SensorBatch
from core.store_core import StoreCore

HZ, PLATE_HZ = 15.0, 60.0
ENTRANCE, EXIT = (1.0, 0.0, 3.0, 1.5), (9.0, 0.0, 11.0, 1.5)

# Bins: 0 and 1 one above the other in a 0.75 m wide column at x = 5 (face towards -x,
# access point 0.7 m in front); 2 holds cola, 3 (above 2) diet cola, at x = 8.
CAT = Catalogue(sku=np.array(["SOUP", "RICE", "COLA", "DIET"]),
                name=np.array(["soup", "rice", "cola", "diet cola"]),
                price_cents=np.array([250, 400, 199, 199], np.int64),
                mass_g=np.array([500.0, 1000.0, 620.0, 600.0]))
CENTERS = np.array([[5.0, 5.0, 0.7], [5.0, 5.0, 1.1], [8.0, 5.0, 0.7], [8.0, 5.0, 1.1]])
PLATES = Plates(plate=np.arange(4, dtype=np.int32), sku_index=np.arange(4, dtype=np.int32),
                center=CENTERS, access_xy=CENTERS[:, :2] - [0.7, 0.0])
FACE_X = CENTERS[:, 0] - 0.225            # front faces of the bins (0.45 m deep)
LOAD_G = np.array([5000.0, 8000.0, 6200.0, 6000.0])   # what each plate holds at the start


def knowledge() -> StoreKnowledge:
    return StoreKnowledge(
        name="test-store", bounds=np.array([0.0, 0.0, 12.0, 10.0]),
        entrance=np.array(ENTRANCE), exit=np.array(EXIT), catalogue=CAT, plates=PLATES,
        cameras=Cameras(camera=np.arange(2, dtype=np.int32),
                        position=np.array([[4.0, 5.0, 3.0], [8.0, 5.0, 3.0]]),
                        rotation=np.tile(np.diag([1.0, -1.0, -1.0]), (2, 1, 1)),
                        intrinsics=np.tile([600.0, 600.0, 640.0, 360.0], (2, 1)),
                        resolution=np.tile(np.array([1280, 720], np.int32), (2, 1))),
        camera_hz=HZ, plate_hz=PLATE_HZ, plate_noise_g=2.0)


@dataclass
class Person:
    """account; keys: (t, x, y) path; reaches: (t0, t1, bin) a hand in a bin; hidden: (t0,
    t1) unseen by every camera; held_out: (t0, t1, xyz) a hand away from the shelves."""

    account: int
    keys: list[tuple[float, float, float]]
    reaches: list[tuple[float, float, int]] = field(default_factory=list)
    hidden: list[tuple[float, float]] = field(default_factory=list)
    held_out: list[tuple[float, float, tuple[float, float, float]]] = field(
        default_factory=list)   # (t0, t1, hand xyz): a hand held out to someone
    look: tuple[float, ...] | None = None     # an appearance descriptor (none: no column)
    checkin_delay: float = 0.0                 # the gate's message comes this late [s]
    give_to: int = -1      # a held-out hand passes to people[give_to], cameras see who gives
    checkin: bool = True   # False: never scans in at the gate

    def pos(self, t: float) -> np.ndarray | None:
        k = np.asarray(self.keys)
        if not k[0, 0] <= t <= k[-1, 0]:
            return None
        return np.array([np.interp(t, k[:, 0], k[:, 1]), np.interp(t, k[:, 0], k[:, 2])])

    def hand(self, t: float) -> np.ndarray | None:
        p = self.pos(t)
        for t0, t1, xyz in self.held_out:
            if t0 <= t < t1:
                return np.array(xyz)
        for t0, t1, b in self.reaches:
            if p is not None and t0 <= t < t1:
                y = float(np.clip(p[1], CENTERS[b, 1] - 0.325, CENTERS[b, 1] + 0.325))
                return np.array([FACE_X[b], y, CENTERS[b, 2] - 0.09])
        return None


def stream(people: list[Person], changes: list[tuple[float, int, float]], until: float,
           seed: int = 0, plates: Plates = PLATES) -> list[SensorBatch]:
    """Ticks at the camera rate: one frame (two cameras, each sees every visible person and
    hand) and one plate message. changes: (t, plate, grams) load steps, each with a
    0.4 s hand transient before it."""
    rng = np.random.default_rng(seed)
    ids, row = np.unique(plates.plate, return_inverse=True)
    load = np.bincount(row, weights=LOAD_G)
    out, drift = [], np.zeros(ids.size)
    k = int(PLATE_HZ / HZ)
    for i in range(int(until * HZ)):
        t = (i + 1) / HZ
        cam, xy, hc, hx, app, hp = [], [], [], [], [], []
        for p in people:
            q = p.pos(t)
            if q is None or any(a <= t < b for a, b in p.hidden):
                continue
            for c in (0, 1):
                cam.append(c)
                xy.append(q + rng.normal(0, 0.05, 2))
                if p.look is not None:
                    app.append(p.look)
                h = p.hand(t)
                if h is not None:
                    hc.append(c)
                    hx.append(h + rng.normal(0, 0.02, 3))
                    r = people[p.give_to].pos(t) if p.give_to >= 0 else None
                    held = any(a <= t < b for a, b, _ in p.held_out)
                    hp.append(np.r_[q, r] if held and r is not None else np.full(4, np.nan))
        looks = (np.array(app, np.float32).reshape(len(cam), -1) if len(app) == len(cam)
                 and app else None)
        passes = np.array(hp).reshape(-1, 4)
        frame = CameraFrame(i, t, np.array(cam, np.int32), np.array(xy).reshape(-1, 2),
                            np.full(len(cam), 0.9, np.float32), np.array(hc, np.int32),
                            np.array(hx).reshape(-1, 3), looks,
                            passes if np.isfinite(passes).any() else None)
        ts = t - (k - 1 - np.arange(k)) / PLATE_HZ
        g = np.repeat(load[:, None], k, axis=1)
        for tc, plate, grams in changes:
            j = int(np.searchsorted(ids, plate))
            g[j] += np.where(ts >= tc, grams, 0.0)
            g[j] += np.where((ts >= tc - 0.4) & (ts < tc), -150.0, 0.0)  # the hand
        drift += rng.normal(0, 0.05, ids.size)
        g += drift[:, None] + rng.normal(0, 2.0, g.shape)
        gate = tuple(GateCheckIns(np.array([t]), np.array([0], np.int32),
                                  np.array([p.account], np.int64))
                     for p in people
                     if p.checkin and i == round((p.keys[0][0] + p.checkin_delay) * HZ))
        out.append(SensorBatch(t, (frame,), (PlateSamples(ts, ids, g),), gate))
    return out


def feed(core: Core, batches: list[SensorBatch]) -> dict[int, Receipt]:
    core.start(knowledge())
    rs = []
    for b in batches:
        rs += core.step(b)[1]
    rs += core.finish(batches[-1].t)
    return {r.account: r for r in rs}


def lines(r: Receipt) -> dict[str, int]:
    return {p.sku: p.quantity for p in r.products}


def walk_in_out(account: int, t0: float, spot: tuple[float, float], stay: tuple[float, float],
                **kw) -> Person:
    """Enter at t0, walk to ``spot``, stand there from stay[0] to stay[1], leave."""
    x, y = spot
    return Person(account, [(t0, 2.0, 0.8), (t0 + 1.0, 2.0, 2.0), (stay[0], x, y),
                            (stay[1], x, y), (stay[1] + 6.0, 10.0, 1.0),
                            (stay[1] + 6.5, 10.0, 0.2)], **kw)


def test_a_hand_in_the_bin_beats_standing_nearest() -> None:
    """Two people side by side at one bin column; the one a little farther from the bins'
    access point reaches in. Weight-only nearest-person billing charges the other; the hand
    tells the full core who it was."""
    # (they look unlike: shoulder to shoulder, two people dressed alike could be swapped;
    # the other leaves a second after the pick: standing or walking out together with the
    # soup in hand, a hand-over between them could not be ruled out,
    # test_store_core_alerts.py)
    near = walk_in_out(11, 0.0, (4.35, 4.78), (8.0, 16.0), look=(1.0, 0.0, 0.0, 0.0))
    reacher = walk_in_out(22, 3.0, (4.4, 5.3), (9.0, 22.0), reaches=[(14.0, 15.0, 0)],
                          look=(0.0, 0.0, 0.0, 1.0))
    batches = stream([near, reacher], [(15.0, 0, -500.0)], until=33.0)
    full, naive = StoreCore(), NaiveCore()
    got, base = feed(full, batches), feed(naive, batches)
    assert lines(got[22]) == {"SOUP": 1} and lines(got[11]) == {}
    assert not got[22].review and got[22].confidence > 0.9
    assert full.attributions[0].method == "hand"
    assert lines(base[11]) == {"SOUP": 1} and lines(base[22]) == {}   # the baseline errs
    assert base[11].confidence > 0.9                                  # ... and is sure of it


def test_a_pick_no_camera_saw_between_two_people_goes_to_review() -> None:
    """Two people at one bin column, the second 0.67 m farther from its access point
    (by distance alone: 84 % sure of the first), and no camera sees the hand: the nearer is
    charged, and with someone else within reach the receipt goes to a human instead of
    being sure. Alone at the bin, the same pick is billed with confidence."""
    near = walk_in_out(11, 0.0, (4.35, 4.78), (8.0, 22.0))
    other = walk_in_out(22, 3.0, (4.4, 5.9), (9.0, 22.0))
    got = feed(StoreCore(), stream([near, other], [(15.0, 0, -500.0)], until=33.0))
    assert lines(got[11]) == {"SOUP": 1}
    assert got[11].review and got[11].confidence < 0.5
    # the doubt is stated, on the line and on both receipts: the other may owe the soup
    why = "attribution: 2 tracks within reach, no hand seen"
    assert got[11].reasons == (why,) and got[11].products[0].doubt == why
    assert got[22].review and got[22].reasons == (why + "; billed to another shopper",)
    assert got[11].to_json()["reasons"] == [why]
    assert got[11].to_json()["products"] == [{"sku": "SOUP", "quantity": 1, "doubt": why}]
    alone = walk_in_out(11, 0.0, (4.35, 4.78), (8.0, 22.0))
    away = walk_in_out(22, 3.0, (4.4, 8.5), (9.0, 22.0))
    solo = StoreCore()
    got = feed(solo, stream([alone, away], [(15.0, 0, -500.0)], until=33.0))
    assert lines(got[11]) == {"SOUP": 1} and not got[11].review
    assert got[11].reasons == () and got[22].reasons == ()
    assert got[11].to_json()["products"] == [{"sku": "SOUP", "quantity": 1}]
    assert solo.attributions[0].method == "reach"


def test_hands_weigh_look_alikes_on_a_shared_plate() -> None:
    """One plate under two bins of look-alikes (the same mass): weight cannot tell them
    apart; where the hand was can, and the doubt is kept as a probability."""
    shared = Plates(plate=np.array([0, 0, 2, 3], np.int32),
                    sku_index=np.array([0, 1, 2, 3], np.int32), center=CENTERS,
                    access_xy=CENTERS[:, :2] - [0.7, 0.0])
    cat = Catalogue(CAT.sku, CAT.name, CAT.price_cents, np.array([500.0, 500.0, 620.0, 600.0]))
    p = walk_in_out(11, 0.0, (4.4, 5.0), (8.0, 20.0), reaches=[(13.0, 14.0, 1)])
    batches = stream([p], [(14.0, 0, -500.0)], until=30.0, plates=shared)

    class SharedPlate(StoreCore):
        def start(self, k):
            super().start(StoreKnowledge(k.name, k.bounds, k.entrance, k.exit, cat, shared,
                                         k.cameras, k.camera_hz, k.plate_hz, k.plate_noise_g))

    full = SharedPlate()
    got = feed(full, batches)
    assert lines(got[11]) == {"RICE": 1}
    a = full.attributions[0]
    assert 0.5 < a.confidence < 1.0     # the other look-alike keeps some probability


def test_a_cola_put_into_the_diet_bin_leaves_the_cart_and_is_noted() -> None:
    p = walk_in_out(11, 0.0, (7.3, 5.0), (8.0, 24.0),
                    reaches=[(11.0, 12.0, 2), (17.0, 18.0, 3)])
    batches = stream([p], [(12.0, 2, -620.0), (18.0, 3, +620.0)], until=34.0)
    full, naive = StoreCore(), NaiveCore()
    got, base = feed(full, batches), feed(naive, batches)
    assert lines(got[11]) == {} and not got[11].review
    assert [(m.plate, m.sku, m.quantity) for m in full.misplaced] == [(3, "COLA", 1)]
    assert full.attributions[1].misplaced
    assert lines(base[11]) == {"COLA": 1} and base[11].review   # unmatched diet put-back
    doc = ledger_json(full)
    assert doc["misplaced"][0]["sku"] == "COLA" and doc["unattributed"] == []


def test_a_pick_nobody_could_have_made_goes_to_the_ledger() -> None:
    p = walk_in_out(11, 0.0, (4.4, 8.0), (8.0, 18.0))        # far from every bin
    batches = stream([p], [(12.0, 1, -1000.0), (14.0, 0, -137.0)], until=30.0)
    full = StoreCore()
    got = feed(full, batches)
    assert lines(got[11]) == {}
    reasons = sorted(e.reason for e in full.ledger)
    assert reasons == ["no whole unit", "nobody in reach"]
    # every shelf event ends in a cart or in the ledger
    assert full.stats.shelf_events == len(full.attributions) + len(full.ledger) == 2


def test_a_pick_in_a_blind_spot_is_billed_for_review_not_lost() -> None:
    """The cameras over the shelf see nothing while the shopper is there: the full core
    bills the likeliest shopper and flags the receipt; the naive one bills nothing and is
    sure of it."""
    p = walk_in_out(11, 0.0, (4.4, 5.0), (8.0, 20.0), hidden=[(7.0, 21.0)])
    batches = stream([p], [(14.0, 0, -500.0)], until=32.0)
    full, naive = StoreCore(), NaiveCore()
    got, base = feed(full, batches), feed(naive, batches)
    assert lines(got[11]) == {"SOUP": 1} and got[11].review
    assert full.attributions[0].method == "blind"
    assert lines(base[11]) == {} and not base[11].review
    assert [e.reason for e in naive.ledger] == ["nobody in reach"]


def test_core_is_deterministic_and_reads_only_records() -> None:
    p = walk_in_out(11, 0.0, (4.4, 5.0), (8.0, 20.0), reaches=[(13.0, 14.0, 0)])
    batches = stream([p], [(14.0, 0, -500.0)], until=30.0)
    a, b = feed(StoreCore(), batches), feed(StoreCore(), batches)
    assert a == b


@pytest.mark.parametrize("bad", [{"hand_sigma_m": 0.0}, {"hand_max_obs": 0},
                                 {"blind_confidence": 1.5}, {"not_in_cart_prior": -1.0}])
def test_attribution_config_is_checked(bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        AttributionConfig(**bad)


def test_full_core_bills_the_same_on_each_backend(xp) -> None:
    p = walk_in_out(11, 0.0, (4.35, 4.78), (8.0, 22.0))
    q = walk_in_out(22, 0.5, (4.4, 5.3), (9.0, 22.0), reaches=[(14.0, 15.0, 0)])
    batches = stream([p, q], [(15.0, 0, -500.0)], until=33.0)
    ref, got = feed(StoreCore(xp="numpy"), batches), feed(StoreCore(xp=xp), batches)
    assert got == ref and lines(got[22]) == {"SOUP": 1}


def test_a_shopper_no_camera_ever_sees_gets_a_receipt_for_review() -> None:
    """Checked in at the gate, then never detected (the entrance cameras are down): the
    account still gets a receipt, empty and flagged, instead of none at all."""
    seen = walk_in_out(11, 0.0, (4.4, 5.0), (8.0, 12.0))
    ghost = walk_in_out(22, 3.0, (4.4, 8.0), (9.0, 12.0), hidden=[(0.0, 99.0)])
    batches = stream([seen, ghost], [], until=25.0)
    core = StoreCore()
    got = feed(core, batches)
    assert got[22].review and got[22].products == () and got[22].confidence == 0.0
    assert not got[11].review
    assert core.stats.untracked_accounts == 1


def test_a_reach_from_beside_the_bin_is_told_from_the_one_in_front_of_it() -> None:
    """One shopper stands right in front of the bin's middle, the other beside the bin and
    reaches in at its near edge. Floor distance to the hand favours the one in front; with
    the bins' sizes the core knows a hand at the edge comes from beside."""
    sized = Plates(plate=PLATES.plate, sku_index=PLATES.sku_index, center=CENTERS,
                   access_xy=PLATES.access_xy, size=np.tile([0.45, 0.75, 0.34], (4, 1)))
    front = walk_in_out(11, 0.0, (4.3, 5.0), (8.0, 22.0))
    beside = walk_in_out(22, 0.5, (4.35, 5.85), (9.0, 22.0), reaches=[(14.0, 15.0, 0)])
    batches = stream([front, beside], [(15.0, 0, -500.0)], until=33.0, plates=sized)

    class Sized(StoreCore):
        def start(self, k):
            super().start(StoreKnowledge(k.name, k.bounds, k.entrance, k.exit, k.catalogue,
                                         sized, k.cameras, k.camera_hz, k.plate_hz,
                                         k.plate_noise_g))

    got, floor_only = feed(Sized(), batches), feed(StoreCore(), batches)
    assert lines(got[22]) == {"SOUP": 1} and lines(got[11]) == {}
    assert lines(floor_only[11]) == {"SOUP": 1}          # what the floor distance alone says


def test_a_hand_over_moves_the_item_and_sends_both_receipts_to_review() -> None:
    """A takes a soup, walks off and holds it out to B, who stands a metre away: the hand
    seen between them, away from every bin, moves A's latest unit to B; neither receipt
    goes out unreviewed. Standing that close with no hand held out changes nothing."""
    giver = Person(11, [(0.0, 2.0, 0.8), (1.0, 2.0, 2.0), (8.0, 4.4, 5.0), (16.0, 4.4, 5.0),
                        (19.0, 6.0, 7.0), (24.0, 6.0, 7.0), (30.0, 10.0, 1.0),
                        (30.5, 10.0, 0.2)],
                   reaches=[(11.0, 12.0, 0)], held_out=[(21.0, 21.5, (6.5, 7.0, 1.05))])
    taker = Person(22, [(3.0, 2.0, 0.8), (4.0, 2.0, 2.0), (9.0, 7.0, 7.0), (27.0, 7.0, 7.0),
                        (32.0, 10.0, 1.0), (32.5, 10.0, 0.2)])
    batches = stream([giver, taker], [(12.0, 0, -500.0)], until=40.0)
    core = StoreCore()
    got = feed(core, batches)
    assert lines(got[11]) == {} and lines(got[22]) == {"SOUP": 1}
    assert got[11].review and got[22].review
    assert [(h.giver, h.receiver, h.sku_index) for h in core.hand_overs] == [(11, 22, 0)]
    quiet = Person(11, giver.keys, reaches=giver.reaches)
    calm = StoreCore()
    got = feed(calm, stream([quiet, taker], [(12.0, 0, -500.0)], until=40.0))
    assert lines(got[11]) == {"SOUP": 1} and not got[11].review and not got[22].review
    assert calm.stats.hand_overs == 0


def _follower_case(lag_s: float | None, looks: tuple | None = None) -> dict[int, Receipt]:
    """A (11) walks through the store at ~0.8 m/s with B (22, another account) in its steps
    ``lag_s`` behind (~0.4 m at 0.5 s; None: B enters 12 s later and walks alone), then A
    reaches into bin 0 (seen) while B waits a few metres off."""
    route = [(0.0, 2.0, 0.8), (1.0, 2.0, 2.0), (6.0, 3.0, 6.0), (11.0, 3.0, 2.5)]
    a = Person(11, [*route, (14.0, 4.35, 5.0), (20.0, 4.35, 5.0), (26.0, 10.0, 1.0),
                    (26.5, 10.0, 0.2)], reaches=[(16.0, 17.0, 0)],
               look=None if looks is None else looks[0])
    lag = 12.0 if lag_s is None else lag_s
    b = Person(22, [(t + lag, x, y) for t, x, y in route]
               + [(lag + 15.0, 2.0, 8.0), (lag + 22.0, 2.0, 8.0), (lag + 28.0, 10.0, 1.0),
                  (lag + 28.5, 10.0, 0.2)],
               look=None if looks is None else looks[1])
    return feed(StoreCore(), stream([a, b], [(17.0, 0, -500.0)], until=lag + 40.0))


def test_a_shopper_walking_in_anothers_steps_puts_later_picks_in_doubt() -> None:
    """B walks in A's steps (0.5 s, ~0.4 m behind) for 11 s: their tracks could have
    swapped identities, so a pick afterwards (hand seen) goes to review on both receipts,
    with the reason; dressed alike, too. B walking the same way alone, or the two looking
    clearly unlike (the tracker tells them apart by appearance), the same pick is billed
    with confidence."""
    got = _follower_case(0.5)
    # (here the tracks do swap: the soup lands on either receipt) never sure, always said;
    # entering 0.5 s apart, which account is whom at the gate is a guess as well
    assert sorted([lines(got[11]), lines(got[22])], key=len) == [{}, {"SOUP": 1}]
    for r in got.values():
        assert r.review
        ident = [x for x in r.reasons if x.startswith("identity: within 0.6 m of another")]
        assert ident and any(x.startswith("check-in: 2 check-ins") for x in r.reasons)
    owner = got[11] if got[11].products else got[22]
    assert owner.products[0].doubt.startswith("identity:")
    apart = _follower_case(None)
    assert lines(apart[11]) == {"SOUP": 1} and not apart[11].review and not apart[22].review
    unlike = _follower_case(0.5, looks=((1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)))
    assert lines(unlike[11]) == {"SOUP": 1}
    assert not any(x.startswith("identity:") for r in unlike.values() for x in r.reasons)
    alike = _follower_case(0.5, looks=((0.5, 0.5, 0.0, 0.0), (0.5, 0.5, 0.0, 0.0)))
    assert all(any(x.startswith("identity:") for x in r.reasons) for r in alike.values())


def test_check_ins_that_could_be_swapped_send_both_receipts_to_review() -> None:
    """A enters, B 1 s behind her; A's gate message arrives 1.5 s late, after B's: bound
    by order, the accounts swap, so both receipts go to review saying why. Entering 6 s
    apart with their messages on time, nothing is in doubt."""
    def case(gap_s: float, delay_s: float) -> dict[int, Receipt]:
        a = walk_in_out(11, 0.0, (4.35, 5.0), (9.0, 20.0), reaches=[(14.0, 15.0, 0)],
                        checkin_delay=delay_s)
        b = walk_in_out(22, gap_s, (7.3, 5.0), (12.0, 22.0))
        return feed(StoreCore(), stream([a, b], [(15.0, 0, -500.0)], until=36.0))

    got = case(1.0, 1.5)
    why = "check-in: 2 check-ins and new tracks at the gate as near in time"
    assert all(r.review and any(x.startswith(why) for x in r.reasons) for r in got.values())
    calm = case(6.0, 0.0)
    assert lines(calm[11]) == {"SOUP": 1}
    assert not calm[11].review and not calm[22].review



def test_two_shoppers_unseen_together_go_to_review() -> None:
    """A (with a soup) and B stand a metre apart where no camera sees them for 4 s: an item
    could have changed hands unseen, so both receipts go to review, saying so. Unseen at
    different times, nothing is in doubt."""
    def case(b_hidden: tuple[float, float]) -> dict[int, Receipt]:
        a = walk_in_out(11, 0.0, (4.35, 5.0), (9.0, 24.0), reaches=[(12.0, 13.0, 0)],
                        hidden=[(17.0, 21.0)], look=(1.0, 0.0, 0.0, 0.0))
        b = walk_in_out(22, 4.0, (4.4, 6.0), (10.0, 26.0), hidden=[b_hidden],
                        look=(0.0, 0.0, 0.0, 1.0))
        return feed(StoreCore(), stream([a, b], [(13.0, 0, -500.0)], until=40.0))

    got = case((17.0, 21.0))
    why = "hand-over possible: unseen together with another account's shopper"
    assert lines(got[11]) == {"SOUP": 1}
    assert all(r.review and any(x.startswith(why) for x in r.reasons) for r in got.values())
    apart = case((23.0, 25.0))
    assert lines(apart[11]) == {"SOUP": 1}
    assert not any(x.startswith("hand-over") for r in apart.values() for x in r.reasons)


def test_a_swap_a_camera_sees_is_billed_right() -> None:
    """A takes a soup and B a rice; A hands the soup to B, then B the rice to A. Where the
    cameras see who gave (CameraFrame.hand_pass), each unit moves to the one who walked out
    with it and nothing is in doubt; seen only as hands between them, both receipts go to
    review, saying the hand-over was seen but not what passed."""
    def case(seen: bool) -> dict[int, Receipt]:
        a = Person(11, [(0.0, 2.0, 0.8), (1.0, 2.0, 2.0), (8.0, 4.35, 5.0), (13.0, 4.35, 5.0),
                        (16.0, 6.0, 7.0), (30.0, 6.0, 7.0), (36.0, 10.0, 1.0),
                        (36.5, 10.0, 0.2)], reaches=[(10.0, 11.0, 0)],
                   held_out=[(20.0, 20.5, (6.5, 7.0, 1.05))], give_to=1 if seen else -1,
                   look=(1.0, 0.0, 0.0, 0.0))
        b = Person(22, [(5.0, 2.0, 0.8), (6.0, 2.0, 2.0), (12.0, 4.35, 5.3), (15.0, 4.35, 5.3),
                        (18.0, 7.0, 7.0), (30.0, 7.0, 7.0), (38.0, 10.0, 1.0),
                        (38.5, 10.0, 0.2)], reaches=[(13.5, 14.5, 1)],
                   held_out=[(25.0, 25.5, (6.5, 7.0, 1.05))], give_to=0 if seen else -1,
                   look=(0.0, 0.0, 0.0, 1.0))
        return feed(StoreCore(), stream([a, b], [(11.0, 0, -500.0), (14.5, 1, -1000.0)],
                                        until=48.0))

    got = case(seen=True)
    assert lines(got[11]) == {"RICE": 1} and lines(got[22]) == {"SOUP": 1}
    assert not got[11].review and not got[22].review
    blind = case(seen=False)
    why = "hand-over: seen between two accounts; what passed is unknown"
    assert all(r.review and why in r.reasons for r in blind.values())

