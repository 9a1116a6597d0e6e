"""The physical twin: pybullet world, sensors (cameras, shelf plates, gate), clock, streams.

Imports ``scenes`` (and the record types of ``core.records``, the wall's contract); never
``agents`` or ``experiments``. Nothing happens at import: no physics connection, no GL.
"""
