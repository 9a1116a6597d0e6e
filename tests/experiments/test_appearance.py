"""The appearance model against the pixels (experiments/bench/appearance.py, issue 22 part 4):
on a seed the fit did not use (seed 0 fitted the defaults), the model's descriptors of a
rendered crowd distribute like the ones measured from the masks."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("pyrender")

from experiments.bench.appearance import (  # noqa: E402
    appearance_pixels,
    fit,
    main,
    persistence,
)
from twin.appearance import D  # noqa: E402


@pytest.fixture(scope="module")
def crowd():
    return appearance_pixels(seconds=60.0, every_s=6.0, seed=2)


@pytest.fixture(scope="module")
def frames():
    return appearance_pixels(seconds=1.5, every_s=1.0 / 15.0, seed=2)[0]


def test_the_model_describes_shoppers_as_their_pixels_do(crowd):
    """docs/sensing.md: on seed 2 (60 s, not fitted), averaged over 16 noise draws, the
    distances agree (corr 0.88), the model tells one shopper in two cameras from two shoppers
    a little worse than the pixels (AUC 0.027 below) and re-identifies a little better
    (nearest neighbour, +0.038; with independent noise of the pixels' RMS it was +0.067).
    Bounds, on the mean of 4 draws (sd of one draw: AUC 0.013, re-ID 0.025): AUC within
    0.04 (these 4 draws: 0.036), re-ID within +-0.06 (over seeds 0-2 the gap runs from -0.038
    to +0.042)."""
    px, cs = crowd
    assert px.tick.size > 100 and px.pixel.shape == (px.tick.size, D)
    assert np.allclose(px.pixel.sum(axis=1), 1.0, atol=1e-6)
    runs = [px.scores(px.model(cs, cs.appearance, np.random.default_rng(7 + d)))
            for d in range(4)]
    s = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    assert s["corr"] >= 0.85
    assert abs(s["auc_model"] - s["auc_pixels"]) <= 0.04
    assert abs(s["reid_model"] - s["reid_pixels"]) <= 0.06, s
    # appearance is a weak cue from ceiling cameras, in the pixels as in the model
    assert 0.5 < s["auc_pixels"] < 0.9
    # the same geometry with each shopper's clothes swapped for another's fails the bounds
    rng = np.random.default_rng(0)
    swapped = tuple(lk[rng.permutation(len(lk))] for lk in px.looks)
    bad = px.scores(px.model(cs, cs.appearance, np.random.default_rng(7), looks=swapped))
    assert bad["corr"] < 0.8 and bad["corr"] < s["corr"] - 0.1


def test_a_tracker_sees_the_pixels_share_of_persistent_error(crowd, frames):
    """Over consecutive frames of one shopper in one camera, the model's error splits into a
    persistent offset and frame-to-frame jitter as the pixels' does (docs/sensing.md: about
    half of the error persists over 2 s in both; the share fresh each frame 0.29-0.36 in the
    pixels, 0.21-0.26 in the model), though it is 2-2.7 times as large (the gain that matches
    re-identification). Without the persistent part, nearly all of it would be fresh."""
    _, cs = crowd
    app = cs.appearance
    clean = frames.model(cs, app)
    pix = persistence(frames, frames.pixel, clean)
    mod = persistence(frames, frames.model(cs, app, np.random.default_rng(3)), clean)
    fresh = persistence(frames, frames.model(cs, replace(app, persistent_share=0.0),
                                             np.random.default_rng(3)), clean)
    assert pix["runs"] >= 20 and mod["runs"] == pix["runs"]
    assert abs(mod["white"] - pix["white"]) <= 0.15
    ratio = (mod["offset"] / mod["jitter"]) / (pix["offset"] / pix["jitter"])
    assert 0.6 <= ratio <= 1.6
    assert fresh["white"] > 0.7 and fresh["offset"] < 0.5 * fresh["jitter"]
    assert 1.0 <= mod["offset"] / pix["offset"] <= 4.0


def test_the_fit_recovers_what_the_defaults_say(crowd, frames):
    """Refitted on this seed, the model lands near the defaults fitted on seed 0."""
    px, cs = crowd
    app = fit(px, cs, frames=frames)
    d = cs.appearance
    assert app.kappa_legs == pytest.approx(d.kappa_legs, abs=0.8)
    assert app.sigma_colour == pytest.approx(d.sigma_colour, abs=0.01)
    assert app.sigma_zone0 + app.sigma_zone_hidden * 0.5 == pytest.approx(
        d.sigma_zone0 + d.sigma_zone_hidden * 0.5, rel=0.5)
    assert app.persistent_share == pytest.approx(d.persistent_share, abs=0.2)


def test_the_module_prints_json(capsys):
    assert main(["--seconds", "1", "--frames", "0.7", "--draws", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] > 10 and -1 <= out["corr"] <= 1
    assert set(out["model"]) >= {"kappa_legs", "sigma_colour", "persistent_share"}
    assert set(out["frames_model"]) >= {"offset", "jitter", "white"}
