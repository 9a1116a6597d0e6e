"""Train PPO (Stable-Baselines3) on storetwin's environments and compare it with a random
policy (and, for sensor placement, with the greedy placer of ``storetwin layout``).

    pip install -e '.[rl]'          # CPU torch, Stable-Baselines3 and sb3-contrib
    OMP_NUM_THREADS=1 python -m experiments.envs.train_ppo --env placement
    OMP_NUM_THREADS=1 python -m experiments.envs.train_ppo --env adversary

Evaluation: ``--eval-episodes`` episodes on seeds 10_000, 10_001, ... (never seen in
training), the learned policy deterministic (its most likely action), the random one
uniform over the valid actions (the placement env's ``action_mask``; every action for the
adversary). Prints a table (or ``--json``) of mean return per policy, and for placement the
coverage and cost of the final layouts; ``--out DIR`` also saves the model and the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

EVAL_SEED0 = 10_000
PLACEMENT_KW: dict = {}                      # the env's defaults: kiosk, $16,500 budget
ADVERSARY_KW = dict(crowd=6.0, warmup_s=20.0, max_s=120.0)   # a short visit, a light crowd


def _make(name: str, **extra):
    import gymnasium as gym

    import experiments.envs as envs

    if name == "placement":
        return gym.make(envs.PLACEMENT_ID, **{**PLACEMENT_KW, **extra})
    return gym.make(envs.ADVERSARY_ID, **{**ADVERSARY_KW, **extra})


def _episode(env, policy, seed: int) -> tuple[float, dict]:
    obs, info = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, r, term, trunc, info = env.step(policy(obs, info))
        total += r
        done = term or trunc
    return total, info


def _random_policy(env, seed: int):
    rng = np.random.default_rng(seed)
    n = env.action_space.n

    def act(obs, info):
        mask = info.get("action_mask")
        if mask is None:
            return int(rng.integers(n))
        return int(rng.choice(np.flatnonzero(mask)))
    return act


def _model_policy(model, masked: bool):
    def act(obs, info):
        if masked:
            a, _ = model.predict(obs, deterministic=True, action_masks=info["action_mask"])
        else:
            a, _ = model.predict(obs, deterministic=True)
        return int(a)
    return act


def _summary(env_name: str, rows: list[tuple[float, dict]]) -> dict:
    ret = np.array([r for r, _ in rows])
    out = {"mean_return": round(float(ret.mean()), 4), "std_return": round(float(ret.std()), 4),
           "episodes": len(rows)}
    infos = [i for _, i in rows]
    if env_name == "placement":
        for k in ("proxy", "floor_k1", "floor_k", "bins_usable", "cost_usd", "cameras"):
            out[k] = round(float(np.mean([i[k] for i in infos])), 4)
    else:
        outs = [i.get("outcome", {}) for i in infos]
        out["unbilled_usd"] = round(float(np.mean([o.get("unbilled_usd", 0.0) for o in outs])),
                                    2)
        out["flagged_rate"] = round(float(np.mean([o.get("flagged", False) for o in outs])), 3)
        out["units_taken"] = round(float(np.mean([sum(o.get("owed", {}).values())
                                                  for o in outs])), 2)
    return out


def _greedy_bin_weight(u) -> float:
    """greedy_layout's objective is sum(min(count, k)) + w * bins seen; the env's proxy is
    (1 - b) / (k n_cells) * sum(min(count, k)) + b / n_bins * bins: the same ranking when
    w = b / n_bins * k * n_cells / (1 - b)."""
    if u.bin_weight >= 1.0:
        return 1e9
    return u.bin_weight / max(u.c.faces.shape[1], 1) * u.k * u.c.floor.shape[1] / (
        1.0 - u.bin_weight)


def greedy_placement(env) -> dict:
    """The greedy placer (:func:`twin.placement.greedy_layout`) on the env's candidates and
    budget, its cameras then placed through the env in greedy order: the same scores."""
    from scenes.presets import load_store
    from twin.placement import greedy_layout

    u = env.unwrapped
    store = load_store(u.store_ref)
    # the env prices a camera at list price + installation; greedy at list price: scale
    list_share = float(np.sum(u.c.layout.cost_usd) / np.sum(u.c.cam_cost))
    g = greedy_layout(store, target=1.0, k=u.k, candidates=u.c.layout,
                      budget_usd=u.budget_usd * list_share, cell=u.c.cell,
                      bin_weight=_greedy_bin_weight(u))
    index = {str(n): i for i, n in enumerate(u.c.layout.name)}
    obs, info = env.reset(seed=EVAL_SEED0)
    total = 0.0
    for name in g.layout.name:
        obs, r, term, trunc, info = env.step(index[str(name)])
        total += r
        if term or trunc:
            break
    else:
        obs, r, term, trunc, info = env.step(u.n)       # stop
        total += r
    return {"mean_return": round(total, 4), **{k: round(float(info[k]), 4) for k in (
        "proxy", "floor_k1", "floor_k", "bins_usable", "cost_usd", "cameras")}}


def train(env_name: str, timesteps: int, seed: int, eval_episodes: int,
          out: Path | None = None, mask: bool = True) -> dict:
    """Train, evaluate against random (and greedy, for placement). ``mask``: placement is
    trained with MaskablePPO (sb3-contrib: PPO that samples only the valid actions, from the
    env's ``action_masks``); without it plain PPO must learn not to repeat a camera."""
    from stable_baselines3 import PPO

    env = _make(env_name)
    policy = "MultiInputPolicy" if env_name == "placement" else "MlpPolicy"
    masked = mask and env_name == "placement"
    algo = PPO
    if masked:
        from sb3_contrib import MaskablePPO

        algo = MaskablePPO
    # small rollouts: an adversary step is a whole macro action of the twin (~0.1 s)
    n_steps = 512 if env_name == "placement" else 128
    model = algo(policy, env, n_steps=n_steps, batch_size=64, learning_rate=3e-4,
                 gamma=0.99 if env_name == "placement" else 1.0, ent_coef=0.01, seed=seed,
                 verbose=0, device="cpu")
    t0 = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    train_s = time.perf_counter() - t0
    ev = _make(env_name)
    seeds = [EVAL_SEED0 + i for i in range(eval_episodes)]
    learned = [_episode(ev, _model_policy(model, masked), s) for s in seeds]
    rand = [_episode(ev, _random_policy(ev, s), s) for s in seeds]
    res = {"env": env_name, "algorithm": algo.__name__, "timesteps": timesteps, "seed": seed,
           "train_s": round(train_s, 1), "learned": _summary(env_name, learned),
           "random": _summary(env_name, rand)}
    if env_name == "placement":
        res["greedy"] = greedy_placement(ev)
    res["learned_beats_random"] = res["learned"]["mean_return"] > res["random"]["mean_return"]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        model.save(out / f"ppo_{env_name}.zip")
        (out / f"ppo_{env_name}.json").write_text(json.dumps(res, indent=2) + "\n")
    env.close()
    ev.close()
    return res


def _table(res: dict) -> str:
    keys = [k for k in ("learned", "random", "greedy") if k in res]
    cols = sorted({c for k in keys for c in res[k]} - {"episodes"},
                  key=lambda c: (c != "mean_return", c))
    lines = [f"{res['env']}: {res['algorithm']} {res['timesteps']} steps in {res['train_s']} s, "
             f"learned beats random: {res['learned_beats_random']}",
             "policy    " + "".join(f"{c:>15}" for c in cols)]
    for k in keys:
        lines.append(f"{k:<10}" + "".join(f"{res[k].get(c, float('nan')):>15.4g}" for c in cols))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.envs.train_ppo",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--env", choices=("placement", "adversary", "both"), default="both")
    p.add_argument("--timesteps", type=int, default=None,
                   help="training steps (default: 30,000 placement, 2,000 adversary)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--out", help="folder for the models and results")
    p.add_argument("--no-mask", action="store_true",
                   help="placement with plain PPO instead of MaskablePPO")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    try:
        import sb3_contrib  # noqa: F401
        import stable_baselines3  # noqa: F401
    except ImportError:
        print("train_ppo: Stable-Baselines3 or sb3-contrib is missing: pip install -e '.[rl]'",
              file=sys.stderr)
        return 2
    if a.timesteps is not None and a.timesteps < 1:
        print(f"train_ppo: --timesteps must be >= 1, got {a.timesteps}", file=sys.stderr)
        return 2
    if a.eval_episodes < 1:
        print(f"train_ppo: --eval-episodes must be >= 1, got {a.eval_episodes}",
              file=sys.stderr)
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    torch.set_num_threads(1)
    names = ("placement", "adversary") if a.env == "both" else (a.env,)
    results = []
    for name in names:
        steps = a.timesteps or (30_000 if name == "placement" else 2_000)
        results.append(train(name, steps, a.seed, a.eval_episodes,
                             Path(a.out) if a.out else None, mask=not a.no_mask))
    if a.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n\n".join(_table(r) for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
