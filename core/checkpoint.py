"""A core's state as bytes and back: the checkpoint a restarted billing computer resumes
from (docs/faults.md, "Crash and restart").

:func:`checkpoint` pickles a started core whole (tracks, carts, ledgers, the shelf
detector's per-plate state, the intake's held messages); modules it holds (its array
backend, its compiled kernels' modules) are saved by name and imported again on
:func:`restore`, so a checkpoint taken on numpy restores on numpy. Same process or another,
the restored core continues exactly where the saved one was: fed the same messages, it
issues the same receipts.
"""

from __future__ import annotations

import importlib
import io
import pickle
from types import ModuleType


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, ModuleType):
            return importlib.import_module, (obj.__name__,)
        return NotImplemented


def checkpoint(core) -> bytes:
    """The whole state of ``core`` (any picklable core; modules by name)."""
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(core)
    return buf.getvalue()


def restore(state: bytes):
    """The core :func:`checkpoint` saved."""
    return pickle.loads(state)
