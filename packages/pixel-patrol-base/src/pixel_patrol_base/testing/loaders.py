"""Conformance kit for loader plugins: the checks every loader must pass on every file.

Pure helpers (numpy, pyarrow, pickle; cloudpickle and distributed when installed) so any
loader package can run them in its own tests::

    from pixel_patrol_base.testing import check_loader
    headers = check_loader(MyLoader(), "sample.tif")

Each ``check_*`` function raises ``AssertionError`` with a message naming the file, image and
property that failed, and returns something useful for further assertions.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import AXES, Column, ImageHeader, Loader, Region
from pixel_patrol_base.errors import PluginError
from pixel_patrol_base.plugin_checks import check_instance, check_loader_class

__all__ = [
    "check_declarations",
    "check_header",
    "check_image_file",
    "check_loader",
    "check_metadata",
    "check_no_fd_leak",
    "check_picklable",
    "check_regions",
    "open_fds",
    "sample_regions",
]


def check_declarations(plugin: Any) -> None:
    """The checks the registry runs when a plugin is selected, as an ``AssertionError``.

    Loaders and processors alike: ``NAME``, ``KIND``, ``COLUMNS`` (types, roll-up rules,
    references, no clash with the core's columns), ``LIBRARIES``, required methods and their
    arguments, and pickling (see :mod:`pixel_patrol_base.plugin_checks`).
    """
    from pixel_patrol_base.plugin_checks import check_processor_class

    kind = getattr(plugin, "KIND", None)
    what = f"{'processor' if kind else 'loader'} {getattr(plugin, 'NAME', '?')!r}"
    try:
        if kind is None:
            check_loader_class(type(plugin), what)
            check_instance(plugin, "loader", what)
        else:
            check_processor_class(type(plugin), what)
            check_instance(plugin, kind, what)
    except PluginError as exc:
        raise AssertionError(str(exc)) from exc


def open_fds() -> set[str] | None:
    """Targets of this process's open file descriptors, or ``None`` where they cannot be seen.

    Uses ``/proc/self/fd`` (Linux) and falls back to ``psutil`` when it is installed.
    """
    fd_dir = "/proc/self/fd"
    if os.path.isdir(fd_dir):
        out = set()
        for fd in os.listdir(fd_dir):
            try:
                out.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                continue
        return out
    try:
        import psutil
    except ImportError:
        return None
    return {f.path for f in psutil.Process().open_files()}


def check_no_fd_leak(before: set[str] | None, after: set[str] | None, path: str) -> None:
    """Fail when a file under ``path`` is open after but was not before."""
    if before is None or after is None:
        return
    root = os.path.realpath(path)
    leaked = sorted(f for f in after - before if os.path.realpath(f).startswith(root))
    assert not leaked, f"{path}: handles left open after close(): {leaked}"


def check_picklable(loader: Any) -> list[Any]:
    """Round-trip a plugin through pickle (and cloudpickle / distributed when installed).

    The last trip is Dask's own serialisation, as when the plugin travels to a worker.
    Returns the unpickled copies so the caller can check that they still work.
    """
    copies = [pickle.loads(pickle.dumps(loader))]
    copies += _cloudpickle_copy(loader) + _distributed_copy(loader)
    for copy in copies:
        assert type(copy) is type(loader), f"unpickled {type(copy)} instead of {type(loader)}"
    return copies


def _cloudpickle_copy(loader: Any) -> list[Any]:
    try:
        import cloudpickle
    except ImportError:
        return []
    return [cloudpickle.loads(cloudpickle.dumps(loader))]


def _distributed_copy(loader: Any) -> list[Any]:
    """Round trip through Dask's own serialisation, as when the loader goes to a worker."""
    try:
        from distributed.protocol.serialize import deserialize, serialize
    except ImportError:
        return []
    header, frames = serialize(loader)
    return [deserialize(header, frames)]


def check_metadata(header: ImageHeader, columns: Sequence[Column], where: str = "") -> None:
    """Every metadata key is a declared column and its value fits the column's Arrow type."""
    declared = {c.name: c for c in columns}
    for key, value in header.metadata.items():
        assert key in declared, f"{where}: metadata key {key!r} is not among the loader's COLUMNS"
        col = declared[key]
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            # pyarrow would accept a str as a list of characters; that is never meant.
            assert isinstance(value, list | tuple | np.ndarray), (
                f"{where}: {key}={value!r} is not a list"
            )
        try:
            pa.array([value], type=col.type)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise AssertionError(
                f"{where}: {key}={value!r} does not fit {col.type}: {exc}"
            ) from exc


def check_header(header: ImageHeader, where: str = "") -> None:
    """``dim_order`` uses normalised letters once each, matches ``shape``, keeps Y and X."""
    dims = header.dim_order
    assert dims and set(dims) <= set(AXES), (
        f"{where}: dim_order {dims!r} has letters outside {AXES}"
    )
    assert len(set(dims)) == len(dims), f"{where}: dim_order {dims!r} repeats a letter"
    assert len(dims) == len(header.shape), f"{where}: dim_order {dims!r} vs shape {header.shape}"
    assert "Y" in dims and "X" in dims, f"{where}: dim_order {dims!r} lacks Y or X"
    for axis, n in zip(dims, header.shape, strict=True):
        assert isinstance(n, int) and n >= 0, f"{where}: extent of {axis} is {n!r}"
        assert n != 1 or axis in "YX", f"{where}: axis {axis} of extent 1 should be dropped"
    assert np.dtype(header.dtype).name == header.dtype, (
        f"{where}: dtype {header.dtype!r} is not a NumPy name"
    )
    assert header.child_id is None or isinstance(header.child_id, str), (
        f"{where}: child_id {header.child_id!r}"
    )


def sample_regions(shape: Sequence[int], rng: np.random.Generator, n: int = 4) -> list[Region]:
    """Regions worth testing: one plane, a Y/X window, a strided box and ``n`` random boxes."""
    shape = tuple(int(s) for s in shape)
    regions: list[Region] = []
    regions.append(
        tuple(slice(0, 1) if i < len(shape) - 2 else slice(None) for i in range(len(shape)))
    )
    regions.append(tuple(slice(s // 3, max(s // 3 + 1, (2 * s) // 3)) for s in shape))
    regions.append(tuple(slice(None, None, 2) for _ in shape))
    for _ in range(n):
        box = []
        for s in shape:
            a = int(rng.integers(0, s)) if s else 0
            b = int(rng.integers(a + 1, s + 1)) if s else 0
            box.append(slice(a, b))
        regions.append(tuple(box))
    return regions


def check_regions(
    read: Any, index: int, full: np.ndarray, regions: Iterable[Region], where: str = ""
) -> None:
    """``read(index, region)`` equals the same slice of the full image for every region."""
    for region in regions:
        got = read(index, region)
        want = full[region]
        assert got.shape == want.shape, (
            f"{where}: region {region} shape {got.shape} != {want.shape}"
        )
        assert got.dtype == want.dtype, (
            f"{where}: region {region} dtype {got.dtype} != {want.dtype}"
        )
        assert np.array_equal(got, want, equal_nan=got.dtype.kind in "fc"), (
            f"{where}: region {region} differs"
        )


def _state(obj: Any) -> dict[str, Any]:
    """Instance attributes (``__dict__`` and ``__slots__``) for comparing pickled copies."""
    state = dict(getattr(obj, "__dict__", {}))
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            state[name] = getattr(obj, name)
    return state


def check_image_file(loader: Loader, path: str, *, seed: int = 0) -> list[ImageHeader]:
    """Open ``path``, check every header, full read and sampled region reads, then close."""
    rng = np.random.default_rng(seed)
    with loader.open(path) as opened:
        headers = list(opened.images)
        assert headers, f"{path}: no images"
        ids = [h.child_id for h in headers]
        if len(headers) > 1:
            assert None not in ids and len(set(ids)) == len(ids), (
                f"{path}: child ids {ids} not unique"
            )
        for i, header in enumerate(headers):
            where = f"{path}[{i}]"
            check_header(header, where)
            check_metadata(header, loader.COLUMNS, where)
            full = opened.read(i)
            assert full.shape == tuple(header.shape), (
                f"{where}: read {full.shape} != header {header.shape}"
            )
            assert full.dtype.name == header.dtype, (
                f"{where}: read {full.dtype} != header {header.dtype}"
            )
            check_regions(opened.read, i, full, sample_regions(header.shape, rng), where)
    return headers


def check_loader(loader: Loader, path: str, *, seed: int = 0) -> list[ImageHeader]:
    """All checks on one file: declarations, the above, no handle leak, the same after pickling."""
    check_declarations(loader)
    before = open_fds()
    headers = check_image_file(loader, path, seed=seed)
    check_no_fd_leak(before, open_fds(), path)
    copies = check_picklable(loader)
    for copy in copies:
        assert _state(copy) == _state(loader), f"{type(loader).__name__}: state changed by pickling"
    with copies[-1].open(path) as opened:  # the most realistic trip: Dask's, when installed
        again = list(opened.images)
        assert again == headers, f"{path}: headers differ after the loader was pickled"
        for i, header in enumerate(headers):
            assert opened.read(i).shape == tuple(header.shape), f"{path}[{i}]: read after pickling"
    check_no_fd_leak(before, open_fds(), path)
    return headers
