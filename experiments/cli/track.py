"""storetwin track: the tracker alone on a floor-detection file."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from experiments.cli.common import (
    CliError,
    load_store_arg,
    writable_file,
)

# the longest wait for smoother positions (issue 22: a bounded look-ahead of up to 2 s)
MAX_LOOKAHEAD_S = 2.0


def cmd_track(a: argparse.Namespace) -> int:
    from experiments.runs.track import DetectionFileError, read_detections, track, write_tracks_csv

    if a.hz is not None and not (math.isfinite(a.hz) and 0 < a.hz <= 1000):
        raise CliError(f"--hz must be a frame rate in (0, 1000] Hz, got {a.hz:g}")
    if not (math.isfinite(a.lookahead) and 0 <= a.lookahead <= MAX_LOOKAHEAD_S):
        raise CliError(f"--lookahead must be from 0 to {MAX_LOOKAHEAD_S:g} s, got "
                       f"{a.lookahead:g}")
    if not (math.isfinite(a.cold_start) and 0 <= a.cold_start <= 86400):
        raise CliError(f"--cold-start must be in [0, 86400] s, got {a.cold_start:g}")
    out = writable_file(a.out, "--out")
    stats = writable_file(a.stats, "--stats") if a.stats else None
    entrance = exit_ = None
    if a.store:
        store = load_store_arg(a.store, "--store")
        entrance, exit_ = np.asarray(store.entrance_region), np.asarray(store.exit_region)
    try:
        d = read_detections(a.detections)
        res = track(d, a.hz, entrance, exit_, a.lookahead, a.cold_start)
    except DetectionFileError as e:
        raise CliError(str(e)) from None
    try:
        write_tracks_csv(out, res)
        if stats is not None:
            stats.write_text(json.dumps(res.stats(), indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    summary = {**res.stats(), "out": str(out)}
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"{summary['detections']:,} detections in {summary['frames']:,} frames at "
              f"{res.camera_hz:g} Hz -> {summary['tracks']} tracks ({summary['track_rows']:,} "
              f"rows) in {out}; tracking loop {res.loop_s:.3f} s "
              f"({summary['detections_per_s'] or 0:,} detections/s)")
    return 0


def add(sub) -> None:
    """The ``track`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    tk = sub.add_parser(
        "track", help="run the tracker alone on a floor-detection file",
        description="Run storetwin's multi-camera tracker alone on a floor-detection file "
                    "(CSV frame,t,camera,x,y,conf in metres and seconds, or a run folder's "
                    "streams/detections.parquet) and write its tracks as CSV "
                    "frame,t,track_id,x,y, for comparison with other trackers and standard "
                    "MOT scoring tools.",
        epilog="example: storetwin track runs/kiosk-seed0/streams/detections.parquet --store "
               "kiosk --out tracks.csv --stats stats.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    tk.add_argument("detections", metavar="DETECTIONS", help="detection file (.csv or .parquet)")
    tk.add_argument("--out", required=True, help="tracks CSV to write")
    tk.add_argument("--stats", help="also write JSON: loop_s (the tracking loop alone), "
                    "detections, frames, tracks, detections_per_s")
    tk.add_argument("--store", help="preset or spec .toml: track births at its entrance and "
                    "departures at its exit (default: anywhere, and after a timeout)")
    tk.add_argument("--hz", type=float, help="camera rate [Hz] (default: from the file's "
                    "frame numbers and times)")
    tk.add_argument("--lookahead", type=float, default=0.0, metavar="S",
                    help="smooth each track's positions with up to S seconds of what comes "
                    "after (0 to 2; the track latency; 0.8 scores best on issue 22's "
                    "independent streams; default 0: online positions)")
    tk.add_argument("--cold-start", type=float, default=0.0, metavar="S",
                    help="with --store: tracks may start anywhere during the file's first S "
                    "seconds (people already inside when it starts; default 0)")
    tk.add_argument("--json", action="store_true", help="print the summary as JSON")
    tk.set_defaults(func=cmd_track)
