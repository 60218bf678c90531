"""pixel-hash: the documented definition (checked with plain Python integers), invariance, changes."""

from __future__ import annotations

import hashlib

import numpy as np
from engine_testkit import DIM_ORDERS, DTYPES, grid_tiling, make_image, run_tiled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.processors import PixelHash

M64 = (1 << 64) - 1
SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89)
EXTENT = {"T": (1, 3), "Z": (1, 4), "C": (1, 3), "Y": (1, 5), "X": (1, 9), "S": (3, 4)}
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mix(x: int, seed: int) -> int:
    """SplitMix64 on Python ints, written from its published constants."""
    z = (x + seed) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return (z ^ (z >> 31)) | 1


def reference_hash(image: np.ndarray, dim_order: str) -> str:
    """The docstring's definition, line by line with Python integers."""
    x = dim_order.index("X")
    row_letters = dim_order[:x]
    canon = [a for a in "TCZYXS" if a in row_letters]
    little = image.astype(image.dtype.newbyteorder("<")) if image.dtype != bool else image.view(np.uint8)
    lanes = [0, 0]
    for idx in np.ndindex(*image.shape[:x]):
        coords = dict(zip(row_letters, idx, strict=True))
        key = 0
        for a in canon:
            key = key * image.shape[dim_order.index(a)] + coords[a]
        line = little[idx].tobytes()
        line += b"\0" * (-len(line) % 8)
        for k in range(len(line) // 8):
            chunk = line[8 * k : 8 * k + 8]
            for lane, order in ((0, "little"), (1, "big")):
                word = int.from_bytes(chunk, order)
                lanes[lane] = (lanes[lane] + _mix(key, SEEDS[lane]) * _mix(k, SEEDS[2 + lane]) * word) & M64
    shape = ",".join(f"{a}={image.shape[dim_order.index(a)]}" for a in "TCZYXS" if a in dim_order)
    h = hashlib.blake2b(digest_size=16)
    h.update(lanes[0].to_bytes(8, "little") + lanes[1].to_bytes(8, "little"))
    h.update(f"|{image.dtype.newbyteorder('<').str}|{shape}|{dim_order[x:]}".encode())
    return h.hexdigest()


def _hash(image: np.ndarray, dim_order: str, slice_size: dict[str, int] | None = None) -> str:
    header = ImageHeader(dim_order, image.shape, str(image.dtype))
    rows = process_image(image, header, slice_size or {}, [PixelHash()])
    assert rows["pixel_hash"][1:] == [None] * (len(rows["obs_level"]) - 1)
    return str(rows["pixel_hash"][0])


@st.composite
def images(draw: st.DrawFn) -> tuple[np.ndarray, str, int]:
    dim_order = draw(st.sampled_from(DIM_ORDERS))
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.integers(*EXTENT[a])) for a in dim_order)
    seed = draw(st.integers(0, 2**32 - 1))
    return make_image(np.random.default_rng(seed), shape, dtype), dim_order, seed


@FAST
@given(images())
def test_hash_follows_the_definition(case: tuple[np.ndarray, str, int]) -> None:
    image, dim_order, _ = case
    assert _hash(image, dim_order) == reference_hash(image, dim_order)


@FAST
@given(images(), st.sampled_from([{}, {"Z": 2}, {"X": 4, "Y": 2}, {"C": -1, "T": -1}]))
def test_hash_ignores_chunks_and_slice_size(case: tuple[np.ndarray, str, int], slice_size: dict[str, int]) -> None:
    image, dim_order, seed = case
    header = ImageHeader(dim_order, image.shape, str(image.dtype))
    boxes = grid_tiling(np.random.default_rng(seed + 7), image.shape)
    tiled = run_tiled(image, header, slice_size, boxes, [PixelHash()])
    assert tiled["pixel_hash"][0] == _hash(image, dim_order)


def test_storage_order_and_byte_order_do_not_matter() -> None:
    rng = np.random.default_rng(3)
    zcyx = rng.integers(0, 4096, (3, 2, 5, 7)).astype(np.uint16)
    czyx = np.ascontiguousarray(zcyx.transpose(1, 0, 2, 3))
    assert _hash(zcyx, "ZCYX") == _hash(czyx, "CZYX")
    assert _hash(zcyx.astype(">u2"), "ZCYX") == _hash(zcyx, "ZCYX")
    assert _hash(np.asfortranarray(zcyx), "ZCYX") == _hash(zcyx, "ZCYX")


def test_any_change_of_pixels_or_type_changes_the_hash() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(100, 10, (4, 6, 8))
    seen = {_hash(base, "ZYX")}
    variants = {
        "negated": -base,
        "one pixel": base.copy(),
        "swapped": base.copy(),
        "shifted": np.roll(base, 1, axis=2),
        "float32": base.astype(np.float32),
        "reshaped": base.reshape(4, 8, 6),
    }
    variants["one pixel"][3, 5, 7] += 1e-9
    variants["swapped"][0, 0, [0, 1]] = variants["swapped"][0, 0, [1, 0]]
    for name, image in variants.items():
        h = _hash(image, "ZYX")
        assert h not in seen, name
        seen.add(h)
    ints = rng.integers(0, 255, (16, 16)).astype(np.uint8)
    assert _hash(ints, "YX") != _hash(ints.astype(np.uint16), "YX")
    assert _hash(ints, "YX") != _hash(ints.T.copy(), "YX")
