"""Numba's one-time set-up in a process, paid only when a kernel has to be compiled.

Before numba loads a cached kernel it registers its implementations of numpy and Python for
the compiler (``refresh``): it imports some fifty modules and installs thousands of typing
templates, about 0.2 s of CPU in every process, a fifth of a one-file run and the same again
in every worker. Code loaded from the cache needs none of it: it is machine code that calls
only numba's runtime (memory management) and the C maths and helper symbols numba installs
when its CPU target is created. :func:`load_cached_without_registries` makes a kernel's cache
load that way; when the cache misses, the full set-up runs before numba compiles (numba's
compiler refreshes too, so a compile never sees a partial registry).

The full set-up itself avoids importing all of ``scipy.linalg``: the module for array maths
checks on import whether BLAS is available by importing ``scipy.linalg.cython_blas``, and
importing that submodule runs ``scipy.linalg``'s package ``__init__``, which imports most of
SciPy's linear algebra and its array-API layer (about 0.2 s of CPU) for bindings the kernels
never call. The bindings are one extension module that needs nothing from ``scipy.linalg``.
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
from typing import Any

_BINDINGS = "scipy.linalg.cython_blas"


def load_cached_without_registries(dispatcher: Any) -> None:
    """Have ``dispatcher`` load its cached code without numba's registries (see the module).

    Replaces the ``load_overload`` of this dispatcher's own cache object only, so numba code
    of other packages in the process is untouched. A cache of an unexpected shape (another
    numba version) is left as it is: loads then pay the set-up, as without this module.
    """
    cache = getattr(dispatcher, "_cache", None)
    needed = ("_load_overload", "_guard_against_spurious_io_errors", "load_overload")
    if cache is None or not all(hasattr(cache, name) for name in needed):
        return

    def load_overload(sig: Any, target_context: Any) -> Any:
        from numba.core.runtime.nrt import rtsys

        rtsys.initialize(target_context)  # what loaded code calls: numba's memory management
        data = None
        with cache._guard_against_spurious_io_errors():
            data = cache._load_overload(sig, target_context)
        if data is None:  # numba compiles next: it needs every registry
            set_up_numba(target_context)
        return data

    cache.load_overload = load_overload


def set_up_numba(target_context: Any = None) -> None:
    """Register numba's implementations for this process (what numba does before its first
    compile), with SciPy's BLAS bindings loaded on their own."""
    if target_context is None:
        from numba.core.registry import cpu_target

        target_context = cpu_target.target_context
    with _blas_bindings_alone():
        target_context.refresh()


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
