"""storetwin scene new|info|plan|export: write, inspect, draw and export store specs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from experiments.cli.common import (
    CliError,
    Parser,
    check_out,
    load_store_arg,
    seed_arg,
    writable_file,
)


def cmd_scene_new(a: argparse.Namespace) -> int:
    from scenes.generate import (
        GenerationError,
        generate_spec,
        params_for_area,
        parse_area,
        spec_header,
    )
    from scenes.spec import SpecError, build_store
    from scenes.tomlw import dumps

    try:
        area = parse_area(a.area)
        p = params_for_area(area, name=a.name, aisle_width_m=a.aisle_width,
                            gondola_length_m=a.gondola_length, levels=a.levels,
                            bin_width_m=a.bin_width, skus=a.skus, seed=a.seed)
        doc = generate_spec(p)
        store = build_store(doc, "generated spec")
    except GenerationError as e:
        raise CliError(str(e)) from None
    except SpecError as e:   # parameters that make a store that fails its own checks
        raise CliError("\n".join(e.lines())) from None
    if a.catalogue_csv:
        if not a.out:
            raise CliError("--catalogue-csv needs --out (the CSV is written beside the spec)")
        from scenes.catalog_gen import write_catalogue_csv
        csv = Path(a.out).with_suffix(".catalog.csv")
        check_out(csv.parent if str(csv.parent) else Path("."))
        try:
            write_catalogue_csv(store.catalogue, csv)
        except OSError as e:
            raise CliError(f"--out {csv}: cannot write ({e.strerror})") from None
        doc["catalogue"] = {"file": csv.name}
    text = dumps(doc, spec_header(p))
    if a.out:
        out = Path(a.out)
        check_out(out.parent if str(out.parent) else Path("."))
        try:
            out.write_text(text)
        except OSError as e:
            raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
        s = store.summary()
        print(f"wrote {out}: {s['area_sqft']:,} sq ft, {s['fixtures']} fixtures, "
              f"{s['bins']:,} bins, {s['skus']:,} skus", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_scene_info(a: argparse.Namespace) -> int:
    from scenes.info import store_info

    info = store_info(load_store_arg(a.store))
    if a.json:
        print(json.dumps(info, sort_keys=True))
        return 0
    kinds = ", ".join(f"{v} {k}" for k, v in info["fixtures_by_kind"].items())
    gates = ", ".join(f"{g['name']} ({g['kind']}, {g['wall']} wall, {g['width_m']:g} m)"
                      for g in info["gates"])
    rows = [
        ("store", info["name"]),
        ("floor area", f"{info['area_sqft']:,} sq ft ({info['area_m2']:,} m2), "
                       f"{info['walkable_m2']:,} m2 walkable"),
        ("ceiling", f"{info['ceiling_height_m']:g} m"),
        ("aisles", f"{info['aisle_length_m']:,} m long, narrowest {info['aisle_width_m']} m"),
        ("shelf faces", f"{info['shelf_frontage_m']:,} m frontage, "
                        f"{info['shelf_face_area_m2']:,} m2"),
        ("fixtures", f"{info['fixtures']:,} ({kinds})"),
        ("bins (plates)", f"{info['bins']:,} holding {info['units']:,} units "
                          f"(${info['stock_value_usd']:,.2f})"),
        ("skus", f"{info['skus']:,} in the catalogue, {info['skus_placed']:,} placed, "
                 f"{info['categories']} categories, {info['lookalike_pairs']:,} look-alike "
                 "pairs"),
        ("gates", gates),
    ]
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{w}}  {v}" for k, v in rows))
    return 0


def cmd_scene_plan(a: argparse.Namespace) -> int:
    from scenes.plan import draw_plan

    store = load_store_arg(a.store)
    out = writable_file(a.png, "--png")
    cams = None
    if a.camera_spacing is not None:
        if not 0.5 <= a.camera_spacing <= 50:
            raise CliError(f"--camera-spacing must be in [0.5, 50] m (as 'storetwin layout "
                           f"grid --spacing'), got {a.camera_spacing:g}")
        from experiments.runs.assembly import default_cameras
        cams = default_cameras(store, a.camera_spacing).position[:, :2]
    if not 30 <= a.dpi <= 600:
        raise CliError(f"--dpi must be in [30, 600], got {a.dpi}")
    try:
        draw_plan(store, out, cameras_xy=cams, dpi=a.dpi)
    except OSError as e:
        raise CliError(f"--png {out}: cannot write ({e.strerror})") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_scene_export(a: argparse.Namespace) -> int:
    from scenes.meshes import export_glb

    store = load_store_arg(a.store)
    out = writable_file(a.glb, "--glb")
    try:
        export_glb(store, out)
    except OSError as e:
        raise CliError(f"--glb {out}: cannot write ({e.strerror})") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def add(sub) -> None:
    """The ``scene`` verb's parsers, under ``sub`` (the verbs' subparsers)."""
    sc = sub.add_parser("scene", help="write, inspect, draw and export store specs",
                        description="Store specs: generate one, check and summarise it, draw "
                                    "its floor plan, export it as glTF.")
    ss = sc.add_subparsers(dest="scene_verb", metavar="SCENE_VERB", parser_class=Parser)
    fmt = argparse.RawDescriptionHelpFormatter
    n = ss.add_parser("new", help="generate a store spec from a floor area",
                      description="Generate a full store spec (fixtures, gates, catalogue, "
                                  "planogram) from a floor area and a few parameters; the "
                                  "other parameters come from the preset nearest in size.",
                      epilog="example: storetwin scene new --area 10400sqft --out my.toml",
                      formatter_class=fmt)
    n.add_argument("--area", required=True, help="floor area with a unit: 10400sqft or 966m2")
    n.add_argument("--name", help="store name (default: store)")
    n.add_argument("--aisle-width", type=float, help="narrowest aisle [m]")
    n.add_argument("--gondola-length", type=float, help="longest gondola run [m]")
    n.add_argument("--levels", type=int, help="shelf levels per gondola")
    n.add_argument("--bin-width", type=float, help="bin (plate) width [m]")
    n.add_argument("--skus", type=int, help="catalogue size (0: the shipped 127 items)")
    n.add_argument("--seed", type=seed_arg, default=0, help="random seed for the catalogue "
                   "(default 0)")
    n.add_argument("--out", help="spec file to write (default: stdout)")
    n.add_argument("--catalogue-csv", action="store_true",
                   help="write the catalogue beside the spec as OUT.catalog.csv, to edit, "
                        "instead of a generate = {...} rule")
    n.set_defaults(func=cmd_scene_new)
    i = ss.add_parser("info", help="check a store and print its sizes and counts",
                      description="Load and check a store (preset or spec file) and print "
                                  "area, aisle length, fixture/bin/sku counts, shelf-face area.",
                      epilog="example: storetwin scene info supercenter --json",
                      formatter_class=fmt)
    i.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    i.add_argument("--json", action="store_true", help="print JSON on stdout")
    i.set_defaults(func=cmd_scene_info)
    pl = ss.add_parser("plan", help="draw a top-down floor plan as PNG",
                       description="Draw the floor plan: fixtures, aisles, gates, bin faces "
                                   "and optionally a ceiling camera grid.",
                       epilog="example: storetwin scene plan grocery --png grocery.png "
                              "--camera-spacing 3", formatter_class=fmt)
    pl.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    pl.add_argument("--png", required=True, help="PNG file to write")
    pl.add_argument("--camera-spacing", type=float, help="overlay a ceiling camera grid at "
                    "this pitch [m]")
    pl.add_argument("--dpi", type=int, default=150, help="resolution (default 150)")
    pl.set_defaults(func=cmd_scene_plan)
    e = ss.add_parser("export", help="export the store as one glTF binary (GLB)",
                      description="Export floor, walls, fixtures, plates and products (coloured "
                                  "by SKU) as one GLB with named nodes.",
                      epilog="example: storetwin scene export kiosk --glb kiosk.glb",
                      formatter_class=fmt)
    e.add_argument("store", metavar="STORE", help="preset name or spec .toml")
    e.add_argument("--glb", required=True, help="GLB file to write")
    e.set_defaults(func=cmd_scene_export)

