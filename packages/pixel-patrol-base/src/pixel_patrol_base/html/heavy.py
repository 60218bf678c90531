"""Large per-image columns (histograms, thumbnails), read only for the images that need them.

A report of 100,000 images holds gigabytes of histogram and thumbnail cells, most of them on
slice rows the page never shows. The page reads the rest of the table once and asks this
source for ``histogram_counts`` of image rows and for the few thumbnails it embeds, one Parquet
row group at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HEAVY_COLUMNS = ("histogram_counts", "thumbnail")
GROUPS_PER_READ = 16
"""Row groups decoded together (in parallel threads); bounds the memory of one read."""


class HeavySource(Protocol):
    """Gives the values of a heavy column for rows of the report (global row numbers)."""

    def has(self, name: str) -> bool:
        """Whether the report has the column."""
        ...

    def take(self, name: str, rows: np.ndarray) -> pa.Array:
        """The column's values at ``rows``, in that order."""
        ...


class TableSource:
    """Heavy columns of a table already in memory."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def has(self, name: str) -> bool:
        """Whether the table has the column."""
        return name in self.table.column_names

    def take(self, name: str, rows: np.ndarray) -> pa.Array:
        """The column's values at ``rows``."""
        return self.table.column(name).take(pa.array(rows, pa.int64())).combine_chunks()


class ParquetSource:
    """Heavy columns read from the report file, only from the row groups that hold ``rows``."""

    def __init__(self, path: Path) -> None:
        self.file = pq.ParquetFile(path)
        md = self.file.metadata
        sizes = np.array([md.row_group(i).num_rows for i in range(md.num_row_groups)], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(sizes)])
        self.names = set(self.file.schema_arrow.names)

    def has(self, name: str) -> bool:
        """Whether the report has the column."""
        return name in self.names

    def take(self, name: str, rows: np.ndarray) -> pa.Array:
        """The column's values at ``rows``, reading each needed row group once."""
        rows = np.asarray(rows, dtype=np.int64)
        field = self.file.schema_arrow.field(name)
        if not len(rows):
            return pa.array([], field.type)
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        groups = np.searchsorted(self.starts, sorted_rows, side="right") - 1
        needed = np.unique(groups)
        parts = []
        for k in range(0, len(needed), GROUPS_PER_READ):
            batch = needed[k : k + GROUPS_PER_READ]
            sel = (groups >= batch[0]) & (groups <= batch[-1])
            col = self.file.read_row_groups([int(g) for g in batch], columns=[name], use_threads=True).column(0)
            # Row numbers inside the concatenation of the batch's row groups.
            offsets = np.concatenate([[0], np.cumsum(self.starts[batch + 1] - self.starts[batch])])
            local = sorted_rows[sel] - self.starts[groups[sel]] + offsets[np.searchsorted(batch, groups[sel])]
            parts.append(col.take(pa.array(local, pa.int64())).combine_chunks())
        merged = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
        inverse = np.empty(len(rows), dtype=np.int64)
        inverse[order] = np.arange(len(rows))
        return merged.take(pa.array(inverse, pa.int64()))
