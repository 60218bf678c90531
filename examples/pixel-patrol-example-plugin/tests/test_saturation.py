"""The example processor passes Pixel Patrol's conformance kit and counts what it says."""

from __future__ import annotations

import numpy as np
from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.plugins import get_processor
from pixel_patrol_base.testing import check_processor

from pixel_patrol_example_plugin import Saturation


def test_conformance() -> None:
    """Declarations, returned columns, split and chunk invariance, pickling through Dask."""
    check_processor(Saturation(), split_axes="ZTCSYX")


def test_installed_entry_point() -> None:
    assert type(get_processor("example-saturation")) is Saturation


def test_counts_and_rolled_up_fractions() -> None:
    image = np.zeros((2, 4, 5), dtype=np.uint8)
    image[0, 0, :3] = 255
    image[1] = 255
    rows = process_image(image, ImageHeader("ZYX", image.shape, "uint8"), {}, [Saturation()])
    assert rows["obs_level"] == [0, 1, 1]
    assert rows["saturated_count"] == [23, 3, 20]
    assert rows["saturated_fraction"] == [23 / 40, 3 / 20, 1.0]


def test_floats_count_positive_infinity_only() -> None:
    image = np.array([[1.0, np.inf, -np.inf, np.nan]], dtype=np.float32)
    rows = process_image(image, ImageHeader("YX", image.shape, "float32"), {}, [Saturation()])
    assert rows["saturated_count"] == [1] and rows["saturated_fraction"] == [0.25]
