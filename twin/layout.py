"""Camera layouts as data: a :class:`CameraLayout` is columns of c cameras (name, pose,
intrinsics, resolution, rate, model, price); :meth:`CameraLayout.cameras` hands the
calibration part to the core as :class:`core.knowledge.Cameras`. The camera products a layout
names are :class:`CameraModel` (:data:`DEFAULT_MODELS` built in).

Layout files (``storetwin-layout/1`` TOML) are read and written by :mod:`twin.layout_toml`;
the generators that make layouts for a store (ceiling grid, aisle pairs, shelf facing, greedy
coverage) are :mod:`twin.placement`, which may look at coverage; this module does not. Poses
and intrinsics (the yaw, pitch, roll convention) are :mod:`twin.camgeom`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.knowledge import Cameras
from twin.camgeom import intrinsics_from_hfov, rotation_from_angles

MOUNT_BELOW_CEILING_M = 0.2     # default mounting height: this far under the ceiling [m]
MAX_HFOV_DEG = 170.0            # a pinhole cannot reach 180 deg [deg]


@dataclass(frozen=True)
class CameraModel:
    """A camera product: what ``model = "<name>"`` fills in.

    resolution: (width, height) [px]; hfov_deg: horizontal field of view of the pinhole
    stand-in [deg]; fps: frame rate [Hz]; cost_usd: list price per camera [USD].
    """

    name: str
    resolution: tuple[int, int]
    hfov_deg: float
    fps: float
    cost_usd: float
    description: str = ""


# Typical list prices of 2024 professional IP cameras: ASSUMPTIONS for planning, not quotes.
# The twin's cameras are distortion-free pinholes, so a wide lens is modelled by a pinhole of
# its horizontal field of view; a 180-deg fisheye is approximated by a 140-deg pinhole (its
# rim, where a real fisheye has few pixels per metre, is left out).
DEFAULT_MODELS: dict[str, CameraModel] = {
    "dome-4mp": CameraModel("dome-4mp", (2688, 1520), 100.0, 20.0, 400.0,
                            "4 MP ceiling dome, 2.8 mm lens (typical list price, assumption)"),
    "fisheye-12mp": CameraModel("fisheye-12mp", (2992, 2992), 140.0, 15.0, 800.0,
                                "12 MP ceiling fisheye as a 140-deg pinhole (typical list "
                                "price, assumption)"),
    "bullet-4mp": CameraModel("bullet-4mp", (2688, 1520), 60.0, 20.0, 350.0,
                              "4 MP mini bullet, 4 mm lens, for long views (typical list "
                              "price, assumption)"),
}
DEFAULT_MODEL = "dome-4mp"


# ---------------------------------------------------------------------------------------------
# the layout


@dataclass(frozen=True, eq=False)
class CameraLayout:
    """c cameras as columns.

    name: (c,) str unique; position: (c, 3) float64 [m]; rotation: (c, 3, 3) float64
    world-from-camera (camera looks along its +z, x right, y down); intrinsics: (c, 4) float64
    fx, fy, cx, cy [px]; resolution: (c, 2) int32 width, height [px]; fps: (c,) float64 [Hz];
    model: (c,) str product name ("" for none); cost_usd: (c,) float64 list price [USD];
    store: name of the store the layout was made for (informative).
    """

    name: np.ndarray
    position: np.ndarray
    rotation: np.ndarray
    intrinsics: np.ndarray
    resolution: np.ndarray
    fps: np.ndarray
    model: np.ndarray
    cost_usd: np.ndarray
    store: str = ""

    def __post_init__(self) -> None:
        cols = {
            "name": np.asarray(self.name, dtype=str).reshape(-1),
            "position": np.asarray(self.position, dtype=np.float64).reshape(-1, 3),
            "rotation": np.asarray(self.rotation, dtype=np.float64).reshape(-1, 3, 3),
            "intrinsics": np.asarray(self.intrinsics, dtype=np.float64).reshape(-1, 4),
            "resolution": np.asarray(self.resolution, dtype=np.int32).reshape(-1, 2),
            "fps": np.asarray(self.fps, dtype=np.float64).reshape(-1),
            "model": np.asarray(self.model, dtype=str).reshape(-1),
            "cost_usd": np.asarray(self.cost_usd, dtype=np.float64).reshape(-1),
        }
        n = cols["name"].shape[0]
        for k, v in cols.items():
            if v.shape[0] != n:
                raise ValueError(f"CameraLayout.{k} has {v.shape[0]} rows; name has {n}")
            object.__setattr__(self, k, v)

    def __len__(self) -> int:
        return int(self.name.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CameraLayout):
            return NotImplemented
        return self.store == other.store and all(
            np.array_equal(getattr(self, k), getattr(other, k))
            for k in ("name", "position", "rotation", "intrinsics", "resolution", "fps",
                      "model", "cost_usd"))

    __hash__ = None  # type: ignore[assignment]

    @property
    def total_cost(self) -> float:
        """Sum of the list prices [USD]."""
        return float(self.cost_usd.sum())

    def cameras(self) -> Cameras:
        """The calibration the core gets: ids 0 .. c-1 in layout order."""
        return Cameras(camera=np.arange(len(self), dtype=np.int32),
                       position=self.position.copy(), rotation=self.rotation.copy(),
                       intrinsics=self.intrinsics.copy(), resolution=self.resolution.copy())

    def take(self, index) -> CameraLayout:
        """The cameras at ``index`` (int array or bool mask), in that order."""
        i = np.asarray(index)
        return CameraLayout(self.name[i], self.position[i], self.rotation[i],
                            self.intrinsics[i], self.resolution[i], self.fps[i],
                            self.model[i], self.cost_usd[i], self.store)

    @classmethod
    def empty(cls, store: str = "") -> CameraLayout:
        return cls(np.zeros(0, str), np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros((0, 4)),
                   np.zeros((0, 2), np.int32), np.zeros(0), np.zeros(0, str), np.zeros(0),
                   store)

    @classmethod
    def concat(cls, layouts: list[CameraLayout], store: str | None = None) -> CameraLayout:
        """The cameras of all ``layouts`` in order (names must stay unique)."""
        if not layouts:
            return cls.empty(store or "")
        out = cls(*(np.concatenate([getattr(x, k) for x in layouts]) for k in (
            "name", "position", "rotation", "intrinsics", "resolution", "fps", "model",
            "cost_usd")), store=layouts[0].store if store is None else store)
        if np.unique(out.name).size != len(out):
            raise ValueError("CameraLayout.concat: camera names repeat")
        return out


def make_layout(store_name: str, names: list[str], positions, angles, model: CameraModel,
                hfov_deg: float | None = None) -> CameraLayout:
    """A layout of one model from names, positions (c, 3) [m] and angles (c, 3) yaw, pitch,
    roll [deg]; hfov_deg overrides the model's field of view [deg]."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    ang = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    n = pos.shape[0]
    rot = (np.stack([rotation_from_angles(*a) for a in ang]) if n else np.zeros((0, 3, 3)))
    intr = intrinsics_from_hfov(model.resolution, model.hfov_deg if hfov_deg is None
                                else hfov_deg)
    return CameraLayout(np.array(names, dtype=str).reshape(-1), pos, rot,
                        np.tile(intr, (n, 1)), np.tile(model.resolution, (n, 1)),
                        np.full(n, model.fps), np.full(n, model.name).astype(str),
                        np.full(n, model.cost_usd), store_name)
