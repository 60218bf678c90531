"""Image formats Pixel Patrol knows, which installed loader reads each, and what to install.

Loaders say what they read (``SUPPORTED_EXTENSIONS``, ``FOLDER_EXTENSIONS``), but a run must
also account for files no installed loader reads: a ``.czi`` without its reader plugin, or a
``.nd2`` on a machine with only ``pixel-patrol-base``. This table names the image formats of
this project's loaders so such a file gets an error row saying what to install, instead of
vanishing from the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pixel_patrol_base.contracts import Loader, SupportsMissingReader

log = logging.getLogger(__name__)

LOADER_PACKAGE = "pixel-patrol-loader-bio"
"""The package of this project that provides the loaders ``bioio``, ``tifffile`` and ``zarr``."""

_TIFF = ("tif", "tiff", "ome.tif", "ome.tiff", "btf", "tf2", "tf8", "ome.btf", "ome.tf2", "ome.tf8", "lsm")
KNOWN_IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    **{ext: ("bioio", "tifffile") for ext in _TIFF},
    **{ext: ("bioio",) for ext in ("czi", "nd2", "lif", "png", "jpg", "jpeg", "bmp")},
    "zarr": ("zarr", "bioio"),
    "ome.zarr": ("zarr", "bioio"),
}
"""Extension → the loaders of :data:`LOADER_PACKAGE` that read it, preferred first."""

KNOWN_FOLDER_FORMATS = frozenset({"zarr", "ome.zarr"})
"""Folder datasets: one item, never walked into, when the selected loader does not read them."""


def install_hint(package: str = LOADER_PACKAGE, brings: str | None = None) -> str:
    """What to install, said in one clause: this project's ``package`` (which ``brings`` a
    dependency, e.g. a reader plugin), with a command that installs ours."""
    what = f"{package} (it brings {brings})" if brings else package
    return f"install {what} from the Pixel Patrol repository: {install_command(package)}"


def install_command(package: str) -> str:
    """The one command this module suggests for installing one of this project's packages.

    The same package names exist in the public registry as another project's, so a bare
    ``pip install <name>`` would install something else: the command points at the repository.
    """
    from pixel_patrol_base.plugins import install_hint

    return install_hint(package)


@dataclass(slots=True)
class Readers:
    """Which installed loader reads which extension; probed once per extension and run."""

    loaders: dict[str, Loader]
    _cache: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def installed(cls) -> Readers:
        """Every installed (or registered) loader that imports; broken ones are skipped."""
        from pixel_patrol_base.errors import PluginError
        from pixel_patrol_base.plugins import LOADER_GROUP, available_ids, get_loader

        loaders: dict[str, Loader] = {}
        for name in available_ids(LOADER_GROUP):
            try:
                loaders[name] = get_loader(name)
            except PluginError as exc:
                log.debug("loader %s not usable: %s", name, exc)
        return cls(loaders)

    def reader(self, ext: str) -> str | None:
        """Id of an installed loader that reads ``ext`` (this project's preferred first)."""
        if ext not in self._cache:
            order = [*KNOWN_IMAGE_FORMATS.get(ext, ()), *sorted(self.loaders)]
            self._cache[ext] = next(
                (n for n in dict.fromkeys(order) if n in self.loaders and reads(self.loaders[n], ext)),
                None,
            )
        return self._cache[ext]


def supports(loader: Loader, ext: str) -> bool:
    """Whether ``loader`` declares ``ext`` (a file or folder extension)."""
    return ext in loader.SUPPORTED_EXTENSIONS or ext in loader.FOLDER_EXTENSIONS


def reads(loader: Loader, ext: str) -> bool:
    """Whether ``loader`` declares ``ext`` and has what it needs installed to read it."""
    return supports(loader, ext) and missing_reader(loader, ext) is None


def missing_reader(loader: Loader, ext: str) -> str | None:
    """The distribution ``loader`` needs for ``ext`` but lacks (its optional ``missing_reader``)."""
    return loader.missing_reader(ext) if isinstance(loader, SupportsMissingReader) else None


def no_reader_message(ext: str, selected: Loader | None, readers: Readers) -> str:
    """Error text for a file of a known image format that no installed loader reads.

    Names the loader that would read it and what that loader lacks, or, when no installed
    loader even declares the format, this project's loader package.
    """
    candidate: Loader | None
    if selected is not None and supports(selected, ext):
        candidate = selected
    else:
        order = [*KNOWN_IMAGE_FORMATS.get(ext, ()), *sorted(readers.loaders)]
        candidate = next((readers.loaders[n] for n in order if n in readers.loaders and supports(readers.loaders[n], ext)), None)
    if candidate is None:
        loaders = " or ".join(f"--loader {n}" for n in KNOWN_IMAGE_FORMATS.get(ext, ()))
        return f"no installed loader reads .{ext} files ({loaders} would); {install_hint()}"
    package = missing_reader(candidate, ext)
    ours = candidate.NAME in {n for names in KNOWN_IMAGE_FORMATS.values() for n in names}
    todo = install_hint(brings=package) if ours else f"install {package}"
    return f"the {candidate.NAME} loader needs {package} to read .{ext} files and it is not installed; {todo}"


__all__ = [
    "KNOWN_FOLDER_FORMATS",
    "KNOWN_IMAGE_FORMATS",
    "LOADER_PACKAGE",
    "Readers",
    "install_command",
    "install_hint",
    "missing_reader",
    "no_reader_message",
    "reads",
    "supports",
]
