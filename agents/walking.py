"""How the crowd walks: waypoints reached, stalls and blockages handled (stepping up beside
someone at a shelf, going around or giving way to people, coming back later), then one
compiled motion step for everyone (``agents/_motion_kernels.py``).

A mixin of :class:`agents.crowd.Crowd`: it reads and writes the per-person arrays set up in
``Crowd.__init__`` (positions, velocities, waypoints, progress, anchors, squeezing).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from agents.actions import Inspect, Look, Pick, PutBack, Wait
from agents.roster import WALKING, ShopperState


class Walking:
    """The crowd on its way (module docstring)."""

    BLOCKED_S = 6.0        # [s] walking this long without getting 0.5 m on: blocked
    RETRY_S = 3.0          # [s] standing aside before going on when blocked
    SQUEEZE_S = 2.0        # [s] held up this long, a walker squeezes past
    SQUEEZE_RADIUS = 0.15  # [m] half a body's depth, shoulders turned
    YIELD_S = 1.5          # [s] standing aside for someone coming the other way

    def _walk_to(self, sh: ShopperState, k: int, goal: np.ndarray,
                 then_exit: bool = False) -> None:
        """Set off for ``goal`` [m] (and out of the door after it, ``then_exit``)."""
        sh.beside = False
        sh.goal, sh.exiting = np.asarray(goal, dtype=np.float64), then_exit
        self._reroute(sh, k)
        sh.state = "walk"

    def _reroute(self, sh: ShopperState, k: int) -> None:
        """A route from where the shopper stands to its goal."""
        sh.path = self.nav.route(self.xy[k], sh.goal)
        if sh.exiting:
            sh.path.append(self.exit_out)
        self._target[k] = sh.path[0]
        self._best[k] = np.inf
        self._stalled[k] = 0.0

    def _flags(self) -> tuple[np.ndarray, np.ndarray]:
        """(n,) bool each: walking with a route, and on its route's last leg."""
        o = self._order
        n = len(o)
        walking = np.fromiter((sh.state in WALKING and bool(sh.path) for sh in o), bool, n)
        last = np.fromiter((len(sh.path) <= 1 for sh in o), bool, n)
        return walking, last

    def _move(self, t: float, dt: float) -> None:
        """Waypoints reached, stalls and blockages handled, then one motion step for everyone
        (the array work compiled: ``agents/_motion_kernels.py``)."""
        n = self.ids.shape[0]
        if n == 0:
            return
        mk = self._mk
        m = self.config.motion
        walking, last = self._flags()
        # progress towards the current waypoint; the stalled re-plan from where they stand
        dist, reached = mk.progress(self._target, self.xy, self._best, self._stalled,
                                    walking, last, dt)
        if reached.any():
            for k in np.flatnonzero(reached).tolist():
                sh = self._order[k]
                if (last[k] and dist[k] >= 0.1 and sh.state == "walk" and not sh.beside
                        and isinstance(sh.action, (Pick, PutBack, Look))
                        and self._beside(sh, k)):
                    continue        # the spot is taken: step up beside the person there
                self._waypoint(sh, k, t)
        stuck = walking & ~reached & (self._stalled > 1.5)
        if stuck.any():
            for k in np.flatnonzero(stuck).tolist():
                sh = self._order[k]
                if sh.path and sh.goal is not None:
                    # a side step that did not work out (someone stepped there) is dropped
                    while len(sh.path) > 1 and any(sh.path[0] is q for q in sh.side_steps):
                        sh.path.pop(0)
                    sh.side_steps = []
                    # and a corner someone now stands on is cut when the next point is in
                    # sight
                    while len(sh.path) > 1 and self.nav.line_of_sight(self.xy[k], sh.path[1]):
                        sh.path.pop(0)
                    if not self._detour(sh, k):
                        self._reroute(sh, k)
                    self._target[k] = sh.path[0]
                    self._stalled[k] = 0.0
                    self._best[k] = np.inf
        # blocked: walking 6 s without getting 0.5 m from where they were (a crowd at a
        # shelf filling an aisle): come back later, or wait and try again
        walking, _ = self._flags()
        blocked = mk.anchors(self.xy, self._anchor, self._anchor_t, walking, t, self.BLOCKED_S)
        if blocked.any():
            for k in np.flatnonzero(blocked).tolist():
                self._anchor_t[k] = t
                self._blocked(self._order[k], k, t)
        walking, last = self._flags()
        # in a crush, people on foot turn their shoulders and squeeze past (a body's depth
        # is about 60% of its breadth, ANSUR II); a cart cannot
        # and keep squeezed until there is room again (no jump back to full width)
        self.xy, self.vel = mk.move(self.xy, self.vel, self._target, self._anchor_t,
                                    self._speed, self._radius, self._squeezed, walking, last,
                                    float(t), float(dt), self.SQUEEZE_S, self.SQUEEZE_RADIUS,
                                    float(m.social_a), float(m.social_b), float(m.anisotropy),
                                    float(m.evasion), float(m.relax_s), float(m.wall_a),
                                    float(m.wall_b), float(m.cutoff_m),
                                    int(m.separation_passes), *self.nav.kernel_grid)

    def _beside(self, sh: ShopperState, k: int) -> bool:
        """The spot in front of the bin is taken: aim for one beside it along the shelf
        (people line up along a shelf, not behind each other across an aisle). Returns
        False when neither side is free, and the shopper then reaches in from where it is."""
        sh.beside = True
        b = self.store.bins
        n = b.normal[sh.bin]
        along = np.array([-n[1], n[0]])
        spot = b.access_xy[sh.bin]
        others = np.delete(self.xy, k, axis=0)
        for off in (0.55, -0.55, 0.8, -0.8):
            c = spot + off * along
            if not self.nav.is_free(c)[0]:
                continue
            if others.size and np.min(np.hypot(*(others - c).T)) < 2 * sh.radius:
                continue
            if not self.nav.line_of_sight(self.xy[k], c):
                continue
            sh.path = [c]
            self._target[k] = c
            self._best[k] = np.inf
            self._stalled[k] = 0.0
            return True
        return False

    def _detour(self, sh: ShopperState, k: int) -> bool:
        """Someone is in the way (routes know fixtures, not people). Against someone coming
        the other way with the right of way (the lower id), step aside and let them pass;
        otherwise go around them through a free point beside them. Points must be on free
        floor, in sight, and clear of everyone's body. Returns False when nobody is in the
        way or there is no such point (the caller re-plans)."""
        p, goal = self.xy[k], sh.path[0]
        d = goal - p
        L = float(np.hypot(*d))
        if L < 1e-6:
            return False
        u = d / L
        rel = self.xy - p
        dist = np.hypot(rel[:, 0], rel[:, 1])
        ahead = (dist > 1e-9) & (dist < 1.5) & ((rel @ u) > 0.3 * dist)
        ahead[k] = False
        if not ahead.any():
            return False
        b = int(np.flatnonzero(ahead)[np.argmin(dist[ahead])])
        other = self._order[b]
        radii = self._radius
        rs = sh.radius + radii[b] + 0.02
        perp = np.array([-u[1], u[0]])
        oncoming = (sh.state == "walk" and other.state in WALKING and float(self.vel[b] @ (p - self.xy[b])) > 0
                    and other.sid < sh.sid)
        if oncoming:       # give way: a step to the side (right first), off their line
            base = p
            offs = [(-s * o, 0.0) for o in (rs - 0.1, rs + 0.15, rs + 0.4) for s in (1.0, -1.0)]
        else:
            base = self.xy[b]
            offs = [(s * o, f) for o in (rs, rs + 0.2, rs + 0.45) for s in (1.0, -1.0)
                    for f in (0.0, 0.4)]
        cands = np.array([base + o * perp + f * u for o, f in offs])
        ok = self.nav.is_free(cands)
        keep = np.arange(len(self._order)) != k
        if keep.any():
            gap = np.linalg.norm(cands[:, None] - self.xy[keep][None], axis=2)
            ok &= np.all(gap >= sh.radius + radii[keep][None] - 0.02, axis=1)
        best, cost = None, np.inf
        for c, good in zip(cands, ok, strict=True):
            if not good:
                continue
            cst = float(np.hypot(*(c - p)) + np.hypot(*(goal - c)))
            if oncoming:
                cst = float(np.hypot(*(c - p)))      # the nearest place to stand aside
            if cst < cost and self.nav.line_of_sight(p, c) and (
                    oncoming or self.nav.line_of_sight(c, goal)):
                best, cost = c, cst
        if best is None:
            return False
        sh.path.insert(0, best)
        sh.side_steps.append(best)
        sh.pause_at = best if oncoming else None
        return True

    def _blocked(self, sh: ShopperState, k: int, t: float) -> None:
        """The way is blocked by people. A sampled shopper drops a look, or will do the next
        stop first and come back (the shelf's actions travel together); everyone stands a
        moment before going on (a scripted shopper, or anyone leaving or handing over, then
        tries the same way again)."""
        a = sh.action
        if sh.state == "follow":
            return                            # a follower stays with the one it follows
        rec = self.roster[sh.sid]
        if rec.visit != "scripted" and isinstance(a, Look):
            return self._next(sh, k, t)
        if rec.visit != "scripted" and isinstance(a, Pick) and sh.deferred < 3:
            rest = list(sh.actions)
            n_own = 0                        # this stop's inspect / put-back tail
            while n_own < len(rest) and isinstance(rest[n_own], (Inspect, PutBack)):
                n_own += 1
            nxt = n_own
            if nxt < len(rest) and isinstance(rest[nxt], (Pick, Look)):
                end = nxt + 1
                while end < len(rest) and isinstance(rest[end], (Inspect, PutBack)):
                    end += 1
                sh.actions = deque(rest[nxt:end] + [a] + rest[:n_own] + rest[end:])
                sh.deferred += 1
                a = sh.actions.popleft()
        sh.actions.appendleft(a)              # first stand aside a moment
        sh.action = Wait(self.RETRY_S)
        sh.state, sh.until = "wait", t + self.RETRY_S
        sh.path = []

    def _waypoint(self, sh: ShopperState, k: int, t: float) -> None:
        """A waypoint reached: stand aside there a moment, head for the next, or arrive."""
        reached = sh.path.pop(0)
        if sh.pause_at is not None and reached is sh.pause_at:
            sh.pause_at = None
            sh.state, sh.until = "yield", t + self.YIELD_S
            self.vel[k] = 0.0
            if sh.path:
                self._target[k] = sh.path[0]
            return
        if sh.path:
            self._target[k] = sh.path[0]
            self._best[k] = np.inf
            return
        if sh.state in ("hand", "follow"):
            return                      # keep following the receiver / the one followed
        self._arrived(sh, k, t)

