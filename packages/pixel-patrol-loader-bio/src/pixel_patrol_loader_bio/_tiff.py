"""Which series of a TIFF file are images, and their axes (reads are in ``_tiffread``).

Kept apart from the loader class so the ``bioio`` loader can reuse the cheap checks without
importing anything heavy.
"""

from __future__ import annotations

from typing import Any

from pixel_patrol_loader_bio._dims import plan_axes


def is_preview(series: Any) -> bool:
    """True for reduced-resolution series (e.g. the LSM thumbnail): a preview, not an image."""
    return bool(getattr(series.keyframe, "is_reduced", False))


def image_series(tf: Any) -> list[int]:
    """Indices of the series reported as images.

    Reduced-resolution series (NewSubfileType bit 0, as in the thumbnail series of an LSM
    file) repeat another series at lower resolution, so they are skipped unless the file has
    nothing else. Pyramid levels are never separate series in tifffile; level 0 is read.
    """
    series = list(tf.series)
    full = [i for i, s in enumerate(series) if not is_preview(s)]
    return full or list(range(len(series)))


def series_plan(series: Any) -> Any:
    """Axis plan of one series (tifffile's axis letters through the shared normaliser)."""
    return plan_axes(list(series.axes), series.shape)
