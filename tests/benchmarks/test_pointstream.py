"""Our tracker, norfair and ByteTrack on independent point-detection streams (issue 22).

The streams come from :mod:`experiments.bench.pointstream`: a store and a motion model that
are not the twin's (a hall of gondola runs at 10 m2 per shopper, waypoint walkers with
lag, wander, changes of mind, soft repulsion and pairs walking abreast), 0.15 m foot-point
noise, 10 % misses in runs, 2 false positives a frame, 10 Hz; scored by HOTA
(:mod:`experiments.scoring.hota`, checked against TrackEval in tests/experiments/test_hota.py).

- storetwin: :func:`experiments.bench.pointstream.run_ours`: the tracker with the door as
  entrance and exit and a 3 s cold start, then 0.8 s of look-ahead smoothing (its track
  latency); its loop time includes the smoothing.
- norfair 2.3.0: as in test_tracker_compare.py, alive 10 frames (1 s at 10 Hz).
- ByteTrack (roboflow ``trackers``): 1.0 m footprint boxes, tracks from confidence 0.3,
  high-confidence detections from 0.5: on the 100-shopper stream (30 s, seed 0) it scored
  HOTA 0.20 with the kiosk comparison's 0.5 m boxes and 0.5 / 0.6 thresholds, 0.44 with
  these (1.5 m boxes: 0.44 too).

The issue's targets: HOTA >= 0.60 at 100 shoppers and >= 0.50 at 500, at >= 500k
detections/s at 100 on one core. Switched on (tests/benchmarks/speed.py) the streams are
60 s at 20 / 100 / 500 shoppers and the speed is asserted; in the default suite one 30 s
stream of 100 shoppers runs, and the accuracy asserts hold there too.
"""

from __future__ import annotations

import importlib.util
import os
from importlib.metadata import version

import numpy as np
import pytest
from benchmarks import tracker_peers as peers

from experiments.bench.pointstream import PointStreamConfig, frames_of, generate, run_ours
from experiments.runs.track import Detections
from experiments.scoring.hota import score_hota

HZ = 10.0
NORFAIR = peers.NorfairSettings(hit_counter_max=10)
BYTETRACK = peers.ByteTrackSettings(lost_track_buffer=30, track_activation_threshold=0.3,
                                    high_conf_det_threshold=0.5, footprint_m=1.0)
HOTA_TARGET = {100: 0.60, 500: 0.50}


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
            f"{module} is not installed (see .ci/setup)")


def test_trackers_on_independent_point_streams(benchmark, speed, capsys) -> None:
    _need("norfair")
    _need("trackers")
    crowds = speed.size((20, 100, 500), (100,))
    seconds = speed.size(60.0, 30.0)
    lines = [f"\nindependent point streams, {seconds:g} s at {HZ:g} Hz "
             f"(experiments.bench.pointstream, seed 0)",
             f"{'shoppers':>8} {'tracker':<30}{'HOTA':>7}{'DetA':>7}{'AssA':>7}{'LocA':>7}"
             f"{'det/s':>10}"]
    scores: dict[tuple[int, str], float] = {}
    for n in crowds:
        s = generate(PointStreamConfig(shoppers=n, seconds=seconds, seed=0))
        recs = frames_of(s)
        gt = (s.gt_frame, s.gt_id, s.gt_xy)
        run_ours(s, records=recs)                       # loads the compiled tracker
        mine = (benchmark.pedantic(run_ours, args=(s,), kwargs={"records": recs}, rounds=1,
                                   iterations=1) if n == 100 else run_ours(s, records=recs))
        fused = peers.load_stream(Detections(s.frame, s.t, s.camera, s.xy, s.conf))
        rows = {"storetwin (0.8 s look-ahead)": (mine.frame, mine.track_id, mine.xy,
                                                 mine.loop_s)}
        nf = peers.run_norfair(fused, NORFAIR)
        rows[f"norfair {version('norfair')}"] = (nf.frame, nf.track_id, nf.xy, nf.loop_s)
        bt = peers.run_bytetrack(fused, BYTETRACK, hz=HZ)
        rows[f"ByteTrack (trackers {version('trackers')})"] = (bt.frame, bt.track_id, bt.xy,
                                                               bt.loop_s)
        for name, (fr, ids, xy, loop_s) in rows.items():
            h = score_hota(*gt, fr, ids, xy)
            dps = s.frame.size / loop_s
            scores[(n, name.split()[0].lower())] = h.hota
            benchmark.extra_info[f"{name.split()[0].lower()}_{n}_hota"] = round(h.hota, 4)
            benchmark.extra_info[f"{name.split()[0].lower()}_{n}_detections_per_s"] = round(dps)
            lines.append(f"{n:>8} {name:<30}{h.hota:>7.3f}{h.deta:>7.3f}{h.assa:>7.3f}"
                         f"{h.loca:>7.3f}{dps:>10.0f}")
        if n == 100:
            ours_dps = s.frame.size / mine.loop_s
    text = "\n".join(lines)
    with capsys.disabled():
        print(text)  # noqa: T201 - the comparison table is this benchmark's output
    for n in crowds:
        for peer in ("norfair", "bytetrack"):
            assert scores[(n, "storetwin")] > scores[(n, peer)], f"{peer} beats us{text}"
        if n in HOTA_TARGET:
            assert scores[(n, "storetwin")] >= HOTA_TARGET[n], text
    speed.target(">= 500k detections/s at 100 shoppers", ours_dps >= 500_000, text)
    assert np.isfinite(ours_dps)
