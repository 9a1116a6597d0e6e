"""Store meshes (trimesh): fixtures for ray casts, and a whole scene for viewing/export."""

from __future__ import annotations

import numpy as np
import trimesh

from scenes.store import Store


def _box(lo, hi) -> trimesh.Trimesh:
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    m = trimesh.creation.box(extents=hi - lo)
    m.apply_translation((lo + hi) / 2)
    return m


def fixture_mesh(store: Store) -> trimesh.Trimesh:
    """One merged mesh of every fixture body (solid boxes): what blocks a camera's view."""
    boxes = [_box(f.lo, f.hi) for f in store.fixtures]
    if not boxes:
        return trimesh.Trimesh()
    return trimesh.util.concatenate(boxes)


def scene_mesh(store: Store) -> trimesh.Scene:
    """Floor, walls with door openings, fixtures and shelf plates, as a trimesh Scene."""
    x0, y0, x1, y1 = store.bounds
    h = store.ceiling_height
    t = 0.1
    sc = trimesh.Scene()
    sc.add_geometry(_box((x0, y0, -0.02), (x1, y1, 0.0)), node_name="floor")
    walls = [((x0 - t, y0, 0), (x0, y1, h)), ((x1, y0, 0), (x1 + t, y1, h)),
             ((x0 - t, y1, 0), (x1 + t, y1 + t, h))]
    doors = sorted([store.entrance_gate, store.exit_gate])
    xs = [x0 - t] + [v for d in doors for v in d] + [x1 + t]
    for a, b in zip(xs[::2], xs[1::2], strict=True):
        if b > a:
            walls.append(((a, y0 - t, 0), (b, y0, h)))
    for i, (lo, hi) in enumerate(walls):
        sc.add_geometry(_box(lo, hi), node_name=f"wall-{i}")
    for f in store.fixtures:
        sc.add_geometry(_box(f.lo, f.hi), node_name=f.name)
    plates = [_box(lo - [0, 0, 0.02], lo + [hi[0] - lo[0], hi[1] - lo[1], 0])
              for lo, hi in zip(store.bins.lo, store.bins.hi, strict=True)]
    if plates:
        sc.add_geometry(trimesh.util.concatenate(plates), node_name="plates")
    return sc
