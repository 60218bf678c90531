"""On an empty kernel cache, compile the other image processor's kernels in a second process.

The first run after installing or upgrading compiles every kernel: about 6 s of CPU for the
compression kernels and 8 s for the quality kernels, one group after the other, because numba
compiles under one lock per process. When a processor's kernels first run in a process and
the other processor's cache is empty, a child process compiles that group on a small plane of
the same pixel type and writes numba's on-disk cache; this process compiles its own group
meanwhile, and when it reaches the other group it waits for the child and loads the compiled
code from the cache: the same code it would have compiled (same source, same types), so the
results do not change, and on two free cores the wait is about halved.

Only processors created in this process are compiled ahead (``--processors-exclude`` never
costs a compile), and only when the process may use two cores. Processors unpickled in worker
processes are not counted, and forked workers do not inherit what their parent noted, so
workers compile as before.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from importlib import import_module

import numpy as np

_GROUPS: dict[str, tuple[str, str, str]] = {
    "raster-compression": (
        "pixel_patrol_image.compression:RasterCompression",
        "pixel_patrol_image._compression_loops",
        "scan",
    ),
    "raster-quality": (
        "pixel_patrol_image.quality:RasterQuality",
        "pixel_patrol_image._fused",
        "quality_sums",
    ),
}
"""Processor id -> (its class, the module of its main kernel, that kernel's name)."""

_PLANE = (256, 256)

_in_use: dict[str, int] = {}
"""Processor id -> the process that created it."""
_children: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
"""Processor id -> (the process that started the child, the child compiling its kernels)."""
_first_run_seen = False


def note_in_use(name: str) -> None:
    """Record that processor ``name`` was created in this process (it may run here)."""
    _in_use[name] = os.getpid()


def before_kernels(name: str, dtype: np.dtype) -> None:
    """Called before processor ``name`` runs its kernels on pixels of ``dtype``.

    On the first call in the process, starts a child for each other processor in use whose
    kernel cache is empty. When a child is compiling ``name``'s kernels, waits for it, so
    they are loaded from the cache instead of compiled a second time here.
    """
    global _first_run_seen
    pid = os.getpid()
    if not _first_run_seen:
        _first_run_seen = True
        if _spare_core():
            for other in sorted(n for n, p in _in_use.items() if n != name and p == pid):
                if other in _GROUPS and _cache_is_empty(other):
                    _children[other] = (pid, _start(other, dtype))
    parent, child = _children.pop(name, (0, None))
    if child is not None and parent == pid:
        child.wait()


def _spare_core() -> bool:
    cpus = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    return cpus >= 2


def _cache_is_empty(name: str) -> bool:
    """True when numba's cache holds no compiled variant of the group's main kernel.

    An index written for other source (the package was upgraded) reads as empty. Anything
    unexpected in numba's cache object answers "not empty": the group is then compiled here,
    as without this module.
    """
    _, module, kernel = _GROUPS[name]
    dispatcher = getattr(import_module(module), kernel)
    try:
        index = dispatcher._cache._cache_file._load_index()
    except (AttributeError, OSError, EOFError, ValueError):
        return False
    return isinstance(index, dict) and not index


def _start(name: str, dtype: np.dtype) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-m", __name__, name, np.dtype(dtype).str],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(_stop, child)
    return child


def _stop(child: subprocess.Popen[bytes]) -> None:
    """At exit, end a child this process never waited for (its group never ran here)."""
    if child.poll() is None:
        child.terminate()
        child.wait()


def compile_group(name: str, dtype: np.dtype) -> None:
    """Run processor ``name`` once on a synthetic plane of ``dtype``, which compiles its
    kernels for that type into numba's on-disk cache (what the child process does)."""
    from pixel_patrol_base.contracts import ImageContext, LeafStack

    target = _GROUPS[name][0]
    module, _, cls_name = target.partition(":")
    processor = getattr(import_module(module), cls_name)()
    planes = _synthetic(np.dtype(dtype))
    processor.run(LeafStack(planes, ImageContext("YX", planes.shape[1:], str(planes.dtype))))


def _synthetic(dtype: np.dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = (1, *_PLANE)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    if dtype.kind in "iu":
        return rng.integers(0, min(4000, np.iinfo(dtype).max), shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


if __name__ == "__main__":  # pragma: no cover - run as a child process
    compile_group(sys.argv[1], np.dtype(sys.argv[2]))
