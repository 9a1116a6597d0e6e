"""Scale of scenes/: the supercenter (180,000 sq ft, ~47,000 bins, 30,000 SKUs) generated,
written, parsed, checked and meshed.

The issue's target is under 30 s on 2 cores and under 2 GB. The benchmark records the time
of each stage (``extra_info``) and asserts no wall-clock time; run
``pytest tests/benchmarks/test_scene_scale.py --benchmark-enable`` for the numbers. Peak
memory is measured in a fresh interpreter (``ru_maxrss``) and asserted: it does not depend on
the machine's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from scenes.generate import PRESET_PARAMS, generate_spec, spec_header
from scenes.meshes import fixture_mesh, scene_mesh
from scenes.spec import parse_spec
from scenes.tomlw import dumps

REPO = Path(__file__).resolve().parents[2]
TARGET_S = 30.0
TARGET_PEAK_MB = 2048.0


def _pipeline() -> dict:
    p = PRESET_PARAMS["supercenter"]
    t0 = time.perf_counter()
    doc = generate_spec(p)
    text = dumps(doc, spec_header(p))
    t1 = time.perf_counter()
    store = parse_spec(text, "supercenter")
    t2 = time.perf_counter()
    scene = scene_mesh(store)
    occ = fixture_mesh(store)
    t3 = time.perf_counter()
    return {"generate_s": t1 - t0, "parse_check_build_s": t2 - t1, "mesh_s": t3 - t2,
            "total_s": t3 - t0, "bins": len(store.bins), "skus": len(store.catalogue),
            "fixtures": len(store.fixtures), "faces": int(sum(len(g.faces) for g in
                                                             scene.geometry.values())),
            "occluder_faces": len(occ.faces)}


def test_supercenter_generate_check_mesh(benchmark) -> None:
    stages = benchmark.pedantic(_pipeline, rounds=1, iterations=1)
    benchmark.extra_info.update({k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in stages.items()})
    benchmark.extra_info["target_s"] = TARGET_S
    assert stages["bins"] > 40_000 and stages["skus"] >= 20_000
    assert stages["occluder_faces"] == 12 * stages["fixtures"]


_CHILD = """
import json, resource, time
from tests_scale import _pipeline
s = _pipeline()
s["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(s))
"""


def test_supercenter_peak_memory_under_2_gb(tmp_path) -> None:
    (tmp_path / "tests_scale.py").write_text(Path(__file__).read_text())
    proc = subprocess.run([sys.executable, "-c", _CHILD], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    assert s["peak_mb"] < TARGET_PEAK_MB, s
