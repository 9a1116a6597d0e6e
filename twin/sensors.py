"""Shelf plates (load cells) and the entry gate.

Load-cell defaults: AiFi's Nanostore plates sample at 60 Hz and send 12 samples per message;
their absolute readings drift, only changes are reliable (REFERENCES.md, AiFi AutoCheckout
2020 data description). Noise: a 20 kg single-point cell with a 24-bit ADC (HX711 class)
resolves ~0.5 g with ~1-2 g RMS noise in practice; we use sigma 2 g white noise, a random
walk drift of 0.3 g/sqrt(s) (~2.3 g per minute) and 0.5 g quantisation (assumptions, stated).

Dynamics: a loaded platform on a load cell rings and settles like a damped spring; we model
the cell's reading as a second-order system (natural frequency 8 Hz, damping ratio 0.5:
~16% overshoot, settled to 2% in ~0.16 s), which sits on top of the physics' own transients
(the hand's press and lift). Typical platform scales settle in 0.1-0.5 s (assumption). The
reading saturates at 150% of the rated capacity (20 kg, AiFi; 150% is the usual safe
overload of single-point cells, assumption), so a leaning shopper cannot report 40 kg.
"""

from __future__ import annotations

import numpy as np

from core.records import GateCheckIns, PlateSamples
from params import check, config, num


@config(frozen=True)
class LoadCellModel:
    plate_hz: float = num(60.0, gt=0, unit="Hz")                # [Hz] AiFi
    samples_per_message: int = num(12, ge=1, integer=True)      # AiFi
    noise_g: float = num(2.0, ge=0, unit="g")                   # [g] white noise sigma
    # [g/sqrt(s)] random-walk drift
    drift_g_per_sqrt_s: float = num(0.3, ge=0, unit="g/sqrt(s)")
    resolution_g: float = num(0.5, ge=0, unit="g")              # [g] quantisation step
    offset_g: float = num(50.0, ge=0, unit="g")   # [g] sigma of each plate's unknown zero offset
    settle_hz: float = num(8.0, gt=0, unit="Hz")  # [Hz] natural frequency of the cell's response
    damping: float = num(0.5, gt=0)               # damping ratio of the response (1 = critical)
    capacity_g: float = num(20000.0, gt=0, unit="g")   # [g] rated capacity (AiFi plates: 20 kg)
    overload: float = num(1.5, ge=1)              # readings saturate at overload x capacity

    def __post_init__(self) -> None:
        check(self, "settle_hz", self.settle_hz < self.plate_hz / 2,
              f"under half of plate_hz ({self.plate_hz / 2:g} Hz)")


class PlateSensors:
    """Every plate of a store. ``sample(loads_g)`` once per plate tick; returns a
    :class:`PlateSamples` message every ``samples_per_message`` ticks, else None.

    dead: (p,) bool plates that are broken: they keep reporting their first reading.
    """

    def __init__(self, n_plates: int, model: LoadCellModel | None = None,
                 rng: np.random.Generator | None = None, dead: np.ndarray | None = None) -> None:
        self.model = model or LoadCellModel()
        if rng is None:  # no hidden fixed seed: offsets, drift and noise are random
            raise ValueError("PlateSensors needs rng=<numpy Generator> (zero offsets, drift and "
                             "noise are drawn from it)")
        self.rng = rng
        self.n = n_plates
        k = self.model.samples_per_message
        self._buf = np.zeros((n_plates, k), dtype=np.float64)
        self._t = np.zeros(k, dtype=np.float64)
        self._i = 0
        self._offset = self.rng.normal(0.0, self.model.offset_g, n_plates)
        self._drift = np.zeros(n_plates)
        self.dead = np.zeros(n_plates, dtype=bool) if dead is None else dead.astype(bool)
        self._frozen: np.ndarray | None = None
        self.ids = np.arange(n_plates, dtype=np.int32)
        self._y: np.ndarray | None = None     # the cell's response: reading and its rate
        self._v = np.zeros(n_plates)
        self._v_bits = self._v.view(np.int64)
        self._z = np.empty((2, n_plates, k))   # a message's standard normal draws
        from twin import _sensor_kernels

        self._kernels = _sensor_kernels
        _sensor_kernels.warm_up()

    def _respond(self, loads_g: np.ndarray) -> None:
        """Advance each cell's second-order response one sample towards the true load, into
        the message buffer's next column (semi-implicit Euler, 4 substeps: stable and
        accurate at w*h < 0.3). A cell at rest (reading bit-equal to a finite load that is not
        -0, rate +0) stays exactly as it is through the update, so only the others are
        stepped (compiled: ``twin/_sensor_kernels.py``)."""
        m = self.model
        x = np.ascontiguousarray(loads_g, dtype=np.float64)
        if self._y is None:      # switched on under its load: at rest
            self._y = x.copy()
            self._buf[:, self._i] = self._y
            return
        w = 2 * np.pi * m.settle_hz
        sub = 4
        h = 1.0 / (m.plate_hz * sub)
        self._kernels.respond(self._y, self._v, x, self._y.view(np.int64), self._v_bits,
                              x.view(np.int64), self._buf, self._i, float(w * w),
                              float(2 * m.damping * w), h, sub)

    def sample(self, t: float, loads_g: np.ndarray) -> PlateSamples | None:
        self._respond(loads_g)
        self._t[self._i] = t
        self._i += 1
        if self._i < self.model.samples_per_message:
            return None
        self._i = 0
        m = self.model
        dt = 1.0 / m.plate_hz
        # drift steps then white noise, each ``normal(0, sigma, (n, k))`` in that order: the
        # same draws as ``sigma * standard_normal`` of both at once
        self.rng.standard_normal(out=self._z)
        dead = bool(self.dead.any())
        freeze = dead and self._frozen is None
        if freeze:
            self._frozen = np.empty(self.n)
        out = np.empty((self.n, m.samples_per_message), dtype=np.float32)
        self._kernels.finish(self._buf, self._offset, self._drift, self._z,
                             float(m.drift_g_per_sqrt_s * np.sqrt(dt)), float(m.noise_g),
                             float(m.overload * m.capacity_g), float(m.resolution_g),
                             self.dead, self._frozen if dead else self._drift, freeze, out)
        return PlateSamples(self._t.copy(), self.ids, out)


class EntryGate:
    """The app check-in at the door: a shopper scans, the gate reports the account id."""

    def __init__(self) -> None:
        self._t: list[float] = []
        self._acct: list[int] = []

    def check_in(self, t: float, account: int) -> None:
        self._t.append(float(t))
        self._acct.append(int(account))

    def flush(self) -> GateCheckIns | None:
        if not self._t:
            return None
        rec = GateCheckIns(np.array(self._t), np.zeros(len(self._t), np.int32),
                           np.array(self._acct, np.int64))
        self._t, self._acct = [], []
        return rec
