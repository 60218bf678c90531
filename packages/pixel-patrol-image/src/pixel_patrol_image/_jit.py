"""The one way this package compiles kernels, so that every kernel behaves alike.

``cache``: compiled code is stored next to the module (or in the user's cache directory when
that is read-only), so a process pays the compile time once per machine, not per run.
``nogil``: kernels release the GIL, so threads of a Dask worker can run them side by side.
``error_model="numpy"``: division by zero gives inf/NaN as in numpy instead of raising, which
is what lets the compiler vectorise the loops with divisions.
"""

from __future__ import annotations

from numba import njit

compiled = njit(cache=True, nogil=True, error_model="numpy")
