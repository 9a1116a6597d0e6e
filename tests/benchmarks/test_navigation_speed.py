"""Speed of agents/navigation.py on the supercenter (~130 m x 100 m, ~420,000 grid cells).

The targets (2-core machine): NavGrid construction under 5 s and well under 1 GB, a route
under 5 ms on average between random bins' access points, ``walk_distances`` of 40 points in
a few ms, ``obstacle_distance`` of 1,000 points well under 1 ms. Benchmarks measure and record
(``extra_info``: per-route mean and p95, the length ratio against the fine grid's Dijkstra
path, the construction's traced memory peak); they assert no wall-clock time.

With the default ``--benchmark-disable`` each target runs once on the grocery preset, as a
cheap smoke test; with ``--benchmark-enable`` (or ``STORETWIN_BENCH=1``) on the
supercenter:

    pytest tests/benchmarks/test_navigation_speed.py --benchmark-enable
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np
import pytest
from benchmarks.speed import benchmarks_on
from scipy.sparse.csgraph import dijkstra

from agents.navigation import NavGrid
from scenes.presets import load_store
from scenes.store import Store

N_PAIRS = 300          # routes timed, between random bins' access points
N_RATIO = 30           # of which compared with the fine grid's Dijkstra path (~0.3 s each)
N_SHOPPERS = 1000      # points for obstacle_distance and random_free
N_LIST = 40            # points for walk_distances (a long shopping list)


@dataclass
class Floor:
    store: Store
    nav: NavGrid
    pairs: np.ndarray      # (N_PAIRS, 2, 2) [m]
    full: bool


@pytest.fixture(scope="module")
def floor(request) -> Floor:
    full = benchmarks_on(request.config)
    store = load_store("supercenter" if full else "grocery")
    nav = NavGrid(store)
    acc = np.unique(store.bins.access_xy, axis=0)
    rng = np.random.default_rng(0)
    n = N_PAIRS if full else 10
    return Floor(store, nav, acc[rng.integers(len(acc), size=(n, 2))], full)


def test_navgrid_construction(benchmark, floor) -> None:
    nav = benchmark.pedantic(NavGrid, args=(floor.store,), rounds=1, iterations=1)
    info = {"store": floor.store.name, "cells": int(nav.free.size),
            "coarse_nodes": nav.n_nodes, "table": nav._table is not None, "target_s": 5.0}
    if floor.full:
        tracemalloc.start()
        NavGrid(floor.store)
        info["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 1)
        tracemalloc.stop()
    benchmark.extra_info.update(info)
    assert nav.n_nodes > 0


def _length(a: np.ndarray, route: list[np.ndarray]) -> float:
    return float(np.linalg.norm(np.diff(np.vstack([a, *route]), axis=0), axis=1).sum())


def test_route_speed(benchmark, floor) -> None:
    nav = floor.nav

    def all_routes() -> list[float]:
        times = []
        for a, b in floor.pairs:
            t0 = time.perf_counter()
            nav.route(a, b)
            times.append(time.perf_counter() - t0)
        return times

    times = np.array(benchmark.pedantic(all_routes, rounds=1, iterations=1)) * 1e3
    info = {"routes": len(times), "route_mean_ms": round(float(times.mean()), 3),
            "route_p95_ms": round(float(np.percentile(times, 95)), 3), "target_mean_ms": 5.0}
    if floor.full:
        ratios = []
        for a, b in floor.pairs[:N_RATIO]:
            a, b = nav.nearest_free(a), nav.nearest_free(b)
            ca, cb = nav.to_cell(a), nav.to_cell(b)
            d = dijkstra(nav._graph, directed=False, indices=ca[0] * nav.nx + ca[1])
            grid = (d[cb[0] * nav.nx + cb[1]] + np.linalg.norm(a - nav._center(ca[0] * nav.nx
                                                                               + ca[1]))
                    + np.linalg.norm(b - nav._center(cb[0] * nav.nx + cb[1])))
            ratios.append(_length(a, nav.route(a, b)) / grid)
        ratios = np.array(ratios)
        info.update(length_ratio_mean=round(float(ratios.mean()), 4),
                    length_ratio_max=round(float(ratios.max()), 4))
        assert ratios.max() <= 1.15
    benchmark.extra_info.update(info)


def test_walk_distances_speed(benchmark, floor) -> None:
    pts = floor.pairs.reshape(-1, 2)[:N_LIST]
    w = benchmark(floor.nav.walk_distances, pts)
    benchmark.extra_info.update(points=len(pts))
    assert w.shape == (len(pts), len(pts)) and np.array_equal(w, w.T)


def test_obstacle_distance_and_random_free_speed(benchmark, floor) -> None:
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    xy = floor.nav.random_free(rng, N_SHOPPERS, min_gap=0.6 if floor.full else 0.3)
    seed_ms = (time.perf_counter() - t0) * 1e3
    dist, away = benchmark(floor.nav.obstacle_distance, xy)
    benchmark.extra_info.update(points=N_SHOPPERS, random_free_ms=round(seed_ms, 2))
    assert dist.shape == (N_SHOPPERS,) and away.shape == (N_SHOPPERS, 2)
