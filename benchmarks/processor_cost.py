"""CPU cost of every default processor: ns per pixel on large planes, µs per small image.

Each processor runs alone through :func:`pixel_patrol_base.engine.process_image` (the path a
worker takes for an image held as one chunk: leaf stacks, plane programs for planes above
``TILE_PIXELS``, memory processors and their finish, rollup to obs rows). Its cost is the
CPU time of that run minus the CPU time of the same run with no processor (the engine's own
share, printed as ``engine``), so the figures are what each processor adds to a scan.

Cases (``--quick`` makes the large ones smaller):

* large planes: one 2048x2048 uint16 plane (tiled route of the neighbourhood metrics) and a
  16x512x512 uint16 stack (16 leaves, stacked route); ns of CPU per pixel;
* small images: 256x256 uint8 and uint16 single-plane images, each its own ``process_image``
  call; µs of CPU per image, and the overhead: that minus the cost of the image's pixels at
  the stacked case's ns per pixel;
* a noise-dominated 16x512x512 uint16 stack (flat background, a few blobs, sensor noise, like
  the benchmark's ``stacks/``): the edge-based metrics cost more per pixel on noise than on the
  smooth content below, so this case shows what a scan of such data pays.

Pixel content: a smooth random field with a few sharp-edged discs and shot-like noise on a
12-bit camera scale (8-bit: divided by 16), so the edge and texture metrics have structure.

Measured as process CPU time (``time.process_time``, single thread) after a warm-up run of
every processor, processors interleaved in each of ``--repeats`` rounds; each figure is the
median over the rounds. The shared machine's load disturbs CPU time far less than wall time;
the script prints the load average with the table. Targets: every processor within 3x
``raster-basic`` per pixel on large planes, and at most 300 µs of per-image overhead per
processor on a 256x256 image (judged on the total when the overhead is not shown).

Run with ``uv run --no-sync python benchmarks/processor_cost.py`` (``--only NAME`` to time
some processors, ``--profile NAME`` to loop one processor on one case for py-spy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from pixel_patrol_base.contracts import ImageHeader, Processor  # noqa: E402
from pixel_patrol_base.engine import process_image  # noqa: E402
from pixel_patrol_base.plugins import select_processors  # noqa: E402

BASE = "raster-basic"
PIXEL_TARGET = 3.0
"""Allowed cost per pixel, in multiples of raster-basic's."""
IMAGE_TARGET_US = 300.0
"""Allowed cost per 256x256 image and processor, in µs."""


@dataclass(frozen=True)
class Case:
    """Images of one shape handed to the engine one by one."""

    label: str
    dim_order: str
    images: list[np.ndarray]
    per_image: bool
    """Report µs per image (small images) rather than ns per pixel."""

    @property
    def pixels(self) -> int:
        """Pixels of all images."""
        return sum(int(a.size) for a in self.images)


def content(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    """Smooth field, sharp discs and noise on a 12-bit scale (8-bit: scaled down)."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    h, w = shape[-2:]
    field = ndi.gaussian_filter(rng.normal(size=shape), (0,) * (len(shape) - 2) + (4, 4))
    img = 1000.0 + field / field.std() * 300.0
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(max(3, h * w // 40000)):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(4, max(5, min(h, w) / 12))
        img += 1500.0 * (((yy - cy) ** 2 + (xx - cx) ** 2) < r * r)
    img = img + rng.normal(0, 30, img.shape)
    img = np.clip(img, 0, 4095)
    if dtype == "uint8":
        img = img / 16
    return img.astype(dtype)


def noisy(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Flat background with a few bright blobs under sensor noise, like the benchmark's stacks
    (make_dataset.py): most pixels are noise, which is where edge-based metrics work hardest
    (a third of the pixels are edge sites, against a few per cent in ``content``)."""
    rng = np.random.default_rng(seed)
    h, w = shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full(shape, 400.0)
    for _ in range(6):
        cy, cx, s = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(10, 40)
        img += 1500.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    img = img + rng.normal(0, 30, img.shape)
    return np.clip(img, 0, 65535).astype("uint16")


def cases(quick: bool, small_images: int) -> list[Case]:
    """The large-plane and the per-image cases."""
    side, depth = (1024, 4) if quick else (2048, 16)
    return [
        Case(f"uint16 YX {side}x{side}", "YX", [content((side, side), "uint16", 1)], False),
        Case(f"uint16 ZYX {depth}x512x512", "ZYX", [content((depth, 512, 512), "uint16", 2)], False),
        Case(
            "uint8 YX 256x256",
            "YX",
            [content((256, 256), "uint8", 10 + k) for k in range(small_images)],
            True,
        ),
        Case(
            "uint16 YX 256x256",
            "YX",
            [content((256, 256), "uint16", 100 + k) for k in range(small_images)],
            True,
        ),
        Case(f"uint16 ZYX {depth}x512x512, noise-dominated", "ZYX", [noisy((depth, 512, 512), 3)], False),
    ]


def runner(case: Case, procs: Sequence[Processor]) -> Callable[[], None]:
    """Every image of ``case`` through the engine with ``procs``."""
    headers = [ImageHeader(case.dim_order, a.shape, str(a.dtype)) for a in case.images]

    def run() -> None:
        for a, h in zip(case.images, headers, strict=True):
            process_image(a, h, {}, procs)

    return run


def measure(case: Case, procs: dict[str, Processor], repeats: int) -> dict[str, float]:
    """Median CPU seconds per run of the case, per processor (``engine``: none), interleaved."""
    runs = {"engine": runner(case, [])} | {n: runner(case, [p]) for n, p in procs.items()}
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {n: [] for n in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.process_time()
            run()
            times[name].append(time.process_time() - t0)
    return {n: statistics.median(t) for n, t in times.items()}


def report(
    case: Case, seconds: dict[str, float], per_pixel: dict[str, float] | None = None
) -> dict[str, float]:
    """One table: cost per processor beyond the engine, and its ratio to raster-basic.

    Returns ns per pixel (large cases) or µs per image (small ones) by processor. With
    ``per_pixel`` (ns per pixel of the stacked uint16 case), small-image tables also show
    the overhead: µs per image minus what the image's pixels cost on large planes.
    """
    engine = seconds["engine"]
    costs = {n: max(s - engine, 0.0) for n, s in seconds.items() if n != "engine"}
    base = costs.get(BASE)
    if case.per_image:
        unit, scale, limit = "µs/image", 1e6 / len(case.images), IMAGE_TARGET_US
    else:
        unit, scale, limit = "ns/pixel", 1e9 / case.pixels, None
    pixels = case.pixels / len(case.images)
    show_overhead = case.per_image and per_pixel is not None
    print(f"\n{case.label}: {len(case.images)} image(s), {case.pixels / 1e6:.1f} Mpx")
    extra = f" {'overhead µs':>12s}" if show_overhead else ""
    print(f"  {'processor':22s} {unit:>10s} {'x ' + BASE:>16s}{extra}  target")
    print(f"  {'engine (no processor)':22s} {engine * scale:10.2f}")
    for name, cost in costs.items():
        ratio = f"{cost / base:16.2f}" if base else f"{'-':>16s}"
        overhead = None
        if show_overhead and per_pixel is not None and name in per_pixel:
            overhead = cost * scale - per_pixel[name] * pixels / 1e3
            ratio += f" {overhead:12.1f}"
        elif show_overhead:
            ratio += f" {'-':>12s}"
        if limit is not None:
            # the target bounds the fixed cost per image (the overhead) where it is known
            fixed = overhead if overhead is not None else cost * scale
            what = "overhead" if overhead is not None else "per image"
            verdict = f"{what} <= {limit:g} µs: {'meets' if fixed <= limit else 'misses'}"
        elif base and name != BASE:
            verdict = f"<= {PIXEL_TARGET:g}x: {'meets' if cost <= PIXEL_TARGET * base else 'misses'}"
        else:
            verdict = ""
        print(f"  {name:22s} {cost * scale:10.2f} {ratio}  {verdict}")
    return {n: c * scale for n, c in costs.items()}


def profile(case: Case, proc: Processor, seconds: float) -> None:
    """Loop one processor on one case for about ``seconds`` of CPU (attach py-spy to it)."""
    run = runner(case, [proc])
    run()
    t0 = time.process_time()
    loops = 0
    while time.process_time() - t0 < seconds:
        run()
        loops += 1
    print(f"{loops} runs of {proc.NAME} on {case.label}")


def main() -> None:
    """Parse options, time every case and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smaller large cases")
    parser.add_argument("--images", type=int, default=40, help="small images per case")
    parser.add_argument("--only", nargs="*", default=None, help="processor ids (and raster-basic)")
    parser.add_argument("--cases", nargs="*", type=int, default=None, help="case indices 0..4")
    parser.add_argument("--profile", default=None, help="loop this processor (with --cases K)")
    parser.add_argument("--seconds", type=float, default=20.0, help="CPU seconds of --profile")
    args = parser.parse_args()

    procs = {p.NAME: p for p in select_processors()}
    if args.only:
        procs = {n: p for n, p in procs.items() if n in {BASE, *args.only}}
    chosen = cases(args.quick, args.images)
    chosen = [chosen[i] for i in args.cases] if args.cases is not None else chosen
    if args.profile:
        profile(chosen[0], procs[args.profile], args.seconds)
        return
    print(
        f"load average {os.getloadavg()[0]:.2f} (1 min); CPU time of this process, single "
        f"thread, median of {args.repeats} interleaved rounds after a warm-up"
    )
    stacked: dict[str, float] | None = None
    for case in chosen:
        figures = report(case, measure(case, procs, args.repeats), stacked)
        if case.dim_order == "ZYX" and stacked is None:
            stacked = figures


if __name__ == "__main__":
    main()
