"""Pixels from any camera: RGB, depth and instance segmentation (pyrender, offscreen).

The store (:func:`scenes.meshes.scene_mesh`) is uploaded once as a few merged meshes, one per
material group: ``structure`` (floor and walls), ``fixtures`` (fixture bodies and shelf
plates) and ``products`` (one block per stocked bin, vertex-coloured by SKU). People are
bodies of legs, torso and head (:mod:`twin.people`: the detection model's cylinder,
``body_radius`` x ``body_height``, in three parts) painted in their looks
(:mod:`agents.looks`: top, bottoms, skin; without looks, a stable colour of the id), with an
arm reaching to the hand where the twin says one is (a pick, a put-back, a hand-over); all
merged into one mesh per frame.

Two passes per frame:

- colour: lit RGB (ambient plus two directional lights from above, no shadows, 4x MSAA);
- ids: unlit, no multisampling, static meshes black, the body of person ``k`` of the frame
  coded as the 24-bit colour ``k + 1``, its sleeve as ``s + k + 1`` and its hand as
  ``2 s + k + 1`` (s people); decoded to ``seg`` (person id on body, sleeve and hand, -1
  elsewhere), ``arm`` (sleeve and hand) and ``hand``. Its depth buffer is the returned depth
  (metres along the optical axis, 0 where nothing was drawn).

Cameras follow :class:`core.knowledge.Cameras` (pinhole, looking along +z, x right, y down,
principal point in pixels from the top-left corner): the pose is converted to pyrender's
OpenGL convention (looking along -z, y up) and the intrinsics go to an
``IntrinsicsCamera``. A pixel belongs to a surface when its centre does, the same rule the
detection model's in-image test uses (``0 <= u < width``).

One OpenGL context (one ``pyrender.OffscreenRenderer``) serves every resolution: its
framebuffer is resized when a camera of another size is rendered. The context is created at
the first render, not at construction or import. pyrender picks the platform from
``PYOPENGL_PLATFORM`` (``egl`` on a headless machine, set before anything imports OpenGL).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import trimesh

from core.knowledge import Cameras
from scenes.meshes import (
    PLATE_COLOR,
    PROUD_M,
    boxes_mesh,
    proud_boxes,
    scene_mesh,
    sku_colors,
    stock_boxes,
)
from scenes.store import Store
from twin.cameras import DetectionModel
from twin.lighting import Lighting
from twin.people import DEFAULT_LOOKS, SKIN, arm_mesh, body_mesh

# pyrender's view of a camera: x right, y up, looking along -z. Ours: y down, along +z.
_GL_FROM_CV = np.diag([1.0, -1.0, -1.0])
ZNEAR, ZFAR = 0.05, 200.0      # clipping planes [m]
MAX_CANVAS = 8192              # largest framebuffer side for a lone silhouette [px]


class RenderedView(NamedTuple):
    """One camera's view: rgb (h, w, 3) uint8 or None, depth (h, w) float32 [m], and (h, w)
    int32 person ids (-1: none), or None: seg (body and arm), arm (the arm, hand
    included) and hand (the hand alone)."""
    rgb: np.ndarray | None
    depth: np.ndarray
    seg: np.ndarray | None
    arm: np.ndarray | None
    hand: np.ndarray | None = None


def person_colors(ids: np.ndarray) -> np.ndarray:
    """(s, 3) uint8 a stable, saturated colour per person id (golden-ratio hues)."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    h = (ids * 0.6180339887498949 + 0.11) % 1.0
    s = 0.65 + 0.3 * ((ids * 0.377) % 1.0)
    v = 0.55 + 0.4 * ((ids * 0.719) % 1.0)
    h6 = h * 6.0
    i = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = np.stack([np.stack(c, axis=1) for c in
                      ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))])
    return np.round(255 * table[i, np.arange(ids.size)]).astype(np.uint8)


def _flat_arrays(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-corner positions (3f, 3), face normals (3f, 3) and RGBA colours (3f, 4) uint8 of a
    mesh: flat shading (no vertex shared between faces)."""
    pos = mesh.vertices[mesh.faces].reshape(-1, 3)
    nrm = np.repeat(mesh.face_normals, 3, axis=0)
    vc = mesh.visual.vertex_colors if mesh.visual.kind == "vertex" else None
    if vc is None:
        col = np.full((pos.shape[0], 4), 255, np.uint8)
    else:
        col = np.asarray(vc, np.uint8)[mesh.faces].reshape(-1, 4)
    return pos.astype(np.float32), nrm.astype(np.float32), col


def camera_pose_gl(rotation: np.ndarray, position: np.ndarray) -> np.ndarray:
    """(4, 4) pyrender camera pose of a camera with world-from-camera ``rotation`` (3, 3)
    (our convention) at ``position`` (3,) [m]."""
    pose = np.eye(4)
    pose[:3, :3] = rotation @ _GL_FROM_CV
    pose[:3, 3] = position
    return pose


class Renderer:
    """Offscreen renderer of one store.

    store: the store; products: draw the stocked bins; model: the body cylinder's size
    (default :class:`DetectionModel`); sections: sides of the rendered cylinder (64: its
    silhouette is within 0.1% of a circle's); lighting: see :class:`Lighting`.
    """

    def __init__(self, store: Store, products: bool = True, model: DetectionModel | None = None,
                 sections: int = 64, lighting: Lighting | None = None) -> None:
        self.store = store
        self.model = model or DetectionModel()
        self.lighting = lighting or Lighting()
        self.sections = int(sections)
        sc = scene_mesh(store, products=False)
        groups: dict[str, list[trimesh.Trimesh]] = {"structure": [], "fixtures": [],
                                                    "products": []}
        for name, geom in sc.geometry.items():
            if name == "floor" or name.startswith("walls/"):
                groups["structure"].append(geom)
            elif name != "plates":
                groups["fixtures"].append(geom)
        # plates and products stand a few millimetres proud of the fixture's face and clear
        # of its ends, so they do not z-fight with it (which flickers with the draw order
        # and shows up as foreground to a background subtractor)
        bins = store.bins
        if len(bins):
            top = bins.lo.copy()
            top[:, :2] = bins.hi[:, :2]
            lo, hi = proud_boxes(bins.lo - [0.0, 0.0, store.plate_thickness], top, bins.normal,
                            PROUD_M / 2)
            groups["fixtures"].append(boxes_mesh(lo, hi, PLATE_COLOR))
        if products and len(bins):
            keep = np.flatnonzero((bins.facings > 0) & (bins.rows > 0))
            lo, hi = stock_boxes(store)
            lo, hi = lo[keep], hi[keep]
            groups["products"].append(boxes_mesh(
                lo, hi, sku_colors(store.catalogue)[bins.sku_index[keep]]))
        self._groups = {k: trimesh.util.concatenate(v) for k, v in groups.items() if v}
        body = body_mesh(self.model.body_radius, self.model.body_height, self.sections)
        self._body = (body.pos, body.nrm, self.lighting.shade(body.nrm.astype(np.float64)),
                      body.part)
        self._body_vertices = body.vertices
        self._gl: dict | None = None                # created at the first render

    # -- GL state -------------------------------------------------------------------------

    def _setup(self) -> dict:
        if self._gl is not None:
            return self._gl
        import pyrender

        scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 1.0], ambient_light=[1.0, 1.0, 1.0])
        static_nodes = []
        for name, mesh in self._groups.items():
            pos, nrm, col = _flat_arrays(mesh)
            static_nodes.append(scene.add(pyrender.Mesh(
                [_primitive(pyrender, pos, nrm, self.lighting.bake(col, nrm.astype(np.float64)))],
                name=name), name=name))
        cam = pyrender.IntrinsicsCamera(fx=1.0, fy=1.0, cx=0.5, cy=0.5, znear=ZNEAR, zfar=ZFAR)
        cam_node = scene.add(cam, pose=np.eye(4))
        # one body mesh, drawn once per person node in the id passes only
        pos, nrm, _, _ = self._body
        body = pyrender.Mesh([_primitive(pyrender, pos, nrm,
                                         np.full((pos.shape[0], 4), 255, np.uint8))],
                             name="body")
        body.is_visible = False
        self._gl = {
            "pyrender": pyrender,
            "scene": scene,
            "renderer": pyrender.OffscreenRenderer(64, 64),
            "static": static_nodes,
            "cam": cam,
            "cam_node": cam_node,
            "body": body,
            "pool": [],        # person nodes for id passes, grown on demand
            "people": None,    # this frame's merged, coloured people (colour pass)
        }
        return self._gl

    def close(self) -> None:
        """Free the OpenGL context (a later render creates a new one)."""
        if self._gl is not None:
            self._gl["renderer"].delete()
            self._gl = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _set_camera(self, cams: Cameras, i: int, offset: tuple[int, int] = (0, 0),
                    size: tuple[int, int] | None = None) -> None:
        g = self._gl
        fx, fy, cx, cy = (float(x) for x in cams.intrinsics[i])
        cam = g["cam"]
        cam.fx, cam.fy = fx, fy
        cam.cx, cam.cy = cx - offset[0], cy - offset[1]
        g["scene"].set_pose(g["cam_node"], camera_pose_gl(cams.rotation[i], cams.position[i]))
        w, h = (int(cams.resolution[i, 0]), int(cams.resolution[i, 1])) if size is None else size
        r = g["renderer"]
        r.viewport_width, r.viewport_height = w, h

    def _person_nodes(self, xy: np.ndarray) -> list:
        """One pooled node of the body mesh per person, posed at ``xy`` (s, 2)."""
        g = self._gl
        pool = g["pool"]
        while len(pool) < xy.shape[0]:
            pool.append(g["scene"].add(g["body"], pose=np.eye(4)))
        for k in range(xy.shape[0]):
            pose = np.eye(4)           # a fresh array each: pyrender keeps the reference
            pose[:2, 3] = xy[k]
            g["scene"].set_pose(pool[k], pose)
        return pool[:xy.shape[0]]

    def _looks(self, ids: np.ndarray, looks: np.ndarray | None) -> np.ndarray:
        """(s, 3, 3) uint8 looks; without them, a stable colour of the id for clothes."""
        if looks is not None:
            return np.asarray(looks, np.uint8).reshape(-1, 3, 3)
        out = np.repeat(DEFAULT_LOOKS[None], ids.size, axis=0)
        pc = person_colors(ids)
        out[:, 0] = pc
        out[:, 1] = pc
        return out

    def _arms(self, xy: np.ndarray, hands: np.ndarray | None) -> list:
        """(k, corners, normals, parts) of each reaching person's arm."""
        if hands is None:
            return []
        h = np.asarray(hands, np.float64).reshape(-1, 3)
        m = self.model
        return [(k, *arm_mesh(xy[k], h[k], m.body_radius, m.body_height))
                for k in np.flatnonzero(np.isfinite(h).all(axis=1))]

    def _set_colour_people(self, xy: np.ndarray, ids: np.ndarray, arms: list,
                           looks: np.ndarray) -> None:
        """Replace the colour pass's merged people mesh (bodies and arms)."""
        g = self._gl
        pyrender = g["pyrender"]
        if g["people"] is not None:
            g["scene"].remove_node(g["people"])
            g["people"] = None
        s = xy.shape[0]
        if s == 0:
            return
        pos0, nrm0, shade, part = self._body
        pos = [(pos0[None] + np.column_stack([xy, np.zeros(s)])[:, None, :].astype(np.float32)
                ).reshape(-1, 3)]
        nrm = [np.tile(nrm0, (s, 1))]
        lit = [(looks[:, part].astype(np.float64) * shade[None, :, None]).reshape(-1, 3)]
        for k, apos, anrm, apart in arms:
            pos.append(apos)
            nrm.append(anrm)
            lit.append(looks[k][apart].astype(np.float64)
                       * self.lighting.shade(anrm.astype(np.float64))[:, None])
        lit_all = np.concatenate(lit)
        col = np.full((lit_all.shape[0], 4), 255, np.uint8)
        col[:, :3] = np.clip(np.round(lit_all), 0, 255).astype(np.uint8)
        g["people"] = g["scene"].add(pyrender.Mesh(
            [_primitive(pyrender, np.concatenate(pos), np.concatenate(nrm), col)],
            name="people"), name="people")

    def _arm_nodes(self, arms: list) -> list[tuple]:
        """(sleeve node or None, hand node) per arm, for this frame's id pass (removed after
        it)."""
        g = self._gl
        pyrender = g["pyrender"]
        nodes = []
        for _, apos, anrm, apart in arms:
            pair = []
            for keep in (apart != SKIN, apart == SKIN):
                if not keep.any():
                    pair.append(None)
                    continue
                white = np.full((int(keep.sum()), 4), 255, np.uint8)
                pair.append(g["scene"].add(pyrender.Mesh(
                    [_primitive(pyrender, apos[keep], anrm[keep], white)], name="arm")))
            nodes.append(tuple(pair))
        return nodes

    def _id_pass(self, nodes: dict) -> tuple[np.ndarray, np.ndarray]:
        """Unlit, single-sample render of ``nodes`` (node -> RGB uint8 colour) only."""
        g = self._gl
        g["body"].is_visible = True
        try:
            return g["renderer"].render(g["scene"], flags=g["pyrender"].RenderFlags.SEG,
                                        seg_node_map=nodes)
        finally:
            g["body"].is_visible = False

    # -- passes ---------------------------------------------------------------------------

    def render(self, cams: Cameras, i: int, people_xy: np.ndarray, people_ids: np.ndarray,
               *, rgb: bool = True, seg: bool = True, hands: np.ndarray | None = None,
               looks: np.ndarray | None = None):
        """Render camera ``i`` of ``cams`` with people standing at ``people_xy``.

        people_xy: (s, 2) float64 floor positions [m]; people_ids: (s,) int person ids;
        hands: (s, 3) hand positions [m] (NaN rows: no reach; None: nobody reaches), each
        drawn with an arm from the shoulder; looks: (s, 3, 3) uint8 top, bottoms, skin.
        Returns rgb (h, w, 3) uint8 (None if ``rgb`` is False), depth (h, w) float32 [m]
        along the optical axis at each pixel's centre (0: nothing) and seg (h, w) int32
        person id on body and arm, -1 elsewhere (None if ``seg`` is False; depth then comes
        from the colour pass, resolved from 4x multisampling: a few centimetres off on
        slanted faces). :meth:`render_parts` also returns the arm pixels apart.
        """
        out = self.render_parts(cams, i, people_xy, people_ids, rgb=rgb, seg=seg, hands=hands,
                                looks=looks)
        return out.rgb, out.depth, out.seg

    def render_parts(self, cams: Cameras, i: int, people_xy: np.ndarray,
                     people_ids: np.ndarray, *, rgb: bool = True, seg: bool = True,
                     hands: np.ndarray | None = None, looks: np.ndarray | None = None
                     ) -> RenderedView:
        """:meth:`render`, with ``arm`` and ``hand`` (h, w) int32: the person id where that
        person's arm (its hand included), or its hand alone, is seen; -1 elsewhere (None
        without ``seg``)."""
        if not (rgb or seg):
            raise ValueError("render: ask for rgb, seg or both")
        xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
        ids = np.asarray(people_ids, dtype=np.int64).reshape(-1)
        if ids.shape[0] != xy.shape[0]:
            raise ValueError(f"render: {xy.shape[0]} positions but {ids.shape[0]} ids")
        for name, a, shape in (("hands", hands, (3,)), ("looks", looks, (3, 3))):
            if a is not None and np.shape(a) != (ids.shape[0], *shape):
                raise ValueError(f"render: {name} must be {(ids.shape[0], *shape)}, got "
                                 f"{np.shape(a)}")
        g = self._setup()
        self._set_camera(cams, i)
        arms = self._arms(xy, hands)
        color = depth = segm = arm = hand = None
        if rgb:
            self._set_colour_people(xy, ids, arms, self._looks(ids, looks))
            color, depth = g["renderer"].render(g["scene"],
                                                flags=g["pyrender"].RenderFlags.FLAT)
        if seg:
            segm, arm, hand, depth = self._seg_pass(xy, ids, arms)
        return RenderedView(color, np.ascontiguousarray(depth, dtype=np.float32), segm, arm,
                            hand)

    def _seg_pass(self, xy: np.ndarray, ids: np.ndarray, arms: list):
        """The id pass: (seg, arm, hand, depth). Codes: body k -> k + 1, its sleeve ->
        s + k + 1, its hand -> 2 s + k + 1."""
        g = self._gl
        s = xy.shape[0]
        code = np.arange(1, 3 * s + 1, dtype=np.int64)
        rgb_code = np.stack([code & 255, (code >> 8) & 255, (code >> 16) & 255], axis=1)
        nodes = {n: (0, 0, 0) for n in g["static"]}
        for node, c in zip(self._person_nodes(xy), rgb_code[:s], strict=True):
            nodes[node] = tuple(int(x) for x in c)
        arm_nodes = self._arm_nodes(arms)
        for (sleeve, ball), (k, *_rest) in zip(arm_nodes, arms, strict=True):
            if sleeve is not None:
                nodes[sleeve] = tuple(int(x) for x in rgb_code[s + k])
            nodes[ball] = tuple(int(x) for x in rgb_code[2 * s + k])
        try:
            out, depth = self._id_pass(nodes)
        finally:
            for node in (n for pair in arm_nodes for n in pair if n is not None):
                g["scene"].remove_node(node)
        k = (out[..., 0].astype(np.int64) | (out[..., 1].astype(np.int64) << 8)
             | (out[..., 2].astype(np.int64) << 16))
        k = np.where(k <= 3 * s, k, 0)
        none = np.full(s + 1, -1)
        lut = np.concatenate([[-1], ids, ids, ids]).astype(np.int32)
        arm_lut = np.concatenate([none, ids, ids]).astype(np.int32)
        hand_lut = np.concatenate([none, np.full(s, -1), ids]).astype(np.int32)
        return lut[k], arm_lut[k], hand_lut[k], depth

    def hand_pixels(self, cams: Cameras, i: int, people_xy: np.ndarray,
                    hands: np.ndarray) -> np.ndarray:
        """(s,) int64 pixels of each person's hand (``hands`` (s, 3) [m], NaN rows: none)
        rendered alone by camera ``i``, inside the image: the denominator of a hand's
        rendered visible fraction (0 for no hand or a hand out of view)."""
        xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
        self._setup()
        self._set_camera(cams, i)
        out = np.zeros(xy.shape[0], np.int64)
        g = self._gl
        for k, *_rest in self._arms(xy, hands):
            (sleeve, ball), = self._arm_nodes([(k, *_rest)])
            try:
                img, _ = self._id_pass({ball: (255, 255, 255)})
            finally:
                for node in (sleeve, ball):
                    if node is not None:
                        g["scene"].remove_node(node)
            out[k] = int(np.count_nonzero(img[..., 0]))
        return out

    def background(self, cams: Cameras, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The empty store from camera ``i``: rgb (h, w, 3) uint8 and depth (h, w) float32
        [m] (what a static camera's background model converges to)."""
        rgb, depth, _ = self.render(cams, i, np.zeros((0, 2)), np.zeros(0, np.int64),
                                    seg=False)
        return rgb, depth

    def silhouette_boxes(self, cams: Cameras, i: int, people_xy: np.ndarray) -> np.ndarray:
        """(s, 4) int64 u0, v0, u1, v1 [px]: pixel box (half-open) that holds each person's
        whole rendered silhouette in camera ``i``, off the image included; all -1 for a
        person that reaches the camera's near plane (its silhouette is unbounded)."""
        xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
        s = xy.shape[0]
        v3 = (self._body_vertices[None] + np.column_stack([xy, np.zeros(s)])[:, None, :])
        rel = v3.reshape(-1, 3) - cams.position[i]
        pc = rel @ cams.rotation[i]
        nv = self._body_vertices.shape[0]   # (no -1 in the reshapes: s may be 0)
        z = pc[:, 2].reshape(s, nv)
        fx, fy, cx, cy = cams.intrinsics[i]
        zs = np.where(z > ZNEAR, z, np.nan)
        u = fx * pc[:, 0].reshape(s, nv) / zs + cx
        v = fy * pc[:, 1].reshape(s, nv) / zs + cy
        out = np.full((s, 4), -1, dtype=np.int64)
        ok = (z > 2 * ZNEAR).all(axis=1)
        if ok.any():
            out[ok, 0] = np.floor(u[ok].min(axis=1)) - 1
            out[ok, 1] = np.floor(v[ok].min(axis=1)) - 1
            out[ok, 2] = np.ceil(u[ok].max(axis=1)) + 2
            out[ok, 3] = np.ceil(v[ok].max(axis=1)) + 2
        return out

    def silhouettes(self, cams: Cameras, i: int, people_xy: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Pixels each person covers when rendered alone (nothing else in the scene) by
        camera ``i``, on an unbounded image plane (the same pixel grid, extended past the
        image's edges as far as the silhouette reaches).

        Returns full (s,) int64, the whole silhouette, and inside (s,) int64, its part
        inside the image. People whose silhouette box misses the image are not rendered
        (full -1, inside 0); both are -1 where the silhouette is unbounded (the body
        reaches the near plane) or wider than :data:`MAX_CANVAS`. A person's visible
        fraction is ``(seg == id).sum() / full``."""
        xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
        boxes = self.silhouette_boxes(cams, i, xy)
        full = np.full(xy.shape[0], -1, dtype=np.int64)
        inside = full.copy()
        self._setup()
        nodes = self._person_nodes(xy)
        iw, ih = int(cams.resolution[i, 0]), int(cams.resolution[i, 1])
        for k in range(xy.shape[0]):
            u0, v0, u1, v1 = (int(b) for b in boxes[k])
            if u0 == -1 and u1 == -1:
                continue
            if u1 <= 0 or v1 <= 0 or u0 >= iw or v0 >= ih:
                inside[k] = 0
                continue
            # round the canvas up so consecutive people reuse the framebuffer
            w, h = -(-(u1 - u0) // 64) * 64, -(-(v1 - v0) // 64) * 64
            if max(w, h) > MAX_CANVAS:
                continue
            self._set_camera(cams, i, offset=(u0, v0), size=(w, h))
            img, _ = self._id_pass({nodes[k]: (255, 255, 255)})
            mask = img[..., 0] > 0
            full[k] = int(np.count_nonzero(mask))
            inside[k] = int(np.count_nonzero(
                mask[max(0, -v0):max(0, ih - v0), max(0, -u0):max(0, iw - u0)]))
        return full, inside

    def visible_fractions(self, cams: Cameras, i: int, people_xy: np.ndarray,
                          people_ids: np.ndarray, seg: np.ndarray | None = None,
                          arm: np.ndarray | None = None) -> np.ndarray:
        """(s,) float64 rendered visible fraction of each person's body in camera ``i``:
        pixels of the person in the full render's ``seg`` (rendered here if not given), less
        its ``arm`` pixels, over :meth:`silhouettes` (the body alone). NaN where the
        silhouette is unbounded."""
        xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
        ids = np.asarray(people_ids, dtype=np.int64).reshape(-1)
        if seg is None:
            _, _, seg = self.render(cams, i, xy, ids, rgb=False)
        full, _ = self.silhouettes(cams, i, xy)
        seen = seg_pixel_counts(seg, ids)
        if arm is not None:
            seen = seen - seg_pixel_counts(arm, ids)
        return np.where(full > 0, seen / np.where(full > 0, full, 1), np.nan)


def _primitive(pyrender, pos: np.ndarray, nrm: np.ndarray, col: np.ndarray):
    """A triangle-list primitive with vertex colours and a plain opaque material."""
    mat = pyrender.MetallicRoughnessMaterial(baseColorFactor=[1.0, 1.0, 1.0, 1.0],
                                             metallicFactor=0.0, roughnessFactor=1.0,
                                             alphaMode="OPAQUE")
    return pyrender.Primitive(positions=pos, normals=nrm, color_0=col, material=mat,
                              mode=pyrender.constants.GLTF.TRIANGLES)


def seg_pixel_counts(seg: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(s,) int64 pixels of each id (s,) in a segmentation image (h, w) int32."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    v = seg[seg >= 0].astype(np.int64)
    if ids.size == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(ids)
    pos = np.searchsorted(ids[order], v)
    pos = np.clip(pos, 0, ids.size - 1)
    hit = ids[order][pos] == v
    counts = np.bincount(pos[hit], minlength=ids.size)
    out = np.zeros(ids.size, np.int64)
    out[order] = counts
    return out
