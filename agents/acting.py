"""The action state machine: each shopper carries out its queue of :mod:`agents.actions`
one phase at a time (walk, browse, hesitate, reach, place, inspect, wait, hand over, settle),
acting on the world's shelves and writing the ground truth of what it did.

A mixin of :class:`agents.crowd.Crowd`: it reads and writes the crowd's state set up in
``Crowd.__init__``; walking to a stop is :mod:`agents.walking`.
"""

from __future__ import annotations

import numpy as np

from agents.actions import Conceal, Exit, HandTo, Inspect, Look, Pick, PutBack, Wait
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

    def _next(self, sh: ShopperState, k: int, t: float) -> None:
        """Start the shopper's next action (or the first phase of it)."""
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
        else:  # pragma: no cover - the Action union is closed
            raise TypeError(f"unknown action {a!r}")

    def _arrived(self, sh: ShopperState, k: int, t: float) -> None:
        """At the end of a walk."""
        a = sh.action
        c = self.config
        self.vel[k] = 0.0
        if isinstance(a, Exit):
            sh.state = "gone"
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

