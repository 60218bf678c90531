"""The report schema, declared before the first row from the loader and the processors.

No type is ever inferred from data, so reports of different runs concatenate cleanly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from pixel_patrol_base.columns import (
    CHILD_COLUMN,
    DIM_COLUMNS,
    ERROR_COLUMNS,
    FILE_COLUMNS,
    IMAGE_COLUMNS,
    plane_dim_columns,
)
from pixel_patrol_base.contracts import Column, Loader, Processor
from pixel_patrol_base.errors import PluginError

ORDER_FIELD = "_order"
"""Internal column of temporary part files: the discovery index of the row's file."""


def report_columns(
    loader: Loader | None, processors: Sequence[Processor], slice_size: Mapping[str, int]
) -> list[Column]:
    """Every column of the report, in report order; duplicates are a plugin error."""
    cols: list[Column] = [*FILE_COLUMNS, *DIM_COLUMNS]
    tiled = "".join(a for a in "YX" if a in slice_size and slice_size[a] != -1)
    cols += plane_dim_columns(tiled)
    cols.append(CHILD_COLUMN)
    if loader is not None:
        cols += IMAGE_COLUMNS
        cols += loader.COLUMNS
        for proc in processors:
            cols += [c for c in proc.COLUMNS if not c.internal]
    cols += ERROR_COLUMNS
    _check_unique(cols)
    return cols


def _check_unique(cols: list[Column]) -> None:
    seen: set[str] = set()
    for c in cols:
        if c.name in seen:
            raise PluginError(f"column '{c.name}' is declared twice (by two plugins or a plugin and the core)")
        seen.add(c.name)


def to_schema(cols: Sequence[Column]) -> pa.Schema:
    """Arrow schema with each field's description in its metadata."""
    return pa.schema(
        [pa.field(c.name, c.type, nullable=True, metadata={"description": c.description}) for c in cols]
    )


SOURCE_FIELD = "_source"
"""Internal column of temporary part files: the absolute path of the row's file."""

INTERNAL_FIELDS = (ORDER_FIELD, SOURCE_FIELD)


def with_order(schema: pa.Schema) -> pa.Schema:
    """The schema of temporary part files: the report schema plus ordering key and source."""
    return schema.append(pa.field(ORDER_FIELD, pa.int64(), nullable=False)).append(
        pa.field(SOURCE_FIELD, pa.string())
    )
