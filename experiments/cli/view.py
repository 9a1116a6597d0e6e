"""storetwin view: a browser viewer of a run folder."""

from __future__ import annotations

import argparse
import time

from experiments.cli.common import CliError


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 65535] (0: any free "
                                         f"port), got {text!r}")
    return v


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 <= v <= 7 * 86400:
        raise argparse.ArgumentTypeError(f"must be a time into the run in [0, 604800] s, "
                                         f"got {text!r}")
    return v


def _glb(a: argparse.Namespace) -> int:
    from experiments.cli.common import writable_file
    from experiments.view.export import export_run_glb
    from experiments.view.page import ViewError

    out = writable_file(a.glb, "--glb")
    try:
        t, n = export_run_glb(a.run_dir, out, a.at)
    except ViewError as e:
        raise CliError(str(e)) from None
    print(f"glTF: {out}  (the store with {n} shoppers at t = {t:.1f} s; y-up)")
    return 0


def cmd_view(a: argparse.Namespace) -> int:
    from experiments.view.page import ViewError, serve, write_view

    if a.glb:
        return _glb(a)
    if a.at is not None:
        raise CliError("--at goes with --glb (the page has a timeline)")
    t0 = time.perf_counter()
    try:
        page = write_view(a.run_dir, a.out)
    except ViewError as e:
        raise CliError(str(e)) from None
    size = sum(p.stat().st_size for p in page.parent.iterdir())
    print(f"viewer: {page}  ({size / 1e6:.1f} MB, written in {time.perf_counter() - t0:.1f} s; "
          "open it in a browser, from disk or with --serve)")
    if not a.serve:
        return 0
    try:
        srv, url = serve(page.parent, a.port)
    except OSError as e:
        raise CliError(f"--port {a.port}: cannot serve on 127.0.0.1 ({e.strerror})") from None
    print(f"serving {url}  (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.shutdown()
    return 0


def add(sub) -> None:
    """The ``view`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    v = sub.add_parser(
        "view", help="write (and serve) a browser viewer of a run folder",
        description="Write a browser viewer of a run folder: the store in 3-D with its "
                    "cameras and coverage, shoppers and the core's tracks on a timeline, shelf "
                    "events, and every receipt, truth against issued, each line linked to the "
                    "shelf event and evidence behind it. Works offline (three.js is bundled). "
                    "docs/viewer.md.",
        epilog="example: storetwin view runs/kiosk-seed0 --serve",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by 'storetwin run'")
    v.add_argument("--out", help="the viewer's folder (default RUN_DIR/view); replaced whole")
    v.add_argument("--serve", action="store_true",
                   help="serve it on 127.0.0.1 and print the address (Ctrl-C stops)")
    v.add_argument("--port", type=_port, default=0, help="with --serve: the port (default any "
                   "free one)")
    v.add_argument("--glb", metavar="FILE", help="instead of the page: write the store with "
                   "the shoppers standing where they were (ground truth) as one glTF binary")
    v.add_argument("--at", type=_seconds, metavar="SECONDS", help="with --glb: the moment "
                   "(default the one with the most shoppers inside)")
    v.set_defaults(func=cmd_view)
