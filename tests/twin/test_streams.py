"""Recording a short kiosk simulation to Parquet and replaying it; bad stream files."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.records import PlateSamples, SensorBatch
from scenes import load_preset
from twin.appearance import D
from twin.cameras import CameraSystem, DetectionModel
from twin.camgeom import ceiling_grid
from twin.sensors import EntryGate, PlateSensors
from twin.sim import Clock, Simulation
from twin.streams import StreamFileError, StreamRecorder, read_streams
from twin.world import World

DURATION_S = 20.0
ACCOUNT = 4_242_424


class WalkPickLeave:
    """One shopper: checks in, walks in a straight line to a bin, picks one unit after a
    second's reach, walks back out and is gone (a minimal ``twin.sim.Population``)."""

    def __init__(self, start: np.ndarray, stand: np.ndarray, bin_index: int,
                 speed: float = 1.2) -> None:
        self.start = np.asarray(start, dtype=np.float64)
        self.stand = np.asarray(stand, dtype=np.float64)
        self.bin = bin_index
        self.speed = speed
        self.walk_s = float(np.linalg.norm(self.stand - self.start)) / speed
        self.xy: np.ndarray | None = None
        self.t_in: float | None = None
        self.picked = 0
        self.woken = False

    def step(self, t: float, dt: float, world: World, gate: EntryGate) -> None:
        if self.t_in is None:
            self.t_in = t
            gate.check_in(t, ACCOUNT)
        s = t - self.t_in
        if s < self.walk_s:
            self.xy = self.start + (self.stand - self.start) * (s / self.walk_s)
        elif s < self.walk_s + 2.0:
            self.xy = self.stand.copy()
            if not self.woken:
                world.wake(self.bin)
                self.woken = True
            if s >= self.walk_s + 1.0 and not self.picked:
                self.picked = world.pick(self.bin, 1)
        elif s < 2 * self.walk_s + 2.0:
            back = (s - self.walk_s - 2.0) / self.walk_s
            self.xy = self.stand + (self.start - self.stand) * back
        else:
            self.xy = None  # out of the door

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        if self.xy is None:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        return np.array([0], np.int64), self.xy[None].copy()

    def looks(self, ids: np.ndarray) -> np.ndarray:
        """A red top, denim bottoms, light skin (agents.looks rows): cameras describe how
        each detection looks."""
        return np.tile(np.array([[170, 35, 40], [55, 75, 115], [224, 172, 130]], np.uint8),
                       (len(ids), 1, 1))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    store = load_preset("kiosk")
    world = World(store)
    clock = Clock()
    ss = np.random.SeedSequence(2024).spawn(2)
    cams = CameraSystem(store, ceiling_grid(store), DetectionModel(fp_per_frame=0.01),
                        rng=np.random.default_rng(ss[0]))
    plates = PlateSensors(len(store.bins), rng=np.random.default_rng(ss[1]))
    gate = EntryGate()
    b = 0
    who = WalkPickLeave(np.array([1.8, 0.4]), store.bins.access_xy[b], b)
    sim = Simulation(world, who, cams, plates, gate, clock)
    rec = StreamRecorder(clock.plate_hz)
    ticks = []
    for tick in sim.run(DURATION_S):
        rec.add(tick.batch)
        ticks.append(tick)
    world.close()
    folder = tmp_path_factory.mktemp("run") / "streams"
    rec.write(folder)
    return {"store": store, "who": who, "ticks": ticks, "rec": rec, "folder": folder,
            "replay": list(read_streams(folder)), "world_count": world.count.copy()}


def live(recorded) -> list[SensorBatch]:
    return [t.batch for t in recorded["ticks"]]


def test_the_run_did_what_the_script_says(recorded) -> None:
    ticks = recorded["ticks"]
    assert len(ticks) == int(DURATION_S * Clock().plate_hz)
    assert recorded["who"].picked == 1
    store = recorded["store"]
    assert recorded["world_count"][0] == store.bins.count[0] - 1
    frames = [t for t in ticks if t.frame >= 0]
    assert [t.frame for t in frames] == list(range(len(frames)))
    assert len(frames) == int(DURATION_S * Clock().camera_hz)
    # the shopper is seen while inside, and the plate messages show the pick
    assert sum(len(t.batch.frames[0]) for t in frames if len(t.people_id)) > 100
    g = np.concatenate([p.grams[0] for b in live(recorded) for p in b.plates])
    unit = store.catalogue.mass_g[store.bins.sku_index[0]]
    assert g[:60].mean() - g[-60:].mean() == pytest.approx(unit, abs=15.0)


def test_replay_has_the_same_records_as_live(recorded) -> None:
    lv, rp = live(recorded), recorded["replay"]
    rec = recorded["rec"]
    n_det = sum(len(f) for b in lv for f in b.frames)
    assert rec.detections == n_det
    assert sum(len(f) for b in rp for f in b.frames) == n_det
    lp = [p for b in lv for p in b.plates]
    rpp = [p for b in rp for p in b.plates]
    assert len(rpp) == len(lp) == int(DURATION_S * 60 / 12)
    assert rec.plate_samples == sum(p.grams.size for p in lp)
    for a, b in zip(lp, rpp, strict=True):
        assert np.array_equal(a.plate, b.plate)
        assert np.array_equal(a.grams, b.grams)
        assert np.allclose(a.t, b.t, rtol=0, atol=1e-9)
    lg = [g for b in lv for g in b.gate]
    rg = [g for b in rp for g in b.gate]
    assert len(lg) == len(rg) == 1
    assert rg[0].account.tolist() == lg[0].account.tolist() == [ACCOUNT]
    assert rg[0].t.tolist() == lg[0].t.tolist()


def test_replayed_frames_equal_the_live_frames(recorded) -> None:
    lf = [f for b in live(recorded) for f in b.frames]
    rf = [f for b in recorded["replay"] for f in b.frames]
    assert len(rf) == len(lf)
    for a, b in zip(lf, rf, strict=True):
        assert a.frame == b.frame and a.t == b.t
        assert np.array_equal(a.camera, b.camera)
        assert np.array_equal(a.xy, b.xy)
        assert np.array_equal(a.conf, b.conf)
        assert a.appearance.shape == (len(a), D)
        assert np.array_equal(a.appearance, b.appearance)


def test_a_recording_without_appearance_replays_with_none(recorded, tmp_path) -> None:
    """Older recordings have no appearance column: they replay the same, with (n, 0)."""
    meta = pq.read_schema(recorded["folder"] / "detections.parquet").metadata
    assert meta[b"appearance_dim"] == str(D).encode()
    for name in ("plates", "gate", "frames", "plate_messages", "hands"):
        (tmp_path / f"{name}.parquet").write_bytes(
            (recorded["folder"] / f"{name}.parquet").read_bytes())
    det = pq.read_table(recorded["folder"] / "detections.parquet")
    pq.write_table(det.drop(["appearance"]), tmp_path / "detections.parquet")
    old = [f for b in read_streams(tmp_path) for f in b.frames]
    new = [f for b in recorded["replay"] for f in b.frames]
    assert len(old) == len(new) and sum(len(f) for f in old) > 100
    for a, b in zip(old, new, strict=True):
        assert a.appearance.shape == (len(a), 0)
        assert np.array_equal(a.xy, b.xy) and np.array_equal(a.hand_xyz, b.hand_xyz)
    # a column of another size than its metadata says is named
    bad = det.replace_schema_metadata({b"appearance_dim": b"7"})
    pq.write_table(bad, tmp_path / "detections.parquet")
    with pytest.raises(StreamFileError, match="appearance"):
        list(read_streams(tmp_path))


def test_replay_batches_follow_live_ticks(recorded) -> None:
    by_t = {round(b.t * 1e6): b for b in live(recorded)}
    rp = recorded["replay"]
    assert [b.t for b in rp] == sorted(b.t for b in rp)
    for b in rp:
        lb = by_t[round(b.t * 1e6)]
        assert b.t == pytest.approx(lb.t, abs=1e-9)
        assert len(b.plates) == len(lb.plates)
        assert len(b.gate) == len(lb.gate)
        assert len(b.frames) == len(lb.frames)
        assert [x.frame for x in b.frames] == [y.frame for y in lb.frames]
        assert [p.t.tolist() for p in b.plates] == [p.t.tolist() for p in lb.plates]


def test_replay_keeps_frames_without_detections(recorded) -> None:
    lf = [f.frame for b in live(recorded) for f in b.frames]
    rf = [f.frame for b in recorded["replay"] for f in b.frames]
    assert any(len(f) == 0 for b in live(recorded) for f in b.frames)
    assert rf == lf


# -- bad files ------------------------------------------------------------------------------

@pytest.fixture
def copy(recorded, tmp_path):
    for name in ("detections", "plates", "gate", "frames", "plate_messages", "hands"):
        (tmp_path / f"{name}.parquet").write_bytes(
            (recorded["folder"] / f"{name}.parquet").read_bytes())
    return tmp_path


def test_copied_folder_replays(copy) -> None:
    assert sum(len(b.plates) for b in read_streams(copy)) == int(DURATION_S * 60 / 12)


@pytest.mark.parametrize("name", ["detections", "plates", "gate", "frames", "plate_messages",
                                  "hands"])
def test_missing_file_is_named(copy, name) -> None:
    (copy / f"{name}.parquet").unlink()
    with pytest.raises(StreamFileError) as err:
        list(read_streams(copy))
    assert f"{name}.parquet" in str(err.value)
    assert "not found" in str(err.value)


@pytest.mark.parametrize("name", ["detections", "plates", "gate"])
def test_corrupt_file_is_named(copy, name) -> None:
    p = copy / f"{name}.parquet"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(StreamFileError) as err:
        list(read_streams(copy))
    assert str(p) in str(err.value)


@pytest.mark.parametrize(("name", "column"), [
    ("detections", "conf"), ("detections", "frame"), ("plates", "grams"), ("gate", "account"),
])
def test_missing_column_is_named(copy, name, column) -> None:
    p = copy / f"{name}.parquet"
    tab = pq.read_table(p)
    pq.write_table(tab.drop_columns([column]).replace_schema_metadata(tab.schema.metadata), p)
    with pytest.raises(StreamFileError) as err:
        list(read_streams(copy))
    assert str(p) in str(err.value)
    assert column in str(err.value)


def test_missing_plate_rate_is_named(copy) -> None:
    p = copy / "plates.parquet"
    pq.write_table(pq.read_table(p).replace_schema_metadata({}), p)
    with pytest.raises(StreamFileError) as err:
        list(read_streams(copy))
    assert "plates.parquet" in str(err.value)
    assert "plate_hz" in str(err.value)


def test_empty_recording_round_trips(tmp_path) -> None:
    rec = StreamRecorder(60.0)
    rec.add(SensorBatch(0.1))
    rec.write(tmp_path)
    assert list(read_streams(tmp_path)) == []
    for name in ("detections", "plates", "gate"):
        assert pq.read_table(tmp_path / f"{name}.parquet").num_rows == 0
    assert pa.types.is_fixed_size_list(pq.read_table(tmp_path / "plates.parquet")
                                       .schema.field("grams").type)


def test_hand_overs_seen_round_trip_and_older_hands_files_read(tmp_path) -> None:
    """A frame's hand_pass (who gave, who took) is written to hands.parquet and read back;
    a hands.parquet without the pass columns (older recordings) replays with none."""
    from core.records import CameraFrame, GateCheckIns

    hp = np.array([[1.0, 2.0, 3.0, 4.0], [np.nan] * 4])
    f0 = CameraFrame(0, 0.1, np.array([0], np.int32), np.array([[1.0, 1.0]]),
                     np.array([0.9], np.float32), np.array([0, 1], np.int32),
                     np.array([[2.0, 3.0, 1.05], [5.0, 5.0, 0.9]]), None, hp)
    f1 = CameraFrame(1, 0.2, np.array([0], np.int32), np.array([[1.1, 1.0]]),
                     np.array([0.9], np.float32), np.array([0], np.int32),
                     np.array([[5.0, 5.0, 0.9]]))
    rec = StreamRecorder(60.0)
    gate = (GateCheckIns(np.array([0.1]), np.array([0], np.int32), np.array([7])),)
    rec.add(SensorBatch(0.1, (f0,), (), gate))
    rec.add(SensorBatch(0.2, (f1,), (), ()))
    rec.write(tmp_path)
    back = [f for b in read_streams(tmp_path) for f in b.frames]
    assert np.array_equal(back[0].hand_pass, hp, equal_nan=True)
    assert back[1].hand_pass is None
    hands = pq.read_table(tmp_path / "hands.parquet")
    pq.write_table(hands.drop(["pass_x0", "pass_y0", "pass_x1", "pass_y1"]),
                   tmp_path / "hands.parquet")
    old = [f for b in read_streams(tmp_path) for f in b.frames]
    assert old[0].hand_pass is None and np.array_equal(old[0].hand_xyz, f0.hand_xyz)
    with pytest.raises(ValueError, match="hand_pass"):
        CameraFrame(0, 0.1, np.zeros(0, np.int32), np.zeros((0, 2)), np.zeros(0, np.float32),
                    np.array([0], np.int32), np.array([[1.0, 1.0, 1.0]]), None,
                    np.zeros((2, 4)))


def test_cameras_that_see_both_people_report_who_gave() -> None:
    """A hand held out between two people in the open: the cameras that report it and see
    both bodies say where the giver and the receiver stand (within body noise); without
    receivers nothing is reported, and every other draw is the same either way."""
    store = load_preset("kiosk")
    cams = ceiling_grid(store)
    xy = np.array([[7.0, 2.2], [7.9, 2.2]])
    hands = np.array([[7.45, 2.2, 1.05], [np.nan] * 3])
    seen = 0
    a = CameraSystem(store, cams, DetectionModel(), np.random.default_rng(3))
    b = CameraSystem(store, cams, DetectionModel(), np.random.default_rng(3))
    for f in range(40):
        fa = a.detect(f, f / 15.0, xy, hands, receivers=np.array([1, -1]))
        fb = b.detect(f, f / 15.0, xy, hands)
        assert fb.hand_pass is None
        assert np.array_equal(fa.xy, fb.xy) and np.array_equal(fa.hand_xyz, fb.hand_xyz)
        if fa.hand_pass is not None:
            ok = np.isfinite(fa.hand_pass).all(axis=1)
            seen += int(ok.sum())
            assert np.all(np.linalg.norm(fa.hand_pass[ok, :2] - xy[0], axis=1) < 0.6)
            assert np.all(np.linalg.norm(fa.hand_pass[ok, 2:] - xy[1], axis=1) < 0.6)
    assert seen > 20


def test_streaming_to_disk_gives_the_same_files_every_tick_and_row_groups(recorded,
                                                                         tmp_path) -> None:
    """A recorder given its folder writes a row group every ``flush_s`` as the run goes
    (memory flat in simulated time); the replay is the same records, and every live tick
    (empty ones too) at the same time."""
    folder = tmp_path / "streams"
    rec = StreamRecorder(60.0, folder, flush_s=1.0)
    lv = live(recorded)
    half = len(lv) // 2
    for b in lv[:half]:
        rec.add(b)
    assert (folder / "plates.parquet").exists()                 # written while running
    for b in lv[half:]:
        rec.add(b)
    rec.write()
    md = pq.ParquetFile(folder / "plates.parquet").metadata
    assert md.num_row_groups >= int(DURATION_S) - 1
    rp = list(read_streams(folder))
    assert [b.t for b in rp] == [b.t for b in lv]
    for a, b in zip(lv, rp, strict=True):
        assert [f.frame for f in a.frames] == [f.frame for f in b.frames]
        for fa, fb in zip(a.frames, b.frames, strict=True):
            assert np.array_equal(fa.xy, fb.xy) and np.array_equal(fa.camera, fb.camera)
        for pa_, pb in zip(a.plates, b.plates, strict=True):
            assert np.array_equal(pa_.grams, pb.grams)
    old = list(read_streams(recorded["folder"]))   # the buffered writer: same records
    assert sum(len(f) for b in old for f in b.frames) == sum(len(f) for b in rp
                                                            for f in b.frames)


def test_plate_messages_of_changing_plate_sets_round_trip(tmp_path) -> None:
    """Dead plates send nothing: messages then hold fewer plates, and replay keeps each
    message's own plates."""
    rec = StreamRecorder(60.0, tmp_path / "s", flush_s=0.1)
    sent = []
    for i in range(6):
        plate = np.arange(5) if i % 2 == 0 else np.array([0, 2, 4])
        t = (i * 12 + 1 + np.arange(12)) / 60.0
        m = PlateSamples(t, plate, np.full((plate.size, 12), float(i)))
        sent.append(m)
        rec.add(SensorBatch(float(t[-1]), (), (m,)))
    rec.write()
    got = [p for b in read_streams(tmp_path / "s") for p in b.plates]
    assert [p.plate.tolist() for p in got] == [m.plate.tolist() for m in sent]
    assert all(np.array_equal(a.grams, b.grams) for a, b in zip(sent, got, strict=True))
