"""Compute sizing: what a real deployment of a store's sensing pipeline needs (video decode,
person detection, pose and hands, appearance embedding, tracking and billing), stage by stage,
from a cited table of per-unit costs (``costs.toml``) and a run's measured load (docs/sizing.md).

Modules: ``table`` (the cost table, read and checked), ``load`` (the workload of a run folder
or a study row: cameras, frames, person crops at peak occupancy, the core's measured time,
stream bytes), ``model`` (devices, bandwidth and storage per hardware choice), ``text``
(what the verb prints), ``measure`` (the table's "measured here" appearance figure).

This room of experiments/ may import ``runs`` and ``scoring``; ``studies`` and ``cli`` import it.
"""
