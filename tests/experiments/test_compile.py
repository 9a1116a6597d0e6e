"""``storetwin compile`` and numba's cache, from this checkout and from an installed copy.

- after ``storetwin compile`` a run compiles nothing: the groups cover every kernel a run
  calls, with a run's argument types;
- a normal (not editable) install keeps the cache beside its own modules and loads it in the
  next process;
- an edited kernel module is compiled afresh, never served from a stale cache;
- (kernel modules import nothing of storetwin, so an edit elsewhere cannot leave them stale:
  tests/test_architecture.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import REPO, outside_env, storetwin

# a run in this process, with the core in it too, and what numba did for it
RUN_PROBE = """
import json
from experiments.bench.compile import cache_counts
from experiments.runs.config import RunConfig
from experiments.runs.run import run
run(RunConfig(minutes=2, record_streams=False, core_process=False))
compiled, loaded = cache_counts()
print(json.dumps({"compiled": compiled, "loaded": loaded}))
"""

# one load-cell message through the kernel, from wherever twin is imported
SENSOR_PROBE = """
import json
import numpy as np
from experiments.bench.compile import cache_counts
from twin import _sensor_kernels as k
out = np.zeros((1, 2), np.float32)
k.finish(np.full((1, 2), 5.0), np.zeros(1), np.zeros(1), np.zeros((2, 1, 2)), 0.0, 0.0, 1e9,
         0.0, np.zeros(1, np.bool_), np.zeros(1), False, out)
compiled, loaded = cache_counts(("twin._sensor_kernels",))
print(json.dumps({"file": k.__file__, "out": out.tolist(), "compiled": compiled,
                  "loaded": loaded}))
"""


def _env(**extra: str) -> dict[str, str]:
    """A user's environment, with numba's cache where numba puts it by default."""
    return {k: v for k, v in outside_env(**extra).items() if k != "NUMBA_CACHE_DIR"}


def _probe(code: str, cwd: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_after_compile_a_run_compiles_nothing():
    proc = storetwin("compile", "--json", timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    names = [g["name"] for g in doc["groups"]]
    assert names == ["tracker", "crowd and load cells", "cameras", "a one-minute run"]
    for g in doc["groups"]:
        assert g["compiled"] + g["loaded"] > 0, g   # each group reached its kernels
    # the one-minute run found everything the groups compiled
    assert doc["groups"][-1]["compiled"] == 0, doc
    got = _probe(RUN_PROBE, REPO, _env())
    assert got["compiled"] == 0, got
    assert got["loaded"] > 0, got


def test_an_installed_copy_caches_beside_itself_and_recompiles_an_edit(tmp_path):
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--no-index", "--target", str(site),
                          str(REPO)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    module = site / "twin" / "_sensor_kernels.py"
    assert module.is_file()
    env = _env(PYTHONPATH=str(site))
    first = _probe(SENSOR_PROBE, tmp_path, env)
    assert Path(first["file"]) == module                      # the installed copy, not ours
    assert first["compiled"] > 0 and first["loaded"] == 0
    assert first["out"] == [[5.0, 5.0]]
    cached = sorted(p.name for p in (module.parent / "__pycache__").glob("_sensor_kernels.*"))
    assert any(n.endswith(".nbi") for n in cached) and any(n.endswith(".nbc") for n in cached)

    second = _probe(SENSOR_PROBE, tmp_path, env)
    assert second["compiled"] == 0 and second["loaded"] > 0
    assert second["out"] == first["out"]

    # a developer edits the kernel: the next process runs the new code
    text = module.read_text()
    assert text.count("            out[p, j] = g\n") == 1
    module.write_text(text.replace("            out[p, j] = g\n",
                                   "            out[p, j] = g + 1000.0\n"))
    edited = _probe(SENSOR_PROBE, tmp_path, env)
    assert edited["out"] == [[1005.0, 1005.0]]
    assert edited["compiled"] > 0
