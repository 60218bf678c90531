"""The public names of pixel-patrol-base, pinned.

A name added to or dropped from a public module's ``__all__`` changes what users and plugin
authors may import; it must show up here, in review. Every entry point of the distribution
(plugins, commands) names a pinned public name.
"""

from __future__ import annotations

import pytest

from pixel_patrol_base.testing import check_public_names

DISTRIBUTION = "pixel-patrol-base"

PUBLIC = {
    "pixel_patrol_base": ["__version__"],
    "pixel_patrol_base.api": [
        "add_paths",
        "check",
        "create_project",
        "decode_path",
        "last_summary",
        "load",
        "process_files",
        "report",
    ],
    "pixel_patrol_base.cli": ["app", "entry", "main"],
    "pixel_patrol_base.contracts": [
        "AXES",
        "Agg",
        "BudgetedLoader",
        "Column",
        "ImageContext",
        "ImageFile",
        "ImageHeader",
        "LeafProcessor",
        "LeafStack",
        "Loader",
        "MemoryProcessor",
        "PlaneProgram",
        "PlaneTile",
        "Processor",
        "ROW_AXES",
        "Region",
        "TiledProcessor",
        "is_tiled",
    ],
    "pixel_patrol_base.engine": [
        "ChunkResult",
        "analyse_chunk",
        "columns_for",
        "finish_image",
        "finite_range",
        "merge_ranges",
        "process_image",
    ],
    "pixel_patrol_base.errors": [
        "ContractError",
        "ImageReadError",
        "MAX_CAUSE",
        "MissingDependencyError",
        "PixelPatrolError",
        "PluginError",
        "ReportError",
        "SettingsError",
        "exception_text",
        "one_line",
    ],
    "pixel_patrol_base.findings": [
        "FINDINGS_FORMAT_VERSION",
        "Finding",
        "RowKey",
        "SCOPES",
        "SEVERITIES",
        "Scope",
        "Severity",
        "severity_rank",
    ],
    "pixel_patrol_base.imagefile": ["BaseImageFile", "dtype_name"],
    "pixel_patrol_base.plugins": [
        "KNOWN_PACKAGES",
        "LOADER_GROUP",
        "PROCESSOR_GROUP",
        "PluginInfo",
        "PluginOrigin",
        "available_ids",
        "describe",
        "get_loader",
        "get_processor",
        "install_hint",
        "list_plugins",
        "origin",
        "refresh",
        "register",
        "select_processors",
        "unregister",
    ],
    "pixel_patrol_base.processors.pixel_hash": ["PixelHash"],
    "pixel_patrol_base.processors.raster_basic": ["RasterBasic"],
    "pixel_patrol_base.processors.raster_histogram": ["RasterHistogram"],
    "pixel_patrol_base.processors.thumbnail": ["Thumbnail"],
    "pixel_patrol_base.regions": ["normalise_region", "region_shape", "region_steps"],
    "pixel_patrol_base.testing": [
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
    ],
}


def test_public_names_are_pinned() -> None:
    check_public_names(DISTRIBUTION, PUBLIC)


def test_a_changed_surface_fails() -> None:
    """The pin fails on an export that is not listed, so the test above can fail."""
    changed = {**PUBLIC, "pixel_patrol_base.api": PUBLIC["pixel_patrol_base.api"][1:]}
    with pytest.raises(AssertionError, match=r"pixel_patrol_base\.api\.__all__"):
        check_public_names(DISTRIBUTION, changed)
