"""What a shopper does, one action at a time: the vocabulary shared by sampled shoppers
(``agents.behaviour`` turns a shopping list into actions), scripted scenarios
(``agents.scenario`` parses them from TOML) and the crowd that carries them out
(``agents.crowd``).

SKUs are catalogue indices (``store.catalogue`` row numbers); bins are ``store.bins`` row
numbers; ``-1`` means "let the crowd choose" (the nearest bin holding the SKU, or for a
put-back the bin the unit came from). Times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Look:
    """Walk to bin ``bin`` and look over the shelf for ``seconds`` without touching it."""
    bin: int
    seconds: float


@dataclass(frozen=True)
class Pick:
    """Walk to a bin holding ``sku`` (``bin``, or the nearest one when -1), look over the
    shelf for ``browse_s``, hesitate ``hesitate_s`` with the hand near the bin, take ``qty``
    units."""
    sku: int
    qty: int
    bin: int = -1
    browse_s: float = 0.0
    hesitate_s: float = 0.0


@dataclass(frozen=True)
class Inspect:
    """Hold what was just taken and look at it for ``seconds`` (standing where one is)."""
    seconds: float


@dataclass(frozen=True)
class PutBack:
    """Put ``qty`` held units of ``sku`` into bin ``bin``: -1 is the bin they came from (the
    shopper walks back there if it has moved on); a bin holding another SKU is a
    misplacement."""
    sku: int
    qty: int
    bin: int = -1


@dataclass(frozen=True)
class HandTo:
    """Walk up to shopper ``to`` (a crowd shopper id) and hand over ``qty`` held units of
    ``sku``; the units leave this shopper's account and join the receiver's."""
    to: int
    sku: int
    qty: int


@dataclass(frozen=True)
class Wait:
    """Stand still for ``seconds``."""
    seconds: float


@dataclass(frozen=True)
class Conceal:
    """Hide ``qty`` held units of ``sku`` (in a pocket or bag): still owed, but from now on
    out of the cameras' sight (for adversarial tests)."""
    sku: int
    qty: int = 1


@dataclass(frozen=True)
class Exit:
    """Walk to the exit and leave."""


Action = Look | Pick | Inspect | PutBack | HandTo | Wait | Conceal | Exit

# ground-truth action names (``TruthEvent.action``)
TRUTH_ACTIONS = ("enter", "look", "pick", "put_back", "misplace", "hand_out", "hand_in",
                 "conceal", "exit")
