"""Column declarations shared by the processors of this package."""

from __future__ import annotations

import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column
from pixel_patrol_image._planes import weight_name


def metric_columns(descriptions: tuple[tuple[str, str], ...]) -> tuple[Column, ...]:
    """A float64 count-weighted-mean column per metric plus its internal plane-count weight.

    Parameters
    ----------
    descriptions
        ``(name, description)`` per metric, in report order.
    """
    values = tuple(
        Column(name, pa.float64(), text, Agg.MEAN, weight=weight_name(name))
        for name, text in descriptions
    )
    weights = tuple(
        Column(
            weight_name(name),
            pa.int64(),
            f"Number of planes of the row with a defined {name} (rollup weight).",
            Agg.SUM,
            internal=True,
        )
        for name, _ in descriptions
    )
    return values + weights
