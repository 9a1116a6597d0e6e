"""The people of a crowd as records: each shopper's running state, and the ground truth
written about it (its roster entry, the events of its visit).

Ground truth flows only to ``experiments`` (scoring); the core never sees it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from agents.actions import Action
from agents.tastes import ShopperPrefs


@dataclass(frozen=True)
class TruthEvent:
    """One thing a shopper did, as it happened (ground truth)."""
    t: float
    shopper: int
    account: int
    action: str          # agents.actions.TRUTH_ACTIONS
    bin: int
    sku: str
    quantity: int
    other: int = -1      # the other shopper of a hand-over


@dataclass
class ShopperRecord:
    """Ground truth about one shopper (who, of what kind, with which latent preferences)."""
    sid: int
    account: int
    name: str
    visit: str
    speed_mps: float
    radius_m: float
    enter_t: float = float("nan")
    exit_t: float = float("nan")
    preferences: dict[str, float] = field(default_factory=dict)
    # (3, 3) uint8 sRGB of top, bottoms, skin (agents.looks); None for a record made by hand
    looks: np.ndarray | None = None


@dataclass
class ShopperState:
    """One shopper's running state in the crowd: its action queue, the phase it is in and
    until when, its route, and what it holds."""
    sid: int
    account: int
    speed: float
    radius: float
    actions: deque
    state: str = "idle"   # walk | browse | hesitate | reach | place | inspect | wait | hand |
    until: float = 0.0    # yield | settle | gone | after | follow | touch_in | touch
    action: Action | None = None
    bin: int = -1
    path: list[np.ndarray] = field(default_factory=list)
    goal: np.ndarray | None = None
    exiting: bool = False
    held: dict[int, int] = field(default_factory=dict)      # sku row -> units in hand/cart
    took_from: dict[int, int] = field(default_factory=dict)  # sku row -> bin it came from
    since: float = 0.0
    deferred: int = 0     # stops put off because people blocked the way
    beside: bool = False  # this stop's spot was taken and a place beside it tried
    pause_at: np.ndarray | None = None   # a waypoint where one stands aside a moment
    side_steps: list = field(default_factory=list)   # waypoints added to pass people
    handing_to: int = -1  # receiver's id while the hands meet after a hand-over (settle)


WALKING = ("walk", "hand", "follow")   # the states in which a shopper walks


def pref_weights(p: ShopperPrefs) -> dict[str, float]:
    """A shopper's latent tastes as the roster keeps them."""
    return {"gluten_free": float(p.gluten_free), "organic": float(p.organic),
            "vegan": float(p.vegan), "price_per_dollar": float(p.price_per_dollar),
            "brand_weight": float(p.brand_weight)}

