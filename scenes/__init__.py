"""Stores: floor, walls, gates, fixtures, bins, catalogue, planogram, their specs and meshes.

Imports none of the other storetwin packages but ``params`` (the one validation helper, a
leaf; docs/architecture.md).
"""

from scenes.catalog import Catalogue, load_catalogue
from scenes.presets import PRESETS, UnknownPresetError, load_preset, load_store
from scenes.spec import SpecError, load_spec, parse_spec
from scenes.store import Bins, Fixture, Gate, Store, Wall

__all__ = [
    "PRESETS",
    "Bins",
    "Catalogue",
    "Fixture",
    "Gate",
    "SpecError",
    "Store",
    "UnknownPresetError",
    "Wall",
    "load_catalogue",
    "load_preset",
    "load_spec",
    "load_store",
    "parse_spec",
]
