"""Both processors pass the processor conformance kit of pixel-patrol-base."""

from __future__ import annotations

import numpy as np
import pytest

from pixel_patrol_base.contracts import LeafProcessor
from pixel_patrol_base.testing import check_processor, sample_images
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality


@pytest.mark.parametrize("proc", [RasterQuality(), RasterCompression()], ids=lambda p: p.NAME)
def test_conformance_kit(proc: LeafProcessor) -> None:
    """Per-plane metrics: leaves and chunks may split Z, T, C and S, never a plane."""
    rows = check_processor(proc, split_axes="ZTCS")
    first = next(c.name for c in proc.COLUMNS if not c.internal)
    values = [r[first][0] for r in rows]
    assert len(values) == len(sample_images())
    assert any(v is not None and np.isfinite(v) for v in values)
