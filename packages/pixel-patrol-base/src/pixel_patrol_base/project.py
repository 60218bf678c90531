"""The project: what to scan (base folder, condition paths, loader) and where the report goes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.outputs import has_separator_at_end


@dataclass(frozen=True, slots=True)
class Project:
    """A scan definition. ``paths`` are absolute condition folders inside ``base_dir``."""

    name: str
    base_dir: Path
    output_path: Path
    loader: str | None = None
    paths: tuple[Path, ...] = ()
    description: str = ""
    flavor: str = ""

    def with_paths(self, paths: tuple[Path, ...]) -> Project:
        """A copy with other condition paths."""
        return replace(self, paths=paths)


@dataclass(frozen=True, slots=True)
class ProjectMetadata:
    """What the report footer says about the run that wrote it (returned by ``api.load``)."""

    name: str = ""
    description: str = ""
    flavor: str = ""
    created_at: str = ""
    tool_version: str = ""
    package_versions: dict[str, str] = field(default_factory=dict)
    plugins: dict[str, Any] = field(default_factory=dict)
    """Distribution, version and library versions of the loader and each processor."""
    base_dir: str | None = None
    paths: list[str] = field(default_factory=list)
    loader: str | None = None
    processors: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    processing_stats: dict[str, Any] = field(default_factory=dict)


def resolve_base_dir(base_dir: str | os.PathLike[str]) -> Path:
    """Absolute base folder; a clear error when it is missing or not a folder."""
    if not isinstance(base_dir, str | os.PathLike):
        raise SettingsError(f"base directory must be a path, got {type(base_dir).__name__}")
    p = Path(base_dir).expanduser()
    if not p.exists():
        raise SettingsError(f"base directory '{p}' does not exist; check the path")
    if not p.is_dir():
        raise SettingsError(f"base directory '{p}' is a file; give the folder that holds the images")
    return p.resolve()


def resolve_output(output: str | os.PathLike[str] | None, name: str) -> Path:
    """Absolute report path (its folder's links resolved); the folder must exist and be writable.

    What may be written there is checked when the run starts
    (:func:`pixel_patrol_base.outputs.check_run_outputs`). Without an explicit path the report goes to ``<current folder>/<name>.parquet`` — never
    inside the data folder, which may be read-only or shared.
    """
    if output is None:
        safe = re.sub(r"[^\w.-]+", "_", name).strip("._") or "report"
        output = Path.cwd() / f"{safe}.parquet"
    if has_separator_at_end(output):
        raise SettingsError(
            f"-o '{os.fspath(output)!s}' ends with a path separator; give a file name such as"
            " report.parquet"
        )
    out = Path(output).expanduser().absolute()
    if out.is_dir():
        raise SettingsError(f"output '{out}' is a folder; give a file name such as report.parquet")
    parent = out.parent
    if not parent.is_dir():
        raise SettingsError(f"output folder '{parent}' does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SettingsError(f"output folder '{parent}' is not writable; choose another -o")
    return parent.resolve() / out.name


def resolve_paths(base_dir: Path, paths: list[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """Condition folders: relative to ``base_dir`` or absolute, existing, inside it, not nested.

    Nested folders would put a file under two conditions, so they are refused rather than
    silently merged.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        p = (p if p.is_absolute() else base_dir / p).resolve()
        if not p.exists():
            raise SettingsError(f"-p '{raw}' does not exist (looked at '{p}')")
        if not p.is_dir():
            raise SettingsError(f"-p '{raw}' is not a folder")
        if p != base_dir and base_dir not in p.parents:
            raise SettingsError(f"-p '{raw}' is outside the base directory '{base_dir}'")
        if p not in out:
            out.append(p)
    for a in out:
        for b in out:
            if a != b and a in b.parents:
                raise SettingsError(
                    f"-p '{b.relative_to(base_dir)}' lies inside -p '{a.relative_to(base_dir) if a != base_dir else '.'}';"
                    " a file can belong to one condition only"
                )
    return tuple(sorted(out))


def validate_name(name: object) -> str:
    """A non-blank project name."""
    if not isinstance(name, str) or not name.strip():
        raise SettingsError("project name must be a non-empty text (use --name)")
    return name.strip()
