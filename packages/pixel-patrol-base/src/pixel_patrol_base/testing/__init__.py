"""Conformance kit for plugins: what every loader and processor must pass, in its own tests.

::

    from pixel_patrol_base.testing import check_loader, check_processor
    check_loader(MyLoader(), "sample.tif")     # one call per sample file
    check_processor(MyProcessor())             # on built-in sample images, or your own

Each check raises ``AssertionError`` naming the plugin, the sample and the property that
failed. The same declaration checks run when a plugin is selected for a scan; these add what
can only be seen on data (returned columns and shapes, split and chunk invariance, pickling).
"""

from __future__ import annotations

from pixel_patrol_base.testing.loaders import (
    check_declarations,
    check_header,
    check_image_file,
    check_loader,
    check_metadata,
    check_no_fd_leak,
    check_picklable,
    check_regions,
    open_fds,
    sample_regions,
)
from pixel_patrol_base.testing.names import check_public_names
from pixel_patrol_base.testing.processors import check_processor, sample_images

__all__ = [
    "check_declarations",
    "check_header",
    "check_image_file",
    "check_loader",
    "check_metadata",
    "check_no_fd_leak",
    "check_picklable",
    "check_processor",
    "check_public_names",
    "check_regions",
    "open_fds",
    "sample_images",
    "sample_regions",
]
