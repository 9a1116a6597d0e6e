"""Scoring: a core's receipts and tracks against the twin's ground truth (billing, CLEAR
MOT, IDF1, HOTA), the shoppers' tastes recovered from the core's journeys, and what the
hardware costs (the price table).

Imports scenes and core (record types) only; the runs and studies call it.
"""
