"""A run as a glTF scene: the store with the shoppers standing where they were at one moment
(``storetwin view RUN --glb FILE [--at SECONDS]``), for any glTF viewer or DCC tool; the
geometry, materials and y-up frame of scenes.meshes.glb_bytes, people as the renderer draws
them (twin.people).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.view.page import ViewError, read_run


def export_run_glb(run_dir: str | Path, out: str | Path, at: float | None = None
                   ) -> tuple[float, int]:
    """Write ``out``: the run's store with its shoppers (ground truth) at ``at`` [s] (the
    nearest recorded frame; default the frame with the most shoppers inside). Returns the
    moment [s] and how many shoppers stand in it."""
    from twin.cameras import DetectionModel
    from twin.people import export_scene_glb

    run, cfg, k, store = read_run(run_dir)
    path = run / "ground_truth" / "tracks.parquet"
    if not path.is_file():
        raise ViewError(f"{path}: missing (--glb places the shoppers from the ground truth)")
    from experiments.view.motion import read_tracks
    tr = read_tracks(path, "shopper_id")
    if tr["frame"].size == 0:
        frame = 0
    elif at is None:
        frames, counts = np.unique(tr["frame"], return_counts=True)
        frame = int(frames[np.argmax(counts)])
    else:
        frames = np.unique(tr["frame"])
        frame = int(frames[np.argmin(np.abs(frames - at * k.camera_hz))])
    sel = tr["frame"] == frame
    xy = np.column_stack([tr["x"][sel], tr["y"][sel]])
    m = DetectionModel()
    try:
        export_scene_glb(store, out, xy, tr["id"][sel], None, None, m.body_radius,
                         m.body_height)
    except OSError as e:
        raise ViewError(f"--glb {out}: cannot write ({e.strerror})") from None
    return frame / k.camera_hz, int(sel.sum())
