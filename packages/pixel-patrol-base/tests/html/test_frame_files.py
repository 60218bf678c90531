"""Group labels, summary counts and file facts of the HTML report."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from html_tables import META, table

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.html import agg_files, agg_meta
from pixel_patrol_base.html.frame import MAX_GROUPS, NONE_LABEL, OTHER_LABEL, build_frame


def rows_of_container() -> list[dict[str, object]]:
    """A two-image container (one file), a Z stack with its slice rows, a failed file."""
    t = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    out: list[dict[str, object]] = [
        {"imported_path": "/d/a/c.lif", "file_name": "c.lif", "file_extension": "lif", "path": "a", "file_size": 1000, "obs_level": 0, "child_id": "s1", "Z_size": 3, "C_size": 2, "dtype": "uint16", "modification_date": t},
        {"imported_path": "/d/a/c.lif", "file_name": "c.lif", "file_extension": "lif", "path": "a", "file_size": 1000, "obs_level": 0, "child_id": "s2", "Z_size": 1, "dtype": "uint8", "modification_date": t},
        {"imported_path": "/d/b/x/s.tif", "file_name": "s.tif", "file_extension": "tif", "path": "b", "file_size": 50, "obs_level": 0, "Z_size": 4, "dtype": "uint16", "modification_date": t + dt.timedelta(days=3)},
    ]
    out += [{"imported_path": "/d/b/x/s.tif", "path": "b", "obs_level": 1, "dim_z": z, "Z_size": 1} for z in range(4)]
    out.append({"imported_path": "/d/b/bad.tif", "file_name": "bad.tif", "file_extension": "tif", "path": None, "file_size": 7, "obs_level": 0, "error": "no image data", "modification_date": t})
    return out


def test_groups_sorted_with_none_last_and_rows_mapped_to_images() -> None:
    f = build_frame(table(rows_of_container()), META, "path")
    assert f.groups == ("a", "b", NONE_LABEL)
    assert f.image_group.tolist() == [0, 0, 1, 2]
    assert f.row_image.tolist() == [0, 1, 2, 2, 2, 2, 2, 3]
    assert f.describe("path") == "a column path"


def test_unknown_and_non_categorical_group_by_are_refused() -> None:
    t = table(rows_of_container())
    with pytest.raises(SettingsError, match="no column 'nope'"):
        build_frame(t, META, "nope")
    with pytest.raises(SettingsError, match="not categorical"):
        build_frame(t, META, "modification_date")


def test_list_columns_group_by_joined_values() -> None:
    rows = [{"obs_level": 0, "channel_names": ["DAPI", "GFP"]}, {"obs_level": 0, "channel_names": None}, {"obs_level": 0, "channel_names": ["DAPI", "GFP"]}]
    f = build_frame(table(rows), META, "channel_names")
    assert f.groups == ("DAPI, GFP", NONE_LABEL) and f.image_group.tolist() == [0, 1, 0]


def test_many_values_keep_the_largest_groups_and_lump_the_rest() -> None:
    rows = [{"obs_level": 0, "path": f"c{i:03d}"} for i in range(MAX_GROUPS + 10)]
    rows += [{"obs_level": 0, "path": "c000"}] * 3
    f = build_frame(table(rows), META, "path")
    assert len(f.groups) == MAX_GROUPS and f.groups[-1] == OTHER_LABEL and f.lumped == 11
    assert f.groups[0] == "c000"
    assert np.bincount(f.image_group).sum() == len(rows)
    assert np.bincount(f.image_group)[f.groups.index("c000")] == 4


def test_summary_counts_files_images_planes_bytes_errors_apart() -> None:
    s = agg_files.summary(build_frame(table(rows_of_container()), META, "path"))
    assert s["files"] == [1, 1, 1]
    assert s["images"] == [2, 1, 1]
    assert s["planes"] == [3 * 2 + 1, 4, 1]
    assert s["bytes"] == [1000, 50, 7]  # the container's size once, not once per image
    assert s["errors"] == [0, 0, 1]
    assert s["rows"] == [2, 5, 1]


def test_extensions_sizes_timeline_and_tree() -> None:
    f = build_frame(table(rows_of_container()), META, "path")
    e = agg_files.extensions(f)
    assert e["names"] == ["lif", "tif"] and e["files"] == [[1, 0, 0], [0, 1, 1]] and e["bytes"][0] == [1000, 0, 0]
    sizes = agg_files.size_histogram(f)
    assert [sum(c) for c in sizes["counts"]] == [1, 1, 1]
    assert sizes["edges"][0] == pytest.approx(7) and sizes["edges"][-1] == pytest.approx(1000)
    t = agg_files.timeline(f)
    assert t["bins"] == ["2024-05-01", "2024-05-04"] and t["counts"] == [[1, 0], [0, 1], [1, 0]]
    tree = agg_files.folder_tree(f)
    assert tree["root"] == "/d"
    node = dict(zip(tree["ids"], tree["files"], strict=True))
    assert node["."] == [1, 1, 1] and node["a"] == [1, 0, 0] and node["b"] == [0, 1, 1] and node["b/x"] == [0, 1, 0]
    assert dict(zip(tree["ids"], tree["parents"], strict=True))["b/x"] == "b"


def test_metadata_marks_mixed_and_partly_missing_values() -> None:
    f = build_frame(table(rows_of_container()), META, "path")
    m = {r["field"]: r for r in agg_meta.metadata_table(f)["fields"]}
    a_dtype = m["dtype"]["cells"][0]
    assert a_dtype["distinct"] == 2 and sorted(a_dtype["values"]) == [["uint16", 1], ["uint8", 1]]
    assert m["C_size"]["cells"][0]["values"] == [["2", 1], ["1", 1]]  # no C axis = one channel
    assert m["dtype"]["cells"][2] == {"n": 0, "present": 0, "values": [], "distinct": 0}  # error rows carry no metadata
    dims = agg_meta.dimensions(f)
    assert dims["axes"]["Z"]["sizes"] == [1, 3, 4] and dims["axes"]["Z"]["counts"][0] == [1, 1, 0]
