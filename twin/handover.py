"""Hand-overs as the cameras see them: who gave and who took (issue 23).

A person holding a hand out to another (``agents.crowd.Crowd.hands``: halfway between the
two, at ``HAND_OVER_Z_M``) is a hand like any other for the hand model
(:meth:`twin.cameras.CameraSystem.hand_fractions`, ``DetectionModel.p_hand_seen``). A camera
that reports that hand and sees at least ``DetectionModel.pass_min_visible`` of both bodies
also reports where the giver and the receiver stand (``CameraFrame.hand_pass``), as an
action-recognition model on the poses would tell the giving arm from the taking one. The
positions carry the body model's noise, drawn from a stream keyed by the merges' key and the
frame, so that seeing hand-overs moves no other draw.
"""

from __future__ import annotations

import numpy as np


def hand_passes(model, cam_xy: np.ndarray, visible_fraction, key: int, frame: int,
                cam: np.ndarray, owner: np.ndarray, xy: np.ndarray, receivers: np.ndarray
                ) -> np.ndarray | None:
    """(h, 4) giver x, y and receiver x, y [m] for each hand camera ``cam`` (h,) reported of
    person ``owner`` (h,) (rows of ``xy`` (s, 2)); NaN rows where the hand is no hand-over
    or the camera does not see both people well enough. None when no reported hand is a
    hand-over. model: the ``DetectionModel``; cam_xy (c, 2): the cameras' plan positions [m];
    visible_fraction: xy -> (c, s) visible fractions (``CameraSystem.visible_fraction``);
    key: the noise stream's key; receivers (s,): the receiver's row for a giver, -1 for the
    others."""
    rec = np.asarray(receivers, np.int64).reshape(-1)
    if rec.shape[0] != xy.shape[0]:
        raise ValueError(f"detect: receivers has {rec.shape[0]} rows for {xy.shape[0]} people")
    rows = np.flatnonzero(rec[owner] >= 0) if cam.size else np.zeros(0, np.int64)
    if not rows.size:
        return None
    m = model
    vis = visible_fraction(xy)
    g, r, c = owner[rows], rec[owner[rows]], cam[rows]
    ok = (vis[c, g] >= m.pass_min_visible) & (vis[c, r] >= m.pass_min_visible)
    sg = m.sigma0_m + m.sigma_per_m * np.linalg.norm(xy[g] - cam_xy[c], axis=1)
    sr = m.sigma0_m + m.sigma_per_m * np.linalg.norm(xy[r] - cam_xy[c], axis=1)
    rng = np.random.default_rng([key, int(frame), 0x9A55])
    noise = rng.normal(size=(rows.size, 4)) * np.column_stack([sg, sg, sr, sr])
    out = np.full((cam.size, 4), np.nan)
    out[rows[ok]] = (np.concatenate([xy[g], xy[r]], axis=1) + noise)[ok]
    return out
