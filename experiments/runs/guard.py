"""What a core returns, checked: a core that breaks the protocol fails its run clearly.

:func:`check_step` and :func:`check_receipts` raise :class:`CoreFault` naming the tick's
time and what was wrong (a wrong type, arrays of mismatched length, a SKU the catalogue
does not hold, a quantity below 1, a confidence outside [0, 1], ...). The run (see
``experiments.runs.run``) then stops and is reported as failed, with that message.
"""

from __future__ import annotations

import math

import numpy as np

from core.records import ProductLine, Receipt, Tracks


class CoreFault(RuntimeError):
    """A core raised, hung past its deadline or returned something malformed."""

    def __init__(self, t: float | None, what: str) -> None:
        self.t = t
        self.what = what
        where = "while starting" if t is None else f"at t={t:.4f} s"
        super().__init__(f"core failed {where}: {what}")


def check_accounted(stats, t: float) -> None:
    """The invariant every run checks at its end: every shelf event the core detected
    ended in a cart or in the unattributed ledger, and every cart with something in it was
    billed (a receipt, or an alert). A core that keeps no such counts is not checked."""
    need = ("shelf_events", "hand_attributions", "reach_attributions", "blind_attributions",
            "unattributed_events")
    if stats is None or not all(isinstance(getattr(stats, k, None), int) for k in need):
        return
    placed = sum(getattr(stats, k) for k in need[1:])
    if placed != stats.shelf_events:
        raise CoreFault(t, f"invariant broken: {stats.shelf_events} shelf events, but "
                           f"{placed} ended in a cart or in the ledger")
    left = getattr(stats, "carts_left", 0)
    if left:
        raise CoreFault(t, f"invariant broken: {left} cart(s) with items were never billed")


def check_step(out, t: float, skus: set[str]) -> tuple[list[Tracks], list[Receipt]]:
    """``out`` of ``core.step`` at tick ``t`` [s], as (tracks, receipts) lists."""
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise CoreFault(t, f"step returned {type(out).__name__}, expected (tracks, receipts)")
    tracks, receipts = out
    if not isinstance(tracks, list | tuple):
        raise CoreFault(t, f"tracks is {type(tracks).__name__}, expected a list of Tracks")
    for tr in tracks:
        if not isinstance(tr, Tracks):
            raise CoreFault(t, f"tracks holds a {type(tr).__name__}, expected Tracks")
        ids, xy = np.asarray(tr.track_id), np.asarray(tr.xy)
        if ids.ndim != 1 or xy.shape != (ids.shape[0], 2):
            raise CoreFault(t, f"Tracks of frame {tr.frame}: track_id {ids.shape} and xy "
                               f"{xy.shape} do not match (expected (n,) and (n, 2))")
        if not np.isfinite(xy).all():
            raise CoreFault(t, f"Tracks of frame {tr.frame}: xy holds NaN or inf")
    return list(tracks), check_receipts(receipts, t, skus)


def check_receipts(receipts, t: float, skus: set[str]) -> list[Receipt]:
    if not isinstance(receipts, list | tuple):
        raise CoreFault(t, f"receipts is {type(receipts).__name__}, expected a list")
    for r in receipts:
        if not isinstance(r, Receipt):
            raise CoreFault(t, f"receipts holds a {type(r).__name__}, expected Receipt")
        if not isinstance(r.account, int | np.integer):
            raise CoreFault(t, f"receipt account {r.account!r} is not an integer")
        for p in r.products:
            if not isinstance(p, ProductLine):
                raise CoreFault(t, f"receipt of account {r.account}: a product line is a "
                                   f"{type(p).__name__}, expected ProductLine")
            if p.sku not in skus:
                raise CoreFault(t, f"receipt of account {r.account}: sku {p.sku!r} is not "
                                   "in the catalogue")
            if not isinstance(p.quantity, int | np.integer) or p.quantity < 1:
                raise CoreFault(t, f"receipt of account {r.account}: quantity {p.quantity!r} "
                                   f"of {p.sku} is not an integer >= 1")
        c = r.confidence
        if not (isinstance(c, float | int | np.floating) and math.isfinite(c) and 0 <= c <= 1):
            raise CoreFault(t, f"receipt of account {r.account}: confidence {c!r} is not in "
                               "[0, 1]")
    return list(receipts)
