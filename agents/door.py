"""Who comes into the crowd and who leaves it: sampled parties (arrivals, returning panel
accounts, groups of two), scripted shoppers at their entry times, the door queue, a store
filled at once (:meth:`Admission.populate`), and the ones who walked out.

A mixin of :class:`agents.crowd.Crowd`: it reads and writes the crowd's state set up in
``Crowd.__init__`` (the roster, accounts and carts, the per-person arrays).
"""

from __future__ import annotations

import heapq
from collections import deque

import numpy as np

from agents.behaviour import sample_speed, sample_trip
from agents.looks import draw_looks
from agents.roster import ShopperRecord, ShopperState, TruthEvent, pref_weights
from agents.tastes import sample_preferences
from twin.sensors import EntryGate


class Admission:
    """The door of the crowd (module docstring)."""

    def _new_account(self) -> int:
        while True:
            a = int(self.rng.integers(1_000_000, 10_000_000))
            if a not in self._accounts:
                self._accounts.add(a)
                return a

    def _sample_party(self, t: float, start: np.ndarray | None = None) -> None:
        """One sampled arrival: a shopper, or a group of two on one account."""
        rng = self.rng
        pop = self.config.population
        if self._panel_prefs is not None:
            away = self.config.panel_away_s
            free = [i for i, a in enumerate(self._panel) if not self._members.get(a, 0)
                    and t - self.exited.get(a, -np.inf) >= away]
            if not free:
                return      # every panel account is inside: this arrival is not made
            i = free[int(rng.integers(len(free)))]
            acct, prefs = self._panel[i], self._panel_prefs.row(i)
        else:
            prefs = sample_preferences(rng, 1, self.store.catalogue, pop).row(0)
            acct = -1
        trip = sample_trip(rng, self.profile, prefs, self.store.catalogue,
                           self._groups, self._stock, pop)
        group = 2 if rng.random() < self.config.p_group and len(trip.lines) >= 2 else 1
        if acct < 0:
            acct = self._new_account()
        self._members[acct] = group
        for m in range(group):
            lines = list(trip.lines[m::group])
            looks = list(trip.look_s[m::group])
            speed = trip.speed_mps if m == 0 else sample_speed(rng, trip.visit, pop)
            actions = self._trip_actions(lines, looks, rng, start, prefs)
            sh = ShopperState(self._next_id, acct, speed, trip.radius_m, deque(actions))
            rec = ShopperRecord(sh.sid, acct, "", trip.visit.name, speed, trip.radius_m,
                                preferences=pref_weights(prefs),
                                looks=draw_looks(self._looks_rng))
            self._next_id += 1
            self._door_queue.append((sh, rec))

    def _admit(self, t: float, gate: EntryGate) -> None:
        """Let the next person in the door queue in, when the doorway is clear."""
        while self._scripted and self._scripted[0][1].enter_s <= t:
            sid, s = self._scripted.pop(0)
            rec = ShopperRecord(sid, s.account, s.name, "scripted",
                                self.config.motion.speed_mean, self.config.motion.radius,
                                looks=draw_looks(self._looks_rng))
            sh = ShopperState(sid, s.account, rec.speed_mps, rec.radius_m, deque(s.actions))
            self._door_queue.append((sh, rec))
        if not self._door_queue:
            return
        if self.xy.shape[0] and np.min(np.linalg.norm(self.xy - self.spawn_xy, axis=1)) < 0.7:
            return  # doorway busy: wait
        sh, rec = self._door_queue.popleft()
        delay, on = self._checkin.get(sh.sid, (0.0, True))
        if on and delay > 0:        # the message reaches the core late (a scenario's)
            heapq.heappush(self._late_checkins, (t + delay, sh.sid, sh.account))
        elif on:
            gate.check_in(t, sh.account)
        self._add(sh, rec, self.spawn_xy, t)

    def _add(self, sh: ShopperState, rec: ShopperRecord, at: np.ndarray, t: float) -> None:
        """A person steps into the store at ``at`` and starts on its first action."""
        rec.enter_t = t
        self.roster[sh.sid] = rec
        self.shoppers[sh.sid] = sh
        self._order.append(sh)
        self.ids = np.append(self.ids, sh.sid)
        self.xy = np.vstack([self.xy, at[None]])
        self.vel = np.vstack([self.vel, np.zeros((1, 2))])
        self._target = np.vstack([self._target, at[None]])
        self._best = np.append(self._best, np.inf)
        self._stalled = np.append(self._stalled, 0.0)
        self._anchor = np.vstack([self._anchor, at[None]])
        self._anchor_t = np.append(self._anchor_t, t)
        self._squeezed = np.append(self._squeezed, False)
        self._speed = np.append(self._speed, sh.speed)
        self._radius = np.append(self._radius, sh.radius)
        a = sh.account
        if a in self.exited:     # a returning account: its last visit is over
            self.past_visits.append((a, self.entered[a], self.exited.pop(a),
                                     self.carts.pop(a, {})))
        if a not in self.carts:
            self.entered[a] = t
        self.carts.setdefault(a, {})
        self.truth.append(TruthEvent(t, sh.sid, sh.account, "enter", -1, "", 0))
        if self._marks:
            self._done_at[(sh.sid, "enter", 1)] = t
        self._next(sh, len(self._order) - 1, t)

    def populate(self, n: int, min_gap: float = 0.6) -> None:
        """Put ``n`` sampled shoppers at once on free floor, each starting its trip where it
        stands (for benchmarks and stress tests: a full store without the hours of arrivals).
        """
        pts = self.nav.random_free(self.rng, n, min_gap)
        placed = 0
        while placed < n:
            self._sample_party(self._now, pts[placed])
            while self._door_queue:
                sh, rec = self._door_queue.popleft()
                if placed == n:                  # a group cut short by the count
                    self._members[sh.account] -= 1
                    continue
                self._add(sh, rec, pts[placed], self._now)
                placed += 1

    def _leave(self, t: float) -> None:
        """Those who walked out (state ``gone``) leave the crowd: their exit is written."""
        gone = [k for k, sh in enumerate(self._order) if sh.state == "gone"]
        if not gone:
            return
        for k in gone:
            sh = self._order[k]
            self.truth.append(TruthEvent(t, sh.sid, sh.account, "exit", -1, "", 0))
            self.roster[sh.sid].exit_t = t
            del self.shoppers[sh.sid]
            self._members[sh.account] -= 1
            if self._members[sh.account] <= 0:
                self.exited[sh.account] = t
        keep = np.ones(len(self._order), dtype=bool)
        keep[gone] = False
        self._order = [sh for sh, kp in zip(self._order, keep, strict=True) if kp]
        self.ids, self.xy, self.vel = self.ids[keep], self.xy[keep], self.vel[keep]
        self._target, self._best = self._target[keep], self._best[keep]
        self._stalled = self._stalled[keep]
        self._anchor, self._anchor_t = self._anchor[keep], self._anchor_t[keep]
        self._squeezed = self._squeezed[keep]
        self._speed, self._radius = self._speed[keep], self._radius[keep]

