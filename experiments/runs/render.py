"""Render a store with a simulated crowd: RGB, depth and instance segmentation per camera, and
the frames as COCO and MOTChallenge datasets (validation fidelity, DESIGN.md).

The crowd is the twin's own (pybullet shelves, the sampled shoppers); after a warm-up, every
``every_s`` seconds each chosen camera is rendered with pyrender at the camera's calibration,
optionally at another resolution with the same field of view.

Files under the output folder:
- ``rgb/camCCC/FFFFFF.png``: 8-bit RGB;
- ``depth/camCCC/FFFFFF.png``: 16-bit depth along the optical axis [mm] (0: nothing);
- ``seg/camCCC/FFFFFF.png``: 16-bit person id + 1 (0: no person), body and arm;
- ``arm/camCCC/FFFFFF.png``: 16-bit person id + 1 where that person's arm is seen (an arm
  reaches where the twin's hand is: a pick, a put-back, a hand-over);
- ``frames.json``: one entry per rendered tick: frame, t [s], people ids, floor xy [m] and
  hands (xyz [m], or null);
- ``scene.glb``: the store and the shoppers (bodies in their looks, arms) at the last
  rendered tick, one named node each;
- ``coco/annotations.json`` (+ its images) and ``mot/camCCC/`` when asked.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.knowledge import Cameras


def scale_cameras(cams: Cameras, width: int, height: int) -> Cameras:
    """The same cameras at another resolution, field of view kept (intrinsics scaled)."""
    sx = width / cams.resolution[:, 0]
    sy = height / cams.resolution[:, 1]
    k = cams.intrinsics.copy()
    k[:, 0] *= sx
    k[:, 2] *= sx
    k[:, 1] *= sy
    k[:, 3] *= sy
    res = np.tile([width, height], (len(cams.camera), 1)).astype(np.int32)
    return replace(cams, intrinsics=k, resolution=res)


def _png16(path: Path, a: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a.astype(np.uint16)).save(path)


def render_run(store, cams: Cameras, out: Path, *, seconds: float = 60.0, every_s: float = 0.0,
               cameras: list[int] | None = None, seed: int = 0, shoppers: float = 15.0,
               coco: bool = False, mot: bool = False) -> dict:
    """Simulate ``seconds`` of the store's crowd and render the chosen cameras at the end (or
    every ``every_s`` seconds of the last part when > 0). Returns a summary."""
    from agents.crowd import ShopperConfig
    from experiments.runs.assembly import TwinConfig, build_twin
    from twin.datasets import (
        write_coco,
        write_mot,
    )
    from twin.render import Renderer

    # arrivals as a steady crowd of ``shoppers`` that fills in about a minute
    twin = build_twin(TwinConfig(store=store.name, seed=seed, crowd=ShopperConfig(
        shoppers_in_store=shoppers, mean_trip_s=48.0)), store=store, cameras=cams)
    clock, sim = twin.clock, twin.sim
    chosen = list(range(len(cams.camera))) if cameras is None else cameras
    want: list[float] = [seconds]
    if every_s > 0:
        want = list(np.arange(every_s, seconds + 1e-9, every_s))
    # the first camera tick at or after each wanted time, within the run
    want = [w - 1.0 / clock.camera_hz for w in want]
    frames, index = [], []
    try:
        out.mkdir(parents=True, exist_ok=True)
        renderer = Renderer(store)
    except BaseException:
        twin.close()
        raise
    last = None
    try:
        k = 0
        for tick in sim.run(seconds):
            if tick.frame < 0 or k >= len(want) or tick.batch.t < want[k] - 1e-9:
                continue
            k += 1
            n = len(index)
            ids, xy = tick.people_id, tick.people_xy
            hands, looks = _hands_of(twin.crowd, ids), twin.crowd.looks(ids)
            index.append({"frame": n, "t": round(tick.batch.t, 6),
                          "people": [int(i) for i in ids],
                          "xy": np.round(xy, 4).tolist(),
                          "hands": [None if not np.isfinite(h).all() else
                                    np.round(h, 4).tolist() for h in hands]})
            last = (xy, ids, hands, looks)
            frames += _render_tick(renderer, cams, chosen, n, xy, ids, hands, looks, out)
    finally:
        renderer.close()
        twin.close()
    if last is not None:   # the store and the shoppers at the last rendered tick, in 3D
        from twin.people import export_scene_glb
        m = renderer.model
        export_scene_glb(store, out / "scene.glb", *last, m.body_radius, m.body_height)
    (out / "frames.json").write_text(json.dumps({"store": store.name, "frames": index},
                                                indent=1) + "\n")
    if coco:
        write_coco(frames, out / "coco" / "annotations.json")
    if mot:
        write_mot(frames, out / "mot", fps=1.0 / every_s if every_s > 0 else clock.camera_hz)
    people = sum(len(e["people"]) for e in index)
    seen = sum(int(np.unique(fr.seg[fr.seg >= 0]).size) for fr in frames)
    arms = sum(int(np.unique(fr.arm[fr.arm >= 0]).size) for fr in frames)
    return {"out": str(out), "ticks": len(index), "cameras": len(chosen),
            "images": len(frames), "people": people, "person_instances": seen,
            "arm_instances": arms,
            "width": int(cams.resolution[0, 0]) if len(cams.camera) else 0,
            "height": int(cams.resolution[0, 1]) if len(cams.camera) else 0}


def _hands_of(crowd, ids: np.ndarray) -> np.ndarray:
    """(s, 3) hand positions [m] of the people ``ids`` (NaN rows: not reaching)."""
    cid, _ = crowd.positions()
    row = {int(i): k for k, i in enumerate(cid)}
    h = crowd.hands()
    out = np.full((len(ids), 3), np.nan)
    for k, i in enumerate(ids):
        if int(i) in row:
            out[k] = h[row[int(i)]]
    return out


def _render_tick(renderer, cams: Cameras, chosen: list[int], n: int, xy: np.ndarray,
                 ids: np.ndarray, hands: np.ndarray, looks: np.ndarray, out: Path) -> list:
    """Render and write one tick from each chosen camera; its RenderedFrames."""
    from twin.datasets import RenderedFrame, body_boxes, image_name, write_png

    m = renderer.model
    frames = []
    for i in chosen:
        v = renderer.render_parts(cams, i, xy, ids, hands=hands, looks=looks)
        fr = RenderedFrame(int(cams.camera[i]), n, v.seg, np.asarray(ids, np.int64),
                           renderer.visible_fractions(cams, i, xy, ids, v.seg, v.arm),
                           body_boxes(cams, i, xy, m.body_radius, m.body_height), v.rgb,
                           v.arm)
        name = image_name(fr.camera, n)
        write_png(out / "rgb" / name, v.rgb)
        _png16(out / "seg" / name, v.seg + 1)
        _png16(out / "arm" / name, v.arm + 1)
        _png16(out / "depth" / name, np.clip(np.round(v.depth * 1000.0), 0, 65535))
        frames.append(fr)
    return frames
