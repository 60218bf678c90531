"""The report as the rules see it: numpy arrays per column, row → image ids, derived features.

Light columns are read whole; the two heavy ones (``histogram_counts``, 2 KB per row, and
``thumbnail``, 16 KB per image) are streamed in record batches and reduced on the way to what
the rules need (the 1st and 99th percentiles, a 64-bit perceptual hash), so checking a report
of 100,000 images never holds its histograms or thumbnails in memory. That streaming runs in a
background thread while the rules that need only light columns run (Arrow's decoding and
numpy's large operations release the GIL, so on two cores the two overlap); the features are
waited for when a rule first asks for them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pixel_patrol_base.errors import ReportError
from pixel_patrol_base.findings.model import RowKey
from pixel_patrol_base.findings.phash import perceptual_hashes

HEAVY = ("histogram_counts", "thumbnail")
USED = frozenset(
    {
        "imported_path", "obs_level", "path", "child_id", "error", "error_stage",
        "dim_z", "dim_t", "dim_c", "dim_s", "dim_y", "dim_x",
        "dtype", "dim_order", "file_extension", "num_pixels",
        *(f"{a}_size" for a in "TCZYXS"),
        "pixel_size_X", "pixel_size_Y", "pixel_size_Z", "pixel_size_unit", "channel_names",
        "objective", "exposure_time_s", "significant_bits",
        "min_intensity", "max_intensity", "mean_intensity", "std_intensity",
        "finite_pixel_count", "count_at_max", "count_at_min", "pixel_hash",
        "histogram_min", "histogram_max", "laplacian_variance",
    }
)
"""Light columns the rules read (the metric lists of the settings add theirs)."""
REQUIRED = ("imported_path", "obs_level")
DIMS = ("z", "t", "c", "s")
BATCH_ROWS = 4096


class BatchTap(Protocol):
    """Sees every batch of one heavy column as the check streams it (e.g. the HTML page keeps
    the image rows' histograms, so the file's largest column is decoded once, not twice)."""

    def feed(self, offset: int, column: pa.Array) -> None:
        """The column's values of rows ``offset`` … ``offset + len(column) - 1``."""

    def done(self, ok: bool) -> None:
        """The stream has ended (``ok`` False: it failed part-way); called exactly once."""


@dataclass(frozen=True, slots=True)
class Codes:
    """A string column as integer codes (-1 = null) into ``values``."""

    codes: np.ndarray
    values: list[str]

    def at(self, i: int) -> str | None:
        """The string of row ``i`` (None when null)."""
        c = int(self.codes[i])
        return None if c < 0 else self.values[c]


def encode(column: pa.ChunkedArray | pa.Array) -> Codes:
    """Dictionary-encode a string column (nulls → -1)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], type=column.type)
    enc = pc.dictionary_encode(column)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    codes = np.where(pc.is_valid(enc.indices).to_numpy(zero_copy_only=False), codes, -1)
    return Codes(codes.astype(np.int64), [str(v) for v in enc.dictionary.to_pylist()])


@dataclass
class Frame:
    """Arrays of one report; row order as in the file."""

    table: pa.Table
    name: str
    obs: np.ndarray
    """obs_level per row; -1 for rows of plane tiles, which the rules skip."""
    path: Codes
    child: Codes
    cond: Codes
    image: np.ndarray
    n_images: int
    dims: dict[str, np.ndarray]
    error: np.ndarray
    columns: frozenset[str] = frozenset()
    """Every column of the report, the heavy ones included."""
    _cache: dict[str, np.ndarray] = field(default_factory=dict)
    _codes: dict[str, Codes] = field(default_factory=dict)
    _features: dict[str, np.ndarray] = field(default_factory=dict)
    _workers: list[threading.Thread] = field(default_factory=list)
    _failure: list[BaseException] = field(default_factory=list)
    _keys: np.ndarray | None = None
    _has_key: np.ndarray | None = None

    def start_features(
        self, streams: list[tuple[str, Callable[[], Iterator[pa.RecordBatch]]]], taps: Mapping[str, BatchTap] | None = None
    ) -> None:
        """Derive percentiles and hashes in background threads, one per heavy column; ``taps``
        see the batches of their column on the way."""
        self._features = _empty_features(self.n)
        inputs = _DeriveInputs(
            self.num("histogram_min"),
            self.num("histogram_max"),
            _integer_rows(self),
            (self.obs == 0) | (self.dims["z"] >= 0) | (self.dims["t"] >= 0),
        )

        def work(column: str, stream: Callable[[], Iterator[pa.RecordBatch]]) -> None:
            tap = (taps or {}).get(column)
            ok = False
            try:
                _derive(self._features, inputs, _tapped(stream(), column, tap))
                ok = True
            except (OSError, pa.ArrowException, ValueError) as exc:
                self._failure.append(exc)
            finally:
                if tap is not None:
                    tap.done(ok)

        for column, stream in streams:
            worker = threading.Thread(target=work, args=(column, stream), name="pixel-patrol-check-features", daemon=True)
            worker.start()
            self._workers.append(worker)

    def wait(self) -> dict[str, np.ndarray]:
        """The derived features, once the background threads are done."""
        while self._workers:
            self._workers.pop().join()
        if self._failure:
            raise ReportError(f"{self.name}: cannot read the histograms or thumbnails ({self._failure[0]})")
        return self._features

    @property
    def p1(self) -> np.ndarray:
        """Lower bound of the 1st percentile per row (NaN where not derived)."""
        return self.wait()["p1"]

    @property
    def p99(self) -> np.ndarray:
        """Upper bound of the 99th percentile per row (NaN where not derived)."""
        return self.wait()["p99"]

    @property
    def phash(self) -> np.ndarray:
        """64-bit perceptual hash of the thumbnail per row (0 where none)."""
        return self.wait()["phash"]

    @property
    def phash_ok(self) -> np.ndarray:
        """Whether the row has a meaningful perceptual hash."""
        return self.wait()["phash_ok"]

    @property
    def n(self) -> int:
        """Number of rows."""
        result: int = self.table.num_rows
        return result

    def has(self, *names: str) -> bool:
        """Whether every named column is in the report."""
        return all(n in self.columns or n in self.table.column_names for n in names)

    def num(self, name: str) -> np.ndarray:
        """A numeric column as float64 (null → NaN); all-NaN when the column is absent."""
        if name not in self._cache:
            if name not in self.table.column_names:
                self._cache[name] = np.full(self.n, np.nan)
            else:
                col = pc.cast(self.table.column(name), pa.float64())
                self._cache[name] = col.to_numpy(zero_copy_only=False).astype(np.float64)
        return self._cache[name]

    def strings(self, name: str) -> Codes:
        """A string column as codes (all null when absent)."""
        if name not in self._codes:
            if name not in self.table.column_names:
                self._codes[name] = Codes(np.full(self.n, -1, dtype=np.int64), [])
            else:
                self._codes[name] = encode(self.table.column(name))
        return self._codes[name]

    def derived_codes(self, key: str, make: Callable[[], Codes]) -> Codes:
        """Codes derived from columns (e.g. joined lists), made once per frame under ``key``."""
        if key not in self._codes:
            self._codes[key] = make()
        return self._codes[key]

    @property
    def measured(self) -> np.ndarray:
        """Rows with statistics the rules look at: not an error, not a plane tile."""
        return ~self.error & (self.obs >= 0)

    @property
    def image_rows(self) -> np.ndarray:
        """Indices of the processed images' obs_level-0 rows."""
        return np.flatnonzero((self.obs == 0) & ~self.error)

    def key(self, i: int) -> RowKey:
        """The row key of row ``i`` (dim_* only where set)."""
        d = {f"dim_{a}": (int(self.dims[a][i]) if self.dims[a][i] >= 0 else None) for a in DIMS}
        return RowKey(self.path.at(i) or "", self.child.at(i), **d)

    def keys(self, rows: np.ndarray) -> tuple[RowKey, ...]:
        """:meth:`key` of every row of ``rows``, each column converted to Python once and every
        key made once per frame (findings of a large report name hundreds of thousands of rows,
        the same image rows in several findings)."""
        if self._keys is None or self._has_key is None:
            self._keys = np.full(self.n, None, dtype=object)
            self._has_key = np.zeros(self.n, dtype=bool)
        cache, has = self._keys, self._has_key
        rows = np.asarray(rows, dtype=np.int64)
        new = np.unique(rows[~has[rows]])
        if len(new):

            def strings(c: Codes, empty: str | None) -> list[str | None]:
                values = [*c.values, empty]  # code -1 picks the last entry
                return [values[k] for k in c.codes[new].tolist()]

            def dims(a: str) -> list[int | None]:
                return [None if v < 0 else v for v in self.dims[a][new].tolist()]

            made = np.empty(len(new), dtype=object)
            made[:] = list(map(RowKey, strings(self.path, ""), strings(self.child, None), *(dims(a) for a in DIMS)))
            cache[new] = made
            has[new] = True
        return tuple(cache[rows].tolist())

    def file(self, i: int) -> str:
        """The imported_path of row ``i``."""
        return self.path.at(i) or ""

    def condition(self, i: int) -> str:
        """The condition label of row ``i`` ('.' when the report has none)."""
        return self.cond.at(i) or "."


@contextmanager
def failing_taps(taps: Mapping[str, BatchTap] | None) -> Iterator[None]:
    """Tell every tap ``done(False)`` when the body fails in any way (Ctrl-C included), so a
    consumer waiting for a tap's batches is never left waiting."""
    ok = False
    try:
        yield
        ok = True
    finally:
        if not ok:
            for tap in (taps or {}).values():
                tap.done(False)


def read_frame(
    source: str | os.PathLike[str] | pa.Table, extra: frozenset[str] = frozenset(), taps: Mapping[str, BatchTap] | None = None
) -> Frame:
    """Load a report file (or take a table) and derive what the rules need.

    Of a file only the columns the rules use are read (:data:`USED` and ``extra``, e.g. the
    metrics the settings compare); the others are known by name for :meth:`Frame.has`. A tap
    of a heavy column the report lacks is told ``done(False)`` at once.
    """
    taps = dict(taps or {})
    with failing_taps(taps):
        frame = _read_frame(source, extra, taps)
    for column, tap in taps.items():
        if column not in HEAVY or column not in frame.columns:
            tap.done(False)  # no stream of that column will run
    return frame


def _read_frame(source: str | os.PathLike[str] | pa.Table, extra: frozenset[str], taps: dict[str, BatchTap]) -> Frame:
    if isinstance(source, pa.Table):
        light = source.drop_columns([c for c in HEAVY if c in source.column_names])
        frame = _frame(light, "table")
        frame.columns = frozenset(source.column_names)
        frame.start_features([(c, _table_stream(source, c)) for c in HEAVY if c in source.column_names], taps)
        return frame
    path = Path(source)
    pf = _open(path)
    names = pf.schema_arrow.names
    try:
        light = pf.read(columns=[c for c in names if c in USED or c in extra])
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"{path}: cannot read the report ({exc})") from exc
    frame = _frame(light, str(path), str(path))
    frame.columns = frozenset(names)
    frame.start_features([(c, _file_stream(path, c)) for c in HEAVY if c in names], taps)
    return frame


def _open(path: Path) -> pq.ParquetFile:
    if not path.is_file():
        raise ReportError(f"{path}: no such report file")
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"{path}: not a readable Parquet file ({exc})") from exc


def _tapped(batches: Iterator[pa.RecordBatch], column: str, tap: BatchTap | None) -> Iterator[pa.RecordBatch]:
    """``batches`` unchanged, each shown first to ``tap`` (if any)."""
    offset = 0
    for batch in batches:
        if tap is not None:
            tap.feed(offset, batch.column(batch.schema.names.index(column)))
        yield batch
        offset += batch.num_rows


def _table_stream(table: pa.Table, column: str) -> Callable[[], Iterator[pa.RecordBatch]]:
    return lambda: iter(table.select([column]).to_batches(max_chunksize=BATCH_ROWS))


def _file_stream(path: Path, column: str) -> Callable[[], Iterator[pa.RecordBatch]]:
    """Batches of one column from a file handle of its own (one per thread)."""
    return lambda: pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=[column])


def _frame(light: pa.Table, name: str, where: str | None = None) -> Frame:
    missing = [c for c in REQUIRED if c not in light.column_names]
    if missing:
        raise ReportError(
            f"{where or name}: not a Pixel Patrol report (no '{missing[0]}' column)"
        )
    path, child = encode(light.column("imported_path")), _optional(light, "child_id")
    combined = path.codes * (len(child.values) + 1) + (child.codes + 1)
    _, image = np.unique(combined, return_inverse=True)
    dims = {a: _ints(light, f"dim_{a}", -1) for a in DIMS}
    obs = _ints(light, "obs_level", 0)
    # rows of plane tiles (--slice-size on Y or X) are left out: findings speak of images,
    # channels and slices, and a tile's row key could not say which part of the plane it is
    tiles = (_ints(light, "dim_y", -1) >= 0) | (_ints(light, "dim_x", -1) >= 0)
    obs = np.where(tiles, -1, obs)
    error = (
        pc.is_valid(light.column("error")).to_numpy(zero_copy_only=False)
        if "error" in light.column_names
        else np.zeros(light.num_rows, dtype=bool)
    )
    n_images = int(image.max()) + 1 if len(image) else 0
    return Frame(light, name, obs, path, child, _optional(light, "path"), image.astype(np.int64), n_images, dims, np.asarray(error, dtype=bool))


def _ints(table: pa.Table, name: str, fill: int) -> np.ndarray:
    """An integer column as int64 with nulls (or an absent or all-null column) as ``fill``."""
    if name not in table.column_names or pa.types.is_null(table.column(name).type):
        return np.full(table.num_rows, fill, dtype=np.int64)
    col = pc.fill_null(table.column(name), fill)
    result: np.ndarray = col.to_numpy(zero_copy_only=False).astype(np.int64)
    return result


def _optional(table: pa.Table, name: str) -> Codes:
    if name not in table.column_names:
        return Codes(np.full(table.num_rows, -1, dtype=np.int64), [])
    return encode(table.column(name))


def _empty_features(n: int) -> dict[str, np.ndarray]:
    return {
        "p1": np.full(n, np.nan),
        "p99": np.full(n, np.nan),
        "phash": np.zeros(n, dtype=np.uint64),
        "phash_ok": np.zeros(n, dtype=bool),
    }


@dataclass(frozen=True, slots=True)
class _DeriveInputs:
    """Per-row arrays the derivation needs, taken before the threads start.

    ``needed`` marks the rows whose percentiles a rule uses: whole images (dynamic range) and
    Z/T slices (signal-free slices).
    """

    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray
    needed: np.ndarray


def _derive(feat: dict[str, np.ndarray], inputs: _DeriveInputs, batches: Iterator[pa.RecordBatch]) -> None:
    """Percentiles from the histograms and perceptual hashes from the thumbnails, batch-wise."""
    lo, hi, integer, needed = inputs.lo, inputs.hi, inputs.integer, inputs.needed
    offset = 0
    for batch in batches:
        rows = slice(offset, offset + batch.num_rows)
        names = batch.schema.names
        if "histogram_counts" in names:
            counts = _fixed_list(batch.column(names.index("histogram_counts")), 256)
            if counts is not None:
                hist, valid = counts
                use = needed[rows][valid]
                mask = valid.copy()
                mask[valid] = use
                p1, p99 = percentiles(hist[use], mask, lo[rows], hi[rows], integer[rows])
                feat["p1"][rows][mask] = p1
                feat["p99"][rows][mask] = p99
        if "thumbnail" in names:
            pixels, valid = thumbnails(batch.column(names.index("thumbnail")))
            if len(valid):
                hashes, ok = perceptual_hashes(pixels)
                feat["phash"][offset + valid] = hashes
                feat["phash_ok"][offset + valid] = ok
        offset += batch.num_rows


THUMB_BYTES = 64 * 64 * 4


def thumbnails(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The thumbnails of a batch as ``(k, 64, 64, 4)`` uint8 (no copy) and their row indices.

    Rows whose value is null or not a 64×64 RGBA thumbnail are left out.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
    valid = np.flatnonzero(np.nan_to_num(lengths.astype(np.float64)) == THUMB_BYTES)
    if not len(valid):
        return np.zeros((0, 64, 64, 4), dtype=np.uint8), valid
    if not isinstance(column, pa.BinaryArray):
        column = column.cast(pa.binary())
    # null and other rows normally take no bytes: then the thumbnails lie back to back
    contiguous = np.all(np.isin(np.nan_to_num(lengths.astype(np.float64)), (0, THUMB_BYTES)))
    picked = column if contiguous else column.take(pa.array(valid))
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int32)[picked.offset : picked.offset + len(picked) + 1]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)
    start = offsets[valid[0]] if contiguous else offsets[0]
    return data[start : start + THUMB_BYTES * len(valid)].reshape(-1, 64, 64, 4), valid


def _fixed_list(column: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(values of the valid rows as (k, width) int64, boolean mask of valid rows)."""
    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    if not valid.any():
        return None
    flat = pc.list_flatten(column).to_numpy(zero_copy_only=False)
    if len(flat) != int(valid.sum()) * width:
        return None
    return flat.reshape(-1, width).astype(np.int64, copy=False), valid


def _integer_rows(frame: Frame) -> np.ndarray:
    dtype = frame.strings("dtype")
    ints = np.array([v.startswith(("uint", "int", "bool")) for v in dtype.values], dtype=bool)
    return np.where(dtype.codes >= 0, ints[np.maximum(dtype.codes, 0)] if len(ints) else False, False)


def percentiles(
    counts: np.ndarray, valid: np.ndarray, lo: np.ndarray, hi: np.ndarray, integer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Outer bounds of the 1st and 99th percentiles from 256-bin histograms.

    p1 is the lower edge of the bin holding the 1st percentile and p99 the last value of the
    bin holding the 99th, so with one value per bin (8-bit data, or a 16-bit image spanning
    at most 256 values) they are exact and otherwise they can only widen the range.
    """
    lo, hi, integer = lo[valid], hi[valid], integer[valid]
    cum = np.cumsum(counts, axis=1)
    total = cum[:, -1]
    i1 = np.argmax(cum >= np.ceil(0.01 * total)[:, None], axis=1)
    i99 = np.argmax(cum >= np.ceil(0.99 * total)[:, None], axis=1)
    width = (hi - lo) / 256.0
    p1 = lo + i1 * width
    p99 = lo + (i99 + 1) * width - np.where(integer, 1.0, 0.0)
    p99 = np.where(integer, p99, np.minimum(p99, hi))
    none = total == 0
    return np.where(none, np.nan, p1), np.where(none, np.nan, np.maximum(p99, p1))
