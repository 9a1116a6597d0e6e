"""Multi-camera people tracker on the floor plane.

One call to :meth:`Tracker.update` per camera tick runs a fixed sequence over arrays:

1. fuse: detections of one person by several overlapping cameras become one fused point
   (connected components within ``fuse_radius_m``, at most one detection per camera in a
   cluster);
2. predict: a constant-velocity Kalman filter on ``(x, y, vx, vy)``, batched over tracks;
3. associate: gated assignment (``scipy.optimize.linear_sum_assignment``), all confirmed
   tracks (seen last frame or coasting) in one problem, then tentative ones; leftovers that
   are another camera's stray view of a matched person are dropped. (Seen tracks first, then
   coasting ones, let a track seen last frame take a walker's detection from the coasting
   walker beside it: kiosk replays had IDF1 0.982 that way, 0.998 with one problem);
4. birth: strong leftovers inside the entrance start tentative tracks; strong leftovers
   elsewhere start hidden *re-identification candidates* that, once they persist for
   ``confirm_hits`` frames, take over the identity of a lost track (so a false positive
   cannot steal an identity, and an occluded shopper keeps theirs and their cart);
5. death: a confirmed track unseen near the exit departs (``certain=True``); unseen
   elsewhere it becomes lost, and departs ``certain=False`` when its re-identification
   window ends;
6. identity: confirmed tracks bind to gate check-ins queued by :meth:`Tracker.check_in`.

Engines: ``Tracker(..., engine=None)`` runs this sequence one of two ways, with the same
results (same ids every frame, positions within 1e-9 m, same departures, history and
accounts: ``tests/core/test_track_kernels.py`` replays scripted, recorded kiosk and
supercenter-sized streams through both).

- ``"numba"``, numpy's default where numba imports: :func:`core._track_kernels.step` runs
  a whole update as one compiled call on a host track table kept in preallocated columns
  (doubled in Python when a frame could overflow them); only the check-in binding stays in
  Python. Small stores are this engine's reason: the array engine spends its time in
  Python and numpy call overhead on arrays of a dozen rows. On the 3-minute kiosk stream
  (2,698 frames, 29,592 raw detections, <= 20 shoppers; 2-core AMD EPYC) it takes 0.047 s
  (18 us per frame) against the array engine's 2.0 s (750 us per frame), 49-55x norfair's
  detections/s and 26-30x ByteTrack's (``tests/benchmarks/test_tracker_compare.py``); at
  supercenter size (600 tracks, ~2,100 detections per frame, ``experiments.bench.time_core``)
  1.3 ms per frame against 8.8 ms. The first call compiles (~30 s there, once: numba
  caches the machine code beside the module, and later processes load it in ~0.4 s).
- ``"array"``: vectorized array ops on the backend below; the only engine on cupy, and
  the reference the compiled one is held to.

Where each part lives: the parameters in :mod:`core.tracker_config`, fusion in
:mod:`core.fusion`, gated assignment in :mod:`core.association`, the array engine's steps
in :mod:`core.track_arrays` (backends numpy and cupy), the compiled engine in
:mod:`core._track_kernels`; this module holds the :class:`Tracker` itself (its table, the
check-in binding, history and departures).

Everything is per-instance state; nothing happens at import.
"""

from __future__ import annotations

from collections import deque
from types import ModuleType

import numpy as np
from scipy.optimize import linear_sum_assignment

from core.backend import get_xp, to_numpy
from core.departure import Departure
from core.knowledge import StoreKnowledge
from core.records import CameraFrame, GateCheckIns, Tracks
from core.track_arrays import ArrayEngine, _empty_rows
from core.tracker_config import TrackerConfig


class Tracker(ArrayEngine):
    """Multi-camera tracker with gate identities; feed it frames in time order.

    Tracks live in parallel arrays (one row per tentative, confirmed or lost track). The
    ``engine`` runs the update: ``"array"`` keeps the table on the backend ``xp`` (numpy or
    cupy; None: :func:`core.backend.get_xp`) and runs a handful of vectorized calls per
    frame whatever the crowd size; ``"numba"`` (numpy only) runs the same steps compiled, in
    one call per frame, on a preallocated host table (:mod:`core._track_kernels`). None
    picks ``"numba"`` on numpy where numba imports, else ``"array"``. Both give the same
    tracks. Public track ids are given at confirmation, counting up from 0 per instance.
    Inputs and outputs are host numpy.
    """

    def __init__(self, knowledge: StoreKnowledge, config: TrackerConfig | None = None,
                 xp: ModuleType | str | None = None, engine: str | None = None) -> None:
        self._setup(knowledge.entrance, knowledge.exit, knowledge.camera_hz, config, xp, engine)

    @classmethod
    def on_floor(cls, entrance: np.ndarray, exit: np.ndarray, camera_hz: float,
                 config: TrackerConfig | None = None,
                 xp: ModuleType | str | None = None, engine: str | None = None) -> Tracker:
        """A tracker that knows only the floor: where people enter and leave (rectangles
        xmin, ymin, xmax, ymax [m]) and the camera rate [Hz] (``storetwin track``)."""
        self = cls.__new__(cls)
        self._setup(entrance, exit, camera_hz, config, xp, engine)
        return self

    def _setup(self, entrance, exit, camera_hz, config: TrackerConfig | None, xp,
               engine: str | None) -> None:
        self.config = TrackerConfig() if config is None else config
        self._entrance = self._door = _rect(entrance, "entrance")
        self._is_cold = False
        self._exit = _rect(exit, "exit")
        if not (isinstance(camera_hz, (int, float)) and camera_hz > 0):
            raise ValueError(f"StoreKnowledge.camera_hz must be > 0, got {camera_hz!r}")
        self._xp = get_xp(xp) if xp is None or isinstance(xp, str) else xp
        self._kernels = _pick_engine(engine, self._xp)
        # The scipy (host) paths serve numpy only; the array-op paths serve any backend
        # (tests set this on numpy to run the device code here).
        self._generic = self._xp is not np
        cfg = self.config
        # Longest a track can take from birth to confirmation [s].
        self._confirm_latency_s = (cfg.confirm_hits * (cfg.tentative_max_misses + 1) + 1) / float(
            camera_hz
        )
        self._next_id = 0
        self._t: float | None = None
        if self._kernels is None:
            self._table = _empty_rows(self._xp)
        else:  # preallocated host columns, the first self._n rows in use
            self._n = 0
            self._table = self._kernels.empty_table(64)
            self._dep = (np.zeros(64, np.int64), np.zeros(64, np.int64), np.zeros(64, bool))
            self._par = self._kernels.params(cfg, self._entrance, self._exit)
        self._departures: list[Departure] = []
        self._accounts: dict[int, int] = {}
        # accounts bound where another check-in or another new track was as near in time:
        # account -> how many tracks and check-ins competed (who is who is a guess)
        self.ambiguous_bindings: dict[int, int] = {}
        self._recent_binds: list[tuple[float, float, int]] = []  # (t_birth, t_checkin, acct)
        self._q_t = np.zeros(0, np.float64)  # queued check-ins, sorted by time (host)
        self._q_account = np.zeros(0, np.int64)
        self._history: deque[tuple[float, np.ndarray, np.ndarray]] = deque()  # host

    @property
    def engine(self) -> str:
        """What runs :meth:`update`: ``"numba"`` (compiled, host) or ``"array"``."""
        return "array" if self._kernels is None else "numba"

    @property
    def _rows(self) -> dict:
        """The track table, one row per track, by column name (see :func:`_empty_rows`);
        on the numba engine, views of the rows in use of its preallocated columns."""
        if self._kernels is None:
            return self._table
        n = self._n
        return {name: col[:n] for name, col in zip(_COLUMNS, self._table, strict=True)}

    @_rows.setter
    def _rows(self, rows: dict) -> None:  # the array engine replaces its table
        self._table = rows

    @property
    def xp(self) -> ModuleType:
        """Array namespace of the track table: numpy or cupy."""
        return self._xp

    # ------------------------------------------------------------------ public API

    def check_in(self, checkins: GateCheckIns) -> None:
        """Queue accounts scanned at the gate; they bind to tracks on the next update."""
        if len(checkins) == 0:
            return
        t = np.concatenate([self._q_t, checkins.t])
        acc = np.concatenate([self._q_account, checkins.account])
        order = np.argsort(t, kind="stable")
        self._q_t, self._q_account = t[order], acc[order]

    def update(self, frame: CameraFrame) -> Tracks:
        """Process one camera frame; return the confirmed tracks in the store.

        Returns :class:`~core.records.Tracks` with the confirmed tracks that are visible or
        coasting (not lost), sorted by id: track_id (n,) int64, xy (n, 2) float64 [m], host
        numpy on either backend. Raises ValueError when frames go back in time.
        """
        t = float(frame.t)
        if self._t is not None and t < self._t:
            raise ValueError(
                f"frame {frame.frame} at t={t} s is earlier than the last ({self._t} s)"
            )
        dt = 0.0 if self._t is None else t - self._t
        if self._t is None:
            self._t0 = t
        self._t = t
        self._cold(t - self._t0 < self.config.cold_start_s)
        if self._kernels is None:
            ids, xy = self._update_arrays(frame, t, dt)
        else:
            ids, xy = self._update_compiled(frame, t, dt)
        self._history.append((t, ids, xy))
        horizon = t - self.config.history_s
        while self._history[0][0] < horizon:
            self._history.popleft()
        return Tracks(frame=int(frame.frame), t=t, track_id=ids, xy=xy)

    def _cold(self, cold: bool) -> None:
        """Births anywhere (``cold``: the stream's first ``cold_start_s``) or only in the
        entrance rectangle."""
        if cold == self._is_cold:
            return
        self._is_cold = cold
        self._entrance = _EVERYWHERE if cold else self._door
        if self._kernels is not None:
            self._par = self._kernels.params(self.config, self._entrance, self._exit)

    def _update_compiled(self, frame: CameraFrame, t: float, dt: float):
        """The numba engine's update: one kernel call (:func:`core._track_kernels.step`),
        then the check-in binding in Python when one is queued. Returns the confirmed
        ids (k,) int64 and xy (k, 2) float64 [m] by ascending id."""
        camera = frame.camera
        if self._n + camera.shape[0] > self._table[0].shape[0]:
            self._grow(self._n + camera.shape[0])
        app = frame.appearance
        if app.shape[1] and app.shape[1] != self._table[12].shape[1]:  # (the first: sets it)
            self._look_dim(app.shape[1])
        q = self.config.accel_sigma_mps2**2
        n, self._next_id, ids, xy, ndep = self._kernels.step(
            self._table, self._n, camera, frame.xy, frame.conf, app, t, dt,
            q * dt**4 / 4.0, q * dt**3 / 2.0, q * dt**2,  # Q as _predict writes it
            self._par, self._next_id, *self._dep,
        )
        self._n = n
        if ndep:
            self._take_departures(ndep, t)
        if self._q_t.size:
            self._bind(t)
        return ids, xy

    def _look_dim(self, dim: int) -> None:
        """Looks of ``dim`` floats from now on: the first frame with appearance
        descriptors sets it; another size later is an error."""
        had = self._rows["look"].shape[1]
        if had:
            raise ValueError(f"CameraFrame.appearance: {dim} floats a detection where "
                             f"earlier frames had {had}")
        if self._kernels is None:
            n = self._rows["tid"].shape[0]
            self._table["look"] = self._xp.zeros((n, dim))
            return
        cap = self._table[0].shape[0]
        self._table = (*self._table[:12], np.zeros((cap, dim)), np.zeros(cap, np.int32))

    def _grow(self, rows: int) -> None:
        """Room for at least ``rows`` rows in the numba engine's columns (doubling)."""
        n = self._n
        cap = max(2 * self._table[0].shape[0], rows)
        table = self._kernels.empty_table(cap, self._table[12].shape[1])
        for new, old in zip(table, self._table, strict=True):
            new[:n] = old[:n]
        self._table = table
        self._dep = (np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, bool))

    def _take_departures(self, k: int, t: float) -> None:
        """Departures the numba engine wrote into its buffers (the first ``k``)."""
        tid, acc, certain = (a[:k].tolist() for a in self._dep)
        self._departures.extend(
            Departure(i, a, t, c) for i, a, c in zip(tid, acc, certain, strict=True)
        )

    def pop_departures(self) -> list[Departure]:
        """Departures declared since the last call, in time order (then by track id)."""
        out = sorted(self._departures, key=lambda d: (d.t, d.track_id))
        self._departures = []
        return out

    def active_with_account(self, account: int) -> bool:
        """True while a confirmed or lost (not yet departed) track is bound to ``account``."""
        R = self._rows
        return bool(self._xp.any((R["account"] == account) & (R["tid"] >= 0)))

    def open_tracks(self) -> tuple[np.ndarray, np.ndarray]:
        """(track ids, accounts) of the confirmed or lost tracks not departed that are bound
        to an account, sorted by account then id (host numpy int64)."""
        R = self._rows
        keep = (R["tid"] >= 0) & (R["account"] >= 0)
        tid, acc = to_numpy(R["tid"][keep]), to_numpy(R["account"][keep])
        order = np.lexsort((tid, acc))
        return tid[order].astype(np.int64), acc[order].astype(np.int64)

    def looks(self, track_ids) -> tuple[np.ndarray, np.ndarray]:
        """The running look of each of ``track_ids`` (confirmed track ids): (n, D) float64
        (D = 0 when the stream carries no appearance; NaN rows for an id not in the table)
        and (n,) int64 looks taken so far (0 for an unknown id), host numpy."""
        R = self._rows
        tid = to_numpy(R["tid"])
        look = to_numpy(R["look"])
        got = to_numpy(R["look_n"]).astype(np.int64)
        ids = np.asarray(track_ids, np.int64).reshape(-1)
        out = np.full((ids.size, look.shape[1]), np.nan)
        n = np.zeros(ids.size, np.int64)
        for k, i in enumerate(ids.tolist()):
            row = np.flatnonzero(tid == i)
            if row.size:
                out[k] = look[row[0]]
                n[k] = got[row[0]]
        return out, n

    def bindings(self) -> dict[int, int]:
        """Every track bound to an account so far (also departed ones): track -> account."""
        return dict(self._accounts)

    def account_of(self, track_id: int) -> int:
        """Account bound to a track (also after it departed); -1 if unbound or unknown."""
        return self._accounts.get(int(track_id), -1)

    def history(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Confirmed-track positions reported in ``[t0, t1]`` [s], as far back as
        ``history_s``.

        Returns track_id (m,) int64, t (m,) float64 [s], xy (m, 2) float64 [m], in frame order
        (host numpy).
        """
        ids, ts, xys = [], [], []
        for t, tid, xy in self._history:
            if t0 <= t <= t1 and tid.size:
                ids.append(tid)
                ts.append(np.full(tid.size, t))
                xys.append(xy)
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros((0, 2), np.float64)
        return np.concatenate(ids), np.concatenate(ts), np.concatenate(xys)

    def flush(self, t: float) -> list[Departure]:
        """End of the stream at time ``t`` [s].

        Binds check-ins still queued, departs tracks last seen at the exit (``certain=True``)
        and lost tracks past their re-identification window (``certain=False``). Tracks still
        active in the store do not depart. Returns every departure not popped yet.
        """
        t = float(t)
        self._bind(t, final=True)
        if self._kernels is None:
            self._expire(t, flushing=True)
        else:
            self._n, k = self._kernels.expire(self._table, self._n, t, self._par, True,
                                              *self._dep)
            self._take_departures(k, t)
        return self.pop_departures()

    # ------------------------------------------------------------------ internals
    def _note_rivals(self, t_birth: float, t_in: float, acc: int, others: list[tuple]
                     ) -> None:
        """A binding (a track born at ``t_birth`` to the check-in of ``acc`` at ``t_in``) is
        a guess when a rival pairing fits the times about as well (within
        ``checkin_tolerance_s`` summed): another check-in for the track, another new track
        for the check-in, or a recent binding the two could be swapped with (a message that
        arrived late, a shopper right behind). ``others``: (t_birth, t_in, account) of the
        rivals of this pass (NaN for the side they do not have). Notes every account
        involved in :attr:`ambiguous_bindings`."""
        tol = self.config.checkin_tolerance_s
        base = abs(t_birth - t_in)
        hit, kinds = [], [0, 0, 0]
        for b, c, a in [*others, *self._recent_binds]:
            if np.isnan(b):         # another check-in for this track
                kind, ok = 0, abs(t_birth - c) <= base + tol
            elif np.isnan(c):       # another new track for this check-in
                kind, ok = 1, abs(b - t_in) <= base + tol
            else:                   # a binding made before: swapped, the times fit as well?
                kind, ok = 2, abs(t_birth - c) + abs(b - t_in) <= base + abs(b - c) + tol
            if ok:
                hit.append(a)
                kinds[kind] += 1
        if hit:   # a rival check-in and a rival track are one other shopper at the gate
            n = 1 + max(kinds[0], kinds[1]) + kinds[2]
            for a in (acc, *(h for h in hit if h >= 0)):
                self.ambiguous_bindings[a] = max(self.ambiguous_bindings.get(a, 0), n)
        w = self.config.checkin_window_s
        self._recent_binds = [r for r in self._recent_binds if t_in - r[1] <= 2 * w]
        self._recent_binds.append((t_birth, t_in, acc))

    def _rivals(self, k: int, j: int, t_birth: np.ndarray, free: np.ndarray,
                unused: np.ndarray) -> list[tuple]:
        """Rivals (t_birth, t_in, account) of binding candidate ``k`` (born at
        ``t_birth[k]``) to queued check-in ``j``: other check-ins near the birth and other
        free tracks near the check-in. One with a partner of its own (the nearest in time
        within the window) competes as that pair, a swap of the two bindings; one without,
        alone (NaN on the side it lacks). A check-in bound in this pass competes through
        ``_recent_binds``."""
        w = self.config.checkin_window_s
        q = self._q_t
        out, pairs = [], set()
        others = free.copy()
        others[k] = False

        def partner(mask: np.ndarray, times: np.ndarray, t0: float) -> int:
            d = np.where(mask, np.abs(times - t0), np.inf)
            p = int(np.argmin(d)) if d.size else -1
            return p if p >= 0 and d[p] <= w else -1

        for i in np.flatnonzero(unused & (np.abs(q - t_birth[k]) <= w)).tolist():
            k2 = partner(others, t_birth, q[i])
            if k2 >= 0:
                pairs.add((k2, i))
            else:
                out.append((np.nan, float(q[i]), int(self._q_account[i])))
        for i in np.flatnonzero(others & (np.abs(t_birth - q[j]) <= w)).tolist():
            j2 = partner(unused, q, t_birth[i])
            if j2 >= 0:
                pairs.add((i, j2))
            else:
                out.append((float(t_birth[i]), np.nan, -1))
        return out + [(float(t_birth[a]), float(q[b]), int(self._q_account[b]))
                      for a, b in sorted(pairs)]

    def _bind(self, t: float, final: bool = False) -> None:
        """Bind unbound confirmed tracks born at the entrance (within ``exit_margin_m`` of
        its rectangle: a crowd already inside at a cold start did not just scan in) to
        check-ins within ``checkin_window_s`` of their birth, the pairing whose birth and
        check-in times differ least in sum; forget stale check-ins.

        A check-in waits until a track born up to ``checkin_tolerance_s`` after it would be
        confirmed (``final``: not at the end of the stream), so a shopper who scans in is
        not bound to someone already standing at the door. The few candidates are matched
        on the host."""
        if self._q_t.size == 0:
            return
        xp = self._xp
        w = self.config.checkin_window_s
        R = self._rows
        cand = xp.flatnonzero(
            (R["tid"] >= 0)
            & (R["account"] < 0)
            & (R["t_birth"] >= float(self._q_t[0]) - w)
            & (R["t_birth"] <= float(self._q_t[-1]) + w)
        )
        if cand.size:   # only people born at the door scanned in (not a crowd already in)
            xy_b = to_numpy(R["xy_birth"][cand])
            d, m = self._door, self.config.exit_margin_m
            at_door = ((xy_b[:, 0] >= d[0] - m) & (xy_b[:, 0] <= d[2] + m)
                       & (xy_b[:, 1] >= d[1] - m) & (xy_b[:, 1] <= d[3] + m))
            cand = cand[xp.asarray(at_door)]
        used = np.zeros(self._q_t.size, dtype=bool)
        due = self._q_t <= t - self.config.checkin_tolerance_s - self._confirm_latency_s
        if final:
            due[:] = True
        if cand.size and due.any():
            t_birth, tid = to_numpy(R["t_birth"][cand]), to_numpy(R["tid"][cand])
            jobs = np.flatnonzero(due)
            cost = np.abs(t_birth[:, None] - self._q_t[None, jobs])     # (tracks, due)
            ok = cost <= w
            rows, cols = linear_sum_assignment(np.where(ok, cost, 1e6 + cost))
            pairs = sorted((int(k), int(jobs[c])) for k, c in zip(rows, cols, strict=True)
                           if ok[k, c])
            free = np.ones(t_birth.size, dtype=bool)     # not bound in this pass
            for k, j in pairs:
                used[j] = True
                free[k] = False
            bound, accounts = [], []
            for k, j in sorted(pairs, key=lambda p: (t_birth[p[0]], tid[p[0]])):
                acc = int(self._q_account[j])
                bound.append(k)
                accounts.append(acc)
                self._accounts[int(tid[k])] = acc
                self._note_rivals(float(t_birth[k]), float(self._q_t[j]), acc,
                                  self._rivals(k, j, t_birth, free, ~used))
            if bound:
                R["account"][cand[xp.asarray(bound)]] = xp.asarray(accounts, dtype=xp.int64)
        keep = ~used & (self._q_t >= t - w - self._confirm_latency_s)
        self._q_t, self._q_account = self._q_t[keep], self._q_account[keep]


# Track table columns, in the order of core._track_kernels' table tuple.
_COLUMNS = ("tid", "status", "orphan", "x", "P", "hits", "miss", "t_birth", "xy_birth",
            "t_last", "xy_last", "account", "look", "look_n")


def _pick_engine(engine: str | None, xp: ModuleType) -> ModuleType | None:
    """The compiled kernels module for engine ``"numba"``, None for ``"array"``; None picks
    numba on numpy where it imports. Raises ValueError for an unknown or impossible one."""
    if engine not in (None, "numba", "array"):
        raise ValueError(f"Tracker engine must be 'numba', 'array' or None, got {engine!r}")
    if engine == "array" or (engine is None and xp is not np):
        return None
    if xp is not np:
        raise ValueError(f"Tracker engine 'numba' runs on numpy only, not {xp.__name__}")
    try:
        from core import _track_kernels
    except ImportError as e:
        if engine is None:
            return None
        raise ValueError(f"Tracker engine 'numba' needs numba ({e})") from None
    return _track_kernels


def _rect(a: np.ndarray, name: str) -> np.ndarray:
    r = np.asarray(a, dtype=np.float64).reshape(-1)
    if r.shape != (4,) or not (r[0] <= r[2] and r[1] <= r[3]):
        raise ValueError(f"StoreKnowledge.{name} must be (xmin, ymin, xmax, ymax), got {a!r}")
    return r


# the entrance of a cold start: the whole floor
_EVERYWHERE = np.array([-np.inf, -np.inf, np.inf, np.inf])
