"""Sensor records: the only data that crosses the wall into the core.

Every record is a frozen batch of arrays with a timestamp. The twin produces them, the
recorder writes them to Parquet with the same fields, and the core consumes them in time
order. Nothing here refers to simulator state or ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _restore(self, state: dict) -> None:
    """``__setstate__`` of the array records: a record unpickled (sent to a core in another
    process) is validated and read-only as one constructed here. Pickle hands its arrays back
    writable, and a compiled kernel typed on read-only arrays would compile again for them."""
    for name, value in state.items():
        object.__setattr__(self, name, value)
    self.__post_init__()


@dataclass(frozen=True)
class CameraFrame:
    """Floor-plane detections of people from all cameras at one camera tick.

    frame: camera tick index (int), shared by all cameras (synchronised shutters).
    t: capture time [s].
    camera: (n,) int32 id of the camera that made each detection.
    xy: (n, 2) float64 estimated foot point on the floor [m], store frame.
    conf: (n,) float32 detector confidence in [0, 1].
    hand_camera: (h,) int32 camera that saw each hand in a shelf bin, or held out away
    from the shelves (passing something to someone) (default none).
    hand_xyz: (h, 3) float64 estimated 3-D position of that hand [m], store frame. Hands
    carry no identity either: which person reached is the core's inference.
    appearance: (n, D) float32 an appearance descriptor of each detection (how the person
    looks to that camera; the twin's is ``twin.appearance``, D = 24), or (n, 0) where the
    source gives none (the default). A core may ignore it.
    hand_pass: (h, 4) float64 or None: for a hand held out between two people (a hand-over)
    that camera saw along with both of them, where it saw the giver and the receiver stand
    (giver x, y, receiver x, y) [m]; NaN rows for the other hands; None: not reported.
    """

    frame: int
    t: float
    camera: np.ndarray
    xy: np.ndarray
    conf: np.ndarray
    hand_camera: np.ndarray | None = None
    hand_xyz: np.ndarray | None = None
    appearance: np.ndarray | None = None
    hand_pass: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "camera", _ro(np.asarray(self.camera, dtype=np.int32)))
        object.__setattr__(self, "xy", _ro(np.asarray(self.xy, dtype=np.float64).reshape(-1, 2)))
        object.__setattr__(self, "conf", _ro(np.asarray(self.conf, dtype=np.float32)))
        n = self.camera.shape[0]
        if self.xy.shape[0] != n or self.conf.shape[0] != n:
            raise ValueError("CameraFrame: camera, xy and conf must have the same length")
        hc = np.zeros(0) if self.hand_camera is None else self.hand_camera
        hx = np.zeros((0, 3)) if self.hand_xyz is None else self.hand_xyz
        object.__setattr__(self, "hand_camera", _ro(np.asarray(hc, dtype=np.int32)))
        object.__setattr__(self, "hand_xyz",
                           _ro(np.asarray(hx, dtype=np.float64).reshape(-1, 3)))
        if self.hand_camera.shape[0] != self.hand_xyz.shape[0]:
            raise ValueError("CameraFrame: hand_camera and hand_xyz must have the same length")
        if self.hand_pass is not None:
            hp = np.asarray(self.hand_pass, dtype=np.float64)
            if hp.shape != (self.hand_xyz.shape[0], 4):
                raise ValueError(f"CameraFrame: hand_pass must have shape "
                                 f"({self.hand_xyz.shape[0]}, 4), one row per hand, got "
                                 f"{hp.shape}")
            object.__setattr__(self, "hand_pass", _ro(hp))
        # (a record pickled before the field existed has none: the class default, None)
        ap = np.zeros((n, 0)) if self.appearance is None else self.appearance
        ap = np.asarray(ap, dtype=np.float32)
        if ap.ndim != 2 or ap.shape[0] != n:
            raise ValueError(f"CameraFrame: appearance must have shape ({n}, D), one row per "
                             f"detection, got {ap.shape}")
        object.__setattr__(self, "appearance", _ro(ap))

    def __len__(self) -> int:
        return int(self.camera.shape[0])

    def select(self, det: np.ndarray, hand: np.ndarray) -> CameraFrame:
        """The frame with only the detections ``det`` and hands ``hand`` (bool masks)."""
        return CameraFrame(self.frame, self.t, self.camera[det], self.xy[det], self.conf[det],
                           self.hand_camera[hand], self.hand_xyz[hand], self.appearance[det],
                           None if self.hand_pass is None else self.hand_pass[hand])

    __setstate__ = _restore


@dataclass(frozen=True)
class PlateSamples:
    """One message from every shelf plate: ``k`` consecutive load-cell samples each.

    t: (k,) float64 sample times [s] (uniform at ``plate_hz``).
    plate: (p,) int32 plate ids.
    grams: (p, k) float32 readings [g], absolute, with noise, drift and quantisation.
    """

    t: np.ndarray
    plate: np.ndarray
    grams: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", _ro(np.asarray(self.t, dtype=np.float64)))
        object.__setattr__(self, "plate", _ro(np.asarray(self.plate, dtype=np.int32)))
        g = np.asarray(self.grams, dtype=np.float32)
        if g.ndim != 2 or g.shape != (self.plate.shape[0], self.t.shape[0]):
            raise ValueError("PlateSamples: grams must have shape (len(plate), len(t))")
        object.__setattr__(self, "grams", _ro(g))

    __setstate__ = _restore


@dataclass(frozen=True)
class GateCheckIns:
    """Accounts checked in at the entrance gate (app QR scan) during one tick.

    t: (n,) float64 scan times [s].
    gate: (n,) int32 gate id.
    account: (n,) int64 account id (what the app reports; a group shares one).
    """

    t: np.ndarray
    gate: np.ndarray
    account: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", _ro(np.asarray(self.t, dtype=np.float64)))
        object.__setattr__(self, "gate", _ro(np.asarray(self.gate, dtype=np.int32)))
        object.__setattr__(self, "account", _ro(np.asarray(self.account, dtype=np.int64)))

    def __len__(self) -> int:
        return int(self.t.shape[0])

    __setstate__ = _restore


@dataclass(frozen=True)
class SensorBatch:
    """Everything the store's sensors produced in one tick ending at ``t`` [s]."""

    t: float
    frames: tuple[CameraFrame, ...] = ()
    plates: tuple[PlateSamples, ...] = ()
    gate: tuple[GateCheckIns, ...] = ()


@dataclass(frozen=True)
class ProductLine:
    """One line of a receipt. doubt: why the core is unsure of it (empty: sure)."""

    sku: str
    quantity: int
    doubt: str = ""


NO_ACCOUNT = -1
"""The account of an alert (:class:`Receipt`): a shopper left with items the core could not
bind to any check-in (someone who walked in behind another, a lost gate message)."""


@dataclass(frozen=True)
class Receipt:
    """What the store charges one account.

    total: [cents]. confidence: [0, 1] belief that every line is right.
    review: True when a human should look before the charge goes out; reasons: why, one
    sentence each (e.g. "attribution: 2 tracks within reach, no hand seen"); a core may
    leave them empty.
    An ``account`` of :data:`NO_ACCOUNT` is an alert, not a bill: a shopper bound to no
    account left with these items at ``t_issued``; it always goes to review and nobody is
    charged.
    """

    account: int
    products: tuple[ProductLine, ...]
    total: int
    confidence: float
    review: bool
    t_issued: float = 0.0
    track_ids: tuple[int, ...] = field(default_factory=tuple)
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {
            "account": int(self.account),
            "products": [{"sku": p.sku, "quantity": int(p.quantity),
                          **({"doubt": p.doubt} if p.doubt else {})} for p in self.products],
            "total": int(self.total),
            "confidence": round(float(self.confidence), 6),
            "review": bool(self.review),
            "reasons": [str(r) for r in self.reasons],
        }


@dataclass(frozen=True)
class Tracks:
    """Confirmed track positions at one camera frame.

    track_id: (n,) int64; xy: (n, 2) float64 [m].
    """

    frame: int
    t: float
    track_id: np.ndarray
    xy: np.ndarray
