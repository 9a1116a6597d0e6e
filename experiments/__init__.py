"""Experiments: where the twin and a core are wired together, run, scored and studied.

The rooms, one job each:

- ``experiments.runs``: one run: its config, the one assembly of a twin and its core, the
  tick loop, the run folder, the core in its own process, replay, render, track, compile;
- ``experiments.scoring``: receipts and tracks against ground truth, tastes recovered;
- ``experiments.studies``: capacity-planning studies: the study file, the sweep, the
  executors, the results, and the HTML report (``report/``);
- ``experiments.bench``: the versioned benchmark suite, its pytest plugin, the core timer
  and example cores;
- ``experiments.envs``: the Gymnasium environments and PPO training on them;
- ``experiments.cli``: the ``storetwin`` command line, one module per verb.

May import every other package (params, scenes, twin, agents, core); none of them imports
this one. Ground truth flows only here (docs/architecture.md).
"""
