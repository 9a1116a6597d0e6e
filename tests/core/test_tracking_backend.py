"""The tracker's array engine on each backend: numpy (scipy on the host) and cupy (array
ops on the device, conflicts solved on the host) give the same tracks, clusters and
assignments. (The compiled engine, numpy's default, is held to the same tracks in
``test_track_kernels.py``.)

Every test that takes ``xp`` runs on numpy and, where a GPU answers, on cupy (the fixture in
``conftest.py`` skips it otherwise). The device code path also runs here on numpy: its
functions take ``xp``, and a tracker's ``_generic`` flag makes it use them.

Streams are synthesised as in ``test_tracking.py`` (scripted walkers; every camera that sees
a walker reports a noisy foot point; misses; low-confidence false positives).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import core.association as association
import core.fusion as fusion
import core.neighbours as neighbours
import core.track_arrays as track_arrays
from core.association import _gated_assignment, _gated_assignment_generic
from core.backend import to_numpy
from core.fusion import _fuse_generic, fuse_detections
from core.neighbours import _components
from core.records import CameraFrame, GateCheckIns, Tracks
from core.track_arrays import _inv2
from core.tracking import Tracker

HZ = 15.0
ENTRANCE = np.array([1.0, 0.0, 3.0, 1.5])
EXIT = np.array([9.0, 0.0, 11.0, 1.5])
STORE = (0.0, 0.0, 12.0, 10.0)
XY_TOL_M = 1e-9


@dataclass(frozen=True)
class Walker:
    """Piecewise-linear path through (t [s], x [m], y [m]) keys; unseen during ``hidden``."""

    keys: tuple[tuple[float, float, float], ...]
    hidden: tuple[tuple[float, float], ...] = ()

    def pos(self, t: float) -> np.ndarray | None:
        k = np.asarray(self.keys)
        if t < k[0, 0] or t > k[-1, 0] or any(a <= t < b for a, b in self.hidden):
            return None
        return np.array([np.interp(t, k[:, 0], k[:, 1]), np.interp(t, k[:, 0], k[:, 2])])


def synth_frames(walkers: list[Walker], t_end: float, seed: int, *, n_cams: int = 3,
                 p_detect: float = 0.85, sigma: float = 0.15, fp_rate: float = 1.0
                 ) -> list[CameraFrame]:
    """Camera frames at HZ from 0 to t_end [s]; every camera covers the whole floor."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(int(round(t_end * HZ)) + 1):
        t = k / HZ
        cam, xy, conf = [], [], []
        for w in walkers:
            p = w.pos(t)
            if p is None:
                continue
            for c in range(n_cams):
                if rng.random() < p_detect:
                    cam.append(c)
                    xy.append(p + rng.normal(0.0, sigma, 2))
                    conf.append(rng.uniform(0.6, 0.95))
        for _ in range(rng.poisson(fp_rate)):
            cam.append(int(rng.integers(n_cams)))
            xy.append(rng.uniform(STORE[:2], STORE[2:]))
            conf.append(rng.uniform(0.1, 0.45))
        frames.append(CameraFrame(frame=k, t=t, camera=np.array(cam, np.int32),
                                  xy=np.array(xy).reshape(-1, 2), conf=np.array(conf)))
    return frames


def shopper(t0: float, y: float, x_turn: float = 2.0, hidden=()) -> Walker:
    """Enter at (x_turn, 0.75), walk up to y, across to x = 10 m, down to the exit."""
    return Walker(((t0, x_turn, 0.75), (t0 + 4.0, x_turn, y), (t0 + 10.0, 10.0, y),
                   (t0 + 14.0, 10.0, 0.75)), hidden)


def store_stream() -> tuple[list[CameraFrame], list[tuple[float, int]]]:
    """Shoppers through entrance and exit: a pair side by side 0.6 m apart (crowded
    clusters), one occluded for 3 s (re-identification), one who vanishes mid-store
    (lost, then an uncertain departure at flush), two crossing in an aisle."""
    walkers = [
        shopper(0.5, 6.0, x_turn=1.7),
        shopper(0.5, 5.4, x_turn=2.3),
        shopper(2.0, 8.0, hidden=((8.0, 11.0),)),
        Walker(((3.5, 2.0, 0.75), (7.5, 2.0, 4.0), (9.5, 5.0, 4.0)), hidden=((9.5, 99.0),)),
        Walker(((5.0, 2.0, 0.75), (7.0, 2.0, 3.0), (13.0, 10.5, 3.0), (17.0, 10.5, 0.75))),
        Walker(((6.0, 2.0, 0.75), (7.0, 2.0, 3.4), (13.0, 10.5, 3.4), (17.0, 10.5, 0.75))),
    ]
    checkins = [(0.2, 11), (0.3, 11), (1.8, 12), (3.3, 13), (4.8, 14), (5.7, 15)]
    return synth_frames(walkers, t_end=20.0, seed=31), checkins


def crowd_stream(n: int = 40, t_end: float = 12.0, seed: int = 32) -> list[CameraFrame]:
    """``n`` shoppers entering within the first seconds and wandering a 6 x 5 m corner, so
    predictions and detections compete for each other in the assignment."""
    rng = np.random.default_rng(seed)
    walkers = []
    for _ in range(n):
        t = rng.uniform(0.0, 3.0)
        keys = [(t, rng.uniform(1.2, 2.8), 0.75)]
        for _ in range(4):
            x, y = rng.uniform(1.0, 7.0), rng.uniform(1.5, 6.5)
            t += float(np.hypot(x - keys[-1][1], y - keys[-1][2])) / rng.uniform(0.6, 1.4)
            keys.append((t, x, y))
        walkers.append(Walker(tuple(keys)))
    return synth_frames(walkers, t_end=t_end, seed=seed + 1, fp_rate=2.0)


def run(tracker: Tracker, frames: list[CameraFrame], checkins=()) -> list[Tracks]:
    """Feed check-ins (t [s], account) due by each frame, then the frame."""
    pending = sorted(checkins)
    out = []
    for f in frames:
        due = [c for c in pending if c[0] <= f.t]
        pending = pending[len(due):]
        if due:
            tracker.check_in(GateCheckIns(t=np.array([c[0] for c in due]),
                                          gate=np.zeros(len(due), np.int32),
                                          account=np.array([c[1] for c in due])))
        out.append(tracker.update(f))
    return out


def replay(tracker: Tracker, frames, checkins=()) -> dict:
    """Everything a tracker tells its users about a stream."""
    tracks = run(tracker, frames, checkins)
    deps = tracker.pop_departures() + tracker.flush(frames[-1].t + 30.0)
    ids = sorted({int(i) for tr in tracks for i in tr.track_id})
    return {"tracks": tracks, "departures": deps, "history": tracker.history(0.0, 1e9),
            "accounts": [tracker.account_of(i) for i in ids],
            "active": [tracker.active_with_account(a) for a in (11, 12, 13, 14, 15)]}


def assert_same_replay(got: dict, want: dict) -> None:
    assert len(got["tracks"]) == len(want["tracks"])
    for g, w in zip(got["tracks"], want["tracks"], strict=True):
        assert type(g.track_id) is np.ndarray and type(g.xy) is np.ndarray  # host, always
        assert g.track_id.dtype == np.int64 and g.xy.dtype == np.float64
        assert g.frame == w.frame and g.t == w.t
        np.testing.assert_array_equal(g.track_id, w.track_id)
        np.testing.assert_allclose(g.xy, w.xy, rtol=0.0, atol=XY_TOL_M)
    assert got["departures"] == want["departures"]
    for d in got["departures"]:
        assert type(d.track_id) is int and type(d.account) is int and type(d.t) is float
    (gi, gt, gxy), (wi, wt, wxy) = got["history"], want["history"]
    assert all(type(a) is np.ndarray for a in (gi, gt, gxy))
    np.testing.assert_array_equal(gi, wi)
    np.testing.assert_array_equal(gt, wt)
    np.testing.assert_allclose(gxy, wxy, rtol=0.0, atol=XY_TOL_M)
    assert got["accounts"] == want["accounts"]
    assert got["active"] == want["active"]


@pytest.fixture(scope="module")
def store():
    frames, checkins = store_stream()
    want = replay(Tracker.on_floor(ENTRANCE, EXIT, HZ, xp=np, engine="array"), frames, checkins)
    return frames, checkins, want


@pytest.fixture(scope="module")
def crowd():
    frames = crowd_stream()
    return frames, replay(Tracker.on_floor(ENTRANCE, EXIT, HZ, xp=np, engine="array"), frames)


# --------------------------------------------------------------------------- the tracker


def test_the_store_stream_exercises_the_tracker(store):
    frames, _, want = store
    assert len({int(i) for tr in want["tracks"] for i in tr.track_id}) >= 6
    assert {d.certain for d in want["departures"]} == {True, False}
    assert 11 in want["accounts"] and want["accounts"].count(11) == 2  # a group of two
    assert min(len(f) for f in frames) == 0 and max(len(f) for f in frames) >= 12


def test_tracker_gives_the_numpy_tracks_on_each_backend(xp, store):
    frames, checkins, want = store
    tracker = Tracker.on_floor(ENTRANCE, EXIT, HZ, xp=xp, engine="array")
    assert tracker.xp is xp
    got = replay(tracker, frames, checkins)
    assert isinstance(tracker._rows["x"], xp.ndarray)  # the track table lives on xp
    assert_same_replay(got, want)


def test_tracker_gives_the_numpy_tracks_in_a_crowd_on_each_backend(xp, crowd):
    frames, want = crowd
    assert max(tr.track_id.size for tr in want["tracks"]) >= 30
    assert_same_replay(replay(Tracker.on_floor(ENTRANCE, EXIT, HZ, xp=xp, engine="array"),
                              frames), want)


def test_device_code_path_runs_on_numpy_without_the_kd_tree(store, crowd, monkeypatch):
    """The cupy-style path (array ops; scipy only on small host copies) forced on numpy."""

    def banned(*args, **kwargs):
        raise AssertionError("the device code path called a host-only scipy routine")

    for module, names in ((track_arrays, ("cKDTree", "fuse_detections", "_gated_assignment")),
                          (fusion, ("cKDTree", "connected_components")),
                          (association, ("cKDTree",))):
        for name in names:
            monkeypatch.setattr(module, name, banned)
    for frames, checkins, want in (store, (crowd[0], (), crowd[1])):
        tracker = Tracker.on_floor(ENTRANCE, EXIT, HZ, xp=np, engine="array")
        tracker._generic = True
        assert_same_replay(replay(tracker, frames, checkins), want)


def test_device_kalman_inverse_matches_numpy(xp):
    rng = np.random.default_rng(43)
    L = rng.normal(0.0, 0.3, (500, 2, 2))
    S = L @ np.swapaxes(L, 1, 2) + 0.0225 * np.eye(2)  # innovation covariances [m^2]
    got = to_numpy(_inv2(xp.asarray(S), xp))
    np.testing.assert_allclose(got, np.linalg.inv(S), rtol=1e-10, atol=1e-12)


def test_backend_is_chosen_by_name_or_environment(monkeypatch):
    assert Tracker.on_floor(ENTRANCE, EXIT, HZ, xp="numpy").xp is np
    monkeypatch.setenv("STORETWIN_BACKEND", "numpy")
    tracker = Tracker.on_floor(ENTRANCE, EXIT, HZ)
    assert tracker.xp is np and tracker._generic is False
    assert tracker.engine == ("numba" if importlib.util.find_spec("numba") else "array")
    assert Tracker.on_floor(ENTRANCE, EXIT, HZ, engine="array").engine == "array"


# --------------------------------------------------------------------------- fusion


def random_frame(rng: np.random.Generator, n_people: int, n_cams: int, side_m: float):
    """One frame of ``n_people`` on a ``side_m`` square floor, each seen by most cameras,
    plus strays: crowded clusters appear when people stand closer than the fuse radius."""
    people = rng.uniform(0.0, side_m, (n_people, 2))
    cam, xy = [], []
    for c in range(n_cams):
        seen = rng.random(n_people) < 0.8
        cam.append(np.full(seen.sum(), c))
        xy.append(people[seen] + rng.normal(0.0, 0.12, (seen.sum(), 2)))
    n_fp = rng.poisson(2.0)
    cam.append(rng.integers(0, n_cams, n_fp))
    xy.append(rng.uniform(0.0, side_m, (n_fp, 2)))
    cam = np.concatenate(cam).astype(np.int32)
    xy = np.concatenate(xy)
    order = rng.permutation(cam.size)
    return cam[order], xy[order], rng.uniform(0.05, 1.0, cam.size)


def assert_same_fusion(got, want) -> None:
    np.testing.assert_array_equal(to_numpy(got.label), want.label)
    np.testing.assert_array_equal(to_numpy(got.count), want.count)
    np.testing.assert_allclose(to_numpy(got.xy), want.xy, rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(got.conf), want.conf, rtol=0.0, atol=1e-12)


@pytest.mark.parametrize("chunk", [1 << 22, 64])
def test_generic_fusion_equals_fuse_detections(xp, chunk, monkeypatch):
    monkeypatch.setattr(neighbours, "_CHUNK", chunk)  # 64: many chunks of distances
    splits = []
    real = fusion._split_cluster
    monkeypatch.setattr(fusion, "_split_cluster", lambda *a: splits.append(1) or real(*a))
    rng = np.random.default_rng(41)
    for trial in range(60):
        n_people = int(rng.integers(0, 60))
        side = float(rng.choice([3.0, 8.0, 20.0]))
        cam, xy, conf = random_frame(rng, n_people, int(rng.integers(1, 5)), side)
        want = fuse_detections(cam, xy, conf, 0.5)
        got = _fuse_generic(xp.asarray(cam), xp.asarray(xy), xp.asarray(conf), 0.5, xp)
        assert_same_fusion(got, want)
        if xp is not np:  # device arrays in, device arrays out, by dispatch too
            assert isinstance(got.xy, xp.ndarray)
            assert_same_fusion(fuse_detections(xp.asarray(cam), xp.asarray(xy),
                                               xp.asarray(conf), 0.5), want)
    assert len(splits) >= 20  # people closer than the fuse radius: clusters were split


def test_components_number_like_scipy(xp):
    rng = np.random.default_rng(42)
    for trial in range(200):
        n = int(rng.integers(1, 80))
        m = int(rng.integers(0, 2 * n))
        i, j = rng.integers(0, n, m), rng.integers(0, n, m)
        if trial % 4 == 0:  # long chains: many rounds of propagation
            perm = rng.permutation(n)
            i, j = perm[:-1], perm[1:]
        _, want = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)),
                                       directed=False)
        got = _components(n, xp.asarray(i, dtype=xp.int64), xp.asarray(j, dtype=xp.int64), xp)
        np.testing.assert_array_equal(to_numpy(got), want)


# --------------------------------------------------------------------------- assignment


def assignment_problem(rng: np.random.Generator, kind: str):
    """Predictions a and detections b [m] with gate [m]: ``sparse``: well separated
    people, a few strays; ``crowd``: people closer than the gate, most pairs compete;
    ``big``: a crowd over the dense-matrix size (the sparse solvers)."""
    p = {"sparse": 40, "crowd": 30, "big": 220}[kind]
    side = {"sparse": 40.0, "crowd": 3.0, "big": 14.0}[kind]
    a = rng.uniform(0.0, side, (int(rng.integers(0, p + 1)), 2))
    keep = rng.random(a.shape[0]) < 0.9
    b = np.concatenate([a[keep] + rng.normal(0.0, 0.3, (keep.sum(), 2)),
                        rng.uniform(0.0, side, (int(rng.integers(0, p // 4 + 1)), 2))])
    return a, b[rng.permutation(b.shape[0])], float(rng.choice([0.5, 0.8, 1.2]))


def scipy_optimum(a: np.ndarray, b: np.ndarray, gate: float) -> tuple[int, float]:
    """Pairs and total distance [m] of the gated optimum, by a dense scipy assignment."""
    if a.size == 0 or b.size == 0:
        return 0, 0.0
    d = np.linalg.norm(a[:, None] - b[None], axis=2)
    r, c = linear_sum_assignment(np.where(d <= gate, d, 1e6))
    ok = d[r, c] <= gate
    return int(ok.sum()), float(d[r[ok], c[ok]].sum())


@pytest.mark.parametrize("kind", ["sparse", "crowd", "big"])
def test_exact_assignment_equals_scipy(xp, kind):
    rng = np.random.default_rng({"sparse": 51, "crowd": 52, "big": 53}[kind])
    trials = 12 if kind == "big" else 80
    conflicts = 0
    for _ in range(trials):
        a, b, gate = assignment_problem(rng, kind)
        r, c = _gated_assignment(a, b, gate)  # numpy: scipy, dense or sparse
        gr, gc = _gated_assignment_generic(xp.asarray(a), xp.asarray(b), gate, xp)
        assert isinstance(gr, xp.ndarray)
        gr, gc = to_numpy(gr), to_numpy(gc)
        assert gr.dtype == np.int64 and gc.dtype == np.int64
        assert np.all(np.diff(gr) > 0) and np.unique(gc).size == gc.size  # one-to-one
        d = np.linalg.norm(a[gr] - b[gc], axis=1)
        assert np.all(d <= gate)
        n_opt, cost_opt = scipy_optimum(a, b, gate)
        assert gr.size == r.size == n_opt
        assert d.sum() == pytest.approx(cost_opt, rel=1e-12, abs=1e-12)
        order = np.argsort(r)
        np.testing.assert_array_equal(gr, r[order])  # the optimum is unique here
        np.testing.assert_array_equal(gc, c[order])
        if a.size and b.size:
            dd = np.linalg.norm(a[:, None] - b[None], axis=2) <= gate
            conflicts += int(((dd.sum(1) > 1)[:, None] & dd).any())
        if xp is not np:  # dispatch on device arrays
            dr, dc = _gated_assignment(xp.asarray(a), xp.asarray(b), gate)
            np.testing.assert_array_equal(to_numpy(dr), gr)
            np.testing.assert_array_equal(to_numpy(dc), gc)
    if kind != "sparse":
        assert conflicts >= trials // 2  # dense crowds: most problems have competing pairs


def test_isolated_pairs_never_leave_the_device(monkeypatch):
    """Well-separated people: every gated pair is alone in its row and column, so nothing
    is copied to the host solver; competing pairs are."""
    calls = []
    real = association._edge_matching
    monkeypatch.setattr(association, "_edge_matching", lambda *a: calls.append(a) or real(*a))
    rng = np.random.default_rng(54)
    a = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0)), axis=-1).reshape(-1, 2) * 3.0
    b = a + rng.normal(0.0, 0.1, a.shape)
    r, c = _gated_assignment_generic(a, b[::-1], 0.8, np)
    assert calls == [] and r.size == a.shape[0]
    np.testing.assert_array_equal(c, a.shape[0] - 1 - r)
    crowd = np.concatenate([b, [[0.3, 0.0], [30.0, 30.3]]])  # two pairs now compete
    r, c = _gated_assignment_generic(a, crowd, 0.8, np)
    assert len(calls) == 1 and calls[0][0].size == 4  # only those rows' gated pairs
    assert r.size == a.shape[0]
