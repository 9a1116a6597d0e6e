"""The viewer's speed (issue 25, part 3): the default kiosk run opens in under 3 s; a
60-minute supercenter with 600 shoppers keeps >= 30 frames/s while playing, in headless
Chromium with software rendering (SwiftShader) on this 2-core machine, in <= 50 MB.

The supercenter is a load of that size (tests/benchmarks/view_load.py) made from a real
one-minute supercenter run folder: the page is what is measured. Switched on::

    STORETWIN_BENCH=1 pytest tests/benchmarks/test_view_speed.py --benchmark-enable -s

In the default suite the kiosk run is 2 minutes and the load 2 minutes of 30 people in the
kiosk: behaviour asserted, speed recorded only.
"""

from __future__ import annotations

import pytest
from benchmarks.speed import benchmarks_on
from benchmarks.view_load import make_load

from core.store_core import StoreCore
from experiments.runs.config import RunConfig
from experiments.runs.run import run
from experiments.view.page import write_view

pw = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader",
        "--use-angle=swiftshader"]
LOAD_TARGET_MS = 3000
FPS_TARGET = 30
SIZE_TARGET_MB = 50


def _measure(index, play_s: float) -> dict:
    """Open the page; load time; frames a second over ``play_s`` of playing at 10x, after
    2 s to settle (the first resize of the buffer)."""
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = b.new_page(viewport={"width": 1400, "height": 850})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(index.as_uri())
        pg.wait_for_function("window.storetwinViewer && (storetwinViewer.ready || "
                             "storetwinViewer.errors.length)", timeout=180_000)
        load_ms = pg.evaluate("storetwinViewer.loadMs")
        nav_ms = pg.evaluate("performance.now()")
        pg.evaluate("storetwinViewer.setTime(storetwinViewer.time() + 60); "
                    "storetwinViewer.play()")
        pg.wait_for_timeout(2000)
        f0 = pg.evaluate("[storetwinViewer.frames, performance.now()]")
        pg.wait_for_timeout(int(play_s * 1000))
        f1 = pg.evaluate("[storetwinViewer.frames, performance.now()]")
        drawn = pg.evaluate("storetwinViewer.drawn()")
        errors += pg.evaluate("storetwinViewer.errors")
        b.close()
    return {"load_ms": load_ms, "ready_ms": nav_ms, "drawn": drawn, "errors": errors,
            "fps": (f1[0] - f0[0]) * 1000.0 / (f1[1] - f0[1])}


def _size_mb(index) -> float:
    return sum(p.stat().st_size for p in index.parent.iterdir()) / 1e6


@pytest.fixture(scope="module")
def kiosk_view(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("kiosk") / "run"
    minutes = 10.0 if benchmarks_on(request.config) else 2.0
    run(RunConfig(minutes=minutes, seed=0, core_process=False), out=out, core=StoreCore())
    return out, write_view(out)


def test_kiosk_view_opens_quickly(benchmark, speed, kiosk_view):
    _out, index = kiosk_view
    m = benchmark.pedantic(_measure, args=(index, 3.0), rounds=1, iterations=1)
    assert m["errors"] == [] and m["drawn"]["truth"] >= 0
    benchmark.extra_info.update(load_ms=round(m["load_ms"]), fps=round(m["fps"], 1),
                                size_mb=round(_size_mb(index), 2))
    speed.target(f"kiosk view ready in < {LOAD_TARGET_MS} ms", m["load_ms"] < LOAD_TARGET_MS,
                 f"{m['load_ms']:.0f} ms")


def test_supercenter_hour_stays_interactive(benchmark, speed, kiosk_view, tmp_path):
    if speed.on:
        real = tmp_path / "super"
        run(RunConfig(store="supercenter", minutes=1.0, seed=0, core_process=False,
                      record_streams=False), out=real, core=StoreCore())
        minutes, people = 60.0, 600
    else:
        real, minutes, people = kiosk_view[0], 2.0, 30
    load = make_load(real, tmp_path / "load", minutes=minutes, shoppers=people)
    index = write_view(load)
    size = _size_mb(index)
    m = benchmark.pedantic(_measure, args=(index, 5.0), rounds=1, iterations=1)
    assert m["errors"] == []
    assert m["drawn"]["truth"] >= 0.95 * people   # (nearly) everybody inside is drawn
    benchmark.extra_info.update(load_ms=round(m["load_ms"]), fps=round(m["fps"], 1),
                                size_mb=round(size, 1), minutes=minutes, shoppers=people)
    speed.target(f">= {FPS_TARGET} frames/s playing", m["fps"] >= FPS_TARGET,
                 f"{m['fps']:.1f} frames/s")
    speed.target(f"<= {SIZE_TARGET_MB} MB", size <= SIZE_TARGET_MB, f"{size:.1f} MB")
