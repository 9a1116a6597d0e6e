"""Rendered frames as datasets: COCO instance segmentation and MOTChallenge ground truth.

A :class:`RenderedFrame` is one camera's picture at one tick: its instance mask (``seg``,
person id or -1), the ids of the people in the scene, optionally their visible fractions,
full-body boxes and the RGB image. :func:`render_frames` makes them with a
:class:`twin.render.Renderer`.

COCO (:func:`coco_dict`, :func:`write_coco`): one image per (camera, frame), one annotation
per person with at least one pixel; ``bbox`` is [x, y, width, height] of the mask's pixel
extent (x = first column, width = last - first + 1, pixels, 0-based), ``area`` the mask's
pixel count, ``segmentation`` uncompressed RLE (``{"size": [h, w], "counts": [...]}``,
column-major runs starting with background, as pycocotools reads it), ``category_id`` 1
("person"), plus ``track_id`` (the person id, stable over frames) and ``visibility``.

MOTChallenge (:func:`write_mot`): one sequence folder per camera, ``<root>/<name>/`` with
``seqinfo.ini``, ``gt/gt.txt`` and, when frames carry RGB, ``img1/000001.png`` ... Rows of
gt.txt: ``frame, id, bb_left, bb_top, bb_width, bb_height, conf, class, visibility`` with
1-based frames and 1-based pixel coordinates (MOTChallenge's convention), conf = 1, class = 1
(pedestrian) and the visible fraction. The box is the person's full-body box clipped to the
image when the frames carry one (``boxes``, as MOT17 annotates occluded people), else the
visible mask's extent. People with no pixel in a frame get no row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.knowledge import Cameras


@dataclass(frozen=True)
class RenderedFrame:
    """One camera's rendered frame.

    camera: camera id; frame: tick index (0-based); seg: (h, w) int32 person id, -1 for
    none; ids: (s,) int64 ids of the people in the scene; visibility: (s,) float64 visible
    fraction of each (NaN: unknown) or None; boxes: (s, 4) float64 full-body box x0, y0, x1,
    y1 [px] (exclusive ends, clipped to the image) or None; rgb: (h, w, 3) uint8 or None;
    arm: (h, w) int32 person id where that person's arm is seen, -1 elsewhere, or None.
    """

    camera: int
    frame: int
    seg: np.ndarray
    ids: np.ndarray
    visibility: np.ndarray | None = None
    boxes: np.ndarray | None = None
    rgb: np.ndarray | None = None
    arm: np.ndarray | None = None


@dataclass(frozen=True)
class Instance:
    """One person's mask in one frame: bbox (x, y, w, h) [px, 0-based], area [px]."""

    person: int
    bbox: tuple[int, int, int, int]
    area: int
    mask: np.ndarray
    visibility: float


def instances(fr: RenderedFrame) -> list[Instance]:
    """Every person of ``fr.ids`` with at least one pixel in ``fr.seg``, in ids order."""
    out = []
    for k, pid in enumerate(np.asarray(fr.ids, dtype=np.int64)):
        mask = fr.seg == pid
        if not mask.any():
            continue
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        bbox = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
                int(rows[-1] - rows[0] + 1))
        vis = float("nan") if fr.visibility is None else float(fr.visibility[k])
        out.append(Instance(int(pid), bbox, int(mask.sum()), mask, vis))
    return out


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE of a (h, w) bool mask: column-major run lengths, starting with
    a (possibly empty) run of zeros."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0] + runs
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": runs}


def rle_to_mask(rle: dict) -> np.ndarray:
    """(h, w) bool mask of an uncompressed COCO RLE (inverse of :func:`mask_to_rle`)."""
    h, w = rle["size"]
    counts = np.asarray(rle["counts"], dtype=np.int64)
    vals = np.arange(counts.size) % 2 == 1
    flat = np.repeat(vals, counts)
    if flat.size != h * w:
        raise ValueError(f"RLE counts sum to {flat.size}, not {h} x {w}")
    return flat.reshape((h, w), order="F")


def image_name(camera: int, frame: int) -> str:
    """Relative path of a frame's image: ``cam003/000001.png`` (frames 1-based)."""
    return f"cam{camera:03d}/{frame + 1:06d}.png"


def coco_dict(frames: list[RenderedFrame], description: str = "storetwin rendered frames"
              ) -> dict:
    """COCO instances dictionary of the frames (see the module docstring)."""
    images, anns = [], []
    for n, fr in enumerate(frames):
        h, w = fr.seg.shape
        images.append({"id": n + 1, "file_name": image_name(fr.camera, fr.frame),
                       "width": int(w), "height": int(h), "camera": int(fr.camera),
                       "frame": int(fr.frame)})
        for inst in instances(fr):
            vis = None if np.isnan(inst.visibility) else round(inst.visibility, 6)
            anns.append({"id": len(anns) + 1, "image_id": n + 1, "category_id": 1,
                         "bbox": [float(b) for b in inst.bbox], "area": float(inst.area),
                         "segmentation": mask_to_rle(inst.mask), "iscrowd": 0,
                         "track_id": inst.person, "visibility": vis})
    return {"info": {"description": description, "version": "1.0"}, "licenses": [],
            "images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "supercategory": "person"}]}


def write_coco(frames: list[RenderedFrame], path: str | Path, images: bool = True) -> Path:
    """Write the frames' COCO JSON at ``path`` and, if ``images`` and the frames carry RGB,
    their PNGs beside it (``<folder>/<image_name>``). Returns the JSON's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(coco_dict(frames)))
    if images:
        for fr in frames:
            if fr.rgb is not None:
                write_png(path.parent / image_name(fr.camera, fr.frame), fr.rgb)
    return path


def mot_rows(frames: list[RenderedFrame], box: str = "full") -> np.ndarray:
    """(n, 9) float64 gt.txt rows of one camera's frames (see the module docstring).

    box: ``"full"`` for the frames' full-body boxes (falling back to the mask's extent
    where a frame has none), ``"visible"`` for the mask's extent."""
    if box not in ("full", "visible"):
        raise ValueError(f"mot_rows: box must be 'full' or 'visible', got {box!r}")
    rows = []
    for fr in frames:
        index = {int(p): k for k, p in enumerate(np.asarray(fr.ids, dtype=np.int64))}
        for inst in instances(fr):
            x, y, w, h = (float(b) for b in inst.bbox)
            if box == "full" and fr.boxes is not None:
                x0, y0, x1, y1 = fr.boxes[index[inst.person]]
                x, y, w, h = x0, y0, x1 - x0, y1 - y0
            vis = 1.0 if np.isnan(inst.visibility) else float(np.clip(inst.visibility, 0, 1))
            rows.append((fr.frame + 1, inst.person, x + 1, y + 1, w, h, 1, 1, vis))
    out = np.array(rows, dtype=np.float64).reshape(-1, 9)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def write_mot(frames: list[RenderedFrame], root: str | Path, fps: float = 15.0,
              box: str = "full", prefix: str = "cam") -> list[Path]:
    """One MOTChallenge sequence per camera under ``root`` (``<prefix><camera:03d>``).
    fps: frame rate for seqinfo.ini [Hz]. Returns the sequence folders."""
    root = Path(root)
    by_cam: dict[int, list[RenderedFrame]] = {}
    for fr in frames:
        by_cam.setdefault(int(fr.camera), []).append(fr)
    out = []
    for cam, frs in sorted(by_cam.items()):
        seq = root / f"{prefix}{cam:03d}"
        (seq / "gt").mkdir(parents=True, exist_ok=True)
        rows = mot_rows(frs, box)
        lines = [f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},"
                 f"{int(r[6])},{int(r[7])},{r[8]:.4f}" for r in rows]
        (seq / "gt" / "gt.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        h, w = frs[0].seg.shape
        length = max(f.frame for f in frs) + 1
        (seq / "seqinfo.ini").write_text(
            "[Sequence]\n"
            f"name={seq.name}\nimDir=img1\nframeRate={fps:g}\nseqLength={length}\n"
            f"imWidth={w}\nimHeight={h}\nimExt=.png\n")
        for fr in frs:
            if fr.rgb is not None:
                write_png(seq / "img1" / f"{fr.frame + 1:06d}.png", fr.rgb)
        out.append(seq)
    return out


def body_boxes(cams: Cameras, i: int, xy: np.ndarray, radius: float, height: float,
               n: int = 64) -> np.ndarray:
    """(s, 4) float64 x0, y0, x1, y1 [px] box of each body cylinder's projection in camera
    ``i``, clipped to the image (exclusive ends; empty boxes for bodies off the image or
    reaching behind the camera)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    s = xy.shape[0]
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = radius * np.column_stack([np.cos(a), np.sin(a)])
    pts = np.empty((s, 2, n, 3))
    pts[..., :2] = xy[:, None, None, :] + ring[None, None]
    pts[:, 0, :, 2], pts[:, 1, :, 2] = 0.0, height
    pts = pts.reshape(s, 2 * n, 3)
    pc = (pts - cams.position[i]) @ cams.rotation[i]
    fx, fy, cx, cy = cams.intrinsics[i]
    w, h = cams.resolution[i]
    ok = (pc[..., 2] > 1e-3).all(axis=1)
    z = np.where(pc[..., 2] > 1e-3, pc[..., 2], 1.0)
    u = fx * pc[..., 0] / z + cx
    v = fy * pc[..., 1] / z + cy
    box = np.stack([np.clip(u.min(1), 0, w), np.clip(v.min(1), 0, h),
                    np.clip(u.max(1), 0, w), np.clip(v.max(1), 0, h)], axis=1)
    box[~ok] = 0.0
    return box


def render_frames(renderer, cams: Cameras, frame: int, xy: np.ndarray, ids: np.ndarray,
                  cameras=None, rgb: bool = True, visibility: bool = True
                  ) -> list[RenderedFrame]:
    """Render one tick from every camera (or those in ``cameras``) with a
    :class:`twin.render.Renderer`: masks, full-body boxes and, if asked, RGB and visible
    fractions (rendered: mask pixels over the person's lone silhouette; slower)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    m = renderer.model
    out = []
    for i in (range(len(cams.camera)) if cameras is None else cameras):
        col, _, seg = renderer.render(cams, i, xy, ids, rgb=rgb)
        vis = renderer.visible_fractions(cams, i, xy, ids, seg) if visibility else None
        out.append(RenderedFrame(int(cams.camera[i]), int(frame), seg, ids, vis,
                                 body_boxes(cams, i, xy, m.body_radius, m.body_height), col))
    return out


def write_png(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image  # pyrender's dependency; imported only when writing images

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(path)
