"""The fast paths of ``pixel-patrol check`` give what the straightforward code gave.

Each reference below is the earlier, slower implementation, kept here verbatim in substance so
the faster code is compared with it on the planted datasets and on synthetic edge cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base.findings import phash
from pixel_patrol_base.findings.frame import thumbnails


def _reference_hashes(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The DCT hash as first written: every RGBA value to float32, one (256, 8) grey+pool+DCT
    matrix per thumbnail row, then the DCT along Y."""
    n = np.arange(32)
    d = np.cos(np.pi * (2 * n + 1) * np.arange(8)[:, None] / 64)
    m = (d @ np.repeat(np.eye(32), 2, axis=1)).astype(np.float32)
    rgb = np.zeros((64, 4, 8), dtype=np.float32)
    rgb[:, :3, :] = m.T[:, None, :]
    k = len(thumbs)
    data = thumbs.astype(np.float32)
    padded = np.flatnonzero(thumbs[..., 3].min(axis=(1, 2)) == 0)
    if len(padded):
        data[padded] = phash._fill_margin(data[padded])
    per_row = (data.reshape(k * 64, 256) @ rgb.reshape(256, 8)).reshape(k, 64, 8).transpose(0, 2, 1)
    coeffs = (per_row.reshape(k * 8, 64) @ m.T).reshape(k, 64)
    ac = coeffs[:, 1:]
    med = np.partition(ac, 31, axis=1)[:, 31]
    bits = (ac > med[:, None]).astype(np.uint64)
    hashes = (bits << np.arange(1, 64, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    energy = np.sqrt((ac.astype(np.float64) ** 2).mean(axis=1)) / (32 * 4 * 3 * 255.0)
    return hashes, (energy > 1e-3) & (thumbs[..., 3].max(axis=(1, 2)) > 0)


def _report_thumbnails(report: Path) -> np.ndarray:
    column = pq.read_table(report, columns=["thumbnail"]).column("thumbnail").combine_chunks()
    pixels, _ = thumbnails(column)
    return pixels


def _synthetic_thumbnails(rng: np.random.Generator) -> np.ndarray:
    """Colour noise, block images, gradients, a flat one, transparent margins, all transparent."""
    k = 64
    t = rng.integers(0, 256, (k, 64, 64, 4), dtype=np.uint8)
    t[..., 3] = 255
    blocks = np.kron(rng.integers(0, 256, (16, 8, 8), dtype=np.uint8), np.ones((8, 8), dtype=np.uint8)).reshape(16, 64, 64)
    t[:16, ..., :3] = blocks[..., None]
    t[16, ..., :3] = np.linspace(0, 255, 64).astype(np.uint8)[None, :, None]
    t[17, ..., :3] = 77  # flat: no meaningful hash
    t[18:26, :, :12, 3] = 0  # a tall image: transparent left and right margins
    t[18:26, :, 52:, 3] = 0
    t[26:30, 50:, :, 3] = 0  # a wide image: transparent bottom margin
    t[30, ..., 3] = 0  # nothing visible
    return t


def _assert_same_hashes(thumbs: np.ndarray, skip: tuple[int, ...] = ()) -> None:
    fast, fast_ok = phash.perceptual_hashes(thumbs)
    ref, ref_ok = _reference_hashes(thumbs)
    assert len(thumbs) > 0
    np.testing.assert_array_equal(fast_ok, ref_ok)
    compare = ref_ok.copy()
    compare[list(skip)] = False
    np.testing.assert_array_equal(fast[compare], ref[compare])


def test_perceptual_hashes_equal_the_reference_on_the_planted_dataset(planted_report: tuple[Path, list[Any], Path]) -> None:
    _assert_same_hashes(_report_thumbnails(planted_report[0]))


def test_perceptual_hashes_equal_the_reference_on_the_clean_dataset(clean_report: Path) -> None:
    _assert_same_hashes(_report_thumbnails(clean_report))


def test_perceptual_hashes_equal_the_reference_on_synthetic_thumbnails() -> None:
    thumbs = _synthetic_thumbnails(np.random.default_rng(5))
    _assert_same_hashes(thumbs, skip=(16,))
    _, ok = phash.perceptual_hashes(thumbs)
    assert ok[:17].all() and not ok[17] and not ok[30]


def test_a_gradient_hash_is_not_float_noise() -> None:
    """A horizontal gradient has every Y frequency exactly 0; the reference's bits for those
    were float32 rounding noise, the fast path rounds them to 0, so gain and offset keep the
    hash (as they do for every other image)."""
    ramp = np.zeros((3, 64, 64, 4), dtype=np.uint8)
    ramp[..., 3] = 255
    x = np.linspace(0, 200, 64)
    for i, (gain, offset) in enumerate(((1.0, 0.0), (1.2, 10.0), (0.5, 40.0))):
        ramp[i, ..., :3] = np.round(x * gain + offset).astype(np.uint8)[None, :, None]
    hashes, ok = phash.perceptual_hashes(ramp)
    assert ok.all()
    assert phash.popcount(hashes ^ hashes[0]).max() <= 2  # rounding of the pixel values only
    y_bits = [8 * v + u for v in range(8) for u in range(1, 8)]  # bit b + 1 is AC coefficient b
    assert not any(int(hashes[0]) >> b & 1 for b in y_bits)


@pytest.mark.parametrize("k", [1, 1023, 1025])
def test_perceptual_hashes_do_not_depend_on_the_batch_cut(k: int) -> None:
    thumbs = np.random.default_rng(k).integers(0, 256, (k, 64, 64, 4), dtype=np.uint8)
    whole, _ = phash.perceptual_hashes(thumbs)
    one_by_one = np.array([phash.perceptual_hashes(thumbs[i : i + 1])[0][0] for i in range(k)], dtype=np.uint64)
    np.testing.assert_array_equal(whole, one_by_one)


def _orders_table(orders: list[str]) -> Any:
    import pyarrow as pa

    n = len(orders)
    return pa.table({
        "imported_path": [f"/d/a/f{i:02d}.tif" for i in range(n)],
        "obs_level": pa.array([0] * n, pa.int8()),
        "path": ["a"] * n,
        "dtype": ["uint16"] * n,
        "dim_order": orders,
    })


def _inconsistent_messages(orders: list[str]) -> list[str]:
    from pixel_patrol_base.findings.engine import run_check

    return [f.message for f in run_check(_orders_table(orders)).findings if f.id == "inconsistent"]


def test_inconsistent_says_most_common_value_for_a_plurality() -> None:
    orders = ["ZYX"] * 4 + ["YX"] * 3 + ["CYX"] * 2 + ["TYX"] * 2
    assert _inconsistent_messages(orders) == [
        "dim_order: 7 of 11 images differ from the condition's most common value ZYX (4 of 11 images), e.g. YX"
    ]


def test_inconsistent_says_majority_value_for_more_than_half() -> None:
    assert _inconsistent_messages(["ZYX"] * 9 + ["YX", "CYX"]) == [
        "dim_order: 2 of 11 images differ from the condition's majority value ZYX (9 of 11 images), e.g. YX"
    ]
    assert _inconsistent_messages(["ZYX"] * 5 + ["YX"] * 4 + ["CYX"]) == [
        "dim_order: 5 of 10 images differ from the condition's most common value ZYX (5 of 10 images), e.g. YX"
    ]


def test_row_keys_of_many_rows_equal_one_by_one(planted_report: tuple[Path, list[Any], Path]) -> None:
    from pixel_patrol_base.findings.frame import read_frame

    frame = read_frame(planted_report[0])
    frame.wait()
    rows = np.arange(frame.n)[::-1]
    assert frame.keys(rows) == tuple(frame.key(int(i)) for i in rows)
    assert any(k.dim_z is not None for k in frame.keys(rows)) and frame.keys(rows[:0]) == ()


def test_the_page_lists_a_cut_of_exactly_the_finding_json() -> None:
    from pixel_patrol_base.findings.model import Finding, RowKey
    from pixel_patrol_base.html.findings_view import LISTED_ROWS, listed

    n = LISTED_ROWS + 37
    f = Finding(
        "focus", "warning", "slice", "m", files=tuple(f"/d/{i}.tif" for i in range(n)),
        rows=tuple(RowKey(f"/d/{i}.tif", None, dim_z=i % 3) for i in range(n)), value=1.5, threshold=2,
        condition="a", action="x", evidence=tuple(float(i) for i in range(n)),
    )
    full = f.to_json()
    expected = {**full, "n_files": n, "n_rows": n} | {k: full[k][:LISTED_ROWS] for k in ("files", "rows", "evidence")}
    assert listed(f) == expected


def test_the_page_from_check_s_histograms_equals_the_page_from_the_file(planted_report: tuple[Path, list[Any], Path]) -> None:
    from pixel_patrol_base.html.build import page_data
    from pixel_patrol_base.html.heavy import TappedSource
    from pixel_patrol_base.html.write import histogram_tap, read_light, run_check

    path = planted_report[0]
    tap = histogram_tap(path)
    assert tap is not None
    found, _ = run_check(path, None, tap)
    assert tap.wait() and tap.counts.sum() > 0
    table, meta, source, schema = read_light(path)
    tapped = page_data(table, meta, found, heavy=TappedSource(source, tap), schema=schema)
    from_file = page_data(table, meta, found, heavy=source, schema=schema)
    assert tapped["views"] == from_file["views"]
    assert tapped["images"] == from_file["images"] and tapped["thumbnails"] == from_file["thumbnails"]
    rows = tap.image_rows[::3]
    served = TappedSource(source, tap).take("histogram_counts", rows).to_pylist()
    read = source.take("histogram_counts", rows).to_pylist()
    assert served == [[0.0] * 256 if v is None else [float(x) for x in v] for v in read]


def test_a_tap_is_told_done_when_there_is_nothing_to_stream() -> None:
    from pixel_patrol_base.findings.engine import run_check
    from pixel_patrol_base.html.heavy import HistogramTap

    tap = HistogramTap(np.arange(3))
    run_check(_orders_table(["YX", "YX", "YX"]), None, {"histogram_counts": tap})
    assert tap._done.is_set() and not tap.wait()
