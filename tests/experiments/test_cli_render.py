"""``storetwin render``: RGB, depth and segmentation frames of the kiosk with its crowd, as
COCO and MOTChallenge datasets, run as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support import one_error, storetwin


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("render") / "kiosk"
    proc = storetwin("render", "--seconds", "45", "--cameras", "12,20", "--size", "320x240",
                     "--coco", "--mot", "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def _png(path: Path) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(path))


def test_render_writes_rgb_depth_and_segmentation_that_show_shelves_and_people(rendered) -> None:
    out, summary = rendered
    assert summary["images"] == 2 and summary["width"] == 320
    index = json.loads((out / "frames.json").read_text())["frames"]
    assert len(index) == 1 and index[0]["people"], "the crowd is in the store after 45 s"
    in_view = 0
    for cam in (12, 20):
        rgb = _png(out / "rgb" / f"cam{cam:03d}" / "000001.png")
        depth = _png(out / "depth" / f"cam{cam:03d}" / "000001.png").astype(np.float64)
        seg = _png(out / "seg" / f"cam{cam:03d}" / "000001.png").astype(np.int64) - 1
        assert rgb.shape == (240, 320, 3) and depth.shape == seg.shape == (240, 320)
        # a ceiling camera 3.4 m up: the floor is ~3.4 m away, shelf tops (2 m) ~1.4 m
        d = depth[depth > 0] / 1000.0
        assert d.max() == pytest.approx(3.4, abs=0.2)
        assert np.any(np.abs(d - 1.4) < 0.1), "a gondola top in view"
        # people: their pixels are nearer than the floor, and their ids are the crowd's
        ids = set(np.unique(seg[seg >= 0]).tolist())
        assert ids <= set(index[0]["people"])
        for pid in ids:
            assert np.median(depth[seg == pid]) / 1000.0 < 3.3
        in_view += len(ids)
        assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20
    assert in_view == summary["person_instances"] > 0


def test_render_exports_coco_and_mot_matching_the_masks(rendered) -> None:
    out, summary = rendered
    coco = json.loads((out / "coco" / "annotations.json").read_text())
    assert len(coco["images"]) == 2
    assert len(coco["annotations"]) == summary["person_instances"]
    assert {c["name"] for c in coco["categories"]} == {"person"}
    for a in coco["annotations"]:
        img = next(i for i in coco["images"] if i["id"] == a["image_id"])
        assert (out / "coco" / img["file_name"]).exists()
        assert a["area"] > 0 and a["bbox"][2] > 0
    rows = sum(len((out / "mot" / f"cam{c:03d}" / "gt" / "gt.txt").read_text().splitlines())
               for c in (12, 20))
    assert rows == summary["person_instances"]
    ini = (out / "mot" / "cam012" / "seqinfo.ini").read_text()
    assert "imWidth=320" in ini and "imHeight=240" in ini


@pytest.mark.parametrize("args, words", [
    (["--size", "big"], ["--size", "WIDTHxHEIGHT"]),
    (["--cameras", "0,999"], ["--cameras", "out of range"]),
    (["--seconds", "0"], ["--seconds"]),
])
def test_bad_render_input_is_one_error_line(tmp_path, args, words) -> None:
    one_error(storetwin("render", *args, "--out", str(tmp_path / "r")), *words)
    assert not (tmp_path / "r").exists()


def test_an_empty_store_renders_with_empty_datasets(tmp_path) -> None:
    """One second in: nobody has come in yet; the frames and the datasets are empty, and
    the command says so instead of failing."""
    out = tmp_path / "empty"
    proc = storetwin("render", "--seconds", "1", "--cameras", "3", "--size", "64x48", "--coco",
                     "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summary = json.loads(proc.stdout)
    assert summary["images"] == 1 and summary["person_instances"] == 0
    coco = json.loads((out / "coco" / "annotations.json").read_text())
    assert coco["annotations"] == [] and len(coco["images"]) == 1
    assert (_png(next((out / "seg").rglob("*.png"))) <= 0).all()


def test_render_writes_arms_hands_and_the_scene_in_3d(rendered) -> None:
    """Issue 22: arm masks beside the person masks, hands in frames.json, and the store with
    its shoppers as glTF."""
    import trimesh

    out, summary = rendered
    index = json.loads((out / "frames.json").read_text())["frames"]
    hands = index[0]["hands"]
    assert len(hands) == len(index[0]["people"])
    assert all(h is None or len(h) == 3 for h in hands)
    for cam in (12, 20):
        arm = _png(out / "arm" / f"cam{cam:03d}" / "000001.png").astype(np.int64) - 1
        seg = _png(out / "seg" / f"cam{cam:03d}" / "000001.png").astype(np.int64) - 1
        assert (seg[arm >= 0] == arm[arm >= 0]).all()        # an arm is its person's
        reaching = {p for p, h in zip(index[0]["people"], hands, strict=True) if h is not None}
        assert set(np.unique(arm[arm >= 0]).tolist()) <= reaching
    assert summary["arm_instances"] >= 0
    sc = trimesh.load(out / "scene.glb")
    bodies = {n.split("/")[1] for n in sc.graph.nodes_geometry if n.startswith("people/")}
    assert bodies == {str(p) for p in index[0]["people"]}
