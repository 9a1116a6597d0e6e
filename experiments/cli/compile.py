"""storetwin compile: the numba kernels built for this processor before the first run."""

from __future__ import annotations

import argparse
import json


def cmd_compile(a: argparse.Namespace) -> int:
    import time

    import numba
    from llvmlite import binding

    from experiments.bench.compile import compile_kernels

    t0 = time.perf_counter()
    reports = compile_kernels()
    wall = time.perf_counter() - t0
    target = numba.config.CPU_NAME or binding.get_host_cpu_name()
    if a.json:
        print(json.dumps({"target": target, "numba": numba.__version__, "wall_s": round(wall, 2),
                          "groups": [vars(r) for r in reports]}, sort_keys=True))
        return 0
    print(f"numba {numba.__version__} kernels for this processor ({target}):")
    for r in reports:
        print(f"  {r.name:<22}{r.compiled:>4} compiled, {r.loaded:>3} from the cache"
              f"{r.seconds:>8.1f} s")
    where = (f"in NUMBA_CACHE_DIR ({numba.config.CACHE_DIR})" if numba.config.CACHE_DIR else
             "beside each kernel module (__pycache__; the user's cache folder where that is "
             "not writable)")
    print(f"ready in {wall:.1f} s; numba keeps them {where}")
    return 0


def add(sub) -> None:
    """The ``compile`` verb's parser, under ``sub`` (the verbs' subparsers)."""
    cp = sub.add_parser(
        "compile", help="compile the numba kernels for this processor, before the first run",
        description="Compile the numba kernels a run calls (crowd, load cells, cameras, "
                    "tracker) for this processor and keep them in numba's cache, so that the "
                    "first run does not wait for them (25-80 s on 2 cores). .ci/setup runs "
                    "it; run it after 'pip install storetwin'. Again, it loads them from the "
                    "cache in a few seconds. An edited kernel module is compiled afresh.",
        epilog="example: storetwin compile",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cp.add_argument("--json", action="store_true", help="print the report as JSON")
    cp.set_defaults(func=cmd_compile)
