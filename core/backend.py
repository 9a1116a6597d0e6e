"""Array backend: numpy, or cupy where a GPU works. The only module that imports cupy.

``STORETWIN_BACKEND=numpy|cupy|auto`` (default ``auto``): ``auto`` tries a tiny cupy kernel
and falls back to numpy when cupy is missing or no driver answers (cupy imports fine on a
machine without a GPU and fails at first use).
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

import numpy as np

ALLOWED = ("numpy", "cupy", "auto")


class BackendError(ValueError):
    pass


@functools.cache
def _cupy_or_none() -> ModuleType | None:
    try:
        import cupy  # noqa: TID251 - the one allowed import

        x = cupy.arange(4, dtype=cupy.float32)
        float((x * 2).sum())  # first real use: raises without a driver
        return cupy
    except Exception:  # noqa: BLE001 - any failure means no usable GPU
        return None


def get_xp(name: str | None = None) -> ModuleType:
    """Return the array namespace to use: numpy or cupy."""
    name = (name or os.environ.get("STORETWIN_BACKEND", "auto")).lower()
    if name not in ALLOWED:
        raise BackendError(
            f"STORETWIN_BACKEND={name!r} is not allowed; use one of {', '.join(ALLOWED)}"
        )
    if name == "numpy":
        return np
    cp = _cupy_or_none()
    if cp is None:
        if name == "cupy":
            raise BackendError("STORETWIN_BACKEND=cupy but cupy has no working GPU here")
        return np
    return cp


def xp_of(a) -> ModuleType:
    """Array namespace of ``a``: cupy for a cupy array, numpy for anything else."""
    return get_xp("cupy") if type(a).__module__.split(".")[0] == "cupy" else np


def to_numpy(a) -> np.ndarray:
    """Copy an array of either backend to host numpy."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)
    return get() if get is not None else np.asarray(a)
