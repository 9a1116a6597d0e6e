"""Capacity-planning studies: the study file (``*.toml`` here are the shipped studies), its
expansion into runs, preparing stores and layouts, the executors (local processes or Ray),
the results table, the hardware price table, and the study's HTML page (``report/``).

Imports ``experiments.runs`` and ``experiments.scoring``, scenes, twin and core.
"""
