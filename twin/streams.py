"""Recording sensor streams to Parquet and reading them back as the same records.

Files in a run's ``streams/`` folder (schemas are part of the interchange format, README):
- ``detections.parquet``: frame int64, t float64 [s], camera int32, x, y float64 [m],
  conf float32 (the DESIGN's floor-detection format), and, where the detections carry one,
  appearance fixed_size_list<float32>[D] (``twin.appearance``), metadata ``appearance_dim``
  D (optional: a recording without it replays with no appearance, shape (n, 0)).
- ``plates.parquet``: t float64 [s] (first sample of the message), plate int32,
  grams fixed_size_list<float32>[k]; metadata ``plate_hz``.
- ``gate.parquet``: t float64 [s], gate int32, account int64.
- ``frames.parquet``: frame int64, t float64 [s] of every camera tick (a frame with no
  detections is still a frame the core saw).
- ``plate_messages.parquet``: t fixed_size_list<float64>[k], the exact sample times of each
  plate message, in message order.
- ``hands.parquet``: frame int64, t float64 [s], camera int32, x, y, z float64 [m]: hands
  seen in shelf bins or held out to someone (optional: a recording without it replays with
  no hands); pass_x0, pass_y0, pass_x1, pass_y1 float64 [m]: for a hand-over that camera saw
  with both people, where the giver and the receiver stood (``CameraFrame.hand_pass``), NaN
  otherwise (optional: older recordings have none).
"""

from __future__ import annotations

from collections.abc import Iterator
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


class StreamRecorder:
    def __init__(self, plate_hz: float) -> None:
        self.plate_hz = plate_hz
        self._det: list[tuple] = []
        self._app: list[np.ndarray] = []
        self._hands: list[tuple] = []
        self._frames: list[tuple[int, float]] = []
        self._plates: list[PlateSamples] = []
        self._gate: list[GateCheckIns] = []
        self.detections = 0
        self.plate_samples = 0

    def add(self, batch: SensorBatch) -> None:
        for f in batch.frames:
            n = len(f)
            self.detections += n
            self._det.append((np.full(n, f.frame, np.int64), np.full(n, f.t), f.camera,
                              f.xy[:, 0], f.xy[:, 1], f.conf))
            self._app.append(f.appearance)
            self._frames.append((int(f.frame), float(f.t)))
            h = len(f.hand_camera)
            if h:
                hp = np.full((h, 4), np.nan) if f.hand_pass is None else f.hand_pass
                self._hands.append((np.full(h, f.frame, np.int64), np.full(h, f.t),
                                    f.hand_camera, f.hand_xyz[:, 0], f.hand_xyz[:, 1],
                                    f.hand_xyz[:, 2], *hp.T))
        for p in batch.plates:
            self._plates.append(p)
            self.plate_samples += p.grams.size
        self._gate.extend(batch.gate)

    def write(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        cols = list(zip(*self._det, strict=True)) if self._det else [[] for _ in range(6)]
        det = pa.table([pa.array(np.concatenate(c) if len(c) else np.zeros(0), type=f.type)
                        for c, f in zip(cols, DET_SCHEMA, strict=True)], schema=DET_SCHEMA)
        det = _with_appearance(det, self._app)
        pq.write_table(det, folder / "detections.parquet", compression="zstd")
        cols = (list(zip(*self._hands, strict=True)) if self._hands
                else [[] for _ in range(len(HAND_SCHEMA))])
        hands = pa.table([pa.array(np.concatenate(c) if len(c) else np.zeros(0), type=f.type)
                          for c, f in zip(cols, HAND_SCHEMA, strict=True)], schema=HAND_SCHEMA)
        pq.write_table(hands, folder / "hands.parquet", compression="zstd")
        if self._plates:
            k = self._plates[0].t.shape[0]
            p = self._plates[0].plate.shape[0]
            t = np.repeat(np.array([m.t[0] for m in self._plates]), p)
            plate = np.tile(self._plates[0].plate, len(self._plates))
            grams = np.concatenate([m.grams.reshape(-1) for m in self._plates])
        else:
            k, t, plate, grams = 12, np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.float32)
        gl = pa.FixedSizeListArray.from_arrays(pa.array(grams, pa.float32()), k)
        tab = pa.table({"t": pa.array(t, pa.float64()), "plate": pa.array(plate, pa.int32()),
                        "grams": gl})
        tab = tab.replace_schema_metadata({"plate_hz": str(self.plate_hz)})
        pq.write_table(tab, folder / "plates.parquet", compression="zstd",
                       use_byte_stream_split=["grams.list.element"], use_dictionary=["t", "plate"])
        times = np.concatenate([m.t for m in self._plates]) if self._plates else np.zeros(0)
        pq.write_table(pa.table({"t": pa.FixedSizeListArray.from_arrays(
            pa.array(times, pa.float64()), k)}), folder / "plate_messages.parquet",
            compression="zstd")
        pq.write_table(pa.table({
            "frame": pa.array([f for f, _ in self._frames], pa.int64()),
            "t": pa.array([t for _, t in self._frames], pa.float64())}),
            folder / "frames.parquet", compression="zstd")
        gt = [g.t for g in self._gate]
        gate = pa.table({
            "t": pa.array(np.concatenate(gt) if gt else np.zeros(0), pa.float64()),
            "gate": pa.array(np.concatenate([g.gate for g in self._gate]) if gt
                             else np.zeros(0, np.int32), pa.int32()),
            "account": pa.array(np.concatenate([g.account for g in self._gate]) if gt
                                else np.zeros(0, np.int64), pa.int64()),
        })
        pq.write_table(gate, folder / "gate.parquet", compression="zstd")


def _with_appearance(det: pa.Table, app: list[np.ndarray]) -> pa.Table:
    """The detections table with its ``appearance`` column (and ``appearance_dim`` in the
    schema's metadata) when the frames carry appearance, unchanged when none does."""
    dims = {a.shape[1] for a in app if a.shape[0]}
    if not dims or dims == {0}:
        return det
    if len(dims) > 1:
        raise ValueError(f"StreamRecorder: frames carry appearance of several sizes "
                         f"{sorted(dims)}; a recording holds one")
    d = dims.pop()
    flat = np.concatenate([a.reshape(-1) for a in app if a.shape[0]]).astype(np.float32)
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
        tab = pq.read_table(path)
    except FileNotFoundError:
        raise StreamFileError(f"{path}: file not found") from None
    except Exception as e:  # noqa: BLE001 - any parse error is a bad file
        raise StreamFileError(f"{path}: not a readable Parquet file ({e})") from None
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
    p = folder / "plates.parquet"
    _check(p, "t", plates["t"], ~np.isfinite(plates["t"]) | _backwards(plates["t"]),
           "finite times that never go back")
    _check(p, "plate", plates["plate"], plates["plate"] < 0, "a plate id >= 0")
    p = folder / "gate.parquet"
    _check(p, "t", gate["t"], ~np.isfinite(gate["t"]), "a finite time")
    _check(p, "account", gate["account"], gate["account"] < 0, "an account id >= 0")


def _hands(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """hands.parquet as (frame, camera, xyz (h, 3), pass (h, 4)); none when the file is
    absent (a recording before hands); pass NaN where it predates hand-overs."""
    if not (folder / "hands.parquet").exists():
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros((0, 3)), np.zeros((0, 4))
    hd = _read(folder / "hands.parquet", ("frame", "camera", "x", "y", "z"))
    hfr = hd.column("frame").to_numpy()
    hxyz = np.stack([hd.column(c).to_numpy() for c in ("x", "y", "z")], axis=1)
    hpass = (np.stack([hd.column(c).to_numpy() for c in PASS_COLUMNS], axis=1)
             if all(c in hd.column_names for c in PASS_COLUMNS)
             else np.full((hfr.size, 4), np.nan))
    return hfr, hd.column("camera").to_numpy(), hxyz, hpass


def read_streams(folder: str | Path) -> Iterator[SensorBatch]:
    """Replay a recorded ``streams/`` folder as time-ordered :class:`SensorBatch` es.

    Records of one tick are grouped into one batch, in time order, as the live loop
    delivers them, so a core fed a replay sees what it saw live.
    """
    folder = Path(folder)
    det = _read(folder / "detections.parquet", ("frame", "t", "camera", "x", "y", "conf"))
    pl = _read(folder / "plates.parquet", ("t", "plate", "grams"))
    gate = _read(folder / "gate.parquet", ("t", "gate", "account"))
    meta = pl.schema.metadata or {}
    try:
        float(meta[b"plate_hz"])
    except (KeyError, ValueError):
        raise StreamFileError(f"{folder / 'plates.parquet'}: metadata plate_hz missing") from None
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
    hfr, hcam, hxyz, hpass = _hands(folder)
    _check_streams(folder, {"frame": fr, "t": t, "x": xy[:, 0], "y": xy[:, 1], "camera": cam,
                            "conf": conf}, {"frame": ff, "t": ft},
                   {"frame": hfr, "xyz": hxyz},
                   {"t": pl.column("t").to_numpy(), "plate": pl.column("plate").to_numpy()},
                   {"t": gate.column("t").to_numpy(),
                    "account": gate.column("account").to_numpy()})
    hlo = np.searchsorted(hfr, ff, side="left")
    hhi = np.searchsorted(hfr, ff, side="right")
    for f, tf, a, b, c, d in zip(ff, ft, lo, hi, hlo, hhi, strict=True):
        hp = hpass[c:d] if np.isfinite(hpass[c:d]).any() else None
        events.append((float(tf), 1, CameraFrame(int(f), float(tf), cam[a:b], xy[a:b],
                                                 conf[a:b], hcam[c:d], hxyz[c:d],
                                                 app[a:b], hp)))
    pt = pl.column("t").to_numpy()
    if pt.size:
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
            events.append((float(times[m, -1]), 0, PlateSamples(times[m], plate[a:b],
                                                                 grams[a:b])))
    gtt = gate.column("t").to_numpy()
    for i in range(gtt.size):
        events.append((float(gtt[i]), 2, GateCheckIns(gtt[i:i + 1],
                                                      gate.column("gate").to_numpy()[i:i + 1],
                                                      gate.column("account").to_numpy()[i:i + 1])))
    # group records of one tick (same time to the microsecond) into one batch, as live
    ticks: dict[int, list] = {}
    for t, kind, rec in events:
        ticks.setdefault(int(round(t * 1e6)), []).append((t, kind, rec))
    for key in sorted(ticks):
        recs = ticks[key]
        yield SensorBatch(
            max(r[0] for r in recs),
            frames=tuple(r[2] for r in recs if r[1] == 1),
            plates=tuple(r[2] for r in recs if r[1] == 0),
            gate=tuple(r[2] for r in recs if r[1] == 2),
        )
