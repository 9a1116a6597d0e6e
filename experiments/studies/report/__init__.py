"""A study as one HTML page (``storetwin report``), one job per module:

- ``reading``: the results folder as the report reads it (results table, study file, price
  table, store specs), and :class:`ReportError`;
- ``groups``: rows as configurations (every parameter but the seed), their statistics and
  labels;
- ``analysis``: the numbers stated (Pareto frontiers, the cheapest configuration meeting the
  target, growth laws, each store's plan, the stage profile) and the goals held against;
- ``markup``: the HTML the sections are written in;
- ``figures``: the matplotlib figures and coverage heatmaps, embedded as ``data:`` URIs;
- ``accuracy``, ``speed``, ``learning``: the page's sections;
- ``page``: the page itself, its header and run table, and :func:`write_report`.
"""

from experiments.studies.report.page import write_report
from experiments.studies.report.reading import ReportError

__all__ = ["ReportError", "write_report"]
