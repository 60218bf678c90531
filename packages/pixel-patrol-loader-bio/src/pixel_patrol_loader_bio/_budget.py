"""The per-task memory budget (``--mb-per-task``) as the loaders apply it.

The planner splits an image larger than the budget into regions that fit, but a region is only
as cheap as the pieces the format must decode to produce it: a TIFF strip, a tile, a Zarr
chunk, a CZI plane, a whole PNG. One zlib strip of 20 GB of zeros compresses to 19 MB and
would be decoded whole for every region of its image. So the loaders look at the size of the
largest piece an image needs decoded at once, before decoding anything, and refuse the image
with a one-line error when that piece exceeds the budget, saying which option would allow it.

Without a budget (the loaders used directly, outside a run) nothing is refused.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, TypeVar

MIB = 2**20

_L = TypeVar("_L", bound="Budgeted")


def size_text(nbytes: int) -> str:
    """``nbytes`` for a message: MiB below 10 GiB, GiB above (the unit of --mb-per-task)."""
    if nbytes >= 10 * 2**30:
        return f"{nbytes / 2**30:.1f} GiB"
    return f"{nbytes / MIB:.1f} MiB"


@dataclass(frozen=True, slots=True)
class Budget:
    """The most bytes one decoding step may produce; ``None`` for no limit."""

    limit: int | None = None

    def refusal(self, piece: str, nbytes: int, how: str = "decodes to {size} at once") -> str | None:
        """Why ``piece``, which needs ``nbytes`` at once, cannot be read (``None``: it can).

        ``piece`` names it for the message (``"a strip (ADOBE_DEFLATE compression) of this
        image"``); ``how`` says what the bytes are, with ``{size}`` where their amount goes.
        """
        if self.limit is None or nbytes <= self.limit:
            return None
        need = math.ceil(nbytes / MIB)
        return (
            f"{piece} {how.format(size=size_text(nbytes))}, more than the memory budget of "
            f"{size_text(self.limit)} per task; run with --mb-per-task {need} or more to read it"
        )

    def workers_for(self, piece_bytes: int, default: int) -> int:
        """How many pieces of ``piece_bytes`` may be decoded side by side within the budget."""
        if self.limit is None:
            return default
        return max(1, min(default, self.limit // max(piece_bytes, 1)))


class Budgeted:
    """Loader mixin: ``with_budget`` (see ``BudgetedLoader`` in the contracts)."""

    budget: Budget = Budget()

    def with_budget(self: _L, budget_bytes: int) -> _L:
        """A copy of this loader whose files decode within ``budget_bytes``."""
        loader = copy.copy(self)
        loader.budget = Budget(int(budget_bytes))
        return loader


def piece_name(kind: str, compression: Any = None) -> str:
    """``"a strip of this image"``, ``"a tile (ADOBE_DEFLATE compression) of this image"``."""
    name = getattr(compression, "name", None) or (str(compression) if compression else "")
    if not name or name.upper() == "NONE":
        return f"a {kind} of this image"
    return f"a {kind} ({name} compression) of this image"
