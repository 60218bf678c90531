"""Find the files (and folder datasets) to scan, in a deterministic order.

Discovery is a generator so that planning and processing can start before the walk ends. It
never raises for one bad entry: an unreadable folder or a dangling link becomes a
:class:`DiscoveryProblem` that the report records as an error row.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pixel_patrol_base.pathtext import encode_path

COMPOUND_EXTENSIONS = frozenset(
    {"ome.tif", "ome.tiff", "ome.zarr", "ome.btf", "ome.tf2", "ome.tf8", "nii.gz", "tar.gz"}
)


def safe_text(path: str) -> str:
    """A path as valid UTF-8 text, one-to-one (:func:`pixel_patrol_base.pathtext.encode_path`).

    File names on Linux are bytes; Arrow strings must be UTF-8. The text is readable, the same on
    every run and never shared by two paths, so it also serves as the file's identity for resume
    and incremental; :func:`~pixel_patrol_base.pathtext.decode_path` gives back the exact bytes.
    """
    return encode_path(path)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One thing to report: a file, or a folder that is one dataset (e.g. ``.zarr``)."""

    path: str
    base_dir: str
    condition: str
    size: int
    mtime_ns: int
    is_dir: bool = False

    def __reduce__(self) -> tuple[type[FileEntry], tuple[str, str, str, int, int, bool]]:
        """Pickle as a plain tuple: every file of every task is sent to a worker, and the
        generic pickling of a slotted dataclass costs several times more."""
        return FileEntry, (self.path, self.base_dir, self.condition, self.size, self.mtime_ns, self.is_dir)

    @property
    def name(self) -> str:
        """Last path component."""
        return os.path.basename(self.path)

    @property
    def rel_path(self) -> str:
        """Path relative to the base directory."""
        return os.path.relpath(self.path, self.base_dir)

    @property
    def key(self) -> str:
        """The file's identity in the report and the resume journal (UTF-8 safe)."""
        return safe_text(self.path)


@dataclass(frozen=True, slots=True)
class DiscoveryProblem:
    """Something under the base directory that could not be looked at (``stage`` discover), or
    a file no installed loader can open (``stage`` header): it becomes an error row."""

    path: str
    base_dir: str
    condition: str
    message: str
    stage: str = "discover"

    @property
    def key(self) -> str:
        """Identity in the report and the resume journal (UTF-8 safe)."""
        return safe_text(self.path)


@dataclass(frozen=True, slots=True)
class Unread:
    """A file (or folder dataset) of a type the selected loader does not read.

    It gets no rows, but the run counts and lists it, so a skipped ``.nd2`` is never confused
    with a folder that had none.
    """

    entry: FileEntry

    @property
    def key(self) -> str:
        """Identity in the report and the resume journal (UTF-8 safe)."""
        return self.entry.key


Found = FileEntry | DiscoveryProblem | Unread


def file_extension(name: str, known: frozenset[str] = frozenset()) -> str:
    """Lower-case extension without the dot; known compound extensions are kept whole.

    ``a.OME.TIF`` → ``ome.tif``; ``b.tif`` → ``tif``; ``README`` → ``""``.
    """
    low = name.lower()
    for dots, compounds in _compounds(known):
        parts = low.rsplit(".", dots + 1)
        if len(parts) == dots + 2 and parts[0]:
            ext = low[len(parts[0]) + 1 :]
            if ext in compounds:
                return ext
    stem, dot, ext = low.rpartition(".")
    return ext if dot and stem else ""


def path_extension(path: str | os.PathLike[str], known: frozenset[str] = frozenset()) -> str:
    """:func:`file_extension` of the last component of ``path`` (a folder store's trailing
    slash ignored): the rule loaders use to pick a reader, the same the scan reports."""
    return file_extension(os.path.basename(os.fspath(path).rstrip("/\\")), known)


@lru_cache(maxsize=64)
def _compounds(known: frozenset[str]) -> tuple[tuple[int, frozenset[str]], ...]:
    """Compound extensions grouped by their number of inner dots, most dots first.

    Called once per file, so the split by dots replaces a scan of every known extension.
    """
    exts = COMPOUND_EXTENSIONS | {k for k in known if "." in k}
    groups: dict[int, set[str]] = {}
    for ext in exts:
        groups.setdefault(ext.count("."), set()).add(ext)
    return tuple((n, frozenset(g)) for n, g in sorted(groups.items(), reverse=True))


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries discovery yields.

    ``extensions`` empty = every file. ``folder_extensions`` name directories that are one
    dataset; ``is_dataset_dir`` may claim other directories (e.g. a zarr store without the
    ``.zarr`` suffix). ``exclude`` holds absolute paths never to report (the report itself).

    With ``report_unread`` (a loader is selected) the files it does not read are yielded as
    :class:`Unread` when ``-e`` (``selected``, empty = all) asks for them, and folders named
    with an ``unread_folder_extensions`` suffix count as one unread dataset, not walked into.
    """

    extensions: frozenset[str] = frozenset()
    folder_extensions: frozenset[str] = frozenset()
    is_dataset_dir: Callable[[str], bool] | None = None
    exclude: frozenset[str] = frozenset()
    report_unread: bool = False
    selected: frozenset[str] = frozenset()
    unread_folder_extensions: frozenset[str] = frozenset()

    def wants_file(self, name: str) -> bool:
        """Whether a file with this name should be reported."""
        return not self.extensions or name.lower().endswith(_suffixes(self.extensions))

    def is_dataset(self, path: str, name: str) -> bool:
        """Whether a directory is one dataset rather than a folder to walk into."""
        low = name.lower()
        if low.endswith(_suffixes(self.folder_extensions)):
            return not self.extensions or low.endswith(_suffixes(self.extensions))
        return self.is_dataset_dir is not None and self.is_dataset_dir(path)

    def is_unread(self, name: str, folder: bool = False) -> bool:
        """Whether a file (or a folder dataset) the loader skips is to be accounted for."""
        if not self.report_unread:
            return False
        low = name.lower()
        if folder and not low.endswith(_suffixes(self.unread_folder_extensions)):
            return False
        return not self.selected or low.endswith(_suffixes(self.selected))


@lru_cache(maxsize=64)
def _suffixes(extensions: frozenset[str]) -> tuple[str, ...]:
    """``.ext`` for each extension, for one C-level ``str.endswith`` per file name."""
    return tuple("." + e for e in sorted(extensions))


def discover(base_dir: Path, conditions: tuple[Path, ...], flt: Filter) -> Iterator[Found]:
    """Walk each condition folder (or the base) in sorted order, depth first."""
    roots = conditions or (base_dir,)
    for root in roots:
        label = os.path.relpath(root, base_dir) if root != base_dir else "."
        walker = _Walker(str(base_dir), label, flt)
        yield from walker.walk(str(root))


def _stat(entry: os.DirEntry[str]) -> os.stat_result | OSError:
    """An entry's status (links followed), or the error that prevented it."""
    try:
        return entry.stat(follow_symlinks=True)
    except OSError as exc:
        return exc


class _Walker:
    """Depth-first, name-sorted walk that follows directory links once (loops are safe)."""

    def __init__(self, base_dir: str, label: str, flt: Filter) -> None:
        self.base_dir = base_dir
        self.label = label
        self.flt = flt
        self.seen: set[tuple[int, int]] = set()

    def problem(self, path: str, message: str) -> DiscoveryProblem:
        return DiscoveryProblem(path, self.base_dir, self.label, message)

    def walk(self, directory: str) -> Iterator[Found]:
        """Everything under ``directory``, depth first in name order.

        The walk keeps a stack of open listings instead of recursing through nested
        generators, so a file deep in the tree costs one ``yield``, not one per level.
        """
        problem, listed = self._enter(directory)
        if problem is not None:
            yield problem
        stack = [iter(listed or ())]
        flt, base, label = self.flt, self.base_dir, self.label
        while stack:
            for entry in stack[-1]:  # runs once per file: the common case is handled inline
                name = entry.name
                if name.startswith(".") or entry.path in flt.exclude:
                    continue
                st = _stat(entry)
                if not isinstance(st, OSError) and stat.S_ISREG(st.st_mode) and flt.wants_file(name):
                    yield FileEntry(entry.path, base, label, st.st_size, st.st_mtime_ns)
                    continue
                found, listed = self._other(entry, st)
                if found is not None:
                    yield found
                if listed is not None:
                    stack.append(iter(listed))
                    break  # walk into the folder; this listing resumes after it
            else:
                stack.pop()

    def _other(
        self, entry: os.DirEntry[str], st: os.stat_result | OSError
    ) -> tuple[Found | None, list[os.DirEntry[str]] | None]:
        """Anything but a wanted file: a problem, an unread file, a dataset or a folder."""
        if isinstance(st, OSError):
            if self.flt.wants_file(entry.name):
                return self.problem(entry.path, f"cannot stat: {st.strerror or st}"), None
            return None, None
        if stat.S_ISDIR(st.st_mode):
            return self._folder(entry)
        if stat.S_ISREG(st.st_mode) and self.flt.is_unread(entry.name):
            return Unread(FileEntry(entry.path, self.base_dir, self.label, st.st_size, st.st_mtime_ns)), None
        return None, None

    def _folder(self, entry: os.DirEntry[str]) -> tuple[Found | None, list[os.DirEntry[str]] | None]:
        """A folder dataset (or an unread one) to report, or the listing of a folder to walk."""
        if self.flt.is_dataset(entry.path, entry.name):
            return self._dataset(entry.path), None
        if self.flt.is_unread(entry.name, folder=True):
            return Unread(self._dataset(entry.path)), None
        return self._enter(entry.path)

    def _enter(self, directory: str) -> tuple[DiscoveryProblem | None, list[os.DirEntry[str]] | None]:
        """The listing of a folder to walk, or the problem that stops it."""
        listed = self._listing(directory)
        if isinstance(listed, DiscoveryProblem):
            return listed, None
        return None, listed

    def _listing(self, directory: str) -> list[os.DirEntry[str]] | DiscoveryProblem | None:
        """A folder's entries sorted by name; ``None`` for a folder already walked (a link loop)."""
        try:
            st = os.stat(directory)
            key = (st.st_dev, st.st_ino)
            if key in self.seen:
                return None
            self.seen.add(key)
            with os.scandir(directory) as it:
                return sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return self.problem(directory, f"cannot read folder: {exc.strerror or exc}")

    def _dataset(self, path: str) -> FileEntry:
        """A folder dataset: size = sum of its files, mtime = newest of them."""
        size, mtime = 0, os.stat(path).st_mtime_ns
        for dirpath, _dirs, files in os.walk(path):
            for f in files:
                try:
                    st = os.stat(os.path.join(dirpath, f))
                except OSError:
                    continue
                size += st.st_size
                mtime = max(mtime, st.st_mtime_ns)
        return FileEntry(path, self.base_dir, self.label, size, mtime, is_dir=True)
