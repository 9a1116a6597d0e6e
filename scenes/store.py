"""A store: floor outline, walls, gates, fixtures, bins (one shelf plate each), catalogue and
planogram.

All geometry is in the store frame: x to the right along the front wall, y into the store,
z up, metres. Floors are polygons (``outline``, counter-clockwise); a rectangle's walls are
named ``front`` (y = ymin), ``right``, ``back`` and ``left``. Fixtures are axis-aligned boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenes.catalog import Catalogue

SQFT_PER_M2 = 10.763910416709722
FACES = ("-x", "+x", "-y", "+y")
FACE_NORMALS = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
FIXTURE_KINDS = ("gondola", "wall_shelf", "fridge", "end_cap", "table")


@dataclass(frozen=True)
class Fixture:
    """A floor-standing fixture as an axis-aligned box.

    lo, hi: (3,) box corners [m]; kind: one of :data:`FIXTURE_KINDS`; faces: the sides that
    carry shelves (``"-x"`` faces the -x direction, and so on); levels: shelf deck heights
    above the floor [m], bottom first.
    """

    name: str
    kind: str
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    faces: tuple[str, ...] = ()
    levels: tuple[float, ...] = ()
    bin_width: float = 0.0


@dataclass(frozen=True)
class Wall:
    """A wall segment from ``a`` to ``b`` [m]; ``perimeter`` walls are edges of the outline."""

    name: str
    a: tuple[float, float]
    b: tuple[float, float]
    thickness: float = 0.1
    perimeter: bool = True

    @property
    def length(self) -> float:
        return float(np.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1]))


@dataclass(frozen=True)
class Gate:
    """A door opening from ``a`` to ``b`` [m] in a perimeter wall.

    kind: ``entrance``, ``exit`` or ``both``; inward: unit floor vector into the store.
    """

    name: str
    kind: str
    wall: str
    a: tuple[float, float]
    b: tuple[float, float]
    inward: tuple[float, float]

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (np.asarray(self.a) + np.asarray(self.b))

    @property
    def width(self) -> float:
        return float(np.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1]))

    def inside(self, d: float) -> np.ndarray:
        """(2,) floor point ``d`` metres into the store from the gate's middle."""
        return self.mid + d * np.asarray(self.inward)

    def region(self, depth: float = 1.5) -> tuple[float, float, float, float]:
        """Axis-aligned floor rectangle (x0, y0, x1, y1) just inside the gate [m]."""
        a, b, n = np.asarray(self.a), np.asarray(self.b), np.asarray(self.inward)
        pts = np.stack([a, b, a + depth * n, b + depth * n])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def admits(self, role: str) -> bool:
        return self.kind in (role, "both")


@dataclass(frozen=True)
class Bins:
    """n shelf bins, each on its own load-cell plate, as columns.

    fixture: (n,) int32 index into ``Store.fixtures``; face: (n,) int8 index into
    :data:`FACES`; level: (n,) int32 shelf level (0 = bottom); slot: (n,) int32 position
    along the face (0 at the low-coordinate end); lo, hi: (n, 3) float64 the bin's volume
    above its plate [m] (``lo[:, 2]`` is the plate's top surface); normal: (n, 2) float64
    unit vector from the bin into the aisle; access_xy: (n, 2) float64 floor point in front of
    the bin where a shopper stands [m]; sku_index: (n,) int32 catalogue row the planogram puts
    here; facings: (n,) int32 units side by side along the face; rows: (n,) int32 units front
    to back ("deep"); count: (n,) int32 initial units on the plate (facings x rows);
    plate: (n,) int32 the load-cell plate under each bin (0 .. plates-1; one per bin unless
    a spec's ``shelves.bins_per_plate`` makes adjacent bins of a shelf share one).
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
    face: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    plate: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def __post_init__(self) -> None:
        n = self.fixture.shape[0]
        if self.face.shape[0] != n:   # hand-built bins: derive the face from the normal
            f = np.where(np.abs(self.normal[:, 0]) > 0.5,
                         np.where(self.normal[:, 0] < 0, 0, 1),
                         np.where(self.normal[:, 1] < 0, 2, 3)).astype(np.int8)
            object.__setattr__(self, "face", f)
        if self.slot.shape[0] != n:
            object.__setattr__(self, "slot", np.zeros(n, np.int32))
        if self.plate.shape[0] != n:   # one plate per bin
            object.__setattr__(self, "plate", np.arange(n, dtype=np.int32))

    def __len__(self) -> int:
        return int(self.fixture.shape[0])

    @property
    def n_plates(self) -> int:
        return int(self.plate.max()) + 1 if len(self) else 0

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


def polygon_area(outline: np.ndarray) -> float:
    """Signed area of a polygon (k, 2) [m2]: positive when counter-clockwise."""
    x, y = outline[:, 0], outline[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def points_in_polygon(xy: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """(m,) bool: which of the points (m, 2) lie inside the polygon (k, 2) (even-odd rule).

    One pass per edge, so memory stays O(m) for floors with many corners."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    px, py = xy[:, 0], xy[:, 1]
    inside = np.zeros(xy.shape[0], dtype=bool)
    k = outline.shape[0]
    for i in range(k):
        ax, ay = outline[i]
        bx, by = outline[(i + 1) % k]
        if ay == by:
            continue
        crosses = (ay > py) != (by > py)
        xint = ax + (py - ay) * ((bx - ax) / (by - ay))
        inside ^= crosses & (px < xint)
    return inside


def rectangle(width: float, depth: float) -> np.ndarray:
    """(4, 2) counter-clockwise outline of a width x depth rectangle at the origin [m]."""
    return np.array([[0.0, 0.0], [width, 0.0], [width, depth], [0.0, depth]])


def outline_walls(outline: np.ndarray, names: tuple[str, ...] | None = None,
                  thickness: float = 0.1) -> tuple[Wall, ...]:
    """The perimeter walls of an outline, edge i from vertex i to vertex i+1."""
    k = outline.shape[0]
    if names is None:
        names = tuple(f"wall-{i + 1}" for i in range(k))
    return tuple(Wall(names[i], (float(outline[i, 0]), float(outline[i, 1])),
                      (float(outline[(i + 1) % k, 0]), float(outline[(i + 1) % k, 1])),
                      thickness, True) for i in range(k))


RECT_WALL_NAMES = ("front", "right", "back", "left")


@dataclass(frozen=True)
class Store:
    """A whole store.

    outline: (k, 2) floor polygon, counter-clockwise [m]; walls: perimeter walls (edges of the
    outline) then interior partitions; gates: door openings in perimeter walls;
    ceiling_height [m]; aisle_width: the narrowest gap between facing fixtures [m].
    """

    name: str
    outline: np.ndarray
    ceiling_height: float
    walls: tuple[Wall, ...]
    gates: tuple[Gate, ...]
    fixtures: tuple[Fixture, ...]
    bins: Bins
    catalogue: Catalogue
    aisle_width: float
    plate_thickness: float = 0.02

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of the floor [m]."""
        lo, hi = self.outline.min(axis=0), self.outline.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    @property
    def area_m2(self) -> float:
        return abs(polygon_area(self.outline))

    @property
    def area_sqft(self) -> float:
        return self.area_m2 * SQFT_PER_M2

    def gate(self, role: str) -> Gate:
        """The first gate that admits ``role`` (``entrance`` or ``exit``)."""
        for g in self.gates:
            if g.admits(role):
                return g
        raise LookupError(f"store {self.name!r} has no {role} gate")

    @property
    def entrance(self) -> Gate:
        return self.gate("entrance")

    @property
    def exit(self) -> Gate:
        return self.gate("exit")

    @property
    def entrance_region(self) -> tuple[float, float, float, float]:
        return self.entrance.region()

    @property
    def exit_region(self) -> tuple[float, float, float, float]:
        return self.exit.region()

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """(m,) bool: floor points (m, 2) inside the outline."""
        return points_in_polygon(xy, self.outline)

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


def front_gates(width: float, entrance: tuple[float, float],
                exit_: tuple[float, float]) -> tuple[Gate, ...]:
    """An entrance and an exit in the front wall (y = 0), given their x ranges [m]."""
    return (Gate("entrance", "entrance", "front", (entrance[0], 0.0), (entrance[1], 0.0),
                 (0.0, 1.0)),
            Gate("exit", "exit", "front", (exit_[0], 0.0), (exit_[1], 0.0), (0.0, 1.0)))


def open_floor(fixtures: tuple[Fixture, ...], catalogue: Catalogue, width: float = 6.0,
               depth: float = 6.0, ceiling_height: float = 3.6, bins: Bins | None = None,
               name: str = "hand", entrance: tuple[float, float] = (0.5, 1.5),
               exit_: tuple[float, float] | None = None) -> Store:
    """A rectangle of floor [m] with the given fixtures (and bins, none by default), an
    entrance and an exit in the front wall: the hand-built world that behaviour tests step."""
    outline = rectangle(width, depth)
    return Store(
        name=name,
        outline=outline,
        ceiling_height=ceiling_height,
        walls=outline_walls(outline, RECT_WALL_NAMES),
        gates=front_gates(width, entrance, exit_ or (width - 1.5, width - 0.5)),
        fixtures=fixtures,
        bins=bins if bins is not None else Bins.empty(),
        catalogue=catalogue,
        aisle_width=1.6,
    )
