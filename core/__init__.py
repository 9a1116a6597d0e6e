"""Tracking and billing core.

Sees only sensor records (:mod:`core.records`) and the store knowledge a real deployment
has (:mod:`core.knowledge`). Imports nothing from ``scenes``, ``twin``, ``agents`` or
``experiments`` (``params``, the leaf validation helper, only); a test enforces it
(docs/architecture.md). Only ``core.backend`` imports
cupy.
"""
