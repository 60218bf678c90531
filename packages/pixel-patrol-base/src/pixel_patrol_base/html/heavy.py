"""Large per-image columns (histograms, thumbnails), read only for the images that need them.

A report of 100,000 images holds gigabytes of histogram and thumbnail cells, most of them on
slice rows the page never shows. The page reads the rest of the table once and asks this
source for ``histogram_counts`` of image rows and for the few thumbnails it embeds, one Parquet
row group at a time.
"""

from __future__ import annotations

import threading
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


class HistogramTap:
    """Keeps the image rows' ``histogram_counts`` as ``check`` streams the column past it.

    ``check`` decodes every row's histogram anyway (for its percentiles); taking the image
    rows on the way spares the page a second decoding of the report's largest column. The
    counts are held as float64 (what the page sums), nulls as zeros.
    """

    def __init__(self, image_rows: np.ndarray, bins: int = 256) -> None:
        self.image_rows = np.asarray(image_rows, dtype=np.int64)
        self.bins = bins
        self.counts = np.zeros((len(self.image_rows), bins), dtype=np.float64)
        self.complete = False
        self._broken = False
        self._done = threading.Event()

    def feed(self, offset: int, column: pa.Array) -> None:
        """Copy the batch's image rows (a column of another shape only marks the tap unusable:
        the page then reads the file itself, and ``check`` is not disturbed)."""
        lo, hi = np.searchsorted(self.image_rows, [offset, offset + len(column)])
        if hi <= lo or self._broken:
            return
        local = self.image_rows[lo:hi] - offset
        picked = column.take(pa.array(local, pa.int64()))
        valid = np.asarray(picked.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        flat = picked.filter(pa.array(valid)).flatten().to_numpy(zero_copy_only=False)
        if len(flat) != int(valid.sum()) * self.bins:
            self._broken = True
            return
        target = self.counts[lo:hi]
        target[valid] = flat.reshape(-1, self.bins)

    def done(self, ok: bool) -> None:
        """The stream ended; only a complete one is used."""
        self.complete = ok and not self._broken
        self._done.set()

    def wait(self) -> bool:
        """Whether every image row's histogram was seen (blocks until the stream ended)."""
        self._done.wait()
        return self.complete


class TappedSource:
    """``histogram_counts`` of image rows from a :class:`HistogramTap`, the rest from ``inner``
    (also the histograms when the tap's stream failed: then the file is read as before)."""

    def __init__(self, inner: HeavySource, tap: HistogramTap) -> None:
        self.inner = inner
        self.tap = tap

    def has(self, name: str) -> bool:
        """Whether the report has the column."""
        return self.inner.has(name)

    def take(self, name: str, rows: np.ndarray) -> pa.Array:
        """The column's values at ``rows`` (global row numbers)."""
        rows = np.asarray(rows, dtype=np.int64)
        if name != "histogram_counts" or not self.tap.wait():
            return self.inner.take(name, rows)
        pos = np.searchsorted(self.tap.image_rows, rows)
        pos = np.minimum(pos, max(len(self.tap.image_rows) - 1, 0))
        if not len(self.tap.image_rows) or not np.array_equal(self.tap.image_rows[pos], rows):
            return self.inner.take(name, rows)  # not only image rows: read them
        values = pa.array(self.tap.counts[pos].reshape(-1))
        return pa.FixedSizeListArray.from_arrays(values, self.tap.bins)
