"""Gymnasium environments of storetwin, registered on import.

``import experiments.envs`` (or ``gymnasium.make("experiments.envs:storetwin/...")``, which
imports it) registers

- ``storetwin/SensorPlacement-v0`` (:class:`experiments.envs.placement.SensorPlacementEnv`):
  place cameras (and plates) one per step under a budget;
- ``storetwin/Adversary-v0`` (:class:`experiments.envs.adversary.AdversaryEnv`): one
  controllable shopper among a background crowd tries to leave with unbilled items.

Constructor arguments pass through ``gymnasium.make(id, **kwargs)``; docs/envs.md has both.
"""

from __future__ import annotations

import gymnasium as gym

PLACEMENT_ID = "storetwin/SensorPlacement-v0"
ADVERSARY_ID = "storetwin/Adversary-v0"


def register_envs() -> None:
    """Register both environments with gymnasium (idempotent)."""
    if PLACEMENT_ID not in gym.registry:
        gym.register(PLACEMENT_ID, entry_point="experiments.envs.placement:SensorPlacementEnv")
    if ADVERSARY_ID not in gym.registry:
        gym.register(ADVERSARY_ID, entry_point="experiments.envs.adversary:AdversaryEnv")


register_envs()
