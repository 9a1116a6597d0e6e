"""Our tracker against norfair and ByteTrack on one recorded floor-detection stream.

The stream is a real twin run: the kiosk, 20 shoppers over 3 simulated minutes, ceiling
cameras at 15 Hz (``streams/detections.parquet``; several cameras see most shoppers, so
there are more raw detections than people). Ground truth for the scores is
``ground_truth/tracks.parquet``.

- storetwin: ``experiments.runs.track.track`` with the store's entrance and exit, exactly as
  ``storetwin track --store kiosk`` runs it, on the raw multi-camera detections; its
  cross-camera fusion happens inside its timed loop.
- norfair 2.3.0: ``Tracker(distance_function="euclidean")`` on one floor point per
  person, gate 0.8 m (our ``gate_m``), alive 15 frames after its last hit (1 s, our
  ``max_missed_s``), confirmed on the third hit (our ``confirm_hits``), its default
  Kalman filter.
- ByteTrack (roboflow ``trackers`` 2.6.1, ``ByteTrackTracker``; ``supervision`` no longer
  ships one): each floor point becomes a 1 m footprint box in a 1 px = 1 cm frame, with
  its confidence; frame rate 15, lost after 1 s, confirmed on the third hit, tracks born
  at confidence >= 0.5 (our ``birth_min_conf``), its other defaults.

Neither peer knows that several cameras see one person, so the peers get the stream AFTER
our cross-camera fusion (``core.fusion.fuse_detections``, radius 0.5 m, fused
confidence), computed once outside their timed loops, and their inputs (norfair
``Detection`` lists, ``supervision.Detections``) are built before their loops too: one
point per person and no fusion to pay for. That favours them both in speed and in
accuracy. Ours also does more per frame (re-identification candidates, exit departures,
history for the billing core).

Each loop is timed alone (``perf_counter`` around the per-frame loop and the collection of
its output rows), ours best of three rounds and each peer best of two, interleaved. Every
tracker's detections/s has the same numerator, the raw detections of the stream, so a
ratio of detections/s is a ratio of loop times. IDF1, MOTA and ID switches come from
``experiments.scoring.tracking.score_tracking`` at 1.0 m, as ``storetwin run`` scores. The
issue's targets are ratios (ours >= 20x norfair's and >= 3x ByteTrack's detections/s,
asserted when benchmarks are switched on: tests/benchmarks/conftest.py; the default suite
runs each tracker once and records them) and our IDF1 >= each peer's (always asserted);
absolute figures go to ``benchmark.extra_info`` and a table is printed.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pyarrow.parquet as pq
import pytest
from benchmarks import tracker_peers as peers

from experiments.runs.config import RunConfig
from experiments.runs.run import run
from experiments.runs.track import Detections, read_detections, track
from experiments.scoring.tracking import score_tracking
from scenes.presets import load_preset

CAMERA_HZ = 15.0
OURS_ROUNDS = 3
PEER_ROUNDS = 2
THRESHOLD_M = 1.0          # scoring distance, as storetwin run
PEER_IDF1_FLOOR = 0.5      # below this a peer is misconfigured, not beaten


def _need(module: str, pip: str) -> None:
    if importlib.util.find_spec(module) is None:
        # .ci/setup installs the peers: under CI a missing one is a failure, not a skip
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(f"{module} is not installed (pip install -e '.[dev]', then {pip}; "
                    "see .ci/setup)")


@dataclass(frozen=True, repr=False)     # repr=False: a failure shows no 30k-row arrays
class Recorded:
    raw: Detections                                  # the stream as recorded
    gt: tuple[np.ndarray, np.ndarray, np.ndarray]    # frame, shopper_id, xy [m]
    fused: peers.FusedStream                         # the peers' input


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """The recorded kiosk stream (raw detections), its ground truth and its fused frames."""
    _need("norfair", "pip install norfair==2.3.0 --no-deps")
    _need("trackers", "pip install trackers")
    out = tmp_path_factory.mktemp("tracker_compare") / "run"
    run(RunConfig(store="kiosk", minutes=3, shoppers=20, seed=0, record_streams=True),
        out=out)
    d = read_detections(out / "streams" / "detections.parquet")
    g = pq.read_table(out / "ground_truth" / "tracks.parquet").to_pydict()
    gt = (np.asarray(g["frame"], np.int64), np.asarray(g["shopper_id"], np.int64),
          np.column_stack([g["x"], g["y"]]))
    return Recorded(d, gt, peers.load_stream(d))


def test_tracker_beats_norfair_and_bytetrack_on_one_stream(stream, benchmark, speed,
                                                           capsys) -> None:
    d, gt, fused = stream.raw, stream.gt, stream.fused
    store = load_preset("kiosk")
    entrance, exit_ = np.asarray(store.entrance_region), np.asarray(store.exit_region)
    ours_loops: list[float] = []

    def ours():
        res = track(d, CAMERA_HZ, entrance, exit_)
        ours_loops.append(res.loop_s)
        return res

    runners = {f"norfair {version('norfair')}": peers.run_norfair,
               f"ByteTrack (trackers {version('trackers')})": peers.run_bytetrack}
    peer_best: dict[str, peers.TrackRows] = {}
    ours_rounds, peer_rounds = speed.size(OURS_ROUNDS, 1), speed.size(PEER_ROUNDS, 1)
    for k in range(max(ours_rounds, peer_rounds)):
        if k < ours_rounds - 1:
            ours()
        for name, fn in runners.items():
            if k < peer_rounds:
                rows = fn(fused)
                if name not in peer_best or rows.loop_s < peer_best[name].loop_s:
                    peer_best[name] = rows
    mine = benchmark.pedantic(ours, rounds=1, iterations=1)   # ours' last round
    assert mine.frames == fused.frame.size       # everyone saw the same ticks
    assert len(ours_loops) >= ours_rounds

    results = {"storetwin": (min(ours_loops), mine.frame, mine.track_id, mine.xy)}
    for name, rows in peer_best.items():
        results[name] = (rows.loop_s, rows.frame, rows.track_id, rows.xy)
    n = fused.raw_detections
    ours_dps = n / results["storetwin"][0]
    table, info = [], {"raw_detections": n, "fused_detections": fused.fused_detections,
                       "frames": int(fused.frame.size), "camera_hz": CAMERA_HZ,
                       "gt_ids": int(np.unique(gt[1]).size)}
    for name, (loop_s, fr, ids, xy) in results.items():
        s = score_tracking(*gt, fr, ids, xy, threshold_m=THRESHOLD_M)
        dps = n / loop_s
        table.append((name, loop_s, dps, ours_dps / dps, s.idf1, s.mota, s.id_switches))
        key = name.split()[0].lower()
        info.update({f"{key}_loop_s": round(loop_s, 4), f"{key}_detections_per_s": round(dps),
                     f"{key}_ratio": round(ours_dps / dps, 2),
                     f"{key}_idf1": round(s.idf1, 4), f"{key}_mota": round(s.mota, 4),
                     f"{key}_id_switches": s.id_switches})
    benchmark.extra_info.update(info)
    lines = [f"\ntracker comparison: {n} raw detections ({fused.fused_detections} fused), "
             f"{fused.frame.size} frames at {CAMERA_HZ:g} Hz, {info['gt_ids']} shoppers",
             f"{'tracker':<28}{'loop s':>9}{'det/s':>10}{'ours/x':>8}{'IDF1':>8}"
             f"{'MOTA':>8}{'IDSW':>6}"]
    lines += [f"{name:<28}{loop_s:>9.3f}{dps:>10.0f}{ratio:>8.2f}{idf1:>8.3f}{mota:>8.3f}"
              f"{idsw:>6d}" for name, loop_s, dps, ratio, idf1, mota, idsw in table]
    text = "\n".join(lines)
    with capsys.disabled():
        print(text)  # noqa: T201 - the comparison table is this benchmark's output

    ratio = {name.split()[0].lower(): row[3] for name, row in zip(results, table, strict=True)}
    idf1 = {name.split()[0].lower(): row[4] for name, row in zip(results, table, strict=True)}
    for peer in ("norfair", "bytetrack"):
        assert idf1[peer] > PEER_IDF1_FLOOR, f"{peer} misconfigured?{text}"  # not a strawman
    speed.target("ours >= 20x norfair's detections/s", ratio["norfair"] >= 20.0, text)
    speed.target("ours >= 3x ByteTrack's detections/s", ratio["bytetrack"] >= 3.0, text)
    assert idf1["storetwin"] >= idf1["norfair"], f"our IDF1 < norfair's{text}"
    assert idf1["storetwin"] >= idf1["bytetrack"], f"our IDF1 < ByteTrack's{text}"
