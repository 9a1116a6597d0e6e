"""storetwin render: RGB, depth and segmentation frames of a simulated crowd; COCO / MOT."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from experiments.cli.common import (
    CliError,
    check_out,
    load_store_arg,
    seed_arg,
)


def cmd_render(a: argparse.Namespace) -> int:
    if "PYOPENGL_PLATFORM" not in os.environ and not os.environ.get("DISPLAY"):
        # no display: render offscreen with EGL (Mesa's llvmpipe without a GPU), before
        # anything imports OpenGL; a user's own choice of platform is kept
        os.environ["PYOPENGL_PLATFORM"] = "egl"
    from experiments.runs.assembly import load_cameras
    from experiments.runs.render import render_run, scale_cameras
    from twin.layout_toml import LayoutError

    store = load_store_arg(a.store, "--store")
    if a.layout is None and not 0.5 <= a.camera_spacing <= 50:
        raise CliError(f"--camera-spacing must be in [0.5, 50] m (as 'storetwin layout "
                       f"grid --spacing'), got {a.camera_spacing:g}")
    if not 0 <= a.shoppers <= 10_000:
        raise CliError(f"--shoppers must be in [0, 10000], got {a.shoppers:g}")
    try:
        cams = load_cameras(store, a.layout, a.camera_spacing)
    except LayoutError as e:
        raise CliError("\n".join(e.lines())) from None
    if not 0 < a.seconds <= 3600:
        raise CliError(f"--seconds must be in (0, 3600], got {a.seconds:g}")
    if not 0 <= a.every < a.seconds or (a.every and a.seconds / a.every > 1000):
        raise CliError(f"--every must be 0 (one tick) or in (0, --seconds) with at most 1,000 "
                       f"ticks, got {a.every:g}")
    chosen = None
    if a.cameras:
        try:
            chosen = sorted({int(x) for x in a.cameras.split(",")})
        except ValueError:
            raise CliError(f"--cameras {a.cameras!r}: expected camera indices like 0,3,7"
                           ) from None
        bad = [c for c in chosen if not 0 <= c < len(cams.camera)]
        if bad:
            raise CliError(f"--cameras {bad} out of range; this layout has cameras 0.."
                           f"{len(cams.camera) - 1}")
    if a.size:
        try:
            w, h = (int(v) for v in a.size.lower().split("x"))
        except ValueError:
            raise CliError(f"--size {a.size!r}: expected WIDTHxHEIGHT, e.g. 640x480") from None
        if not (16 <= w <= 4096 and 16 <= h <= 4096):
            raise CliError(f"--size {a.size}: width and height must be in [16, 4096] px")
        cams = scale_cameras(cams, w, h)
    out = Path(a.out)
    check_out(out)
    try:
        summary = render_run(store, cams, out, seconds=a.seconds, every_s=a.every,
                             cameras=chosen, seed=a.seed, shoppers=a.shoppers,
                             coco=a.coco, mot=a.mot)
    except OSError as e:
        raise CliError(f"--out {out}: cannot write ({e.strerror})") from None
    if a.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"rendered {summary['images']} images ({summary['cameras']} cameras x "
              f"{summary['ticks']} ticks, {summary['width']}x{summary['height']}) of "
              f"{store.name}: {summary['person_instances']} person instances in view; "
              f"rgb/, depth/, seg/{', coco/' if a.coco else ''}{', mot/' if a.mot else ''} "
              f"in {out}")
    return 0


def add(sub) -> None:
    """The ``render`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    rd = sub.add_parser(
        "render", help="render RGB, depth and segmentation frames; COCO / MOT export",
        description="Simulate the store's crowd, then render chosen cameras with pyrender "
                    "(EGL; software OpenGL without a GPU): RGB, depth [mm] and per-person "
                    "segmentation PNGs, and optionally the frames as COCO and MOTChallenge "
                    "datasets.",
        epilog="example: storetwin render --seconds 60 --cameras 4,12 --size 640x480 --coco "
               "--mot --out renders/kiosk",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rd.add_argument("--store", default="kiosk", help="preset or spec .toml (default kiosk)")
    rd.add_argument("--layout", help="camera layout .toml (default: a ceiling grid)")
    rd.add_argument("--camera-spacing", type=float, default=2.5,
                    help="ceiling grid pitch [m] when no layout is given (default 2.5)")
    rd.add_argument("--cameras", help="camera indices to render, e.g. 0,3,7 (default all)")
    rd.add_argument("--size", help="render at WIDTHxHEIGHT, same field of view "
                    "(default: the cameras' own resolution)")
    rd.add_argument("--seconds", type=float, default=60.0,
                    help="simulated seconds before the (last) rendered tick (default 60)")
    rd.add_argument("--every", type=float, default=0.0,
                    help="render every so many seconds instead of once at the end")
    rd.add_argument("--shoppers", type=float, default=15.0, help="crowd size (default 15)")
    rd.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    rd.add_argument("--coco", action="store_true", help="also write coco/annotations.json")
    rd.add_argument("--mot", action="store_true", help="also write MOTChallenge sequences")
    rd.add_argument("--out", required=True, help="output folder")
    rd.add_argument("--json", action="store_true", help="print the summary as JSON")
    rd.set_defaults(func=cmd_render)
