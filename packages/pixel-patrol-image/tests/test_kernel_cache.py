"""Compiled kernels must be found in numba's on-disk cache by the next process.

A kernel whose arguments include another compiled function (or any function type) is keyed
by that object's identity in one process: the next run misses the cache and compiles again.
"""

from __future__ import annotations

from pathlib import Path

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


def test_every_kernel_is_keyed_by_the_whole_package() -> None:
    """A kernel's cached code is fresh only for the package it was compiled from: a change to
    a callee's module (another file) must not leave the caller's old compiled code in use."""
    import pixel_patrol_image._jit as jit

    stamp = jit.package_stamp(Path(jit.__file__).parent)
    for kernel in _kernels():
        assert kernel._cache._cache_file._source_stamp == stamp, kernel.__name__


def test_the_package_stamp_changes_with_any_module(tmp_path: Path) -> None:
    from pixel_patrol_image._jit import package_stamp

    def stamp_of(files: dict[str, str]) -> bytes:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
        return package_stamp(folder)

    base = {"a.py": "x = 1\n", "b.py": "y = 2\n"}
    same = stamp_of(base)
    assert stamp_of(dict(base)) == same
    assert stamp_of({**base, "b.py": "y = 3\n"}) != same
    assert stamp_of({**base, "c.py": ""}) != same
    assert stamp_of({"a.py": "x = 1\ny = 2\n", "b.py": ""}) != same
    assert stamp_of({**base, "notes.txt": "not a module"}) == same
