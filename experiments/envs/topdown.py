"""Top-down ``rgb_array`` views of the environments: the floor plan (drawn once per env, by
:func:`scenes.plan.plan_image`) with what changes per step painted over it in numpy."""

from __future__ import annotations

import numpy as np

PX_PER_M = 12.0
MARGIN_M = 1.0


def _plan(env, store):
    """(image, extent) of the bare plan, cached on the env."""
    if getattr(env, "_plan", None) is None:
        from scenes.plan import plan_extent, plan_image

        env._plan = (plan_image(store, None, px_per_m=PX_PER_M, margin=MARGIN_M),
                     plan_extent(store, MARGIN_M))
    return env._plan


def _dots(img: np.ndarray, extent, xy: np.ndarray, color, r: int) -> None:
    from scenes.plan import world_to_pixel

    if len(xy) == 0:
        return
    rc = world_to_pixel(np.asarray(xy, dtype=np.float64).reshape(-1, 2), extent, img.shape)
    h, w = img.shape[:2]
    for dr in range(-r, r + 1):
        for dc in range(-r, r + 1):
            if dr * dr + dc * dc <= r * r:
                rr = np.clip(rc[:, 0] + dr, 0, h - 1)
                cc = np.clip(rc[:, 1] + dc, 0, w - 1)
                img[rr, cc] = color


def coverage_view(env) -> np.ndarray:
    """SensorPlacement: cameras-per-cell colours over the walkable floor (as the coverage
    heatmaps), bins weighed shown by their fixtures' centres, placed cameras as dots."""
    from scenes.presets import load_store
    from twin.coverage import HEAT_ALPHA, count_colors

    c = env.c
    base, extent = _plan(env, load_store(env.store_ref))
    img = base.astype(np.float32) / 255.0
    x0, y0, x1, y1 = extent
    h, w = img.shape[:2]
    xs = x0 + (np.arange(w) + 0.5) * (x1 - x0) / w
    ys = y1 - (np.arange(h) + 0.5) * (y1 - y0) / h
    ny, nx = c.shape
    i = np.floor((xs - c.origin[0]) / c.cell).astype(np.int64)
    j = np.floor((ys - c.origin[1]) / c.cell).astype(np.int64)
    counts = np.zeros(ny * nx, dtype=np.int64)
    counts[c.walk_idx] = env.count
    counts = counts.reshape(ny, nx)
    jj, ii = np.meshgrid(np.clip(j, 0, ny - 1), np.clip(i, 0, nx - 1), indexing="ij")
    on = (c.walkable[jj, ii] & ((j >= 0) & (j < ny))[:, None]
          & ((i >= 0) & (i < nx))[None, :])
    col = count_colors(counts[jj, ii]).astype(np.float32)
    img[on] = (1 - HEAT_ALPHA) * img[on] + HEAT_ALPHA * col[on]
    out = np.round(img * 255.0).astype(np.uint8)
    cams = [a for a in env.order if a < env.n_cams]
    _dots(out, extent, c.cam_xy[cams], (20, 20, 20), 2)
    if env.plates:
        fx = [a - env.n_cams for a in env.order if a >= env.n_cams]
        _dots(out, extent, c.plate_xy[fx], (40, 90, 200), 2)
    return out


def crowd_view(env) -> np.ndarray:
    """Adversary: the plan with the background shoppers (grey) and the controlled one (red,
    larger); its hand-over partner candidates are not marked."""
    base, extent = _plan(env, env.store)
    out = base.copy()
    ids, xy = env.crowd.positions()
    me = ids == env.sid
    _dots(out, extent, xy[~me], (90, 90, 90), 3)
    _dots(out, extent, xy[me], (220, 30, 30), 4)
    return out
