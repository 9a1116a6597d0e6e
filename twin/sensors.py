"""Shelf plates (load cells) and the entry gate.

Load-cell defaults: AiFi's Nanostore plates sample at 60 Hz and send 12 samples per message;
their absolute readings drift, only changes are reliable (REFERENCES.md, AiFi AutoCheckout
2020 data description). Noise: a 20 kg single-point cell with a 24-bit ADC (HX711 class)
resolves ~0.5 g with ~1-2 g RMS noise in practice; we use sigma 2 g white noise, a random
walk drift of 0.3 g/sqrt(s) (~2.3 g per minute) and 0.5 g quantisation (assumptions, stated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.records import GateCheckIns, PlateSamples


@dataclass(frozen=True)
class LoadCellModel:
    plate_hz: float = 60.0              # [Hz] AiFi
    samples_per_message: int = 12       # AiFi
    noise_g: float = 2.0                # [g] white noise sigma
    drift_g_per_sqrt_s: float = 0.3     # [g/sqrt(s)] random-walk drift
    resolution_g: float = 0.5           # [g] quantisation step
    offset_g: float = 50.0              # [g] sigma of each plate's unknown zero offset

    def __post_init__(self) -> None:
        if not self.plate_hz > 0:
            raise ValueError(f"LoadCellModel.plate_hz must be > 0 Hz, got {self.plate_hz}")
        if self.samples_per_message < 1:
            raise ValueError("LoadCellModel.samples_per_message must be >= 1")
        for name in ("noise_g", "drift_g_per_sqrt_s", "resolution_g", "offset_g"):
            if getattr(self, name) < 0:
                raise ValueError(f"LoadCellModel.{name} must be >= 0, got {getattr(self, name)}")


class PlateSensors:
    """Every plate of a store. ``sample(loads_g)`` once per plate tick; returns a
    :class:`PlateSamples` message every ``samples_per_message`` ticks, else None.

    dead: (p,) bool plates that are broken: they keep reporting their first reading.
    """

    def __init__(self, n_plates: int, model: LoadCellModel | None = None,
                 rng: np.random.Generator | None = None, dead: np.ndarray | None = None) -> None:
        self.model = model or LoadCellModel()
        self.rng = rng if rng is not None else np.random.default_rng(0)
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

    def sample(self, t: float, loads_g: np.ndarray) -> PlateSamples | None:
        self._buf[:, self._i] = loads_g
        self._t[self._i] = t
        self._i += 1
        if self._i < self.model.samples_per_message:
            return None
        self._i = 0
        m = self.model
        k = m.samples_per_message
        dt = 1.0 / m.plate_hz
        steps = self.rng.normal(0.0, m.drift_g_per_sqrt_s * np.sqrt(dt), (self.n, k))
        drift = self._drift[:, None] + np.cumsum(steps, axis=1)
        self._drift = drift[:, -1]
        g = self._buf + self._offset[:, None] + drift + self.rng.normal(0.0, m.noise_g, (self.n, k))
        if m.resolution_g > 0:
            g = np.round(g / m.resolution_g) * m.resolution_g
        if self.dead.any():
            if self._frozen is None:
                self._frozen = g[:, :1].copy()
            g[self.dead] = self._frozen[self.dead]
        return PlateSamples(self._t.copy(), self.ids, g.astype(np.float32))


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
