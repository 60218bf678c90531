"""Versions of the packages that shaped a report (stored in its footer)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

PACKAGES = (
    "pixel-patrol",
    "pixel-patrol-base",
    "pixel-patrol-loader-bio",
    "pixel-patrol-image",
    "pixel-patrol-slurm",
    "numpy",
    "pyarrow",
    "dask",
    "distributed",
    "bioio",
    "tifffile",
    "zarr",
    "scipy",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages in :data:`PACKAGES` (missing ones left out)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out
