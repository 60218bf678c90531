"""The resume journal: what survives an interrupted run, and what a resumed run keeps.

The invariant: after a crash at any moment, a resumed run keeps exactly the rows of files the
done list names, from registered parts, and deletes everything else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.journal import DONE_FILE, RUN_FILE, Journal
from pixel_patrol_base.parts import read_part
from pixel_patrol_base.schema import ORDER_FIELD, SOURCE_FIELD

FINGERPRINT = {"loader": "npy", "processors": ["raster-basic"], "slice_size": {"Z": 1}}


def rows(*files: str) -> pa.Table:
    """One row per file name (the value column repeats the name to check the right rows stay)."""
    return pa.table({
        ORDER_FIELD: pa.array(range(len(files)), pa.uint64()),
        SOURCE_FIELD: list(files),
        "value": [f"v-{f}" for f in files],
    })


def kept_rows(journal: Journal) -> list[str]:
    return sorted(v for p in journal.parts for v in read_part(p).column(SOURCE_FIELD).to_pylist())


def fresh(folder: Path) -> Journal:
    journal = Journal(folder)
    journal.start(FINGERPRINT, resume=False)
    return journal


def test_a_fresh_start_writes_the_fingerprint_and_clears_an_old_folder(tmp_path: Path) -> None:
    folder = tmp_path / ".r.parquet.parts"
    folder.mkdir()
    (folder / "part-c000000.arrow").write_bytes(b"left over")
    journal = fresh(folder)
    assert not list(folder.glob("part-*")) and (folder / RUN_FILE).is_file()
    assert json.loads((folder / RUN_FILE).read_text()) == FINGERPRINT
    assert journal.empty


def test_resume_keeps_only_rows_of_done_files_in_registered_parts(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    first = fresh(folder)
    first.write_part(rows("a", "b"))
    first.mark_done(["a"])  # registers the part; b's rows are in it but b is not done
    first.write_part(rows("c"))  # written, never registered: the run was killed here
    assert not first.empty

    again = Journal(folder)
    again.start(FINGERPRINT, resume=True)
    assert again.done == {"a"}
    assert kept_rows(again) == ["a"]
    assert [p.name for p in folder.glob("part-*.arrow")] == [again.parts[0].name]
    assert read_part(again.parts[0]).column("value").to_pylist() == ["v-a"]


def test_a_registered_part_without_done_files_is_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    first = fresh(folder)
    part = first.write_part(rows("x"))
    first.mark_done([])  # registered, but x never finished (its other images were pending)
    again = Journal(folder)
    again.start(FINGERPRINT, resume=True)
    assert again.parts == [] and not part.exists()
    assert again.empty


def test_a_done_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    first = fresh(folder)
    first.write_part(rows("a", "b"))
    first.mark_done(["a", "b"])
    with open(folder / DONE_FILE, "a", encoding="utf-8") as f:
        f.write('"c"\n{"part": 7}\n["x"]\n"d')  # a non-text part name, a list, a cut line
    again = Journal(folder)
    again.start(FINGERPRINT, resume=True)
    assert again.done == {"a", "b", "c"}
    assert kept_rows(again) == ["a", "b"]


def test_resume_with_other_settings_is_refused_and_keeps_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    first = fresh(folder)
    first.write_part(rows("a"))
    first.mark_done(["a"])
    with pytest.raises(SettingsError, match="other settings"):
        Journal(folder).start({**FINGERPRINT, "slice_size": {"Z": 2}}, resume=True)
    assert len(list(folder.glob("part-*.arrow"))) == 1


def test_resume_without_a_journal_starts_fresh(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "parts")
    journal.start(FINGERPRINT, resume=True)
    assert journal.empty and (tmp_path / "parts" / RUN_FILE).is_file()


def test_new_parts_never_take_a_resumed_parts_name(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    first = fresh(folder)
    for name in "abc":
        first.write_part(rows(name))
    first.mark_done(["a", "c"])  # b's part is dropped on resume, leaving a gap in the names
    again = Journal(folder)
    again.start(FINGERPRINT, resume=True)
    kept = {p.name for p in again.parts}
    new = again.write_part(rows("d"))
    assert new.name not in kept and len(kept) == 2
    again.mark_done(["d", "a"])  # a was done before: not listed twice
    assert again.marked == 1
    lines = (folder / DONE_FILE).read_text().splitlines()
    assert lines.count('"a"') == 1 and lines[-1] == '"d"'


def test_mark_done_with_nothing_new_writes_nothing(tmp_path: Path) -> None:
    journal = fresh(tmp_path / "parts")
    journal.mark_done([])
    assert not (tmp_path / "parts" / DONE_FILE).exists()


def test_remove_deletes_the_folder(tmp_path: Path) -> None:
    journal = fresh(tmp_path / "parts")
    journal.write_part(rows("a"))
    journal.remove()
    assert not (tmp_path / "parts").exists()


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=4, unique=True),
                     min_size=1, max_size=5),
    crash_after=st.integers(0, 10),
)
def test_any_crash_point_keeps_exactly_the_done_files(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[str]], crash_after: int
) -> None:
    """Parts are written, then some are registered with the files they finish; the run stops
    after ``crash_after`` steps. Resuming keeps each done file's rows once, nothing else."""
    folder = tmp_path_factory.mktemp("j") / "parts"
    journal = fresh(folder)
    done: set[str] = set()
    steps = 0
    for i, names in enumerate(batches):
        files = [f"{i}{n}" for n in names]  # a file's rows are in one part only
        if steps >= crash_after:
            break
        journal.write_part(rows(*files))
        steps += 1
        if steps >= crash_after:
            break
        finished = files[: len(files) // 2 + 1]  # the part may hold rows of unfinished files
        journal.mark_done(finished)
        done.update(finished)
        steps += 1
    again = Journal(folder)
    again.start(FINGERPRINT, resume=True)
    assert again.done == done
    assert kept_rows(again) == sorted(done)
    assert sorted(p.name for p in folder.glob("part-*.arrow")) == sorted(p.name for p in again.parts)
