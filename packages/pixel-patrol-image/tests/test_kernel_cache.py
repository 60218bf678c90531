"""Compiled kernels must be found in numba's on-disk cache by the next process.

A kernel whose arguments include another compiled function (or any function type) is keyed
by that object's identity in one process: the next run misses the cache and compiles again.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.core.registry import CPUDispatcher

import pixel_patrol_image._compression_loops as loops
import pixel_patrol_image._fused as fused
import pixel_patrol_image._order_kernels as order
import pixel_patrol_image._ringing as ringing
import pixel_patrol_image._sites as sites
import pixel_patrol_image._stats_kernels as stats
from pixel_patrol_image._tiles import plane_partials

FUNCTION_TYPES = (types.Dispatcher, types.FunctionType, types.Function)


def _kernels() -> list[CPUDispatcher]:
    return [
        v
        for m in (loops, fused, order, ringing, sites, stats)
        for v in vars(m).values()
        if isinstance(v, CPUDispatcher)
    ]


def test_no_compiled_kernel_takes_a_function_argument() -> None:
    rng = np.random.default_rng(0)
    for dtype in (np.uint8, np.uint16, np.float32):
        plane_partials((rng.random((40, 40)) * 200).astype(dtype))
    # Kernels called from Python record their signatures whether compiled now or loaded from
    # the disk cache; kernels called only from other kernels do so only when compiled, so
    # whether _block_row shows up depends on the cache's state: only the entry points are
    # required (a function argument in their signatures is what breaks the cache's key).
    used = [k for k in _kernels() if k.signatures]
    assert loops.scan in used
    for kernel in used:
        for sig in kernel.signatures:
            bad = [a for a in sig if isinstance(a, FUNCTION_TYPES)]
            assert not bad, f"{kernel.__name__} compiled for {sig}"


def test_every_kernel_is_cached_on_disk() -> None:
    for kernel in _kernels():
        assert kernel._cache.__class__.__name__ != "NullCache", kernel.__name__
