"""Experiments: scoring against ground truth, sweeps, results and reports."""
