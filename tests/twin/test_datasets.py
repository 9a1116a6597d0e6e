"""COCO and MOTChallenge export of rendered frames: structure and numbers."""

from __future__ import annotations

import configparser
import json

import numpy as np
import pytest

from twin.datasets import (
    RenderedFrame,
    coco_dict,
    image_name,
    mask_to_rle,
    mot_rows,
    rle_to_mask,
    write_coco,
    write_mot,
)


def frames() -> list[RenderedFrame]:
    """Camera 2 over two ticks and camera 5 over one; person 7 is partly hidden in tick 1,
    person 9 is in the scene but has no pixel in camera 5."""
    a = np.full((6, 8), -1, np.int32)
    a[1:4, 2:5] = 7            # 3 x 3
    a[0, 7] = 9                # one pixel in the corner
    b = np.full((6, 8), -1, np.int32)
    b[2:6, 0:2] = 7            # 4 x 2, touching the image's left and bottom edges
    b[2, 1] = 9
    c = np.full((6, 8), -1, np.int32)
    c[3:5, 4:8] = 7
    ids = np.array([7, 9])
    rgb = np.zeros((6, 8, 3), np.uint8)
    return [
        RenderedFrame(2, 0, a, ids, np.array([1.0, 0.1]), None, rgb),
        RenderedFrame(2, 1, b, ids, np.array([0.6, 0.05]),
                      np.array([[0.0, 1.5, 2.5, 6.0], [1.0, 2.0, 2.0, 3.0]]), rgb),
        RenderedFrame(5, 0, c, ids, np.array([0.9, np.nan])),
    ]


def test_rle_round_trip_and_coco_layout() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        m = rng.random((7, 5)) < 0.4
        rle = mask_to_rle(m)
        assert sum(rle["counts"]) == m.size and rle["size"] == [7, 5]
        assert np.array_equal(rle_to_mask(rle), m)
    # column-major runs, starting with background (0 pixels when the first is set)
    m = np.array([[1, 0], [1, 1]], bool)
    assert mask_to_rle(m)["counts"] == [0, 2, 1, 1]
    with pytest.raises(ValueError, match="RLE"):
        rle_to_mask({"size": [2, 2], "counts": [1, 1]})


def test_coco_boxes_areas_and_masks_are_the_masks() -> None:
    frs = frames()
    coco = json.loads(json.dumps(coco_dict(frs)))      # JSON-clean
    assert [c["name"] for c in coco["categories"]] == ["person"]
    assert [im["id"] for im in coco["images"]] == [1, 2, 3]
    assert coco["images"][1]["file_name"] == image_name(2, 1) == "cam002/000002.png"
    assert (coco["images"][0]["width"], coco["images"][0]["height"]) == (8, 6)
    anns = coco["annotations"]
    assert len({a["id"] for a in anns}) == len(anns) == 5   # 9 has no pixel in camera 5
    for a in anns:
        fr = frs[a["image_id"] - 1]
        mask = rle_to_mask(a["segmentation"])
        assert np.array_equal(mask, fr.seg == a["track_id"])
        rows, cols = np.nonzero(mask)
        assert a["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1,
                             rows.max() - rows.min() + 1]
        assert a["area"] == mask.sum()
        assert a["category_id"] == 1 and a["iscrowd"] == 0
    first = [a for a in anns if a["image_id"] == 1]
    assert [(a["track_id"], a["bbox"], a["area"], a["visibility"]) for a in first] == [
        (7, [2.0, 1.0, 3.0, 3.0], 9.0, 1.0), (9, [7.0, 0.0, 1.0, 1.0], 1.0, 0.1)]
    assert [a["visibility"] for a in anns if a["image_id"] == 3] == [0.9]


def test_mot_rows_and_files(tmp_path) -> None:
    frs = frames()
    vis_rows = mot_rows(frs[:2], box="visible")
    # frame (1-based), id, left, top (1-based), width, height, conf, class, visibility
    assert vis_rows.tolist() == [[1, 7, 3, 2, 3, 3, 1, 1, 1.0], [1, 9, 8, 1, 1, 1, 1, 1, 0.1],
                                 [2, 7, 1, 3, 2, 4, 1, 1, 0.6], [2, 9, 2, 3, 1, 1, 1, 1, 0.05]]
    full = mot_rows(frs[:2], box="full")
    assert full[2].tolist() == [2, 7, 1.0, 2.5, 2.5, 4.5, 1, 1, 0.6]   # the body's box
    assert np.array_equal(full[:2], vis_rows[:2])                     # no boxes: the mask's
    with pytest.raises(ValueError, match="box"):
        mot_rows(frs, box="tight")

    seqs = write_mot(frs, tmp_path / "mot", fps=15.0)
    assert [s.name for s in seqs] == ["cam002", "cam005"]
    ini = configparser.ConfigParser()
    ini.read(seqs[0] / "seqinfo.ini")
    sq = ini["Sequence"]
    assert (sq["name"], sq["imDir"], sq["imExt"]) == ("cam002", "img1", ".png")
    assert (int(sq["seqLength"]), int(sq["imWidth"]), int(sq["imHeight"])) == (2, 8, 6)
    assert float(sq["frameRate"]) == 15.0
    gt = np.loadtxt(seqs[0] / "gt" / "gt.txt", delimiter=",")
    assert np.allclose(gt, full, atol=0.005)
    assert (seqs[0] / "img1" / "000002.png").exists()
    assert not (seqs[1] / "img1").exists()                # camera 5 carries no RGB

    path = write_coco(frs, tmp_path / "coco" / "instances.json")
    assert json.loads(path.read_text())["annotations"][0]["track_id"] == 7
    assert (tmp_path / "coco" / "cam002" / "000001.png").exists()


def test_exporting_rendered_kiosk_frames(tmp_path) -> None:
    pytest.importorskip("pyrender")
    from scenes import load_preset
    from twin.camgeom import ceiling_grid
    from twin.datasets import render_frames
    from twin.render import Renderer

    kiosk = load_preset("kiosk")
    cams = ceiling_grid(kiosk, resolution=(160, 120))
    xy = np.array([[6.0, 4.0], [6.5, 5.5], [3.5, 2.0]])
    ids = np.array([11, 12, 13])
    with Renderer(kiosk) as r:
        frs = render_frames(r, cams, 0, xy, ids, cameras=[8, 13])
        frs += render_frames(r, cams, 1, xy + [0.1, 0.0], ids, cameras=[8, 13])
    coco = coco_dict(frs)
    assert len(coco["images"]) == 4 and len(coco["annotations"]) >= 4
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        assert 0 <= x and x + w <= 160 and 0 <= y and y + h <= 120
        assert 0 < a["visibility"] <= 1
    rows = mot_rows([f for f in frs if f.camera == 8])
    assert set(rows[:, 0].tolist()) == {1, 2}
    assert np.all(rows[:, 4] > 0) and np.all(rows[:, 2] >= 1)
    assert write_mot(frs, tmp_path)[0].name == "cam008"
