"""What the full core keeps besides receipts, for a person to audit: each shelf event billed
to a cart (:class:`Attribution`), each that reached none (:class:`LedgerEntry`), units put
back into a bin the planogram gives another sku (:class:`MisplacedNote`), hand-overs
(:class:`HandOver`), the counts (:class:`CoreStats`), and all of it as JSON
(:func:`ledger_json`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.shelf import ShelfEvent


@dataclass
class CoreStats:
    detections: int = 0
    plate_samples: int = 0
    shelf_events: int = 0
    unattributed_events: int = 0
    receipts: int = 0
    hand_observations: int = 0
    hand_attributions: int = 0
    reach_attributions: int = 0
    blind_attributions: int = 0
    misplaced_units: int = 0
    untracked_accounts: int = 0   # checked in, never tracked: empty receipt sent to review
    hand_overs: int = 0           # hands seen meeting between two accounts' shoppers
    alerts: int = 0               # shoppers bound to no check-in who left with items
    sensor_doubts: int = 0        # receipts doubted for a shopper at a plate in doubt
    carts_left: int = 0           # carts with items no receipt took (at finish: must be 0)


@dataclass(frozen=True)
class Attribution:
    """A shelf event billed to a cart. method: "hand", "reach" or "blind"."""

    event: ShelfEvent
    track: int
    account: int           # -1: the track was not bound to an account (yet)
    sku_index: int
    quantity: int          # +n taken, -n put back
    confidence: float      # of the item guess times of the attribution
    method: str
    misplaced: bool = False  # a put-back of a unit the planogram does not put in that bin
    cameras: tuple[int, ...] = ()  # cameras that saw a hand in the plate's bins meanwhile
    doubt: str = ""        # why the line is unsure (the receipt's review reason), "" if sure

    def to_json(self, sku: str, account: int) -> dict:
        """As the ledger writes it: ``sku`` the catalogue's name of ``sku_index``,
        ``account`` the track's account when the ledger is written (a track bound after
        the event was billed has one by then; -1: never bound)."""
        e = self.event
        return {"plate": e.plate, "t_start": round(e.t_start, 4), "t_end": round(e.t_end, 4),
                "delta_g": round(e.delta_g, 2), "track": self.track, "account": account,
                "sku": sku, "quantity": self.quantity,
                "confidence": round(self.confidence, 6), "method": self.method,
                "misplaced": self.misplaced, "cameras": list(self.cameras),
                "doubt": self.doubt}


@dataclass(frozen=True)
class LedgerEntry:
    """A shelf event that reached no cart, and why."""

    event: ShelfEvent
    reason: str            # "no whole unit" or "nobody in reach"
    sku: str | None        # best item guess, when there was one
    quantity: int

    def to_json(self) -> dict:
        e = self.event
        return {"plate": e.plate, "t_start": round(e.t_start, 4), "t_end": round(e.t_end, 4),
                "delta_g": round(e.delta_g, 2), "sigma_g": round(e.sigma_g, 3),
                "reason": self.reason, "sku": self.sku, "quantity": self.quantity}


@dataclass(frozen=True)
class HandOver:
    """Two shoppers on different accounts seen passing something: their cart keys, and the
    sku moved from ``giver`` to ``receiver`` (-1 giver: the direction was not clear, both
    carts were only flagged)."""

    t: float
    accounts: tuple[int, int]
    giver: int
    receiver: int
    sku_index: int


@dataclass(frozen=True)
class MisplacedNote:
    """A unit put back into a bin the planogram gives another sku."""

    plate: int
    sku: str
    quantity: int
    t: float
    account: int

    def to_json(self) -> dict:
        return {"plate": self.plate, "sku": self.sku, "quantity": self.quantity,
                "t": round(self.t, 4), "account": self.account}


def ledger_json(core: object) -> dict | None:
    """The ledger of a core that keeps one, as JSON (else None): every event billed to a
    cart with its evidence (``billed``: :meth:`Attribution.to_json`), the account each
    track was bound to (``track_accounts``), the events no cart took, misplacement notes
    and hand-overs."""
    ledger = getattr(core, "ledger", None)
    if ledger is None:
        return None
    tracker = getattr(core, "tracker", None)
    bound = getattr(tracker, "account_of", lambda _t: -1)
    k = getattr(core, "k", None)
    sku = k.catalogue.sku if k is not None else None
    return {"billed": [a.to_json(str(sku[a.sku_index]), a.account if a.account >= 0
                                 else bound(a.track))
                       for a in getattr(core, "attributions", [])] if sku is not None else [],
            "track_accounts": {str(t): a for t, a in sorted(
                getattr(tracker, "bindings", dict)().items())},
            "unattributed": [e.to_json() for e in ledger],
            "misplaced": [m.to_json() for m in getattr(core, "misplaced", [])],
            "hand_overs": [{"t": round(h.t, 4), "accounts": list(h.accounts),
                            "giver": h.giver, "receiver": h.receiver,
                            "sku": str(sku[h.sku_index])
                            if h.sku_index >= 0 and sku is not None else None}
                           for h in getattr(core, "hand_overs", [])]}
