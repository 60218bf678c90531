"""Seconds per GB of the statistics engine against a bare numpy pass.

For each stack the script times

* ``bare``: a Python loop over the planes calling ``np.min``, ``np.max``, ``np.mean``,
  ``np.std`` and ``np.histogram(plane, bins=256)``, the least any per-plane QC pass does;
* ``engine``: :func:`pixel_patrol_base.engine.process_image` with ``raster-basic`` and
  ``raster-histogram`` (finite-range pre-pass, leaf statistics, exact histograms, rollup to
  obs rows and conversion to Python lists included).

and prints CPU seconds per GB (10^9 bytes of pixels) and the ratio engine / bare; the target
is ≤ 1.5. Each figure is the best of ``--repeats`` interleaved runs, single thread. Run with
``uv run --no-sync python benchmarks/kernels.py`` (``--quick`` for smaller stacks).
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from pixel_patrol_base.contracts import ImageHeader  # noqa: E402
from pixel_patrol_base.engine import process_image  # noqa: E402
from pixel_patrol_base.processors import RasterBasic, RasterHistogram  # noqa: E402

PROCESSORS = [RasterBasic(), RasterHistogram()]


def make_stack(dtype: str, planes: int, side: int, seed: int = 0) -> np.ndarray:
    """A ZYX stack with realistic spread (uint16 uses ~12 bits, like most cameras)."""
    rng = np.random.default_rng(seed)
    shape = (planes, side, side)
    if dtype == "uint8":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if dtype == "uint16":
        return rng.integers(100, 4196, shape, dtype=np.uint16)
    return rng.normal(500.0, 80.0, shape).astype(np.float32)


def bare_pass(stack: np.ndarray) -> None:
    """The reference loop: one numpy call per statistic per plane."""
    for plane in stack:
        np.min(plane)
        np.max(plane)
        np.mean(plane)
        np.std(plane)
        np.histogram(plane, bins=256)


def engine_pass(stack: np.ndarray) -> None:
    """The engine on the whole stack as one chunk, default slice size (one leaf per plane)."""
    header = ImageHeader("ZYX", stack.shape, str(stack.dtype))
    process_image(stack, header, {}, PROCESSORS)


def best_times(stack: np.ndarray, repeats: int) -> tuple[float, float]:
    """Fastest CPU seconds of the bare pass and of the engine, runs interleaved.

    CPU time of this process (not wall time) is used so that other work on a shared machine
    does not distort the ratio; interleaving exposes both sides to the same conditions.
    """
    bare_pass(stack)
    engine_pass(stack)
    bare, ours = [], []
    for _ in range(repeats):
        for fn, out in ((bare_pass, bare), (engine_pass, ours)):
            t0 = time.process_time()
            fn(stack)
            out.append(time.process_time() - t0)
    return min(bare), min(ours)


def main() -> None:
    """Time every (dtype, stack shape) case and print a table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller stacks")
    args = parser.parse_args()
    shapes = [(16, 1024), (1024, 64)] if args.quick else [(32, 2048), (64, 1024), (8192, 64)]
    print(f"{'dtype':8} {'stack':>16} {'GB':>6} {'bare s/GB':>10} {'engine s/GB':>12} {'ratio':>6}")
    for dtype in ("uint8", "uint16", "float32"):
        for planes, side in shapes:
            stack = make_stack(dtype, planes, side)
            gb = stack.nbytes / 1e9
            bare, ours = best_times(stack, args.repeats)
            label = f"{planes}x{side}x{side}"
            print(f"{dtype:8} {label:>16} {gb:6.3f} {bare / gb:10.2f} {ours / gb:12.2f} {ours / bare:6.2f}")


if __name__ == "__main__":
    main()
