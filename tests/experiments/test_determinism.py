"""Same seed, same bytes: what storetwin promises, and its test (README, "Determinism").

- On one machine (one processor, one installation): a run's folder is the same bytes every
  time, ``timing.json`` aside, whatever the process; two ``storetwin run`` processes with
  the same options write identical folders.
- Across x86-64 processors: numba compiles for the processor it runs on, and numpy and the
  C library pick SIMD or FMA versions of ``exp``, ``log``, ``hypot``... by processor, so
  float columns may differ in their last bits. The receipts and the scores of the same run
  agree within :data:`TOLERANCE`: the default run for 4 simulated minutes, here and as on
  a generic x86-64 processor (``tests/cpu_target.py``: numba's target, numpy's dispatch and
  glibc's hardware capabilities), bills the same accounts and scores within it. (4 minutes,
  not 2: the default crowd's trips take about 3 minutes, so a 2-minute run bills nobody.)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cpu_target import target_env
from support import outside_env, storetwin

RUN = ("run", "--minutes", "4", "--json")
# how far apart the scores of one run may be on two x86-64 processors (absolute)
TOLERANCE = {
    ("billing", "exact_match"): 0.05, ("billing", "receipt_f1"): 0.05,
    ("billing", "item_precision"): 0.05, ("billing", "item_recall"): 0.05,
    ("billing", "money_mae_cents"): 25.0,
    ("tracking", "hota"): 0.02, ("tracking", "idf1"): 0.02, ("tracking", "mota"): 0.02,
}


def _run(out: Path, env: dict[str, str]) -> dict:
    proc = storetwin(*RUN, "--out", str(out), env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "timing.json"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    root = tmp_path_factory.mktemp("determinism")
    envs = {"host": outside_env(), "again": outside_env(),
            "generic": target_env("generic", outside_env())}
    return {name: (_run(root / name, env), root / name) for name, env in envs.items()}


def test_one_machine_writes_the_same_bytes_in_every_process(runs):
    (_, a), (_, b) = runs["host"], runs["again"]
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    assert {"receipts.json", "metrics.json", "streams/detections.parquet",
            "ground_truth/shoppers.parquet"} <= set(fa)
    assert [name for name in fa if fa[name] != fb[name]] == []


def test_another_processor_bills_the_same_accounts_and_scores_within_the_tolerance(runs):
    (host, a), (other, b) = runs["host"], runs["generic"]
    assert host["run"] == other["run"]
    assert host["billing"]["receipts_true"] > 0 and host["crowd"]["entered"] > 0

    def accounts(folder: Path) -> list[int]:
        doc = json.loads((folder / "receipts.json").read_text())
        return sorted(r["account"] for r in doc["receipts"])

    assert accounts(a) and accounts(a) == accounts(b)
    for (block, key), tol in TOLERANCE.items():
        x, y = host[block][key], other[block][key]
        if x is None or y is None:
            assert x is None and y is None, (block, key, x, y)
            continue
        assert math.isfinite(x) and abs(x - y) <= tol, (block, key, x, y, tol)


EXP_PROBE = (
    "import hashlib, math, numpy as np\n"
    "x = np.linspace(-20.0, 5.0, 200_001)\n"
    "print(hashlib.sha1(np.exp(x).tobytes()).hexdigest(),\n"
    "      hashlib.sha1(np.array([math.exp(v) for v in x]).tobytes()).hexdigest())\n"
)


def test_the_generic_target_changes_the_arithmetic_where_this_processor_can():
    """The emulation is real: as on generic x86-64, numpy's ``exp`` (no AVX2/AVX-512 loops)
    and the C library's (no FMA) give other bits than here, on a processor that has those."""
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    if not (features.get("AVX512F") or features.get("FMA3")):
        pytest.skip("this processor has neither AVX-512 nor FMA: generic is what it runs")
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NPY_DISABLE_CPU_FEATURES"):
        pytest.skip("this suite already runs as another target (tests/cpu_target.py)")

    def probe(env: dict[str, str]) -> list[str]:
        out = subprocess.run([sys.executable, "-c", EXP_PROBE], capture_output=True,
                             text=True, env=env, timeout=300, check=True)
        return out.stdout.split()

    here, generic = probe(outside_env()), probe(target_env("generic", outside_env()))
    assert here != generic, "the generic target changed neither numpy's exp nor libm's"
    assert np.exp(0.0) == 1.0
