"""The tracker's array engine: one :meth:`Tracker.update <core.tracking.Tracker.update>`
as a handful of vectorized array calls on a track table of numpy or cupy columns, whatever
the crowd size; the only engine on cupy, and the reference the compiled one
(:mod:`core._track_kernels`) is held to.

Backends: ``Tracker(..., xp=None)`` keeps its track table on the array namespace of
:func:`core.backend.get_xp` (``STORETWIN_BACKEND``), numpy or cupy. Frames (host numpy) are
moved once per frame; what the tracker returns (tracks, history, departures, accounts) is host
numpy and Python scalars on either backend, and the history stays on the host.

- numpy (array engine): fusion by k-d tree pairs (``scipy.spatial.cKDTree``) and graph
  components (``scipy.sparse.csgraph``); gated assignment by ``linear_sum_assignment`` (dense) or
  ``min_weight_full_bipartite_matching`` (sparse, large crowds).
- cupy: everything per track and per detection runs on the device with plain array ops:
  pairwise distances (dense, in chunks), components by label propagation, the Kalman filter,
  births, deaths and confirmation. Gated assignment builds the gated pairs on the device
  and resolves there every pair that is alone in its row and column (it is in every
  optimal assignment); only the remaining conflicting pairs are copied to the host and
  solved with the same scipy solver as on numpy, so the result is the same optimum. The
  host also gets the few members of crowded fusion clusters (split one-to-one), the small
  candidate x lost re-identification cost matrix, the few tracks waiting for a check-in,
  departing tracks, and the confirmed ids and positions once per frame.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from core.association import (
    _BIG,
    _gated_assignment,
    _gated_assignment_generic,
    _gated_assignment_looks,
)
from core.backend import to_numpy
from core.departure import Departure
from core.fusion import FusedDetections, _fuse_generic, _shares_camera, fuse_detections
from core.neighbours import _pairs_within
from core.records import CameraFrame

_TENTATIVE = 0
_CONFIRMED = 1
_LOST = 2


class ArrayEngine:
    """The array engine's steps, a base of :class:`core.tracking.Tracker`: they work on its
    track table ``_rows`` (one row per track, :func:`_empty_rows`) on backend ``_xp``, with
    its ``config``, ``_entrance`` and ``_exit`` rectangles, ``_departures``, ``_next_id``
    and ``_generic`` (array ops only, no scipy on the arrays), and its check-in binding
    ``_bind``."""

    def _update_arrays(self, frame: CameraFrame, t: float, dt: float):
        """The array engine's update (numpy or cupy). Returns the confirmed ids (k,) int64
        and xy (k, 2) float64 [m] by ascending id, host numpy."""
        cfg = self.config
        xp = self._xp
        camera = xp.asarray(frame.camera)
        if self._generic:
            fused = _fuse_generic(camera, xp.asarray(frame.xy), xp.asarray(frame.conf),
                                  cfg.fuse_radius_m, xp)
        else:
            fused = fuse_detections(frame.camera, frame.xy, frame.conf, cfg.fuse_radius_m)
        self._predict(dt)
        fapp = self._fused_looks(frame, fused)

        R = self._rows
        st = R["status"]
        stages = (
            xp.flatnonzero(st == _CONFIRMED),
            xp.flatnonzero(st == _TENTATIVE),
        )
        free = xp.arange(fused.xy.shape[0])
        m_rows, m_dets = [], []
        for rows in stages:
            if fapp.shape[1]:
                r, c = _gated_assignment_looks(
                    R["x"][rows, :2], fused.xy[free], cfg.gate_m, R["look"][rows],
                    R["look_n"][rows] > 0, fapp[free], cfg.appearance_weight_m, xp,
                    self._generic)
            elif self._generic:
                r, c = _gated_assignment_generic(R["x"][rows, :2], fused.xy[free], cfg.gate_m, xp)
            else:
                r, c = _gated_assignment(R["x"][rows, :2], fused.xy[free], cfg.gate_m)
            taken = free[c]
            m_rows.append(rows[r])
            m_dets.append(taken)
            left = xp.ones(free.shape[0], dtype=bool)
            left[c] = False
            free = free[left]
            free = self._drop_duplicates(free, taken, fused, camera)
        rows = xp.concatenate(m_rows)
        dets = xp.concatenate(m_dets)
        self._correct(rows, fused.xy[dets], fused.count[dets])
        seen = xp.zeros(st.shape[0], dtype=bool)
        seen[rows] = True
        # A tentative track only counts strong matches towards confirmation, so a run of
        # weak false positives near the entrance cannot confirm one.
        strong_match = (st[rows] != _TENTATIVE) | (fused.conf[dets] >= cfg.birth_min_conf)
        R["hits"][rows] += strong_match
        R["miss"][rows] = 0
        R["miss"][~seen & (st != _LOST)] += 1
        R["t_last"][rows] = t
        R["xy_last"][rows] = R["x"][rows, :2]
        self._see_looks(rows, fapp[dets])

        strong = free[fused.conf[free] >= cfg.birth_min_conf]
        self._spawn(fused.xy[strong], t, fapp[strong])
        self._expire(t, flushing=False)
        self._confirm(t)
        self._bind(t)

        R = self._rows
        out = xp.flatnonzero(R["status"] == _CONFIRMED)
        out = out[xp.argsort(R["tid"][out], kind="stable")]
        # fresh host arrays (fancy indexing copies)
        return to_numpy(R["tid"][out]), to_numpy(R["x"][out, :2])

    def _predict(self, dt: float) -> None:
        """Constant-velocity prediction of every non-lost track over ``dt`` [s]."""
        if dt <= 0.0:
            return
        xp = self._xp
        R = self._rows
        rows = xp.flatnonzero(R["status"] != _LOST)
        if rows.size == 0:
            return
        F = np.eye(4)
        F[0, 2] = F[1, 3] = dt
        q = self.config.accel_sigma_mps2**2
        Q = np.zeros((4, 4))
        Q[[0, 1], [0, 1]] = q * dt**4 / 4.0
        Q[[0, 1, 2, 3], [2, 3, 0, 1]] = q * dt**3 / 2.0
        Q[[2, 3], [2, 3]] = q * dt**2
        F, Q = xp.asarray(F), xp.asarray(Q)
        R["x"][rows] = R["x"][rows] @ F.T
        R["P"][rows] = F @ R["P"][rows] @ F.T + Q

    def _correct(self, rows, z, count) -> None:
        """Kalman update of ``rows`` with fused measurements z (k, 2) [m] of ``count``
        (k,) detections each (measurement variance shrinks with the count)."""
        if rows.size == 0:
            return
        xp = self._xp
        R = self._rows
        x, P = R["x"][rows], R["P"][rows]
        var = self.config.meas_sigma_m**2 / xp.maximum(count, 1)
        S = P[:, :2, :2] + var[:, None, None] * xp.eye(2)
        K = P[:, :, :2] @ (np.linalg.inv(S) if xp is np else _inv2(S, xp))
        x = x + xp.einsum("kij,kj->ki", K, z - x[:, :2])
        P = P - K @ P[:, :2, :]
        P = 0.5 * (P + xp.swapaxes(P, 1, 2))
        speed = xp.linalg.norm(x[:, 2:], axis=1)
        x[:, 2:] *= xp.minimum(1.0, self.config.max_speed_mps / xp.maximum(speed, 1e-12))[:, None]
        R["x"][rows], R["P"][rows] = x, P

    def _fused_looks(self, frame: CameraFrame, fused: FusedDetections):
        """(m, D) mean appearance descriptor of each fused point's detections; (m, 0)
        when the frame carries none (the table's looks then sit the frame out)."""
        xp = self._xp
        m = fused.xy.shape[0]
        app = frame.appearance
        dim = self._rows["look"].shape[1]
        if app.shape[1] and app.shape[1] != dim:
            self._look_dim(app.shape[1])
            dim = app.shape[1]
        if app.shape[1] == 0:
            return xp.zeros((m, 0))
        out = np.zeros((m, dim))
        np.add.at(out, to_numpy(fused.label), app.astype(np.float64))  # in detection order
        out /= np.maximum(to_numpy(fused.count), 1)[:, None]
        return xp.asarray(out)

    def _see_looks(self, rows, fapp) -> None:
        """Matched ``rows``' looks move towards their points' ``fapp`` (weight
        ``appearance_alpha``) where no other live track is within ``look_radius_m``; a
        row's first look is its point's."""
        if fapp.shape[1] == 0 or rows.size == 0:
            return
        xp = self._xp
        R = self._rows
        live = xp.flatnonzero(R["status"] != _LOST)
        i, j, _ = _pairs_within(R["x"][rows, :2], R["x"][live, :2], self.config.look_radius_m,
                                xp)
        crowded = xp.zeros(rows.shape[0], dtype=bool)
        crowded[i[live[j] != rows[i]]] = True
        first = R["look_n"][rows] == 0
        w = self.config.appearance_alpha
        old = R["look"][rows]
        new = xp.where(first[:, None], fapp, (1.0 - w) * old + w * fapp)
        upd = first | ~crowded
        R["look"][rows[upd]] = new[upd]
        R["look_n"][rows[upd]] += 1

    def _drop_duplicates(self, free, taken, fused: FusedDetections, camera):
        """Remove from ``free`` the fused points that are a stray view of a matched one:
        within ``dup_radius_m`` of it and seen by none of its cameras."""
        if free.size == 0 or taken.size == 0:
            return free
        xp = self._xp
        if self._generic:
            i, j, _ = _pairs_within(fused.xy[free], fused.xy[taken], self.config.dup_radius_m, xp)
        else:
            e = cKDTree(fused.xy[free]).sparse_distance_matrix(
                cKDTree(fused.xy[taken]), self.config.dup_radius_m, output_type="ndarray"
            )
            i, j = e["i"].astype(np.int64), e["j"].astype(np.int64)
        if i.size == 0:
            return free
        distinct = _shares_camera(free[i], taken[j], fused.label, camera)
        dup = xp.zeros(free.shape[0], dtype=bool)
        dup[i[~distinct]] = True
        return free[~dup]

    def _spawn(self, z, t: float, looks) -> None:
        """Start tentative tracks at fused points z (k, 2) [m] looking ``looks`` (k, D):
        births inside the entrance, re-identification candidates elsewhere."""
        k = z.shape[0]
        if k == 0:
            return
        xp = self._xp
        cfg = self.config
        P = xp.zeros((k, 4, 4))
        P[:, [0, 1], [0, 1]] = cfg.meas_sigma_m**2
        P[:, [2, 3], [2, 3]] = cfg.init_speed_sigma_mps**2
        new = {
            "tid": xp.full(k, -1, xp.int64),
            "status": xp.full(k, _TENTATIVE, xp.int8),
            "orphan": _rect_distance(z, self._entrance, xp) > 0.0,
            "x": xp.concatenate([z, xp.zeros((k, 2))], axis=1),
            "P": P,
            "hits": xp.ones(k, xp.int32),
            "miss": xp.zeros(k, xp.int32),
            "t_birth": xp.full(k, t),
            "xy_birth": z.copy(),
            "t_last": xp.full(k, t),
            "xy_last": z.copy(),
            "account": xp.full(k, -1, xp.int64),
            "look": xp.zeros((k, self._rows["look"].shape[1])),
            "look_n": xp.full(k, 1 if looks.shape[1] else 0, xp.int32),
        }
        if looks.shape[1]:
            new["look"] = looks.copy()
        self._rows = {name: xp.concatenate([col, new[name]]) for name, col in self._rows.items()}

    def _expire(self, t: float, flushing: bool) -> None:
        """Exit departures, confirmed -> lost, lost -> uncertain departures, and dropping
        tentative tracks missed too often. ``flushing``: no frame at ``t``, so no track
        is declared lost (only already-lost ones can time out)."""
        xp = self._xp
        cfg = self.config
        R = self._rows
        st = R["status"]
        gap = t - R["t_last"]
        unseen = R["t_last"] < t
        at_exit = _rect_distance(R["xy_last"], self._exit, xp) <= cfg.exit_margin_m
        confirmed_unseen = (st == _CONFIRMED) & unseen
        exits = confirmed_unseen & at_exit & (gap >= cfg.exit_linger_s)
        if not flushing:
            st[confirmed_unseen & ~at_exit & (gap >= cfg.max_missed_s)] = _LOST
        timeouts = (st == _LOST) & (gap >= cfg.reid_window_s)
        for rows, certain in ((xp.flatnonzero(exits), True), (xp.flatnonzero(timeouts), False)):
            if rows.size == 0:
                continue
            self._departures.extend(
                Departure(int(tid), int(acc), t, certain)
                for tid, acc in zip(
                    to_numpy(R["tid"][rows]), to_numpy(R["account"][rows]), strict=True
                )
            )
        drop = (st == _TENTATIVE) & (R["miss"] > cfg.tentative_max_misses)
        self._keep(~(exits | timeouts | drop))

    def _confirm(self, t: float) -> None:
        """Promote tentative tracks with enough hits: births get a new id; a
        re-identification candidate takes over the nearest compatible lost track
        (a small candidate x lost assignment, solved on the host)."""
        xp = self._xp
        cfg = self.config
        R = self._rows
        ready = (R["status"] == _TENTATIVE) & (R["hits"] >= cfg.confirm_hits)
        births = xp.flatnonzero(ready & ~R["orphan"])
        if births.size:
            births = births[xp.argsort(R["t_birth"][births], kind="stable")]
            R["tid"][births] = xp.arange(self._next_id, self._next_id + births.size)
            R["status"][births] = _CONFIRMED
            self._next_id += int(births.size)
        cand = xp.flatnonzero(ready & R["orphan"])
        lost = xp.flatnonzero(R["status"] == _LOST)
        if cand.size == 0 or lost.size == 0:
            return
        gap = R["t_birth"][cand][:, None] - R["t_last"][lost][None, :]
        dist = xp.linalg.norm(R["xy_birth"][cand][:, None, :] - R["xy_last"][lost][None], axis=2)
        ok = (gap > 0.0) & (gap <= cfg.reid_window_s)
        ok &= dist <= cfg.reid_speed_mps * gap + cfg.gate_m
        cost = xp.where(ok, dist + 1e-6 * gap, _BIG)  # nearest; ties: most recently lost
        if R["look"].shape[1] and cfg.appearance_reid_m > 0:   # and looking alike
            la, lb = R["look"][cand][:, None, :], R["look"][lost][None, :, :]
            both = (R["look_n"][cand][:, None] > 0) & (R["look_n"][lost][None, :] > 0)
            tv = 0.5 * xp.abs(la - lb).sum(axis=2)
            cost = cost + xp.where(ok & both, cfg.appearance_reid_m * tv, 0.0)
        r, c = linear_sum_assignment(to_numpy(cost))
        keep = to_numpy(ok)[r, c]
        if not keep.any():
            return
        src, dst = cand[xp.asarray(r[keep])], lost[xp.asarray(c[keep])]
        for name in ("x", "P", "miss", "hits", "t_last", "xy_last"):
            R[name][dst] = R[name][src]
        R["status"][dst] = _CONFIRMED
        alive = xp.ones(R["status"].shape[0], dtype=bool)
        alive[src] = False
        self._keep(alive)

    def _keep(self, mask) -> None:
        if not bool(mask.all()):
            self._rows = {name: col[mask] for name, col in self._rows.items()}


def _empty_rows(xp: ModuleType = np, dim: int = 0) -> dict:
    """Track table columns (one row per track) on backend ``xp``: tid int64 (-1 until
    confirmed), status int8, orphan bool (re-identification candidate), x (n, 4) float64
    [m, m/s], P (n, 4, 4), hits/miss int32 frames, t_birth/t_last float64 [s],
    xy_birth/xy_last (n, 2) [m], account int64 (-1 unbound), look (n, dim) float64 (the
    running appearance descriptor) and look_n int32 (sightings in it)."""
    return {
        "tid": xp.zeros(0, xp.int64),
        "status": xp.zeros(0, xp.int8),
        "orphan": xp.zeros(0, bool),
        "x": xp.zeros((0, 4)),
        "P": xp.zeros((0, 4, 4)),
        "hits": xp.zeros(0, xp.int32),
        "miss": xp.zeros(0, xp.int32),
        "t_birth": xp.zeros(0),
        "xy_birth": xp.zeros((0, 2)),
        "t_last": xp.zeros(0),
        "xy_last": xp.zeros((0, 2)),
        "account": xp.zeros(0, xp.int64),
        "look": xp.zeros((0, dim)),
        "look_n": xp.zeros(0, xp.int32),
    }


def _inv2(S, xp: ModuleType):
    """Inverse of a stack of 2 x 2 matrices S (k, 2, 2) by the adjugate: a few elementwise
    kernels on a device (numpy keeps ``np.linalg.inv``; the two agree to float64 rounding)."""
    a, b, c, d = S[:, 0, 0], S[:, 0, 1], S[:, 1, 0], S[:, 1, 1]
    adj = xp.stack([xp.stack([d, -b], axis=-1), xp.stack([-c, a], axis=-1)], axis=-2)
    return adj / (a * d - b * c)[:, None, None]


def _rect_distance(xy, rect: np.ndarray, xp: ModuleType = np):
    """Distance from points to an axis-aligned rectangle (0 inside).

    xy: (n, 2) float64 [m] of backend ``xp``; rect: (4,) host xmin, ymin, xmax, ymax [m].
    Returns (n,) [m].
    """
    x0, y0, x1, y1 = (float(v) for v in rect)
    dx = xp.maximum(xp.maximum(x0 - xy[:, 0], xy[:, 0] - x1), 0.0)
    dy = xp.maximum(xp.maximum(y0 - xy[:, 1], xy[:, 1] - y1), 0.0)
    return xp.hypot(dx, dy)
