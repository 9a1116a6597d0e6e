"""Stores: floor, fixtures, bins, catalogue, planogram and their meshes.

Imports none of the other storetwin packages.
"""

from scenes.catalog import Catalogue, load_catalogue
from scenes.presets import PRESETS, UnknownPresetError, load_preset
from scenes.store import Bins, Fixture, Store

__all__ = [
    "PRESETS",
    "Bins",
    "Catalogue",
    "Fixture",
    "Store",
    "UnknownPresetError",
    "load_catalogue",
    "load_preset",
]
