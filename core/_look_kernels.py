"""The tracks' looks in the compiled tracker (:mod:`core._track_kernels`; numba): the mean
appearance descriptor of each fused point, and how a matched track's running look follows
its point's. The array engine's counterparts are ``TrackArrays._fused_looks`` and
``TrackArrays._see_looks`` (``core/track_arrays.py``); both engines give the same looks.

Pinned dependencies: these kernels call :mod:`core._graph_kernels` (pair search, indices),
whose text ``_DEPENDS`` pins (see :mod:`core._track_kernels`, which pins this module in
turn; refresh: ``python -m tests.kernel_pins --update``).

Importing this module compiles nothing; the first call compiles (or loads numba's cache
next to this file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numba import njit

from core._graph_kernels import indices, pairs_within

# SHA-256 of the kernel modules whose code these kernels compile in (refresh: python -m
# tests.kernel_pins --update)
_DEPENDS = {
    "_graph_kernels.py": "84187033ad9ba899f99024bfd3d2479e351c9a6bfab1d36199ba9c92b7f5df82",
}


def _pins_hold(file: str, pins: dict[str, str]) -> bool:
    """Whether each module named in ``pins``, beside ``file``, still has its pinned SHA-256
    (of its bytes, CRLF read as LF); False when one cannot be read."""
    folder = Path(file).parent
    try:
        texts = {name: (folder / name).read_bytes() for name in pins}
    except OSError:
        return False
    return all(hashlib.sha256(texts[name].replace(b"\r\n", b"\n")).hexdigest() == digest
               for name, digest in pins.items())


CACHE = _pins_hold(__file__, _DEPENDS)  # numba may cache these kernels (the pins hold)


@njit(cache=CACHE)
def fused_looks(app, label, m, dim):
    """(m, dim) mean appearance of each fused point's raw detections (app (n, D), label
    (n,) the point of each); no columns when the frame has none or the table keeps none
    (``dim`` 0, or another width)."""
    if app.shape[1] == 0 or dim == 0 or app.shape[1] != dim:
        return np.zeros((m, 0))
    out = np.zeros((m, dim))
    cnt = np.zeros(m)
    for i in range(label.shape[0]):
        g = label[i]
        cnt[g] += 1.0
        for k in range(dim):
            out[g, k] += app[i, k]
    for g in range(m):
        if cnt[g] > 0:
            for k in range(dim):
                out[g, k] /= cnt[g]
    return out


@njit(cache=CACHE)
def see_looks(status, x, look, look_n, n, match_row, match_det, nm, fapp, radius, alpha,
              lost):
    """Each matched row's look (``look`` (cap, D), ``look_n`` (cap,) looks taken) moves
    towards its point's ``fapp[match_det]`` with weight ``alpha`` where the point is
    unambiguously its: no other live track (rows r < n of ``status`` != ``lost``, positions
    ``x[:, :2]``) within ``radius`` [m] of it. A row's first look is the point's."""
    if fapp.shape[1] == 0 or nm == 0:
        return
    pts = np.empty((nm, 2))
    for s in range(nm):
        pts[s, 0], pts[s, 1] = x[match_row[s], 0], x[match_row[s], 1]
    live = indices(status[:n] != lost)
    pos = np.empty((live.shape[0], 2))
    for k in range(live.shape[0]):
        pos[k, 0], pos[k, 1] = x[live[k], 0], x[live[k], 1]
    pi, pj, _ = pairs_within(pts, pos, radius)
    crowded = np.zeros(nm, np.bool_)
    for e in range(pi.shape[0]):
        if live[pj[e]] != match_row[pi[e]]:
            crowded[pi[e]] = True
    for s in range(nm):
        r, d = match_row[s], match_det[s]
        if look_n[r] == 0:
            for k in range(fapp.shape[1]):
                look[r, k] = fapp[d, k]
        elif not crowded[s]:
            for k in range(fapp.shape[1]):
                look[r, k] = (1.0 - alpha) * look[r, k] + alpha * fapp[d, k]
        else:
            continue
        look_n[r] += 1
