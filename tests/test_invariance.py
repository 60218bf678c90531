"""Reports do not depend on --mb-per-task or the number of workers (issue: scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import tifffile

from pixel_patrol_base import api


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    base = tmp_path / "stacks"
    base.mkdir()
    for i in range(3):
        tifffile.imwrite(base / f"s{i}.tif", rng.integers(0, 5000, (8, 2, 64, 64), dtype=np.uint16), imagej=True, metadata={"axes": "ZCYX"})
    vol = rng.normal(10, 3, (6, 48, 40)).astype(np.float32)
    vol[1, 3:9, 4:7] = np.nan
    vol[4, 0, 0] = np.inf
    tifffile.imwrite(base / "f.tif", vol, metadata={"axes": "ZYX"}, photometric="minisblack")
    tifffile.imwrite(base / "i.tif", rng.integers(-300, 300, (5, 30, 30), dtype=np.int16), metadata={"axes": "ZYX"}, photometric="minisblack")
    return base


def scan(base: Path, out: Path, **kw: object) -> pa.Table:
    project = api.create_project("inv", base, loader="tifffile", output_path=out)
    api.process_files(project, **kw)  # type: ignore[arg-type]
    table, meta = api.load(out)
    return table, meta.processing_stats


def test_same_report_for_any_budget_and_worker_count(stacks: Path, tmp_path: Path) -> None:
    ref, stats = scan(stacks, tmp_path / "a.parquet", max_workers=1)
    assert stats["tasks"] == {"batch": 1}
    runs = [
        ({"max_workers": 1, "mb_per_task": 0.05}, "chunk"),
        ({"max_workers": 1, "mb_per_task": 0.02}, "chunk"),
        ({"max_workers": 2, "mb_per_task": 0.05, "max_images_per_task": 1}, "chunk"),
        ({"max_workers": 2, "max_images_per_task": 2}, "batch"),
    ]
    for i, (kw, kind) in enumerate(runs):
        table, stats = scan(stacks, tmp_path / f"r{i}.parquet", **kw)
        assert kind in stats["tasks"], stats
        diff = [c for c in ref.column_names if not table.column(c).equals(ref.column(c))]
        assert not diff, (kw, diff, _first_diff(table, ref, diff[0]))
    rows = ref.to_pylist()
    f0 = next(r for r in rows if r["file_name"] == "f.tif" and r["obs_level"] == 0)
    vol = tifffile.imread(stacks / "f.tif").astype(np.float64)
    finite = vol[np.isfinite(vol)]
    assert f0["finite_pixel_count"] == finite.size
    assert f0["mean_intensity"] == pytest.approx(finite.mean(), rel=1e-12)
    assert f0["histogram_nan_count"] == np.isnan(vol).sum()
    assert sum(f0["histogram_counts"]) + f0["histogram_nan_count"] == vol.size


def _first_diff(a: pa.Table, b: pa.Table, col: str) -> tuple:
    x, y = a.column(col).to_pylist(), b.column(col).to_pylist()
    i = next(i for i, (u, v) in enumerate(zip(x, y, strict=True)) if u != v)
    return a.column("file_name")[i], a.column("obs_level")[i], x[i], y[i]


METRICS = (
    "michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance",
    "blocking_index", "ringing_index",
)


def _scene(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Smooth background, bright discs and a bar, noise: every metric has a value."""
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    img = 60 + 40 * xx / w + rng.normal(0, 4, shape)
    for cy, cx, r in ((40, 50, 18), (110, 120, 25), (130, 30, 12)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += 120
    img[70:76, :] = 230
    return np.clip(img, 0, 255).astype(np.uint8)


def test_quality_metrics_do_not_depend_on_the_budget(tmp_path: Path) -> None:
    """A plane larger than --mb-per-task is read in chunks with the filters' halo; its
    metrics (and a float stack's) equal the whole-plane values."""
    rng = np.random.default_rng(5)
    base = tmp_path / "planes"
    base.mkdir()
    tifffile.imwrite(base / "u8.tif", _scene(rng, (160, 170)))
    vol = (_scene(rng, (150, 140)).astype(np.float32) * 0.01)[None].repeat(2, axis=0)
    vol[1] += rng.normal(0, 0.01, vol.shape[1:]).astype(np.float32)
    vol[0, 10:14, 20:30] = np.nan
    tifffile.imwrite(base / "f32.tif", vol, metadata={"axes": "ZYX"}, photometric="minisblack")
    ref, _ = scan(base, tmp_path / "whole.parquet", max_workers=1)
    assert all(v is not None for c in METRICS for v in ref.column(c).to_pylist())
    for budget in (0.01, 0.03):  # 10 kB and 30 kB: every plane is cut into several chunks
        table, stats = scan(base, tmp_path / f"b{budget}.parquet", max_workers=1, mb_per_task=budget)
        assert "chunk" in stats["tasks"], stats
        for c in METRICS:
            for got, want in zip(table.column(c).to_pylist(), ref.column(c).to_pylist(), strict=True):
                assert got == pytest.approx(want, rel=1e-6), (budget, c, got, want)
