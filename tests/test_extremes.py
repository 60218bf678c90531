"""Every finite input gives finite, correct statistics: the extremes of every pixel type.

Each case is a small structured image ``t`` (levels 0..15, edges and noise) mapped exactly onto
the extremes of a type: the bottom or top of an integer range, a huge offset with a spread of
a few units (2**60 + t), values near the float limits (±3e38, ±1.8e308), subnormal floats, a
binary image at both ends of the range. The references are independent of the code under
test: exact rational arithmetic (``fractions.Fraction``) for raster-basic, thumbnail scaling
and Michelson contrast; the documented bin rule for raster-histogram; and for the
neighbourhood metrics the values of ``t`` itself, since an exact affine map leaves
``mscn_variance``, ``texture_heterogeneity``, ``blocking_index`` and ``ringing_index``
unchanged and multiplies ``laplacian_variance`` by the gain squared.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from pixel_patrol_base.chunked import rows_in_chunks
from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.processors import RasterBasic, RasterHistogram, Thumbnail
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

PROCESSORS = [RasterBasic(), RasterHistogram(), Thumbnail(), RasterQuality(), RasterCompression()]
INVARIANT = ("mscn_variance", "texture_heterogeneity", "blocking_index", "ringing_index")


def tame(shape: tuple[int, int] = (48, 44), levels: int = 16, seed: int = 0) -> np.ndarray:
    """Integer levels 0 .. levels-1: a bright disc, a bar and a ramp, with noise (int64)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[:h, :w]
    t = 2 + (xx * 3) // w + rng.integers(0, 2, shape)
    t[(yy - h // 2) ** 2 + (xx - w // 3) ** 2 < (h // 5) ** 2] += levels // 2
    t[5:8, :] = levels - 1
    return np.clip(t, 0, levels - 1).astype(np.int64)


def _case(dtype: str, kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Fraction, str]:
    """``(image, t, gain, layout)`` with ``image = gain * t + offset`` exactly."""
    t = tame(seed=seed)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if kind == "bottom":
            return (np.array(info.min, dt) + t.astype(dt)).astype(dt), t, Fraction(1), "YX"
        if kind == "top":
            return (np.array(info.max, dt) - t.astype(dt)).astype(dt), t, Fraction(-1), "YX"
        if kind == "both-ends":
            b = (t > 7).astype(np.int64)
            img = np.where(b == 1, info.max, info.min).astype(dt)
            return img, b, Fraction(int(info.max) - int(info.min)), "YX"
        offset = (1 << (8 * dt.itemsize - 4)) if dt.itemsize >= 4 else info.max // 2
        return (np.array(offset, dt) + t.astype(dt)).astype(dt), t, Fraction(1), "YX"
    finfo = np.finfo(dt)
    if kind == "both-ends":
        big = finfo.max if dtype != "float32" else np.float32(3e38)
        b = (t > 7).astype(np.int64)
        img = np.where(b == 1, big, -big).astype(dt)
        return img, b, 2 * Fraction(float(big)), "YX"
    if kind == "huge":
        k = finfo.maxexp - 6
        return np.ldexp(t.astype(np.float64), k).astype(dt), t, Fraction(2) ** k, "YX"
    if kind == "subnormal":
        k = finfo.minexp - finfo.nmant
        return np.ldexp(t.astype(np.float64), k).astype(dt), t, Fraction(2) ** k, "YX"
    offset = 2 ** (finfo.nmant - 4)  # exact integers; the spread is 16 units on a huge level
    return (offset + t).astype(dt), t, Fraction(1), "YX"


CASES = [
    (dt, kind)
    for dt in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")
    for kind in ("bottom", "top", "both-ends", "offset")
] + [
    (dt, kind)
    for dt in ("float16", "float32", "float64")
    for kind in ("both-ends", "huge", "subnormal", "offset")
]


def _rows(image: np.ndarray, layout: str) -> dict[str, Any]:
    rows = process_image(image, ImageHeader(layout, image.shape, str(image.dtype)), {}, PROCESSORS)
    return {k: v[0] for k, v in rows.items()}


def _fraction(v: Any) -> Fraction:
    """The exact value of one pixel."""
    return Fraction(int(v)) if np.asarray(v).dtype.kind in "iu" else Fraction(float(v))


def _exact_moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and population std of ``values`` in exact rational arithmetic."""
    xs = [_fraction(v) for v in values.ravel()]
    mean = sum(xs, Fraction(0)) / len(xs)
    var = sum(((x - mean) ** 2 for x in xs), Fraction(0)) / len(xs)
    return float(mean), _sqrt(var)


def _sqrt(q: Fraction) -> float:
    """Correctly scaled square root of a non-negative rational (also far beyond float64)."""
    if q == 0:
        return 0.0
    shift = (q.numerator.bit_length() - q.denominator.bit_length()) // 2 * 2
    scaled = q / Fraction(2) ** shift if shift >= 0 else q * Fraction(2) ** (-shift)
    return math.ldexp(math.sqrt(float(scaled)), shift // 2)


def _close(got: float | None, want: float, rel: float) -> bool:
    return got is not None and (got == want or abs(got - want) <= rel * abs(want))


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_basic_statistics_are_exact_at_the_extremes(dtype: str, kind: str) -> None:
    image, _, _, layout = _case(dtype, kind)
    row = _rows(image, layout)
    mean, std = _exact_moments(image)
    assert row["min_intensity"] == float(image.min())
    assert row["max_intensity"] == float(image.max())
    assert row["finite_pixel_count"] == image.size
    assert _close(row["mean_intensity"], mean, 1e-12), (row["mean_intensity"], mean)
    assert _close(row["std_intensity"], std, 1e-12), (row["std_intensity"], std)


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_histogram_counts_follow_the_documented_bins(dtype: str, kind: str) -> None:
    image, _, _, layout = _case(dtype, kind)
    row = _rows(image, layout)
    flat = image.ravel()
    if image.dtype.kind in "iu":
        if image.dtype.itemsize == 1:
            lo, width = int(np.iinfo(image.dtype).min), 1
        else:
            lo = int(image.min())
            width = max(1, -(-(int(image.max()) - lo + 1) // 256))
        want = [0] * 256
        for v in flat.tolist():
            want[(int(v) - lo) // width] += 1
    else:
        lo_f, hi_f = float(image.min()), float(image.max())
        edges = _edges(lo_f, hi_f)
        idx = np.searchsorted(edges[1:-1], flat.astype(np.float64), side="right")
        want = np.bincount(idx, minlength=256).tolist()
        assert (row["histogram_min"], row["histogram_max"]) == (lo_f, hi_f)
    assert row["histogram_counts"].tolist() == want
    assert row["histogram_nan_count"] == 0


def _edges(lo: float, hi: float) -> np.ndarray:
    """The documented float edges: ``linspace(lo, hi, 257)``, formed in a power-of-two frame
    when the range is extreme (beyond 1e300, or below 1e-300)."""
    with np.errstate(over="ignore"):
        span = hi - lo
    big = max(abs(lo), abs(hi))
    if big == 0 or 1e-300 < span < 1e300:
        return np.linspace(lo, hi, 257)
    k = -math.frexp(big)[1]
    return np.ldexp(np.linspace(math.ldexp(lo, k), math.ldexp(hi, k), 257), -k)


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_thumbnail_scales_the_extremes(dtype: str, kind: str) -> None:
    image, _, _, layout = _case(dtype, kind)
    row = _rows(image, layout)
    assert row["thumbnail_norm_min"] == float(image.min())
    assert row["thumbnail_norm_max"] == float(image.max())
    exact = [_fraction(v) for v in np.unique(image)]
    lo, hi = min(exact), max(exact)
    rgba = np.frombuffer(row["thumbnail"], np.uint8).reshape(64, 64, 4)
    shown = rgba[..., 3] == 255
    levels = {int(v) for v in rgba[..., 0][shown].tolist()}
    want = {math.floor(255 * (v - lo) / (hi - lo) + Fraction(1, 2)) for v in exact}
    assert levels <= want | {w + 1 for w in want} | {w - 1 for w in want}
    assert min(levels) == 0 and max(levels) == 255


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_image_metrics_are_finite_and_follow_the_exact_map(dtype: str, kind: str) -> None:
    image, t, gain, layout = _case(dtype, kind)
    row = _rows(image, layout)
    ref = _rows(t.astype(np.int16), "YX")
    for name in INVARIANT:
        if ref[name] is None:
            assert row[name] is None, name
        else:
            assert _close(row[name], ref[name], 1e-6), (name, row[name], ref[name])
    lap = Fraction(ref["laplacian_variance"]) * gain * gain
    if lap > Fraction(sys.float_info.max):  # beyond the float64 range: null, as documented
        assert row["laplacian_variance"] is None
    else:  # 0.0 where it is below the smallest subnormal
        assert _close(row["laplacian_variance"], float(lap), 1e-6), (row["laplacian_variance"], lap)
    assert _close(row["michelson_contrast"], _michelson(image), 1e-9)


def _michelson(image: np.ndarray) -> float:
    """(P99 - P1) / (|P99| + |P1|) with numpy's linear rule, in exact arithmetic."""
    xs = sorted(_fraction(v) for v in image.ravel())
    n = len(xs)

    def pct(q: int) -> Fraction:
        h = Fraction((n - 1) * q, 100)
        k = math.floor(h)
        return xs[k] + (xs[min(k + 1, n - 1)] - xs[k]) * (h - k)

    lo, hi = pct(1), pct(99)
    return 0.0 if hi == lo else float((hi - lo) / (abs(hi) + abs(lo)))


def test_rgb_extremes() -> None:
    rgb = np.stack([tame(seed=s) for s in range(3)], axis=-1)
    for dtype, lo, hi in (("uint8", 0, 255), ("float32", -3e38, 3e38)):
        image = np.where(rgb > 7, hi, lo).astype(dtype)
        row = _rows(image, "YXS")
        mean, std = _exact_moments(image)
        assert _close(row["mean_intensity"], mean, 1e-12) and _close(row["std_intensity"], std, 1e-12)
        assert all(row[m] is not None for m in ("mscn_variance", "blocking_index", "michelson_contrast"))
        assert sum(row["histogram_counts"]) == image.size


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_stacks_of_extremes_roll_up(dtype: str, kind: str) -> None:
    """Two planes of different content: every plane row is exact, and the image row pools them
    without overflow, and without losing the spread to the rounding of large means."""
    first, _, _, _ = _case(dtype, kind)
    second, _, _, _ = _case(dtype, kind, seed=1)
    stack = np.stack([first, second])
    rows = process_image(stack, ImageHeader("ZYX", stack.shape, dtype), {}, PROCESSORS)
    for i, plane in ((1, first), (2, second)):
        assert rows["dim_z"][i] == i - 1
        mean, std = _exact_moments(plane)
        assert _close(rows["mean_intensity"][i], mean, 1e-12)
        assert _close(rows["std_intensity"][i], std, 1e-12)
    mean, std = _exact_moments(stack)
    assert _close(rows["mean_intensity"][0], mean, 1e-12), (rows["mean_intensity"][0], mean)
    assert _close(rows["std_intensity"][0], std, 1e-12), (rows["std_intensity"][0], std)
    assert sum(rows["histogram_counts"][0]) == stack.size


@pytest.mark.parametrize(("dtype", "kind"), CASES, ids=[f"{d}-{k}" for d, k in CASES])
def test_extremes_do_not_depend_on_memory_chunks(dtype: str, kind: str) -> None:
    """The plane cut into memory chunks (as by a small --mb-per-task) gives the same row."""
    image, _, _, layout = _case(dtype, kind)
    header = ImageHeader(layout, image.shape, dtype)
    whole = {k: v[0] for k, v in process_image(image, header, {}, PROCESSORS).items()}
    boxes = [(slice(0, 17), slice(0, 30)), (slice(0, 17), slice(30, 44)), (slice(17, 48), slice(None))]
    cut = {k: v[0] for k, v in rows_in_chunks(image, header, {}, PROCESSORS, boxes).items()}
    mean, std = _exact_moments(image)
    assert _close(cut["mean_intensity"], mean, 1e-12) and _close(cut["std_intensity"], std, 1e-12)
    assert cut["histogram_counts"].tolist() == whole["histogram_counts"].tolist()
    assert cut["thumbnail"] == whole["thumbnail"]
    for name in (*INVARIANT, "michelson_contrast", "laplacian_variance"):
        assert (cut[name] is None) == (whole[name] is None), name
        if whole[name] is not None:
            assert _close(cut[name], whole[name], 1e-6), (name, cut[name], whole[name])
