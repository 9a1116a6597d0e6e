"""Stable-Baselines3 really training on the envs (experiments/envs/train_ppo.py), small.

MaskablePPO on SensorPlacement for a few thousand steps (~20 s) must beat a random policy
on seeds it never trained on; the adversary's training runs end to end through the
script's command line (a few rollouts: learning there takes minutes, docs/envs.md)."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from experiments.envs import train_ppo

pytestmark = pytest.mark.skipif(
    (importlib.util.find_spec("stable_baselines3") is None
     or importlib.util.find_spec("sb3_contrib") is None) and os.environ.get("CI") != "true",
    reason="stable-baselines3 / sb3-contrib are not installed (pip install -e '.[rl]')")


def test_maskable_ppo_learns_placement_better_than_random():
    res = train_ppo.train("placement", timesteps=4096, seed=0, eval_episodes=5)
    assert res["algorithm"] == "MaskablePPO" and res["learned_beats_random"]
    learned, rand, greedy = res["learned"], res["random"], res["greedy"]
    assert learned["proxy"] > rand["proxy"] + 0.05
    assert learned["cost_usd"] <= 16_500.0 and greedy["cost_usd"] <= 16_500.0
    # the greedy placer, which sees every candidate's gain, is the bar to reach
    assert greedy["proxy"] >= learned["proxy"] - 0.02


def test_train_script_runs_the_adversary_end_to_end(tmp_path, capsys):
    code = train_ppo.main(["--env", "adversary", "--timesteps", "128", "--eval-episodes", "1",
                           "--json", "--out", str(tmp_path)])
    assert code == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["env"] == "adversary" and res["algorithm"] == "PPO"
    for who in ("learned", "random"):
        assert res[who]["episodes"] == 1 and 0.0 <= res[who]["flagged_rate"] <= 1.0
    assert (tmp_path / "ppo_adversary.zip").stat().st_size > 0
    assert json.loads((tmp_path / "ppo_adversary.json").read_text())["seed"] == 0


@pytest.mark.parametrize("argv", [["--timesteps", "0"], ["--eval-episodes", "0"],
                                  ["--env", "chess"]])
def test_train_script_rejects_bad_flags(argv, capsys):
    with pytest.raises(SystemExit) as e:
        code = train_ppo.main(argv)
        raise SystemExit(code)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
