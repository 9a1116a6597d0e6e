"""The compiled (numba) tracker engine against the array path and against scipy.

Streams: every scripted scenario of ``test_tracking.py`` and ``test_tracking_backend.py``
(their own builders, loaded from those files), a recorded kiosk run with its gate check-ins,
and supercenter-sized crowds (``experiments.bench.time_core``'s synthetic stream; large assignment
problems, grids). On each, ``engine="numba"`` must give what ``engine="array"`` gives: the
same track ids every frame, positions within ``XY_TOL_M``, the same departures, history,
account bindings and final track table.

Kernels: the assignment solver is scipy's algorithm (same pairs, ties included), the gated
assignment is the optimum scipy finds (most pairs, then least distance), components number
like scipy's, pair searches find what a k-d tree finds (distances to ``FLOAT_RTOL``), fusion
is the array path's (the same labels and counts, fused points within ``XY_TOL_M``).

Discrete outputs (ids, labels, pairs) must be equal; floats agree within the stated
tolerances, never byte for byte: numba's machine code and numpy's SIMD dispatch differ by
processor (.ci/run runs this module again for generic x86-64 and Haswell targets).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

import core.fusion as fusion
import core.tracking as tracking
from core.association import _gated_assignment
from core.fusion import fuse_detections
from core.records import CameraFrame, Tracks
from core.tracker_config import TrackerConfig
from core.tracking import Tracker

# the engine (core._track_kernels, through Tracker(engine="numba")) and its parts
A = pytest.importorskip("core._assign_kernels", reason="numba is not installed")
G = pytest.importorskip("core._graph_kernels", reason="numba is not installed")
F = pytest.importorskip("core._fusion_kernels", reason="numba is not installed")

pytestmark = pytest.mark.kernels

XY_TOL_M = 1e-9      # positions, kernel against the array path [m]
FLOAT_RTOL = 1e-15   # a distance is one sqrt of a sum of two squares: a few ulps at most
HZ = 15.0


def _sibling(name: str) -> ModuleType:
    """A test module of this folder, loaded under a private name for its stream builders
    (nothing is collected from it here)."""
    spec = importlib.util.spec_from_file_location(f"_streams_{name}",
                                                  Path(__file__).with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


T = _sibling("test_tracking")
B = _sibling("test_tracking_backend")


# --------------------------------------------------------------------------- streams


def _knowledge_tracker(config: TrackerConfig | None = None):
    return lambda engine: Tracker(T.make_knowledge(), config, xp=np, engine=engine)


def _floor_tracker(entrance, exit, config: TrackerConfig | None = None):
    return lambda engine: Tracker.on_floor(entrance, exit, HZ, config, xp=np, engine=engine)


def _scripted(name: str):
    """(tracker factory, frames, check-ins (t [s], account)) of a scripted stream."""
    if name == "two_shoppers":
        frames = T.synth_frames([T.shopper(0.5, y=6.0), T.shopper(3.5, y=8.0)], 25.0, seed=1)
        return _knowledge_tracker(), frames, [(0.2, 101), (3.2, 202)]
    if name == "duplicates":
        frames = T.synth_frames([T.shopper(0.0)], 19.0, seed=2, p_detect=1.0, sigma=0.2,
                                fp_rate=0.0)
        return _knowledge_tracker(), frames, []
    if name == "false_positives":
        frames = T.synth_frames([], 20.0, seed=3, fp_rate=3.0, fp_region=(0.0, 3.0, 12.0, 10.0),
                                fp_conf=(0.3, 0.95))
        return _knowledge_tracker(), frames, []
    if name == "entrance_false_positives":
        frames = T.synth_frames([], 20.0, seed=4, fp_rate=0.5, fp_region=T.ENTRANCE)
        return _knowledge_tracker(), frames, []
    if name.startswith("occluded"):
        w = T.Walker(keys=((0.0, 2.0, 0.75), (4.0, 2.0, 6.0), (10.0, 10.0, 6.0),
                           (14.0, 10.0, 0.75)), hidden=((6.0, 9.0),))
        frames = T.synth_frames([w], 16.0, seed=int(name[-1]))
        return _knowledge_tracker(), frames, [(-0.3, 77)]
    if name.startswith("crossing"):
        frames = T.synth_frames(list(T.crossing_walkers(0.8)), 16.0, seed=int(name[-1]))
        return _knowledge_tracker(), frames, [(-0.2, 1), (4.8, 2)]
    if name in ("mixed", "mixed_other_config"):
        walkers = [T.shopper(0.5), T.shopper(2.0, y=8.0), *T.crossing_walkers(1.0)]
        frames = T.synth_frames(walkers, 22.0, seed=11, fp_rate=1.0)
        config = None if name == "mixed" else TrackerConfig(
            gate_m=1.2, dup_radius_m=0.0, confirm_hits=2, tentative_max_misses=0,
            max_missed_s=0.5, reid_window_s=3.0, exit_linger_s=0.0, birth_min_conf=0.3,
            max_speed_mps=1.5, history_s=4.0)
        return _knowledge_tracker(config), frames, [(0.2, 5), (1.8, 6), (-0.2, 7), (4.8, 8)]
    if name == "group":
        left = T.Walker(((0.5, 1.6, 0.75), (4.5, 1.6, 6.0), (10.5, 7.6, 6.0)))
        right = T.Walker(((0.5, 2.4, 0.75), (4.5, 2.4, 5.2), (10.5, 8.4, 5.2)))
        frames = T.synth_frames([left, right], 10.5, seed=12)
        return _knowledge_tracker(), frames, [(0.1, 42), (0.3, 42)]
    if name == "short_history":
        frames = T.synth_frames([T.shopper(0.0)], 12.0, seed=13)
        return _knowledge_tracker(TrackerConfig(history_s=5.0)), frames, []
    if name == "vanishes":
        vanishes = T.Walker(((0.0, 2.0, 0.75), (4.0, 2.0, 6.0), (6.0, 4.0, 6.0)),
                            hidden=((6.0, 99.0),))
        stays = T.Walker(((3.0, 2.0, 0.75), (7.0, 2.0, 8.0), (12.0, 8.0, 8.0)))
        frames = T.synth_frames([vanishes, stays], 12.0, seed=14)
        return _knowledge_tracker(), frames, [(-0.2, 1), (2.8, 2)]
    if name == "backend_store":
        frames, checkins = B.store_stream()
        return _floor_tracker(B.ENTRANCE, B.EXIT), frames, checkins
    if name == "backend_crowd":
        return _floor_tracker(B.ENTRANCE, B.EXIT), B.crowd_stream(), []
    raise KeyError(name)


SCRIPTED = [
    "two_shoppers", "duplicates", "false_positives", "entrance_false_positives",
    *(f"occluded_{s}" for s in (5, 6, 7)), *(f"crossing_{s}" for s in range(5)),
    "mixed", "mixed_other_config", "group", "short_history", "vanishes",
    "backend_store", "backend_crowd",
]


def replay(tracker: Tracker, frames: list[CameraFrame], checkins) -> dict:
    """Everything a tracker tells its users about a stream (check-ins due by a frame are
    queued before it), and its track table at the end."""
    tracks: list[Tracks] = B.run(tracker, frames, checkins)
    accounts = sorted({a for _, a in checkins})
    active = [tracker.active_with_account(a) for a in accounts]
    t_end = frames[-1].t
    deps = tracker.pop_departures() + tracker.flush(t_end) + tracker.flush(t_end + 30.0)
    ids = sorted({int(i) for tr in tracks for i in tr.track_id})
    return {"tracks": tracks, "departures": deps, "active": active,
            "history": tracker.history(-1e9, 1e9), "accounts": [tracker.account_of(i) for i in ids],
            "rows": {k: np.array(v) for k, v in tracker._rows.items()}}


def assert_same(got: dict, want: dict) -> None:
    assert len(got["tracks"]) == len(want["tracks"])
    for g, w in zip(got["tracks"], want["tracks"], strict=True):
        assert g.frame == w.frame and g.t == w.t
        assert g.track_id.dtype == np.int64 and g.xy.dtype == np.float64
        np.testing.assert_array_equal(g.track_id, w.track_id)
        np.testing.assert_allclose(g.xy, w.xy, rtol=0.0, atol=XY_TOL_M)
    assert got["departures"] == want["departures"]
    for d in got["departures"]:
        assert type(d.track_id) is int and type(d.account) is int
        assert type(d.t) is float and type(d.certain) is bool
    (gi, gt, gxy), (wi, wt, wxy) = got["history"], want["history"]
    np.testing.assert_array_equal(gi, wi)
    np.testing.assert_array_equal(gt, wt)
    np.testing.assert_allclose(gxy, wxy, rtol=0.0, atol=XY_TOL_M)
    assert got["accounts"] == want["accounts"]
    assert got["active"] == want["active"]
    for name, w in want["rows"].items():
        g = got["rows"][name]
        assert g.dtype == w.dtype and g.shape == w.shape, name
        if w.dtype == np.float64 and name not in ("t_birth", "t_last", "xy_birth"):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)


def assert_engines_agree(make, frames, checkins) -> dict:
    want = replay(make("array"), frames, checkins)
    tracker = make("numba")
    assert tracker.engine == "numba"
    got = replay(tracker, frames, checkins)
    assert_same(got, want)
    return want


@pytest.mark.parametrize("name", SCRIPTED)
def test_numba_engine_gives_the_array_tracks_on_scripted_streams(name):
    make, frames, checkins = _scripted(name)
    want = assert_engines_agree(make, frames, checkins)
    if name in ("two_shoppers", "mixed", "backend_store", "backend_crowd", "vanishes"):
        assert any(tr.track_id.size for tr in want["tracks"])  # the stream tracks people


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    """A recorded 2-minute kiosk run (~11 shoppers): its camera frames (the gaps between
    listed frames filled with empty ones, as ``storetwin track`` does), gate check-ins and
    floor."""
    from experiments.runs.config import RunConfig
    from experiments.runs.run import run
    from experiments.runs.track import read_detections
    from scenes.presets import load_preset

    out = tmp_path_factory.mktemp("kiosk") / "run"
    run(RunConfig(store="kiosk", minutes=2, shoppers=15, seed=0, record_streams=True), out=out)
    d = read_detections(out / "streams" / "detections.parquet")
    col = pq.read_table(out / "streams" / "detections.parquet").column("appearance")
    app = np.asarray(col.combine_chunks().flatten(), np.float32).reshape(d.frame.size, -1)
    f, start = np.unique(d.frame, return_index=True)
    stop = np.append(start[1:], d.frame.size)
    frames = []
    empty = (np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0, np.float32))
    for k in range(f.size):
        if k:
            gap = int(f[k] - f[k - 1])
            t_a, t_b = float(d.t[start[k - 1]]), float(d.t[start[k]])
            frames += [CameraFrame(int(f[k - 1]) + j, t_a + (t_b - t_a) * j / gap, *empty)
                       for j in range(1, gap)]
        sl = slice(start[k], stop[k])
        frames.append(CameraFrame(int(f[k]), float(d.t[start[k]]), d.camera[sl], d.xy[sl],
                                  d.conf[sl], appearance=app[sl]))
    gate = pq.read_table(out / "streams" / "gate.parquet").to_pydict()
    checkins = list(zip(gate["t"], gate["account"], strict=True))
    store = load_preset("kiosk")
    return (frames, checkins, np.asarray(store.entrance_region),
            np.asarray(store.exit_region))


def _without_looks(frames: list[CameraFrame]) -> list[CameraFrame]:
    return [CameraFrame(f.frame, f.t, f.camera, f.xy, f.conf) for f in frames]


@pytest.mark.parametrize("looks", [True, False])
def test_numba_engine_gives_the_array_tracks_on_a_recorded_kiosk_run(kiosk, looks):
    frames, checkins, entrance, exit_ = kiosk
    assert frames[-1].appearance.shape[1] == 24 or frames[-2].appearance.shape[1] == 24
    frames = frames if looks else _without_looks(frames)
    assert len(frames) >= 15 * 115 and len(checkins) >= 8
    want = assert_engines_agree(_floor_tracker(entrance, exit_), frames, checkins)
    assert len(want["accounts"]) >= 8  # shoppers tracked
    assert sum(a >= 0 for a in want["accounts"]) >= 8  # bound to their check-ins
    assert any(d.certain for d in want["departures"])  # one left by the exit


@pytest.mark.parametrize(("people", "floor_sqft"), [(600, 180_000.0), (300, 20_000.0)])
def test_numba_engine_gives_the_array_tracks_at_supercenter_size(people, floor_sqft):
    """``experiments.bench.time_core``'s stream (~3.5 detections per person per frame, the
    whole floor an entrance): hundreds of tracks and detections per problem, so pair
    searches use grids and assignments split into components (the array path: k-d trees
    and scipy's sparse matching); the second floor is 9x as crowded."""
    from experiments.bench.time_core import NEVER, CoreTickSpec, SupercenterStream

    spec = CoreTickSpec(tracks=people, cameras=3000 * people // 600, plates=1,
                        floor_sqft=floor_sqft, seed=3)
    stream = SupercenterStream(spec)
    frames = [stream.next_tick()[0] for _ in range(40)]
    assert min(len(f) for f in frames) > 3 * people
    want = assert_engines_agree(_floor_tracker(stream.floor, NEVER), frames, [])
    assert want["tracks"][-1].track_id.size > 0.9 * people


def test_numba_engine_gives_the_array_tracks_with_looks_in_a_crowd():
    """Appearance in association and looks: 300 people on 20,000 sq ft, each detection
    with a noisy 24-float descriptor of its person (a third of them dressed alike)."""
    from experiments.bench.time_core import NEVER, CoreTickSpec, SupercenterStream

    spec = CoreTickSpec(tracks=300, cameras=1500, plates=1, floor_sqft=20_000.0, seed=5)
    stream = SupercenterStream(spec)
    rng = np.random.default_rng(0)
    base = rng.dirichlet(np.ones(24), size=30)       # 30 outfits for 300 people
    frames = []
    for _ in range(30):
        f = stream.next_tick()[0]
        who = np.argmin(np.linalg.norm(f.xy[:, None] - stream.xy[None], axis=2), axis=1)
        app = base[who % 30] + rng.normal(0, 0.01, (len(f), 24))
        frames.append(CameraFrame(f.frame, f.t, f.camera, f.xy, f.conf,
                                  appearance=np.clip(app, 0, None).astype(np.float32)))
    make = _floor_tracker(stream.floor, NEVER)
    want = assert_engines_agree(make, frames, [])
    assert want["rows"]["look"].shape[1] == 24 and (want["rows"]["look_n"] > 5).any()
    device = make("array")
    device._generic = True          # the cupy path's array ops, on numpy
    assert_same(replay(device, frames, []), want)
    assert want["tracks"][-1].track_id.size > 0.9 * 300


# --------------------------------------------------------------------------- engines


def test_engine_is_numba_on_numpy_by_default_and_array_on_request():
    floor = (np.array([0.0, 0.0, 3.0, 3.0]), np.array([9.0, 0.0, 11.0, 1.5]), HZ)
    assert Tracker.on_floor(*floor, xp=np).engine == "numba"
    assert Tracker.on_floor(*floor, xp="numpy", engine="numba").engine == "numba"
    array = Tracker.on_floor(*floor, xp=np, engine="array")
    assert array.engine == "array" and array.xp is np
    assert Tracker(T.make_knowledge(), xp=np, engine="array").engine == "array"
    with pytest.raises(ValueError, match="engine must be"):
        Tracker.on_floor(*floor, xp=np, engine="cuda")


def test_numba_engine_refuses_other_backends():
    class FakeDevice:  # an array namespace that is not numpy
        __name__ = "cupy"

    assert tracking._pick_engine(None, FakeDevice) is None  # array ops on the device
    with pytest.raises(ValueError, match="numpy only"):
        tracking._pick_engine("numba", FakeDevice)


def test_numba_table_grows_and_keeps_its_rows():
    """A frame with more detections than the table has room for doubles it first."""
    tracker = Tracker.on_floor(np.array([-5.0, -5.0, 40.0, 40.0]), np.array([1e3] * 4), HZ,
                               xp=np)
    rng = np.random.default_rng(5)
    people = np.stack(np.meshgrid(np.arange(12.0), np.arange(12.0)), -1).reshape(-1, 2) * 3.0
    for k in range(5):
        xy = people + rng.normal(0.0, 0.05, people.shape)
        tr = tracker.update(CameraFrame(k, k / HZ, np.zeros(len(xy), np.int32), xy,
                                        np.full(len(xy), 0.9, np.float32)))
    assert tracker._table[0].shape[0] >= len(people) > 64
    assert tr.track_id.size == len(people)
    np.testing.assert_array_equal(tr.track_id, np.arange(len(people)))
    np.testing.assert_allclose(tr.xy, people, atol=0.2)


# --------------------------------------------------------------------------- kernels


def test_assignment_solver_is_scipys():
    """Same pairs as ``scipy.optimize.linear_sum_assignment`` on random rectangular
    matrices, and on small integer ones full of ties (scipy's tie rules, which the array
    path follows)."""
    rng = np.random.default_rng(61)
    for trial in range(600):
        p, q = (int(v) for v in rng.integers(0, 13, 2))
        cost = rng.random((p, q)) if trial % 2 else rng.integers(0, 3, (p, q)).astype(float)
        r, c = A.linear_sum_assignment(cost)
        wr, wc = linear_sum_assignment(cost)
        np.testing.assert_array_equal(r, wr)
        np.testing.assert_array_equal(c, wc)


def gated_problem(rng: np.random.Generator, p: int, q: int, side: float):
    a = rng.uniform(0.0, side, (p, 2))
    keep = rng.random(p) < 0.85
    b = np.concatenate([a[keep] + rng.normal(0.0, 0.35, (keep.sum(), 2)),
                        rng.uniform(0.0, side, (max(q - int(keep.sum()), 0), 2))])
    return a, b[rng.permutation(b.shape[0])]


@pytest.mark.parametrize("size", ["small", "large"])
def test_gated_assignment_is_the_scipy_optimum(size):
    """Most pairs within the gate, then least total distance, as a dense scipy
    assignment with ``BIG`` beyond the gate; the same pairs as the array path (dense
    scipy, or its sparse solver on large problems)."""
    rng = np.random.default_rng({"small": 62, "large": 63}[size])
    conflicts = 0
    for _ in range(200 if size == "small" else 12):
        if size == "small":
            p, q = (int(v) for v in rng.integers(0, 40, 2))
            a, b = gated_problem(rng, p, q, float(rng.choice([2.0, 5.0, 20.0])))
        else:
            p, q = (int(v) for v in rng.integers(70, 260, 2))
            a, b = gated_problem(rng, p, q, float(rng.choice([8.0, 14.0, 40.0])))
        gate = float(rng.choice([0.5, 0.8, 1.2]))
        r, c = A.gated_assignment(a, b, gate)
        assert r.dtype == np.int64 and c.dtype == np.int64
        assert np.all(np.diff(r) > 0) and np.unique(c).size == c.size
        d = np.linalg.norm(a[r] - b[c], axis=1)
        assert np.all(d <= gate)
        n_opt, cost_opt = B.scipy_optimum(a, b, gate)
        assert r.size == n_opt
        assert d.sum() == pytest.approx(cost_opt, rel=1e-12, abs=1e-12)
        wr, wc = _gated_assignment(a, b, gate)
        order = np.argsort(wr)
        np.testing.assert_array_equal(r, wr[order])
        np.testing.assert_array_equal(c, wc[order])
        if a.size and b.size:
            dd = np.linalg.norm(a[:, None] - b[None], axis=2) <= gate
            conflicts += int((dd.sum(1) > 1).any())
    assert conflicts >= 5  # rows competing for columns, not only lone pairs


def test_components_number_like_scipy():
    rng = np.random.default_rng(64)
    for trial in range(300):
        n = int(rng.integers(1, 120))
        m = int(rng.integers(0, 2 * n))
        i, j = rng.integers(0, n, m), rng.integers(0, n, m)
        if trial % 4 == 0:  # long chains
            perm = rng.permutation(n)
            i, j = perm[:-1], perm[1:]
        _, want = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)),
                                       directed=False)
        label, count = G.components(n, i.astype(np.int64), j.astype(np.int64))
        np.testing.assert_array_equal(label, want)
        assert count == want.max() + 1


@pytest.mark.parametrize("n", [5, 40, 300, 3000])
def test_pair_searches_find_what_a_kd_tree_finds(n):
    """Brute force up to ``BRUTE_MAX`` pairs, a grid beyond; duplicates and radius 0
    included, on a floor with one far outlier (coarse grid cells)."""
    rng = np.random.default_rng(65 + n)
    side = np.sqrt(n) * 1.5
    a = rng.uniform(0.0, side, (n, 2))
    a[: n // 10] = a[n // 10 : 2 * (n // 10)]  # exact duplicates (distance 0)
    b = rng.uniform(0.0, side, (n // 2 + 1, 2))
    b[-1] = [1e5, -1e5]
    for radius in (0.0, 0.5, 1.3):
        i, j, d = G.pairs_within_self(a, radius)
        want = cKDTree(a).query_pairs(radius, output_type="ndarray")
        assert {(int(x), int(y)) for x, y in zip(i, j, strict=True)} == {
            (int(x), int(y)) for x, y in want}
        assert np.all(i < j)
        np.testing.assert_allclose(d, np.linalg.norm(a[i] - a[j], axis=1), rtol=FLOAT_RTOL,
                                   atol=0.0)
        i, j, d = G.pairs_within(a, b, radius)
        e = cKDTree(a).sparse_distance_matrix(cKDTree(b), radius, output_type="ndarray")
        assert {(int(x), int(y)) for x, y in zip(i, j, strict=True)} == {
            (int(x), int(y)) for x, y in zip(e["i"], e["j"], strict=True)}
        np.testing.assert_allclose(d, np.linalg.norm(a[i] - b[j], axis=1), rtol=FLOAT_RTOL,
                                   atol=0.0)


def test_fusion_is_the_array_paths(monkeypatch):
    """Labels and counts identical, fused points within ``XY_TOL_M`` and confidences to
    float64 rounding (numpy may take SIMD exp and log1p), on random frames, crowded clusters
    and frames past ``BRUTE_MAX`` pairs included."""
    splits = []
    real = fusion._split_cluster
    monkeypatch.setattr(fusion, "_split_cluster", lambda *a: splits.append(1) or real(*a))
    rng = np.random.default_rng(66)
    for trial in range(150):
        n_people = int(rng.integers(0, 500 if trial % 10 == 0 else 60))
        side = float(rng.choice([3.0, 8.0, 20.0]))
        cam, xy, conf = B.random_frame(rng, n_people, int(rng.integers(1, 5)), side)
        want = fuse_detections(cam, xy, conf, 0.5)
        fxy, fconf, count, label = F.fuse(cam.astype(np.int64), xy, conf, 0.5)
        np.testing.assert_array_equal(label, want.label)
        np.testing.assert_array_equal(count, want.count)
        np.testing.assert_allclose(fxy, want.xy, rtol=0.0, atol=XY_TOL_M)
        np.testing.assert_allclose(fconf, want.conf, rtol=0.0, atol=1e-14)
    assert len(splits) >= 20


def test_split_cluster_is_the_array_paths():
    """People closer than the fuse radius, each seen by some cameras (one saw them all;
    others may too: the seed camera is the lowest id among those)."""
    rng = np.random.default_rng(67)
    for _ in range(300):
        k = int(rng.integers(2, 6))
        people = rng.uniform(0.0, 1.0, (k, 2))
        cams = int(rng.integers(1, 5))
        cam, xy = [], []
        for c in range(cams):
            seen = rng.random(k) < (1.0 if c == 0 else 0.7)
            cam += [c] * int(seen.sum())
            xy.append(people[seen] + rng.normal(0.0, 0.1, (int(seen.sum()), 2)))
        order = rng.permutation(len(cam))
        cam = rng.permutation(cams)[np.array(cam, np.int64)][order]  # shuffled camera ids
        xy = np.concatenate(xy)[order]
        w = rng.uniform(0.05, 1.0, len(cam))
        np.testing.assert_array_equal(F.split_cluster(cam, xy, w),
                                      fusion._split_cluster(cam, xy, w))


def test_cross_camera_pairs_are_those_of_the_pair_search():
    """F._cross_camera_pairs (a grid, cameras compared first) finds the set of pairs that
    G.pairs_within_self and then the camera filter find: crowds of detections around
    people, points exactly on the radius, lone points far away, one point, a NaN."""
    rng = np.random.default_rng(3)
    people = rng.uniform(0, 60, (300, 2))
    xy = np.repeat(people, 15, axis=0) + rng.normal(0, 0.15, (4500, 2))
    cam = rng.integers(0, 400, 4500)
    xy[:6] = [[0, 0], [0.5, 0], [0, 0.5], [1000, 1000], [1000.5, 1000], [0.25, 0.25]]
    cam[:6] = [1, 2, 3, 4, 5, 1]
    bad = xy[:200].copy()
    bad[7] = np.nan
    cases = [(xy, cam, 0.5), (xy[:40], cam[:40], 0.5), (xy, cam, 2.0), (xy[:1], cam[:1], 0.5),
             (bad, cam[:200], 0.5)]
    found = []
    for pts, c, r in cases:
        got = set(zip(*(a.tolist() for a in F._cross_camera_pairs(c, pts, r)), strict=True))
        a, b, _ = G.pairs_within_self(pts, r)
        want = {(min(i, j), max(i, j)) for i, j in zip(a.tolist(), b.tolist(), strict=True)
                if c[i] != c[j]}
        assert got == want
        found.append(got)
    assert len(found[0]) > 10_000 and len(found[2]) > len(found[0])
    assert {(0, 1), (0, 2), (3, 4)} <= found[0] and (0, 5) not in found[0]   # on the radius
    assert found[3] == set() and not any(7 in p for p in found[4])
