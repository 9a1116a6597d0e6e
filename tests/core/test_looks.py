"""Appearance in the tracker: a detection's look helps pick its track (core/_track_kernels.py,
core/track_arrays.py) and its lost track (re-identification)."""

from __future__ import annotations

import numpy as np
import pytest

from core.records import CameraFrame
from core.tracker_config import TrackerConfig
from core.tracking import Tracker

HZ = 10.0
FLOOR = np.array([-50.0, -50.0, 50.0, 50.0])    # births anywhere
NEVER = np.array([1e6, 1e6, 1e6 + 1, 1e6 + 1])  # no exit


def _look(k: int) -> np.ndarray:
    v = np.full(24, 0.005)
    v[[k, 8 + k, 16 + (k + 3) % 8]] = (0.4, 0.3, 0.2)
    return v / v.sum()


def _frames(people, seconds, rng, noise=0.12, hide=None):
    """People standing at ``people`` (k, 2) [m], each seen every frame by one camera with
    foot-point noise; ``hide``: (person, t0, t1) unseen then."""
    looks = np.array([_look(2 * i) for i in range(len(people))], np.float32)
    out = []
    for f in range(int(seconds * HZ)):
        t = f / HZ
        seen = [i for i in range(len(people))
                if hide is None or not (hide[0] == i and hide[1] <= t < hide[2])]
        xy = np.asarray(people, float)[seen] + rng.normal(0, noise, (len(seen), 2))
        app = looks[seen] + rng.normal(0, 0.01, (len(seen), 24)).astype(np.float32)
        out.append(CameraFrame(f, t, np.zeros(len(seen), np.int32), xy, np.full(len(seen), 0.9),
                               appearance=np.clip(app, 0, None)))
    return out


def _switches(tracker, frames, people) -> int:
    """How often the track nearest each person changes id."""
    last, n = {}, 0
    for fr in frames:
        tr = tracker.update(fr)
        if tr.track_id.size < len(people):
            continue
        for i, p in enumerate(people):
            tid = int(tr.track_id[np.argmin(np.linalg.norm(tr.xy - p, axis=1))])
            n += i in last and last[i] != tid
            last[i] = tid
    return n


@pytest.mark.parametrize("engine", ["numba", "array"])
def test_looks_keep_two_people_standing_together_apart(engine) -> None:
    people = np.array([[0.0, 0.0], [0.35, 0.0]])      # shoulder to shoulder at a shelf
    frames = _frames(people, 60.0, np.random.default_rng(1))
    blind = Tracker.on_floor(FLOOR, NEVER, HZ, TrackerConfig(appearance_weight_m=0.0),
                             engine=engine)
    seeing = Tracker.on_floor(FLOOR, NEVER, HZ, engine=engine)
    n_blind, n_seeing = _switches(blind, frames, people), _switches(seeing, frames, people)
    assert n_blind >= 4                               # positions alone swap them
    assert n_seeing <= n_blind // 4, (n_blind, n_seeing)


@pytest.mark.parametrize("engine", ["numba", "array"])
def test_lost_tracks_are_taken_back_by_who_looks_like_them(engine) -> None:
    """A and B, dressed differently, vanish together for 2 s and come back each nearer to
    where the other was last seen: by distance the two identities would swap, by look
    each gets their own back."""
    rng = np.random.default_rng(2)
    a0, b0 = np.array([0.0, 0.0]), np.array([1.5, 0.0])
    a1, b1 = np.array([1.2, 0.0]), np.array([0.3, 0.0])
    frames = _frames([a0, b0], 4.0, rng, noise=0.02)
    frames += [CameraFrame(f, f / HZ, np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0))
               for f in range(40, 60)]
    later = _frames([a1, b1], 4.0, rng, noise=0.02)
    frames += [CameraFrame(f.frame + 60, f.t + 6.0, f.camera, f.xy, f.conf,
                           appearance=f.appearance) for f in later]
    door = np.array([20.0, 20.0, 21.0, 21.0])       # nobody new comes in here
    config = TrackerConfig(cold_start_s=1.0)          # (A and B were in at the start)

    def identities(cfg):
        tr = Tracker.on_floor(door, NEVER, HZ, cfg, engine=engine)
        out = [tr.update(f) for f in frames]

        def at(k, p):
            return int(out[k].track_id[np.argmin(np.linalg.norm(out[k].xy - p, axis=1))])

        return (at(35, a0), at(35, b0)), (at(-1, a1), at(-1, b1))

    before, after = identities(config)
    assert after == before                            # each their own
    before, after = identities(TrackerConfig(cold_start_s=1.0, appearance_reid_m=0.0))
    assert after == before[::-1]                      # by distance alone: swapped
