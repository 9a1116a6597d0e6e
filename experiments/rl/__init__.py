"""Reinforcement-learning examples on storetwin's Gymnasium environments (experiments.envs)."""
