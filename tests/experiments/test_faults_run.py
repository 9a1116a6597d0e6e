"""Faults through the whole pipeline (docs/faults.md): a crashed core restarts from its
checkpoint and bills as if it never crashed; broken plates put every receipt they touched
in review, never out as sure and wrong; late, skewed streams replay as they ran; bad
schedules are one error."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from support import one_error, storetwin

from core.store_core import StoreCore
from experiments.runs.config import RunConfig
from experiments.runs.replay import replay
from experiments.runs.run import run
from twin.faults import faults_from_dict


def _run(minutes: float, faults: dict | None, out=None, seed: int = 0, **kw):
    return run(RunConfig(minutes=minutes, seed=seed, core_process=False,
                         record_streams=out is not None,
                         faults=None if faults is None else faults_from_dict(faults), **kw),
               out=out, core=StoreCore())


def _receipts(r) -> list[dict]:
    return sorted((x.to_json() for x in r.receipts), key=lambda d: (d["account"], d["total"]))


def test_a_crashed_core_restarts_from_its_checkpoint_and_bills_the_same():
    plain = _run(4.0, None)
    crashed = _run(4.0, {"core": {"crash_at_s": 200.0, "checkpoint_s": 30.0}})
    f = crashed.metrics["faults"]
    assert f["core_crashed_at_s"] == pytest.approx(200.0, abs=0.02)
    # saved at 0, 30, ..., 180 s, crashed at 200 s (20 s of batches fed again), saved at
    # 210 s and 240 s
    assert f["checkpoints"] == 9 and f["batches_replayed"] == 20 * 60
    assert any(r.t_issued < 180.0 for r in plain.receipts)   # some before the checkpoint
    h = plain.metrics["core"]["sensor_health"]                # healthy sensors: no doubt
    assert h["plate_doubts"] == 0 and h["camera_doubts"] == 0
    assert _receipts(crashed) == _receipts(plain)
    assert crashed.metrics["tracking"] == plain.metrics["tracking"]


def test_with_every_plate_nan_every_receipt_with_a_pick_is_flagged():
    r = _run(4.0, {"plates": [{"kind": "nan", "fraction": 1.0}]})
    picked = {a for a, cart in r.truth.items() if cart}
    assert len(picked) >= 3
    issued = {x.account: x for x in r.receipts}
    for a in picked:
        acct = a[0] if isinstance(a, tuple) else a
        rec = issued.get(acct)
        assert rec is not None and rec.review, (acct, rec)
        assert any("sensing: plate" in why for why in rec.reasons)
    h = r.metrics["core"]["sensor_health"]
    assert h["plate_doubts"] == r.metrics["run"]["plates"]
    assert r.metrics["billing"]["silent_wrong"] == 0


def test_stuck_plates_are_found_and_nothing_unflagged_is_wrong(tmp_path):
    out = tmp_path / "run"
    r = _run(4.0, {"plates": [{"kind": "stuck", "fraction": 0.3, "start_s": 60}]}, out=out)
    truth = pq.read_table(out / "ground_truth" / "faults.parquet").to_pydict()
    stuck = set(truth["id"])
    assert len(stuck) == round(0.3 * r.metrics["run"]["plates"])
    assert set(truth["kind"]) == {"stuck"} and set(truth["start_s"]) == {60.0}
    found = {d["plate"] for d in r.metrics["core"]["sensor_health"]["plates_in_doubt"]}
    assert found == stuck                      # every stuck plate found, no healthy one
    # some shopper did pick from a stuck plate after it stuck (the test is not vacuous)
    ev = pq.read_table(out / "ground_truth" / "events.parquet").to_pandas()
    know = json.loads((out / "knowledge.json").read_text())
    plate_of_bin = np.asarray(know["plates"]["plate"])
    hit = ev[(ev.action == "pick") & (ev.t > 61.0)]
    assert np.isin(plate_of_bin[hit.bin.to_numpy()], list(stuck)).any()
    b = r.metrics["billing"]
    assert b["silent_wrong"] == 0 and b["receipts_flagged"] >= 1


def test_unloaded_plates_are_found_from_the_reaches_cameras_saw(tmp_path):
    """A plate that reads a live, noisy load that never moves passes every check of the
    readings alone; hands seen reaching into its bins with no change of load give it
    away, and those shoppers' receipts go to review."""
    out = tmp_path / "run"
    r = _run(4.0, {"plates": [{"kind": "unloaded", "fraction": 0.5, "start_s": 30}]}, out=out)
    truth = set(pq.read_table(out / "ground_truth" / "faults.parquet").to_pydict()["id"])
    doubts = r.metrics["core"]["sensor_health"]["plates_in_doubt"]
    found = {d["plate"] for d in doubts}
    assert found <= truth and {d["why"][:7] for d in doubts} <= {"unmoved"}   # none healthy
    flagged = [x for x in r.receipts if any("no plate within reach changed" in why
                                            for why in x.reasons)]
    assert flagged and all(x.review for x in flagged)


def test_camera_outage_found_and_late_skewed_streams_replay_as_live(tmp_path):
    out = tmp_path / "run"
    r = _run(2.0, {"cameras": [{"fraction": 0.25, "start_s": 30, "end_s": 90}],
                   "streams": {"late_s": 1.0, "drop_frames": 0.02},
                   "clock": {"cameras_s": 0.05, "plates_s": -0.1}}, out=out)
    h = r.metrics["core"]["sensor_health"]
    truth = pq.read_table(out / "ground_truth" / "faults.parquet").to_pydict()
    down = {i for i, k in zip(truth["id"], truth["target"], strict=True) if k == "camera"}
    found = {d["camera"] for d in h["cameras_in_doubt"]}
    assert found and found <= down             # silent cameras found; no healthy one blamed
    assert all(30 <= d["since_s"] <= 90 for d in h["cameras_in_doubt"])
    assert 1.0 <= h["reorder_window_s"] <= 5.0 and h["late_messages"] > 1000
    assert sum(h["late_dropped"].values()) <= 20
    assert r.metrics["faults"]["camera_frames_dropped"] > 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["faults"]["streams"]["late_s"] == 1.0
    rep = replay(out)
    assert rep.same_as_live


@pytest.mark.parametrize(("text", "words"), [
    ("[[plates]]\nkind = 'stuk'\nfraction = 0.1\n", ("bad.toml", "kind", "'stuck'")),
    ("[[cameras]]\nids = [9999]\n", ("bad.toml", "camera 9999 does not exist")),
    ("[streams\n", ("bad.toml", "not valid TOML")),
])
def test_run_refuses_a_bad_fault_file_before_simulating(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    p = storetwin("run", "--minutes", "0.1", "--faults", str(f), "--out", str(tmp_path / "o"))
    one_error(p, *words)
    assert not (tmp_path / "o" / "receipts.json").exists()


class _Breaks(StoreCore):
    def step(self, batch):
        if batch.t > 20.0:
            raise RuntimeError("the billing computer lost power")
        return super().step(batch)


def test_a_run_replaces_its_folder_whole_and_a_failed_one_leaves_it_as_it_was(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "failure.json").write_text("{}")          # an earlier failed run's
    (out / "stale.txt").write_text("old")
    _run(0.5, None, out=out)
    names = {p.name for p in out.iterdir()}
    assert "failure.json" not in names and "stale.txt" not in names
    assert {"receipts.json", "metrics.json", "streams", "ground_truth"} <= names
    before = (out / "receipts.json").read_bytes()
    from experiments.runs.guard import CoreFault
    with pytest.raises(CoreFault):
        run(RunConfig(minutes=0.5, seed=1, core_process=False), out=out, core=_Breaks())
    assert (out / "receipts.json").read_bytes() == before          # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["run"]        # no partial folder left
