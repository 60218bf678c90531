"""Every edge site's ripple and step, per strength bin, against the pixel-by-pixel reference.

Integer planes dense with sites (noise, texture) are measured from excess maps shared by the
rows around them (``_sites.excess_rows``); sparse rows one site at a time. Both must add the
reference's values exactly: on 8- and 16-bit pixels every ripple is a multiple of 1/4 and
every sum here is exact.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from image_metrics_testkit import ref_ringing_sites

from pixel_patrol_image._compression_loops import BIN_SHIFT
from pixel_patrol_image._tiles import scan_region

WHOLE = (slice(None), slice(None))
REF_BIN_OFFSET = (1100 - 1022) * 16
"""The reference numbers bins from ``frexp``'s exponent + 1100; the scan from the biased
float64 exponent (``frexp`` exponent + 1022)."""


def banded(seed: int, h: int, w: int, dtype: str, top: int) -> np.ndarray:
    """Noise over the full range ``0..top`` in bands of rows, flat bands between them and a
    strong step: rows dense with sites next to rows without any."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, top + 1, (h, w)).astype(np.int64)
    flat = min(9, h // 5)  # flat rows: sparse rows inside the noise, a gap in the maps' rows
    x[h // 3 : h // 3 + flat] = top // 2
    x[:, w // 2 :] = np.clip(x[:, w // 2 :] + top // 3, 0, top)
    x[-5:] = 0
    info = np.iinfo(dtype)
    return (x + (info.min if info.min < 0 else 0)).astype(dtype)


def reference_bins(plane: np.ndarray) -> dict[int, tuple[int, float, float, float]]:
    """Per scan bin: number of finite sites and the sums of ripple, squared ripple and step."""
    out: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for b, _, ripple, step, finite in ref_ringing_sites(plane):
        if finite:
            row = out[b - REF_BIN_OFFSET]
            row[0] += 1
            row[1] += ripple
            row[2] += ripple * ripple
            row[3] += step
    return {k: (int(v[0]), v[1], v[2], v[3]) for k, v in out.items()}


def scanned_bins(plane: np.ndarray) -> dict[int, tuple[int, float, float, float]]:
    _, ring = scan_region(plane, WHOLE, (0, 0), plane.shape, summed_from=0)
    return {
        ring.first_bin + k: (int(ring.used[k]), ring.ripple[k], ring.squares[k], ring.steps[k])
        for k in np.flatnonzero(ring.used)
    }


@pytest.mark.parametrize(
    ("dtype", "top"), [("uint8", 255), ("uint16", 65535), ("int16", 65535), ("uint16", 900)]
)
@pytest.mark.parametrize(("h", "w"), [(48, 40), (23, 70), (26, 16)])
def test_every_site_of_a_dense_integer_plane_equals_the_reference(
    dtype: str, top: int, h: int, w: int
) -> None:
    plane = banded(h * w + top, h, w, dtype, top)
    want = reference_bins(plane)
    assert sum(n for n, *_ in want.values()) > h * w // 20  # dense: many sites per row
    assert scanned_bins(plane) == want


def test_bin_offset_matches_the_scan() -> None:
    """The offset above, checked on one strength: both number 1.0's bin the same way."""
    scan_bin = int(np.array([1.0]).view(np.int64)[0] >> BIN_SHIFT)
    assert scan_bin == (1 + 1100) * 16 - REF_BIN_OFFSET
