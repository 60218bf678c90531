"""Both processors against the leaf-processor contract, the engine's rollup and bad input."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pyarrow as pa
import pytest
from image_metrics_testkit import metrics, scene, stack_of

from pixel_patrol_base.contracts import Agg, ImageContext, ImageHeader, LeafProcessor, LeafStack
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.plugins import get_processor
from pixel_patrol_base.processors import RasterBasic
from pixel_patrol_base.rollup import validate_columns
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

QUALITY = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")
COMPRESSION = ("blocking_index", "ringing_index")
ALL = QUALITY + COMPRESSION
PROCESSORS = [RasterQuality(), RasterCompression()]


def run_both(stack: LeafStack) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for proc in PROCESSORS:
        out.update(proc.run(stack))
    return out


# ---------------------------------------------------------------- declarations


@pytest.mark.parametrize(
    ("proc", "names"), [(RasterQuality(), QUALITY), (RasterCompression(), COMPRESSION)]
)
def test_columns_declare_a_weighted_mean_and_an_internal_plane_count(
    proc: LeafProcessor, names: tuple[str, ...]
) -> None:
    public = [c for c in proc.COLUMNS if not c.internal]
    internal = {c.name: c for c in proc.COLUMNS if c.internal}
    assert [c.name for c in public] == list(names)
    for col in public:
        assert col.type == pa.float64() and col.agg is Agg.MEAN
        assert col.description.endswith(".") and len(col.description) > 40
        weight = internal[col.weight or ""]
        assert weight.type == pa.int64() and weight.agg is Agg.SUM
    validate_columns(proc.COLUMNS)
    assert isinstance(proc, LeafProcessor)
    assert proc.KIND == "leaf" and proc.NEEDS_RANGE is False


def test_entry_points_load_the_processors_and_they_pickle() -> None:
    for name, cls in (("raster-quality", RasterQuality), ("raster-compression", RasterCompression)):
        proc = get_processor(name)
        assert type(proc) is cls
        assert type(pickle.loads(pickle.dumps(proc))) is cls


def test_column_names_do_not_collide_with_the_base_processors() -> None:
    names = [c.name for p in [*PROCESSORS, RasterBasic()] for c in p.COLUMNS]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------- leaf layout


def test_leaf_value_is_the_mean_over_its_planes_with_their_count() -> None:
    planes = np.stack([scene(s, n=64) for s in range(3)])  # one ZYX leaf of 3 planes
    out = run_both(stack_of(planes[None], "ZYX"))
    singles = [metrics(p) for p in planes]
    for name in ALL:
        assert out[f"{name}_planes"].tolist() == [3]
        assert out[name][0] == pytest.approx(np.mean([s[name] for s in singles]), rel=1e-12)


def test_an_all_nan_plane_is_left_out_of_the_leaf_mean() -> None:
    planes = np.stack([scene(s, n=64) for s in range(2)]).astype(np.float32)
    planes = np.concatenate([planes, np.full((1, 64, 64), np.nan, np.float32)])
    out = run_both(stack_of(planes[None], "ZYX"))
    for name in ALL:
        assert out[f"{name}_planes"].tolist() == [2]
        expected = np.mean([metrics(p)[name] for p in planes[:2]])
        assert out[name][0] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("dim_order", ["YXS", "CYX", "YCX", "TZCYX"])
def test_any_axis_order_is_split_into_yx_planes(dim_order: str) -> None:
    rng = np.random.default_rng(0)
    extents = {"T": 2, "Z": 1, "C": 2, "S": 3, "Y": 24, "X": 20}
    leaf = rng.integers(0, 4000, [extents[a] for a in dim_order]).astype(np.uint16)
    out = run_both(stack_of(np.stack([leaf, leaf[::-1]]), dim_order))
    yx = np.moveaxis(leaf, (dim_order.index("Y"), dim_order.index("X")), (-2, -1))
    planes = yx.reshape(-1, 24, 20)
    for name in ("michelson_contrast", "laplacian_variance", "blocking_index"):
        assert out[f"{name}_planes"][0] == len(planes)
        expected = np.mean([metrics(p)[name] for p in planes])
        assert out[name][0] == pytest.approx(expected, rel=1e-12)


def test_many_small_planes_are_batched_without_changing_results() -> None:
    rng = np.random.default_rng(1)
    planes = rng.normal(100, 10, (300, 16, 16))  # 300 planes: several batches
    planes[7] = 5.0
    out = RasterQuality().run(stack_of(planes[:, None], "ZYX"))
    for i in (0, 7, 150, 299):
        single = metrics(planes[i])
        for name in QUALITY:
            got, want = out[name][i], single[name]
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-12)
    assert out["mscn_variance_planes"].sum() == 299


# ---------------------------------------------------------------- rollup through the engine


@pytest.mark.parametrize("slice_size", [{}, {"Z": 2}, {"Z": 5}, {"Z": -1}])
def test_image_level_value_is_the_plane_mean_whatever_the_slicing(
    slice_size: dict[str, int],
) -> None:
    planes = np.stack([scene(s, n=48) for s in range(5)]).astype(np.float32)
    planes[3] = np.nan  # an all-NaN slice must not move the image value
    planes[0] = np.random.default_rng(0).normal(100, 10, (48, 48))  # no edge: null ringing
    header = ImageHeader("ZYX", planes.shape, "float32")
    rows = process_image(planes, header, slice_size, PROCESSORS)
    level0 = rows["obs_level"].index(0)
    singles = [metrics(p) for p in planes]
    assert math.isnan(singles[0]["ringing_index"])  # null, weight 0
    for name in ALL:
        defined = [v[name] for v in singles if not math.isnan(v[name])]
        assert len(defined) >= 3
        assert rows[name][level0] == pytest.approx(np.mean(defined), rel=1e-9)


# ---------------------------------------------------------------- bad input


def null(value: float) -> bool:
    return math.isnan(value)


@pytest.mark.parametrize(
    "plane",
    [
        pytest.param(np.full((32, 32), 7, np.uint16), id="constant"),
        pytest.param(np.full((32, 32), np.nan), id="all-nan"),
        pytest.param(np.full((32, 32), np.inf), id="all-inf"),
        pytest.param(np.where(np.eye(32) > 0, np.nan, 3.0), id="constant-with-nan"),
    ],
)
def test_planes_without_variation_are_null_for_every_metric(plane: np.ndarray) -> None:
    out = run_both(stack_of(plane[None]))
    for name in ALL:
        assert null(out[name][0]) and out[f"{name}_planes"][0] == 0


def test_one_pixel_wide_planes_give_only_the_metrics_that_exist() -> None:
    line = np.arange(50, dtype=np.float64)[None, :] ** 1.5  # 1 x 50
    got = metrics(line)
    p1 = 0.49  # between 0 and 1 at rank 0.49
    p99 = 48.0**1.5 + 0.51 * (49.0**1.5 - 48.0**1.5)  # rank 48.51
    assert got["michelson_contrast"] == pytest.approx((p99 - p1) / (p99 + p1), rel=1e-12)
    assert 0 < got["blocking_index"] < 2  # horizontal steps exist
    for name in ("mscn_variance", "texture_heterogeneity", "laplacian_variance", "ringing_index"):
        assert null(got[name])
    for name in ALL:
        assert null(metrics(line.T)[name]) == null(got[name])


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (6, 40), (0, 5), (4, 0)])
def test_tiny_planes_never_crash(shape: tuple[int, int]) -> None:
    plane = np.arange(shape[0] * shape[1], dtype=np.int16).reshape(shape) * 3 - 4
    got = metrics(plane)
    assert null(got["mscn_variance"])  # under the 7x7 window
    assert null(got["laplacian_variance"]) == (min(shape) < 3)


def test_signed_and_negative_float_data_is_handled() -> None:
    img = scene(0, n=64).astype(np.float64)
    shifted = metrics(img - 1000.0)  # all negative: mirrored Michelson
    mirrored = metrics(1000.0 - img)
    assert shifted["michelson_contrast"] == pytest.approx(mirrored["michelson_contrast"])
    as_int16 = metrics((img - 128).astype(np.int16))  # straddles zero
    assert as_int16["michelson_contrast"] == 1.0
    base = metrics(img)
    for name in ("mscn_variance", "texture_heterogeneity", "laplacian_variance", "blocking_index"):
        assert shifted[name] == pytest.approx(base[name], rel=1e-6)


def test_non_finite_pixels_do_not_poison_a_plane() -> None:
    img = scene(1, n=64).astype(np.float64)
    spoiled = img.copy()
    spoiled[10, 10], spoiled[20, 30], spoiled[40, 5] = np.nan, np.inf, -np.inf
    clean, dirty = metrics(img), metrics(spoiled)
    for name in ALL:
        assert np.isfinite(dirty[name])
        if name == "ringing_index":  # near 0 here; each bad pixel drops the sites around it
            assert dirty[name] == pytest.approx(clean[name], abs=0.02)
        else:
            assert dirty[name] == pytest.approx(clean[name], rel=0.1)


def test_bool_planes_work_and_complex_planes_are_refused() -> None:
    board = (np.add.outer(np.arange(24), np.arange(24)) // 5 % 2).astype(bool)
    assert metrics(board)["michelson_contrast"] == 1.0
    with pytest.raises(TypeError, match="complex"):
        RasterQuality().run(stack_of(np.ones((1, 8, 8), np.complex64)))


def test_an_empty_stack_gives_empty_columns() -> None:
    stack = LeafStack(np.zeros((0, 16, 16), np.uint8), ImageContext("YX", (16, 16), "uint8"))
    out = run_both(stack)
    assert all(len(v) == 0 for v in out.values()) and len(out) == 2 * len(ALL)
