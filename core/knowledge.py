"""Store knowledge a real deployment has, handed to the core once at start.

Planogram, catalogue, camera calibration, plate positions, door regions and sensor rates.
Not the simulator's state: no shopper, no item body, no ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Catalogue:
    """sku: (s,) str; name: (s,) str; price_cents: (s,) int64; mass_g: (s,) float64 [g];
    category: (s,) str the planogram's department of each sku ("bakery", "dairy"), or None
    when the store did not say (the journeys' zones, :mod:`core.journeys`)."""

    sku: np.ndarray
    name: np.ndarray
    price_cents: np.ndarray
    mass_g: np.ndarray
    category: np.ndarray | None = None

    def index(self) -> dict[str, int]:
        return {str(s): i for i, s in enumerate(self.sku)}


@dataclass(frozen=True)
class Plates:
    """The store's bins and the load-cell plates under them, one row per bin.

    plate: (b,) int32 the plate under each bin (ids repeat when several bins share a plate);
    sku_index: (b,) int32 row of the catalogue the planogram puts in the bin; center: (b, 3)
    float64 bin centre [m]; access_xy: (b, 2) float64 the floor point in the aisle in front
    of the bin where a shopper stands to reach it [m]; size: (b, 3) float64 the bin's extent
    along x, y, z [m] (from the planogram's shelf drawings), or None when unknown.
    """

    plate: np.ndarray
    sku_index: np.ndarray
    center: np.ndarray
    access_xy: np.ndarray
    size: np.ndarray | None = None


@dataclass(frozen=True)
class Cameras:
    """Calibrated cameras (pinhole, no distortion).

    camera: (c,) int32 ids; position: (c, 3) float64 [m]; rotation: (c, 3, 3) float64
    world-from-camera rotation (camera looks along its +z, x right, y down);
    intrinsics: (c, 4) float64 fx, fy, cx, cy [px]; resolution: (c, 2) int32 width, height.
    """

    camera: np.ndarray
    position: np.ndarray
    rotation: np.ndarray
    intrinsics: np.ndarray
    resolution: np.ndarray


@dataclass(frozen=True)
class StoreKnowledge:
    """bounds: (4,) xmin, ymin, xmax, ymax of the floor [m].

    entrance, exit: (4,) floor rectangles xmin, ymin, xmax, ymax [m] just inside the
    entrance gate and the exit, where tracks are born and leave.
    """

    name: str
    bounds: np.ndarray
    entrance: np.ndarray
    exit: np.ndarray
    catalogue: Catalogue
    plates: Plates
    cameras: Cameras
    camera_hz: float
    plate_hz: float
    plate_noise_g: float
