"""From shelf events to items, carts and receipts.

:func:`infer_items` turns a :class:`~core.shelf.ShelfEvent` into a signed quantity of a
sku the planogram puts on that plate, with a confidence; :class:`Carts` accumulates those
per account (after the event has been attributed to a shopper elsewhere) and issues
:class:`~core.records.Receipt`.

Confidence model of :func:`infer_items`. For a candidate quantity ``n`` (units taken,
signed) the expected change is ``-n * mass`` and its spread is
``s_n**2 = sigma_g**2 + (mass_tolerance * mass)**2 * max(|n|, 1)`` -- the event's
measurement uncertainty plus a per-unit packaging tolerance (5 % of the catalogue mass by
default). With a flat prior over the rounded quantity ``q`` and its neighbours ``q - 1``
and ``q + 1`` (0 included: "nothing happened"), the confidence is the Gaussian posterior
of ``q``, times a goodness-of-fit factor ``exp(-0.5 * max(0, |z| - 3)**2)`` with
``z = (delta_g + q * mass) / s_q``, so a change that fits no whole number of units (another
sku put on the plate, a shopper leaning on the shelf) gets a low confidence even when ``q``
is the best of three bad options.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from core.knowledge import Catalogue, Plates
from core.records import ProductLine, Receipt
from core.shelf import ShelfEvent
from params import config, num


@config(frozen=True)
class ItemGuess:
    """What one shelf event means for the cart.

    sku_index: row of the catalogue.
    quantity: signed units; +n = n units taken from the shelf (into the cart),
        -n = n units put back.
    confidence: [0, 1] how well ``delta_g`` fits ``quantity * mass`` given ``sigma_g``,
        times ``p_sku``.
    p_sku: [0, 1] probability that the sku is the right one among the candidates (1 when
        the plate holds one sku and nothing else was considered).
    """

    sku_index: int
    quantity: int
    confidence: float = num(ge=0, le=1)
    p_sku: float = 1.0


QUANTITY_PRIOR = 0.5   # log-prior per unit when skus on one plate compete (assumption)


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def infer_items(
    event: ShelfEvent,
    plates: Plates,
    catalogue: Catalogue,
    *,
    mass_tolerance: float = 0.05,
    prior: Mapping[int, float] | None = None,
) -> ItemGuess | None:
    """The sku that moved on ``event.plate`` and how many units (module doc).

    A plate under one bin holds one planogram sku; a plate shared by several bins (a shelf
    segment) holds several, and the sku whose whole number of units best explains the change
    wins, its confidence scaled by its share of the candidates' likelihood (look-alikes that
    fit as well halve it). That share is kept as ``ItemGuess.p_sku``: an ambiguity stays a
    probability, not a silent guess.

    event: a settled change of load [g] with its 1-sigma uncertainty [g].
    plates: the store's plates (``plate`` ids and planogram ``sku_index``).
    catalogue: ``mass_g`` [g] per sku.
    mass_tolerance: per-unit packaging tolerance as a fraction of the mass [-], in [0, 1).
    prior: other evidence, catalogue row -> prior weight (> 0, relative): it re-weights the
        planogram skus (e.g. how often a hand was seen in each bin of a shared plate) and
        adds candidates the planogram does not put on the plate (an item from the
        shopper's cart put back into the wrong bin). Planogram skus it does not name weigh 1.
    Returns None when the change rounds to zero units for every candidate. Raises KeyError
    for an unknown plate and ValueError for a non-positive catalogue mass or prior.
    """
    if not 0.0 <= mass_tolerance < 1.0:
        raise ValueError(f"mass_tolerance must be in [0, 1), got {mass_tolerance!r}")
    rows = np.flatnonzero(np.asarray(plates.plate) == event.plate)
    if rows.size == 0:
        raise KeyError(f"plate {event.plate} is not in the store's plates")
    weights = {int(s): 1.0 for s in np.asarray(plates.sku_index)[rows]}
    for sku, w in (prior or {}).items():
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"prior weight of sku index {sku} must be > 0, got {w!r}")
        weights[int(sku)] = float(w)
    guesses = []
    for sku, w in weights.items():
        r = _guess(event, sku, catalogue, mass_tolerance)
        if r is not None:
            guesses.append((r[0], r[1] * w))
    if not guesses:
        return None
    if len(guesses) == 1:
        return guesses[0][0]
    # several candidate skus: the best fit, its confidence shared with the others in
    # proportion to how well each explains the change
    guesses.sort(key=lambda g: -g[1])
    best, w = guesses[0][0], np.array([g[1] for g in guesses])
    share = float(w[0] / w.sum()) if w.sum() > 0 else 1.0 / len(guesses)
    return ItemGuess(best.sku_index, best.quantity, float(best.confidence * share), share)


def _guess(event: ShelfEvent, sku: int, catalogue: Catalogue, mass_tolerance: float
           ) -> tuple[ItemGuess, float] | None:
    """The best whole number of units of ``sku`` for the event, and the likelihood of it."""
    mass = float(catalogue.mass_g[sku])
    if not mass > 0:
        raise ValueError(f"catalogue mass_g of sku index {sku} must be > 0 [g], got {mass!r}")
    q = _round_half_away(-event.delta_g / mass)
    if q == 0:
        return None
    sig2 = float(event.sigma_g) ** 2
    tol2 = (mass_tolerance * mass) ** 2

    def loglik(n: int) -> tuple[float, float]:
        s2 = sig2 + tol2 * max(abs(n), 1)
        z = (event.delta_g + n * mass) / math.sqrt(s2)
        return -0.5 * z * z - 0.5 * math.log(s2), z

    lls = [loglik(n)[0] for n in (q - 1, q, q + 1)]
    top = max(lls)
    post = math.exp(lls[1] - top) / sum(math.exp(v - top) for v in lls)
    z = abs(loglik(q)[1])
    fit = math.exp(-0.5 * max(0.0, z - 3.0) ** 2)
    guess = ItemGuess(sku_index=sku, quantity=q, confidence=float(min(1.0, max(0.0, post * fit))))
    # between skus, a prior for few units at a time (each more unit 0.6 times as likely):
    # 67 packs of gum weigh what one bag of flour weighs, but nobody takes 67 at once
    return guess, math.exp(lls[1] - QUANTITY_PRIOR * abs(q))


@dataclass
class _Cart:
    qty: dict[int, int] = field(default_factory=dict)
    confidence: float = 1.0
    flagged: bool = False
    log: list[tuple[float, int, int, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)     # why it goes to review, in order
    received: dict[int, int] = field(default_factory=dict)  # sku -> units handed in
    doubt: dict[int, str] = field(default_factory=dict)  # sku -> why that line is unsure

    def note(self, reason: str, sku: int | None = None) -> None:
        """Flag the cart for review with ``reason`` (once), against line ``sku`` too."""
        self.flagged = True
        if reason not in self.reasons:
            self.reasons.append(reason)
        if sku is not None:
            self.doubt.setdefault(int(sku), reason)


class Carts:
    """Per-account virtual carts.

    ``add`` accumulates signed quantities per sku; a cart never goes below 0 of a sku: the
    part of a put-back that is not in the cart is ignored, multiplies the cart's
    confidence by ``unmatched_putback_factor`` and flags the receipt for review. The
    receipt's confidence is the product of the confidences of all guesses added for the
    account and of their attribution confidences.

    unmatched_putback_factor: confidence factor for a put-back with no matching unit in
        the cart [-], in [0, 1].
    """

    def __init__(self, unmatched_putback_factor: float = 0.5) -> None:
        if not 0.0 <= unmatched_putback_factor <= 1.0:
            raise ValueError(
                "Carts.unmatched_putback_factor must be in [0, 1], "
                f"got {unmatched_putback_factor!r}"
            )
        self._factor = float(unmatched_putback_factor)
        self._carts: dict[int, _Cart] = {}

    @property
    def accounts(self) -> tuple[int, ...]:
        """Accounts with a cart, in first-seen order."""
        return tuple(self._carts)

    def add(
        self,
        account: int,
        guess: ItemGuess,
        t: float,
        attribution_confidence: float = 1.0,
        doubt: str = "",
    ) -> None:
        """Apply one guess to ``account``'s cart.

        t: event time [s] (kept in the cart's log). attribution_confidence: [0, 1] belief
        that this account made the event. doubt: why that is unsure (non-empty: the line
        carries it and the receipt goes to review with it as a reason).
        """
        if not 0.0 <= attribution_confidence <= 1.0:
            raise ValueError(
                f"attribution_confidence must be in [0, 1], got {attribution_confidence!r}"
            )
        cart = self._carts.setdefault(int(account), _Cart())
        have = cart.qty.get(guess.sku_index, 0)
        new = have + guess.quantity
        cart.confidence *= guess.confidence * attribution_confidence
        if doubt:
            cart.note(doubt, guess.sku_index)
        if new < 0:
            cart.confidence *= self._factor
            cart.note("put-back: more units than the cart holds", guess.sku_index)
            new = 0
        if new:
            cart.qty[guess.sku_index] = new
        else:
            cart.qty.pop(guess.sku_index, None)
        cart.log.append((float(t), guess.sku_index, guess.quantity, guess.confidence))

    def doubt(self, account: int, factor: float, reason: str = "unresolved",
              sku: int | None = None) -> None:
        """Something happened to ``account``'s cart that the sensors could not resolve (a
        hand-over, a possible identity swap): multiply its confidence by ``factor`` in
        [0, 1] and flag it for review with ``reason`` (against line ``sku`` too)."""
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"factor must be in [0, 1], got {factor!r}")
        cart = self._carts.setdefault(int(account), _Cart())
        cart.confidence *= factor
        cart.note(reason, sku)

    def last_taken(self, account: int, own: bool = False, before: float = math.inf
                   ) -> int | None:
        """The sku of the latest unit taken into ``account``'s cart (at ``before`` [s] or
        earlier) that is still in it (None when there is none); ``own``: of the units it
        took from a shelf, not those handed to it (:meth:`hand_over`)."""
        cart = self._carts.get(int(account))
        if cart is None:
            return None
        for t, sku, qty, _c in reversed(cart.log):
            held = cart.qty.get(sku, 0) - (cart.received.get(sku, 0) if own else 0)
            if qty > 0 and held > 0 and t <= before:
                return sku
        return None

    def hand_over(self, giver: int, receiver: int, t: float) -> int | None:
        """A hand-over seen from ``giver`` to ``receiver`` at ``t`` [s]: the giver's latest
        unit it took from a shelf by then (else its latest by then) moves to the receiver;
        returns its sku (None: the giver held nothing known by then)."""
        sku = self.last_taken(giver, own=True, before=t)
        if sku is None:
            sku = self.last_taken(giver, before=t)
        if sku is None:
            return None
        self.add(giver, ItemGuess(sku, -1, 1.0), t)
        g = self._carts[int(giver)]
        if g.received.get(sku, 0) > g.qty.get(sku, 0):
            g.received[sku] = g.qty.get(sku, 0)
        self.add(receiver, ItemGuess(sku, 1, 1.0), t)
        r = self._carts[int(receiver)]
        r.received[sku] = r.received.get(sku, 0) + 1
        return sku

    def quantities(self, account: int) -> dict[int, int]:
        """Copy of the cart: catalogue row -> units (> 0). Empty for an unknown account."""
        cart = self._carts.get(int(account))
        return dict(cart.qty) if cart else {}

    def remove(self, account: int) -> None:
        """Forget an account's cart (after its receipt went out). No-op when unknown."""
        self._carts.pop(int(account), None)

    def receipt(
        self,
        account: int,
        t: float,
        catalogue: Catalogue,
        review_threshold: float = 0.9,
    ) -> Receipt:
        """The receipt for ``account`` issued at ``t`` [s]; the cart is left as it is.

        Products are sorted by sku; total = sum(quantity * price_cents) [cents];
        review = confidence < review_threshold or a put-back did not match the cart.
        """
        cart = self._carts.get(int(account), _Cart())
        lines = sorted(
            (str(catalogue.sku[i]), n, int(catalogue.price_cents[i]))
            for i, n in cart.qty.items()
            if n > 0
        )
        why = {str(catalogue.sku[i]): r for i, r in cart.doubt.items()}
        total = sum(n * price for _, n, price in lines)
        conf = float(min(1.0, max(0.0, cart.confidence)))
        return Receipt(
            account=int(account),
            products=tuple(ProductLine(sku=s, quantity=int(n), doubt=why.get(s, ""))
                           for s, n, _ in lines),
            total=int(total),
            confidence=conf,
            review=bool(conf < review_threshold or cart.flagged),
            t_issued=float(t),
            reasons=tuple(cart.reasons) + (() if cart.flagged or conf >= review_threshold
                                           else (f"confidence {conf:.2f} below "
                                                 f"{review_threshold:g}",)),
        )
