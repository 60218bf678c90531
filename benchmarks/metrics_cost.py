"""Seconds per megapixel of ``raster-quality`` and ``raster-compression`` against ``raster-basic``.

Each processor's ``run`` is timed on the same leaf stack (default: 64 planes of 512x512
uint16 with camera-like structure, one plane per leaf, as the engine hands them over with the
default ``--slice-size``). Runs of the processors alternate so that drift on a shared machine
hits all of them; each figure is the best of ``--repeats`` runs of process CPU time (which a
loaded machine disturbs less than wall time), single thread. The target is
``raster-quality`` <= 3x ``raster-basic``.

If ``pixel_patrol_base.processors.RasterBasic`` cannot be imported, the baseline is a bare
numpy pass instead (per plane in float64: nanmin, nanmax, nanmean, nanstd) and the table says
so; otherwise that bare pass is shown as a second reference. ``--breakdown`` also times the
kernels inside ``raster-quality``.

Run with ``uv run --no-sync python benchmarks/metrics_cost.py`` (``--quick`` for a smaller
stack, ``--content photos`` for photographs instead of the random field).
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
from pixel_patrol_image.compression import RasterCompression  # noqa: E402
from pixel_patrol_image.quality import RasterQuality  # noqa: E402

TARGET = 3.0
"""Allowed cost of the whole raster-quality set, in multiples of raster-basic."""

COMPRESSION_TARGET = 3.0
"""Allowed cost of raster-compression, in multiples of raster-basic."""


def make_stack(dtype: str, planes: int, side: int, seed: int = 0) -> np.ndarray:
    """Smooth structure plus shot-like noise on a 12-bit camera scale (or float32)."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    field = ndi.gaussian_filter(rng.normal(size=(planes, side, side)), (0, 4, 4))
    img = 1000.0 + field / field.std() * 400.0 + rng.normal(0, 30, field.shape)
    if dtype == "float32":
        return img.astype(np.float32)
    return np.clip(img, 0, 4095).astype(dtype)


def photo_stack(dtype: str, planes: int, side: int) -> np.ndarray:
    """Planes cut from the 512x512 grey photographs bundled with scikit-image, repeated.

    Real content has heavy-tailed gradients (a few strong edges), unlike the random field of
    :func:`make_stack`; ``raster-compression`` measures ripple only at strong edges, so its
    cost depends on this. 8-bit values are scaled by 16 for uint16, kept as they are for
    float32.
    """
    from skimage import data

    names = ("camera", "astronaut", "moon", "brick", "grass", "gravel")
    photos = []
    for name in names:
        img = getattr(data, name)().astype(np.float64)
        if img.ndim == 3:
            img = img[..., :3] @ np.array([0.2125, 0.7154, 0.0721])
        photos.append(np.round(img[:side, :side]))
    stack = np.stack([photos[k % len(photos)] for k in range(planes)])
    if dtype == "uint16":
        stack *= 16
    return stack.astype(dtype)


def bare_basic(stack: LeafStack) -> None:
    """Fallback baseline: the four basic statistics per plane with numpy, in float64."""
    for plane in stack.data:
        x = plane.astype(np.float64)
        np.nanmin(x), np.nanmax(x), np.nanmean(x), np.nanstd(x)


def baseline() -> tuple[str, Callable[[LeafStack], object]]:
    """``raster-basic`` when it is importable, else the bare numpy pass."""
    try:
        from pixel_patrol_base.processors.raster_basic import RasterBasic
    except ImportError:
        return "bare numpy (raster-basic not importable)", bare_basic
    return "raster-basic", RasterBasic().run


def quality_parts() -> dict[str, Callable[[LeafStack], object]]:
    """The two halves of raster-quality, timed separately: exact percentiles, compiled sums."""
    from pixel_patrol_image._planes import to_planes
    from pixel_patrol_image._quality_kernels import tile_sums
    from pixel_patrol_image._robust import plane_stats
    from pixel_patrol_image._workspace import Workspace

    ws = Workspace()
    cached: dict[int, object] = {}

    def stats(stack: LeafStack) -> object:
        planes = to_planes(stack.data, stack.image.dim_order).planes
        cached[id(stack)] = plane_stats(planes, None)
        return cached[id(stack)]

    def sums(stack: LeafStack) -> object:
        planes = to_planes(stack.data, stack.image.dim_order).planes
        known = cached.get(id(stack)) or stats(stack)
        return tile_sums(planes, False, known, (0, planes.shape[1], 0, planes.shape[2]), ws)  # type: ignore[arg-type]

    return {
        "  exact percentiles (michelson, centring)": stats,
        "  compiled mscn, texture, laplacian sums": sums,
    }


def best_times(
    runners: dict[str, Callable[[LeafStack], object]], stack: LeafStack, repeats: int
) -> dict[str, float]:
    """Best wall time per runner over ``repeats`` rounds, runners alternating in each round."""
    for run in runners.values():  # warm-up: imports, caches, first-touch memory
        run(stack)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(repeats):
        for name, run in runners.items():
            t0 = time.process_time()
            run(stack)
            best[name] = min(best[name], time.process_time() - t0)
    return best


def per_image_ms(runners: dict[str, Callable[[LeafStack], object]], side: int, repeats: int) -> dict[str, float]:
    """Milliseconds per image when each image is its own single-plane leaf stack of ``side``².

    This is how small files reach a processor; on 8x8 images the figure is the fixed
    per-image overhead, on 256x256 images overhead plus pixels.
    """
    data = make_stack("uint16", 100, side, seed=1)
    stacks = [LeafStack(d[None, None], ImageContext("ZYX", (1, side, side), "uint16")) for d in data]
    best = dict.fromkeys(runners, float("inf"))
    for run in runners.values():
        run(stacks[0])
    for _ in range(repeats):
        for name, run in runners.items():
            t0 = time.process_time()
            for st in stacks:
                run(st)
            best[name] = min(best[name], (time.process_time() - t0) / len(stacks) * 1e3)
    return best


def main() -> None:
    """Parse options, time the processors and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=64)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--dtype", default="uint16", choices=["uint8", "uint16", "float32"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="16 planes of 256x256")
    parser.add_argument("--breakdown", action="store_true", help="time raster-quality's kernels")
    parser.add_argument(
        "--per-image", action="store_true", help="also time single 8x8 and 256x256 images"
    )
    parser.add_argument(
        "--content",
        default="field",
        choices=["field", "photos"],
        help="random field with noise (default) or bundled photographs (at most 512x512)",
    )
    args = parser.parse_args()
    planes, side = (16, 256) if args.quick else (args.planes, args.side)

    if args.content == "photos":
        data = photo_stack(args.dtype, planes, min(side, 512))
        side = data.shape[1]
    else:
        data = make_stack(args.dtype, planes, side)
    stack = LeafStack(data[:, None], ImageContext("ZYX", (planes, side, side), args.dtype))
    base_name, base_run = baseline()
    runners: dict[str, Callable[[LeafStack], object]] = {
        base_name: base_run,
        "raster-quality": RasterQuality().run,
        "raster-compression": RasterCompression().run,
    }
    if base_run is not bare_basic:
        runners["bare numpy float64 pass"] = bare_basic
    if args.breakdown:
        runners.update(quality_parts())
    best = best_times(runners, stack, args.repeats)

    mpx = planes * side * side / 1e6
    print(
        f"{planes} planes of {side}x{side} {args.dtype} {args.content} ({mpx:.1f} Mpx), "
        f"best of {args.repeats}"
    )
    print(f"{'processor':40s} {'s/Mpx':>10s} {'x baseline':>11s}")
    for name, seconds in best.items():
        print(f"{name:40s} {seconds / mpx:10.4f} {seconds / best[base_name]:11.2f}")
    ratio = best["raster-quality"] / best[base_name]
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"raster-quality / {base_name}: {ratio:.2f} ({verdict} the target <= {TARGET:g})")
    if args.per_image:
        procs = {n: runners[n] for n in (base_name, "raster-quality", "raster-compression")}
        small, large = per_image_ms(procs, 8, args.repeats), per_image_ms(procs, 256, args.repeats)
        print(f"{'per image, ms':40s} {'8x8':>10s} {'256x256':>11s}")
        for name in procs:
            print(f"{name:40s} {small[name]:10.3f} {large[name]:11.3f}")
    ratio = best["raster-compression"] / best[base_name]
    verdict = "meets" if ratio <= COMPRESSION_TARGET else "misses"
    print(
        f"raster-compression / {base_name}: {ratio:.2f} "
        f"({verdict} the target <= {COMPRESSION_TARGET:g})"
    )


if __name__ == "__main__":
    main()
