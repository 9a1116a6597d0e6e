"""Store meshes: vectorized boxes, fixture boxes for ray casts, the whole coloured scene with
walls cut open at the gates, and GLB export."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scenes import load_preset
from scenes.catalog import load_catalogue
from scenes.meshes import (
    FLOOR_THICKNESS,
    KIND_COLORS,
    Z_UP_TO_Y_UP,
    boxes_mesh,
    export_glb,
    fixture_mesh,
    product_boxes,
    scene_mesh,
    sku_colors,
    triangulate_polygon,
    wall_quads,
)
from scenes.store import Bins, Fixture, Gate, Store, Wall, outline_walls, polygon_area

# An L-shaped floor with a chamfered back-left corner (edge wall-7 runs at 45 degrees);
# the notch is x in (6, 10), y in (4, 8). outline_walls names edge i "wall-{i + 1}".
L_OUTLINE = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 4.0], [6.0, 4.0], [6.0, 8.0],
                      [1.0, 8.0], [0.0, 7.0]])
DIAG = np.array([-1.0, -1.0]) / np.sqrt(2.0)    # along wall-6, from (1, 8) to (0, 7)


def l_store() -> Store:
    cat = load_catalogue()
    first = {c: int(np.flatnonzero(cat.category == c)[0]) for c in np.unique(cat.category)}
    walls = outline_walls(L_OUTLINE) + (Wall("partition", (0.0, 5.5), (3.0, 5.5), 0.1, False),)
    gates = (
        Gate("entrance", "entrance", "wall-1", (2.0, 0.0), (3.5, 0.0), (0.0, 1.0)),
        Gate("exit", "exit", "wall-2", (10.0, 1.0), (10.0, 2.5), (-1.0, 0.0)),
        Gate("side", "both", "wall-6", tuple(np.array([1.0, 8.0]) + 0.35 * DIAG),
             tuple(np.array([1.0, 8.0]) + 1.05 * DIAG), (0.70710678, -0.70710678)),
        Gate("office", "both", "partition", (1.0, 5.5), (2.0, 5.5), (0.0, -1.0)),
    )
    fixtures = (
        Fixture("gondola-a", "gondola", (2.0, 1.5, 0.0), (2.9, 3.0, 1.8), ("-x", "+x"),
                (0.1, 0.48), 0.75),
        Fixture("fridge-a", "fridge", (7.0, 2.5, 0.0), (8.5, 3.2, 2.0), ("-y",), (0.1,), 0.75),
    )
    lo = np.array([[2.0, 1.5, 0.12], [2.0, 2.25, 0.12], [2.0, 1.5, 0.5], [2.45, 1.5, 0.12],
                   [7.0, 2.5, 0.12], [7.75, 2.5, 0.12]])
    hi = np.array([[2.45, 2.25, 0.46], [2.45, 3.0, 0.46], [2.45, 2.25, 0.84], [2.9, 2.25, 0.46],
                   [7.75, 3.2, 0.5], [8.5, 3.2, 0.5]])
    normal = np.array([[-1.0, 0.0], [-1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0],
                       [0.0, -1.0]])
    sku = np.array([first["bakery"], first["produce"], first["pantry"], first["snacks"],
                    first["dairy"], first["beverages"]], dtype=np.int32)
    facings = np.array([1, 2, 2, 3, 4, 4], dtype=np.int32)
    rows = np.array([4, 3, 2, 1, 2, 4], dtype=np.int32)
    bins = Bins(fixture=np.array([0, 0, 0, 0, 1, 1], np.int32),
                level=np.array([0, 0, 1, 0, 0, 0], np.int32), lo=lo, hi=hi, normal=normal,
                access_xy=lo[:, :2] + 0.45 * normal, sku_index=sku, facings=facings, rows=rows,
                count=facings * rows)
    return Store("l-shape", L_OUTLINE, 3.0, walls, gates, fixtures, bins, cat, 1.6)


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def scene(kiosk):
    return scene_mesh(kiosk)


@pytest.fixture(scope="module")
def lshape():
    return l_store()


@pytest.fixture(scope="module")
def lscene(lshape):
    return scene_mesh(lshape)


def node_mesh(sc: trimesh.Scene, node: str) -> trimesh.Trimesh:
    _transform, geom = sc.graph[node]
    return sc.geometry[geom]


def walls_of(sc: trimesh.Scene) -> trimesh.Trimesh:
    return trimesh.util.concatenate(
        [node_mesh(sc, n) for n in sc.graph.nodes_geometry if n.startswith("walls/")])


def covered(mesh: trimesh.Trimesh, xy: np.ndarray, z: float = 10.0) -> np.ndarray:
    """(m,) bool: a ray straight down from (x, y, z) hits the mesh."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    origins = np.column_stack([xy, np.full(len(xy), z)])
    down = np.tile([0.0, 0.0, -1.0], (len(xy), 1))
    return mesh.ray.intersects_any(origins, down)


def cross2(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def body_volumes(m: trimesh.Trimesh) -> np.ndarray:
    return np.array([b.volume for b in m.split(only_watertight=False)])


# --- boxes and polygons -------------------------------------------------------------------


def test_boxes_mesh_is_one_closed_outward_body_per_box() -> None:
    rng = np.random.default_rng(3)
    lo = rng.uniform(-5, 5, (40, 3))
    hi = lo + rng.uniform(0.05, 2.0, (40, 3))
    # two boxes that touch face to face stay separate bodies
    lo = np.vstack([lo, [[20.0, 0.0, 0.0], [21.0, 0.0, 0.0]]])
    hi = np.vstack([hi, [[21.0, 1.0, 1.0], [22.0, 1.0, 1.0]]])
    m = boxes_mesh(lo, hi)
    assert len(m.vertices) == 8 * len(lo) and len(m.faces) == 12 * len(lo)
    assert m.is_watertight
    assert m.volume == pytest.approx(np.prod(hi - lo, axis=1).sum(), rel=1e-9)
    vols = body_volumes(m)
    assert len(vols) == len(lo)
    assert np.all(vols > 0)          # outward normals: every body has positive volume
    assert np.allclose(np.sort(vols), np.sort(np.prod(hi - lo, axis=1)))
    assert np.allclose(m.bounds, [lo.min(axis=0), hi.max(axis=0)])


def test_boxes_mesh_colours_every_vertex_of_a_box_alike() -> None:
    lo = np.zeros((3, 3)) + np.arange(3)[:, None] * 2
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    m = boxes_mesh(lo, lo + 1, colors)
    vc = m.visual.vertex_colors.reshape(3, 8, 4)
    assert np.all(vc[..., :3] == colors[:, None, :]) and np.all(vc[..., 3] == 255)


def test_boxes_mesh_rejects_inverted_boxes() -> None:
    with pytest.raises(ValueError, match="hi must be >= lo"):
        boxes_mesh([[0.0, 0.0, 0.0]], [[1.0, -1.0, 1.0]])


@pytest.mark.parametrize("reverse", [False, True])
def test_triangulation_covers_the_polygon_exactly(reverse: bool) -> None:
    # the L outline and a 60-vertex star (a very non-convex simple polygon)
    ang = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    r = np.where(np.arange(60) % 2 == 0, 10.0, 3.0)
    star = np.column_stack([r * np.cos(ang), r * np.sin(ang)])
    for poly in (L_OUTLINE, star):
        p = poly[::-1] if reverse else poly
        tris = triangulate_polygon(p)
        assert tris.shape == (len(p) - 2, 3)
        a, b, c = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
        area = 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                      - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))
        assert np.all(area > 0)                       # counter-clockwise, none degenerate
        assert area.sum() == pytest.approx(abs(polygon_area(p)), rel=1e-12)


# --- fixtures for ray casts ---------------------------------------------------------------


def test_fixture_mesh_is_the_union_of_closed_boxes(kiosk) -> None:
    m = fixture_mesh(kiosk)
    lo, hi = kiosk.fixture_boxes()
    assert m.is_watertight
    assert len(m.faces) == 12 * len(kiosk.fixtures)
    assert m.volume == pytest.approx(np.prod(hi - lo, axis=1).sum(), rel=1e-9)
    assert np.allclose(m.bounds, [lo.min(axis=0), hi.max(axis=0)])
    assert len(m.split(only_watertight=True)) == len(kiosk.fixtures)


# --- the kiosk scene ----------------------------------------------------------------------


def test_scene_has_floor_walls_fixtures_plates_and_products(kiosk, scene) -> None:
    nodes = set(scene.graph.nodes_geometry)
    assert {"floor", "plates"} <= nodes
    assert {f"walls/{n}" for n in ("front", "right", "back", "left")} <= nodes
    assert {f.name for f in kiosk.fixtures} <= nodes
    assert {f"products/{f.name}" for f in kiosk.fixtures} <= nodes
    for f in kiosk.fixtures:
        g = node_mesh(scene, f.name)
        assert g.is_watertight and len(g.faces) == 12
        assert np.allclose(g.bounds, [f.lo, f.hi])
        assert np.all(g.visual.vertex_colors == KIND_COLORS[f.kind])
    floor = node_mesh(scene, "floor")
    x0, y0, x1, y1 = kiosk.bounds
    assert np.allclose(floor.bounds, [[x0, y0, -FLOOR_THICKNESS], [x1, y1, 0.0]])
    plates = node_mesh(scene, "plates")
    assert len(plates.faces) == 12 * len(kiosk.bins)
    assert plates.bounds[0, 2] == pytest.approx(
        kiosk.bins.lo[:, 2].min() - kiosk.plate_thickness)
    assert plates.bounds[1, 2] == pytest.approx(kiosk.bins.lo[:, 2].max())


def test_scene_without_products_has_no_product_nodes(kiosk) -> None:
    sc = scene_mesh(kiosk, products=False)
    assert not [n for n in sc.graph.nodes_geometry if n.startswith("products/")]
    assert "plates" in sc.graph.nodes_geometry


def test_every_scene_geometry_is_made_of_closed_convex_bodies(scene) -> None:
    for name, g in scene.geometry.items():
        assert g.is_watertight, name
        bodies = g.split(only_watertight=True)
        assert sum(len(b.faces) for b in bodies) == len(g.faces), name
        for b in bodies:
            assert b.volume > 0, name
            assert b.volume == pytest.approx(b.convex_hull.volume, rel=1e-6), name


def test_front_wall_leaves_the_doors_open(kiosk, scene) -> None:
    x0, y0, x1, y1 = kiosk.bounds
    front = node_mesh(scene, "walls/front")
    boxes = front.split(only_watertight=True)
    assert len(boxes) == len(kiosk.gates) + 1
    for b in boxes:
        assert b.bounds[1, 2] == pytest.approx(kiosk.ceiling_height)
        assert b.bounds[1, 1] == pytest.approx(y0)            # stands outside the floor
    for g in kiosk.gates:
        mid = np.linspace(g.a[0] + 1e-6, g.b[0] - 1e-6, 50)
        for b in boxes:
            assert not np.any((mid > b.bounds[0, 0] + 1e-9) & (mid < b.bounds[1, 0] - 1e-9))
    # the rest of the front wall is closed: covered length = width + 2 t - doors
    length = sum(b.bounds[1, 0] - b.bounds[0, 0] for b in boxes)
    doors = sum(g.width for g in kiosk.gates)
    assert length == pytest.approx((x1 - x0) + 0.2 - doors)


def test_products_sit_on_their_plates_at_the_aisle_side(kiosk) -> None:
    b, cat = kiosk.bins, kiosk.catalogue
    plo, phi = product_boxes(kiosk)
    assert np.all(plo >= b.lo - 1e-9) and np.all(phi <= b.hi + 1e-9)
    assert np.allclose(plo[:, 2], b.lo[:, 2])
    size = cat.size_m[b.sku_index]
    ext = phi - plo
    along = np.where(b.face >= 2, ext[:, 0], ext[:, 1])
    deep = np.where(b.face >= 2, ext[:, 1], ext[:, 0])
    assert np.allclose(along, b.facings * size[:, 0])      # the kiosk's stock fits its bins
    assert np.allclose(deep, b.rows * size[:, 1])
    assert np.allclose(ext[:, 2], size[:, 2])
    aisle_edge = np.select([b.face == 0, b.face == 1, b.face == 2, b.face == 3],
                           [plo[:, 0] - b.lo[:, 0], b.hi[:, 0] - phi[:, 0],
                            plo[:, 1] - b.lo[:, 1], b.hi[:, 1] - phi[:, 1]])
    assert np.allclose(aisle_edge, 0.0)


def test_product_nodes_group_the_bins_of_each_fixture(kiosk, scene) -> None:
    plo, phi = product_boxes(kiosk)
    for i, f in enumerate(kiosk.fixtures):
        g = node_mesh(scene, f"products/{f.name}")
        mine = kiosk.bins.fixture == i
        assert len(g.faces) == 12 * mine.sum()
        assert np.allclose(g.bounds, [plo[mine].min(axis=0), phi[mine].max(axis=0)])


def test_sku_colours_are_stable_distinct_and_grouped_by_category() -> None:
    cat = load_catalogue()
    c = sku_colors(cat)
    assert c.shape == (len(cat), 4) and c.dtype == np.uint8
    assert np.array_equal(c, sku_colors(cat))
    assert len(np.unique(c, axis=0)) == len(cat)          # every SKU its own colour
    rgb = c[:, :3].astype(float)
    d = np.linalg.norm(rgb[:, None] - rgb[None], axis=2)
    same = cat.category[:, None] == cat.category[None]
    off_diag = ~np.eye(len(cat), dtype=bool)
    assert d[same & off_diag].mean() < 0.6 * d[~same].mean()


# --- the L-shaped store -------------------------------------------------------------------


def test_l_floor_is_the_outline_polygon(lshape, lscene) -> None:
    floor = node_mesh(lscene, "floor")
    assert floor.is_watertight
    up = floor.face_normals[:, 2] > 0.5
    assert floor.area_faces[up].sum() == pytest.approx(lshape.area_m2, rel=1e-12)
    assert lshape.area_m2 == pytest.approx(63.5)
    assert floor.volume == pytest.approx(63.5 * FLOOR_THICKNESS, rel=1e-9)
    x0, y0, x1, y1 = lshape.bounds
    assert np.allclose(floor.bounds[:, :2], [[x0, y0], [x1, y1]])
    # the notch is not floor
    assert not covered(floor, [[8.0, 6.0]])[0]
    assert covered(floor, [[4.0, 6.0], [8.0, 2.0], [0.3, 6.8]]).all()


def test_l_walls_run_along_every_edge_open_at_the_gates(lshape, lscene) -> None:
    walls = walls_of(lscene)
    assert {f"walls/{w.name}" for w in lshape.walls} <= set(lscene.graph.nodes_geometry)
    k = len(L_OUTLINE)
    for i in range(k):
        a, b = L_OUTLINE[i], L_OUTLINE[(i + 1) % k]
        d = (b - a) / np.linalg.norm(b - a)
        out = np.array([d[1], -d[0]])                 # outward for a CCW outline
        s = np.linspace(0.02, 0.98, 97)[:, None]
        on_edge = a + s * (b - a)
        along = (on_edge - a) @ d
        gap = np.zeros(len(s), dtype=bool)
        door_edge = np.zeros(len(s), dtype=bool)          # rays grazing a door jamb
        for g in lshape.gates:
            ga, gb = np.asarray(g.a), np.asarray(g.b)
            if abs(cross2(d, ga - a)) < 1e-9 and abs(cross2(d, gb - a)) < 1e-9:
                t0, t1 = sorted([(ga - a) @ d, (gb - a) @ d])
                gap |= (along > t0) & (along < t1)
                door_edge |= (np.abs(along - t0) < 1e-3) | (np.abs(along - t1) < 1e-3)
        assert gap.any() == (i in (0, 1, 5))              # wall-1, wall-2, wall-6 have gates
        hit = covered(walls, on_edge + 0.05 * out)       # inside the 0.1 m wall
        assert np.array_equal(hit[~door_edge], ~gap[~door_edge]), f"edge {i}"
        inside = on_edge - 0.03 * out
        off_partition = np.abs(inside[:, 1] - 5.5) > 0.06
        assert not covered(walls, inside[off_partition]).any(), f"edge {i} intrudes"
    assert covered(walls, [[1.0, -0.05], [8.0, -0.05]]).all()
    assert not covered(walls, [[2.75, -0.05], [10.05, 1.75]]).any()   # entrance, exit
    # every corner is closed from outside: convex ones by the extension, reflex by overlap
    corners = np.array([[10.05, -0.05], [-0.05, -0.05], [10.05, 4.05], [6.05, 4.05],
                        [-0.07, 7.0], [1.0, 8.07]])
    assert covered(walls, corners).all()


def test_l_interior_wall_is_a_box_with_its_door(lshape, lscene) -> None:
    part = node_mesh(lscene, "walls/partition")
    boxes = part.split(only_watertight=True)
    assert len(boxes) == 2
    x = np.linspace(0.01, 2.99, 300)
    hit = covered(part, np.column_stack([x, np.full_like(x, 5.5)]))
    assert np.array_equal(hit, (x < 1.0) | (x > 2.0))
    assert np.allclose([b.bounds[1, 2] for b in boxes], lshape.ceiling_height)
    assert part.bounds[0, 1] == pytest.approx(5.45) and part.bounds[1, 1] == pytest.approx(5.55)


def test_wall_quads_leave_out_a_wall_that_is_all_door(lshape) -> None:
    from dataclasses import replace

    door = Gate("wide", "both", "partition", (0.0, 5.5), (3.0, 5.5), (0.0, 1.0))
    s = replace(lshape, walls=lshape.walls, gates=lshape.gates + (door,))
    assert "partition" not in wall_quads(s)


def test_duplicate_node_names_are_refused(lshape) -> None:
    from dataclasses import replace

    f = lshape.fixtures[0]
    s = replace(lshape, fixtures=(f, replace(f, name="floor")), bins=Bins.empty())
    with pytest.raises(ValueError, match="floor"):
        scene_mesh(s)


# --- GLB ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["kiosk", "lshape"])
def test_glb_round_trip_keeps_names_bounds_and_colours(which, request, tmp_path) -> None:
    store = request.getfixturevalue(which)
    sc = scene_mesh(store)
    path = tmp_path / f"{which}.glb"
    export_glb(store, path)
    assert path.read_bytes()[:4] == b"glTF"
    yup = trimesh.load(path)
    assert isinstance(yup, trimesh.Scene)
    # y-up as glTF specifies: the floor at y = 0, the ceiling above it; back to z-up
    assert np.allclose(yup.bounds[:, 1], [-FLOOR_THICKNESS, store.ceiling_height], atol=1e-5)
    back = yup.copy()
    back.apply_transform(np.linalg.inv(Z_UP_TO_Y_UP))
    nodes = set(back.graph.nodes_geometry)
    assert nodes == set(sc.graph.nodes_geometry)
    _normals_and_materials(path, store)
    assert {"floor", "plates"} | {f.name for f in store.fixtures} <= nodes
    assert {f"walls/{w.name}" for w in store.walls} <= nodes
    assert np.allclose(back.bounds, sc.bounds, atol=1e-5)
    t = max(w.thickness for w in store.walls)
    x0, y0, x1, y1 = store.bounds
    assert np.allclose(back.bounds[:, 2], [-FLOOR_THICKNESS, store.ceiling_height], atol=1e-5)
    assert np.all(back.bounds[0, :2] >= np.array([x0, y0]) - 10 * t)
    assert np.all(back.bounds[1, :2] <= np.array([x1, y1]) + 10 * t)
    floor = node_mesh(back, "floor")
    assert np.allclose(floor.bounds[:, :2], [[x0, y0], [x1, y1]], atol=1e-5)
    assert sum(len(g.faces) for g in back.geometry.values()) == sum(
        len(g.faces) for g in sc.geometry.values())
    # product colours: exactly the SKU colours of the stocked bins, per fixture
    colors = sku_colors(store.catalogue)
    for i, f in enumerate(store.fixtures):
        assert len(node_mesh(back, f"products/{f.name}").faces)
        got = {tuple(c) for c in gltf_colors(yup, f"products/{f.name}")}
        want = {tuple(c) for c in colors[store.bins.sku_index[store.bins.fixture == i]]}
        assert got == want, f.name
        fx = node_mesh(back, f.name)
        assert np.all(gltf_colors(yup, f.name) == KIND_COLORS[f.kind])
        assert len(fx.faces)
    cats = {str(store.catalogue.category[s]) for s in np.unique(store.bins.sku_index)}
    assert len(cats) >= 5


def gltf_colors(sc: trimesh.Scene, node: str) -> np.ndarray:
    """The COLOR_0 of a node of a loaded glTF scene (trimesh keeps it beside the material as
    a vertex attribute, on the geometry as loaded)."""
    g = sc.geometry[sc.graph[node][1]]
    if g.visual.kind == "vertex":
        return g.visual.vertex_colors
    return np.asarray(g.visual.vertex_attributes["color"])


def _normals_and_materials(path, store) -> None:
    """Flat normals, outward, and a material per part: what any glTF viewer shades with."""
    import json
    import struct
    raw = path.read_bytes()
    n = struct.unpack("<I", raw[12:16])[0]
    tree = json.loads(raw[20:20 + n])
    names = {m["name"] for m in tree["materials"]}
    assert {"floor", "walls", "fixtures", "plates", "products"} <= names
    by_mesh = {m["name"]: tree["materials"][m["primitives"][0]["material"]]["name"]
               for m in tree["meshes"]}
    assert by_mesh["floor"] == "floor" and by_mesh["plates"] == "plates"
    assert by_mesh[store.fixtures[0].name] == "fixtures"
    assert by_mesh[f"products/{store.fixtures[0].name}"] == "products"
    rough = {m["name"]: m["pbrMetallicRoughness"]["roughnessFactor"] for m in tree["materials"]}
    assert rough["floor"] != rough["plates"]       # the floor and the steel differ
    for prim in (p for m in tree["meshes"] for p in m["primitives"]):
        assert {"POSITION", "NORMAL", "COLOR_0"} <= set(prim["attributes"])
    sc = trimesh.load(path)
    for g in sc.geometry.values():             # flat: each corner's normal is its face's
        assert np.allclose(g.vertex_normals[g.faces[:, 0]], g.face_normals, atol=1e-5)
    floor = sc.geometry[sc.graph["floor"][1]]   # y-up: the floor's top faces point up
    assert (floor.face_normals[:, 1] > 0.99).sum() >= 1
