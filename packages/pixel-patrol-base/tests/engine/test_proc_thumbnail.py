"""thumbnail: encoding, letterbox, colour, plane choice, non-finite values, chunk independence."""

from __future__ import annotations

import numpy as np
from engine_testkit import grid_tiling, run_tiled

from pixel_patrol_base.contracts import ImageContext, ImageHeader
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.processors import Thumbnail
from pixel_patrol_base.processors.thumbnail import ThumbnailLayout

THUMB = [Thumbnail()]


def _thumb(image: np.ndarray, dim_order: str) -> tuple[np.ndarray, dict]:
    rows = process_image(image, ImageHeader(dim_order, image.shape, str(image.dtype)), {}, THUMB)
    row = {k: v[0] for k, v in rows.items()}
    return np.frombuffer(row["thumbnail"], np.uint8).reshape(64, 64, 4), row


def test_encoding_is_raw_rgba_and_stretches_min_to_max() -> None:
    image = np.tile(np.arange(64, dtype=np.uint16) * 10 + 100, (64, 1))
    rgba, row = _thumb(image, "YX")
    assert len(row["thumbnail"]) == 16384
    assert (row["thumbnail_norm_min"], row["thumbnail_norm_max"]) == (100.0, 730.0)
    assert row["thumbnail_dtype"] == "uint16"
    assert rgba[0, 0].tolist() == [0, 0, 0, 255]
    assert rgba[0, 63].tolist() == [255, 255, 255, 255]
    # decoding recovers the intensity to within half a byte step
    decoded = row["thumbnail_norm_min"] + rgba[5, :, 0] / 255 * (730.0 - 100.0)
    assert np.abs(decoded - image[5]).max() <= 0.5 * 630 / 255 + 1e-9


def test_aspect_ratio_is_kept_with_transparent_padding() -> None:
    image = np.ones((10, 40), dtype=np.uint8)
    rgba, _ = _thumb(image, "YX")
    rows_visible = np.flatnonzero(rgba[:, 32, 3])
    assert rows_visible.tolist() == list(range(24, 40))  # 16 rows, centred
    assert not rgba[:24, :, 3].any() and not rgba[40:, :, 3].any()
    assert rgba[30, :, 3].all()


def test_small_image_is_upscaled_by_nearest_neighbour() -> None:
    image = np.array([[0, 200], [100, 50]], dtype=np.uint8)
    rgba, _ = _thumb(image, "YX")
    assert rgba[:32, :32, 0].max() == rgba[:32, :32, 0].min() == 0
    assert (rgba[:32, 32:, 0] == 255).all()
    assert (rgba[32:, :32, 0] == 128).all()  # 127.5 rounds half up


def test_rgb_shown_in_colour_alpha_sample_ignored() -> None:
    image = np.zeros((8, 8, 4), dtype=np.uint8)
    image[..., 0] = 200
    image[..., 3] = 255
    rgba, _ = _thumb(image, "YXS")
    assert rgba[10, 10].tolist() == [255, 0, 0, 255]


def test_middle_plane_of_z_t_and_c() -> None:
    image = np.zeros((3, 4, 5, 6, 6), dtype=np.float32)  # T C Z Y X
    image[1, 2, 2] = np.arange(36, dtype=np.float32).reshape(6, 6)
    _, row = _thumb(image, "TCZYX")
    assert (row["thumbnail_norm_min"], row["thumbnail_norm_max"]) == (0.0, 35.0)


def test_non_rgb_sample_axis_shows_first_sample() -> None:
    image = np.zeros((4, 4, 2), dtype=np.uint8)
    image[..., 0] = np.arange(16).reshape(4, 4)
    image[..., 1] = 255
    _, row = _thumb(image, "YXS")
    assert row["thumbnail_norm_max"] == 15.0


def test_nan_is_transparent_and_infinities_saturate() -> None:
    image = np.zeros((2, 2), dtype=np.float32)
    image[0, 0], image[0, 1], image[1, 0], image[1, 1] = np.nan, np.inf, -np.inf, 4.0
    rgba, row = _thumb(image, "YX")
    assert (row["thumbnail_norm_min"], row["thumbnail_norm_max"]) == (4.0, 4.0)
    assert rgba[0, 0, 3] == 0
    assert rgba[0, 40].tolist() == [255, 255, 255, 255]
    assert rgba[40, 0].tolist() == [0, 0, 0, 255]
    assert rgba[40, 40].tolist() == [128, 128, 128, 255]  # constant finite part


def test_layout_uses_global_pixel_centres() -> None:
    layout = ThumbnailLayout.of(ImageContext("YX", (1000, 500), "uint8"))
    assert (len(layout.rows), len(layout.cols), layout.y0, layout.x0) == (64, 32, 0, 16)
    assert layout.rows[0] == 7 and layout.rows[-1] == 992  # centres of 1000/64 px strips


def test_thumbnail_is_identical_for_any_chunking() -> None:
    rng = np.random.default_rng(11)
    image = rng.normal(size=(3, 70, 90, 3)).astype(np.float32)
    image[1, 3:9, 5:40] = np.nan
    header = ImageHeader("ZYXS", image.shape, "float32")
    want = process_image(image, header, {}, THUMB)
    for seed in range(5):
        boxes = grid_tiling(np.random.default_rng(seed), image.shape)
        got = run_tiled(image, header, {}, boxes, THUMB)
        assert got["thumbnail"][0] == want["thumbnail"][0]
        assert got["thumbnail_norm_min"] == want["thumbnail_norm_min"]
