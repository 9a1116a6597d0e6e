"""``storetwin track``: the tracker alone on a floor-detection file, as another tracker's
user would run it, in a subprocess."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from support import one_error, storetwin

from experiments.runs.config import RunConfig
from experiments.runs.run import run
from experiments.scoring.tracking import score_tracking


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 2-minute kiosk run with its streams and its live tracks."""
    out = tmp_path_factory.mktemp("track") / "run"
    run(RunConfig(minutes=2, seed=4), out=out)
    return out


def read_tracks(path) -> np.ndarray:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["frame", "t", "track_id", "x", "y"]
    return np.array([[float(v) for v in r] for r in rows[1:]])


def test_parquet_streams_give_the_live_cores_tracks(recorded, tmp_path) -> None:
    out, stats = tmp_path / "tracks.csv", tmp_path / "stats.json"
    proc = storetwin("track", str(recorded / "streams" / "detections.parquet"), "--store",
                     "kiosk", "--out", str(out), "--stats", str(stats), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    got = read_tracks(out)
    live = pq.read_table(recorded / "tracks.parquet").to_pydict()
    want = np.column_stack([live["frame"], live["t"], live["track_id"], live["x"], live["y"]])
    assert got.shape == want.shape and got.shape[0] > 500
    assert np.array_equal(got[:, [0, 2]], want[:, [0, 2]])       # same frames, same ids
    assert np.abs(got[:, [1, 3, 4]] - want[:, [1, 3, 4]]).max() < 1e-9
    doc = json.loads(stats.read_text())
    det = pq.read_table(recorded / "streams" / "detections.parquet").num_rows
    assert doc["detections"] == summary["detections"] == det
    assert doc["loop_s"] > 0 and doc["detections_per_s"] > 0
    assert doc["camera_hz"] == 15.0
    assert doc["tracks"] == len(set(live["track_id"]))


def test_a_csv_file_without_a_store_is_tracked_and_scores_like_a_tracker(recorded,
                                                                          tmp_path) -> None:
    det = pq.read_table(recorded / "streams" / "detections.parquet").to_pydict()
    src = tmp_path / "dets.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "t", "camera", "x", "y", "conf"])
        for row in zip(*(det[c] for c in ("frame", "t", "camera", "x", "y", "conf")),
                       strict=True):
            w.writerow(row)
    out = tmp_path / "t.csv"
    proc = storetwin("track", str(src), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "detections/s" in proc.stdout
    hy = read_tracks(out)
    gt = pq.read_table(recorded / "ground_truth" / "tracks.parquet").to_pydict()
    s = score_tracking(np.array(gt["frame"]), np.array(gt["shopper_id"]),
                       np.column_stack([gt["x"], gt["y"]]), hy[:, 0].astype(np.int64),
                       hy[:, 2].astype(np.int64), hy[:, 3:5], threshold_m=1.0)
    assert s.as_dict()["idf1"] > 0.6      # a real tracker on real detections
    # and not the ground truth copied: the ids are the tracker's own, counted from 0
    assert set(np.unique(hy[:, 2]).astype(int)) == set(range(len(np.unique(hy[:, 2]))))


def _write(tmp_path, text: str):
    p = tmp_path / "d.csv"
    p.write_text(text)
    return p


@pytest.mark.parametrize(("text", "words"), [
    ("frame,t,cam,x,y,conf\n", ["d.csv", "line 1", "frame,t,camera,x,y,conf"]),
    ("frame,t,camera,x,y,conf\n0,0.0,1,2.0,abc,0.9\n", ["d.csv", "line 2", "y", "abc"]),
    ("frame,t,camera,x,y,conf\n0,0.0,1,2.0,3.0,1.5\n", ["d.csv", "line 2", "conf", "[0, 1]"]),
    ("frame,t,camera,x,y,conf\n1,0.1,1,2,3,0.9\n0,0.0,1,2,3,0.9\n", ["line 3", "frame order"]),
    ("frame,t,camera,x,y,conf\n0,0.1,1,2,3,0.9\n1,0.1,1,2,3,0.9\n", ["line 3", "forward"]),
    ("frame,t,camera,x,y,conf\n0,0.1,1,2,3\n", ["line 2", "5 fields"]),
])
def test_a_bad_detection_file_is_one_error_line(tmp_path, text, words) -> None:
    p = _write(tmp_path, text)
    one_error(storetwin("track", str(p), "--out", str(tmp_path / "o.csv")), *words)
    assert not (tmp_path / "o.csv").exists()


def test_bad_flags_are_one_error_line(tmp_path) -> None:
    p = _write(tmp_path, "frame,t,camera,x,y,conf\n0,0.0,1,2.0,3.0,0.9\n")
    one_error(storetwin("track", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")),
              "nope.csv", "not found")
    one_error(storetwin("track", str(p), "--out", str(tmp_path / "o.csv"), "--hz", "0"),
              "--hz")
    one_error(storetwin("track", str(p), "--out", str(tmp_path)), "--out", "folder")
    one_error(storetwin("track", str(p), "--out", str(tmp_path / "o.csv"), "--lookahead",
                        "3"), "--lookahead", "0 to 2")
    one_error(storetwin("track", str(p), "--out", str(tmp_path / "o.csv"), "--cold-start",
                        "-1"), "--cold-start")


def test_look_ahead_smooths_the_tracks_and_says_its_latency(recorded, tmp_path) -> None:
    src = recorded / "streams" / "detections.parquet"
    rows = {}
    for la in ("0", "0.8"):
        out, stats = tmp_path / f"t{la}.csv", tmp_path / f"s{la}.json"
        proc = storetwin("track", str(src), "--store", "kiosk", "--out", str(out),
                         "--stats", str(stats), "--lookahead", la)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(stats.read_text())["track_latency_s"] == float(la)
        rows[la] = read_tracks(out)
    online, smooth = rows["0"], rows["0.8"]
    np.testing.assert_array_equal(online[:, :3], smooth[:, :3])   # the same tracks, ids
    moved = np.linalg.norm(online[:, 3:5] - smooth[:, 3:5], axis=1)
    assert 0.0 < np.median(moved) < 0.1 and moved.max() < 1.0      # positions refitted


def test_a_bad_appearance_column_is_one_error_line(recorded, tmp_path) -> None:
    import pyarrow as pa

    tab = pq.read_table(recorded / "streams" / "detections.parquet")
    app = np.asarray(tab.column("appearance").combine_chunks().flatten(), np.float32)
    d = tab.column("appearance").type.list_size
    app = app.reshape(-1, d).copy()
    app[7, 3] = np.nan
    bad = tab.set_column(tab.column_names.index("appearance"), "appearance",
                         pa.FixedSizeListArray.from_arrays(pa.array(app.ravel()), d))
    src = tmp_path / "bad.parquet"
    pq.write_table(bad, src)
    one_error(storetwin("track", str(src), "--out", str(tmp_path / "o.csv")),
              "bad.parquet", "row 8", "appearance")
