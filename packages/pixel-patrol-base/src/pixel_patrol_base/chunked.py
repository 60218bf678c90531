"""The coordinator's path for an image cut into memory chunks, in one process, for tests.

A processor plugin's values must not depend on ``--mb-per-task``: an image larger than the
budget is cut into chunks, read with the tiled processors' halo, pre-passed (value range and
survey rounds of the plane programs of cut planes), analysed chunk by chunk and finished.
:func:`rows_in_chunks` runs exactly those steps (the ones the flow and the workers run) over
any boxes tiling the image, so a test can compare the result with :func:`engine.process_image`
on the whole image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pixel_patrol_base import engine, rounds
from pixel_patrol_base.blocks import LeafGrid
from pixel_patrol_base.contracts import ImageContext, ImageHeader, Processor, is_tiled
from pixel_patrol_base.planes import PlaneKey
from pixel_patrol_base.regions import normalise_region
from pixel_patrol_base.tiling import halo_bounds


def rows_in_chunks(
    image: np.ndarray,
    header: ImageHeader,
    slice_size: Mapping[str, int],
    processors: Sequence[Processor],
    boxes: Sequence[tuple[slice, ...]],
) -> dict[str, list[Any]]:
    """Obs rows of ``image`` computed chunk by chunk over ``boxes`` (which must tile it).

    The chunks are visited in the given order in every round; partials are merged in that
    order, as the coordinator merges them in the order they arrive.
    """
    grid = LeafGrid.from_header(header, slice_size)
    regions = [normalise_region(b, grid.shape) for b in boxes]
    halo = max((p.HALO for p in processors if is_tiled(p)), default=0)
    reads = [halo_bounds(r, header.dim_order, header.shape, halo) for r in regions]
    ctx = ImageContext(header.dim_order, grid.shape, header.dtype)
    programs = rounds.initial_programs(grid, ctx, processors, regions)
    needs_range = any(p.NEEDS_RANGE for p in processors)
    ranges: list[engine.ValueRange | None] = []
    first = True
    while (first and needs_range) or rounds.pending(programs):
        merged: dict[PlaneKey, Any] = {}
        for region, read in zip(regions, reads, strict=True):
            array = image[tuple(slice(a, b) for a, b in read)]
            own = image[tuple(slice(a, b) for a, b in region)]
            if first:
                ranges.append(engine.finite_range(own))
            found = rounds.survey_chunk(array, read, region, grid, processors, programs)
            for key, part in found.items():
                known = merged.get(key)
                merged[key] = part if known is None else programs[key].merge([known, part])
        if rounds.pending(programs):
            programs = rounds.advance(programs, merged)
        first = False
    value_range = engine.merge_ranges(ranges) if ranges else None
    chunks = [
        engine.analyse_chunk(
            np.ascontiguousarray(image[tuple(slice(a, b) for a, b in read)]),
            tuple(slice(a, b) for a, b in region),
            header,
            slice_size,
            processors,
            value_range,
            tuple(slice(a, b) for a, b in read),
            rounds.programs_in(grid, region, programs),
        )
        for region, read in zip(regions, reads, strict=True)
    ]
    return engine.finish_image(chunks, header, slice_size, processors, value_range)


__all__ = ["rows_in_chunks"]
