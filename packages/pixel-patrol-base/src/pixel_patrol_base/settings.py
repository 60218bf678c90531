"""Processing settings: one frozen, validated value built from the CLI or the API.

Validation happens here, once, so every entry point gives the same one-line messages and the
rest of the pipeline can trust its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pixel_patrol_base.contracts import AXES
from pixel_patrol_base.errors import SettingsError

DEFAULT_MB_PER_TASK = 512.0
DEFAULT_MAX_IMAGES_PER_TASK = 200
DEFAULT_ROWS_PER_PART = 10_000
DEFAULT_ROW_GROUP_SIZE = 2048
DEFAULT_TASK_TIMEOUT = 3600.0


def parse_slice_size(items: Iterable[str] | Mapping[str, int] | None) -> dict[str, int]:
    """Parse ``DIM=N`` strings (or validate a mapping) into ``{axis: size}``.

    Axis letters are case-insensitive and must be one of T, C, Z, Y, X, S; ``N`` is a positive
    integer or ``-1`` for the full extent.
    """
    if items is None:
        return {}
    pairs = list(items.items()) if isinstance(items, Mapping) else [_split(s) for s in items]
    out: dict[str, int] = {}
    for axis, raw in pairs:
        letter = str(axis).strip().upper()
        if len(letter) != 1 or letter not in AXES:
            raise SettingsError(
                f"--slice-size: unknown axis '{axis}'; use one of {', '.join(AXES)} (e.g. Z=5)"
            )
        out[letter] = _slice_value(letter, raw)
    return out


def _split(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise SettingsError(f"--slice-size: expected DIM=N (e.g. Z=5), got '{item}'")
    axis, _, value = item.partition("=")
    return axis, value


def _slice_value(axis: str, raw: object) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(
            f"--slice-size: {axis}={raw} is not an integer; use a positive size or -1 for the full extent"
        ) from None
    if value == 0 or value < -1:
        raise SettingsError(
            f"--slice-size: {axis}={value} is invalid; use a positive size or -1 for the full extent"
        )
    return value


def normalise_extensions(exts: Iterable[str] | None) -> frozenset[str]:
    """Lower-case extensions without a leading dot (``.TIF`` → ``tif``); empty = all."""
    out = set()
    for e in exts or ():
        e2 = e.strip().lower().lstrip(".")
        if not e2:
            raise SettingsError(f"--file-extensions: '{e}' is empty; give e.g. -e tif")
        out.add(e2)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class ProcessingSettings:
    """Everything that changes what or how a run processes (stored in the report footer)."""

    file_extensions: frozenset[str] = frozenset()
    processors_include: tuple[str, ...] = ()
    processors_exclude: tuple[str, ...] = ()
    slice_size: Mapping[str, int] = field(default_factory=dict)
    max_workers: int | None = None
    scheduler: str | None = None
    mb_per_task: float = DEFAULT_MB_PER_TASK
    max_images_per_task: int = DEFAULT_MAX_IMAGES_PER_TASK
    rows_per_part: int = DEFAULT_ROWS_PER_PART
    parquet_row_group_size: int = DEFAULT_ROW_GROUP_SIZE
    log_file: bool = False
    omit_base_dir: bool = False
    fail_on_error: bool = False
    resume: bool = False
    incremental: bool = False
    overwrite: bool = False
    allow_any_extension: bool = False
    task_timeout: float | None = DEFAULT_TASK_TIMEOUT

    def __post_init__(self) -> None:
        _positive_int("--max-images-per-task", self.max_images_per_task)
        _positive_int("--rows-per-part", self.rows_per_part)
        _positive_int("--parquet-row-group-size", self.parquet_row_group_size)
        if self.max_workers is not None:
            _positive_int("--max-workers", self.max_workers)
        if not (isinstance(self.mb_per_task, int | float) and math.isfinite(self.mb_per_task)):
            raise SettingsError(f"--mb-per-task must be a number, got {self.mb_per_task!r}")
        if self.mb_per_task <= 0:
            raise SettingsError(f"--mb-per-task must be > 0, got {self.mb_per_task}")
        if self.task_timeout is not None and not self.task_timeout > 0:
            raise SettingsError(f"--task-timeout must be > 0 seconds, got {self.task_timeout}")
        if self.scheduler is not None and not self.scheduler.strip():
            raise SettingsError("--scheduler is empty; give an address such as tcp://host:8786")
        parse_slice_size(self.slice_size)  # validates a mapping given through the API

    @property
    def budget_bytes(self) -> int:
        """The per-task memory budget in bytes (``--mb-per-task`` is in MiB)."""
        return int(self.mb_per_task * 1024 * 1024)

    def to_json(self) -> dict[str, object]:
        """Plain JSON-able form for the report footer."""
        return {
            "file_extensions": sorted(self.file_extensions),
            "processors_include": list(self.processors_include),
            "processors_exclude": list(self.processors_exclude),
            "slice_size": dict(sorted(self.slice_size.items())),
            "max_workers": self.max_workers,
            "scheduler": self.scheduler,
            "mb_per_task": self.mb_per_task,
            "max_images_per_task": self.max_images_per_task,
            "rows_per_part": self.rows_per_part,
            "parquet_row_group_size": self.parquet_row_group_size,
            "omit_base_dir": self.omit_base_dir,
            "resume": self.resume,
            "incremental": self.incremental,
            "task_timeout": self.task_timeout,
        }


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name} must be a positive integer, got {value!r}")
