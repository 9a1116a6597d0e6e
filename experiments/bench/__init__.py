"""Benchmarks for other teams: the versioned benchmark suite (``suites/*.json``), its cases
as pytest fixtures (the ``storetwin`` pytest plugin), the core timer at supercenter size,
example cores (``examples/``), and ``storetwin compile`` (the numba kernels built before
the first run).

Imports ``experiments.runs`` and the packages below it.
"""
