"""The shared dimension normaliser: letter rules, dropped axes, folding, region translation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.regions import region_steps
from pixel_patrol_loader_bio._dims import letter_for, plan_axes


@pytest.mark.parametrize(
    ("labels", "shape", "dims", "out"),
    [
        ("YX", (4, 5), "YX", (4, 5)),
        ("YXS", (4, 5, 3), "YXS", (4, 5, 3)),
        ("TCZYX", (1, 1, 1, 4, 5), "YX", (4, 5)),
        ("TCZYX", (1, 3, 1, 1, 5), "CYX", (3, 1, 5)),  # line scan keeps Y = 1
        ("QSYX", (2, 3, 4, 5), "ZSYX", (2, 3, 4, 5)),  # unknown Q takes the first free letter, Z
        ("ZQYX", (2, 3, 4, 5), "ZTYX", (2, 3, 4, 5)),  # Z is taken, so Q becomes T
        ("IQYX", (2, 3, 4, 5), "ZTYX", (2, 3, 4, 5)),
        ("EYX", (7, 4, 5), "CYX", (7, 4, 5)),  # tifffile's lambda axis is a channel axis
        ("HTCZYX", (1, 150, 1, 1, 1, 512), "TYX", (150, 1, 512)),
        ("QZYX", (1, 3, 4, 5), "ZYX", (3, 4, 5)),  # a dropped unknown axis uses no letter
        ("CC" + "YX", (2, 3, 4, 5), "CZYX", (2, 3, 4, 5)),  # a repeated letter counts as unknown
    ],
)
def test_letters_and_dropping(labels, shape, dims, out):
    plan = plan_axes(list(labels), shape)
    assert plan.dim_order == dims
    assert plan.shape == out


def test_names_are_case_insensitive_words():
    assert [letter_for(n) for n in ("time", "Channel", "z", "Y", "x", "rgb", "foo")] == [
        "T", "C", "Z", "Y", "X", "S", None,
    ]  # fmt: skip


def test_fourth_stack_axis_folds_into_its_neighbour():
    # V (unknown) x T x C x Z: no letter left for V, so it folds into T: T = 2 * 5.
    plan = plan_axes(list("VTCZYX"), (2, 5, 3, 4, 6, 7))
    assert plan.dim_order == "TCZYX"
    assert plan.shape == (10, 3, 4, 6, 7)
    raw = np.arange(np.prod(plan.raw_shape)).reshape(plan.raw_shape)
    full = plan.finish(raw)
    assert np.array_equal(full[7], raw[1, 2])  # T index 7 = view 1, time 2


def test_unplaceable_axis_is_an_error():
    with pytest.raises(ValueError, match="cannot place"):
        plan_axes(list("TCZYXQ"), (2, 2, 2, 4, 5, 2))  # no letter left and no stack neighbour
    with pytest.raises(ValueError, match="no Y axis"):
        plan_axes(list("QX"), (4, 5))


def test_region_validation():
    with pytest.raises(ValueError, match="2 slices"):
        region_steps((slice(None), slice(None)), (1, 2, 3))
    with pytest.raises(ValueError, match="positive step"):
        region_steps((slice(None, None, -1),), (3,))
    assert region_steps((slice(-2, None),), (5,)) == [(3, 5, 1)]


_labels = st.lists(st.sampled_from(list("TCZQIV")), max_size=4).map(lambda a: [*a, "Y", "X"])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), labels=_labels)
def test_region_through_plan_equals_slice_of_full(data, labels):
    """Reading a raw box and finishing it gives exactly the slice of the full image."""
    shape = tuple(data.draw(st.integers(1, 4)) for _ in labels)
    try:
        plan = plan_axes(labels, shape)
    except ValueError:
        return  # more stack axes than can be placed next to each other
    raw_full = np.arange(int(np.prod(shape))).reshape(shape)
    full = plan.finish(raw_full)
    assert full.shape == plan.shape
    region = []
    for n in plan.shape:
        a = data.draw(st.integers(0, n))
        b = data.draw(st.integers(a, n))
        region.append(slice(a, b, data.draw(st.integers(1, 3))))
    raw, post = plan.raw_region(tuple(region))
    got = plan.finish(raw_full[raw], post)
    assert np.array_equal(got, full[tuple(region)])
    assert got.shape == plan.region_shape(raw, post)
