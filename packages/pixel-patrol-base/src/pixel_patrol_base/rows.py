"""Row buffers: column-oriented rows that become one Arrow table per task.

Workers build tables themselves so the coordinator only concatenates and writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.schema import ORDER_FIELD

IMAGE_BITS = 20
"""Row keys are ``file_index << IMAGE_BITS | image_index``: rows sort by file, then sub-image."""


def row_key(file_index: int, image_index: int = 0) -> int:
    """Sort key of the rows of one image of one file."""
    return (file_index << IMAGE_BITS) | image_index


class RowBuffer:
    """Accumulates rows for a fixed part schema (report columns plus ``_order``)."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.names = set(schema.names)
        self.cols: dict[str, list[Any]] = {n: [] for n in schema.names}
        self.n = 0

    def add(
        self,
        key: int,
        constants: Mapping[str, Any],
        per_row: Mapping[str, Sequence[Any] | np.ndarray] | None = None,
        n: int = 1,
    ) -> None:
        """Append ``n`` rows: ``constants`` repeat on every row, ``per_row`` give one value each.

        Keys the schema does not know are ignored (e.g. the columns of an excluded processor).
        """
        per_row = per_row or {}
        for name in self.names:
            if name == ORDER_FIELD:
                self.cols[name].extend([key] * n)
            elif name in per_row:
                values = per_row[name]
                if len(values) != n:
                    raise ValueError(f"column {name}: {len(values)} values for {n} rows")
                self.cols[name].extend(values)
            else:
                self.cols[name].extend([constants.get(name)] * n)
        self.n += n

    def to_table(self) -> pa.Table:
        """The buffered rows as a table with the buffer's schema."""
        arrays = [_array(self.cols[f.name], f.type) for f in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _array(values: list[Any], t: pa.DataType) -> pa.Array:
    if pa.types.is_fixed_size_list(t) and values and all(v is not None for v in values):
        flat = np.concatenate([np.asarray(v).ravel() for v in values])
        return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=t.value_type), t.list_size)
    cleaned = [_plain(v) for v in values]
    return pa.array(cleaned, type=t)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        item = v.item()
        return None if isinstance(item, float) and item != item else item
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v
