"""Shoppers as meshes: a body of legs, torso and head, and an arm that reaches where the twin
says a hand is (a pick, a put-back, a hand-over), painted in each shopper's looks.

Proportions follow Drillis & Contini (1966), segment lengths as fractions of stature H: hip
0.530 H, shoulder 0.818 H; shoulder to fingertip 0.44 H (upper arm 0.186 H,
forearm 0.146 H, hand 0.108 H). Stature and body radius are the detection model's
(:class:`twin.cameras.DetectionModel` ``body_height``, ``body_radius``): the rendered body
is the model's cylinder, cut into legs, torso and head (:func:`body_mesh`).

Each part of the body mesh carries a part index (:data:`LEGS`, :data:`TORSO`, :data:`SKIN`)
so the renderer paints it from a shopper's looks (:mod:`agents.looks` rows top, bottoms,
skin). The arm is a separate mesh: the renderer gives it its own id in segmentation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

LEGS, TORSO, SKIN = 1, 0, 2     # part index = the looks row painted on it (top, bottoms, skin)

HIP, SHOULDER = 0.530, 0.818      # fractions of stature (Drillis & Contini 1966)
ARM_RADIUS_M = 0.045      # a sleeved upper arm, ~9 cm across (assumption)
HAND_RADIUS_M = 0.045     # a hand as a ball (assumption)
DEFAULT_LOOKS = np.array([[150, 150, 150], [70, 70, 80], [224, 172, 130]], np.uint8)


@dataclass(frozen=True)
class BodyMesh:
    """A body template at the origin: corners (3f, 3) float32, face normals per corner (3f, 3)
    float32, part index per corner (3f,) int8, and its vertices (v, 3) for bounds."""
    pos: np.ndarray
    nrm: np.ndarray
    part: np.ndarray
    vertices: np.ndarray


def _flat(mesh: trimesh.Trimesh, part: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pos = mesh.vertices[mesh.faces].reshape(-1, 3)
    nrm = np.repeat(mesh.face_normals, 3, axis=0)
    return pos, nrm, np.full(pos.shape[0], part, np.int8)


def body_mesh(radius: float, height: float, sections: int = 64) -> BodyMesh:
    """The body template standing on the origin: the detection model's cylinder of
    ``radius`` x ``height`` [m], in three stacked parts: legs (to the hip), torso (to the
    shoulder) and head (above the shoulder, skin).

    The silhouette is exactly the model's cylinder, so the body visibility the model
    computes stays calibrated against the rendered masks (tests/twin/test_render.py); a
    narrower neck and head need the model's body shape changed with it (issue 22)."""
    cuts = (0.0, HIP * height, SHOULDER * height, height)
    parts = []
    for (z0, z1), part in zip(zip(cuts[:-1], cuts[1:]), (LEGS, TORSO, SKIN), strict=True):
        c = trimesh.creation.cylinder(radius=radius, height=z1 - z0, sections=sections)
        c.apply_translation([0.0, 0.0, (z0 + z1) / 2])
        parts.append(_flat(c, part))
    pos = np.concatenate([p[0] for p in parts]).astype(np.float32)
    return BodyMesh(pos, np.concatenate([p[1] for p in parts]).astype(np.float32),
                    np.concatenate([p[2] for p in parts]), pos.astype(np.float64))


def shoulder_point(xy: np.ndarray, hand: np.ndarray, radius: float, height: float
                   ) -> np.ndarray:
    """(3,) the shoulder [m] of a body at ``xy`` (2,) on the side of its ``hand`` (3,)."""
    d = np.asarray(hand[:2], np.float64) - xy
    n = float(np.hypot(d[0], d[1]))
    u = d / n if n > 1e-6 else np.array([1.0, 0.0])
    s = xy + u * max(radius - ARM_RADIUS_M, 0.0)
    return np.array([s[0], s[1], SHOULDER * height - ARM_RADIUS_M])


def arm_mesh(xy: np.ndarray, hand: np.ndarray, radius: float, height: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corners, normals and part index (sleeve: TORSO, hand: SKIN) of one arm reaching from
    the shoulder of a body at ``xy`` (2,) to ``hand`` (3,) [m]."""
    hand = np.asarray(hand, np.float64)
    s = shoulder_point(np.asarray(xy, np.float64), hand, radius, height)
    parts = []
    d = hand - s
    length = float(np.linalg.norm(d))
    wrist = hand - d / length * HAND_RADIUS_M if length > HAND_RADIUS_M else s
    if np.linalg.norm(wrist - s) > 1e-3:    # the sleeve ends at the wrist, the hand beyond
        sleeve = trimesh.creation.cylinder(radius=ARM_RADIUS_M, segment=np.stack([s, wrist]),
                                           sections=12)
        parts.append(_flat(sleeve, TORSO))
        elbow = trimesh.creation.icosphere(subdivisions=1, radius=ARM_RADIUS_M)
        elbow.apply_translation(s)
        parts.append(_flat(elbow, TORSO))
    ball = trimesh.creation.icosphere(subdivisions=2, radius=HAND_RADIUS_M)
    ball.apply_translation(hand)
    parts.append(_flat(ball, SKIN))
    return (np.concatenate([p[0] for p in parts]).astype(np.float32),
            np.concatenate([p[1] for p in parts]).astype(np.float32),
            np.concatenate([p[2] for p in parts]))


def paint(part: np.ndarray, looks: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 albedo of corners with ``part`` index (n,) from one shopper's ``looks``
    (3, 3) uint8 (rows top, bottoms, skin)."""
    return np.asarray(looks, np.uint8)[part]


def people_meshes(xy: np.ndarray, ids: np.ndarray, hands: np.ndarray | None,
                  looks: np.ndarray | None, radius: float, height: float
                  ) -> dict[str, trimesh.Trimesh]:
    """Each shopper as named, vertex-coloured meshes (``people/<id>/body`` and, reaching,
    ``people/<id>/arm``) for a glTF export: the same geometry the renderer draws."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    ids = np.asarray(ids, np.int64).reshape(-1)
    tmpl = body_mesh(radius, height)
    out: dict[str, trimesh.Trimesh] = {}
    for k, sid in enumerate(ids):
        lk = DEFAULT_LOOKS if looks is None else looks[k]
        pieces = {"body": (tmpl.pos + np.array([xy[k, 0], xy[k, 1], 0.0], np.float32),
                           tmpl.part)}
        if hands is not None and np.isfinite(hands[k]).all():
            pos, _, part = arm_mesh(xy[k], hands[k], radius, height)
            pieces["arm"] = (pos, part)
        for name, (pos, part) in pieces.items():
            faces = np.arange(pos.shape[0]).reshape(-1, 3)
            col = np.concatenate([paint(part, lk), np.full((part.size, 1), 255, np.uint8)],
                                 axis=1)
            out[f"people/{int(sid)}/{name}"] = trimesh.Trimesh(
                pos.astype(np.float64), faces, vertex_colors=col, process=False)
    return out


def export_scene_glb(store, path, xy: np.ndarray, ids: np.ndarray, hands: np.ndarray | None,
                     looks: np.ndarray | None, radius: float, height: float) -> None:
    """Write the store (:func:`scenes.meshes.scene_mesh`) with these shoppers standing in it
    (:func:`people_meshes`) as one binary glTF file at ``path``."""
    from pathlib import Path

    from scenes.meshes import glb_bytes, scene_mesh

    sc = scene_mesh(store)
    for name, mesh in people_meshes(xy, ids, hands, looks, radius, height).items():
        sc.add_geometry(mesh, node_name=name, geom_name=name)
    Path(path).write_bytes(glb_bytes(sc))
