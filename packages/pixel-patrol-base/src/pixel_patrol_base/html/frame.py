"""The report's table, prepared once for every section: image rows, group codes, descriptions.

Every section of the page is computed from this one value, so the group-by column and the
row selection (image rows at ``obs_level`` 0, slice rows at 1) are decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.html.heavy import HeavySource, TableSource
from pixel_patrol_base.project import ProjectMetadata

MAX_GROUPS = 60
"""More distinct values than this are shown as the largest groups plus one '(other)' group."""
NONE_LABEL = "(none)"
OTHER_LABEL = "(other)"

_NOT_CATEGORICAL = ("thumbnail", "histogram_counts")


@dataclass(frozen=True)
class ReportFrame:
    """A report ready for aggregation.

    ``row_group`` holds the group code of every row, ``images`` the obs_level-0 rows (one per
    image or sub-image, error rows included) and ``image_group`` their codes; ``groups`` are the
    labels in display order.
    """

    table: pa.Table
    meta: ProjectMetadata
    group_by: str
    groups: tuple[str, ...]
    row_group: np.ndarray
    images: pa.Table
    image_rows: np.ndarray
    image_group: np.ndarray
    heavy: HeavySource
    descriptions: dict[str, str] = field(default_factory=dict)
    lumped: int = 0
    """Distinct values merged into the '(other)' group (0 when every value has its own group)."""

    @property
    def n_images(self) -> int:
        """Number of image rows (obs_level 0)."""
        result: int = self.images.num_rows
        return result

    @cached_property
    def row_image(self) -> np.ndarray:
        """For every row, the index of its image row (same file and sub-image); -1 if none."""
        if not (self.has("imported_path") and self.n_images):
            return np.full(self.table.num_rows, -1, dtype=np.int64)
        key = pc.binary_join_element_wise(
            pc.fill_null(self.table.column("imported_path"), ""),
            pc.fill_null(self.table.column("child_id"), "") if self.has("child_id") else "",
            "\x00",
        )
        codes = pc.dictionary_encode(key.combine_chunks()).indices.to_numpy(zero_copy_only=False)
        of_code = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
        of_code[codes[self.image_rows]] = np.arange(self.n_images)
        result: np.ndarray = of_code[codes]
        return result

    def has(self, name: str) -> bool:
        """Whether the report has column ``name`` (in the table or as a heavy column)."""
        return name in self.table.column_names or self.heavy.has(name)

    def image_heavy(self, name: str, idx: np.ndarray) -> pa.Array:
        """A heavy column (histograms, thumbnails) at image indices ``idx``."""
        return self.heavy.take(name, self.image_rows[np.asarray(idx, dtype=np.int64)])

    def image_column(self, name: str) -> np.ndarray:
        """An image-level numeric column as float64 (null → NaN)."""
        return numeric(self.images.column(name))

    def describe(self, name: str) -> str:
        """The column's description from the report's field metadata ('' when absent)."""
        return self.descriptions.get(name, "")


def numeric(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric or timestamp column as float64 with NaN for nulls (timestamps in seconds)."""
    if pa.types.is_timestamp(col.type):
        col = pc.divide(pc.cast(col.cast(pa.timestamp("us")), pa.int64()), 1_000_000)
    arr = pc.cast(col, pa.float64())
    return np.asarray(pc.fill_null(arr, float("nan")).to_numpy(zero_copy_only=False), dtype=np.float64)


def descriptions(schema: pa.Schema) -> dict[str, str]:
    """Each column's description, as the report stores it in the field metadata."""
    out = {}
    for f in schema:
        raw = (f.metadata or {}).get(b"description")
        if raw:
            out[f.name] = raw.decode("utf-8", errors="replace")
    return out


def is_categorical(t: pa.DataType) -> bool:
    """Strings, booleans, integers, dictionaries and lists of strings can label a group."""
    if pa.types.is_dictionary(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return is_categorical(t.value_type) and not pa.types.is_list(t.value_type)
    result: bool = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t) or pa.types.is_integer(t)
    return result


def labels(col: pa.ChunkedArray) -> list[str]:
    """One text label per row; null → '(none)', lists joined with ', '."""
    out = []
    for v in col.to_pylist():
        if v is None:
            out.append(NONE_LABEL)
        elif isinstance(v, list):
            out.append(", ".join(str(x) for x in v) if v else NONE_LABEL)
        else:
            out.append(str(v))
    return out


def group_codes(col: pa.ChunkedArray) -> tuple[tuple[str, ...], np.ndarray, int]:
    """Group labels (largest first beyond :data:`MAX_GROUPS`, else sorted) and per-row codes."""
    dense = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(dense.type):
        dense = dense.cast(dense.type.value_type)
    if pa.types.is_string(dense.type) or pa.types.is_large_string(dense.type) or pa.types.is_integer(dense.type) or pa.types.is_boolean(dense.type):
        enc = pc.dictionary_encode(dense)
        values = labels(pa.chunked_array([enc.dictionary]))
        idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        if (idx < 0).any():
            values.append(NONE_LABEL)
            idx = np.where(idx < 0, len(values) - 1, idx)
    else:
        values, idx = _python_codes(labels(pa.chunked_array([dense])))
    return _order_groups(values, idx)


def _python_codes(row_labels: list[str]) -> tuple[list[str], np.ndarray]:
    uniq: dict[str, int] = {}
    idx = np.fromiter((uniq.setdefault(v, len(uniq)) for v in row_labels), dtype=np.int64, count=len(row_labels))
    return list(uniq), idx


def _order_groups(values: list[str], idx: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, int]:
    counts = np.bincount(idx, minlength=len(values)) if len(idx) else np.zeros(len(values), np.int64)
    present = [i for i in range(len(values)) if counts[i] > 0]
    lumped = 0
    if len(present) > MAX_GROUPS:
        present.sort(key=lambda i: (-counts[i], values[i]))
        keep, rest = present[: MAX_GROUPS - 1], present[MAX_GROUPS - 1 :]
        lumped = len(rest)
    else:
        keep, rest = present, []
    keep.sort(key=lambda i: _natural(values[i]))
    names = [values[i] for i in keep] + ([OTHER_LABEL] if rest else [])
    remap = np.full(max(len(values), 1), len(keep), dtype=np.int32)
    for new, old in enumerate(keep):
        remap[old] = new
    return tuple(names), remap[idx] if len(idx) else idx.astype(np.int32), lumped


def _natural(text: str) -> tuple[int, str]:
    """'(none)' last; otherwise case-insensitive text order."""
    return (1 if text == NONE_LABEL else 0, text.lower())


def build_frame(
    table: pa.Table,
    meta: ProjectMetadata,
    group_by: str,
    heavy: HeavySource | None = None,
    schema: pa.Schema | None = None,
) -> ReportFrame:
    """Validate ``group_by`` against the table and prepare the frame.

    ``heavy`` serves the large columns left out of ``table`` (default: ``table``'s own);
    ``schema`` is the full report schema, for column descriptions. Raises
    :class:`SettingsError` when the column is missing or cannot label groups.
    """
    if group_by not in table.column_names:
        raise SettingsError(f"--group-by: the report has no column '{group_by}'")
    if group_by in _NOT_CATEGORICAL or not is_categorical(table.schema.field(group_by).type):
        raise SettingsError(f"--group-by: column '{group_by}' is not categorical (type {table.schema.field(group_by).type})")
    groups, codes, lumped = group_codes(table.column(group_by))
    if "obs_level" in table.column_names:
        level = numeric(table.column("obs_level"))
        image_rows = np.flatnonzero(level == 0)
    else:
        image_rows = np.arange(table.num_rows)
    images = table.take(pa.array(image_rows, pa.int64()))
    return ReportFrame(
        table=table,
        meta=meta,
        group_by=group_by,
        groups=groups,
        row_group=codes,
        images=images,
        image_rows=image_rows,
        image_group=codes[image_rows] if len(codes) else codes,
        heavy=heavy if heavy is not None else TableSource(table),
        descriptions=descriptions(schema if schema is not None else table.schema),
        lumped=lumped,
    )
