"""The public names of pixel-patrol-loader-bio, pinned.

A name added to or dropped from a public module's ``__all__`` changes what users and plugin
authors may import; it must show up here, in review. Every entry point of the distribution
(plugins, commands) names a pinned public name.
"""

from __future__ import annotations

from pixel_patrol_base.testing import check_public_names

DISTRIBUTION = "pixel-patrol-loader-bio"

PUBLIC = {
    "pixel_patrol_loader_bio": ["__version__"],
    "pixel_patrol_loader_bio.bioio_loader": ["BioioLoader"],
    "pixel_patrol_loader_bio.tifffile_loader": ["TifffileLoader"],
    "pixel_patrol_loader_bio.zarr_loader": ["ZarrLoader"],
}


def test_public_names_are_pinned() -> None:
    check_public_names(DISTRIBUTION, PUBLIC)
