"""Shoppers: arrivals, lists, routing, crowd motion and actions on the world.

Acts on the twin's World and EntryGate; never reads sensor streams; writes ground truth.
May import ``params``, ``scenes`` and ``twin``; never ``core`` or ``experiments`` (docs/architecture.md).
"""

from agents.crowd import Crowd, ShopperConfig
from agents.navigation import NavGrid

__all__ = ["Crowd", "NavGrid", "ShopperConfig"]
