"""Rules on small hand-made report tables: bit depth, slices under flagged images, T focus."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from pixel_patrol_base.errors import ReportError
from pixel_patrol_base.findings.bitdepth import bit_depths
from pixel_patrol_base.findings.build import uncovered
from pixel_patrol_base.findings.engine import check_frame
from pixel_patrol_base.findings.frame import percentiles, read_frame


def _row(path: str, obs: int = 0, **kw: Any) -> dict[str, Any]:
    row = {"imported_path": path, "obs_level": obs, "path": kw.pop("cond", "a"), "child_id": None,
           "dim_z": None, "dim_t": None, "dim_c": None, "dim_s": None, "error": None, "error_stage": None}
    row.update(kw)
    return row


def _frame(rows: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return read_frame(pa.Table.from_pylist(rows))


def test_bit_depth_stated_inferred_and_disbelieved() -> None:
    f = _frame([
        _row("a", dtype="uint16", max_intensity=3000.0, significant_bits=16),
        _row("b", dtype="uint16", max_intensity=4095.0, significant_bits=16),
        _row("c", dtype="uint16", max_intensity=900.0, significant_bits=10, cond="b"),
        _row("d", dtype="uint16", max_intensity=5000.0, significant_bits=12, cond="c"),
        _row("e", dtype="uint8", max_intensity=17.0, cond="c"),
        _row("f", dtype="int16", max_intensity=20000.0, cond="c"),
        _row("g", dtype="float32", max_intensity=1.0, cond="c"),
    ])
    b = bit_depths(f)
    assert b.bits.tolist() == [12, 12, 10, 14, 8, 16, 0]
    assert b.top[:6].tolist() == [4095, 4095, 1023, 16383, 255, 32767] and np.isnan(b.top[6])
    assert b.stated.tolist() == [False, False, True, False, False, False, False]
    assert b.bottom[5] == -32768


def test_slices_of_a_flagged_image_are_not_listed_again() -> None:
    f = _frame([
        _row("s"), _row("s", 1, dim_z=0), _row("s", 1, dim_c=1), _row("s", 2, dim_z=0, dim_c=1),
        _row("t"), _row("t", 1, dim_z=0), _row("t", 2, dim_z=0, dim_c=1), _row("t", 2, dim_z=1, dim_c=1),
    ])
    assert uncovered(f, np.array([0, 1, 2, 3, 6, 7])).tolist() == [0, 6, 7]
    assert uncovered(f, np.array([5, 6, 7])).tolist() == [5, 7]


def test_percentiles_are_exact_for_one_value_per_bin() -> None:
    counts = np.zeros((1, 256), dtype=np.int64)
    counts[0, 3], counts[0, 10], counts[0, 200] = 1, 98, 1
    p1, p99 = percentiles(counts, np.array([True]), np.array([0.0]), np.array([256.0]), np.array([True]))
    assert (p1[0], p99[0]) == (3.0, 10.0)


def test_sharpness_collapse_along_t_is_a_focus_warning() -> None:
    rows = [_row("movie", dtype="uint16", laplacian_variance=100.0)]
    lap = [100.0, 104, 97, 101, 99, 30, 28]
    rows += [_row("movie", 1, dim_t=t, dtype="uint16", laplacian_variance=v) for t, v in enumerate(lap)]
    findings = [f for f in check_frame(_frame(rows)).findings if f.id == "focus"]
    assert len(findings) == 1 and findings[0].severity == "warning"
    assert [r.dim_t for r in findings[0].rows] == [5, 6]


def test_errors_are_grouped_by_stage_and_cause() -> None:
    rows = [
        _row("x/a.tif", error="x/a.tif: truncated after 12 of 40 planes", error_stage="load"),
        _row("x/b.tif", error="x/b.tif: truncated after 3 of 40 planes", error_stage="load"),
        _row("x/c.czi", error="x/c.czi: reader for czi is not installed", error_stage="header"),
    ]
    found = [f for f in check_frame(_frame(rows)).findings if f.id == "unreadable"]
    assert [(f.severity, f.files) for f in found] == [("error", ("x/a.tif", "x/b.tif")), ("error", ("x/c.czi",))]


def test_a_table_without_the_key_columns_is_not_a_report() -> None:
    with pytest.raises(ReportError, match="not a Pixel Patrol report"):
        read_frame(pa.table({"imported_path": ["a"]}))


def test_plane_tiles_and_empty_reports_are_handled() -> None:
    rows = [
        _row("p", dim_y=None, dtype="uint8", max_intensity=255.0, min_intensity=3.0, count_at_max=5000,
             count_at_min=1, finite_pixel_count=10000, num_pixels=10000, std_intensity=9.0),
        _row("p", 1, dim_y=0, dtype="uint8", max_intensity=255.0, min_intensity=3.0, count_at_max=5000,
             count_at_min=1, finite_pixel_count=5000, num_pixels=5000, std_intensity=0.0),
    ]
    found = check_frame(_frame(rows)).findings
    assert [(f.id, f.scope, len(f.rows)) for f in found] == [("clipped", "image", 1)]
    empty = pa.Table.from_pylist(rows).slice(0, 0)
    assert check_frame(read_frame(empty)).findings == []


def test_five_thousand_clipped_slices_are_one_finding_naming_their_files() -> None:
    n_img, n_z = 1000, 5
    paths = [f"/d/img_{i:04d}.tif" for i in range(n_img) for _ in range(n_z + 1)]
    obs = [0 if k == 0 else 1 for _ in range(n_img) for k in range(n_z + 1)]
    dim_z = [None if k == 0 else k - 1 for _ in range(n_img) for k in range(n_z + 1)]
    at_max = [1 if k == 0 else 300 for _ in range(n_img) for k in range(n_z + 1)]
    count = [n_z * 10000 if k == 0 else 10000 for _ in range(n_img) for k in range(n_z + 1)]
    n = len(paths)
    table = pa.table({
        "imported_path": paths, "obs_level": pa.array(obs, pa.int8()), "path": ["a"] * n,
        "dim_z": pa.array(dim_z, pa.int64()), "dtype": ["uint16"] * n,
        "max_intensity": [4095.0] * n, "min_intensity": [100.0] * n,
        "count_at_max": at_max, "count_at_min": [1] * n, "finite_pixel_count": count,
        "num_pixels": count, "std_intensity": [50.0] * n,
    })
    clipped = [f for f in check_frame(read_frame(table)).findings if f.id == "clipped"]
    assert len(clipped) == 1
    f = clipped[0]
    assert (f.severity, f.scope, len(f.rows), len(f.files)) == ("error", "slice", 5000, 1000)
    assert f.value == 0.03 and f.threshold == 0.01 and len(f.evidence) == 5000
    assert f.message.startswith("5,000 slices in 1,000 files have up to 3.0 % of pixels at the 12-bit maximum 4095")


def test_condition_shift_names_what_a_condition_was_compared_with() -> None:
    rows = []
    for i in range(8):  # uint16: three conditions; c is brighter than a and b together
        rows += [_row(f"{c}{i}", cond=c, dtype="uint16", mean_intensity=m + i) for c, m in (("a", 100.0), ("b", 101.0), ("c", 900.0))]
    for i in range(8):  # uint8: only a and b; b is darker than a
        rows += [_row(f"{c}8_{i}", cond=c, dtype="uint8", mean_intensity=m + i) for c, m in (("a", 200.0), ("b", 20.0))]
    shifts = sorted(f.message for f in check_frame(_frame(rows)).findings if f.id == "condition-shift")
    assert any("condition c has higher mean_intensity than the other 2 conditions (8 images vs 16;" in m for m in shifts)
    assert any("condition b has lower mean_intensity than condition a (8 images vs 8;" in m for m in shifts)
