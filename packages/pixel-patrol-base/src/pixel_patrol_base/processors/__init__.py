"""Built-in processors: ``raster-basic``, ``raster-histogram`` (leaf), ``thumbnail`` and
``pixel-hash`` (memory).

The modules import only numpy and pyarrow so entry points load quickly; the engine in
:mod:`pixel_patrol_base.engine` feeds them pixel data.
"""

from __future__ import annotations

__all__ = ["PixelHash", "RasterBasic", "RasterHistogram", "Thumbnail"]

from pixel_patrol_base.processors.pixel_hash import PixelHash
from pixel_patrol_base.processors.raster_basic import RasterBasic
from pixel_patrol_base.processors.raster_histogram import RasterHistogram
from pixel_patrol_base.processors.thumbnail import Thumbnail
