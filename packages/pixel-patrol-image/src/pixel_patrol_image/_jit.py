"""The one way this package compiles kernels, so that every kernel behaves alike.

Kernels load their cached code without numba's compiler registries (``_numba_start``): a run
whose kernels are all cached never sets those up.

``cache`` validity: numba keys a kernel's cached code by the content of the file that defines
it, so a kernel whose callee lives in another module (``_sites``, ``_fused``, ...) would keep
running its old compiled callee after that module changed (an upgrade that leaves the
caller's file alone). Every kernel's cache is keyed by the content of the whole package
instead: any change to its modules recompiles every kernel once.

``cache``: compiled code is stored next to the module (or in the user's cache directory when
that is read-only), so a process pays the compile time once per machine, not per run.
``nogil``: kernels release the GIL, so threads of a Dask worker can run them side by side.
``error_model="numpy"``: division by zero gives inf/NaN as in numpy instead of raising, which
is what lets the compiler vectorise the loops with divisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from pixel_patrol_image._numba_start import load_cached_without_registries

_njit = njit(cache=True, nogil=True, error_model="numpy")


def compiled(function: Callable[..., Any]) -> Any:
    """Compile ``function`` as a kernel (numba dispatcher) with this package's options."""
    dispatcher = _njit(function)
    load_cached_without_registries(dispatcher)
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if cache_file is not None and hasattr(cache_file, "_source_stamp"):
        cache_file._source_stamp = package_stamp(Path(__file__).parent)
    return dispatcher


@cache
def package_stamp(folder: Path) -> bytes:
    """SHA-256 of the Python modules in ``folder`` (names and contents, in name order): the
    freshness of every kernel's cached code (see the module)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def kernel_input(a: np.ndarray) -> np.ndarray:
    """Pixels for a compiled kernel: 8-bit integers (and bool) as 16-bit integers of the same
    sign, other types as they are.

    Every kernel is compiled once per pixel type it meets, about 7 s of CPU on first use for the
    kernels of one type; 8- and 16-bit images (PNG and TIFF side by side) are common, and the
    kernels compute on 8-bit values exactly as on the same values in 16 bits, so one compiled
    variant serves both. The copy costs far less than the kernels' work on the same pixels.
    """
    if a.dtype.itemsize == 1 and a.dtype.kind in "biu":
        return a.astype(np.int16 if a.dtype.kind == "i" else np.uint16)
    return a
