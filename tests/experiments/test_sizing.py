"""Compute sizing (experiments/sizing, ``storetwin size``): the arithmetic of a stage against a
hand-worked example, devices growing with cameras and occupancy, headroom, the cited table,
and the verb on a real one-minute kiosk run (docs/sizing.md)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from support import one_error, storetwin

from experiments.cli.main import main
from experiments.sizing.load import Load, load_from_run, peak_occupancy
from experiments.sizing.model import Options, devices, size, size_group
from experiments.sizing.table import CostTableError, load_costs

TABLE = load_costs()


def _load(**kw) -> Load:
    base = dict(store="t", cameras=30, width=2688, height=1520, fps=15.0,
                crops_peak_per_s=600.0, crops_mean_per_s=300.0, people_peak=20.0,
                people_mean=10.0, core_cores=0.02, stream_bytes_per_h=1e8, sim_s=60.0)
    return Load(**{**base, **kw})


def _stage(s: dict, group: str, stage: str) -> dict:
    g = next(g for g in s["hardware"] if g["group"] == group)
    return next(ln for ln in g["stages"] if ln["stage"] == stage)


def _devices(s: dict, group: str, hardware: str) -> int:
    g = next(g for g in s["hardware"] if g["group"] == group)
    return next(d["devices"] for d in g["devices"] if d["hardware"] == hardware)


# --------------------------------------------------------------------------- the table


def test_the_cited_table_loads_and_every_row_says_where_it_comes_from():
    assert set(TABLE.groups()) >= {"cpu", "a100", "jetson-orin-nano"}
    assert TABLE.figures and TABLE.bitrates
    for f in TABLE.figures:
        assert f.value > 0 and f.source and f.where and f.accessed, f.id
        assert f.kind in ("cited", "measured here", "derived"), f.id
        if f.kind == "cited":
            assert f.source.startswith("https://"), f.id
    for b in TABLE.bitrates:
        assert b.source.startswith("https://") and b.where
    for stage in ("decode", "detect", "pose", "appearance"):
        assert TABLE.models(stage), stage


def test_a_derived_row_is_its_flops_ratio_times_the_measured_time():
    f = TABLE.find("appearance", "osnet_x1_0", "cpu")
    base = next(x for x in TABLE.figures if x.id == "appearance-resnet50-here")
    assert f.kind == "derived" and f.hardware == base.hardware
    assert f.value == pytest.approx(base.value * 0.98 / 2.7, rel=1e-4)
    # across conventions: torchreid counts multiply-adds, Ultralytics FLOPs (2 per MAC)
    g = TABLE.find("appearance", "osnet_x1_0", "a100")
    assert g.value == pytest.approx(0.99 * (2 * 0.98) / 8.7, rel=1e-3)


def test_a_table_row_without_a_source_is_refused_naming_the_row(tmp_path):
    text = TABLE.path.read_text().replace(
        'source = "https://docs.ultralytics.com/models/yolov8/"', 'source = ""', 1)
    bad = tmp_path / "costs.toml"
    bad.write_text(text)
    with pytest.raises(CostTableError, match=r"detect-yolov8n-cpu.*'source'"):
        load_costs(bad)


# --------------------------------------------------------------------------- the arithmetic


def test_one_stage_against_a_hand_worked_example():
    # 30 cameras x 15 Hz = 450 frames/s; YOLOv8s on an A100: 1.20 ms a frame
    # -> 0.540 GPU-seconds per second; with 30 % headroom ceil(0.702) = 1 GPU
    s = size(_load(), TABLE, Options(groups=("a100",)))
    det = _stage(s, "a100", "detect")
    assert det["work"] == 450.0 and det["work_unit"] == "frames/s"
    assert det["busy"] == pytest.approx(0.540)
    # decode on CPU cores (no cited A100 decode figure): 450 x 2688x1520 px/s at 206
    # frames/s of 2688x1520 a core -> 450 / 206 = 2.184 cores -> ceil(2.84) = 3
    dec = _stage(s, "a100", "decode")
    assert dec["busy"] == pytest.approx(450 / 206) and "CPU cores" in dec["note"]
    assert _devices(s, "a100", "cpu-core-here") == 3
    # appearance per crop: 600 crops/s x 0.223 ms; pose per frame (YOLOv8s-pose 1.42 ms)
    app = _stage(s, "a100", "appearance")
    assert app["work"] == 600.0 and app["busy"] == pytest.approx(600 * app["value"] / 1000)
    pose = _stage(s, "a100", "pose")
    assert pose["model"] == "yolov8s-pose" and pose["busy"] == pytest.approx(450 * 1.42 / 1000)
    gpu = 0.540 + 450 * 1.42 / 1000 + app["busy"]
    assert _devices(s, "a100", "a100") == math.ceil(gpu * 1.3)
    # network: 30 cameras x 2,500 kbit/s (the 2048x1536 15 fps row); video 16 h a day
    assert s["network"]["mbit_per_s"] == pytest.approx(75.0)
    assert s["storage"]["video_bytes_per_day"] == pytest.approx(30 * 2.5e6 / 8 * 16 * 3600)
    assert s["storage"]["streams_bytes_per_day"] == pytest.approx(1e8 * 16)


def test_decode_scales_by_pixels_from_the_figures_resolution():
    # the Orin Nano decodes 2 x 4K30 (60 frames of 3840x2160 a second)
    s = size(_load(cameras=10, width=1920, height=1080), TABLE,
             Options(groups=("jetson-orin-nano",)))
    dec = _stage(s, "jetson-orin-nano", "decode")
    assert dec["busy"] == pytest.approx(10 * 15 * 1920 * 1080 / (60 * 3840 * 2160))


def test_nvdec_and_gpu_engines_do_not_add_up():
    g = size_group(_load(), TABLE, "jetson-orin-nano", Options())
    d = next(d for d in g["devices"] if d["hardware"] == "jetson-orin-nano")
    assert set(d["busy"]) == {"nvdec", "gpu"}
    assert d["devices"] == max(devices(b, 0.3) for b in d["busy"].values())


def test_devices_grow_with_cameras_and_with_occupancy():
    opt = Options(groups=("a100", "cpu"))

    def n(load, group, hw):
        return _devices(size(load, TABLE, opt), group, hw)
    small, big = _load(cameras=30), _load(cameras=300)
    assert n(big, "a100", "a100") > n(small, "a100", "a100")
    assert n(big, "a100", "cpu-core-here") > n(small, "a100", "cpu-core-here")
    calm, busy = _load(crops_peak_per_s=100.0), _load(crops_peak_per_s=5000.0)
    # per-crop stages (appearance, top-down pose) follow the people seen; per-frame do not
    assert n(busy, "cpu", "cpu-core-here") > n(calm, "cpu", "cpu-core-here")
    assert n(busy, "cpu", "cpu-i7-11700") > n(calm, "cpu", "cpu-i7-11700")
    assert n(busy, "cpu", "cpu-ultralytics") == n(calm, "cpu", "cpu-ultralytics")


def test_headroom_is_spare_capacity_over_the_peak():
    assert devices(0.0, 0.3) == 0
    assert devices(1.0, 0.0) == 1
    assert devices(1.0, 0.3) == 2
    assert devices(10.0, 0.3) == 13
    assert devices(10.0, 1.0) == 20
    a = size(_load(cameras=300), TABLE, Options(groups=("a100",), headroom=0.0))
    b = size(_load(cameras=300), TABLE, Options(groups=("a100",), headroom=1.0))
    assert _devices(b, "a100", "a100") >= 2 * _devices(a, "a100", "a100") - 1


def test_a_missing_figure_is_named_not_guessed():
    g = size_group(_load(), TABLE, "jetson-agx-orin-64gb", Options())
    assert any(m.startswith("detect:") for m in g["missing"])
    det = next(ln for ln in g["stages"] if ln["stage"] == "detect")
    assert det["busy"] is None and det["figure"] is None


def test_peak_occupancy_from_entries_and_exits():
    enter = np.array([0.0, 1.0, 2.0, 5.0, 6.0])
    leave = np.array([3.0, 5.0, np.nan, 7.0, np.nan])
    # inside: 1, 2, 3 (t=2), 2 (t=3), 1 then 2 at t=5 (a leaving counts first), 3 at t=6
    assert peak_occupancy(enter, leave) == 3
    assert peak_occupancy(np.zeros(0), np.zeros(0)) == 0


# --------------------------------------------------------------------------- the verb on a run


@pytest.fixture(scope="module")
def kiosk_run(tmp_path_factory):
    """One simulated minute of the kiosk, 8 shoppers inside from t = 0, streams recorded."""
    from experiments.runs.config import RunConfig
    from experiments.runs.run import run
    out = tmp_path_factory.mktemp("size") / "kiosk"
    run(RunConfig(store="kiosk", minutes=1.0, shoppers=8, seed=0, warm_start=True), out=out)
    return out


def test_the_load_of_a_real_run(kiosk_run):
    ld = load_from_run(kiosk_run)
    assert ld.cameras == 30 and (ld.width, ld.height) == (2688, 1520) and ld.fps == 15.0
    assert ld.people_peak >= 8 and ld.people_peak >= ld.people_mean > 0
    assert ld.crops_peak_per_s >= ld.crops_mean_per_s > 0
    assert ld.core_cores is not None and ld.core_cores > 0
    assert ld.stream_bytes_per_h > 0


def test_storetwin_size_on_a_real_run_prints_every_stage(kiosk_run):
    p = storetwin("size", str(kiosk_run), "--hardware", "a100,jetson-orin-nano", timeout=120)
    assert p.returncode == 0, p.stderr
    for word in ("HARDWARE a100", "HARDWARE jetson-orin-nano", "decode", "detect", "pose",
                 "appearance", "tracking+billing", "devices at peak with headroom",
                 "NETWORK", "STORAGE", "SOURCES", "https://docs.ultralytics.com"):
        assert word in p.stdout, word


def test_storetwin_size_json_parses(kiosk_run, capsys):
    assert main(["size", str(kiosk_run), "--json", "--hardware", "cpu", "--headroom",
                 "0.5"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["options"]["headroom"] == 0.5 and d["options"]["groups"] == ["cpu"]
    assert d["load"]["cameras"] == 30
    assert {ln["stage"] for ln in d["hardware"][0]["stages"]} == {
        "decode", "detect", "pose", "appearance", "tracking+billing"}
    assert all(s["source"] for s in d["sources"])


@pytest.mark.parametrize("args, words", [
    (["size", "no/such/run"], ["no/such/run", "run folder"]),
    (["size", "--store", "nowhere"], ["--store", "nowhere"]),
    (["size"], ["RUN_DIR", "--store", "neither"]),
    (["size", "RUN", "--headroom", "-0.1"], ["--headroom", "[0, 10]"]),
    (["size", "RUN", "--hardware", "tpu"], ["--hardware", "a100"]),
    (["size", "RUN", "--detector", "yolov9"], ["--detector", "yolov8s"]),
    (["size", "RUN", "--hours", "25"], ["--hours", "(0, 24]"]),
    (["size", "RUN", "--detect-every", "0"], ["--detect-every"]),
])
def test_bad_input_is_one_line_and_exit_2(args, words, kiosk_run, capsys):
    args = [str(kiosk_run) if a == "RUN" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("storetwin: error: "), err
    for w in words:
        assert w in err[0], err[0]


def test_a_run_folder_without_timing_json_names_the_file(kiosk_run, tmp_path):
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(kiosk_run, broken, ignore=shutil.ignore_patterns("streams"))
    (broken / "timing.json").unlink()
    one_error(storetwin("size", str(broken), timeout=60), "timing.json", "missing")


def test_crops_without_a_stream_follow_the_occupancy(kiosk_run, tmp_path):
    import shutil
    bare = tmp_path / "bare"
    shutil.copytree(kiosk_run, bare, ignore=shutil.ignore_patterns("streams"))
    ld = load_from_run(bare)
    full = load_from_run(kiosk_run)
    assert ld.stream_bytes_per_h is None
    assert ld.crops_mean_per_s == pytest.approx(full.crops_mean_per_s, rel=0.01)
    assert ld.crops_peak_per_s == pytest.approx(
        ld.crops_mean_per_s * ld.people_peak / ld.people_mean)
    assert replace(ld, core_cores=None).core_cores_peak is None


# --------------------------------------------------------------------------- the report section


def _row(store: str, area: float, cameras: int, people: float, pitch: float = 2.5,
         exact: float | None = None) -> dict:
    """A study row as results.parquet keeps it (the columns the sizing reads)."""
    return {"status": "ok", "store": store, "layout": f"grid {pitch:g} m", "shoppers": people,
            "bins_per_plate": 1, "core": "full", "area_sqft": area, "cameras": cameras,
            "sim_s": 60.0, "detections": int(cameras * 0.7 * people * 60), "core_s": 0.5,
            "mean_in_store": people, "peak_in_store": people * 1.2, "warm_start": True,
            "layout_generator": "grid", "layout_param": pitch, "layout_model": "dome-4mp",
            "cost_cameras_usd": 400.0 * cameras, "exact_match": exact}


def test_the_report_sizes_every_run_against_store_size_and_pitch():
    from experiments.studies.report.compute import SERIES, compute_section, sized_rows
    rows = [_row("kiosk", 1808, 30, 20), _row("grocery", 10400, 160, 80),
            _row("large", 40000, 620, 250), _row("supercenter", 180000, 2750, 600),
            _row("kiosk", 1808, 12, 20, 4.0, 0.9), _row("kiosk", 1808, 20, 20, 3.0, 0.95)]
    sized = {(r["store"], r["cameras"]): r for r in sized_rows(rows)}
    gpus = [sized[k][SERIES[0][2]] for k in (("kiosk", 30), ("grocery", 160), ("large", 620),
                                              ("supercenter", 2750))]
    assert gpus == sorted(gpus) and gpus[-1] > gpus[0]
    # the peak: mean crops per second x peak / mean occupancy
    k = sized[("kiosk", 30)]
    assert k["crops_peak"] == pytest.approx(30 * 0.7 * 20 * 1.2)
    html = compute_section(rows)
    assert "Compute a real deployment needs" in html and 'data-figure="compute"' in html
    assert "supercenter" in html and "95.0" in html
    assert "no compute sizing" in compute_section([{"status": "ok", "store": "kiosk"}])
