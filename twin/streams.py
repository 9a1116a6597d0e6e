"""Recording sensor streams to Parquet and reading them back as the same records.

Files in a run's ``streams/`` folder (schemas are part of the interchange format, README):
- ``detections.parquet``: frame int64, t float64 [s], camera int32, x, y float64 [m],
  conf float32 (the DESIGN's floor-detection format), and, where the detections carry one,
  appearance fixed_size_list<float32>[D] (``twin.appearance``), metadata ``appearance_dim``
  D (optional: a recording without it replays with no appearance, shape (n, 0)).
- ``plates.parquet``: t float64 [s] (first sample of the message), plate int32,
  grams fixed_size_list<float32>[k]; metadata ``plate_hz``.
- ``gate.parquet``: t float64 [s], gate int32, account int64, sent_t float64 [s].
- ``frames.parquet``: frame int64, t float64 [s] of every camera tick (a frame with no
  detections is still a frame the core saw), sent_t float64 [s].
- ``plate_messages.parquet``: t fixed_size_list<float64>[k], the exact sample times of each
  plate message, in message order; sent_t float64 [s].
- ``sent_t``: the time of the tick whose batch carried the record (a skewed clock stamps a
  record off its tick); replay hands the core one batch per tick, empty ticks included, as
  live. Optional: a recording without it replays grouped by the records' own times.
- ``hands.parquet``: frame int64, t float64 [s], camera int32, x, y, z float64 [m]: hands
  seen in shelf bins or held out to someone (optional: a recording without it replays with
  no hands); pass_x0, pass_y0, pass_x1, pass_y1 float64 [m]: for a hand-over that camera saw
  with both people, where the giver and the receiver stood (``CameraFrame.hand_pass``), NaN
  otherwise (optional: older recordings have none).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core.records import CameraFrame, GateCheckIns, PlateSamples, SensorBatch


class StreamFileError(ValueError):
    pass


DET_SCHEMA = pa.schema([("frame", pa.int64()), ("t", pa.float64()), ("camera", pa.int32()),
                        ("x", pa.float64()), ("y", pa.float64()), ("conf", pa.float32())])
GATE_SCHEMA = pa.schema([("t", pa.float64()), ("gate", pa.int32()), ("account", pa.int64())])
HAND_SCHEMA = pa.schema([("frame", pa.int64()), ("t", pa.float64()), ("camera", pa.int32()),
                         ("x", pa.float64()), ("y", pa.float64()), ("z", pa.float64()),
                         ("pass_x0", pa.float64()), ("pass_y0", pa.float64()),
                         ("pass_x1", pa.float64()), ("pass_y1", pa.float64())])
PASS_COLUMNS = ("pass_x0", "pass_y0", "pass_x1", "pass_y1")


@dataclass
class _Job:
    """One flush of :class:`StreamRecorder` for its writer thread: the appearance size and
    plate message length as decided then, the records taken (det and app, plates: None
    when they wait for a later flush)."""

    app_dim: int | None
    k: int | None
    hands: list
    frames: list
    gate: list
    det: list | None = None
    app: list | None = None
    plates: list | None = None


class StreamRecorder:
    """Sensor records to the ``streams/`` Parquet files (module doc).

    With ``folder`` the records go to disk as they come: a row group of each file every
    ``flush_s`` of simulated time, so a run's memory does not grow with its length; without,
    they are kept until :meth:`write`. Each record also keeps ``sent_t``, the time of the
    tick that produced it (the batch it came in), so a replay hands the core the very
    batches it was given live, even where a skewed clock stamps a record off its tick.
    """

    def __init__(self, plate_hz: float, folder: str | Path | None = None,
                 flush_s: float = 60.0) -> None:
        self.plate_hz = plate_hz
        self.folder = None if folder is None else Path(folder)
        self.flush_s = float(flush_s)
        self._next_flush = self.flush_s
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._app_dim: int | None = None      # the detections' appearance size, once known
        self._k: int | None = None            # samples a plate message
        self._pool = None                     # the writer thread (made on the first flush)
        self._pending = None                  # the flush it is writing
        self._clear()
        self.detections = 0
        self.plate_samples = 0

    def _clear(self) -> None:
        self._det: list[tuple] = []
        self._app: list[np.ndarray] = []
        self._hands: list[tuple] = []
        self._frames: list[tuple[int, float, float]] = []
        self._plates: list[tuple[PlateSamples, float]] = []
        self._gate: list[tuple[GateCheckIns, float]] = []

    def add(self, batch: SensorBatch) -> None:
        sent = float(batch.t)
        for f in batch.frames:
            n = len(f)
            self.detections += n
            self._det.append((np.full(n, f.frame, np.int64), np.full(n, f.t), f.camera,
                              f.xy[:, 0], f.xy[:, 1], f.conf))
            self._app.append(f.appearance)
            self._frames.append((int(f.frame), float(f.t), sent))
            h = len(f.hand_camera)
            if h:
                hp = np.full((h, 4), np.nan) if f.hand_pass is None else f.hand_pass
                self._hands.append((np.full(h, f.frame, np.int64), np.full(h, f.t),
                                    f.hand_camera, f.hand_xyz[:, 0], f.hand_xyz[:, 1],
                                    f.hand_xyz[:, 2], *hp.T))
        for p in batch.plates:
            self._plates.append((p, sent))
            self.plate_samples += p.grams.size
        self._gate.extend((g, sent) for g in batch.gate)
        if self.folder is not None and sent >= self._next_flush:
            self._flush()
            self._next_flush = sent + self.flush_s

    def _put(self, name: str, table: pa.Table, **opts) -> None:
        w = self._writers.get(name)
        if w is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            w = self._writers[name] = pq.ParquetWriter(
                self.folder / name, table.schema, compression="zstd",
                write_page_checksum=True, **opts)   # a flipped byte is an error, not data
        if table.num_rows:
            w.write_table(table)

    def _flush(self, final: bool = False) -> None:
        """The buffered records as one row group of each file: taken here, written by the
        recorder's writer thread (one flush at a time, in order: the same files as written
        here) while the run goes on; a writing error comes back at the next flush or at
        :meth:`write`. Detections wait until a frame shows the appearance size, plates
        until a message shows its sample count."""
        dims = {a.shape[1] for a in self._app if a.shape[0]}
        if len(dims) > 1 or (self._app_dim is not None and dims and dims != {self._app_dim}):
            raise ValueError(f"StreamRecorder: frames carry appearance of several sizes "
                             f"{sorted(dims | {self._app_dim or 0})}; a recording holds one")
        if self._app_dim is None and (dims or final):
            self._app_dim = dims.pop() if dims else 0
        if self._k is None and (self._plates or final):
            self._k = self._plates[0][0].t.shape[0] if self._plates else 12
        job = _Job(self._app_dim, self._k, self._hands, self._frames, self._gate)
        if self._app_dim is not None:     # (until a detection shows it, wait)
            job.det, job.app, self._det, self._app = self._det, self._app, [], []
        if self._k is not None:
            job.plates, self._plates = self._plates, []
        self._hands, self._frames, self._gate = [], [], []
        self._wait()
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="streams")
        self._pending = self._pool.submit(self._write_job, job)

    def _wait(self) -> None:
        """Wait for the flush being written; raise its error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write_job(self, job: _Job) -> None:
        """Write one flush's records (:meth:`_flush`) as a row group of each file."""
        if job.det is not None:
            cols = list(zip(*job.det, strict=True)) if job.det else [[]] * 6
            det = pa.table([pa.array(np.concatenate(c) if len(c) else np.zeros(0),
                                     type=f.type) for c, f in zip(cols, DET_SCHEMA,
                                                                  strict=True)],
                           schema=DET_SCHEMA)
            self._put("detections.parquet", _with_appearance(det, job.app, job.app_dim))
        cols = (list(zip(*job.hands, strict=True)) if job.hands
                else [[]] * len(HAND_SCHEMA))
        self._put("hands.parquet", pa.table(
            [pa.array(np.concatenate(c) if len(c) else np.zeros(0), type=f.type)
             for c, f in zip(cols, HAND_SCHEMA, strict=True)], schema=HAND_SCHEMA))
        if job.plates is not None:
            self._put_plates(job.plates, job.k)
        self._put("frames.parquet", pa.table({
            "frame": pa.array([f for f, _, _ in job.frames], pa.int64()),
            "t": pa.array([t for _, t, _ in job.frames], pa.float64()),
            "sent_t": pa.array([s for _, _, s in job.frames], pa.float64())}))
        gs = [g for g, _ in job.gate]
        self._put("gate.parquet", pa.table({
            "t": pa.array(np.concatenate([g.t for g in gs]) if gs else np.zeros(0),
                          pa.float64()),
            "gate": pa.array(np.concatenate([g.gate for g in gs]) if gs
                             else np.zeros(0, np.int32), pa.int32()),
            "account": pa.array(np.concatenate([g.account for g in gs]) if gs
                                else np.zeros(0, np.int64), pa.int64()),
            "sent_t": pa.array(np.concatenate([np.full(len(g), s) for g, s in job.gate])
                               if gs else np.zeros(0), pa.float64())}))

    def _put_plates(self, plates: list[tuple[PlateSamples, float]], k: int) -> None:
        """The plate messages ``plates`` (message, sent_t) of ``k`` samples each to
        plates.parquet and plate_messages.parquet."""
        msgs = [m for m, _ in plates]
        rows = [m.plate.shape[0] for m in msgs]
        t = np.repeat(np.array([m.t[0] for m in msgs]), rows) if msgs else np.zeros(0)
        plate = np.concatenate([m.plate for m in msgs]) if msgs else np.zeros(0, np.int32)
        grams = (np.concatenate([m.grams.reshape(-1) for m in msgs]) if msgs
                 else np.zeros(0, np.float32))
        tab = pa.table({"t": pa.array(t, pa.float64()),
                        "plate": pa.array(plate, pa.int32()),
                        "grams": pa.FixedSizeListArray.from_arrays(
                            pa.array(grams, pa.float32()), k)})
        self._put("plates.parquet", tab.replace_schema_metadata(
            {"plate_hz": str(self.plate_hz)}),
            use_byte_stream_split=["grams.list.element"], use_dictionary=["t", "plate"])
        times = np.concatenate([m.t for m in msgs]) if msgs else np.zeros(0)
        self._put("plate_messages.parquet", pa.table({
            "t": pa.FixedSizeListArray.from_arrays(pa.array(times, pa.float64()), k),
            "sent_t": pa.array([s for _, s in plates], pa.float64())}))

    def write(self, folder: str | Path | None = None) -> None:
        """Everything still buffered to the files, and close them (``folder``: where, for a
        recorder made without one)."""
        if self.folder is None:
            if folder is None:
                raise ValueError("StreamRecorder.write: no folder")
            self.folder = Path(folder)
        self._flush(final=True)
        try:
            self._wait()
        finally:
            self._stop()
        for w in self._writers.values():
            w.close()
        self._writers = {}

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def close(self) -> None:
        """Close the files without finishing them (the run failed)."""
        try:
            self._wait()
        except Exception:  # noqa: BLE001 - closing after a failure is best effort
            pass
        self._stop()
        for w in self._writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - closing after a failure is best effort
                pass
        self._writers = {}


def _with_appearance(det: pa.Table, app: list[np.ndarray], d: int) -> pa.Table:
    """The detections table with its ``appearance`` column (and ``appearance_dim`` in the
    schema's metadata) when the frames carry appearance (``d`` > 0), unchanged when not."""
    if d == 0:
        return det
    rows = [a.reshape(-1) for a in app if a.shape[0]]
    flat = np.concatenate(rows).astype(np.float32) if rows else np.zeros(0, np.float32)
    col = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), d)
    det = det.append_column(pa.field("appearance", pa.list_(pa.float32(), d)), col)
    return det.replace_schema_metadata({"appearance_dim": str(d)})


def _appearance_of(det: pa.Table, path: Path) -> np.ndarray:
    """(n, D) float32 appearance of a detections table ((n, 0) without the column)."""
    if "appearance" not in det.column_names:
        return np.zeros((det.num_rows, 0), np.float32)
    col = det.column("appearance").combine_chunks()
    d = getattr(col.type, "list_size", None)
    meta = det.schema.metadata or {}
    if d is None or meta.get(b"appearance_dim", str(d).encode()) != str(d).encode():
        raise StreamFileError(f"{path}: column appearance must be fixed_size_list<float32>"
                              f"[appearance_dim], got {col.type}, metadata "
                              f"{meta.get(b'appearance_dim')}")
    return col.flatten().to_numpy().astype(np.float32).reshape(-1, d)


def _read(path: Path, need: tuple[str, ...]) -> pa.Table:
    try:
        tab = pq.read_table(path, page_checksum_verification=True)
    except FileNotFoundError:
        raise StreamFileError(f"{path}: file not found") from None
    except Exception as e:  # noqa: BLE001 - any parse error is a bad file
        why = " ".join(str(e).split())[:300]     # one line, whatever the parser said
        raise StreamFileError(f"{path}: not a readable Parquet file ({why})") from None
    missing = [c for c in need if c not in tab.column_names]
    if missing:
        raise StreamFileError(f"{path}: missing column(s) {', '.join(missing)}; "
                              f"expected {', '.join(need)}")
    return tab


def _check(path: Path, column: str, values: np.ndarray, bad: np.ndarray, allowed: str
           ) -> None:
    """One StreamFileError naming the file, the column and the first bad row (of how many)
    when ``bad`` (a mask over ``values``) holds any."""
    rows = np.flatnonzero(bad)
    if rows.size:
        i = int(rows[0])
        more = f" (and {rows.size - 1} more rows)" if rows.size > 1 else ""
        raise StreamFileError(f"{path}: column {column}, row {i}: {values[i].tolist()!r} "
                              f"is not allowed{more}; expected {allowed}")


def _backwards(a: np.ndarray, strict: bool = False) -> np.ndarray:
    """Rows that go back (or, ``strict``, do not go forward) from the row before."""
    d = np.diff(a)
    return np.r_[False, d <= 0 if strict else d < 0]


def _check_streams(folder: Path, det: dict, frames: dict, hands: dict, plates: dict,
                   gate: dict) -> None:
    """Every stream's order, ranges and finiteness (columns as arrays); the first problem
    as a StreamFileError. Plate readings themselves may be NaN (a broken load cell is the
    core's to notice)."""
    p = folder / "detections.parquet"
    _check(p, "frame", det["frame"], _backwards(det["frame"]), "rows in frame order")
    for c in ("t", "x", "y"):
        _check(p, c, det[c], ~np.isfinite(det[c]), "a finite number")
    _check(p, "camera", det["camera"], det["camera"] < 0, "a camera id >= 0")
    _check(p, "conf", det["conf"], ~((det["conf"] >= 0) & (det["conf"] <= 1)),
           "a confidence in [0, 1]")
    p = folder / "frames.parquet"
    _check(p, "frame", frames["frame"], _backwards(frames["frame"], True),
           "frame numbers that increase")
    _check(p, "t", frames["t"], ~np.isfinite(frames["t"]) | _backwards(frames["t"]),
           "finite times that never go back")
    p = folder / "hands.parquet"
    _check(p, "frame", hands["frame"], _backwards(hands["frame"]), "rows in frame order")
    _check(p, "x, y, z", hands["xyz"], ~np.isfinite(hands["xyz"]).all(axis=1),
           "finite positions")
    hp = hands["pass"]
    _check(p, "pass_x0, pass_y0, pass_x1, pass_y1", hp,
           ~(np.isfinite(hp).all(axis=1) | np.isnan(hp).all(axis=1)),
           "four finite positions, or four NaN (no hand-over seen)")
    p = folder / "plates.parquet"
    _check(p, "t", plates["t"], ~np.isfinite(plates["t"]) | _backwards(plates["t"]),
           "finite times that never go back")
    _check(p, "plate", plates["plate"], plates["plate"] < 0, "a plate id >= 0")
    p = folder / "gate.parquet"
    _check(p, "t", gate["t"], ~np.isfinite(gate["t"]), "a finite time")
    _check(p, "account", gate["account"], gate["account"] < 0, "an account id >= 0")


def _hands(folder: Path, required: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """hands.parquet as (frame, camera, xyz (h, 3), pass (h, 4)); none when the file is
    absent from a recording before hands (``required``: a recording with ``sent_t``
    always has it: its absence is an error, not "nobody reached"); pass NaN where it
    predates hand-overs."""
    if required and not (folder / "hands.parquet").exists():
        raise StreamFileError(f"{folder / 'hands.parquet'}: file not found (a recording "
                              "with sent_t columns always has it)")
    if not (folder / "hands.parquet").exists():
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros((0, 3)), np.zeros((0, 4))
    hd = _read(folder / "hands.parquet", ("frame", "camera", "x", "y", "z"))
    hfr = hd.column("frame").to_numpy()
    hxyz = np.stack([hd.column(c).to_numpy() for c in ("x", "y", "z")], axis=1)
    hpass = (np.stack([hd.column(c).to_numpy() for c in PASS_COLUMNS], axis=1)
             if all(c in hd.column_names for c in PASS_COLUMNS)
             else np.full((hfr.size, 4), np.nan))
    return hfr, hd.column("camera").to_numpy(), hxyz, hpass


def _sent(folder: Path, frames: pa.Table, msgs: pa.Table, gate: pa.Table
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each frame's, plate message's and check-in's tick (``sent_t``), checked; None for
    a recording made before the column (its records are grouped by their own times)."""
    tabs = (("frames.parquet", frames), ("plate_messages.parquet", msgs),
            ("gate.parquet", gate))
    if not all("sent_t" in t.column_names for _, t in tabs):
        return None
    out = []
    for name, t in tabs:
        v = t.column("sent_t").to_numpy()
        _check(folder / name, "sent_t", v, ~np.isfinite(v) | _backwards(v),
               "finite tick times that never go back")
        out.append(v)
    return out[0], out[1], out[2]


def _plate_events(folder: Path, pl: pa.Table, msgs: pa.Table, sent) -> list[tuple]:
    """(tick time, 0, PlateSamples) of every plate message."""
    events: list[tuple] = []
    pt = pl.column("t").to_numpy()
    if not pt.size:
        return events
    plate = pl.column("plate").to_numpy()
    grams_col = pl.column("grams").combine_chunks()
    k = grams_col.type.list_size
    grams = grams_col.flatten().to_numpy().reshape(-1, k)
    mt = msgs.column("t").combine_chunks()
    times = mt.flatten().to_numpy().reshape(-1, mt.type.list_size)
    cuts = np.flatnonzero(np.diff(pt)) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, pt.size]
    if times.shape[0] != starts.size:
        raise StreamFileError(f"{folder / 'plate_messages.parquet'}: {times.shape[0]} "
                              f"messages, but plates.parquet holds {starts.size}")
    for m, (a, b) in enumerate(zip(starts, ends, strict=True)):
        events.append((float(sent[1][m] if sent else times[m, -1]), 0,
                       PlateSamples(times[m], plate[a:b], grams[a:b])))
    return events


def _gate_events(gate: pa.Table, sent) -> list[tuple]:
    """(tick time, 2, GateCheckIns): one message per tick's check-ins, as the gate sent
    them (one per scan for older files, which have no sent_t)."""
    gtt = gate.column("t").to_numpy()
    gid, acc = gate.column("gate").to_numpy(), gate.column("account").to_numpy()
    gcut = (np.r_[0, np.flatnonzero(np.diff(sent[2])) + 1, gtt.size] if sent and gtt.size
            else np.arange(gtt.size + 1))
    return [(float(sent[2][a] if sent else gtt[a]), 2,
             GateCheckIns(gtt[a:b], gid[a:b], acc[a:b]))
            for a, b in zip(gcut[:-1], gcut[1:], strict=True)]


# how far outside the floor a detection or a hand may lie: detector noise at a wall [m]
OUTSIDE_M = 5.0


def _check_known(folder: Path, cam: np.ndarray, hcam: np.ndarray, plate: np.ndarray,
                 known: tuple, det_xy: np.ndarray, hxyz: np.ndarray) -> None:
    """Camera and plate ids the store's knowledge has, and positions on its floor
    (``known``: camera ids, plate ids and the floor's xmin, ymin, xmax, ymax)."""
    cams, plates = (np.asarray(k) for k in known[:2])
    x0, y0, x1, y1 = (float(v) for v in known[2])
    m = OUTSIDE_M
    for path, col, v, lo, hi in (
            ("detections.parquet", "x", det_xy[:, 0], x0, x1),
            ("detections.parquet", "y", det_xy[:, 1], y0, y1),
            ("hands.parquet", "x", hxyz[:, 0], x0, x1),
            ("hands.parquet", "y", hxyz[:, 1], y0, y1),
            ("hands.parquet", "z", hxyz[:, 2], -1.0, 4.0)):
        _check(folder / path, col, v, (v < lo - m) | (v > hi + m),
               f"a position on the store's floor, in [{lo - m:g}, {hi + m:g}] m")
    for path, col, v, ids, what in (
            ("detections.parquet", "camera", cam, cams, "camera"),
            ("hands.parquet", "camera", hcam, cams, "camera"),
            ("plates.parquet", "plate", plate, plates, "plate")):
        _check(folder / path, col, v, ~np.isin(v, ids),
               f"a {what} id of knowledge.json ({ids.size} {what}s, "
               f"{int(ids.min()) if ids.size else 0}-{int(ids.max()) if ids.size else 0})")


def read_streams(folder: str | Path, known: tuple | None = None) -> Iterator[SensorBatch]:
    """Replay a recorded ``streams/`` folder as time-ordered :class:`SensorBatch` es.

    Records of one tick are grouped into one batch, in time order, as the live loop
    delivers them, so a core fed a replay sees what it saw live. ``known``: (camera ids,
    plate ids, floor bounds) of the store: records of other sensors, and positions far off
    its floor, are an error.
    """
    folder = Path(folder)
    det = _read(folder / "detections.parquet", ("frame", "t", "camera", "x", "y", "conf"))
    pl = _read(folder / "plates.parquet", ("t", "plate", "grams"))
    gate = _read(folder / "gate.parquet", ("t", "gate", "account"))
    meta = pl.schema.metadata or {}
    try:
        plate_hz = float(meta[b"plate_hz"])
        if not (np.isfinite(plate_hz) and 0 < plate_hz <= 1e5):
            raise ValueError
    except (KeyError, ValueError):
        raise StreamFileError(f"{folder / 'plates.parquet'}: metadata plate_hz missing "
                              "or not a rate in (0, 100000] Hz") from None
    frames = _read(folder / "frames.parquet", ("frame", "t"))
    msgs = _read(folder / "plate_messages.parquet", ("t",))
    events: list[tuple[float, int, object]] = []
    fr = det.column("frame").to_numpy()
    t = det.column("t").to_numpy()
    cam = det.column("camera").to_numpy()
    xy = np.stack([det.column("x").to_numpy(), det.column("y").to_numpy()], axis=1)
    conf = det.column("conf").to_numpy()
    app = _appearance_of(det, folder / "detections.parquet")
    ff = frames.column("frame").to_numpy()
    ft = frames.column("t").to_numpy()
    lo = np.searchsorted(fr, ff, side="left")
    hi = np.searchsorted(fr, ff, side="right")
    sent = _sent(folder, frames, msgs, gate)
    hfr, hcam, hxyz, hpass = _hands(folder, sent is not None)
    _check(folder / "detections.parquet", "frame", fr, ~np.isin(fr, ff),
           "a frame of frames.parquet")
    _check(folder / "hands.parquet", "frame", hfr, ~np.isin(hfr, ff),
           "a frame of frames.parquet")
    if known is not None:
        _check_known(folder, cam, hcam, pl.column("plate").to_numpy(), known, xy, hxyz)
    _check_streams(folder, {"frame": fr, "t": t, "x": xy[:, 0], "y": xy[:, 1], "camera": cam,
                            "conf": conf}, {"frame": ff, "t": ft},
                   {"frame": hfr, "xyz": hxyz, "pass": hpass},
                   {"t": pl.column("t").to_numpy(), "plate": pl.column("plate").to_numpy()},
                   {"t": gate.column("t").to_numpy(),
                    "account": gate.column("account").to_numpy()})
    hlo = np.searchsorted(hfr, ff, side="left")
    hhi = np.searchsorted(hfr, ff, side="right")
    fs = sent[0] if sent else ft
    for f, tf, a, b, c, d, ts in zip(ff, ft, lo, hi, hlo, hhi, fs, strict=True):
        hp = hpass[c:d] if np.isfinite(hpass[c:d]).any() else None
        events.append((float(ts), 1, CameraFrame(int(f), float(tf), cam[a:b], xy[a:b],
                                                 conf[a:b], hcam[c:d], hxyz[c:d],
                                                 app[a:b], hp)))
    events += _plate_events(folder, pl, msgs, sent) + _gate_events(gate, sent)
    # group records of one tick (same time to the microsecond) into one batch, as live
    ticks: dict[int, list] = {}
    for t, kind, rec in events:
        ticks.setdefault(int(round(t * 1e6)), []).append((t, kind, rec))
    dt, n = 1.0 / plate_hz, 1
    for key in sorted(ticks):
        recs = ticks[key]
        if sent is not None:     # the ticks between, empty, as live (timers, deliveries)
            while int(round(n * dt * 1e6)) < key:
                yield SensorBatch(n * dt)
                n += 1
            n += int(round(n * dt * 1e6)) == key
        yield SensorBatch(
            max(r[0] for r in recs),   # the tick's time (sent_t), or its records' latest
            frames=tuple(r[2] for r in recs if r[1] == 1),
            plates=tuple(r[2] for r in recs if r[1] == 0),
            gate=tuple(r[2] for r in recs if r[1] == 2),
        )
