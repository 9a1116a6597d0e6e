"""Compiled load-cell model (numba, ``@njit(cache=True)``) of :class:`twin.sensors.PlateSensors`.

:func:`respond` advances every cell's response one sample and writes it into the message
buffer; :func:`finish` turns a full buffer and its random draws into the message's readings
(drift walk, offset, white noise, saturation, quantisation, dead plates). Both mirror the
array code they replaced operation by operation, element by element, so the readings are
the same bytes: same random stream (``normal(0, s)`` is ``0.0 + s * standard_normal`` in
numpy's generator), same operation order.

Importing this module compiles nothing; the first call compiles (or loads numba's cache next
to this file).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_NEG_ZERO_BITS = np.iinfo(np.int64).min


@njit(cache=True)
def respond(y: np.ndarray, v: np.ndarray, x: np.ndarray, yb: np.ndarray, vb: np.ndarray,
            xb: np.ndarray, buf: np.ndarray, col: int, ww: float, c2: float, h: float,
            sub: int) -> None:
    """Step each cell's second-order response ``sub`` semi-implicit Euler steps of ``h`` [s]
    towards its load ``x`` (p,) [g]: ``v += (ww * (x - y) - c2 * v) * h; y += v * h``, in
    place on ``y`` [g] and ``v`` [g/s]; then ``buf[:, col] = y``. ``yb``, ``vb``, ``xb``:
    int64 views of ``y``, ``v``, ``x``. A cell at rest (reading bit-equal to a finite load
    that is not -0, rate +0) stays exactly as it is, so it is not stepped."""
    for p in range(y.shape[0]):
        yp = y[p]
        if (yb[p] != xb[p] or vb[p] != 0 or yb[p] == _NEG_ZERO_BITS
                or not math.isfinite(yp)):
            vp = v[p]
            xp = x[p]
            for _ in range(sub):
                vp += (ww * (xp - yp) - c2 * vp) * h
                yp += vp * h
            y[p] = yp
            v[p] = vp
        buf[p, col] = yp


@njit(cache=True)
def finish(buf: np.ndarray, offset: np.ndarray, drift: np.ndarray, z: np.ndarray,
           drift_scale: float, noise_scale: float, cap: float, resolution: float,
           dead: np.ndarray, frozen: np.ndarray, freeze: bool, out: np.ndarray) -> None:
    """One message's readings into ``out`` (p, k) float32 [g].

    buf: (p, k) float64 responses [g]; offset: (p,) zero offsets [g]; drift: (p,) drift at
    the last message [g], updated in place; z: (2, p, k) standard normal draws, drift steps
    then white noise; cap: saturation [g]; resolution: quantisation step [g] (0: none);
    dead: (p,) bool plates that report ``frozen`` (p,) [g], which is set from this message's
    first readings when ``freeze``. As the array code: ``drift + cumsum(steps)``, then
    ``buf + offset + drift + noise``, ``minimum``, ``round(g / res) * res``."""
    n, k = buf.shape
    for p in range(n):
        d0 = drift[p]
        c = 0.0
        last = d0
        for j in range(k):
            step = 0.0 + drift_scale * z[0, p, j]
            c = step if j == 0 else c + step
            last = d0 + c
            g = buf[p, j] + offset[p] + last + (0.0 + noise_scale * z[1, p, j])
            if not g <= cap and not math.isnan(g):
                g = cap
            if resolution > 0:
                g = np.rint(g / resolution) * resolution
            if freeze and j == 0:
                frozen[p] = g
            if dead[p]:
                g = frozen[p]
            out[p, j] = g
        drift[p] = last


def warm_up() -> None:
    """Compile (or load from numba's cache) both kernels on a tiny input."""
    y = np.zeros(1)
    v = np.zeros(1)
    x = np.ones(1)
    buf = np.zeros((1, 2))
    respond(y, v, x, y.view(np.int64), v.view(np.int64), x.view(np.int64), buf, 0, 1.0, 1.0,
            0.01, 1)
    finish(buf, y, v, np.zeros((2, 1, 2)), 1.0, 1.0, 10.0, 0.5, np.zeros(1, np.bool_), x,
           True, np.zeros((1, 2), np.float32))
