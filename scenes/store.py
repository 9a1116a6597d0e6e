"""A store: floor, doors, fixtures, bins (one shelf plate each), catalogue and planogram.

All geometry is in the store frame: x to the right along the front wall, y into the store,
z up, metres. The front wall is at ``y = bounds[1]``; the doors are in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenes.catalog import Catalogue


@dataclass(frozen=True)
class Fixture:
    """A floor-standing fixture (gondola, wall shelving) as an axis-aligned box.

    lo, hi: (3,) float64 box corners [m].
    """

    name: str
    kind: str
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]


@dataclass(frozen=True)
class Bins:
    """n shelf bins, each on its own load-cell plate, as columns.

    fixture: (n,) int32 index into ``Store.fixtures``; level: (n,) int32 shelf level (0 =
    bottom); lo, hi: (n, 3) float64 the bin's volume above its plate [m] (``lo[:, 2]`` is the
    plate's top surface); normal: (n, 2) float64 unit vector from the bin into the aisle;
    access_xy: (n, 2) float64 floor point in front of the bin where a shopper stands [m];
    sku_index: (n,) int32 catalogue row the planogram puts here; facings: (n,) int32 units
    side by side along the face; rows: (n,) int32 units front to back; count: (n,) int32
    initial units on the plate (facings x rows).
    """

    fixture: np.ndarray
    level: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    normal: np.ndarray
    access_xy: np.ndarray
    sku_index: np.ndarray
    facings: np.ndarray
    rows: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return int(self.fixture.shape[0])

    @classmethod
    def empty(cls) -> Bins:
        i = np.zeros(0, np.int32)
        e = np.zeros((0, 3))
        return cls(i, i.copy(), e, e.copy(), np.zeros((0, 2)), np.zeros((0, 2)), i.copy(),
                   i.copy(), i.copy(), i.copy())

    @property
    def center(self) -> np.ndarray:
        """(n, 3) float64 bin centre [m]."""
        return 0.5 * (self.lo + self.hi)


@dataclass(frozen=True)
class Store:
    """A whole store.

    bounds: (4,) xmin, ymin, xmax, ymax of the floor [m]. entrance_gate, exit_gate: (2,) x
    range of the door openings in the front wall [m]. entrance_region, exit_region: (4,)
    floor rectangles just inside each door [m]. wall_height, ceiling_height: [m].
    """

    name: str
    bounds: tuple[float, float, float, float]
    ceiling_height: float
    entrance_gate: tuple[float, float]
    exit_gate: tuple[float, float]
    entrance_region: tuple[float, float, float, float]
    exit_region: tuple[float, float, float, float]
    fixtures: tuple[Fixture, ...]
    bins: Bins
    catalogue: Catalogue
    aisle_width: float

    @property
    def area_m2(self) -> float:
        x0, y0, x1, y1 = self.bounds
        return (x1 - x0) * (y1 - y0)

    @property
    def area_sqft(self) -> float:
        return self.area_m2 / 0.09290304

    def fixture_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """(f, 3) lo and (f, 3) hi of every fixture [m]."""
        lo = np.array([f.lo for f in self.fixtures], dtype=np.float64).reshape(-1, 3)
        hi = np.array([f.hi for f in self.fixtures], dtype=np.float64).reshape(-1, 3)
        return lo, hi

    def units_total(self) -> int:
        return int(self.bins.count.sum())

    def summary(self) -> dict:
        return {
            "name": self.name,
            "area_m2": round(self.area_m2, 1),
            "area_sqft": round(self.area_sqft),
            "fixtures": len(self.fixtures),
            "bins": len(self.bins),
            "skus": len(self.catalogue),
            "skus_placed": int(np.unique(self.bins.sku_index).size),
            "units": self.units_total(),
        }


def open_floor(fixtures: tuple[Fixture, ...], catalogue: Catalogue, width: float = 6.0,
               depth: float = 6.0, ceiling_height: float = 3.6) -> Store:
    """A bare rectangle of floor [m] with the given fixtures and no bins, doors in the front
    wall: the hand-built world that behaviour tests step."""
    return Store(
        name="hand",
        bounds=(0.0, 0.0, width, depth),
        ceiling_height=ceiling_height,
        entrance_gate=(0.5, 1.5),
        exit_gate=(width - 1.5, width - 0.5),
        entrance_region=(0.5, 0.0, 1.5, 1.0),
        exit_region=(width - 1.5, 0.0, width - 0.5, 1.0),
        fixtures=fixtures,
        bins=Bins.empty(),
        catalogue=catalogue,
        aisle_width=1.6,
    )
