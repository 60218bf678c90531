"""Series discovery and region reads for TIFF files through ``tifffile`` only.

Kept apart from the loader class so the ``bioio`` loader can reuse the cheap checks without
importing anything heavy: this module imports only ``tifffile`` and numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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


def read_series(tf: Any, series: Any, raw: tuple[slice, ...] | None) -> np.ndarray:
    """Decode ``series`` (level 0) or only the box ``raw`` of it.

    Whole pages are read straight from their IFDs when the box covers full pages; boxes that
    cut into the plane go through tifffile's Zarr view, which decodes only the strips or tiles
    that intersect the box.
    """
    if raw is None:
        return np.asarray(series.asarray())
    keys = _page_keys(series, raw)
    if keys is not None:
        lead = tuple(s.stop - s.start for s in raw[: len(raw) - len(series.keyframe.shape)])
        pages = tf.asarray(key=keys, series=series)
        return np.asarray(pages).reshape(lead + tuple(series.keyframe.shape))
    return _read_zarr(series, raw)


def _page_keys(series: Any, raw: tuple[slice, ...]) -> list[int] | None:
    """Series page indices covering ``raw`` when it spans whole pages, else ``None``."""
    page_shape = tuple(series.keyframe.shape)
    n_lead = len(series.shape) - len(page_shape)
    if n_lead < 0 or tuple(series.shape[n_lead:]) != page_shape:
        return None
    lead_shape = tuple(series.shape[:n_lead])
    if len(series.pages) != math.prod(lead_shape) or series.levels[0] is not series:
        return None
    for sl, n in zip(raw[n_lead:], page_shape, strict=True):
        if (sl.start, sl.stop) != (0, n):
            return None
    grids = np.meshgrid(*(np.arange(s.start, s.stop) for s in raw[:n_lead]), indexing="ij")
    flat = np.ravel_multi_index(tuple(g.ravel() for g in grids), lead_shape) if n_lead else [0]
    keys = [int(k) for k in np.atleast_1d(flat)]
    if any(series.pages[k] is None for k in keys):
        return None
    return keys


def _read_zarr(series: Any, raw: tuple[slice, ...]) -> np.ndarray:
    import zarr

    store = series.aszarr(level=0)
    try:
        return np.asarray(zarr.open_array(store, mode="r")[raw])
    finally:
        store.close()
