"""Items from shelf events, carts and receipts on a hand-built three-sku store."""

from __future__ import annotations

import numpy as np
import pytest

from core.billing import Carts, ItemGuess, infer_items
from core.knowledge import Catalogue, Plates
from core.shelf import ShelfEvent

# Catalogue rows: 0 cola 355 g 199 c, 1 gum 30 g 99 c, 2 flour 2000 g 449 c (sku order
# differs from row order on purpose: receipts sort by sku).
CAT = Catalogue(
    sku=np.array(["B-COLA", "A-GUM", "C-FLOUR"]),
    name=np.array(["cola 355 ml", "gum", "flour 2 kg"]),
    price_cents=np.array([199, 99, 449], dtype=np.int64),
    mass_g=np.array([355.0, 30.0, 2000.0]),
)
# Plates 10, 11, 12 hold rows 2, 0, 1.
PLATES = Plates(
    plate=np.array([10, 11, 12], dtype=np.int32),
    sku_index=np.array([2, 0, 1], dtype=np.int32),
    center=np.zeros((3, 3)),
    access_xy=np.zeros((3, 2)),
)


def event(plate: int, delta_g: float, sigma_g: float = 0.6) -> ShelfEvent:
    return ShelfEvent(plate=plate, t_start=1.0, t_end=2.5, delta_g=delta_g, sigma_g=sigma_g)


@pytest.mark.parametrize(
    ("plate", "delta", "sku_index", "quantity"),
    [
        (11, -355.8, 0, 1),
        (11, -1064.1, 0, 3),
        (11, 709.0, 0, -2),
        (12, -30.4, 1, 1),
        (12, -89.2, 1, 3),
        (10, -2001.0, 2, 1),
        (10, 3998.0, 2, -2),
    ],
)
def test_infer_items_quantity_and_sku(plate, delta, sku_index, quantity) -> None:
    g = infer_items(event(plate, delta), PLATES, CAT)
    assert g == ItemGuess(sku_index=sku_index, quantity=quantity, confidence=g.confidence)
    assert g.confidence > 0.95


def test_infer_items_none_when_it_rounds_to_zero() -> None:
    assert infer_items(event(11, -120.0), PLATES, CAT) is None
    assert infer_items(event(12, 14.0), PLATES, CAT) is None


def test_infer_items_confidence_falls_with_ambiguity_and_misfit() -> None:
    exact = infer_items(event(12, -60.0), PLATES, CAT)
    assert exact.quantity == 2 and exact.confidence > 0.99
    # 44 g off a gum plate measured to +-8 g: one or two packs, hard to say
    ambiguous = infer_items(event(12, -44.0, sigma_g=8.0), PLATES, CAT)
    assert ambiguous.quantity == 1
    assert 0.3 < ambiguous.confidence < 0.8
    # the same 44 g measured to +-0.6 g fits no whole number of packs
    assert infer_items(event(12, -44.0), PLATES, CAT).confidence < 0.01
    # 2,850 g off a flour plate: one bag plus 850 g of something else
    misfit = infer_items(event(10, -2850.0, sigma_g=1.0), PLATES, CAT)
    assert misfit.quantity == 1 and misfit.confidence < 0.01
    # within the 5 % packaging tolerance: a 2,060 g bag is still one bag, confidently
    assert infer_items(event(10, -2060.0), PLATES, CAT).confidence > 0.95


def test_infer_items_bad_input() -> None:
    with pytest.raises(KeyError):
        infer_items(event(99, -355.0), PLATES, CAT)
    with pytest.raises(ValueError, match="mass_tolerance"):
        infer_items(event(11, -355.0), PLATES, CAT, mass_tolerance=-0.1)


def test_receipt_totals_sorting_and_confidence() -> None:
    carts = Carts()
    carts.add(1, ItemGuess(0, 2, 0.99), t=3.0)
    carts.add(1, ItemGuess(1, 3, 1.0), t=4.0, attribution_confidence=0.98)
    carts.add(1, ItemGuess(0, -1, 0.97), t=9.0)
    carts.add(2, ItemGuess(2, 1, 1.0), t=5.0)
    rec = carts.receipt(1, 60.0, CAT)
    assert [(p.sku, p.quantity) for p in rec.products] == [("A-GUM", 3), ("B-COLA", 1)]
    assert rec.total == 3 * 99 + 1 * 199
    assert rec.confidence == pytest.approx(0.99 * 0.98 * 0.97)
    assert not rec.review  # 0.941 >= 0.9
    assert [(p.sku, p.quantity) for p in carts.receipt(2, 60.0, CAT).products] == [("C-FLOUR", 1)]
    assert carts.receipt(2, 60.0, CAT).total == 449


def test_receipt_review_threshold() -> None:
    carts = Carts()
    carts.add(1, ItemGuess(0, 1, 0.95), t=3.0)
    assert not carts.receipt(1, 10.0, CAT).review
    assert carts.receipt(1, 10.0, CAT, review_threshold=0.96).review
    carts.add(1, ItemGuess(1, 1, 0.9), t=4.0)  # 0.855 < 0.9
    rec = carts.receipt(1, 10.0, CAT)
    assert rec.review and rec.confidence == pytest.approx(0.855)
    assert rec.t_issued == 10.0 and rec.account == 1


def test_carts_clamp_at_zero_and_flag_review() -> None:
    carts = Carts()
    carts.add(5, ItemGuess(2, 1, 1.0), t=1.0)
    carts.add(5, ItemGuess(2, -3, 1.0), t=2.0)  # puts back 3, had 1
    carts.add(5, ItemGuess(1, -1, 1.0), t=3.0)  # puts back gum it never took
    assert carts.quantities(5) == {}
    rec = carts.receipt(5, 10.0, CAT)
    assert rec.products == () and rec.total == 0
    assert rec.review
    assert rec.confidence == pytest.approx(0.25)
    carts.add(5, ItemGuess(0, 2, 1.0), t=4.0)
    assert carts.receipt(5, 11.0, CAT).products[0].quantity == 2
    assert carts.receipt(5, 11.0, CAT).review  # still flagged


def test_empty_and_removed_accounts() -> None:
    carts = Carts()
    rec = carts.receipt(42, 1.0, CAT)
    assert (rec.products, rec.total, rec.confidence, rec.review) == ((), 0, 1.0, False)
    carts.add(42, ItemGuess(0, 1, 1.0), t=0.5)
    assert carts.accounts == (42,)
    assert rec.to_json()["total"] == 0
    carts.remove(42)
    assert carts.accounts == () and carts.quantities(42) == {}


def test_bad_confidences_raise() -> None:
    with pytest.raises(ValueError, match="confidence"):
        ItemGuess(0, 1, 1.5)
    with pytest.raises(ValueError, match="attribution_confidence"):
        Carts().add(1, ItemGuess(0, 1, 1.0), t=0.0, attribution_confidence=-0.1)
    with pytest.raises(ValueError, match="unmatched_putback_factor"):
        Carts(unmatched_putback_factor=2.0)


# A shelf segment: plate 20 under three bins holding flour, cola and a look-alike cola.
SEG_CAT = Catalogue(
    sku=np.array(["B-COLA", "A-GUM", "C-FLOUR", "D-COLA-ZERO"]),
    name=np.array(["cola 355 ml", "gum", "flour 2 kg", "cola zero 355 ml"]),
    price_cents=np.array([199, 99, 449, 199], dtype=np.int64),
    mass_g=np.array([355.0, 30.0, 2000.0, 352.0]),
)
SEGMENT = Plates(
    plate=np.array([20, 20, 20, 21], dtype=np.int32),
    sku_index=np.array([2, 0, 1, 3], dtype=np.int32),
    center=np.zeros((4, 3)),
    access_xy=np.zeros((4, 2)),
)


@pytest.mark.parametrize(("delta", "sku_index", "quantity"), [
    (-2000.5, 2, 1), (-710.3, 0, 2), (-60.2, 1, 2), (30.1, 1, -1)])
def test_a_shared_plate_bills_the_sku_whose_weight_explains_the_change(
        delta, sku_index, quantity) -> None:
    g = infer_items(event(20, delta), SEGMENT, SEG_CAT)
    assert (g.sku_index, g.quantity) == (sku_index, quantity)
    assert g.confidence > 0.8


def test_look_alikes_on_one_plate_halve_the_confidence() -> None:
    both = Plates(plate=np.array([30, 30], dtype=np.int32),
                  sku_index=np.array([0, 3], dtype=np.int32),
                  center=np.zeros((2, 3)), access_xy=np.zeros((2, 2)))
    alone = Plates(plate=np.array([30], dtype=np.int32), sku_index=np.array([0], dtype=np.int32),
                   center=np.zeros((1, 3)), access_xy=np.zeros((1, 2)))
    ev = event(30, -353.5, sigma_g=2.0)   # 355 g or 352 g: weight cannot tell
    shared, single = infer_items(ev, both, SEG_CAT), infer_items(ev, alone, SEG_CAT)
    assert shared.quantity == single.quantity == 1
    assert shared.confidence == pytest.approx(single.confidence / 2, rel=0.2)
