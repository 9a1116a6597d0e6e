"""Sensor health: which plates and cameras the core can trust, and whose bill a broken one
puts in doubt.

A real load cell is never perfectly still: ~2 g of white noise and 0.5 g quantisation make
twelve identical samples in a row practically impossible (REFERENCES.md, the load-cell
model in twin/sensors.py), so a plate whose readings stop changing is **stuck**; readings
that are NaN, infinite or beyond the cell's range are **invalid** (replaced by the plate's
last valid reading before the shelf detector sees them); a plate whose messages stop
arriving (or arrive too late to be put back in order, :mod:`core.intake`) is **silent**; a
plate far noisier than its datasheet noise is **noisy**; an idle plate whose reading walks
faster than a load cell's drift is **drifting**. A camera that reports nobody for
``silent_s`` while tracks stand in its view is **silent**; one that sends bit-identical
detections frame after frame is **frozen** (its detections are dropped: a real detector's
boxes jitter).

What a sensor in doubt changes (:class:`SensorHealth`, part of :class:`core.store_core.
StoreCore`): a shelf event on a plate in doubt (or within ``recover_s`` of one) is billed
with its confidence times ``doubt_confidence`` and the reason on its line; a shopper whose
hand a camera saw in the bins of a plate in doubt, or who stood at them for ``dwell_s``,
gets the reason on their receipt (a pick there may have left no trace: that receipt goes
to review, never out as sure); an event no hand explains next to a camera in doubt is
doubted the same way.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from core.records import CameraFrame, PlateSamples
from params import config, num

SQRT2 = float(np.sqrt(2.0))


def _row_min_max(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's min and max of a (p, k) array, a column at a time: numpy's row-wise
    reduction of short rows is ~6x slower (4.6 against 0.8 ms at 47,600 plates x 12)."""
    mn, mx = g[:, 0].copy(), g[:, 0].copy()
    for j in range(1, g.shape[1]):
        np.minimum(mn, g[:, j], out=mn)
        np.maximum(mx, g[:, j], out=mx)
    return mn, mx


@config(frozen=True)
class HealthConfig:
    """stuck_s: a plate reading the same value this long is stuck [s] (five of AiFi's 12-
    sample messages: 60 identical samples); noisy_factor: a plate whose sample-to-sample
    noise exceeds this many datasheet sigmas is noisy; drift_g_per_s: an idle plate whose
    reading moves faster than this over ``drift_window_s`` is drifting [g/s] (a healthy
    cell walks ~0.3 g/sqrt(s): ~0.1 g/s over 10 s, so 1 g/s is ten times that); min_g,
    max_g: a valid reading's range [g] (150 % of a 20 kg cell; below -2 kg no zero offset
    reads); recover_s: a sensor is trusted again after this long healthy [s]; silent_s:
    a camera with people in view and no detection this long is silent [s]; frozen_frames:
    identical frames in a row that make a camera frozen; dwell_m, dwell_s: a shopper
    standing this near a doubtful plate's access point this long may have picked from it;
    doubt_confidence: the factor on a line or receipt that depended on a doubtful sensor."""

    stuck_s: float = num(1.0, gt=0, le=60, unit="s")
    noisy_factor: float = num(4.0, gt=1, le=100)
    drift_g_per_s: float = num(1.0, gt=0, le=1000, unit="g/s")
    drift_window_s: float = num(10.0, ge=2, le=600, unit="s")
    min_g: float = num(-2000.0, unit="g")
    max_g: float = num(30000.0, unit="g")
    recover_s: float = num(5.0, ge=0, le=600, unit="s")
    silent_s: float = num(3.0, gt=0, le=600, unit="s")
    frozen_frames: int = num(15, ge=2, le=10000, integer=True)
    dwell_m: float = num(0.5, gt=0, le=5, unit="m")
    dwell_s: float = num(3.0, gt=0, le=60, unit="s")
    doubt_confidence: float = num(0.4, ge=0, le=1)


PLATE_WHY = ("", "silent (no messages)", "invalid readings (NaN, inf or out of range)",
             "stuck (the same reading, no noise)", "noisy", "drifting",
             "messages lost (too late to put in order)",
             "unmoved (hands seen reaching into its bins, no change of load)")


class PlateHealth:
    """Per-plate health over the plate messages (module doc). ``check(msg)`` returns the
    message with every plate of ``ids`` (missing rows and invalid samples replaced by the
    plate's last valid reading) and updates each plate's state."""

    def __init__(self, ids: np.ndarray, plate_hz: float, noise_g: float,
                 cfg: HealthConfig) -> None:
        self.ids = np.asarray(ids, np.int32)
        self.cfg = cfg
        p = self.ids.size
        self.noise_g = float(noise_g)
        self.hold = np.zeros(p)                 # last valid reading [g]
        self.started = np.zeros(p, bool)
        self.same = np.zeros(p, np.int64)       # identical messages in a row
        self.since = np.full(p, np.nan)         # in doubt since [s] (NaN: trusted)
        self.why = np.zeros(p, np.int8)         # PLATE_WHY index
        self.last_bad = np.full(p, -np.inf)     # the last time a check failed [s]
        self.until = np.full(p, -np.inf)        # when the last doubt ended [s]
        self.plate_hz = float(plate_hz)
        self.k = 0                              # samples a message (from the first one)
        m = max(2, int(round(cfg.drift_window_s)) + 1)
        self._noise = np.full((5, p), np.nan)   # per-second noise estimates [g], time-major
        self._mean = np.full((m, p), np.nan)    # per-second means of quiet messages [g]
        self._msgs = 0
        self.numb = np.zeros(p, bool)           # unmoved though hands reached in (sticky)
        self.unknown_rows = 0                   # message rows of plates not in the store
        self.events: list[tuple[int, float, str]] = []   # (plate, since, why) as opened

    @property
    def any_doubt(self) -> bool:
        return bool(np.isfinite(self.since).any())

    def doubtful(self) -> np.ndarray:
        """Rows of the plates in doubt now."""
        return np.flatnonzero(np.isfinite(self.since))

    def reason(self, plate: int, t0: float, t1: float) -> str:
        """Why an event on ``plate`` over [t0, t1] is in doubt ("" when it is not)."""
        r = int(np.searchsorted(self.ids, plate))
        if r >= self.ids.size or self.ids[r] != plate:
            return ""
        s = self.since[r]
        if np.isfinite(s) and s <= t1:
            return f"sensing: plate {plate} {PLATE_WHY[self.why[r]]} since t={s:.1f} s"
        if self.until[r] >= t0 - self.cfg.recover_s:
            return f"sensing: plate {plate} was in doubt until t={self.until[r]:.1f} s"
        return ""

    def _rows(self, plate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(message rows of known plates, their state rows)."""
        if plate.shape == self.ids.shape and np.array_equal(plate, self.ids):
            r = np.arange(self.ids.size)
            return r, r
        pos = np.minimum(np.searchsorted(self.ids, plate), self.ids.size - 1)
        ok = self.ids[pos] == plate
        self.unknown_rows += int((~ok).sum())
        return np.flatnonzero(ok), pos[ok]

    def check(self, msg: PlateSamples) -> PlateSamples:
        cfg = self.cfg
        k = msg.t.shape[0]
        if k == 0:
            return msg
        if not self.k:
            self.k = k
            self.every = max(1, int(round(self.plate_hz / k)))   # messages a second
            self.n_stuck = max(2, int(np.ceil(cfg.stuck_s * self.plate_hz / k)))
        t = float(msg.t[-1])
        p = self.ids.size
        if msg.plate.shape == self.ids.shape and np.array_equal(msg.plate, self.ids):
            mn, mx = _row_min_max(msg.grams)
            if ((mn >= cfg.min_g) & (mx <= cfg.max_g)).all():   # (NaN fails both)
                return self._healthy(msg, mn, mx, t)
        g = np.full((p, k), np.nan)
        mrow, srow = self._rows(msg.plate)
        g[srow] = msg.grams[mrow]
        missing = np.ones(p, bool)
        missing[srow] = False
        bad = ~np.isfinite(g) | (g < cfg.min_g) | (g > cfg.max_g)
        badrow = bad.any(axis=1)
        if badrow.any():
            held = np.where(self.started, self.hold, 0.0)
            # a bad sample reads as the last good one before it (the plate's hold)
            g2 = np.where(bad, np.nan, g)
            for j in range(k):
                col = g2[:, j]
                nan = np.isnan(col)
                col[nan] = held[nan]
                held = col
            g = g2
        self.started |= ~badrow
        g32 = g.astype(np.float32)
        self._judge(g32, *_row_min_max(g32), badrow, missing, t)
        return PlateSamples(msg.t, self.ids, g32)

    def _healthy(self, msg: PlateSamples, mn: np.ndarray, mx: np.ndarray, t: float
                 ) -> PlateSamples:
        """Every plate sent, every reading valid (the usual message): judged as it is, no
        copy made."""
        self.started[:] = True
        none = np.zeros(self.ids.size, bool)
        self._judge(msg.grams, mn, mx, none, none, t)
        return msg

    def _judge(self, g: np.ndarray, mn: np.ndarray, mx: np.ndarray, badrow: np.ndarray,
               missing: np.ndarray, t: float) -> None:
        """Each plate's checks on one message ``g`` (p, k) float32, held where bad."""
        self.hold = g[:, -1].astype(np.float64)
        eq = (mx == mn) & ~badrow
        if self._msgs:
            eq &= g[:, 0] == self._prev_last
        self._prev_last = g[:, -1].copy()
        self.same = np.where(eq, self.same + 1, 0)
        why = np.zeros(self.ids.size, np.int8)
        why[self.same >= self.n_stuck] = 3
        why[badrow & ~missing] = 2
        why[missing] = 1
        why[(why == 0) & self.numb] = 7
        self._msgs += 1
        if self._msgs % self.every == 0 and g.shape[1] > 1:
            self._second(g, mn, mx, badrow, why)
        self._update(why, t)

    def _second(self, g: np.ndarray, mn: np.ndarray, mx: np.ndarray, badrow: np.ndarray,
                why: np.ndarray) -> None:
        """Once a second: noise and drift from this message (time-major, so every
        reduction runs over all plates at once). Noisy: over the threshold in 3 of the
        last 5 seconds (their median over it)."""
        cfg = self.cfg
        gt = np.ascontiguousarray(g.T, dtype=np.float64)          # (k, p)
        noise = np.std(np.diff(gt, axis=0), axis=0) / SQRT2
        noise[badrow] = np.nan
        self._noise = np.roll(self._noise, -1, axis=0)
        self._noise[-1] = noise
        quiet = (noise <= 3.0 * self.noise_g) & (mx - mn <= 8.0 * self.noise_g)
        self._mean = np.roll(self._mean, -1, axis=0)
        self._mean[-1] = np.where(quiet, gt.mean(axis=0), np.nan)
        with np.errstate(all="ignore"):
            span = self._mean.shape[0] - 1
            total = self._mean[-1] - self._mean[0]
            # a drift moves every second, a light item's step (under the quiet bound) once
            steady = np.abs(np.diff(self._mean, axis=0)).max(axis=0) <= 0.5 * np.abs(total)
            drifting = (np.isfinite(self._mean).all(axis=0) & steady
                        & (np.abs(total) / span > cfg.drift_g_per_s))
        if self._msgs > self.every * 4:
            noisy = (self._noise > cfg.noisy_factor * self.noise_g).sum(axis=0) >= 3
            why[(why == 0) & noisy] = 4
        why[(why == 0) & drifting] = 5

    def unmoved(self, plate: int, t: float) -> None:
        """Hands reached into ``plate``'s bins again and again and its load never changed
        (a cell that reads a live load that does not move: disconnected from its
        platform): in doubt until it reports a change (:meth:`moved`)."""
        _m, rows = self._rows(np.asarray([plate], np.int32))
        self.numb[rows] = True
        why = np.zeros(self.ids.size, np.int8)
        why[rows] = 7
        self._update(why, t, only_open=True)

    def moved(self, plate: int) -> None:
        _m, rows = self._rows(np.asarray([plate], np.int32))
        self.numb[rows] = False

    def lost(self, plate: np.ndarray, t: float) -> None:
        """Messages of ``plate`` never arrived in time (:mod:`core.intake`)."""
        _m, rows = self._rows(np.asarray(plate, np.int32))
        why = np.zeros(self.ids.size, np.int8)
        why[rows] = 6
        self._update(why, t, only_open=True)

    def _update(self, why: np.ndarray, t: float, only_open: bool = False) -> None:
        bad = why > 0
        self.last_bad[bad] = t
        opening = bad & ~np.isfinite(self.since)
        if opening.any():
            for r in np.flatnonzero(opening).tolist():
                start = t - (self.same[r] * self.k / self.plate_hz if why[r] == 3 else 0.0)
                self.since[r] = start
                self.why[r] = why[r]
                self.events.append((int(self.ids[r]), start, PLATE_WHY[why[r]]))
        if only_open:
            return
        closing = np.isfinite(self.since) & (t - self.last_bad >= self.cfg.recover_s)
        if closing.any():
            self.until[closing] = t
            self.since[closing] = np.nan
            self.why[closing] = 0


class CameraHealth:
    """Per-camera health over the frames (module doc): floor footprints from the
    calibration; ``check(frame)`` drops frozen cameras' rows and detections of cameras not
    in the store; ``watch(t, xy)`` (about once a second) notes cameras silent with
    confirmed tracks in view."""

    def __init__(self, cameras, cfg: HealthConfig, camera_hz: float,
                 height_m: float = 1.0) -> None:
        self.cfg = cfg
        self.hz = float(camera_hz)
        self.ids = np.asarray(cameras.camera, np.int32)
        order = np.argsort(self.ids, kind="stable")
        self.ids = self.ids[order]
        c = self.ids.size
        self.quad = np.full((c, 4, 2), np.nan)
        res = np.asarray(cameras.resolution, np.float64)[order]
        intr = np.asarray(cameras.intrinsics, np.float64)[order]
        rot = np.asarray(cameras.rotation, np.float64)[order]
        pos = np.asarray(cameras.position, np.float64)[order]
        for corner, (fu, fv) in enumerate(((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8))):
            u, v = fu * res[:, 0], fv * res[:, 1]
            d = np.stack([(u - intr[:, 2]) / intr[:, 0], (v - intr[:, 3]) / intr[:, 1],
                          np.ones(c)], axis=1)
            w = np.einsum("cij,cj->ci", rot, d)
            with np.errstate(all="ignore"):
                s = (height_m - pos[:, 2]) / w[:, 2]
            ok = (w[:, 2] < -1e-6) & (s > 0)
            self.quad[ok, corner] = pos[ok, :2] + s[ok, None] * w[ok, :2]
        self.has = np.isfinite(self.quad).all(axis=(1, 2))
        ctr = np.where(self.has[:, None], np.nanmean(self.quad, axis=1), 1e9)
        self.center = ctr
        rad = np.linalg.norm(self.quad - ctr[:, None, :], axis=2).max(axis=1)
        self.radius = float(np.nanmax(rad[self.has])) if self.has.any() else 0.0
        self.tree = cKDTree(ctr)
        self.last_det = np.full(c, -np.inf)    # last detection [s]
        self.watched = np.full(c, np.nan)      # people in view since [s] (NaN: nobody)
        self.since = np.full(c, np.nan)        # in doubt since [s]
        self.why = np.zeros(c, np.int8)        # 1 silent, 2 frozen
        self.until = np.full(c, -np.inf)
        self._sig = np.full((c, 2), np.nan)    # last frame's (count, sum) per camera
        self._frozen = np.zeros(c, np.int64)
        self.unknown_rows = 0
        self.dropped_rows = 0
        self.events: list[tuple[int, float, str]] = []

    def inside(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point rows, camera rows) of points ``xy`` (n, 2) inside camera footprints."""
        if xy.shape[0] == 0 or not self.has.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        # candidates: the cameras whose footprint centre is within the largest footprint's
        # radius (a hair more: the quad test below decides), as arrays, by point then camera
        near = cKDTree(xy).sparse_distance_matrix(self.tree, self.radius * (1 + 1e-9) + 1e-9,
                                                   output_type="ndarray")
        order = np.lexsort((near["j"], near["i"]))
        pi = near["i"][order].astype(np.int64)
        ci = near["j"][order].astype(np.int64)
        if ci.size == 0:
            return pi, ci
        q = self.quad[ci]                                   # (m, 4, 2)
        e = np.roll(q, -1, axis=1) - q
        r = xy[pi][:, None, :] - q
        cross = e[..., 0] * r[..., 1] - e[..., 1] * r[..., 0]
        ok = (cross >= 0).all(axis=1) | (cross <= 0).all(axis=1)
        return pi[ok], ci[ok]

    def check(self, f: CameraFrame) -> CameraFrame:
        t = float(f.t)
        c = self.ids.size
        pos = np.minimum(np.searchsorted(self.ids, f.camera), c - 1)
        known = self.ids[pos] == f.camera
        sig = np.full((c, 2), np.nan)
        if len(f):
            cnt = np.bincount(pos[known], minlength=c).astype(np.float64)
            w = f.xy[known, 0] * 1.000001 + f.xy[known, 1] * np.pi
            tot = np.bincount(pos[known], weights=w, minlength=c)
            seen = cnt > 0
            sig[seen, 0], sig[seen, 1] = cnt[seen], tot[seen]
            self.last_det[seen] = t
        same = np.isfinite(sig[:, 0]) & (sig == self._sig).all(axis=1)
        self._sig = sig
        self._frozen = np.where(same, self._frozen + 1, 0)
        froze = self._frozen >= self.cfg.frozen_frames
        for r in np.flatnonzero(froze & ~np.isfinite(self.since)).tolist():
            self._open(r, t - self._frozen[r] / self.hz, 2)
        drop = ~known
        if same.any():
            drop |= known & same[pos]
        self.unknown_rows += int((~known).sum())
        hk = f.hand_camera
        if drop.any() or hk.size:
            hpos = np.minimum(np.searchsorted(self.ids, hk), c - 1)
            hdrop = (self.ids[hpos] != hk) | same[hpos]
            if drop.any() or hdrop.any():
                self.dropped_rows += int(drop.sum())
                f = f.select(~drop, ~hdrop)
        # a camera that sees people again, and has not repeated itself, is trusted again
        back = np.isfinite(self.since) & (self.last_det == t) & ~same
        for r in np.flatnonzero(back).tolist():
            self.until[r] = t
            self.since[r] = np.nan
            self.why[r] = 0
        return f

    def watch(self, t: float, xy: np.ndarray) -> list[tuple[int, int]]:
        """Tracks at ``xy`` (n, 2) [m] now: cameras with someone in view and no detection
        for ``silent_s`` are silent. Returns (track row, camera row) of the tracks in view
        of a camera in doubt."""
        pi, ci = self.inside(xy)
        view = np.zeros(self.ids.size, bool)
        view[ci] = True
        self.watched[~view] = np.nan
        self.watched[view & ~np.isfinite(self.watched)] = t
        quiet_since = np.maximum(self.watched, self.last_det)
        silent = view & (t - quiet_since >= self.cfg.silent_s) & ~np.isfinite(self.since)
        for r in np.flatnonzero(silent).tolist():
            self._open(r, float(quiet_since[r]), 1)
        bad = np.isfinite(self.since[ci])
        return list(zip(pi[bad].tolist(), ci[bad].tolist(), strict=True))

    def _open(self, r: int, t: float, why: int) -> None:
        self.since[r] = t
        self.why[r] = why
        self.events.append((int(self.ids[r]), t, ("", "silent", "frozen")[why]))

    def reason(self, cams: np.ndarray, t0: float, t1: float) -> str:
        """Why an event seen (or not) by camera rows ``cams`` over [t0, t1] is in doubt."""
        if cams.size == 0:
            return ""
        s = self.since[cams]
        bad = (np.isfinite(s) & (s <= t1)) | (self.until[cams] >= t0)
        if not bad.any():
            return ""
        ids = ", ".join(str(int(i)) for i in self.ids[cams[bad]][:4])
        n = int(bad.sum())
        return (f"sensing: {n} of the {cams.size} cameras over this shelf silent or frozen "
                f"({ids}{', ...' if n > 4 else ''})")
