"""Numba's one-time set-up in a process, without importing all of ``scipy.linalg``.

Before numba can load a cached kernel (or compile one) it registers its implementations of
numpy; the module for array maths checks on import whether BLAS is available by importing
``scipy.linalg.cython_blas``. Importing that submodule runs ``scipy.linalg``'s package
``__init__``, which imports most of SciPy's linear algebra and its array-API layer: about
0.2 s of CPU, a sixth of a one-file run, for bindings the kernels never call.

The bindings themselves are one extension module that needs nothing from ``scipy.linalg``.
Loaded alone under its own name, it answers numba's check (and numba's check of the BLAS
integer width, read from ``scipy.__config__``) for a tenth of the cost. The entry is taken
out of ``sys.modules`` again once numba is set up, so a later ``import scipy.linalg`` runs
as usual and finds the same module object (the extension keeps it), attribute and all.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

_BINDINGS = "scipy.linalg.cython_blas"


def set_up_numba() -> None:
    """Register numba's implementations for this process (what the first kernel call would
    do), with SciPy's BLAS bindings loaded on their own."""
    from numba.core.registry import cpu_target

    with _blas_bindings_alone():
        cpu_target.target_context.refresh()


@contextmanager
def _blas_bindings_alone() -> Iterator[None]:
    """Have ``scipy.linalg.cython_blas`` importable without its package while the block runs.

    Does nothing when numba's check or ``scipy.linalg`` ran already (nothing to save) or SciPy
    is not installed or laid out as expected (numba then imports what it imports anyway).
    """
    done = "numba.np.arraymath" in sys.modules  # numba's check already ran in this process
    if done or "scipy.linalg" in sys.modules or _BINDINGS in sys.modules:
        yield
        return
    spec = _bindings_spec()
    if spec is None or spec.loader is None:
        yield
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BINDINGS] = module
    try:
        spec.loader.exec_module(module)
    except ImportError:
        del sys.modules[_BINDINGS]
        yield
        return
    try:
        yield
    finally:
        _release(module)


def _release(module: ModuleType) -> None:
    """Forget the bindings' entry unless ``scipy.linalg`` was imported meanwhile, in which
    case the package gets the attribute its own import of the submodule would have set."""
    package = sys.modules.get("scipy.linalg")
    if package is None:
        del sys.modules[_BINDINGS]
    else:
        package.cython_blas = module  # type: ignore[attr-defined]


def _bindings_spec() -> importlib.machinery.ModuleSpec | None:
    """Where the compiled bindings are, found without importing ``scipy`` or ``scipy.linalg``."""
    try:
        scipy_spec = importlib.util.find_spec("scipy")
    except (ImportError, ValueError):
        return None
    if scipy_spec is None or not scipy_spec.submodule_search_locations:
        return None
    folders = [f"{root}/linalg" for root in scipy_spec.submodule_search_locations]
    return importlib.machinery.PathFinder.find_spec(_BINDINGS, folders)
