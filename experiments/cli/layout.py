"""storetwin layout grid|aisles|shelves|greedy|coverage: camera layouts and their coverage."""

from __future__ import annotations

import argparse
import json

from experiments.cli.common import (
    CliError,
    Parser,
    load_store_arg,
    writable_file,
)


def _coverage_out(a, store, layout, extra: dict | None = None) -> int:
    """Coverage report of ``layout`` (stdout or JSON) and the optional heatmap."""
    from twin.coverage import coverage, heatmap_png

    rep = coverage(store, layout, cell=a.cell)
    d = {**rep.to_dict(), **(extra or {})}
    if a.heatmap:
        out = writable_file(a.heatmap, "--heatmap")
        try:
            heatmap_png(store, rep, out, cameras=layout)
        except OSError as e:
            raise CliError(f"--heatmap {out}: cannot write ({e.strerror})") from None
        d["heatmap"] = str(out)
    if a.json:
        print(json.dumps(d, sort_keys=True))
        return 0

    def pct(x):
        return "n/a" if x is None else f"{100 * x:5.1f} %"
    rows = [
        ("store", f"{store.name} ({round(store.area_sqft):,} sq ft)"),
        ("cameras", f"{d['cameras']} (${d['cost_usd']:,.0f} at list prices)"),
        ("floor seen by >= 1", pct(d["floor_k1"])),
        ("floor seen by >= 2", pct(d["floor_k2"])),
        ("floor seen by >= 3", pct(d["floor_k3"])),
        ("bin faces seen", pct(d["bin_faces_k1"])),
    ]
    if extra and "stopped" in extra:
        rows.append(("greedy stopped", extra["stopped"]))
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{w}}  {v}" for k, v in rows))
    return 0


def cmd_layout(a: argparse.Namespace) -> int:
    from twin import layout_toml as L
    from twin import placement as P
    from twin.layout import DEFAULT_MODELS

    store = load_store_arg(a.store, "--store")
    if a.cell is not None and not 0.05 <= a.cell <= 2.0:
        raise CliError(f"--cell must be in [0.05, 2] m, got {a.cell:g}")
    a.cell = a.cell or 0.25
    model = getattr(a, "model", None) or "dome-4mp"
    if model not in DEFAULT_MODELS:
        raise CliError(f"--model {model!r} is not a known camera model; allowed: "
                       f"{', '.join(DEFAULT_MODELS)}")
    h = getattr(a, "height", None)
    if h is not None and not 1.5 <= h < store.ceiling_height:
        raise CliError(f"--height must be in [1.5, {store.ceiling_height:g}) m (under the "
                       f"ceiling), got {h:g}")
    extra: dict = {}
    if a.layout_verb == "coverage":
        try:
            lay = L.load_layout(a.file, store)
        except L.LayoutError as e:
            raise CliError("\n".join(e.lines())) from None
        return _coverage_out(a, store, lay)
    if a.layout_verb == "grid":
        if not 0.5 <= a.spacing <= 50:
            raise CliError(f"--spacing must be in [0.5, 50] m, got {a.spacing:g}")
        lay = P.grid_layout(store, spacing=a.spacing, height=h, model=model)
    elif a.layout_verb == "aisles":
        lay = P.aisle_pairs(store, height=h, model=model)
    elif a.layout_verb == "shelves":
        lay = P.shelf_facing(store, height=h, model=model)
    else:
        if not 0 < a.target <= 1:
            raise CliError(f"--target must be in (0, 1], got {a.target:g}")
        if not 1 <= a.k <= 5:
            raise CliError(f"--k must be in [1, 5], got {a.k}")
        if a.budget is not None and not 0 < a.budget <= 1e9:
            raise CliError(f"--budget must be in (0, 1e9] USD, got {a.budget:g}")
        if not 0.25 <= a.candidate_spacing <= 10:
            raise CliError(f"--candidate-spacing must be in [0.25, 10] m, got "
                           f"{a.candidate_spacing:g}")
        cand = P.candidate_layout(store, spacing=a.candidate_spacing, height=h, model=model)
        res = P.greedy_layout(store, target=a.target, k=a.k, candidates=cand,
                              budget_usd=a.budget, cell=a.cell)
        lay = res.layout
        extra = {"stopped": res.stopped, "candidates": res.candidates,
                 "trace": [round(float(x), 4) for x in res.trace]}
    if len(lay) == 0:
        raise CliError(f"the {a.layout_verb} generator placed no camera in {store.name!r}")
    if a.out:
        out = writable_file(a.out, "--out")
        try:
            out.write_text(L.dumps_layout(lay, f"storetwin layout {a.layout_verb} for "
                                               f"{store.name}"))
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        extra["out"] = str(out)
    return _coverage_out(a, store, lay, extra)


def add(sub) -> None:
    """The ``layout`` verb's parsers, under ``sub`` (the verbs' subparsers)."""
    fmt = argparse.RawDescriptionHelpFormatter
    lp = sub.add_parser("layout", help="generate camera layouts and report their coverage",
                        description="Camera layouts as data (TOML, docs/camera-layout.md): "
                                    "generate one, and report the floor seen by >= 1, 2, 3 "
                                    "cameras and the bin faces seen, with a heatmap.")
    ls = lp.add_subparsers(dest="layout_verb", metavar="LAYOUT_VERB", parser_class=Parser)

    def common(p, gen: bool = True) -> None:
        p.add_argument("--store", default="kiosk", help="preset or spec .toml (default kiosk)")
        p.add_argument("--heatmap", help="write a cameras-per-cell heatmap PNG")
        p.add_argument("--cell", type=float, default=None,
                       help="floor sample cell [m] (default 0.25)")
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        if gen:
            p.add_argument("--out", help="write the layout TOML")
            p.add_argument("--model", help="camera model (dome-4mp, fisheye-12mp, bullet-4mp)")
            p.add_argument("--height", type=float, help="mounting height [m]")

    g = ls.add_parser("grid", help="ceiling cameras looking down on a square grid",
                      epilog="example: storetwin layout grid --spacing 3 --out grid.toml "
                             "--heatmap grid.png", formatter_class=fmt)
    g.add_argument("--spacing", type=float, default=2.5,
                   help="grid pitch [m] (default 2.5, as 'storetwin run --camera-spacing')")
    common(g)
    a_ = ls.add_parser("aisles", help="a pair of cameras at the ends of each aisle, looking "
                       "down it", epilog="example: storetwin layout aisles --store grocery",
                       formatter_class=fmt)
    common(a_)
    sh = ls.add_parser("shelves", help="cameras across each aisle looking at each shelf face",
                       epilog="example: storetwin layout shelves --out shelves.toml",
                       formatter_class=fmt)
    common(sh)
    gr = ls.add_parser("greedy", help="add the camera with the best coverage gain per dollar "
                       "until a target is met",
                       epilog="example: storetwin layout greedy --target 0.95 --k 2 "
                              "--out greedy.toml --heatmap greedy.png", formatter_class=fmt)
    gr.add_argument("--target", type=float, default=0.95,
                    help="fraction of the floor to see with >= k cameras (default 0.95)")
    gr.add_argument("--k", type=int, default=2, help="cameras per floor point (default 2)")
    gr.add_argument("--budget", type=float, help="stop before spending more [USD]")
    gr.add_argument("--candidate-spacing", type=float, default=1.0,
                    help="pitch of the candidate positions [m] (default 1)")
    common(gr)
    cv = ls.add_parser("coverage", help="report the coverage of a layout file",
                       epilog="example: storetwin layout coverage grid.toml --heatmap grid.png",
                       formatter_class=fmt)
    cv.add_argument("file", metavar="LAYOUT", help="a layout .toml")
    common(cv, gen=False)
    for p in (g, a_, sh, gr, cv):
        p.set_defaults(func=cmd_layout)

