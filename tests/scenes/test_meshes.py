"""Store meshes: fixture boxes for ray casts, the whole scene, and GLB export."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh

from scenes import load_preset
from scenes.meshes import fixture_mesh, scene_mesh


@pytest.fixture(scope="module")
def kiosk():
    return load_preset("kiosk")


@pytest.fixture(scope="module")
def scene(kiosk):
    return scene_mesh(kiosk)


def node_mesh(sc: trimesh.Scene, node: str) -> trimesh.Trimesh:
    _transform, geom = sc.graph[node]
    return sc.geometry[geom]


def test_fixture_mesh_is_the_union_of_closed_boxes(kiosk) -> None:
    m = fixture_mesh(kiosk)
    lo, hi = kiosk.fixture_boxes()
    assert m.is_watertight
    assert len(m.faces) == 12 * len(kiosk.fixtures)
    assert m.volume == pytest.approx(np.prod(hi - lo, axis=1).sum(), rel=1e-9)
    assert np.allclose(m.bounds, [lo.min(axis=0), hi.max(axis=0)])
    assert len(m.split(only_watertight=True)) == len(kiosk.fixtures)


def test_scene_has_floor_walls_fixtures_and_plates(kiosk, scene) -> None:
    nodes = set(scene.graph.nodes_geometry)
    assert {"floor", "plates"} <= nodes
    assert {f.name for f in kiosk.fixtures} <= nodes
    for f in kiosk.fixtures:
        g = node_mesh(scene, f.name)
        assert g.is_watertight and len(g.faces) == 12
        assert np.allclose(g.bounds, [f.lo, f.hi])
    floor = node_mesh(scene, "floor")
    x0, y0, x1, y1 = kiosk.bounds
    assert np.allclose(floor.bounds[:, :2], [[x0, y0], [x1, y1]])
    assert floor.bounds[1, 2] == pytest.approx(0.0)
    plates = node_mesh(scene, "plates")
    assert len(plates.faces) == 12 * len(kiosk.bins)
    assert plates.bounds[0, 2] == pytest.approx(kiosk.bins.lo[:, 2].min() - 0.02)
    assert plates.bounds[1, 2] == pytest.approx(kiosk.bins.lo[:, 2].max())


def test_every_scene_geometry_is_a_closed_box(scene) -> None:
    for name, g in scene.geometry.items():
        assert g.is_watertight, name
        boxes = g.split(only_watertight=True)
        vol = sum(np.prod(np.ptp(b.vertices, axis=0)) for b in boxes)
        assert g.volume == pytest.approx(vol, rel=1e-6), name


def test_front_wall_leaves_the_doors_open(kiosk, scene) -> None:
    x0, y0, x1, y1 = kiosk.bounds
    front = []
    for node in scene.graph.nodes_geometry:
        if not (node.startswith("wall-") and node[5:].isdigit()):
            continue  # "wall-back" is the shelving fixture, not a wall
        b = node_mesh(scene, node).bounds
        assert b[1, 2] == pytest.approx(kiosk.ceiling_height)
        if b[1, 1] <= y0 + 1e-9:
            front.append(b)
    assert front
    for d0, d1 in (kiosk.entrance_gate, kiosk.exit_gate):
        mid = np.linspace(d0 + 1e-6, d1 - 1e-6, 50)
        for b in front:
            assert not np.any((mid > b[0, 0] + 1e-9) & (mid < b[1, 0] - 1e-9))
    # the rest of the front wall is closed: covered length = width + 2 t - doors
    covered = sum(b[1, 0] - b[0, 0] for b in front)
    doors = sum(d1 - d0 for d0, d1 in (kiosk.entrance_gate, kiosk.exit_gate))
    assert covered == pytest.approx((x1 - x0) + 0.2 - doors)


def test_glb_export_round_trips(scene) -> None:
    data = scene.export(file_type="glb")
    assert isinstance(data, bytes) and data[:4] == b"glTF"
    back = trimesh.load(io.BytesIO(data), file_type="glb")
    assert isinstance(back, trimesh.Scene)
    assert len(back.geometry) == len(scene.geometry)
    assert set(back.graph.nodes_geometry) == set(scene.graph.nodes_geometry)
    assert np.allclose(back.bounds, scene.bounds, atol=1e-5)
    assert sum(len(g.faces) for g in back.geometry.values()) == sum(
        len(g.faces) for g in scene.geometry.values())
