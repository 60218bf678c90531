"""Settings validation: every bad value gives a SettingsError with a useful message."""

from __future__ import annotations

import pytest

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.settings import ProcessingSettings, normalise_extensions, parse_slice_size


def test_slice_size_parsing() -> None:
    assert parse_slice_size(["Z=5", "y=-1", " c = 2 "]) == {"Z": 5, "Y": -1, "C": 2}
    assert parse_slice_size({"t": 3}) == {"T": 3}
    assert parse_slice_size(None) == {}


@pytest.mark.parametrize(
    ("item", "fragment"),
    [("Q=1", "unknown axis 'Q'"), ("Z=0", "Z=0 is invalid"), ("Z=x", "not an integer"), ("Z", "expected DIM=N"), ("Z=-2", "Z=-2 is invalid"), ("ZZ=1", "unknown axis")],
)
def test_slice_size_errors(item: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        parse_slice_size([item])


def test_extensions_normalised() -> None:
    assert normalise_extensions([".TIF", "png", "Ome.Tif"]) == {"tif", "png", "ome.tif"}
    with pytest.raises(SettingsError):
        normalise_extensions(["."])


@pytest.mark.parametrize(
    "kw",
    [
        {"mb_per_task": 0},
        {"mb_per_task": -1.0},
        {"mb_per_task": float("nan")},
        {"max_images_per_task": 0},
        {"rows_per_part": 0},
        {"parquet_row_group_size": -5},
        {"max_workers": 0},
        {"scheduler": " "},
        {"slice_size": {"Z": 0}},
    ],
)
def test_bad_budgets(kw: dict) -> None:
    with pytest.raises(SettingsError):
        ProcessingSettings(**kw)


def test_budget_bytes() -> None:
    assert ProcessingSettings(mb_per_task=1.5).budget_bytes == 1572864
