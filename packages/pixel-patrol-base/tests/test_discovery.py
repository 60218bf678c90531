"""Discovery: order, filters, condition labels, exclusions, links, unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel_patrol_base.discovery import (
    DiscoveryProblem,
    FileEntry,
    Filter,
    discover,
    file_extension,
)


def names(items: list) -> list[str]:
    return [os.path.relpath(i.path, i.base_dir) for i in items]


def test_every_file_sorted_hidden_skipped(tree: Path) -> None:
    found = list(discover(tree, (), Filter()))
    assert names(found) == [
        "control/a.tif",
        "control/sub/b.PNG",
        "top.tif",
        "treated/c.ome.tif",
        "treated/notes.txt",
    ]
    assert {f.condition for f in found} == {"."}
    assert [f.size for f in found] == [10, 20, 50, 30, 40]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ((), {"control/a.tif": ".", "top.tif": ".", "treated/c.ome.tif": "."}),
        (("control",), {"control/a.tif": "control"}),
        (("control", "treated"), {"control/a.tif": "control", "treated/c.ome.tif": "treated"}),
    ],
    ids=["no-p", "one-p", "two-p"],
)
def test_condition_labels(tree: Path, paths: tuple[str, ...], expected: dict[str, str]) -> None:
    conds = tuple(tree / p for p in paths)
    found = [f for f in discover(tree, conds, Filter(extensions=frozenset({"tif"})))]
    assert {os.path.relpath(f.path, tree): f.condition for f in found} == expected


def test_extension_filter_case_insensitive_and_compound(tree: Path) -> None:
    found = list(discover(tree, (), Filter(extensions=frozenset({"png", "ome.tif"}))))
    assert names(found) == ["control/sub/b.PNG", "treated/c.ome.tif"]


def test_output_excluded(tree: Path) -> None:
    out = tree / "top.tif"
    found = list(discover(tree, (), Filter(exclude=frozenset({str(out)}))))
    assert "top.tif" not in names(found)


def test_symlink_loop_is_safe(tree: Path) -> None:
    os.symlink(tree, tree / "control" / "loop")
    found = list(discover(tree, (), Filter(extensions=frozenset({"tif"}))))
    assert names(found).count("control/a.tif") == 1


def test_unreadable_folder_reported_via_scandir_error(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.scandir

    def fake(path: str):  # type: ignore[no-untyped-def]
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", fake)
    found = list(discover(tree, (), Filter()))
    problems = [f for f in found if isinstance(f, DiscoveryProblem)]
    assert [os.path.relpath(p.path, tree) for p in problems] == ["control/sub"]
    assert "Permission denied" in problems[0].message
    assert "control/a.tif" in names([f for f in found if isinstance(f, FileEntry)])


def test_folder_dataset_is_one_entry(tmp_path: Path) -> None:
    store = tmp_path / "img.ome.zarr"
    (store / "0").mkdir(parents=True)
    (store / ".zgroup").write_text("{}")
    (store / "0" / "chunk").write_bytes(b"x" * 100)
    found = list(
        discover(tmp_path, (), Filter(extensions=frozenset({"zarr", "ome.zarr"}), folder_extensions=frozenset({"zarr", "ome.zarr"})))
    )
    assert len(found) == 1 and found[0].is_dir
    assert found[0].size == 102  # every file inside the store, metadata included


@pytest.mark.parametrize(
    ("name", "ext"),
    [("a.OME.TIF", "ome.tif"), ("b.tif", "tif"), ("README", ""), (".bashrc", ""), ("x.ome.zarr", "ome.zarr"), ("c.tar.gz", "tar.gz"), ("d.JPEG", "jpeg")],
)
def test_file_extension(name: str, ext: str) -> None:
    assert file_extension(name) == ext


def test_unread_files_are_yielded_when_asked(tree: Path) -> None:
    (tree / "store.zarr" / "c").mkdir(parents=True)
    (tree / "store.zarr" / "c" / "0").write_bytes(b"z")
    flt = Filter(
        extensions=frozenset({"tif"}),
        report_unread=True,
        unread_folder_extensions=frozenset({"zarr"}),
    )
    from pixel_patrol_base.discovery import Unread

    found = list(discover(tree, (), flt))
    kinds = {os.path.relpath(f.entry.path if isinstance(f, Unread) else f.path, tree): type(f).__name__ for f in found}
    assert kinds == {
        "control/a.tif": "FileEntry",
        "control/sub/b.PNG": "Unread",
        "store.zarr": "Unread",
        "top.tif": "FileEntry",
        "treated/c.ome.tif": "FileEntry",
        "treated/notes.txt": "Unread",
    }
    store = next(f for f in found if isinstance(f, Unread) and f.entry.is_dir)
    assert store.entry.size == 1
    only_png = list(discover(tree, (), Filter(extensions=frozenset({"tif"}), report_unread=True, selected=frozenset({"tif", "png"}))))
    assert [type(f).__name__ for f in only_png].count("Unread") == 1
    assert list(discover(tree, (), Filter(extensions=frozenset({"tif"})))) == [f for f in found if not isinstance(f, Unread)]


def _extension_by_scan(name: str, known: frozenset[str]) -> str:
    """The plain definition: the longest known compound suffix, else the last one."""
    from pixel_patrol_base.discovery import COMPOUND_EXTENSIONS

    low = name.lower()
    for ext in sorted(COMPOUND_EXTENSIONS | {k for k in known if "." in k}, key=len, reverse=True):
        if low.endswith("." + ext) and len(low) > len(ext) + 1:
            return ext
    stem, dot, ext = low.rpartition(".")
    return ext if dot and stem else ""


_parts = st.sampled_from(["ome", "tif", "TIFF", "zarr", "nii", "gz", "tar", "a", "", "x.y", "OME"])


@given(st.lists(_parts, min_size=1, max_size=5), st.sets(st.sampled_from(["ome.tif", "a.b.c", "x.y", "tar.gz", "png", "ome.zarr"])))
def test_extension_equals_the_plain_definition(parts: list[str], known: set[str]) -> None:
    name = ".".join(parts)
    assert file_extension(name, frozenset(known)) == _extension_by_scan(name, frozenset(known))


def _walk_by_recursion(folder: str, flt: Filter) -> list[str]:
    """The plain definition of the order: name-sorted, depth first, hidden names skipped."""
    out: list[str] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            out += _walk_by_recursion(entry.path, flt)
        elif flt.wants_file(entry.name):
            out.append(entry.path)
    return out


_tree_names = st.sampled_from(["a", "b", "B", "c.tif", "d.TIF", ".h", "e.png", "z"])
_trees = st.recursive(
    st.just("file"), lambda kids: st.dictionaries(_tree_names, kids, max_size=4), max_leaves=25
)


def _make(folder: Path, tree: object) -> None:
    assert isinstance(tree, dict)
    for name, sub in tree.items():
        if sub == "file":
            (folder / name).write_bytes(b"x")
        else:
            (folder / name).mkdir()
            _make(folder / name, sub)


@given(_trees.filter(lambda t: isinstance(t, dict)), st.booleans())
def test_walk_order_equals_the_recursive_definition(tmp_path_factory: pytest.TempPathFactory, tree: dict, tif_only: bool) -> None:
    """Nested folders of any shape: the walk (a stack of listings) yields what a recursive,
    name-sorted, depth-first walk yields, in the same order."""
    root = tmp_path_factory.mktemp("walk")
    _make(root, tree)
    flt = Filter(extensions=frozenset({"tif"}) if tif_only else frozenset())
    found = list(discover(root, (), flt))
    assert all(isinstance(f, FileEntry) for f in found)
    assert [f.path for f in found] == _walk_by_recursion(str(root), flt)
