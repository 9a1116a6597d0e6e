"""The sizing model: a :class:`~experiments.sizing.load.Load` and the cost table give, per
hardware choice, the devices each stage keeps busy at peak, the devices to buy with headroom,
the cameras' network bandwidth and the storage per day of video and of the twin's streams.

Per stage (docs/sizing.md has the arithmetic and its assumptions):

- decode: every camera frame, cost scaled by pixels per frame from the figure's resolution
  (a hardware choice without a decode figure decodes on CPU cores, said so);
- detect: one full frame per camera every ``detect_every`` frames;
- pose/hands: per person crop (top-down, RTMPose) or per frame (bottom-up, YOLOv8-pose), as
  the model's figure is stated;
- appearance: per person crop;
- tracking+billing: the core's own measured CPU time, scaled from mean to peak crops.

Devices: per device and engine (CPU, GPU, NVDEC: an NVDEC decodes beside the GPU's work),
``ceil(busy x (1 + headroom))``; a device is the largest of its engines' counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from experiments.sizing.load import Load
from experiments.sizing.table import CostTable, Figure

DEFAULT_HEADROOM = 0.30        # planning margin over the peak (an assumption; --headroom)
DEFAULT_HOURS = 16.0           # opening hours a day (an assumption; --hours)
DEFAULT_RETENTION_DAYS = 30.0  # days of video kept (an assumption; --retention-days)
RUN_MACHINE = "run-machine"    # the CPU the run's core ran on (tracking+billing)


@dataclass(frozen=True)
class Options:
    """The planner's choices. headroom: spare capacity over the peak (0.3 = 30 %); hours:
    opening hours a day [h]; retention_days: days of video kept [d]; detector, pose, reid:
    models in order of preference (the first with a figure on a hardware choice is used);
    detect_every: the detector runs on one frame in this many; groups: hardware choices
    (empty: every one in the table)."""
    headroom: float = DEFAULT_HEADROOM
    hours: float = DEFAULT_HOURS
    retention_days: float = DEFAULT_RETENTION_DAYS
    detector: tuple[str, ...] = ("yolov8s",)
    pose: tuple[str, ...] = ("rtmpose-m-wholebody", "yolov8s-pose")
    reid: tuple[str, ...] = ("osnet_x1_0",)
    detect_every: int = 1
    groups: tuple[str, ...] = field(default_factory=tuple)


def devices(busy: float, headroom: float) -> int:
    """Devices to keep ``busy`` device-seconds per second [1] under 1 / (1 + headroom)
    utilisation each: ceil(busy x (1 + headroom)); none for no work."""
    if busy <= 0:
        return 0
    return max(1, math.ceil(busy * (1.0 + headroom) - 1e-9))


def _line(stage: str, f: Figure | None, table: CostTable, work: float, work_unit: str,
          busy: float, note: str = "", model: str = "") -> dict:
    """One stage on one hardware choice, as a JSON-ready dict."""
    if f is None:
        return {"stage": stage, "model": model, "figure": None, "work": work,
                "work_unit": work_unit, "busy": None, "note": note}
    hw = table.hardware[f.hardware]
    return {"stage": stage, "model": f.model, "figure": f.id, "kind": f.kind,
            "hardware": f.hardware, "hardware_name": hw.name, "unit": hw.unit,
            "engine": f.engine, "value": f.value, "value_unit": f.unit, "input": f.input,
            "work": work, "work_unit": work_unit, "busy": busy, "note": note}


def _first(table: CostTable, stage: str, models: tuple[str, ...], group: str) -> Figure | None:
    for m in models:
        f = table.find(stage, m, group)
        if f is not None:
            return f
    return None


def _decode(load: Load, table: CostTable, group: str) -> dict:
    """Decode every camera frame: pixels per second over the figure's pixels per second."""
    px_s = load.frames_per_s * load.width * load.height
    f = next((x for x in table.figures if x.stage == "decode"
              and table.hardware[x.hardware].group == group), None)
    note = ""
    if f is None:
        f = next((x for x in table.figures if x.stage == "decode"
                  and table.hardware[x.hardware].group == "cpu"), None)
        note = f"no cited decode figure for {group}: decoded on CPU cores"
    busy = px_s / (f.value * f.pixels) if f is not None else None
    return _line("decode", f, table, px_s / 1e6, "Mpx/s", busy, note, "any")


def _per_item(stage: str, load: Load, table: CostTable, models: tuple[str, ...], group: str,
              detect_every: int = 1) -> dict:
    """A model's cost per frame (every camera frame, one in ``detect_every`` for the
    detector) or per crop (every person crop at peak)."""
    f = _first(table, stage, models, group)
    if f is None:
        return _line(stage, None, table, 0.0, "", None,
                     f"no figure for {' or '.join(models)} on {group}", "/".join(models))
    if f.per == "crop":
        work, unit = load.crops_peak_per_s, "crops/s"
    else:
        work, unit = load.frames_per_s / detect_every, "frames/s"
    note = (f"detector on 1 frame in {detect_every}" if stage == "detect" and detect_every > 1
            else "")
    return _line(stage, f, table, work, unit, work * f.value / 1000.0, note)


def _tracking(load: Load) -> dict:
    busy = load.core_cores_peak
    return {"stage": "tracking+billing", "model": "storetwin core (this run)", "figure": None,
            "kind": "measured on the run", "hardware": RUN_MACHINE,
            "hardware_name": "a CPU core of the machine the run ran on", "unit": "CPU core",
            "engine": "cpu", "work": load.crops_peak_per_s, "work_unit": "crops/s",
            "busy": busy, "note": "core_s / sim_s x peak / mean crops" if busy is not None
            else "timing.json has no core_s"}


def _totals(lines: list[dict], headroom: float) -> list[dict]:
    """Devices per hardware: busy summed per engine; the device count is the largest of its
    engines' (ceil(busy x (1 + headroom)))."""
    by: dict[str, dict] = {}
    for ln in lines:
        if ln.get("busy") is None:
            continue
        d = by.setdefault(ln["hardware"], {"hardware": ln["hardware"], "unit": ln["unit"],
                                           "name": ln["hardware_name"], "busy": {}})
        d["busy"][ln["engine"]] = d["busy"].get(ln["engine"], 0.0) + ln["busy"]
    for d in by.values():
        d["devices"] = max(devices(b, headroom) for b in d["busy"].values())
    return list(by.values())


def size_group(load: Load, table: CostTable, group: str, opt: Options) -> dict:
    """Every stage on hardware choice ``group``, the devices per hardware and what is
    missing."""
    lines = [_decode(load, table, group),
             _per_item("detect", load, table, opt.detector, group, opt.detect_every),
             _per_item("pose", load, table, opt.pose, group),
             _per_item("appearance", load, table, opt.reid, group),
             _tracking(load)]
    missing = [f"{ln['stage']}: {ln['note']}" for ln in lines if ln.get("busy") is None]
    return {"group": group, "stages": lines, "devices": _totals(lines, opt.headroom),
            "missing": missing}


def size(load: Load, table: CostTable, opt: Options | None = None) -> dict:
    """The sizing of ``load`` on every hardware choice of ``opt`` (JSON-ready): the load,
    the options, per choice its stages and devices, network and storage, and the sources of
    every figure used."""
    opt = opt or Options()
    groups = list(opt.groups) or table.groups()
    per = [size_group(load, table, g, opt) for g in groups]
    br = table.bitrate(load.width * load.height, load.fps)
    kbps = br.value if br is not None else None
    day_s = opt.hours * 3600.0
    net = load.cameras * kbps / 1000.0 if kbps is not None else None
    video_day = load.cameras * kbps * 1000.0 / 8.0 * day_s if kbps is not None else None
    used = {ln["figure"] for g in per for ln in g["stages"] if ln.get("figure")}
    sources = [{"id": f.id, "kind": f.kind, "model": f.model, "hardware": f.hardware,
                "value": f.value, "unit": f.unit, "input": f.input, "source": f.source,
                "where": f.where, "accessed": f.accessed}
               for f in table.figures if f.id in used]
    return {
        "load": {**asdict(load), "frames_per_s": load.frames_per_s,
                 "core_cores_peak": load.core_cores_peak},
        "options": {**asdict(opt), "groups": groups},
        "hardware": per,
        "network": {"mbit_per_s": net, "per_camera_kbit_per_s": kbps,
                    "bitrate_row": None if br is None else asdict(br)},
        "storage": {
            "hours_per_day": opt.hours, "retention_days": opt.retention_days,
            "video_bytes_per_day": video_day,
            "video_bytes_retained": None if video_day is None else video_day * opt.retention_days,
            "streams_bytes_per_day": None if load.stream_bytes_per_h is None
            else load.stream_bytes_per_h * opt.hours},
        "sources": sources,
    }
