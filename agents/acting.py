"""The action state machine: each shopper carries out its queue of :mod:`agents.actions`
one phase at a time (walk, browse, hesitate, reach, place, inspect, wait, hand over, settle),
acting on the world's shelves and writing the ground truth of what it did.

A mixin of :class:`agents.crowd.Crowd`: it reads and writes the crowd's state set up in
``Crowd.__init__``; walking to a stop is :mod:`agents.walking`.
"""

from __future__ import annotations

import numpy as np

from agents.actions import (
    After,
    Conceal,
    Exit,
    Follow,
    HandTo,
    Inspect,
    Look,
    Pick,
    PutBack,
    Reach,
    Stand,
    Wait,
    WaitUntil,
)
from agents.roster import ShopperState, TruthEvent
from twin.world import World


class Acting:
    """Shoppers carrying out their actions (module docstring)."""

    # -- ground truth ------------------------------------------------------------------------
    def _sku(self, row: int) -> str:
        return str(self.store.catalogue.sku[row])

    def _event(self, t, sh, action, b, row, n, other=-1, account=None) -> None:
        """Write a truth event and keep the account's cart (what it owes) with it."""
        acct = sh.account if account is None else account
        self.truth.append(TruthEvent(t, sh.sid, acct, action, b, self._sku(row), n, other))
        if action in ("pick", "put_back", "misplace", "hand_out", "hand_in"):
            sign = 1 if action in ("pick", "hand_in") else -1
            cart = self.carts.setdefault(acct, {})
            key = self._sku(row)
            cart[key] = cart.get(key, 0) + sign * n
            if cart[key] == 0:
                del cart[key]

    def _hold(self, sh: ShopperState, row: int, n: int) -> None:
        sh.held[row] = sh.held.get(row, 0) + n
        if sh.held[row] <= 0:
            del sh.held[row]

    def _problem(self, sh: ShopperState, what: str) -> None:
        """A scripted action that could not be done as written."""
        name = self.roster[sh.sid].name or f"shopper {sh.sid}"
        self.problems.append(f"t={self._now:.1f} s: {name}: {what}")

    # -- the action state machine ------------------------------------------------------------
    def _near(self, k: int, b: int) -> bool:
        return bool(np.hypot(*(self.store.bins.access_xy[b] - self.xy[k])) < 0.9)

    def _mark_done(self, sh: ShopperState, a, t: float) -> None:
        """A scripted action of ``sh`` is over at ``t``: an ``After`` may wait for it."""
        m = self._marks.get(id(a))
        if m is not None and m[0] is a:
            self._done_at[m[1:]] = t
        if isinstance(a, Follow):
            k = self._order.index(sh)
            self._speed[k] = sh.speed

    def _next(self, sh: ShopperState, k: int, t: float) -> None:
        """Start the shopper's next action (or the first phase of it)."""
        if sh.action is not None and (self._marks or isinstance(sh.action, Follow)):
            self._mark_done(sh, sh.action, t)
        if not sh.actions:
            if sh.sid in self.controlled:
                sh.action, sh.state, sh.since = None, "await", t
                self.vel[k] = 0.0
                return
            sh.actions.append(Exit())
        a = sh.actions.popleft()
        sh.action = a
        sh.since = t
        sh.handing_to = -1
        if isinstance(a, (Look, Pick)):
            if isinstance(a, Pick):
                sh.bin = a.bin if a.bin >= 0 else self._nearest_bin(a.sku, self.xy[k])
                if sh.bin < 0:
                    self._problem(sh, f"sku {self._sku(a.sku)} is on no shelf: pick skipped")
                    return self._next(sh, k, t)
            else:
                sh.bin = a.bin
            if self._near(k, sh.bin):
                return self._arrived(sh, k, t)
            self._walk_to(sh, k, self.store.bins.access_xy[sh.bin])
        elif isinstance(a, PutBack):
            b = a.bin if a.bin >= 0 else sh.took_from.get(a.sku, -1)
            if b < 0:
                b = self._nearest_bin(a.sku, self.xy[k])
            sh.bin = b
            if self._near(k, b):
                return self._arrived(sh, k, t)
            self._walk_to(sh, k, self.store.bins.access_xy[b])
        elif isinstance(a, Inspect):
            sh.state, sh.until = "inspect", t + a.seconds
        elif isinstance(a, Wait):
            sh.state, sh.until = "wait", t + a.seconds
        elif isinstance(a, HandTo):
            sh.state, sh.until = "hand", t + self.config.handoff_wait_s
            sh.path = []
        elif isinstance(a, Conceal):
            n = min(a.qty, sh.held.get(a.sku, 0))
            if n < a.qty:
                self._problem(sh, f"conceal {a.qty} x {self._sku(a.sku)} but holds {n}")
            if n:
                self._event(t, sh, "conceal", -1, a.sku, n)
            sh.state, sh.until = "settle", t + self.config.settle_s
        elif isinstance(a, Exit):
            self._walk_to(sh, k, self.exit_inside, then_exit=True)
        elif isinstance(a, WaitUntil):
            sh.state, sh.until = "wait", max(t, a.t_s)
        elif isinstance(a, After):
            done = self._done_at.get((a.shopper, a.kind, a.n))
            if done is not None and done + a.offset_s <= t:
                return self._next(sh, k, t)
            sh.state = "after"
            sh.until = np.inf if done is None else done + a.offset_s
            sh.path = []
            self.vel[k] = 0.0
            if done is None:
                self._after_wait.append(sh)
        elif isinstance(a, Reach):
            sh.bin = a.bin
            if self._near(k, sh.bin):
                return self._arrived(sh, k, t)
            self._walk_to(sh, k, self.store.bins.access_xy[sh.bin])
        elif isinstance(a, Stand):
            self._walk_to(sh, k, np.array([a.x, a.y]))
        elif isinstance(a, Follow):
            sh.state, sh.until = "follow", t + a.seconds
            sh.path, sh.goal, sh.exiting = [], None, False
            sh.since = -np.inf
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {a!r}")

    def _arrived(self, sh: ShopperState, k: int, t: float) -> None:
        """At the end of a walk."""
        a = sh.action
        c = self.config
        self.vel[k] = 0.0
        if isinstance(a, Exit):
            sh.state = "gone"
            if self._marks:
                self._mark_done(sh, a, t)
        elif isinstance(a, Stand):
            sh.state, sh.until = "wait", t + a.seconds
        elif isinstance(a, Reach):
            sh.state, sh.until = "touch_in", t
        elif isinstance(a, Look):
            sh.state, sh.until = "browse", t + a.seconds
        elif isinstance(a, Pick):
            sh.state, sh.until = "browse", t + a.browse_s
        elif isinstance(a, PutBack):
            sh.state, sh.until = "place", t + c.reach_s
        else:
            sh.state, sh.until = "settle", t

    def _timer(self, sh: ShopperState, k: int, t: float, world: World) -> None:
        """A timed phase ran out."""
        a = sh.action
        c = self.config
        if sh.state == "browse" and isinstance(a, Pick):
            sh.state, sh.until = "hesitate", t + a.hesitate_s
        elif sh.state == "touch_in":       # a reach: the hand goes in, takes nothing
            world.wake(sh.bin)
            sh.state, sh.until = "touch", t + a.seconds
        elif sh.state == "touch":
            sh.state, sh.until = "settle", t + c.settle_s
        elif sh.state == "hesitate":
            world.wake(sh.bin)
            sh.state, sh.until = "reach", t + c.reach_s
        elif sh.state == "reach":
            n = world.pick(sh.bin, a.qty)
            if n < a.qty:
                self._problem(sh, f"pick {a.qty} x {self._sku(a.sku)} from bin {sh.bin}: "
                                  f"{n} there")
            if n:
                self._event(t, sh, "pick", sh.bin, a.sku, n)
                self._hold(sh, a.sku, n)
                sh.took_from[a.sku] = sh.bin
            sh.state, sh.until = "settle", t + c.settle_s
        elif sh.state == "place":
            want = min(a.qty, sh.held.get(a.sku, 0))
            if want < a.qty:
                self._problem(sh, f"put back {a.qty} x {self._sku(a.sku)} but holds {want}")
            own = int(self.store.bins.sku_index[sh.bin]) == a.sku
            n = world.put_back(sh.bin, want, sku=a.sku) if want else 0
            if n < want:
                self._problem(sh, f"bin {sh.bin} full: put back {n} of {want}")
            if n:
                self._event(t, sh, "put_back" if own else "misplace", sh.bin, a.sku, n)
                self._hold(sh, a.sku, -n)
            sh.state, sh.until = "settle", t + c.settle_s
        elif sh.state == "yield":          # back on the way
            sh.state = "walk" if sh.path else sh.state
            if not sh.path:
                return self._arrived(sh, k, t)
            self._best[k], self._stalled[k] = np.inf, 0.0
            self._anchor[k], self._anchor_t[k] = self.xy[k], t
        elif sh.state == "hand":
            self._problem(sh, f"hand_to shopper {a.to}: not reached in "
                              f"{c.handoff_wait_s:.0f} s, kept the item")
            self._next(sh, k, t)
        else:  # browse (look), inspect, wait, settle: the action is over
            self._next(sh, k, t)

    def _hand_over(self, t: float) -> None:
        """Givers walk up to their receivers; the item changes hands at arm's length."""
        for k, sh in enumerate(self._order):
            if sh.state != "hand":
                continue
            a = sh.action
            rx = self.shoppers.get(a.to)
            if rx is None or rx.state == "gone":
                if self.roster.get(a.to) is not None and a.to not in self.shoppers:
                    self._problem(sh, f"hand_to shopper {a.to}: already left, kept the item")
                    self._next(sh, k, t)
                continue        # not in the store yet: wait for them
            kr = self._order.index(rx)
            gap = float(np.hypot(*(self.xy[kr] - self.xy[k])))
            if gap <= self.config.handoff_m:
                n = min(a.qty, sh.held.get(a.sku, 0))
                if n < a.qty:
                    self._problem(sh, f"hand_to {a.qty} x {self._sku(a.sku)} but holds {n}")
                if n:
                    self._event(t, sh, "hand_out", -1, a.sku, n, other=rx.sid)
                    self._event(t, rx, "hand_in", -1, a.sku, n, other=sh.sid)
                    self._hold(sh, a.sku, -n)
                    self._hold(rx, a.sku, n)
                    sh.handing_to = rx.sid
                sh.path = []
                sh.state, sh.until = "settle", t + self.config.settle_s
                continue
            # re-aim at where the receiver is now, at most every second
            if not sh.path or t - sh.since > 1.0:
                sh.since = t
                sh.goal, sh.exiting = self.xy[kr].copy(), False
                self._reroute(sh, k)
                self._target[k] = sh.path[0]
                self._best[k] = np.inf


    # -- scripted timing and following -------------------------------------------------------
    def _resolve_after(self, t: float) -> None:
        """Shoppers held by an ``After`` whose moment has now happened get their start time."""
        still = []
        for sh in self._after_wait:
            a = sh.action
            if sh.state != "after" or not isinstance(a, After):
                continue
            done = self._done_at.get((a.shopper, a.kind, a.n))
            if done is None:
                still.append(sh)
            else:
                sh.until = max(t, done + a.offset_s)
        self._after_wait = still

    FOLLOW_SLACK_M = 0.15   # a follower this close to its spot behind the target stands [m]
    FOLLOW_MAX_SPEEDUP = 1.5    # ... and walks at most this much faster than the faster of
    #                             the two's own paces, to catch up
    FOLLOW_LEAD_S = 0.5     # aims where its spot will be this much later [s]

    def _follow(self, t: float) -> None:
        """Followers keep ``distance_m`` behind their targets (behind: opposite the target's
        walking direction; a target standing still is kept at that distance on the side the
        follower is on); a follow is over at its time, or when the target has left."""
        for k, sh in enumerate(self._order):
            if sh.state != "follow":
                continue
            a = sh.action
            if t >= sh.until:
                self._next(sh, k, t)
                continue
            tg = self.shoppers.get(a.to)
            if tg is None or tg.state == "gone":
                if self.roster.get(a.to) is not None and a.to not in self.shoppers:
                    self._next(sh, k, t)      # it has left: the follow is over
                continue                      # not in yet: stand
            kt = self._order.index(tg)
            p, v = self.xy[kt], self.vel[kt]
            speed = float(np.hypot(*v))
            if speed > 0.2:
                spot = p - v / speed * a.distance_m
            else:
                d = self.xy[k] - p
                n = float(np.hypot(*d))
                spot = p + (d / n if n > 1e-6 else np.array([1.0, 0.0])) * a.distance_m
            gap = float(np.hypot(*(spot - self.xy[k])))
            # keep up: the target's pace, faster the further behind (at most FOLLOW_MAX_SPEEDUP
            # times one's own), aiming a little ahead of a spot that moves
            self._speed[k] = min(self.FOLLOW_MAX_SPEEDUP * max(sh.speed, tg.speed),
                                 max(sh.speed, speed) * (1.0 + gap))
            if gap <= self.FOLLOW_SLACK_M:
                sh.path = []
                self.vel[k] = 0.0
                continue
            goal = self.nav.nearest_free(spot + v * self.FOLLOW_LEAD_S)
            if self.nav.line_of_sight(self.xy[k], goal):
                sh.path, sh.goal = [goal], goal
            elif not sh.path or t - sh.since >= 0.5:     # a route at most every 0.5 s
                sh.since, sh.goal = t, goal
                sh.path = self.nav.route(self.xy[k], goal)
            else:
                continue
            self._target[k] = sh.path[0]
            self._best[k] = np.inf
