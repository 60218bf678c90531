"""Report writer: parts vs one-shot, row groups, order, atomic replace, metadata round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base.report import ReportWriter, parts_dir, read_report, temp_path
from pixel_patrol_base.schema import ORDER_FIELD, with_order

SCHEMA = pa.schema(
    [
        pa.field("k", pa.int64(), metadata={"description": "key"}),
        pa.field("v", pa.float64(), metadata={"description": "value"}),
        pa.field("h", pa.list_(pa.int64()), metadata={"description": "list"}),
    ]
)


def batch(keys: list[int], rows_per_key: int = 3) -> pa.Table:
    k = np.repeat(keys, rows_per_key)
    return pa.Table.from_arrays(
        [pa.array(k), pa.array(k * 0.5), pa.array([[int(x)] * 2 for x in k]), pa.array(k), pa.array([f"/f{x}" for x in k])],
        schema=with_order(SCHEMA),
    )


def write(out: Path, tables: list[pa.Table], rows_per_part: int, group: int) -> ReportWriter:
    w = ReportWriter(out, SCHEMA, rows_per_part, group)
    for t in tables:
        w.add(t)
        w.complete(sorted(set(t.column("_source").to_pylist())))
    w.finish({"name": "t", "n": 3})
    return w


def shuffled_tables() -> list[pa.Table]:
    rng = np.random.default_rng(0)
    keys = rng.permutation(40)
    return [batch([int(a), int(b)]) for a, b in keys.reshape(-1, 2)]


def test_parts_equal_one_shot(tmp_path: Path) -> None:
    a = write(tmp_path / "a.parquet", shuffled_tables(), rows_per_part=5, group=7)
    b = write(tmp_path / "b.parquet", shuffled_tables(), rows_per_part=10**6, group=7)
    assert len(a.parts) > 5 and not b.parts
    ta, tb = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert ta.equals(tb)
    assert ta.column("k").to_pylist() == sorted(ta.column("k").to_pylist())
    assert ta.num_rows == 120 and ORDER_FIELD not in ta.column_names and "_source" not in ta.column_names


@pytest.mark.parametrize("group", [1, 7, 2048])
def test_row_group_sizes(tmp_path: Path, group: int) -> None:
    write(tmp_path / "r.parquet", shuffled_tables(), rows_per_part=13, group=group)
    md = pq.ParquetFile(tmp_path / "r.parquet").metadata
    sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    assert sum(sizes) == 120
    assert all(s == group for s in sizes[:-1]) and 0 < sizes[-1] <= group


def test_no_temporary_files_left(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    write(out, shuffled_tables(), rows_per_part=5, group=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]
    assert not temp_path(out).exists() and not parts_dir(out).exists()


def test_abort_keeps_old_report(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    write(out, [batch([1])], rows_per_part=5, group=10)
    before = out.read_bytes()
    w = ReportWriter(out, SCHEMA, 5, 10)
    for t in shuffled_tables():
        w.add(t)
        w.complete([])
    w.abort()
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]


def test_metadata_and_descriptions_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    write(out, [batch([2, 1])], rows_per_part=100, group=10)
    table, meta = read_report(out)
    assert meta.name == "t"
    assert table.schema.field("v").metadata[b"description"] == b"value"
    assert table.column("k").to_pylist() == [1, 1, 1, 2, 2, 2]


def test_empty_report_is_valid(tmp_path: Path) -> None:
    out = tmp_path / "e.parquet"
    write(out, [], rows_per_part=5, group=10)
    table, _ = read_report(out)
    assert table.num_rows == 0 and table.schema.names == ["k", "v", "h"]


def test_interrupt_keeps_done_files_for_resume(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    tables = shuffled_tables()
    w = ReportWriter(out, SCHEMA, 5, 10, fingerprint={"a": 1})
    for t in tables[:7]:
        w.add(t)
        w.complete(sorted(set(t.column("_source").to_pylist())))
    w.add(tables[7])  # rows of a file that never completed
    w.interrupt()
    assert not out.exists()
    again = ReportWriter(out, SCHEMA, 5, 10, fingerprint={"a": 1}, resume=True)
    assert len(again.done) == 14 and again.rows == 42
    for t in tables[7:]:
        again.add(t)
        again.complete(sorted(set(t.column("_source").to_pylist())))
    again.finish({})
    full = write(tmp_path / "full.parquet", shuffled_tables(), rows_per_part=5, group=10)
    assert full.rows == 120
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "full.parquet"))


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    from pixel_patrol_base.errors import SettingsError

    out = tmp_path / "r.parquet"
    w = ReportWriter(out, SCHEMA, 5, 10, fingerprint={"a": 1})
    first = shuffled_tables()[0]
    w.add(first)
    w.complete(sorted(set(first.column("_source").to_pylist())))
    w.interrupt()
    with pytest.raises(SettingsError, match="other settings"):
        ReportWriter(out, SCHEMA, 5, 10, fingerprint={"a": 2}, resume=True)


def test_interrupt_before_any_work_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    w = ReportWriter(out, SCHEMA, 5, 10, fingerprint={"a": 1})
    assert parts_dir(out).is_dir()
    w.interrupt()
    assert not parts_dir(out).exists() and not out.exists()


@pytest.mark.parametrize("rows_per_part", [10_000, 50])
def test_failed_final_write_keeps_every_row_for_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_part: int
) -> None:
    """A full disk during the final write: the rows still in memory (all of them, or those
    after the last spilled part) are saved as a part before their files are listed as done,
    so --resume writes the whole report."""
    import errno

    from pixel_patrol_base import report
    from pixel_patrol_base.errors import ReportError

    out = tmp_path / "r.parquet"
    tables = shuffled_tables()
    w = ReportWriter(out, SCHEMA, rows_per_part, 10, fingerprint={"a": 1})
    for t in tables:
        w.add(t)
        w.complete(sorted(set(t.column("_source").to_pylist())))
    assert bool(w.parts) == (rows_per_part < 120) and w._buffered > 0
    real = report.pq.ParquetWriter

    class Full(real):  # type: ignore[misc, valid-type]
        def write_table(self, *a: object, **k: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report.pq, "ParquetWriter", Full)
    with pytest.raises(ReportError, match="No space left"):
        w.finish({})
    w.interrupt()
    monkeypatch.setattr(report.pq, "ParquetWriter", real)
    assert not out.exists()
    again = ReportWriter(out, SCHEMA, 10_000, 10, fingerprint={"a": 1}, resume=True)
    assert len(again.done) == 40 and again.rows == 120
    again.finish({})
    write(tmp_path / "full.parquet", shuffled_tables(), rows_per_part=5, group=10)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "full.parquet"))


@pytest.mark.parametrize("rows_per_part", [1, 7, 50])
def test_streaming_merge_of_many_small_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_part: int) -> None:
    """Parts with row groups that cut through a file's rows, more parts than are merged at
    once: the report is the same as one written from memory."""
    from pixel_patrol_base import parts

    monkeypatch.setattr(parts, "BATCH_BYTES", 1)
    monkeypatch.setattr(parts, "FAN_IN", 3)
    rng = np.random.default_rng(rows_per_part)
    tables = [batch([int(k)], rows_per_key=int(rng.integers(1, 40))) for k in rng.permutation(60)]
    write(tmp_path / "mem.parquet", tables, rows_per_part=10**6, group=17)
    w = write(tmp_path / "parts.parquet", tables, rows_per_part=rows_per_part, group=17)
    assert w.rows == sum(t.num_rows for t in tables)
    got, want = pq.read_table(tmp_path / "parts.parquet"), pq.read_table(tmp_path / "mem.parquet")
    assert got.equals(want)
    assert got.column("k").to_pylist() == sorted(got.column("k").to_pylist())
    assert not parts_dir(tmp_path / "parts.parquet").exists()


def test_resume_keeps_only_registered_parts(tmp_path: Path) -> None:
    """A part a worker wrote but that was never registered (the run was killed in between)
    is deleted on resume, even when its files were later done through another part."""
    from pixel_patrol_base.parts import StoredPart, store_table

    out = tmp_path / "r.parquet"
    tables = shuffled_tables()
    w = ReportWriter(out, SCHEMA, 10_000, 10, fingerprint={"a": 1})
    folder = str(parts_dir(out))
    for t in tables[:5]:
        w.add_part(store_table(t, folder))
        w.complete(sorted(set(t.column("_source").to_pylist())))
    w._spill()
    orphan = store_table(tables[5], folder)  # written, never registered
    w.add(tables[5])
    w.complete(sorted(set(tables[5].column("_source").to_pylist())))
    w.interrupt()
    assert Path(orphan.path).exists() and isinstance(orphan, StoredPart)
    again = ReportWriter(out, SCHEMA, 10_000, 10, fingerprint={"a": 1}, resume=True)
    assert not Path(orphan.path).exists()
    assert again.rows == 6 * 6 and len(again.done) == 12
    for t in tables[6:]:
        again.add(t)
        again.complete(sorted(set(t.column("_source").to_pylist())))
    again.finish({})
    write(tmp_path / "full.parquet", shuffled_tables(), rows_per_part=5, group=10)
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "full.parquet"))


def test_part_footer_range_matches_its_rows(tmp_path: Path) -> None:
    """The merge lines parts up from the key range in their footers: it is the range of the
    rows, and a part without it (written elsewhere) is scanned instead."""
    from pixel_patrol_base import parts

    table = parts.sort_rows(pa.concat_tables(shuffled_tables()[:4]))
    path = tmp_path / "part-x.arrow"
    parts.write_part_file(table, path)
    keys = table.column(ORDER_FIELD).to_pylist()
    assert parts._key_range(path) == (min(keys), max(keys))
    assert parts.part_rows(path) == table.num_rows == 24
    bare = tmp_path / "part-y.arrow"
    with pa.ipc.new_file(str(bare), table.schema) as w:
        w.write_table(table, max_chunksize=5)
    assert parts._key_range(bare) == (min(keys), max(keys)) and parts.part_rows(bare) == 24


@pytest.mark.parametrize("tables", [2, 7, 40])
def test_sort_rows_is_a_stable_sort_by_key(tables: int) -> None:
    """Few runs of consecutive rows (slices) and a fine shuffle (gathered) sort alike."""
    from pixel_patrol_base import parts

    rng = np.random.default_rng(tables)
    chunks = [batch([int(k)], rows_per_key=int(rng.integers(1, 4))) for k in rng.integers(0, 30, tables)]
    table = pa.concat_tables(chunks)
    keys = table.column(ORDER_FIELD).to_numpy()
    order = np.argsort(keys, kind="stable")
    got = parts.sort_rows(table)
    assert got.column(ORDER_FIELD).to_pylist() == keys[order].tolist()
    assert got.column("v").to_pylist() == table.column("v").to_numpy()[order].tolist()
    assert got.column("h").to_pylist() == [table.column("h").to_pylist()[i] for i in order]


def test_sorting_a_few_sorted_batches_needs_no_gather(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that each cover their own key range are put in order from slices: no row
    gather (``take`` copies every thumbnail and, on its first call in a process, imports
    ``pyarrow.compute``, about 0.07 s of a run's coordinator); a fine shuffle still gathers."""
    from pixel_patrol_base import parts

    gathered: list[int] = []
    real_gather = parts._gather

    def gather(table: pa.Table, order: np.ndarray) -> pa.Table:
        gathered.append(table.num_rows)
        return real_gather(table, order)

    monkeypatch.setattr(parts, "_gather", gather)
    few = pa.concat_tables([batch([5, 6, 7], 1), batch([1, 2], 1), batch([9], 1), batch([3, 4], 1)])
    assert parts.sort_rows(few).column(ORDER_FIELD).to_pylist() == [1, 2, 3, 4, 5, 6, 7, 9]
    assert gathered == []
    keys = [int(k) for k in np.random.default_rng(1).permutation(200)]
    fine = batch(keys, 1)
    assert parts.sort_rows(fine).column(ORDER_FIELD).to_pylist() == sorted(keys)
    assert gathered == [200]
