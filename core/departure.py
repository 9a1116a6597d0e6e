"""A shopper the tracker considers gone (:class:`Departure`), as both tracker engines
report it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Departure:
    """A shopper the tracker considers gone.

    track_id: the departed track. account: bound account, -1 if never bound.
    t: time the tracker declared the departure [s] (a frame time, or the flush time).
    certain: True when the track vanished at the exit; False when it was lost elsewhere and
    not re-identified within ``reid_window_s``.
    """

    track_id: int
    account: int
    t: float
    certain: bool
