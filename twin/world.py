"""pybullet world of shelf plates and item bodies with real masses.

Every bin stands on its own static plate body. A store holds thousands of units, and stepping
all of them every tick would cost tens of ms (20k resting items ~33 ms a step), so a bin's
items exist as rigid bodies only while the bin is *awake*: from the moment a shopper reaches
for it until it has been still for ``idle_s``. A sleeping bin's plate load is the settled sum
of contact normal forces read when it last went to sleep (at rest that sum equals the weight of
its units; before it was ever woken it is that weight). Within an awake bin only the front row
(``facings`` units, what a hand reaches) are bodies; the units behind are aggregated into a
constant load on the plate and promoted to bodies one by one as the front empties. The cost of
a step therefore grows with activity, not with inventory: doubling the stock on the shelves
leaves it unchanged (``tests/benchmarks/test_physics_lod.py``).

Picks press on the items (a hand grasping) and lift them out; put-backs drop an item from a few
centimetres, so a plate shows the transients and settling a real load cell shows.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from params import config, num
from scenes.store import Store

pb: Any = None  # pybullet, imported by the first World (quietly: see _quiet_c_output)


@contextlib.contextmanager
def _quiet_c_output() -> Iterator[None]:
    """Send what C code prints to file descriptors 1 and 2 to /dev/null for the duration:
    pybullet's import prints "pybullet build time: ..." with C's printf, past Python's
    ``sys.stdout``, into every command's output. C's buffers are flushed before the
    descriptors come back, so nothing printed inside leaks out later."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no descriptors to redirect (closed): nothing to hide
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).fflush(None)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def _load_pybullet() -> None:
    global pb
    if pb is None:
        with _quiet_c_output():
            import pybullet

        pb = pybullet

G = 9.81  # [m/s^2]


@config(frozen=True)
class PhysicsConfig:
    # half pybullet's default 240 Hz; stable for resting boxes
    physics_hz: float = num(120.0, gt=0, unit="Hz")
    # pybullet default 50; resting stacks converge in 10
    solver_iterations: int = num(10, ge=1, integer=True)
    # an awake bin sleeps after this long without a touch
    idle_s: float = num(1.5, gt=0, unit="s")
    settle_s: float = 0.3         # a woken bin's contacts are trusted after this long
    press_s: float = num(0.15, gt=0, unit="s")     # hand grasp pressing on the picked units
    press_n: float = 4.0          # [N] grasp force down on each picked unit
    lift_s: float = num(0.2, gt=0, unit="s")       # then the unit is lifted out at lift_speed
    lift_speed: float = num(0.6, gt=0, unit="m/s")     # [m/s]
    drop_height: float = 0.03     # [m] a put-back unit is released this far above the plate
    friction: float = 0.6


@dataclass
class _Awake:
    since: float
    last_touch: float
    bodies: dict[int, int] = field(default_factory=dict)  # slot -> body id
    hidden: int = 0        # units behind the front row, aggregated: slots 0 .. hidden-1
    foreign: list[int] = field(default_factory=list)      # bodies of misplaced units


class World:
    """Plates and (awake) item bodies of one store in a pybullet DIRECT world.

    ``count``: (n,) int32 units of each bin's own SKU on it now; ``foreign``: bin -> {catalogue
    row: units} of other SKUs misplaced there (simulator truth, never seen by the core).
    """

    def __init__(self, store: Store, config: PhysicsConfig | None = None) -> None:
        self.store = store
        self.config = config or PhysicsConfig()
        _load_pybullet()
        self.client = pb.connect(pb.DIRECT)
        pb.setGravity(0, 0, -G, physicsClientId=self.client)
        pb.setTimeStep(1.0 / self.config.physics_hz, physicsClientId=self.client)
        b = store.bins
        cat = store.catalogue
        self.count = b.count.astype(np.int32).copy()
        self.capacity = (b.facings * b.rows).astype(np.int32)
        mass_g = cat.mass_g[b.sku_index]
        # at rest the summed normal force equals the weight: the load of a never-woken bin
        self._settled_g = self.count * mass_g
        self._mass_g = mass_g
        # plate_sums_g of the settled loads, kept until a bin's settled load changes
        self._sums_settled: np.ndarray | None = None
        self._plate_per_bin = bool(b.n_plates == len(b)
                                   and np.array_equal(b.plate, np.arange(len(b))))
        self.foreign: dict[int, dict[int, int]] = {}
        # misplaced units of a bin that went back to sleep: their load, aggregated [g]
        self._foreign_g = np.zeros(len(b))
        self.t = 0.0
        self._awake: dict[int, _Awake] = {}
        self._ops: list[tuple[float, float, str, int, int]] = []  # t0, t1, kind, bin, body
        self._shapes: dict[tuple[int, bool], int] = {}
        pb.setPhysicsEngineParameter(numSolverIterations=self.config.solver_iterations,
                                     physicsClientId=self.client)
        # plate bodies exist only while their bin is awake (495 idle static boxes alone cost
        # ~0.4 ms a step in the broadphase)
        self.plate_body = np.full(len(b), -1, dtype=np.int64)
        self._plate_shapes: dict[tuple[float, float], int] = {}
        self.steps = 0

    # -- geometry of slots -------------------------------------------------------------
    def _along_y(self, i: int) -> bool:
        return abs(self.store.bins.normal[i, 0]) > 0.5

    def slot_position(self, i: int, slot: int, lift: float = 0.0) -> np.ndarray:
        """(3,) centre of unit slot ``slot`` of bin ``i`` [m]; slots fill back to front."""
        b = self.store.bins
        f, r = int(b.facings[i]), int(b.rows[i])
        row, col = divmod(slot, f)
        w, d, h = self.store.catalogue.size_m[b.sku_index[i]]
        lo, hi = b.lo[i], b.hi[i]
        nx, ny = b.normal[i]
        del r
        if self._along_y(i):
            along = lo[1] + (col + 0.5) * (hi[1] - lo[1]) / f
            back = hi[0] if nx < 0 else lo[0]
            depth = back + (row + 0.5) * (d + 0.01) * (1 if nx < 0 else -1) * -1
            x, y = depth, along
        else:
            along = lo[0] + (col + 0.5) * (hi[0] - lo[0]) / f
            back = hi[1] if ny < 0 else lo[1]
            depth = back - (row + 0.5) * (d + 0.01) * (1 if ny < 0 else -1)
            x, y = along, depth
        return np.array([x, y, lo[2] + h / 2 + 5e-4 + lift])

    def _shape(self, sku: int, along_y: bool) -> int:
        key = (sku, along_y)
        if key not in self._shapes:
            w, d, h = self.store.catalogue.size_m[sku]
            half = [d / 2, w / 2, h / 2] if along_y else [w / 2, d / 2, h / 2]
            self._shapes[key] = pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half,
                                                        physicsClientId=self.client)
        return self._shapes[key]

    def _add_plate(self, i: int) -> None:
        b = self.store.bins
        lo, hi = b.lo[i], b.hi[i]
        key = (round((hi[0] - lo[0]) / 2, 6), round((hi[1] - lo[1]) / 2, 6))
        if key not in self._plate_shapes:
            self._plate_shapes[key] = pb.createCollisionShape(
                pb.GEOM_BOX, halfExtents=[key[0], key[1], 0.01], physicsClientId=self.client)
        self.plate_body[i] = pb.createMultiBody(
            0.0, self._plate_shapes[key],
            basePosition=[(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2] - 0.01],
            physicsClientId=self.client)

    def _spawn(self, i: int, slot: int, lift: float = 0.0) -> int:
        sku = int(self.store.bins.sku_index[i])
        body = pb.createMultiBody(
            float(self.store.catalogue.mass_g[sku]) / 1000.0, self._shape(sku, self._along_y(i)),
            basePosition=self.slot_position(i, slot, lift).tolist(),
            useMaximalCoordinates=True, physicsClientId=self.client)
        pb.changeDynamics(body, -1, lateralFriction=self.config.friction,
                          activationState=pb.ACTIVATION_STATE_ENABLE_SLEEPING,
                          physicsClientId=self.client)
        return body

    # -- shopper interface ---------------------------------------------------------------
    def wake(self, i: int) -> None:
        """Bring bin ``i``'s units into the physics (a hand is coming)."""
        i = int(i)
        if i in self._awake:
            self._awake[i].last_touch = self.t
            return
        aw = _Awake(since=self.t, last_touch=self.t)
        self._add_plate(i)
        front = int(self.store.bins.facings[i])
        aw.hidden = max(0, int(self.count[i]) - front)
        for slot in range(aw.hidden, int(self.count[i])):
            aw.bodies[slot] = self._spawn(i, slot)
        self._awake[i] = aw

    def pick(self, i: int, n: int = 1) -> int:
        """Take up to ``n`` units from the front of bin ``i``; returns how many were taken."""
        i = int(i)
        self.wake(i)
        aw = self._awake[i]
        taken = 0
        c = self.config
        for _ in range(int(n)):
            if self.count[i] <= 0:
                break
            slot = int(self.count[i]) - 1
            if slot not in aw.bodies:      # the front is empty: the next unit comes forward
                aw.hidden -= 1
                aw.bodies[slot] = self._spawn(i, slot)
            body = aw.bodies.pop(slot)
            self.count[i] -= 1
            t0 = self.t
            self._ops.append((t0, t0 + c.press_s, "press", i, body))
            self._ops.append((t0 + c.press_s, t0 + c.press_s + c.lift_s, "lift", i, body))
            taken += 1
        aw.last_touch = self.t
        return taken

    def put_back(self, i: int, n: int = 1, sku: int | None = None) -> int:
        """Drop ``n`` units into bin ``i``'s front free slots; returns how many fit.

        ``sku``: the catalogue row of the units when it is not the bin's own SKU (a
        misplacement): they are dropped onto the front of the bin whatever is there, and
        stay as foreign load on its plate.
        """
        i = int(i)
        self.wake(i)
        aw = self._awake[i]
        if sku is not None and int(sku) != int(self.store.bins.sku_index[i]):
            return self._misplace(i, int(sku), int(n))
        put = 0
        for _ in range(int(n)):
            if self.count[i] >= self.capacity[i]:
                break
            slot = int(self.count[i])
            aw.bodies[slot] = self._spawn(i, slot, lift=self.config.drop_height)
            self.count[i] += 1
            put += 1
        aw.last_touch = self.t
        return put

    def _misplace(self, i: int, sku: int, n: int) -> int:
        aw = self._awake[i]
        b = self.store.bins
        w, d, h = self.store.catalogue.size_m[sku]
        slot = max(0, int(self.capacity[i]) - 1)            # the front of the bin
        x, y, _ = self.slot_position(i, slot)
        top = float(b.lo[i, 2] + self.store.catalogue.size_m[b.sku_index[i], 2])
        for k in range(n):
            z = top + h / 2 + self.config.drop_height + k * (h + 0.005)
            body = pb.createMultiBody(
                float(self.store.catalogue.mass_g[sku]) / 1000.0,
                self._shape(sku, self._along_y(i)), basePosition=[x, y, z],
                useMaximalCoordinates=True, physicsClientId=self.client)
            pb.changeDynamics(body, -1, lateralFriction=self.config.friction,
                              activationState=pb.ACTIVATION_STATE_ENABLE_SLEEPING,
                              physicsClientId=self.client)
            aw.foreign.append(body)
        del w, d
        units = self.foreign.setdefault(i, {})
        units[sku] = units.get(sku, 0) + n
        aw.last_touch = self.t
        return n

    @property
    def awake_bins(self) -> list[int]:
        return sorted(self._awake)

    # -- time ------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance ``dt`` [s]; physics steps run only while some bin is awake."""
        n = max(1, int(round(dt * self.config.physics_hz)))
        h = 1.0 / self.config.physics_hz
        for _ in range(n):
            if self._awake or self._ops:
                self._apply_ops()
                pb.stepSimulation(physicsClientId=self.client)
                self.steps += 1
            self.t += h
        self._sleep_idle()

    def _apply_ops(self) -> None:
        keep = []
        c = self.config
        for op in self._ops:
            t0, t1, kind, _i, body = op
            if self.t < t0:
                keep.append(op)
                continue
            if self.t >= t1:
                if kind == "lift":
                    pb.removeBody(body, physicsClientId=self.client)
                continue
            if kind == "press":
                pb.applyExternalForce(body, -1, [0, 0, -c.press_n], [0, 0, 0], pb.LINK_FRAME,
                                      physicsClientId=self.client)
            else:
                pb.resetBaseVelocity(body, [0, 0, c.lift_speed], [0, 0, 0],
                                     physicsClientId=self.client)
            keep.append(op)
        self._ops = keep

    def _contact_load_g(self, i: int) -> float:
        """Summed contact normal forces on bin ``i``'s plate, plus its aggregated units [g]."""
        cps = pb.getContactPoints(bodyA=int(self.plate_body[i]), physicsClientId=self.client)
        return (sum(cp[9] for cp in cps) / G * 1000.0 + self._awake[i].hidden * self._mass_g[i]
                + self._foreign_g[i])

    def _sleep_idle(self) -> None:
        busy = {op[3] for op in self._ops}
        for i in list(self._awake):
            aw = self._awake[i]
            if i in busy or self.t - aw.last_touch < self.config.idle_s:
                continue
            self._settled_g[i] = self._contact_load_g(i)
            self._sums_settled = None
            if aw.foreign:   # misplaced units leave the physics; their weight stays
                cat, units = self.store.catalogue, self.foreign.get(i, {})
                self._foreign_g[i] = sum(cat.mass_g[s] * u for s, u in units.items())
            for body in [*aw.bodies.values(), *aw.foreign]:
                pb.removeBody(body, physicsClientId=self.client)
            pb.removeBody(int(self.plate_body[i]), physicsClientId=self.client)
            self.plate_body[i] = -1
            del self._awake[i]

    def plate_loads_g(self) -> np.ndarray:
        """(n,) float64 load on every plate now [g]: contact normal forces of awake bins
        (once settled in), the settled reading of sleeping ones."""
        out = self._settled_g.copy()
        for i, aw in self._awake.items():
            if self.t - aw.since >= self.config.settle_s:
                out[i] = self._contact_load_g(i)
        return out

    def plate_sums_g(self) -> np.ndarray:
        """(plates,) float64 load on every load-cell plate [g]: the bins' loads summed over
        the bins that share a plate (one bin per plate by default)."""
        b = self.store.bins
        if self._sums_settled is None:
            self._sums_settled = np.bincount(b.plate, self._settled_g, minlength=b.n_plates)
        live = [i for i, aw in self._awake.items() if self.t - aw.since >= self.config.settle_s]
        if not live:
            return self._sums_settled.copy()
        if not self._plate_per_bin:
            return np.bincount(b.plate, self.plate_loads_g(), minlength=b.n_plates)
        # one bin per plate: the sum over a plate's one bin (as np.bincount: 0.0 + load)
        out = self._sums_settled.copy()
        for i in live:
            out[i] = 0.0 + self._contact_load_g(i)
        return out

    def close(self) -> None:
        if getattr(self, "client", None) is not None and pb.isConnected(self.client):
            pb.disconnect(self.client)
        self.client = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
