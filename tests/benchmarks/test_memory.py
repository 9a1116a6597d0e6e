"""Memory flat in simulated time (issue 24): an 8-hour kiosk run peaks within 1.2x of a
10-minute one. Streams, ground-truth tracks and the core's tracks go to disk as they are
produced, and the tracking scores are read back in chunks (experiments/scoring/
streaming.py).

Each run is a fresh process (the core in it: one peak to read), whose peak resident set
(``ru_maxrss``) it prints. Switched on (tests/benchmarks/speed.py) the long run is 8 hours
(~12 minutes on a 2-core machine) and the ratio is asserted; in the default suite the
pair is 1 and 3 simulated minutes, recorded only::

    STORETWIN_BENCH=1 pytest tests/benchmarks/test_memory.py --benchmark-enable -s
"""

from __future__ import annotations

import json
import subprocess
import sys

from support import outside_env

TARGET_RATIO = 1.2
SCRIPT = """
import json, resource, sys
from core.store_core import StoreCore
from experiments.runs.config import RunConfig
from experiments.runs.run import run
r = run(RunConfig(minutes=float(sys.argv[1]), core_process=False), out=sys.argv[2],
        core=StoreCore())
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "receipts": len(r.receipts), "sim_s": r.timing["sim_s"]}))
"""


def _peak(minutes: float, out) -> dict:
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(minutes), str(out)],
                       capture_output=True, text=True, timeout=3600,
                       env=outside_env(PYOPENGL_PLATFORM="egl", OMP_NUM_THREADS="1"))
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_simulated_time(benchmark, speed, tmp_path):
    short, long_ = speed.size((10.0, 480.0), (1.0, 3.0))
    a = _peak(short, tmp_path / "short")
    b = benchmark.pedantic(_peak, args=(long_, tmp_path / "long"), rounds=1, iterations=1)
    ratio = b["peak_mb"] / a["peak_mb"]
    benchmark.extra_info.update(short_minutes=short, long_minutes=long_,
                                short_peak_mb=round(a["peak_mb"], 1),
                                long_peak_mb=round(b["peak_mb"], 1), ratio=round(ratio, 3),
                                target_ratio=TARGET_RATIO)
    assert b["sim_s"] == round(60 * long_, 3) and b["receipts"] > 0
    assert (tmp_path / "long" / "tracks.parquet").exists()
    speed.target(f"{long_:g}-minute run within {TARGET_RATIO}x the peak of {short:g} minutes",
                 ratio <= TARGET_RATIO, f"{b['peak_mb']:.0f} MB vs {a['peak_mb']:.0f} MB")
