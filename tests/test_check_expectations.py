"""Expectations files on a real scan: each key violated once, overrides, satisfied files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pixel_patrol_base import api

# the clean dataset: 12 CZYX uint16 OME-TIFF stacks per condition, 7×3×96×96, 0.1 µm, DAPI/GFP/RFP
VIOLATIONS = {
    "dtype": 'dtype = "uint8"',
    "dim_order": 'dim_order = ["ZCYX", "TZCYX"]',
    "channels": "channels = [4, 6]",
    "channel_names": 'channel_names = ["DAPI", "GFP", "mCherry"]',
    "significant_bits": "significant_bits = 12",
    "file_extensions": 'file_extensions = ["tif", "tiff"]',
    "files_per_condition": "files_per_condition = [20, 30]",
    "size.X": "size = { X = 2048 }",
    "size.Y": "size = { Y = [100, 200] }",
    "size.Z": "size = { Z = [10, 60] }",
    "size.C": "size = { C = 4 }",
    "size.T": "size = { T = 5 }",
    "size.S": "size = { S = 3 }",
    "pixel_size.X": "pixel_size = { X = [0.2, 0.3] }",
    "pixel_size.Y": "pixel_size = { Y = 0.2 }",
    "pixel_size.Z": "pixel_size = { Z = [1, 2] }",
    "pixel_size.unit": 'pixel_size = { unit = "nm" }',
}


def _check(report: Path, tmp_path: Path, toml: str) -> list[Any]:
    exp = tmp_path / "expect.toml"
    exp.write_text(toml, encoding="utf-8")
    return [f for f in api.check(report, exp) if f.id == "expectation"]


@pytest.mark.parametrize("key", list(VIOLATIONS))
def test_each_key_violated_once_gives_one_error(key: str, clean_report: Path, tmp_path: Path) -> None:
    found = _check(clean_report, tmp_path, f"[conditions.control]\n{VIOLATIONS[key]}\n")
    assert len(found) == 1, [f.message for f in found]
    f = found[0]
    assert f.severity == "error" and f.condition == "control" and f.message.startswith(key + ":"), f.message
    assert len(f.files) == 12 and all("/control/" in p for p in f.files)


def test_satisfied_expectations_give_nothing(clean_report: Path, tmp_path: Path) -> None:
    toml = """
version = 1
[dataset]
dtype = "uint16"
dim_order = "CZYX"
channels = 3
channel_names = ["DAPI", "GFP", "RFP"]
file_extensions = [".OME.TIF"]
files_per_condition = 12
size = { X = 96, Y = [64, 128], Z = [5, 10], C = 3, T = 1 }
pixel_size = { X = [0.099, 0.101], Y = 0.1, Z = 0.5, unit = "µm" }
[conditions.treated]
files_per_condition = [10, 14]
"""
    assert _check(clean_report, tmp_path, toml) == []


def test_condition_keys_replace_dataset_keys(clean_report: Path, tmp_path: Path) -> None:
    toml = '[dataset]\ndtype = "uint8"\n[conditions.treated]\ndtype = ["uint8", "uint16"]\n'
    found = _check(clean_report, tmp_path, toml)
    assert [(f.condition, f.value, f.threshold) for f in found] == [("control", "uint16", "uint8")]


def test_a_condition_missing_from_the_report_is_an_error(clean_report: Path, tmp_path: Path) -> None:
    found = _check(clean_report, tmp_path, "[conditions.contrl]\nchannels = 3\n")
    assert len(found) == 1 and "'contrl'" in found[0].message and found[0].scope == "condition"


def test_thresholds_apply_dataset_wide_and_per_condition(planted_report: tuple[Path, Any, Path], tmp_path: Path) -> None:
    report = planted_report[0]
    exp = tmp_path / "t.toml"
    exp.write_text("[conditions.clipped.thresholds.clipped]\nerror = 0.5\nlow_end = false\n[thresholds.near-duplicate]\nenabled = false\n")
    findings = api.check(report, exp)
    clipped = [(f.severity, Path(f.files[0]).name) for f in findings if f.id == "clipped" and f.condition == "clipped"]
    assert clipped == [("warning", "saturated.ome.tif")]
    assert not any(f.id == "near-duplicate" for f in findings)
    assert api.check(report, {"thresholds": {"clipped": {"enabled": False}}}) == [
        f for f in api.check(report) if f.id != "clipped"
    ]
