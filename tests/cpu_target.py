"""Run code as on another x86-64 processor, on this one.

Three things storetwin runs pick their code by processor: the machine code numba compiles
for it (vector width, instruction set), the SIMD loops numpy dispatches to at run time (its
``exp``, ``log``, ``hypot``... have AVX2 and AVX-512 versions that round differently from
the C library's), and the C library's own ``exp``, ``log``, ``sin``... (glibc picks FMA
versions where the processor has FMA; they differ from the others in the last bit). A
target sets all three:

- ``host``: as this machine (nothing changed);
- ``haswell``: numba compiles for Haswell (AVX2, FMA, no AVX-512); numpy's AVX-512 loops and
  glibc's AVX-512 variants off;
- ``generic``: numba compiles for generic x86-64 (SSE2); numpy's dispatched loops all off
  (its compiled-in baseline only); glibc as on a processor without AVX, AVX2 or FMA.

Used by ``tests/experiments/test_determinism.py`` (a run on another target) and by
``.ci/run``, which runs the kernel tests again on each target (``-m kernels``)::

    python tests/cpu_target.py haswell -- python -m pytest -m kernels
"""

from __future__ import annotations

import os
import sys

TARGETS = ("host", "haswell", "generic")


def _numpy_dispatch() -> list[str]:
    """The SIMD targets this numpy build dispatches to at run time (e.g. X86_V3, X86_V4,
    AVX512_ICL on numpy 2; AVX2, AVX512F, AVX512_SKX... on numpy 1.26)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__ as dispatch
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__ as dispatch
    return list(dispatch)


def target_env(target: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment ``base`` (default: this process's) with ``target``'s settings."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")
    env = dict(os.environ if base is None else base)
    if target == "host":
        return env
    dispatch = _numpy_dispatch()
    if target == "haswell":
        off = [f for f in dispatch if "AVX512" in f or f in ("X86_V4", "AVX10")]
        hwcaps = "-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD"
    else:
        off = dispatch
        hwcaps = "-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD,-AVX2,-FMA,-AVX"
    # an empty feature string: the CPU name's own features (unset, numba would add the
    # host's, AVX-512 included); glibc's tunables mask what its ifuncs see (glibc >= 2.26)
    env.update(NUMBA_CPU_NAME=target, NUMBA_CPU_FEATURES="",
               NPY_DISABLE_CPU_FEATURES=" ".join(off),
               GLIBC_TUNABLES=f"glibc.cpu.hwcaps={hwcaps}")
    return env


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or argv[0] not in TARGETS:
        sys.stderr.write(f"usage: cpu_target.py {{{','.join(TARGETS)}}} -- COMMAND...\n")
        return 2
    env = target_env(argv[0])
    os.execvpe(argv[2], argv[2:], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
