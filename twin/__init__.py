"""The physical twin: pybullet world, sensors (cameras, shelf plates, gate), clock, streams.

May import ``params`` and ``scenes`` and, of ``core``, only ``core.records`` and
``core.knowledge``: the sensor vocabulary the twin produces and the core consumes
(docs/architecture.md); never ``agents`` or ``experiments``. Within it, imports go one way
(``placement`` -> ``coverage`` -> ``layout``). Nothing happens at import: no physics
connection, no GL.
"""
