"""The one assembly (experiments/runs/assembly.py): one camera default everywhere, one
config that says what it allows, a twin built the same way by every verb."""

from __future__ import annotations

import numpy as np
import pytest

from agents.crowd import ShopperConfig
from experiments.runs.assembly import ConfigError, TwinConfig, build_twin, default_cameras
from experiments.runs.config import RunConfig, RunConfigError
from experiments.studies.spec import load_study
from experiments.studies.sweep import _make_layout, _store_file, expand
from scenes.presets import load_store
from twin.camgeom import ceiling_grid
from twin.layout import CameraLayout
from twin.layout_toml import dumps_layout, load_layout

FIELDS = ("camera", "position", "rotation", "intrinsics", "resolution")


def _same(a, b) -> bool:
    return all(getattr(a, k).dtype == getattr(b, k).dtype
               and getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in FIELDS)


@pytest.fixture(scope="module")
def kiosk():
    return load_store("kiosk")


def test_run_and_study_build_the_same_cameras_at_the_same_pitch(kiosk, tmp_path):
    """Issue 21: a study's "grid 2.5 m" and ``storetwin run --camera-spacing 2.5`` were
    different cameras (dome-4mp against 1280x960); now they are one default."""
    (tmp_path / "s.toml").write_text(
        'format = "storetwin-study/1"\nname = "s"\n'
        '[[stores]]\nstore = "kiosk"\n'
        '[[layouts]]\ngenerator = "grid"\nspacing_m = [2.5, 4.0]\n')
    for spec in expand(load_study(tmp_path / "s.toml")):
        study = _make_layout(kiosk, spec.params).cameras()
        assert _same(study, default_cameras(kiosk, spec.params.layout_param))
    cams = default_cameras(kiosk, 2.5)
    assert (cams.resolution == [2688, 1520]).all()          # the dome-4mp model
    assert cams.intrinsics[0, 0] == pytest.approx(1344 / np.tan(np.radians(50.0)))


def test_the_old_run_cameras_round_trip_through_a_layout_file(kiosk, tmp_path):
    """docs/camera-layout.md: the run's cameras before issue 21, written as a layout file,
    load back bit for bit, so ``--layout`` reruns an old experiment exactly."""
    c = ceiling_grid(kiosk, spacing=2.5)
    n = len(c.camera)
    old = CameraLayout(np.array([f"old-{i + 1}" for i in range(n)]), c.position, c.rotation,
                       c.intrinsics, c.resolution, np.full(n, 10.0), np.array(["custom"] * n),
                       np.zeros(n), kiosk.name)
    path = tmp_path / "old.toml"
    path.write_text(dumps_layout(old, "old"))
    assert _same(load_layout(path, kiosk).cameras(), c)
    assert not _same(c, default_cameras(kiosk, 2.5))          # and they are not the default


def test_a_twin_config_names_the_field_and_what_it_allows():
    with pytest.raises(ConfigError, match=r"TwinConfig\.seed must be an integer in "
                                          r"\[0, 2\^63\), got -1"):
        TwinConfig(seed=-1)
    with pytest.raises(ConfigError, match=r"camera_spacing_m must be a number > 0 \[m\]"):
        TwinConfig(camera_spacing_m=0.0)
    # the run's config raises the error its callers catch, in the same format
    with pytest.raises(RunConfigError, match=r"RunConfig\.panel must be an integer in "
                                             r"\[0, 1000000\], got 2\.0"):
        RunConfig(panel=2.0)


def test_dead_ids_outside_the_store_are_refused_before_anything_is_built(kiosk):
    n_cams = len(default_cameras(kiosk, 2.5).camera)
    with pytest.raises(ConfigError, match=rf"dead_cameras: ids \[{n_cams}\] out of range"):
        build_twin(TwinConfig(dead_cameras=(0, n_cams)), store=kiosk)
    with pytest.raises(ConfigError, match=r"dead_plates: ids \[-1\] out of range"):
        build_twin(TwinConfig(dead_plates=(-1,)), store=kiosk)


def test_the_twin_has_every_plate_and_its_dead_ones(tmp_path):
    """render sized its plates by the bin count before the one assembly; every twin now has
    one sensor per plate (here two bins share a plate), dead where the config says."""
    ref = _store_file(tmp_path, "kiosk", 2)
    store = load_store(ref)
    cfg = TwinConfig(store=ref, crowd=ShopperConfig(shoppers_in_store=0.0), dead_plates=(3,),
                     dead_cameras=(1,))
    with build_twin(cfg) as twin:
        assert twin.sim.plates.dead.size == store.bins.n_plates < len(store.bins)
        assert np.flatnonzero(twin.sim.plates.dead).tolist() == [3]
        assert np.flatnonzero(twin.sim.cameras.dead).tolist() == [1]
        assert twin.knowledge.cameras.position.tobytes() == twin.cameras.position.tobytes()
