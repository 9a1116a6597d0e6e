"""Shelf events from shelf-plate load-cell samples.

Each plate is one shelf bin holding units of one sku. Its reading is absolute grams with
white noise (``noise_g``, ~2 g), a slow random-walk drift (a few g per minute, so only
changes are reliable), 0.5 g quantisation, hand/impact transients around picks and
put-backs (tens to hundreds of grams for 0.1-1 s) and, when a sleeping shelf wakes, a
single sample reading ~-99 % of its load. The detector turns this into
:class:`ShelfEvent`: one settled change of load per active period of a plate.

Method (all plates at once, per :class:`~core.records.PlateSamples` message of ``k``
samples; the per-message work is a fixed number of array calls on ``(k, p)`` and
``(R + k, p)`` arrays, time-major so sums over time run over contiguous plates,
``R = max(window, settle)`` samples; on numpy the two cumulative sums add whole rows, one
call per row). The arrays live on the backend of :mod:`core.backend` (numpy, or cupy where
a GPU works): every per-plate state stays there, each message's grams cross to it in one
copy, and the values of the events that close in a message come back in one copy:

1. **Outlier filter.** A centred median of 3 over the raw samples (the last two raw samples
   of the previous message are carried over), so a single-sample wake outlier never reaches
   the detector. This delays the filtered stream by one sample: filtered value ``j`` has
   the time of raw sample ``j - 1``.
2. **Moving variance.** Per plate a ring buffer of the last ``R`` filtered samples; the
   moving mean and variance over ``window_s`` (AiFi's plates: variance over 0.5 s) come
   from cumulative sums of the buffer plus the new samples, taken relative to the plate's
   baseline so float64 cancellation is harmless. A sample is *quiet* when the moving std is
   at most ``var_threshold_sigma * noise_g`` (default 4 sigma = 8 g; AiFi's published
   trigger is a variance of 0.01 kg^2, i.e. a std of 10 g, over 0.5 s -- REFERENCES.md).
   The median filter lowers the std of pure noise to ~0.67 sigma, so the false-trigger
   rate on noise is nil; a step of ``D`` grams reaches a moving std of ``D / 2``, so every
   step above twice the threshold (16 g) trips it even without a transient.
3. **Baseline.** Per plate a settled baseline [g]: the settled mean at the end of the last
   event (or the median of the first message), then tracked while the plate is idle for a
   whole message by an exponential average (time constant ``baseline_tau_s``) of the
   samples that are just leaving the variance window -- samples already certified quiet by
   a full window after them, so the onset of a transient never leaks into the baseline.
   Drift is followed; it never becomes an event.
4. **Open.** An idle plate opens an event at its first sample that is not quiet *or*
   whose filtered value departs from the baseline by more than ``min_delta_g`` (a slow
   change with no transient). ``t_start`` is that sample's time. The baseline is frozen
   while the event is open.
5. **Close.** An open event closes once the plate has been quiet for ``settle_s``
   (``S`` samples) in a row; ``t_end`` is the time of that sample. The settled-after
   value is the mean of those last ``S`` filtered samples, whose variance windows were
   all quiet. ``delta_g = settled_after - baseline``; events with ``|delta_g| <
   min_delta_g`` (a jostle, a pick put straight back) are dropped. The baseline becomes
   the settled-after mean.
6. **Uncertainty.** ``sigma_g**2 = c * noise_g**2 / S + var(baseline) + drift**2 *
   (t_end - t_start + baseline_tau_s + window_s) / 60`` where ``c = 1.2`` is the variance
   of a mean of median-of-3-filtered white noise relative to raw white noise (measured:
   1.17 for 30 samples), ``var(baseline)`` is propagated exactly through the baseline's
   exponential average, and ``drift`` [g/sqrt(min)] is ``drift_g_per_sqrt_min``.

Consequences for billing: a plate must be quiet for about ``window_s + settle_s`` (1 s by
default) after a transient before its event closes. Picks separated by such a quiet gap
are separate events; a pick and a put-back inside one active period net out into one
event (or none when they cancel) -- which is what the receipt must say anyway.

Assumptions: messages arrive in time order without gaps; the first message is taken as
settled (its median is the initial baseline); an event that never goes quiet (a plate
vibrating above the threshold) stays open -- there is no maximum event duration.

Python-level work per message is limited to the plates that are active or become active
(a short loop over their state transitions, vectorised over those plates; one host read
per pass on a GPU) and one :class:`ShelfEvent` per closing event. On numpy steps 1-3 run
as one compiled pass over each plate's samples (:mod:`core._shelf_kernels`, the same
operations in the same order; 6 ms a message of 12 samples at 47,576 plates against 19-22
ms for the array calls, 2-core AMD EPYC); on cupy the sums may round differently in the
last bits (events agree to far below a gram).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from core.backend import get_xp, to_numpy
from core.records import PlateSamples
from params import config, num

#: Variance of the mean of n median-of-3-filtered white-noise samples, times n / sigma^2
#: (measured 1.10 for n = 12, 1.15 for n = 30, 1.16 for n = 60; rounded up).
_MED3_MEAN_VAR = 1.2

@config(frozen=True)
class ShelfEventConfig:
    """Tuning of :class:`ShelfEventDetector`; validated on construction.

    window_s: moving-variance window [s], in (0, 10] (AiFi: variance over 0.5 s).
    var_threshold_sigma: a sample is active when the moving std exceeds this many
        ``noise_g`` [-], in [1, 1000] (4 sigma = 8 g at 2 g noise; AiFi used 10 g).
    settle_s: quiet time after activity before an event closes [s], in (0, 10].
    min_delta_g: settled changes smaller than this are noise/drift, not events; also the
        departure from the baseline that opens an event [g], in (0, 100000].
    baseline_tau_s: time constant of the idle baseline's exponential tracking [s],
        in (0, 3600].
    drift_g_per_sqrt_min: random-walk drift of a plate, std after one minute
        [g/sqrt(min)], in [0, 1000]; only enters ``ShelfEvent.sigma_g``.
    """

    window_s: float = num(0.5, gt=0.0, le=10.0, unit="s")
    var_threshold_sigma: float = num(4.0, ge=1.0, le=1000.0, unit="noise sigmas")
    settle_s: float = num(0.5, gt=0.0, le=10.0, unit="s")
    min_delta_g: float = num(10.0, gt=0.0, le=100_000.0, unit="g")
    baseline_tau_s: float = num(1.0, gt=0.0, le=3600.0, unit="s")
    drift_g_per_sqrt_min: float = num(3.0, ge=0.0, le=1000.0, unit="g/sqrt(min)")


@dataclass(frozen=True)
class ShelfEvent:
    """One settled change of load on one plate.

    plate: plate id. t_start: first active sample [s]. t_end: settled again [s].
    delta_g: settled-after minus settled-before [g]; negative = taken from the shelf.
    sigma_g: 1-sigma uncertainty of ``delta_g`` [g].
    """

    plate: int
    t_start: float
    t_end: float
    delta_g: float
    sigma_g: float


def _median3(xp: ModuleType, a, b, c):
    """Elementwise median of three same-shape arrays of backend ``xp``."""
    return xp.maximum(xp.minimum(a, b), xp.minimum(xp.maximum(a, b), c))


def _cumsum0(xp: ModuleType, a):
    """Cumulative sums over axis 0 of ``a`` (n, p), with a zero row first: (n + 1, p).

    numpy's ``cumsum(axis=0)`` walks each plate's column with a stride (~7x slower than
    adding whole rows at 50,000 plates), so on numpy the rows are added one by one, over
    all plates at once: the same sums in the same order, bit for bit. Other backends use
    their ``cumsum`` (one kernel).
    """
    n = a.shape[0]
    out = xp.empty((n + 1,) + a.shape[1:], dtype=a.dtype)
    out[0] = 0.0
    if xp is np:
        out[1] = a[0]
        for i in range(1, n):
            np.add(out[i], a[i], out=out[i + 1])
    else:
        out[1:] = xp.cumsum(a, axis=0)
    return out


def _running_max(xp: ModuleType, a):
    """Running maximum along axis 1 of an int (b, k) array: ``maximum.accumulate(a, 1)``,
    which cupy lacks; a log2(k)-step doubling scan, exact for integers."""
    out = a
    shift = 1
    k = a.shape[1]
    while shift < k:
        out = xp.concatenate([out[:, :shift], xp.maximum(out[:, shift:], out[:, :-shift])],
                             axis=1)
        shift *= 2
    return out


class ShelfEventDetector:
    """Streaming shelf-event detector over all plates of a store (method: module doc).

    plate_ids: (p,) int plate ids, the row order of the detector's state; messages may
        list the same ids in any order.
    plate_hz: sample rate of the plates [Hz].
    noise_g: white-noise std of one raw sample [g] (``StoreKnowledge.plate_noise_g``).
    config: :class:`ShelfEventConfig`.
    xp: array backend for the per-plate state: the numpy or cupy module, a backend name
        (``"numpy"``, ``"cupy"``, ``"auto"``), or None for :func:`core.backend.get_xp`'s
        choice (``STORETWIN_BACKEND``).
    compiled: on numpy, run steps 1-3 as one compiled pass over each plate
        (:mod:`core._shelf_kernels`; ~3x faster at 50,000 plates, the same arithmetic);
        False: the array code every backend runs. None: compiled on numpy.

    State is created from the first message; feed messages in time order, contiguous.
    Messages and events are host objects whatever the backend.
    """

    def __init__(
        self,
        plate_ids: np.ndarray,
        plate_hz: float,
        noise_g: float,
        config: ShelfEventConfig = ShelfEventConfig(),
        xp: ModuleType | str | None = None,
        compiled: bool | None = None,
    ) -> None:
        ids = np.asarray(plate_ids).ravel().astype(np.int32)
        if ids.size == 0:
            raise ValueError("ShelfEventDetector: plate_ids is empty")
        if np.unique(ids).size != ids.size:
            raise ValueError("ShelfEventDetector: plate_ids has duplicates")
        if not (np.isfinite(plate_hz) and plate_hz > 0):
            raise ValueError(f"ShelfEventDetector: plate_hz must be > 0 [Hz], got {plate_hz!r}")
        if not (np.isfinite(noise_g) and noise_g > 0):
            raise ValueError(f"ShelfEventDetector: noise_g must be > 0 [g], got {noise_g!r}")
        self._xp = xp if isinstance(xp, ModuleType) else get_xp(xp)
        # numpy: steps 1-3 in one compiled pass (core._shelf_kernels); False: the array code
        self._compiled = (self._xp is np) if compiled is None else bool(compiled)
        if self._compiled and self._xp is not np:
            raise ValueError("ShelfEventDetector: compiled=True needs the numpy backend")
        self._ids = ids
        self._sorter = np.argsort(ids, kind="stable")
        self._hz = float(plate_hz)
        self._noise = float(noise_g)
        self._cfg = config
        self._w = int(round(config.window_s * plate_hz))
        if self._w < 3:
            raise ValueError(
                f"ShelfEventConfig.window_s must span >= 3 samples at {plate_hz:g} Hz "
                f"(>= {3 / plate_hz:g} s), got {config.window_s!r}"
            )
        self._s = max(1, int(round(config.settle_s * plate_hz)))
        self._r = max(self._w, self._s)
        # Python floats, so that they combine with arrays of any backend.
        self._thr_var = float((config.var_threshold_sigma * noise_g) ** 2)
        self._settled_var = float(_MED3_MEAN_VAR * noise_g**2 / self._s)
        self._drift_var_per_s = float(config.drift_g_per_sqrt_min**2 / 60.0)
        self._drift_extra_s = float(config.baseline_tau_s + config.window_s)
        self._started = False

    @property
    def xp(self) -> ModuleType:
        """The array backend holding the state (numpy or cupy)."""
        return self._xp

    @property
    def plate_ids(self) -> np.ndarray:
        """(p,) int32 plate ids in state order (read-only)."""
        v = self._ids.view()
        v.flags.writeable = False
        return v

    @property
    def config(self) -> ShelfEventConfig:
        return self._cfg

    @property
    def active(self) -> np.ndarray:
        """(p,) bool host copy: plates with an event open now (all False before any
        message)."""
        if not self._started:
            return np.zeros(self._ids.shape[0], dtype=bool)
        return np.array(to_numpy(self._active), copy=True)

    def _rows(self, plate: np.ndarray) -> np.ndarray | None:
        """Row of the state for each message row, or None when the order is the same."""
        if plate.shape == self._ids.shape and np.array_equal(plate, self._ids):
            return None
        if plate.shape != self._ids.shape:
            raise ValueError(
                f"PlateSamples has {plate.shape[0]} plates, detector has {self._ids.shape[0]}"
            )
        pos = np.searchsorted(self._ids, plate, sorter=self._sorter)
        pos = np.minimum(pos, self._ids.shape[0] - 1)
        rows = self._sorter[pos]
        if not np.array_equal(self._ids[rows], plate) or np.unique(rows).size != rows.size:
            raise ValueError("PlateSamples plate ids do not match the detector's plate_ids")
        return rows

    def _start(self, g, t0: float) -> None:
        """Initialise the state from the first message; g: (k, p) float64 [g] on xp."""
        xp = self._xp
        k, p = g.shape
        m = xp.median(g, axis=0)
        self._raw_prev = xp.repeat(m[None, :], 2, axis=0)  # (2, p) last raw samples
        self._ring = xp.repeat(m[None, :], self._r, axis=0)  # (r, p) last filtered samples
        if self._compiled:      # plate-major: each plate's samples side by side
            self._raw_prev = np.ascontiguousarray(self._raw_prev.T)
            self._ring = np.ascontiguousarray(self._ring.T)
        self._baseline = m.copy()  # (p,) [g]
        self._base_var = xp.full(p, _MED3_MEAN_VAR * self._noise**2 / k)  # (p,) [g^2]
        self._active = xp.zeros(p, dtype=bool)
        self._quiet = xp.zeros(p, dtype=xp.int64)  # quiet run while active [samples]
        self._t_start = xp.zeros(p, dtype=xp.float64)  # [s]
        self._last_t = t0 - 1.0 / self._hz
        self._started = True

    def update(self, samples: PlateSamples) -> list[ShelfEvent]:
        """Consume one message; return the events that closed in it.

        samples: one :class:`PlateSamples` with all ``p`` plates, ``k >= 1`` samples.
        Returns events sorted by (t_end, plate).
        """
        xp = self._xp
        t = samples.t
        k = t.shape[0]
        if k == 0:
            return []
        rows = self._rows(samples.plate)
        grams = samples.grams  # (p, k) float32, message order
        if rows is not None:
            reordered = np.empty_like(grams)
            reordered[rows] = grams
            grams = reordered
        if self._compiled:
            if not self._started:
                self._start(np.ascontiguousarray(grams.T, dtype=np.float64), float(t[0]))
            return self._update_compiled(grams, t)
        # One copy to the backend; time-major (k, p) there, so reductions over time run
        # over contiguous plates.
        g = xp.ascontiguousarray(xp.asarray(grams).T, dtype=xp.float64)
        if not self._started:
            self._start(g, float(t[0]))

        w, r = self._w, self._r
        # 1. median of 3, centred: filtered j has the time of raw j - 1.
        raw = xp.concatenate([self._raw_prev, g], axis=0)  # (k + 2, p)
        filt = _median3(xp, raw[:-2], raw[1:-1], raw[2:])  # (k, p)
        tf_host = np.concatenate([[self._last_t], t[:-1]])  # (k,) [s]

        # 2. moving mean / variance over w samples, relative to the baseline.
        ext_abs = xp.concatenate([self._ring, filt], axis=0)  # (r + k, p)
        ref = self._baseline
        ext = ext_abs - ref  # (r + k, p)
        seg = ext[r - w + 1 :]  # (w + k - 1, p): every sample of the k windows
        c1 = _cumsum0(xp, seg)  # (w + k, p)
        c2 = _cumsum0(xp, seg * seg)
        m1 = (c1[w:] - c1[:k]) / w  # (k, p) moving mean [g]
        var = (c2[w:] - c2[:k]) / w - m1 * m1  # (k, p) [g^2]
        quiet = var <= self._thr_var
        act = ~quiet | (xp.abs(ext[r:]) > self._cfg.min_delta_g)
        busy = self._active | act.any(axis=0)

        # 3. idle plates: track the baseline with the samples leaving the window (seg[:k]).
        idle = ~busy
        beta = 1.0 - np.exp(-k / (self._hz * self._cfg.baseline_tau_s))
        keep_var = float((1.0 - beta) ** 2)  # host scalars, as Python floats for any xp
        add_var = float(beta**2 * _MED3_MEAN_VAR * self._noise**2 / k)
        self._baseline += xp.where(idle, float(beta) * c1[k] / k, 0.0)
        self._base_var = xp.where(idle, keep_var * self._base_var + add_var, self._base_var)

        events: list[ShelfEvent] = []
        bi = xp.flatnonzero(busy)
        if bi.size:
            tf = xp.asarray(tf_host)
            events = self._step_busy(bi, ext[:, bi].T, quiet[:, bi].T, ref[bi], tf)

        self._ring = ext_abs[-r:]  # views: nothing writes to ext_abs or raw again
        self._raw_prev = raw[-2:]
        self._last_t = float(t[-1])
        events.sort(key=lambda e: (e.t_end, e.plate))
        return events

    def _update_compiled(self, grams: np.ndarray, t: np.ndarray) -> list[ShelfEvent]:
        """:meth:`update` on numpy (``grams`` (p, k) in state order): steps 1-3 in one
        compiled pass over each plate (:func:`core._shelf_kernels.window_pass`, the same
        arithmetic in the same order, on a plate-major ring and last raw samples), then the
        busy plates' state machine as on every backend."""
        from core import _shelf_kernels

        k = t.shape[0]
        p = self._ids.shape[0]
        r = self._r
        beta = 1.0 - np.exp(-k / (self._hz * self._cfg.baseline_tau_s))
        keep_var = float((1.0 - beta) ** 2)
        add_var = float(beta**2 * _MED3_MEAN_VAR * self._noise**2 / k)
        busy = np.empty(p, dtype=np.int64)       # (rows written for busy plates only)
        ext = np.empty((p, r + k))
        quiet = np.empty((p, k), dtype=bool)
        b = _shelf_kernels.window_pass(
            np.ascontiguousarray(grams, dtype=np.float32), self._raw_prev, self._ring,
            self._baseline, self._base_var, self._active, self._w, self._thr_var,
            float(self._cfg.min_delta_g), float(beta), keep_var, add_var, busy, ext, quiet)
        events: list[ShelfEvent] = []
        if b:
            bi = busy[:b]
            tf = np.concatenate([[self._last_t], t[:-1]])
            events = self._step_busy(bi, ext[:b], quiet[:b], self._baseline[bi], tf)
        self._last_t = float(t[-1])
        events.sort(key=lambda e: (e.t_end, e.plate))
        return events

    def _step_busy(self, bi, ext, quiet, ref, tf) -> list[ShelfEvent]:
        """Run the open/close state machine for the busy plates ``bi`` over one message.

        bi: (b,) int rows of the busy plates; ext: (b, r + k) the ring buffer and new
        filtered samples minus ``ref`` [g]; quiet: (b, k) bool; ref: (b,) [g] the baselines
        ``ext`` is relative to; tf: (k,) [s] filtered sample times; all on the backend.
        Each loop pass handles the next transition of every plate still able to make one,
        as masked array operations over all ``b`` plates (one host read per pass: whether
        any plate is still alive). The events that closed come back to the host in one
        copy after the loop.
        """
        xp = self._xp
        s, r = self._s, self._r
        min_delta = self._cfg.min_delta_g
        nb, k = quiet.shape
        jj = xp.arange(k)
        last_loud = _running_max(xp, xp.where(quiet, -1, jj[None, :]))  # (b, k)
        filt_rel = ext[:, r:]  # (b, k)
        row = xp.arange(nb)[:, None]
        win = xp.arange(s)[None, :] + (r + 1 - s)  # settled window ending at sample 0
        active = self._active[bi]
        qcount = self._quiet[bi]
        t_start = self._t_start[bi]
        base = self._baseline[bi]
        base_var = self._base_var[bi]
        pos = xp.zeros(nb, dtype=xp.int64)
        alive = xp.ones(nb, dtype=bool)
        rec: list[list] = [[], [], [], [], []]  # closed, delta, sigma, t_start, t_end
        while bool(alive.any()):
            in_a = alive & active
            in_i = alive & ~active
            # Active plates: close at the end of the first quiet run of s samples.
            st = pos[:, None]
            run = xp.where(last_loud >= st, jj - last_loud, qcount[:, None] + (jj - st + 1))
            hit = (jj >= st) & (run >= s) & in_a[:, None]
            close = hit.any(axis=1)
            stay = in_a & ~close
            qcount = xp.where(stay, run[:, k - 1], qcount)
            alive = alive & ~stay
            c = xp.argmax(hit, axis=1)  # (b,) closing sample (0 where none)
            settled = ext[row, win + c[:, None]].mean(axis=1) + ref
            delta = settled - base
            t_end = tf[c]
            dur = t_end - t_start + self._drift_extra_s
            sig = xp.sqrt(self._settled_var + base_var + self._drift_var_per_s * dur)
            for lst, v in zip(rec, (close, delta, sig, t_start, t_end), strict=True):
                lst.append(v)
            base = xp.where(close, settled, base)
            base_var = xp.where(close, self._settled_var, base_var)
            active = active & ~close
            qcount = xp.where(close, 0, qcount)
            pos = xp.where(close, c + 1, pos)
            alive = alive & ~(close & (c + 1 >= k))
            # Idle plates: open at the first loud sample or departure from the baseline.
            st = pos[:, None]
            dep = xp.abs(filt_rel - (base - ref)[:, None]) > min_delta
            hit = (jj >= st) & (~quiet | dep) & in_i[:, None]
            opened = hit.any(axis=1)
            alive = alive & ~(in_i & ~opened)
            o = xp.argmax(hit, axis=1)
            active = active | opened
            qcount = xp.where(opened, 0, qcount)
            t_start = xp.where(opened, tf[o], t_start)
            pos = xp.where(opened, o, pos)
        self._active[bi] = active
        self._quiet[bi] = qcount
        self._t_start[bi] = t_start
        self._baseline[bi] = base
        self._base_var[bi] = base_var
        return self._events(bi, rec)

    def _events(self, bi, rec: list[list]) -> list[ShelfEvent]:
        """Events from the per-pass records of :meth:`_step_busy`: one host copy of the
        stacked (5, passes, b) values, then one :class:`ShelfEvent` per kept close."""
        xp = self._xp
        if not rec[0]:
            return []
        host = to_numpy(xp.stack([xp.stack(v) for v in rec]).astype(xp.float64))
        close, delta, sig, t_start, t_end = host
        keep = (close != 0.0) & (np.abs(delta) >= self._cfg.min_delta_g)
        if not keep.any():
            return []
        pas, col = np.nonzero(keep)
        plate = self._ids[to_numpy(bi)[col]]
        return [
            ShelfEvent(
                plate=int(plate[n]),
                t_start=float(t_start[pas[n], col[n]]),
                t_end=float(t_end[pas[n], col[n]]),
                delta_g=float(delta[pas[n], col[n]]),
                sigma_g=float(sig[pas[n], col[n]]),
            )
            for n in range(pas.size)
        ]
