"""Fixtures shared by the experiments tests."""

from __future__ import annotations

import pytest
from support import SMALL_STUDY

from experiments.studies.execute import StudyOutcome, run_study


@pytest.fixture(scope="session")
def small_study(tmp_path_factory):
    """(study file, results folder, outcome) of :data:`support.SMALL_STUDY`, run once.
    Tests read the folder; one that changes it works on a copy."""
    d = tmp_path_factory.mktemp("small_study")
    f = d / "study.toml"
    f.write_text(SMALL_STUDY)
    out: StudyOutcome = run_study(f, d / "results", workers=2)
    return f, d / "results", out
