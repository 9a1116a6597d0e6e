"""Shoppers: arrivals, lists, routing, crowd motion and actions on the world.

Acts on the twin's World and EntryGate; never reads sensor streams; writes ground truth.
"""

from agents.crowd import Crowd, ShopperConfig
from agents.navigation import NavGrid

__all__ = ["Crowd", "NavGrid", "ShopperConfig"]
