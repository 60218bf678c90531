"""The loader conformance kit catches each kind of broken loader, and passes a good one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pytest

from pixel_patrol_base.contracts import Column, ImageHeader
from pixel_patrol_base.testing import (
    check_header,
    check_loader,
    check_metadata,
    open_fds,
    sample_regions,
)

LEAKED: list[Any] = []
"""Handles the leaking loader left open, closed by its test once the kit has seen them."""


class NpyFile:
    """A minimal ImageFile over one .npy file; the flags below break it on purpose."""

    def __init__(self, path: str, loader: NpyLoader) -> None:
        self._arr = np.load(path)
        self._loader = loader
        self._handle = open(path, "rb") if loader.leak else None  # noqa: SIM115 - leaked on purpose
        if self._handle is not None:
            LEAKED.append(self._handle)
        meta: dict[str, Any] = {"reader": "numpy", **loader.extra}
        shape = tuple(self._arr.shape) if not loader.lie_shape else (*self._arr.shape[:-1], 99)
        dims = "ZYX"[-self._arr.ndim :]
        self.images = [ImageHeader(dims, shape, self._arr.dtype.name, None, meta)]

    def read(self, index: int, region: Any = None) -> np.ndarray:
        if region is None or self._loader.ignore_region:
            return self._arr
        return self._arr[region]

    def close(self) -> None:
        pass

    def __enter__(self) -> NpyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NpyLoader:
    NAME: ClassVar[str] = "npy"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"npy"})
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset()
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("reader", pa.string(), "Reader."),
        Column("pixel_size_X", pa.float64(), "Pixel width."),
    )

    def __init__(self, **flags: Any) -> None:
        self.leak = flags.pop("leak", False)
        self.lie_shape = flags.pop("lie_shape", False)
        self.ignore_region = flags.pop("ignore_region", False)
        self.extra = flags.pop("extra", {})
        self.unpicklable = flags.pop("unpicklable", None)

    def open(self, path: str) -> NpyFile:
        return NpyFile(path, self)


@pytest.fixture
def npy(tmp_path: Path) -> str:
    path = tmp_path / "stack.npy"
    np.save(path, np.arange(3 * 5 * 7, dtype=np.uint16).reshape(3, 5, 7))
    return str(path)


def test_good_loader_passes(npy: str) -> None:
    headers = check_loader(NpyLoader(extra={"pixel_size_X": 0.5}), npy)
    assert [(h.dim_order, h.shape) for h in headers] == [("ZYX", (3, 5, 7))]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"lie_shape": True}, "read"),
        ({"ignore_region": True}, "region"),
        ({"extra": {"colour": "red"}}, "not among the loader's COLUMNS"),
        ({"extra": {"pixel_size_X": "wide"}}, "does not fit double"),
        ({"leak": True}, "handles left open"),
    ],
)
def test_broken_loaders_fail(npy: str, flags: dict, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_loader(NpyLoader(**flags), npy)
    while LEAKED:  # closed here, not by the garbage collector during a later test
        LEAKED.pop().close()


def test_unpicklable_loader_fails(npy: str) -> None:
    with pytest.raises(Exception, match=r"pickle|lambda|local object"):
        check_loader(NpyLoader(unpicklable=lambda: None), npy)


def test_header_rules() -> None:
    check_header(ImageHeader("CYX", (2, 1, 5), "uint8"))  # Y = 1 is allowed (line scan)
    for bad, message in [
        (ImageHeader("ZYX", (1, 4, 5), "uint8"), "extent 1"),
        (ImageHeader("QYX", (2, 4, 5), "uint8"), "outside"),
        (ImageHeader("YY", (4, 5), "uint8"), "repeats"),
        (ImageHeader("ZX", (4, 5), "uint8"), "lacks Y"),
        (ImageHeader("YX", (4, 5), "u2"), "NumPy name"),
        (ImageHeader("YX", (4, 5, 6), "uint8"), "vs shape"),
    ]:
        with pytest.raises(AssertionError, match=message):
            check_header(bad)


def test_metadata_list_and_timestamp_types() -> None:
    cols = (
        Column("names", pa.list_(pa.string()), "Names."),
        Column("t", pa.timestamp("us", tz="UTC"), "When."),
    )
    from datetime import UTC, datetime

    check_metadata(
        ImageHeader("YX", (1, 1), "uint8", None, {"names": ["a", None], "t": datetime.now(UTC)}),
        cols,
    )
    with pytest.raises(AssertionError):
        check_metadata(ImageHeader("YX", (1, 1), "uint8", None, {"names": "a,b"}), cols)


def test_sample_regions_fit_the_shape() -> None:
    rng = np.random.default_rng(0)
    for region in sample_regions((3, 1, 5), rng):
        assert len(region) == 3
        assert np.zeros((3, 1, 5))[region].size > 0


def test_open_fds_sees_an_open_file(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("x")
    with open(path) as fh:
        seen = open_fds()
        assert seen is None or str(path) in seen
        fh.read()
