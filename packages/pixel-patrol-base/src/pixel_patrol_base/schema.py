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
    _check_unique([*cols, *ERROR_COLUMNS], loader, processors if loader is not None else ())
    if loader is not None:
        cols += loader.COLUMNS
        for proc in processors:
            cols += [c for c in proc.COLUMNS if not c.internal]
    cols += ERROR_COLUMNS
    return cols


def _check_unique(core: list[Column], loader: Loader | None, processors: Sequence[Processor]) -> None:
    """No column name twice: the clash names both owners and their distributions.

    Internal (rollup-only) columns count too: leaf values of all processors share one table.
    """
    from pixel_patrol_base.plugin_checks import clashes
    from pixel_patrol_base.plugins import LOADER_GROUP, PROCESSOR_GROUP, describe

    owned = [("the core", c) for c in core]
    if loader is not None:
        who = describe(LOADER_GROUP, loader.NAME)
        owned += [(who, c) for c in loader.COLUMNS]
    for proc in processors:
        who = describe(PROCESSOR_GROUP, proc.NAME)
        owned += [(who, c) for c in proc.COLUMNS]
    clash = clashes(owned)
    if clash is not None:
        name, first, second = clash
        raise PluginError(
            f"column '{name}' is declared by {first} and by {second};"
            " exclude one of them (--processors-exclude) or rename the column"
        )


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
