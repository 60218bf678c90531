"""Numba's set-up: paid only when a kernel is compiled, and then without ``scipy.linalg``.

Each check runs in a fresh interpreter with its own kernel cache folder, so what numba has
imported and set up is that process's alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# counted_ranks on three 16-bit rows; prints the ranks and whether numba's compiler
# registries were set up in this process (their array-maths module is imported then).
CALL = """
import sys
import numpy as np
from pixel_patrol_image._order_kernels import counted_ranks
keys = np.array([[5, 1, 9, 3], [0, 0, 7, 2], [65535, 4, 4, 1]], dtype=np.uint16)
out = np.zeros((3, 2), dtype=np.int64)
counted_ranks(keys, 65536, np.array([1, 3]), out, np.zeros(65536, dtype=np.int64))
print(out.tolist())
print("registries" if "numba.np.arraymath" in sys.modules else "no registries")
print(counted_ranks.stats.cache_hits.get(counted_ranks.signatures[0], 0))
"""

SCIPY_STILL_WORKS = """
import numba.np.arraymath
assert numba.np.arraymath._HAVE_BLAS
assert "scipy.linalg" not in sys.modules, "numba's set-up imported scipy.linalg"
assert "scipy.linalg.cython_blas" not in sys.modules
import scipy.linalg
import scipy.linalg.cython_blas
assert len(scipy.linalg.cython_blas.__pyx_capi__) > 0
assert np.allclose(scipy.linalg.solve(np.eye(3) * 2, np.ones(3)), 0.5)
print("scipy ok")
"""

EXPECTED_RANKS = [[3, 9], [0, 7], [4, 65535]]


def _run(code: str, cache: Path) -> list[str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")


def test_a_compile_sets_numba_up_without_scipy_linalg_and_scipy_still_works(
    tmp_path: Path,
) -> None:
    lines = _run(CALL + SCIPY_STILL_WORKS, tmp_path)
    assert lines[:4] == [str(EXPECTED_RANKS), "registries", "0", "scipy ok"]


def test_a_cached_kernel_loads_without_the_compiler_registries(tmp_path: Path) -> None:
    first = _run(CALL, tmp_path)
    assert first[:3] == [str(EXPECTED_RANKS), "registries", "0"]  # compiled into the cache
    again = _run(CALL, tmp_path)
    assert again[:3] == [str(EXPECTED_RANKS), "no registries", "1"]  # loaded from it


def test_a_compile_after_a_cached_load_in_one_process_gets_every_registry(
    tmp_path: Path,
) -> None:
    _run(CALL, tmp_path)
    code = CALL + """
keys32 = keys.astype(np.uint32)  # a new signature: numba compiles it in this process
counted_ranks(keys32, 65536, np.array([1, 3]), out, np.zeros(65536, dtype=np.int64))
print(out.tolist())
print("registries" if "numba.np.arraymath" in sys.modules else "no registries")
"""
    lines = _run(code, tmp_path)
    assert lines[:5] == [
        str(EXPECTED_RANKS), "no registries", "1", str(EXPECTED_RANKS), "registries"
    ]
