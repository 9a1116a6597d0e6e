"""A study as one HTML page (``storetwin report``), one job per module:

- ``reading``: the results folder as the report reads it (results table, study file, price
  table, store specs), and :class:`ReportError`;
- ``groups``: rows as configurations (every parameter but the seed), their statistics and
  labels;
- ``analysis``: the numbers stated (Pareto frontiers, the cheapest configuration meeting the
  target, growth laws, each store's plan, the stage profile) and the goals held against;
- ``intervals``: the counts behind a rate (receipts exact, flagged, unflagged) and the
  95 % Wilson interval of a proportion;
- ``markup``: the HTML the sections are written in (a rate with its count and interval);
- ``lacking``: what a short study lacks for a section, and the study-file change that
  supplies it;
- ``drawing``: a matplotlib figure, its ``data:`` URI, error bars, labels placed so they do
  not overlap;
- ``figures``: the matplotlib figures and coverage heatmaps, embedded as ``data:`` URIs;
- ``accuracy``, ``tracking``, ``speed``, ``learning``: the page's sections;
- ``page``: the page itself, its header and run table, and :func:`write_report`.
"""

from experiments.studies.report.page import write_report
from experiments.studies.report.reading import ReportError

__all__ = ["ReportError", "write_report"]
