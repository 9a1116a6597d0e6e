"""How often a pick's hand is seen by no camera (experiments/bench/hands.py)."""

from __future__ import annotations

import json

from experiments.bench.hands import hand_pixels, hand_sight, main


def test_fewer_cameras_leave_more_reaches_unseen_on_the_same_crowd():
    dense = hand_sight(spacing_m=2.5, minutes=2.0, seed=1)
    sparse = hand_sight(spacing_m=6.0, minutes=2.0, seed=1)
    assert dense.reaches == sparse.reaches > 5     # the cameras do not move the crowd
    assert dense.cameras > sparse.cameras
    assert 0 <= dense.unseen <= sparse.unseen <= sparse.reaches
    assert 0 <= dense.unseen_sight <= sparse.unseen_sight <= sparse.reaches
    assert sparse.mean_cameras < dense.mean_cameras


def test_the_module_prints_a_table_or_json(capsys):
    assert main(["--minutes", "2", "--seed", "1", "--spacing", "3", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["spacing_m"] == 3.0 and row["cameras"] == 20 and row["reaches"] > 0
    assert row["unseen_fraction"] == row["unseen"] / row["reaches"]
    assert main(["--minutes", "0.1", "--spacing", "3", "--json"]) == 0   # no reach yet
    (row,) = json.loads(capsys.readouterr().out)
    assert row["reaches"] == 0 and row["unseen_fraction"] is None
    assert main(["--minutes", "2", "--seed", "1", "--spacing", "3"]) == 0
    assert "seen by no camera" in capsys.readouterr().out


def test_a_hand_the_model_finds_hidden_is_hidden_in_the_pixels():
    """The hand model against rendered hands in a crowd (the pixels issue 22's measured hand
    model is fitted to): where the model finds no clear line of sight, the rendered hand
    shows (almost) nothing."""
    import pytest

    pytest.importorskip("pyrender")
    h = hand_pixels(seconds=150.0, seed=2, size=(336, 190))
    t = h.table()
    assert t["pairs"] > 5
    assert t["model_hidden"]["pairs"] > 0
    assert t["model_hidden"]["rendered_under_0.1"] >= 0.95
    assert ((h.rendered >= 0) & (h.rendered <= 1.0 + 1e-9)).all()


def test_the_hand_visible_fraction_follows_the_rendered_hand():
    """CameraSystem.hand_fractions (the hand as a ball at the end of its arm, against the
    bin's stock as rendered, fixtures, bodies and arms) against the rendered hand's visible
    fraction, as issue 22 asks (within 0.05 on >= 95 % of hand-camera pairs), on a seed the
    geometry was not tuned on (docs/sensing.md: 99.2 % of 126 pairs within 0.05 on seed 3,
    97.7 % of 171 on seed 2)."""
    import numpy as np
    import pytest

    pytest.importorskip("pyrender")
    h = hand_pixels(seconds=300.0, seed=3)
    err = np.abs(h.model_fraction - h.rendered)
    assert err.size > 50
    assert np.mean(err <= 0.05) >= 0.95
    assert np.mean(err <= 0.10) >= 0.98
    assert abs(np.mean(h.model_fraction - h.rendered)) < 0.02       # no bias either way
    # the old binary rule: where it sees a hand, the pixels often show little of it
    assert np.mean(h.rendered[h.model_seen] < 0.1) > 0.1
