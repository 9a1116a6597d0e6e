"""The load a store puts on its sensing pipeline, read from what a run measured: cameras,
their resolution and frame rate, person crops per second at peak occupancy, the core's own
time, and the bytes of the twin's streams.

Two readers: :func:`load_from_run` (a run folder: ``knowledge.json`` for the cameras,
``timing.json`` for the core, ``streams/detections.parquet`` for the crops, ground truth for
the occupancy) and :func:`load_from_row` (a study's results row, which keeps counts but no
streams). :func:`peak_occupancy` is the people inside at the busiest moment.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# what ``storetwin run`` streams camera frames at when a row does not say (twin.sim.Clock)
DEFAULT_CAMERA_HZ = 15.0


class LoadError(ValueError):
    """A run folder or row the sizing cannot read (names the file and what is missing)."""


@dataclass(frozen=True)
class Load:
    """What the pipeline must process.

    cameras: count; width, height: camera image [px]; fps: frames per camera per second the
    pipeline processes [Hz] (the run's camera rate); crops_peak_per_s, crops_mean_per_s:
    person crops (detections) over all cameras per second, at the busiest 1-s window and on
    average [1/s]; people_peak, people_mean: shoppers inside, most at once and on average;
    core_cores: CPU cores the tracking+billing core kept busy on average (core seconds per
    simulated second, on the machine the run ran on); stream_bytes_per_h: bytes of the
    twin's recorded streams per simulated hour (None: not recorded); sim_s: simulated [s];
    notes: where each figure came from.
    """
    store: str
    cameras: int
    width: int
    height: int
    fps: float
    crops_peak_per_s: float
    crops_mean_per_s: float
    people_peak: float
    people_mean: float
    core_cores: float | None
    stream_bytes_per_h: float | None
    sim_s: float
    notes: tuple[str, ...] = ()

    @property
    def frames_per_s(self) -> float:
        """Camera frames per second, all cameras [1/s]."""
        return self.cameras * self.fps

    @property
    def core_cores_peak(self) -> float | None:
        """The core's busy CPU cores at the peak: its mean scaled by peak over mean crops
        (its work grows with the detections it fuses)."""
        if self.core_cores is None:
            return None
        if self.crops_mean_per_s <= 0:
            return self.core_cores
        return self.core_cores * self.crops_peak_per_s / self.crops_mean_per_s


def peak_occupancy(enter_t: np.ndarray, exit_t: np.ndarray) -> int:
    """Most people inside at once. enter_t, exit_t: (n,) float64 [s], exit NaN while inside
    (an entry NaN: inside from the start); a leaving and an entering at the same instant
    count the leaving first."""
    enter_t = np.nan_to_num(np.asarray(enter_t, dtype=np.float64), nan=-np.inf)
    exit_t = np.asarray(exit_t, dtype=np.float64)
    if enter_t.size == 0:
        return 0
    t = np.concatenate([enter_t, exit_t[np.isfinite(exit_t)]])
    step = np.concatenate([np.ones(enter_t.size), -np.ones(int(np.isfinite(exit_t).sum()))])
    order = np.lexsort((step, t))   # at equal t, -1 (leaving) before +1
    return int(np.cumsum(step[order]).max())


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise LoadError(f"{path}: missing; a run folder from 'storetwin run' has it "
                        f"({what})") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LoadError(f"{path}: cannot read ({e})") from None


def _cameras(knowledge: dict, path: Path) -> tuple[int, int, int]:
    """(cameras, width, height) of the knowledge's calibration; one resolution for all (the
    largest, where they differ)."""
    try:
        res = np.asarray(knowledge["cameras"]["resolution"], dtype=np.int64).reshape(-1, 2)
    except (KeyError, TypeError, ValueError):
        raise LoadError(f"{path}: no cameras.resolution (knowledge.json of an older "
                        "storetwin?)") from None
    if res.shape[0] == 0:
        return 0, 0, 0
    i = int(np.argmax(res[:, 0] * res[:, 1]))
    return res.shape[0], int(res[i, 0]), int(res[i, 1])


def _crops(run: Path, sim_s: float) -> tuple[float, float, str] | None:
    """(peak, mean) detections per second over all cameras from the detection stream: the
    busiest whole second and the average; None without the stream."""
    path = run / "streams" / "detections.parquet"
    if not path.is_file():
        return None
    import pyarrow.parquet as pq
    t = pq.read_table(path, columns=["t"])["t"].to_numpy()
    if t.size == 0:
        return 0.0, 0.0, "detection stream (empty)"
    per_s = np.bincount(np.floor(t).astype(np.int64).clip(0))
    whole = per_s[: max(1, int(math.floor(sim_s)))]
    return (float(whole.max()), float(t.size / sim_s),
            "detection stream: busiest whole second and mean")


def _people(run: Path, metrics: dict) -> tuple[float, float]:
    """(peak, mean) shoppers inside: peak from ground_truth/shoppers.parquet (entries and
    exits), mean from metrics.json."""
    mean = float(metrics.get("crowd", {}).get("mean_in_store") or 0.0)
    path = run / "ground_truth" / "shoppers.parquet"
    if not path.is_file():
        return mean, mean
    import pyarrow.parquet as pq
    tab = pq.read_table(path, columns=["enter_t", "exit_t"])
    return float(peak_occupancy(tab["enter_t"].to_numpy(), tab["exit_t"].to_numpy())), mean


def load_from_run(run_dir: str | Path) -> Load:
    """The load of the run in folder ``run_dir`` (``storetwin run --out``). Needs
    knowledge.json, timing.json and metrics.json; the detection stream and ground truth give
    the peaks where present (without the stream, crops scale with people: mean crops per
    person-second times the peak occupancy)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise LoadError(f"{run}: no such run folder (give the folder 'storetwin run' wrote, "
                        "e.g. runs/kiosk-seed0)")
    timing = _read_json(run / "timing.json", "the run's timing")
    knowledge = _read_json(run / "knowledge.json", "the cameras")
    metrics = _read_json(run / "metrics.json", "the run's counts")
    sim_s = float(timing.get("sim_s") or 0.0)
    if not sim_s > 0:
        raise LoadError(f"{run / 'timing.json'}: sim_s must be > 0, got {timing.get('sim_s')!r}")
    cams, w, h = _cameras(knowledge, run / "knowledge.json")
    fps = float(knowledge.get("camera_hz") or DEFAULT_CAMERA_HZ)
    people_peak, people_mean = _people(run, metrics)
    notes = [f"cameras, resolution and {fps:g} Hz frame rate: {run / 'knowledge.json'}",
             f"peak occupancy: {run / 'ground_truth' / 'shoppers.parquet'} (entries, exits)"]
    crops = _crops(run, sim_s)
    if crops is None:
        det = float(metrics.get("core", {}).get("detections") or 0)
        mean = det / sim_s
        peak = mean * people_peak / people_mean if people_mean > 0 else mean
        notes.append("crops: the run recorded no detection stream; mean detections per "
                     "second (metrics.json) x peak / mean occupancy")
    else:
        peak, mean, how = crops
        notes.append(f"crops: {how} ({run / 'streams' / 'detections.parquet'})")
    core_s = timing.get("core_s")
    core = float(core_s) / sim_s if core_s is not None else None
    notes.append(f"tracking+billing: core_s / sim_s from {run / 'timing.json'}, on the machine "
                 "the run ran on")
    streams = run / "streams"
    size = sum(f.stat().st_size for f in streams.glob("*.parquet")) if streams.is_dir() else 0
    return Load(store=str(knowledge.get("name") or metrics.get("run", {}).get("store", "?")),
                cameras=cams, width=w, height=h, fps=fps, crops_peak_per_s=peak,
                crops_mean_per_s=mean, people_peak=people_peak, people_mean=people_mean,
                core_cores=core, stream_bytes_per_h=size / sim_s * 3600.0 if size else None,
                sim_s=sim_s, notes=tuple(notes))


def _finite(row: dict, key: str) -> float:
    v = row.get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return math.nan
    return v


def load_from_row(row: dict, width: int, height: int, fps: float = DEFAULT_CAMERA_HZ) -> Load:
    """The load of a study's results row (no streams kept): crops per second from its
    ``detections`` over ``sim_s`` (else the core's throughput x its time), scaled to the
    row's ``peak_in_store`` over ``mean_in_store`` (a row without a peak: its target
    ``shoppers`` for a warm start, else its mean). width, height [px], fps [Hz]: the
    cameras' (the row names the layout's model, not its pixels)."""
    sim_s = _finite(row, "sim_s")
    if not sim_s > 0:
        raise LoadError(f"run {row.get('run_id')}: no sim_s")
    det = _finite(row, "detections")
    if not math.isfinite(det):
        det = _finite(row, "detections_per_s") * _finite(row, "core_s")
    mean_people = _finite(row, "mean_in_store")
    peak = _finite(row, "peak_in_store")
    how = "peak_in_store"
    if not math.isfinite(peak):
        peak, how = ((_finite(row, "shoppers"), "the warm-started crowd") if row.get("warm_start")
                     else (mean_people, "mean occupancy (no peak recorded)"))
    mean_crops = det / sim_s if math.isfinite(det) else math.nan
    scale = peak / mean_people if mean_people > 0 and math.isfinite(peak) else 1.0
    core_s = _finite(row, "core_s")
    return Load(store=str(row.get("store")), cameras=int(_finite(row, "cameras") or 0),
                width=width, height=height, fps=fps, crops_peak_per_s=mean_crops * scale,
                crops_mean_per_s=mean_crops, people_peak=peak, people_mean=mean_people,
                core_cores=core_s / sim_s if math.isfinite(core_s) else None,
                stream_bytes_per_h=None, sim_s=sim_s,
                notes=(f"crops: mean detections per second x peak / mean occupancy ({how})",))
