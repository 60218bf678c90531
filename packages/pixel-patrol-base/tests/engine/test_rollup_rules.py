"""Rollup rules applied from declarations only, including a third-party style processor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import Agg, Column, ImageHeader, LeafStack
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.processors import RasterBasic
from pixel_patrol_base.rollup import Groups, aggregate, axis_subsets, row_ids, validate_columns

F64 = pa.float64()


def test_axis_subsets_order() -> None:
    assert list(axis_subsets((0, 2, 3))) == [
        (),
        (0,),
        (2,),
        (3,),
        (0, 2),
        (0, 3),
        (2, 3),
        (0, 2, 3),
    ]


def test_row_ids_are_c_order_over_axes() -> None:
    block_idx = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    ids, n = row_ids(block_idx, (0, 1), (2, 2))
    assert ids.tolist() == [1, 2, 3, 0] and n == 4


def test_each_rule() -> None:
    cols = [
        Column("lo", F64, "", Agg.MIN),
        Column("hi", F64, "", Agg.MAX),
        Column("n", pa.int64(), "", Agg.SUM),
        Column("m", F64, "", Agg.MEAN, weight="n"),
        Column("s", F64, "", Agg.STD, weight="n", mean="m"),
        Column("h", pa.list_(pa.int64(), 2), "", Agg.HIST),
        Column("f", F64, "", Agg.FIRST),
    ]
    values = {
        "lo": np.array([3.0, np.nan, 1.0]),
        "hi": np.array([3.0, np.nan, 1.0]),
        "n": np.array([2, 0, 2]),
        "m": np.array([1.0, np.nan, 3.0]),
        "s": np.array([1.0, np.nan, 1.0]),
        "h": np.array([[1, 2], [3, 4], [5, 6]]),
        "f": np.array([7.0, 8.0, 9.0]),
    }
    out = aggregate(cols, values, Groups.from_ids(np.array([0, 0, 0]), 1))
    assert (out["lo"][0], out["hi"][0], out["n"][0]) == (1.0, 3.0, 4)
    assert out["m"][0] == 2.0
    assert out["s"][0] == pytest.approx(np.std([0.0, 2.0, 2.0, 4.0]), rel=1e-15)
    assert out["h"].tolist() == [[9, 12]] and out["f"][0] == 7.0


def test_all_null_group_stays_null() -> None:
    cols = [
        Column("v", F64, "", Agg.MEAN, weight="w"),
        Column("w", pa.int64(), "", Agg.SUM),
        Column("t", F64, "", Agg.SUM),
    ]
    values = {"v": np.array([np.nan, 1.0]), "w": np.array([0, 1]), "t": np.array([np.nan, 2.0])}
    out = aggregate(cols, values, Groups.from_ids(np.array([0, 1]), 2))
    assert np.isnan(out["v"][0]) and out["v"][1] == 1.0
    assert np.isnan(out["t"][0]) and out["t"][1] == 2.0


def test_missing_rows_are_detected() -> None:
    with pytest.raises(ValueError, match="tile"):
        Groups.from_ids(np.array([0, 2]), 3)


def test_broken_declarations_are_rejected() -> None:
    with pytest.raises(ValueError, match="weight"):
        validate_columns([Column("m", F64, "", Agg.MEAN, weight="nope")])
    with pytest.raises(ValueError, match="mean column"):
        validate_columns(
            [Column("w", pa.int64(), "", Agg.SUM), Column("s", F64, "", Agg.STD, weight="w")]
        )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6), min_size=1, max_size=6),
    st.integers(1, 3),
)
def test_pooled_mean_and_std_equal_direct(groups: list[list[float]], n_rows: int) -> None:
    values = [np.array(g) for g in groups]
    ids = np.arange(len(values)) % n_rows
    if len(values) < n_rows:
        return
    cols = [
        Column("n", pa.int64(), "", Agg.SUM),
        Column("m", F64, "", Agg.MEAN, weight="n"),
        Column("s", F64, "", Agg.STD, weight="n", mean="m"),
    ]
    leaf = {
        "n": np.array([len(v) for v in values]),
        "m": np.array([v.mean() for v in values]),
        "s": np.array([v.std() for v in values]),
    }
    out = aggregate(cols, leaf, Groups.from_ids(ids, n_rows))
    for r in range(n_rows):
        pixels = np.concatenate([v for v, i in zip(values, ids, strict=True) if i == r])
        scale = max(1.0, float(np.abs(pixels).max()))
        assert abs(out["m"][r] - pixels.mean()) <= 1e-12 * scale
        assert abs(out["s"][r] - pixels.std()) <= 1e-9 * scale


class CountWeighted:
    """A processor like the quality metrics: a MEAN weighted by its own internal count."""

    NAME: ClassVar[str] = "test-count-weighted"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("bright_fraction", F64, "Fraction of values above 10.", Agg.MEAN, weight="bright_n"),
        Column("bright_n", pa.int64(), "Values considered.", Agg.SUM, internal=True),
        Column("peak", pa.int64(), "Largest value.", Agg.MAX),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        flat = stack.data.reshape(len(stack.data), -1)
        return {
            "bright_fraction": (flat > 10).mean(axis=1),
            "bright_n": np.full(len(flat), flat.shape[1]),
            "peak": flat.max(axis=1).astype(np.int64),
        }


def test_third_party_processor_rolls_up_without_engine_changes() -> None:
    image = np.zeros((2, 2, 5), dtype=np.uint8)
    image[0, :, :2] = 20  # 4 of 10 bright in z0, none in z1
    rows = process_image(
        image, ImageHeader("ZYX", image.shape, "uint8"), {}, [CountWeighted(), RasterBasic()]
    )
    assert rows["bright_fraction"] == [0.2, 0.4, 0.0]
    assert rows["peak"] == [20, 20, 0]
    assert "bright_n" not in rows


def test_sum_at_extreme_adds_only_the_pieces_at_the_rows_extreme() -> None:
    cols = [
        Column("hi", pa.int64(), "", Agg.MAX, internal=True),
        Column("lo", pa.int64(), "", Agg.MIN, internal=True),
        Column("n_hi", pa.int64(), "", Agg.SUM_AT_EXTREME, extreme="hi"),
        Column("n_lo", pa.int64(), "", Agg.SUM_AT_EXTREME, extreme="lo"),
    ]
    values = {
        "hi": np.array([9, 7, 9, 3]),
        "lo": np.array([1, 0, 0, 3]),
        "n_hi": np.array([2, 5, 4, 1]),
        "n_lo": np.array([6, 1, 2, 1]),
    }
    out = aggregate(cols, values, Groups.from_ids(np.array([0, 0, 0, 1]), 2))
    assert out["n_hi"].tolist() == [6, 1]  # pieces 0 and 2 reach 9; piece 1 (max 7) holds none
    assert out["n_lo"].tolist() == [3, 1]


def test_sum_at_extreme_needs_a_min_or_max_column() -> None:
    with pytest.raises(ValueError, match="min or max"):
        validate_columns([Column("n", pa.int64(), "", Agg.SUM_AT_EXTREME, extreme="nope")])
    with pytest.raises(ValueError, match="min or max"):
        validate_columns(
            [Column("s", pa.int64(), "", Agg.SUM), Column("n", pa.int64(), "", Agg.SUM_AT_EXTREME, extreme="s")]
        )
