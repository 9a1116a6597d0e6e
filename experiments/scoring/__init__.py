"""Scoring: a core's receipts and tracks against the twin's ground truth, the shoppers'
tastes recovered from the core's journeys, and what the hardware costs (the price table).

One job per module: ``billing`` (receipts: AutoCheckout F1, exact match, money error,
review rate), ``tracking`` (CLEAR MOT and the ID measures, as py-motmetrics), ``hota``
(HOTA, DetA, AssA, LocA), ``common`` (what their score tables share), ``insights`` (tastes
recovered) and ``prices`` (the price table).

Imports scenes and core (record types) only; the runs and studies call it.
"""
