"""The viewer's wire format: arrays as raw little-endian bytes, deflated (zlib) and base64'd
in a JSON object the page inflates with the browser's ``DecompressionStream("deflate")``
(no library); long lists of records the same way, as deflated JSON text. Positions and
frames go as differences from the row before (``delta``): walkers move by similar steps,
which deflate well. Same data, same bytes: zlib at a fixed level is deterministic.
"""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np

# dtype of each typed array the page builds (its constructor in static/viewer.js)
_DTYPES = {"f4": np.float32, "u2": np.uint16, "u4": np.uint32, "i4": np.int32,
           "u1": np.uint8}


def _z(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def blob(a: np.ndarray, dtype: str, delta: bool = False) -> dict:
    """``a`` as ``{"dtype", "shape", "z"[, "delta"]}``: ``z`` the base64 of the deflated
    bytes of ``a`` cast to ``dtype`` (one of f4, u2, u4, i4, u1); ``delta`` (integer dtypes):
    each element less the one before, wrapping around the dtype (the first as it is)."""
    dt = np.dtype(_DTYPES[dtype]).newbyteorder("<")
    arr = np.ascontiguousarray(np.asarray(a), dtype=dt)
    out = {"dtype": dtype, "shape": list(arr.shape)}
    if delta:
        flat = arr.reshape(-1)
        arr = np.concatenate([flat[:1], flat[1:] - flat[:-1]]).astype(dt)
        out["delta"] = True
    out["z"] = _z(arr.tobytes())
    return out


def records(rows: list) -> dict:
    """A list of JSON records, deflated: ``{"dtype": "json", "z"}``."""
    text = json.dumps(rows, separators=(",", ":"), allow_nan=False, sort_keys=True)
    return {"dtype": "json", "z": _z(text.encode())}


def unblob(b: dict):
    """The array (or records) of :func:`blob` / :func:`records` (tests read the page's data
    back with it)."""
    raw = zlib.decompress(base64.b64decode(b["z"]))
    if b["dtype"] == "json":
        return json.loads(raw)
    dt = np.dtype(_DTYPES[b["dtype"]]).newbyteorder("<")
    a = np.frombuffer(raw, dtype=dt)
    if b.get("delta"):
        a = np.cumsum(a, dtype=dt)
    return a.reshape(b["shape"])


def quantize(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Floats in [lo, hi] as uint16 (65,535 steps: 2 mm over a 130 m supercenter)."""
    span = max(hi - lo, 1e-9)
    return np.clip(np.round((np.asarray(v) - lo) / span * 65535.0), 0, 65535).astype(np.uint16)
