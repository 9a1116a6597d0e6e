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


@dataclass(frozen=True)
class WaitUntil:
    """Stand still until simulated time ``t_s`` [s] (at once when it has passed)."""
    t_s: float


@dataclass(frozen=True)
class After:
    """Stand still until ``offset_s`` [s] after shopper ``shopper`` (a crowd id) finished its
    ``n``-th (1-based) scripted action of kind ``kind`` (a scenario ``do`` name, or
    ``"enter"``: passed the gate). A scripted timing gate, placed just before the action it
    holds back; not an action of its own (it is not counted as one)."""
    shopper: int
    kind: str
    n: int = 1
    offset_s: float = 0.0


@dataclass(frozen=True)
class Follow:
    """Walk behind shopper ``to`` (a crowd id), ``distance_m`` [m] from it, for ``seconds``
    (standing while it is not in the store yet; over when it has left)."""
    to: int
    distance_m: float
    seconds: float


@dataclass(frozen=True)
class Reach:
    """Walk to bin ``bin`` and hold a hand in it for ``seconds``, taking nothing (a touch:
    the hand is seen as for a pick, the shelf's weight does not change)."""
    bin: int
    seconds: float


@dataclass(frozen=True)
class Stand:
    """Walk to the floor point (``x``, ``y``) [m] and stand there ``seconds``."""
    x: float
    y: float
    seconds: float


Action = (Look | Pick | Inspect | PutBack | HandTo | Wait | Conceal | Exit | WaitUntil
          | After | Follow | Reach | Stand)

# a scenario's ``do`` name of each action (the kinds an ``After`` counts); After is none
ACTION_KIND: dict[type, str] = {
    Pick: "pick", PutBack: "put_back", HandTo: "hand_to", Conceal: "conceal", Wait: "wait",
    Look: "look", Inspect: "inspect", Exit: "exit", WaitUntil: "wait_until",
    Follow: "follow", Reach: "reach", Stand: "stand",
}

# ground-truth action names (``TruthEvent.action``)
TRUTH_ACTIONS = ("enter", "look", "pick", "put_back", "misplace", "hand_out", "hand_in",
                 "conceal", "exit")
