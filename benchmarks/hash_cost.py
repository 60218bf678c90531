"""CPU cost per pixel of ``pixel-hash`` and of the extreme counts, against ``raster-basic``.

For each stack the script times, single thread, best of ``--repeats`` interleaved runs:

* ``raster-basic``: the processor as shipped (statistics and the counts at max/min);
* ``counts``: the count_at_max / count_at_min part of it alone;
* ``pixel-hash``: the memory processor on the whole stack as one chunk.

and prints nanoseconds of CPU per pixel and the ratio pixel-hash / raster-basic (target: well
under 1). Run with ``uv run --no-sync python benchmarks/hash_cost.py``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from pixel_patrol_base.contracts import ImageContext, LeafStack  # noqa: E402
from pixel_patrol_base.processors import PixelHash, RasterBasic  # noqa: E402
from pixel_patrol_base.processors._extremes import extreme_counts  # noqa: E402

CASES = [
    ("uint16", "ZYX", (16, 1024, 1024)),
    ("uint8", "ZYX", (16, 1024, 1024)),
    ("float32", "ZYX", (8, 1024, 1024)),
    ("uint16", "YX", (2048, 2048)),
    ("uint8", "YXS", (1024, 1024, 3)),
    ("uint16", "YX", (1023, 1021)),
]


def make(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Camera-like values (12-bit range for uint16)."""
    rng = np.random.default_rng(0)
    if dtype == "float32":
        return rng.normal(500.0, 80.0, shape).astype(np.float32)
    hi = 256 if dtype == "uint8" else 4096
    return rng.integers(0, hi, shape).astype(dtype)


def best(fn: Callable[[], object], repeats: int) -> float:
    """Fastest CPU seconds of ``fn`` over ``repeats`` runs."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def leaves(stack: np.ndarray, dim_order: str) -> np.ndarray:
    """The leaf stack raster-basic sees by default: one leaf per plane (RGB samples kept)."""
    plane = stack.shape[-3:] if dim_order.endswith("S") else stack.shape[-2:]
    return stack.reshape(-1, *plane)


def main() -> None:
    """Time every case and print a table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average); CPU ns per pixel, single thread")
    print(f"{'dtype':8} {'dims':5} {'shape':>18} {'basic':>7} {'counts':>7} {'hash':>7} {'hash/basic':>11}")
    for dtype, dims, shape in CASES:
        stack = make(dtype, shape)
        ctx = ImageContext(dims, shape, dtype)
        lv = leaves(stack, dims)
        flat = lv.reshape(len(lv), -1)
        box = tuple(slice(0, n) for n in shape)
        basic = best(lambda: RasterBasic().run(LeafStack(lv, ctx)), args.repeats)  # noqa: B023
        counts = best(lambda: extreme_counts(flat), args.repeats)  # noqa: B023
        hashed = best(lambda: PixelHash().run(stack, box, ctx), args.repeats)  # noqa: B023
        ns = 1e9 / stack.size
        print(
            f"{dtype:8} {dims:5} {'x'.join(map(str, shape)):>18} {basic * ns:7.2f} "
            f"{counts * ns:7.2f} {hashed * ns:7.2f} {hashed / basic:11.2f}"
        )


if __name__ == "__main__":
    main()
