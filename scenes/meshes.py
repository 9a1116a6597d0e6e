"""Store meshes (trimesh): fixtures for ray casts, a whole coloured scene, and GLB export.

Every solid is built as closed prisms straight from numpy arrays: a box is 8 vertices and 12
outward-facing triangles of its own (vertices are never shared between boxes, so n boxes are n
watertight bodies), and no mesh is ever built one trimesh object per box.

Scene nodes (node name = geometry name):

- ``floor``: the outline polygon, a slab from z = -:data:`FLOOR_THICKNESS` to 0;
- ``walls/<wall name>``: the wall's boxes, from the floor to the ceiling, with a gap at every
  gate that lies on it; perimeter walls stand outside the floor polygon;
- ``<fixture name>``: one box per fixture, coloured by kind (:data:`KIND_COLORS`);
- ``plates``: one load-cell plate under every bin;
- ``products/<fixture name>``: one block per stocked bin (its facings x rows of units), coloured
  by SKU (:func:`sku_colors`); a fixture without stocked bins has no products node.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import trimesh

from scenes.catalog import Catalogue
from scenes.store import Store, Wall, points_in_polygon, polygon_area

FLOOR_THICKNESS = 0.02  # [m]

# RGBA, uint8. Shared with the floor plan (scenes/plan.py) so both views agree.
KIND_COLORS: dict[str, tuple[int, int, int, int]] = {
    "gondola": (150, 152, 160, 255),     # painted steel grey
    "wall_shelf": (118, 104, 92, 255),   # darker brown-grey
    "fridge": (196, 222, 245, 255),      # white, blue-ish glass
    "end_cap": (228, 160, 80, 255),      # promotional orange
    "table": (176, 132, 88, 255),        # wood
}
OTHER_KIND_COLOR = (128, 128, 128, 255)
FLOOR_COLOR = (232, 226, 210, 255)
WALL_COLOR = (214, 210, 200, 255)
PLATE_COLOR = (90, 92, 98, 255)
# products and plates stand this far proud of their fixture's face, clear of its ends [m]
# (so no face z-fights with the fixture's, which flickers with the draw order)
PROUD_M = 0.004

# Base hue (0..1) per catalogue category: products of one category share a hue family; brand
# and SKU shift it a little, so look-alikes are similar but distinguishable. Categories not
# listed get a hue from a hash of their name.
CATEGORY_HUES: dict[str, float] = {
    "pantry": 0.01,      # red
    "bakery": 0.07,      # brown-orange
    "snacks": 0.14,      # yellow
    "produce": 0.31,     # green
    "frozen": 0.48,      # cyan
    "dairy": 0.56,       # light blue
    "beverages": 0.65,   # blue
    "household": 0.76,   # violet
    "personal": 0.86,    # magenta
    "deli": 0.95,        # pink-red
}

_BOX_FACES = np.array(
    [[0, 2, 1], [0, 3, 2],                         # bottom, normal -z
     [4, 5, 6], [4, 6, 7],                         # top, normal +z
     [0, 1, 5], [0, 5, 4], [1, 2, 6], [1, 6, 5],   # sides, outward for a CCW base
     [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]],
    dtype=np.int64,
)


def _rgba(colors, n: int) -> np.ndarray:
    """(n, 4) uint8 from one colour (3|4,) or one per item (n, 3|4)."""
    c = np.asarray(colors, dtype=np.uint8)
    if c.ndim == 1:
        c = np.broadcast_to(c, (n, c.shape[0]))
    if c.shape[1] == 3:
        c = np.concatenate([c, np.full((c.shape[0], 1), 255, np.uint8)], axis=1)
    return c


def _prism_vertices(quads: np.ndarray, z0, z1) -> np.ndarray:
    """(n, 8, 3) corners of vertical prisms over quads (n, 4, 2): the base counter-clockwise
    at z0 (corners 0-3), the same corners at z1 (4-7)."""
    q = np.asarray(quads, dtype=np.float64).reshape(-1, 4, 2)
    n = q.shape[0]
    x, y = q[..., 0], q[..., 1]
    xn, yn = q[:, [1, 2, 3, 0], 0], q[:, [1, 2, 3, 0], 1]
    area2 = (x * yn - xn * y).sum(axis=1)
    q = np.where((area2 < 0)[:, None, None], q[:, ::-1], q)   # make every base CCW
    v = np.empty((n, 8, 3))
    v[:, :4, :2] = q
    v[:, 4:, :2] = q
    v[:, :4, 2] = np.broadcast_to(np.asarray(z0, dtype=np.float64), (n,))[:, None]
    v[:, 4:, 2] = np.broadcast_to(np.asarray(z1, dtype=np.float64), (n,))[:, None]
    return v


def _box_vertices(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(n, 8, 3) corners of axis-aligned boxes lo, hi (n, 3), in :func:`_prism_vertices`
    order."""
    lo = np.asarray(lo, dtype=np.float64).reshape(-1, 3)
    hi = np.asarray(hi, dtype=np.float64).reshape(-1, 3)
    if lo.shape != hi.shape:
        raise ValueError(f"boxes_mesh: lo {lo.shape} and hi {hi.shape} differ in shape")
    if np.any(hi < lo):
        raise ValueError("boxes_mesh: every hi must be >= lo")
    v = np.empty((lo.shape[0], 8, 3))
    v[:, [0, 3, 4, 7], 0] = lo[:, None, 0]
    v[:, [1, 2, 5, 6], 0] = hi[:, None, 0]
    v[:, [0, 1, 4, 5], 1] = lo[:, None, 1]
    v[:, [2, 3, 6, 7], 1] = hi[:, None, 1]
    v[:, :4, 2] = lo[:, None, 2]
    v[:, 4:, 2] = hi[:, None, 2]
    return v


def _prisms(v: np.ndarray, colors=None) -> trimesh.Trimesh:
    """One mesh of n prisms from their corners (n, 8, 3): 12 outward faces each."""
    n = v.shape[0]
    faces = (_BOX_FACES[None] + 8 * np.arange(n)[:, None, None]).reshape(-1, 3)
    vc = None if colors is None else np.repeat(_rgba(colors, n), 8, axis=0)
    return trimesh.Trimesh(vertices=v.reshape(-1, 3), faces=faces, vertex_colors=vc,
                           process=False)


def quads_mesh(quads: np.ndarray, z0: np.ndarray, z1: np.ndarray,
               colors=None) -> trimesh.Trimesh:
    """Closed vertical prisms over floor quadrilaterals, n*8 vertices and n*12 faces.

    quads: (n, 4, 2) float64 floor corners in order around each quad, either direction [m];
    z0, z1: (n,) or scalar float64 bottom and top [m]; colors: None, one RGB(A) uint8 colour
    (3|4,) or one per prism (n, 3|4), stored as vertex colours. Faces point outward.
    """
    return _prisms(_prism_vertices(quads, z0, z1), colors)


def boxes_mesh(lo: np.ndarray, hi: np.ndarray, colors=None) -> trimesh.Trimesh:
    """n axis-aligned boxes as one mesh: n*8 vertices, n*12 outward faces, n closed bodies.

    lo, hi: (n, 3) float64 box corners [m], hi >= lo; colors: see :func:`quads_mesh`.
    """
    return _prisms(_box_vertices(lo, hi), colors)


def simplify_polygon(polygon: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """(j, 2) the polygon (k, 2) without repeated and collinear vertices (j <= k)."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    while p.shape[0] > 3:
        prev, nxt = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
        a, b = p - prev, nxt - p
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        scale = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        # a repeated vertex, or a straight continuation (not a spike back along the edge)
        drop = (scale <= tol * tol) | ((np.abs(cross) <= tol * scale)
                                       & ((a * b).sum(axis=1) > 0))
        if not drop.any():
            break
        p = np.delete(p, int(np.flatnonzero(drop)[0]), axis=0)
    return p


def triangulate_polygon(polygon: np.ndarray) -> np.ndarray:
    """(k - 2, 3) int64 triangles (counter-clockwise, as vertex indices) covering a simple
    polygon (k, 2) [m] given in either direction, by ear clipping: O(k^2) numpy work, fine for
    outlines of a few thousand vertices."""
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    k = p.shape[0]
    if k < 3:
        return np.zeros((0, 3), np.int64)
    ring = np.arange(k) if polygon_area(p) >= 0 else np.arange(k)[::-1]
    eps = 1e-12 * float(np.ptp(p, axis=0).max() or 1.0) ** 2
    tris: list[tuple[int, int, int]] = []
    while ring.size > 3:
        q = p[ring]
        prev, nxt = np.roll(q, 1, axis=0), np.roll(q, -1, axis=0)
        e0, e1 = q - prev, nxt - q
        cross = e0[:, 0] * e1[:, 1] - e0[:, 1] * e1[:, 0]
        convex = cross > eps
        reflex = np.flatnonzero(~convex)
        m = ring.size
        ear = -1
        for j in np.flatnonzero(convex):
            others = reflex[(reflex != (j - 1) % m) & (reflex != (j + 1) % m)]
            if others.size == 0:
                ear = int(j)
                break
            r = q[others]
            a, b, c = prev[j], q[j], nxt[j]
            # r inside or on the triangle abc (CCW): on the left of (or on) all three edges
            s0 = (b[0] - a[0]) * (r[:, 1] - a[1]) - (b[1] - a[1]) * (r[:, 0] - a[0])
            s1 = (c[0] - b[0]) * (r[:, 1] - b[1]) - (c[1] - b[1]) * (r[:, 0] - b[0])
            s2 = (a[0] - c[0]) * (r[:, 1] - c[1]) - (a[1] - c[1]) * (r[:, 0] - c[0])
            if not np.any((s0 >= -eps) & (s1 >= -eps) & (s2 >= -eps)):
                ear = int(j)
                break
        if ear < 0:   # numerically degenerate outline: clip the most convex corner
            ear = int(np.argmax(cross))
        tris.append((int(ring[ear - 1]), int(ring[ear]), int(ring[(ear + 1) % m])))
        ring = np.delete(ring, ear)
    tris.append((int(ring[0]), int(ring[1]), int(ring[2])))
    return np.array(tris, dtype=np.int64)


def polygon_prism(polygon: np.ndarray, z0: float, z1: float, color=None) -> trimesh.Trimesh:
    """A closed vertical prism over a simple polygon (k, 2) [m] from z0 to z1 [m]: 2k vertices,
    2(k - 2) cap faces and 2k side faces, all outward. Repeated and collinear vertices are
    dropped first."""
    p = simplify_polygon(polygon)
    if polygon_area(p) < 0:
        p = p[::-1]
    k = p.shape[0]
    tris = triangulate_polygon(p)
    v = np.concatenate([np.column_stack([p, np.full(k, z0)]), np.column_stack([p, np.full(k, z1)])])
    i = np.arange(k)
    j = (i + 1) % k
    sides = np.concatenate([np.stack([i, j, j + k], axis=1), np.stack([i, j + k, i + k], axis=1)])
    faces = np.concatenate([tris[:, ::-1], tris + k, sides])
    vc = None if color is None else np.repeat(_rgba(color, 1), 2 * k, axis=0)
    return trimesh.Trimesh(vertices=v, faces=faces, vertex_colors=vc, process=False)


def _ccw_outline(store: Store) -> np.ndarray:
    o = np.asarray(store.outline, dtype=np.float64)
    return o if polygon_area(o) >= 0 else o[::-1]


def _end_extension(outline: np.ndarray, end: np.ndarray, t: float) -> float:
    """How far a perimeter wall of thickness t must run past its end [m] to close the outer
    corner there: t * tan(turn / 2) at a convex outline corner, 0 at a reflex one or mid-edge."""
    hit = np.flatnonzero(np.hypot(*(outline - end).T) < 1e-6)
    if hit.size == 0:
        return 0.0
    i = int(hit[0])
    d_in = outline[i] - outline[i - 1]
    d_out = outline[(i + 1) % len(outline)] - outline[i]
    d_in = d_in / (np.linalg.norm(d_in) or 1.0)
    d_out = d_out / (np.linalg.norm(d_out) or 1.0)
    cross = d_in[0] * d_out[1] - d_in[1] * d_out[0]
    if cross <= 1e-12:
        return 0.0
    turn = np.arctan2(cross, float(d_in @ d_out))
    return float(min(t * np.tan(turn / 2), 10 * t))   # cap very sharp corners


def wall_quads(store: Store) -> dict[str, np.ndarray]:
    """The floor footprint of every wall, gates cut out: wall name -> (m, 4, 2) float64 [m].

    A perimeter wall stands outside the floor (its inner face on the outline edge) and runs
    past convex corners far enough to close them; an interior wall is centred on its segment
    and runs thickness/2 past both ends. A gate cuts its opening out of every wall whose line
    it lies on (within the wall's thickness); one that reaches an end of its wall also cuts
    the wall's run past that end. Walls cut away entirely are left out.
    """
    outline = _ccw_outline(store)
    gates = [(np.asarray(g.a, np.float64), np.asarray(g.b, np.float64)) for g in store.gates]
    out: dict[str, np.ndarray] = {}
    for w in store.walls:
        pieces = _wall_pieces(outline, gates, w)
        if pieces.size:
            out[w.name] = pieces
    return out


def _wall_pieces(outline: np.ndarray, gates, w: Wall) -> np.ndarray:
    a, b = np.asarray(w.a, np.float64), np.asarray(w.b, np.float64)
    length = float(np.hypot(*(b - a)))
    if length <= 1e-9:
        return np.zeros((0, 4, 2))
    d = (b - a) / length
    n = np.array([d[1], -d[0]])   # right-hand normal
    t = float(w.thickness)
    if w.perimeter:
        mid = 0.5 * (a + b)
        if points_in_polygon((mid + 1e-4 * n)[None], outline)[0]:
            n = -n                 # the right-hand side is the floor: build on the left
        s0 = -_end_extension(outline, a, t)
        s1 = length + _end_extension(outline, b, t)
        off0, off1 = 0.0, t
    else:
        s0, s1 = -t / 2, length + t / 2
        off0, off1 = -t / 2, t / 2
    cuts = []
    for ga, gb in gates:
        rel = np.stack([ga - a, gb - a])
        dist = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0])
        if np.all(dist <= max(t, 1e-6)):
            ss = np.sort(rel @ d)
            if ss[1] > 0 and ss[0] < length:
                # a gate reaching an end of the wall takes the end's extension with it
                cuts.append((s0 if ss[0] <= 1e-9 else ss[0],
                             s1 if ss[1] >= length - 1e-9 else ss[1]))
    pieces = []
    lo = s0
    # walk the solid intervals [lo, next cut start], then jump to the cut's end
    for c0, c1 in sorted(cuts, key=lambda c: c[0]):
        if c0 - lo > 1e-9:
            pieces.append((lo, min(c0, s1)))
        lo = max(lo, c1)
    if s1 - lo > 1e-9:
        pieces.append((lo, s1))
    if not pieces:
        return np.zeros((0, 4, 2))
    s = np.array(pieces)
    p0 = a + s[:, :1] * d
    p1 = a + s[:, 1:] * d
    return np.stack([p0 + off0 * n, p1 + off0 * n, p1 + off1 * n, p0 + off1 * n], axis=1)


def _units(keys: np.ndarray, salt: bytes) -> np.ndarray:
    """(m, 3) float64 in [0, 1) from a stable hash of each key (not Python's salted ``hash``)."""
    keys = np.asarray(keys).astype(str)
    uniq, inv = np.unique(keys, return_inverse=True)
    raw = b"".join(hashlib.blake2b(salt + k.encode(), digest_size=6).digest() for k in uniq)
    u = np.frombuffer(raw, dtype=">u2").reshape(-1, 3).astype(np.float64) / 65536.0
    return u[inv.reshape(-1)]


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(m, 3) float64 RGB in [0, 1] from hue, saturation, value (m,) in [0, 1]."""
    h6 = (h % 1.0) * 6.0
    i = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = np.stack([np.stack(c, axis=1) for c in
                      ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))])
    return table[i, np.arange(h.shape[0])]


def sku_colors(catalogue: Catalogue) -> np.ndarray:
    """(s, 4) uint8 RGBA, one stable colour per SKU.

    The hue comes from the category (:data:`CATEGORY_HUES`), shifted by up to +-0.025 per brand
    and +-0.015 per SKU; saturation and value vary per SKU. Same inputs, same bytes.
    """
    s = len(catalogue)
    cats = np.asarray(catalogue.category).astype(str)
    base = _units(cats, b"category:")[:, 0]
    for name, hue in CATEGORY_HUES.items():
        base[cats == name] = hue
    brand = _units(catalogue.brand, b"brand:")
    u = _units(catalogue.sku, b"sku:")
    hue = base + 0.05 * (brand[:, 0] - 0.5) + 0.03 * (u[:, 0] - 0.5)
    rgb = _hsv_to_rgb(hue, 0.45 + 0.45 * u[:, 1], 0.55 + 0.4 * u[:, 2])
    out = np.full((s, 4), 255, np.uint8)
    out[:, :3] = np.round(255 * rgb)
    return out


def proud_boxes(lo: np.ndarray, hi: np.ndarray, normal: np.ndarray,
           d: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes lo, hi (n, 3) grown by ``d`` [m] towards the aisle along ``normal`` (n, 2) and
    narrowed by ``d / 2`` at both ends along the face, so none of their faces lies in the
    plane of their fixture's faces (or of the neighbouring bin's)."""
    lo, hi = lo.copy(), hi.copy()
    along = 1.0 - np.abs(normal)                  # the horizontal axis along the face
    lo[:, :2] += np.minimum(normal, 0.0) * d + along * d / 2
    hi[:, :2] += np.maximum(normal, 0.0) * d - along * d / 2
    hi[:, 2] -= d / 2
    return lo, np.maximum(hi, lo)


def product_boxes(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) lo and (n, 3) hi of the stocked volume of every bin [m].

    Facings x item width along the face (centred in the bin), rows x item depth from the aisle
    side of the bin inwards, item height up from the plate; clipped to the bin. Bins with no
    units get an empty (zero-size) box at the plate's aisle edge.
    """
    bins, cat = store.bins, store.catalogue
    lo, hi = bins.lo, bins.hi
    size = cat.size_m[bins.sku_index] if len(bins) else np.zeros((0, 3))
    stocked = (bins.facings > 0) & (bins.rows > 0)
    along_x = bins.face >= 2                      # faces -y/+y run along x
    ext = hi - lo
    along_ext = np.where(along_x, ext[:, 0], ext[:, 1])
    deep_ext = np.where(along_x, ext[:, 1], ext[:, 0])
    length = np.minimum(bins.facings * size[:, 0], along_ext) * stocked
    deep = np.minimum(bins.rows * size[:, 1], deep_ext) * stocked
    height = np.minimum(size[:, 2], ext[:, 2]) * stocked
    c = 0.5 * (lo + hi)
    along_c = np.where(along_x, c[:, 0], c[:, 1])
    a0, a1 = along_c - length / 2, along_c + length / 2
    neg = (bins.face % 2) == 0                    # "-x"/"-y": the aisle is at the low side
    lo_deep = np.where(along_x, lo[:, 1], lo[:, 0])
    hi_deep = np.where(along_x, hi[:, 1], hi[:, 0])
    d0 = np.where(neg, lo_deep, hi_deep - deep)
    d1 = d0 + deep
    plo = np.column_stack([np.where(along_x, a0, d0), np.where(along_x, d0, a0), lo[:, 2]])
    phi = np.column_stack([np.where(along_x, a1, d1), np.where(along_x, d1, a1),
                           lo[:, 2] + height])
    return plo, phi


def stock_boxes(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) lo and hi of every bin's stock as rendered: :func:`product_boxes` standing
    ``PROUD_M`` proud of the fixture's face (zero-size for a bin with no units)."""
    bins = store.bins
    plo, phi = product_boxes(store)
    if not len(bins):
        return plo, phi
    lo, hi = proud_boxes(plo, phi, bins.normal, PROUD_M)
    empty = ~((bins.facings > 0) & (bins.rows > 0))
    hi[empty] = lo[empty]
    return lo, hi


def fixture_colors(store: Store) -> np.ndarray:
    """(f, 4) uint8 RGBA fill colour of every fixture, by kind (:data:`KIND_COLORS`)."""
    return np.array([KIND_COLORS.get(f.kind, OTHER_KIND_COLOR) for f in store.fixtures],
                    dtype=np.uint8).reshape(-1, 4)


def fixture_mesh(store: Store) -> trimesh.Trimesh:
    """One merged mesh of every fixture body (solid boxes): what blocks a camera's view.

    12 faces per fixture, in fixture order; each fixture is its own closed body.
    """
    if not store.fixtures:
        return trimesh.Trimesh()
    lo, hi = store.fixture_boxes()
    return boxes_mesh(lo, hi)


def occluder_mesh(store: Store) -> trimesh.Trimesh:
    """What blocks a camera's view inside the store: every fixture body, then every interior
    wall (partition) from the floor to the ceiling. Perimeter walls are left out: cameras
    are inside them."""
    parts = []
    if store.fixtures:
        parts.append(fixture_mesh(store))
    quads = wall_quads(store)
    inner = [quads[w.name] for w in store.walls if not w.perimeter and w.name in quads
             and len(quads[w.name])]
    if inner:
        q = np.concatenate(inner)
        parts.append(quads_mesh(q, np.zeros(len(q)), np.full(len(q), store.ceiling_height)))
    if not parts:
        return trimesh.Trimesh()
    return parts[0] if len(parts) == 1 else trimesh.util.concatenate(parts)


def scene_mesh(store: Store, products: bool = True) -> trimesh.Scene:
    """The store as a trimesh Scene with named nodes (see the module docstring).

    products: add one coloured block per stocked bin, grouped per fixture.
    """
    sc = trimesh.Scene()
    names: set[str] = set()

    def add(name: str, mesh: trimesh.Trimesh) -> None:
        if name in names:
            raise ValueError(f"store {store.name!r}: two scene nodes named {name!r}")
        names.add(name)
        sc.add_geometry(mesh, node_name=name, geom_name=name)

    add("floor", polygon_prism(store.outline, -FLOOR_THICKNESS, 0.0, FLOOR_COLOR))
    for name, quads in wall_quads(store).items():
        add(f"walls/{name}", quads_mesh(quads, 0.0, store.ceiling_height, WALL_COLOR))
    if store.fixtures:
        fv = _box_vertices(*store.fixture_boxes())
        fc = fixture_colors(store)
        for i, f in enumerate(store.fixtures):
            add(f.name, _prisms(fv[i:i + 1], fc[i:i + 1]))
    bins = store.bins
    if len(bins):
        top = bins.lo.copy()
        bottom = bins.lo - [0.0, 0.0, store.plate_thickness]
        top[:, :2] = bins.hi[:, :2]
        add("plates", boxes_mesh(bottom, top, PLATE_COLOR))
    if products and len(bins):
        keep = np.flatnonzero((bins.facings > 0) & (bins.rows > 0))
        keep = keep[np.argsort(bins.fixture[keep], kind="stable")]
        plo, phi = product_boxes(store)
        pv = _box_vertices(plo[keep], phi[keep])
        pc = _rgba(sku_colors(store.catalogue)[bins.sku_index[keep]], len(keep))
        fx = bins.fixture[keep]
        cut = np.flatnonzero(fx[1:] != fx[:-1]) + 1
        for s0, s1 in zip(np.r_[0, cut], np.r_[cut, len(keep)], strict=True):
            if s1 > s0:
                add(f"products/{store.fixtures[int(fx[s0])].name}",
                    _prisms(pv[s0:s1], pc[s0:s1]))
    return sc


# glTF 2.0 is y-up (the spec's "Coordinate System and Units": +Y up, +Z forward, metres);
# the store frame is z-up. A scene goes out with its root turned: store (x, y, z) is glTF
# (x, z, -y), right-handed, so standard viewers show the store standing, not on its side.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0],
                         [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


# glTF materials by node name (prefix): what each part is made of, as metallic and roughness
# factors of glTF's PBR model; the base colour stays white so the vertex colours (COLOR_0,
# which glTF multiplies in) give each part its colour. Anything else is a fixture.
MATERIALS: tuple[tuple[str, float, float], ...] = (
    ("floor", 0.0, 0.95),        # vinyl tile, matte
    ("walls/", 0.0, 0.9),        # painted plaster
    ("plates", 0.6, 0.45),       # steel load-cell plates
    ("products/", 0.0, 0.55),    # printed cardboard and plastic
    ("people/", 0.0, 0.85),      # clothes
)
FIXTURE_MATERIAL = ("fixtures", 0.25, 0.6)   # painted steel and laminate


def _material_of(name: str) -> tuple[str, float, float]:
    return next((m for m in MATERIALS if name == m[0] or (m[0].endswith("/") and
                                                         name.startswith(m[0]))),
                FIXTURE_MATERIAL)


def _add_materials(tree: dict) -> None:
    """The glTF tree's meshes each get their material (:data:`MATERIALS`), by name."""
    mats: list[dict] = []
    index: dict[str, int] = {}
    for mesh in tree.get("meshes", []):
        name, metal, rough = _material_of(mesh.get("name", ""))
        if name not in index:
            index[name] = len(mats)
            mats.append({"name": name.rstrip("/"), "pbrMetallicRoughness": {
                "baseColorFactor": [1.0, 1.0, 1.0, 1.0], "metallicFactor": metal,
                "roughnessFactor": rough}})
        for prim in mesh.get("primitives", []):
            prim["material"] = index[name]
    if mats:
        tree["materials"] = mats


def glb_bytes(sc: trimesh.Scene) -> bytes:
    """A store-frame scene as binary glTF, y-up (:data:`Z_UP_TO_Y_UP` on its root; the
    meshes keep store coordinates under it), with flat normals (each triangle its own
    vertices: boxes look like boxes, not blobs) and a material per part
    (:data:`MATERIALS`)."""
    sc = sc.copy()
    for g in sc.geometry.values():
        g.unmerge_vertices()
    sc.apply_transform(Z_UP_TO_Y_UP)
    return trimesh.exchange.gltf.export_glb(sc, include_normals=True,
                                           tree_postprocessor=_add_materials)


def export_glb(store: Store, path: str | Path, products: bool = True) -> None:
    """Write the store scene (:func:`scene_mesh`) as one binary glTF file at ``path``, y-up
    as glTF specifies (:func:`glb_bytes`).

    Node names and vertex colours survive ``trimesh.load(path)``.
    """
    Path(path).write_bytes(glb_bytes(scene_mesh(store, products=products)))
