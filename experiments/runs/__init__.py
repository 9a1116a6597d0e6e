"""One run of the twin: its config, the one assembly of a twin and its core
(``assembly.build``), the tick loop, the run folder, a core in its own process and the
checks on its answers, and the verbs built on one run: scenario, replay, render, track.

Imports scenes, twin, agents, core and ``experiments.scoring``; nothing else of
experiments.
"""
