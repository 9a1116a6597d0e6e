"""What sensors in doubt do to the bills: a part of :class:`core.store_core.StoreCore`.

:class:`SensorHealth` keeps the core's intake (:mod:`core.intake`: messages back in time
order) and the plates' and cameras' health (:mod:`core.health`), and turns a sensor in doubt
into doubt on the receipts that depended on it: a shelf event on a doubtful plate, or one
no hand explains beside a doubtful camera, is billed with less confidence and the reason on
its line; a shopper seen with a hand in the bins of a doubtful plate, or standing at them,
gets the reason on the receipt (a pick from a stuck or silent plate leaves no event: only
review can find it).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from core.hands import ARM_M
from core.health import CameraHealth, PlateHealth
from core.intake import Intake
from core.records import CameraFrame, PlateSamples, SensorBatch, Tracks
from core.shelf import ShelfEvent

# the dwell check runs every this many camera frames (a third of a second at 15 Hz)
DWELL_EVERY = 5
# hands in a plate's bins this long after the last are a new reach [s]; a reach is judged
# this long after it (a pick's event closes ~1 s after the hand leaves) [s]; this many
# reaches in a row with no change of load make the plate "unmoved". On the default run
# (kiosk, 10 min, seed 0) every one of 97 reaches is explained by a change of load on a
# plate within reach of the hand; with 30 % of plates unloaded, 34 of 97 are not.
REACH_GAP_S, REACH_JUDGE_S, UNMOVED_REACHES = 5.0, 10.0, 2


class SensorHealth:
    """Intake and sensor health of :class:`core.store_core.StoreCore`."""

    def _health_start(self, knowledge) -> None:
        self.intake = Intake(self.intake_config)
        cfg = self.health_config
        ids = self.detector.plate_ids
        self.plate_health = PlateHealth(ids, knowledge.plate_hz, knowledge.plate_noise_g, cfg)
        self.camera_health = CameraHealth(knowledge.cameras, cfg, knowledge.camera_hz)
        self._acc_xy = np.array([self._plate_access[int(p)] for p in ids.tolist()])
        pi, ci = self.camera_health.inside(self._acc_xy)
        order = np.argsort(pi, kind="stable")
        self._cover_cam = ci[order]
        self._cover_ptr = np.searchsorted(pi[order], np.arange(ids.size + 1))
        self._sensor_doubted: set[tuple[int, int]] = set()   # (cart key, plate) noted
        self._sensor_keys: set[int] = set()                  # cart keys already doubted
        self._dwell: dict[tuple[int, int], float] = {}
        self._frames_seen = 0
        self._reach_t: dict[int, float] = {}          # plate -> last hand seen in its bins
        # plate -> (t, track, the plates of every bin within reach of the hand) to judge
        self._reaches: dict[int, list[tuple[float, int, tuple[int, ...]]]] = {}
        self._unexplained: dict[int, list[int]] = {}  # plate -> tracks of reaches, no change
        self._moved_t: dict[int, float] = {}          # plate -> last event's end [s]

    def _ordered(self, batch: SensorBatch) -> list[SensorBatch]:
        """The batches ready to process, in time order (:mod:`core.intake`)."""
        out = self.intake.push(batch)
        self._note_lost()
        return out

    def _note_lost(self) -> None:
        lost = self.intake.lost_plates
        for _t0, t1, plate in lost:
            self.plate_health.lost(plate, t1)
        lost.clear()

    def _plate_in(self, p: PlateSamples) -> PlateSamples:
        return self.plate_health.check(p)

    def _frame_in(self, f: CameraFrame) -> CameraFrame:
        return self.camera_health.check(f)

    def _health_frame(self, f: CameraFrame, tracks: Tracks) -> None:
        """After a frame: cameras watched once a second; shoppers at doubtful plates."""
        self._frames_seen += 1
        t = float(f.t)
        self._note_reaches(f, tracks, t)
        if self._frames_seen % max(1, int(round(self.k.camera_hz))) == 0:
            ch = self.camera_health
            for j, c in ch.watch(t, np.asarray(tracks.xy).reshape(-1, 2)):
                self._unwatched(int(tracks.track_id[j]), int(ch.ids[c]), t)
            self._judge_reaches(t)
        ph = self.plate_health
        if not ph.any_doubt or tracks.track_id.size == 0:
            return
        rows = ph.doubtful()
        bad_plates = ph.ids[rows]
        h = f.hand_xyz
        if h.shape[0]:
            d, b = self._bin_tree.query(h, distance_upper_bound=self.attribution.hand_bin_m)
            ok = np.isfinite(d)
            plates = self._bin_plate[b[ok]]
            sel = np.isin(plates, bad_plates)
            for hand, plate in zip(h[ok][sel], plates[sel].tolist(), strict=True):
                dist = np.linalg.norm(tracks.xy - hand[None, :2], axis=1)
                j = int(np.argmin(dist))
                if dist[j] <= ARM_M:
                    self._sensor_doubt(int(tracks.track_id[j]), int(plate), t, "a hand")
        if self._frames_seen % DWELL_EVERY:
            return
        cfg = self.health_config
        step = DWELL_EVERY / self.k.camera_hz
        near = cKDTree(self._acc_xy[rows]).query_ball_point(tracks.xy, cfg.dwell_m)
        for j, lst in enumerate(near):
            tid = int(tracks.track_id[j])
            for q in lst:
                plate = int(bad_plates[q])
                key = (tid, plate)
                s = self._dwell[key] = self._dwell.get(key, 0.0) + step
                if s >= cfg.dwell_s:
                    self._sensor_doubt(tid, plate, t, "standing")

    def _note_reaches(self, f: CameraFrame, tracks: Tracks, t: float) -> None:
        """Hands in bins with a track within an arm: a reach into that plate's bins."""
        h = f.hand_xyz
        if not h.shape[0] or not tracks.track_id.size:
            return
        reach = self.attribution.hand_bin_m
        d, b = self._bin_tree.query(h, distance_upper_bound=reach)
        for hand, bi in zip(h[np.isfinite(d)], b[np.isfinite(d)].tolist(), strict=True):
            dist = np.linalg.norm(tracks.xy - hand[None, :2], axis=1)
            j = int(np.argmin(dist))
            plate = int(self._bin_plate[bi])
            if dist[j] > ARM_M:
                continue
            if t - self._reach_t.get(plate, -np.inf) > REACH_GAP_S:
                near = tuple(sorted({int(self._bin_plate[k])
                                     for k in self._bin_tree.query_ball_point(hand, reach)}))
                self._reaches.setdefault(plate, []).append((t, int(tracks.track_id[j]), near))
            self._reach_t[plate] = t

    def _judge_reaches(self, t: float) -> None:
        """Reaches old enough to judge: explained by a change of load on the plate, or
        not; the third unexplained in a row makes the plate unmoved, and every shopper of
        those reaches goes to review."""
        lead = self.attribution.lead_s
        for plate, todo in list(self._reaches.items()):
            while todo and todo[0][0] < t - REACH_JUDGE_S:
                when, track, near = todo.pop(0)
                if any(self._moved_t.get(p, -np.inf) >= when - lead for p in near):
                    self._unexplained.pop(plate, None)
                    continue
                seen = self._unexplained.setdefault(plate, [])
                seen.append(track)
                self._reach_doubt(track, plate, when)
                if len(seen) >= UNMOVED_REACHES:
                    self.plate_health.unmoved(plate, t)
            if not todo:
                del self._reaches[plate]

    def _doubt_once(self, track: int, tag: int, reason) -> None:
        """Send track ``track``'s receipt to review for a sensor (``tag``: a plate id, or
        -1 - camera id), once per cart and sensor; ``reason`` is the sentence, or a
        callable giving it ("": no doubt after all). The cart's confidence drops once."""
        key = self._cart_key(track)
        if (key, tag) in self._sensor_doubted or key in self._billed:
            return
        self._sensor_doubted.add((key, tag))
        why = reason() if callable(reason) else reason
        if not why:
            return
        factor = 1.0 if key in self._sensor_keys else self.health_config.doubt_confidence
        self._sensor_keys.add(key)
        self.stats.sensor_doubts += 1
        self.carts.doubt(key, factor, why)

    def _reach_doubt(self, track: int, plate: int, when: float) -> None:
        """A hand reached into ``plate``'s bins at ``when`` and no plate within reach of
        it changed: whatever was taken was not weighed."""
        self._doubt_once(track, plate, f"sensing: a hand seen reaching into plate {plate}'s "
                                       f"bins at t={when:.1f} s, and no plate within reach "
                                       "changed: a pick there was not weighed")

    def _unwatched(self, track: int, camera: int, t: float) -> None:
        """Track ``track`` walked where camera ``camera`` (in doubt) should have seen it:
        who is who there rests on fewer cameras, so the receipt goes to review."""
        self._doubt_once(track, -1 - camera, f"sensing: walked in camera {camera}'s view at "
                                             f"t={t:.1f} s while it was silent or frozen; "
                                             "who is who there rests on fewer cameras")

    def _sensor_doubt(self, track: int, plate: int, t: float, how: str) -> None:
        """Track ``track``'s shopper was at doubtful ``plate`` at ``t`` (``how``: a hand
        seen in its bins, or standing at them): their receipt goes to review."""
        what = "a hand seen in its bins" if how == "a hand" else "stood at its bins"

        def reason() -> str:
            why = self.plate_health.reason(plate, t, t)
            return f"{why}; {what} at t={t:.1f} s: a pick there could not be weighed" if why \
                else ""
        self._doubt_once(track, plate, reason)

    def _event_doubt(self, ev: ShelfEvent, method: str, conf: float) -> str:
        """Why a shelf event's line is in doubt because of a sensor ("" when it is not):
        its plate in doubt, or (when no hand made it sure) a camera over it in doubt."""
        self._moved_t[ev.plate] = ev.t_end       # the plate moved: it is not unmoved
        self._unexplained.pop(ev.plate, None)
        self.plate_health.moved(ev.plate)
        why = self.plate_health.reason(ev.plate, ev.t_start, ev.t_end)
        if why:
            return why
        if method == "hand" and conf >= 0.9:
            return ""
        r = int(np.searchsorted(self.plate_health.ids, ev.plate))
        cams = self._cover_cam[self._cover_ptr[r]:self._cover_ptr[r + 1]]
        return self.camera_health.reason(cams, ev.t_start - self.attribution.lead_s, ev.t_end)

    def sensor_health(self) -> dict:
        """What the core noticed about its sensors (metrics.json ``core.sensor_health``)."""
        ph, ch, it = self.plate_health, self.camera_health, self.intake
        return {
            "plates_in_doubt": [{"plate": p, "since_s": round(s, 3), "why": w}
                                for p, s, w in ph.events[:1000]],
            "cameras_in_doubt": [{"camera": c, "since_s": round(s, 3), "why": w}
                                 for c, s, w in ch.events[:1000]],
            "plate_doubts": len(ph.events), "camera_doubts": len(ch.events),
            "unknown_plate_rows": ph.unknown_rows, "unknown_camera_rows": ch.unknown_rows,
            "camera_rows_dropped": ch.dropped_rows,
            "late_messages": it.late, "late_dropped": dict(it.dropped),
            "reorder_window_s": round(it.window, 4),
        }
