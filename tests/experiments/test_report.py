"""The study report: its math on small hand-made sets, its sections on a real study and on a
synthetic one that has every kind of run, and the page as headless Chromium draws it."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from experiments.cli import main
from experiments.studies.execute import execute
from experiments.studies.report import ReportError, write_report
from experiments.studies.report.analysis import (
    cheapest_meeting,
    fit_power_law,
    pareto_frontier,
    store_plan,
)
from experiments.studies.report.drawing import LABEL_OFFSETS, new_figure, place_labels
from experiments.studies.report.figures import review_figure
from experiments.studies.report.groups import configurations
from experiments.studies.report.intervals import Count, pooled_count, wilson_interval
from experiments.studies.report.markup import fmt_rate
from experiments.studies.report.page import render_html
from experiments.studies.report.reading import StudyInfo
from experiments.studies.results import STATUS_FAILED, write_row
from experiments.studies.spec import load_study
from experiments.studies.sweep import expand, run_id
from scenes.presets import load_store
from twin.layout_toml import dumps_layout
from twin.placement import grid_layout

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
# Skipped on a developer's machine without Chromium; under CI (CI=true), where .ci/setup
# installs it, a missing browser fails the rendering tests instead of hiding them.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="headless Chromium is not installed (bash .ci/setup installs the Debian package "
           "chromium)")

# Appended to a copy of the report (the report itself has no script): once the page has
# loaded, write each figure's name and drawn size (or "broken") into <body data-figures>.
PROBE = """<script>
addEventListener("load", () => {
  document.body.dataset.figures = [...document.querySelectorAll("img[data-figure]")].map(
    i => i.dataset.figure + ":" + (i.complete && i.naturalWidth > 0
                                   ? i.naturalWidth + "x" + i.naturalHeight : "broken")
  ).join(" ");
});
</script>"""


def _chromium(page: Path, tmp: Path, *args: str) -> str:
    assert CHROMIUM, "headless Chromium is not installed; bash .ci/setup installs it"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", f"--user-data-dir={tmp / 'chromium-profile'}", *args,
           page.resolve().as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def figures_in_chromium(html_file: Path, tmp: Path) -> dict[str, tuple[int, int] | None]:
    """figure name -> (width, height) [px] as Chromium decoded it, None where it broke."""
    probe = tmp / f"probe-{html_file.stem}.html"
    probe.write_text(html_file.read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium(probe, tmp, "--virtual-time-budget=10000", "--dump-dom")
    m = re.search(r'data-figures="([^"]*)"', dom)
    assert m, "the probe did not run: " + dom[:300]
    out: dict[str, tuple[int, int] | None] = {}
    for item in m.group(1).split():
        name, size = item.rsplit(":", 1)
        out[name] = None if size == "broken" else tuple(int(v) for v in size.split("x"))
    return out


def screenshot_is_drawn(html_file: Path, tmp: Path) -> None:
    from PIL import Image

    shot = tmp / f"{html_file.stem}.png"
    _chromium(html_file, tmp, "--window-size=1280,2400", f"--screenshot={shot}")
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (2400, 1280)
    inked = (img.min(axis=2) < 200).mean()
    q = (img // 16).astype(np.int64)                 # 16 levels a channel
    colours = np.count_nonzero(np.bincount((q[..., 0] * 256 + q[..., 1] * 16 + q[..., 2])
                                           .ravel(), minlength=4096))
    assert inked > 0.03 and colours > 30, (inked, colours)


def assert_self_contained(text: str) -> None:
    """Nothing the page would fetch: every src and href is a data: URI or an anchor, and no
    scripts, stylesheets, imports or CSS urls."""
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]{0,12})""", text)
    assert links and all(v.startswith(("data:", "#")) for v in links), set(links)
    for bad in ("<script", "<link", "@import", "url(", "<iframe", "<object"):
        assert bad not in text.lower(), bad


# ---------------------------------------------------------------------------------------------
# the math


def test_pareto_frontier_keeps_the_best_accuracy_for_the_money():
    cost = [10, 20, 20, 30, 40, 50, np.nan, 60]
    acc = [0.5, 0.4, 0.7, 0.7, 0.9, 0.85, 1.0, np.nan]
    # 20/0.4 loses to 20/0.7 at equal cost; 30/0.7 adds nothing; 50/0.85 is dominated;
    # points with a nan stand nowhere
    assert pareto_frontier(cost, acc).tolist() == [0, 2, 4]
    assert pareto_frontier([], []).tolist() == []
    assert pareto_frontier([5, 5], [0.3, 0.3]).tolist() == [0]
    with pytest.raises(ValueError):
        pareto_frontier([1, 2], [0.5])


def test_cheapest_meeting_the_target():
    cost = [10, 20, 20, 30, 40]
    acc = [0.5, 0.9, 0.95, 0.99, 0.999]
    assert cheapest_meeting(cost, acc, 0.9) == 2         # equal cost: the more accurate
    assert cheapest_meeting(cost, acc, 0.99) == 3
    assert cheapest_meeting(cost, acc, 0.995) == 4
    assert cheapest_meeting(cost, acc, 0.9995) is None
    assert cheapest_meeting(cost, [np.nan] * 5, 0.5) is None


def test_power_law_fit_recovers_the_exponent():
    rng = np.random.default_rng(3)
    x = np.repeat(np.geomspace(1_800, 180_000, 4), 3)           # store areas [sq ft]
    y = 0.02 * x ** 0.85 * np.exp(rng.normal(0, 0.03, x.size))  # core ms per frame
    f = fit_power_law(x, y)
    assert f.b == pytest.approx(0.85, abs=0.03)
    assert f.a == pytest.approx(0.02, rel=0.3)
    assert f.r2 > 0.99 and f.n == 12
    assert f(10_000) == pytest.approx(0.02 * 10_000 ** 0.85, rel=0.1)
    exact = fit_power_law([1, 10, 100], [5, 50, 500])
    assert (exact.b, exact.a) == (pytest.approx(1.0), pytest.approx(5.0))
    # one store size, or values that cannot be logged: no law
    assert fit_power_law([1800, 1800], [3.0, 4.0]) is None
    assert fit_power_law([1, 10, 100], [0.0, -1.0, np.nan]) is None


def test_configurations_group_every_parameter_but_the_seed():
    rows = [_row(layout="grid 2.5 m", seed=s, exact_match=e) for s, e in ((0, 0.9), (1, 1.0))]
    rows += [_row(layout="grid 4 m", seed=0, exact_match=0.8),
             _row(layout="grid 2.5 m", seed=0, exact_match=0.5, core="naive")]
    groups = configurations(rows, set(rows[0]))
    assert sorted(len(g.rows) for g in groups) == [1, 1, 2]
    g = next(g for g in groups if len(g.rows) == 2)
    st = g.stat("exact_match")
    assert (st.mean, st.lo, st.hi, st.n) == (pytest.approx(0.95), 0.9, 1.0, 2)


def test_wilson_interval_known_values():
    """Wilson's score interval (Wilson 1927; Brown, Cai & DasGupta 2001, who recommend it):
    6 of 8 is 40.9 - 92.9 %; 0 of n and n of n are defined, inside [0, 1], and mirror
    each other; nothing counted has no interval."""
    lo, hi = wilson_interval(6, 8)
    assert (lo, hi) == (pytest.approx(0.4093, abs=5e-5), pytest.approx(0.9285, abs=5e-5))
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=5e-5))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=5e-5), 1.0)
    assert wilson_interval(1, 2) == (pytest.approx(0.0945, abs=5e-5),
                                     pytest.approx(0.9055, abs=5e-5))
    k, n = np.arange(0, 41), np.full(41, 40)
    lo, hi = wilson_interval(k, n)
    assert np.all((0 <= lo) & (lo <= k / n) & (k / n <= hi) & (hi <= 1))
    np.testing.assert_allclose(lo, 1 - hi[::-1], atol=1e-12)        # k of n mirrors n-k of n
    assert np.all(np.diff(lo) > 0) and np.all(np.diff(hi) > 0)
    # more receipts, a narrower interval around the same rate
    assert np.subtract(*wilson_interval(600, 800)[::-1]) < np.subtract(*wilson_interval(6, 8)[::-1])
    assert all(np.isnan(wilson_interval(0, 0)))
    with pytest.raises(ValueError):
        wilson_interval(9, 8)


def test_a_rate_reads_with_its_count_and_interval():
    assert fmt_rate(0.75, Count(6, 8)) == \
        "75.0&nbsp;% (6 of 8; 95&nbsp;% CI 40.9&ndash;92.9&nbsp;%)"
    assert fmt_rate(21 / 80, Count(21, 80), 0, 1000) == \
        "262 (21 of 80; 95&nbsp;% CI 179&ndash;368)"
    assert fmt_rate(0.9, None) == "90.0&nbsp;% (no count recorded)"      # none invented
    assert fmt_rate(None, Count(0, 0)) == "&ndash; (0 of 0)"
    # a mean over seeds of unequal size beside the pooled rate it differs from
    assert fmt_rate(0.95, Count(100, 110)).startswith(
        "95.0&nbsp;% mean over runs (100 of 110 pooled: 90.9&nbsp;%; 95&nbsp;% CI")
    # the counts behind a rate, pooled over runs; a run with the rate but not its count
    # leaves the rate uncounted
    rows = [_row(exact_match=39 / 40, receipts=40), _row(exact_match=1.0, receipts=20)]
    assert pooled_count(rows, "exact_match") == Count(59, 60)
    assert pooled_count(rows + [_row(exact_match=0.9)], "exact_match") is None
    assert pooled_count([_row(exact_match=0.5, receipts=3)], "exact_match") is None   # 1.5 of 3
    assert pooled_count([_row(receipts_unflagged=30, silent_wrong=2)], "unflagged_exact") == \
        Count(28, 30)


def test_labels_do_not_overlap_on_a_crowded_figure():
    """60 points, 20 of them in a clump: every label placed is inside the axes, covers no
    other label, no point and not the legend; those that fit nowhere are left out and
    named; the same input places the same labels."""
    def draw():
        rng = np.random.default_rng(5)
        xy = rng.normal(0, 1, (60, 2))
        xy[:20] *= 0.05
        fig, (ax,) = new_figure(6.0, 4.8)
        ax.scatter(*xy.T, s=10)
        ax.plot([-1, 1], [-1, 1], label="a line")
        ax.legend(loc="best")
        fig.draw_without_rendering()
        legend_at = ax.get_legend().get_window_extent(fig.canvas.get_renderer()).bounds
        placed, dropped = place_labels(ax, [tuple(p) for p in xy],
                                       [f"{i} of 80" for i in range(60)], fontsize=8)
        fig.canvas.draw()                                  # as it will be saved
        r = fig.canvas.get_renderer()
        # the legend stays where it was drawn (placed "best", it would dodge the labels)
        assert ax.get_legend().get_window_extent(r).bounds == pytest.approx(legend_at)
        return fig, ax, xy, placed, dropped, [a.get_window_extent(r) for a in placed], r
    fig, ax, xy, placed, dropped, boxes, r = draw()
    assert len(placed) + len(dropped) == 60 and 0 < len(dropped) < 30
    pairs = [(i, j) for i in range(len(boxes)) for j in range(i)
             if boxes[i].overlaps(boxes[j])]
    assert pairs == []
    inside = ax.get_window_extent(r)
    assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0
               and b.y1 <= inside.y1 for b in boxes)
    legend = ax.get_legend().get_window_extent(r)
    assert not any(b.overlaps(legend) for b in boxes)
    pts = ax.transData.transform(xy)
    assert not any(b.contains(px, py) for b in boxes for px, py in pts)
    # the check can fail: every label at its first offset collides in the clump
    fig2, (ax2,) = new_figure(6.0, 4.8)
    naive = [ax2.annotate(f"{i} of 80", tuple(p), xytext=LABEL_OFFSETS[0],
                          textcoords="offset points", fontsize=8) for i, p in enumerate(xy)]
    fig2.canvas.draw()
    nb = [a.get_window_extent(fig2.canvas.get_renderer()) for a in naive]
    assert any(nb[i].overlaps(nb[j]) for i in range(60) for j in range(i))
    again = draw()
    assert again[4] == dropped
    assert [a.get_position() for a in again[3]] == [a.get_position() for a in placed]


def test_the_review_figure_names_the_labels_it_leaves_out():
    """Configurations crowded at a few camera counts: some count labels cannot be placed and
    are returned (the caption lists them) instead of drawn over each other."""
    rows = []
    for i in range(24):
        cams = 20 + i % 3
        f = 20 + i % 2
        rows.append(_row(run_id=f"c{i}", layout=f"layout {i}", layout_param=float(i),
                         cameras=cams, cost_total_usd=1000.0 + i, exact_match=0.9,
                         receipts=40, receipts_issued=400, receipts_flagged=f,
                         review_per_1000=1000 * f / 400))
    plan = store_plan("kiosk", rows, set(rows[0]), 0.995)
    uri, left_out = review_figure(plan)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert left_out and all(re.fullmatch(r"layout \d+: 2[01] of 400", t) for t in left_out)


# ---------------------------------------------------------------------------------------------
# bad input


def test_bad_results_raise_report_error_naming_the_file(tmp_path):
    with pytest.raises(ReportError, match="missing"):
        write_report(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportError, match="file.*not a folder"):
        write_report(tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReportError, match="no results.parquet and no runs"):
        write_report(empty)
    bad = tmp_path / "bad"
    (bad / "runs").mkdir(parents=True)
    (bad / "runs" / "r1.parquet").write_text("not parquet")
    with pytest.raises(ReportError, match=r"r1\.parquet.*Parquet"):
        write_report(bad)
    nostatus = tmp_path / "nostatus"
    nostatus.mkdir()
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"x": [1]}), nostatus / "results.parquet")
    with pytest.raises(ReportError, match="results.parquet.*'run_id', 'status'"):
        write_report(nostatus)
    ok = tmp_path / "ok"
    write_row(ok, _row(run_id="r1", exact_match=1.0))
    (ok / "study.toml").write_text("target_exact = 1.5\n")
    with pytest.raises(ReportError, match=r"study.toml: target_exact = 1.5"):
        write_report(ok)
    (ok / "study.toml").write_text("target_exact = [\n")
    with pytest.raises(ReportError, match="study.toml: cannot read"):
        write_report(ok)
    (ok / "study.toml").write_text("target_exact = 0.9\n")
    with pytest.raises(ReportError, match="target = 0 is not allowed"):
        write_report(ok, target=0)
    assert write_report(ok, tmp_path / "out" / "r.html").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_sections_without_data_say_so():
    only_failed = pa.Table.from_pylist([
        _row(run_id="a", status=STATUS_FAILED, error="ValueError: no store"),
        _row(run_id="b", status=STATUS_FAILED, error=None)])
    page = render_html(only_failed)
    # cost, crowd, tracking, speed, compute, fidelity, insights, coverage: each says why and
    # what to do
    assert page.count('class="nodata"') == 8
    assert page.count("No run of this study finished") == 7
    assert "storetwin study FILE --retry-failed" in page
    assert "no data" not in page.lower()
    assert "ValueError: no store" in page and "<img" not in page
    bare = pa.table({"run_id": ["a"], "status": ["ok"]})
    assert "1: 1 ok, 0 failed" in render_html(bare)


# ---------------------------------------------------------------------------------------------
# synthetic results: three stores, layouts x cores x crowds x seeds, scale runs, scenarios


def _row(**kw) -> dict:
    row = dict(run_id="r", study="synthetic", status="ok", error=None, store="kiosk",
               area_sqft=1808.3, bins_per_plate=None, layout="grid 2.5 m",
               layout_generator="grid", layout_param=2.5, layout_file=None, shoppers=10.0,
               minutes=10.0, seed=0, core="full", dead_camera_fraction=0.0,
               dead_plate_fraction=0.0, scenario=None, shoppers_per_shelf=None,
               storetwin_version="0.1.0", python="3.11.2", numpy="2.1.0", host_cpus=2,
               started_at="2026-11-26T10:00:00+00:00")
    row.update(kw)
    return row


CORE_MS_EXPONENT = 0.9      # the synthetic core's time per frame grows as area^0.9


def tracking_drop(cams: int, shoppers: float, core: str) -> float:
    """How much the synthetic kiosk's HOTA and IDF1 lose with fewer cameras, a crowd and the
    naive core."""
    return 0.004 * (30 - cams) + 0.002 * (shoppers - 10) + (0.05 if core == "naive" else 0)

# scored receipts per kiosk run: each rate below is a share of them (exact_match = exact /
# RECEIPTS), as a real row's is
RECEIPTS = 400

# receipts flagged of the 400 issued on the kiosk, per cameras (full core; the naive core
# flags none), seed 1 one more than seed 0; every receipt worth $5, one unflagged one wrong
# per run
FLAGGED = {30: 20, 20: 40, 12: 100}


def _review_cells(cams: int, core: str, seed: int) -> dict:
    f = 0 if core == "naive" else FLAGGED[cams] + seed
    n = RECEIPTS
    return dict(receipts_issued=n, receipts_flagged=f, review_per_1000=1000 * f / n,
                money_flagged_usd=5.0 * f, money_true_usd=5.0 * n, flagged_money_share=f / n,
                receipts_unflagged=n - f, silent_wrong=1, unflagged_exact=(n - 1 - f) / (n - f))


def synthetic_rows() -> list[dict]:
    rng = np.random.default_rng(7)
    rows = []
    for spacing, cams, q in ((2.5, 30, 0.997), (3.0, 20, 0.993), (4.0, 12, 0.95)):
        for core in ("full", "naive"):
            for shoppers in (10.0, 20.0):
                for seed in range(2):
                    ex = q - (0.3 if core == "naive" else 0) - 2e-4 * (shoppers - 10)
                    ex = (round(ex * RECEIPTS) - seed) / RECEIPTS     # exact of RECEIPTS
                    wall = 600 / 230 * rng.uniform(0.97, 1.03)
                    rows.append(_row(
                        layout=f"grid {spacing:g} m", layout_param=spacing,
                        layout_file=f"layouts/kiosk-grid-{spacing:g}.toml", shoppers=shoppers,
                        seed=seed, core=core, exact_match=ex, f1=min(1.0, ex + 0.01),
                        receipts=RECEIPTS,
                        hota=0.97 - tracking_drop(cams, shoppers, core) - 0.01 * seed,
                        idf1=0.99 - tracking_drop(cams, shoppers, core), id_switches=2 + seed, wall_s=wall, sim_s=600.0,
                        real_time_factor=600 / wall, mean_in_store=0.8 * shoppers,
                        core_ms_per_tick=0.1 * 1.8083 ** CORE_MS_EXPONENT,
                        stage_agents_s=0.2 * wall, stage_physics_s=0.1 * wall,
                        stage_cameras_s=0.5 * wall, stage_core_s=0.15 * wall,
                        stage_other_s=0.05 * wall, cameras=cams, plates=495,
                        floor_k1=1.0, floor_k2=0.3, bins_k1=0.9,
                        cost_total_usd=550.0 * cams + 60.0 * 495,
                        **_review_cells(cams, core, seed)))
    for store, area, shoppers in (("grocery", 10_399.9, 100.0), ("supercenter", 180_000.6, 600.0)):
        for seed in range(2):
            wall = 120 / (230 * (1808.3 / area) ** 1.05)
            rows.append(_row(
                store=store, area_sqft=area, layout_file=f"layouts/{store}-grid-2.5.toml",
                shoppers=shoppers, seed=seed, minutes=2.0, exact_match=0.97 + 0.01 * seed,
                f1=0.99, wall_s=wall, sim_s=120.0, real_time_factor=120 / wall,
                core_ms_per_tick=0.1 * (area / 1000) ** CORE_MS_EXPONENT,
                stage_agents_s=0.6 * wall, stage_cameras_s=0.3 * wall, stage_core_s=0.1 * wall,
                cameras=int(30 * area / 1808), plates=int(495 * area / 1808),
                cost_total_usd=300.0 * area))
    for scenario, per_shelf in (("pick", 1), ("swap", 2), ("three_at_one_shelf", 3)):
        for core, q in (("full", 1.0), ("naive", 0.6)):
            rows.append(_row(layout=None, layout_generator=None, layout_param=None,
                             shoppers=None, seed=None, minutes=None, core=core,
                             scenario=scenario, shoppers_per_shelf=per_shelf,
                             exact_match=q / per_shelf, f1=q / per_shelf ** 0.5,
                             ran_as_written=True, real_time_factor=10.0, sim_s=40.0))
    rows.append(_row(layout="grid 2 m", shoppers=20.0, status=STATUS_FAILED,
                     error="RunConfigError: dead_cameras: ids [40] out of range <b>[0, 29]</b>"))
    for i, r in enumerate(rows):
        r["run_id"] = f"s{i:03d}"
    return rows


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A results folder of :func:`synthetic_rows` written through the study's own row writer,
    with the kiosk's layout files (the larger stores' are missing on purpose)."""
    d = tmp_path_factory.mktemp("synthetic")
    for r in synthetic_rows():
        write_row(d, r)
    (d / "layouts").mkdir()
    kiosk = load_store("kiosk")
    for s in (2.5, 3.0, 4.0):
        (d / "layouts" / f"kiosk-grid-{s:g}.toml").write_text(
            dumps_layout(grid_layout(kiosk, spacing=s)))
    (d / "study.toml").write_text('name = "synthetic"\ntarget_exact = 0.99\n')
    return d


def test_synthetic_report_finds_the_plan_the_law_and_the_slow_stage(synthetic):
    page = write_report(synthetic).read_text()
    assert_self_contained(page)
    kiosk = page[page.index("<h3>kiosk</h3>"):page.index("<h3>grocery</h3>")]
    # at the design crowd (20 shoppers) only the 2.5 m grid with the full core meets 99 %
    assert re.search(r"Cheapest configuration meeting 99&nbsp;%: <b>grid 2.5 m, full "
                     r"core</b>, \$46,200", kiosk)
    assert "Cheapest configuration meeting the target at each crowd level" in kiosk
    assert "No configuration of grocery meets 99&nbsp;%" in page
    b = float(re.search(r"core time per camera frame scales as area<sup>([0-9.]+)</sup>",
                        page).group(1))
    assert b == pytest.approx(CORE_MS_EXPONENT, abs=0.01)
    assert "kiosk \u00b7 20 shoppers \u00b7 full core: <b>cameras</b> dominates" in page
    assert "supercenter \u00b7 600 shoppers \u00b7 full core: <b>agents</b> dominates" in page
    assert re.search(r"kiosk at 20 shoppers: real-time factor 2\d\dx mean.*<b>met</b>", page)
    assert re.search(r"supercenter at 600 shoppers: .*<b>met</b>", page)
    assert "layouts/grocery-grid-2.5.toml is not in the results folder" in page
    # the failed run is in the run table, its error escaped
    failed = re.findall(r'<tr class="failed">(.*?)</tr>', page)
    assert len(failed) == 1
    assert "out of range &lt;b&gt;[0, 29]&lt;/b&gt;" in failed[0]
    # a stricter target: none meets it, and the most accurate is named
    kiosk_rows = [r for r in synthetic_rows() if r["store"] == "kiosk" and not r["scenario"]]
    strict = render_html(pa.Table.from_pylist(kiosk_rows), None, StudyInfo(target=0.9999))
    assert ("No configuration of kiosk meets 99.99&nbsp;% at 20 shoppers, no dead sensors; "
            "the most accurate is <b>grid 2.5 m, full core</b>") in strict


def test_synthetic_report_plots_review_against_cameras_beside_cost(synthetic):
    page = write_report(synthetic).read_text()
    kiosk = page[page.index("<h3>kiosk</h3>"):page.index("<h3>grocery</h3>")]
    pair = re.search(r'<div class="pair">(.*?)</div>', kiosk).group(1)
    assert re.findall(r'data-figure="([^"]+)"', pair) == ["pareto-kiosk", "review-kiosk"]
    assert "receipts sent to review per 1,000 issued against cameras" in pair
    # the review table, summed over the two seeds at 20 shoppers: 12 cameras, full core,
    # flagged 100 + 101 of 800 = 251 per 1,000, $1,005 of $4,000, unflagged 599 of which 597
    # right; each count with its 95 % Wilson interval
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", kiosk)
               if "grid 4 m, full core" in r and "599;" in r)
    cells = re.findall(r"<td>(.*?)</td>", row)
    lo, hi = wilson_interval(201, 800)
    ulo, uhi = wilson_interval(597, 599)
    assert cells[1:] == [
        "12", f"251 (201 of 800; 95&nbsp;% CI {1000 * lo:.0f}&ndash;{1000 * hi:.0f})",
        "$1,005.00 of $4,000.00 (25.1&nbsp;%)",
        f"99.7&nbsp;% (597 of 599; 95&nbsp;% CI {100 * ulo:.1f}&ndash;{100 * uhi:.1f}&nbsp;%)",
        "2"]
    naive = next(r for r in re.findall(r"<tr>(.*?)</tr>", kiosk)
                 if "grid 4 m, naive core" in r and "(0 of 800;" in r)
    assert "0 (0 of 800; 95&nbsp;% CI 0&ndash;5)" in naive and "$0.00 of $4,000.00" in naive
    # the stores whose rows hold no review counts have no review table (it said "every
    # receipt went to review" of them)
    grocery = page[page.index("<h3>grocery</h3>"):page.index("<h3>supercenter</h3>")]
    assert "Review, summed" not in grocery and "went to review" not in grocery
    # the stores without review counts draw the cost figure alone
    grocery = page[page.index("<h3>grocery</h3>"):]
    assert 'data-figure="review-grocery"' not in grocery
    assert 'data-figure="pareto-grocery"' in grocery


def test_synthetic_report_gives_every_rate_its_count_and_interval(synthetic):
    page = write_report(synthetic).read_text()
    kiosk = page[page.index("<h3>kiosk</h3>"):page.index("<h3>grocery</h3>")]
    # the verdict: grid 2.5 m, full core at 20 shoppers, 398 + 397 of 800 receipts exact
    lo, hi = wilson_interval(795, 800)
    assert (f"99.38&nbsp;% (795 of 800; 95&nbsp;% CI {100 * lo:.1f}&ndash;{100 * hi:.1f}"
            f"&nbsp;%) exact over 2 seed(s)") in kiosk
    # every exact-match cell of the kiosk's tables: a rate, its count, its interval
    frontier = kiosk[kiosk.index("Pareto frontier"):kiosk.index("Review, summed")]
    cells = [re.findall(r"<td>(.*?)</td>", r)[5]
             for r in re.findall(r"<tr>(<td>.*?)</tr>", frontier)]
    assert len(cells) == 3
    rate = r"\d+\.\d\d&nbsp;% \((\d+) of 800; 95&nbsp;% CI \d+\.\d&ndash;\d+\.\d&nbsp;%\)"
    assert all(re.fullmatch(rate, c) for c in cells), cells
    levels = kiosk[kiosk.index("at each crowd level"):]
    assert len(re.findall(r"of 800; 95&nbsp;% CI", levels)) == 2
    # every run's exact cell in the run table, and the rows with no count say so
    runs = page[page.index("<h2>Every run</h2>"):]
    kiosk_runs = [r for r in re.findall(r"<tr>(.*?)</tr>", runs)
                  if "<td>kiosk</td><td>grid " in r and "<td>ok</td>" in r]
    assert len(kiosk_runs) == 24
    assert all(re.search(r"<td>\d+\.\d&nbsp;% \(\d+ of 400; 95&nbsp;% CI", r)
               for r in kiosk_runs)
    assert "97.0&nbsp;% (no count recorded)" in runs          # grocery: no receipt count
    assert "F1, HOTA, IDF1 and the other tracking scores are means of scores" in runs
    # the frontier's only bare percentages are its F1 column's (a mean score, no count)
    assert len(re.findall(r"<td>\d+\.\d+&nbsp;%</td>", frontier)) == 3


def test_synthetic_report_has_a_tracking_panel(synthetic):
    page = write_report(synthetic).read_text()
    sec = page[page.index("<h2>Tracking against cameras and the crowd</h2>"):]
    sec = sec[:sec.index("<h2>", 10)]
    assert 'data-figure="tracking"' in sec
    # one row per store, core, cameras and crowd: the kiosk's 2 cores x 3 grids x 2 crowds
    rows = re.findall(r"<tr>(.*?)</tr>", sec)[1:]
    assert len(rows) == 12 and all("<td>kiosk</td>" in r for r in rows)
    # 12 cameras, full core, 20 shoppers: HOTA 0.97 - 0.072 - 0.02 (seed 0) and - 0.01
    # (seed 1); IDF1 0.99 - 0.092
    row = next(r for r in rows if "<td>full</td><td>12</td><td>20</td>" in r)
    assert "<td>87.3&nbsp;% (87.8&ndash;86.8)</td>" not in row     # lo before hi
    assert "<td>87.3&nbsp;% (86.8&ndash;87.8)</td><td>89.8&nbsp;%" in row
    assert "no binomial interval" in sec
    # the stores without tracking scores are left out, and nothing is missing for the kiosk
    assert "grocery" not in sec and 'class="nodata"' not in sec


def test_the_tracking_panel_says_what_is_missing():
    no_tracking = pa.Table.from_pylist([_row(run_id="a", exact_match=1.0, receipts=10)])
    page = render_html(no_tracking)
    sec = page[page.index("<h2>Tracking against"):page.index("<h2>Speed")]
    assert "No finished store run has a tracking score" in sec and "<img" not in sec
    only_scenarios = pa.Table.from_pylist([_row(run_id="a", scenario="pick", shoppers=None,
                                                layout=None, exact_match=1.0)])
    page = render_html(only_scenarios)
    sec = page[page.index("<h2>Tracking against"):page.index("<h2>Speed")]
    assert "only scripted scenarios" in sec and "<code>[[stores]]</code>" in sec
    # across stores (as the scale study): the figure against cameras, and what each curve
    # lacks
    scale = pa.Table.from_pylist([
        _row(run_id=s, store=s, area_sqft=a, shoppers=n, cameras=c, hota=h, idf1=h,
             warm_start=True)
        for s, a, n, c, h in (("kiosk", 1808.0, 20.0, 30, 0.9),
                              ("grocery", 10400.0, 80.0, 172, 0.8))])
    page = render_html(scale)
    # warm starts score no receipt: the accuracy sections say so, and how to get one
    assert page.count("The runs of kiosk start warm (<code>warm_start = true</code>)") == 2
    assert "<code>warm_start = false</code>" in page
    sec = page[page.index("<h2>Tracking against"):page.index("<h2>Speed")]
    assert 'data-figure="tracking"' in sec
    assert "one camera count per store (kiosk at 30, grocery at 172 cameras)" in sec
    assert "kiosk at 20 and grocery at 80 shoppers, one crowd level each" in sec
    assert "<code>seeds = 3</code>" in sec


def test_a_one_run_study_says_what_it_lacks_and_how_to_get_it():
    """One store, one layout, one seed, one crowd, no scenarios, no panel: each section
    names what is missing and the study-file key that would supply it."""
    one = _row(run_id="a", layout_generator="grid", exact_match=0.9, receipts=10, f1=0.95,
               hota=0.9, idf1=0.92, cameras=30, plates=495, cost_total_usd=41250.0,
               real_time_factor=90.0, core_ms_per_tick=0.3, sim_s=360.0, stage_agents_s=1.0,
               stage_core_s=2.0)
    page = render_html(pa.Table.from_pylist([one]))
    assert "no data" not in page.lower()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for want in (
            # the cost frontier: one configuration, one seed
            "ran one configuration of kiosk at 10 shoppers, no dead sensors; a frontier of "
            "accuracy against cost needs at least two: give the [[layouts]] table more "
            "spacings (spacing_m = [2.5, 4.0])",
            "Each configuration ran one seed, so the min-max over seeds spans nothing: set "
            "seeds = 3",
            # the crowd curves
            "This study ran kiosk at one crowd level (10 shoppers); a curve of accuracy "
            "against the crowd needs at least two: set shoppers = [10, 20]",
            "a tracking curve against the crowd needs at least two",
            "one camera count per store (kiosk at 30 cameras)",
            # growth law, scenarios, panel
            "This study ran one store size (kiosk, 1,808 sq ft); a growth law of speed "
            "against store size needs at least two: add a [[stores]] table with a larger "
            'store (store = "grocery")',
            "This study ran no scripted scenarios",
            '[[scenarios]] tables, e.g. names = ["pick"] with shoppers_per_shelf = 1',
            "This study had no panel of returning shoppers",
            "[insights] table with panel = 40"):
        assert want in text, want
    # the one rate it has, with its count
    assert "90.00&nbsp;% (9 of 10; 95&nbsp;% CI" in page
    assert "<img" in page                     # the cost and speed figures still drawn


@needs_chromium
def test_synthetic_report_draws_every_figure_in_chromium(synthetic, tmp_path):
    page = synthetic / "report.html"
    if not page.exists():
        write_report(synthetic)
    figs = figures_in_chromium(page, tmp_path)
    want = {"pareto-kiosk", "review-kiosk", "pareto-grocery", "pareto-supercenter",
            "crowd-kiosk", "tracking", "scale", "stages", "fidelity", "heatmap-kiosk"}
    assert set(figs) == want
    for name, size in figs.items():
        assert size is not None and size[0] > 300 and size[1] > 200, (name, size)


# ---------------------------------------------------------------------------------------------
# a real study


@pytest.fixture(scope="module")
def study(small_study, tmp_path_factory) -> Path:
    """A copy of the small study run for real (tests/support.py), plus one failed run written
    the way the runner writes one; results.parquet removed, as after a study killed mid-way
    (the report then reads runs/*.parquet)."""
    f, results, out = small_study
    assert (out.done, out.failed) == (3, 0)
    res = tmp_path_factory.mktemp("report") / "results"
    shutil.copytree(results, res)
    d = res.parent
    params = replace(expand(load_study(f))[0].params, seed=99)
    row = execute(params, {"store_file": str(d / "nowhere.toml"),
                           "layout_path": str(d / "none.toml"), "cameras": 1, "plates": 1})
    assert row["status"] == STATUS_FAILED
    write_row(res, {**params.columns(), **row, "run_id": run_id(params), "study": "small"})
    (res / "results.parquet").unlink()
    return res


@needs_chromium
def test_real_study_report_opens_offline_in_chromium(study, tmp_path):
    assert main(["report", str(study), "--out", str(tmp_path / "tiny.html")]) == 0
    path = tmp_path / "tiny.html"
    page = path.read_text()
    assert_self_contained(page)
    assert "<h1>small: capacity-planning report</h1>" in page
    assert "Two grids on the kiosk." in page
    assert "installation per camera</td><td>150.00" in page      # the study's price table
    assert "4: 3 ok, 1 failed" in page
    assert re.search(r"target</dt><dd>90&nbsp;%", page)
    assert page.count('<tr class="failed">') == 1 and "nowhere.toml" in page
    # the study's metrics lead the run table's metric columns
    head = re.search(r'<table class="runs num"><thead><tr>(.*?)</tr>', page).group(1)
    cols = re.findall(r"<th>(.*?)</th>", head)
    assert cols[cols.index("scenario") + 1:][:2] == ["HOTA", "floor_k2"]
    figs = figures_in_chromium(path, tmp_path)
    assert {"pareto-kiosk", "review-kiosk", "tracking", "scale", "stages", "fidelity",
            "heatmap-kiosk"} <= set(figs)
    # a short study (one seed, one crowd level) says what it lacks, never a bare "no data"
    assert "no data" not in page.lower()
    assert "<code>seeds = 3</code>" in page and "<code>shoppers = [6, 12]</code>" in page
    assert all(size is not None and size[0] > 300 for size in figs.values()), figs
    screenshot_is_drawn(path, tmp_path)
    # the same results, the same bytes (the heatmap recomputed, nothing dated but the data)
    assert write_report(study, tmp_path / "again.html").read_text() == page


def test_insights_section_compares_journeys_with_the_till_and_billing_with_learning():
    rows = []
    # 2.5 m bills best; 4 m learns tastes best (looks follow taste); no looks: no gain
    for layout, spacing, ex, gain in (("grid 2.5 m", 2.5, 0.95, 0.15), ("grid 4 m", 4.0, 0.80,
                                                                          0.25)):
        for taste in (0.0, 1.0):
            for seed in range(2):
                till = 0.2 + (0.02 if seed else -0.02)
                j = till + (gain if taste else 0.0)
                rows.append(_row(
                    layout=layout, layout_param=spacing, panel=40, look_taste=taste, seed=seed,
                    exact_match=ex, receipts=40, pref_rho_journeys=j, pref_rho_receipts=till,
                    **{f"pref_rho_{a}_{s}": (j if s == "journeys" else till)
                       for a in ("organic", "price", "brand") for s in ("journeys",
                                                                       "receipts")},
                    **{f"pref_rho_{s}_v{k}": (j if s == "journeys" else till) * k / 8
                       for s in ("journeys", "receipts") for k in (1, 2, 4, 8)},
                    next_visit_acc_journeys=0.65, next_visit_acc_receipts=0.6,
                    next_visit_acc_population=0.55, visits_per_account=7.0,
                    substitutions=3, substitution_pairs=json.dumps(
                        {"SKU00001>SKU00002": 2, "SKU00013>SKU00014": 1})))
    for i, r in enumerate(rows):
        r["run_id"] = f"i{i}"
    page = render_html(pa.Table.from_pylist(rows))
    sec = page[page.index("What the store learns"):]
    sec = sec[:sec.index("<h2>", 10)]
    assert "taste recovery against visits" in sec and "<img" in sec
    assert "grid 4 m, look taste 1: journeys 0.45, till 0.20 (+0.25)" in sec
    assert "grid 2.5 m, look taste 0: journeys 0.20, till 0.20 (+0.00)" in sec
    # per look taste: 2.5 m bills best; with taste-driven looks 4 m learns best
    lo, hi = wilson_interval(76, 80)          # 38 of 40 receipts exact, two seeds
    best = f"best billing, 95.0&nbsp;% (76 of 80; 95&nbsp;% CI {100 * lo:.1f}&ndash;" \
           f"{100 * hi:.1f}&nbsp;%) exact"
    assert f"grid 2.5 m, look taste 1: {best}; best taste recovery: grid 4 m, look taste 1 " \
           "(rho 0.45)" in sec
    assert f"grid 2.5 m, look taste 0: {best}; it also learns" in sec
    assert "next-visit accuracies are shares of predicted visits whose count the results " \
           "do not hold" in sec
    subs = sec[sec.index("Item-to-item substitutions"):]
    assert re.search(r"SKU00001 Baguette</td><td>SKU00002 Gluten-Free Baguette</td>"
                     r"<td>16</td><td>8</td>", subs)


def test_report_skips_and_names_an_unreadable_row_file(tmp_path, capsys):
    """One unreadable run file among good ones costs its run, not the report: the CLI
    names it on stderr and draws the rest; only unreadable files is still an error."""
    d = tmp_path / "res"
    write_row(d, _row(run_id="r1", exact_match=1.0))
    write_row(d, _row(run_id="r2", exact_match=0.5))
    (d / "runs" / "r3.parquet").write_bytes(b"PAR1 torn")
    assert main(["report", str(d)]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "r3.parquet" in err and "r1.parquet" not in err
    assert (d / "report.html").is_file()
    with pytest.raises(ReportError, match=r"r3\.parquet"):
        write_report(d)                       # the library call without a list: an error
    for f in ("r1", "r2"):
        (d / "runs" / f"{f}.parquet").write_text("torn")
    assert main(["report", str(d)]) == 2
    assert "none of its 3 run files can be read" in capsys.readouterr().err


def test_the_cost_frontier_plans_on_runs_without_fault_schedules():
    """A fault schedule (docs/faults.md) is not a configuration to buy: a study sweeping
    them plans the layout on its fault-free runs, even where a fault run scored higher."""
    from experiments.studies.report.analysis import store_plan
    rows = [dict(store="kiosk", scenario=None, shoppers=15.0, layout="grid 2.5 m", seed=s,
                 faults=f, exact_match=ex, cost_total_usd=41250.0, area_sqft=1800.0,
                 core="full", status="ok")
            for f, ex in ((None, 0.84), ("network", 0.87), ("plates_nan", 0.0))
            for s in (0, 1)]
    plan = store_plan("kiosk", rows, set(rows[0]), 0.995)
    assert plan.labels == ["grid 2.5 m"] and list(plan.exact) == [0.84]
    only = store_plan("kiosk", [r for r in rows if r["faults"]], set(rows[0]), 0.995)
    assert "under fault schedules only" in only.condition
