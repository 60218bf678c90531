"""The processor conformance kit passes our processors and catches each kind of broken one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pytest
from plugin_fixtures import (
    ExtraColumn,
    FloatCounts,
    MeanProc,
    Shade,
    ShadeMissing,
    ShadeType,
    WrongShape,
)

from pixel_patrol_base.contracts import Agg, Column, ImageContext, LeafStack
from pixel_patrol_base.processors import RasterBasic, RasterHistogram, Thumbnail
from pixel_patrol_base.testing import check_processor, sample_images


@pytest.mark.parametrize("proc", [RasterBasic(), RasterHistogram(), Thumbnail()], ids=lambda p: p.NAME)
def test_our_processors_pass_with_pixel_wise_splits(proc: Any) -> None:
    rows = check_processor(proc, split_axes="ZTCSYX")
    assert len(rows) == len(sample_images())
    if proc.NAME == "raster-basic":
        pixels, _ = sample_images()[1]
        assert rows[1]["mean_intensity"][0] == pytest.approx(float(pixels.mean()), rel=1e-12)
        assert rows[1]["obs_level"] == [0, 1, 1, 1]


def test_a_correct_third_party_processor_passes() -> None:
    rows = check_processor(MeanProc(), split_axes="ZTCSYX")
    floats, _ = sample_images()[3]
    finite = floats[np.isfinite(floats)].astype(np.float64)
    assert rows[3]["acme_mean"][0] == pytest.approx(finite.mean(), rel=1e-12)
    check_processor(Shade(), split_axes="ZTCSYX")


class MedianAsMean(MeanProc):
    """Declares a weighted mean but returns each leaf's median: not mergeable."""

    NAME: ClassVar[str] = "median-as-mean"

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        out = dict(super().run(stack))
        flat = stack.data.reshape(len(stack.data), -1).astype(np.float64)
        out["acme_mean"] = np.nanmedian(np.where(np.isfinite(flat), flat, np.nan), axis=1)
        return out


class StackSize(MeanProc):
    """Its value depends on how many leaves share one ``run`` call."""

    NAME: ClassVar[str] = "stack-size"

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        out = dict(super().run(stack))
        out["acme_mean"] = out["acme_mean"] + len(stack.data)
        return out


class ChunkCount(Shade):
    """A memory processor whose value depends on how many chunks the image was cut into."""

    NAME: ClassVar[str] = "chunk-count"
    BROKEN: ClassVar[str] = "chunks"


class Unpicklable(MeanProc):
    NAME: ClassVar[str] = "unpicklable"

    def __init__(self) -> None:
        self.fn = lambda: 0


class WholeImageMax(Shade):
    """Fine for memory chunks, but ``run`` reads ``image.shape`` as if it were the chunk's."""

    NAME: ClassVar[str] = "whole-max"

    def run(self, chunk: np.ndarray, region: Any, image: ImageContext) -> float:
        return float(np.max(chunk)) + (0.0 if chunk.shape == tuple(image.shape) else 1.0)


@pytest.mark.parametrize(
    ("proc", "message"),
    [
        (ExtraColumn(), "returned column(s) 'acme_secret' not in its COLUMNS"),
        (WrongShape(), "has shape"),
        (FloatCounts(), "holds float64 values; declared int64"),
        (ShadeMissing(), "did not return declared column(s) 'acme_label'"),
        (ShadeType(), "does not fit string"),
        (MedianAsMean(), "one leaf vs leaf blocks"),
        (StackSize(), "stack vs each leaf alone"),
        (ChunkCount(), "memory chunks"),
        (WholeImageMax(), "memory chunks"),
        (Unpicklable(), "instances must pickle"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.NAME,
)
def test_broken_processors_fail(proc: Any, message: str) -> None:
    with pytest.raises(AssertionError) as err:
        check_processor(proc)
    assert message in str(err.value)
    assert repr(proc.NAME) in str(err.value)


class PlaneRange(MeanProc):
    """A per-plane metric: the largest (max - min) over the planes of a leaf."""

    NAME: ClassVar[str] = "plane-range"
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("plane_range", pa.float64(), "Largest max - min of a plane.", Agg.MAX),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        h, w = stack.data.shape[-2:]  # the samples used below end in Y, X
        planes = stack.data.reshape(len(stack.data), -1, h * w).astype(np.float64)
        return {"plane_range": (planes.max(axis=2) - planes.min(axis=2)).max(axis=1)}


def test_plane_metrics_may_leave_y_and_x_out() -> None:
    """A per-plane metric passes without cutting planes, and fails when planes are cut."""
    imgs: Sequence[tuple[np.ndarray, str]] = [
        s for s in sample_images() if s[1].endswith("YX") and s[0].dtype.kind in "iu"
    ]
    assert len(imgs) == 3
    check_processor(PlaneRange(), imgs)
    with pytest.raises(AssertionError, match="one leaf vs leaf blocks along ZTCSYX"):
        check_processor(PlaneRange(), imgs, split_axes="ZTCSYX")
