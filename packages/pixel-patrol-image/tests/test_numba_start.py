"""Numba's set-up loads SciPy's BLAS bindings alone, and SciPy stays whole afterwards."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import pixel_patrol_image._jit
import numba.np.arraymath
assert numba.np.arraymath._HAVE_BLAS
assert "scipy.linalg" not in sys.modules, "numba's set-up imported scipy.linalg"
assert "scipy.linalg.cython_blas" not in sys.modules
import numpy as np
import scipy.linalg
import scipy.linalg.cython_blas
assert len(scipy.linalg.cython_blas.__pyx_capi__) > 0
assert np.allclose(scipy.linalg.solve(np.eye(3) * 2, np.ones(3)), 0.5)
print("ok")
"""


def test_numba_is_set_up_without_scipy_linalg_and_scipy_still_works() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
