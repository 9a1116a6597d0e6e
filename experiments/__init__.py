"""Experiments: where a run is wired, scored and studied; the CLI, the benchmark suite, the
Gymnasium environments.

May import every other package (scenes, twin, agents, core); none of them imports this one.
Ground truth flows only here (docs/architecture.md).
"""
